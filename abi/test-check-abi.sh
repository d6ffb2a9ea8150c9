#!/usr/bin/env bash
# Proves the ABI gate can fail: builds the probe from altered copies of the headers and
# checks the verdict on each (an append passes; a move, a retype, a removal fail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
probe() { # probe NAME: build the probe against $tmp/NAME/ headers and describe it
  "$cc" -g -shared -fPIC -fvisibility=hidden -I"$tmp/$1" "$here/probe.c" -o "$tmp/$1.so"
  abidw --no-show-locs --no-corpus-path --out-file "$tmp/$1.abi" "$tmp/$1.so"
}
variant() { # variant NAME FILE SED-EXPR
  cp -r "$here/include" "$tmp/$1"
  sed -i "$3" "$tmp/$1/udal/$2"
  cmp -s "$here/include/udal/$2" "$tmp/$1/udal/$2" && { echo "variant $1 changed nothing"; exit 1; }
  probe "$1"
}
cp -r "$here/include" "$tmp/base" && probe base
variant append udal_driver.h 's/^  udal_pfn_stream_synchronize stream_synchronize;/&\n  void* appended_entry;/'
variant swap udal.h '0,/  uint64_t size;      \/\* bytes; > 0 \*\//s//  uint64_t size_moved_here; uint64_t size;/'
variant retype udal.h 's/^  uint32_t max_kernel_arguments;/  uint64_t max_kernel_arguments;/'
variant remove udal_driver.h 's/^  udal_pfn_buffer_get_info buffer_get_info;//'
variant renumber udal.h 's/UDAL_ERROR_OUT_OF_RANGE = -3,/UDAL_ERROR_OUT_OF_RANGE = -30,/'
variant frozen udal.h 's/^  uint64_t offset;      \/\* BUFFER: byte offset/  uint64_t extra; uint64_t offset; \/* /'
failures=0
expect() { # expect VARIANT pass|fail
  if python3 "$here/check_abi.py" "$tmp/base.abi" "$tmp/$1.abi" > "$tmp/$1.out"; then got=pass; else got=fail; fi
  if [[ $got == "$2" ]]; then echo "ok: $1 -> $got"; else echo "WRONG: $1 -> $got, expected $2"; cat "$tmp/$1.out"; failures=$((failures+1)); fi
}
expect append pass
expect swap fail
expect retype fail
expect remove fail
expect renumber fail
expect frozen fail
echo "$((6 - failures)) passed, $failures failed"
exit $((failures > 0))
