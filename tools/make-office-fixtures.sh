#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Office documents made by a real office suite, with planted values and their
# ground truth (run by hand; the results are committed):
#
#   tools/make-office-fixtures.sh [OUTDIR]     # default fixtures/documents/office
#
# Writes three flat-ODF sources into a temporary directory -- a letter
# (.fodt), a spreadsheet (.fods) and a presentation (.fodp) -- with fixed,
# valid synthetic values in the body, a tracked insertion and deletion, a
# comment, a header and a footer, document properties (author and initial
# author with an e-mail address, title, a user-defined property holding a
# phone number), a spreadsheet with a header row and a BSN typed as a number
# that lost its leading zero, slides and speaker notes.  LibreOffice then
# converts them: the letter to docx, odt and pdf (comments exported as PDF
# annotations), the spreadsheet to xlsx and ods, the presentation to pptx and
# odp.  Hand-built fixtures (tools/gen-doc-fixtures.py) show what a decoder
# must cope with; these show what real documents look like.
#
# Every planted value is then looked up in the converted file, in the part
# the expectation names (the zip member's text, the sheet's cell at the
# expected row under the expected header, the PDF page's text, its
# properties, its annotations); a value that did not survive the conversion
# stops the script, so expected.json never claims what the file does not
# hold.  What each format keeps (checked here on LibreOffice 7.4):
#   docx, xlsx, pptx: the initial author as dc:creator and the author as
#         cp:lastModifiedBy in docProps/core.xml; docx: headers and footers in
#         word/header1.xml and word/footer1.xml, tracked changes as w:ins and
#         w:del in word/document.xml, comments in word/comments.xml,
#         user-defined properties in docProps/custom.xml;
#   odt, ods, odp: properties in meta.xml; odt: body, tracked changes and
#         comments in content.xml, header and footer in styles.xml;
#   pdf:  the header, the body with the inserted and the deleted text (tracked
#         changes are shown) and the footer, all on page 1; the comment as a
#         page 1 annotation; of the properties only the initial author
#         (Author) and the title; no user-defined property;
#   xlsx, ods: the sheet with its row numbers (the empty rows 4 and 5 are
#         left out of xlsx and repeated in ods), the 8-digit BSN as a number;
#   pptx: slides in ppt/slides/slideN.xml, notes in
#         ppt/notesSlides/notesSlide1.xml; odp: slides and notes in content.xml.
# Also written: OUTDIR/twin/<name>/..., each source's parts as plain UTF-8
# text (a sheet as a ';'-separated file), for the recall comparison of
# tests/e2e/run_documents.py, and OUTDIR/expected.json (its format is
# described in tools/gen-doc-fixtures.py).
#
# The sources and the checks are deterministic; what LibreOffice stamps into
# its output (zip dates, the PDF creation date, the generator string) is not.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-fixtures/documents/office}
for tool in soffice pdftotext pdfinfo; do
  command -v $tool >/dev/null ||
    { echo "make-office-fixtures: $tool is needed (libreoffice, poppler-utils)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/sn-office.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
python3 - "$work" "$out" <<'PY'
import html
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

work, out = sys.argv[1], sys.argv[2]

# --- the planted values: fixed, checked here ------------------------------------


def bsn_ok(v):
    d = list(map(int, v.zfill(9)))
    return len(v) in (8, 9) and sum((9 - i) * d[i] for i in range(8)) % 11 == d[8] % 11 \
        and (sum((9 - i) * d[i] for i in range(8)) - d[8]) % 11 == 0


def iban_ok(v):
    s = v[4:] + v[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


class P:
    def __init__(self, cat, form, conf):
        self.cat, self.form, self.conf = cat, form, conf
        if cat == "bsn":
            assert bsn_ok(form), form
            self.norm = form.zfill(9)
        elif cat == "iban":
            assert iban_ok(form.replace(" ", "")), form
            self.norm = form.replace(" ", "")
        elif cat == "phone":
            d = re.sub(r"[^0-9+]", "", form)
            self.norm = d if d.startswith("+31") else "+31" + d[1:]
        elif cat == "email":
            self.norm = form.lower()
        else:
            self.norm = form.replace(" ", "")


# letter
L_HEADER = P("phone", "020 7654321", "high")
L_FOOTER = P("email", "sanne.devries@example.nl", "high")
L_BSN = P("bsn", "908301662", "high")
L_IBAN = P("iban", "NL44RABO0123456789", "high")
L_INS = P("phone", "06-24681357", "high")
L_DEL = P("bsn", "390996038", "high")
L_NOTE = P("bsn", "131860914", "high")
L_PC = P("postcode", "2611 BD", "medium")
L_INITIAL = P("email", "piet.bakker@example.nl", "medium")
L_AUTHOR = P("email", "jan.jansen@example.nl", "medium")
L_CUSTOM = P("phone", "06-21436587", "medium")
# spreadsheet rows: (sheet row, name, BSN cell, iban, phone, email, postcode)
S_ROWS = [
    (2, "Anna Visser", ("float", P("bsn", "948219932", "high")),
     P("iban", "NL36INGB0007654321", "high"), P("phone", "06-23456789", "high"),
     P("email", "anna.visser@example.nl", "high"), P("postcode", "3511 LX", "high")),
    (3, "Mohamed El Amrani", ("float", P("bsn", "84650758", "high")),
     P("iban", "NL31ABNA0531234567", "high"), P("phone", "+31 20 3456789", "high"),
     P("email", "m.elamrani@example.nl", "high"), P("postcode", "6525 EZ", "high")),
    (6, "Lotte Smit", ("string", P("bsn", "518190936", "high")),
     P("iban", "NL22SNSB0912345678", "high"), P("phone", "06-34567890", "high"),
     P("email", "lotte.smit@example.nl", "high"), P("postcode", "9711 AB", "high")),
]
S_HEADER = ["Naam", "BSN", "IBAN", "Telefoon", "E-mail", "Postcode"]
S_INITIAL = P("email", "daan.mulder@example.nl", "medium")
S_AUTHOR = P("email", "noor.bos@example.nl", "medium")
# presentation
D_BSN = P("bsn", "786579754", "high")
D_IBAN = P("iban", "NL12TRIO0198765432", "high")
D_NOTE = P("phone", "06-45678901", "high")
D_MAIL = P("email", "lotte.bakker@example.nl", "high")
D_PC = P("postcode", "1017 CT", "medium")
D_INITIAL = P("email", "sem.dejong@example.nl", "medium")
D_AUTHOR = P("email", "fatima.smit@example.nl", "medium")


def x(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"')


def meta(title, initial, author, custom=None):
    s = ("<office:meta><meta:initial-creator>%s</meta:initial-creator>"
         "<dc:creator>%s</dc:creator><dc:title>%s</dc:title>"
         "<meta:creation-date>2024-03-01T09:00:00</meta:creation-date>"
         "<dc:date>2024-03-02T09:00:00</dc:date>" % (x(initial), x(author), x(title)))
    if custom:
        s += '<meta:user-defined meta:name="%s">%s</meta:user-defined>' % (x(custom[0]),
                                                                         x(custom[1]))
    return s + "</office:meta>"


# --- the sources, and the same text as the plain twin ----------------------------------

LETTER = {
    "header": "Burgerzaken, telefoon %s" % L_HEADER.form,
    "footer": "Vragen? E-mail: %s" % L_FOOTER.form,
    "body": ["Geachte heer Jansen,",
             "Uw burgerservicenummer is %s." % L_BSN.form,
             "Wij storten het bedrag op IBAN %s." % L_IBAN.form],
    "inserted": "Uw nieuwe mobiele nummer: %s." % L_INS.form,
    "deleted": "Oud BSN: %s. " % L_DEL.form,
    "after_deleted": "Dit vervangt uw eerdere gegevens.",
    "noted": "Wij hebben uw aanvraag ontvangen.",
    "note": "Controleer BSN %s bij de BRP." % L_NOTE.form,
    "address": "Adres: Oude Delft 12, %s Delft" % L_PC.form,
    "initial": "Piet Bakker (%s)" % L_INITIAL.form,
    "author": "Jan Jansen <%s>" % L_AUTHOR.form,
    "custom": ("Telefoon contactpersoon", L_CUSTOM.form),
}


def letter_fodt():
    p = LETTER
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s '
            'office:mimetype="application/vnd.oasis.opendocument.text">%s'
            '<office:automatic-styles><style:page-layout style:name="pm1">'
            '<style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" '
            'fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2cm" '
            'fo:margin-right="2cm"/><style:header-style><style:header-footer-properties '
            'fo:min-height="0.5cm"/></style:header-style><style:footer-style>'
            '<style:header-footer-properties fo:min-height="0.5cm"/></style:footer-style>'
            "</style:page-layout></office:automatic-styles><office:master-styles>"
            '<style:master-page style:name="Standard" style:page-layout-name="pm1">'
            "<style:header><text:p>%s</text:p></style:header>"
            "<style:footer><text:p>%s</text:p></style:footer></style:master-page>"
            "</office:master-styles><office:body><office:text>"
            '<text:tracked-changes text:track-changes="true">'
            '<text:changed-region xml:id="ct1" text:id="ct1"><text:insertion>'
            "<office:change-info><dc:creator>Redactie</dc:creator>"
            "<dc:date>2024-03-01T10:00:00</dc:date></office:change-info></text:insertion>"
            "</text:changed-region>"
            '<text:changed-region xml:id="ct2" text:id="ct2"><text:deletion>'
            "<office:change-info><dc:creator>Redactie</dc:creator>"
            "<dc:date>2024-03-01T10:05:00</dc:date></office:change-info>"
            "<text:p>%s</text:p></text:deletion></text:changed-region></text:tracked-changes>"
            "%s"
            '<text:p><text:change-start text:change-id="ct1"/>%s'
            '<text:change-end text:change-id="ct1"/></text:p>'
            '<text:p><text:change text:change-id="ct2"/>%s</text:p>'
            "<text:p>%s<office:annotation><dc:creator>Behandelaar</dc:creator>"
            "<dc:date>2024-03-01T11:00:00</dc:date><text:p>%s</text:p></office:annotation>"
            "</text:p><text:p>%s</text:p></office:text></office:body></office:document>\n" % (
                NS, meta("Besluit op uw aanvraag", p["initial"], p["author"], p["custom"]),
                x(p["header"]), x(p["footer"]), x(p["deleted"]),
                "".join("<text:p>%s</text:p>" % x(l) for l in p["body"]), x(p["inserted"]),
                x(p["after_deleted"]), x(p["noted"]), x(p["note"]), x(p["address"])))


def sheet_fods():
    def cell(v):
        if isinstance(v, tuple):
            kind, pv = v
            if kind == "float":
                return ('<table:table-cell office:value-type="float" office:value="%s">'
                        "<text:p>%s</text:p></table:table-cell>" % (pv.form, pv.form))
            v = pv
        t = v.form if isinstance(v, P) else v
        return ('<table:table-cell office:value-type="string"><text:p>%s</text:p>'
                "</table:table-cell>" % x(t))
    rows = ["<table:table-row>%s</table:table-row>" % "".join(cell(h) for h in S_HEADER)]
    expect = 2
    for r in S_ROWS:
        if r[0] > expect:
            rows.append('<table:table-row table:number-rows-repeated="%d"><table:table-cell '
                        'table:number-columns-repeated="6"/></table:table-row>' % (r[0] - expect))
        rows.append("<table:table-row>%s</table:table-row>" % "".join(cell(c) for c in r[1:]))
        expect = r[0] + 1
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s '
            'office:mimetype="application/vnd.oasis.opendocument.spreadsheet">%s'
            '<office:body><office:spreadsheet><table:table table:name="Klanten">%s'
            "</table:table></office:spreadsheet></office:body></office:document>\n" % (
                NS, meta("Klantenlijst", "Daan Mulder <%s>" % S_INITIAL.form,
                         "Noor Bos <%s>" % S_AUTHOR.form), "".join(rows)))


DIA = {
    "slide1": ["Klantdossier", "BSN: %s" % D_BSN.form, "IBAN: %s" % D_IBAN.form],
    "notes1": "Bel de klant terug op telefoon %s." % D_NOTE.form,
    "slide2": ["E-mail: %s" % D_MAIL.form, "Postcode: %s Amsterdam" % D_PC.form],
    "initial": "Sem de Jong <%s>" % D_INITIAL.form,
    "author": "Fatima Smit <%s>" % D_AUTHOR.form,
}


def dia_fodp():
    def frame(cls, y, lines):
        c = ' presentation:class="%s"' % cls if cls else ""
        return ('<draw:frame%s svg:x="2cm" svg:y="%scm" svg:width="24cm" svg:height="4cm">'
                "<draw:text-box>%s</draw:text-box></draw:frame>" % (
                    c, y, "".join("<text:p>%s</text:p>" % x(l) for l in lines)))
    s1 = DIA["slide1"]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s '
            'office:mimetype="application/vnd.oasis.opendocument.presentation">%s'
            '<office:automatic-styles><style:page-layout style:name="PM1">'
            '<style:page-layout-properties fo:page-width="28cm" fo:page-height="15.75cm" '
            'style:print-orientation="landscape"/></style:page-layout></office:automatic-styles>'
            '<office:master-styles><style:master-page style:name="Standaard" '
            'style:page-layout-name="PM1"/></office:master-styles>'
            "<office:body><office:presentation>"
            '<draw:page draw:name="Dia1" draw:master-page-name="Standaard">%s%s'
            '<presentation:notes><draw:frame presentation:class="notes" svg:x="2cm" '
            'svg:y="14cm" svg:width="17cm" svg:height="10cm"><draw:text-box><text:p>%s'
            "</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>"
            '<draw:page draw:name="Dia2" draw:master-page-name="Standaard">%s</draw:page>'
            "</office:presentation></office:body></office:document>\n" % (
                NS, meta("Klantdossier", DIA["initial"], DIA["author"]),
                frame("title", 1, s1[:1]), frame("outline", 5, s1[1:]), x(DIA["notes1"]),
                frame(None, 2, DIA["slide2"])))


