// Unit tests of the program-cache reader (src/cache.cpp, src/reflection.cpp) on bytes made
// here: a cache file is read from the user's cache directory, so each field of it may be
// anything.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "cache.h"

namespace udal::opencl {
namespace {

const std::vector<unsigned char> kBinary = {0x7f, 'E', 'L', 'F', 1, 2, 3, 4};

std::vector<unsigned char> encode(const std::string& json,
                                  const std::vector<unsigned char>& binary = kBinary) {
  std::vector<unsigned char> bytes;
  std::string why;
  EXPECT_TRUE(cache_encode(json, binary, &bytes, &why)) << why;
  return bytes;
}

bool parse(const std::vector<unsigned char>& bytes, std::string* why, CacheEntry* out = nullptr) {
  CacheEntry entry;
  return cache_parse(bytes.data(), bytes.size(), out != nullptr ? out : &entry, why, "f.bin");
}

TEST(ProgramCache, AnEntryReadsBackAsWritten) {
  ProgramReflection reflection;
  KernelReflection& k = reflection.kernels["saxpy"];
  k.kinds_known = true;
  k.args = {{UDAL_ARG_KIND_BUFFER, 0, UDAL_ARG_ACCESS_READ},
            {UDAL_ARG_KIND_VALUE, 4, UDAL_ARG_ACCESS_NONE}};
  reflection.kernels["image"].unsupported = "parameter 0 is an image2d_t";
  CacheEntry back;
  std::string why;
  ASSERT_TRUE(parse(encode(reflection_to_json(reflection)), &why, &back)) << why;
  EXPECT_EQ(back.binary, kBinary);
  EXPECT_EQ(reflection_to_json(back.reflection), reflection_to_json(reflection));
  ASSERT_EQ(back.reflection.kernels.at("saxpy").args.size(), 2u);
  EXPECT_EQ(back.reflection.kernels.at("saxpy").args[1].value_size, 4u);
  EXPECT_EQ(back.reflection.kernels.at("image").unsupported, "parameter 0 is an image2d_t");
}

TEST(ProgramCache, MembersOfTheWrongTypeAreNotAnEntry) {
  // Each of these threw from inside the JSON library before its members' types were checked.
  for (const char* json : {
           R"({"version":"1","kernels":{}})",
           R"({"version":-1,"kernels":{}})",
           R"({"version":1.0,"kernels":{}})",
           R"({"version":1,"kernels":[]})",
           R"({"version":1,"kernels":{"k":{"args":{}}}})",
           R"({"version":1,"kernels":{"k":{"args":[[1,0]]}}})",
           R"({"version":1,"kernels":{"k":{"args":[["1",0,0]]}}})",
           R"({"version":1,"kernels":{"k":{"args":[[1,-4,0]]}}})",
       }) {
    std::string why;
    EXPECT_FALSE(parse(encode(json), &why)) << json;
    EXPECT_EQ(why, "f.bin holds no valid kernel reflection") << json;
  }
}

TEST(ProgramCache, NumbersBeyondThirtyTwoBitsAreRefusedNotTruncated) {
  // 4294967297 = 2^32 + 1 would read as kind 1 (BUFFER) through a 32-bit get.
  for (const char* json : {
           R"({"version":4294967297,"kernels":{}})",
           R"({"version":1,"kernels":{"k":{"args":[[4294967297,0,0]]}}})",
           R"({"version":1,"kernels":{"k":{"args":[[2,4294967300,0]]}}})",
           R"({"version":1,"kernels":{"k":{"args":[[1,0,4294967298]]}}})",
       }) {
    std::string why;
    EXPECT_FALSE(parse(encode(json), &why)) << json;
  }
}

TEST(ProgramCache, DamagedHeadersAndSizesAreNotAnEntry) {
  const std::vector<unsigned char> good = encode(R"({"version":1,"kernels":{}})");
  std::string why;
  ASSERT_TRUE(parse(good, &why)) << why;

  // Truncated anywhere, the sizes no longer add up (or the header is incomplete).
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const std::vector<unsigned char> shorter(good.begin(), good.begin() + cut);
    EXPECT_FALSE(parse(shorter, &why)) << "cut at " << cut;
  }
  std::vector<unsigned char> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(parse(longer, &why));
  EXPECT_EQ(why, "f.bin is not a program cache entry");

  std::vector<unsigned char> magic = good;
  magic[7] = '1'; // an entry of the first format
  EXPECT_FALSE(parse(magic, &why));
  EXPECT_EQ(why, "f.bin is not a program cache entry");

  // A reflection size of 2^32 - 1 with the binary size made to match modulo 2^64.
  std::vector<unsigned char> sizes = good;
  std::memset(sizes.data() + 8, 0xff, 4);
  const uint64_t wrap = ~uint64_t{0} - 0xffffffffu - 56 + good.size() + 1;
  for (int i = 0; i < 8; ++i)
    sizes[16 + i] = static_cast<unsigned char>(wrap >> (8 * i));
  EXPECT_FALSE(parse(sizes, &why));
  EXPECT_EQ(why, "f.bin is not a program cache entry");

  std::vector<unsigned char> flipped = good;
  flipped.back() ^= 1; // the binary's last byte
  EXPECT_FALSE(parse(flipped, &why));
  EXPECT_EQ(why, "f.bin: the binary does not match its checksum");
}

TEST(ProgramCache, AnEmptyBinaryIsNotAnEntry) {
  std::vector<unsigned char> bytes;
  std::string why;
  ASSERT_TRUE(cache_encode(R"({"version":1,"kernels":{}})", {}, &bytes, &why)) << why;
  EXPECT_FALSE(parse(bytes, &why));
  EXPECT_EQ(why, "f.bin is not a program cache entry");
}

} // namespace
} // namespace udal::opencl
