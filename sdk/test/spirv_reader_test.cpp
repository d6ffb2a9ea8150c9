// Tests of the SDK's SPIR-V reader (udal/sdk/spirv.h): the suite's own kernels (GLSL and
// OpenCL C, as the build compiled them) reflect as their sources say, and truncated,
// corrupt and hostile modules are refused with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "udal/sdk/spirv.h"

namespace spirv = udal::sdk::spirv;

namespace {

// ---------------------------------------------------------------------------------------
// Modules built word by word
// ---------------------------------------------------------------------------------------

uint32_t op(uint32_t opcode, uint32_t words) {
  return (words << 16) | opcode;
}

// A string operand: NUL-terminated, padded to whole words.
std::vector<uint32_t> str(const std::string& s) {
  std::vector<uint32_t> w(s.size() / 4 + 1, 0);
  std::memcpy(w.data(), s.data(), s.size());
  return w;
}

struct Words {
  std::vector<uint32_t> w;
  Words& add(uint32_t opcode, std::vector<uint32_t> operands) {
    w.push_back(op(opcode, static_cast<uint32_t>(operands.size() + 1)));
    w.insert(w.end(), operands.begin(), operands.end());
    return *this;
  }
};

// A Kernel module: kernel "k"(global uint* NoWrite, uint, local uint*) with
// reqd_work_group_size(8,1,1), and a bool spec constant with SpecId 7.
//   %1 void  %2 uint  %3 global uint*  %4 fn type  %5 function  %6 %7 %11 parameters
//   %8 label  %9 local uint*  %10 bool  %12 spec constant
std::vector<uint32_t> kernel_module() {
  Words m;
  m.w = {spirv::kMagic, 0x00010000, 0, 13, 0};
  m.add(17, {4}).add(17, {6});          // OpCapability Addresses, Kernel
  m.add(14, {2, 2});                    // OpMemoryModel Physical64 OpenCL
  std::vector<uint32_t> entry = {6, 5}; // OpEntryPoint Kernel %5 "k"
  for (uint32_t s : str("k"))
    entry.push_back(s);
  m.add(15, entry);
  m.add(16, {5, 17, 8, 1, 1}); // OpExecutionMode %5 LocalSize 8 1 1
  m.add(71, {6, 38, 6});       // OpDecorate %6 FuncParamAttr NoWrite
  m.add(71, {12, 1, 7});       // OpDecorate %12 SpecId 7
  m.add(19, {1});              // %1 = OpTypeVoid
  m.add(21, {2, 32, 0});       // %2 = OpTypeInt 32 0
  m.add(32, {3, 5, 2});        // %3 = OpTypePointer CrossWorkgroup %2
  m.add(32, {9, 4, 2});        // %9 = OpTypePointer Workgroup %2
  m.add(20, {10});             // %10 = OpTypeBool
  m.add(48, {10, 12});         // %12 = OpSpecConstantTrue %10
  m.add(33, {4, 1, 3, 2, 9});  // %4 = OpTypeFunction %1 %3 %2 %9
  m.add(54, {1, 5, 0, 4});     // %5 = OpFunction %1 None %4
  m.add(55, {3, 6});           // %6 = OpFunctionParameter %3
  m.add(55, {2, 7});           // %7 = OpFunctionParameter %2
  m.add(55, {9, 11});          // %11 = OpFunctionParameter %9
  m.add(248, {8});             // %8 = OpLabel
  m.add(253, {});              // OpReturn
  m.add(56, {});               // OpFunctionEnd
  return m.w;
}

// Index of the first instruction with |opcode| at or after word 5.
size_t find_instruction(const std::vector<uint32_t>& w, uint32_t opcode) {
  for (size_t at = 5; at < w.size(); at += w[at] >> 16) {
    if ((w[at] & 0xffffu) == opcode)
      return at;
    if ((w[at] >> 16) == 0)
      break;
  }
  return 0;
}

std::string read_error(const std::vector<uint32_t>& words) {
  spirv::Module m;
  std::string why = spirv::read(words, &m);
  if (!why.empty()) {
    EXPECT_TRUE(m.entry_points.empty()) << "a refused module left entry points behind";
  }
  return why;
}

// ---------------------------------------------------------------------------------------
// The build's kernels
// ---------------------------------------------------------------------------------------

std::vector<uint32_t> load(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(UDAL_SDK_TEST_KERNEL_DIR) / name;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return {};
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), words.size() * 4);
  return words;
}

