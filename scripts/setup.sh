#!/usr/bin/env bash
# Installs every Debian 12 package UDAL builds, tests and certifies with. Run as root (or
# with sudo available). Safe to run again.
set -euo pipefail
packages=(
  # toolchain and build
  build-essential cmake ninja-build pkg-config git python3 ccache
  # libraries of libudal, the SDK and the drivers
  nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libhwloc-dev libdrm-dev libboost-dev
  # tests, benchmarks, ABI check
  libgtest-dev libgmock-dev libbenchmark-dev abigail-tools gnuplot-nox
  # kernels of the conformance suite: GLSL -> SPIR-V, OpenCL C -> SPIR-V
  glslang-tools spirv-tools clang-14 llvm-spirv-14
  # Vulkan (lavapipe is a real Vulkan device on the CPU), Level Zero loader, OpenCL peers
  libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers libze-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  # OpenCL driver: OpenCL-flavoured SPIR-V -> SPIR bitcode for platforms without SPIR-V IL
  llvm-spirv-15 libllvmspirvlib-15-dev llvm-15-dev
  # remote driver and udal-server: wire schema, TLS
  flatbuffers-compiler libflatbuffers-dev
  # fuzz targets (libFuzzer)
  libfuzzer-14-dev
  # Intel's level-zero-tests (built from ../shared/third_party when it is there)
  libze1 libpng-dev libboost-log-dev libboost-program-options-dev libboost-timer-dev
  libboost-chrono-dev libboost-system-dev libboost-serialization-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
