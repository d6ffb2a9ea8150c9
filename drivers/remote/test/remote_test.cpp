// The remote driver against real udal-server processes on loopback addresses, through
// libudal as an application uses it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <numeric>
#include <thread>

#include <fmt/format.h>

#include "convert.h"
#include "support.h"

namespace udal::remote::test {
namespace {

using namespace std::chrono_literals;

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

Buffer make_buffer(udal_device_t device, uint64_t size) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = size;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(udal_buffer_create(device, &desc, &buffer), UDAL_SUCCESS) << udal_last_error_message();
  return Buffer(buffer);
}

Stream make_stream(udal_device_t device) {
  udal_stream_t stream = nullptr;
  EXPECT_EQ(udal_stream_create(device, nullptr, &stream), UDAL_SUCCESS)
      << udal_last_error_message();
  return Stream(stream);
}

Kernel make_kernel(udal_module_t module, const char* name) {
  udal_kernel_t kernel = nullptr;
  EXPECT_EQ(udal_kernel_create(module, name, &kernel), UDAL_SUCCESS) << udal_last_error_message();
  return Kernel(kernel);
}

uint64_t allocated_bytes(udal_device_t device) {
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  EXPECT_EQ(udal_device_get_memory_usage(device, &usage), UDAL_SUCCESS)
      << udal_last_error_message();
  return usage.device_allocated_bytes;
}

// Runs vector_add on |device| for |n| floats starting at |first| of a and b; checks c.
void vector_add_part(udal_device_t device, const std::vector<float>& a,
                     const std::vector<float>& b, std::vector<float>& c, uint32_t first,
                     uint32_t n) {
  Module module = load_test_kernels(device);
  ASSERT_TRUE(module);
  Kernel kernel = make_kernel(module.get(), "vector_add");
  Stream stream = make_stream(device);
  Buffer da = make_buffer(device, n * sizeof(float));
  Buffer db = make_buffer(device, n * sizeof(float));
  Buffer dc = make_buffer(device, n * sizeof(float));
  ASSERT_TRUE(kernel && stream && da && db && dc);
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), da.get(), 0, &a[first], n * sizeof(float)));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), db.get(), 0, &b[first], n * sizeof(float)));
  const udal_kernel_arg_t args[] = {
      udal_arg_buffer_access(da.get(), 0, UDAL_ARG_ACCESS_READ),
      udal_arg_buffer_access(db.get(), 0, UDAL_ARG_ACCESS_READ),
      udal_arg_buffer_access(dc.get(), 0, UDAL_ARG_ACCESS_WRITE), udal_arg_value(&n, sizeof(n))};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.group_size[0] = 64;
  launch.group_count[0] = (n + 63) / 64;
  launch.args = args;
  launch.arg_count = 4;
  UDAL_ASSERT_OK(udal_stream_launch(stream.get(), kernel.get(), &launch));
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), dc.get(), 0, &c[first], n * sizeof(float)));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

// Waits (bounded) until |predicate| holds; whether it did.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = 20s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (predicate()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

// ------------------------------------------------------------------------------------------
// Connecting and refusing
// ------------------------------------------------------------------------------------------

TEST(RemoteTls, MutualTlsListsTheServersDeviceAndRunsVectorAdd) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(tls_client(server.address()));
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  ASSERT_EQ(status.state, UDAL_DRIVER_STATE_LOADED) << status.reason;
  ASSERT_GE(device_count(instance.get()), 1u);
  udal_device_t dev = device(instance.get(), 0);
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  UDAL_ASSERT_OK(udal_device_get_info(dev, &info));
  EXPECT_STREQ(info.driver_name, "remote");
  EXPECT_NE(std::string(info.name).find(server.address()), std::string::npos) << info.name;
  EXPECT_EQ(info.features & UDAL_DEVICE_FEATURE_HOST_BUFFERS, 0u);
  constexpr uint32_t n = 10000;
  std::vector<float> a(n), b(n), c(n, -1.0f);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f * static_cast<float>(i);
  }
  vector_add_part(dev, a, b, c, 0, n);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i] + b[i]) << "at " << i;
  EXPECT_TRUE(eventually([&] { return server.log().find("client-a") != std::string::npos; }))
      << "the server names the client by its certificate:\n" << server.log();
}

