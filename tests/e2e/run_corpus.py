#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end test of the matcher on the benchmark corpora and their truth.

tools/gen-corpus writes small versions of its corpora into the work directory
on every run: a tree of mixed text files (logs, CSV exports, JSON exports,
letters and notes), a tree of many small files, that text tree as tar.gz and
as zip, and one large log.  Each is scanned at --min-confidence low three
ways: -j2 (the fast path: anchor pre-scan and anchored PCRE2, long units cut
into segments that both threads match), -j1 (one thread, nothing split) and
-j2 --slow-path (every pattern over every byte).  The three must report the
same finding records and the same summary; -j2 and -j1 the records of each
unit (file or archive member) in the same order; for the large file, one
unit, the whole report line for line (also with -j4: more threads than
cores, so its segments finish out of order).  Every file and member must be
read completely, and the counts per category and per file or member must
equal the generator's ground truth, which holds every value the shipped rules
accept.  The scans run without --reveal, and failure messages name corpora,
files, members, lines, columns and categories only, never a value.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

A = None
KEY = None
CORPUS = None       # the directory gen-corpus writes into
RESULTS = []

CATS = ("bsn", "iban", "phone", "email", "postcode")
# Small enough for a sanitizer build; the large log still spans many
# segments, and several files of the text tree more than one read chunk.
GEN_TEXT = ["--mb", "6", "--files", "40", "--seed", "1"]
GEN_SMALL = ["--files", "1500", "--seed", "1"]
GEN_LARGE = ["--mb", "12", "--seed", "1"]
CHUNK = 256 << 10   # text is read in chunks of this size (README)
SEGMENT = 1 << 20   # and a long unit is split into segments of about this much
MODES = (("-j2", ["-j", "2"]),
         ("-j1", ["-j", "1"]),
         ("-j2 --slow-path", ["-j", "2", "--slow-path"]))
TIMING = ("duration_s", "throughput_mb_s")


def run(args, timeout=600):
    e = dict(os.environ)
    e.pop("SPEURNEUS_KEY_FILE", None)
    e["XDG_CONFIG_HOME"] = os.path.join(A.work, "xdg")
    return subprocess.run([A.bin] + args, capture_output=True, timeout=timeout, env=e)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test(fn):
    RESULTS.append(fn)
    return fn


def note(msg):
    print("  " + msg)


# --- scans and their records ---------------------------------------------------

class Report:
    """One scan's NDJSON report, split by record type.  `lines` keeps every
    record between the scan header and the summary as written; `findings`
    pairs each finding's line with its parsed record; `broken` counts lines
    that are not JSON (a crash can cut the report short)."""

    def __init__(self, label, p):
        self.label = label
        self.rc = p.returncode
        self.stderr = p.stderr.decode(errors="replace")
        self.header = self.summary = None
        self.lines, self.findings, self.files = [], [], []
        self.broken = 0
        recs = []
        for line in p.stdout.decode("utf-8", "replace").split("\n"):
            if not line.strip():
                continue
            try:
                recs.append((line, json.loads(line)))
            except ValueError:
                self.broken += 1
        if recs and recs[0][1].get("type") == "scan":
            self.header = recs.pop(0)[1]
        if recs and recs[-1][1].get("type") == "summary":
            self.summary = recs.pop()[1]
        for line, r in recs:
            self.lines.append(line)
            if r.get("type") == "finding":
                self.findings.append((line, r))
            elif r.get("type") == "file":
                self.files.append(r)


def scan(target, extra):
    return run(["scan", "--key-file", KEY, "--format", "ndjson", "--min-confidence", "low",
                "-q"] + extra + [target])


def below_corpus(path):
    prefix = CORPUS + "/"
    return path[len(prefix):] if path.startswith(prefix) else path


def unit_of(r):
    """The file or member chain a record is about, as text output names it."""
    return "//".join([below_corpus(r["path"])] + r.get("member", []))


def truth_name(r):
    """The name the truth's per-file table uses: the path below the corpus
    directory, or for an archive the member's name."""
    if r.get("member"):
        return "//".join(r["member"])
    return below_corpus(r["path"])


def where(r):
    return "%s:%d:%d %s %s" % (unit_of(r), r["line"], r["column"], r["category"],
                               r["confidence"])


