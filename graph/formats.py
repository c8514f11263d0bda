"""Every format the platform reads or writes, in one registry, as rdflib's plugin registry does.

RDF and SPARQL results formats are pyoxigraph's own (``ox.RdfFormat``, ``ox.QueryResultsFormat`` carry the
media type, file extension, label and W3C IRI); we add only a short name (``?format=``, ``--format``), the
other names clients send for the same format, and the three formats that are not: HTML pages, flat JSON
(rows, the reconciliation service) and plain XML (the sitemaps); CSV and TSV rows are pyoxigraph's SPARQL
CSV and TSV. A name resolves against the formats a route offers: the first that claims it wins, so ``json``
is SPARQL JSON on ``/sparql``, JSON-LD on a resource and flat JSON on ``/api``. Negotiation itself is
api/conneg.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from graph.namespaces import PREFIXES, XSD

_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")}


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str  # without parameters
    extension: str
    label: str
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()  # other names and media types clients use for it

    @property
    def tokens(self) -> tuple[str, ...]:
        return (self.name, self.extension, self.media_type, *self.aliases)

    @property
    def iri(self) -> str | None:
        """Its IRI in https://www.w3.org/ns/formats/ (pyoxigraph gives JSON-LD another one)."""
        if self.rdf == ox.RdfFormat.JSON_LD:
            return "http://www.w3.org/ns/formats/JSON-LD"
        known = self.rdf or self.results
        return known.iri if known else None


def _rdf(name: str, fmt: ox.RdfFormat, *aliases: str) -> Format:
    return Format(name, fmt.media_type, fmt.file_extension, fmt.name, rdf=fmt, aliases=aliases)


def _results(name: str, fmt: ox.QueryResultsFormat, *aliases: str) -> Format:
    media = fmt.media_type.split(";")[0]
    return Format(name, media, fmt.file_extension, fmt.name, results=fmt, aliases=aliases)


HTML = Format("html", "text/html", "html", "HTML", aliases=("application/xhtml+xml",))
JSON = Format("json", "application/json", "json", "JSON")
XML = Format("xml", "application/xml", "xml", "XML", aliases=("text/xml",))
TEXT = Format("text", "text/plain", "txt", "Text")
# SPARQLWrapper's N3 mode asks for n3: Turtle is N3's RDF subset.
TURTLE = _rdf("turtle", ox.RdfFormat.TURTLE, "n3", "text/n3", "application/x-turtle")
JSONLD = _rdf("jsonld", ox.RdfFormat.JSON_LD, "json-ld", "json", "application/json")
NTRIPLES = _rdf("ntriples", ox.RdfFormat.N_TRIPLES, "text/plain")
RDFXML = _rdf("rdfxml", ox.RdfFormat.RDF_XML, "xml", "application/xml")
NQUADS = _rdf("nquads", ox.RdfFormat.N_QUADS)
TRIG = _rdf("trig", ox.RdfFormat.TRIG)
SPARQL_JSON = _results("sparql-json", ox.QueryResultsFormat.JSON, "json", "application/json")
SPARQL_XML = _results("sparql-xml", ox.QueryResultsFormat.XML, "xml", "application/xml", "text/xml")
CSV = _results("csv", ox.QueryResultsFormat.CSV)
TSV = _results("tsv", ox.QueryResultsFormat.TSV)
# CSV as a French spreadsheet opens it with a double click: semicolons (its list separator), a byte order
# mark (else it reads UTF-8 as Windows-1252) and decimal commas. Only by name: text/csv negotiates CSV.
EXCEL = Format("excel", "text/csv", "csv", "CSV for Excel (semicolons)", aliases=("tableur",))

RDF = (TURTLE, JSONLD, NTRIPLES, RDFXML, NQUADS, TRIG)  # what the loaders read and ``export`` writes
DESCRIPTION = (TURTLE, JSONLD, NTRIPLES, RDFXML)  # a description of something, as data
RESULTS = (SPARQL_JSON, SPARQL_XML, CSV, TSV)  # SELECT and ASK answers
ROWS = (JSON, SPARQL_JSON, CSV, TSV, EXCEL)  # named queries' pages of rows
# An error's message: plain text, or ``{"detail": …}`` to a client that takes JSON first (a script's
# ``await r.json()``); text on a tie, as ``*/*``.
PROBLEMS = (TEXT, JSON, SPARQL_JSON, JSONLD)
# Files a spreadsheet opens, where no one sees a Link header: a named query gives its whole answer in one
# (up to the ``list_rows`` cap, as the lists' twins), not a first page of 100 rows.
FILES = (CSV, TSV, EXCEL)


