// libFuzzer target on the OpenCL driver's program-cache reader (src/cache.cpp,
// src/reflection.cpp): a cache file is read from the user's cache directory, which anything
// may have written. Each input is parsed twice:
//  1. as a whole cache file (header, sizes, checksum);
//  2. as reflection text plus a binary, framed into an entry with a correct header and
//     checksum by cache_encode, so the JSON reader behind the checksum is reached too.
// The input's first byte says where the text ends (as a fraction of the rest).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using udal::opencl::CacheEntry;
  CacheEntry entry;
  std::string why;
  udal::opencl::cache_parse(data, size, &entry, &why, "input");

  if (size < 2)
    return 0;
  const size_t rest = size - 1;
  const size_t split = rest * data[0] / 255;
  const std::string json(reinterpret_cast<const char*>(data + 1), split);
  const std::vector<unsigned char> binary(data + 1 + split, data + size);
  std::vector<unsigned char> framed;
  if (!udal::opencl::cache_encode(json, binary, &framed, &why))
    return 0;
  CacheEntry back;
  if (udal::opencl::cache_parse(framed.data(), framed.size(), &back, &why, "framed")) {
    // What parses must survive the round trip unchanged.
    if (back.binary != binary)
      __builtin_trap();
    std::vector<unsigned char> again;
    if (!udal::opencl::cache_encode(udal::opencl::reflection_to_json(back.reflection), binary,
                                    &again, &why)) {
      __builtin_trap();
    }
    CacheEntry twice;
    if (!udal::opencl::cache_parse(again.data(), again.size(), &twice, &why, "again") ||
        udal::opencl::reflection_to_json(twice.reflection) !=
            udal::opencl::reflection_to_json(back.reflection)) {
      __builtin_trap();
    }
  }
  return 0;
}