def describe(lines, n=6):
    """The first few finding lines by place and category; never the value."""
    recs = sorted((json.loads(l) for l in lines),
                  key=lambda r: (unit_of(r), r["line"], r["column"], r["category"]))
    return ", ".join(where(r) for r in recs[:n])


def load_truth(name):
    with open(os.path.join(CORPUS, name + ".truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    per_file = {}
    with open(os.path.join(CORPUS, truth["per_file"]), encoding="utf-8") as f:
        cats = f.readline().rstrip("\n").split("\t")[1:]
        for line in f:
            p = line.rstrip("\n").split("\t")
            per_file[p[0]] = dict(zip(cats, map(int, p[1:])))
    return truth, per_file


# --- the checks -----------------------------------------------------------------

def check_report(corpus, rep, truth, per_file):
    """One report on its own: complete, and equal to the truth.  Returns the
    problems found."""
    bad = []
    tag = "%s, %s" % (corpus, rep.label)
    if rep.rc != 1:
        bad.append("%s: exit %d, expected 1 (findings reported, all read): %s" %
                   (tag, rep.rc, rep.stderr.strip()[-300:]))
    if rep.broken:
        bad.append("%s: %d report line%s not JSON" % (tag, rep.broken,
                                                       " is" if rep.broken == 1 else "s are"))
    if rep.header is None:
        return bad + ["%s: the first record is not the scan header" % tag]
    if rep.summary is None:
        return bad + ["%s: the last record is not the summary" % tag]
    # every file and member of these corpora is text that must be read whole
    for r in rep.files:
        bad.append("%s: %s is %s (%s)" % (tag, unit_of(r), r.get("status"), r.get("reason")))
    s = rep.summary
    if s.get("complete") is not True or s.get("interrupted") is not False:
        bad.append("%s: summary says complete=%s, interrupted=%s" %
                   (tag, s.get("complete"), s.get("interrupted")))
    if s.get("files_scanned") != truth["files"]:
        bad.append("%s: %s files scanned, %d in the corpus" %
                   (tag, s.get("files_scanned"), truth["files"]))
    if s.get("below_threshold", {}).get("total") != 0:
        bad.append("%s: %s findings below --min-confidence low" %
                   (tag, s.get("below_threshold", {}).get("total")))
    # per category: the finding records, and what the summary counts
    got = collections.Counter(r["category"] for _, r in rep.findings)
    summed = {c: sum(v.values()) for c, v in s["findings"]["by_category"].items()}
    for c in sorted(set(CATS) | set(got) | set(summed)):
        want = truth["planted"].get(c, 0)
        if got.get(c, 0) != want:
            bad.append("%s: %s: expected %d, got %d finding records" %
                       (tag, c, want, got.get(c, 0)))
        if summed.get(c, 0) != want:
            bad.append("%s: %s: expected %d, the summary counts %d" %
                       (tag, c, want, summed.get(c, 0)))
    if s["findings"]["total"] != len(rep.findings):
        bad.append("%s: the summary counts %d findings, the report holds %d" %
                   (tag, s["findings"]["total"], len(rep.findings)))
    # per file (per member)
    by_file = collections.defaultdict(collections.Counter)
    for _, r in rep.findings:
        by_file[truth_name(r)][r["category"]] += 1
    wrong = []
    for name in sorted(set(per_file) | set(by_file)):
        if name not in per_file:
            wrong.append("%s: not in the truth, got %s" %
                         (name, ", ".join("%s %d" % kv for kv in sorted(by_file[name].items()))))
            continue
        for c in CATS:
            want, have = per_file[name].get(c, 0), by_file[name].get(c, 0)
            if want != have:
                wrong.append("%s %s: expected %d, got %d" % (name, c, want, have))
    if wrong:
        bad.append("%s: %d per-file counts differ: %s" % (tag, len(wrong), "; ".join(wrong[:8])))
    return bad


def compare_reports(corpus, base, other):
    """Two scans of one corpus: the same finding records, the same summary,
    and with -j1 the same order within every unit."""
    bad = []
    tag = "%s, %s vs %s" % (corpus, other.label, base.label)
    a = collections.Counter(l for l, _ in base.findings)
    b = collections.Counter(l for l, _ in other.findings)
    if a != b:
        only_a, only_b = list((a - b).elements()), list((b - a).elements())
        bad.append("%s: findings differ: %d with %s, %d with %s; only with %s: %d [%s]; "
                   "only with %s: %d [%s]" %
                   (tag, len(base.findings), base.label, len(other.findings), other.label,
                    base.label, len(only_a), describe(only_a), other.label, len(only_b),
                    describe(only_b)))
    if base.summary and other.summary:
        sa = {k: v for k, v in base.summary.items() if k not in TIMING}
        sb = {k: v for k, v in other.summary.items() if k not in TIMING}
        diff = sorted(k for k in set(sa) | set(sb) if sa.get(k) != sb.get(k))
        if diff:
            bad.append("%s: summaries differ in %s: %s" %
                       (tag, ", ".join(diff),
                        "; ".join("%s %s vs %s" % (k, json.dumps(sb.get(k)),
                                                   json.dumps(sa.get(k))) for k in diff[:3])))
    if other.label == "-j1":
        bad += compare_unit_order(tag, base, other)
    return bad


def group_by_unit(rep):
    units = collections.OrderedDict()
    for line, r in rep.findings:
        units.setdefault(unit_of(r), []).append(line)
    return units


def compare_unit_order(tag, base, other):
    """Units may interleave with several workers; within a unit, the order is
    that of one thread reading it, however it was split."""
    ua, ub = group_by_unit(base), group_by_unit(other)
    bad = []
    for name in sorted(set(ua) & set(ub)):
        la, lb = ua[name], ub[name]
        if la == lb or sorted(la) != sorted(lb):
            continue    # equal, or a difference in content reported above
        i = next(i for i, (x, y) in enumerate(zip(la, lb)) if x != y)
        bad.append("%s: %s: another order from finding %d of %d on: %s with %s, %s with %s" %
                   (tag, name, i + 1, len(lb), describe([lb[i]]), other.label,
                    describe([la[i]]), base.label))
    return bad[:8]


def compare_whole(corpus, base, other):
    """A single unit: the report (all but header and summary) line for line."""
    if base.lines == other.lines:
        return []
    tag = "%s, %s vs %s" % (corpus, other.label, base.label)
    n = min(len(base.lines), len(other.lines))
    i = next((i for i in range(n) if base.lines[i] != other.lines[i]), n)
    if i == n:
        return ["%s: %d records with %s, %d with %s" %
                (tag, len(base.lines), base.label, len(other.lines), other.label)]

    def show(line):
        r = json.loads(line)
        return where(r) if r["type"] == "finding" else "a %s record" % r["type"]
    return ["%s: record %d of %d differs: %s with %s, %s with %s" %
            (tag, i + 1, n, show(other.lines[i]), other.label, show(base.lines[i]), base.label)]


def scan_corpus(corpus, target, truth_name_, extra_modes=()):
    """Scans the corpus in every mode; returns the reports and the problems
    found in them."""
    truth, per_file = load_truth(truth_name_)
    reps = []
    for label, args in MODES + tuple(extra_modes):
        t0 = time.monotonic()
        reps.append(Report(label, scan(target, args)))
        note("%s %s: %d findings, %.1f s" % (corpus, label, len(reps[-1].findings),
                                              time.monotonic() - t0))
    bad = []
    for rep in reps:
        bad += check_report(corpus, rep, truth, per_file)
    for rep in reps[1:]:
        bad += compare_reports(corpus, reps[0], rep)
    return reps, bad


def no_problems(bad):
    check(not bad, "%d problem%s:\n    %s" % (len(bad), "" if len(bad) == 1 else "s",
                                            "\n    ".join(bad[:20])))


# --- the corpora -------------------------------------------------------------------

@test
def corpora_reach_every_path():
    """The tests below are only as good as their corpora: every kind of file
    present, some files longer than a read chunk (so the text tree and the
    archives split them), and a large file of several segments."""
    kinds = collections.Counter()
    long_files = 0
    for root, _, names in os.walk(os.path.join(CORPUS, "text")):
        for n in names:
            kinds[n.rsplit(".", 1)[-1]] += 1
            long_files += os.path.getsize(os.path.join(root, n)) > CHUNK
    for ext, kind in (("log", "logs"), ("csv", "CSV exports"), ("json", "JSON exports"),
                      ("txt", "letters and notes")):
        check(kinds[ext] > 0, "the text tree holds no %s (*.%s)" % (kind, ext))
    check(long_files >= 2, "%d files of the text tree are longer than a chunk" % long_files)
    headers = set()
    for root, _, names in os.walk(os.path.join(CORPUS, "text")):
        for n in names:
            if n.endswith(".csv"):
                with open(os.path.join(root, n), encoding="utf-8") as f:
                    headers.add(f.readline().split(";")[0].split(",")[0])
    check(len(headers) >= 2, "the CSV exports have one kind of header only")
    small = collections.Counter()
    for root, _, names in os.walk(os.path.join(CORPUS, "small")):
        for n in names:
            small[n.rsplit(".", 1)[-1]] += 1
    check(all(small[e] for e in ("conf", "txt", "csv", "json", "log")),
          "the small tree misses a kind of file: %s" % dict(small))
    size = os.path.getsize(os.path.join(CORPUS, "large.log"))
    check(size >= 8 * SEGMENT, "the large file is %.1f MiB, too short to split well" %
          (size / SEGMENT))
    note("text tree %s; %d files over one chunk; large file %.1f MiB" %
         (dict(sorted(kinds.items())), long_files, size / SEGMENT))


@test
def text_tree():
    no_problems(scan_corpus("text", os.path.join(CORPUS, "text"), "text")[1])


@test
def small_tree():
    no_problems(scan_corpus("small", os.path.join(CORPUS, "small"), "small")[1])


@test
def text_tar_gz():
    no_problems(scan_corpus("text.tar.gz", os.path.join(CORPUS, "text.tar.gz"), "archives")[1])


@test
def text_zip():
    no_problems(scan_corpus("text.zip", os.path.join(CORPUS, "text.zip"), "archives")[1])


@test
def large_file():
    # more threads than cores as well: segments then finish out of order
    reps, bad = scan_corpus("large.log", os.path.join(CORPUS, "large.log"), "large",
                            (("-j4", ["-j", "4"]),))
    by = {r.label: r for r in reps}
    bad += compare_whole("large.log", by["-j1"], by["-j2"]) + \
        compare_whole("large.log", by["-j1"], by["-j4"])
    for label in ("-j2", "-j4"):
        if by[label].summary and by["-j1"].summary and \
                by[label].summary["findings"] != by["-j1"].summary["findings"]:
            bad.append("large.log: the summary's findings differ between %s and -j1: %s vs %s" %
                       (label, json.dumps(by[label].summary["findings"]),
                        json.dumps(by["-j1"].summary["findings"])))
    no_problems(bad)


# -----------------------------------------------------------------------------------

def generate():
    """The corpora, two generator processes at a time; the archives are made
    from the text tree, so they wait for it."""
    gen = os.path.join(A.src, "tools", "gen-corpus")

    def run_gen(jobs):
        for corpus, args in jobs:
            p = subprocess.run([sys.executable, gen, corpus, CORPUS] + args,
                               capture_output=True, timeout=600)
            if p.returncode != 0:
                return "gen-corpus %s failed: %s" % (corpus, p.stderr.decode(errors="replace"))
        return None

    lanes = [[("text", GEN_TEXT), ("archives", GEN_TEXT)],
             [("large", GEN_LARGE), ("small", GEN_SMALL)]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        errors = [e for e in ex.map(run_gen, lanes) if e]
    return errors


def main():
    global A, KEY, CORPUS
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("tests", nargs="*")
    A = ap.parse_args()
    A.bin = os.path.abspath(A.bin)
    A.work = os.path.abspath(A.work)
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    CORPUS = os.path.join(A.work, "corpus")
    t0 = time.monotonic()
    errors = generate()
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print("corpora generated (%.1f s)" % (time.monotonic() - t0))
    # a fixed key, so that fingerprints (compared as part of each record)
    # are the same from run to run
    KEY = os.path.join(A.work, "test.key")
    fd = os.open(KEY, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("speurneus-key-v1 %s\n" % bytes(range(0x40, 0x60)).hex())
    passed = failed = 0
    for fn in RESULTS:
        if A.tests and fn.__name__ not in A.tests:
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1f s)" % (fn.__name__, time.monotonic() - t0))
        except Exception as e:  # report and go on
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e))
            if not isinstance(e, AssertionError):
                traceback.print_exc(limit=3)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
