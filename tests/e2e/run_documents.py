#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the document decoders: office files, PDF, mail,
SQLite and the text encodings they lean on.

    run_documents.py BUILD_DIR SOURCE_DIR [--test NAME]...
    run_documents.py --bin speurneus --src SOURCE_DIR --work DIR [--test NAME]...

Two sets of fixtures with their ground truth: tools/gen-doc-fixtures.py
(hand-built from bytes, generated into the work directory on every run, with
plain twins) and fixtures/documents/office (made by LibreOffice with
tools/make-office-fixtures.sh, committed with expected.json).  Both truths
say, per file, which value must be found in which part (the member chain),
with which field and row in a table and at least which confidence; which
ledger records must be written; and what must never be found.  The tests
check findings and records against them, the default threshold, that every
format finds what its plain twin finds (printed as a table per format),
that no planted value leaks without --reveal (also not through library
warnings on damaged input), that nothing a document names is ever loaded,
that SQLite files are left untouched, --max-buffer for documents inside
containers, decompression bombs inside documents, and damaged copies of
every fixture.  Messages name files, parts and categories; the only values
ever printed are planted ones.
"""
import argparse
import collections
import concurrent.futures
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
import zlib

# How the decoders name the parts they hand on.  The truth files use the
# names on the left (a regular expression over one element of the member
# chain); when a decoder names a part differently, change the right side
# here.  Chains are compared joined with "/", so "message 2" + "headers" and
# a single "message 2/headers" are the same chain.
PART_NAMES = [
    (r"page (\d+)", r"page \1"),                          # PDF page text
    (r"page (\d+) annotations", r"page \1 annotations"),  # PDF comments
    (r"properties", "properties"),                        # PDF information dictionary
    (r"headers", "headers"),                              # mail headers
    (r"body", "body"),                                    # mail text/plain
    (r"body\.html", "body.html"),                         # mail text/html
    (r"message (\d+)", r"message \1"),                    # one message of an mbox
]
# Reasons a limit gives (README, Limits).
LIMIT_REASONS = {"nesting-depth", "member-size", "total-size", "ratio", "entries", "time",
                 "too-large-to-buffer"}
LEVEL = {"low": 1, "medium": 2, "high": 3}
RSS_LIMIT_KIB = 256 * 1024

A = None
KEY = None
GEN = None        # the generated fixtures: {"dir", "truth"}
OFFICE = None     # the committed ones: {"dir", "truth"}
RESULTS = []
_scans = {}


def run(args, timeout=300, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("SPEURNEUS_KEY_FILE", None)
    e["XDG_CONFIG_HOME"] = os.path.join(A.work, "xdg")
    if env:
        e.update(env)
    return subprocess.run([A.bin] + args, capture_output=True, timeout=timeout, env=e,
                          cwd=cwd or os.path.join(A.work, "cwd"))


def scan(*args, **kw):
    return run(["scan", "--key-file", KEY] + list(args), **kw)


def records(out):
    return [json.loads(line) for line in out.decode("utf-8").splitlines() if line.strip()]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test(fn):
    RESULTS.append(fn)
    return fn


def note(msg):
    print("  " + msg)


# --- names and keys --------------------------------------------------------------------

def part_name(elem):
    for pat, repl in PART_NAMES:
        if re.fullmatch(pat, elem):
            return re.sub(pat, repl, elem)
    return elem


def want_chain(member):
    return "/".join(part_name(m) for m in member)


def got_chain(r):
    return "/".join(r.get("member", []))


def rel_to(path, base):
    return os.path.relpath(path, base) if os.path.isabs(path) else path


class Truth:
    """One fixture set: its directory (paths in the truth are relative to
    dir/tree_sub), expected findings and records per file."""

    def __init__(self, name, base, tree_sub, truth):
        self.name, self.base, self.tree_sub = name, base, tree_sub
        self.files = truth["files"]
        self.forbidden = set(truth.get("forbidden", []))
        self.canaries = set(truth.get("canaries", []))
        self.label = "" if name == "generated" else " (LibreOffice)"

    def tree_path(self, rel):
        return os.path.join(self.base, self.tree_sub, rel)

    def scan_paths(self):
        """The documents and the twins (never the truth file itself)."""
        paths = [self.tree_path(rel) for rel in sorted(self.files)]
        if self.tree_sub:
            paths = [os.path.join(self.base, self.tree_sub)]
        twins = sorted({f["twin"] for f in self.files.values() if f["twin"]})
        if self.name == "generated":
            twins = ["plain"]
        return paths + [os.path.join(self.base, t) for t in twins]

    def file_of(self, r):
        """(kind, key): ("doc", path in truth) or ("twin", twin dir) or
        ("other", path)."""
        p = os.path.abspath(r["path"])
        tree = os.path.join(self.base, self.tree_sub) if self.tree_sub else self.base
        if p.startswith(tree + "/"):
            rel = os.path.relpath(p, tree)
            if rel in self.files:
                return "doc", rel
        for rel, f in self.files.items():
            t = f["twin"]
            if t and p.startswith(os.path.join(self.base, t) + "/"):
                return "twin", t
        return "other", os.path.relpath(p, self.base)


def say_value(v, canaries):
    return v if v in canaries else "<not planted>"


def scan_set(truth, level):
    """Scan one fixture set once per threshold (several tests read it)."""
    key = (truth.name, level)
    if key not in _scans:
        args = ["--format", "ndjson", "--reveal"]
        if level != "default":
            args += ["--min-confidence", level]
        t0 = time.monotonic()
        p = scan(*(args + truth.scan_paths()), timeout=600)
        check(not p.stderr or b"AddressSanitizer" not in p.stderr,
              "sanitizer report: %s" % p.stderr[-300:])
        recs = records(p.stdout)
        _scans[key] = (p, recs, time.monotonic() - t0)
    return _scans[key]


def by_file(truth, recs):
    docs = collections.defaultdict(list)
    twins = collections.defaultdict(list)
    other = collections.defaultdict(list)
    for r in recs:
        if r["type"] not in ("finding", "file"):
            continue
        kind, key = truth.file_of(r)
        {"doc": docs, "twin": twins, "other": other}[kind][key].append(r)
    return docs, twins, other


# --- 1. findings against the truth --------------------------------------------------------

def compare_findings(truth, recs):
    """Problems: expected findings missing, in the wrong field or row, or
    too low; findings at medium or above that nothing expects; forbidden
    values found."""
    docs, _, other = by_file(truth, recs)
    problems = []
    for rel, f in sorted(truth.files.items()):
        got = [r for r in docs.get(rel, []) if r["type"] == "finding"]
        index = collections.defaultdict(list)
        for r in got:
            index[(got_chain(r), r["category"], r.get("normalized"))].append(r)
        allowed = set()
        for e in f["findings"] + f["optional"]:
            allowed.add((want_chain(e["member"]), e["category"], e["normalized"]))
        for e in f["findings"]:
            k = (want_chain(e["member"]), e["category"], e["normalized"])
            where = "%s//%s %s %s" % (rel, k[0] or "-", e["category"], e["normalized"])
            hits = index.get(k, [])
            if not hits:
                elsewhere = sorted({got_chain(r) or "-" for r in got
                                    if (r["category"], r.get("normalized")) == k[1:]})
                problems.append("missing %s%s" % (where, " (found in %s)" % ", ".join(elsewhere)
                                                  if elsewhere else ""))
                continue
            ctx = [r for r in hits if (r.get("field"), r.get("row")) == (e["field"], e["row"])]
            if not ctx:
                problems.append("%s: field/row %s, expected %s" % (
                    where, sorted({(r.get("field"), r.get("row")) for r in hits}, key=str),
                    (e["field"], e["row"])))
                continue
            best = max(LEVEL[r["confidence"]] for r in ctx)
            if best < LEVEL[e["min_confidence"]]:
                problems.append("%s: confidence %s, expected at least %s" % (
                    where, [k2 for k2, v in LEVEL.items() if v == best][0], e["min_confidence"]))
        for r in got:
            k = (got_chain(r), r["category"], r.get("normalized"))
            if k not in allowed and LEVEL[r["confidence"]] >= LEVEL["medium"]:
                problems.append("unexpected %s//%s %s %s %s" % (
                    rel, k[0] or "-", r["category"], r["confidence"],
                    say_value(r.get("normalized"), truth.canaries)))
    for path, rs in sorted(other.items()):
        for r in rs:
            if r["type"] == "finding" and LEVEL[r["confidence"]] >= LEVEL["medium"]:
                problems.append("unexpected %s//%s %s %s (a file without expectations)" % (
                    path, got_chain(r) or "-", r["category"], r["confidence"]))
    for r in recs:
        field = r.get("field") or ""
        if r["type"] == "finding" and [c for c in truth.canaries if len(c) >= 6 and c in field]:
            problems.append("a planted value is in `field` (shown without --reveal) in %s//%s "
                            "line %d: a line holding the value was taken for a table header" % (
                                rel_to(r["path"], truth.base), got_chain(r) or "-", r["line"]))
        if r["type"] == "finding" and r.get("normalized") in truth.forbidden:
            problems.append("FORBIDDEN value found in %s//%s: a document made the decoder load "
                            "a file it names" % (rel_to(r["path"], truth.base), got_chain(r)))
    return problems


def check_findings(truth):
    p, recs, secs = scan_set(truth, "low")
    check(recs and recs[0]["type"] == "scan" and recs[-1]["type"] == "summary",
          "report is not scan ... summary (exit %d)" % p.returncode)
    problems = compare_findings(truth, recs)
    n = sum(len(f["findings"]) for f in truth.files.values())
    note("%d files, %d expected findings, %d problems, %.1f s" % (len(truth.files), n,
                                                                  len(problems), secs))
    check(not problems, "%d problems:\n    %s" % (len(problems), "\n    ".join(
        summarize(problems))))


def summarize(problems, limit=80):
    """Other problems first, then missing findings grouped by part."""
    missing = collections.OrderedDict()
    rest = []
    for p in problems:
        m = re.match(r"missing (\S+) (\S+ \S+)( .*)?$", p)
        if m and not m.group(3):
            missing.setdefault(m.group(1), []).append(m.group(2))
        else:
            rest.append(p)
    out = rest[:limit]
    for part, vals in missing.items():
        out.append("missing %d in %s: %s%s" % (len(vals), part, ", ".join(vals[:3]),
                                              ", ..." if len(vals) > 3 else ""))
    return out[:limit + 40]


@test
def generated_findings_match_truth():
    check_findings(GEN)


@test
def office_findings_match_expected():
    check_findings(OFFICE)


# --- 2. ledger records ----------------------------------------------------------------------

def check_ledger(truth):
    _, recs, _ = scan_set(truth, "low")
    docs, _, other = by_file(truth, recs)
    problems = []
    for rel, f in sorted(truth.files.items()):
        files = [r for r in docs.get(rel, []) if r["type"] == "file"]
        seen = set()
        for e in f["ledger"]:
            ok = [i for i, r in enumerate(files)
                  if r["status"] == e["status"] and r["reason"] == e["reason"] and
                  (e["member"] is None or got_chain(r) == want_chain(e["member"]))]
            if not ok:
                problems.append("no %s/%s record for %s//%s; got %s" % (
                    e["status"], e["reason"], rel,
                    "any" if e["member"] is None else want_chain(e["member"]) or "-",
                    [(r["status"], r["reason"], got_chain(r)) for r in files]))
            seen.update(ok)
        if f["optional"]:
            continue    # a damaged or hostile file may say more
        for i, r in enumerate(files):
            if i in seen:
                continue
            if r["status"] in ("incomplete", "error") or r["reason"] == "image":
                problems.append("unexpected %s/%s record for %s//%s (%s)" % (
                    r["status"], r["reason"], rel, got_chain(r) or "-", r.get("detail", "")))
        if f["outcome"] and not docs.get(rel):
            problems.append("%s gave neither a finding nor a record" % rel)
    for path, rs in sorted(other.items()):
        for r in rs:
            if r["type"] == "file" and r["status"] in ("incomplete", "error"):
                problems.append("unexpected %s/%s record for %s" % (r["status"], r["reason"],
                                                                    path))
    images = sum(1 for f in truth.files.values() for e in f["ledger"] if e["reason"] == "image")
    got_images = recs[-1].get("images_skipped")
    if got_images != images:
        problems.append("summary counts %s images_skipped, expected %d" % (got_images, images))
    check(not problems, "%d problems:\n    %s" % (len(problems), "\n    ".join(problems[:40])))


@test
def generated_ledger_records():
    check_ledger(GEN)


@test
def office_ledger_records():
    check_ledger(OFFICE)


@test
def legacy_and_encrypted_exit_3():
    """Only unreadable documents: no finding, every one on record, exit 3."""
    d = os.path.join(GEN.base, "tree", "legacy")
    paths = [d, os.path.join(GEN.base, "tree", "pdf", "versleuteld.pdf")]
    p = scan("--format", "ndjson", *paths)
    recs = records(p.stdout)
    check(not [r for r in recs if r["type"] == "finding"], "findings in unreadable documents")
    got = sorted((os.path.basename(r["path"]), r["reason"]) for r in recs if r["type"] == "file")
    want = sorted((os.path.basename(rel), e["reason"]) for rel, f in GEN.files.items()
                  if rel.startswith("legacy/") or rel == "pdf/versleuteld.pdf"
                  for e in f["ledger"])
    check(got == want, "records %s, expected %s" % (got, want))
    check(p.returncode == 3, "exit %d, expected 3" % p.returncode)
    check(recs[-1]["complete"] is False, "summary claims complete")
    check(scan("--allow-incomplete", *paths).returncode == 0, "--allow-incomplete did not give 0")


# --- 3. the default threshold ------------------------------------------------------------------

def check_default(truth):
    p, recs, _ = scan_set(truth, "default")
    check(p.returncode == 1, "exit %d, expected 1" % p.returncode)
    finds = [r for r in recs if r["type"] == "finding"]
    low = [r for r in finds if r["confidence"] == "low"]
    check(not low, "%d low findings reported at the default threshold" % len(low))
    docs, _, _ = by_file(truth, recs)
    missing = []
    for rel, f in sorted(truth.files.items()):
        got = {(got_chain(r), r["category"], r.get("normalized"), r.get("field"), r.get("row"))
               for r in docs.get(rel, []) if r["type"] == "finding"}
        for e in f["findings"]:
            if LEVEL[e["min_confidence"]] < LEVEL["medium"]:
                continue
            k = (want_chain(e["member"]), e["category"], e["normalized"], e["field"], e["row"])
            if k not in got:
                missing.append("%s//%s %s %s" % (rel, k[0] or "-", k[1], k[2]))
    check(not missing, "%d expected findings not reported at the default threshold:\n    %s" %
          (len(missing), "\n    ".join(missing[:40])))
    s = recs[-1]
    check(s["findings"]["total"] == len(finds), "summary total %d, %d records" % (
        s["findings"]["total"], len(finds)))


@test
def default_threshold():
    check_default(GEN)
    check_default(OFFICE)


# --- 4. the same recall as plain text ------------------------------------------------------------

@test
def recall_equals_plain_twin():
    """Per file: of the values planted at medium or above, the document must
    give exactly those its plain twin gives (at the default threshold)."""
    rows = collections.OrderedDict()
    worse = []
    for truth in (GEN, OFFICE):
        _, recs, _ = scan_set(truth, "default")
        docs, twins, _ = by_file(truth, recs)
        for rel, f in sorted(truth.files.items(), key=lambda kv: (kv[1]["format"], kv[0])):
            if not f["twin"]:
                continue
            planted = {(e["category"], e["normalized"]) for e in f["findings"]
                       if LEVEL[e["min_confidence"]] >= LEVEL["medium"]}
            found = {(r["category"], r.get("normalized")) for r in docs.get(rel, [])
                     if r["type"] == "finding"} & planted
            plain = {(r["category"], r.get("normalized")) for r in twins.get(f["twin"], [])
                     if r["type"] == "finding"} & planted
            row = rows.setdefault(f["format"] + truth.label, [0, 0, 0, 0])
            row[0] += 1
            row[1] += len(planted)
            row[2] += len(found)
            row[3] += len(plain)
            if found != plain:
                cats = collections.Counter(c for c, _ in plain - found)
                worse.append("%s: %d of %d (plain twin %d; missing %s)" % (
                    rel, len(found), len(planted), len(plain), dict(cats)))
    note("%-24s %5s %8s %9s %11s" % ("format", "files", "planted", "document", "plain twin"))
    for fmt, (n, planted, found, plain) in rows.items():
        note("%-24s %5d %8d %9d %11d%s" % (fmt, n, planted, found, plain,
                                           "" if found == plain else "   <--"))
    check(not worse, "%d documents find less than their plain twin:\n    %s" % (
        len(worse), "\n    ".join(worse)))


# --- 5. privacy and safety ----------------------------------------------------------------------

def leaked(blob, canaries):
    return sorted(c for c in canaries if len(c) >= 6 and c.encode() in blob)


@test
def no_values_without_reveal():
    for truth in (GEN, OFFICE):
        for fmt in ("ndjson", "text"):
            p = scan("--format", fmt, "--min-confidence", "low", *truth.scan_paths())
            bad = leaked(p.stdout + p.stderr, truth.canaries)
            fields = ""
            if fmt == "ndjson":
                fields = " ".join(r.get("field") or "" for r in records(p.stdout)
                                  if r["type"] == "finding")
            check(not bad, "%d planted values in %s output without --reveal (%s fixtures; "
                  "%d of them in `field`, %d on stderr)" % (
                      len(bad), fmt, truth.name, sum(1 for c in bad if c in fields),
                      sum(1 for c in bad if c.encode() in p.stderr)))
    # the check can fail: with --reveal the values are there
    p = scan("--format", "ndjson", "--reveal", *GEN.scan_paths())
    check(len(leaked(p.stdout, GEN.canaries)) > 20, "--reveal shows no values: vacuous check")


@test
def nothing_a_document_names_is_loaded():
    """The hostile documents name a file (relative: the working directory;
    absolute: a fixed path) through an external entity; its value must never
    be found, and each hostile document still ends in a finding or a record
    within seconds (nested entities included)."""
    hostile = [rel for rel, f in GEN.files.items() if f["format"] == "hostile"]
    check(hostile and GEN.forbidden, "no hostile fixtures")
    t0 = time.monotonic()
    p = scan("--format", "ndjson", "--reveal", "--min-confidence", "low",
             *[GEN.tree_path(rel) for rel in hostile], timeout=120)
    took = time.monotonic() - t0
    recs = records(p.stdout)
    found = [r for r in recs if r["type"] == "finding" and r.get("normalized") in GEN.forbidden]
    check(not found, "the value behind an external entity was found in %s" %
          sorted({rel_to(r["path"], GEN.base) for r in found}))
    for c in GEN.forbidden:
        check(c.encode() not in p.stdout + p.stderr, "the external entity's value is in the output")
    silent = [rel for rel in hostile
              if not [r for r in recs if r["type"] in ("finding", "file") and
                      os.path.abspath(r["path"]) == GEN.tree_path(rel)]]
    check(not silent, "hostile documents dropped silently: %s" % silent)
    check(took < 60, "hostile documents took %.1f s" % took)
    check(p.returncode in (0, 1, 3), "exit %d" % p.returncode)
    note("%.2f s; outcomes: %s" % (took, sorted({(os.path.basename(r["path"]), r["type"],
                                                  r.get("reason", r.get("category")))
                                                 for r in recs if r["type"] in ("finding",
                                                                                "file")})))


def dir_state(d):
    out = {}
    for root, _, files in os.walk(d):
        for n in files:
            p = os.path.join(root, n)
            st = os.stat(p)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = (hashlib.sha256(f.read()).hexdigest(),
                                              st.st_mtime_ns)
    return out


@test
def sqlite_files_untouched():
    dirs = [os.path.join(GEN.base, "tree", d) for d in ("db", "db-wal")]
    before = [dir_state(d) for d in dirs]
    check(before == GEN.db_state, "a database or its log was changed by an earlier scan")
    p = scan("--format", "ndjson", *dirs)
    check(p.returncode in (1, 3), "exit %d" % p.returncode)
    after = [dir_state(d) for d in dirs]
    for d, b, a in zip(dirs, before, after):
        check(a == b, "%s changed: %s" % (os.path.basename(d), sorted(set(a.items()) ^
                                                                      set(b.items()))[:4]))


@test
def max_buffer_for_nested_documents():
    """A zip-based document, a PDF or a database inside a container is held
    in memory: over --max-buffer it is on record, not skipped."""
    want = {("dossier.zip", "brief.docx"), ("dossier.zip", "scan.pdf"),
            ("export.tar.gz", "export/klanten.sqlite")}
    p = scan("--format", "ndjson", "--max-buffer", "1K",
             GEN.tree_path("genest/dossier.zip"), GEN.tree_path("genest/export.tar.gz"))
    recs = records(p.stdout)
    got = {(os.path.basename(r["path"]), got_chain(r)) for r in recs
           if r["type"] == "file" and r["reason"] == "too-large-to-buffer"}
    check(want <= got, "--max-buffer 1K: too-large-to-buffer for %s, expected %s" % (
        sorted(got), sorted(want)))
    check(p.returncode in (1, 3), "exit %d" % p.returncode)


# --- 6. bombs inside documents ----------------------------------------------------------------

MEASURE = r"""
import json, resource, subprocess, sys, time
s = json.loads(sys.argv[1])
def limits():
    resource.setrlimit(resource.RLIMIT_FSIZE, (s["fsize"], s["fsize"]))
