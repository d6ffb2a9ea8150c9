// udal_instance_get_layer_count / udal_instance_get_layer_status: what an instance says of its
// layers, checked against what it runs (the table a handle dispatches through, the trace file
// on disk), for every way a layer is turned on or left off, and every bad input refused.
#include "layers_test_support.h"

#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace {

using namespace layers_test;

// One layer's status, copied out.
struct Layer {
  udal_layer_t layer;
  udal_layer_state_t state;
  udal_layer_sources_t sources;
  udal_layer_flags_t flags;
  std::string name, environment_variable, environment_value, output_path, reason;
};

// Every layer of |instance|, in index order.
std::vector<Layer> layers_of(udal_instance_t instance) {
  std::vector<Layer> out;
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_layer_count(instance, &count), UDAL_SUCCESS)
      << udal_last_error_message();
  for (uint32_t i = 0; i < count; ++i) {
    udal_layer_status_t s = UDAL_LAYER_STATUS_INIT;
    EXPECT_EQ(udal_instance_get_layer_status(instance, i, &s), UDAL_SUCCESS)
        << udal_last_error_message();
    for (const char* text :
         {s.name, s.environment_variable, s.environment_value, s.output_path, s.reason}) {
      EXPECT_NE(text, nullptr) << "layer " << i << ": a string is NULL";
      if (text == nullptr)
        return out;
    }
    out.push_back({s.layer, s.state, s.sources, s.flags, s.name, s.environment_variable,
                   s.environment_value, s.output_path, s.reason});
  }
  return out;
}

Layer validation_of(udal_instance_t instance) {
  std::vector<Layer> all = layers_of(instance);
  EXPECT_GE(all.size(), 2u);
  return all.size() > 0 ? all[0] : Layer{};
}

Layer trace_of(udal_instance_t instance) {
  std::vector<Layer> all = layers_of(instance);
  EXPECT_GE(all.size(), 2u);
  return all.size() > 1 ? all[1] : Layer{};
}

// Whether |device|'s table holds validation's entries rather than the fake driver's own:
// what the instance really runs, for the status to be checked against.
bool dispatches_through_validation(udal_device_t device) {
  void* library = dlopen(stub("udal_test_fake").c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(library, nullptr) << dlerror();
  if (library == nullptr)
    return false;
  auto negotiate =
      reinterpret_cast<udal_pfn_driver_negotiate>(dlsym(library, "udal_driver_negotiate"));
  udal_driver_table_t own{};
  own.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  own.struct_size = sizeof(own);
  EXPECT_EQ(negotiate(UDAL_ABI_VERSION, &own), UDAL_SUCCESS);
  const auto* table = *static_cast<const udal_driver_table_t* const*>(static_cast<void*>(device));
  bool layered =
      reinterpret_cast<void*>(table->buffer_create) != reinterpret_cast<void*>(own.buffer_create);
  dlclose(library); // libudal's instance keeps its own reference to the same mapping
  return layered;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/* ==========================================================================================
 * Bad input
 * ======================================================================================= */

class LayerStatusInput : public ::testing::Test {
protected:
  LayerEnvironment env_;
  udal_test::Instance instance_{{stub("udal_test_fake")}};
};

TEST_F(LayerStatusInput, ANullInstanceIsAnInvalidHandle) {
  uint32_t count = 99;
  EXPECT_FAILS_WITH(udal_instance_get_layer_count(nullptr, &count), UDAL_ERROR_INVALID_HANDLE,
                    "udal_instance_get_layer_count: instance is NULL");
  EXPECT_EQ(count, 0u) << "the output is cleared on entry, even on failure";
  udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(nullptr, 0, &status), UDAL_ERROR_INVALID_HANDLE,
                    "udal_instance_get_layer_status: instance is NULL");
}

TEST_F(LayerStatusInput, ANullOutputIsAnInvalidArgument) {
  EXPECT_FAILS_WITH(udal_instance_get_layer_count(instance_.get(), nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_count is NULL");
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, nullptr),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_status is NULL");
}

TEST_F(LayerStatusInput, AWrongTypeTagIsRefusedNamingBothTypes) {
  udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
  status.type = UDAL_STRUCTURE_TYPE_DRIVER_STATUS;
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT,
                    "out_status->type is 2 (UDAL_STRUCTURE_TYPE_DRIVER_STATUS), not "
                    "UDAL_STRUCTURE_TYPE_LAYER_STATUS");
  status.type = UDAL_STRUCTURE_TYPE_NONE; // a struct not started from UDAL_LAYER_STATUS_INIT
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT, "UDAL_STRUCTURE_TYPE_NONE");
}