#define LOAD_OR_SKIP(var, name, tool)                                                              \
  const std::vector<uint32_t> var = load(name);                                                    \
  if (var.empty())                                                                                 \
  GTEST_SKIP() << name << " was not built (" tool " missing); looked in "                          \
               << UDAL_SDK_TEST_KERNEL_DIR

const spirv::EntryPoint& entry(const spirv::Module& m, const char* name, uint32_t model) {
  const spirv::EntryPoint* e = spirv::find_entry_point(m, name, model);
  if (e == nullptr)
    throw std::runtime_error(std::string("no entry point ") + name);
  return *e;
}

TEST(SdkSpirv, ForEachInstructionVisitsInOrderAndStopsAtBadCountsOrWhenAsked) {
  // Header (5 words), OpCapability Shader (2 words), OpNop (1 word), OpMemoryModel (3 words).
  std::vector<uint32_t> words = {spirv::kMagic, 0x00010300u, 0, 10, 0,
                                 (2u << 16) | 17u, 1,
                                 (1u << 16) | 0u,
                                 (3u << 16) | 14u, 0, 1};
  std::vector<std::pair<uint32_t, size_t>> seen;
  auto record = [&](uint32_t op, std::span<const uint32_t> instruction, size_t at) {
    EXPECT_EQ(instruction.size(), instruction[0] >> 16);
    seen.emplace_back(op, at);
    return std::string();
  };
  EXPECT_EQ(spirv::for_each_instruction(words, record), "");
  EXPECT_EQ(seen, (std::vector<std::pair<uint32_t, size_t>>{{17, 5}, {0, 7}, {14, 8}}));
  // A reason from the visitor stops the walk and is returned.
  seen.clear();
  EXPECT_EQ(spirv::for_each_instruction(words, [&](uint32_t op, auto, size_t) {
              seen.emplace_back(op, 0);
              return op == 0 ? std::string("stop") : std::string();
            }),
            "stop");
  EXPECT_EQ(seen.size(), 2u);
  // A word count of 0, and one past the end, are reported with the word.
  words[7] = 0;
  EXPECT_NE(spirv::for_each_instruction(words, record).find("word 7 (opcode 0) has a word count of 0"),
            std::string::npos);
  words[7] = (1u << 16);
  words[8] = (4u << 16) | 14u;
  EXPECT_NE(spirv::for_each_instruction(words, record).find("runs past the end"), std::string::npos);
  // Fewer words than a header: nothing to visit.
  EXPECT_EQ(spirv::for_each_instruction(std::span<const uint32_t>(words.data(), 3), record), "");
}

TEST(SdkSpirv, GlslSaxpyHasTwoBindingsAndTwoPushConstants) {
  LOAD_OR_SKIP(words, "saxpy.spv", "glslangValidator");
  spirv::Module m;
  ASSERT_EQ(spirv::read(words, &m), "");
  const spirv::EntryPoint& e = entry(m, "saxpy", spirv::kExecutionModelGLCompute);
  ASSERT_EQ(e.bindings.size(), 2u);
  std::vector<spirv::Binding> b = e.bindings;
  std::sort(b.begin(), b.end(), [](auto& x, auto& y) { return *x.binding < *y.binding; });
  EXPECT_EQ(b[0].set, 0u);
  EXPECT_EQ(b[0].binding, 0u);
  EXPECT_EQ(b[0].kind, spirv::ResourceKind::kStorageBuffer);
  EXPECT_TRUE(b[0].readable && b[0].writable);
  EXPECT_EQ(b[1].binding, 1u);
  EXPECT_TRUE(b[1].readable);
  EXPECT_FALSE(b[1].writable) << "binding 1 is `readonly buffer X`";
  ASSERT_EQ(e.push_constants.size(), 1u);
  const spirv::PushConstantBlock& pc = e.push_constants[0];
  EXPECT_EQ(pc.size, 8u);
  ASSERT_EQ(pc.members.size(), 2u);
  EXPECT_EQ(pc.members[0].offset, 0u);
  EXPECT_EQ(pc.members[1].offset, 4u);
  EXPECT_EQ(pc.members[1].size, 4u);
  EXPECT_EQ(pc.members[1].kind, spirv::MemberKind::kScalar);
  // local_size_x_id: the size comes from specialization constants, so none is fixed.
  EXPECT_FALSE(e.fixed_group_size.has_value());
  ASSERT_FALSE(m.workgroup_size_builtins.empty());
  EXPECT_TRUE(m.workgroup_size_builtins.back().specialized);
  EXPECT_TRUE(e.parameters.empty());
}

