#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the speurneus CLI.

The fixture tree and its ground truth come from tools/gen-fixtures.py (the
values it planted), never from the scanner's earlier output.  Findings are
compared as sets, since record order follows the scan.  Planted values are
never printed on failure: messages name paths, lines and categories only.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback

A = None
TRUTH = None
KEY = None
TREE = None
RESULTS = []


def run(args, stdin=None, timeout=120, env=None, preexec=None, input_bytes=None):
    e = dict(os.environ)
    e.pop("SPEURNEUS_KEY_FILE", None)
    e["XDG_CONFIG_HOME"] = os.path.join(A.work, "xdg")
    if env:
        e.update(env)
    p = subprocess.run([A.bin] + args, stdin=stdin, input=input_bytes, capture_output=True,
                       timeout=timeout, env=e, preexec_fn=preexec)
    return p


def scan(*args, **kw):
    return run(["scan", "--key-file", KEY] + list(args), **kw)


def records(out):
    recs = []
    for line in out.decode("utf-8").splitlines():
        if line.strip():
            recs.append(json.loads(line))
    return recs


def finding_key(r, root):
    path = os.path.relpath(r["path"], root) if r["path"].startswith(root) else r["path"]
    return (path, r["line"], r["column"], r["category"], r.get("normalized"), r["confidence"])


def expected_set(min_conf="medium"):
    order = {"low": 1, "medium": 2, "high": 3}
    return {(f["path"], f["line"], f["column"], f["category"], f["normalized"], f["confidence"])
            for f in TRUTH["findings"] if order[f["confidence"]] >= order[min_conf]}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test(fn):
    RESULTS.append(fn)
    return fn


def describe(diff):
    return ", ".join("%s:%s:%s %s %s" % (d[0], d[1], d[2], d[3], d[5]) for d in sorted(diff)[:8])


# ---------------------------------------------------------------------------

@test
def truth_findings():
    p = scan("--format", "ndjson", "--reveal", "--sort", "path", TREE)
    check(p.returncode == 1, "exit %d, expected 1 (findings)" % p.returncode)
    recs = records(p.stdout)
    check(recs[0]["type"] == "scan" and recs[0]["version"] == 1, "first record is not scan v1")
    check(recs[-1]["type"] == "summary", "last record is not the summary")
    got = {finding_key(r, TREE + "/") for r in recs if r["type"] == "finding"}
    want = expected_set()
    missing, extra = want - got, got - want
    check(not missing and not extra,
          "missing %d [%s]; unexpected %d [%s]" % (len(missing), describe(missing), len(extra),
                                                  describe(extra)))
    files = {os.path.relpath(r["path"], TREE): r for r in recs if r["type"] == "file"}
    for path, exp in TRUTH["files"].items():
        check(path in files, "no ledger record for %s" % path)
        check(files[path]["status"] == exp["status"] and files[path]["reason"] == exp["reason"],
              "%s: %s/%s, expected %s/%s" % (path, files[path]["status"], files[path]["reason"],
                                             exp["status"], exp["reason"]))
    for r in recs:
        if r["type"] == "finding":
            check(len(r["fingerprint"]) == 64 and r["key_id"] == recs[0]["key_id"],
                  "fingerprint/key_id shape")


@test
def low_threshold_adds_low():
    p = scan("--format", "ndjson", "--reveal", "--min-confidence", "low", TREE)
    got = {finding_key(r, TREE + "/") for r in records(p.stdout) if r["type"] == "finding"}
    check(expected_set("low") <= got, "low threshold lost expected findings")
    check(len(got) >= len(expected_set()), "low threshold reports fewer")


@test
def same_findings_fast_slow_and_threads():
    base = None
    for extra in (["-j", "1"], ["-j", "2"], ["-j", "2", "--slow-path"], ["-j", "4"]):
        p = scan("--format", "ndjson", "--reveal", *extra, TREE)
        got = {finding_key(r, TREE + "/") for r in records(p.stdout) if r["type"] == "finding"}
        if base is None:
            base = got
        check(got == base, "findings differ with %s" % " ".join(extra))


