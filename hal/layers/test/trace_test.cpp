// The trace layer: the trace of a known program has exactly the calls and operations it
// made, each operation inside its stream's track and after its enqueue, the flow arrows
// join what they should, the file is trace-event JSON (parsed with nlohmann), a program
// killed mid-run leaves a file that parses, and the layer's memory stays bounded.
#include "layers_test_support.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <sys/wait.h>
#include <thread>

namespace {

using namespace layers_test;
using json = nlohmann::json;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A trace as the viewers read it: a closed array parses as it is; one whose program died
// ends after a line's comma, and is read up to its last whole line.
json parse_trace(const std::string& text, bool closed) {
  if (closed)
    return json::parse(text);
  size_t end = text.rfind("},\n");
  std::string repaired = end == std::string::npos ? "[]" : text.substr(0, end + 1) + "]";
  return json::parse(repaired);
}

// Every event follows the trace-event format's rules for its phase.
void expect_trace_event_format(const json& trace) {
  ASSERT_TRUE(trace.is_array());
  const std::set<std::string> phases = {"X", "M", "s", "f", "i"};
  const std::set<std::string> metadata = {"process_name", "process_sort_index", "thread_name",
                                          "thread_sort_index"};
  for (const json& e : trace) {
    ASSERT_TRUE(e.is_object()) << e;
    ASSERT_TRUE(e.contains("ph") && e["ph"].is_string()) << e;
    std::string ph = e["ph"];
    EXPECT_TRUE(phases.count(ph)) << e;
    EXPECT_TRUE(e.contains("pid") && e["pid"].is_number_integer()) << e;
    EXPECT_TRUE(e.contains("tid") && e["tid"].is_number_integer()) << e;
    EXPECT_TRUE(e.contains("name") && e["name"].is_string()) << e;
    if (ph == "M") {
      EXPECT_TRUE(metadata.count(e["name"].get<std::string>())) << e;
      EXPECT_TRUE(e["args"].is_object()) << e;
      continue;
    }
    ASSERT_TRUE(e.contains("ts") && e["ts"].is_number()) << e;
    EXPECT_GE(e["ts"].get<double>(), 0.0) << e;
    if (ph == "X") {
      ASSERT_TRUE(e.contains("dur") && e["dur"].is_number()) << e;
      EXPECT_GE(e["dur"].get<double>(), 0.0) << e;
      EXPECT_TRUE(e["cat"].is_string()) << e;
    }
    if (ph == "s" || ph == "f") {
      EXPECT_TRUE(e.contains("id") && e["id"].is_number_integer()) << e;
    }
    if (ph == "f") {
      EXPECT_EQ(e["bp"], "e") << e;
    }
    if (ph == "i") {
      EXPECT_TRUE(e.contains("s")) << e;
    }
  }
}

struct Slice {
  std::string name;
  int64_t pid, tid;
  double ts, dur;
  json args;
  bool contains(double t) const { return t >= ts - 0.0005 && t <= ts + dur + 0.0005; }
};

struct Trace {
  json events;
  std::vector<Slice> calls;                       // "api" slices, in file order
  std::map<std::pair<int64_t, int64_t>, std::vector<Slice>> ops; // per track, by start time
  std::map<std::pair<int64_t, int64_t>, std::string> track_names;
  std::map<int64_t, std::pair<json, json>> flows; // id → (s, f)
  json end_event;

  explicit Trace(json parsed) : events(std::move(parsed)) {
    for (const json& e : events) {
      std::string ph = e["ph"];
      if (ph == "M" && e["name"] == "thread_name")
        track_names[{e["pid"], e["tid"]}] = e["args"]["name"];
      if (ph == "X") {
        Slice s{e["name"], e["pid"], e["tid"], e["ts"], e["dur"], e.value("args", json::object())};
        if (e["cat"] == "api")
          calls.push_back(s);
        else
          ops[{s.pid, s.tid}].push_back(s);
      }
      if (ph == "s")
        flows[e["id"]].first = e;
      if (ph == "f")
        flows[e["id"]].second = e;
      if (ph == "i" && e["name"] == "udal trace end")
        end_event = e;
    }
    for (auto& [track, slices] : ops)
      std::sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) { return a.ts < b.ts; });
  }

  std::vector<std::string> call_names() const {
    std::vector<std::string> names;
    for (const Slice& s : calls)
      names.push_back(s.name);
    return names;
  }

  std::vector<std::string> op_names(std::pair<int64_t, int64_t> track) const {
    std::vector<std::string> names;
    auto it = ops.find(track);
    if (it == ops.end())
      return names;
    for (const Slice& s : it->second)
      names.push_back(s.name.substr(0, s.name.find(" 0x")));
    return names;
  }

  // The slice of |pid|/|tid| that holds time |ts| (the one that begins last, where two meet
  // at |ts|), or nullptr.
  const Slice* slice_at(int64_t pid, int64_t tid, double ts) const {
    const Slice* found = nullptr;
    for (const Slice& s : calls) {
      if (s.pid == pid && s.tid == tid && s.contains(ts))
        found = &s;
    }
    auto it = ops.find({pid, tid});
    if (it != ops.end()) {
      for (const Slice& s : it->second) {
        if (s.contains(ts))
          found = &s;
      }
    }
    return found;
  }
};