TEST(SdkSpirv, GlslFixedGroupFixesItsSizeAndWritesOnly) {
  LOAD_OR_SKIP(words, "fixed_group.spv", "glslangValidator");
  spirv::Module m;
  ASSERT_EQ(spirv::read(words, &m), "");
  const spirv::EntryPoint& e = entry(m, "fixed_group", spirv::kExecutionModelGLCompute);
  ASSERT_TRUE(e.fixed_group_size.has_value());
  EXPECT_EQ(*e.fixed_group_size, (spirv::Size3{8, 1, 1}));
  ASSERT_EQ(e.bindings.size(), 1u);
  EXPECT_FALSE(e.bindings[0].readable) << "binding 0 is `writeonly buffer Out`";
  EXPECT_TRUE(e.bindings[0].writable);
}

TEST(SdkSpirv, GlslLocalReverseSizesSharedMemoryWithSpecId3) {
  LOAD_OR_SKIP(words, "local_reverse.spv", "glslangValidator");
  spirv::Module m;
  ASSERT_EQ(spirv::read(words, &m), "");
  const spirv::EntryPoint& e = entry(m, "local_reverse", spirv::kExecutionModelGLCompute);
  EXPECT_EQ(e.workgroup_spec_ids, std::vector<uint32_t>{3});
  bool found = false;
  for (const spirv::SpecConstant& c : m.spec_constants) {
    if (c.spec_id == 3) {
      found = true;
      EXPECT_EQ(c.size, 4u);
      EXPECT_FALSE(c.is_bool);
    }
  }
  EXPECT_TRUE(found) << "constant_id = 3 is a specialization constant";
}

TEST(SdkSpirv, LinkedGlslModuleGivesEachEntryPointItsOwnResources) {
  LOAD_OR_SKIP(words, "cts_kernels.spirv-compute.spv", "spirv-link");
  spirv::Module m;
  ASSERT_EQ(spirv::read(words, &m), "");
  EXPECT_EQ(m.entry_points.size(), 5u);
  const spirv::EntryPoint& saxpy = entry(m, "saxpy", spirv::kExecutionModelGLCompute);
  const spirv::EntryPoint& reverse = entry(m, "local_reverse", spirv::kExecutionModelGLCompute);
  const spirv::EntryPoint& fill = entry(m, "fill_index", spirv::kExecutionModelGLCompute);
  EXPECT_EQ(saxpy.bindings.size(), 2u);
  EXPECT_EQ(reverse.bindings.size(), 1u);
  EXPECT_EQ(reverse.workgroup_spec_ids, std::vector<uint32_t>{3});
  EXPECT_TRUE(fill.workgroup_spec_ids.empty()) << "fill_index uses no shared memory";
  ASSERT_EQ(saxpy.push_constants.size(), 1u);
  EXPECT_EQ(saxpy.push_constants[0].members.size(), 2u);
}

