#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of `speurneus scan --progress` under a pseudo-terminal.

The scan reads standard input from a pipe that the test holds open, so the
status line is known to be drawn while the scan waits for more input: no
test depends on how long anything takes (waits have a deadline only so a
broken build cannot hang the suite).  Checked: the line is drawn on the
terminal's stderr with carriage returns and fits its width; stdout (a file)
gets the report and not one byte of progress; the line is erased before the
summary; a report written to the same terminal stays readable line by line;
SIGINT (^C typed on the terminal) still gives a partial report; without a
terminal nothing is drawn and the report is the same.  Values are never
printed on failure.
"""
import argparse
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
import traceback

A = None
KEY = None
COLS = 80
BSN = b"111222333"  # passes the 11-proef; test vector, not a person
LINE = b"klant burgerservicenummer: " + BSN + b" belde over de levering\n"
DEADLINE = 120  # seconds; a bound for a broken build, not a measurement
PROGRESS = re.compile(rb"\r(stopping  )?\d+ files?  [\d.]+ [kMGT]?B  [\d.]+ [kMGT]?B/s  "
                      rb"\d+ findings?")
RESULTS = []


def env():
    e = dict(os.environ)
    e.pop("SPEURNEUS_KEY_FILE", None)
    e.pop("COLUMNS", None)
    e["XDG_CONFIG_HOME"] = os.path.join(A.work, "xdg")
    return e


class Tty:
    """A pseudo-terminal as the scan's controlling terminal; a thread drains
    it, as a terminal would, so the scan never blocks on writing to it."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, COLS, 0, 0))
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.th = None

    def preexec(self):
        os.setsid()
        fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)

    def start(self):
        os.close(self.slave)
        self.th = threading.Thread(target=self._drain, daemon=True)
        self.th.start()

    def _drain(self):
        while True:
            try:
                d = os.read(self.master, 65536)
            except OSError:
                return
            if not d:
                return
            with self.lock:
                self.buf += d

    def data(self):
        with self.lock:
            return bytes(self.buf)

    def wait_for(self, rx, what):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if rx.search(self.data()):
                return
            time.sleep(0.05)
        raise AssertionError("no %s on the terminal within %d s" % (what, DEADLINE))

    def finish(self):
        if self.th:
            self.th.join(DEADLINE)
        os.close(self.master)


def spawn(args, tty, stdout):
    return subprocess.Popen([A.bin, "scan", "--key-file", KEY] + args, stdin=subprocess.PIPE,
                            stdout=stdout, stderr=tty.slave, env=env(),
                            preexec_fn=tty.preexec)


def records(data):
    return [json.loads(l) for l in data.decode("utf-8").splitlines() if l.strip()]


def finding_set(recs):
    return {(r["path"], r["line"], r["column"], r["category"], r["confidence"], r["fingerprint"])
            for r in recs if r["type"] == "finding"}


def reference(args, stdin):
    """The same scan without --progress and without a terminal."""
    p = subprocess.run([A.bin, "scan", "--key-file", KEY] + args, input=stdin,
                       capture_output=True, env=env(), timeout=DEADLINE)
    return p


def screen(data):
    """What a terminal shows: lines after carriage returns, backspaces and
    overwriting are applied."""
    lines, cur, col = [], [], 0
    for ch in data.decode("utf-8", "replace"):
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(cur).rstrip())
            cur, col = [], 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.extend(" " * (col - len(cur)))
                cur.append(ch)
            col += 1
    lines.append("".join(cur).rstrip())
    return lines


def check_drawn(err):
    assert PROGRESS.search(err), "no progress line on stderr"
    assert BSN not in err, "a raw value reached the terminal"
    for seg in err.split(b"\r"):
        text = seg.replace(b"\r\n", b"").decode("utf-8", "replace")
        assert len(text.rstrip(" \b")) < COLS, "a progress line wider than the terminal"
    # the line was erased at the end: spaces over it, cursor back at column 0
    assert re.search(rb"\r +\r$", err), "the progress line was not erased at the end"
    assert screen(err)[-1] == "", "something of the progress line stays on screen"