def twins():
    p = LETTER
    letter = [p["header"]] + p["body"] + [p["inserted"], p["deleted"] + p["after_deleted"],
                                          p["noted"], p["note"], p["address"], p["footer"],
                                          p["initial"], p["author"], "%s: %s" % p["custom"]]
    rows = [";".join(S_HEADER)]
    n = 2
    for r in S_ROWS:
        while n < r[0]:
            rows.append(";" * 5)
            n += 1
        rows.append(";".join(c[1].form if isinstance(c, tuple) else
                             (c.form if isinstance(c, P) else c) for c in r[1:]))
        n += 1
    return {"brief": {"01.txt": "\n".join(letter) + "\n"},
            "klanten": {"01.csv": "\n".join(rows) + "\n",
                        "02.txt": "Daan Mulder <%s>\nNoor Bos <%s>\n" % (S_INITIAL.form,
                                                                        S_AUTHOR.form)},
            "presentatie": {"01.txt": "\n".join(DIA["slide1"] + [DIA["notes1"]] +
                                                DIA["slide2"] + [DIA["initial"],
                                                                 DIA["author"]]) + "\n"}}


# --- the expectations per converted file ------------------------------------------------


def f(member, p, field=None, row=None):
    return dict(member=member, category=p.cat, normalized=p.norm, min_confidence=p.conf,
                field=field, row=row, form=p.form)


