"""SPARQL text as the engine reads it: one lexer, the checks made on its tokens, and the rewrites.

The endpoint's checks (SERVICE, LOAD, vendor extensions, the graphs an update touches), parameter binding
and the remote store's graph registry all read text here. The lexer follows the SPARQL 1.1 grammar's
terminals (``\\u`` escapes read first, EOL is CR or LF, a bare word never holds a dot). A check that read
the text differently from the engine once let a SERVICE through, so the text a check accepts is the text
the engine runs (:func:`canonical`), and rdflib's parser of the whole grammar counts SERVICE patterns too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import pyoxigraph as ox

from graph.namespaces import PREFIXES
from graph.settings import ENV_PREFIX

Token = tuple[str, str]  # (kind, text): kind is iri, name or other


class Refused(ValueError):
    """A query, an update or a request the platform will not run: the HTTP status, a message saying why and
    the answer's own headers (Retry-After, Allow…)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = r"[^\W\d_](?:[\w.\-]*[\w\-])?"
_PN_LOCAL = rf"(?:[\w:]|{_PLX})(?:(?:[\w.:\-]|{_PLX})*(?:[\w:\-]|{_PLX}))?"
_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n\r]|\\.)*"|\'(?:[^\'\\\n\r]|\\.)*\'|#[^\r\n]*)'
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    rf"|(?P<name>[?$]\w+|_:\w(?:[\w.\-]*[\w\-])?|(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?|[A-Za-z_]\w*)"
    r"|(?P<other>\S)"
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_REMOTE_WORDS = re.compile(r"service|load", re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)