TEST(RemoteTls, ClientWithoutCertificateIsRefusedOnBothEnds) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  ClientSettings settings = tls_client(server.address());
  settings.cert.clear();
  settings.key.clear();
  Instance instance = open_remote(settings);
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find("UDAL_REMOTE_CERT"), std::string::npos)
      << status.reason;
  EXPECT_TRUE(eventually([&] {
    return server.log().find("sent no certificate") != std::string::npos;
  })) << server.log();
}

TEST(RemoteTls, CertificateOfAnotherCaIsRefusedOnBothEnds) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  ClientSettings settings = tls_client(server.address());
  settings.cert = pki().rogue_cert;
  settings.key = pki().rogue_key;
  Instance instance = open_remote(settings);
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find("does not accept this client certificate"),
            std::string::npos)
      << status.reason;
  EXPECT_TRUE(eventually([&] {
    return server.log().find("not signed by a CA of --client-ca") != std::string::npos;
  })) << server.log();
}

TEST(RemoteTls, ServerOfAnotherCaIsRefusedByTheClient) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  ClientSettings settings = tls_client(server.address());
  settings.ca = pki().other_ca_cert;
  Instance instance = open_remote(settings);
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find("certificate verify failed"), std::string::npos)
      << status.reason;
}

TEST(RemoteTls, PlainTcpClientToTlsServerIsRefusedOnBothEnds) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  const std::string reason = status.reason;
  EXPECT_TRUE(reason.find("speaks TLS") != std::string::npos ||
              reason.find("UDAL_REMOTE_CERT") != std::string::npos)
      << reason;
  EXPECT_TRUE(eventually([&] {
    return server.log().find("plain TCP to this TLS server") != std::string::npos;
  })) << server.log();
}

TEST(RemoteTls, TlsClientToPlainServerIsRefused) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(tls_client(server.address()));
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find("TLS"), std::string::npos) << status.reason;
  EXPECT_TRUE(eventually([&] {
    return server.log().find("speaks TLS but this end uses plain TCP") != std::string::npos;
  })) << server.log();
}

TEST(RemoteTls, InsecureServerOnANonLoopbackAddressIsRefused) {
  // TEST-NET-1: never reached, the server refuses before it binds.
  const auto [status, output] = run_server_to_exit({"--listen", "192.0.2.1:7860", "--insecure"});
  EXPECT_EQ(status, 2) << output;
  EXPECT_NE(output.find("allowed only on a loopback address"), std::string::npos) << output;
  EXPECT_NE(output.find("192.0.2.1"), std::string::npos) << output;
}

TEST(RemoteTls, InsecureClientToANonLoopbackServerIsRefused) {
  ClientSettings settings = insecure_client("192.0.2.1:7860");
  Instance instance = open_remote(settings);
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find("allowed only for a server on a loopback address"),
            std::string::npos)
      << status.reason;
}

TEST(RemoteServer, CommandLineMistakesAreRefused) {
  {
    const auto [status, output] = run_server_to_exit({"--listen", "127.0.0.1:0"});
    EXPECT_EQ(status, 2) << output;
    EXPECT_NE(output.find("--client-ca"), std::string::npos) << output;
  }
  {
    const auto [status, output] =
        run_server_to_exit({"--listen", "127.0.0.1:0", "--insecure", "--cert", "x.pem"});
    EXPECT_NE(status, 0) << output;
  }
  {
    TempDir dir;
    std::ofstream(dir.file("bad.json")) << R"({"listen": "127.0.0.1:0", "limitz": {}})";
    const auto [status, output] =
        run_server_to_exit({"--insecure", "--config", dir.file("bad.json")});
    EXPECT_EQ(status, 2) << output;
    EXPECT_NE(output.find("unknown setting 'limitz'"), std::string::npos) << output;
  }
}

