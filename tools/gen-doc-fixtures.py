#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate document, mail and database fixtures with planted personal data
and their ground truth.

    tools/gen-doc-fixtures.py OUTDIR [--seed N]
    tools/gen-doc-fixtures.py OUTDIR --bench MB [--seed N]

Writes OUTDIR/tree/... (the fixtures), OUTDIR/plain/... (their plain twins)
and OUTDIR/truth.json.  Every fixture is built here from bytes with the
Python standard library only (zipfile with fixed dates, sqlite3, zlib,
base64, hashlib), so what each file holds and where is known exactly and the
truth never comes from a scanner's output.  The same seed gives the same
bytes (SQLite files: for the same SQLite library).

The fixtures cover what the document decoders must read: UTF-16 and
Windows-1252 text; hand-built docx (a value split over two runs, a tracked
insertion and deletion, a comment, a footnote, a header and footer, a
character reference, core properties, an embedded PNG), xlsx (a header row,
a BSN typed as a number that lost its leading zero, shared strings after the
sheet in zip order, a gap in the row numbers, inline strings), pptx (slides
and speaker notes), odt (a value split over text:span, <text:s/> spaces,
tracked changes, an annotation, a header in styles.xml, meta.xml), ods (a
float BSN whose display text is formatted, repeated empty rows); an e-mail
(RFC 2047 headers, a quoted-printable body with a value split by a soft line
break, an HTML alternative, a base64 CSV attachment with an RFC 2231 name, a
zip attachment, a picture) and an mbox of three messages; a PDF with
FlateDecode pages, an annotation, properties and a page that is only an
image; an RC4-encrypted PDF; SQLite databases (INTEGER and TEXT columns,
gaps in the rowids; one with a write-ahead log beside it); an SQL dump;
legacy OLE2 files (.doc, .xls, .msg, a password-protected docx); a truncated
docx; documents inside a zip and a tar.gz; and hostile XML (an external
entity that must never be loaded, nested entities).

Each fixture with findings has a plain twin under OUTDIR/plain/<path>/: the
same planted values with the same words around them as plain UTF-8 text (a
table as a ';'-separated file with its header), so that a test can compare
what the scanner finds in the document with what it finds in plain text.

truth.json:
  files: {path: {format, findings, optional, ledger, twin, outcome}}
    findings: [{member, category, normalized, min_confidence, field, row}]
              member is the chain of parts inside the file, outermost first,
              named as the decoders name them ("word/document.xml",
              "page 2", "message 3"/"body", an attachment's file name, a
              sheet or table name); field and row are null outside tables.
              min_confidence is the least confidence a correct scanner gives
              (the value's keyword or column is next to it, in the document
              as in the twin).
    optional: findings a correct scanner may or may not make (a damaged or
              hostile document).
    ledger:   [{member, status, reason}] file records the scanner must
              write; member null means any chain.
    twin:     the plain twin's directory (relative to OUTDIR), or null.
    outcome:  true when the file must give at least one finding or record.
  forbidden: normalized values that must never be reported (they are only
             reachable by loading what a document names).
  xxe_files: {file name: content} to place in the scanner's working
             directory, which the hostile documents name by a relative path;
  xxe_abs:   the absolute path they also name (the test writes the same
             content there, and removes it afterwards).
  canaries:  every planted value in every written form (leak checks).

With --bench MB, writes OUTDIR/bench/<format>/... instead: one file per
format (docx, xlsx, odt, ods, pdf, eml, mbox, sqlite, utf-16) of about MB
megabytes with dense planted values, and OUTDIR/bench/truth.json with the
number planted per format ({format: {path, bytes, planted}}).
"""
import base64
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import sqlite3
import struct
import sys
import tarfile
import tempfile
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZIP_DATE = (2024, 3, 1, 10, 0, 0)
EPOCH = 1709287200          # 2024-03-01 10:00:00 UTC, for tar members
UNIT_LETTERS = {"MB", "KB", "GB", "TB", "KM", "CM", "MM", "KG", "MG", "ML", "MS", "PX", "HZ",
                "KW", "AM", "PM", "SA", "SD", "SS"}
# The file names the hostile documents point at (relative: the scanner's
# working directory; absolute: a fixed path the test creates and removes).
XXE_REL = "xxe-geheim.txt"
XXE_ABS = "/tmp/speurneus-xxe-geheim.txt"


def read_list(name):
    out = []
    with open(os.path.join(ROOT, "rules", "data", name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def x(s):
    """XML character data and attribute values."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


# --- planted values and the text around them ------------------------------------

class V:
    """A planted value: its category, normalized form (as the scanner reports
    it with --reveal), written form, and the least confidence expected."""

    def __init__(self, cat, norm, form, conf):
        self.cat, self.norm, self.form, self.conf = cat, norm, form, conf


class Split:
    """A value written in two pieces: two runs, two spans, two Tj operators,
    a quoted-printable soft line break in between."""

    def __init__(self, v):
        self.v = v


class Ent:
    """A value written with its '@' as a character reference (&#64;)."""

    def __init__(self, v):
        self.v = v


class Sp:
    """A value whose spaces are written as <text:s/> in ODF."""

    def __init__(self, v):
        self.v = v


class Ins:
    """Text of a tracked insertion."""

    def __init__(self, *segs):
        self.segs = list(segs)


class Del:
    """Text of a tracked deletion: still in the file."""

    def __init__(self, *segs):
        self.segs = list(segs)


class Note:
    """A comment anchored in the paragraph (ODF office:annotation)."""

    def __init__(self, *segs):
        self.segs = list(segs)


TAB = ("tab",)


class Num:
    """A number cell: the value's digits as a number; `display` is the text
    a spreadsheet shows when it differs (thousands separators)."""

    def __init__(self, v, display=None):
        self.v, self.display = v, display


class Inline:
    """An xlsx inline-string cell."""

    def __init__(self, v):
        self.v = v


class Cell:
    """A table cell holding text with values in it (a note column)."""

    def __init__(self, segs):
        self.segs = segs


def values(segs):
    for s in segs:
        if isinstance(s, V):
            yield s
        elif isinstance(s, (Split, Ent, Sp)):
            yield s.v
        elif isinstance(s, (Ins, Del, Note)):
            yield from values(s.segs)


def plain(segs):
    out = []
    for s in segs:
        if isinstance(s, str):
            out.append(s)
        elif isinstance(s, V):
            out.append(s.form)
        elif isinstance(s, (Split, Ent, Sp)):
            out.append(s.v.form)
        elif isinstance(s, (Ins, Del, Note)):
            out.append(plain(s.segs))
        elif s is TAB:
            out.append("\t")
    return "".join(out)


def cell_value(c):
    if isinstance(c, V):
        return c
    if isinstance(c, (Num, Inline)):
        return c.v
    return None


def cell_text(c):
    if isinstance(c, str):
        return c
    if isinstance(c, Num):
        return c.v.form
    v = cell_value(c)
    return v.form if v else ""


class Text:
    """A text part: lines of segments; `tags` name the element a line goes
    to where a format needs one (document properties)."""

    def __init__(self, member):
        self.member = list(member)
        self.lines = []
        self.tags = []

    def add(self, *segs, tag=None):
        self.lines.append(list(segs))
        self.tags.append(tag)
        return self


class Table:
    """A table part: a header (or None) and rows numbered as the format
    numbers them (sheet row, rowid, data row of a CSV)."""

    def __init__(self, member, header):
        self.member = list(member)
        self.header = header
        self.rows = []

    def row(self, n, cells):
        self.rows.append((n, cells))
        return self


class Doc:
    """One fixture file: its parts (what a decoder hands on), expected ledger
    records and documents nested inside it."""

    def __init__(self, rel, fmt):
        self.rel, self.fmt = rel, fmt
        self.parts = []
        self.ledger = []
        self.nested = []        # (member prefix, Doc)
        self.optional = False   # findings may or may not be made
        self.outcome = False    # must give a finding or a record
        self.twin = True

    def text(self, *member):
        p = Text(member)
        self.parts.append(p)
        return p

    def table(self, member, header):
        p = Table(member, header)
        self.parts.append(p)
        return p

    def record(self, member, status, reason):
        self.ledger.append(dict(member=member, status=status, reason=reason))

    def all_ledger(self):
        out = list(self.ledger)
        for prefix, d in self.nested:
            for r in d.all_ledger():
                out.append(dict(r, member=None if r["member"] is None else prefix + r["member"]))
        return out


def finding(member, v, field, row):
    return dict(member=list(member), category=v.cat, normalized=v.norm, min_confidence=v.conf,
                field=field, row=row)