def _char(m: re.Match) -> str:
    code = int(m[1] or m[2], 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise Refused(400, f"invalid escape {m[0]}: not a Unicode scalar value")
    return chr(code)


def canonical(text: str) -> str:
    """The query as checked and as run: escapes read, every line ending a LF. Meaning is kept (escapes are
    read before parsing, and CR is white space or a line end everywhere but inside long strings)."""
    if "\\" in text:
        text = _ESCAPE.sub(_char, text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def spans(text: str) -> Iterator[re.Match]:
    """The significant tokens of ``text`` (canonical), with their places: no comment, no literal."""
    return (m for m in _TOKEN.finditer(text) if m.lastgroup != "skip")


def tokens(text: str) -> list[Token]:
    return [(m.lastgroup or "", m.group()) for m in spans(canonical(text))]


def _word(tok: Token) -> str:
    return tok[1].upper() if tok[0] == "name" else ""


def resolve(iri: str, base: str | None) -> str:
    """``iri`` resolved against ``base`` by the engine's own IRI library (through its Turtle parser)."""
    if base is None:
        return iri
    try:
        (quad,) = ox.parse(f"<{iri}> <x:p> <x:o> .".encode(), ox.RdfFormat.TURTLE, base_iri=base)
    except (SyntaxError, ValueError) as e:
        raise Refused(400, f"<{iri}> does not resolve against <{base}>: {e}") from e
    return quad.subject.value


class Prologue:
    """The IRIs of a token stream as the engine reads them: BASE and PREFIX declarations in force,
    relative IRIs resolved (a relative graph IRI named the private graphs once)."""

    def __init__(self, toks: list[Token], base: str | None = None):
        self.toks = toks
        self.base = base
        self.prefixes: dict[str, str] = {}
        self.iris: list[str | None] = []  # each token's IRI, resolved with the declarations before it
        for i, tok in enumerate(toks):
            word = _word(tok)
            nxt = toks[i + 1] if i + 1 < len(toks) else ("", "")
            after = toks[i + 2] if i + 2 < len(toks) else ("", "")
            if word == "BASE" and nxt[0] == "iri":
                self.base = resolve(nxt[1][1:-1], self.base)
            elif word == "PREFIX" and nxt[1].endswith(":") and after[0] == "iri":
                self.prefixes[nxt[1][:-1]] = resolve(after[1][1:-1], self.base)
            self.iris.append(self._iri(tok))

    def _iri(self, tok: Token) -> str | None:
        kind, text = tok
        if kind == "iri":
            return resolve(text[1:-1], self.base)
        if kind == "name" and ":" in text and not text.startswith(("?", "$", "_:")):
            prefix, local = text.split(":", 1)
            if prefix in self.prefixes:
                return self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
        return None

    def target(self, i: int) -> str | None:
        """The IRI after the keyword at ``i`` (``SILENT`` skipped), if it is one."""
        j = i + 1
        if j < len(self.toks) and _word(self.toks[j]) == "SILENT":
            j += 1
        return self.iris[j] if j < len(self.toks) else None


def _services_by_grammar(text: str, update: bool) -> int | None:
    """How many SERVICE patterns rdflib's parser of the full grammar finds; None if it cannot parse."""
    from rdflib.plugins.sparql import parser
    from rdflib.plugins.sparql.parserutils import CompValue, ParseResults

    try:
        tree = parser.parseUpdate(text) if update else parser.parseQuery(text)
    except Exception:  # noqa: BLE001 - any failure means "could not be checked this way"
        return None
    found = 0
    stack: list[object] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            found += node.name in ("ServiceGraphPattern", "Load")
            stack.extend(node.values())
        elif isinstance(node, list | tuple | ParseResults):
            stack.extend(node)
    return found


def check_remote(text: str, allowlist: tuple[str, ...], base: str | None, *, update: bool = False) -> None:
    """SERVICE and LOAD make the engine fetch URLs (SSRF): only allow-listed endpoints pass. ``text`` is
    canonical. The lexer names the targets; the grammar's parser counts the SERVICE patterns, and a query
    with more than the lexer saw, or one it cannot parse, is refused when it may name either word."""
    if not _REMOTE_WORDS.search(text):
        return
    prologue = Prologue(tokens(text), base)
    seen = 0
    # Named with the setting: one who runs the server learns where to allow an endpoint.
    listed = ", ".join(f"<{a}>" for a in allowlist) or "none"
    allowed = f"only the endpoints of the setting {ENV_PREFIX}SERVICE_ALLOWLIST are called ({listed})"
    for i, tok in enumerate(prologue.toks):
        if _word(tok) not in ("SERVICE", "LOAD"):
            continue
        seen += 1
        target = prologue.target(i)
        if target is None or target not in allowlist:
            shown = f"<{target}>" if target else "a variable or nothing"
            raise Refused(400, f"{_word(tok)} {shown} refused: {allowed}")
    by_grammar = _services_by_grammar(text, update)
    if by_grammar is None and _REMOTE_WORDS.search(_masked(text)):
        raise Refused(
            400,
            "SERVICE or LOAD could not be checked: the SPARQL 1.1 grammar does not read this text "
            "(check its syntax)",
        )
    if by_grammar is not None and by_grammar > seen:
        raise Refused(400, f"SERVICE or LOAD refused: {allowed}")


def _masked(text: str) -> str:
    """``text`` with its literals and comments blanked out (same length), so braces and words in them
    are not read as syntax."""
    return _TOKEN.sub(lambda m: " " * len(m.group()) if m.lastgroup == "skip" else m.group(), text)


def check_extensions(toks: list[Token]) -> None:
    """Vendor extensions outside SPARQL 1.1 (Virtuoso's DEFINE pragmas, bif:/sql: functions) can read
    any graph or run SQL on a remote server: refused everywhere, so a query means the same on all."""
    declared = Prologue(toks).prefixes
    for kind, text in toks:
        if kind == "name" and text.upper() == "DEFINE":
            raise Refused(400, "DEFINE is not SPARQL 1.1 (a Virtuoso pragma): remove it")
        target = text[1:-1] if kind == "iri" else text if kind == "name" else ""
        scheme = target.split(":", 1)[0].lower() if ":" in target else ""
        if scheme in ("bif", "sql") and (kind == "iri" or scheme not in declared):
            raise Refused(400, f"{text} is a vendor extension, not SPARQL 1.1: it is refused here")


def from_graphs(toks: list[Token], base: str | None = None) -> tuple[list[str], list[str]] | None:
    """The IRIs of the query's FROM and FROM NAMED clauses, resolved; None if it has none."""
    if not any(_word(t) == "FROM" for t in toks):
        return None
    prologue = Prologue(toks, base)
    default: list[str] = []
    named: list[str] = []
    for i, tok in enumerate(toks):
        if _word(tok) != "FROM":
            continue
        is_named = i + 1 < len(toks) and _word(toks[i + 1]) == "NAMED"
        j = i + 2 if is_named else i + 1
        if j < len(toks):
            # An IRI not resolved here is kept as written: a remote runner refuses what it cannot check.
            (named if is_named else default).append(prologue.iris[j] or toks[j][1])
    return default, named


def check_update_scope(
    toks: list[Token], is_public: Callable[[str], bool], base: str | None, *, graph_variables: bool = False
) -> None:
    """Updates may neither write into nor read from a non-public graph, so they must name their graphs.
    Every IRI is checked as the engine resolves it (BASE, relative PREFIX, the endpoint as default base)."""
    prologue = Prologue(toks, base)
    for i, tok in enumerate(toks):
        iri = prologue.iris[i]
        if iri is not None and not is_public(iri):
            raise Refused(403, f"<{iri}> is not a public graph: updates cannot touch it")
        word = _word(tok)
        before = _word(toks[i - 1]) if i else ""
        if word in ("ALL", "NAMED") and before in ("CLEAR", "DROP", "SILENT"):
            raise Refused(403, f"{word} would include non-public graphs: name the graphs to change")
        if word == "GRAPH" and not graph_variables and i + 1 < len(toks) and toks[i + 1][1][0] in "?$":
            raise Refused(403, "GRAPH with a variable would read non-public graphs: name the graphs")


def writes_default_graph(toks: list[Token]) -> bool:
    """Whether an update may add triples to the unnamed default graph: a triple outside GRAPH in an INSERT
    (DATA, or a template without WITH), a LOAD without INTO, an ADD, MOVE or COPY … TO DEFAULT."""
    depth, inserting, named, loading, with_graph = 0, False, False, False, False
    for i, tok in enumerate(toks):
        word, text = _word(tok), tok[1]
        if text in "{}" and tok[0] == "other":
            depth += 1 if text == "{" else -1
            inserting = inserting and depth > 0
        elif depth == 0:
            if text == ";":
                if loading:
                    return True
                with_graph = False
            with_graph = with_graph or word == "WITH"
            inserting = word == "INSERT" and not with_graph or inserting and word == "DATA"
            loading = word == "LOAD" or loading and word != "INTO" and text != ";"
            if word == "DEFAULT" and _word(toks[i - 1]) == "TO":
                return True
        elif depth == 1 and inserting:
            if not named and text != "." and word != "GRAPH":
                return True
            named = word == "GRAPH"
    return loading


def as_sparql11(query: str) -> str:
    """pyoxigraph keeps the language tag GROUP_CONCAT's values share (the SPARQL 1.2 draft's rule); SPARQL
    1.1, which this endpoint declares, returns a simple literal, so every GROUP_CONCAT(…) becomes
    STR(GROUP_CONCAT(…)). A call whose parentheses do not close is left to the parser's error."""
    if "group_concat" not in query.lower():
        return query
    inserts: list[tuple[int, str]] = []
    depth, opened, pending, start = 0, [], False, 0  # opened: the depth each open GROUP_CONCAT( closes at
    for m in spans(query):
        kind, text = m.lastgroup, m.group()
        if kind == "name" and text.upper() == "GROUP_CONCAT":
            pending, start = True, m.start()
            continue
        if text == "(" and kind == "other":
            if pending:
                opened.append((depth, start))
            depth += 1
        elif text == ")" and kind == "other":
            depth -= 1
            if opened and opened[-1][0] == depth:
                inserts += [(opened.pop()[1], "STR("), (m.end(), ")")]
        pending = False
    for at, text in sorted(inserts, reverse=True):
        query = query[:at] + text + query[at:]
    return query


def star_in_order(query: str, in_scope: Callable[[str], list[str]]) -> str:
    """A top-level ``SELECT *`` with its variables spelled out in the order they first appear: pyoxigraph
    sorts them by name, where a reader (and a reuser's CSV columns) expects the query's order. Which
    variables are in scope is the engine's to say: ``in_scope`` gets the query with SERVICE read as GRAPH
    (same scope, no call); a query it cannot read is left as it is, for the engine to report."""
    found = list(spans(query))
    words = [m.group().upper() for m in found]
    form = next((i for i, w in enumerate(words) if w in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")), None)
    if form is None or words[form] != "SELECT":
        return query
    star = form + 1 + (form + 1 < len(words) and words[form + 1] in ("DISTINCT", "REDUCED"))
    if star >= len(found) or words[star] != "*":
        return query
    probe = query
    for i in reversed([i for i, w in enumerate(words) if w == "SERVICE"]):
        end = found[i + (i + 1 < len(words) and words[i + 1] == "SILENT")].end()
        probe = probe[: found[i].start()] + "GRAPH" + probe[end:]
    try:
        names = in_scope(probe)
    except (SyntaxError, ValueError, RuntimeError, OSError):
        return query
    first: dict[str, int] = {}
    for m in found:
        if m.lastgroup == "name" and m.group()[0] in "?$":
            first.setdefault(m.group()[1:], len(first))
    names = sorted(names, key=lambda n: first.get(n, len(first)))
    if not names:
        return query
    m = found[star]
    return query[: m.start()] + " ".join("?" + n for n in names) + query[m.end() :]


def rewrite_update(
    text: str, public_graphs: list[str], using: list[str], using_named: list[str], empty_graph: str
) -> str:
    """The update with ``ALL``/``NAMED`` targets spelled out as the public graphs, and the protocol's
    ``using-graph-uri``/``using-named-graph-uri`` written as USING clauses before each top-level WHERE."""
    found = list(spans(text))
    edits: list[tuple[int, int, str]] = []
    depth = 0
    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    if clauses and any(m.lastgroup == "name" and m.group().upper() in ("USING", "WITH") for m in found):
        raise Refused(400, "USING or WITH in the update and using-graph-uri in the request at once")
    for i, m in enumerate(found):
        word = m.group().upper() if m.lastgroup == "name" else ""
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
        elif word in ("ALL", "NAMED") and i > 0:
            j = i - 1
            if found[j].group().upper() == "SILENT":
                j -= 1
            op = found[j].group().upper() if j >= 0 else ""
            if op not in ("CLEAR", "DROP"):
                continue
            targets = ([] if word == "NAMED" else ["DEFAULT"]) + [f"GRAPH <{g}>" for g in public_graphs]
            targets = targets or [f"GRAPH <{empty_graph}>"]
            edits.append((found[j].start(), m.end(), " ;\n".join(f"{op} SILENT {t}" for t in targets)))
        elif word == "WHERE" and depth == 0 and clauses:
            if i > 0 and found[i - 1].group().upper() == "DELETE":
                raise Refused(400, "using-graph-uri cannot apply to DELETE WHERE: write DELETE { } WHERE { }")
            edits.append((m.start(), m.start(), clauses.strip() + " "))
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


Bindings = dict[str, ox.NamedNode | ox.Literal]


def values(variable: str, iris: Iterable[str]) -> str:
    """A VALUES clause binding ``?variable`` to these IRIs, each written as the engine reads it."""
    return f"VALUES ?{variable} {{ " + " ".join(str(ox.NamedNode(i)) for i in iris) + " } "


def bind(query: str, bindings: Bindings) -> str:
    """The query with ``VALUES`` for the bindings opening its WHERE group.

    Placed first in the group, the values are joined before its FILTERs run, so a variable used only in a
    FILTER is bound too (pyoxigraph's ``substitutions`` and a trailing VALUES join after them). Terms are
    written by pyoxigraph (escaped), never user text, so a binding cannot inject SPARQL. VALUES holds no
    blank node (nor could a remote server's label be sent back): graph.describe reaches them by paths.
    """
    if not bindings:
        return query
    if any(isinstance(v, ox.BlankNode) for v in bindings.values()):
        raise ValueError("a blank node cannot be bound to a query's variable")
    names = list(bindings)
    clause = (
        " VALUES ("
        + " ".join("?" + n for n in names)
        + ") { ("
        + " ".join(str(bindings[n]) for n in names)
        + ") } "
    )
    masked = _masked(query)
    where = _WHERE.search(masked)
    start = masked.find("{", where.end() if where else 0)
    if start < 0:
        raise SyntaxError("no WHERE group to bind values in")
    return query[: start + 1] + clause + query[start + 1 :]


QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_OPERATIONS = ("INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY")


def query_form(query: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of those words outside strings, IRIs and comments."""
    words = (m.group().upper() for m in spans(query) if m.lastgroup == "name")
    return next((w for w in words if w in QUERY_FORMS), None)


def no_query_form(query: str) -> str | None:
    """Why a query that opens (after its BASE and PREFIX declarations) with no query form is wrong, naming
    that word and where it is; the engine guesses past it ("SELEC ?s": "error at 1:10: expected
    CONSTRUCT"). None when the query opens with one."""
    text = canonical(query)
    found = list(spans(text))
    i = 0
    while i < len(found) and found[i].group().upper() in ("BASE", "PREFIX"):
        i += 2 if found[i].group().upper() == "BASE" else 3
    if i >= len(found) or found[i].group().upper() in QUERY_FORMS:
        return None
    word, place = found[i].group(), _place(text, found[i].start())
    if word.upper() in UPDATE_OPERATIONS:
        return f"{word} at {place} opens an update: send it as update=, not query="
    what = "unknown keyword" if found[i].lastgroup == "name" else "unexpected"
    forms = ", ".join(QUERY_FORMS[:-1]) + " or " + QUERY_FORMS[-1]
    return f"{what} {word!r} at {place}: a query opens with {forms} (after BASE and PREFIX)"


def undeclared_prefixes(query: str) -> str | None:
    """Which prefixes a query uses without declaring them, with the PREFIX line to add (the namespace of
    the platform's own prefixes, graph/namespaces.py): the engine only says "expected one of Prefix not
    found, ['%'], …" after the name, which a reader whose client adds no prefixes cannot act on. None when
    every prefix used is declared."""
    text = canonical(query)
    found = list(spans(text))
    declared: set[str] = set()
    missing: dict[str, int] = {}  # each prefix where it is first used
    for i, m in enumerate(found):
        name = m.group()
        if m.lastgroup != "name" or ":" not in name or name.startswith("_:"):
            continue
        prefix = name.split(":", 1)[0]
        if i and found[i - 1].group().upper() == "PREFIX":
            declared.add(prefix)
        elif prefix not in declared:
            missing.setdefault(prefix, m.start())
    return (
        "; ".join(
            f"prefix {p}: (at {_place(text, at)}) is not declared: add PREFIX {p}: "
            + (f"<{PREFIXES[p]}>" if p in PREFIXES else "<its namespace IRI>")
            for p, at in missing.items()
        )
        or None
    )


def as_written(query: str, error: str) -> str:
    """A syntax error placed in the text the client sent (:func:`as_sparql11` may have rewritten it, and a
    remote store's server read it with our prologue), and the first word named when it is no query form,
    or the prefixes used undeclared, where the engine's words would not help. A remote server's other
    refusals are its own to word."""
    if not error.startswith(("invalid SPARQL:", "the SPARQL server rejected the request:")):
        return error
    try:
        ox.Store().query(query)
    except SyntaxError as original:
        return f"invalid SPARQL: {no_query_form(query) or undeclared_prefixes(query) or original}"
    return error


def _place(text: str, start: int) -> str:
    """Where ``start`` is in ``text``, as line:column (both from 1), as the engine says it."""
    line, column = text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
    return f"{line}:{column}"


def named_iris(text: str) -> set[str]:
    """Every IRI an update names, prefixed names expanded (the remote store's graph registry)."""
    prologue = Prologue(tokens(text))
    return {iri for iri in prologue.iris if iri is not None}