TEST(SdkSpirv, OpenClKernelsReflectTheirParameters) {
  LOAD_OR_SKIP(words, "cts_kernels.spirv-kernel.spv", "clang-14 or llvm-spirv-14");
  spirv::Module m;
  ASSERT_EQ(spirv::read(words, &m), "");
  EXPECT_EQ(m.addressing_model, spirv::kAddressingPhysical64);
  EXPECT_EQ(m.pointer_bytes(), 8u);
  // saxpy(global float* y, global const float* x, float a, uint n)
  const spirv::EntryPoint& saxpy = entry(m, "saxpy", spirv::kExecutionModelKernel);
  ASSERT_EQ(saxpy.parameters.size(), 4u);
  EXPECT_EQ(saxpy.parameters[0].kind, spirv::ParameterKind::kPointer);
  EXPECT_EQ(saxpy.parameters[0].storage_class, spirv::kStorageCrossWorkgroup);
  EXPECT_FALSE(saxpy.parameters[0].no_write);
  EXPECT_EQ(saxpy.parameters[1].kind, spirv::ParameterKind::kPointer);
  EXPECT_EQ(saxpy.parameters[2].kind, spirv::ParameterKind::kValue);
  EXPECT_EQ(saxpy.parameters[2].size, 4u);
  EXPECT_EQ(saxpy.parameters[3].size, 4u);
  // local_reverse(global uint* data, local uint* scratch)
  const spirv::EntryPoint& reverse = entry(m, "local_reverse", spirv::kExecutionModelKernel);
  ASSERT_EQ(reverse.parameters.size(), 2u);
  EXPECT_EQ(reverse.parameters[1].storage_class, spirv::kStorageWorkgroup);
  // device_address(ulong table, uint n)
  const spirv::EntryPoint& address = entry(m, "device_address", spirv::kExecutionModelKernel);
  ASSERT_EQ(address.parameters.size(), 2u);
  EXPECT_EQ(address.parameters[0].size, 8u);
  EXPECT_EQ(address.parameters[1].size, 4u);
  EXPECT_GE(m.entry_points.size(), 9u);
}

// ---------------------------------------------------------------------------------------
// A module built here
// ---------------------------------------------------------------------------------------

TEST(SdkSpirv, BuiltKernelModuleReflectsAttributesSizesAndSpecConstants) {
  spirv::Module m;
  ASSERT_EQ(spirv::read(kernel_module(), &m), "");
  ASSERT_EQ(m.entry_points.size(), 1u);
  const spirv::EntryPoint& e = m.entry_points[0];
  EXPECT_EQ(e.name, "k");
  ASSERT_TRUE(e.fixed_group_size.has_value());
  EXPECT_EQ(*e.fixed_group_size, (spirv::Size3{8, 1, 1}));
  ASSERT_EQ(e.parameters.size(), 3u);
  EXPECT_EQ(e.parameters[0].kind, spirv::ParameterKind::kPointer);
  EXPECT_TRUE(e.parameters[0].no_write);
  EXPECT_EQ(e.parameters[0].pointee_size, 4u);
  EXPECT_EQ(e.parameters[1].kind, spirv::ParameterKind::kValue);
  EXPECT_FALSE(e.parameters[1].no_write);
  EXPECT_EQ(e.parameters[2].storage_class, spirv::kStorageWorkgroup);
  ASSERT_EQ(m.spec_constants.size(), 1u);
  EXPECT_EQ(m.spec_constants[0].spec_id, 7u);
  EXPECT_TRUE(m.spec_constants[0].is_bool);
  EXPECT_EQ(m.spec_constants[0].size, 1u);
}

TEST(SdkSpirv, UnalignedBytesReadLikeWords) {
  const std::vector<uint32_t> words = kernel_module();
  std::vector<unsigned char> bytes(words.size() * 4 + 1);
  std::memcpy(bytes.data() + 1, words.data(), words.size() * 4);
  spirv::Module m;
  ASSERT_EQ(spirv::read_bytes(bytes.data() + 1, words.size() * 4, &m), "");
  EXPECT_EQ(m.entry_points.size(), 1u);
}

// ---------------------------------------------------------------------------------------
// Refused, each with a message
// ---------------------------------------------------------------------------------------

void expect_refused(const std::vector<uint32_t>& words, const std::string& phrase) {
  const std::string why = read_error(words);
  EXPECT_NE(why.find(phrase), std::string::npos)
      << "expected a message with '" << phrase << "', got '" << why << "'";
}