def sheet_finds(member):
    out = []
    for r in S_ROWS:
        for i, c in enumerate(r[2:], 2):
            pv = c[1] if isinstance(c, tuple) else c
            out.append(f(member, pv, S_HEADER[i - 1], r[0]))
    return out


EXPECT = {
    "brief.docx": ("docx", "brief", [
        f(["word/header1.xml"], L_HEADER), f(["word/footer1.xml"], L_FOOTER),
        f(["word/document.xml"], L_BSN), f(["word/document.xml"], L_IBAN),
        f(["word/document.xml"], L_INS), f(["word/document.xml"], L_DEL),
        f(["word/document.xml"], L_PC), f(["word/comments.xml"], L_NOTE),
        f(["docProps/core.xml"], L_INITIAL), f(["docProps/core.xml"], L_AUTHOR),
        f(["docProps/custom.xml"], L_CUSTOM)]),
    "brief.odt": ("odt", "brief", [
        f(["styles.xml"], L_HEADER), f(["styles.xml"], L_FOOTER),
        f(["content.xml"], L_BSN), f(["content.xml"], L_IBAN), f(["content.xml"], L_INS),
        f(["content.xml"], L_DEL), f(["content.xml"], L_PC), f(["content.xml"], L_NOTE),
        f(["meta.xml"], L_INITIAL), f(["meta.xml"], L_AUTHOR), f(["meta.xml"], L_CUSTOM)]),
    "brief.pdf": ("pdf", "brief", [
        f(["page 1"], L_HEADER), f(["page 1"], L_FOOTER), f(["page 1"], L_BSN),
        f(["page 1"], L_IBAN), f(["page 1"], L_INS), f(["page 1"], L_DEL),
        f(["page 1"], L_PC), f(["page 1 annotations"], L_NOTE),
        f(["properties"], L_INITIAL)]),
    "klanten.xlsx": ("xlsx", "klanten", sheet_finds(["Klanten"]) + [
        f(["docProps/core.xml"], S_INITIAL), f(["docProps/core.xml"], S_AUTHOR)]),
    "klanten.ods": ("ods", "klanten", sheet_finds(["Klanten"]) + [
        f(["meta.xml"], S_INITIAL), f(["meta.xml"], S_AUTHOR)]),
    "presentatie.pptx": ("pptx", "presentatie", [
        f(["ppt/slides/slide1.xml"], D_BSN), f(["ppt/slides/slide1.xml"], D_IBAN),
        f(["ppt/notesSlides/notesSlide1.xml"], D_NOTE), f(["ppt/slides/slide2.xml"], D_MAIL),
        f(["ppt/slides/slide2.xml"], D_PC), f(["docProps/core.xml"], D_INITIAL),
        f(["docProps/core.xml"], D_AUTHOR)]),
    "presentatie.odp": ("odp", "presentatie", [
        f(["content.xml"], D_BSN), f(["content.xml"], D_IBAN), f(["content.xml"], D_NOTE),
        f(["content.xml"], D_MAIL), f(["content.xml"], D_PC), f(["meta.xml"], D_INITIAL),
        f(["meta.xml"], D_AUTHOR)]),
}

