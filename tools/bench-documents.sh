#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Times the document decoders, one format at a time (run by hand; tests never
# time): tools/gen-doc-fixtures.py --bench writes one file of about MB
# megabytes per format (docx, xlsx, odt, ods, pdf, eml, mbox, sqlite, utf-16)
# with dense planted values, each next to its keyword; this scans each with
# `speurneus scan -q --format ndjson -j2` (best of RUNS) and prints the time,
# MB/s of source bytes and of the text the decoder produced (bytes_scanned),
# the findings reported against the values planted, and the peak RSS.
#   tools/bench-documents.sh [MB] [RUNS]      # default 20 MB, 3 runs
# The corpus is kept in /tmp/sn-docbench-MB and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-20}
runs=${2:-3}
bin=build/speurneus
[ -x "$bin" ] || tools/bootstrap.sh
corpus=/tmp/sn-docbench-$mb
[ -f "$corpus/bench/truth.json" ] || python3 tools/gen-doc-fixtures.py "$corpus" --bench "$mb"
key=$(mktemp -u /tmp/sn-bench-key.XXXXXX)
tmp=$(mktemp -d /tmp/sn-bench-docs.XXXXXX)
"$bin" key init -o "$key" >/dev/null
trap 'rm -rf "$key" "$tmp"' EXIT
cat "$corpus"/bench/*/* >/dev/null   # warm the cache

printf '%-7s %9s %8s %9s %9s %9s %9s %9s\n' format "MB" seconds "MB/s" "text MB/s" found planted \
  "RSS MiB"
for dir in "$corpus"/bench/*/; do
  fmt=$(basename "$dir")
  best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" scan -q -j2 --key-file "$key" \
      --format ndjson "$dir" >"$tmp/out.ndjson" 2>/dev/null || true
    read -r secs rss < <(tail -n 1 "$tmp/time")
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then
      best=$secs
      best_rss=$rss
      cp "$tmp/out.ndjson" "$tmp/best.ndjson"
    fi
  done
  python3 - "$corpus/bench/truth.json" "$fmt" "$tmp/best.ndjson" "$best" "$best_rss" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))[sys.argv[2]]
secs, rss = max(float(sys.argv[4]), 0.001), int(sys.argv[5])
last, incomplete = None, []
for line in open(sys.argv[3], encoding="utf-8"):
    r = json.loads(line)
    if r["type"] == "file" and r["status"] != "skipped":
        incomplete.append(r["reason"])
    last = r
found = last["findings"]["total"] if last and last["type"] == "summary" else -1
text = last["bytes_scanned"] if last and last["type"] == "summary" else 0
mb = truth["bytes"] / 1e6
print("%-7s %9.1f %8.2f %9.1f %9.1f %9d %9d %9.1f%s" % (
    sys.argv[2], mb, secs, mb / secs, text / 1e6 / secs, found, truth["planted"], rss / 1024.0,
    "  (%s)" % ", ".join(sorted(set(incomplete))) if incomplete else ""))
PY
done