class Gen:
    """Valid values (11-proef, mod-97 with a real bank code, the Dutch
    numbering plan), never repeated within one run."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.banks = read_list("nl-bank-codes.txt")
        self.used = set()
        self.canaries = set()

    def _unique(self, fn):
        while True:
            v = fn()
            if v not in self.used:
                self.used.add(v)
                return v

    def _v(self, cat, norm, form, conf):
        self.canaries.update((norm, form))
        return V(cat, norm, form, conf)

    def bsn_digits(self, lead0=False):
        def one():
            while True:
                d = [0 if lead0 else self.r.randint(1, 9), self.r.randint(1, 9)] + \
                    [self.r.randint(0, 9) for _ in range(6)]
                d9 = sum((9 - i) * d[i] for i in range(8)) % 11
                if d9 != 10:
                    return "".join(map(str, d)) + str(d9)
        return self._unique(one)

    def bsn(self, conf="high"):
        b = self.bsn_digits()
        return self._v("bsn", b, b, conf)

    def bsn8(self, conf="high"):
        """A BSN with a leading zero, written as the 8 digits a spreadsheet
        or an INTEGER column keeps."""
        b = self.bsn_digits(lead0=True)
        return self._v("bsn", b, b[1:], conf)

    def iban(self, conf="high", spaced=False):
        def one():
            bban = self.r.choice(self.banks) + "".join(
                str(self.r.randint(0, 9)) for _ in range(10))
            num = "".join(str(int(c, 36)) for c in bban + "NL00")
            return "NL%02d%s" % (98 - int(num) % 97, bban)
        v = self._unique(one)
        form = " ".join(v[i:i + 4] for i in range(0, len(v), 4)) if spaced else v
        return self._v("iban", v, form, conf)

    def mobile(self, conf="high"):
        m = self._unique(lambda: "06" + str(self.r.choice([1, 2, 3, 4, 5, 8])) + "".join(
            str(self.r.randint(0, 9)) for _ in range(7)))
        return self._v("phone", "+31" + m[1:], "%s-%s" % (m[:2], m[2:]), conf)

    def fixed(self, conf="high"):
        area = self.r.choice(["20", "10", "30", "70", "40", "50"])
        f = self._unique(lambda: "0" + area + str(self.r.randint(1, 9)) + "".join(
            str(self.r.randint(0, 9)) for _ in range(6)))
        return self._v("phone", "+31" + f[1:], "%s %s" % (f[:3], f[3:]), conf)

    def email(self, conf="medium", first=None):
        def one():
            f = first or self.r.choice(["jan", "piet", "anna", "sanne", "fatima", "mohamed",
                                        "lotte", "daan", "noor", "sem"])
            last = self.r.choice(["jansen", "devries", "bakker", "visser", "smit", "elamrani",
                                  "dejong", "mulder", "bos"])
            dom = self.r.choice(["example.nl", "voorbeeld.nl", "mail.example.com"])
            return "%s.%s%d@%s" % (f, last, self.r.randint(1, 9999), dom)
        e = self._unique(one)
        return self._v("email", e.lower(), e, conf)

    def postcode(self, conf="medium"):
        def one():
            while True:
                letters = "".join(self.r.choice("ABCEGHJKLMNPRTVWXZ") for _ in range(2))
                if letters not in UNIT_LETTERS:
                    return "%d %s" % (self.r.randint(1000, 9999), letters)
        p = self._unique(one)
        return self._v("postcode", p.replace(" ", ""), p, conf)

    def filler(self, nwords):
        words = ["de", "het", "een", "aanvraag", "besluit", "gemeente", "afdeling", "overleg",
                 "dossier", "week", "rapport", "status", "gereed", "controle", "archief",
                 "notitie", "akkoord", "vervolg", "team", "afspraak", "ontvangen", "verwerkt",
                 "zonder", "bijzonderheden", "en", "met", "voor", "uw", "wij", "graag"]
        return " ".join(self.r.choice(words) for _ in range(nwords)).capitalize() + "."


# --- containers ---------------------------------------------------------------------

def zip_bytes(members, stored=()):
    """members: [(name, bytes)], in this order, with a fixed date."""
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as zf:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zi.create_system = 3
            zf.writestr(zi, data, compresslevel=9)
    return bio.getvalue()


def tar_gz_bytes(members):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), EPOCH, 0o644
            ti.uid = ti.gid = 1000
            ti.uname = ti.gname = "export"
            tf.addfile(ti, io.BytesIO(data))
    raw = bio.getvalue()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
        gz.write(raw)
    return out.getvalue()


def png_bytes(w=8, h=8, seed=0):
    """A small grey PNG (valid: IHDR, IDAT, IEND with CRCs)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\0" + bytes(((seed + x_ * 16 + y * 8) & 0xFF) for x_ in range(w))
                    for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


# --- OOXML ----------------------------------------------------------------------------

NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def content_types(defaults, overrides):
    s = XML_DECL + '<Types xmlns="%s">' % NS_CT
    s += ('<Default Extension="rels" '
          'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>')
    s += '<Default Extension="xml" ContentType="application/xml"/>'
    for ext, ct in defaults:
        s += '<Default Extension="%s" ContentType="%s"/>' % (ext, ct)
    for part, ct in overrides:
        s += '<Override PartName="/%s" ContentType="%s"/>' % (part, ct)
    return (s + "</Types>").encode()


def rels(entries):
    s = XML_DECL + '<Relationships xmlns="%s">' % NS_REL
    for rid, typ, target in entries:
        s += '<Relationship Id="%s" Type="%s" Target="%s"/>' % (rid, typ, target)
    return (s + "</Relationships>").encode()


CORE_CT = "application/vnd.openxmlformats-package.core-properties+xml"


def core_xml(part):
    """docProps/core.xml from a Text part whose lines are tagged with the
    element they go to (dc:creator, cp:lastModifiedBy, dc:title, ...)."""
    s = (XML_DECL + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
         '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
         'xmlns:dcterms="http://purl.org/dc/terms/" '
         'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')
    for tag, line in zip(part.tags, part.lines):
        s += "<%s>%s</%s>" % (tag, x(plain(line)), tag)
    s += ('<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-01T10:00:00Z</dcterms:created>'
          "</cp:coreProperties>")
    return s.encode()


class WordWriter:
    """WordprocessingML runs from segments."""

    def __init__(self):
        self.change_id = 0

    def run(self, t, deleted=False, bold=False, raw=False):
        tag = "w:delText" if deleted else "w:t"
        return '<w:r>%s<%s xml:space="preserve">%s</%s></w:r>' % (
            "<w:rPr><w:b/></w:rPr>" if bold else "", tag, t if raw else x(t), tag)

    def runs(self, segs, deleted=False):
        out = []
        for s in segs:
            if isinstance(s, str):
                out.append(self.run(s, deleted))
            elif isinstance(s, V):
                out.append(self.run(s.form, deleted))
            elif isinstance(s, Split):
                half = len(s.v.form) // 2
                out.append(self.run(s.v.form[:half], deleted))
                out.append(self.run(s.v.form[half:], deleted, bold=True))
            elif isinstance(s, Ent):
                out.append(self.run("".join("&#64;" if c == "@" else x(c) for c in s.v.form),
                                    deleted, raw=True))
            elif isinstance(s, Sp):
                out.append(self.run(s.v.form, deleted))
            elif isinstance(s, Ins):
                self.change_id += 1
                out.append('<w:ins w:id="%d" w:author="Redactie" w:date="2024-03-01T10:00:00Z">'
                           '%s</w:ins>' % (self.change_id, self.runs(s.segs)))
            elif isinstance(s, Del):
                self.change_id += 1
                out.append('<w:del w:id="%d" w:author="Redactie" w:date="2024-03-01T10:05:00Z">'
                           '%s</w:del>' % (self.change_id, self.runs(s.segs, deleted=True)))
            elif s is TAB:
                out.append("<w:r><w:tab/></w:r>")
        return "".join(out)

    def paras(self, part, extra=None):
        extra = extra or {}
        return "".join("<w:p>%s%s</w:p>" % (self.runs(line), extra.get(i, ""))
                       for i, line in enumerate(part.lines))


