#!/usr/bin/env bash
# ABI gate: compares the built libudal and the ABI probe with the baselines in abi/.
#   abi/check-abi.sh BUILD_DIR            check (exit 1 on an incompatible change)
#   abi/check-abi.sh BUILD_DIR --update   rewrite the baselines (only when a version is cut)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check-abi.sh BUILD_DIR [--update]}
mode=${2:-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for lib in libudal libudal_abi_probe; do
  so="$build/lib/$lib.so"
  [[ -e $so ]] || { echo "check-abi: $so is missing: build the project first" >&2; exit 2; }
  abidw --no-show-locs --no-corpus-path --exported-interfaces-only --headers-dir "$here/include" --drop-private-types --out-file "$tmp/$lib.abi" "$so"
  if [[ $lib == libudal_abi_probe ]]; then
    # One function per public type (probe.c); fewer means the compiler folded identical ones
    # and the description would miss types.
    want=$(grep -c '^UDAL_ABI_PROBE(' "$here/probe.c")
    got=$(grep -c "<function-decl name='udal_abi_probe__" "$tmp/$lib.abi" || true)
    if [[ $got != "$want" ]]; then
      echo "check-abi: $so describes $got probe functions, probe.c defines $want (folded? build it with -O0)" >&2
      exit 2
    fi
  fi
  if [[ $mode == --update ]]; then
    cp "$tmp/$lib.abi" "$here/$lib.abi"
    echo "check-abi: wrote $here/$lib.abi"
    continue
  fi
  python3 "$here/check_abi.py" "$here/$lib.abi" "$tmp/$lib.abi" || status=1
  # abidiff's report says what changed in words; the verdict above is the gate.
  abidiff "$here/$lib.abi" "$tmp/$lib.abi" > "$tmp/$lib.diff" || true
  grep -q "Changed\|Removed\|Added" "$tmp/$lib.diff" && sed 's/^/  abidiff: /' "$tmp/$lib.diff" | grep -v ": $" | head -40
done
exit $status