TEST(RemoteDriver, UnreachableServersAreListedWithTheReason) {
  ServerProcess server({});
  ASSERT_TRUE(server.started());
  // A port nothing listens on: a server that just exited frees its port.
  uint16_t closed_port = 0;
  {
    ServerProcess gone(insecure_server());
    ASSERT_TRUE(gone.started());
    closed_port = gone.port();
  }
  const std::string unreachable = fmt::format("127.0.0.1:{}", closed_port);
  {
    Instance instance = open_remote(tls_client(unreachable));
    ASSERT_TRUE(instance);
    const udal_driver_status_t status = remote_status(instance.get());
    EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
    EXPECT_NE(std::string(status.reason).find(unreachable), std::string::npos) << status.reason;
    EXPECT_NE(std::string(status.reason).find("refused"), std::string::npos) << status.reason;
  }
  {
    // One of two reachable: its devices load, the other is only logged.
    Instance instance = open_remote(tls_client(unreachable + "," + server.address()));
    ASSERT_TRUE(instance);
    EXPECT_EQ(remote_status(instance.get()).state, UDAL_DRIVER_STATE_LOADED);
    EXPECT_GE(device_count(instance.get()), 1u);
  }
  {
    Instance instance = open_remote(ClientSettings{});
    ASSERT_TRUE(instance);
    const udal_driver_status_t status = remote_status(instance.get());
    EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
    EXPECT_NE(std::string(status.reason).find("UDAL_REMOTE_SERVERS"), std::string::npos)
        << status.reason;
  }
}

// ------------------------------------------------------------------------------------------
// Versions and sessions, with a hand-made client
// ------------------------------------------------------------------------------------------

TEST(RemoteProtocol, AnotherMajorVersionIsRefusedWithAMessage) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  RawClient raw("127.0.0.1", server.port());
  ASSERT_TRUE(raw.connected());
  EXPECT_FALSE(raw.hello(kProtocolMajor + 1, 0));
  // The refusal is a Goodbye that says why, then the server closes.
  RawClient again("127.0.0.1", server.port());
  flatbuffers::FlatBufferBuilder builder;
  finish_message(builder, wire::CreateHello(builder, kProtocolMajor + 1, 0,
                                            builder.CreateString("future client")));
  again.send(builder);
  auto frame = again.receive();
  ASSERT_TRUE(frame);
  ASSERT_EQ(frame->get()->body_type(), wire::Body::Goodbye);
  const std::string message = frame->get()->body_as_Goodbye()->message()->str();
  EXPECT_NE(message.find(fmt::format("client {}.0", kProtocolMajor + 1)), std::string::npos)
      << message;
  EXPECT_FALSE(again.receive(2s)) << "the server closes after the refusal";
}

TEST(RemoteProtocol, AServerOfAnotherMajorVersionIsRefusedByTheClient) {
  // A fake server that answers every Hello with a Welcome of the next major version.
  Listener listener;
  ASSERT_NE(listener.port, 0);
  std::thread fake([&] {
    const int fd = listener.accept_one(10s);
    if (fd < 0) return;
    RawClient peer(fd);
    if (!peer.receive()) return;  // the Hello
    flatbuffers::FlatBufferBuilder builder;
    const auto name = builder.CreateString("udal-server from the future");
    const auto who = builder.CreateString("insecure");
    const auto none = builder.CreateVector(std::vector<flatbuffers::Offset<wire::DeviceInfo>>{});
    finish_message(builder, wire::CreateWelcome(builder, kProtocolMajor + 1, 0, name, who, none,
                                                1000));
    peer.send(builder);
    peer.receive(5s);  // until the client closes
  });
  Instance instance = open_remote(insecure_client(fmt::format("127.0.0.1:{}", listener.port)));
  fake.join();
  ASSERT_TRUE(instance);
  const udal_driver_status_t status = remote_status(instance.get());
  EXPECT_EQ(status.state, UDAL_DRIVER_STATE_FAILED);
  EXPECT_NE(std::string(status.reason).find(fmt::format("the server speaks remote protocol {}.0",
                                                        kProtocolMajor + 1)),
            std::string::npos)
      << status.reason;
}

TEST(RemoteProtocol, ANewerMinorVersionIsWelcomed) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  RawClient raw("127.0.0.1", server.port());
  EXPECT_TRUE(raw.hello(kProtocolMajor, kProtocolMinor + 1));
}

TEST(RemoteProtocol, GarbageEndsOnlyThatSession) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  RawClient raw("127.0.0.1", server.port());
  ASSERT_TRUE(raw.hello());
  const std::vector<uint8_t> garbage(64, 0x41);
  raw.send_bytes(garbage.data(), garbage.size());
  for (int i = 0; i < 5; ++i) {
    if (!raw.receive(2s)) break;  // pings or a goodbye, then the close
  }
  EXPECT_TRUE(eventually([&] {
    return server.log().find("not a UDAL remote frame") != std::string::npos;
  })) << server.log();
  // The server still serves others.
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  EXPECT_EQ(remote_status(instance.get()).state, UDAL_DRIVER_STATE_LOADED);
}

