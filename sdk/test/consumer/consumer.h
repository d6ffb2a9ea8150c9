/* consumer.h — what both consumer programs do first: open an instance that loads only one
 * manifest, whatever UDAL_* variables the environment has. */
#ifndef UDAL_CONSUMER_H_
#define UDAL_CONSUMER_H_

#include <stdio.h>

#include <udal/udal.h>

/* Creates |*out| loading only |manifest|; on failure prints the result and message and
 * returns it. */
static udal_result_t open_one_manifest(const char* manifest, udal_instance_t* out) {
  const char* paths[1] = {manifest};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_result_t r = udal_instance_create(&desc, out);
  if (r != UDAL_SUCCESS) {
    fprintf(stderr, "udal_instance_create: %s: %s\n", udal_result_name(r),
            udal_last_error_message());
  }
  return r;
}

#endif /* UDAL_CONSUMER_H_ */