t0 = time.monotonic()
with open(s["out"], "wb") as out:
    try:
        p = subprocess.run(s["argv"], cwd=s["cwd"], env=s["env"], stdout=out,
                           stderr=subprocess.PIPE, timeout=s["timeout"], preexec_fn=limits)
        rc, err = p.returncode, p.stderr[-1000:].decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "maxrss_kib": ru.ru_maxrss, "seconds": time.monotonic() - t0,
                  "stderr": err}))
"""


def measured_scan(target, timeout=120):
    """The scanner alone in a fresh process (RUSAGE_CHILDREN is its own),
    with a file-size limit: writing an expanded part to disk would kill it."""
    base = tempfile.mkdtemp(prefix="sn-docbomb-run-", dir=A.work)
    cwd, tmpdir = os.path.join(base, "cwd"), os.path.join(base, "tmp")
    os.makedirs(cwd)
    os.makedirs(tmpdir)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(A.work, "xdg"), TMPDIR=tmpdir)
    env.pop("SPEURNEUS_KEY_FILE", None)
    out = os.path.join(base, "report.ndjson")
    spec = dict(argv=[A.bin, "scan", "--key-file", KEY, "--format", "ndjson", target],
                cwd=cwd, env=env, out=out, timeout=timeout, fsize=64 << 20)
    p = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(spec)], capture_output=True,
                       timeout=timeout + 60)
    res = json.loads(p.stdout)
    with open(out, "rb") as f:
        res["records"] = records(f.read())
    res["left_behind"] = sorted(os.listdir(cwd)) + sorted(os.listdir(tmpdir))
    shutil.rmtree(base, ignore_errors=True)
    return res


def zip_stream(path, members):
    """members: [(name, bytes or a generator of chunks)], deflated as they
    come, so the expanded part never exists in memory or on disk."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 10, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(data, bytes):
                zf.writestr(zi, data)
                continue
            with zf.open(zi, "w", force_zip64=True) as w:
                for chunk in data:
                    w.write(chunk)