TEST(RemoteSession, AnotherClientCannotUseReadOrFreeObjectsByGuessingIds) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Buffer buffer = make_buffer(dev, 4096);
  Stream stream = make_stream(dev);
  std::vector<uint8_t> pattern(4096);
  std::iota(pattern.begin(), pattern.end(), 0);
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, pattern.data(), 4096));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));

  // Client B guesses every small id (client A's ids are small numbers of its session).
  RawClient raw("127.0.0.1", server.port());
  ASSERT_TRUE(raw.hello());
  constexpr uint64_t kOwnStream = 100000;
  {
    flatbuffers::FlatBufferBuilder builder;
    finish_message(builder, wire::CreateStreamCreate(builder, 1, 0, kOwnStream, 0));
    raw.send(builder);
  }
  uint64_t seq = 0;
  constexpr uint64_t kGuesses = 64;
  for (uint64_t id = 1; id <= kGuesses; ++id) {
    flatbuffers::FlatBufferBuilder write;
    finish_message(write, wire::CreateWriteBuffer(write, kOwnStream, ++seq, id, 0, 16));
    raw.send(write, std::vector<uint8_t>(16, 0xee));
    flatbuffers::FlatBufferBuilder read;
    finish_message(read, wire::CreateReadBuffer(read, kOwnStream, ++seq, id, 0, 16));
    raw.send(read);
    flatbuffers::FlatBufferBuilder destroy;
    finish_message(destroy, wire::CreateBufferDestroy(destroy, id));
    raw.send(destroy);
    flatbuffers::FlatBufferBuilder stream_destroy;
    finish_message(stream_destroy, wire::CreateStreamDestroy(stream_destroy, id));
    raw.send(stream_destroy);
  }
  flatbuffers::FlatBufferBuilder mark;
  finish_message(mark, wire::CreateStreamMark(mark, kOwnStream, ++seq));
  raw.send(mark);
  int refused = 0, data = 0;
  bool done = false;
  while (!done) {
    auto frame = raw.receive();
    ASSERT_TRUE(frame) << "the server stopped answering client B";
    const wire::Message* message = frame->get();
    switch (message->body_type()) {
      case wire::Body::StreamError:
        EXPECT_EQ(message->body_as_StreamError()->result(), UDAL_ERROR_INVALID_HANDLE);
        ++refused;
        break;
      case wire::Body::ReadData: ++data; break;
      case wire::Body::StreamDone: done = true; break;
      default: break;
    }
  }
  EXPECT_EQ(refused, static_cast<int>(2 * kGuesses)) << "every write and read refused";
  EXPECT_EQ(data, 0) << "client B read nothing";

  // Client A's buffer and stream still work and hold what A wrote.
  std::vector<uint8_t> back(4096, 0);
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer.get(), 0, back.data(), 4096));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(back, pattern);
}

// ------------------------------------------------------------------------------------------
// Pipelining and server failures
// ------------------------------------------------------------------------------------------

TEST(RemotePipeline, ManyLaunchesRunInOrderAndCountRight) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Module module = load_test_kernels(dev);
  Kernel kernel = make_kernel(module.get(), "increment");
  Stream stream = make_stream(dev);
  Buffer counter = make_buffer(dev, 4);
  const uint32_t zero = 0;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), counter.get(), 0, 4, &zero, 4));
  const udal_kernel_arg_t arg = udal_arg_buffer(counter.get(), 0);
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.args = &arg;
  launch.arg_count = 1;
  constexpr uint32_t kLaunches = 5000;
  for (uint32_t i = 0; i < kLaunches; ++i) {
    UDAL_ASSERT_OK(udal_stream_launch(stream.get(), kernel.get(), &launch));
  }
  uint32_t count = 0;
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), counter.get(), 0, &count, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(count, kLaunches);
}

