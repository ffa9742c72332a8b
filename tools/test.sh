#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The whole test suite: installs missing packages, builds with -Werror, runs
# ctest; runs every libFuzzer target for $SN_FUZZ_SECONDS (default 30)
# seconds (tools/fuzz.sh); then builds again with AddressSanitizer +
# UndefinedBehaviorSanitizer and runs ctest once more.  Nonzero on any
# failure.
#   tools/test.sh [--no-sanitize] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=1
fuzz=1
for a in "$@"; do
  case "$a" in
    --no-sanitize) sanitize=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "usage: tools/test.sh [--no-sanitize] [--no-fuzz]" >&2; exit 2 ;;
  esac
done

tools/bootstrap.sh --no-build
jobs=$(nproc)

echo "== build (warnings are errors) and test" >&2
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSN_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs" >/dev/null
(cd build/test && ctest --output-on-failure -j"$jobs")

if [ "$fuzz" = 1 ]; then
  echo "== fuzz targets, ${SN_FUZZ_SECONDS:-30} s each" >&2
  tools/fuzz.sh "${SN_FUZZ_SECONDS:-30}"
fi

# The sanitizer pass runs last, so the suite ends on ctest's own summary.
if [ "$sanitize" = 1 ]; then
  echo "== ASan + UBSan build and test" >&2
  cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSN_SANITIZE=ON -DSN_WERROR=ON >/dev/null
  cmake --build build/asan -j"$jobs" >/dev/null
  (cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs")
fi

