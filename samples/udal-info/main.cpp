// udal-info — lists every UDAL driver found (loaded or not, and why) and every device with
// all of its information. Links only libudal: it sees exactly what a framework sees.
#include "inventory.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Lists UDAL drivers (with the reason when one is not loaded) and devices."};
  bool as_json = false;
  bool validation = false;
  std::vector<std::string> driver_paths;
  app.add_flag("--json", as_json, "Print one JSON object instead of text");
  app.add_flag("--validation", validation,
               "Create the instance with UDAL_INSTANCE_FLAG_VALIDATION (the validation layer on, "
               "whatever UDAL_VALIDATION says)");
  app.add_option("--driver", driver_paths,
                 "Driver manifest (.json) or library (.so) to load instead of the search; "
                 "repeatable")
      ->type_name("PATH")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI11_PARSE(app, argc, argv);

  // Paths are passed through unchecked: reporting a missing or broken driver is libudal's
  // job, and this tool exists to show that report.
  std::vector<const char*> path_pointers;
  for (const auto& path : driver_paths)
    path_pointers.push_back(path.c_str());
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  if (validation)
    desc.flags |= UDAL_INSTANCE_FLAG_VALIDATION;
  desc.driver_paths = path_pointers.empty() ? nullptr : path_pointers.data();
  desc.driver_path_count = static_cast<uint32_t>(path_pointers.size());

  udal_instance_t raw_instance = nullptr;
  if (udal_result_t r = udal_instance_create(&desc, &raw_instance); r != UDAL_SUCCESS) {
    fmt::print(stderr, "udal-info: udal_instance_create failed: {}: {}\n", udal_result_name(r),
               udal_last_error_message());
    return 1;
  }
  const udal_info::InstancePtr instance(raw_instance);

  udal_info::Inventory inventory;
  udal_info::QueryError error;
  if (!udal_info::collect(instance.get(), inventory, error)) {
    fmt::print(stderr, "udal-info: {} failed: {}: {}\n", error.call, udal_result_name(error.result),
               error.message);
    return 1;
  }
  const std::string report =
      as_json ? udal_info::render_json(inventory) : udal_info::render_text(inventory);
  std::fwrite(report.data(), 1, report.size(), stdout);
  return 0;
}