TEST(RemotePipeline, LocalChecksGiveTheCodesOfALocalDriver) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Module module = load_test_kernels(dev);
  Kernel kernel = make_kernel(module.get(), "vector_add");
  Stream stream = make_stream(dev);
  Buffer small = make_buffer(dev, 64);
  std::vector<uint8_t> bytes(128);
  EXPECT_EQ(udal_stream_write_buffer(stream.get(), small.get(), 32, bytes.data(), 64),
            UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_NE(std::string(udal_last_error_message()).find("64 bytes"), std::string::npos)
      << udal_last_error_message();
  EXPECT_EQ(udal_stream_copy_buffer(stream.get(), small.get(), 0, small.get(), 16, 32),
            UDAL_ERROR_INVALID_ARGUMENT);
  const uint32_t n = 16;
  // vector_add writes its third argument: passing it as READ is refused.
  const udal_kernel_arg_t args[] = {udal_arg_buffer_access(small.get(), 0, UDAL_ARG_ACCESS_READ),
                                    udal_arg_buffer_access(small.get(), 0, UDAL_ARG_ACCESS_READ),
                                    udal_arg_buffer_access(small.get(), 0, UDAL_ARG_ACCESS_READ),
                                    udal_arg_value(&n, sizeof(n))};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.args = args;
  launch.arg_count = 4;
  EXPECT_EQ(udal_stream_launch(stream.get(), kernel.get(), &launch), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(udal_last_error_message()).find("args[2]"), std::string::npos)
      << udal_last_error_message();
  launch.arg_count = 3;
  EXPECT_EQ(udal_stream_launch(stream.get(), kernel.get(), &launch), UDAL_ERROR_INVALID_ARGUMENT);
  udal_kernel_arg_info_t info = UDAL_KERNEL_ARG_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_argument_info(kernel.get(), 2, &info));
  EXPECT_EQ(info.access, UDAL_ARG_ACCESS_WRITE);
  EXPECT_EQ(udal_kernel_get_argument_info(kernel.get(), 4, &info), UDAL_ERROR_NOT_FOUND);
  void* mapped = nullptr;
  EXPECT_EQ(udal_buffer_map(small.get(), 0, 8, &mapped), UDAL_ERROR_INVALID_ARGUMENT);
  udal_buffer_desc_t host = UDAL_BUFFER_DESC_INIT;
  host.size = 64;
  host.kind = UDAL_BUFFER_KIND_HOST;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(udal_buffer_create(dev, &host, &buffer), UDAL_ERROR_UNSUPPORTED);
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

TEST(RemotePipeline, AServerFailureSurfacesAtTheNextSynchronizeWithTheLimitNamed) {
  ServerProcess server(insecure_server(R"({"limits": {"in_flight_bytes": 1048576}})"));
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream stream = make_stream(dev);
  Buffer buffer = make_buffer(dev, 4 << 20);
  std::vector<uint8_t> data(4 << 20, 7);
  // The stream is held, so the server must keep the write's bytes until it runs (a write
  // on an idle stream of a CPU device goes straight into the buffer, holding nothing).
  udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
  gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate_handle = nullptr;
  UDAL_ASSERT_OK(udal_event_create(dev, &gate_desc, &gate_handle));
  Event gate(gate_handle);
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  // Accepted at once (pipelined): the server refuses it, over its in-flight limit.
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, data.data(), data.size()));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  EXPECT_EQ(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE),
            UDAL_ERROR_OUT_OF_HOST_MEMORY);
  EXPECT_NE(std::string(udal_last_error_message()).find("in_flight_bytes"), std::string::npos)
      << udal_last_error_message();
  // Reported once; the stream goes on.
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, data.data(), 1024));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
}

