#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The whole test suite: installs missing packages, builds with -Werror, runs
# ctest; then builds again with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs ctest once more.  Nonzero on any failure.
#   tools/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh --no-build
jobs=$(nproc)

echo "== build (warnings are errors) and test" >&2
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSN_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs" >/dev/null
(cd build-test && ctest --output-on-failure -j"$jobs")

if [ "${1:-}" != "--no-sanitize" ]; then
  echo "== ASan + UBSan build and test" >&2
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSN_SANITIZE=ON -DSN_WERROR=ON >/dev/null
  cmake --build build-asan -j"$jobs" >/dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs")
fi
