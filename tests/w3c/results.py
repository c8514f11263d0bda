"""Parsing of SPARQL results (JSON, XML, CSV, TSV, RDF result sets) and RDF graphs into plain tuples,
and their comparison up to blank-node renaming.

Terms are tuples so that nothing normalises literals behind our back (rdflib does, by default):
``("u", iri)``, ``("b", label)``, ``("l", lexical, datatype | None, lang | None)`` — xsd:string and
rdf:langString are folded into ``None`` since RDF 1.1 makes them implicit; numbers and booleans are
kept in a value form (see :func:`_value_form`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox

Term = tuple
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
SRX = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
IMPLICIT = {XSD + "string", RDF_NS + "langString"}


class ResultError(Exception):
    """A response or an expected-results file could not be read."""


INTEGERS = {
    XSD + t
    for t in ["integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte"]
    + [
        "nonNegativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
        "positiveInteger",
    ]
}


def _value_form(lexical: str, datatype: str) -> str:
    """Numbers and booleans compare by value, as in the W3C harnesses: Oxigraph stores the canonical
    form ("1.0E2"^^xsd:double comes back as "100"), which RDF term equality would count as an error."""
    try:
        if datatype in INTEGERS:
            return str(int(lexical))
        if datatype == XSD + "decimal":
            return str(Decimal(lexical).normalize())
        if datatype in (XSD + "double", XSD + "float"):
            return repr(float(lexical))
        if datatype == XSD + "boolean":
            return {"1": "true", "0": "false"}.get(lexical.strip(), lexical.strip())
    except (ValueError, ArithmeticError):
        pass
    return lexical


def literal(lexical: str, datatype: str | None = None, lang: str | None = None) -> Term:
    if lang:
        return ("l", lexical, None, lang.lower())
    if datatype in IMPLICIT or datatype is None:
        return ("l", lexical, None, None)
    return ("l", _value_form(lexical, datatype), datatype, None)


def from_ox(t) -> Term:
    if isinstance(t, ox.NamedNode):
        return ("u", t.value)
    if isinstance(t, ox.BlankNode):
        return ("b", t.value)
    if isinstance(t, ox.Literal):
        return literal(t.value, t.datatype.value, t.language)
    raise ResultError(f"unsupported term {t!r}")


@dataclass
class Solutions:
    variables: list[str]
    rows: list[dict[str, Term]]


Result = Solutions | bool | set  # a set of (s, p, o) tuples for graphs


# --- SPARQL results formats -------------------------------------------------------------------
def parse_json(data: bytes) -> Solutions | bool:
    doc = json.loads(data)
    if "boolean" in doc:
        return bool(doc["boolean"])
    rows = []
    for b in doc["results"]["bindings"]:
        row = {}
        for name, v in b.items():
            kind = v["type"]
            if kind == "uri":
                row[name] = ("u", v["value"])
            elif kind == "bnode":
                row[name] = ("b", v["value"])
            elif kind in ("literal", "typed-literal"):
                row[name] = literal(v["value"], v.get("datatype"), v.get("xml:lang"))
            else:
                raise ResultError(f"unknown JSON term type {kind!r}")
        rows.append(row)
    return Solutions(doc["head"].get("vars", []), rows)


def parse_xml(data: bytes) -> Solutions | bool:
    root = ET.fromstring(data)
    boolean = root.find(SRX + "boolean")
    if boolean is not None:
        return boolean.text.strip() == "true"
    names = [v.get("name") for v in root.iter(SRX + "variable")]
    rows = []
    for result in root.iter(SRX + "result"):
        row = {}
        for b in result.findall(SRX + "binding"):
            (node,) = list(b)
            tag = node.tag.removeprefix(SRX)
            text = node.text or ""
            if tag == "uri":
                row[b.get("name")] = ("u", text.strip())
            elif tag == "bnode":
                row[b.get("name")] = ("b", text.strip())
            elif tag == "literal":
                row[b.get("name")] = literal(text, node.get("datatype"), node.get(XML_LANG))
            else:
                raise ResultError(f"unknown XML term <{tag}>")
        rows.append(row)
    return Solutions(names, rows)


_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_TSV_TERM = re.compile(
    r"""<(?P<iri>[^>]*)>
    | _:(?P<bnode>\S+)
    | (?P<q>"|')(?P<str>(?:[^"'\\]|\\.|(?!(?P=q))["'])*)(?P=q)
      (?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<dt>[^>]*)>)?
    | (?P<bool>true|false)
    | (?P<num>[+-]?(?:\d+\.?\d*[eE][+-]?\d+|\.\d+[eE][+-]?\d+|\d*\.\d+|\d+))""",
    re.X,
)


def _unescape(s: str) -> str:
    def one(m: re.Match) -> str:
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[1:], 16))
        return _ESCAPES[e]

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", one, s)


def tsv_term(cell: str) -> Term | None:
    if cell == "":
        return None
    m = _TSV_TERM.fullmatch(cell)
    if not m:
        raise ResultError(f"not a TSV term: {cell!r}")
    if m["iri"] is not None:
        return ("u", m["iri"])
    if m["bnode"] is not None:
        return ("b", m["bnode"])
    if m["q"] is not None:
        return literal(_unescape(m["str"]), m["dt"], m["lang"])
    if m["bool"] is not None:
        return literal(m["bool"], XSD + "boolean")
    num = m["num"]
    dt = "double" if "e" in num.lower() else "decimal" if "." in num else "integer"
    return literal(num, XSD + dt)


def parse_tsv(data: bytes) -> Solutions:
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    names = (
        [v.removeprefix("?").removeprefix("$") for v in lines[0].rstrip("\r").split("\t")] if lines else []
    )
    rows = []
    for line in lines[1:]:
        cells = line.rstrip("\r").split("\t")
        rows.append({n: t for n, c in zip(names, cells, strict=False) if (t := tsv_term(c)) is not None})
    return Solutions(names, rows)


def parse_csv(data: bytes) -> Solutions:
    """CSV keeps only strings: a cell becomes ("csv", text), or a blank node when it reads ``_:x``."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    rows_in = list(reader)
    names = rows_in[0] if rows_in else []
    rows = []
    for cells in rows_in[1:]:
        row = {}
        for n, c in zip(names, cells, strict=False):
            if c != "":
                row[n] = ("b", c[2:]) if c.startswith("_:") else ("csv", c)
        rows.append(row)
    return Solutions(names, rows)


