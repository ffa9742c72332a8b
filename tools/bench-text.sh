#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Times speurneus on a generated text tree against ripgrep with the
# equivalent patterns in tools/patterns.txt (run by hand; tests never time).
#   tools/bench-text.sh [CORPUS_DIR] [RUNS]
# CORPUS_DIR defaults to /tmp/corpus (made with tools/gen-corpus.py if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-/tmp/corpus}
runs=${2:-3}
bin=build/speurneus
[ -x "$bin" ] || tools/bootstrap.sh
command -v rg >/dev/null || apt-get install -y -qq ripgrep >/dev/null
[ -d "$corpus/text" ] || python3 tools/gen-corpus.py "$corpus"
key=$(mktemp -u /tmp/sn-bench-key.XXXXXX)
"$bin" key init -o "$key" >/dev/null
trap 'rm -f "$key"' EXIT
bytes=$(du -sb "$corpus/text" | cut -f1)
cat "$corpus"/text/*/* >/dev/null   # warm the cache

measure() { # label, command...
  local label=$1; shift
  local best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o /tmp/sn-bench-time "$@" >/dev/null 2>/dev/null || true
    read -r secs rss < <(tail -n 1 /tmp/sn-bench-time)
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; best_rss=$rss; fi
  done
  printf '%-34s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB\n' "$label" "$best" \
    "$(awk "BEGIN{print $bytes/1048576/$best}")" "$(awk "BEGIN{print $best_rss/1024}")"
}
echo "corpus: $corpus/text, $((bytes / 1048576)) MiB, best of $runs"
measure "cat" sh -c "cat $corpus/text/*/* >/dev/null"
measure "speurneus -j2 (ndjson)" "$bin" scan -q -j2 --key-file "$key" --format ndjson "$corpus/text"
measure "speurneus -j1 (ndjson)" "$bin" scan -q -j1 --key-file "$key" --format ndjson "$corpus/text"
measure "rg -j2 --no-unicode -c -f patterns" rg -j2 --no-unicode -c -f tools/patterns.txt "$corpus/text"
measure "rg -j2 -c -f patterns" rg -j2 -c -f tools/patterns.txt "$corpus/text"
"$bin" scan -q -j2 --key-file "$key" --format ndjson "$corpus/text" | tail -1 >/tmp/sn-bench-summary || true
python3 - "$corpus/truth.json" /tmp/sn-bench-summary <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))["planted"]
s = json.load(open(sys.argv[2]))
got = {c: sum(v.values()) for c, v in s["findings"]["by_category"].items()}
print("planted:", truth)
print("found  :", got)
PY