// The server receives a write on an idle stream straight into the buffer: a write behind
// work that has not run must still wait for it, seen from another stream meanwhile.
TEST(RemotePipeline, AWriteBehindPendingWorkWaitsForIt) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream held = make_stream(dev);
  Stream other = make_stream(dev);
  constexpr std::size_t kBytes = std::size_t{3} << 20;
  Buffer buffer = make_buffer(dev, kBytes);
  const uint32_t before = 0x11111111;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(other.get(), buffer.get(), 0, kBytes, &before, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(other.get(), UDAL_TIMEOUT_INFINITE));
  udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
  gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate_handle = nullptr;
  UDAL_ASSERT_OK(udal_event_create(dev, &gate_desc, &gate_handle));
  Event gate(gate_handle);
  UDAL_ASSERT_OK(udal_stream_wait_event(held.get(), gate.get()));
  const std::vector<uint32_t> after(kBytes / 4, 0x22222222);
  UDAL_ASSERT_OK(udal_stream_write_buffer(held.get(), buffer.get(), 0, after.data(), kBytes));
  // Not run yet: the other stream still reads what was there.
  std::vector<uint32_t> seen(kBytes / 4, 0);
  UDAL_ASSERT_OK(udal_stream_read_buffer(other.get(), buffer.get(), 0, seen.data(), kBytes));
  UDAL_ASSERT_OK(udal_stream_synchronize(other.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), before), static_cast<long>(kBytes / 4));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(held.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_stream_read_buffer(other.get(), buffer.get(), 0, seen.data(), kBytes));
  UDAL_ASSERT_OK(udal_stream_synchronize(other.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(seen, after);
  // On the idle stream now: the bytes land as they arrive, and a read after sees them.
  const std::vector<uint32_t> last(kBytes / 4, 0x33333333);
  UDAL_ASSERT_OK(udal_stream_write_buffer(held.get(), buffer.get(), 0, last.data(), kBytes));
  UDAL_ASSERT_OK(udal_stream_read_buffer(held.get(), buffer.get(), 0, seen.data(), kBytes));
  UDAL_ASSERT_OK(udal_stream_synchronize(held.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(seen, last);
}

// The server sends a read on an idle stream straight from the buffer's memory: later work
// on the stream, and the buffer's destroy, must wait until the bytes are sent.
TEST(RemotePipeline, AReadIsNotChangedByLaterWorkOrTheBuffersDestroy) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream stream = make_stream(dev);
  constexpr std::size_t kBytes = std::size_t{24} << 20;  // three transfer pieces
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = kBytes;
  udal_buffer_t buffer = nullptr;
  UDAL_ASSERT_OK(udal_buffer_create(dev, &desc, &buffer));
  const uint32_t first = 0x5a5a5a5a, second = 0xa5a5a5a5;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer, 0, kBytes, &first, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  std::vector<uint32_t> seen(kBytes / 4, 0);
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), buffer, 0, seen.data(), kBytes));
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer, 0, kBytes, &second, 4));
  UDAL_ASSERT_OK(udal_buffer_destroy(buffer));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), first), static_cast<long>(kBytes / 4));
}

TEST(RemoteLimits, DeviceMemoryAndObjectLimitsAreNamed) {
  ServerProcess server(insecure_server(R"({"limits": {"device_memory_bytes": 1048576, "objects": 6}})"));
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Buffer first = make_buffer(dev, 1 << 19);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = (1 << 19) + 1;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(udal_buffer_create(dev, &desc, &buffer), UDAL_ERROR_OUT_OF_DEVICE_MEMORY);
  EXPECT_NE(std::string(udal_last_error_message()).find("device_memory_bytes"), std::string::npos)
      << udal_last_error_message();
  std::vector<Stream> streams;
  udal_result_t result = UDAL_SUCCESS;
  for (int i = 0; i < 10 && result == UDAL_SUCCESS; ++i) {
    udal_stream_t stream = nullptr;
    result = udal_stream_create(dev, nullptr, &stream);
    if (result == UDAL_SUCCESS) streams.emplace_back(stream);
  }
  EXPECT_EQ(result, UDAL_ERROR_OUT_OF_HOST_MEMORY);
  EXPECT_NE(std::string(udal_last_error_message()).find("limits.objects"), std::string::npos)
      << udal_last_error_message();
  EXPECT_EQ(streams.size(), 5u);
}