def docx_bytes(parts, image=None, doctype=""):
    """parts: {part name: Text}; document.xml, and optionally header1,
    footer1, comments, footnotes and core properties."""
    ww = WordWriter()
    w = 'xmlns:w="%s" xmlns:r="%s"' % (NS_W, NS_R)
    doc = parts["word/document.xml"]
    extra = {}
    doc_rels = []
    ct = [("word/document.xml",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")]
    members = []
    if "word/comments.xml" in parts:
        extra[0] = '<w:r><w:commentReference w:id="0"/></w:r>'
        doc_rels.append(("rIdC", RT + "comments", "comments.xml"))
        ct.append(("word/comments.xml",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"))
        members.append(("word/comments.xml", (
            XML_DECL + '<w:comments %s><w:comment w:id="0" w:author="Behandelaar" '
            'w:date="2024-03-01T11:00:00Z">%s</w:comment></w:comments>' % (
                w, ww.paras(parts["word/comments.xml"]))).encode()))
    if "word/footnotes.xml" in parts:
        # on the first paragraph, which holds no value: a reference mark
        # next to a number would change how it reads
        extra[0] = extra.get(0, "") + '<w:r><w:footnoteReference w:id="1"/></w:r>'
        doc_rels.append(("rIdN", RT + "footnotes", "footnotes.xml"))
        ct.append(("word/footnotes.xml",
                   "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"))
        members.append(("word/footnotes.xml", (
            XML_DECL + '<w:footnotes %s><w:footnote w:id="1">%s</w:footnote></w:footnotes>' % (
                w, ww.paras(parts["word/footnotes.xml"]))).encode()))
    sect = ""
    for kind, tag, root in (("header", "headerReference", "hdr"),
                            ("footer", "footerReference", "ftr")):
        name = "word/%s1.xml" % kind
        if name in parts:
            sect += '<w:%s w:type="default" r:id="rId%s"/>' % (tag, kind)
            doc_rels.append(("rId" + kind, RT + kind, "%s1.xml" % kind))
            ct.append((name, "application/vnd.openxmlformats-officedocument.wordprocessingml."
                       "%s+xml" % kind))
            members.append((name, (XML_DECL + "<w:%s %s>%s</w:%s>" % (
                root, w, ww.paras(parts[name]), root)).encode()))
    drawing = ""
    if image:
        doc_rels.append(("rIdImg", RT + "image", "media/image1.png"))
        drawing = ('<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
                   'drawingml/2006/wordprocessingDrawing"><wp:extent cx="914400" cy="914400"/>'
                   '<wp:docPr id="1" name="Pasfoto"/><a:graphic xmlns:a="http://schemas.'
                   'openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.'
                   'openxmlformats.org/drawingml/2006/picture"><pic:pic xmlns:pic="http://'
                   'schemas.openxmlformats.org/drawingml/2006/picture"><pic:blipFill><a:blip '
                   'r:embed="rIdImg"/></pic:blipFill></pic:pic></a:graphicData></a:graphic>'
                   "</wp:inline></w:drawing></w:r></w:p>")
    body = ww.paras(doc, extra)
    if "word/comments.xml" in parts:
        body = body.replace("<w:p>", '<w:p><w:commentRangeStart w:id="0"/>', 1)
    document = (XML_DECL.replace("\n", "") + doctype + "\n<w:document %s><w:body>%s%s"
                "<w:sectPr>%s</w:sectPr></w:body></w:document>" % (w, body, drawing, sect))
    out = [("[Content_Types].xml", None), ("_rels/.rels", rels(
        [("rId1", RT + "officeDocument", "word/document.xml"),
         ("rId2", NS_REL + "/metadata/core-properties", "docProps/core.xml")])),
           ("word/document.xml", document.encode()),
           ("word/_rels/document.xml.rels", rels(doc_rels))]
    out += members
    if image:
        out.append(("word/media/image1.png", image))
    if "docProps/core.xml" in parts:
        ct.append(("docProps/core.xml", CORE_CT))
        out.append(("docProps/core.xml", core_xml(parts["docProps/core.xml"])))
    out[0] = ("[Content_Types].xml", content_types([("png", "image/png")], ct))
    return zip_bytes(out)


def col_name(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def xlsx_bytes(table, core=None):
    """One sheet named after the table; header and text cells as shared
    strings (written after the sheet), Inline cells as inline strings, Num
    cells as numbers."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sst, index = [], {}

    def si(s):
        if s not in index:
            index[s] = len(sst)
            sst.append(s)
        return index[s]

    rows = []
    all_rows = ([(1, table.header)] if table.header else []) + table.rows
    for n, cells in all_rows:
        cs = []
        for i, c in enumerate(cells):
            ref = "%s%d" % (col_name(i), n)
            if c is None or c == "":
                continue
            if isinstance(c, Num):
                cs.append('<c r="%s"><v>%s</v></c>' % (ref, c.v.form))
            elif isinstance(c, Inline):
                cs.append('<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, x(c.v.form)))
            else:
                cs.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, si(cell_text(c))))
        rows.append('<row r="%d">%s</row>' % (n, "".join(cs)))
    sheet = (XML_DECL + '<worksheet xmlns="%s"><sheetData>%s</sheetData></worksheet>' %
             (ns, "".join(rows))).encode()
    shared = (XML_DECL + '<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>' % (
        ns, len(sst), len(sst), "".join('<si><t xml:space="preserve">%s</t></si>' % x(s)
                                         for s in sst))).encode()
    workbook = (XML_DECL + '<workbook xmlns="%s" xmlns:r="%s"><sheets><sheet name="%s" '
                'sheetId="1" r:id="rId1"/></sheets></workbook>' % (
                    ns, NS_R, x(table.member[-1]))).encode()
    ct = [("xl/workbook.xml",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
          ("xl/worksheets/sheet1.xml",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
          ("xl/sharedStrings.xml",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")]
    out = [("[Content_Types].xml", None),
           ("_rels/.rels", rels([("rId1", RT + "officeDocument", "xl/workbook.xml"),
                                 ("rId2", NS_REL + "/metadata/core-properties",
                                  "docProps/core.xml")])),
           ("xl/workbook.xml", workbook),
           ("xl/_rels/workbook.xml.rels", rels([
               ("rId1", RT + "worksheet", "worksheets/sheet1.xml"),
               ("rId2", RT + "sharedStrings", "sharedStrings.xml")])),
           ("xl/worksheets/sheet1.xml", sheet),
           ("xl/sharedStrings.xml", shared)]
    if core:
        ct.append(("docProps/core.xml", CORE_CT))
        out.append(("docProps/core.xml", core_xml(core)))
    out[0] = ("[Content_Types].xml", content_types([], ct))
    return zip_bytes(out)


def pptx_bytes(slides, notes, core=None):
    """slides: [Text] as ppt/slides/slideN.xml; notes: {slide index: Text}
    as ppt/notesSlides/notesSlideN.xml."""
    ns = ('xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
          'xmlns:r="%s" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
          % NS_R)

    def runs(segs):
        out = []
        for s in segs:
            if isinstance(s, Split):
                half = len(s.v.form) // 2
                out += [s.v.form[:half], s.v.form[half:]]
            else:
                out.append(plain([s]))
        return "".join('<a:r><a:rPr lang="nl-NL"/><a:t>%s</a:t></a:r>' % x(t) for t in out if t)

    def tree(part, root):
        ps = "".join("<a:p>%s</a:p>" % runs(line) for line in part.lines)
        return (XML_DECL + '<p:%s %s><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/>'
                '<p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr>'
                '<p:cNvPr id="2" name="Tekst"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr/>'
                "<p:txBody><a:bodyPr/><a:lstStyle/>%s</p:txBody></p:sp></p:spTree></p:cSld>"
                "</p:%s>" % (root, ns, ps, root)).encode()

    ct = [("ppt/presentation.xml",
           "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")]
    out = [("[Content_Types].xml", None),
           ("_rels/.rels", rels([("rId1", RT + "officeDocument", "ppt/presentation.xml"),
                                 ("rId2", NS_REL + "/metadata/core-properties",
                                  "docProps/core.xml")])),
           ("ppt/presentation.xml", (
               XML_DECL + "<p:presentation %s><p:sldIdLst>%s</p:sldIdLst>"
               '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
               "</p:presentation>" % (ns, "".join(
                   '<p:sldId id="%d" r:id="rId%d"/>' % (256 + i, i + 1)
                   for i in range(len(slides))))).encode()),
           ("ppt/_rels/presentation.xml.rels", rels(
               [("rId%d" % (i + 1), RT + "slide", "slides/slide%d.xml" % (i + 1))
                for i in range(len(slides))]))]
    for i, s in enumerate(slides):
        name = "ppt/slides/slide%d.xml" % (i + 1)
        ct.append((name, "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"))
        out.append((name, tree(s, "sld")))
        if i in notes:
            out.append(("ppt/slides/_rels/slide%d.xml.rels" % (i + 1), rels(
                [("rId1", RT + "notesSlide", "../notesSlides/notesSlide%d.xml" % (i + 1))])))
    for i, n in sorted(notes.items()):
        name = "ppt/notesSlides/notesSlide%d.xml" % (i + 1)
        ct.append((name,
                   "application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml"))
        out.append((name, tree(n, "notes")))
    if core:
        ct.append(("docProps/core.xml", CORE_CT))
        out.append(("docProps/core.xml", core_xml(core)))
    out[0] = ("[Content_Types].xml", content_types([], ct))
    return zip_bytes(out)


# --- ODF ------------------------------------------------------------------------------

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"')
ODF_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


class OdfWriter:
    """ODF paragraph content from segments; tracked changes are collected
    into the regions that open the body."""

    def __init__(self):
        self.regions = []

    def inline(self, segs):
        out = []
        for s in segs:
            if isinstance(s, str):
                out.append(x(s))
            elif isinstance(s, V):
                out.append(x(s.form))
            elif isinstance(s, Split):
                half = len(s.v.form) // 2
                out.append('%s<text:span text:style-name="T1">%s</text:span>' % (
                    x(s.v.form[:half]), x(s.v.form[half:])))
            elif isinstance(s, Ent):
                out.append("".join("&#64;" if c == "@" else x(c) for c in s.v.form))
            elif isinstance(s, Sp):
                out.append(x(s.v.form).replace(" ", "<text:s/>"))
            elif isinstance(s, Ins):
                cid = "ct%d" % (len(self.regions) + 1)
                self.regions.append(
                    '<text:changed-region xml:id="%s" text:id="%s"><text:insertion>'
                    "<office:change-info><dc:creator>Redactie</dc:creator>"
                    "<dc:date>2024-03-01T10:00:00</dc:date></office:change-info>"
                    "</text:insertion></text:changed-region>" % (cid, cid))
                out.append('<text:change-start text:change-id="%s"/>%s'
                           '<text:change-end text:change-id="%s"/>' % (cid, self.inline(s.segs),
                                                                       cid))
            elif isinstance(s, Del):
                cid = "ct%d" % (len(self.regions) + 1)
                self.regions.append(
                    '<text:changed-region xml:id="%s" text:id="%s"><text:deletion>'
                    "<office:change-info><dc:creator>Redactie</dc:creator>"
                    "<dc:date>2024-03-01T10:05:00</dc:date></office:change-info>"
                    "<text:p>%s</text:p></text:deletion></text:changed-region>" % (
                        cid, cid, self.inline(s.segs)))
                out.append('<text:change text:change-id="%s"/>' % cid)
            elif isinstance(s, Note):
                out.append("<office:annotation><dc:creator>Behandelaar</dc:creator>"
                           "<dc:date>2024-03-01T11:00:00</dc:date><text:p>%s</text:p>"
                           "</office:annotation>" % self.inline(s.segs))
            elif s is TAB:
                out.append("<text:tab/>")
        return "".join(out)

    def paras(self, part):
        return "".join("<text:p>%s</text:p>" % self.inline(line) for line in part.lines)

    def tracked(self):
        if not self.regions:
            return ""
        return ('<text:tracked-changes text:track-changes="true">%s</text:tracked-changes>' %
                "".join(self.regions))


def odf_meta(part):
    s = ODF_DECL + "<office:document-meta %s><office:meta>" % ODF_NS
    for tag, line in zip(part.tags, part.lines):
        if tag.startswith("user:"):
            s += '<meta:user-defined meta:name="%s">%s</meta:user-defined>' % (
                x(tag[5:]), x(plain(line)))
        else:
            s += "<%s>%s</%s>" % (tag, x(plain(line)), tag)
    return (s + "</office:meta></office:document-meta>").encode()


def odf_package(mimetype, content, styles=None, meta=None):
    members = [("mimetype", mimetype.encode())]
    files = [("content.xml", content)]
    if styles:
        files.append(("styles.xml", styles))
    if meta:
        files.append(("meta.xml", meta))
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
                'manifest:media-type="%s"/>' % mimetype)
    for name, _ in files:
        manifest += ('<manifest:file-entry manifest:full-path="%s" manifest:media-type="text/xml"/>'
                     % name)
    manifest += "</manifest:manifest>"
    members += files + [("META-INF/manifest.xml", manifest.encode())]
    return zip_bytes(members, stored=("mimetype",))


def odt_bytes(parts, doctype=""):
    ow = OdfWriter()
    body = ow.paras(parts["content.xml"])
    content = (ODF_DECL.rstrip("\n") + doctype + "\n<office:document-content %s><office:body>"
               "<office:text>%s%s</office:text></office:body></office:document-content>" % (
                   ODF_NS, ow.tracked(), body)).encode()
    styles = None
    if "styles.xml" in parts:
        st = parts["styles.xml"]
        hdr = OdfWriter().inline(st.lines[0])
        ftr = OdfWriter().inline(st.lines[1])
        styles = (ODF_DECL + "<office:document-styles %s><office:automatic-styles>"
                  '<style:page-layout style:name="pm1"><style:header-style/><style:footer-style/>'
                  "</style:page-layout></office:automatic-styles><office:master-styles>"
                  '<style:master-page style:name="Standard" style:page-layout-name="pm1">'
                  "<style:header><text:p>%s</text:p></style:header>"
                  "<style:footer><text:p>%s</text:p></style:footer>"
                  "</style:master-page></office:master-styles></office:document-styles>" % (
                      ODF_NS, hdr, ftr)).encode()
    meta = odf_meta(parts["meta.xml"]) if "meta.xml" in parts else None
    return odf_package("application/vnd.oasis.opendocument.text", content, styles, meta)


def ods_bytes(table, meta=None):
    rows = []
    ncols = len(table.header)
    all_rows = [(1, table.header)] + table.rows
    expect = 1
    for n, cells in all_rows:
        if n > expect:
            rows.append('<table:table-row table:number-rows-repeated="%d"><table:table-cell '
                        'table:number-columns-repeated="%d"/></table:table-row>' % (n - expect,
                                                                                  ncols))
        cs = []
        for c in cells:
            if isinstance(c, Num):
                cs.append('<table:table-cell office:value-type="float" office:value="%s">'
                          "<text:p>%s</text:p></table:table-cell>" % (
                              c.v.form, x(c.display or c.v.form)))
            elif c is None or c == "":
                cs.append("<table:table-cell/>")
            else:
                cs.append('<table:table-cell office:value-type="string"><text:p>%s</text:p>'
                          "</table:table-cell>" % x(cell_text(c)))
        rows.append("<table:table-row>%s</table:table-row>" % "".join(cs))
        expect = n + 1
    content = (ODF_DECL + "<office:document-content %s><office:body><office:spreadsheet>"
               '<table:table table:name="%s"><table:table-column '
               'table:number-columns-repeated="%d"/>%s</table:table></office:spreadsheet>'
               "</office:body></office:document-content>" % (
                   ODF_NS, x(table.member[-1]), ncols, "".join(rows))).encode()
    return odf_package("application/vnd.oasis.opendocument.spreadsheet", content,
                       meta=odf_meta(meta) if meta else None)


# --- mail -----------------------------------------------------------------------------

def qp_encode(lines):
    """Quoted-printable lines; a Split value gets a soft line break in its
    middle, and long lines are wrapped with soft breaks (never in a value)."""
    out = []
    for segs in lines:
        tokens = []   # (encoded text, breakable after)
        for s in segs:
            if isinstance(s, Split):
                half = len(s.v.form) // 2
                tokens.append((qp_chars(s.v.form[:half]), False))
                tokens.append((None, False))
                tokens.append((qp_chars(s.v.form[half:]), True))
            else:
                t = plain([s])
                v = isinstance(s, V)
                tokens.append((qp_chars(t), not v))
        cur = ""
        for enc, _ in tokens:
            if enc is None:
                out.append(cur + "=")
                cur = ""
                continue
            if len(cur) + len(enc) > 72 and cur:
                out.append(cur + "=")
                cur = ""
            cur += enc
        if cur.endswith(" "):
            cur = cur[:-1] + "=20"
        out.append(cur)
    return "\r\n".join(out) + "\r\n"


def qp_chars(t):
    out = []
    for c in t:
        if c == "=" or ord(c) > 126 or (ord(c) < 32 and c != "\t"):
            out.append("".join("=%02X" % b for b in c.encode("utf-8")))
        else:
            out.append(c)
    return "".join(out)


def b64_lines(data, nl="\r\n"):
    s = base64.b64encode(data).decode()
    return nl.join(s[i:i + 76] for i in range(0, len(s), 76)) + nl


def rfc2047_b(s):
    return "=?utf-8?b?%s?=" % base64.b64encode(s.encode("utf-8")).decode()


def rfc2047_q(s):
    out = []
    for c in s:
        if c == " ":
            out.append("_")
        elif c.isascii() and c.isalnum():
            out.append(c)
        else:
            out.append("".join("=%02X" % b for b in c.encode("utf-8")))
    return "=?utf-8?q?%s?=" % "".join(out)


# --- PDF ------------------------------------------------------------------------------

PDF_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for b in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) & 255])
    return bytes(out)


class PdfCrypt:
    """The standard security handler, revision 3 (RC4, 128-bit key): the
    O and U entries and per-object keys (PDF 1.7, 7.6.3, algorithms 2-5)."""

    def __init__(self, user, owner, file_id, p=-3904):
        self.p = p
        pad = lambda pw: (pw + PDF_PAD)[:32]
        h = hashlib.md5(pad(owner)).digest()
        for _ in range(50):
            h = hashlib.md5(h).digest()
        okey = h[:16]
        o = rc4(okey, pad(user))
        for i in range(1, 20):
            o = rc4(bytes(k ^ i for k in okey), o)
        self.o = o
        h = hashlib.md5(pad(user) + o + struct.pack("<i", p) + file_id).digest()
        for _ in range(50):
            h = hashlib.md5(h[:16]).digest()
        self.key = h[:16]
        u = rc4(self.key, hashlib.md5(PDF_PAD + file_id).digest())
        for i in range(1, 20):
            u = rc4(bytes(k ^ i for k in self.key), u)
        self.u = u + bytes(16)

    def obj(self, num, data):
        k = hashlib.md5(self.key + struct.pack("<I", num)[:3] + b"\0\0").digest()
        return rc4(k, data)

    def encrypt_dict(self):
        return ("<< /Filter /Standard /V 2 /R 3 /Length 128 /O <%s> /U <%s> /P %d >>" % (
            self.o.hex(), self.u.hex(), self.p)).encode()


def pdf_literal(s):
    return "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pdf_bytes(pages, info, crypt=None, file_id=b"\0" * 16):
    """pages: [{"lines": [segs], "flate": bool, "image": bool, "annot": segs}];
    info: {key: text}.  Text is WinAnsi (ASCII here) in Helvetica; a Split
    value is drawn by two Tj operators, the second where the first ends."""
    objs = []   # (body, stream); object number = index + 1

    def alloc():
        objs.append(None)
        return len(objs)

    def string(num, s):
        if crypt:
            return "<%s>" % crypt.obj(num, s.encode("latin-1")).hex()
        return pdf_literal(s)

    catalog, tree, font, info_num = alloc(), alloc(), alloc(), alloc()
    enc_num = alloc() if crypt else None
    objs[catalog - 1] = ("<< /Type /Catalog /Pages %d 0 R >>" % tree, None)
    objs[font - 1] = ("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                      "/Encoding /WinAnsiEncoding >>", None)
    objs[info_num - 1] = ("<< %s >>" % " ".join("/%s %s" % (k, string(info_num, v))
                                                for k, v in info.items()), None)
    if crypt:
        objs[enc_num - 1] = (crypt.encrypt_dict().decode(), None)
    kids = []
    for pg in pages:
        pn, cn = alloc(), alloc()
        kids.append(pn)
        res = "/Font << /F1 %d 0 R >>" % font
        if pg.get("image"):
            im = alloc()
            ops = "q 144 0 0 144 72 560 cm /Im1 Do Q\n"
            res += " /XObject << /Im1 %d 0 R >>" % im
            raw = zlib.compress(bytes((x_ * 13 + y * 7) & 0xFF for y in range(16)
                                      for x_ in range(16)), 9)
            if crypt:
                raw = crypt.obj(im, raw)
            objs[im - 1] = ("<< /Type /XObject /Subtype /Image /Width 16 /Height 16 "
                            "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
                            "/Length %d >>" % len(raw), raw)
        else:
            ops = "BT /F1 11 Tf 15 TL 72 770 Td\n"
            for segs in pg["lines"]:
                pieces = []
                for s in segs:
                    if isinstance(s, Split):
                        half = len(s.v.form) // 2
                        pieces += [s.v.form[:half], s.v.form[half:]]
                    else:
                        pieces.append(plain([s]))
                ops += " ".join("%s Tj" % pdf_literal(p) for p in pieces if p) + " T*\n"
            ops += "ET\n"
        data = ops.encode("latin-1")
        filt = ""
        if pg.get("flate", True):
            data = zlib.compress(data, 9)
            filt = " /Filter /FlateDecode"
        if crypt:
            data = crypt.obj(cn, data)
        objs[cn - 1] = ("<< /Length %d%s >>" % (len(data), filt), data)
        annots = ""
        if pg.get("annot"):
            an = alloc()
            annots = " /Annots [%d 0 R]" % an
            objs[an - 1] = ("<< /Type /Annot /Subtype /Text /Rect [400 700 420 720] /T %s "
                            "/Contents %s /Open false >>" % (
                                string(an, "Behandelaar"), string(an, plain(pg["annot"]))),
                            None)
        objs[pn - 1] = ("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << "
                        "%s >> /Contents %d 0 R%s >>" % (tree, res, cn, annots), None)
    objs[tree - 1] = ("<< /Type /Pages /Kids [%s] /Count %d >>" % (
        " ".join("%d 0 R" % n for n in kids), len(kids)), None)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, (body, stream) in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + body.encode("latin-1")
        if stream is not None:
            out += b"\nstream\n" + stream + b"\nendstream"
        out += b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    trailer = "<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>]%s >>" % (
        len(objs) + 1, catalog, info_num, file_id.hex(), file_id.hex(),
        " /Encrypt %d 0 R" % enc_num if enc_num else "")
    out += b"trailer\n" + trailer.encode() + b"\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- OLE2 (compound file) ---------------------------------------------------------------

def cfb_bytes(streams, rng):
    """A version-3 compound file whose directory (in its second sector, so in
    the first bytes a sniffer reads) names `streams`; each stream holds 4 KiB
    of noise (at the mini-stream cut-off, so no mini stream is needed)."""
    endchain, freesect, fatsect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    per = 8   # sectors per stream
    fat = [fatsect, endchain]
    starts = []
    for _ in streams:
        first = len(fat)
        starts.append(first)
        fat += [first + k + 1 for k in range(per - 1)] + [endchain]
    fat += [freesect] * (128 - len(fat))
    hdr = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16))
    hdr += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    hdr += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, endchain, 0, endchain, 0)
    hdr += struct.pack("<I", 0) + struct.pack("<I", freesect) * 108
    assert len(hdr) == 512

    def entry(name, typ, left, right, child, start, size):
        n = name.encode("utf-16-le") + b"\0\0"
        return (n.ljust(64, b"\0") + struct.pack("<HBB", len(n), typ, 1) +
                struct.pack("<III", left, right, child) + bytes(16) + struct.pack("<I", 0) +
                bytes(16) + struct.pack("<IQ", start, size))
    d = entry("Root Entry", 5, nostream, nostream, 1 if streams else nostream, endchain, 0)
    for i, name in enumerate(streams):
        right = i + 2 if i + 1 < len(streams) else nostream
        d += entry(name, 2, nostream, right, nostream, starts[i], per * 512)
    d = d.ljust(512, b"\0")
    body = bytes(rng.randrange(256) for _ in range(len(streams) * per * 512))
    return bytes(hdr) + struct.pack("<128I", *fat) + d + body


# --- SQLite -------------------------------------------------------------------------------

def sqlite_build(statements, path):
    con = sqlite3.connect(path)
    try:
        for sql, args in statements:
            con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def wal_fixed_salts(data):
    """A write-ahead log with fixed salts (SQLite draws them at random) and
    its checksums recomputed, so the fixture is the same on every run."""
    magic = struct.unpack(">I", data[:4])[0]
    big = magic & 1
    fmt = ">II" if big else "<II"

    def cks(buf, s0, s1):
        for i in range(0, len(buf), 8):
            a, b = struct.unpack(fmt, buf[i:i + 8])
            s0 = (s0 + a + s1) & 0xFFFFFFFF
            s1 = (s1 + b + s0) & 0xFFFFFFFF
        return s0, s1

    page = struct.unpack(">I", data[8:12])[0]
    salt = struct.pack(">II", 0x53505552, 0x4E455553)
    hdr = bytearray(data[:32])
    hdr[16:24] = salt
    s0, s1 = cks(bytes(hdr[:24]), 0, 0)
    hdr[24:32] = struct.pack(">II", s0, s1)
    out = bytearray(hdr)
    off = 32
    while off + 24 + page <= len(data):
        fh = bytearray(data[off:off + 24])
        body = data[off + 24:off + 24 + page]
        fh[8:16] = salt
        s0, s1 = cks(bytes(fh[:8]), s0, s1)
        s0, s1 = cks(body, s0, s1)
        fh[16:24] = struct.pack(">II", s0, s1)
        out += fh + body
        off += 24 + page
    return bytes(out)


# --- the fixtures -------------------------------------------------------------------------

class Tree:
    def __init__(self, out, g):
        self.out, self.g = out, g
        self.docs = []
        self.forbidden = []
        self.xxe_files = {}

    def write(self, doc, data):
        path = os.path.join(self.out, "tree", doc.rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.docs.append(doc)

    def write_extra(self, rel, data):
        path = os.path.join(self.out, "tree", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def fx_text(t, g):
    """UTF-16 in both byte orders, with and without a BOM, and Windows-1252."""
    for rel, enc, bom in (("tekst/utf16le-bom.txt", "utf-16-le", b"\xff\xfe"),
                          ("tekst/utf16le.txt", "utf-16-le", b""),
                          ("tekst/utf16be-bom.txt", "utf-16-be", b"\xfe\xff"),
                          ("tekst/utf16be.txt", "utf-16-be", b"")):
        d = Doc(rel, "utf-16")
        p = d.text()
        p.add("Klant: Jürgen Müller-Françoise")
        p.add("BSN: ", g.bsn())
        p.add("IBAN: ", g.iban(spaced=True))
        p.add("Telefoon: ", g.mobile())
        p.add("E-mail: ", g.email("high"))
        t.write(d, bom + "\n".join(plain(l) for l in p.lines).encode(enc) + "\n".encode(enc))
    d = Doc("tekst/cp1252.txt", "cp1252")
    p = d.text()
    p.add("Cliënt: Zoë Çelik, geboren in Curaçao; eigen bijdrage € 12,50")
    p.add("Burgerservicenummer: ", g.bsn())
    p.add("Telefoon privé: ", g.fixed())
    p.add("Rekeningnummer (IBAN): ", g.iban())
    p.add("E-mail: ", g.email("high", first="zoë"))
    p.add("Adres: Hoofdstraat 1, ", g.postcode(), " Zaandam")
    t.write(d, ("\r\n".join(plain(l) for l in p.lines) + "\r\n").encode("cp1252"))


def docx_doc(g, rel, fmt="docx"):
    d = Doc(rel, fmt)
    body = d.text("word/document.xml")
    body.add("Geachte mevrouw Çelik,")
    body.add("Uw burgerservicenummer is ", Split(g.bsn()), ".")
    body.add("Wij storten het bedrag op rekening (IBAN) ", Split(g.iban()), ".")
    body.add(Ins("Uw nieuwe mobiele nummer: ", g.mobile(), "."))
    body.add(Del("Oud BSN: ", g.bsn(), ". "), "Deze gegevens zijn bijgewerkt.")
    body.add("E-mail: ", Ent(g.email("high")))
    body.add("Telefoon:", TAB, g.fixed())
    body.add("Postcode: ", g.postcode(), " Utrecht")
    d.text("word/header1.xml").add("Gemeente Voorbeeld, telefoon ", g.fixed())
    d.text("word/footer1.xml").add("Vragen? Mail naar ", g.email("high"))
    d.text("word/comments.xml").add("Controleer IBAN ", g.iban(), " bij de bank.")
    d.text("word/footnotes.xml").add("BSN van de partner: ", g.bsn())
    core = d.text("docProps/core.xml")
    core.add("Besluit op uw aanvraag", tag="dc:title")
    core.add("Fatima Smit", tag="dc:creator")
    core.add(g.email(), tag="cp:lastModifiedBy")
    d.record(["word/media/image1.png"], "skipped", "image")
    parts = {p.member[-1]: p for p in d.parts}
    return d, docx_bytes(parts, image=png_bytes(seed=3))


def fx_office(t, g):
    d, data = docx_doc(g, "office/gesplitst.docx")
    t.write(d, data)
    docx_copy = (d, data)

    d = Doc("office/klanten.xlsx", "xlsx")
    tab = d.table(["Klanten"], ["Naam", "BSN", "IBAN", "Telefoon", "E-mail", "Postcode"])
    tab.row(2, ["Anna Visser", Num(g.bsn()), g.iban(), Inline(g.mobile()), g.email("high"),
                g.postcode("high")])
    tab.row(3, ["Mohamed El Amrani", Num(g.bsn8()), g.iban(), Inline(g.fixed()),
                g.email("high"), g.postcode("high")])
    tab.row(6, ["Lotte Smit", g.bsn(), g.iban(), g.mobile(), g.email("high"),
                g.postcode("high")])
    core = d.text("docProps/core.xml")
    core.add(g.email(), tag="dc:creator")
    t.write(d, xlsx_bytes(tab, core))

    d = Doc("office/presentatie.pptx", "pptx")
    s1 = d.text("ppt/slides/slide1.xml")
    s1.add("Klantdossier")
    s1.add("BSN: ", g.bsn())
    s1.add("IBAN: ", Split(g.iban()))
    s2 = d.text("ppt/slides/slide2.xml")
    s2.add("E-mail: ", g.email("high"))
    s2.add("Postcode: ", g.postcode(), " Amsterdam")
    n1 = d.text("ppt/notesSlides/notesSlide1.xml")
    n1.add("Terugbellen op telefoon ", g.mobile(), ".")
    core = d.text("docProps/core.xml")
    core.add(g.email(), tag="dc:creator")
    t.write(d, pptx_bytes([s1, s2], {0: n1}, core))

    d = Doc("office/brief.odt", "odt")
    c = d.text("content.xml")
    c.add("Geachte heer Bakker,")
    c.add("Uw burgerservicenummer is ", Split(g.bsn()), ".")
    c.add("Wij storten het bedrag op IBAN ", g.iban(spaced=True), ".")
    c.add(Ins("Nieuw mobiel nummer: ", g.mobile(), "."))
    c.add(Del("Oud BSN: ", g.bsn(), ". "), "Uw gegevens zijn bijgewerkt.")
    c.add("Wij hebben uw aanvraag ontvangen.", Note("Controleer IBAN ", g.iban(), "."))
    c.add("Postcode:", TAB, Sp(g.postcode()), " Leiden")
    c.add("E-mail: ", Ent(g.email("high")))
    st = d.text("styles.xml")
    st.add("Burgerzaken, telefoon ", g.fixed())
    st.add("Vragen? E-mail: ", g.email("high"))
    m = d.text("meta.xml")
    m.add("Besluit op uw aanvraag", tag="dc:title")
    m.add("Piet Bakker (", g.email(), ")", tag="meta:initial-creator")
    m.add(g.email(), tag="dc:creator")
    m.add(g.mobile("medium"), tag="user:Telefoon contactpersoon")
    t.write(d, odt_bytes({p.member[-1]: p for p in d.parts}))

    d = Doc("office/klanten.ods", "ods")
    tab = d.table(["Klanten"], ["Naam", "BSN", "IBAN", "Telefoon", "E-mail", "Postcode"])
    tab.row(2, ["Sanne de Jong", Num(g.bsn()), g.iban(), g.mobile(), g.email("high"),
                g.postcode("high")])
    b8 = g.bsn8()
    tab.row(3, ["Daan Mulder", Num(b8, display="%s.%s.%s" % (b8.form[:2], b8.form[2:5],
                                                            b8.form[5:])),
                g.iban(), g.fixed(), g.email("high"), g.postcode("high")])
    tab.row(6, ["Noor Bos", g.bsn(), g.iban(), g.mobile(), g.email("high"), g.postcode("high")])
    meta = d.text("meta.xml")
    meta.add(g.email(), tag="dc:creator")
    t.write(d, ods_bytes(tab, meta))
    return docx_copy


def fx_hostile(t, g):
    """Documents that name a file to load (an external entity) or expand
    entities without end.  The secret behind the external entity must never
    be found; the ordinary text next to it may be, or the part may be
    rejected (then it is on record)."""
    secret = g.bsn()
    t.forbidden.append(secret.norm)
    t.xxe_files[XXE_REL] = "BSN: %s\n" % secret.norm
    doctype = ('<!DOCTYPE w:document [<!ENTITY geheim SYSTEM "%s"><!ENTITY absoluut SYSTEM '
               '"file://%s">]>' % (XXE_REL, XXE_ABS))
    d = Doc("vijandig/xxe.docx", "hostile")
    d.optional = d.outcome = True
    d.twin = False
    body = d.text("word/document.xml")
    body.add("Uw BSN: ", g.bsn(), ".")
    body.add("&geheim;")
    body.add("&absoluut;")
    parts = {"word/document.xml": body}
    data = docx_bytes(parts, doctype=doctype)
    # the entity references must reach the XML as references
    data = zip_bytes([(n, c.replace(b"&amp;geheim;", b"&geheim;").replace(
        b"&amp;absoluut;", b"&absoluut;")) for n, c in zip_members(data)])
    body.lines = body.lines[:1]
    t.write(d, data)

    d = Doc("vijandig/xxe.odt", "hostile")
    d.optional = d.outcome = True
    d.twin = False
    c = d.text("content.xml")
    c.add("Uw BSN: ", g.bsn(), ".")
    c.add("&geheim;")
    c.add("&absoluut;")
    doctype = ('<!DOCTYPE office:document-content [<!ENTITY geheim SYSTEM "%s">'
               '<!ENTITY absoluut SYSTEM "file://%s">]>' % (XXE_REL, XXE_ABS))
    data = odt_bytes({"content.xml": c}, doctype=doctype)
    data = zip_bytes([(n, b.replace(b"&amp;geheim;", b"&geheim;").replace(
        b"&amp;absoluut;", b"&absoluut;")) for n, b in zip_members(data)],
        stored=("mimetype",))
    c.lines = c.lines[:1]
    t.write(d, data)

    # Nested internal entities: 10 levels of 10 make 10^9 copies.
    d = Doc("vijandig/lachsalvo.docx", "hostile")
    d.optional = d.outcome = True
    d.twin = False
    body = d.text("word/document.xml")
    body.add("Uw BSN: ", g.bsn(), ".")
    ents = '<!ENTITY l0 "ha">' + "".join(
        '<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10) for i in range(1, 10))
    body_x = docx_bytes({"word/document.xml": body},
                        doctype="<!DOCTYPE w:document [%s]>" % ents)
    members = []
    for n, b in zip_members(body_x):
        if n == "word/document.xml":
            b = b.replace(b"</w:body>", b"<w:p><w:r><w:t>&l9;</w:t></w:r></w:p></w:body>")
        members.append((n, b))
    t.write(d, zip_bytes(members))


def zip_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def fx_mail(t, g):
    d = Doc("mail/brief.eml", "eml")
    frm, to, cc = g.email(), g.email(), g.email()
    subj_bsn = g.bsn()
    h = d.text("headers")
    h.add("From: Jan de Vries <", frm, ">")
    h.add("To: ", to)
    h.add("Cc: Anaïs Brückner <", cc, ">")
    h.add("Subject: Aanvraag voor BSN ", subj_bsn)
    body = d.text("body")
    body.add("Beste meneer De Vries,")
    body.add("")
    body.add("Uw burgerservicenummer is ", Split(g.bsn()), " en uw IBAN ", g.iban(), ".")
    body.add("Met vriendelijke groet, Anaïs Brückner")
    html = d.text("body.html")
    mob, pc = g.mobile(), g.postcode()
    html.add("<p>Telefoon:&nbsp;<b>", mob, "</b></p>")
    html.add("<p>Postcode: ", pc, " Delft</p>")
    csv = d.table(["cliënten.csv"], ["naam", "bsn", "iban", "telefoon"])
    for i in range(3):
        csv.row(i + 1, ["Cliënt %d" % (i + 1), g.bsn(), g.iban(), g.mobile()])
    inner = Doc("notities.txt", "txt")
    note = inner.text()
    note.add("Notitie bij het dossier")
    note.add("BSN: ", g.bsn())
    note.add("Telefoon: ", g.fixed())
    d.nested.append((["bijlage.zip", "notities.txt"], inner))
    d.record(["pasfoto.png"], "skipped", "image")

    csv_bytes = ("\r\n".join([";".join(csv.header)] + [";".join(cell_text(c) for c in cells)
                                                      for _, cells in csv.rows]) + "\r\n"
                 ).encode("utf-8")
    zip_att = zip_bytes([("notities.txt", ("\n".join(plain(l) for l in note.lines) + "\n")
                          .encode())])
    b1, b2 = "=_grens_1_=", "=_grens_2_="
    m = ("From: Jan de Vries <%s>\r\nTo: %s\r\nCc: %s <%s>\r\nSubject: %s\r\n"
         "Date: Fri, 01 Mar 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
         'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n'
         "Dit is een bericht in MIME-formaat.\r\n\r\n--%s\r\n"
         'Content-Type: multipart/alternative; boundary="%s"\r\n\r\n--%s\r\n'
         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
         "\r\n\r\n" % (frm.form, to.form, rfc2047_q("Anaïs Brückner"), cc.form,
                       rfc2047_b("Aanvraag voor BSN %s" % subj_bsn.form), b1, b1, b2, b2))
    m += qp_encode(body.lines)
    m += ("\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n" % b2)
    m += qp_encode([["<html><body>"]] + html.lines + [["</body></html>"]])
    m += "\r\n--%s--\r\n\r\n--%s\r\n" % (b2, b1)
    m += ("Content-Type: text/csv; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename*=utf-8''cli%C3%ABnten.csv\r\n\r\n")
    m += b64_lines(csv_bytes)
    m += ("\r\n--%s\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
          'Content-Disposition: attachment; filename="bijlage.zip"\r\n\r\n' % b1)
    m += b64_lines(zip_att)
    m += ("\r\n--%s\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
          'Content-Disposition: attachment; filename="pasfoto.png"\r\n\r\n' % b1)
    m += b64_lines(png_bytes(seed=9))
    m += "\r\n--%s--\r\n" % b1
    # the html part's twin is its text as written (tags and all)
    html.lines = [["<html><body>"]] + html.lines + [["</body></html>"]]
    t.write(d, m.encode("ascii"))
    eml = (d, m.encode("ascii"))

    d = Doc("mail/postbus.mbox", "mbox")
    out = []
    # message 1: plain 8-bit UTF-8
    a = g.email()
    h = d.text("message 1", "headers")
    h.add("From: ", a)
    h.add("To: ", g.email())
    h.add("Subject: Adreswijziging")
    b = d.text("message 1", "body")
    b.add("Beste afdeling Burgerzaken,")
    b.add("Mijn nieuwe adres is Kerkstraat 12, ", g.postcode(), " Delft.")
    b.add("Mijn BSN is ", g.bsn(), ".")
    out.append("From %s Fri Mar  1 10:00:00 2024\n" % a.form +
               "\n".join(plain(l) for l in h.lines) +
               "\nDate: Fri, 01 Mar 2024 10:00:00 +0100\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" +
               "\n".join(plain(l) for l in b.lines) + "\n")
    # message 2: quoted-printable text and a CSV attachment
    a = g.email()
    h = d.text("message 2", "headers")
    h.add("From: ", a)
    h.add("Subject: Adressenlijst")
    b = d.text("message 2", "body")
    b.add("Zie de bijlage. Mijn telefoon: ", Split(g.mobile()))
    csv = d.table(["message 2", "adressen.csv"], ["naam", "email", "postcode"])
    for i in range(3):
        csv.row(i + 1, ["Bewoner %d" % (i + 1), g.email("high"), g.postcode("high")])
    csv_bytes = ("\n".join([";".join(csv.header)] + [";".join(cell_text(c) for c in cells)
                                                    for _, cells in csv.rows]) + "\n").encode()
    out.append("From %s Fri Mar  1 11:00:00 2024\n" % a.form +
               "\n".join(plain(l) for l in h.lines) +
               "\nDate: Fri, 01 Mar 2024 11:00:00 +0100\nMIME-Version: 1.0\n"
               'Content-Type: multipart/mixed; boundary="grens"\n\n--grens\n'
               "Content-Type: text/plain; charset=utf-8\n"
               "Content-Transfer-Encoding: quoted-printable\n\n" +
               qp_encode(b.lines).replace("\r\n", "\n") +
               "\n--grens\nContent-Type: text/csv; charset=utf-8\n"
               'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; '
               'filename="adressen.csv"\n\n' + b64_lines(csv_bytes, "\n") + "\n--grens--\n")
    # message 3: a base64 body; a line starting with "From " is quoted
    a = g.email()
    h = d.text("message 3", "headers")
    h.add("From: ", a)
    h.add("Subject: Terugbetaling")
    b = d.text("message 3", "body")
    b.add("From the desk of the finance department:")
    b.add("IBAN: ", g.iban(spaced=True))
    b.add("E-mail: ", g.email("high"))
    text3 = "\n".join(plain(l) for l in b.lines) + "\n"
    out.append("From %s Fri Mar  1 12:00:00 2024\n" % a.form +
               "\n".join(plain(l) for l in h.lines) +
               "\nDate: Fri, 01 Mar 2024 12:00:00 +0100\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
               b64_lines(text3.encode(), "\n"))
    # an 8-bit body line that starts with "From " is written ">From " in an mbox
    out[0] = out[0].replace("\nBeste afdeling", "\n>From Delft, beste afdeling")
    d.parts[1].lines[0] = [">From Delft, beste afdeling Burgerzaken,"]
    t.write(d, "\n".join(out).encode("utf-8"))
    return eml


def pdf_doc(g, rel, fmt="pdf"):
    d = Doc(rel, fmt)
    p1 = d.text("page 1")
    p1.add("Geachte heer Bakker,")
    p1.add("Uw BSN: ", g.bsn())
    p1.add("IBAN: ", Split(g.iban()))
    p1.add("Telefoon: ", g.mobile())
    p2 = d.text("page 2")
    p2.add("E-mail: ", g.email("high"))
    p2.add("Postcode: ", g.postcode(), " Rotterdam")
    an = d.text("page 2 annotations")
    an.add("Telefoon terugbellen: ", g.fixed())
    author = g.email()
    props = d.text("properties")
    props.add("Fatima El Amrani <", author, ">")
    d.record(["page 3"], "skipped", "image")
    data = pdf_bytes([dict(lines=p1.lines, flate=True), dict(lines=p2.lines, flate=True,
                                                            annot=an.lines[0]),
                      dict(image=True)],
                     {"Title": "Brief", "Author": plain(props.lines[0])},
                     file_id=hashlib.md5(rel.encode()).digest())
    return d, data


def fx_pdf(t, g):
    d, data = pdf_doc(g, "pdf/brief.pdf")
    t.write(d, data)
    copy = (d, data)
    # encrypted with a user password: nothing can be read, and it says so
    d = Doc("pdf/versleuteld.pdf", "pdf-encrypted")
    d.twin = False
    d.record([], "incomplete", "encrypted")
    fid = hashlib.md5(b"versleuteld").digest()
    secret = [["Vertrouwelijk dossier"], ["BSN: %s" % g.bsn_digits()]]
    t.write(d, pdf_bytes([dict(lines=secret, flate=True)], {"Title": "Vertrouwelijk"},
                         crypt=PdfCrypt(b"geheim", b"eigenaar", fid), file_id=fid))
    return copy


def fx_db(t, g, tmp):
    d = Doc("db/klanten.sqlite", "sqlite")
    kl = d.table(["klanten"], ["id", "naam", "bsn", "iban", "telefoon", "email", "postcode"])
    st = [("CREATE TABLE klanten (id INTEGER PRIMARY KEY, naam TEXT, bsn INTEGER, iban TEXT, "
           "telefoon TEXT, email TEXT, postcode TEXT)", ())]
    for rid, b in ((1, g.bsn()), (2, g.bsn8()), (7, g.bsn()), (12, g.bsn())):
        cells = [str(rid), "Klant %d" % rid, Num(b), g.iban(), g.mobile(), g.email("high"),
                 g.postcode("high")]
        kl.row(rid, cells)
        st.append(("INSERT INTO klanten VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (rid, cells[1], int(b.form), cells[3].form, cells[4].form, cells[5].form,
                    cells[6].form)))
    no = d.table(["notities"], ["tekst"])
    st.append(("CREATE TABLE notities (tekst TEXT)", ()))
    for rid in (3, 10):
        v1, v2 = g.bsn(), g.mobile()
        line = ["Klant belde over BSN ", v1, "; bellen naar ", v2, "."]
        no.row(rid, [Cell(line)])
        st.append(("INSERT INTO notities (rowid, tekst) VALUES (?, ?)", (rid, plain(line))))
    path = os.path.join(tmp, "klanten.sqlite")
    sqlite_build(st, path)
    with open(path, "rb") as f:
        t.write(d, f.read())
    db_copy = (d, open(path, "rb").read())

    # A write-ahead log beside the database: the main file is read, the log
    # is not (changes still in it are not in the file), and that is on record.
    d = Doc("db-wal/wal.sqlite", "sqlite-wal")
    kl = d.table(["klanten"], ["id", "bsn", "email"])
    path = os.path.join(tmp, "wal.sqlite")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("CREATE TABLE klanten (id INTEGER PRIMARY KEY, bsn TEXT, email TEXT)")
    for rid in (1, 2):
        b, e = g.bsn(), g.email("high")
        kl.row(rid, [str(rid), b, e])
        con.execute("INSERT INTO klanten VALUES (?, ?, ?)", (rid, b.form, e.form))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for rid in (3, 4):   # only in the log
        con.execute("INSERT INTO klanten VALUES (?, ?, ?)", (rid, g.bsn_digits(),
                                                            "nog.niet%d@example.nl" % rid))
    con.commit()
    with open(path, "rb") as f:
        main = f.read()
    with open(path + "-wal", "rb") as f:
        wal = f.read()
    con.close()
    d.record([], "incomplete", "wal")
    t.write(d, main)
    t.write_extra("db-wal/wal.sqlite-wal", wal_fixed_salts(wal))

    # An SQL dump: COPY rows are numbered in their block, INSERT values are
    # named by the column list only.
    d = Doc("db/dump.sql", "sql")
    cp = d.table(["<copy>"], ["id", "naam", "burgerservicenummer", "iban"])
    lines = ["-- PostgreSQL database dump", "",
             "CREATE TABLE public.klanten (id integer, naam text, burgerservicenummer text, "
             "iban text);",
             "COPY public.klanten (id, naam, burgerservicenummer, iban) FROM stdin;"]
    for i in range(3):
        b, ib = g.bsn(), g.iban()
        cp.row(i + 1, [str(i + 1), "Klant %d" % i, b, ib])
        lines.append("%d\tKlant %d\t%s\t%s" % (i + 1, i, b.form, ib.form))
    lines.append("\\.")
    ins = d.table(["<insert>"], ["id", "naam", "bsn", "telefoon"])
    tuples = []
    for i in range(3):
        b, m = g.bsn(), g.mobile()
        ins.row(None, [str(i + 20), "Klant '%d'" % i, b, m])
        tuples.append("(%d, 'Klant ''%d''', '%s', '%s')" % (i + 20, i, b.form, m.form))
    lines.append("INSERT INTO `contact` (`id`, `naam`, `bsn`, `telefoon`) VALUES " +
                 ", ".join(tuples) + ";")
    t.write(d, ("\n".join(lines) + "\n").encode())
    return db_copy


def fx_legacy(t, g):
    for rel, streams, reason in (
            ("legacy/oud.doc", ["WordDocument", "1Table", "\x05SummaryInformation"],
             "unsupported"),
            ("legacy/oud.xls", ["Workbook", "\x05SummaryInformation"], "unsupported"),
            ("legacy/bericht.msg", ["__substg1.0_0037001F", "__substg1.0_1000001F",
                                    "__properties_version1.0"], "unsupported"),
            ("legacy/beveiligd.docx", ["EncryptionInfo", "EncryptedPackage"], "encrypted")):
        d = Doc(rel, "legacy")
        d.twin = False
        d.record([], "incomplete", reason)
        t.write(d, cfb_bytes(streams, g.r))


def fx_damaged(t, g):
    """A docx cut off inside its second member, before the central
    directory: the damage is on record; what came before may be found."""
    d = Doc("kapot/afgebroken.docx", "damaged")
    d.optional = True
    d.twin = False
    body = d.text("word/document.xml")
    body.add("Uw BSN: ", g.bsn(), ".")
    # the comments part (filler, then a value) is where the file is cut
    com = Text(["word/comments.xml"])
    com.add(" ".join(g.filler(12) for _ in range(400)))
    com.add("Controleer IBAN ", g.iban(), ".")
    full = docx_bytes({"word/document.xml": body, "word/comments.xml": com})
    members = zip_members(full)
    # document.xml first, then the large comments part, cut in its middle
    order = ["[Content_Types].xml", "_rels/.rels", "word/document.xml",
             "word/_rels/document.xml.rels", "word/comments.xml"]
    members.sort(key=lambda m: order.index(m[0]) if m[0] in order else 99)
    data = zip_bytes(members)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zi = zf.getinfo("word/comments.xml")
        start = zi.header_offset + 30 + len(zi.filename) + len(zi.extra)
        cut = start + zi.compress_size // 2
    d.record(None, "incomplete", "corrupt")
    t.write(d, data[:cut])


def fx_nested(t, g, docx, pdf, db, eml):
    """Documents inside containers: held in memory up to --max-buffer."""
    d = Doc("genest/dossier.zip", "nested")
    for name, (inner, _) in (("brief.docx", docx), ("scan.pdf", pdf)):
        d.nested.append(([name], inner))
    t.write(d, zip_bytes([("brief.docx", docx[1]), ("scan.pdf", pdf[1])]))
    d = Doc("genest/export.tar.gz", "nested")
    d.nested.append((["export/klanten.sqlite"], db[0]))
    d.nested.append((["export/post/brief.eml"], eml[0]))
    t.write(d, tar_gz_bytes([("export/klanten.sqlite", db[1]),
                             ("export/post/brief.eml", eml[1])]))


def table_cell_values(c):
    if isinstance(c, Cell):
        return list(values(c.segs))
    v = cell_value(c)
    return [v] if v else []


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = args[0]
    seed = 20240301
    if "--seed" in args:
        seed = int(args[args.index("--seed") + 1])
    if "--bench" in args:
        bench(out, float(args[args.index("--bench") + 1]), seed)
        return
    g = Gen(seed)
    for sub in ("tree", "plain"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    t = Tree(out, g)
    tmp = tempfile.mkdtemp(prefix="sn-docfix-")
    try:
        fx_text(t, g)
        docx = fx_office(t, g)
        fx_hostile(t, g)
        eml = fx_mail(t, g)
        pdf = fx_pdf(t, g)
        db = fx_db(t, g, tmp)
        fx_legacy(t, g)
        fx_damaged(t, g)
        fx_nested(t, g, docx, pdf, db, eml)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    files = {}
    for d in t.docs:
        finds = []
        for f in doc_findings(d):
            finds.append(f)
        twin = None
        if d.twin and finds:
            twin = os.path.join("plain", d.rel)
            os.makedirs(os.path.join(out, twin), exist_ok=True)
            for name, data in doc_twin(d):
                with open(os.path.join(out, twin, name), "wb") as f:
                    f.write(data)
        files[d.rel] = dict(format=d.fmt, findings=[] if d.optional else finds,
                            optional=finds if d.optional else [], ledger=d.all_ledger(),
                            twin=twin, outcome=d.outcome)
    truth = dict(seed=seed, files=files, forbidden=t.forbidden, xxe_files=t.xxe_files,
                 xxe_abs=XXE_ABS, canaries=sorted(g.canaries))
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


def doc_findings(d):
    """Findings of a document, with note cells (Cell) of tables included."""
    out = []
    for p in d.parts:
        if isinstance(p, Text):
            for line in p.lines:
                for v in values(line):
                    out.append(finding(p.member, v, None, None))
        else:
            for n, cells in p.rows:
                for i, c in enumerate(cells):
                    for v in table_cell_values(c):
                        out.append(finding(p.member, v, p.header[i] if p.header else None, n))
    for prefix, inner in d.nested:
        out += [dict(f, member=prefix + f["member"]) for f in doc_findings(inner)]
    # SQL dumps are text: COPY and INSERT are not parts of their own
    if d.fmt == "sql":
        for f in out:
            f["member"] = []
    if d.fmt in ("utf-16", "cp1252", "txt"):
        for f in out:
            f["member"] = []
    return out


def doc_twin(d):
    out = []
    for p in d.parts:
        if isinstance(p, Text):
            out.append(("txt", ("\n".join(plain(l) for l in p.lines) + "\n").encode()))
        else:
            lines = [";".join(p.header)] if p.header else []
            for _, cells in p.rows:
                lines.append(";".join(plain(c.segs) if isinstance(c, Cell) else cell_text(c)
                                      for c in cells))
            out.append(("csv", ("\n".join(lines) + "\n").encode()))
    for _, inner in d.nested:
        out += [(n.rsplit(".", 1)[1], data) for n, data in doc_twin(inner)]
    return [("%02d.%s" % (i + 1, ext), data) for i, (ext, data) in enumerate(out)]


class BenchGen(Gen):
    """Valid values from counters: fast for millions, unique by
    construction, no canaries kept."""

    def __init__(self, seed):
        super().__init__(seed)
        self.n = seed % 1000

    def _next(self):
        self.n += 1
        return self.n

    def bsn(self, conf="high"):
        while True:
            base = "%08d" % (10000000 + (self._next() * 7919) % 89999999)
            d9 = sum((9 - i) * int(base[i]) for i in range(8)) % 11
            if d9 != 10:
                return V("bsn", base + str(d9), base + str(d9), conf)

    def iban(self, conf="high", spaced=False):
        k = self._next()
        bban = self.banks[k % len(self.banks)] + "%010d" % k
        num = "".join(str(int(c, 36)) for c in bban + "NL00")
        v = "NL%02d%s" % (98 - int(num) % 97, bban)
        return V("iban", v, v, conf)

    def mobile(self, conf="high"):
        m = "061%07d" % (self._next() % 10000000)
        return V("phone", "+31" + m[1:], "%s-%s" % (m[:2], m[2:]), conf)

    def email(self, conf="medium", first=None):
        e = "klant%d@example.nl" % self._next()
        return V("email", e, e, conf)


# --- the benchmark corpus -------------------------------------------------------------------

def bench(out, mb, seed):
    """One file per format of about `mb` MB with dense planted values, each
    next to its keyword (all high)."""
    g = BenchGen(seed)
    base = os.path.join(out, "bench")
    shutil.rmtree(base, ignore_errors=True)
    target = int(mb * 1000 * 1000)
    truth = {}

    def put(fmt, name, data, planted):
        d = os.path.join(base, fmt)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        truth[fmt] = dict(path=os.path.join(fmt, name), bytes=len(data), planted=planted)

    def record_lines(n):
        """n records of four values each: [(segs)], planted count."""
        lines = []
        for i in range(n):
            lines.append(["Klant %d: BSN " % i, g.bsn(), ", IBAN ", g.iban(), ", telefoon ",
                          g.mobile(), ", e-mail ", g.email("high"), "."])
        return lines

    def grow(make):
        """make(n) with n records so that the file is about target bytes,
        judged from a probe of 2000 records."""
        data, _ = make(2000)
        n = max(10, int(2000 * target / len(data)))
        return make(n)

    def mk_docx(n):
        body = Text(["word/document.xml"])
        body.lines = record_lines(n)
        return docx_bytes({"word/document.xml": body}), 4 * n

    def mk_odt(n):
        c = Text(["content.xml"])
        c.lines = record_lines(n)
        return odt_bytes({"content.xml": c}), 4 * n

    def sheet(n):
        tab = Table(["Klanten"], ["Naam", "BSN", "IBAN", "Telefoon", "E-mail"])
        for i in range(n):
            tab.row(i + 2, ["Klant %d" % i, Num(g.bsn()), g.iban(), g.mobile(),
                            g.email("high")])
        return tab

    def mk_xlsx(n):
        return xlsx_bytes(sheet(n)), 4 * n

    def mk_ods(n):
        return ods_bytes(sheet(n)), 4 * n

    def mk_pdf(n):
        # a record over two lines, so no line runs off the page
        lines = []
        for segs in record_lines(n):
            lines += [segs[:4], segs[4:]]
        pages = [dict(lines=lines[i:i + 48], flate=True) for i in range(0, len(lines), 48)]
        return pdf_bytes(pages, {"Title": "Bench"}), 4 * n

    def mk_eml(n):
        lines = record_lines(n)
        csv = "naam;bsn;iban;telefoon;email\n" + "".join(
            "Klant %d;%s;%s;%s;%s\n" % (i, g.bsn().form, g.iban().form, g.mobile().form,
                                        g.email().form) for i in range(n))
        m = ("From: Bench <%s>\r\nSubject: bench\r\nMIME-Version: 1.0\r\n" % g.email().form +
             'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp_encode(lines) +
             "\r\n--b\r\nContent-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\n"
             'Content-Disposition: attachment; filename="klanten.csv"\r\n\r\n' +
             b64_lines(csv.encode()) + "\r\n--b--\r\n")
        return m.encode(), 8 * n + 1

    def mk_mbox(n):
        msgs = []
        for i in range(0, n, 10):
            lines = record_lines(min(10, n - i))
            msgs.append("From MAILER-DAEMON Fri Mar  1 10:00:00 2024\nFrom: Bench <%s>\n"
                        "Subject: bericht %d\nContent-Type: text/plain; charset=utf-8\n\n%s\n"
                        % (g.email().form, i, "\n".join(plain(l) for l in lines)))
        # four values a record, and the sender of every message
        return "\n".join(msgs).encode(), 4 * n + len(msgs)

    def mk_sqlite(n):
        path = os.path.join(base, "tmp.sqlite")
        if os.path.exists(path):
            os.unlink(path)
        st = [("CREATE TABLE klanten (id INTEGER PRIMARY KEY, bsn INTEGER, iban TEXT, "
               "telefoon TEXT, email TEXT)", ())]
        con = sqlite3.connect(path)
        con.execute(st[0][0])
        con.executemany("INSERT INTO klanten (bsn, iban, telefoon, email) VALUES (?, ?, ?, ?)",
                        ((int(g.bsn().form), g.iban().form, g.mobile().form, g.email().form)
                         for _ in range(n)))
        con.commit()
        con.close()
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data, 4 * n

    def mk_utf16(n):
        text = "\n".join(plain(l) for l in record_lines(n)) + "\n"
        return b"\xff\xfe" + text.encode("utf-16-le"), 4 * n

    os.makedirs(base, exist_ok=True)
    for fmt, name, make in (("docx", "bench.docx", mk_docx), ("xlsx", "bench.xlsx", mk_xlsx),
                            ("odt", "bench.odt", mk_odt), ("ods", "bench.ods", mk_ods),
                            ("pdf", "bench.pdf", mk_pdf), ("eml", "bench.eml", mk_eml),
                            ("mbox", "bench.mbox", mk_mbox), ("sqlite", "bench.sqlite", mk_sqlite),
                            ("utf-16", "bench.txt", mk_utf16)):
        data, planted = grow(make)
        put(fmt, name, data, planted)
        print("%-7s %9d bytes  %7d planted" % (fmt, len(data), planted))
    with open(os.path.join(base, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