TEST_F(LayerStatusInput, AStructSizeBelowTheFirstSizeIsRefused) {
  udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
  status.struct_size = sizeof(udal_layer_status_t) - 8; // no room for |reason|
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 72 is smaller than udal_layer_status_t");
  status.struct_size = 0;
  EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT, "struct_size 0");
}

TEST_F(LayerStatusInput, AChainedStructIsRefusedNeverIgnored) {
  // A core type this libudal does not know as an extension, and a vendor type: no driver
  // answers this call, so nobody could honour either.
  for (uint32_t type : {static_cast<uint32_t>(UDAL_STRUCTURE_TYPE_DEVICE_INFO),
                        static_cast<uint32_t>(udal_test::kFakeExtension)}) {
    udal_base_out_t extension{static_cast<udal_structure_type_t>(type), sizeof(udal_base_out_t),
                              nullptr};
    udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
    status.next = &extension;
    SCOPED_TRACE("chained type " + std::to_string(type));
    EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), 0, &status),
                      UDAL_ERROR_INVALID_ARGUMENT, "next");
  }
}

TEST_F(LayerStatusInput, AnIndexPastTheEndIsNotFoundWithTheOutputCleared) {
  uint32_t count = 0;
  ASSERT_EQ(udal_instance_get_layer_count(instance_.get(), &count), UDAL_SUCCESS);
  EXPECT_EQ(count, 2u) << "this libudal has the validation and the trace layer";
  for (uint32_t index : {count, count + 1, UINT32_MAX}) {
    udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
    status.state = UDAL_LAYER_STATE_ON;
    status.sources = ~udal_layer_sources_t{0};
    status.name = "stale";
    EXPECT_FAILS_WITH(udal_instance_get_layer_status(instance_.get(), index, &status),
                      UDAL_ERROR_NOT_FOUND,
                      "index " + std::to_string(index) + " is not below the layer count 2");
    EXPECT_EQ(status.state, UDAL_LAYER_STATE_OFF);
    EXPECT_EQ(status.sources, 0u);
    EXPECT_STREQ(status.name, "") << "cleared to \"\", never left stale or NULL";
    EXPECT_EQ(status.type, UDAL_STRUCTURE_TYPE_LAYER_STATUS) << "the header is the caller's";
  }
}

TEST_F(LayerStatusInput, ALargerStructFromANewerCallerIsFilledOnlyInsideWhatLibudalKnows) {
  std::vector<unsigned char> bytes(sizeof(udal_layer_status_t) + 24, 0xab);
  udal_layer_status_t head = UDAL_LAYER_STATUS_INIT;
  head.struct_size = static_cast<uint32_t>(bytes.size());
  std::memcpy(bytes.data(), &head, sizeof(udal_base_out_t));
  auto* status = reinterpret_cast<udal_layer_status_t*>(bytes.data());
  ASSERT_EQ(udal_instance_get_layer_status(instance_.get(), 1, status), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_STREQ(status->name, "trace");
  EXPECT_EQ(status->struct_size, bytes.size());
  for (size_t i = sizeof(udal_layer_status_t); i < bytes.size(); ++i)
    ASSERT_EQ(bytes[i], 0xab) << "byte " << i << " is past what libudal knows";
}

TEST(LayerStatusInit, TheMacroFillsTheHeaderAndTheDefaults) {
  udal_layer_status_t status = UDAL_LAYER_STATUS_INIT;
  EXPECT_EQ(status.type, UDAL_STRUCTURE_TYPE_LAYER_STATUS);
  EXPECT_EQ(status.struct_size, sizeof(udal_layer_status_t));
  EXPECT_EQ(status.next, nullptr);
  EXPECT_EQ(status.state, UDAL_LAYER_STATE_OFF);
  EXPECT_EQ(status.sources, 0u);
  EXPECT_EQ(status.flags, 0u);
  EXPECT_EQ(sizeof(udal_layer_status_t), 80u) << "its first size, which libudal checks against";
}

/* ==========================================================================================
 * Each layer off and on, and what turned it on
 * ======================================================================================= */

TEST(LayerStatus, WithNothingSetBothLayersAreOff) {
  LayerEnvironment env;
  udal_test::Instance instance({stub("udal_test_fake")});
  std::vector<Layer> all = layers_of(instance.get());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].layer, UDAL_LAYER_VALIDATION);
  EXPECT_EQ(all[0].name, "validation");
  EXPECT_EQ(all[0].environment_variable, "UDAL_VALIDATION");
  EXPECT_EQ(all[1].layer, UDAL_LAYER_TRACE);
  EXPECT_EQ(all[1].name, "trace");
  EXPECT_EQ(all[1].environment_variable, "UDAL_TRACE");
  for (const Layer& l : all) {
    EXPECT_EQ(l.state, UDAL_LAYER_STATE_OFF) << l.name;
    EXPECT_EQ(l.sources, 0u) << l.name;
    EXPECT_EQ(l.flags, 0u) << l.name;
    EXPECT_EQ(l.environment_value, "") << l.name;
    EXPECT_EQ(l.output_path, "") << l.name;
    EXPECT_EQ(l.reason, "") << l.name;
  }
  EXPECT_FALSE(dispatches_through_validation(instance.device(0)));
}

