#include "entries.h"

#include <cstring>

namespace udal::hal {

static_assert(kEntryCount == (sizeof(udal_driver_table_t) -
                              offsetof(udal_driver_table_t, last_error_message)) /
                                     sizeof(void (*)()) -
                                 1,
              "every table entry after last_error_message is in UDAL_DRIVER_ENTRIES");

std::string missing_required_entries(const udal_driver_table_t& table) {
  std::string missing;
  auto add = [&missing](const char* name) {
    if (!missing.empty())
      missing += ", ";
    missing += name;
  };
  if (table.last_error_message == nullptr)
    add("last_error_message");
  for (const EntryInfo& e : kEntries) {
    if (!e.required)
      continue;
    void (*entry)() = nullptr;
    std::memcpy(&entry, reinterpret_cast<const char*>(&table) + e.offset, sizeof(entry));
    if (entry == nullptr)
      add(e.name);
  }
  return missing;
}

namespace {

// The message every entry of a table stubbed after fork() leaves; formatted once in the
// child handler, read by last_error_message.
char g_lost_message[192] = "";

const char* lost_message() {
  return g_lost_message;
}

// An entry of the given type that answers DEVICE_LOST whatever it is given.
template <typename Pfn> struct LostEntry;
template <typename... Args> struct LostEntry<udal_result_t (*)(Args...)> {
  static udal_result_t call(Args...) { return UDAL_ERROR_DEVICE_LOST; }
};

// Appends |text| at |*at| within |end|; async-signal-safe (no allocation, no locale).
void append(char*& at, char* end, const char* text) noexcept {
  while (*text != '\0' && at + 1 < end)
    *at++ = *text++;
  *at = '\0';
}

void append_number(char*& at, char* end, long value) noexcept {
  char digits[24];
  int n = 0;
  unsigned long v = value < 0 ? 0ul : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 23);
  char text[24];
  for (int i = 0; i < n; ++i)
    text[i] = digits[n - 1 - i];
  text[n] = '\0';
  append(at, end, text);
}

} // namespace

void make_table_lost_after_fork(udal_driver_table_t& table, long parent_pid) noexcept {
  char* at = g_lost_message;
  char* end = g_lost_message + sizeof(g_lost_message);
  append(at, end, "the object belongs to a UDAL instance created before fork() in process ");
  append_number(at, end, parent_pid);
  append(at, end, "; create a new instance in the child");
  table.last_error_message = lost_message;
#define UDAL_HAL_LOST_ENTRY_(name, required, is_public, params, args)                              \
  table.name = &LostEntry<udal_pfn_##name>::call;
  UDAL_DRIVER_ENTRIES(UDAL_HAL_LOST_ENTRY_)
#undef UDAL_HAL_LOST_ENTRY_
}

} // namespace udal::hal
