// convert.h — udal.h structs to and from their wire tables, field by field.
#ifndef UDAL_REMOTE_CONVERT_H_
#define UDAL_REMOTE_CONVERT_H_

#include <string>

#include "frame.h"
#include "udal/udal.h"

namespace udal::remote {

flatbuffers::Offset<wire::DeviceInfo> to_wire(flatbuffers::FlatBufferBuilder& builder,
                                              const udal_device_info_t& info);

// Fills |out| (a zeroed udal_device_info_t with its header set) from |in|; false with the
// reason when |in| breaks a rule of udal.h (a field past its array, a zero limit).
bool from_wire(const wire::DeviceInfo& in, udal_device_info_t& out, std::string& why);

flatbuffers::Offset<wire::MemoryUsage> to_wire(flatbuffers::FlatBufferBuilder& builder,
                                               const udal_memory_usage_t& usage);

// Builds Message{body} with the file identifier into |builder|.
template <typename T>
void finish_message(flatbuffers::FlatBufferBuilder& builder, flatbuffers::Offset<T> body) {
  builder.Finish(wire::CreateMessage(builder, wire::BodyTraits<T>::enum_value, body.Union()),
                 wire::MessageIdentifier());
}

}  // namespace udal::remote

#endif  // UDAL_REMOTE_CONVERT_H_
