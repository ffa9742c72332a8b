#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every libFuzzer target (tests/fuzz/fuzz_<name>.c, and fuzz_decoder.c once per
# document decoder) for a set time, built
# with clang, ASan and UBSan into build/fuzz/.  Installs clang and the
# libFuzzer runtime from Debian when missing.
#
#   tools/fuzz.sh [SECONDS]        (default 60 per target)
#   SN_FUZZ_SEED=0 tools/fuzz.sh 600   (a new random seed: explore further)
#
# Each target starts from a temporary copy of its seed corpus (the source
# target also from the committed fixtures), so the repository is never written
# to; the corpus a run grows is thrown away.  A crash, hang (10 s per input),
# leak or out-of-memory input is kept under build/fuzz/crashes/ and its path
# printed; replay it with build/fuzz/tests/fuzz/fuzz_<name> FILE, and add it
# to tests/fuzz/corpus/<name>/ once fixed so ctest keeps checking it.
# Exit status: 0 when no target found anything, 1 otherwise, 2 on a setup
# or build failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-60}
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: tools/fuzz.sh [SECONDS]" >&2
  exit 2
fi
# the document decoders share tests/fuzz/fuzz_decoder.c (one binary each)
targets=(source rules text ooxml odf pdf mail sqlite)
# A fixed seed by default, so a run (and CI) explores the same inputs every
# time and a result can be reproduced; SN_FUZZ_SEED=0 lets libFuzzer pick a
# new seed each run, for longer runs by hand that look further.
seed=${SN_FUZZ_SEED:-1}
build="$root/build/fuzz"
crashes="$build/crashes"

# libFuzzer ships in Debian 12 as part of compiler-rt: libclang-rt-14-dev
# holds libclang_rt.fuzzer-x86_64.a (dpkg -S libclang_rt.fuzzer).
have_libfuzzer() {
  command -v clang >/dev/null 2>&1 || return 1
  local rt
  rt=$(clang -print-file-name="libclang_rt.fuzzer-$(uname -m).a")
  [ -f "$rt" ]
}

tools/bootstrap.sh --no-build
if ! have_libfuzzer; then
  echo "fuzz: installing clang and libclang-rt-14-dev" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
  if ! have_libfuzzer; then
    echo "fuzz: clang has no libFuzzer runtime after installing libclang-rt-14-dev" >&2
    exit 2
  fi
fi

echo "== configure and build build/fuzz (clang, libFuzzer, ASan + UBSan)" >&2
mkdir -p "$build"
if ! CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DSN_FUZZ=ON -DSN_SANITIZE=ON -DSN_TESTS=ON >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  exit 2
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
if ! cmake --build "$build" -j"$(nproc)" "${build_targets[@]}" >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2
  echo "fuzz: build failed (does the top-level CMakeLists.txt handle SN_FUZZ?)" >&2
  exit 2
fi

mkdir -p "$crashes"
work=$(mktemp -d "${TMPDIR:-/tmp}/speurneus-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The parsers never let a hang or a leak pass: each is a finding.  Leaks are
# checked by libFuzzer itself (-detect_leaks, on by default).
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

found=0
summary=()
for t in "${targets[@]}"; do
  bin=$(find "$build" -type f -name "fuzz_$t" -perm -u+x | head -n 1)
  if [ -z "$bin" ]; then
    echo "fuzz: fuzz_$t was not built" >&2
    exit 2
  fi
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  cp -R "tests/fuzz/corpus/$t/." "$corpus/"
  if [ "$t" = source ]; then
    mkdir -p "$corpus/fixtures"
    cp -R fixtures/demo fixtures/e2e/tree "$corpus/fixtures/"
  fi
  log="$build/fuzz-$t.log"
  # Artifacts of an earlier run are kept; only this run's are reported.
  stamp="$work/stamp-$t"
  : >"$stamp"
  echo "== fuzz_$t for ${secs}s (log: $log)" >&2
  set +e
  (cd "$work" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
     -seed="$seed" -print_final_stats=1 -artifact_prefix="$crashes/$t-" "$corpus") \
     >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  artifacts=$(find "$crashes" -maxdepth 1 -type f -name "$t-*" -newer "$stamp" | sort)
  if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
    found=1
    result="FOUND (exit $rc)"
    grep -m 3 -E "ERROR: |runtime error:|contract violated|Timeout|out-of-memory|fatal error" \
      "$log" >&2 || true
    for a in $artifacts; do
      echo "fuzz: $t: input kept at $a" >&2
    done
    [ -n "$artifacts" ] || echo "fuzz: $t: no input was written; see $log" >&2
  else
    result="no crash"
  fi
  summary+=("$(printf '%-8s %6ss %12s runs %8s exec/s  %s' "$t" "$secs" "${runs:-?}" \
    "${eps:-?}" "$result")")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$found"
