#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate a benchmark text tree: realistic mixed files (logs, CSV exports,
JSON, notes) with sparse and dense personal data and near misses.

    tools/gen-corpus.py OUTDIR [--mb 256] [--files 2000] [--seed 1]

Writes OUTDIR/text/... and OUTDIR/truth.json with the number of planted valid
values per category (by construction, independent of the scanner).  Fixed seed:
the same arguments give the same bytes.
"""
import argparse
import json
import os
import random


def bsn(r):
    while True:
        d = [r.randint(1, 9)] + [r.randint(0, 9) for _ in range(7)]
        c = sum((9 - i) * d[i] for i in range(8)) % 11
        if c < 10:
            return "".join(map(str, d)) + str(c)


BANKS = ["ABNA", "RABO", "INGB", "SNSB", "TRIO", "KNAB", "BUNQ", "ASNB", "RBRB"]


def iban(r):
    bban = r.choice(BANKS) + "".join(str(r.randint(0, 9)) for _ in range(10))
    num = "".join(str(int(c, 36)) for c in bban + "NL00")
    return "NL%02d%s" % (98 - int(num) % 97, bban)


def phone(r):
    return "06" + str(r.choice([1, 2, 3, 4, 5, 8])) + "".join(str(r.randint(0, 9)) for _ in range(7))


def postcode(r):
    while True:
        s = "".join(r.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
        if s not in ("SA", "SD", "SS"):
            return "%d %s" % (r.randint(1000, 9999), s)


def email(r):
    return "%s.%s%d@%s" % (r.choice(["jan", "anna", "piet", "sara", "youssef"]),
                           r.choice(["jansen", "bakker", "visser", "smit"]), r.randint(1, 9999),
                           r.choice(["example.nl", "voorbeeld.nl"]))


WORDS = ("de het een en van in is op te dat met voor niet zijn aan ook als bij er maar om "
         "klant order levering status verwerkt rapport systeem gebruiker sessie melding "
         "factuur totaal bedrag datum opmerking afdeling project planning").split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    r = random.Random(a.seed)
    truth = {"bsn": 0, "iban": 0, "phone": 0, "email": 0, "postcode": 0}
    per_file = a.mb * 1024 * 1024 // a.files
    base = os.path.join(a.out, "text")
    for i in range(a.files):
        kind = i % 4
        d = os.path.join(base, "d%02d" % (i % 50))
        os.makedirs(d, exist_ok=True)
        parts, size, n = [], 0, 0
        if kind == 1:
            parts.append("id;naam;bsn;iban;telefoon;email;postcode\n")
        while size < per_file:
            n += 1
            if kind == 0:  # logs, sparse data, near misses
                if n % 50 == 0:
                    line = "2024-03-14T09:%02d:%02dZ INFO klant %s gewijzigd\n" % (
                        n % 60, n % 60, email(r))
                    truth["email"] += 1
                elif n % 7 == 0:
                    line = "2024-03-14T09:%02d:%02dZ INFO order %09d status %d\n" % (
                        n % 60, n % 60, r.randint(0, 999999999), r.randint(100, 599))
                else:
                    line = "2024-03-14T09:%02d:%02dZ DEBUG %s\n" % (
                        n % 60, n % 60, " ".join(r.choice(WORDS) for _ in range(12)))
            elif kind == 1:  # dense CSV export
                line = "%d;Klant %d;%s;%s;%s;%s;%s\n" % (n, n, bsn(r), iban(r), phone(r),
                                                         email(r), postcode(r))
                for k in truth:
                    truth[k] += 1
            elif kind == 2:  # JSON records
                line = '{"id": %d, "bsn": "%s", "omschrijving": "%s"}\n' % (
                    n, bsn(r), " ".join(r.choice(WORDS) for _ in range(8)))
                truth["bsn"] += 1
            else:  # notes: prose, a few values with keywords
                if n % 20 == 0:
                    b = bsn(r)
                    line = "Het BSN van de aanvrager is %s.%s.%s, telefoon %s.\n" % (
                        b[:4], b[4:6], b[6:], phone(r))
                    truth["bsn"] += 1
                    truth["phone"] += 1
                else:
                    line = " ".join(r.choice(WORDS) for _ in range(14)).capitalize() + ".\n"
            parts.append(line)
            size += len(line)
        ext = [".log", ".csv", ".json", ".txt"][kind]
        with open(os.path.join(d, "f%05d%s" % (i, ext)), "w") as f:
            f.write("".join(parts))
    with open(os.path.join(a.out, "truth.json"), "w") as f:
        json.dump({"planted": truth, "files": a.files, "mb": a.mb, "seed": a.seed}, f, indent=1)


if __name__ == "__main__":
    main()
