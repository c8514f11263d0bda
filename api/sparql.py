"""The SPARQL 1.1 endpoint (``/sparql``) and the Graph Store Protocol (``/store``).

Queries run through the deadline-enforcing pool (``app.state.runner``, graph/pool.py) on public-only
snapshots, so no query text can reach a private graph. Updates need the configured bearer token, may
not name a private graph, and are written by the single writer (``app.state.store``) then published.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar
from urllib.parse import parse_qsl, quote

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api import conneg
from api.catalogue import for_browsers
from api.i18n import language, translator
from api.pages import render, version_of
from api.public_http import cors_headers, etag_matches, read_at
from graph import formats, sparql_text
from graph import named_queries as nq
from graph.formats import Format
from graph.namespaces import PREFIXES, sparql_prefixes
from graph.pool import EMPTY_GRAPH, Answer, Job, NotAcceptable, QueryRunner
from graph.settings import Settings
from graph.sparql_text import Refused, bind
from graph.store import QueryTimeout, Store, StoreError, StoreUnavailable

router = APIRouter()
T = TypeVar("T")

QUERY_MAX_BYTES = 1024 * 1024  # a query or update text
GRAPH_MAX_BYTES = 64 * 1024 * 1024  # a Graph Store Protocol upload
PREFETCH = 1024 * 1024  # answers up to this size are complete before the status line is sent
CACHE_ENTRIES, CACHE_MAX_BODY = 512, 256 * 1024
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "*, Authorization",  # a wildcard does not cover Authorization
    "Access-Control-Max-Age": "600",
}
SD = "http://www.w3.org/ns/sparql-service-description#"
GRAPHS = (*formats.DESCRIPTION, formats.NQUADS, formats.TRIG)  # what CONSTRUCT and DESCRIBE answer in
UPLOADS = (formats.TURTLE, formats.NTRIPLES, formats.RDFXML)  # a graph's triples (no dataset formats)

# By their titles' keys in api/i18n.py; complete queries, as a client sends them. The default graph is the
# union of the graphs, where a thing stated in two (an organisation in the catalogue and in a report) is
# matched twice: DISTINCT, COUNT(DISTINCT …) and a label's language keep one row per thing.
EXAMPLES = {
    "example_projects": sparql_prefixes(["rdfs", "schema", "dcterms"])
    + """SELECT DISTINCT ?projet ?label ?territoire WHERE {
  ?projet a schema:Project ; rdfs:label ?label .
  OPTIONAL { ?projet dcterms:spatial ?territoire }
} ORDER BY ?label LIMIT 50""",
    "example_communes": sparql_prefixes(["dcterms", "igeo"])
    + """SELECT ?dep ?nom (COUNT(DISTINCT ?commune) AS ?communes) WHERE {
  ?commune a igeo:Commune ; dcterms:isPartOf ?dep .
  ?dep a igeo:Departement ; igeo:nom ?nom .
} GROUP BY ?dep ?nom ORDER BY DESC(?communes)""",
    "example_themes": sparql_prefixes(["schema", "dcterms", "skos"])
    + """SELECT ?theme ?label (COUNT(DISTINCT ?p) AS ?projets) WHERE {
  ?p a schema:Project ; dcterms:subject ?theme .
  ?theme skos:prefLabel ?label FILTER(LANG(?label) = "fr")
} GROUP BY ?theme ?label ORDER BY DESC(?projets)""",
    "example_organisations": sparql_prefixes(["rdfs", "org"])
    + """SELECT DISTINCT ?org ?nom WHERE {
  ?org a org:Organization ; rdfs:label ?nom .
} ORDER BY ?nom LIMIT 100""",
    "example_graphs": sparql_prefixes(["rdfs"])
    + """SELECT ?g ?label (COUNT(*) AS ?triplets) WHERE {
  GRAPH ?g { ?s ?p ?o } OPTIONAL { ?g rdfs:label ?label }
} GROUP BY ?g ?label""",
    "example_construct": sparql_prefixes(["schema"])
    + """CONSTRUCT { ?s ?p ?o } WHERE {
  ?s a schema:Project ; ?p ?o .
} LIMIT 200""",
}


# We hold no Wikidata IRIs (nor INSEE's, which are UUIDs): the join is by INSEE code, P374 for a commune,
# P2586 for a département. Offered on the page only where SERVICE may call Wikidata: every example there
# runs as given.
WIKIDATA = "https://query.wikidata.org/sparql"
WIKIDATA_EXAMPLE = (
    sparql_prefixes(["dcterms", "igeo"])
    + f"""PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?commune ?code ?wikidata WHERE {{
  ?commune a igeo:Commune ; igeo:codeINSEE ?code ; dcterms:isPartOf ?departement .
  ?departement igeo:codeINSEE "73" .
  SERVICE <{WIKIDATA}> {{ ?wikidata wdt:P374 ?code }}
}} ORDER BY ?code"""
)


def _kept(request: Request, name: str, make: Callable[[], T]) -> T:
    """What this app keeps under ``name`` in its state, made on first use."""
    state = request.app.state
    if getattr(state, name, None) is None:
        setattr(state, name, make())
    return getattr(state, name)


def _examples(request: Request) -> dict[str, str]:
    """The built-in examples, then each named query of ``queries/`` with its example values bound, by
    their titles in the page's language."""
    state, lang = request.app.state, language(request)
    minter, t = state.store.minter, translator(lang)
    named = {nq.in_language(q, lang).summary: q for q in state.named_queries.values()}
    federated = {"example_wikidata": WIKIDATA_EXAMPLE} if WIKIDATA in state.settings.service_allowlist else {}
    return {t(key): text for key, text in (EXAMPLES | federated).items()} | {
        title: bind(q.sparql, nq.bindings(q, q.example_values(), minter)) for title, q in named.items()
    }


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _cors(request: Request) -> dict[str, str]:
    return cors_headers(_settings(request).cors_origins, request.headers.get("origin", ""))


