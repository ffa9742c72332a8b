#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the end-to-end fixture tree with planted personal data and its
ground truth.

    tools/gen-fixtures.py OUTDIR [--seed N]

Writes OUTDIR/tree/... and OUTDIR/truth.json.  Every value is generated (valid
checksums, real bank codes and area codes from rules/data/), so the truth
says what a correct scanner must report, independent of the scanner's own
output.  truth.json holds:
  findings: [{path, line, column, category, normalized, confidence}]
            `confidence` is the level a correct scanner assigns; findings
            expected below medium are listed with "low" and are not reported
            at the default threshold.
  files:    {path: {status, reason}} for files that are not fully scanned.
  canaries: every planted value in every written form (for leak checks).
"""
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_list(name):
    out = []
    with open(os.path.join(ROOT, "rules", "data", name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.banks = read_list("nl-bank-codes.txt")
        self.used = set()

    def bsn(self):
        while True:
            d = [self.r.randint(1, 9)] + [self.r.randint(0, 9) for _ in range(7)]
            s = sum((9 - i) * d[i] for i in range(8))
            d9 = s % 11
            if d9 == 10:
                continue
            v = "".join(map(str, d)) + str(d9)
            if v not in self.used:
                self.used.add(v)
                return v

    def bad_bsn(self):
        while True:
            v = self.bsn()
            w = v[:-1] + str((int(v[-1]) + 1) % 10)
            d = list(map(int, w))
            s = sum((9 - i) * d[i] for i in range(8)) - d[8]
            if s % 11 != 0:
                return w

    def iban(self):
        bank = self.r.choice(self.banks)
        acct = "".join(str(self.r.randint(0, 9)) for _ in range(10))
        bban = bank + acct
        num = "".join(str(int(c, 36)) for c in bban + "NL00")
        check = 98 - int(num) % 97
        return "NL%02d%s" % (check, bban)

    def mobile(self):
        return "06" + str(self.r.choice([1, 2, 3, 4, 5, 8])) + "".join(
            str(self.r.randint(0, 9)) for _ in range(7))

    def fixed(self):
        area = self.r.choice(["20", "10", "30", "70", "40", "50"])
        return "0" + area + "".join(str(self.r.randint(1, 9)) + "" for _ in range(7))

    def postcode(self):
        while True:
            letters = "".join(self.r.choice("ABCDEGHJKLMNPRTVWXZ") for _ in range(2))
            if letters not in ("SA", "SD", "SS"):
                return "%d %s" % (self.r.randint(1000, 9999), letters)

    def email(self):
        first = self.r.choice(["jan", "piet", "anna", "sanne", "fatima", "mohamed", "lotte"])
        last = self.r.choice(["jansen", "devries", "bakker", "visser", "smit", "elamrani"])
        dom = self.r.choice(["example.nl", "voorbeeld.nl", "mail.example.com"])
        return "%s.%s%d@%s" % (first, last, self.r.randint(1, 999), dom)


def e164(phone):
    return "+31" + phone[1:]


def spaced_iban(v):
    return " ".join(v[i:i + 4] for i in range(0, len(v), 4))


class Tree:
    def __init__(self, out):
        self.out = out
        self.findings = []
        self.files = {}
        self.canaries = set()

    def write(self, rel, data):
        path = os.path.join(self.out, "tree", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def expect(self, rel, line, column, category, normalized, confidence, *forms):
        self.findings.append(dict(path=rel, line=line, column=column, category=category,
                                  normalized=normalized, confidence=confidence))
        self.canaries.add(normalized)
        for f in forms:
            self.canaries.add(f)


def col_of(line, needle):
    """1-based character column of needle in line."""
    return len(line[:line.index(needle)]) + 1


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    seed = 20261129
    if "--seed" in sys.argv:
        seed = int(sys.argv[sys.argv.index("--seed") + 1])
    g = Gen(seed)
    t = Tree(out)

    # 1. Semicolon CSV export with a header: every value is in a named column.
    rel = "crm/klanten.csv"
    lines = ["klantnr;naam;bsn;iban;telefoon;email;postcode;woonplaats"]
    for i in range(40):
        b, ib, ph, em, pc = g.bsn(), g.iban(), g.mobile(), g.email(), g.postcode()
        row = "%d;Klant %d;%s;%s;%s;%s;%s;Utrecht" % (100000 + i, i, b, ib, ph, em, pc)
        lines.append(row)
        ln = len(lines)
        t.expect(rel, ln, col_of(row, b), "bsn", b, "high", b)
        t.expect(rel, ln, col_of(row, ib), "iban", ib, "high", ib)
        t.expect(rel, ln, col_of(row, ph), "phone", e164(ph), "high", ph)
        t.expect(rel, ln, col_of(row, em), "email", em.lower(), "high", em)
        # unit-like letters (2048 MB) lose one level even in a postcode column
        unit = pc[-2:] in ("MB", "KB", "GB", "TB", "KM", "CM", "MM", "KG", "MG", "ML", "MS",
                           "PX", "HZ", "KW", "AM", "PM")
        t.expect(rel, ln, col_of(row, pc), "postcode", pc.replace(" ", ""),
                 "medium" if unit else "high", pc)
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 2. Tab-separated export, header names in English, 8-digit BSNs too.
    rel = "crm/export.tsv"
    lines = ["id\tcitizen service number\tbank account iban\tphone"]
    for i in range(20):
        b = g.bsn()
        written = b[1:] if b.startswith("0") else b
        ib, ph = g.iban(), g.fixed()
        row = "%d\t%s\t%s\t%s" % (i, written, ib, ph)
        lines.append(row)
        ln = len(lines)
        t.expect(rel, ln, col_of(row, written), "bsn", b, "high", written)
        t.expect(rel, ln, col_of(row, ib), "iban", ib, "high", ib)
        t.expect(rel, ln, col_of(row, ph), "phone", e164(ph), "high", ph)
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 2b. Comma-separated export: cells next to digits of the previous cell.
    rel = "crm/contacten.csv"
    lines = ["nr,bsn,telefoon,mobiel,email"]
    for i in range(15):
        b, f, m, em = g.bsn(), g.fixed(), g.mobile(), g.email()
        fixed_form = "%s-%s" % (f[:3], f[3:])
        row = "%d,%s,%s,%s,%s" % (i + 1, b, fixed_form, m, em)
        lines.append(row)
        ln = len(lines)
        t.expect(rel, ln, col_of(row, "," + b) + 1, "bsn", b, "high", b)
        t.expect(rel, ln, col_of(row, fixed_form), "phone", e164(f), "high", fixed_form)
        t.expect(rel, ln, col_of(row, m), "phone", e164(m), "high", m)
        t.expect(rel, ln, col_of(row, em), "email", em.lower(), "high", em)
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 2c. A dump without a header: the BSN column is known by its values
    # (medium); a column of order numbers beside it is not a BSN column, so
    # the few that pass the 11-proef stay low.
    rel = "crm/dump-zonder-kop.csv"
    lines = []
    for i in range(30):
        b = g.bsn()
        order = "%09d" % g.r.randint(100000000, 999999999)
        row = "%d;%s;%s;Klant %d" % (i + 1, order, b, i)
        lines.append(row)
        ln = len(lines)
        t.expect(rel, ln, col_of(row, ";" + b + ";") + 1, "bsn", b, "medium", b)
        d = list(map(int, order))
        if sum((9 - k) * d[k] for k in range(8)) - d[8] == 0 or \
                (sum((9 - k) * d[k] for k in range(8)) - d[8]) % 11 == 0:
            t.expect(rel, ln, col_of(row, ";" + order + ";") + 1, "bsn", order, "low", order)
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 2d. An SQL dump: a COPY block and extended INSERTs with column lists.
    rel = "db/klanten-dump.sql"
    lines = ["-- PostgreSQL database dump", "",
             "CREATE TABLE public.klanten (id integer, naam text, nummer text);",
             "COPY public.klanten (id, naam, burgerservicenummer, iban) FROM stdin;"]
    for i in range(10):
        b, ib = g.bsn(), g.iban()
        row = "%d\tKlant %d\t%s\t%s" % (i + 1, i, b, ib)
        lines.append(row)
        ln = len(lines)
        t.expect(rel, ln, col_of(row, b), "bsn", b, "high", b)
        t.expect(rel, ln, col_of(row, ib), "iban", ib, "high", ib)
    lines.append("\\.")
    tuples = []
    vals = []
    for i in range(5):
        b, m = g.bsn(), g.mobile()
        vals.append((b, m))
        tuples.append("(%d, 'Klant ''%d''', '%s', '%s')" % (i + 20, i, b, m))
    row = ("INSERT INTO `contact` (`id`, `naam`, `bsn`, `telefoon`) VALUES "
           + ", ".join(tuples) + ";")
    lines.append(row)
    ln = len(lines)
    for b, m in vals:
        t.expect(rel, ln, col_of(row, "'" + b + "'") + 1, "bsn", b, "high", b)
        t.expect(rel, ln, col_of(row, "'" + m + "'") + 1, "phone", e164(m), "high", m)
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 3. Prose with every written form, next to keywords.
    rel = "dossiers/brief-2024-031.txt"
    b1, b2, b3, b4 = g.bsn(), g.bsn(), g.bsn(), g.bsn()
    ib1, ib2 = g.iban(), g.iban()
    m1, f1 = g.mobile(), g.fixed()
    em = g.email()
    pc = g.postcode()
    forms = {
        "b1": "%s.%s.%s" % (b1[:4], b1[4:6], b1[6:]),
        "b2": "%s %s %s" % (b2[:3], b2[3:6], b2[6:]),
        "b3": "%s.%s.%s" % (b3[:3], b3[3:6], b3[6:]),
        "ib1": spaced_iban(ib1),
        "m1": "%s-%s" % (m1[:2], m1[2:]),
        "f1": "+31 (0)%s %s %s" % (f1[1:3], f1[3:6], f1[6:]),
    }
    prose = [
        "Geachte heer Jansen,",
        "",
        "Uw burgerservicenummer is %s en dat van uw partner %s." % (forms["b1"], forms["b2"]),
        "Het sofinummer uit 2006 was %s." % forms["b3"],
        "Het BSN van uw dochter: %s." % b4,
        "Wij schrijven het bedrag af van rekeningnummer %s." % forms["ib1"],
        "Uw tweede IBAN: %s." % ib2.lower(),
        "U kunt ons bellen; uw mobiel nummer is %s en vast %s." % (forms["m1"], forms["f1"]),
        "Stuur uw reactie per e-mail naar %s." % em,
        "Adres: Oude Delft 12, %s Delft" % pc,
        "",
        "Met vriendelijke groet,",
    ]
    for ln, line in enumerate(prose, 1):
        for val, cat, norm, form in (
                (b1, "bsn", b1, forms["b1"]), (b2, "bsn", b2, forms["b2"]),
                (b3, "bsn", b3, forms["b3"]), (b4, "bsn", b4, b4),
                (ib1, "iban", ib1, forms["ib1"]), (ib2, "iban", ib2, ib2.lower()),
                (m1, "phone", e164(m1), forms["m1"]), (f1, "phone", e164(f1), forms["f1"]),
                (em, "email", em.lower(), em), (pc, "postcode", pc.replace(" ", ""), pc)):
            if form in line:
                conf = "medium" if cat == "postcode" else "high"
                t.expect(rel, ln, col_of(line, form), cat, norm, conf, form, val)
    t.write(rel, ("\n".join(prose) + "\n").encode())

    # 4. Log with near misses only: nothing may be reported at medium or above.
    rel = "logs/webshop.log"
    lines = []
    for i in range(60):
        kind = i % 6
        if kind == 0:
            lines.append("2024-03-%02d INFO ordernummer %s verzonden" % (i % 28 + 1, g.bsn()))
        elif kind == 1:
            lines.append("2024-03-%02d INFO bsn check failed for %s" % (i % 28 + 1, g.bad_bsn()))
        elif kind == 2:
            ib = g.iban()
            bad = ib[:-1] + str((int(ib[-1]) + 1) % 10)
            lines.append("2024-03-%02d WARN iban rejected %s" % (i % 28 + 1, bad))
        elif kind == 3:
            lines.append("2024-03-%02d INFO tel 06 7%07d invalid" % (i % 28 + 1, i))
        elif kind == 4:
            lines.append("2024-03-%02d INFO transaction %d%s" % (i % 28 + 1, i, g.bsn()))
        else:
            lines.append("2024-03-%02d INFO upload 2048 MB at %d:00, 1234 SA" % (i % 28 + 1, i % 24))
    t.write(rel, ("\n".join(lines) + "\n").encode())

    # 5. The same record in every encoding: identical findings.
    b, ib, ph, em = g.bsn(), g.iban(), g.mobile(), g.email()
    text = ("Klant: Jürgen Müller-Françoise\n"
            "BSN: %s\n"
            "IBAN: %s\n"
            "Telefoon: %s\n"
            "E-mail: %s\n" % (b, ib, ph, em))
    encs = {
        "enc/utf8.txt": text.encode("utf-8"),
        "enc/utf8-bom.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "enc/utf16le-bom.txt": b"\xff\xfe" + text.encode("utf-16-le"),
        "enc/utf16be-bom.txt": b"\xfe\xff" + text.encode("utf-16-be"),
        "enc/utf16le.txt": text.encode("utf-16-le"),
        "enc/utf16be.txt": text.encode("utf-16-be"),
        "enc/latin1.txt": text.encode("latin-1"),
        "enc/cp1252-nbsp.txt": text.replace("BSN: ", "BSN:\u00a0").encode("cp1252"),
    }
    for rel, data in encs.items():
        t.write(rel, data)
        for ln, (val, cat, norm) in enumerate(
                [(b, "bsn", b), (ib, "iban", ib), (ph, "phone", e164(ph)),
                 (em, "email", em.lower())], 2):
            line = text.split("\n")[ln - 1]
            t.expect(rel, ln, col_of(line, val), cat, norm, "high", val)

    # 6. JSON with keys as context.
    rel = "api/users.json"
    users = []
    for i in range(5):
        users.append({"id": i, "bsn": g.bsn(), "email": g.email()})
    body = json.dumps(users, indent=2)
    t.write(rel, body.encode())
    blines = body.split("\n")
    for u in users:
        for key, cat, conf in (("bsn", "bsn", "high"), ("email", "email", "high")):
            val = u[key]
            ln = next(i for i, l in enumerate(blines, 1) if val in l)
            t.expect(rel, ln, col_of(blines[ln - 1], val), cat,
                     val.lower() if cat == "email" else val, conf, val)

    # 7. Content that is not text: skipped with the right reason.
    t.write("media/scan-id-kaart.png", b"\x89PNG\r\n\x1a\n" + bytes(g.r.randrange(256) for _ in range(600)))
    t.files["media/scan-id-kaart.png"] = {"status": "skipped", "reason": "image"}
    t.write("bin/tool", b"\x7fELF\x02\x01\x01" + bytes(600))
    t.files["bin/tool"] = {"status": "skipped", "reason": "executable"}

    # 8. A clean text file: prose with numbers that are not personal data.
    t.write("docs/handleiding.md", (
        "# Handleiding\n\nVersie 2.4.1, build 20240312, 1500 km, 2048 MB geheugen.\n"
        "Artikel 123456789 kost EUR 19,95. Zie paragraaf 3.2.\n").encode())

    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": seed, "findings": t.findings, "files": t.files,
                   "canaries": sorted(t.canaries)}, f, indent=1)


if __name__ == "__main__":
    main()