@test
def encodings_give_same_findings():
    p = scan("--format", "ndjson", "--reveal", os.path.join(TREE, "enc"))
    by_file = {}
    for r in records(p.stdout):
        if r["type"] == "finding":
            by_file.setdefault(os.path.basename(r["path"]), set()).add(
                (r["line"], r["column"], r["category"], r["normalized"]))
    check(len(by_file) == 8, "findings in %d of 8 encoded files" % len(by_file))
    sets = list(by_file.values())
    check(all(s == sets[0] for s in sets), "encodings differ: %s" %
          {k: len(v) for k, v in by_file.items()})


@test
def canaries_never_leak_without_reveal():
    for fmt in ("text", "json", "ndjson"):
        for extra in ([], ["--min-confidence", "low"]):
            p = scan("--format", fmt, *extra, TREE)
            blob = p.stdout + p.stderr
            leaked = [c for c in TRUTH["canaries"] if c.encode() in blob]
            check(not leaked, "%d planted values leak in %s output" % (len(leaked), fmt))
    out = os.path.join(A.work, "report.ndjson")
    p = scan("--format", "ndjson", "-o", out, TREE)
    with open(out, "rb") as f:
        blob = f.read()
    check(not [c for c in TRUTH["canaries"] if c.encode() in blob], "leak in -o report")
    # the check itself can fail: with --reveal the values are there
    p = scan("--format", "ndjson", "--reveal", TREE)
    check(sum(1 for c in TRUTH["canaries"] if c.encode() in p.stdout) > 10,
          "--reveal does not show values (canary check would be vacuous)")


@test
def report_file_is_private_and_atomic():
    out = os.path.join(A.work, "r", "report.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    old = os.umask(0)
    try:
        p = scan("--format", "json", "-o", out, TREE)
    finally:
        os.umask(old)
    check(p.returncode == 1, "exit %d" % p.returncode)
    check(stat.S_IMODE(os.stat(out).st_mode) == 0o600, "report mode %o" %
          stat.S_IMODE(os.stat(out).st_mode))
    check(os.listdir(os.path.dirname(out)) == ["report.json"], "temporary files left behind")
    with open(out) as f:
        doc = json.load(f)
    check(doc["version"] == 1 and doc["records"][0]["type"] == "scan" and
          doc["records"][-1]["type"] == "summary", "json document shape")
    # a device is written in place, never renamed over
    p = scan("--format", "ndjson", "-o", "/dev/stdout", os.path.join(TREE, "crm"))
    check(os.path.islink("/dev/stdout") or stat.S_ISCHR(os.stat("/dev/stdout").st_mode),
          "-o /dev/stdout replaced the device")
    check(records(p.stdout)[-1]["type"] == "summary", "-o /dev/stdout wrote no report")
    nd = records(scan("--format", "ndjson", TREE).stdout)
    check(sum(r["type"] == "finding" for r in doc["records"]) ==
          sum(r["type"] == "finding" for r in nd), "json and ndjson disagree")


@test
def text_format_shape():
    p = scan("--color", "never", os.path.join(TREE, "crm", "klanten.csv"))
    lines = [l for l in p.stdout.decode().splitlines() if ":" in l and "  " in l]
    check(lines, "no finding lines")
    first = lines[0].split("  ")
    check(first[0].count(":") >= 2 and first[1] in ("bsn", "iban", "phone", "email", "postcode")
          and first[2] in ("low", "medium", "high"), "text line shape: %r" % first[:3])


@test
def exit_codes():
    clean = os.path.join(TREE, "docs")
    p = scan(clean)
    check(p.returncode == 0, "clean dir exit %d" % p.returncode)
    p = scan("--fail-on", "never", TREE)
    check(p.returncode == 0, "--fail-on never exit %d" % p.returncode)
    p = scan("--format", "ndjson", "--min-confidence", "high", TREE)
    recs = records(p.stdout)
    check(all(r["confidence"] == "high" for r in recs if r["type"] == "finding"),
          "--min-confidence high reported lower")
    # only a low finding: reported with --min-confidence low, fails only with --fail-on low
    d = os.path.join(A.work, "lowonly")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "a.txt"), "w") as f:
        f.write("Referentie 111222333 verwerkt.\n")
    check(scan(d).returncode == 0, "low finding failed at default threshold")
    check(scan("--min-confidence", "low", d).returncode == 0, "low finding failed --fail-on medium")
    check(scan("--min-confidence", "low", "--fail-on", "low", d).returncode == 1,
          "--fail-on low did not fail on a low finding")
    check(scan("--bogus").returncode == 2, "unknown option is not exit 2")
    check(scan("--format", "xml", d).returncode == 2, "bad format is not exit 2")