def _problem(request: Request, p: Refused | conneg.FormatError) -> Response:
    cors = _cors(request)
    headers = {**cors, **p.headers, "Vary": "Accept, Origin" if "Vary" in cors else "Accept"}
    if _negotiated(request.headers.get("accept"), formats.PROBLEMS) in (None, formats.TEXT):
        return PlainTextResponse(f"{p}\n", p.status, headers)
    return JSONResponse({"detail": str(p)}, p.status, headers)


def _endpoint(request: Request) -> str:
    """The endpoint's IRI, the base of relative IRIs: from the configured base, never from the Host header
    (a check and the engine must resolve alike, whoever asks)."""
    return _settings(request).base_iri + "sparql"


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise Refused(413, f"request body over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"request body over the limit of {limit} bytes")
    return bytes(body)


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _store_problem(e: StoreError) -> Refused:
    """The store's error as an answer: its server unreachable is a 503 to retry, its time out a 504 (an
    update's, a /store read's: not the client's bad input), the rest a 400."""
    if isinstance(e, StoreUnavailable):
        return Refused(503, str(e), {"Retry-After": "5"})
    return Refused(504 if isinstance(e, QueryTimeout) else 400, str(e))


def _authorize(request: Request) -> None:
    token = _settings(request).update_token
    if not token:
        raise Refused(403, "updates are disabled on this server (no update token is configured)")
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Refused(401, "updates need 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        raise Refused(403, "wrong update token")


def _runner(request: Request) -> QueryRunner:
    runner = getattr(request.app.state, "runner", None)
    if runner is None:
        raise Refused(503, "the SPARQL endpoint is not ready yet: try again in a moment")
    return runner


def _iri(g: str) -> str:
    try:
        ox.NamedNode(g)
    except ValueError as e:
        raise Refused(400, f"invalid graph IRI {g!r}: {e}") from e
    return g


def _graph_iris(params: list[tuple[str, str]], name: str) -> list[str]:
    return [_iri(v) for k, v in params if k == name]


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]  # the SPARQL 1.1 Protocol: exactly one query or update
    if len(values) > 1:
        raise Refused(400, f"'{name}' given {len(values)} times: give it once")
    return values[0] if values else None


_shares_lock = threading.Lock()  # a streamed answer ends in a thread


def _take_share(request: Request) -> Callable[[], None]:
    """Hold one of the client's shares, given back by the function returned: past ``client_queries``
    public queries running or waiting, a client is told to come back (429, Retry-After) instead of
    queueing before everybody else (a storm from one client)."""
    held: Counter[str] = _kept(request, "sparql_shares", Counter)
    client = request.client.host if request.client else ""
    with _shares_lock:
        if (running := held[client]) >= _settings(request).client_queries:
            message = f"{running} of your queries are running already: retry once one of them has answered"
            raise Refused(429, message, {"Retry-After": "5"})
        held[client] += 1

    def leave() -> None:
        with _shares_lock:
            held[client] -= 1
            if not held[client]:
                del held[client]

    return leave


# --- /sparql -------------------------------------------------------------------------------------------
@router.api_route("/sparql", methods=["GET", "POST", "HEAD"])
async def endpoint(request: Request) -> Response:
    """The SPARQL 1.1 Protocol: queries (GET, POST form or body), updates (POST, with the token), and the
    service description when neither is given."""
    try:
        params = await _params(request)
        query, update = _one(params, "query"), _one(params, "update")
        if query is not None and update is not None:
            raise Refused(400, "give either a query or an update, not both")
        if update is not None:
            if request.method != "POST":
                raise Refused(405, "updates are sent with POST", {"Allow": "POST"})
            return await _update(request, params, update)
        if query is None:
            return await _describe_service(request, missing=True)
        return await _query(request, params, query)
    except (Refused, conneg.FormatError) as p:
        return _problem(request, p)
    except StoreError as e:
        return _problem(request, _store_problem(e))
    except ClientDisconnect:
        return Response(status_code=400)


@router.api_route("/sparql.{ext}", methods=["GET", "HEAD"])
async def service_description(request: Request, ext: str) -> Response:
    """The service description's twins (.ttl, .json…), as every page has: queries and updates go to /sparql,
    whose ``format=`` names their answer's format."""
    try:
        if {"query", "update"} & request.query_params.keys():
            raise Refused(400, f"send the query or update to /sparql, with format={ext} if it names a format")
        return await _describe_service(request, ext)
    except (Refused, conneg.FormatError) as p:
        return _problem(request, p)


async def _params(request: Request) -> list[tuple[str, str]]:
    params = request.query_params.multi_items()
    if request.method != "POST":
        return params
    media = _media(request)
    accepted = ("application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update")
    if media not in accepted:
        raise Refused(415, f"unsupported Content-Type {media or '(none)'}: use {', '.join(accepted)}")
    try:
        text = (await _read_body(request, QUERY_MAX_BYTES)).decode("utf-8")
    except UnicodeDecodeError as e:
        raise Refused(400, "the request body is not UTF-8") from e
    if media == accepted[0]:
        return params + parse_qsl(text, keep_blank_values=True)
    if any(k in ("query", "update") for k, _ in params):
        raise Refused(400, f"a {media} body and a query/update parameter at once")
    return [*params, ("query" if media == accepted[1] else "update", text)]


def _timeout(request: Request, params: list[tuple[str, str]]) -> float:
    limit = _settings(request).query_timeout
    asked = _one(params, "timeout")
    if not asked:
        return limit
    try:
        value = float(asked)
    except ValueError as e:
        raise Refused(400, f"timeout={asked!r} is not a number of seconds") from e
    if not value > 0:
        raise Refused(400, "timeout must be a positive number of seconds")
    return min(value, limit)


async def _query(request: Request, params: list[tuple[str, str]], query: str) -> Response:
    # SPARQLWrapper sends several format= values, some of them comma-separated lists.
    asked = [t for k, v in params if k == "format" for t in v.split(",") if t.strip()]
    # A link's Accept or a named format=html; a POST's Accept is a script's (the page's own fetch included).
    # HTML when chosen (format=html) or first over every answer format (a browser's Accept puts text/html
    # before application/xml); a tie, as */*, goes to the answer formats.
    accept = request.headers.get("accept") if request.method != "POST" else None
    if _negotiated(accept, (*formats.RESULTS, *GRAPHS, formats.HTML), asked) is formats.HTML:
        return _page(request, query)
    checked = sparql_text.canonical(query)  # what is checked is what runs
    base = _endpoint(request)
    sparql_text.check_remote(checked, _settings(request).service_allowlist, base)
    toks = sparql_text.tokens(checked)
    sparql_text.check_extensions(toks)
    defaults = _graph_iris(params, "default-graph-uri")
    named = _graph_iris(params, "named-graph-uri")
    timeout = _timeout(request, params)
    results, graph = _formats(request.headers.get("accept"), asked)
    runner = _runner(request)
    protocol_dataset = bool(defaults or named)
    own_dataset = sparql_text.from_graphs(toks, base)
    job = Job(
        sparql_text.as_sparql11(checked),
        results_format=results.media_type if results else None,
        graph_format=graph.media_type if graph else None,
        default_graphs=defaults if protocol_dataset else None,
        named_graphs=named if protocol_dataset else None,
        union_default=not protocol_dataset and own_dataset is None,
        base_iri=base,
        from_graphs=own_dataset,
    )
    version = await version_of(runner.store)
    read_at(request, version)
    key = [
        version,
        query,
        *defaults,
        "|",
        *named,
        job.results_format,
        job.graph_format,
    ]
    etag = '"' + hashlib.sha1("\x00".join(map(str, [*key, timeout])).encode()).hexdigest()[:24] + '"'
    headers = {
        **_cors(request),
        "ETag": etag,
        "Cache-Control": "public, max-age=0, must-revalidate",
        "Vary": "Accept, Origin",
    }
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    # Small complete answers by ETag (the store version is in it): a repeated query costs a lookup. Only
    # the event loop reads and writes it.
    cache: OrderedDict[str, tuple[str, bytes]] = _kept(request, "sparql_cache", OrderedDict)
    if etag in cache:
        cache.move_to_end(etag)
        return Response(cache[etag][1], 200, headers, media_type=cache[etag][0])
    # The client's share is held until its answer is complete: here, or at the end of a streamed one.
    leave = _take_share(request)
    wanted = f"format={','.join(asked)}" if asked else f"Accept: {request.headers.get('accept')}"
    response = await _reply(request, job, timeout, headers, query, wanted, leave)
    if not isinstance(response, StreamingResponse) and len(response.body) <= CACHE_MAX_BODY:
        cache[etag] = (str(response.media_type), bytes(response.body))
        if len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)
    return response