def as_csv(s: Solutions) -> Solutions:
    """What the CSV serialisation of ``s`` keeps, to compare a CSV answer with typed expectations."""
    rows = [{n: t if t[0] == "b" else ("csv", t[1]) for n, t in row.items()} for row in s.rows]
    return Solutions(s.variables, rows)


# --- RDF ---------------------------------------------------------------------------------------
RDF_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "text/n3": ox.RdfFormat.N3,
}


def parse_graph(data: bytes, fmt: ox.RdfFormat, base: str | None = None) -> set[tuple[Term, Term, Term]]:
    try:
        quads = ox.parse(data, fmt, base_iri=base)
        return {(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)) for q in quads}
    except (SyntaxError, ValueError) as e:
        raise ResultError(f"unparseable {fmt}: {e}") from e


def rdf_result_set(triples: set) -> Solutions | bool | None:
    """The DAWG result-set vocabulary (rs:ResultSet) read back as solutions; None if not a result set."""
    by_subject: dict = {}
    for s, p, o in triples:
        by_subject.setdefault(s, {}).setdefault(p[1], []).append(o)
    sets = [s for s, props in by_subject.items() if ("u", RS + "ResultSet") in props.get(RDF_NS + "type", [])]
    if not sets:
        return None
    props = by_subject[sets[0]]
    if RS + "boolean" in props:
        return props[RS + "boolean"][0][1] == "true"
    names = [v[1] for v in props.get(RS + "resultVariable", [])]
    rows = []
    for sol in props.get(RS + "solution", []):
        sp = by_subject.get(sol, {})
        row = {}
        for b in sp.get(RS + "binding", []):
            bp = by_subject[b]
            row[bp[RS + "variable"][0][1]] = bp[RS + "value"][0]
        index = sp.get(RS + "index")
        rows.append((int(index[0][1]) if index else 0, row))
    rows.sort(key=lambda r: r[0])
    return Solutions(names, [r for _, r in rows])


def read_expected(path, base: str) -> tuple[Result, bool]:
    """An expected-results file → (result, whether it fixes an order)."""
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".srx":
        return parse_xml(data), True
    if suffix == ".srj":
        return parse_json(data), True
    if suffix == ".tsv":
        return parse_tsv(data), True
    if suffix == ".csv":
        return parse_csv(data), True
    fmt = ox.RdfFormat.RDF_XML if suffix == ".rdf" else ox.RdfFormat.TURTLE
    triples = parse_graph(data, fmt, base)
    rs = rdf_result_set(triples)
    if rs is None:
        return triples, False
    ordered = any(p == ("u", RS + "index") for _, p, _ in triples)
    return rs, ordered


