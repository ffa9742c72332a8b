#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate archive and compressed-file fixtures with planted personal data
and their ground truth.

    tools/gen-archive-fixtures.py OUTDIR [--seed N]

Writes OUTDIR/tree/... and OUTDIR/truth.json.  The tree covers every
compression filter and archive format the scanner reads (made with the real
Debian tools where one exists: bsdtar is deliberately not used, so libarchive
does not only read its own output), nested chains, hostile member names,
encrypted, truncated and corrupt archives, and a nesting chain deeper than
the default limit.  Nothing here is committed: the end-to-end test
(tests/e2e/run_archives.py) generates it into its work directory.

Output is deterministic for a given seed (fixed mtimes, owners and modes,
gzip without name or time, deterministic ar/cpio/7z/ISO options); where a
tool could not be made deterministic the truth is still exact, because it
comes from what was planted, never from a scanner's output.

truth.json holds:
  findings:      [{path, member, line, column, category, normalized, confidence}]
                 path is relative to OUTDIR/tree; member is the chain of member
                 names inside that file, outermost first ([] for a plain file).
  ledger:        [{path, member, status, reason}] records the scanner must write;
                 member is null when any chain is acceptable, and
                 member_any_of (when present) lists the acceptable chains.
  recall_units:  [{path, member}] units that hold the reference CSV, which is
                 also stored plain at recall_reference.
  containers:    paths of every archive or compressed fixture.
  incomplete_only_dir: a directory whose files yield no findings at the
                 default limits, only incomplete records (exit 3).
  escape_members: member names that point outside the tree.
  deep:          {path, max_nesting, findings}: found only with a higher
                 --max-nesting.
  canaries:      every planted value in every written form.

