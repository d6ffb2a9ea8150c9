/*
 * streams.c — ordering work without a kernel, on the first device: a stream held by a
 * host-signalled event, a host function run in stream order, and (where the device has
 * timestamps) device time measured with timing events. Only libudal, only udal.h.
 *
 *   streams
 *
 * What it shows, in the order a framework meets it:
 *   1. udal_stream_wait_event on a UDAL_EVENT_FLAG_HOST_SIGNAL event holds the stream's later
 *      work until the host calls udal_event_signal (a framework's "input is ready");
 *   2. udal_stream_enqueue_host_function runs a callback after all earlier work of the
 *      stream and before later work (a framework's "output is ready", as PJRT's OnReady);
 *   3. events created with UDAL_EVENT_FLAG_TIMING give udal_event_elapsed_ns; plain events
 *      only order work and cost no timestamp.
 */
#include <udal/udal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (1u << 20) /* 4 MiB of uint32_t */
#define PATTERN 0x5eedf00du
/* A hung driver fails the sample instead of stalling it. */
#define WAIT_TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

/* What the host function saw when it ran. The stream orders it after the read, and the
 * main thread reads it only after `done` completed, which the stream orders after it. */
typedef struct host_check_t {
  const uint32_t* host;
  int calls;
  uint32_t wrong_words;
} host_check_t;

typedef struct streams_t {
  udal_instance_t instance;
  udal_device_t device;
  udal_device_info_t info;
  udal_stream_t stream;
  udal_buffer_t buffer;
  udal_event_t go, done, start, end;
  uint32_t* host;
  /* In the struct, not on gated_work's stack: if the sample stops early, the host function
   * still runs while release() waits for the stream. */
  host_check_t check;
} streams_t;

static int fail(const char* what, udal_result_t result) {
  fprintf(stderr, "streams: %s failed: %s: %s\n", what, udal_result_name(result),
          udal_last_error_message());
  return 0;
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    udal_result_t check_result_ = (call);                                                          \
    if (check_result_ != UDAL_SUCCESS) {                                                           \
      return fail(#call, check_result_);                                                           \
    }                                                                                              \
  } while (0)

/* Runs on a driver thread once the read before it has completed: the data must be there. */
static void check_read(void* user_data) {
  host_check_t* check = (host_check_t*)user_data;
  uint32_t i;
  ++check->calls;
  for (i = 0; i < WORDS; ++i) {
    if (check->host[i] != PATTERN)
      ++check->wrong_words;
  }
}

static int create_event(streams_t* s, udal_event_flags_t flags, udal_event_t* out) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  CHECK(udal_event_create(s->device, &desc, out));
  return 1;
}

/* 1 and 2: a fill and a read held by `go`, then a host function that checks the read. */
static int gated_work(streams_t* s) {
  const uint32_t pattern = PATTERN;
  host_check_t* check = &s->check;
  udal_result_t r;
  check->host = s->host;

  if (!create_event(s, UDAL_EVENT_FLAG_HOST_SIGNAL, &s->go) || !create_event(s, 0, &s->done))
    return 0;
  CHECK(udal_stream_wait_event(s->stream, s->go));
  CHECK(udal_stream_fill_buffer(s->stream, s->buffer, 0, (uint64_t)WORDS * 4, &pattern, 4));
  CHECK(udal_stream_read_buffer(s->stream, s->buffer, 0, s->host, (uint64_t)WORDS * 4));
  CHECK(udal_stream_enqueue_host_function(s->stream, check_read, check));
  CHECK(udal_stream_record_event(s->stream, s->done));

  /* Every enqueue returned before its work ran, and the work waits for `go`. */
  r = udal_event_query(s->done);
  if (r != UDAL_NOT_READY) {
    fprintf(stderr, "streams: work ran before the host signalled the event it waits on (%s)\n",
            udal_result_name(r));
    return 0;
  }
  printf("streams: fill, read and host function are enqueued and held by a host-signalled "
         "event\n");

  CHECK(udal_event_signal(s->go));
  r = udal_event_wait(s->done, WAIT_TIMEOUT_NS);
  if (r != UDAL_SUCCESS)
    return fail("udal_event_wait(done)", r);
  if (check->calls != 1 || check->wrong_words != 0) {
    fprintf(stderr, "streams: the host function ran %d times and saw %u of %u words wrong\n",
            check->calls, check->wrong_words, WORDS);
    return 0;
  }
  printf("streams: after the signal, the host function ran once and saw all %u words read\n",
         WORDS);
  return 1;
}

/* 3: device time of a fill, between two timing events. */
static int timed_fill(streams_t* s) {
  const uint32_t pattern = 0;
  uint64_t ns = 0;
  if (!(s->info.features & UDAL_DEVICE_FEATURE_TIMESTAMPS)) {
    printf("streams: %s has no timestamps: no timing events\n", s->info.name);
    return 1;
  }
  if (!create_event(s, UDAL_EVENT_FLAG_TIMING, &s->start) ||
      !create_event(s, UDAL_EVENT_FLAG_TIMING, &s->end))
    return 0;
  CHECK(udal_stream_record_event(s->stream, s->start));
  CHECK(udal_stream_fill_buffer(s->stream, s->buffer, 0, (uint64_t)WORDS * 4, &pattern, 4));
  CHECK(udal_stream_record_event(s->stream, s->end));
  CHECK(udal_stream_synchronize(s->stream, WAIT_TIMEOUT_NS));
  CHECK(udal_event_elapsed_ns(s->start, s->end, &ns));
  printf("streams: a fill of %u KiB took %.1f us of device time\n", WORDS * 4 / 1024,
         (double)ns / 1e3);
  return 1;
}

static int run(streams_t* s) {
  udal_buffer_desc_t buffer = UDAL_BUFFER_DESC_INIT;
  uint32_t device_count = 0;
  CHECK(udal_instance_create(NULL, &s->instance));
  CHECK(udal_instance_get_device_count(s->instance, &device_count));
  if (device_count == 0) {
    fprintf(stderr, "streams: no device (udal-info says why)\n");
    return 0;
  }
  CHECK(udal_instance_get_device(s->instance, 0, &s->device));
  CHECK(udal_device_get_info(s->device, &s->info));
  printf("streams: device %s (driver %s)\n", s->info.name, s->info.driver_name);
  CHECK(udal_stream_create(s->device, NULL, &s->stream));
  buffer.size = (uint64_t)WORDS * 4;
  CHECK(udal_buffer_create(s->device, &buffer, &s->buffer));
  s->host = malloc((size_t)WORDS * 4);
  if (!s->host) {
    fprintf(stderr, "streams: out of host memory\n");
    return 0;
  }
  memset(s->host, 0, (size_t)WORDS * 4);
  return gated_work(s) && timed_fill(s);
}

/* The stream first: destroying it waits for its work. An unsignalled `go` (run() stopped
 * early) is destroyed before it, which releases the work it holds. */
static void release(streams_t* s) {
  if (s->go)
    udal_event_destroy(s->go);
  if (s->stream)
    udal_stream_destroy(s->stream);
  if (s->done)
    udal_event_destroy(s->done);
  if (s->start)
    udal_event_destroy(s->start);
  if (s->end)
    udal_event_destroy(s->end);
  if (s->buffer)
    udal_buffer_destroy(s->buffer);
  if (s->instance)
    udal_instance_release(s->instance);
  free(s->host);
}

int main(void) {
  streams_t s;
  const udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  int ok;
  memset(&s, 0, sizeof(s));
  s.info = info;
  ok = run(&s);
  release(&s);
  return ok ? 0 : 1;
}