def parse_response(content_type: str, data: bytes, base: str | None = None) -> Result:
    mime = content_type.split(";")[0].strip().lower()
    try:
        if mime in ("application/sparql-results+json", "application/json"):
            return parse_json(data)
        if mime in ("application/sparql-results+xml", "application/xml"):
            return parse_xml(data)
        if mime == "text/tab-separated-values":
            return parse_tsv(data)
        if mime == "text/csv":
            return parse_csv(data)
    except (ValueError, KeyError, ET.ParseError, UnicodeDecodeError) as e:
        raise ResultError(f"unparseable {mime}: {e}") from e
    if mime in RDF_TYPES:
        return parse_graph(data, RDF_TYPES[mime], base)
    raise ResultError(f"unexpected Content-Type {content_type!r}")


# --- comparison --------------------------------------------------------------------------------
def _shape(row: tuple) -> tuple:
    return tuple(("b",) if t is not None and t[0] == "b" else t for t in row)


def _has_bnode(row: tuple) -> bool:
    return any(t is not None and t[0] == "b" for t in row)


def _extend(exp: tuple, act: tuple, m: dict, inv: dict) -> list | None:
    """Map the blank nodes of ``exp`` onto ``act``; returns the new pairs, or None on a clash."""
    added = []
    for e, a in zip(exp, act, strict=True):
        if e is None or e[0] != "b":
            continue
        if e in m:
            if m[e] != a:
                break
        elif a in inv:
            break
        else:
            m[e], inv[a] = a, e
            added.append(e)
    else:
        return added
    for e in added:
        del inv[m.pop(e)]
    return None


def match_rows(expected: list[tuple], actual: list[tuple], ordered: bool) -> bool:
    """Equal up to a bijection between blank nodes (as sequences when ``ordered``)."""
    if len(expected) != len(actual):
        return False
    if ordered:
        if [_shape(r) for r in expected] != [_shape(r) for r in actual]:
            return False
        m: dict = {}
        inv: dict = {}
        return all(_extend(e, a, m, inv) is not None for e, a in zip(expected, actual, strict=True))
    if Counter(map(_shape, expected)) != Counter(map(_shape, actual)):
        return False
    exp_b = [r for r in expected if _has_bnode(r)]
    act_b = [r for r in actual if _has_bnode(r)]
    by_shape: dict = {}
    for i, r in enumerate(act_b):
        by_shape.setdefault(_shape(r), []).append(i)
    # Most constrained rows first: those sharing blank nodes with few others get placed early.
    exp_b.sort(key=lambda r: len(by_shape[_shape(r)]))
    used = [False] * len(act_b)
    m, inv = {}, {}

    def place(k: int) -> bool:
        if k == len(exp_b):
            return True
        row = exp_b[k]
        for i in by_shape[_shape(row)]:
            if used[i]:
                continue
            added = _extend(row, act_b[i], m, inv)
            if added is None:
                continue
            used[i] = True
            if place(k + 1):
                return True
            used[i] = False
            for e in added:
                del inv[m.pop(e)]
        return False

    return place(0)


def compare(expected: Result, actual: Result, ordered: bool) -> str | None:
    """None when they match, else a short reason."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if type(expected) is not type(actual):
            return f"expected {type(expected).__name__}, got {type(actual).__name__}"
        return None if expected == actual else f"expected {expected}, got {actual}"
    if isinstance(expected, set) or isinstance(actual, set):
        if not (isinstance(expected, set) and isinstance(actual, set)):
            return "expected a graph and solutions (or the reverse)"
        if match_rows(list(expected), list(actual), False):
            return None
        return f"graphs differ: {len(expected)} expected triples, {len(actual)} returned"
    names = sorted(set(expected.variables) | {n for r in expected.rows for n in r})
    if set(expected.variables) != set(actual.variables) and expected.variables:
        return f"variables differ: expected {expected.variables}, got {actual.variables}"
    exp = [tuple(r.get(n) for n in names) for r in expected.rows]
    act = [tuple(r.get(n) for n in names) for r in actual.rows]
    if match_rows(exp, act, ordered):
        return None
    if ordered and match_rows(exp, act, False):
        return "same solutions in a different order"
    return f"solutions differ: {len(exp)} expected, {len(act)} returned{_diff(exp, act)}"


def _diff(exp: list[tuple], act: list[tuple]) -> str:
    missing = list((Counter(exp) - Counter(act)).elements())[:2]
    extra = list((Counter(act) - Counter(exp)).elements())[:2]
    return f"; e.g. missing {missing}, unexpected {extra}" if missing or extra else ""