Debian packages used: gzip, bzip2, xz-utils (Python's own modules do these),
zstd, lz4, ncompress, zip, binutils (ar), cpio, 7zip (7zz) or p7zip-full (7z),
xorriso.
"""
import gzip
import bz2
import io
import json
import lzma
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = 1700000000          # fixed mtime for every file and member (2023-11-14)
ZIP_DATE = (2023, 11, 14, 22, 13, 20)
DOS_TIME = (22 << 11) | (13 << 5) | (20 // 2)
DOS_DATE = ((2023 - 1980) << 9) | (11 << 5) | 14
CSV_HEADER = "naam;bsn;iban;telefoon;email"


def read_list(name):
    out = []
    with open(os.path.join(ROOT, "rules", "data", name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


class Gen:
    """Valid values, as in tools/gen-fixtures.py (11-proef, mod-97 with a real
    bank code, 06 mobile numbers), never repeated within one run."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.banks = read_list("nl-bank-codes.txt")
        self.used = set()

    def _unique(self, fn):
        while True:
            v = fn()
            if v not in self.used:
                self.used.add(v)
                return v

    def bsn(self):
        def one():
            while True:
                d = [self.r.randint(1, 9)] + [self.r.randint(0, 9) for _ in range(7)]
                d9 = sum((9 - i) * d[i] for i in range(8)) % 11
                if d9 != 10:
                    return "".join(map(str, d)) + str(d9)
        return self._unique(one)

    def iban(self):
        def one():
            bban = self.r.choice(self.banks) + "".join(
                str(self.r.randint(0, 9)) for _ in range(10))
            num = "".join(str(int(c, 36)) for c in bban + "NL00")
            return "NL%02d%s" % (98 - int(num) % 97, bban)
        return self._unique(one)

    def mobile(self):
        return self._unique(lambda: "06" + str(self.r.choice([1, 2, 3, 4, 5, 8])) + "".join(
            str(self.r.randint(0, 9)) for _ in range(7)))

    def email(self):
        def one():
            first = self.r.choice(["jan", "piet", "anna", "sanne", "fatima", "mohamed", "lotte"])
            last = self.r.choice(["jansen", "devries", "bakker", "visser", "smit", "elamrani"])
            dom = self.r.choice(["example.nl", "voorbeeld.nl", "mail.example.com"])
            return "%s.%s%d@%s" % (first, last, self.r.randint(1, 9999), dom)
        return self._unique(one)

    def filler(self, nbytes):
        """Prose without digits or '@': scanned, never a finding."""
        words = ["de", "het", "een", "klant", "levering", "order", "verzonden", "magazijn",
                 "afdeling", "overleg", "planning", "week", "rapport", "status", "gereed",
                 "controle", "archief", "map", "bestand", "notitie", "akkoord", "vervolg",
                 "team", "project", "budget", "offerte", "contract", "afspraak", "overzicht",
                 "ontvangen", "verwerkt", "zonder", "bijzonderheden", "en", "met", "voor"]
        out, n = [], 0
        while n < nbytes:
            line = " ".join(self.r.choice(words) for _ in range(self.r.randint(6, 12)))
            out.append(line.capitalize() + ".")
            n += len(out[-1]) + 1
        return ("\n".join(out) + "\n").encode()


def e164(phone):
    return "+31" + phone[1:]


class Unit:
    """One text unit (a plain file or the innermost member of a chain) and
    the findings planted in it, relative to the unit."""

    def __init__(self, data, finds):
        self.data = data
        self.finds = finds  # [(line, column, category, normalized, confidence, form)]


def csv_unit(g, rows):
    lines, finds = [CSV_HEADER], []
    for i in range(rows):
        b, ib, ph, em = g.bsn(), g.iban(), g.mobile(), g.email()
        row = "Klant %d;%s;%s;%s;%s" % (i + 1, b, ib, ph, em)
        lines.append(row)
        ln = len(lines)
        for val, cat, norm in ((b, "bsn", b), (ib, "iban", ib), (ph, "phone", e164(ph)),
                               (em, "email", em.lower())):
            finds.append((ln, row.index(val) + 1, cat, norm, "high", val))
    return Unit(("\n".join(lines) + "\n").encode(), finds)


def memo_unit(g, title):
    b, ib, ph, em = g.bsn(), g.iban(), g.mobile(), g.email()
    lines = ["Notitie: %s" % title, "BSN: %s" % b, "IBAN: %s" % ib, "Telefoon: %s" % ph,
             "E-mail: %s" % em, "Einde van de notitie."]
    finds = []
    for ln, (val, cat, norm) in enumerate(((b, "bsn", b), (ib, "iban", ib),
                                           (ph, "phone", e164(ph)),
                                           (em, "email", em.lower())), 2):
        finds.append((ln, lines[ln - 1].index(val) + 1, cat, norm, "high", val))
    return Unit(("\n".join(lines) + "\n").encode(), finds)


def clean_unit(g, nbytes):
    return Unit(g.filler(nbytes), [])


# --- compressors --------------------------------------------------------------

def run_tool(argv, data=None, cwd=None, env=None):
    e = dict(os.environ)
    e.update({"LC_ALL": "C.UTF-8", "TZ": "UTC", "SOURCE_DATE_EPOCH": str(EPOCH)})
    if env:
        e.update(env)
    try:
        p = subprocess.run(argv, input=data, capture_output=True, cwd=cwd, env=e, check=False)
    except FileNotFoundError:
        sys.exit("gen-archive-fixtures: %s is not installed (see tools/bootstrap.sh)" % argv[0])
    if p.returncode != 0:
        sys.exit("gen-archive-fixtures: %s failed: %s" %
                 (" ".join(argv), p.stderr.decode(errors="replace")[-500:]))
    return p.stdout


def which(*names):
    for n in names:
        if shutil.which(n):
            return n
    sys.exit("gen-archive-fixtures: none of %s is installed (see tools/bootstrap.sh)" %
             ", ".join(names))


def c_gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def c_bz2(data):
    return bz2.compress(data, 9)


def c_xz(data):
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)