@test
def rules_errors():
    bad = os.path.join(A.work, "badrules")
    os.makedirs(bad, exist_ok=True)
    with open(os.path.join(bad, "x.yaml"), "w") as f:
        f.write("rules:\n  - id: a\n    category: x\n    patern: 'abc'\n")
    p = scan("--rules", bad, TREE)
    check(p.returncode == 2, "malformed rules exit %d" % p.returncode)
    check(b"x.yaml:4:" in p.stderr, "no file:line:col in rules error")
    empty = os.path.join(A.work, "emptyrules")
    os.makedirs(empty, exist_ok=True)
    check(scan("--rules", empty, TREE).returncode == 2, "empty rule set is not an error")
    check(scan("--rules", os.path.join(A.work, "nope"), TREE).returncode == 2,
          "missing rules dir is not an error")
    p = run(["rules", "test"])
    check(p.returncode == 0, "shipped rules test exit %d: %s" % (p.returncode, p.stdout[-300:]))
    p = run(["rules", "list"])
    check(p.returncode == 0 and p.stdout.count(b"\n") >= 5, "rules list")
    # extra rules add a category
    extra = os.path.join(A.work, "extrarules")
    os.makedirs(extra, exist_ok=True)
    with open(os.path.join(extra, "t.yaml"), "w") as f:
        f.write("- id: test.ticket\n  category: ticket\n  confidence: high\n"
                "  pattern: '(?<![A-Za-z0-9])TCK-[0-9]{6}(?![0-9])'\n")
    d = os.path.join(A.work, "tickets")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "t.txt"), "w") as f:
        f.write("zie TCK-123456 en BSN 111222333\n")
    recs = records(scan("--format", "ndjson", "--extra-rules", extra, d).stdout)
    cats = sorted(r["category"] for r in recs if r["type"] == "finding")
    check(cats == ["bsn", "ticket"], "extra rules: %s" % cats)
    recs = records(scan("--format", "ndjson", "--rules", extra, d).stdout)
    cats = sorted(r["category"] for r in recs if r["type"] == "finding")
    check(cats == ["ticket"], "--rules replaces: %s" % cats)


def drop_privileges():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def unprivileged_install(base):
    """Copy the binary and the shipped rules where an unprivileged user can
    reach them (the build tree may sit in a directory only root can enter);
    the binary finds its rules in ../share/speurneus/rules."""
    os.makedirs(os.path.join(base, "bin"))
    shutil.copy2(A.bin, os.path.join(base, "bin", "speurneus"))
    shutil.copytree(os.path.join(A.src, "rules"), os.path.join(base, "share", "speurneus", "rules"))
    for root, dirs, files in os.walk(base):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            os.chmod(os.path.join(root, n), 0o755 if n == "speurneus" else 0o644)
    return os.path.join(base, "bin", "speurneus")