TEST(LayerStatus, UdalValidationTurnsItOnFromTheEnvironment) {
  for (const char* value : {"1", "on", "yes", "everything"}) {
    LayerEnvironment env;
    env.set("UDAL_VALIDATION", value);
    udal_test::Instance instance({stub("udal_test_fake")});
    Layer v = validation_of(instance.get());
    EXPECT_EQ(v.state, UDAL_LAYER_STATE_ON) << value;
    EXPECT_EQ(v.sources, UDAL_LAYER_SOURCE_ENVIRONMENT) << value;
    EXPECT_EQ(v.flags, 0u) << value;
    EXPECT_EQ(v.environment_value, value);
    EXPECT_TRUE(dispatches_through_validation(instance.device(0))) << value;
    EXPECT_EQ(trace_of(instance.get()).state, UDAL_LAYER_STATE_OFF);
  }
}

TEST(LayerStatus, BacktraceModeIsAFlag) {
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "backtrace");
  udal_test::Instance instance({stub("udal_test_fake")});
  Layer v = validation_of(instance.get());
  EXPECT_EQ(v.state, UDAL_LAYER_STATE_ON);
  EXPECT_EQ(v.flags, UDAL_LAYER_FLAG_BACKTRACES);
  EXPECT_EQ(v.sources, UDAL_LAYER_SOURCE_ENVIRONMENT);
  EXPECT_EQ(v.environment_value, "backtrace");
}

TEST(LayerStatus, UdalValidationZeroLeavesItOffAndIsShown) {
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "0");
  udal_test::Instance instance({stub("udal_test_fake")});
  Layer v = validation_of(instance.get());
  EXPECT_EQ(v.state, UDAL_LAYER_STATE_OFF);
  EXPECT_EQ(v.sources, 0u);
  EXPECT_EQ(v.environment_value, "0") << "what the instance read, so a tool can say why it is off";
  EXPECT_FALSE(dispatches_through_validation(instance.device(0)));
}

TEST(LayerStatus, TheInstanceFlagTurnsItOnAndIsNamedAsTheSource) {
  {
    LayerEnvironment env;
    udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_VALIDATION);
    Layer v = validation_of(instance.get());
    EXPECT_EQ(v.state, UDAL_LAYER_STATE_ON);
    EXPECT_EQ(v.sources, UDAL_LAYER_SOURCE_INSTANCE_FLAG);
    EXPECT_EQ(v.flags, 0u);
    EXPECT_EQ(v.environment_value, "");
    EXPECT_TRUE(dispatches_through_validation(instance.device(0)));
  }
  {
    // The flag wins over UDAL_VALIDATION=0, which alone turned nothing on.
    LayerEnvironment env;
    env.set("UDAL_VALIDATION", "0");
    udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_VALIDATION);
    Layer v = validation_of(instance.get());
    EXPECT_EQ(v.state, UDAL_LAYER_STATE_ON);
    EXPECT_EQ(v.sources, UDAL_LAYER_SOURCE_INSTANCE_FLAG);
    EXPECT_EQ(v.environment_value, "0");
  }
  {
    // Both asked: both are named, and the variable's backtraces still apply.
    LayerEnvironment env;
    env.set("UDAL_VALIDATION", "backtrace");
    udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_VALIDATION);
    Layer v = validation_of(instance.get());
    EXPECT_EQ(v.state, UDAL_LAYER_STATE_ON);
    EXPECT_EQ(v.sources, UDAL_LAYER_SOURCE_INSTANCE_FLAG | UDAL_LAYER_SOURCE_ENVIRONMENT);
    EXPECT_EQ(v.flags, UDAL_LAYER_FLAG_BACKTRACES);
  }
}

TEST(LayerStatus, IgnoreEnvironmentReadsNeitherVariable) {
  TempDir dir;
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "1");
  env.set("UDAL_TRACE", dir.path() + "/ignored.json");
  udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
  for (const Layer& l : layers_of(instance.get())) {
    EXPECT_EQ(l.state, UDAL_LAYER_STATE_OFF) << l.name;
    EXPECT_EQ(l.environment_value, "") << l.name << ": not read, so not shown";
  }
  EXPECT_FALSE(dispatches_through_validation(instance.device(0)));
  EXPECT_FALSE(udal_test::fs::exists(dir.path() + "/ignored.json"));
}