def c_lzma(data):
    return lzma.compress(data, format=lzma.FORMAT_ALONE)


def c_zst(data):
    return run_tool(["zstd", "-q", "-19", "-c", "--no-progress"], data)


def c_lz4(data):
    return run_tool(["lz4", "-q", "-9", "-c"], data)


def c_Z(data):
    return run_tool(["compress", "-c"], data)


FILTERS = {"gz": c_gz, "bz2": c_bz2, "xz": c_xz, "lzma": c_lzma, "zst": c_zst, "lz4": c_lz4,
           "Z": c_Z}


# --- archive writers: members are [(name, bytes)] ----------------------------

def a_tar(members, fmt=tarfile.PAX_FORMAT):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), EPOCH, 0o644
            ti.uid = ti.gid = 1000
            ti.uname = ti.gname = "export"
            tf.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def a_zip(members, method=zipfile.ZIP_DEFLATED):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, ZIP_DATE)
            zi.compress_type, zi.create_system = method, 3
            zi.external_attr = 0o100644 << 16
            zf.writestr(zi, data)
    return bio.getvalue()


def stage(tmp, members):
    """Write members into a fresh staging directory with fixed metadata."""
    d = tempfile.mkdtemp(dir=tmp)
    for name, data in members:
        p = os.path.join(d, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o644)
    for root, dirs, files in os.walk(d, topdown=False):
        for n in dirs + files:
            os.utime(os.path.join(root, n), (EPOCH, EPOCH))
    os.utime(d, (EPOCH, EPOCH))  # the ISO records the root directory's time too
    return d


def a_zip_streamed(tmp, members):
    """Info-ZIP writing to a pipe: sizes and CRC follow the data in data
    descriptors, as a streaming reader meets them."""
    d = stage(tmp, members)
    return run_tool(["zip", "-q", "-X", "-9", "-", "--"] + [n for n, _ in members], cwd=d)


def a_7z(tmp, members):
    d = stage(tmp, members)
    out = os.path.join(tmp, "out.7z")
    run_tool([which("7zz", "7z"), "a", "-bd", "-bso0", "-t7z", "-mx=9", "-mmt=1", "-mtc=off",
              "-mta=off", out, "--"] + [n for n, _ in members], cwd=d)
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return data


def a_cpio(tmp, members):
    d = stage(tmp, members)
    names = "".join(n + "\n" for n, _ in members).encode()
    return run_tool(["cpio", "--quiet", "-o", "-H", "newc", "--reproducible", "-R", "0:0"],
                    names, cwd=d)


def a_ar(tmp, members):
    d = stage(tmp, members)
    out = os.path.join(tmp, "out.a")
    run_tool(["ar", "rcD", out] + [n for n, _ in members], cwd=d)
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return data


def a_iso(tmp, members):
    d = stage(tmp, members)
    out = os.path.join(tmp, "out.iso")
    run_tool(["xorriso", "-report_about", "FAILURE", "-as", "mkisofs", "-quiet", "-R", "-J",
              "-V", "SPEURNEUS", "-no-pad", "-o", out, d])
    with open(out, "rb") as f:
        data = f.read()
    os.unlink(out)
    return data


# --- a zip writer for what zipfile cannot make (encryption, hand-made entries) --

def _crc_table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        t.append(c)
    return t


CRC_TABLE = _crc_table()


def zipcrypto(data, password, crc, rng):
    """Traditional PKWARE encryption (what `zip -P` writes), with the 12-byte
    header drawn from a seeded generator so the output is reproducible."""
    k = [0x12345678, 0x23456789, 0x34567890]

    def upd(c):
        k[0] = (k[0] >> 8) ^ CRC_TABLE[(k[0] ^ c) & 0xFF]
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = (k[2] >> 8) ^ CRC_TABLE[(k[2] ^ (k[1] >> 24)) & 0xFF]

    for c in password:
        upd(c)
    head = bytes(rng.randrange(256) for _ in range(11)) + bytes([crc >> 24])
    out = bytearray()
    for p in head + data:
        t = (k[2] | 2) & 0xFFFF
        out.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        upd(p)
    return bytes(out)


