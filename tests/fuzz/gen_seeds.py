#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed corpora for the fuzz targets: tests/fuzz/corpus/source/ and text/.

The seeds are small (each under 4 KiB) and byte-for-byte reproducible
(fixed timestamps, owners and compression settings), so they are committed
and this script only needs to run again when a seed is added.  Every planted
value is a public test vector from the detection specification (dutch-pii.md).

    tests/fuzz/gen_seeds.py [--check]

With --check nothing is written; the exit status says whether the committed
seeds match what the script would write.
"""
import base64
import bz2
import gzip
import io
import lzma
import os
import sys
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SEED = 4096
EPOCH = 946684800  # 2000-01-01, a fixed mtime for archive members

CSV = (
    "naam;bsn;iban;telefoon;email;postcode\n"
    "Jan Jansen;111222333;NL91ABNA0417164300;06-12345678;simple@example.com;2601 DC\n"
    "Piet de Vries;123456782;NL39RABO0300065264;+31 20 1234567;x@example.com;1012WX\n"
)
LETTER = (
    "Geachte heer Jansen,\n\n"
    "Uw BSN 1112.22.333 en rekeningnummer NL91 ABNA 0417 1643 00 zijn bij ons bekend.\n"
    "Wij bereiken u op 010 123 4567 of via gené@example.com.\n"
    "Adres: Kerkstraat 12, 2601 DC Delft.\n"
)
# Values straddling the 256-byte chunk borders the text target uses.
PAD = "x" * 250 + " BSN: 111222333 " + "y" * 230 + "\niban NL91ABNA0417164300\n"


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = EPOCH
            info.mode = 0o644
            t.addfile(info, io.BytesIO(data))
    # Trim the zero padding tarfile adds up to a 10 KiB record: the two
    # 512-byte end blocks are what readers need.
    end = sum(512 + (len(data) + 511) // 512 * 512 for _, data in members) + 1024
    return buf.getvalue()[:end]


def zipped(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def gz_layers(data, n):
    for _ in range(n):
        data = gz(data)
    return data


def source_seeds():
    csv = CSV.encode()
    letter = LETTER.encode()
    inner_zip = zipped([("dump/klanten.csv.gz", gz(csv))])
    return {
        # Regressions: a compression magic that libarchive cannot decode came
        # back out unchanged and was opened again, without end (found by
        # fuzz_source as a stack overflow).
        "regress-lz4-magic-only": b"\x04\x22\x4d\x18",
        "regress-gzip-header-junk": b"\x1f\x8b\x08junk",
        "regress-compress-junk": b"\x1f\x9djunk",
        # An SQL dump chunk without candidates reached qsort(NULL, 0)
        # (UBSan nonnull-attribute); found by fuzz_source.
        "regress-sql-no-candidates": base64.b64decode(
            "LS0gUG9zdGdyZVNRZEx0YSBhYmFzZSBkdW1wCgpDUkVBVEUgVEFCTEUgcHVibGljLmtsYW50ZW4gKGlkIGludGVnZXIsIEBuYWFtIHRleHQsIG51bW1lciB0ZXh0KTsKQ09QWSBwdWJsaWMua2xhbnRlbiAoaWQsIG5hYW0sIGJ1cmdlcnNlcnZpY2VudW1tZXIsIGliYW4pIEZST00gc3RkaW47CjEJS2xhLS0gUG9zdGdyZVNRZEx0YSBhYmFzbnQgMAllIGR1bXAKCkNSOUU0QQ=="),
        # More stacked filters than libarchive accepts on one stream.
        "gzip-x30.gz": gz_layers(b"BSN 111222333\n", 30),
        "klanten.csv": csv,
        "brief-utf16le.txt": b"\xff\xfe" + LETTER.encode("utf-16-le"),
        "brief-utf16be-nobom.txt": LETTER.encode("utf-16-be"),
        "klanten.csv.gz": gz(csv),
        "klanten.csv.bz2": bz2.compress(csv, 9),
        "klanten.csv.xz": lzma.compress(csv, preset=6),
        "export.zip": zipped([("klanten.csv", csv), ("brief.txt", letter)]),
        "stored.zip": zipped([("klanten.csv", csv)], zipfile.ZIP_STORED),
        "export.tar": tar([("home/export/klanten.csv", csv),
                           ("../../etc/passwd", b"root:x:0:0:BSN 111222333:/root:/bin/sh\n")]),
        "nested.tar.gz": gz(tar([("home/export/levering.zip", inner_zip)])),
        "truncated.tar.gz": gz(tar([("klanten.csv", csv * 4)]))[:200],
        "empty": b"",
    }


def text_seeds():
    return {
        "utf8.txt": LETTER.encode(),
        "utf8-bom.txt": b"\xef\xbb\xbf" + LETTER.encode(),
        "utf16le-bom.txt": b"\xff\xfe" + LETTER.encode("utf-16-le"),
        "utf16be-bom.txt": b"\xfe\xff" + LETTER.encode("utf-16-be"),
        "utf16le-nobom.txt": CSV.encode("utf-16-le"),
        "cp1252.txt": LETTER.replace("gené", "gene").encode("cp1252")
        + "Caf\u00e9 \u20ac 5,\u00a0tel\u00a006\u00a012345678\n".encode("cp1252"),
        "nbsp-utf8.txt": "IBAN:\u00a0NL91\u00a0ABNA\u00a00417\u00a01643\u00a000\n"
        "tel\u202f06\u202f12345678\n".encode(),
        "chunk-borders.txt": PAD.encode(),
        "klanten.csv": CSV.encode(),
        "crlf.txt": LETTER.replace("\n", "\r\n").encode(),
        "invalid-utf8.txt": b"BSN \xc3\x28 111222333 \xe2\x82 \xf0\x9f\x98 tel 06-12345678\xff\n",
        "empty.txt": b"",
    }


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for sub, seeds in (("source", source_seeds()), ("text", text_seeds())):
        d = os.path.join(HERE, "corpus", sub)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            assert len(data) < MAX_SEED, f"{sub}/{name} is {len(data)} bytes"
            path = os.path.join(d, name)
            if check:
                try:
                    with open(path, "rb") as f:
                        if f.read() != data:
                            stale.append(path)
                except FileNotFoundError:
                    stale.append(path)
                continue
            with open(path, "wb") as f:
                f.write(data)
    for p in stale:
        print(f"stale or missing seed: {p}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