// The checks every trace of these tests must pass: operations on declared stream tracks,
// in order without overlap, each joined by an "enqueue" arrow to the call that enqueued
// it and starting after it.
void expect_operations_well_placed(const Trace& t) {
  size_t enqueue_flows = 0;
  for (const auto& [id, pair] : t.flows) {
    const auto& [s, f] = pair;
    ASSERT_FALSE(s.is_null()) << "flow " << id << " has no start";
    ASSERT_FALSE(f.is_null()) << "flow " << id << " has no end";
    const Slice* from = t.slice_at(s["pid"], s["tid"], s["ts"]);
    const Slice* to = t.slice_at(f["pid"], f["tid"], f["ts"]);
    ASSERT_NE(from, nullptr) << "flow start outside any slice: " << s;
    ASSERT_NE(to, nullptr) << "flow end outside any slice: " << f;
    if (s["name"] == "enqueue") {
      ++enqueue_flows;
      EXPECT_TRUE(from->name.rfind("udal_stream_", 0) == 0) << from->name;
      EXPECT_GE(to->ts + 0.0005, s["ts"].get<double>())
          << to->name << " starts before the call that enqueued it";
    }
  }
  size_t operations = 0;
  for (const auto& [track, slices] : t.ops) {
    ASSERT_TRUE(t.track_names.count(track)) << "operations on an undeclared track";
    EXPECT_EQ(t.track_names.at(track).rfind("stream ", 0), 0u) << t.track_names.at(track);
    for (size_t i = 1; i < slices.size(); ++i)
      EXPECT_GE(slices[i].ts + 0.0005, slices[i - 1].ts + slices[i - 1].dur)
          << slices[i].name << " overlaps " << slices[i - 1].name;
    operations += slices.size();
  }
  EXPECT_EQ(enqueue_flows, operations) << "one enqueue arrow per operation";
}

const std::pair<int64_t, int64_t>* find_track(const Trace& t, const std::string& first_op) {
  for (const auto& [track, slices] : t.ops) {
    if (!slices.empty() && slices.front().name.rfind(first_op, 0) == 0)
      return &track;
  }
  return nullptr;
}

void count_calls(void* counter) {
  ++*static_cast<std::atomic<int>*>(counter);
}

class TraceTest : public ::testing::Test {
protected:
  std::string path() const { return dir_.path() + "/trace.json"; }
  TempDir dir_;
};

/* ==========================================================================================
 * A known program, on the fake driver
 * ======================================================================================= */