def _formats(accept: str | None, asked: list[str]) -> tuple[formats.Format | None, formats.Format | None]:
    """(the format for SELECT/ASK, the one for CONSTRUCT/DESCRIBE): the form is known only once it runs,
    so both are negotiated from the same Accept or format= (``application/json``, ``json``: SPARQL JSON
    for rows, JSON-LD for a graph). A client whose Accept names results formats only gets Turtle for a
    graph, as Fuseki and Virtuoso do: rdflib's SPARQLStore asks a CONSTRUCT so. A format= is a choice:
    the kind of result it cannot name is refused (:func:`_run`), as for rows."""
    conneg.negotiate((*formats.RESULTS, *GRAPHS), accept, asked)  # 400 or 406 when neither has one
    rows, graph = _negotiated(accept, formats.RESULTS, asked), _negotiated(accept, GRAPHS, asked)
    return rows, graph or (None if asked else formats.TURTLE)


def _prefetch(answer: Answer, limit: int) -> tuple[list[bytes], bool]:
    """The answer's first ``limit`` bytes (or all of it), and whether that is all of it."""
    first: list[bytes] = []
    for chunk in answer.chunks:
        first.append(chunk)
        limit -= len(chunk)
        if limit <= 0:
            return first, False
    return first, True


async def _run(
    runner: QueryRunner, job: Job, timeout: float, written: str, wanted: str
) -> tuple[Answer, list[bytes], bool]:
    """The answer, its first PREFETCH bytes (all of a small one) and whether they are all of it: an error
    before them gets a proper status. The answer is written off the event loop (in the query's worker or
    thread), JSON-LD as every format. ``written``: the query as the client sent it, where its syntax errors
    are placed; ``wanted``: the format= or Accept it asked, which a 406 names (the form is known only now)."""
    try:
        answer = await runner.run_async(job, timeout)
        try:  # a complete answer is read here: it never waits
            if answer.complete:
                first, complete = _prefetch(answer, PREFETCH)
            else:
                first, complete = await run_in_threadpool(_prefetch, answer, PREFETCH)
        except BaseException:
            answer.close()
            raise
    except NotAcceptable as e:
        takes = GRAPHS if e.kind == "graph" else formats.RESULTS
        media = ", ".join(f.media_type for f in takes)
        raise Refused(
            406,
            e.reason
            or f"a {e.kind} result cannot be given as {wanted}: it takes format={formats.names(takes)} "
            f"or Accept: {media}",
        ) from e
    except QueryTimeout as e:
        raise Refused(504, str(e)) from e
    except StoreError as e:
        said = sparql_text.as_written(written, str(e))
        raise _store_problem(e if said == str(e) else StoreError(said)) from e
    return answer, first, complete