def zip_entry(name, data, method=8, password=None, rng=None):
    """An entry for zip_build: compressed (raw deflate) and optionally
    encrypted.  Hand-made entries may give "csize" when their data is laid
    out by the caller (overlapping entries)."""
    crc = zlib.crc32(data)
    if method == 8:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        comp = co.compress(data) + co.flush()
    else:
        comp = data
    flags = 0
    if password is not None:
        comp = zipcrypto(comp, password, crc, rng)
        flags |= 1
    return dict(name=name, method=method, flags=flags, crc=crc, comp=comp, usize=len(data))


def local_header(e):
    name = e["name"].encode()
    flags = e["flags"] | (0x800 if not e["name"].isascii() else 0)
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, e["method"], DOS_TIME, DOS_DATE,
                       e["crc"], e.get("csize", len(e["comp"])), e["usize"], len(name),
                       0) + name


def central_header(e, offset):
    name = e["name"].encode()
    flags = e["flags"] | (0x800 if not e["name"].isascii() else 0)
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, flags, e["method"],
                       DOS_TIME, DOS_DATE, e["crc"], e.get("csize", len(e["comp"])),
                       e["usize"], len(name),
                       0, 0, 0, 0, 0o100644 << 16, offset) + name


def end_of_central(n, cd_size, cd_offset):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_offset, 0)


def zip_build(entries):
    """A plain zip (no zip64) from zip_entry() dicts; returns the bytes and
    the offset of each entry's data."""
    out, cd, data_at = bytearray(), bytearray(), []
    for e in entries:
        off = len(out)
        out += local_header(e)
        data_at.append(len(out))
        out += e["comp"]
        cd += central_header(e, off)
    cd_off = len(out)
    out += cd + end_of_central(len(entries), len(cd), cd_off)
    return bytes(out), data_at


# --- the tree -------------------------------------------------------------------

class Tree:
    def __init__(self, out):
        self.out = out
        self.findings, self.ledger, self.canaries = [], [], set()
        self.containers, self.recall_units = [], []

    def write(self, rel, data, container=True):
        path = os.path.join(self.out, "tree", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (EPOCH, EPOCH))
        if container:
            self.containers.append(rel)

    def expect(self, rel, member, unit, only_lines=None):
        for ln, col, cat, norm, conf, form in unit.finds:
            if only_lines is not None and ln not in only_lines:
                continue
            self.findings.append(dict(path=rel, member=list(member), line=ln, column=col,
                                      category=cat, normalized=norm, confidence=conf))
        for f in unit.finds:
            self.canaries.update((f[3], f[5]))

    def record(self, rel, member, status, reason, any_of=None):
        r = dict(path=rel, member=member, status=status, reason=reason)
        if any_of is not None:
            r["member_any_of"] = any_of
        self.ledger.append(r)


def truncate_in_member(tar_gz, tar, start, end):
    """Cut tar_gz so that decompressing it stops in the middle of
    tar[start:end].  The member is large (hundreds of KiB) so that the cut
    lies well past the blocks a decoder delivers before it notices the end
    (libarchive's gzip filter returns 64 KiB at a time)."""
    lo, hi = 0, len(tar_gz)
    while lo < hi:  # the shortest prefix that decompresses past `start`
        mid = (lo + hi) // 2
        d = zlib.decompressobj(31)
        n = len(d.decompress(tar_gz[:mid]))
        if n > (start + end) // 2:
            hi = mid
        else:
            lo = mid + 1
    d = zlib.decompressobj(31)
    n = len(d.decompress(tar_gz[:lo]))
    if not start < n < end:
        sys.exit("gen-archive-fixtures: truncation point not inside the member")
    return tar_gz[:lo]