@test
def unreadable_file_is_incomplete():
    base = tempfile.mkdtemp(prefix="sn-perm-", dir="/tmp")
    try:
        os.chmod(base, 0o755)
        binary = unprivileged_install(base) if os.geteuid() == 0 else A.bin
        d = os.path.join(base, "tree")
        os.makedirs(d)
        os.chmod(d, 0o755)
        with open(os.path.join(d, "open.txt"), "w") as f:
            f.write("niets\n")
        os.chmod(os.path.join(d, "open.txt"), 0o644)
        secret = os.path.join(d, "secret.txt")
        with open(secret, "w") as f:
            f.write("BSN 111222333\n")
        os.chmod(secret, 0o600)
        key = os.path.join(base, "nobody.key")
        run(["key", "init", "-o", key])
        os.chmod(key, 0o644)
        pre = drop_privileges if os.geteuid() == 0 else None
        if pre is None and os.access(secret, os.R_OK):
            raise AssertionError("cannot create an unreadable file as this user")
        xdg = os.path.join(base, "xdg")
        os.makedirs(xdg)
        os.chmod(xdg, 0o777)
        env = dict(os.environ, XDG_CONFIG_HOME=xdg)
        env.pop("SPEURNEUS_RULES_DIR", None)
        p = subprocess.run([binary, "scan", "--key-file", key, "--format", "ndjson", "-q", d],
                           capture_output=True, timeout=60, env=env, preexec_fn=pre)
        check(p.returncode == 3, "unreadable file exit %d, expected 3 (%s)" %
              (p.returncode, p.stderr.decode(errors="replace")[-200:]))
        recs = records(p.stdout)
        errs = [r for r in recs if r["type"] == "file" and r["path"].endswith("secret.txt")]
        check(errs and errs[0]["status"] == "error" and errs[0]["reason"] == "permission-denied",
              "no permission-denied record")
        check(recs[-1]["complete"] is False, "summary claims complete")
        p = subprocess.run([binary, "scan", "--key-file", key, "--allow-incomplete", "-q", d],
                           capture_output=True, timeout=60, env=env, preexec_fn=pre)
        check(p.returncode == 0, "--allow-incomplete exit %d" % p.returncode)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@test
def special_files_and_links():
    d = tempfile.mkdtemp(prefix="sn-special-", dir=A.work)
    os.mkfifo(os.path.join(d, "fifo"))
    with open(os.path.join(d, "a.txt"), "w") as f:
        f.write("BSN 111222333\n")
    os.link(os.path.join(d, "a.txt"), os.path.join(d, "b-hardlink.txt"))
    os.symlink("a.txt", os.path.join(d, "c-symlink.txt"))
    os.symlink(".", os.path.join(d, "loop"))
    p = scan("--format", "ndjson", d, timeout=30)
    recs = records(p.stdout)
    finds = [r for r in recs if r["type"] == "finding"]
    check(len(finds) == 1, "hard link or symlink scanned twice: %d findings" % len(finds))
    files = {os.path.basename(r["path"]): r for r in recs if r["type"] == "file"}
    check(files.get("fifo", {}).get("reason") == "special-file", "fifo not special-file")
    check(files.get("c-symlink.txt", {}).get("reason") == "symlink", "symlink not recorded")
    check(recs[-1]["hardlinks_skipped"] == 1, "hard link not counted")
    p = scan("--format", "ndjson", "--follow", d, timeout=30)
    recs = records(p.stdout)
    check(p.returncode == 1, "--follow exit %d" % p.returncode)
    check(sum(r["type"] == "finding" for r in recs) == 1, "--follow scanned a file twice")


@test
def non_utf8_names_round_trip():
    d = tempfile.mkdtemp(prefix="sn-names-", dir=A.work).encode()
    names = [b"caf\xe9.txt", b"new\nline.txt", b"esc\x1b[31m.txt"]
    for n in names:
        with open(os.path.join(d, n), "wb") as f:
            f.write(b"BSN 111222333\n")
    p = scan("--format", "ndjson", d.decode("utf-8", "surrogateescape"))
    recs = records(p.stdout)
    got = set()
    for r in recs:
        if r["type"] == "finding":
            raw = base64.b64decode(r["path_b64"]) if "path_b64" in r else r["path"].encode()
            got.add(os.path.basename(raw))
    check(got == set(names), "names did not round-trip: %d of %d" % (len(got & set(names)), 3))
    p = scan("--color", "never", d.decode("utf-8", "surrogateescape"))
    check(b"\x1b[31m" not in p.stdout and b"new\nline" not in p.stdout,
          "control characters in names reach the terminal")