def repeat(head, unit, total, tail):
    yield head
    block = unit * ((1 << 20) // len(unit))
    n = 0
    while n < total:
        yield block
        n += len(block)
    yield tail


BOMB_BYTES = 1 << 30


def bomb_docx(path):
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    zip_stream(path, [
        ("[Content_Types].xml", GEN.mod.content_types([], [(
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")])),
        ("_rels/.rels", GEN.mod.rels([("rId1", GEN.mod.RT + "officeDocument",
                                       "word/document.xml")])),
        ("word/document.xml", repeat(b"<w:document %s><w:body>" % w.encode(),
                                     b"<w:p><w:r><w:t>aaaa</w:t></w:r></w:p>", BOMB_BYTES,
                                     b"</w:body></w:document>"))])


def bomb_xlsx(path):
    m = GEN.mod
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    zip_stream(path, [
        ("[Content_Types].xml", m.content_types([], [
            ("xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
            ("xl/worksheets/sheet1.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml")])),
        ("_rels/.rels", m.rels([("rId1", m.RT + "officeDocument", "xl/workbook.xml")])),
        ("xl/workbook.xml", (b'<workbook %s xmlns:r="%s"><sheets><sheet name="Blad1" '
                             b'sheetId="1" r:id="rId1"/></sheets></workbook>' % (
                                 ns, m.NS_R.encode()))),
        ("xl/_rels/workbook.xml.rels", m.rels([("rId1", m.RT + "worksheet",
                                                "worksheets/sheet1.xml")])),
        ("xl/worksheets/sheet1.xml", repeat(
            b"<worksheet %s><sheetData>" % ns,
            b'<row><c t="inlineStr"><is><t>aaaa</t></is></c></row>', BOMB_BYTES,
            b"</sheetData></worksheet>"))])


def bomb_odt(path):
    m = GEN.mod
    content = repeat(b"<office:document-content %s><office:body><office:text>" %
                     m.ODF_NS.encode(), b"<text:p>aaaa</text:p>", BOMB_BYTES,
                     b"</office:text></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as zf:
        # the mimetype first and stored, as ODF requires
        zf.writestr(zipfile.ZipInfo("mimetype", date_time=(2024, 3, 1, 10, 0, 0)),
                    b"application/vnd.oasis.opendocument.text")
        zi = zipfile.ZipInfo("content.xml", date_time=(2024, 3, 1, 10, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(zi, "w", force_zip64=True) as w:
            for chunk in content:
                w.write(chunk)


def bomb_pdf(path):
    """One page whose content stream inflates to 1 GiB of path operators."""
    co = zlib.compressobj(9)
    parts = [co.compress(b"BT /F1 11 Tf 72 770 Td (Inhoud) Tj ET\n")]
    for chunk in repeat(b"", b"0 0 m 1 1 l S\n", BOMB_BYTES, b""):
        parts.append(co.compress(chunk))
    parts.append(co.flush())
    stream = b"".join(parts)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << "
            b"/F1 5 0 R >> >> /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream +
            b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.5\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
    with open(path, "wb") as f:
        f.write(bytes(out))


def check_bomb(make, name):
    d = os.path.join(A.work, "bombs")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    if not os.path.exists(path):
        make(path)
    res = measured_scan(path)
    check(res["rc"] != "timeout", "%s: no result within the hang guard" % name)
    recs = res["records"]
    check(recs and recs[-1]["type"] == "summary", "%s: no summary (exit %s, %s)" % (
        name, res["rc"], res["stderr"][-200:]))
    hits = [r for r in recs if r["type"] == "file" and r["status"] == "incomplete" and
            r["reason"] in LIMIT_REASONS]
    check(hits, "%s: no incomplete record with a limit reason; got %s" % (
        name, [(r["status"], r["reason"]) for r in recs if r["type"] == "file"]))
    check(res["rc"] == 3, "%s: exit %s, expected 3" % (name, res["rc"]))
    check(res["maxrss_kib"] < RSS_LIMIT_KIB, "%s: peak RSS %d MiB" % (name,
                                                                     res["maxrss_kib"] >> 10))
    # A bomb is judged once 16 MiB were produced (README, Limits), so it
    # ends within a few tens of MiB; a ratio judged against the whole file's
    # size instead lets it run to 200 times that.  (Work is checked, not
    # time: tests never assert timings.)
    text = recs[-1].get("bytes_scanned", 0)
    produced = [int(m) for r in hits
                for m in re.findall(r"stopped after (\d+) bytes", r.get("detail") or "")]
    check(text < 32 << 20 and all(p <= 64 << 20 for p in produced),
          "%s: %d MiB of text, %s bytes produced before it stopped (%s)" % (
              name, text >> 20, produced, "; ".join(r.get("detail", "") for r in hits)))
    check(not res["left_behind"], "%s: files written in cwd or TMPDIR" % name)
    note("%s (%d KiB): %.2f s, %.1f MiB of text, peak RSS %.1f MiB, %s" % (
        name, os.path.getsize(path) >> 10, res["seconds"], text / 1048576.0,
        res["maxrss_kib"] / 1024.0, sorted({r["reason"] for r in hits})))


@test
def bombs_inside_documents():
    """1 GiB of markup or drawing operators compressed into one part: the
    budget (ratio, sizes, time) stops the decoder early, in bounded memory."""
    failures = []
    for make, name in ((bomb_docx, "bom.docx"), (bomb_xlsx, "bom.xlsx"),
                       (bomb_odt, "bom.odt"), (bomb_pdf, "bom.pdf")):
        try:
            check_bomb(make, name)
        except AssertionError as e:
            failures.append(str(e))
    check(not failures, "; ".join(failures))


# --- 7. damaged copies ----------------------------------------------------------------------

def scan_damaged(path, canaries):
    try:
        p = scan("--format", "ndjson", "--min-confidence", "low", path, timeout=60)
    except subprocess.TimeoutExpired:
        return "hang"
    if b"AddressSanitizer" in p.stderr or b"runtime error:" in p.stderr or \
            b"LeakSanitizer" in p.stderr:
        m = re.search(rb"((?:Address|Leak)Sanitizer: [\w-]+|runtime error: [^\n]{0,80})",
                      p.stderr)
        return "sanitizer: %s" % (m.group(1).decode(errors="replace") if m else "report")
    if p.returncode < 0:
        return "signal %d" % -p.returncode
    if p.returncode not in (0, 1, 3):
        return "exit %d" % p.returncode
    try:
        recs = records(p.stdout)
    except ValueError:
        return "output is not NDJSON"
    if not recs or recs[-1]["type"] != "summary":
        return "no summary record"
    bad = leaked(p.stdout + p.stderr, canaries)
    if bad:
        fields = " ".join(r.get("field") or "" for r in recs if r["type"] == "finding")
        return "%d planted values in the output without --reveal (%d in `field`, %d on stderr)" % (
            len(bad), sum(1 for c in bad if c in fields),
            sum(1 for c in bad if c.encode() in p.stderr))
    return None


@test
def damaged_copies_never_crash():
    """Every fixture, 12 times with 1 % of its bytes changed and 4 times cut
    short: no crash, hang or sanitizer report, a complete report, and no
    planted value on stdout or stderr (libraries' warnings quote documents)."""
    base = os.path.join(A.work, "damaged")
    shutil.rmtree(base, ignore_errors=True)
    jobs = []
    sources = [(GEN, rel) for rel in GEN.files] + [(OFFICE, rel) for rel in OFFICE.files]
    for truth, rel in sources:
        with open(truth.tree_path(rel), "rb") as f:
            data = f.read()
        for i in range(16):
            rng = random.Random("%s#%d" % (rel, i))
            if i < 12:
                b = bytearray(data)
                for pos in rng.sample(range(len(b)), max(1, len(b) // 100)):
                    b[pos] ^= rng.randrange(1, 256)
            else:
                b = data[:rng.randrange(len(data))]
            d = os.path.join(base, "%s.%s.%02d" % (truth.name, rel.replace("/", "_"), i))
            os.makedirs(d)
            path = os.path.join(d, os.path.basename(rel))
            with open(path, "wb") as f:
                f.write(b)
            jobs.append((path, truth.canaries))
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for (path, _), why in zip(jobs, ex.map(lambda j: scan_damaged(*j), jobs)):
            if why:
                bad.append("%s: %s" % (os.path.relpath(path, base), why))
    check(not bad, "%d of %d damaged copies failed:\n    %s" % (len(bad), len(jobs),
                                                               "\n    ".join(bad[:12])))
    shutil.rmtree(base, ignore_errors=True)
    note("%d damaged copies of %d fixtures" % (len(jobs), len(sources)))


@test
def generator_is_deterministic():
    other = os.path.join(A.work, "gen-again")
    shutil.rmtree(other, ignore_errors=True)
    subprocess.run([sys.executable, GEN.mod_path, other], check=True, timeout=300)
    a, b = dir_state(GEN.base), dir_state(other)
    strip = lambda s: {k: v[0] for k, v in s.items()}
    diff = sorted(set(strip(a).items()) ^ set(strip(b).items()))
    check(not diff, "two runs differ: %s" % sorted({k for k, _ in diff})[:8])
    shutil.rmtree(other, ignore_errors=True)


# ---------------------------------------------------------------------------------------

def main():
    global A, KEY, GEN, OFFICE
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir", nargs="?")
    ap.add_argument("source_dir", nargs="?")
    ap.add_argument("--bin")
    ap.add_argument("--src")
    ap.add_argument("--work")
    ap.add_argument("--test", action="append", default=[], help="run only this test")
    A = ap.parse_args()
    if not A.bin:
        if not A.build_dir:
            ap.error("BUILD_DIR SOURCE_DIR or --bin/--src/--work are needed")
        A.bin = os.path.join(A.build_dir, "speurneus")
        A.src = A.src or A.source_dir
        A.work = A.work or os.path.join(A.build_dir, "tests", "e2e", "work-documents")
    if not A.src or not A.work:
        ap.error("--src and --work are needed with --bin")
    A.bin = os.path.abspath(A.bin)
    A.src = os.path.abspath(A.src)
    A.work = os.path.abspath(A.work)
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(os.path.join(A.work, "cwd"))
    sys.dont_write_bytecode = True

    gen_path = os.path.join(A.src, "tools", "gen-doc-fixtures.py")
    spec = importlib.util.spec_from_file_location("gen_doc_fixtures", gen_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gen_dir = os.path.join(A.work, "gen")
    subprocess.run([sys.executable, gen_path, gen_dir], check=True, timeout=300)
    with open(os.path.join(gen_dir, "truth.json"), encoding="utf-8") as f:
        gt = json.load(f)
    GEN = Truth("generated", gen_dir, "tree", gt)
    GEN.mod, GEN.mod_path = mod, gen_path
    GEN.db_state = [dir_state(os.path.join(gen_dir, "tree", d)) for d in ("db", "db-wal")]
    office_dir = os.path.join(A.src, "fixtures", "documents", "office")
    with open(os.path.join(office_dir, "expected.json"), encoding="utf-8") as f:
        OFFICE = Truth("office", office_dir, "", json.load(f))
    # the files the hostile documents name: in the scanner's working
    # directory, and at the absolute path
    for name, content in gt["xxe_files"].items():
        with open(os.path.join(A.work, "cwd", name), "w") as f:
            f.write(content)
    with open(gt["xxe_abs"], "w") as f:
        f.write(next(iter(gt["xxe_files"].values())))

    KEY = os.path.join(A.work, "test.key")
    p = run(["key", "init", "-o", KEY])
    if p.returncode != 0:
        print("key init failed: %s" % p.stderr.decode(errors="replace"))
        sys.exit(1)
    passed = failed = 0
    try:
        for fn in RESULTS:
            if A.test and fn.__name__ not in A.test:
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
    finally:
        try:
            os.unlink(gt["xxe_abs"])
        except OSError:
            pass
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