# --- convert ---------------------------------------------------------------------------

src = os.path.join(work, "src")
conv = os.path.join(work, "out")
os.makedirs(src)
os.makedirs(conv)
for name, text in (("brief.fodt", letter_fodt()), ("klanten.fods", sheet_fods()),
                   ("presentatie.fodp", dia_fodp())):
    with open(os.path.join(src, name), "w", encoding="utf-8") as fh:
        fh.write(text)
notes = '{"ExportNotes":{"type":"boolean","value":"true"}}'
for source, targets in (("brief.fodt", ["docx:MS Word 2007 XML", "odt:writer8",
                                        "pdf:writer_pdf_Export:" + notes]),
                        ("klanten.fods", ["xlsx:Calc MS Excel 2007 XML", "ods:calc8"]),
                        ("presentatie.fodp", ["pptx:Impress MS PowerPoint 2007 XML",
                                              "odp:impress8"])):
    for t in targets:
        p = subprocess.run(["soffice", "--headless", "--norestore",
                            "-env:UserInstallation=file://%s/profile" % work,
                            "--convert-to", t, "--outdir", conv, os.path.join(src, source)],
                           capture_output=True, timeout=300)
        made = os.path.join(conv, source.rsplit(".", 1)[0] + "." + t.split(":")[0])
        if p.returncode != 0 or not os.path.exists(made):
            sys.exit("make-office-fixtures: converting %s to %s failed: %s" % (
                source, t.split(":")[0], p.stderr.decode(errors="replace")[-500:]))