async def _reply(
    request: Request,
    job: Job,
    timeout: float,
    headers: dict[str, str],
    written: str,
    wanted: str,
    done: Callable[[], None] = lambda: None,
) -> Response:
    """The answer of :func:`_run`; ``done`` is called once it has ended (now, or at the end of a stream:
    past its deadline, the connection is cut, never a silent short 200)."""
    try:
        answer, first, complete = await _run(_runner(request), job, timeout, written, wanted)
    except BaseException:
        done()
        raise
    media = answer.head.media_type
    content_type = media + ("; charset=utf-8" if media.startswith("text/") else "")
    if complete:  # HEAD too: api.app.Compressed runs it as a GET and drops the body
        done()
        return Response(b"".join(first), 200, headers, media_type=content_type)
    return StreamingResponse(_stream(first, answer, done), 200, headers, media_type=content_type)


def _stream(first: list[bytes], answer: Answer, done: Callable[[], None]) -> Iterator[bytes]:
    try:
        yield from first
        yield from answer.chunks
    finally:
        answer.close()
        done()


async def _update(request: Request, params: list[tuple[str, str]], text: str) -> Response:
    _authorize(request)
    store = request.app.state.store
    using = _graph_iris(params, "using-graph-uri")
    using_named = _graph_iris(params, "using-named-graph-uri")
    for g in using + using_named:
        if not store.minter.is_public_graph(g):
            raise Refused(403, f"<{g}> is not a public graph: updates cannot read it")
    base = _endpoint(request)
    text = sparql_text.canonical(text)
    text = sparql_text.rewrite_update(text, store.public_graphs(), using, using_named, EMPTY_GRAPH)
    sparql_text.check_remote(text, _settings(request).service_allowlist, base, update=True)
    # GRAPH ?g only ranges over the USING NAMED graphs when the request gives them.
    sparql_text.check_update_scope(
        sparql_text.tokens(text), store.minter.is_public_graph, base, graph_variables=bool(using_named)
    )
    # Relative IRIs resolve against the endpoint (a BASE in the update still wins), as checked above.
    try:
        await run_in_threadpool(store.update, f"BASE <{base}>\n{text}")
    except StoreError as e:
        raise _store_problem(e) from e
    except (ValueError, OSError, RuntimeError) as e:
        raise Refused(400, f"update failed: {e}") from e
    return Response(status_code=204, headers=_cors(request))


