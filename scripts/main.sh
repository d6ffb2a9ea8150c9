#!/usr/bin/env bash
# The README's main job: installs what is needed, builds, lists every driver and device,
# then certifies every driver that has a device here, the CPU reference driver first.
# Certification packages land in certification/<driver>/ (verify one with
# `build/bin/udal-cts verify certification/<driver>`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh "$@"
build=${BUILD_DIR:-build}

# The Level Zero driver needs a Level Zero implementation; on a machine without Level Zero
# hardware the front-end built here is one (libze_udal over this build's own drivers: PoCL
# through the OpenCL driver), so the Level Zero driver is certified through the real loader.
# A Level Zero driver the machine has (ZE_ENABLE_ALT_DRIVERS already set, or a GPU driver the
# loader finds by default) is left alone.
if [[ -z ${ZE_ENABLE_ALT_DRIVERS:-} && -e $build/lib/libze_udal.so.1 ]] &&
  ! ls /usr/lib/*/libze_intel_gpu.so* >/dev/null 2>&1; then
  ZE_ENABLE_ALT_DRIVERS=$(realpath -s "$build/lib/libze_udal.so.1")
  export ZE_ENABLE_ALT_DRIVERS
  echo "main: no Level Zero GPU driver here; the loader gets libze_udal ($ZE_ENABLE_ALT_DRIVERS)"
fi

echo; echo "== udal-info"
"$build/bin/udal-info"

cts="$build/bin/udal-cts"
if [[ ! -x $cts ]]; then
  echo "main: $cts was not built, so there is no certification run" >&2
  exit 1
fi
# Drivers with at least one device, "cpu" first, then in search order.
mapfile -t drivers < <("$build/bin/udal-info" --json | python3 -c '
import json, sys
info = json.load(sys.stdin)
names = [d["name"] for d in info["drivers"] if d["state"] == "loaded" and d["device_count"] > 0]
names.sort(key=lambda n: n != "cpu")
print("\n".join(names))')
if ((${#drivers[@]} == 0)); then
  echo "main: no driver has a device here; udal-info above says why" >&2
  exit 1
fi
status=0
for driver in "${drivers[@]}"; do
  echo; echo "== certification of driver '$driver'"
  out="certification/$driver"
  rm -rf "$out"
  if "$cts" --certify --driver "$driver" --out "$out"; then verdict=ok; else verdict=failed; status=1; fi
  "$cts" verify "$out" || status=1
  echo "main: driver '$driver': certification $verdict; package in $out"
done
exit $status