TEST(SdkSpirv, ByteCountsThatAreNotAModuleAreRefused) {
  spirv::Module m;
  EXPECT_NE(spirv::read_bytes(nullptr, 0, &m).find("too few"), std::string::npos);
  const std::vector<uint32_t> words = kernel_module();
  EXPECT_NE(spirv::read_bytes(words.data(), 19, &m).find("too few"), std::string::npos);
  for (size_t cut = 1; cut < 4; ++cut) {
    const std::string why = spirv::read_bytes(words.data(), words.size() * 4 - cut, &m);
    EXPECT_NE(why.find("whole number of 32-bit words"), std::string::npos) << why;
  }
}

TEST(SdkSpirv, BadHeadersAreRefused) {
  std::vector<uint32_t> w = kernel_module();
  w[0] = 0xdeadbeef;
  expect_refused(w, "not the SPIR-V magic number");
  w = kernel_module();
  w[0] = 0x03022307u;
  expect_refused(w, "byte-swapped");
  w = kernel_module();
  w[1] = 0x00020000;
  expect_refused(w, "not SPIR-V 1.0 - 1.6");
  w = kernel_module();
  w[3] = 0;
  expect_refused(w, "id bound 0");
  w[3] = spirv::kMaxIdBound + 1;
  expect_refused(w, "id bound");
  w = kernel_module();
  w[4] = 1;
  expect_refused(w, "reserved word");
  expect_refused({spirv::kMagic, 0x00010000, 0, 1}, "shorter than the 5-word");
}

TEST(SdkSpirv, EveryTruncationIsRefused) {
  const std::vector<uint32_t> full = kernel_module();
  // A Kernel module may declare no kernel (Level Zero's modules of no kernels): a cut before
  // the first OpEntryPoint is such a module, with no entry point. Every later cut is refused.
  const size_t first_entry = find_instruction(full, 15);
  ASSERT_NE(first_entry, 0u);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint32_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    spirv::Module m;
    const std::string why = spirv::read(cut, &m);
    if (n <= first_entry && why.empty()) {
      EXPECT_TRUE(m.entry_points.empty());
      continue;
    }
    EXPECT_FALSE(why.empty()) << "a module cut to " << n << " words was accepted";
  }
}

TEST(SdkSpirv, AShaderModuleWithoutAnEntryPointIsRefusedAKernelModuleIsNot) {
  std::vector<uint32_t> kernel = kernel_module();
  const size_t entry = find_instruction(kernel, 15);
  ASSERT_NE(entry, 0u);
  const uint32_t length = kernel[entry] >> 16;
  kernel.erase(kernel.begin() + static_cast<std::ptrdiff_t>(entry),
               kernel.begin() + static_cast<std::ptrdiff_t>(entry + length));
  spirv::Module m;
  EXPECT_EQ(spirv::read(kernel, &m), "");
  EXPECT_TRUE(m.entry_points.empty());
  std::vector<uint32_t> shader = kernel;
  shader[find_instruction(shader, 14) + 2] = 1; // OpMemoryModel ... GLSL450
  expect_refused(shader, "no OpEntryPoint");
}

TEST(SdkSpirv, EveryTruncationOfARealKernelIsRefused) {
  LOAD_OR_SKIP(words, "cts_kernels.spirv-kernel.spv", "clang-14 or llvm-spirv-14");
  // llvm-spirv declares Linkage: a cut before the first OpEntryPoint leaves a valid library
  // without kernels (which a driver then finds no kernel in). Every later cut is refused.
  const size_t first_entry = find_instruction(words, 15);
  ASSERT_NE(first_entry, 0u);
  for (size_t n = 0; n < words.size(); n += 1 + n / 64) {
    std::vector<uint32_t> cut(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(n));
    spirv::Module m;
    const std::string why = spirv::read(cut, &m);
    if (n <= first_entry && why.empty()) {
      EXPECT_TRUE(m.entry_points.empty());
      continue;
    }
    EXPECT_FALSE(why.empty()) << "a module cut to " << n << " words was accepted";
  }
}