def _negotiated(accept: str | None, offered: tuple[Format, ...], asked: Sequence[str] = ()) -> Format | None:
    """The format of ``offered`` the client takes first, or None if it takes none of them."""
    try:
        return conneg.negotiate(offered, accept, asked)
    except conneg.FormatError:
        return None


def _page(request: Request, query: str | None = None) -> Response:
    """The query page; with ``query``, filled in and run by the page."""
    request.state.format = formats.HTML
    settings = _settings(request)
    context = {"prefixes": sparql_prefixes(), "examples": _examples(request), "base": settings.base_iri}
    context |= {"formats": [*formats.RESULTS, *GRAPHS], "timeout": settings.query_timeout, "query": query}
    response = render(request, "sparql.html", context)
    # CORS, but the Vary of render (Accept, Accept-Language, Cookie) stays.
    response.headers.update({k: v for k, v in _cors(request).items() if k != "Vary"})
    return response


async def _describe_service(request: Request, ext: str | None = None, missing: bool = False) -> Response:
    """``missing``: no query was sent; a client that takes only answers (SPARQL JSON) forgot it, and is
    told so rather than which description formats there are (a 406 to one taking neither)."""
    try:
        fmt = conneg.choose(request, (formats.HTML, *formats.DESCRIPTION), ext)
    except conneg.FormatError as e:
        answers = (*formats.RESULTS, *GRAPHS)
        if not missing or e.status != 406 or not _negotiated(request.headers.get("accept"), answers):
            raise
        example = quote("SELECT * WHERE { ?s ?p ?o } LIMIT 10")
        raise Refused(400, f"the query parameter is missing, e.g. /sparql?query={example}") from e
    settings = _settings(request)
    if fmt is formats.HTML:
        return _page(request)
    # Updates only where a token is configured (a client without it gets a 401), and SERVICE only towards
    # the allowlisted endpoints, so no BasicFederatedQuery unless some are.
    federated = ", sd:BasicFederatedQuery" if settings.service_allowlist else ""
    languages = "sd:SPARQL11Query" + (", sd:SPARQL11Update" if settings.update_token else "")
    results = "".join(f"  sd:resultFormat <{f.iri}> ;\n" for f in (*formats.RESULTS, *GRAPHS))
    endpoint = _endpoint(request)
    # The graphs a query may name (GRAPH, FROM NAMED): the public ones; a remote store's is an HTTP read.
    graphs = sorted(await run_in_threadpool(request.app.state.store.public_graphs))
    description = (
        f"@prefix sd: <{SD}> .\n<{endpoint}#service> a sd:Service ; sd:endpoint <{endpoint}> ;\n"
        f"  sd:supportedLanguage {languages} ; sd:feature sd:UnionDefaultGraph{federated} ;\n{results}"
        # Blank nodes named, so that every answer is the same bytes (HEAD's Content-Length is GET's).
        "  sd:defaultDataset _:dataset .\n_:dataset a sd:Dataset ; sd:defaultGraph _:default"
        + "".join(f" ;\n  sd:namedGraph _:g{i}" for i in range(len(graphs)))
        + " .\n_:default a sd:Graph .\n"
        + "".join(f"_:g{i} a sd:NamedGraph ; sd:name <{g}> .\n" for i, g in enumerate(graphs))
    )
    triples = ox.parse(description.encode(), ox.RdfFormat.TURTLE)
    body = formats.serialize(triples, fmt, {**PREFIXES, "sd": SD})
    return Response(body, headers={**_cors(request), "Vary": "Accept"}, media_type=fmt.media_type)


