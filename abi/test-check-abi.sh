#!/usr/bin/env bash
# Proves the ABI gate can fail: builds the probe from altered copies of the headers and
# checks the verdict of abi/check_abi.py on each. Appending (a table entry, a struct field,
# an enumerator) and giving a reserved field a meaning pass; a move, a retype, a removal,
# a renumbered enumerator, a grown frozen struct and a reserved field overflowed fail. Also
# proves the header checks of abi/CMakeLists.txt fail on a padded struct (-Wpadded) and on an
# INIT macro that misses a field (-Wmissing-field-initializers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
probe() { # probe NAME: build the probe against $tmp/NAME/ headers and describe it
  "$cc" -g -shared -fPIC -fvisibility=hidden -I"$tmp/$1" "$here/probe.c" -o "$tmp/$1.so"
  abidw --no-show-locs --no-corpus-path --out-file "$tmp/$1.abi" "$tmp/$1.so"
}
alter() { # alter NAME FILE SED-EXPR [FILE SED-EXPR]...: a copy of the headers, edited
  local name=$1
  shift
  cp -r "$here/include" "$tmp/$name"
  while (($#)); do
    sed -i "$2" "$tmp/$name/udal/$1"
    cmp -s "$here/include/udal/$1" "$tmp/$name/udal/$1" &&
      { echo "variant $name: '$2' changed nothing in $1 (the header moved on: update this test)"; exit 1; }
    shift 2
  done
}
variant() { # variant NAME FILE SED-EXPR [FILE SED-EXPR]...
  alter "$@"
  probe "$1"
}
in_struct() { # in_struct STRUCT SED-COMMAND: a sed expression limited to typedef struct STRUCT
  echo "/^typedef struct $1 {/,/^} $1;/$2"
}
cp -r "$here/include" "$tmp/base" && probe base

# ---- allowed -------------------------------------------------------------------------------
variant append \
  udal_driver.h 's/^\(    (udal_stream_t stream, udal_host_function_t fn, void\* user_data), (stream, fn, user_data))\)$/\1 \\\n  X(appended_entry, 0, 1, (udal_stream_t stream), (stream))/' \
  udal.h "$(in_struct udal_stream_desc_t 's/^  uint64_t flags;.*/&\n  uint64_t appended_field;/')" \
  udal.h 's/^  UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC = 16,/&\n  UDAL_STRUCTURE_TYPE_APPENDED = 17,/'
variant reserved_use \
  udal.h "$(in_struct udal_kernel_arg_t 's/^  uint64_t reserved1\[3\];/  uint64_t stride; uint64_t reserved1[2];/')" \
  udal.h "$(in_struct udal_kernel_arg_info_t 's/^  uint32_t reserved0;/  uint32_t alignment;/')"

# ---- forbidden -----------------------------------------------------------------------------
variant swap udal.h "$(in_struct udal_buffer_desc_t 's/^  uint64_t size; /  uint64_t size_moved_here; uint64_t size; /')"
variant retype udal.h 's/^  uint32_t max_kernel_arguments;/  uint64_t max_kernel_arguments;/'
variant remove udal_driver.h '/^  X(buffer_get_info,/,+1d'
variant renumber udal.h 's/UDAL_ERROR_OUT_OF_RANGE = -3,/UDAL_ERROR_OUT_OF_RANGE = -30,/'
variant renumber_type udal.h 's/UDAL_STRUCTURE_TYPE_EVENT_DESC = 7,/UDAL_STRUCTURE_TYPE_EVENT_DESC = 70,/'
variant frozen udal.h "$(in_struct udal_kernel_arg_t 's/^  uint64_t reserved1\[3\];/&\n  uint64_t appended;/')"
variant spec_constant udal.h "$(in_struct udal_specialization_constant_t 's/^  const void\* value;/&\n  uint64_t appended;/')"
variant spec_constant_retype udal.h "$(in_struct udal_specialization_constant_t 's/^  uint32_t size;/  int32_t size;/')"
variant reserved_overflow udal.h "$(in_struct udal_instance_desc_t 's/^  uint32_t reserved0;/  uint32_t straddles_the_end[2];/')"

failures=0
checks=0
expect() { # expect VARIANT pass|fail
  checks=$((checks + 1))
  if python3 "$here/check_abi.py" "$tmp/base.abi" "$tmp/$1.abi" > "$tmp/$1.out"; then got=pass; else got=fail; fi
  if [[ $got == "$2" ]]; then
    echo "ok: $1 -> $got"
    sed 's/^/    /' "$tmp/$1.out" | grep "ABI BREAK" || true
  else
    echo "WRONG: $1 -> $got, expected $2"
    cat "$tmp/$1.out"
    failures=$((failures + 1))
  fi
}
expect append pass
expect reserved_use pass
expect swap fail
expect retype fail
expect remove fail
expect renumber fail
expect renumber_type fail
expect frozen fail
expect spec_constant fail
expect spec_constant_retype fail
expect reserved_overflow fail

# ---- the header check catches padding --------------------------------------------------------
header_check() { # header_check NAME: udal.h of $tmp/NAME alone, as abi/CMakeLists.txt builds it
  echo '#include "udal/udal.h"' > "$tmp/$1-header.c"
  "$cc" -std=c99 -Wall -Wextra -Wpedantic -Wpadded -Werror -I"$tmp/$1" -c "$tmp/$1-header.c" \
    -o /dev/null 2> "$tmp/$1-header.err"
}
alter padded udal.h "$(in_struct udal_stream_desc_t 's/^  uint64_t flags;.*/&\n  uint32_t padded_field;/')"
checks=$((checks + 1))
if ! header_check base; then
  echo "WRONG: the unaltered udal.h fails the header check:"; cat "$tmp/base-header.err"
  failures=$((failures + 1))
elif header_check padded; then
  echo "WRONG: -Wpadded let a struct with tail padding through"
  failures=$((failures + 1))
elif ! grep -q "padded\]" "$tmp/padded-header.err"; then
  echo "WRONG: the padded header failed for another reason:"; cat "$tmp/padded-header.err"
  failures=$((failures + 1))
else
  echo "ok: padded -> the header check fails"
fi

# ---- ... and an INIT macro that misses a field ---------------------------------------------------
alter init_missing udal.h 's/UDAL_ARG_KIND_UNKNOWN, 0, UDAL_ARG_ACCESS_NONE, 0}/UDAL_ARG_KIND_UNKNOWN, 0, UDAL_ARG_ACCESS_NONE}/'
checks=$((checks + 1))
if "$cc" -std=c99 -Wall -Wextra -Wmissing-field-initializers -Werror -I"$tmp/init_missing" \
    -c "$here/init_macros.c" -o /dev/null 2> "$tmp/init_missing.err"; then
  echo "WRONG: init_macros.c compiled with an INIT macro that misses a field"
  failures=$((failures + 1))
elif ! grep -q "missing-field-initializers" "$tmp/init_missing.err"; then
  echo "WRONG: init_macros.c failed for another reason:"; cat "$tmp/init_missing.err"
  failures=$((failures + 1))
else
  echo "ok: init_missing -> the INIT macro check fails"
fi

echo "$((checks - failures)) passed, $failures failed"
exit $((failures > 0))