TEST(SdkSpirv, InstructionBoundsAreChecked) {
  std::vector<uint32_t> w = kernel_module();
  w[5] = op(17, 0);
  expect_refused(w, "word count of 0");
  w = kernel_module();
  w[w.size() - 1] = op(56, 2); // OpFunctionEnd claiming 2 words at the very end
  expect_refused(w, "runs past the end");
  w = kernel_module();
  const size_t type_int = find_instruction(w, 21);
  ASSERT_NE(type_int, 0u);
  w[type_int] = op(21, 3);    // OpTypeInt without its signedness; the next word starts anew
  w[type_int + 3] = op(1, 1); // ... as an OpUndef-like filler
  expect_refused(w, "needs at least 4");
}

TEST(SdkSpirv, IdsOutsideTheBoundAreRefused) {
  std::vector<uint32_t> w = kernel_module();
  w[3] = 6; // %6 and above are used
  expect_refused(w, "outside the id bound");
  w = kernel_module();
  const size_t pointer = find_instruction(w, 32);
  w[pointer + 3] = 0; // pointee %0
  expect_refused(w, "pointee type %0 is outside the id bound");
}

TEST(SdkSpirv, IdsDefinedTwiceAreRefused) {
  std::vector<uint32_t> w = kernel_module();
  const size_t boolean = find_instruction(w, 20);
  w[boolean + 1] = 2; // %2 is the uint type already
  expect_refused(w, "defined twice");
}

TEST(SdkSpirv, FunctionsMustBeClosedAndNotNested) {
  std::vector<uint32_t> w = kernel_module();
  w.pop_back(); // OpFunctionEnd
  expect_refused(w, "ends inside function %5");
  w = kernel_module();
  const size_t function = find_instruction(w, 54);
  std::vector<uint32_t> nested(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(function + 5));
  nested.insert(nested.end(), w.begin() + static_cast<std::ptrdiff_t>(function), w.end());
  expect_refused(nested, "begins inside function");
  w = kernel_module();
  w.push_back(op(56, 1));
  expect_refused(w, "OpFunctionEnd outside a function");
}

TEST(SdkSpirv, EntryPointsMustNameDefinedFunctionsOnce) {
  std::vector<uint32_t> w = kernel_module();
  const size_t ep = find_instruction(w, 15);
  w[ep + 2] = 12; // the spec constant, not a function
  expect_refused(w, "which the module does not define");
  w = kernel_module();
  std::vector<uint32_t> twice(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(ep));
  twice.insert(twice.end(), w.begin() + static_cast<std::ptrdiff_t>(ep),
               w.begin() + static_cast<std::ptrdiff_t>(ep + (w[ep] >> 16)));
  twice.insert(twice.end(), w.begin() + static_cast<std::ptrdiff_t>(ep), w.end());
  expect_refused(twice, "two entry points");
  w = kernel_module();
  w[ep + 3] = 0x41414141; // "AAAA" fills the name's only word: no NUL inside
  expect_refused(w, "not a NUL-terminated string");
}

TEST(SdkSpirv, AModuleWithoutAMemoryModelIsRefused) {
  std::vector<uint32_t> w = kernel_module();
  const size_t model = find_instruction(w, 14);
  w.erase(w.begin() + static_cast<std::ptrdiff_t>(model),
          w.begin() + static_cast<std::ptrdiff_t>(model + 3));
  expect_refused(w, "no OpMemoryModel");
}

TEST(SdkSpirv, ATypeCycleDoesNotRecurseForever) {
  // %2 = struct { %3 }, %3 = struct { %2 }: invalid SPIR-V, but only unknown sizes here.
  Words m;
  m.w = {spirv::kMagic, 0x00010000, 0, 9, 0};
  m.add(14, {2, 2});
  std::vector<uint32_t> entry = {6, 5};
  for (uint32_t s : str("k"))
    entry.push_back(s);
  m.add(15, entry);
  m.add(19, {1});
  m.add(30, {2, 3});
  m.add(30, {3, 2});
  m.add(33, {4, 1, 2});
  m.add(54, {1, 5, 0, 4});
  m.add(55, {2, 6});
  m.add(248, {7});
  m.add(253, {});
  m.add(56, {});
  spirv::Module out;
  ASSERT_EQ(spirv::read(m.w, &out), "");
  ASSERT_EQ(out.entry_points[0].parameters.size(), 1u);
  EXPECT_EQ(out.entry_points[0].parameters[0].kind, spirv::ParameterKind::kValue);
  EXPECT_FALSE(out.entry_points[0].parameters[0].size.has_value());
}