@router.options("/sparql")
@router.options("/store")
@router.options("/store/{path:path}")
async def preflight(request: Request) -> Response:
    return Response(status_code=204, headers={**_cors(request), **PREFLIGHT})


# --- /store: the Graph Store Protocol --------------------------------------------------------------------
def _target(request: Request, path: str | None) -> str | None:
    """The graph IRI, ``""`` for the default graph, or None for the store itself."""
    params = request.query_params
    if "default" in params:
        if "graph" in params:
            raise Refused(400, "give either ?default or ?graph=, not both")
        return ""
    # Direct identification: the graph's IRI is the request's, under the configured base, not the Host.
    direct = _settings(request).base_iri + request.url.path.lstrip("/") if path else None
    iri = params.get("graph", direct)
    return None if iri is None else _iri(iri)


@router.api_route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
@router.api_route("/store/{path:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
async def graph_store(request: Request, path: str | None = None) -> Response:
    try:
        graph = _target(request, path)
        reading = request.method == "GET"  # HEAD included (api/app.py Compressed)
        if not reading:
            _authorize(request)
        if graph is None and request.method != "POST":  # a POST to the store itself makes a new graph
            raise Refused(400, "name a graph: ?graph=<IRI> or ?default")
        return await (_get_graph if reading else _write_graph)(request, graph)
    except (Refused, conneg.FormatError) as p:
        return _problem(request, p)


async def _get_graph(request: Request, graph: str) -> Response:
    store: Store = request.app.state.store
    if graph and (
        not store.minter.is_public_graph(graph) or not await run_in_threadpool(store.has_graph, graph)
    ):
        raise Refused(404, f"no public graph <{graph}>")
    # HTML last: a tie (*/*, no Accept) is Turtle for RDF clients; a browser prefers text/html to the
    # application/xml of RDF/XML, and gets what it gets on the graph's own IRI (/graph/…).
    fmt = conneg.negotiate((*formats.DESCRIPTION, formats.HTML), request.headers.get("accept"))
    if fmt is formats.HTML:
        return for_browsers(_cors(request))
    where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}"
    job = Job(
        query,
        results_format=None,
        graph_format=fmt.media_type,
        default_graphs=[] if not graph else None,
        named_graphs=[] if not graph else None,
        union_default=False,
    )
    read_at(request, version := await version_of(store))
    tag = f"g{version}-{hashlib.sha1(graph.encode()).hexdigest()[:12]}-{fmt.media_type}"
    headers = {**_cors(request), "Vary": "Accept", "ETag": f'"{tag}"'}
    wanted = f"Accept: {request.headers.get('accept')}"
    return await _reply(request, job, _settings(request).query_timeout, headers, query, wanted)


