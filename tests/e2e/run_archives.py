#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of scanning inside compressed files and archives.

The fixtures and their ground truth come from tools/gen-archive-fixtures.py
(what it planted, never the scanner's earlier output), generated into the
work directory on every run.  The tests compare findings and ledger records
with the truth as sets, check that the same CSV gives the same findings
plain and inside every container, run decompression bombs (generated here,
never committed, never written out expanded) under a memory measurement,
and scan many corrupted copies of every fixture for crashes and hangs.
Planted values are never printed on failure: messages name paths, member
chains, lines and categories only.
"""
import argparse
import base64
import collections
import concurrent.futures
import importlib.util
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
import zipfile
import zlib

A = None
TRUTH = None
KEY = None
TREE = None
GEN = None          # the generator, loaded as a module for its zip writer
RESULTS = []

# Reasons a container limit may give (README, scan --help).
LIMIT_REASONS = {"nesting-depth", "member-size", "total-size", "ratio", "entries", "time",
                 "too-large-to-buffer"}
RSS_LIMIT_KIB = 256 * 1024
GIB = 1 << 30


def run(args, timeout=120, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("SPEURNEUS_KEY_FILE", None)
    e["XDG_CONFIG_HOME"] = os.path.join(A.work, "xdg")
    if env:
        e.update(env)
    return subprocess.run([A.bin] + args, capture_output=True, timeout=timeout, env=e, cwd=cwd)


def scan(*args, **kw):
    return run(["scan", "--key-file", KEY] + list(args), **kw)


def records(out):
    return [json.loads(line) for line in out.decode("utf-8").splitlines() if line.strip()]


def rel(r):
    p = r["path"]
    return os.path.relpath(p, TREE) if p.startswith(TREE + "/") else p


def fkey(r):
    return (rel(r), tuple(r.get("member", [])), r["line"], r["category"], r.get("normalized"))


def truth_key(f):
    return (f["path"], tuple(f["member"]), f["line"], f["category"], f["normalized"])


def chain(path, member):
    return "//".join([path] + list(member))


def describe(keys):
    """Per unit: how many, and the first line and category (never a value)."""
    units = collections.defaultdict(list)
    for k in sorted(keys):
        units[chain(k[0], k[1])].append(k)
    return ", ".join("%s (%d, first :%s %s)" % (u, len(ks), ks[0][2], ks[0][3])
                     for u, ks in sorted(units.items())[:8])


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test(fn):
    RESULTS.append(fn)
    return fn


def note(msg):
    print("  " + msg)


_full_scan = None


def full_scan():
    """The whole tree at the default limits, once (several tests read it)."""
    global _full_scan
    if _full_scan is None:
        p = scan("--format", "ndjson", "--reveal", "--min-confidence", "medium", TREE,
                 timeout=300)
        _full_scan = (p, records(p.stdout))
    return _full_scan


# --- 1. findings --------------------------------------------------------------

@test
def findings_match_truth():
    p, recs = full_scan()
    check(recs and recs[0]["type"] == "scan", "first record is not scan")
    check(recs[-1]["type"] == "summary", "last record is not the summary")
    finds = [r for r in recs if r["type"] == "finding"]
    got = {fkey(r) for r in finds}
    want = {truth_key(f) for f in TRUTH["findings"]}
    missing, extra = want - got, got - want
    check(not missing and not extra,
          "missing %d [%s]; unexpected %d [%s]" % (len(missing), describe(missing),
                                                  len(extra), describe(extra)))
    containers = set(TRUTH["containers"])
    bare = [r for r in finds if rel(r) in containers and not r.get("member")]
    check(not bare, "%d findings in containers without member (%s)" %
          (len(bare), ", ".join(sorted({rel(r) for r in bare})[:5])))
    bad = [r for r in finds if "member" in r and (not isinstance(r["member"], list) or
                                                  not r["member"])]
    check(not bad, "member present but not a non-empty list in %d findings" % len(bad))
    check(p.returncode == 1, "whole tree exit %d, expected 1" % p.returncode)


@test
def text_output_shows_member_chain():
    p = scan("--color", "never", os.path.join(TREE, "genest"))
    out = p.stdout.decode("utf-8", "replace")
    for ch in (["backup.tar.gz", "home/export/levering.zip", "dump/klanten.csv.gz",
                "klanten.csv"],
               ["bundel.zip", "archief/notities.tar", "notes/brief.txt.xz", "brief.txt"]):
        pat = re.escape("genest/" + "//".join(ch)) + r":\d+:\d+"
        check(re.search(pat, out), "text output lacks %s:LINE:COL" % "//".join(ch))


# --- 2. ledger and exit codes ----------------------------------------------------

def ledger_matches(r, t):
    if rel(r) != t["path"] or r["status"] != t["status"] or r["reason"] != t["reason"]:
        return False
    m = r.get("member", [])
    if "member_any_of" in t:
        return m in t["member_any_of"]
    return t["member"] is None or m == t["member"]


@test
def ledger_records():
    _, recs = full_scan()
    files = [r for r in recs if r["type"] == "file"]
    for t in TRUTH["ledger"]:
        same = [r for r in files if rel(r) == t["path"]]
        check(any(ledger_matches(r, t) for r in same),
              "no %s/%s record for %s (member %s); got %s" %
              (t["status"], t["reason"], t["path"],
               "any" if t["member"] is None else "//".join(t["member"]),
               [(r["status"], r["reason"], "//".join(r.get("member", []))) for r in same]))
    # A fixture that can be read whole must not be reported as unreadable.
    expected = {(t["path"], t["reason"]) for t in TRUTH["ledger"]}
    odd = [(rel(r), r["reason"]) for r in files
           if r["status"] in ("incomplete", "error") and (rel(r), r["reason"]) not in expected]
    check(not odd, "unexpected incomplete/error records: %s" % odd[:6])
    check(recs[-1]["complete"] is False, "summary claims complete")


@test
def no_fixture_silently_dropped():
    """Every fixture holds planted data or a planted problem, so each must
    give a finding or a record; neither means it was dropped unread."""
    _, recs = full_scan()
    seen = {rel(r) for r in recs if r["type"] in ("finding", "file")}
    dropped = sorted(set(TRUTH["containers"]) - seen)
    check(not dropped, "%d fixtures gave neither findings nor records: %s" %
          (len(dropped), dropped[:8]))


@test
def exit_codes():
    d = os.path.join(TREE, TRUTH["incomplete_only_dir"])
    p = scan("--format", "ndjson", d)
    recs = records(p.stdout)
    check(not [r for r in recs if r["type"] == "finding"],
          "findings in %s, which has none at the default limits" % TRUTH["incomplete_only_dir"])
    check(p.returncode == 3, "only encrypted/corrupt/too deep: exit %d, expected 3" %
          p.returncode)
    reasons = collections.Counter(r["reason"] for r in recs if r["type"] == "file")
    for want in ("encrypted", "corrupt", "nesting-depth"):
        check(reasons[want], "no %s record in %s" % (want, TRUTH["incomplete_only_dir"]))
    p = scan("--allow-incomplete", d)
    check(p.returncode == 0, "--allow-incomplete exit %d" % p.returncode)
    p = scan(os.path.join(TREE, "problemen"))
    check(p.returncode == 1, "findings next to incomplete records: exit %d" % p.returncode)


@test
def nesting_limit_is_configurable():
    deep = TRUTH["deep"]
    path = os.path.join(TREE, deep["path"])
    p = scan("--format", "ndjson", "--reveal", "--max-nesting", str(deep["max_nesting"]), path)
    recs = records(p.stdout)
    got = {fkey(r) for r in recs if r["type"] == "finding"}
    want = {truth_key(f) for f in deep["findings"]}
    check(got == want, "--max-nesting %d: %d of %d findings" %
          (deep["max_nesting"], len(got & want), len(want)))
    check(p.returncode == 1, "--max-nesting %d exit %d" % (deep["max_nesting"], p.returncode))
    check(not [r for r in recs if r["type"] == "file"], "records although nothing was too deep")
    p = scan("--format", "ndjson", "--max-nesting", "1",
             os.path.join(TREE, "genest", "backup.tar.gz"))
    recs = records(p.stdout)
    check([r for r in recs if r["type"] == "file" and r["reason"] == "nesting-depth"],
          "--max-nesting 1 gave no nesting-depth record for a three-level chain")
    check([r for r in recs if r["type"] == "finding" and
           r.get("member") == ["home/export/LEESMIJ.txt"]],
          "--max-nesting 1 lost the first-level member's findings")


@test
def size_and_count_limits():
    tgz = os.path.join(TREE, "formaten", "klanten.tar.gz")

    def reasons(*args):
        p = scan("--format", "ndjson", *args)
        check(p.returncode in (1, 3), "%s: exit %d" % (" ".join(args[:-1]), p.returncode))
        return [(r["reason"], r.get("member", [])) for r in records(p.stdout)
                if r["type"] == "file" and r["status"] == "incomplete"]

    got = reasons("--max-member-size", "1K", tgz)
    check(("member-size", ["export/klanten.csv"]) in got, "--max-member-size 1K: %s" % got)
    got = reasons("--max-total-size", "1K", tgz)
    check([g for g in got if g[0] == "total-size"], "--max-total-size 1K: %s" % got)
    got = reasons("--max-entries", "1", os.path.join(TREE, "formaten", "deflate.zip"))
    check([g for g in got if g[0] == "entries"], "--max-entries 1: %s" % got)
    kluis = os.path.join(TREE, "genest", "kluis.tar")
    with tarfile.open(kluis) as tf:
        size = tf.getmember("data/kluis.7z").size
    check(size > 1024, "fixture: the nested 7z is too small for --max-buffer 1K")
    got = reasons("--max-buffer", "1K", kluis)
    check(("too-large-to-buffer", ["data/kluis.7z"]) in got, "--max-buffer 1K: %s" % got)
    p = scan("--max-ratio", "2.5", tgz)
    check(p.returncode == 2, "--max-ratio takes an integer: exit %d for 2.5" % p.returncode)


@test
def member_names_never_touch_the_file_system():
    base = tempfile.mkdtemp(prefix="sn-escape-", dir=A.work)
    here = os.path.join(base, "a", "b", "c")
    os.makedirs(here)
    for n in ("ontsnapping.tar", "ontsnapping.zip"):
        shutil.copy(os.path.join(TREE, "padnamen", n), here)
    targets = ["/etc/passwd-klanten.txt", "/tmp/speurneus-absoluut-klanten.txt",
               "/tmp/speurneus-diep-klanten.txt"]
    before = {t: os.path.exists(t) for t in targets}
    tmpdir = os.path.join(base, "tmpdir")
    os.makedirs(tmpdir)
    p = scan("--format", "ndjson", "--reveal", here, cwd=here, env={"TMPDIR": tmpdir})
    recs = records(p.stdout)
    members = {tuple(r.get("member", [])) for r in recs if r["type"] == "finding"}
    for name in TRUTH["escape_members"]:
        check((name,) in members, "no finding with member %r" % name)
    found = sorted(os.path.relpath(os.path.join(r, f), base)
                   for r, _, fs in os.walk(base) for f in fs)
    check(found == ["a/b/c/ontsnapping.tar", "a/b/c/ontsnapping.zip"],
          "files appeared next to the scanned archives: %s" % found[:6])
    for t in targets:
        check(os.path.exists(t) == before[t], "%s was created" % t)


# --- 3. the same recall as plain files ------------------------------------------

@test
def same_recall_as_plain():
    _, recs = full_scan()
    units = collections.defaultdict(set)
    for r in recs:
        if r["type"] == "finding":
            units[(rel(r), tuple(r.get("member", [])))].add(
                (r["line"], r["category"], r.get("normalized")))
    ref = TRUTH["recall_reference"]
    base = units[(ref["path"], tuple(ref["member"]))]
    want = sum(1 for f in TRUTH["findings"] if f["path"] == ref["path"])
    check(len(base) == want, "the plain CSV gives %d of %d findings" % (len(base), want))
    worse = []
    for u in TRUTH["recall_units"]:
        got = units[(u["path"], tuple(u["member"]))]
        if got != base:
            worse.append("%s (%d of %d, %d other)" % (chain(u["path"], u["member"]),
                                                      len(got & base), len(base),
                                                      len(got - base)))
    check(not worse, "%d containers differ from the plain file: %s" %
          (len(worse), "; ".join(worse[:6])))


# --- 4. bombs -----------------------------------------------------------------

# Runs the scanner in a fresh process so that RUSAGE_CHILDREN holds the
# scanner alone (not the compressors that made the bomb), with a file-size
# limit: a scanner that wrote an expanded member to disk would die of SIGXFSZ.
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


def measured_scan(target, extra=(), timeout=120):
    base = tempfile.mkdtemp(prefix="sn-bomb-run-", dir=A.work)
    cwd, tmpdir = os.path.join(base, "cwd"), os.path.join(base, "tmp")
    os.makedirs(cwd)
    os.makedirs(tmpdir)
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(A.work, "xdg"), TMPDIR=tmpdir)
    env.pop("SPEURNEUS_KEY_FILE", None)
    out = os.path.join(base, "report.ndjson")
    spec = dict(argv=[A.bin, "scan", "--key-file", KEY, "--format", "ndjson"] + list(extra) +
                [target], cwd=cwd, env=env, out=out, timeout=timeout, fsize=64 << 20)
    p = subprocess.run([sys.executable, "-c", MEASURE, json.dumps(spec)], capture_output=True,
                       timeout=timeout + 60)
    res = json.loads(p.stdout)
    with open(out, "rb") as f:
        res["records"] = records(f.read())
    res["left_behind"] = sorted(os.listdir(cwd)) + sorted(os.listdir(tmpdir))
    shutil.rmtree(base, ignore_errors=True)
    return res


def check_bomb(target, reasons=LIMIT_REASONS):
    siblings = sorted(os.listdir(os.path.dirname(target)))
    res = measured_scan(target)
    check(res["rc"] != "timeout", "no result within the hang guard")
    check(res["rc"] == 3, "exit %s, expected 3 (%s)" % (res["rc"], res["stderr"][-200:]))
    recs = res["records"]
    check(recs and recs[-1]["type"] == "summary", "no summary record")
    hits = [r for r in recs if r["type"] == "file" and r["status"] == "incomplete" and
            r["reason"] in reasons]
    got = [(r["status"], r["reason"]) for r in recs if r["type"] == "file"]
    check(hits, "no incomplete record with a limit reason; got %s" % got[:6])
    check(recs[-1]["complete"] is False, "summary claims complete")
    check(res["maxrss_kib"] < RSS_LIMIT_KIB, "peak RSS %d MiB" % (res["maxrss_kib"] // 1024))
    check(not res["left_behind"], "files written in cwd or TMPDIR: %s" % res["left_behind"][:5])
    check(sorted(os.listdir(os.path.dirname(target))) == siblings,
          "files written next to the bomb")
    note("%s: %.2f s, peak RSS %.1f MiB, %s" % (os.path.basename(target), res["seconds"],
                                                res["maxrss_kib"] / 1024.0,
                                                sorted({r["reason"] for r in hits})))


def bomb_dir(name):
    d = os.path.join(A.work, "bombs", name)
    os.makedirs(d, exist_ok=True)
    return d


def zeros_through(argv, path, nbytes=GIB):
    """Stream zeros through a compressor; the expanded data never exists."""
    chunk = bytes(1 << 20)
    with open(path, "wb") as out:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out)
        for _ in range(nbytes // len(chunk)):
            p.stdin.write(chunk)
        p.stdin.close()
        check(p.wait() == 0, "%s failed" % argv[0])


def zeros_gzip(path, nbytes=GIB):
    # zlib in this process streams faster than the gzip program (same format)
    chunk, co = bytes(1 << 20), zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(path, "wb") as out:
        for _ in range(nbytes // len(chunk)):
            out.write(co.compress(chunk))
        out.write(co.flush())


@test
def member_names_round_trip():
    # a zip member named in UTF-8 (the zip's UTF-8 flag) and a tar member named
    # in Latin-1 bytes: both come out exactly, the latter through member_b64
    d = bomb_dir("names")
    z = os.path.join(d, "namen.zip")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("klanten-café.txt", "BSN: 111222333\n")
    t = os.path.join(d, "namen.tar")
    data = b"BSN: 111222333\n"
    with tarfile.open(t, "w", encoding="latin-1", format=tarfile.USTAR_FORMAT) as tf:
        info = tarfile.TarInfo("klanten-café.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    for path, want in ((z, "klanten-café.txt".encode("utf-8")),
                       (t, "klanten-café.txt".encode("latin-1"))):
        p = scan("--format", "ndjson", path)
        got = []
        for r in records(p.stdout):
            if r["type"] == "finding":
                if "member_b64" in r:
                    got.append(base64.b64decode(r["member_b64"][-1]))
                else:
                    got.append(r["member"][-1].encode("utf-8"))
        check(got == [want], "%s: member name %r" % (os.path.basename(path), got))


@test
def time_limit_stops_a_long_member():
    # 1 GiB of zeros with the ratio and size limits off: only --max-time ends it
    path = os.path.join(bomb_dir("time"), "lang.zst")
    if not os.path.exists(path):
        # 16 GiB: decompressing it takes longer than the one second allowed
        zeros_through(["zstd", "-q", "-c", "-1"], path, 16 * GIB)
    t0 = time.time()
    p = scan("--format", "ndjson", "--max-ratio", "0", "--max-time", "1", path, timeout=120)
    took = time.time() - t0
    got = [r["reason"] for r in records(p.stdout) if r["type"] == "file"]
    check(p.returncode == 3 and got == ["time"], "--max-time 1: exit %d, %s" % (p.returncode, got))
    check(took < 30, "--max-time 1 took %.1f s" % took)


@test
def sparse_tar_holes_are_not_read_as_zeros():
    # an 8 GiB hole between two planted lines: GNU tar stores it as a sparse
    # entry, and reading it must not produce 8 GiB of zeros
    d = bomb_dir("sparse")
    f = os.path.join(d, "gat.txt")
    with open(f, "wb") as out:
        # block-aligned text, so the data region holds no zero padding
        head = b"BSN: 111222333\n" + b"tekst zonder gegevens\n" * 2900
        out.write(head + b"x" * (65536 - len(head) - 1) + b"\n")
        out.seek(8 << 30)
        out.write(b"BSN: 123456782\n")
    tarball = os.path.join(d, "gat.tar")
    subprocess.run(["tar", "-cSf", tarball, "-C", d, "gat.txt"], check=True)
    os.unlink(f)
    check(os.path.getsize(tarball) < 1 << 20, "tar did not store a sparse entry")
    t0 = time.time()
    p = scan("--format", "ndjson", "--reveal", tarball, timeout=120)
    took = time.time() - t0
    recs = records(p.stdout)
    found = sorted(r["normalized"] for r in recs if r["type"] == "finding")
    check(found == ["111222333", "123456782"], "sparse tar: %d findings" % len(found))
    check(recs[-1]["bytes_scanned"] < 1 << 20, "holes were read: %d bytes" % recs[-1]["bytes_scanned"])
    check(took < 30, "sparse tar took %.1f s" % took)


@test
def bomb_zeros_gz():
    path = os.path.join(bomb_dir("gz"), "nullen.gz")
    zeros_gzip(path)
    check_bomb(path)


@test
def bomb_zeros_xz():
    path = os.path.join(bomb_dir("xz"), "nullen.xz")
    zeros_through(["xz", "-c", "-0", "-T1"], path)
    check_bomb(path)


@test
def bomb_zeros_zst():
    path = os.path.join(bomb_dir("zst"), "nullen.zst")
    zeros_through(["zstd", "-q", "-c"], path)
    check_bomb(path)


def deflate_zeros(nbytes):
    chunk, co, crc = bytes(1 << 20), zlib.compressobj(9, zlib.DEFLATED, -15), 0
    parts = []
    while nbytes:
        piece = chunk[:min(nbytes, len(chunk))]
        parts.append(co.compress(piece))
        crc = zlib.crc32(piece, crc)
        nbytes -= len(piece)
    parts.append(co.flush())
    return b"".join(parts), crc


@test
def bomb_recursive_zip():
    """42.zip's shape: 16 copies per level, five levels, a leaf of zeros:
    128 MiB x 16^5 = 128 TiB from a file of some tens of KiB."""
    leaf, crc = deflate_zeros(128 << 20)
    entry = dict(name="0.dll", method=8, flags=0, crc=crc, comp=leaf, usize=128 << 20)
    level = GEN.zip_build([dict(entry, name="%x.dll" % i) for i in range(16)])[0]
    for word in ("page", "doc", "chapter", "book"):
        e = GEN.zip_entry("x", level)
        level = GEN.zip_build([dict(e, name="%s %x.zip" % (word, i)) for i in range(16)])[0]
    path = os.path.join(bomb_dir("42"), "42.zip")
    with open(path, "wb") as f:
        f.write(level)
    note("42.zip: %d bytes" % len(level))
    check_bomb(path, {"nesting-depth", "ratio", "member-size", "total-size", "entries"})


def _gf2_times(mat, vec):
    s, i = 0, 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def crc32_zeros_operator(nbytes):
    """The GF(2) operator that advances a CRC-32 over nbytes zero bytes (the
    method of zlib's crc32_combine), so crc(A || zeros) = op(crc(A)) ^ crc(zeros)."""
    op = [0xEDB88320] + [1 << n for n in range(31)]      # one zero bit
    for _ in range(3):                                    # -> one zero byte
        op = [_gf2_times(op, op[n]) for n in range(32)]
    result = [1 << n for n in range(32)]                  # identity
    while nbytes:
        if nbytes & 1:
            result = [_gf2_times(op, result[n]) for n in range(32)]
        op = [_gf2_times(op, op[n]) for n in range(32)]
        nbytes >>= 1
    return result


def overlapping_zip(n, kernel_bytes):
    """David Fifield's overlapping-entry bomb (quoted local headers): every
    entry's data runs to the end of one shared deflate kernel, and each local
    header after the first is quoted by a stored block in the entry before
    it, so no entry is nested and each expands to the whole kernel."""
    kernel, kcrc = deflate_zeros(kernel_bytes)
    op = crc32_zeros_operator(kernel_bytes)
    names = ["%05d.txt" % i for i in range(n)]
    lfh = [None] * n
    quoted = b""          # the local headers after entry i, as entry i outputs them
    csize = len(kernel)
    for i in range(n - 1, -1, -1):
        crc = _gf2_times(op, zlib.crc32(quoted)) ^ kcrc
        e = dict(name=names[i], method=8, flags=0, crc=crc, comp=b"", csize=csize,
                 usize=len(quoted) + kernel_bytes)
        lfh[i] = GEN.local_header(e)
        if i:
            quoted = lfh[i] + quoted
            csize += 5 + len(lfh[i])
    out, offsets = bytearray(), []
    for i in range(n):
        offsets.append(len(out))
        out += lfh[i]
        if i + 1 < n:
            out += struct.pack("<BHH", 0, len(lfh[i + 1]), len(lfh[i + 1]) ^ 0xFFFF)
    out += kernel
    cd = bytearray()
    total = len(out)
    for i in range(n):
        # the central header repeats what the local header says
        crc, csz, usz = struct.unpack("<III", lfh[i][14:26])
        e = dict(name=names[i], method=8, flags=0, crc=crc, comp=b"", csize=csz, usize=usz)
        cd += GEN.central_header(e, offsets[i])
    out += cd + GEN.end_of_central(n, len(cd), total)
    return bytes(out)


@test
def bomb_overlapping_zip():
    """4000 entries of 4 MiB each (16 GiB) from one 4 KiB kernel: no single
    member is large, only the file as a whole is a bomb."""
    data = overlapping_zip(4000, 4 << 20)
    path = os.path.join(bomb_dir("overlap"), "overlap.zip")
    with open(path, "wb") as f:
        f.write(data)
    note("overlap.zip: %d bytes" % len(data))
    check_bomb(path, LIMIT_REASONS | {"corrupt"})


# --- 5. corrupted copies --------------------------------------------------------

def scan_corrupt(path):
    try:
        p = scan("--format", "ndjson", path, timeout=60)
    except subprocess.TimeoutExpired:
        return "hang"
    if b"AddressSanitizer" in p.stderr or b"runtime error:" in p.stderr:
        m = re.search(rb"(AddressSanitizer: [\w-]+|runtime error: [^\n]{0,80})", p.stderr)
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
    return None


@test
def corrupted_copies_never_crash():
    base = os.path.join(A.work, "corrupt")
    shutil.rmtree(base, ignore_errors=True)
    jobs = []
    for relpath in TRUTH["containers"]:
        with open(os.path.join(TREE, relpath), "rb") as f:
            data = f.read()
        for i in range(20):
            rng = random.Random("%s#%d" % (relpath, i))
            b = bytearray(data)
            for pos in rng.sample(range(len(b)), max(1, len(b) // 100)):
                b[pos] ^= rng.randrange(1, 256)
            d = os.path.join(base, "%s.%02d" % (relpath.replace("/", "_"), i))
            os.makedirs(d)
            path = os.path.join(d, os.path.basename(relpath))
            with open(path, "wb") as f:
                f.write(b)
            jobs.append(path)
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for path, why in zip(jobs, ex.map(scan_corrupt, jobs)):
            if why:
                bad.append("%s: %s" % (os.path.relpath(path, base), why))
    check(not bad, "%d of %d corrupted copies failed: %s" % (len(bad), len(jobs),
                                                             "; ".join(bad[:8])))
    shutil.rmtree(base, ignore_errors=True)
    note("%d corrupted copies of %d fixtures" % (len(jobs), len(TRUTH["containers"])))


def main():
    global A, TRUTH, KEY, TREE, GEN
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
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    gen_path = os.path.join(A.src, "tools", "gen-archive-fixtures.py")
    spec = importlib.util.spec_from_file_location("gen_archive_fixtures", gen_path)
    GEN = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(GEN)
    out = os.path.join(A.work, "gen")
    subprocess.run([sys.executable, gen_path, out], check=True)
    with open(os.path.join(out, "truth.json"), encoding="utf-8") as f:
        TRUTH = json.load(f)
    TREE = os.path.join(out, "tree")
    KEY = os.path.join(A.work, "test.key")
    p = run(["key", "init", "-o", KEY])
    if p.returncode != 0:
        print("key init failed: %s" % p.stderr.decode(errors="replace"))
        sys.exit(1)
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
