"""The SPARQL 1.1 endpoint (``/sparql``) and the Graph Store Protocol (``/store``).

Queries run through the deadline-enforcing runner (``app.state.runner``, graph/runner.py) on public-only
snapshots, so no query text can reach a private graph. Updates need the configured bearer token, may
not name a private graph, and are written by the single writer (``app.state.store``) then published.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.types import Receive, Scope, Send

from api import conneg
from api.deps import templates
from api.public_http import cors_headers
from graph.namespaces import PREFIXES, sparql_prefixes
from graph.remote import RemoteRunner
from graph.runner import EMPTY_GRAPH, Answer, Job, NotAcceptable, QueryRunner
from graph.settings import Settings
from graph.store import QueryTimeout, Store, StoreError, StoreUnavailable, bind

router = APIRouter()

QUERY_MAX_BYTES = 1024 * 1024  # a query or update text
GRAPH_MAX_BYTES = 64 * 1024 * 1024  # a Graph Store Protocol upload
PREFETCH = 1024 * 1024  # answers up to this size are complete before the status line is sent
CACHE_ENTRIES, CACHE_MAX_BODY = 512, 256 * 1024
READ_HEADERS = "Accept, Content-Type, If-None-Match, Authorization"
SPARQL_METHODS = ("GET", "POST", "HEAD")

EXAMPLES = {
    "Projets et leurs territoires": """SELECT ?projet ?label ?territoire WHERE {
  ?projet a schema:Project ; rdfs:label ?label .
  OPTIONAL { ?projet dcterms:spatial ?territoire }
} LIMIT 50""",
    "Communes par département (nombre)": """SELECT ?dep ?nom (COUNT(?commune) AS ?communes) WHERE {
  ?commune a igeo:Commune ; dcterms:isPartOf ?dep .
  ?dep a igeo:Departement ; igeo:nom ?nom .
} GROUP BY ?dep ?nom ORDER BY DESC(?communes)""",
    "Projets par thème": """SELECT ?theme ?label (COUNT(?p) AS ?projets) WHERE {
  ?p a schema:Project ; dcterms:subject ?theme .
  ?theme skos:prefLabel ?label .
} GROUP BY ?theme ?label ORDER BY DESC(?projets)""",
    "Organisations": """SELECT ?org ?nom WHERE {
  ?org a org:Organization ; rdfs:label ?nom .
} ORDER BY ?nom LIMIT 100""",
    "Graphes publics": """SELECT ?g ?label (COUNT(*) AS ?triplets) WHERE {
  GRAPH ?g { ?s ?p ?o } OPTIONAL { ?g rdfs:label ?label }
} GROUP BY ?g ?label""",
    "Décrire une ressource (CONSTRUCT)": """CONSTRUCT { ?s ?p ?o } WHERE {
  ?s a schema:Project ; ?p ?o .
} LIMIT 200""",
}


def examples(request: Request) -> dict[str, str]:
    """The built-in examples, then each named query of ``queries/`` with its example values bound."""
    state = request.app.state
    cached = getattr(state, "sparql_examples", None)
    if cached is not None:
        return cached
    found = dict(EXAMPLES)
    try:
        from graph import named_queries  # the named-queries feature (queries/*.rq), when present

        queries = named_queries.load_all()
    except Exception:  # noqa: BLE001 - optional here: a broken file must not take the query page down
        queries = {}
    for q in queries.values():
        try:
            values = named_queries.bindings(q, q.example_values(), state.store.minter)
            found[q.summary or q.name] = bind(q.sparql, values)
        except (ValueError, StoreError):
            continue  # a required parameter without an example: not runnable as is
    state.sparql_examples = found
    return found


class Elsewhere(Exception):  # noqa: N818 - a hand-over, not an error
    """What a sibling process (api.lane) cannot answer itself: the request goes to the main process."""


class Problem(Exception):
    """An HTTP error with a message the client can act on."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# --- lexical checks (strings, IRIs and comments are tokens of their own) ----------------------------------
_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*)'
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<name>[?$]\w+|[A-Za-z_][\w.\-]*(?::(?:[\w.:%\-]|\\.)*)?|:(?:[\w.:%\-]|\\.)*)"
    r"|(?P<other>\S)"
)
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescaped(text: str) -> str:
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)), text) if "\\" in text else text