# --- check that every value survived, where it is expected ----------------------------


def zip_text(path, part):
    with zipfile.ZipFile(path) as zf:
        data = zf.read(part).decode("utf-8")
    # text nodes joined (a value may be split over runs), entities decoded
    return html.unescape(re.sub(r"<[^>]*>", "", data))


def xlsx_cells(path):
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as zf:
        sst = [("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
               for si in ET.fromstring(zf.read("xl/sharedStrings.xml")).findall("m:si", ns)]
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        sheet = ET.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    name = wb.find("m:sheets/m:sheet", ns).get("name")
    cells = {}
    for row in sheet.iter("{%s}row" % ns["m"]):
        for c in row.findall("m:c", ns):
            ref = c.get("r")
            col = ord(re.match(r"[A-Z]+", ref).group(0)) - 65
            v = c.find("m:v", ns)
            text = v.text if v is not None else ""
            if c.get("t") == "s":
                text = sst[int(text)]
            cells[(int(row.get("r")), col)] = (text, c.get("t") or "n")
    return name, cells


def ods_cells(path):
    t = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    o = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("content.xml"))
    table = next(root.iter("{%s}table" % t))
    cells, n = {}, 1
    for row in table.iter("{%s}table-row" % t):
        rep = int(row.get("{%s}number-rows-repeated" % t, "1"))
        col = 0
        for c in row.findall("{%s}table-cell" % t):
            crep = int(c.get("{%s}number-columns-repeated" % t, "1"))
            kind = c.get("{%s}value-type" % o)
            text = "".join(c.itertext())
            if kind == "float":
                text = c.get("{%s}value" % o)
            for k in range(crep if kind else 0):
                cells[(n, col + k)] = (text, kind)
            col += crep
        n += rep
    return table.get("{%s}name" % t), cells


