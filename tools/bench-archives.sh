#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Times speurneus on archives (run by hand; tests never time): the text tree
# of tools/gen-corpus.py as tar.gz and zip against `gzip -dc` and `ugrep -z`
# with the equivalent patterns, and how fast bombs stop (1 GiB and 10 GiB of
# zeros as .gz/.xz/.zst, streamed into the compressors, never on disk).
#   tools/bench-archives.sh [CORPUS_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-/tmp/corpus}
runs=${2:-3}
bin=build/speurneus
[ -x "$bin" ] || tools/bootstrap.sh
for t in ugrep zstd xz; do command -v $t >/dev/null || apt-get install -y -qq $t >/dev/null; done
[ -d "$corpus/text" ] || python3 tools/gen-corpus.py "$corpus"
[ -f "$corpus/text.tar.gz" ] || tar czf "$corpus/text.tar.gz" -C "$corpus" text
[ -f "$corpus/text.zip" ] || (cd "$corpus" && zip -qr text.zip text)
key=$(mktemp -u /tmp/sn-bench-key.XXXXXX)
"$bin" key init -o "$key" >/dev/null
bombs=$(mktemp -d /tmp/sn-bombs.XXXXXX)
trap 'rm -rf "$key" "$bombs"' EXIT

measure() { # label, command...
  local label=$1; shift
  local best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M %P" -o /tmp/sn-bench-time "$@" >/dev/null 2>/dev/null || true
    read -r secs rss cpu < <(tail -n 1 /tmp/sn-bench-time)
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; best_rss=$rss; best_cpu=$cpu; fi
  done
  printf '%-40s %7.2f s  cpu %5s  peak RSS %7.1f MiB\n' "$label" "$best" "$best_cpu" \
    "$(awk "BEGIN{print $best_rss/1024}")"
}
sn=("$bin" scan -q --key-file "$key" --format ndjson)

echo "== $corpus/text as archives, best of $runs"
ls -l "$corpus/text.tar.gz" "$corpus/text.zip" | awk '{print $5, $9}'
measure "gzip -dc text.tar.gz" sh -c "gzip -dc '$corpus/text.tar.gz' >/dev/null"
measure "speurneus -j2 text.tar.gz" "${sn[@]}" -j2 "$corpus/text.tar.gz"
measure "speurneus -j1 text.tar.gz" "${sn[@]}" -j1 "$corpus/text.tar.gz"
measure "ugrep -z -c -f patterns text.tar.gz" ugrep -z -c -P -f tools/patterns.txt "$corpus/text.tar.gz"
measure "speurneus -j2 text.zip" "${sn[@]}" -j2 "$corpus/text.zip"
measure "ugrep -z -c -f patterns text.zip" ugrep -z -c -P -f tools/patterns.txt "$corpus/text.zip"

echo "== bombs: time until the scan stops, and its outcome"
for gib in 1 10; do
  head -c ${gib}G /dev/zero | gzip >"$bombs/zeros$gib.gz"
  head -c ${gib}G /dev/zero | xz -T2 -0 >"$bombs/zeros$gib.xz"
  head -c ${gib}G /dev/zero | zstd -q >"$bombs/zeros$gib.zst"
done
for f in "$bombs"/*; do
  measure "speurneus $(basename "$f") ($(stat -c %s "$f") bytes)" "${sn[@]}" "$f"
  { "${sn[@]}" "$f" || true; } | grep '"type":"file"' |
    sed 's/.*"reason":"\([^"]*\)".*"bytes":\([0-9]*\).*/  -> incomplete(\1) after \2 bytes/' || true
done
