// The SDK's HOST_NATIVE loader (udal/sdk/host_module.h): images from bytes and paths,
// every truncation edge of an image, modules that are not UDAL host modules, kernel lookup
// and declarations, and calling the work-groups of a launch.
#include "udal/sdk/host_module.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "udal/sdk/structs.h"

namespace {

using udal::sdk::HostKernel;
using udal::sdk::HostLibrary;

std::vector<char> read_bytes(const char* path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(file), {});
}

udal_module_image_t bytes_image(const std::vector<char>& bytes, std::size_t size) {
  auto image = udal::sdk::make_struct<udal_module_image_t>();
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.data = bytes.data();
  image.size = size;
  return image;
}

udal_module_image_t path_image(const char* path) {
  auto image = udal::sdk::make_struct<udal_module_image_t>();
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = path;
  return image;
}

std::string message() { return udal::sdk::last_error_message(); }

std::shared_ptr<HostLibrary> load_kernels() {
  std::shared_ptr<HostLibrary> library;
  EXPECT_EQ(udal::sdk::load_host_image(path_image(UDAL_SDK_TEST_KERNELS), 0, library),
            UDAL_SUCCESS)
      << message();
  return library;
}

TEST(HostModule, AnImageInMemoryLoadsAndItsKernelsAreFound) {
  const std::vector<char> bytes = read_bytes(UDAL_SDK_TEST_KERNELS);
  ASSERT_GT(bytes.size(), sizeof(Elf64_Ehdr));
  std::shared_ptr<HostLibrary> library;
  ASSERT_EQ(udal::sdk::load_host_image(bytes_image(bytes, bytes.size()), 3, library), UDAL_SUCCESS)
      << message();
  HostKernel kernel;
  ASSERT_EQ(udal::sdk::find_host_kernel(library, "scale", 64, nullptr, kernel), UDAL_SUCCESS)
      << message();
  EXPECT_EQ(kernel.name, "scale");
  EXPECT_EQ(kernel.argument_count, 2u);
  ASSERT_TRUE(kernel.declared);
  ASSERT_EQ(kernel.declared_args.size(), 2u);
  EXPECT_EQ(kernel.declared_args[0].kind, uint32_t{UDAL_ARG_KIND_BUFFER});
  EXPECT_EQ(kernel.declared_args[0].access, uint32_t{UDAL_ARG_ACCESS_READ_WRITE});
  EXPECT_EQ(kernel.declared_args[1].kind, uint32_t{UDAL_ARG_KIND_VALUE});
  EXPECT_EQ(kernel.declared_args[1].value_size, sizeof(uint32_t));
  // The kernel keeps the library loaded after the caller lets go of it.
  library.reset();
  EXPECT_NE(kernel.library, nullptr);
}