TEST(RemoteEvents, RecordWaitHostSignalAndHostFunctions) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream first = make_stream(dev);
  Stream second = make_stream(dev);
  Buffer buffer = make_buffer(dev, 64);
  udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
  gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate_handle = nullptr, done_handle = nullptr;
  UDAL_ASSERT_OK(udal_event_create(dev, &gate_desc, &gate_handle));
  UDAL_ASSERT_OK(udal_event_create(dev, nullptr, &done_handle));
  Event gate(gate_handle), done(done_handle);
  // |second| waits for the host's signal; its fill and host function run only after.
  std::atomic<int> calls{0};
  UDAL_ASSERT_OK(udal_stream_wait_event(second.get(), gate.get()));
  const uint32_t value = 0x1234;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(second.get(), buffer.get(), 0, 64, &value, 4));
  UDAL_ASSERT_OK(udal_stream_enqueue_host_function(
      second.get(), [](void* data) { static_cast<std::atomic<int>*>(data)->fetch_add(1); },
      &calls));
  UDAL_ASSERT_OK(udal_stream_record_event(second.get(), done.get()));
  EXPECT_EQ(udal_event_query(done.get()), UDAL_NOT_READY);
  EXPECT_EQ(udal_event_wait(done.get(), 50'000'000), UDAL_TIMEOUT);
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(udal_stream_record_event(first.get(), gate.get()), UDAL_ERROR_INVALID_ARGUMENT);
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  EXPECT_EQ(udal_event_signal(gate.get()), UDAL_ERROR_INVALID_STATE);
  UDAL_ASSERT_OK(udal_event_wait(done.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(calls.load(), 1);
  uint32_t back = 0;
  UDAL_ASSERT_OK(udal_stream_wait_event(first.get(), done.get()));
  UDAL_ASSERT_OK(udal_stream_read_buffer(first.get(), buffer.get(), 60, &back, 4));
  UDAL_ASSERT_OK(udal_stream_synchronize(first.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(back, value);
}

// ------------------------------------------------------------------------------------------
// Faults
// ------------------------------------------------------------------------------------------

TEST(RemoteFaults, KilledServerDuringSynchronizeIsDeviceLost) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream stream = make_stream(dev);
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate_handle = nullptr;
  UDAL_ASSERT_OK(udal_event_create(dev, &desc, &gate_handle));
  Event gate(gate_handle);
  // The stream can only finish when the host signals: synchronize waits until the kill.
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  auto waiter = std::async(std::launch::async, [&] {
    const udal_result_t result = udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE);
    return std::make_pair(result, std::string(udal_last_error_message()));
  });
  EXPECT_EQ(waiter.wait_for(200ms), std::future_status::timeout) << "nothing ends the wait yet";
  server.signal(SIGKILL);
  // Stated: a closed connection is DEVICE_LOST as soon as the system reports it.
  ASSERT_EQ(waiter.wait_for(30s), std::future_status::ready) << "synchronize hangs";
  const auto [result, message] = waiter.get();
  EXPECT_EQ(result, UDAL_ERROR_DEVICE_LOST) << message;
  EXPECT_NE(message.find(server.address()), std::string::npos) << message;
  // Every later call on the device says so too; destroys still work.
  Buffer buffer;
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 64;
  udal_buffer_t handle = nullptr;
  EXPECT_EQ(udal_buffer_create(dev, &buffer_desc, &handle), UDAL_ERROR_DEVICE_LOST);
  EXPECT_EQ(udal_event_query(gate.get()), UDAL_ERROR_DEVICE_LOST);
}

TEST(RemoteFaults, ASilentServerIsDetectedByTheKeepAlive) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  ClientSettings settings = insecure_client(server.address());
  settings.keepalive_timeout_ms = "1000";
  Instance instance = open_remote(settings);
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream stream = make_stream(dev);
  Buffer buffer = make_buffer(dev, 64);
  ASSERT_TRUE(server.stop());  // alive, connected, and silent
  const uint32_t value = 1;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 64, &value, 4));
  auto waiter = std::async(std::launch::async, [&] {
    const udal_result_t result = udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE);
    return std::make_pair(result, std::string(udal_last_error_message()));
  });
  const bool ended = waiter.wait_for(30s) == std::future_status::ready;
  server.signal(SIGCONT);
  ASSERT_TRUE(ended) << "synchronize hangs on a silent server";
  const auto [result, message] = waiter.get();
  EXPECT_EQ(result, UDAL_ERROR_DEVICE_LOST) << message;
  EXPECT_NE(message.find("keep-alive"), std::string::npos) << message;
}

