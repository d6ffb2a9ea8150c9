// Compiled (not run) by the ctests sdk.dispatchable.*: UDAL_SDK_DISPATCHABLE accepts an object
// with dispatch first and members of any type, std::unique_ptr included (clang does not count
// that as standard-layout), under every compiler the ctests find; and refuses each way of
// moving dispatch from offset 0. UDAL_SDK_TEST_CASE picks the case.
#include <memory>
#include <string>

#include "udal/sdk/object.h"

#if UDAL_SDK_TEST_CASE == 0
struct Object {
  const udal_driver_table_t* dispatch;
  std::unique_ptr<int> owned;
  std::shared_ptr<int> shared;
  std::string name;
};
#elif UDAL_SDK_TEST_CASE == 1 // virtual functions: the vtable pointer comes first
struct Object {
  virtual ~Object() = default;
  const udal_driver_table_t* dispatch;
};
#elif UDAL_SDK_TEST_CASE == 2 // a member before dispatch
struct Object {
  int first;
  const udal_driver_table_t* dispatch;
};
#elif UDAL_SDK_TEST_CASE == 3 // a base class with data
struct Base {
  int data;
};
struct Object : Base {
  const udal_driver_table_t* dispatch;
};
#elif UDAL_SDK_TEST_CASE == 4 // dispatch of another type
struct Object {
  const void* dispatch;
};
#endif
UDAL_SDK_DISPATCHABLE(Object);

udal_buffer_t handle_of(Object* object) { return udal::sdk::to_handle<udal_buffer_t>(object); }