def corrupt_deflate(zip_data, data_offset):
    """Make one member's deflate data invalid from its first byte: BFINAL=1
    with the reserved block type 3, so no byte of it can be decoded."""
    b = bytearray(zip_data)
    b[data_offset] = 0x07
    b[data_offset + 1] ^= 0xA5
    return bytes(b)


def build(out, seed):
    g = Gen(seed)
    t = Tree(out)
    tmp = tempfile.mkdtemp(prefix="sn-archive-gen-")
    old_umask = os.umask(0o022)
    try:
        _build(g, t, tmp)
    finally:
        os.umask(old_umask)
        shutil.rmtree(tmp, ignore_errors=True)
    t.truth["seed"] = seed
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(t.truth, f, indent=1, ensure_ascii=False)
        f.write("\n")


def _build(g, t, tmp):
    # The reference CSV: the same bytes plain and inside every container, so
    # recall can be compared unit by unit.
    ref = csv_unit(g, 25)
    t.write("plain/klanten.csv", ref.data, container=False)
    t.expect("plain/klanten.csv", [], ref)

    def unit_in(rel, member):
        t.expect(rel, member, ref)
        t.recall_units.append(dict(path=rel, member=list(member)))

    # 1. Every compression filter around the CSV.
    for ext, fn in FILTERS.items():
        rel = "filters/klanten.csv.%s" % ext
        t.write(rel, fn(ref.data))
        unit_in(rel, ["klanten.csv"])

    # 2. Every archive format: the CSV plus a note with its own values.
    def fmt(rel, writer, csv_name="export/klanten.csv", memo_name="notities/memo.txt",
            extra=()):
        memo = memo_unit(g, rel)
        members = [(csv_name, ref.data), (memo_name, memo.data)] + list(extra)
        t.write(rel, writer(members))
        unit_in(rel, [csv_name])
        t.expect(rel, [memo_name], memo)
        return memo

    fmt("formaten/opgeslagen.zip", lambda m: a_zip(m, zipfile.ZIP_STORED))
    fmt("formaten/deflate.zip", lambda m: a_zip(m, zipfile.ZIP_DEFLATED))
    fmt("formaten/gestreamd.zip", lambda m: a_zip_streamed(tmp, m))
    fmt("formaten/ustar.tar", lambda m: a_tar(m, tarfile.USTAR_FORMAT))
    # pax: a name over 100 bytes and a non-ASCII name, both in pax headers
    long_dir = "export/" + "/".join(["maandoverzicht-klantgegevens-2024"] * 4)
    fmt("formaten/pax.tar", lambda m: a_tar(m, tarfile.PAX_FORMAT),
        csv_name=long_dir + "/klanten.csv", memo_name="notities/brief-müller-ëï.txt")
    # gnu: the long name goes into a ././@LongLink entry
    fmt("formaten/gnu.tar", lambda m: a_tar(m, tarfile.GNU_FORMAT),
        csv_name=long_dir + "/gnu/klanten.csv")
    fmt("formaten/klanten.tar.gz", lambda m: c_gz(a_tar(m)))
    fmt("formaten/klanten.tgz", lambda m: c_gz(a_tar(m, tarfile.GNU_FORMAT)))
    fmt("formaten/klanten.tar.bz2", lambda m: c_bz2(a_tar(m)))
    fmt("formaten/klanten.tar.xz", lambda m: c_xz(a_tar(m)))
    fmt("formaten/klanten.tar.zst", lambda m: c_zst(a_tar(m)))
    fmt("formaten/klanten.7z", lambda m: a_7z(tmp, m))
    fmt("formaten/klanten.cpio", lambda m: a_cpio(tmp, m))
    fmt("formaten/klanten.a", lambda m: a_ar(tmp, m), csv_name="klanten.csv",
        memo_name="memo.txt")
    fmt("formaten/klanten.iso", lambda m: a_iso(tmp, m))
    # detected by content: names that say nothing, or the wrong thing
    fmt("formaten/zonder-extensie", lambda m: a_zip(m))
    fmt("formaten/export.dat", lambda m: c_gz(a_tar(m)))

    # 3. Nested chains, three levels and more.
    rel = "genest/backup.tar.gz"
    inner_gz = c_gz(ref.data)
    levering = a_zip([("dump/klanten.csv.gz", inner_gz)])
    memo = memo_unit(g, rel)
    t.write(rel, c_gz(a_tar([("home/export/levering.zip", levering),
                             ("home/export/LEESMIJ.txt", memo.data)])))
    unit_in(rel, ["home/export/levering.zip", "dump/klanten.csv.gz", "klanten.csv"])
    t.expect(rel, ["home/export/LEESMIJ.txt"], memo)

    rel = "genest/bundel.zip"
    brief = memo_unit(g, rel)
    notes_tar = a_tar([("notes/brief.txt.xz", c_xz(brief.data))], tarfile.USTAR_FORMAT)
    t.write(rel, a_zip([("archief/notities.tar", notes_tar)]))
    t.expect(rel, ["archief/notities.tar", "notes/brief.txt.xz", "brief.txt"], brief)

    rel = "genest/kluis.tar"
    memo = memo_unit(g, rel)
    kluis = a_7z(tmp, [("kluis/klanten.csv", ref.data), ("kluis/memo.txt", memo.data)])
    t.write(rel, a_tar([("data/kluis.7z", kluis)]))
    unit_in(rel, ["data/kluis.7z", "kluis/klanten.csv"])
    t.expect(rel, ["data/kluis.7z", "kluis/memo.txt"], memo)

    # 4. Member names that point outside the tree: only names.
    rel = "padnamen/ontsnapping.tar"
    escape = ["../../etc/passwd-klanten.txt", "/tmp/speurneus-absoluut-klanten.txt",
              "../" * 12 + "tmp/speurneus-diep-klanten.txt"]
    units = [memo_unit(g, "%s %d" % (rel, i)) for i in range(len(escape))]
    t.write(rel, a_tar(list(zip(escape, (u.data for u in units))), tarfile.GNU_FORMAT))
    for name, u in zip(escape, units):
        t.expect(rel, [name], u)
    rel = "padnamen/ontsnapping.zip"
    u = memo_unit(g, rel)
    t.write(rel, zip_build([zip_entry("../../etc/passwd-klanten.txt", u.data)])[0])
    t.expect(rel, ["../../etc/passwd-klanten.txt"], u)

    # 5. Problems next to readable data: findings of the readable part are
    # reported, the problem is a record.
    rel = "problemen/versleuteld.zip"
    geheim, open_ = csv_unit(g, 5), memo_unit(g, rel)
    t.write(rel, zip_build([zip_entry("geheim.csv", geheim.data, password=b"geheim",
                                      rng=g.r),
                            zip_entry("open.txt", open_.data)])[0])
    t.expect(rel, ["open.txt"], open_)
    t.canaries.update(f[5] for f in geheim.finds)
    t.record(rel, ["geheim.csv"], "incomplete", "encrypted")

    rel = "problemen/afgebroken.tar.gz"
    first, rest = memo_unit(g, rel), clean_unit(g, 400000)
    tar = a_tar([("eerste.txt", first.data), ("tweede.txt", rest.data)])
    start = 512 * (2 + (len(first.data) + 511) // 512)  # header 1, data 1, header 2
    t.write(rel, truncate_in_member(c_gz(tar), tar, start, start + len(rest.data)))
    t.expect(rel, ["eerste.txt"], first)
    t.record(rel, None, "incomplete", "corrupt", any_of=[["tweede.txt"], []])

    rel = "problemen/beschadigd.zip"
    a, b, c = memo_unit(g, rel + " a"), memo_unit(g, rel + " b"), memo_unit(g, rel + " c")
    z, at = zip_build([zip_entry("deel1/klanten.txt", a.data),
                       zip_entry("deel2/kapot.txt", b.data),
                       zip_entry("deel3/notitie.txt", c.data)])
    t.write(rel, corrupt_deflate(z, at[1]))
    t.expect(rel, ["deel1/klanten.txt"], a)
    t.expect(rel, ["deel3/notitie.txt"], c)
    t.canaries.update(f[5] for f in b.finds)
    t.record(rel, None, "incomplete", "corrupt", any_of=[["deel2/kapot.txt"], []])

    # 6. A member that is not text.
    rel = "media/fotos.zip"
    png = b"\x89PNG\r\n\x1a\n" + bytes(g.r.randrange(256) for _ in range(900))
    lijst = memo_unit(g, rel)
    t.write(rel, a_zip([("paspoort.png", png), ("lijst.txt", lijst.data)]))
    t.expect(rel, ["lijst.txt"], lijst)
    t.record(rel, ["paspoort.png"], "skipped", "image")

    # 7. Nothing readable at the default limits: only records, exit 3.
    d = "onvolledig"
    rel = d + "/versleuteld-alleen.zip"
    u = csv_unit(g, 5)
    t.write(rel, zip_build([zip_entry("geheim.csv", u.data, password=b"geheim", rng=g.r)])[0])
    t.canaries.update(f[5] for f in u.finds)
    t.record(rel, ["geheim.csv"], "incomplete", "encrypted")

    rel = d + "/beschadigd-alleen.zip"
    u = memo_unit(g, rel)
    z, at = zip_build([zip_entry("kapot.txt", u.data)])
    t.write(rel, corrupt_deflate(z, at[0]))
    t.canaries.update(f[5] for f in u.finds)
    t.record(rel, None, "incomplete", "corrupt", any_of=[["kapot.txt"], []])

    rel = d + "/afgebroken-alleen.tar.gz"
    first, rest = clean_unit(g, 3000), clean_unit(g, 400000)
    tar = a_tar([("eerste.txt", first.data), ("tweede.txt", rest.data)])
    start = 512 * (2 + (len(first.data) + 511) // 512)
    t.write(rel, truncate_in_member(c_gz(tar), tar, start, start + len(rest.data)))
    t.record(rel, None, "incomplete", "corrupt", any_of=[["tweede.txt"], []])

    # Eleven containers deep: beyond the default --max-nesting of 8.
    rel = d + "/diep.zip"
    u = memo_unit(g, rel)
    chain = ["niveau-%02d.zip" % i for i in range(1, 11)] + ["diep.txt"]
    data = u.data
    for i in range(len(chain) - 1, 0, -1):
        data = a_zip([(chain[i], data)])
    t.write(rel, a_zip([(chain[0], data)]))
    t.canaries.update(f[5] for f in u.finds)
    t.record(rel, None, "incomplete", "nesting-depth")
    deep = [dict(path=rel, member=chain, line=f[0], column=f[1], category=f[2],
                 normalized=f[3], confidence=f[4]) for f in u.finds]

    t.truth = {
        "findings": t.findings,
        "ledger": t.ledger,
        "recall_reference": {"path": "plain/klanten.csv", "member": []},
        "recall_units": t.recall_units,
        "containers": sorted(t.containers),
        "incomplete_only_dir": d,
        "escape_members": escape,
        "deep": {"path": rel, "max_nesting": 16, "findings": deep},
        "canaries": sorted(t.canaries),
    }


def main():
    args = sys.argv[1:]
    seed = 20261201
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = args[0]
    if os.path.exists(os.path.join(out, "tree")):
        shutil.rmtree(os.path.join(out, "tree"))
    os.makedirs(os.path.join(out, "tree"), exist_ok=True)
    build(out, seed)


if __name__ == "__main__":
    main()