def test_tty_stderr_file_stdout():
    demo = os.path.join(A.src, "fixtures", "demo")
    args = ["--progress", "--format", "ndjson", "-j2", "-", demo]
    tty = Tty()
    out_path = os.path.join(A.work, "progress-stdout.ndjson")
    with open(out_path, "wb") as out:
        p = spawn(args, tty, out)
    tty.start()
    try:
        p.stdin.write(LINE * 20)
        p.stdin.flush()
        # drawn while the scan waits for the rest of stdin
        tty.wait_for(re.compile(rb"\r\d+ files?  .*  stdin"), "progress line naming stdin")
        p.stdin.write(LINE * 20)
        p.stdin.close()
        rc = p.wait(DEADLINE)
    finally:
        if p.poll() is None:
            p.kill()
        tty.finish()
    err = tty.data()
    with open(out_path, "rb") as f:
        out = f.read()
    assert rc == 1, "exit %d, expected 1" % rc
    check_drawn(err)
    assert b"\r" not in out and b"\b" not in out, "progress bytes in stdout"
    recs = records(out)
    assert recs[0]["type"] == "scan" and recs[-1]["type"] == "summary", "report not intact"
    s = recs[-1]
    assert s["complete"] and not s["interrupted"]
    assert s["findings"]["total"] == sum(1 for r in recs if r["type"] == "finding")
    ref = reference(["--format", "ndjson", "-j2", "-", demo], LINE * 40)
    assert ref.returncode == 1
    rrecs = records(ref.stdout)
    assert finding_set(recs) == finding_set(rrecs), "--progress changed the findings"
    for k in ("files_scanned", "bytes_scanned", "status", "findings"):
        assert s[k] == rrecs[-1][k], "summary field %s differs from a scan without --progress" % k


def test_no_tty_nothing_drawn():
    args = ["--progress", "--format", "ndjson", "-j2", "-"]
    p = reference(args, LINE * 40)
    assert p.returncode == 1
    assert p.stderr == b"", "stderr is not a terminal, yet something was written to it"
    ref = reference(args[1:], LINE * 40)
    assert finding_set(records(p.stdout)) == finding_set(records(ref.stdout))
    # also with stdout on the terminal and stderr not: nothing drawn anywhere
    tty = Tty()
    q = subprocess.Popen([A.bin, "scan", "--key-file", KEY, "--progress", "--color", "never",
                          "-"], stdin=subprocess.PIPE, stdout=tty.slave,
                         stderr=subprocess.PIPE, env=env(), preexec_fn=tty.preexec)
    tty.start()
    try:
        _, qerr = q.communicate(LINE * 5, timeout=DEADLINE)
    finally:
        if q.poll() is None:
            q.kill()
        tty.finish()
    assert q.returncode == 1
    assert qerr == b""
    assert not PROGRESS.search(tty.data()), "a progress line without a terminal on stderr"


def test_sigint_partial_report():
    tty = Tty()
    out_path = os.path.join(A.work, "progress-sigint.ndjson")
    with open(out_path, "wb") as out:
        p = spawn(["--progress", "--format", "ndjson", "-"], tty, out)
    tty.start()
    try:
        p.stdin.write(LINE * 5)
        p.stdin.flush()
        tty.wait_for(PROGRESS, "progress line")
        os.write(tty.master, b"\x03")  # ^C typed on the terminal: SIGINT
        rc = p.wait(DEADLINE)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdin.close()
        tty.finish()
    err = tty.data()
    with open(out_path, "rb") as f:
        recs = records(f.read())
    assert rc in (1, 3), "exit %d after SIGINT" % rc
    check_drawn(err)
    s = recs[-1]
    assert s["type"] == "summary" and s["interrupted"] and not s["complete"], \
        "no partial report after SIGINT"


def test_report_on_the_same_terminal():
    """stdout and stderr on one terminal: every report line is shown whole,
    and nothing of the status line remains between them."""
    tty = Tty()
    p = spawn(["--progress", "--color", "never", "-"], tty, tty.slave)
    tty.start()
    try:
        p.stdin.write(LINE * 10)
        p.stdin.flush()
        tty.wait_for(PROGRESS, "progress line")
        p.stdin.write(LINE * 10)
        p.stdin.close()
        rc = p.wait(DEADLINE)
    finally:
        if p.poll() is None:
            p.kill()
        tty.finish()
    assert rc == 1
    data = tty.data()
    assert BSN not in data
    shown = [l for l in screen(data) if l]
    ref = reference(["--color", "never", "-"], LINE * 20)
    want = [l for l in ref.stdout.decode("utf-8").splitlines() if l]
    # the summary's duration may differ; everything else is the same text
    norm = lambda ls: [re.sub(r" in [\d.]+ s:", " in - s:", l) for l in ls]
    assert norm(shown) == norm(want), "the report on the terminal is not the plain report"


TESTS = [test_tty_stderr_file_stdout, test_no_tty_nothing_drawn, test_sigint_partial_report,
         test_report_on_the_same_terminal]


def main():
    global A, KEY
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("tests", nargs="*")
    A = ap.parse_args()
    os.makedirs(A.work, exist_ok=True)
    KEY = os.path.join(A.work, "key")
    if not os.path.exists(KEY):
        subprocess.run([A.bin, "key", "init", "-o", KEY], check=True, capture_output=True)
    failed = 0
    for t in TESTS:
        if A.tests and t.__name__ not in A.tests:
            continue
        try:
            t()
            print("PASS", t.__name__)
        except Exception:
            failed += 1
            print("FAIL", t.__name__)
            traceback.print_exc()
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