def tokens(text: str) -> list[tuple[str, str]]:
    text = _unescaped(text)
    return [(m.lastgroup or "", m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "skip"]


def _prefixes(toks: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for i in range(len(toks) - 2):
        if toks[i][1].upper() == "PREFIX" and toks[i + 2][0] == "iri" and toks[i + 1][1].endswith(":"):
            found[toks[i + 1][1][:-1]] = toks[i + 2][1][1:-1]
    return found


def _iri(tok: tuple[str, str], prefixes: dict[str, str]) -> str | None:
    kind, text = tok
    if kind == "iri":
        return text[1:-1]
    if kind == "name" and ":" in text and not text.startswith(("?", "$")):
        prefix, local = text.split(":", 1)
        if prefix in prefixes:
            return prefixes[prefix] + local.replace("\\", "")
    return None


def check_remote(toks: list[tuple[str, str]], allowlist: tuple[str, ...]) -> None:
    """SERVICE and LOAD make the engine fetch URLs (SSRF): only allow-listed endpoints pass."""
    prefixes = _prefixes(toks)
    for i, (kind, text) in enumerate(toks):
        if kind != "name" or text.upper() not in ("SERVICE", "LOAD"):
            continue
        j = i + 1
        if j < len(toks) and toks[j][1].upper() == "SILENT":
            j += 1
        target = _iri(toks[j], prefixes) if j < len(toks) else None
        if target is None or target not in allowlist:
            allowed = ", ".join(f"<{a}>" for a in allowlist) or "none"
            shown = f"<{target}>" if target else (toks[j][1] if j < len(toks) else "")
            raise Problem(
                400,
                f"{text.upper()} {shown} refused: only allow-listed endpoints are called ({allowed})",
            )


def as_sparql11(query: str) -> str:
    """pyoxigraph keeps the language tag GROUP_CONCAT's values share (the SPARQL 1.2 draft's rule); SPARQL
    1.1, which this endpoint declares, returns a simple literal, so every GROUP_CONCAT(…) becomes
    STR(GROUP_CONCAT(…)). A call whose parentheses do not close is left to the parser's error."""
    if "group_concat" not in query.lower():
        return query
    inserts: list[tuple[int, str]] = []
    depth, opened, pending = 0, [], False  # opened: the depth each open GROUP_CONCAT( closes at
    for m in _TOKEN.finditer(query):
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


# The shape of a one-pattern query, read from the text itself (a lookup is not worth tokenising): white
# space and comments between the words, no string anywhere. Possessive repeats keep matching linear.
_GAP = r"(?:\s|#[^\n]*+)*+"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*+>"
_PREFIX = r"(?:[A-Za-z][\w.\-]*+|_[\w.\-]++)?+:"  # not "_:", a blank node
_VAR = r"[?$]\w++"
_TERM = rf"({_IRI}|{_VAR}|{_PREFIX}(?:[\w.:%\-]|\\.)*+|a(?![\w:]))"
_SCAN = re.compile(
    rf"{_GAP}(?:(?i:PREFIX){_GAP}{_PREFIX}{_GAP}{_IRI}{_GAP}|(?i:BASE){_GAP}{_IRI}{_GAP})*+"
    rf"(?:(?i:SELECT){_GAP}(?:\*|(?:{_VAR}{_GAP})++)|(?i:ASK)){_GAP}(?:(?i:WHERE){_GAP})?+"
    rf"\{{{_GAP}{_TERM}{_GAP}{_TERM}{_GAP}{_TERM}{_GAP}(?:\.{_GAP})?+\}}{_GAP}"
    rf"(?:(?i:LIMIT){_GAP}\d++{_GAP})?+"
)


def scans(query: str) -> bool:
    """Whether the query is ``SELECT … WHERE { s p o }`` or ``ASK { s p o }`` (prefixes and a LIMIT
    allowed): one pattern, no repeated variable, no literal, so every match the engine reads is a row it
    writes (graph.runner.Job.scans). Anything else, however cheap, is not."""
    found = _SCAN.fullmatch(_unescaped(query))  # \u escapes may spell anything: read what they spell
    if found is None:
        return False
    variables = [t[1:] for t in found.groups() if t[0] in "?$"]
    return len(set(variables)) == len(variables)


def has_from(toks: list[tuple[str, str]]) -> bool:
    return any(kind == "name" and text.upper() == "FROM" for kind, text in toks)


def from_graphs(toks: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The IRIs of the query's FROM and FROM NAMED clauses (relative ones resolved by the engine)."""
    prefixes = _prefixes(toks)
    default: list[str] = []
    named: list[str] = []
    for i, (kind, text) in enumerate(toks):
        if kind != "name" or text.upper() != "FROM":
            continue
        is_named = i + 1 < len(toks) and toks[i + 1][1].upper() == "NAMED"
        j = i + 2 if is_named else i + 1
        if j < len(toks):
            # An IRI not resolved here is kept as written: a remote runner refuses what it cannot check.
            (named if is_named else default).append(_iri(toks[j], prefixes) or toks[j][1])
    return default, named


def check_extensions(toks: list[tuple[str, str]]) -> None:
    """Vendor extensions outside SPARQL 1.1 (Virtuoso's DEFINE pragmas, bif:/sql: functions) can read
    any graph or run SQL on a remote server: refused everywhere, so a query means the same on all."""
    declared = _prefixes(toks)
    for kind, text in toks:
        if kind == "name" and text.upper() == "DEFINE":
            raise Problem(400, "DEFINE is not SPARQL 1.1 (a Virtuoso pragma): remove it")
        target = text[1:-1] if kind == "iri" else text if kind == "name" else ""
        scheme = target.split(":", 1)[0].lower() if ":" in target else ""
        if scheme in ("bif", "sql") and (kind == "iri" or scheme not in declared):
            raise Problem(400, f"{text} is a vendor extension, not SPARQL 1.1: it is refused here")


def check_update_scope(toks: list[tuple[str, str]], is_public, *, graph_variables: bool = False) -> None:
    """Updates may neither write into nor read from a non-public graph, so they must name their graphs."""
    prefixes = _prefixes(toks)
    for i, tok in enumerate(toks):
        iri = _iri(tok, prefixes)
        if iri is not None and not is_public(iri):
            raise Problem(403, f"<{iri}> is not a public graph: updates cannot touch it")
        upper = tok[1].upper() if tok[0] == "name" else ""
        before = toks[i - 1][1].upper() if i else ""
        if upper in ("ALL", "NAMED") and before in ("CLEAR", "DROP", "SILENT"):
            raise Problem(403, f"{upper} would include non-public graphs: name the graphs to change")
        if (
            upper == "GRAPH"
            and not graph_variables
            and i + 1 < len(toks)
            and toks[i + 1][1].startswith(("?", "$"))
        ):
            raise Problem(403, "GRAPH with a variable would read non-public graphs: name the graphs")


# --- helpers ------------------------------------------------------------------------------------------------
class Call:
    """A ``/sparql`` request as read straight from the ASGI scope. Starlette's Request and Response cost
    about as much as the engine on a lookup (doing without them saved ~60 µs of 265 per request, measured
    in one process). Helpers shared with the ``/store`` routes read only ``app``, ``headers``,
    ``method`` and ``scope``, which a Starlette Request has too."""

    __slots__ = ("app", "headers", "method", "scope")

    def __init__(self, scope: Scope):
        self.scope, self.app, self.method = scope, scope["app"], scope["method"]
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:  # ASGI names are lowercase; the first of a repeated one wins
            headers.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        self.headers = headers


Asked = Request | Call


@dataclass(slots=True)
class Reply:
    """An answer of the ``/sparql`` path: two ASGI messages, or a stream for a large one."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    media: str | None = None
    rest: Iterator[bytes] | None = None  # a large answer's body, read in a thread as it is sent

    async def send(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.rest is not None:
            response = StreamingResponse(self.rest, self.status, self.headers, media_type=self.media)
            await response(scope, receive, send)
            return
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        if self.media:
            raw.append((b"content-type", self.media.encode("latin-1")))
        if self.status not in (204, 304):
            raw.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": raw})
        await send({"type": "http.response.body", "body": self.body})


class _Gone(Exception):  # noqa: N818 - not an error: there is nobody to answer
    """The client hung up before its request body was read."""


def _settings(request: Asked) -> Settings:
    return request.app.state.settings


def _cors(request: Asked) -> dict[str, str]:
    return cors_headers(_settings(request).cors_origins, request.headers.get("origin", ""))


def _problem_reply(request: Asked, p: Problem) -> Reply:
    return Reply(
        p.status, {**_cors(request), **p.headers}, (p.message + "\n").encode(), "text/plain; charset=utf-8"
    )


def _problem(request: Request, p: Problem) -> Response:
    reply = _problem_reply(request, p)
    return Response(reply.body, reply.status, reply.headers, media_type=reply.media)


async def _read_body(request: Asked, receive: Receive, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise Problem(413, f"request body over the limit of {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise Problem(413, f"request body over the limit of {limit} bytes")
        if not message.get("more_body"):
            return b"".join(chunks)


def _media(request: Asked) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _as_written(query: str, e: StoreError) -> StoreError:
    """A syntax error in a query :func:`as_sparql11` rewrote, placed in the text the client sent (the
    rewrite keeps a valid query valid, so only an invalid one gets here and fails at parsing)."""
    if not str(e).startswith("invalid SPARQL:"):
        return e
    try:
        ox.Store().query(query)
    except SyntaxError as original:
        return StoreError(f"invalid SPARQL: {original}")
    return e


def _store_problem(e: StoreError) -> Problem:
    """The store's error as an answer: its server unreachable is a 503 to retry, the rest a 400."""
    if isinstance(e, StoreUnavailable):
        return Problem(503, str(e), {"Retry-After": "5"})
    return Problem(400, str(e))


def _authorize(request: Asked) -> None:
    token = _settings(request).update_token
    if not token:
        raise Problem(403, "updates are disabled on this server (no update token is configured)")
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Problem(401, "updates need 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        raise Problem(403, "wrong update token")


def _runner(request: Asked) -> QueryRunner | RemoteRunner:
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        raise Problem(503, "the SPARQL endpoint is not ready yet: try again in a moment")
    return runner


def _publish(request: Asked) -> None:
    publish = getattr(request.app.state, "publish", None)
    if callable(publish):
        publish()


class _Cache:
    """Small complete answers by ETag (which includes the store version): repeated queries cost a lookup."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[str, bytes] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, media: str, body: bytes) -> None:
        if len(body) > CACHE_MAX_BODY:
            return
        with self._lock:
            self._items[key] = (media, body)
            while len(self._items) > CACHE_ENTRIES:
                self._items.popitem(last=False)


def cache_of(state) -> _Cache:
    """The answers kept by this process (``app.state``); api.lane also keeps those it passed on."""
    if getattr(state, "sparql_cache", None) is None:
        state.sparql_cache = _Cache()
    return state.sparql_cache


def _etag_matches(request: Asked, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return header.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


# --- /sparql -------------------------------------------------------------------------------------------
async def _params(call: Call, receive: Receive) -> list[tuple[str, str]]:
    query_string = call.scope["query_string"]
    params = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True) if query_string else []
    if call.method != "POST":
        return params
    media = _media(call)
    body = await _read_body(call, receive, QUERY_MAX_BYTES)
    if media == "application/x-www-form-urlencoded":
        try:
            return params + parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as e:
            raise Problem(400, "the form is not UTF-8") from e
    if media in ("application/sparql-query", "application/sparql-update"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Problem(400, "the request body is not UTF-8") from e
        name = "query" if media == "application/sparql-query" else "update"
        if any(k in ("query", "update") for k, _ in params):
            raise Problem(400, f"a {media} body and a query/update parameter at once")
        return [*params, (name, text)]
    raise Problem(
        415,
        f"unsupported Content-Type {media or '(none)'}: use application/x-www-form-urlencoded, "
        "application/sparql-query or application/sparql-update",
    )


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = list(dict.fromkeys(v for k, v in params if k == name))  # SPARQLWrapper repeats format=
    if len(values) > 1:
        raise Problem(400, f"'{name}' given {len(values)} times")
    return values[0] if values else None


def _timeout(request: Asked, params: list[tuple[str, str]]) -> float:
    limit = _settings(request).query_timeout
    asked = _one(params, "timeout")
    if asked is None or asked == "":
        return limit
    try:
        value = float(asked)
    except ValueError as e:
        raise Problem(400, f"timeout={asked!r} is not a number of seconds") from e
    if not value > 0:
        raise Problem(400, "timeout must be a positive number of seconds")
    return min(value, limit)


def _collect(answer: Answer, limit: int) -> tuple[list[bytes], bool]:
    """Read the answer until ``limit`` bytes or its end, so errors before that get a proper status."""
    head: list[bytes] = []
    size = 0
    for chunk in answer.chunks:
        head.append(chunk)
        size += len(chunk)
        if size >= limit:
            return head, False
    return head, True


async def _start(
    runner: QueryRunner | RemoteRunner, job: Job, timeout: float
) -> tuple[Answer, list[bytes], bool]:
    """The answer and its first PREFETCH bytes: all of a small one, read without leaving the loop."""
    answer = await runner.run_async(job, timeout)
    if answer.complete:
        return answer, list(answer.chunks), True
    try:
        head, done = await run_in_threadpool(_collect, answer, PREFETCH)
    except BaseException:
        answer.close()
        raise
    return answer, head, done


def handles(scope: Scope) -> bool:
    """Whether ``scope`` is a ``/sparql`` request, which :class:`api.app.App` answers with :func:`serve`."""
    return scope["type"] == "http" and _route_path(scope) == "/sparql" and scope["method"] in SPARQL_METHODS


async def serve(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a ``/sparql`` request (``scope["app"]`` has the ``state``); raises :class:`Elsewhere`
    before anything is sent when a lane must hand it over."""
    call = Call(scope)
    try:
        reply = await _answer(call, receive)
    except Problem as p:
        reply = _problem_reply(call, p)
    except StoreError as e:  # outside FastAPI's exception handlers (see api.app.App)
        reply = _problem_reply(call, _store_problem(e))
    except _Gone:
        return
    if isinstance(reply, Response):
        await reply(scope, receive, send)
    else:
        await reply.send(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path without the deployment's root path (behind a proxy that keeps its prefix in it)."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


async def _answer(call: Call, receive: Receive) -> Reply | Response:
    params = await _params(call, receive)
    query, update = _one(params, "query"), _one(params, "update")
    if query is not None and update is not None:
        raise Problem(400, "give either a query or an update, not both")
    if (update is not None or query is None) and getattr(call.app.state, "lane", False):
        raise Elsewhere
    if update is not None:
        if call.method != "POST":
            raise Problem(405, "updates are sent with POST", {"Allow": "POST"})
        return await _update(Request(call.scope), params, update)
    if query is None:
        return _describe_service(Request(call.scope))
    return await _query(call, params, query)


# What check_remote, check_extensions and has_from look for: a query with none of it is not tokenised.
# Upper case, as the token checks compare (str.upper maps more letters to these than str.lower does).
_TOKENISED_FOR = ("SERVICE", "LOAD", "DEFINE", "BIF:", "SQL:", "FROM")


async def _query(call: Call, params: list[tuple[str, str]], query: str) -> Reply:
    # Tokenised only when it may say something the checks look for (a \u escape could spell it).
    upper = query.upper()
    toks = tokens(query) if "\\" in query or any(w in upper for w in _TOKENISED_FOR) else None
    if toks is not None:
        check_remote(toks, _settings(call).service_allowlist)
        check_extensions(toks)
    defaults = [v for k, v in params if k == "default-graph-uri"]
    named = [v for k, v in params if k == "named-graph-uri"]
    for g in defaults + named:
        try:
            ox.NamedNode(g)
        except ValueError as e:
            raise Problem(400, f"invalid graph IRI {g!r}: {e}") from e
    timeout = _timeout(call, params)
    try:
        formats = [v for k, v in params if k == "format"]
        results_type, graph_type = conneg.negotiate(call.headers.get("accept"), formats)
    except conneg.UnknownFormat as e:
        raise Problem(400, f"unknown format={e}: use one of {', '.join(conneg.FORMAT_NAMES)}") from e
    if results_type is None and graph_type is None:
        raise Problem(
            406, "no acceptable format: " + ", ".join([*conneg.RESULTS.values(), *conneg.GRAPHS.values()])
        )
    runner = _runner(call)
    protocol_dataset = bool(defaults or named)
    own_dataset = toks is not None and has_from(toks)
    sent = as_sparql11(query)
    job = Job(
        sent,
        results_format=results_type,
        # JSON-LD is compacted here from N-Triples; the engine's own JSON-LD is expanded.
        graph_format="application/n-triples" if graph_type == "application/ld+json" else graph_type,
        default_graphs=defaults if protocol_dataset else None,
        named_graphs=named if protocol_dataset else None,
        union_default=not protocol_dataset and not own_dataset,
        base_iri=_endpoint(call),
        from_graphs=from_graphs(toks) if own_dataset else None,
        scans=scans(query),
    )
    key = "\x00".join(
        [str(runner.version), query, *defaults, "|", *named, str(results_type), str(graph_type), str(timeout)]
    )
    etag = '"' + hashlib.sha1(key.encode()).hexdigest()[:24] + '"'
    headers = {
        **_cors(call),
        "ETag": etag,
        "Cache-Control": "public, max-age=0, must-revalidate",
        "Vary": "Accept, Origin",
    }
    if _etag_matches(call, etag):
        return Reply(304, headers)
    cache = cache_of(call.app.state)
    cached = cache.get(etag)
    if cached:
        return Reply(200, headers, cached[1], cached[0])
    try:
        answer, head, done = await _start(runner, job, timeout)
    except NotAcceptable as e:
        wanted = "a SPARQL results format" if e.kind != "graph" else "an RDF format"
        raise Problem(406, f"this {e.kind} result needs {wanted}; none is acceptable to the client") from e
    except QueryTimeout as e:
        raise Problem(504, str(e)) from e
    except StoreError as e:
        raise _store_problem(e if sent == query else _as_written(query, e)) from e
    media = answer.head.media_type
    if answer.head.kind == "graph" and graph_type == "application/ld+json":
        if not done:
            head, done = head + list(answer.chunks), True  # compaction needs the whole graph
        try:
            body = conneg.jsonld(ox.parse(b"".join(head), ox.RdfFormat.N_TRIPLES))
        except ValueError as e:
            raise Problem(406, str(e)) from e
        media = "application/ld+json"
        head = [body]
    content_type = media + ("; charset=utf-8" if media.startswith("text/") else "")
    if call.method == "HEAD":
        answer.close()
        return Reply(200, headers, media=content_type)
    if done:
        body = b"".join(head)
        cache.put(etag, content_type, body)
        return Reply(200, headers, body, content_type)
    return Reply(200, headers, media=content_type, rest=_stream(head, answer))


def _stream(head: list[bytes], answer: Answer) -> Iterator[bytes]:
    """The rest of a large answer; past the deadline the connection is cut (never a silent short 200)."""
    try:
        yield from head
        yield from answer.chunks
    finally:
        answer.close()


def rewrite_update(text: str, public_graphs: list[str], using: list[str], using_named: list[str]) -> str:
    """The update with ``ALL``/``NAMED`` targets spelled out as the public graphs, and the protocol's
    ``using-graph-uri``/``using-named-graph-uri`` written as USING clauses before each top-level WHERE."""
    spans = [m for m in _TOKEN.finditer(text) if m.lastgroup != "skip"]
    edits: list[tuple[int, int, str]] = []
    depth = 0
    clauses = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    if clauses and any(m.lastgroup == "name" and m.group().upper() in ("USING", "WITH") for m in spans):
        raise Problem(400, "USING or WITH in the update and using-graph-uri in the request at once")
    for i, m in enumerate(spans):
        word = m.group().upper() if m.lastgroup == "name" else ""
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
        elif word in ("ALL", "NAMED") and i > 0:
            j = i - 1
            silent = spans[j].group().upper() == "SILENT"
            if silent:
                j -= 1
            op = spans[j].group().upper() if j >= 0 else ""
            if op not in ("CLEAR", "DROP"):
                continue
            targets = ([] if word == "NAMED" else ["DEFAULT"]) + [f"GRAPH <{g}>" for g in public_graphs]
            targets = targets or [f"GRAPH <{EMPTY_GRAPH}>"]
            edits.append((spans[j].start(), m.end(), " ;\n".join(f"{op} SILENT {t}" for t in targets)))
        elif word == "WHERE" and depth == 0 and clauses:
            if i > 0 and spans[i - 1].group().upper() == "DELETE":
                raise Problem(400, "using-graph-uri cannot apply to DELETE WHERE: write DELETE { } WHERE { }")
            edits.append((m.start(), m.start(), clauses.strip() + " "))
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


async def _update(request: Request, params: list[tuple[str, str]], text: str) -> Response:
    _authorize(request)
    store = request.app.state.store
    using = [v for k, v in params if k == "using-graph-uri"]
    using_named = [v for k, v in params if k == "using-named-graph-uri"]
    for g in using + using_named:
        if not store.minter.is_public_graph(g):
            raise Problem(403, f"<{g}> is not a public graph: updates cannot read it")
        try:
            ox.NamedNode(g)
        except ValueError as e:
            raise Problem(400, f"invalid graph IRI {g!r}: {e}") from e
    text = rewrite_update(text, store.public_graphs(), using, using_named)
    toks = tokens(text)
    check_remote(toks, _settings(request).service_allowlist)
    # GRAPH ?g only ranges over the USING NAMED graphs when the request gives them.
    check_update_scope(toks, store.minter.is_public_graph, graph_variables=bool(using_named))
    # Relative IRIs resolve against the endpoint (a later BASE in the update still wins).
    text = f"BASE <{_endpoint(request)}>\n{text}"
    try:
        await run_in_threadpool(store.update, text)
    except StoreError as e:
        raise _store_problem(e) from e
    except (ValueError, OSError, RuntimeError) as e:
        raise Problem(400, f"update failed: {e}") from e
    _publish(request)
    return Response(status_code=204, headers=_cors(request))


_ENDPOINTS: dict[tuple, str] = {}


def _endpoint(request: Asked) -> str:
    """The endpoint's URL, the base of relative IRIs: kept per host, as Starlette rebuilds it per call
    (a tenth of a lookup's Python time)."""
    scope = request.scope
    key = (scope["scheme"], request.headers.get("host"), scope.get("root_path"), scope["path"])
    found = _ENDPOINTS.get(key)
    if found is None:
        if len(_ENDPOINTS) > 64:  # the Host header is the client's: never an unbounded table
            _ENDPOINTS.clear()
        found = _ENDPOINTS[key] = str(URL(scope=scope)).split("?")[0]
    return found


def _service_triples(endpoint: str, federated: bool) -> str:
    sd = "http://www.w3.org/ns/sparql-service-description#"
    formats = "http://www.w3.org/ns/formats/"
    results = [
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "N-Triples",
        "JSON-LD",
        "RDF_XML",
        "N-Quads",
    ]
    return (
        f"@prefix sd: <{sd}> .\n"
        f"<{endpoint}#service> a sd:Service ;\n"
        f"  sd:endpoint <{endpoint}> ;\n"
        # What an anonymous client gets: queries only (updates need a token), and SERVICE only towards
        # the allowlisted endpoints, so no BasicFederatedQuery unless some are.
        "  sd:supportedLanguage sd:SPARQL11Query ;\n"
        + (
            "  sd:feature sd:UnionDefaultGraph, sd:BasicFederatedQuery ;\n"
            if federated
            else "  sd:feature sd:UnionDefaultGraph ;\n"
        )
        + "".join(f"  sd:resultFormat <{formats}{f}> ;\n" for f in results)
        + "  sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ] ] .\n"
    )


def _describe_service(request: Request) -> Response:
    accept = request.headers.get("accept")
    offered = {
        "html": "text/html",
        **{k: conneg.GRAPHS[k] for k in ("turtle", "rdfxml", "jsonld", "ntriples")},
    }
    choice = conneg.best(offered, accept)
    if choice is None:
        raise Problem(406, "the service description is HTML, Turtle, RDF/XML, JSON-LD or N-Triples")
    headers = {**_cors(request), "Vary": "Accept"}
    if choice == "text/html":
        return templates.TemplateResponse(
            request,
            "sparql.html",
            {
                "prefixes": sparql_prefixes(),
                "examples": examples(request),
                "formats": {**conneg.RESULTS, **conneg.GRAPHS},
                "base": _settings(request).base_iri,
                "timeout": _settings(request).query_timeout,
            },
            headers=headers,
        )
    endpoint = _settings(request).base_iri.rstrip("/") + "/sparql"  # the configured base, not the Host
    federated = bool(_settings(request).service_allowlist)
    triples = list(ox.parse(_service_triples(endpoint, federated).encode(), ox.RdfFormat.TURTLE))
    if choice == "application/ld+json":
        body = conneg.jsonld(triples, {**PREFIXES, "sd": "http://www.w3.org/ns/sparql-service-description#"})
    else:
        body = ox.serialize(triples, format=ox.RdfFormat.from_media_type(choice))
    return Response(body, headers=headers, media_type=choice)


@router.options("/sparql")
@router.options("/store")
@router.options("/store/{path:path}")
async def preflight(request: Request) -> Response:
    return Response(
        status_code=204,
        headers={
            **_cors(request),
            "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": READ_HEADERS,
            "Access-Control-Max-Age": "600",
        },
    )


# --- /store: the Graph Store Protocol --------------------------------------------------------------------
def _target(request: Request, path: str | None) -> str | None:
    """The graph IRI, ``""`` for the default graph, or None for the store itself."""
    params = request.query_params
    if "default" in params:
        if "graph" in params:
            raise Problem(400, "give either ?default or ?graph=, not both")
        return ""
    if "graph" in params:
        iri = params["graph"]
    elif path:
        iri = str(request.url).split("?")[0]
    else:
        return None
    try:
        ox.NamedNode(iri)
    except ValueError as e:
        raise Problem(400, f"invalid graph IRI {iri!r}: {e}") from e
    return iri


def _exists(store: Store, graph: str) -> bool:
    return graph == "" or store.has_graph(graph)


@router.api_route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@router.api_route("/store/{path:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
async def graph_store(request: Request, path: str | None = None) -> Response:
    try:
        graph = _target(request, path)
        if request.method in ("GET", "HEAD"):
            return await _get_graph(request, graph)
        _authorize(request)
        return await _write_graph(request, graph)
    except Problem as p:
        return _problem(request, p)


async def _get_graph(request: Request, graph: str | None) -> Response:
    if graph is None:
        raise Problem(400, "name a graph: ?graph=<IRI> or ?default")
    store: Store = request.app.state.store
    if graph and (not store.minter.is_public_graph(graph) or not _exists(store, graph)):
        raise Problem(404, f"no public graph <{graph}>")
    media = conneg.best(
        {k: v for k, v in conneg.GRAPHS.items() if k != "nquads"}, request.headers.get("accept")
    )
    if media is None:
        raise Problem(406, "graphs are served as Turtle, JSON-LD, N-Triples or RDF/XML")
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    job = Job(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}",
        results_format=None,
        graph_format="application/n-triples" if media == "application/ld+json" else media,
        default_graphs=[] if not graph else None,
        named_graphs=[] if not graph else None,
        union_default=False,
    )
    runner = _runner(request)
    timeout = _settings(request).query_timeout
    try:
        answer, head, done = await _start(runner, job, timeout)
    except QueryTimeout as e:
        raise Problem(504, str(e)) from e
    except StoreError as e:
        raise _store_problem(e) from e
    headers = {
        **_cors(request),
        "Vary": "Accept",
        "ETag": f'"g{runner.version}-{hashlib.sha1(graph.encode()).hexdigest()[:12]}-{media}"',
    }
    if request.method == "HEAD":
        answer.close()
        return Response(status_code=200, headers=headers, media_type=media)
    if media == "application/ld+json":
        body = b"".join(head + ([] if done else list(answer.chunks)))
        return Response(
            conneg.jsonld(ox.parse(body, ox.RdfFormat.N_TRIPLES)), headers=headers, media_type=media
        )
    if done:
        return Response(b"".join(head), headers=headers, media_type=media)
    return StreamingResponse(_stream(head, answer), headers=headers, media_type=media)


def _parse_rdf(body: bytes, media: str, base: str) -> list[ox.Triple]:
    try:
        fmt = ox.RdfFormat.from_media_type(media) if media else None
    except ValueError:
        fmt = None
    if fmt is None or fmt.supports_datasets:
        raise Problem(
            415, f"unsupported Content-Type {media or '(none)'}: send Turtle, N-Triples, RDF/XML or JSON-LD"
        )
    try:
        return list(ox.parse(body, fmt, base_iri=base))
    except (SyntaxError, ValueError) as e:
        raise Problem(400, f"invalid {media}: {e}") from e


async def _uploaded_triples(request: Request, graph: str) -> list[ox.Triple]:
    """The body's triples; a multipart/form-data body (HTML upload forms) may carry several files."""
    base = graph or _endpoint(request)
    media = _media(request)
    if media != "multipart/form-data":
        return _parse_rdf(await _read_body(request, request.receive, GRAPH_MAX_BYTES), media, base)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > GRAPH_MAX_BYTES:
        raise Problem(413, f"multipart uploads need a Content-Length of at most {GRAPH_MAX_BYTES} bytes")
    triples: list[ox.Triple] = []
    async with request.form() as form:
        for _, part in form.multi_items():
            if isinstance(part, str):
                continue
            part_media = (part.content_type or "").split(";")[0].strip().lower()
            if part_media in ("", "application/octet-stream") and part.filename:
                guessed = ox.RdfFormat.from_extension(part.filename.rsplit(".", 1)[-1])
                part_media = guessed.media_type if guessed else part_media
            triples += _parse_rdf(await part.read(), part_media, base)
    return triples


async def _write_graph(request: Request, graph: str | None) -> Response:
    store: Store = request.app.state.store
    location = None
    if graph is None:
        if request.method != "POST":
            raise Problem(400, "name a graph: ?graph=<IRI> or ?default")
        graph = str(request.base_url) + "store/" + uuid.uuid4().hex
        location = graph
    if graph and not store.minter.is_public_graph(graph):
        raise Problem(403, f"<{graph}> is not a public graph: it cannot be written here")
    existed = _exists(store, graph)
    if request.method == "DELETE":
        if not existed:
            raise Problem(404, f"no graph <{graph}>")
        await run_in_threadpool(store.update, f"DROP GRAPH <{graph}>" if graph else "DROP DEFAULT")
        _publish(request)
        return Response(status_code=204, headers=_cors(request))
    triples = await _uploaded_triples(request, graph)
    data = " .\n".join(str(t) for t in triples)
    inner = f"GRAPH <{graph}> {{ {data} }}" if graph else data
    steps = []
    if request.method == "PUT":
        steps.append(f"DROP SILENT GRAPH <{graph}>" if graph else "DROP SILENT DEFAULT")
    if graph:
        steps.append(f"CREATE SILENT GRAPH <{graph}>")
    steps.append(f"INSERT DATA {{ {inner} }}")
    try:
        await run_in_threadpool(store.update, " ;\n".join(steps))
    except StoreError as e:
        raise _store_problem(e) from e
    _publish(request)
    headers = _cors(request)
    if location:
        headers["Location"] = location
    return Response(status_code=204 if existed and not location else 201, headers=headers)