TEST(LayerStatus, UdalTraceTurnsTheTraceOnAndNamesTheFileItWrites) {
  TempDir dir;
  LayerEnvironment env;
  const std::string requested = dir.path() + "/app-%p.json";
  const std::string written = dir.path() + "/app-" + std::to_string(getpid()) + ".json";
  env.set("UDAL_TRACE", requested);
  {
    udal_test::Instance instance({stub("udal_test_fake")});
    Layer t = trace_of(instance.get());
    EXPECT_EQ(t.state, UDAL_LAYER_STATE_ON);
    EXPECT_EQ(t.sources, UDAL_LAYER_SOURCE_ENVIRONMENT);
    EXPECT_EQ(t.flags, 0u);
    EXPECT_EQ(t.environment_value, requested);
    EXPECT_EQ(t.output_path, written) << "\"%p\" replaced, as the file is named";
    EXPECT_EQ(t.reason, "");
    EXPECT_EQ(validation_of(instance.get()).state, UDAL_LAYER_STATE_OFF);
    udal_stream_t s = make_stream(instance.device(0));
    EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  }
  // The file the status named holds the calls.
  std::string text = read_file(written);
  EXPECT_NE(text.find("\"udal_stream_create\""), std::string::npos) << text;
  EXPECT_TRUE(nlohmann::json::accept(text)) << "the trace is whole JSON once released";
}

TEST(LayerStatus, ATraceFileThatCannotBeCreatedIsFailedWithTheReason) {
  TempDir dir;
  LayerEnvironment env;
  const std::string path = dir.path() + "/no/such/directory/trace.json";
  env.set("UDAL_TRACE", path);
  StderrCapture err;
  udal_test::Instance instance({stub("udal_test_fake")});
  Layer t = trace_of(instance.get());
  EXPECT_EQ(t.state, UDAL_LAYER_STATE_FAILED);
  EXPECT_EQ(t.sources, UDAL_LAYER_SOURCE_ENVIRONMENT);
  EXPECT_EQ(t.output_path, path);
  EXPECT_TRUE(contains(t.reason, "cannot create UDAL_TRACE file '" + path + "'")) << t.reason;
  EXPECT_TRUE(contains(t.reason, "No such file or directory")) << t.reason;
  EXPECT_TRUE(contains(err.text(), t.reason)) << "the same reason as the warning";
}

TEST(LayerStatus, BothLayersAtOnce) {
  TempDir dir;
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "1");
  env.set("UDAL_TRACE", dir.path() + "/both.json");
  udal_test::Instance instance({stub("udal_test_fake")});
  EXPECT_EQ(validation_of(instance.get()).state, UDAL_LAYER_STATE_ON);
  EXPECT_EQ(trace_of(instance.get()).state, UDAL_LAYER_STATE_ON);
  EXPECT_EQ(trace_of(instance.get()).output_path, dir.path() + "/both.json");
}

TEST(LayerStatus, TheTraceIsOnAndItsFileWrittenEvenWhenNoDriverLoads) {
  TempDir dir;
  LayerEnvironment env;
  env.set("UDAL_TRACE", dir.path() + "/empty.json");
  {
    udal_test::Instance instance({dir.path() + "/missing-driver.json"});
    EXPECT_EQ(udal_test::device_count(instance.get()), 0u);
    EXPECT_EQ(trace_of(instance.get()).state, UDAL_LAYER_STATE_ON);
    EXPECT_TRUE(udal_test::fs::exists(dir.path() + "/empty.json"));
  }
  nlohmann::json trace = nlohmann::json::parse(read_file(dir.path() + "/empty.json"));
  EXPECT_TRUE(trace.is_array());
}

TEST(LayerStatus, EachInstanceKeepsItsOwnStatus) {
  TempDir dir;
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "backtrace");
  udal_test::Instance first({stub("udal_test_fake")});
  udal_layer_status_t kept = UDAL_LAYER_STATUS_INIT;
  ASSERT_EQ(udal_instance_get_layer_status(first.get(), 0, &kept), UDAL_SUCCESS);
  env.set("UDAL_VALIDATION", "0");
  udal_test::Instance second({stub("udal_test_fake")});
  EXPECT_EQ(validation_of(second.get()).state, UDAL_LAYER_STATE_OFF);
  // The variable changed after |first| was created; |first| still runs, and says, what it read.
  EXPECT_EQ(validation_of(first.get()).state, UDAL_LAYER_STATE_ON);
  EXPECT_STREQ(kept.environment_value, "backtrace") << "its strings live as long as it does";
  EXPECT_TRUE(dispatches_through_validation(first.device(0)));
  EXPECT_FALSE(dispatches_through_validation(second.device(0)));
}

} // namespace