// An image cut one byte short of the end of each structure dlopen would map or read is
// refused before dlopen, naming the structure; the whole image loads.
TEST(HostModule, AnImageTruncatedAtEachStructuresEdgeIsRefusedNamingIt) {
  const std::vector<char> bytes = read_bytes(UDAL_SDK_TEST_KERNELS);
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  struct Edge {
    uint64_t end;
    std::string names;
  };
  std::vector<Edge> edges = {
      {sizeof(Elf64_Ehdr), "ELF header"},
      {header.e_phoff + uint64_t{header.e_phnum} * sizeof(Elf64_Phdr), "program headers"},
      {header.e_shoff + uint64_t{header.e_shnum} * sizeof(Elf64_Shdr), "section headers"},
  };
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof(segment), sizeof(segment));
    if (segment.p_type == PT_LOAD && segment.p_filesz > 0) {
      edges.push_back({segment.p_offset + segment.p_filesz, "segment " + std::to_string(i)});
    }
  }
  for (uint16_t i = 1; i < header.e_shnum; ++i) {
    Elf64_Shdr section;
    std::memcpy(&section, bytes.data() + header.e_shoff + i * sizeof(section), sizeof(section));
    if (section.sh_type != SHT_NOBITS && section.sh_size > 0) {
      edges.push_back({section.sh_offset + section.sh_size, "section"});
    }
  }
  // The section-header table usually ends the file: an image missing only its last byte.
  EXPECT_EQ(edges[2].end, bytes.size());
  for (const Edge& edge : edges) {
    ASSERT_LE(edge.end, bytes.size());
    SCOPED_TRACE("cut at " + std::to_string(edge.end - 1) + " bytes, " + edge.names);
    std::shared_ptr<HostLibrary> library;
    const udal_result_t result =
        udal::sdk::load_host_image(bytes_image(bytes, edge.end - 1), 0, library);
    EXPECT_EQ(result, UDAL_ERROR_INVALID_MODULE);
    EXPECT_EQ(library, nullptr);
    const std::string text = message();
    EXPECT_NE(text.find("is not a loadable shared object"), std::string::npos) << text;
    if (edge.names != "ELF header") {
      EXPECT_NE(text.find("truncated?"), std::string::npos) << text;
    }
  }
  std::shared_ptr<HostLibrary> library;
  EXPECT_EQ(udal::sdk::load_host_image(bytes_image(bytes, edges[0].end - 1), 0, library),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find("ELF header"), std::string::npos) << message();
  EXPECT_EQ(udal::sdk::load_host_image(bytes_image(bytes, bytes.size() - 1), 0, library),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find("section headers"), std::string::npos) << message();
  EXPECT_EQ(udal::sdk::load_host_image(bytes_image(bytes, bytes.size()), 0, library),
            UDAL_SUCCESS)
      << message();
}