TEST(SdkSpirv, ParameterAttributesReachThroughDecorationGroups) {
  // kernel_module() with its OpDecorate %6 FuncParamAttr NoWrite moved onto a group %13
  // that OpGroupDecorate applies to %6 and %7.
  std::vector<uint32_t> w = kernel_module();
  w[3] = 14;
  const size_t decorate = find_instruction(w, 71);
  ASSERT_EQ(w[decorate + 1], 6u);
  w[decorate + 1] = 13;
  Words extra;
  extra.add(73, {13});       // %13 = OpDecorationGroup
  extra.add(74, {13, 6, 7}); // OpGroupDecorate %13 %6 %7
  const size_t after = decorate + 4;
  w.insert(w.begin() + static_cast<std::ptrdiff_t>(after), extra.w.begin(), extra.w.end());
  spirv::Module m;
  ASSERT_EQ(spirv::read(w, &m), "");
  const spirv::EntryPoint& e = m.entry_points.at(0);
  EXPECT_TRUE(e.parameters.at(0).no_write);
  EXPECT_TRUE(e.parameters.at(1).no_write);
  EXPECT_FALSE(e.parameters.at(2).no_write);
}

TEST(SdkSpirv, AModuleThatMultipliesReflectionWorkIsRefused) {
  // 2400 entry points on one function whose one instruction names 30000 ids: reflecting
  // each entry point's resources would walk 72 million references.
  constexpr uint32_t kIds = 30000, kEntries = 2400;
  Words m;
  m.w = {spirv::kMagic, 0x00010000, 0, kIds + 16, 0};
  m.add(17, {1});    // OpCapability Shader
  m.add(14, {0, 1}); // OpMemoryModel Logical GLSL450
  for (uint32_t i = 0; i < kEntries; ++i) {
    std::vector<uint32_t> entry = {spirv::kExecutionModelGLCompute, 3};
    for (uint32_t word : str("k" + std::to_string(i)))
      entry.push_back(word);
    m.add(15, entry);
  }
  m.add(19, {1});          // %1 = OpTypeVoid
  m.add(33, {2, 1});       // %2 = OpTypeFunction %1
  m.add(54, {1, 3, 0, 2}); // %3 = OpFunction %1 None %2
  m.add(248, {4});         // %4 = OpLabel
  std::vector<uint32_t> ids(kIds);
  for (uint32_t i = 0; i < kIds; ++i)
    ids[i] = 16 + i;
  m.add(4242, ids); // an instruction the reader does not know: every word an id
  m.add(253, {});
  m.add(56, {});
  spirv::Module out;
  const std::string why = spirv::read(m.w, &out);
  EXPECT_NE(why.find("too large to reflect"), std::string::npos) << why;
  EXPECT_TRUE(out.entry_points.empty());
}

// Random corruption of real modules: every result is a module or a message (the sanitizer
// builds turn any out-of-bounds read into a failure).
TEST(SdkSpirv, MutatedModulesAreReadOrRefusedWithAMessage) {
  std::vector<std::vector<uint32_t>> seeds = {kernel_module()};
  for (const char* name : {"saxpy.spv", "cts_kernels.spirv-kernel.spv", "local_reverse.spv"}) {
    if (auto w = load(name); !w.empty())
      seeds.push_back(std::move(w));
  }
  std::mt19937 rng(12345);
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint32_t> w = seeds[static_cast<size_t>(i) % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % w.size();
      switch (rng() % 3) {
      case 0:
        w[at] = rng();
        break;
      case 1:
        w[at] ^= 1u << (rng() % 32);
        break;
      default:
        w[at] = rng() % 64;
        break;
      }
    }
    spirv::Module m;
    const std::string why = spirv::read(w, &m);
    if (!why.empty())
      ++refused;
  }
  EXPECT_GT(refused, 0);
}

} // namespace
