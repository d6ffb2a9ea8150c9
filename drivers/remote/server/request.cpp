#include "request.h"

#include <fmt/format.h>

namespace udal::remote::server {

namespace {

std::string text(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

std::vector<uint8_t> bytes(const flatbuffers::Vector<uint8_t>* v) {
  return v == nullptr ? std::vector<uint8_t>() : std::vector<uint8_t>(v->begin(), v->end());
}

bool three(const flatbuffers::Vector<uint32_t>* v, uint32_t (&out)[3], const char* what,
           std::string& why) {
  if (v == nullptr || v->size() != 3) {
    why = fmt::format("Launch.{} does not have 3 entries", what);
    return false;
  }
  for (uint32_t i = 0; i < 3; ++i) out[i] = v->Get(i);
  return true;
}

}  // namespace

uint64_t request_bulk_bytes(const Request& request) {
  if (const auto* write = std::get_if<WriteRequest>(&request)) {
    return write->deferred ? 0 : write->size;
  }
  if (const auto* data = std::get_if<WriteDataRequest>(&request)) return data->bytes;
  if (const auto* module = std::get_if<ModuleCreateRequest>(&request)) return module->image_bytes;
  return 0;
}

bool decode_request(const wire::Message& message, uint64_t bulk_bytes, Request& out,
                    std::string& why) {
  const wire::Body type = message.body_type();
  // Only these carry bulk; any other message announcing bulk is a broken client.
  if (bulk_bytes != 0 && type != wire::Body::WriteBuffer && type != wire::Body::ModuleCreate &&
      type != wire::Body::WriteData) {
    why = fmt::format("a {} message announces {} bulk bytes", body_name(type), bulk_bytes);
    return false;
  }
  switch (type) {
    case wire::Body::Hello: {
      const auto* m = message.body_as_Hello();
      out = HelloRequest{m->protocol_major(), m->protocol_minor(), text(m->client())};
      return true;
    }
    case wire::Body::Ping:
      out = PingRequest{message.body_as_Ping()->nonce()};
      return true;
    case wire::Body::Pong:
      out = PongRequest{};
      return true;
    case wire::Body::Goodbye:
      out = GoodbyeRequest{text(message.body_as_Goodbye()->message())};
      return true;
    case wire::Body::GetMemoryUsage: {
      const auto* m = message.body_as_GetMemoryUsage();
      out = MemoryUsageRequest{m->request(), m->device()};
      return true;
    }
    case wire::Body::BufferCreate: {
      const auto* m = message.body_as_BufferCreate();
      out = BufferCreateRequest{m->request(), m->device(),    m->id(),  m->size(),
                                m->alignment(), m->flags(), m->kind()};
      return true;
    }
    case wire::Body::EventCreate: {
      const auto* m = message.body_as_EventCreate();
      out = EventCreateRequest{m->request(), m->device(), m->id(), m->flags()};
      return true;
    }
    case wire::Body::StreamCreate: {
      const auto* m = message.body_as_StreamCreate();
      out = StreamCreateRequest{m->request(), m->device(), m->id(), m->flags()};
      return true;
    }
    case wire::Body::ModuleCreate: {
      const auto* m = message.body_as_ModuleCreate();
      if (bulk_bytes == 0) {
        why = "a ModuleCreate message carries no image";
        return false;
      }
      ModuleCreateRequest request{m->request(), m->device(), m->id(), m->format(),
                                  text(m->build_options()), m->build_options() != nullptr,
                                  {}, bulk_bytes};
      if (const auto* constants = m->specialization_constants()) {
        for (const auto* constant : *constants) {
          // The verifier lets a vector hold null offsets; a table that is not there is broken.
          if (constant == nullptr) {
            why = "a ModuleCreate message has an empty specialization constant";
            return false;
          }
          request.constants.push_back(SpecConstant{constant->id(), bytes(constant->value())});
        }
      }
      out = std::move(request);
      return true;
    }
    case wire::Body::KernelCreate: {
      const auto* m = message.body_as_KernelCreate();
      out = KernelCreateRequest{m->request(), m->module_(), m->id(), text(m->name())};
      return true;
    }
    case wire::Body::EventElapsed: {
      const auto* m = message.body_as_EventElapsed();
      out = EventElapsedRequest{m->request(), m->start(), m->end()};
      return true;
    }
    case wire::Body::BufferDestroy:
      out = DestroyRequest{ObjectKind::kBuffer, message.body_as_BufferDestroy()->id()};
      return true;
    case wire::Body::EventDestroy:
      out = DestroyRequest{ObjectKind::kEvent, message.body_as_EventDestroy()->id()};
      return true;
    case wire::Body::ModuleDestroy:
      out = DestroyRequest{ObjectKind::kModule, message.body_as_ModuleDestroy()->id()};
      return true;
    case wire::Body::KernelDestroy:
      out = DestroyRequest{ObjectKind::kKernel, message.body_as_KernelDestroy()->id()};
      return true;
    case wire::Body::StreamDestroy:
      out = DestroyRequest{ObjectKind::kStream, message.body_as_StreamDestroy()->id()};
      return true;
    case wire::Body::EventSignal:
      out = EventSignalRequest{message.body_as_EventSignal()->id()};
      return true;
    case wire::Body::CopyBuffer: {
      const auto* m = message.body_as_CopyBuffer();
      out = CopyRequest{m->stream(), m->seq(),        m->src(), m->src_offset(),
                        m->dst(),    m->dst_offset(), m->size()};
      return true;
    }
    case wire::Body::FillBuffer: {
      const auto* m = message.body_as_FillBuffer();
      const auto* pattern = m->pattern();
      const uint32_t n = pattern == nullptr ? 0 : pattern->size();
      if (n != 1 && n != 2 && n != 4 && n != 8 && n != 16) {
        why = fmt::format("a FillBuffer pattern of {} bytes (1, 2, 4, 8 or 16)", n);
        return false;
      }
      FillRequest request{m->stream(), m->seq(), m->dst(), m->offset(), m->size(), {}, n};
      std::copy(pattern->begin(), pattern->end(), request.pattern.begin());
      out = request;
      return true;
    }
    case wire::Body::WriteBuffer: {
      const auto* m = message.body_as_WriteBuffer();
      const uint64_t expected = m->deferred() ? 0 : m->size();
      if (m->size() == 0 || bulk_bytes != expected || m->size() > kTransferChunkBytes) {
        why = fmt::format("a {}WriteBuffer of {} bytes comes with {} bulk bytes (1 to {}{})",
                          m->deferred() ? "deferred " : "", m->size(), bulk_bytes,
                          kTransferChunkBytes, m->deferred() ? ", none now" : " and equal");
        return false;
      }
      out = WriteRequest{m->stream(), m->seq(), m->dst(), m->offset(), m->size(), m->deferred()};
      return true;
    }
    case wire::Body::WriteData: {
      const auto* m = message.body_as_WriteData();
      if (bulk_bytes == 0 || bulk_bytes > kTransferChunkBytes) {
        why = fmt::format("a WriteData of {} bytes (1 to {})", bulk_bytes, kTransferChunkBytes);
        return false;
      }
      out = WriteDataRequest{m->stream(), m->seq(), bulk_bytes};
      return true;
    }
    case wire::Body::ReadBuffer: {
      const auto* m = message.body_as_ReadBuffer();
      if (m->size() == 0 || m->size() > kTransferChunkBytes) {
        why = fmt::format("a ReadBuffer of {} bytes (1 to {})", m->size(), kTransferChunkBytes);
        return false;
      }
      out = ReadRequest{m->stream(), m->seq(), m->src(), m->offset(), m->size()};
      return true;
    }
    case wire::Body::Launch: {
      const auto* m = message.body_as_Launch();
      LaunchRequest request{m->stream(), m->seq(), m->kernel(), {}, {}, m->local_memory_bytes(), {}};
      if (!three(m->group_count(), request.group_count, "group_count", why) ||
          !three(m->group_size(), request.group_size, "group_size", why)) {
        return false;
      }
      if (const auto* args = m->args()) {
        request.args.reserve(args->size());
        for (const auto* arg : *args) {
          if (arg == nullptr) {
            why = "a Launch message has an empty argument";
            return false;
          }
          request.args.push_back(LaunchArgument{arg->kind(), arg->buffer(), arg->offset(),
                                                arg->access(), bytes(arg->value())});
        }
      }
      out = std::move(request);
      return true;
    }
    case wire::Body::RecordEvent: {
      const auto* m = message.body_as_RecordEvent();
      out = RecordEventRequest{m->stream(), m->seq(), m->event(), m->generation()};
      return true;
    }
    case wire::Body::WaitEvent: {
      const auto* m = message.body_as_WaitEvent();
      out = WaitEventRequest{m->stream(), m->seq(), m->event()};
      return true;
    }
    case wire::Body::StreamMark: {
      const auto* m = message.body_as_StreamMark();
      out = StreamMarkRequest{m->stream(), m->seq()};
      return true;
    }
    case wire::Body::HostFunction: {
      const auto* m = message.body_as_HostFunction();
      out = HostFunctionRequest{m->stream(), m->seq()};
      return true;
    }
    case wire::Body::HostFunctionDone: {
      const auto* m = message.body_as_HostFunctionDone();
      out = HostFunctionDoneRequest{m->stream(), m->seq()};
      return true;
    }
    default:
      // Messages only a server sends (Welcome, Reply, …) and members of a newer union.
      out = UnknownRequest{body_name(type), 0, false};
      return true;
  }
}

}  // namespace udal::remote::server