def file_name(stem: str, fmt: Format) -> str:
    """A download's name: the Excel variant's apart from the comma CSV's in a downloads folder."""
    return f"{stem}-excel.{fmt.extension}" if fmt is EXCEL else f"{stem}.{fmt.extension}"


def find(offered: Sequence[Format], token: str) -> Format | None:
    """The first of ``offered`` that a name, extension or media type means (case does not matter)."""
    token = token.strip().lower()
    return next((f for f in offered if token in f.tokens), None)


def of_file(offered: Sequence[Format], path: Path) -> Format | None:
    """The format a file's extension names, a trailing .gz aside: the site's own downloads are gzipped."""
    name = path.name.lower().removesuffix(".gz")
    return find(offered, name.rpartition(".")[2]) if "." in name else None


def opened(path: Path, mode: str = "rb") -> IO[bytes]:
    """A file's bytes, gunzipped (or, written, gzipped at level 6: most of 9's gain for far less time) when
    its name ends in .gz. No time in the gzip header: the same data is the same bytes (a download's ETag)."""
    if not path.name.lower().endswith(".gz"):
        return open(path, mode)
    return gzip.GzipFile(path, mode, compresslevel=6, mtime=0)


def names(offered: Iterable[Format]) -> str:
    return ", ".join(f.name for f in offered)


def tokens(offered: Iterable[Format]) -> list[str]:
    """Every name ``find`` knows for these formats (an OpenAPI enum)."""
    return list(dict.fromkeys(t for f in offered for t in f.tokens))


def curie(iri: str, prefixes: dict[str, str] = PREFIXES) -> str:
    for p, ns in prefixes.items():
        if iri.startswith(ns) and len(iri) > len(ns) and "/" not in iri[len(ns) :]:
            return f"{p}:{iri[len(ns) :]}"
    return iri


def serialize(triples: Iterable[ox.Triple], fmt: Format, prefixes: dict[str, str] = PREFIXES) -> bytes:
    """``fmt`` with the platform's prefixes; JSON-LD compacted (pyoxigraph's own is expanded)."""
    if fmt is JSONLD:
        return jsonld(triples, prefixes)
    return ox.serialize(triples, format=fmt.rdf, prefixes=prefixes) or b""


def jsonld(triples: Iterable[ox.Triple], prefixes: dict[str, str] = PREFIXES) -> bytes:
    """Compacted JSON-LD: the prefixes as inline ``@context``, one node per subject."""

    def ref(t: ox.NamedNode | ox.BlankNode) -> str:
        return f"_:{t.value}" if isinstance(t, ox.BlankNode) else curie(t.value, prefixes)

    nodes: dict[str, dict] = {}
    for t in triples:
        node = nodes.setdefault(ref(t.subject), {"@id": ref(t.subject)})
        p, o = t.predicate.value, t.object
        if p == PREFIXES["rdf"] + "type" and not isinstance(o, ox.Literal):
            node.setdefault("@type", []).append(ref(o))
            continue
        if isinstance(o, ox.Literal):
            value: dict = {"@value": o.value}
            if o.language:
                value["@language"] = o.language
            elif o.datatype.value != PREFIXES["xsd"] + "string":
                value["@type"] = curie(o.datatype.value, prefixes)
        elif isinstance(o, ox.Triple):
            raise ValueError("JSON-LD 1.1 cannot hold RDF 1.2 triple terms: ask for Turtle or N-Triples")
        else:
            value = {"@id": ref(o)}
        node.setdefault(curie(p, prefixes), []).append(value)
    doc = {"@context": dict(prefixes), "@graph": list(nodes.values())}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