def pdf_annotations(path):
    data = open(path, "rb").read()
    out = []
    pat = rb"/Subtype\s*/Text\b.*?/Contents\s*(<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\))"
    for m in re.finditer(pat, data, re.S):
        s = m.group(1)
        if s.startswith(b"<"):
            raw = bytes.fromhex(re.sub(rb"\s", b"", s[1:-1]).decode())
            out.append(raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff")
                       else raw.decode("latin-1"))
        else:
            out.append(re.sub(rb"\\(.)", rb"\1", s[1:-1]).decode("latin-1"))
    return "\n".join(out)


def run(argv):
    return subprocess.run(argv, capture_output=True, check=True).stdout.decode("utf-8")


problems = []
for name, (fmt, twin, finds) in EXPECT.items():
    path = os.path.join(conv, name)
    cache = {}
    for e in finds:
        member = e["member"][0]
        if e["row"] is not None:
            sheet, cells = (xlsx_cells if fmt == "xlsx" else ods_cells)(path)
            col = S_HEADER.index(e["field"])
            got, kind = cells.get((e["row"], col), ("", ""))
            if kind in ("n", "float") and re.fullmatch(r"[0-9]+\.0*", got):
                got = got.split(".")[0]
            if sheet != member or cells.get((1, col), ("",))[0] != e["field"] or \
                    got != e["form"]:
                problems.append("%s: %s row %d under %s holds %r, expected %r" % (
                    name, sheet, e["row"], e["field"], got, e["form"]))
            continue
        if member not in cache:
            if fmt == "pdf":
                if member.startswith("page ") and member.endswith("annotations"):
                    cache[member] = pdf_annotations(path)
                elif member.startswith("page "):
                    n = member.split()[1]
                    cache[member] = run(["pdftotext", "-f", n, "-l", n, path, "-"])
                else:
                    cache[member] = run(["pdfinfo", path])
            else:
                cache[member] = zip_text(path, member)
        if e["form"] not in cache[member]:
            problems.append("%s: %s does not hold %s" % (name, member, e["form"]))
if problems:
    sys.exit("make-office-fixtures: planted values lost in the conversion:\n  " +
             "\n  ".join(problems))

# --- write the fixtures, twins and expectations ------------------------------------------

for name in EXPECT:
    shutil.copy(os.path.join(conv, name), os.path.join(out, name))
shutil.rmtree(os.path.join(out, "twin"), ignore_errors=True)
for name, files in twins().items():
    d = os.path.join(out, "twin", name)
    os.makedirs(d)
    for fn, text in files.items():
        with open(os.path.join(d, fn), "w", encoding="utf-8") as fh:
            fh.write(text)
canaries = set()
files = {}
for name, (fmt, twin, finds) in EXPECT.items():
    for e in finds:
        canaries.update((e["form"], e["normalized"]))
    files[name] = dict(format=fmt, twin="twin/" + twin, outcome=False, ledger=[], optional=[],
                       findings=[{k: v for k, v in e.items() if k != "form"} for e in finds])
with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as fh:
    json.dump(dict(generated_by="tools/make-office-fixtures.sh", files=files, forbidden=[],
                   canaries=sorted(canaries)), fh, indent=1, ensure_ascii=False, sort_keys=True)
    fh.write("\n")
for name in sorted(EXPECT):
    print("%-18s %6d bytes, %2d planted values" % (name, os.path.getsize(os.path.join(out, name)),
                                                  len(EXPECT[name][2])))
PY