TEST(HostModule, ImagesWithoutBytesOrOfTheWrongKindAreRefused) {
  std::shared_ptr<HostLibrary> library;
  const std::vector<char> bytes = read_bytes(UDAL_SDK_TEST_KERNELS);
  EXPECT_EQ(udal::sdk::load_host_image(bytes_image(bytes, 0), 2, library),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("images[2] has data but size 0"), std::string::npos) << message();
  auto empty = udal::sdk::make_struct<udal_module_image_t>();
  EXPECT_EQ(udal::sdk::load_host_image(empty, 0, library), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("neither data nor path"), std::string::npos) << message();
  const std::vector<char> text = {'n', 'o', 't', ' ', 'E', 'L', 'F', '\n', 0, 0, 0, 0, 0, 0, 0,
                                  0,   0,   0,   0,   0,   0,   0,   0,    0};
  EXPECT_EQ(udal::sdk::load_host_image(bytes_image(text, text.size()), 0, library),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find("ELF magic"), std::string::npos) << message();
  // A directory and a missing file, by path: refused before anything opens them.
  EXPECT_EQ(udal::sdk::load_host_image(path_image("/"), 0, library), UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find("a directory"), std::string::npos) << message();
  EXPECT_EQ(udal::sdk::load_host_image(path_image("/nonexistent/udal.so"), 0, library),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_EQ(library, nullptr);
}

TEST(HostModule, ASharedObjectWithoutTheModuleSymbolIsNotAHostModule) {
  std::shared_ptr<HostLibrary> library;
  EXPECT_EQ(udal::sdk::load_host_image(path_image(UDAL_SDK_TEST_NOT_A_MODULE), 0, library),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find(UDAL_HOST_MODULE_SYMBOL), std::string::npos) << message();
  EXPECT_EQ(library, nullptr);
}

TEST(HostModule, AModuleDescTakesTheFirstHostNativeImageOrSaysWhatItOffers) {
  const std::vector<char> bytes = read_bytes(UDAL_SDK_TEST_KERNELS);
  udal_module_image_t images[2] = {udal::sdk::make_struct<udal_module_image_t>(),
                                   bytes_image(bytes, bytes.size())};
  images[0].format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  images[0].data = bytes.data();
  images[0].size = 4;
  auto desc = udal::sdk::make_struct<udal_module_desc_t>();
  desc.images = images;
  desc.image_count = 2;
  std::shared_ptr<HostLibrary> library;
  uint32_t index = 99;
  ASSERT_EQ(udal::sdk::load_host_module(desc, "dev", library, index), UDAL_SUCCESS) << message();
  EXPECT_EQ(index, 1u);
  EXPECT_NE(library, nullptr);

  desc.image_count = 1;
  library.reset();
  EXPECT_EQ(udal::sdk::load_host_module(desc, "dev", library, index), UDAL_ERROR_UNSUPPORTED);
  EXPECT_NE(message().find("device 'dev' takes HOST_NATIVE images only; the module offers "
                           "SPIRV_COMPUTE (2)"),
            std::string::npos)
      << message();
  desc.image_count = 0;
  EXPECT_EQ(udal::sdk::load_host_module(desc, "dev", library, index),
            UDAL_ERROR_INVALID_ARGUMENT);
  desc.image_count = 2;
  desc.specialization_constant_count = 1;
  EXPECT_EQ(udal::sdk::load_host_module(desc, "dev", library, index),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("specialization constants"), std::string::npos) << message();
  EXPECT_EQ(library, nullptr);
}

TEST(HostModule, KernelsAreLookedUpAndBadDeclarationsRefused) {
  auto library = load_kernels();
  ASSERT_NE(library, nullptr);
  HostKernel kernel;
  EXPECT_EQ(udal::sdk::find_host_kernel(library, "missing", 64, nullptr, kernel),
            UDAL_ERROR_KERNEL_NOT_FOUND);
  EXPECT_NE(message().find("no kernel 'missing'"), std::string::npos) << message();
  EXPECT_EQ(udal::sdk::find_host_kernel(library, "", 64, nullptr, kernel),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(udal::sdk::find_host_kernel(library, nullptr, 64, nullptr, kernel),
            UDAL_ERROR_INVALID_ARGUMENT);
  // Declared with two arguments: a device that takes one refuses it.
  EXPECT_EQ(udal::sdk::find_host_kernel(library, "scale", 1, nullptr, kernel),
            UDAL_ERROR_INVALID_MODULE);
  EXPECT_NE(message().find("more than the 1 a launch may pass"), std::string::npos) << message();

  ASSERT_EQ(udal::sdk::find_host_kernel(library, "group_ids", 64, nullptr, kernel), UDAL_SUCCESS);
  EXPECT_FALSE(kernel.declared);
  EXPECT_EQ(kernel.argument_count, 1u);
  auto info = udal::sdk::make_struct<udal_kernel_info_t>();
  udal::sdk::host_kernel_info(kernel, 256, info);
  EXPECT_EQ(info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO, 0u);
  EXPECT_EQ(info.max_group_invocations, 256u);
  auto arg = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  EXPECT_EQ(udal::sdk::host_kernel_argument_info(kernel, 0, arg), UDAL_ERROR_UNSUPPORTED);

  ASSERT_EQ(udal::sdk::find_host_kernel(library, "uses_local", 64, nullptr, kernel), UDAL_SUCCESS);
  info = udal::sdk::make_struct<udal_kernel_info_t>();
  udal::sdk::host_kernel_info(kernel, 256, info);
  EXPECT_NE(info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY, 0u);
  EXPECT_TRUE(kernel.signature().uses_local_memory);
  ASSERT_EQ(udal::sdk::host_kernel_argument_info(kernel, 0, arg), UDAL_SUCCESS);
  EXPECT_EQ(arg.kind, UDAL_ARG_KIND_BUFFER);
  EXPECT_EQ(arg.access, UDAL_ARG_ACCESS_WRITE);
  EXPECT_EQ(udal::sdk::host_kernel_argument_info(kernel, 1, arg), UDAL_ERROR_NOT_FOUND);
  // The entry-level forms check the out-struct first.
  EXPECT_EQ(udal::sdk::get_host_kernel_info(kernel, 256, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(udal::sdk::get_host_kernel_argument_info(kernel, 0, nullptr),
            UDAL_ERROR_INVALID_ARGUMENT);
  info = udal::sdk::make_struct<udal_kernel_info_t>();
  ASSERT_EQ(udal::sdk::get_host_kernel_info(kernel, 32, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.max_group_invocations, 32u);
  EXPECT_EQ(info.argument_count, 1u);
  arg = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  EXPECT_EQ(udal::sdk::get_host_kernel_argument_info(kernel, 1, &arg), UDAL_ERROR_NOT_FOUND);

  std::shared_ptr<HostLibrary> bad;
  ASSERT_EQ(udal::sdk::load_host_image(path_image(UDAL_SDK_TEST_BAD_DECLARATIONS), 0, bad),
            UDAL_SUCCESS)
      << message();
  for (const char* name : {"bad_kind", "bad_access", "bad_value", "bad_count", "bad_version"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(udal::sdk::find_host_kernel(bad, name, 64, nullptr, kernel),
              UDAL_ERROR_INVALID_MODULE);
    EXPECT_NE(message().find("declares kernel '" + std::string(name) + "' badly"),
              std::string::npos)
        << message();
  }
}

TEST(HostModule, ALaunchCallsEveryGroupOnceWithItsIdsAndCopiedValues) {
  auto library = load_kernels();
  ASSERT_NE(library, nullptr);
  HostKernel ids;
  ASSERT_EQ(udal::sdk::find_host_kernel(library, "group_ids", 64, nullptr, ids), UDAL_SUCCESS);
  std::vector<uint32_t> groups(3 * 2 * 4, 0);
  udal_kernel_arg_t arg{};
  arg.kind = UDAL_ARG_KIND_BUFFER;
  auto desc = udal::sdk::make_struct<udal_launch_desc_t>();
  desc.group_count[0] = 3;
  desc.group_count[1] = 2;
  desc.group_count[2] = 4;
  desc.group_size[0] = desc.group_size[1] = desc.group_size[2] = 1;
  desc.args = &arg;
  desc.arg_count = 1;
  udal::sdk::HostLaunch launch(ids, desc);
  launch.set_buffer(0, groups.data(), groups.size() * sizeof(uint32_t));
  ASSERT_EQ(launch.group_total(), 24u);
  // In two pieces, as a driver splits it over threads.
  launch.run_groups(0, 10, nullptr);
  launch.run_groups(10, 24, nullptr);
  for (uint32_t z = 0; z < 4; ++z) {
    for (uint32_t y = 0; y < 2; ++y) {
      for (uint32_t x = 0; x < 3; ++x) {
        EXPECT_EQ(groups[x + 3 * (y + 2 * z)], 1 + x + 10 * y + 100 * z);
      }
    }
  }

  HostKernel scale;
  ASSERT_EQ(udal::sdk::find_host_kernel(library, "scale", 64, nullptr, scale), UDAL_SUCCESS);
  std::vector<uint32_t> data = {1, 2, 3, 4, 5, 6, 7, 8};
  uint32_t factor = 3;
  udal_kernel_arg_t args[2] = {};
  args[0].kind = UDAL_ARG_KIND_BUFFER;
  args[1].kind = UDAL_ARG_KIND_VALUE;
  args[1].value = &factor;
  args[1].value_size = sizeof(factor);
  desc.group_count[0] = 2;
  desc.group_count[1] = desc.group_count[2] = 1;
  desc.group_size[0] = 4;
  desc.args = args;
  desc.arg_count = 2;
  udal::sdk::HostLaunch scaled(scale, desc);
  factor = 1000;  // the launch copied the value when it was made
  scaled.set_buffer(0, data.data(), data.size() * sizeof(uint32_t));
  scaled.run_groups(0, scaled.group_total(), nullptr);
  EXPECT_EQ(data, (std::vector<uint32_t>{3, 6, 9, 12, 15, 18, 21, 24}));
}

}  // namespace