def _parse_rdf(body: bytes, token: str, base: str) -> list[ox.Triple]:
    """``token``: the Content-Type, or the extension of an uploaded file's name."""
    fmt = formats.find(UPLOADS, token) if token else None
    if fmt is None:
        offered = ", ".join(f.media_type for f in UPLOADS)
        raise Refused(415, f"unsupported format {token or '(none)'}: send {offered}")
    try:
        return list(ox.parse(body, fmt.rdf, base_iri=base))
    except (SyntaxError, ValueError) as e:
        raise Refused(400, f"invalid {fmt.label}: {e}") from e


async def _uploaded_triples(request: Request, graph: str) -> list[ox.Triple]:
    """The body's triples; a multipart/form-data body (HTML upload forms) may carry several files."""
    base = graph or _endpoint(request)
    media = _media(request)
    if media != "multipart/form-data":
        return _parse_rdf(await _read_body(request, GRAPH_MAX_BYTES), media, base)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > GRAPH_MAX_BYTES:
        raise Refused(413, f"multipart uploads need a Content-Length of at most {GRAPH_MAX_BYTES} bytes")
    triples: list[ox.Triple] = []
    async with request.form() as form:
        for _, part in form.multi_items():
            if isinstance(part, str):
                continue
            part_media = (part.content_type or "").split(";")[0].strip().lower()
            if part_media in ("", "application/octet-stream") and part.filename:
                part_media = part.filename.rsplit(".", 1)[-1]
            triples += _parse_rdf(await part.read(), part_media, base)
    return triples


async def _write_graph(request: Request, graph: str | None) -> Response:
    store: Store = request.app.state.store
    location = None
    if graph is None:
        graph = location = _settings(request).base_iri + "store/" + uuid.uuid4().hex
    if graph and not store.minter.is_public_graph(graph):
        raise Refused(403, f"<{graph}> is not a public graph: it cannot be written here")
    existed = graph == "" or await run_in_threadpool(store.has_graph, graph)
    target = f"GRAPH <{graph}>" if graph else "DEFAULT"
    if request.method == "DELETE":
        if not existed:
            raise Refused(404, f"no graph <{graph}>")
        await run_in_threadpool(store.update, f"DROP {target}")
        return Response(status_code=204, headers=_cors(request))
    triples = await _uploaded_triples(request, graph)
    data = " .\n".join(str(t) for t in triples)
    inner = f"GRAPH <{graph}> {{ {data} }}" if graph else data
    steps = [f"DROP SILENT {target}"] if request.method == "PUT" else []
    steps += [f"CREATE SILENT {target}"] if graph else []
    try:
        await run_in_threadpool(store.update, " ;\n".join([*steps, f"INSERT DATA {{ {inner} }}"]))
    except StoreError as e:
        raise _store_problem(e) from e
    headers = {**_cors(request), **({"Location": location} if location else {})}
    return Response(status_code=204 if existed and not location else 201, headers=headers)