TEST(RemoteFaults, KilledClientInTheMiddleOfABigWriteHasItsMemoryFreed) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  constexpr uint64_t kBytes = uint64_t{256} << 20;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  // The child is forked before this process has any thread of the driver.
  const pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    Instance instance = open_remote(insecure_client(server.address()));
    udal_device_t dev = nullptr;
    if (!instance || udal_instance_get_device(instance.get(), 0, &dev) != UDAL_SUCCESS) _exit(3);
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = kBytes;
    udal_buffer_t buffer = nullptr;
    udal_stream_t stream = nullptr;
    if (udal_buffer_create(dev, &desc, &buffer) != UDAL_SUCCESS ||
        udal_stream_create(dev, nullptr, &stream) != UDAL_SUCCESS) {
      _exit(4);
    }
    std::vector<uint8_t> data(kBytes, 0x5a);
    for (int round = 0; round < 1000; ++round) {
      udal_stream_write_buffer(stream, buffer, 0, data.data(), kBytes);
      if (round == 0) {
        const char byte = 1;
        if (write(ready[1], &byte, 1) != 1) _exit(5);
      }
      udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE);
    }
    _exit(0);
  }
  close(ready[1]);
  Instance observer = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(observer);
  udal_device_t dev = device(observer.get(), 0);
  char byte = 0;
  const bool child_writing = read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  uint64_t during = allocated_bytes(dev);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(child_writing) << "the child could not start its write (status " << status << ")";
  EXPECT_GE(during, kBytes) << "the server holds the child's 256 MiB buffer";
  // The server notices the closed connection and frees the session's buffer.
  EXPECT_TRUE(eventually([&] { return allocated_bytes(dev) == 0; }))
      << "still allocated: " << allocated_bytes(dev) << "\n" << server.log();
  EXPECT_NE(server.log().find("freed 1 buffers (268435456 bytes)"), std::string::npos)
      << server.log();
}

TEST(RemoteServer, SigtermClosesSessionsWithAReason) {
  ServerProcess server(insecure_server());
  ASSERT_TRUE(server.started());
  Instance instance = open_remote(insecure_client(server.address()));
  ASSERT_TRUE(instance);
  udal_device_t dev = device(instance.get(), 0);
  Stream stream = make_stream(dev);
  Buffer buffer = make_buffer(dev, 1 << 20);
  server.signal(SIGTERM);
  const auto status = server.wait_exit(30s);
  ASSERT_TRUE(status) << "udal-server did not stop on SIGTERM:\n" << server.log();
  EXPECT_EQ(*status, 0) << server.log();
  EXPECT_NE(server.log().find("freed 1 buffers"), std::string::npos) << server.log();
  const uint32_t value = 0;
  udal_result_t result = UDAL_SUCCESS;
  for (int i = 0; i < 100 && result == UDAL_SUCCESS; ++i) {
    result = udal_stream_fill_buffer(stream.get(), buffer.get(), 0, 4, &value, 4);
    if (result == UDAL_SUCCESS) result = udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE);
  }
  EXPECT_EQ(result, UDAL_ERROR_DEVICE_LOST);
  EXPECT_NE(std::string(udal_last_error_message()).find("shutting down"), std::string::npos)
      << udal_last_error_message();
}

// ------------------------------------------------------------------------------------------
// Scale
// ------------------------------------------------------------------------------------------

TEST(RemoteScale, VectorAddSplitAcrossThreeServers) {
  ServerProcess s2(tls_server_on("127.0.0.2"));
  ServerProcess s3(tls_server_on("127.0.0.3"));
  ServerProcess s4(tls_server_on("127.0.0.4"));
  ASSERT_TRUE(s2.started() && s3.started() && s4.started());
  Instance instance =
      open_remote(tls_client(s2.address() + "," + s3.address() + "," + s4.address()));
  ASSERT_TRUE(instance);
  ASSERT_EQ(remote_status(instance.get()).state, UDAL_DRIVER_STATE_LOADED)
      << remote_status(instance.get()).reason;
  ASSERT_EQ(device_count(instance.get()), 3u);
  constexpr uint32_t n = 300000;
  std::vector<float> a(n), b(n), c(n, -1.0f);
  for (uint32_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i % 1000);
    b[i] = static_cast<float>(i / 1000);
  }
  std::vector<std::thread> parts;
  for (uint32_t d = 0; d < 3; ++d) {
    parts.emplace_back([&, d] {
      vector_add_part(device(instance.get(), d), a, b, c, d * (n / 3), n / 3);
    });
  }
  for (std::thread& part : parts) part.join();
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(c[i], a[i] + b[i]) << "at " << i;
}

}  // namespace
}  // namespace udal::remote::test
