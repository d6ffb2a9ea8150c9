// Writes the seed corpus of fuzz_remote_decode: one file per kind of message a client
// sends, each a valid frame (run by hand: `fuzz_remote_seeds drivers/remote/fuzz/corpus`).
#include <cstdio>
#include <string>
#include <vector>

#include "convert.h"
#include "frame.h"

namespace {

using namespace udal::remote;

void write(const std::string& dir, const char* name, const flatbuffers::FlatBufferBuilder& b,
           const std::vector<uint8_t>& bulk = {}) {
  OutFrame frame = make_frame(b, bulk.size());
  std::FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (f == nullptr) return;
  std::fwrite(frame.head.data(), 1, frame.head.size(), f);
  if (!bulk.empty()) std::fwrite(bulk.data(), 1, bulk.size(), f);
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateHello(b, 1, 0, b.CreateString("seed")));
    write(dir, "hello", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateBufferCreate(b, 1, 0, 2, 4096, 0, 0, 0));
    write(dir, "buffer_create", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateWriteBuffer(b, 3, 1, 2, 0, 16));
    write(dir, "write_buffer", b, std::vector<uint8_t>(16, 0xab));
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateReadBuffer(b, 3, 2, 2, 0, 16));
    write(dir, "read_buffer", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    const auto pattern = b.CreateVector(std::vector<uint8_t>{1, 2, 3, 4});
    finish_message(b, wire::CreateFillBuffer(b, 3, 3, 2, 0, 64, pattern));
    write(dir, "fill_buffer", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    const uint32_t n = 16;
    std::vector<flatbuffers::Offset<wire::LaunchArg>> args;
    args.push_back(wire::CreateLaunchArg(b, 1, 2, 0, 3));
    args.push_back(wire::CreateLaunchArg(
        b, 2, 0, 0, 0, b.CreateVector(reinterpret_cast<const uint8_t*>(&n), sizeof(n))));
    const auto arg_vector = b.CreateVector(args);
    const auto three = b.CreateVector(std::vector<uint32_t>{1, 1, 1});
    finish_message(b, wire::CreateLaunch(b, 3, 4, 5, three, three, 0, arg_vector));
    write(dir, "launch", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    std::vector<flatbuffers::Offset<wire::SpecializationConstant>> constants;
    constants.push_back(
        wire::CreateSpecializationConstant(b, 1, b.CreateVector(std::vector<uint8_t>{0, 0, 0, 1})));
    const auto constant_vector = b.CreateVector(constants);
    finish_message(b, wire::CreateModuleCreate(b, 6, 0, 7, 1, b.CreateString("-O2"),
                                               constant_vector));
    write(dir, "module_create", b, std::vector<uint8_t>(64, 0x7f));
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateKernelCreate(b, 8, 7, 9, b.CreateString("vector_add")));
    write(dir, "kernel_create", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateRecordEvent(b, 3, 5, 10, 1));
    write(dir, "record_event", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateHostFunction(b, 3, 6));
    write(dir, "host_function", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    finish_message(b, wire::CreateStreamMark(b, 3, 7));
    write(dir, "stream_mark", b);
  }
  return 0;
}