@test
def stdin_and_sigterm():
    p = scan("--format", "ndjson", "-", input_bytes=b"BSN: 111222333\n")
    recs = records(p.stdout)
    f = [r for r in recs if r["type"] == "finding"]
    check(p.returncode == 1 and len(f) == 1 and f[0]["path"] == "-", "stdin scan")
    # a pipe that never ends: SIGTERM must give a valid partial report
    e = dict(os.environ, XDG_CONFIG_HOME=os.path.join(A.work, "xdg"))
    proc = subprocess.Popen([A.bin, "scan", "--key-file", KEY, "--format", "ndjson", "-"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=e)
    proc.stdin.write(b"hallo\n" * 1000)
    proc.stdin.flush()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    proc.stdin.close()
    check(proc.returncode == 3, "SIGTERM exit %d, expected 3" % proc.returncode)
    recs = records(out)
    check(recs[-1]["type"] == "summary" and recs[-1]["interrupted"] is True,
          "partial report has no interrupted summary")
    # SIGTERM during a tree walk with findings: exit 1, valid report
    big = os.path.join(A.work, "bigtree")
    if not os.path.exists(big):
        os.makedirs(big)
        line = ("Jan;111222333;NL91ABNA0417164300;" + "x" * 60 + "\n") * 2000
        for i in range(400):
            with open(os.path.join(big, "f%03d.csv" % i), "w") as f:
                f.write(line)
    proc = subprocess.Popen([A.bin, "scan", "--key-file", KEY, "--format", "ndjson", "-j", "1",
                             "--min-confidence", "low", "--fail-on", "low", big],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    recs = records(out)
    check(recs[-1]["type"] == "summary", "no summary after SIGTERM")
    if recs[-1]["interrupted"]:
        check(proc.returncode == 1, "interrupted with findings exit %d" % proc.returncode)


@test
def file_changed_while_read_is_incomplete():
    # Deterministic, whatever the machine's load: every line holds a value,
    # so the scan's output fills the pipe (which is not read meanwhile) long
    # before the file is read to its end; once a finding has come out the
    # scanner is inside the file, and the file grows behind it.
    d = tempfile.mkdtemp(prefix="sn-grow-", dir=A.work)
    path = os.path.join(d, "growing.log")
    with open(path, "w") as f:
        for i in range(50000):
            f.write("BSN 111222333 regel %d\n" % i)
    e = dict(os.environ, XDG_CONFIG_HOME=os.path.join(A.work, "xdg"))
    proc = subprocess.Popen([A.bin, "scan", "--key-file", KEY, "--format", "ndjson", "-j", "1",
                             path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=e)
    head = []
    for line in proc.stdout:
        head.append(line)
        if b'"type":"finding"' in line:
            break
    with open(path, "a") as f:
        f.write("BSN 111222333\n")
    rest = proc.stdout.read()
    proc.wait(timeout=120)
    os.unlink(path)
    recs = records(b"".join(head) + rest)
    files = [r for r in recs if r["type"] == "file"]
    check(files and files[0]["status"] == "incomplete" and files[0]["reason"] == "changed",
          "a file that grew while read was not flagged: %s" % files)
    check(proc.returncode in (1, 3), "exit %d" % proc.returncode)
    check(recs[-1]["files_scanned"] == 0, "a changed file was counted as scanned")


@test
def max_filesize_and_sorted_output():
    recs = records(scan("--format", "ndjson", "--max-filesize", "1K", TREE).stdout)
    big = [r for r in recs if r["type"] == "file" and r["reason"] == "too-large"]
    check(big and all(r["status"] == "skipped" for r in big), "no too-large records")
    check(not [r for r in recs if r["type"] == "finding" and r["path"].endswith("klanten.csv")],
          "a file over --max-filesize was scanned")

    def body(p):
        return [l for l in p.stdout.decode().splitlines()
                if '"type":"finding"' in l or '"type":"file"' in l]
    a = body(scan("--format", "ndjson", "--sort", "path", "-j", "2", TREE))
    b = body(scan("--format", "ndjson", "--sort", "path", "-j", "4", TREE))
    check(a == b and len(a) > 100, "--sort path output differs between runs")


@test
def output_failures_are_exit_2():
    with open("/dev/full", "w") as full:
        p = subprocess.run([A.bin, "scan", "--key-file", KEY, TREE], stdout=full,
                           stderr=subprocess.PIPE, timeout=60)
    check(p.returncode == 2, "full disk exit %d" % p.returncode)
    big = os.path.join(A.work, "bigtree")
    proc = subprocess.Popen([A.bin, "scan", "--key-file", KEY, "--format", "ndjson",
                             "--min-confidence", "low", big],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    proc.wait(timeout=120)
    check(proc.returncode == 2, "broken pipe exit %d" % proc.returncode)


@test
def excludes_and_ignore_files():
    d = tempfile.mkdtemp(prefix="sn-ign-", dir=A.work)
    for rel in ("keep.txt", "skip.log", "sub/keep2.txt", "sub/private/x.txt", "gi.txt"):
        os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
        with open(os.path.join(d, rel), "w") as f:
            f.write("BSN 111222333\n")
    with open(os.path.join(d, ".speurneusignore"), "w") as f:
        f.write("private/\n")
    with open(os.path.join(d, ".gitignore"), "w") as f:
        f.write("gi.txt\n")

    def found(*extra):
        recs = records(scan("--format", "ndjson", *extra, d).stdout)
        return sorted(os.path.relpath(r["path"], d) for r in recs if r["type"] == "finding"), recs

    got, recs = found("--exclude", "*.log")
    check(got == ["gi.txt", "keep.txt", "sub/keep2.txt"], "exclude/ignore: %s" % got)
    check(recs[-1]["files_excluded"] >= 2, "excluded not counted")
    got, _ = found("--respect-gitignore")
    check("gi.txt" not in got and "skip.log" in got, "--respect-gitignore: %s" % got)


def main():
    global A, TRUTH, KEY, TREE
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("tests", nargs="*")
    A = ap.parse_args()
    shutil.rmtree(A.work, ignore_errors=True)
    os.makedirs(A.work)
    os.chmod(A.work, 0o755)
    # The committed fixtures must be exactly what the generator makes, so the
    # truth they are compared with is the generator's, not an edited copy.
    subprocess.run([sys.executable, os.path.join(A.src, "tools", "gen-fixtures.py"),
                    os.path.join(A.work, "gen")], check=True)
    committed = os.path.join(A.src, "fixtures", "e2e")
    cmp = subprocess.run(["diff", "-r", "-q", committed, os.path.join(A.work, "gen")],
                         capture_output=True)
    if cmp.returncode != 0:
        print("FAIL fixtures/e2e differs from tools/gen-fixtures.py output:\n%s"
              % cmp.stdout.decode(errors="replace")[:2000])
        print("0 passed, 1 failed")
        sys.exit(1)
    with open(os.path.join(committed, "truth.json")) as f:
        TRUTH = json.load(f)
    TREE = os.path.join(committed, "tree")
    KEY = os.path.join(A.work, "test.key")
    p = run(["key", "init", "-o", KEY])
    if p.returncode != 0:
        print("key init failed: %s" % p.stderr.decode(errors="replace"))
        sys.exit(1)
    passed = failed = 0
    for fn in RESULTS:
        if A.tests and fn.__name__ not in A.tests:
            continue
        try:
            fn()
            passed += 1
            print("PASS %s" % fn.__name__)
        except Exception as e:  # report and go on
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e))
            if not isinstance(e, AssertionError):
                traceback.print_exc(limit=3)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