def write_rows(
    fmt: Format, names: list[str], rows: list[dict], labels: Mapping[str, str] | None = None
) -> bytes:
    """SELECT rows as flat JSON or SPARQL 1.1 JSON, CSV or TSV (TSV keeps N-Triples term syntax). A
    spreadsheet's header gives the names' ``labels``: people read it, programs read the others'."""
    if fmt is SPARQL_JSON:
        bindings = [{n: _sparql_term(r[n]) for n in names if n in r} for r in rows]
        return json.dumps(
            {"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False
        ).encode()
    if fmt is JSON:
        return json.dumps(
            [{n: _plain(r[n]) for n in names if n in r} for r in rows], ensure_ascii=False
        ).encode()
    if fmt is EXCEL:
        header = [(labels or {}).get(n, n) for n in names]
        return spreadsheet_csv(
            header, ([_french(r[n]) if n in r else "" for n in names] for r in rows), fmt
        ).encode()
    out = io.StringIO()
    if fmt is CSV:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(names)
        writer.writerows([r[n].value if n in r else "" for n in names] for r in rows)
    else:
        out.write("\t".join("?" + n for n in names) + "\n")
        for r in rows:
            out.write("\t".join(str(r[n]) if n in r else "" for n in names) + "\n")
    return out.getvalue().encode()


_SIGNED_NUMBER = re.compile(r"[+-]\d[\d .,]*")  # -5, +33 4 76 00 00 00
_CODE = re.compile(r"0\d+")  # 05470, 05001: Excel would read the number 5470, a code's zero lost


def spreadsheet_cells(row: Iterable[Any]) -> list[str]:
    """A row of a CSV made for spreadsheets (the lists' twins, the downloads, the data·inclusion exports,
    /rapprochement.csv): a cell a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a
    leading ' (OWASP "CSV injection"), a signed number stays; None is empty. SPARQL CSV results (write_rows)
    stay raw: their format says a cell is the term's text."""

    def cell(c: str) -> str:
        formula = c.startswith(("=", "+", "-", "@", "\t", "\r")) and not _SIGNED_NUMBER.fullmatch(c)
        return "'" + c if formula else c

    return ["" if c is None else cell(str(c)) for c in row]


def delimiter_of(text: str) -> str:
    """The delimiter of a CSV: of comma, semicolon and tab, the one its first line holds most (French
    Excel writes « ; »), a comma if it holds none."""
    first = text.split("\n", 1)[0]
    return max((";", ",", "\t"), key=first.count) if any(d in first for d in ";,\t") else ","


def spreadsheet_text(cell: str) -> str:
    """A cell :func:`spreadsheet_cells` wrote, back to its text (our CSV exports are read back too)."""
    return cell[1:] if cell.startswith("'") and spreadsheet_cells([cell[1:]]) == [cell] else cell


def joined(value: Any) -> Any:
    """A cell holding several values (a list) as the platform's CSV files write them, joined by " | "."""
    return " | ".join(value) if isinstance(value, list) else value


def spreadsheet_csv(header: list[str], rows: Iterable[Iterable[Any]], fmt: Format = CSV) -> str:
    return "".join(spreadsheet_chunks(header, rows, fmt))


def spreadsheet_chunks(
    header: list[str], rows: Iterable[Iterable[Any]], fmt: Format = CSV, size: int = 64 * 1024
) -> Iterator[str]:
    """:func:`spreadsheet_csv` in pieces of about ``size`` characters, for a file converted as it is sent."""
    out = io.StringIO()
    if fmt is EXCEL:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if fmt is EXCEL else ",", lineterminator="\r\n")
    cells = _excel_cells if fmt is EXCEL else spreadsheet_cells
    for row in itertools.chain([header], rows):
        writer.writerow(cells(row))
        if out.tell() >= size:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _excel_cells(row: Iterable[Any]) -> list[str]:
    """A code with a leading zero as the formula ``="05470"``, whose value Excel and LibreOffice keep as
    text: the only formula we write, made after the data's own were neutralised (from digits only)."""
    return [f'="{c}"' if _CODE.fullmatch(c) else c for c in spreadsheet_cells(row)]


def french_number(text: str) -> str:
    """A number's text with a decimal comma (12,5), as a French spreadsheet reads a number: with a point
    it is text, or a date."""
    return text.replace(".", ",")


def _french(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
    """A number's text as a French spreadsheet reads it (12,5): with a point it is text, or a date; a
    boolean as the sheet's reader says it, « oui » or « non » (true/false read as English there)."""
    datatype = term.datatype.value if isinstance(term, ox.Literal) else ""
    if datatype in _NUMERIC:
        return french_number(term.value)
    if datatype == XSD + "boolean":
        return "oui" if term.value in ("true", "1") else "non"
    return term.value


def _plain(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Any:
    """Flat JSON: numbers as numbers, booleans as booleans, everything else as its text."""
    if isinstance(term, ox.Literal):
        dt = term.datatype.value
        if dt in _NUMERIC:
            try:  # an integer read as one: through a float, past 2^53 it would lose its last digits
                if dt.endswith(("integer", "int", "long", "Integer")):
                    return int(term.value)
                number = float(term.value)
            except ValueError:
                return term.value
            return number if math.isfinite(number) else term.value  # JSON has no NaN nor INF
        if dt == XSD + "boolean":
            return term.value in ("true", "1")
    return term.value


def _sparql_term(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD + "string":
        out["datatype"] = term.datatype.value
    return out