TEST_F(TraceTest, AKnownProgramHasExactlyItsCallsAndOperations) {
  static const char bytes[] = "module";
  std::atomic<int> host_calls{0};
  {
    LayerEnvironment env;
    env.set("UDAL_TRACE", path());
    udal_test::Instance instance({stub("udal_test_fake")});
    udal_device_t device = instance.device(0);
    udal_stream_t s1 = make_stream(device);
    udal_stream_t s2 = make_stream(device);
    udal_buffer_t a = make_buffer(device, 64);
    udal_buffer_t b = make_buffer(device, 64);
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    image.data = bytes;
    image.size = sizeof(bytes);
    udal_module_desc_t mdesc = UDAL_MODULE_DESC_INIT;
    mdesc.images = &image;
    mdesc.image_count = 1;
    udal_module_t module = nullptr;
    ASSERT_EQ(udal_module_create(device, &mdesc, &module), UDAL_SUCCESS);
    udal_kernel_t kernel = make_kernel(module, "noop");
    udal_event_t event = make_event(device);
    uint32_t pattern = 5, value = 9;
    char host[64] = {};
    ASSERT_EQ(udal_stream_fill_buffer(s1, a, 0, 64, &pattern, 4), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_write_buffer(s1, b, 0, host, 64), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_copy_buffer(s1, a, 0, b, 0, 32), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_read_buffer(s1, b, 0, host, 64), UDAL_SUCCESS);
    udal_kernel_arg_t args[2] = {udal_arg_buffer(a, 0), udal_arg_value(&value, 4)};
    udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
    launch.group_count[0] = 3;
    launch.group_size[0] = 8;
    launch.args = args;
    launch.arg_count = 2;
    ASSERT_EQ(udal_stream_launch(s1, kernel, &launch), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_record_event(s1, event), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_wait_event(s2, event), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_enqueue_host_function(s2, count_calls, &host_calls), UDAL_SUCCESS);
    // A refused call is an API call too.
    EXPECT_EQ(udal_stream_fill_buffer(s1, a, 60, 8, &pattern, 4), UDAL_ERROR_OUT_OF_RANGE);
    ASSERT_EQ(udal_stream_synchronize(s1, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_synchronize(s2, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
    ASSERT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
    ASSERT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_destroy(a), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_destroy(b), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_destroy(s1), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_destroy(s2), UDAL_SUCCESS);
  }
  EXPECT_EQ(host_calls.load(), 1) << "the traced host function must still run the program's";
  std::string text = read_file(path());
  ASSERT_TRUE(text.size() > 3 && text.substr(text.size() - 3) == "\n]\n") << "not closed";
  json parsed = parse_trace(text, true);
  expect_trace_event_format(parsed);
  Trace t(parsed);

  const std::vector<std::string> calls = {
      "udal_stream_create",       "udal_stream_create",   "udal_buffer_create",
      "udal_buffer_create",       "udal_module_create",   "udal_kernel_create",
      "udal_event_create",        "udal_stream_fill_buffer", "udal_stream_write_buffer",
      "udal_stream_copy_buffer",  "udal_stream_read_buffer", "udal_stream_launch",
      "udal_stream_record_event", "udal_stream_wait_event",
      "udal_stream_enqueue_host_function", "udal_stream_fill_buffer",
      "udal_stream_synchronize",  "udal_stream_synchronize", "udal_event_destroy",
      "udal_kernel_destroy",      "udal_module_destroy",  "udal_buffer_destroy",
      "udal_buffer_destroy",      "udal_stream_destroy",  "udal_stream_destroy"};
  EXPECT_EQ(t.call_names(), calls);
  ASSERT_EQ(t.calls.size(), calls.size());
  EXPECT_EQ(t.calls[15].args["result"], "UDAL_ERROR_OUT_OF_RANGE");
  EXPECT_EQ(t.calls[7].args["size"], 64);
  EXPECT_EQ(t.calls[11].args["desc"]["group_count"], json({3, 1, 1}));
  EXPECT_EQ(t.calls[11].args["desc"]["args"][0]["access"], "READ_WRITE");
  for (const Slice& c : t.calls)
    EXPECT_EQ(c.tid, t.calls[0].tid) << "every call was made on this thread";

  const auto* first = find_track(t, "fill");
  const auto* second = find_track(t, "wait event");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(t.op_names(*first),
            (std::vector<std::string>{"fill", "host write", "copy", "host read", "launch noop",
                                      "record event"}));
  EXPECT_EQ(t.op_names(*second), (std::vector<std::string>{"wait event", "host function"}));
  EXPECT_EQ(t.ops.size(), 2u) << "one track per stream";
  const Slice& launched = t.ops.at(*first)[4];
  EXPECT_EQ(launched.args["group_count"], json({3, 1, 1}));
  EXPECT_EQ(launched.args["group_size"], json({8, 1, 1}));
  // The fake device has timestamps (every elapsed time it gives is 42 ns, so every event
  // is at the same device time and the launch lasts 0 ns on the device).
  EXPECT_EQ(launched.args["clock"], "device timestamps");
  EXPECT_EQ(launched.args["device_ns"], 0);
  expect_operations_well_placed(t);

  bool record_to_wait = false;
  for (const auto& [id, pair] : t.flows) {
    if (pair.first["name"] != "record to wait")
      continue;
    const Slice* from = t.slice_at(pair.first["pid"], pair.first["tid"], pair.first["ts"]);
    const Slice* to = t.slice_at(pair.second["pid"], pair.second["tid"], pair.second["ts"]);
    ASSERT_TRUE(from && to);
    record_to_wait = from->name.rfind("record event", 0) == 0 && to->name.rfind("wait event", 0) == 0;
  }
  EXPECT_TRUE(record_to_wait) << "an arrow from the record to the wait on it";
  ASSERT_FALSE(t.end_event.is_null());
  EXPECT_EQ(t.end_event["args"]["dropped_operations"], 0);
}

/* ==========================================================================================
 * The CPU driver: real asynchronous work and device timestamps
 * ======================================================================================= */

TEST_F(TraceTest, TheCpuDriversOperationsHaveDeviceTimesOnTheirStreams) {
  constexpr uint32_t n = 1 << 16;
  std::vector<uint32_t> in(n, 21), out(n, 0);
  {
    LayerEnvironment env;
    env.set("UDAL_TRACE", path());
    env.set("UDAL_VALIDATION", "1");
    udal_test::Instance instance({LAYERS_CPU_DRIVER});
    udal_device_t device = instance.device(0);
    udal_stream_t s1 = make_stream(device);
    udal_stream_t s2 = make_stream(device);
    udal_buffer_t src = make_buffer(device, n * 4);
    udal_buffer_t dst = make_buffer(device, n * 4);
    udal_module_t module = make_module(device, LAYERS_TEST_KERNELS);
    udal_kernel_t kernel = make_kernel(module, "twice");
    udal_event_t event = make_event(device);
    ASSERT_EQ(udal_stream_write_buffer(s1, src, 0, in.data(), n * 4), UDAL_SUCCESS);
    udal_kernel_arg_t args[3] = {udal_arg_buffer_access(src, 0, UDAL_ARG_ACCESS_READ),
                                 udal_arg_buffer_access(dst, 0, UDAL_ARG_ACCESS_WRITE),
                                 udal_arg_value(&n, 4)};
    udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
    launch.group_count[0] = n / 64;
    launch.group_size[0] = 64;
    launch.args = args;
    launch.arg_count = 3;
    ASSERT_EQ(udal_stream_launch(s1, kernel, &launch), UDAL_SUCCESS) << udal_last_error_message();
    ASSERT_EQ(udal_stream_record_event(s1, event), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_wait_event(s2, event), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_read_buffer(s2, dst, 0, out.data(), n * 4), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_wait(event, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_synchronize(s2, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    for (udal_buffer_t x : {src, dst})
      ASSERT_EQ(udal_buffer_destroy(x), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
    ASSERT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
    ASSERT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
    for (udal_stream_t s : {s1, s2})
      ASSERT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  }
  EXPECT_EQ(out, std::vector<uint32_t>(n, 42)) << "the traced launch computed the wrong thing";
  json parsed = parse_trace(read_file(path()), true);
  expect_trace_event_format(parsed);
  Trace t(parsed);
  const auto* first = find_track(t, "host write");
  const auto* second = find_track(t, "wait event");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(t.op_names(*first), (std::vector<std::string>{"host write", "launch twice", "record event"}));
  EXPECT_EQ(t.op_names(*second), (std::vector<std::string>{"wait event", "host read"}));
  const Slice& launched = t.ops.at(*first)[1];
  EXPECT_EQ(launched.args["clock"], "device timestamps");
  EXPECT_GT(launched.args.value("device_ns", int64_t{0}), 0) << launched.args;
  EXPECT_EQ(launched.args["group_count"], json({n / 64, 1, 1}));
  // Placed on the host's timeline without losing time: a slice lasts what the device says.
  for (const auto& [track, slices] : t.ops) {
    for (const Slice& s : slices) {
      auto device_ns = s.args.find("device_ns");
      if (device_ns != s.args.end()) {
        EXPECT_NEAR(s.dur * 1000.0, device_ns->get<double>(), 2.0) << s.name << " " << s.args;
      }
    }
  }
  expect_operations_well_placed(t);
  // The record has an arrow to the stream that waited on it and to the host's event_wait.
  std::set<std::string> waiters;
  for (const auto& [id, pair] : t.flows) {
    if (pair.first["name"] != "record to wait")
      continue;
    const Slice* to = t.slice_at(pair.second["pid"], pair.second["tid"], pair.second["ts"]);
    ASSERT_NE(to, nullptr);
    waiters.insert(to->name.substr(0, to->name.find(" 0x")));
  }
  EXPECT_EQ(waiters, (std::set<std::string>{"wait event", "udal_event_wait"}));
}

/* ==========================================================================================
 * Crashes, bounds, files
 * ======================================================================================= */

TEST_F(TraceTest, AProgramKilledMidRunLeavesATraceThatParses) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::string trace_path = path();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    setenv("UDAL_TRACE", trace_path.c_str(), 1);
    setenv("UDAL_LOG", "none", 1);
    const char* paths[] = {UDAL_TEST_STUB_DIR "/libudal_test_fake.so"};
    udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
    desc.driver_paths = paths;
    desc.driver_path_count = 1;
    udal_instance_t instance = nullptr;
    udal_device_t device = nullptr;
    udal_stream_t stream = nullptr;
    udal_buffer_t buffer = nullptr;
    udal_buffer_desc_t bdesc = UDAL_BUFFER_DESC_INIT;
    bdesc.size = 64;
    uint32_t pattern = 1;
    if (udal_instance_create(&desc, &instance) != UDAL_SUCCESS ||
        udal_instance_get_device(instance, 0, &device) != UDAL_SUCCESS ||
        udal_stream_create(device, nullptr, &stream) != UDAL_SUCCESS ||
        udal_buffer_create(device, &bdesc, &buffer) != UDAL_SUCCESS)
      _exit(3);
    for (long i = 0;; ++i) {
      (void)udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4);
      (void)udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
      if (i == 10) {
        char byte = 1;
        if (write(ready[1], &byte, 1) != 1)
          _exit(4);
      }
    }
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child did not get going";
  close(ready[0]);
  usleep(20000);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  std::string text = read_file(trace_path);
  ASSERT_EQ(text.rfind("[\n", 0), 0u);
  EXPECT_EQ(text.find("udal trace end"), std::string::npos) << "the child never closed it";
  json parsed = parse_trace(text, false);
  expect_trace_event_format(parsed);
  Trace t(parsed);
  size_t synchronizes = 0;
  for (const Slice& c : t.calls)
    synchronizes += c.name == "udal_stream_synchronize";
  // Everything up to the 11th synchronize was flushed before the child said it was ready.
  EXPECT_GE(synchronizes, 11u);
}

TEST_F(TraceTest, OperationsPastTheBoundAreCountedNotKept) {
  constexpr int kFills = 8300; // past the layer's 8192 operations in flight
  {
    LayerEnvironment env;
    env.set("UDAL_TRACE", path());
    udal_test::Instance instance({LAYERS_CPU_DRIVER});
    udal_device_t device = instance.device(0);
    udal_stream_t stream = make_stream(device);
    udal_buffer_t buffer = make_buffer(device, 64);
    udal_event_t gate = make_event(device, UDAL_EVENT_FLAG_HOST_SIGNAL);
    ASSERT_EQ(udal_stream_wait_event(stream, gate), UDAL_SUCCESS);
    uint32_t pattern = 0;
    for (int i = 0; i < kFills; ++i)
      ASSERT_EQ(udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_signal(gate), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_destroy(gate), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  }
  json parsed = parse_trace(read_file(path()), true);
  Trace t(parsed);
  int64_t fills = 0;
  for (const auto& [track, slices] : t.ops)
    fills += std::count_if(slices.begin(), slices.end(), [](const Slice& s) { return s.name == "fill"; });
  int64_t dropped = t.end_event["args"]["dropped_operations"];
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(fills + dropped, kFills) << "every fill is either traced or counted";
  size_t calls = std::count_if(t.calls.begin(), t.calls.end(), [](const Slice& s) {
    return s.name == "udal_stream_fill_buffer";
  });
  EXPECT_EQ(calls, static_cast<size_t>(kFills)) << "calls are always traced";
}

TEST_F(TraceTest, ALaterInstanceContinuesTheFileAndPercentPIsThePid) {
  std::string pattern = dir_.path() + "/trace-%p.json";
  std::string expanded = dir_.path() + "/trace-" + std::to_string(getpid()) + ".json";
  for (int round = 0; round < 2; ++round) {
    LayerEnvironment env;
    env.set("UDAL_TRACE", pattern);
    udal_test::Instance instance({stub("udal_test_fake")});
    udal_stream_t s = make_stream(instance.device(0));
    EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  }
  json parsed = parse_trace(read_file(expanded), true);
  expect_trace_event_format(parsed);
  Trace t(parsed);
  EXPECT_EQ(t.call_names(), (std::vector<std::string>{"udal_stream_create", "udal_stream_destroy",
                                                     "udal_stream_create", "udal_stream_destroy"}));
}

TEST_F(TraceTest, AFileThatCannotBeCreatedLeavesTheTraceOffWithAWarning) {
  LayerEnvironment env;
  env.set("UDAL_TRACE", dir_.path() + "/no/such/directory/trace.json");
  StderrCapture err;
  udal_test::Instance instance({stub("udal_test_fake")});
  udal_stream_t s = make_stream(instance.device(0));
  EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  EXPECT_TRUE(contains(err.text(), "cannot create UDAL_TRACE file"));
}

// Both layers, the CPU driver, several threads (for TSan).
TEST_F(TraceTest, ThreadsTraceAtOnce) {
  {
    LayerEnvironment env;
    env.set("UDAL_TRACE", path());
    env.set("UDAL_VALIDATION", "1");
    udal_test::Instance instance({LAYERS_CPU_DRIVER});
    udal_device_t device = instance.device(0);
    std::atomic<int> failures{0};
    std::atomic<int> host_calls{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        udal_stream_t s = nullptr;
        udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
        desc.size = 4096;
        udal_buffer_t b = nullptr;
        if (udal_stream_create(device, nullptr, &s) != UDAL_SUCCESS ||
            udal_buffer_create(device, &desc, &b) != UDAL_SUCCESS) {
          ++failures;
          return;
        }
        uint32_t pattern = 7;
        for (int i = 0; i < 100; ++i) {
          if (udal_stream_fill_buffer(s, b, 0, 4096, &pattern, 4) != UDAL_SUCCESS ||
              udal_stream_enqueue_host_function(s, count_calls, &host_calls) != UDAL_SUCCESS)
            ++failures;
        }
        if (udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE) != UDAL_SUCCESS ||
            udal_buffer_destroy(b) != UDAL_SUCCESS || udal_stream_destroy(s) != UDAL_SUCCESS)
          ++failures;
      });
    }
    for (std::thread& t : threads)
      t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(host_calls.load(), 400);
  }
  json parsed = parse_trace(read_file(path()), true);
  expect_trace_event_format(parsed);
  Trace t(parsed);
  EXPECT_EQ(t.ops.size(), 4u);
  expect_operations_well_placed(t);
}

} // namespace

namespace {

// fork(): in the child, objects of the parent's instance answer DEVICE_LOST through the
// layers too (libudal stubs the layered table), releasing that instance frees the layers
// without calling the driver or writing to the parent's trace, and the parent goes on.
TEST_F(TraceTest, AForkChildGetsDeviceLostAndLeavesTheParentsTraceAlone) {
  {
    LayerEnvironment env;
    env.set("UDAL_TRACE", path());
    env.set("UDAL_VALIDATION", "1");
    udal_test::Instance instance({LAYERS_CPU_DRIVER});
    udal_device_t device = instance.device(0);
    udal_stream_t stream = make_stream(device);
    udal_buffer_t buffer = make_buffer(device, 64);
    uint32_t pattern = 1;
    ASSERT_EQ(udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      int code = 0;
      if (udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4) != UDAL_ERROR_DEVICE_LOST)
        code = 1;
      else if (udal_stream_synchronize(stream, 0) != UDAL_ERROR_DEVICE_LOST)
        code = 2;
      else if (udal_instance_release(instance.get()) != UDAL_SUCCESS)
        code = 3;
      _exit(code);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ASSERT_EQ(udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  }
  std::string text = read_file(path());
  json parsed = parse_trace(text, true);
  expect_trace_event_format(parsed);
  Trace t(parsed);
  EXPECT_EQ(t.call_names(), (std::vector<std::string>{
                                "udal_stream_create", "udal_buffer_create", "udal_stream_fill_buffer",
                                "udal_stream_synchronize", "udal_stream_fill_buffer",
                                "udal_stream_synchronize", "udal_buffer_destroy",
                                "udal_stream_destroy"}))
      << "only the parent's calls, once each";
  size_t ends = 0;
  for (const json& e : parsed)
    ends += e["name"] == "udal trace end";
  EXPECT_EQ(ends, 1u);
}

} // namespace
