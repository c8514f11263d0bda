"""A SPARQL 1.1 server as the platform's store: Query, Update and the Graph Store Protocol over HTTP.

What differs between servers is found out once (the ``Server`` header) and kept in :class:`Dialect`.
The public dataset is always spelled out (``default-graph-uri`` / ``named-graph-uri`` = the public
graphs), so no query of ours reads a private graph. The version (cache key, ETag) lives in the server,
in a private graph, so several processes serving one remote store agree on it; private graphs stay on
the server too. Configured by the location ``sparql+http://[user:password@]host:port/path`` and the
``remote_*`` settings (graph/settings.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

from graph import formats
from graph.apart import Chunks
from graph.namespaces import CS, DCTERMS, RDFS, VOID
from graph.pool import EMPTY_GRAPH, Answer, Job, serialize, spelled_out, threaded_answer
from graph.settings import Settings
from graph.sparql_text import bind, named_iris, query_form, tokens, writes_default_graph
from graph.store import (
    BULK_TIMEOUT,
    DEFAULT_GRAPH,
    GraphMeta,
    QueryTimeout,
    Store,
    StoreError,
    StoreUnavailable,
    as_rows,
)
from graph.terms import lit

XML = formats.SPARQL_XML.media_type  # what we ask a server for: every server writes it, ASK included
NT = formats.NTRIPLES.media_type
GRAPH_ACCEPT = f"{NT}, {formats.TURTLE.media_type};q=0.5"
RETRIES = 2  # extra attempts for a read that met a transient failure
BACKOFF = 0.3  # seconds before the first retry, doubled each time
DOWN_FOR = 1.0  # seconds during which a server that refused a connection is not asked again
# Seconds to connect, and to answer the version's one-triple read: past them the server is taken for down
# (a hung one accepts connections, its system does, but answers nothing).
ANSWER_WITHIN = 5.0
VERSION_TTL = 1.0  # seconds a version read from the server is trusted (other processes may write)
VERSION_PREDICATE = CS + "versionDuStore"
# Each public graph's size as the server counted it at our last write or look: a count that differs
# now is a write made behind our back (``look_behind``).
SEEN_PREDICATE = CS + "triplesVus"
LOOK_EVERY = 5.0  # seconds at least between two looks for writes made behind our back
LOOK_SHARE = 20  # ... and at least this many times the last look's duration: a 5 % share of the server
KNOWN_GRAPH = CS + "grapheConnu"
# When a load last wrote to its staging graph (seconds since the epoch); after STAGING_STALE seconds without
# a write the load is taken for dead (killed): longer than one write of a live load may take (600 s).
STAGED_AT = CS + "chargementEcritLe"
STAGING_STALE = 3600.0
ASK_COLUMN = "__ASK_RETVAL"
log = logging.getLogger(__name__)
VIRTUOSO_BNODE = b"nodeID://"


@dataclass
class Dialect:
    """What this server needs that the standard leaves open (Virtuoso's quirks: see ``virtuoso``)."""

    name: str
    update_url: str
    gsp_url: str | None  # None: graphs are read and written with SPARQL only
    auth: httpx.Auth | None = None  # for writes and graph reads (Virtuoso: digest); queries go anonymous
    # Virtuoso reads no graph of much more than a million triples at once: larger ones come in parts.
    graph_page: int | None = None
    # Virtuoso's graph store PUT is no transaction, and one of a large graph held its locks until the
    # server wedged (its SPARQL parser refuses an update of several thousand triples, and blank nodes in
    # INSERT DATA): there a graph is staged by graph store POSTs of this many triples, then moved in place.
    write_chunk: int | None = None
    # Virtuoso sorts at most its MaxSortedTopRows (10,000 by default) rows: a sorted query's offset + limit
    # past it is refused (SR353), whatever the rows there are.
    sorted_rows: int | None = None

    @property
    def virtuoso(self) -> bool:
        return self.name == "virtuoso"


class ResultsCut(StoreError):
    """The server answered only its first ``rows`` rows (Virtuoso's ``X-SPARQL-MaxRows``)."""

    def __init__(self, message: str, rows: int = 0):
        super().__init__(message)
        self.rows = rows


class _NotFound(StoreError):
    """The server has no such graph (Graph Store Protocol 404)."""


def _sibling(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class RemoteStore(Store):
    """The :class:`graph.store.Store` interface over HTTP. Thread-safe (one pooled client)."""

    def __init__(self, base_iri: str, location: str):
        """``location`` is ``sparql+http://user:pw@host/path``; the rest comes from ``COMMUNS_REMOTE_*``."""
        super().__init__(base_iri)
        self.location = location
        parts = urlsplit(location.removeprefix("sparql+"))
        netloc = parts.netloc.rsplit("@", 1)[-1]
        self.query_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.settings = Settings()
        self.user = unquote(parts.username) if parts.username else self.settings.remote_user
        self.password = unquote(parts.password) if parts.password else self.settings.remote_password
        self.timeout = self.settings.remote_timeout
        self.client = httpx.Client(
            timeout=httpx.Timeout(self.timeout, connect=min(ANSWER_WITHIN, self.timeout)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
        )
        self.state_graph = self.minter.private_graph("etat")
        self._down_until = 0.0
        self._version: tuple[float, int] | None = None  # (read at, value)
        self._public_graphs: tuple[int, list[str]] | None = None
        self._cut: int | None = None  # the row count at which the server was seen cutting answers
        self._empty_ready = False
        self._lock = threading.Lock()
        self._next_look = 0.0  # monotonic time of the next look for writes made behind our back
        self._looking = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url})"

    @contextlib.contextmanager
    def public_copy(self):
        """The server itself, as another process opens it."""
        yield functools.partial(RemoteStore, self.minter.base, self.location)

    def credentials(self, default: str) -> httpx.Auth | None:
        """What writes send: ``COMMUNS_REMOTE_AUTH``, else bearer with a token, else ``default``."""
        token = self.settings.remote_token
        kind = (self.settings.remote_auth or "").lower() or (
            "bearer" if token else default if self.user else None
        )
        if kind == "bearer":
            if not token:
                raise StoreError("COMMUNS_REMOTE_AUTH=bearer needs COMMUNS_REMOTE_TOKEN")

            def bearer(request: httpx.Request) -> httpx.Request:
                request.headers["Authorization"] = f"Bearer {token}"
                return request

            return httpx.FunctionAuth(bearer)
        if kind in ("basic", "digest"):
            if not self.user:
                raise StoreError(
                    f"COMMUNS_REMOTE_AUTH={kind} needs a user (in the URL or COMMUNS_REMOTE_USER)"
                )
            make = httpx.BasicAuth if kind == "basic" else httpx.DigestAuth
            return make(self.user, self.password or "")
        if kind:
            raise StoreError(f"COMMUNS_REMOTE_AUTH={kind!r}: use basic, digest or bearer")
        return None

    # --- HTTP ------------------------------------------------------------------------------------
    def _send(
        self,
        request: httpx.Request,
        *,
        idempotent: bool,
        stream: bool = False,
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """One request with retries on transient failures; errors become the store's exceptions."""
        if self.client.is_closed:
            raise StoreUnavailable(f"the connection to {self.host} is closed")
        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"the SPARQL server at {self.host} is not answering")
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                response = self.client.send(request, stream=stream, auth=auth)
            except httpx.TimeoutException as e:
                if isinstance(e, httpx.ConnectTimeout) and not last:
                    continue
                if isinstance(e, httpx.ConnectTimeout | httpx.PoolTimeout):
                    self._down_until = time.monotonic() + DOWN_FOR
                    raise StoreUnavailable(f"the SPARQL server at {request.url.host} is not answering") from e
                wait = request.extensions.get("timeout", {}).get("read") or self.timeout
                raise QueryTimeout(f"the SPARQL server did not answer within {wait:g} s") from e
            except httpx.TransportError as e:
                # Nothing reached the server on a connection error: even a write may be sent again.
                if not last and (idempotent or isinstance(e, httpx.ConnectError)):
                    time.sleep(BACKOFF * 2**attempt)
                    continue
                self._down_until = time.monotonic() + DOWN_FOR
                raise StoreUnavailable(
                    f"the SPARQL server at {request.url.host} cannot be reached: {e}"
                ) from e
            if response.status_code in (502, 503, 504) and idempotent and not last:
                response.close()
                time.sleep(BACKOFF * 2**attempt)
                continue
            if response.status_code >= 400:
                self._raise_for(response)
            return response
        raise AssertionError("unreachable")

    def _raise_for(self, response: httpx.Response) -> None:
        response.read()
        text = response.text.strip()[:2000]
        status = response.status_code
        if status == 404:
            raise _NotFound(text)
        if status in (401, 403):
            raise StoreUnavailable(
                f"the SPARQL server refused us ({status}): "
                f"check COMMUNS_REMOTE_USER/PASSWORD/TOKEN ({text[:200]})"
            )
        # Virtuoso answers some query errors (SPARQL compiler, SQL state 37000/42000…) with a 500.
        if status < 500 or text.startswith("Virtuoso ") and (" Error SP" in text or " Error 37" in text):
            raise StoreError(f"the SPARQL server rejected the request: {text}")
        raise StoreUnavailable(f"the SPARQL server failed ({status}): {text[:300]}")

    @property
    def host(self) -> str:
        """How messages, which reach public pages, name the server: its host, never its URL (it may hold a
        key)."""
        return urlsplit(self.query_url).hostname or ""

    @functools.cached_property
    def dialect(self) -> Dialect:
        """Found out once, from the server's own answer to a trivial query: the first contact with the
        server, so a hung one is down within ``ANSWER_WITHIN``, and asked again on the next use (a failure
        is never kept)."""
        request = self.client.build_request(
            "GET",
            self.query_url,
            params={"query": "ASK {}"},
            headers={"Accept": XML},
            timeout=min(ANSWER_WITHIN, self.timeout),
        )
        with self._hung_is_down():
            server = self._send(request, idempotent=True).headers.get("server", "").lower()
        name = "virtuoso" if "virtuoso" in server else "oxigraph" if "oxigraph" in server else "sparql"
        url, path = self.query_url, urlsplit(self.query_url).path
        if name == "virtuoso":
            auth = "-auth" if self.user or self.settings.remote_token else ""
            update, gsp = _sibling(url, "/sparql" + auth), _sibling(url, "/sparql-graph-crud" + auth)
        elif path.endswith("/query"):  # Oxigraph's layout: /query, /update, /store
            stem = path.removesuffix("/query")
            update, gsp = _sibling(url, stem + "/update"), _sibling(url, stem + "/store")
        else:
            update, gsp = url, None
        return Dialect(
            name,
            update_url=self.settings.remote_update_url or update,
            gsp_url=self.settings.remote_gsp_url or gsp,
            auth=self.credentials("digest" if name == "virtuoso" else "basic"),
            graph_page=1_000_000 if name == "virtuoso" else None,
            write_chunk=20_000 if name == "virtuoso" else None,
            sorted_rows=10_000 if name == "virtuoso" else None,
        )

    @property
    def sorted_rows(self) -> int | None:
        return self.dialect.sorted_rows

    def empty_graph(self) -> str:
        """The graph to name for "no graph" in a protocol dataset: Virtuoso reads a dataset naming only
        absent graphs as the whole store, so there it is a graph that holds one harmless triple."""
        if self.dialect.virtuoso and not self._empty_ready:
            e = ox.NamedNode(EMPTY_GRAPH)
            comment = ox.NamedNode(RDFS + "comment")
            sentinel = ox.Literal("graphe vide : nommé quand une requête ne doit lire aucun graphe")
            self.update(f"INSERT DATA {{ GRAPH {e} {{ {e} {comment} {sentinel} }} }}")
            self._empty_ready = True
        return EMPTY_GRAPH

    def _dataset(self, public: bool) -> dict[str, list[str]]:
        """Every read naming a dataset reads the version first (a public one through ``public_graphs``), as
        ``answer`` does: a hung server is then down within ``ANSWER_WITHIN``, not at the read's timeout."""
        _ = self.version
        graphs = (self.public_graphs() if public else self.graphs()) or [self.empty_graph()]
        return {"default-graph-uri": graphs, "named-graph-uri": graphs}

    def post_query(
        self,
        query: str,
        accept: str,
        dataset: dict[str, list[str]],
        *,
        timeout: float | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """A query with an explicit dataset; the answer checked for a server-side cut."""
        request = self.client.build_request(
            "POST",
            self.query_url,
            data={"query": query, **dataset},
            headers={"Accept": accept},
            timeout=httpx.Timeout(timeout or self.timeout, connect=min(ANSWER_WITHIN, self.timeout)),
        )
        response = self._send(request, idempotent=True, stream=stream)
        cut = response.headers.get("x-sparql-maxrows")
        if cut:
            response.close()
            raise ResultsCut(
                f"the SPARQL server cut the answer at {cut} rows (Virtuoso ResultSetMaxRows): "
                "raise that setting or narrow the query",
                int(cut) if cut.isdigit() else 0,
            )
        return response

    def _rows(
        self, query: str, dataset: dict[str, list[str]], timeout: float | None = None
    ) -> list[dict] | bool:
        """SPARQL XML results as rows (or a boolean), parsed and dropped in the calling thread: pyoxigraph's
        result objects must not reach another thread, even inside an exception's traceback."""
        body = _bnodes_fixed(self.post_query(query, XML, dataset, timeout=timeout).content)
        try:
            result = _virtuoso_ask(ox.parse_query_results(body, ox.QueryResultsFormat.XML))
            if isinstance(result, ox.QueryBoolean):
                return bool(result)
            return as_rows(result)
        except SyntaxError as e:
            message = f"the SPARQL server's answer is not SPARQL XML results: {e}"
        raise StoreError(message)

    def _count(self, where: str, dataset: dict[str, list[str]]) -> int:
        rows = self._rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", dataset, BULK_TIMEOUT)
        return int(rows[0]["n"].value) if rows else 0

    # --- reading ---------------------------------------------------------------------------------
    def scan(self, query, names):
        """Whole lists, even from a server that cuts long answers (Virtuoso): once it has cut one, a
        longer list is read in LIMIT/OFFSET pages without ORDER BY (Virtuoso's advice: its scans keep
        their order); the pages must add up to the list's count and distinct count, or the read fails."""
        if self._cut is None:
            try:
                return super().scan(query, names)
            except ResultsCut as e:
                if e.rows < 2:
                    raise
                self._cut = e.rows
        total = self._count(query, self._dataset(True))
        page = self._cut - 1  # a page of exactly the cut is flagged as cut
        if total <= page:
            return super().scan(query, names)
        # Not COUNT(DISTINCT *): Virtuoso's is approximate.
        distinct = self._count(f"SELECT DISTINCT * WHERE {{ {query} }}", self._dataset(True))
        rows = [
            r
            for at in range(0, total, page)
            for r in Store.scan(self, f"{query} LIMIT {page} OFFSET {at}", names)
        ]
        if len(rows) != total or len(set(rows)) != distinct:
            raise StoreError(
                f"the SPARQL server's pages of {page} rows did not add up ({len(rows)} rows, "
                f"{len(set(rows))} distinct, where it counts {total} and {distinct}): its order changed "
                "between pages (concurrent writes?); raise its row limit (Virtuoso ResultSetMaxRows)"
            )
        return rows

    def select(self, query, bindings=None, *, public=True, timeout=None):
        result = self._rows(bind(query, bindings or {}), self._dataset(public), timeout)
        if isinstance(result, bool):
            raise StoreError("a SELECT was expected, the server answered a boolean")
        return result

    def ask(self, query, bindings=None, *, public=True):
        return self._rows(bind(query, bindings or {}), self._dataset(public)) is True

    def construct(self, query, bindings=None, *, public=True):
        return list(
            _parse_graph(self.post_query(bind(query, bindings or {}), GRAPH_ACCEPT, self._dataset(public)))
        )

    def graphs(self):
        """Read each time: a private graph is created without moving the version (which counts public
        changes), and private reads are few."""
        if self.dialect.virtuoso:  # it lists no graphs for ``GRAPH ?g {}``: writes record theirs
            s, known = ox.NamedNode(self.state_graph), ox.NamedNode(KNOWN_GRAPH)
            query = (
                f"SELECT ?g WHERE {{ GRAPH {s} {{ {s} {known} ?g }} "
                "FILTER EXISTS { GRAPH ?g { ?x ?y ?z } } }"
            )
        else:
            query = "SELECT ?g WHERE { GRAPH ?g { } }"
        found = {row["g"].value for row in self._rows(query, {})}  # type: ignore[union-attr]
        return sorted(g for g in found if g.startswith(self.minter.base))  # not the server's own graphs

    def public_graphs(self):
        """The dataset of every public read, kept for the version it was read at."""
        version = self.version
        cached = self._public_graphs
        if cached and cached[0] == version:
            return cached[1]
        public = super().public_graphs()
        self._public_graphs = (version, public)
        return public

    def count(self, graph=None):
        if graph is None:
            return sum(self.count(g) for g in self.graphs())
        if graph == DEFAULT_GRAPH:
            return 0  # as quads
        return self._count(f"GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }}", {})

    def quads(self, graph=None):
        """The default graph (``DEFAULT_GRAPH``) is empty here, as every read of the platform sees it: its
        datasets name graphs, never the server's own default graph (on some servers, every graph)."""
        if graph == DEFAULT_GRAPH:
            return
        for g in [graph] if graph else self.graphs():
            name = ox.NamedNode(g)
            for t in self._graph_triples(g):
                yield ox.Quad(t.subject, t.predicate, t.object, name)

    def _gsp(self, method: str, graph: str, **request) -> httpx.Response:
        """A Graph Store Protocol request on ``graph``, authenticated as writes are. A POST is never sent
        twice: its blank nodes would be added twice."""
        param = "graph-uri" if self.dialect.virtuoso else "graph"
        gsp = self.client.build_request(method, self.dialect.gsp_url, params={param: graph}, **request)
        return self._send(gsp, idempotent=method != "POST", auth=self.dialect.auth)

    def _gsp_write(self, method: str, graph: str, triples: Iterable[ox.Triple | str]) -> None:
        """``triples`` (or N-Triples lines) written to ``graph`` by one PUT or POST."""
        body = "".join(f"{t} .\n" for t in triples).encode()
        timeout = httpx.Timeout(max(self.timeout, 600.0), connect=ANSWER_WITHIN)
        with self._lock:
            self._gsp(method, graph, content=body, headers={"Content-Type": NT}, timeout=timeout).close()

    def _graph_triples(self, graph: str) -> Iterator[ox.Triple]:
        """Each subject's triples together, which Turtle writes as one block (Virtuoso answers a graph in
        its own order, by predicate: its Turtle downloads came out flat)."""
        dialect = self.dialect
        if dialect.graph_page:
            size = self.count(graph)
            if size > dialect.graph_page:
                return self._graph_parts(graph, math.ceil(size / dialect.graph_page), size)
        if dialect.gsp_url:
            try:
                return _by_subject(self._gsp("GET", graph, headers={"Accept": GRAPH_ACCEPT}))
            except _NotFound:
                return iter(())
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"
        return _by_subject(self.post_query(query, NT, {}))

    def _graph_parts(self, graph: str, parts: int, size: int) -> Iterator[ox.Triple]:
        """A graph too large for one answer, in ``parts`` reads of the subjects whose MD5 falls in one
        range (blank ones in the first): no LIMIT/OFFSET, whose pages an unordered server may overlap,
        and no ORDER BY, which Virtuoso refuses past 10,000 rows. One part in memory at a time; a count
        that moved meanwhile fails the read (a dump then keeps its previous build)."""
        bounds = ["", *(f"{i * 16**4 // parts:04x}" for i in range(1, parts)), None]
        read = 0
        for low, high in zip(bounds, bounds[1:], strict=False):
            below = f' FILTER(?h < "{high}")' if high else ""
            query = (
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} "
                f'BIND(IF(isBlank(?s), "", MD5(STR(?s))) AS ?h) FILTER(?h >= "{low}"){below} }}'
            )
            for triple in _by_subject(self.post_query(query, NT, {}, timeout=BULK_TIMEOUT)):
                read += 1
                yield triple
        if read != size:
            raise StoreError(
                f"<{graph}> was read in {parts} parts: {read} triples read where the server counts "
                f"{size} (written to meanwhile?): read it again"
            )

    # --- the endpoint's reads (graph.pool.QueryRunner) -------------------------------------------------
    def _job_dataset(self, job: Job) -> dict[str, list[str]]:
        public = self.minter.is_public_graph
        empty = self.empty_graph()
        if job.from_graphs is not None and self.dialect.virtuoso:
            # A server that adds the query's FROM graphs to the protocol's dataset would read them
            # whatever we send: there a non-public (or unresolved, relative) FROM graph is refused.
            for g in job.from_graphs[0] + job.from_graphs[1]:
                if "://" not in g or not public(g):
                    raise StoreError(f"FROM <{g}>: only the public graphs, by absolute IRI, can be read")
        if job.default_graphs is not None or job.named_graphs is not None:
            default, named = job.default_graphs or [], job.named_graphs or []
        elif job.from_graphs is not None:
            default, named = job.from_graphs  # the query's own FROM / FROM NAMED, as the protocol's dataset
        elif job.union_default:
            default = named = self.public_graphs()
        else:  # the query's default graph only (Graph Store reads): ours are all named, so it is empty here
            default, named = [], self.public_graphs()
        return {
            "default-graph-uri": [g if public(g) else empty for g in default] or [empty],
            "named-graph-uri": [g if public(g) else empty for g in named] or [empty],
        }

    def answer(self, job: Job, deadline: float, timeout: float) -> Answer:
        """The same :class:`Answer` as ``graph.pool``'s workers. The answer is transcoded by pyoxigraph as
        it streams in (one path for every server's quirks); the deadline is enforced here, stopping the
        server's own work is its job (Virtuoso: ``MaxQueryExecutionTime``). The version is read first,
        never taken from the cache: a server hung since it was cached would otherwise hold the query until
        its deadline, and answer a 504 where a stopped server's is a 503."""
        self._read_version()
        dataset = self._job_dataset(job)
        # Asked for what the form gives: Virtuoso answers 406 to a CONSTRUCT sent a results type first.
        accept = GRAPH_ACCEPT if query_form(job.query) in ("CONSTRUCT", "DESCRIBE") else XML
        holder: list[httpx.Response] = []

        def produce(head, writer) -> None:
            query = spelled_out(job.query, {"base_iri": job.base_iri})
            text = f"BASE <{job.base_iri}>\n{query}" if job.base_iri else query
            response = self.post_query(text, accept, dataset, timeout=timeout, stream=True)
            holder.append(response)
            try:
                _transcode(response, job, head, writer)
            finally:
                response.close()

        def stop() -> None:
            for response in holder:
                with contextlib.suppress(Exception):
                    response.close()

        late = f"the query ran past its {timeout:g} s deadline and was stopped"
        return threaded_answer(produce, deadline, late, stop)

    # --- writing ---------------------------------------------------------------------------------
    def _registration(self, sparql: str) -> str:
        """For Virtuoso, which lists no graphs: record every graph of ours the update names (an IRI
        mentioned but never written costs nothing: ``graphs`` lists only graphs that hold triples)."""
        if not self.dialect.virtuoso:
            return ""
        named = named_iris(sparql)
        ours = sorted({self.state_graph} | {g for g in named if g.startswith(self.minter.base + "graph/")})
        s, known = ox.NamedNode(self.state_graph), ox.NamedNode(KNOWN_GRAPH)
        objects = ", ".join(str(ox.NamedNode(g)) for g in ours)
        return f"INSERT DATA {{ GRAPH {s} {{ {s} {known} {objects} }} }} ;\n"

    def update(self, sparql, *, timeout: float = 120.0):
        """The update and, unless it changes private graphs only, the version bump in one request: the
        server runs them as one transaction. Nothing is written to the server's default graph: no public
        read sees it (the protocol's dataset can only name graphs, and Virtuoso's default graph is every
        graph, private ones included)."""
        if writes_default_graph(tokens(sparql)):
            raise StoreError(
                "on this store (a remote SPARQL server) the public data is in named graphs only: write "
                "into a named graph (GRAPH <…> in the update, ?graph=<IRI> in the Graph Store Protocol)"
            )
        named_private, public = self.graphs_named(sparql)
        # Private graphs only: of the public ones, at most the metadata graph, where a private graph's
        # provenance update deletes what an older release put there (``Store.forget_meta``).
        private = bool(named_private) and set(public) <= {self.meta_graph}
        s, v = ox.NamedNode(self.state_graph), ox.NamedNode(VERSION_PREDICATE)
        # An aggregate, not OPTIONAL: Virtuoso finds no solution to a lone OPTIONAL that matches nothing.
        bump = (
            f"DELETE {{ GRAPH {s} {{ {s} {v} ?old }} }} INSERT {{ GRAPH {s} {{ {s} {v} ?new }} }} "
            f"WHERE {{ {{ SELECT (MAX(?o) AS ?old) WHERE {{ GRAPH {s} {{ {s} {v} ?o }} }} }} "
            "BIND(COALESCE(?old, 0) + 1 AS ?new) }"
        )
        after = "" if private else f" ;\n{self._recount(public)}{bump}"
        with self._lock:
            try:
                self._send_update(f"{self._registration(sparql)}{sparql}{after}", timeout)
            finally:
                if not private:
                    self._version = None
        if not private:
            self.changed(public)

    def _send_update(self, sparql: str, timeout: float = 120.0) -> None:
        request = self.client.build_request(
            "POST",
            self.dialect.update_url,
            data={"update": sparql},
            timeout=httpx.Timeout(max(self.timeout, timeout), connect=ANSWER_WITHIN),
        )
        self._send(request, idempotent=False, auth=self.dialect.auth).close()

    def _recount(self, graphs: list[str]) -> str:
        """The updates recording each graph's size as the server counts it when they run (ending with
        ``;``): what ``look_behind`` compares with, so our own writes are never taken for another's."""
        s, seen = ox.NamedNode(self.state_graph), ox.NamedNode(SEEN_PREDICATE)
        return "".join(
            f"DELETE WHERE {{ GRAPH {s} {{ {g} {seen} ?n }} }} ;\n"
            f"INSERT {{ GRAPH {s} {{ {g} {seen} ?n }} }} "
            f"WHERE {{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?a ?b ?c }} }} }} ;\n"
            for g in map(ox.NamedNode, sorted(set(graphs)))
        )

    def look_behind(self) -> list[str]:
        """Writes made to the server by another hand than the platform's (a SPARQL client on the server
        itself) tell us nothing: every public graph is counted (one GROUP BY, a scan of the public
        dataset) and compared with the size recorded at our last write or look. A graph whose size
        differs gets its ``void:triples`` and ``dcterms:modified`` set again in the metadata graph (which
        every process's index fingerprints) and the version moves, as for any write; returns those
        graphs. A write leaving every size as it was (a triple replaced by another) goes unseen."""
        s, seen = ox.NamedNode(self.state_graph), ox.NamedNode(SEEN_PREDICATE)
        with self._hung_is_down():  # a few triples: a server that does not answer them is down
            rows = self._rows(
                f"SELECT ?g ?n WHERE {{ GRAPH {s} {{ ?g {seen} ?n }} }}", {}, min(ANSWER_WITHIN, self.timeout)
            )
        recorded = {r["g"].value: int(r["n"].value) for r in rows}  # type: ignore[union-attr]
        public = Store.public_graphs(self)  # not the cached list: another hand may have added graphs
        live = {}
        if public:
            query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            dataset = {"default-graph-uri": public, "named-graph-uri": public}
            rows = self._rows(query, dataset, BULK_TIMEOUT)
            live = {r["g"].value: int(r["n"].value) for r in rows}  # type: ignore[union-attr]
        if not recorded:  # a store written before sizes were recorded: they are from now on
            if live:
                self._send_update(self._recount(list(live)).removesuffix(" ;\n"))
            return []
        changed = sorted(g for g in live.keys() | recorded.keys() if live.get(g, 0) != recorded.get(g, 0))
        if not changed:
            return []
        log.info("written to behind our back: %s", " ".join(changed))
        m, triples, modified = (
            ox.NamedNode(i) for i in (self.meta_graph, VOID + "triples", DCTERMS + "modified")
        )
        at = lit(dt.datetime.now(dt.UTC).replace(microsecond=0))
        self.update(
            " ;\n".join(
                f"DELETE {{ GRAPH {m} {{ {g} {triples} ?old . {g} {modified} ?was }} }} "
                f"INSERT {{ GRAPH {m} {{ {g} {triples} ?n . {g} {modified} {at} }} }} "
                f"WHERE {{ GRAPH {m} {{ {g} {triples} ?old OPTIONAL {{ {g} {modified} ?was }} }} "
                f"{{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?a ?b ?c }} }} }} }}"
                for g in map(ox.NamedNode, changed)
            )
        )
        return changed

    def _look_later(self) -> None:
        """``look_behind`` in the background when due: at start, then at a cost bounded by its share of
        the time (``LOOK_EVERY``, ``LOOK_SHARE``). A look that met the server down took the outage's time,
        not its own: the next one is due after ``LOOK_EVERY``, or writes made meanwhile go unseen for
        ``LOOK_SHARE`` times the outage. A count past its deadline is either its own cost or a server
        that hung during it: a small read, which a hung server fails, tells which."""
        if time.monotonic() < self._next_look or not self._looking.acquire(blocking=False):
            return

        def look() -> None:
            started = time.monotonic()
            try:
                self.look_behind()
            except StoreError as e:  # the server down: the next look tries again
                log.warning("could not look for writes made behind our back: %s", e)
                if isinstance(e, QueryTimeout):
                    with contextlib.suppress(StoreError):
                        self._read_version()
            except Exception:  # noqa: BLE001 - a thread's error would otherwise only reach stderr
                log.exception("could not look for writes made behind our back")
            finally:
                took = 0.0 if self._down_until > started else time.monotonic() - started
                self._next_look = time.monotonic() + max(LOOK_EVERY, LOOK_SHARE * took)
                self._looking.release()

        threading.Thread(target=look, daemon=True, name="look-behind").start()

    def replace_graph(self, graph, triples, meta=None):
        unique = set(triples)  # materialised first: a failing source never touches the store
        dialect = self.dialect
        if dialect.write_chunk:
            self._staged_replace(graph, _chunks(unique, dialect.write_chunk), meta, len(unique))
        elif dialect.gsp_url:
            # One PUT replaces the graph in one transaction of the server; the metadata follows.
            self._gsp_write("PUT", graph, unique)
            # The graph is named here too, so that a registry records it.
            named = f"CREATE SILENT GRAPH {ox.NamedNode(graph)}"
            self.update(self.meta_update(graph, meta, len(unique)) if meta else named)
        else:
            self.update(self.replacement(graph, {str(t) for t in unique}, meta))
        return len(unique)

    def staging_graph(self, graph: str) -> str:
        """Where one load writes ``graph``'s next version before it replaces it: private, and its own (a
        random suffix), so that two loads of one graph at once never drop, fill or move each other's
        staging graph: the last move wins, whole."""
        digest = hashlib.sha256(graph.encode()).hexdigest()[:16]
        return self.minter.private_graph(f"chargement/{digest}-{secrets.token_hex(8)}")

    def _staged_replace(
        self, graph: str, chunks: list[list[str]], meta: GraphMeta | None, count: int
    ) -> None:
        """Readers see the old graph until one MOVE puts the staged one in its place (with the metadata
        and the version bump, in one transaction): a failure leaves the public graph as it was. The state
        graph records when the load last wrote (``STAGED_AT``), so that another load can tell a staging
        graph left by a killed load from a live one (``_drop_abandoned``)."""
        self._drop_abandoned()
        staging = self.staging_graph(graph)
        s, g = ox.NamedNode(staging), ox.NamedNode(graph)
        state, at = ox.NamedNode(self.state_graph), ox.NamedNode(STAGED_AT)
        try:
            # The record and the registry entry (``_registration``) in one transaction, before any triple.
            self.update(f"INSERT DATA {{ GRAPH {state} {{ {s} {at} {int(time.time())} }} }}")
            for chunk in chunks:
                self._gsp_write("POST", staging, chunk)
                # Only while the record is there: a load taken for abandoned does not bring it back.
                self.update(
                    f"DELETE {{ GRAPH {state} {{ {s} {at} ?t }} }} "
                    f"INSERT {{ GRAPH {state} {{ {s} {at} {int(time.time())} }} }} "
                    f"WHERE {{ GRAPH {state} {{ {s} {at} ?t }} }}"
                )
            if self._rows(f"ASK {{ GRAPH {state} {{ {s} {at} ?t }} }}", {}) is not True:
                raise StoreError(f"{staging} was dropped as abandoned before the load could publish it")
            move = f"MOVE SILENT {s} TO {g} ;\n{self._unstaged(staging)}"
            self.update(f"{move} ;\n{self.meta_update(graph, meta, count)}" if meta else move, timeout=600.0)
        except BaseException:
            with contextlib.suppress(StoreError):
                self.update(self._unstaged(staging))
            raise

    def _unstaged(self, staging: str) -> str:
        """The update dropping a staging graph and all the state graph says of it."""
        state, known, s = ox.NamedNode(self.state_graph), ox.NamedNode(KNOWN_GRAPH), ox.NamedNode(staging)
        return (
            f"DROP SILENT GRAPH {s} ;\nDELETE WHERE {{ GRAPH {state} {{ {s} ?p ?o }} }} ;\n"
            f"DELETE DATA {{ GRAPH {state} {{ {state} {known} {s} }} }}"
        )

    def _drop_abandoned(self) -> None:
        """A load killed mid-way leaves its staging graph on the server, private but taking room: each
        load drops those whose load wrote nothing for ``STAGING_STALE`` seconds, and those with no record
        (left by an older release: a load records its graph before filling it). A live load records each
        of its writes, so its staging graph is never taken. Best effort: a failure here fails no load."""
        state, known, at = (ox.NamedNode(i) for i in (self.state_graph, KNOWN_GRAPH, STAGED_AT))
        prefix = ox.Literal(self.minter.private_graph("chargement/"))
        try:
            rows = self._rows(
                f"SELECT ?g ?t WHERE {{ GRAPH {state} {{ {state} {known} ?g OPTIONAL {{ ?g {at} ?t }} }} "
                f"FILTER(STRSTARTS(STR(?g), {prefix})) }}",
                {},
            )
            stale = time.time() - STAGING_STALE
            dead = [r["g"].value for r in rows if "t" not in r or float(r["t"].value) < stale]  # type: ignore[union-attr]
            if dead:
                log.info("dropping the staging graphs of abandoned loads: %s", " ".join(dead))
                self.update(" ;\n".join(map(self._unstaged, dead)))
        except StoreError as e:
            log.warning("could not drop the staging graphs of abandoned loads: %s", e)

    @property
    def version(self):
        cached = self._version
        if cached and time.monotonic() - cached[0] < VERSION_TTL:
            return cached[1]
        return self._read_version()

    def _read_version(self) -> int:
        """Read before almost every answer: a server that does not answer it within ``ANSWER_WITHIN`` is
        down, a hung one as a stopped one."""
        now = time.monotonic()
        s, v = ox.NamedNode(self.state_graph), ox.NamedNode(VERSION_PREDICATE)
        query = f"SELECT ?v WHERE {{ GRAPH {s} {{ {s} {v} ?v }} }}"
        with self._hung_is_down():
            rows = self._rows(query, {}, min(ANSWER_WITHIN, self.timeout))
        value = int(rows[0]["v"].value) if rows else 0
        self._version = (now, value)
        self._look_later()
        return value

    @contextlib.contextmanager
    def _hung_is_down(self) -> Iterator[None]:
        """Around a read that must answer within ``ANSWER_WITHIN``: past it the server is taken for down,
        so that the client is told to come back (503), not that its request took too long (504)."""
        try:
            yield
        except QueryTimeout as e:
            self._down_until = time.monotonic() + DOWN_FOR
            raise StoreUnavailable(f"the SPARQL server at {self.host} is not answering") from e

    def close(self):
        self.client.close()


def _chunks(triples: set[ox.Triple], size: int) -> list[list[str]]:
    """``triples`` as N-Triples lines in lists of about ``size``: a blank node names one node only within
    one document, so the triples linked by blank nodes stay together, even beyond ``size``."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    groups: dict[ox.BlankNode, list[ox.Triple]] = {}
    linked = [t for t in triples if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)]
    for t in linked:
        nodes = [root(n) for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        parent[nodes[0]] = nodes[-1]
    for t in linked:
        groups.setdefault(root(t.subject if isinstance(t.subject, ox.BlankNode) else t.object), []).append(t)
    plain = [
        [t]
        for t in triples
        if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
    ]
    chunks: list[list[str]] = []
    for group in [*groups.values(), *plain]:
        if not chunks or len(chunks[-1]) + len(group) > size:
            chunks.append([])
        chunks[-1].extend(str(t) for t in group)
    return chunks


def _parse_graph(response: httpx.Response) -> Iterator[ox.Triple]:
    media = response.headers.get("content-type", NT).split(";")[0].strip()
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.NT
    try:
        return iter(list(ox.parse(response.content, fmt)))
    except SyntaxError as e:
        raise StoreError(f"the SPARQL server's graph answer is not {fmt.name}: {e}") from e


def _by_subject(response: httpx.Response) -> Iterator[ox.Triple]:
    return iter(sorted(_parse_graph(response), key=lambda t: (str(t.subject), t.predicate.value)))


def _streamed(response: httpx.Response) -> Iterator[bytes]:
    """A streamed answer's chunks with Virtuoso's blank-node prefix removed, even where it spans two."""
    keep = len(VIRTUOSO_BNODE) - 1  # kept back: it may be the start of a prefix the next chunk ends
    tail = b""
    for chunk in response.iter_bytes():
        data = _bnodes_fixed(tail + chunk)
        yield data[:-keep]
        tail = data[-keep:]
    yield tail


def _bnodes_fixed(data: bytes) -> bytes:
    """Virtuoso labels blank nodes ``nodeID://b123``, which is no blank node label: ``b123`` is."""
    return data.replace(VIRTUOSO_BNODE, b"")


def _virtuoso_ask(result):
    """Virtuoso answers ASK with one row of ``__ASK_RETVAL``: the boolean it means."""
    if isinstance(result, ox.QuerySolutions) and [v.value for v in result.variables] == [ASK_COLUMN]:
        true = any(s[ASK_COLUMN] is not None and s[ASK_COLUMN].value not in ("0", "false") for s in result)
        # pyoxigraph has no constructor for a boolean result: an empty store answers the right ASK.
        return ox.Store().query("ASK {}" if true else "ASK { FILTER(false) }")
    return result


def _transcode(response: httpx.Response, job: Job, head, write) -> None:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    body = io.BufferedReader(Chunks(_streamed(response)))
    results_format = ox.QueryResultsFormat.from_media_type(media) if "sparql-results" in media else None
    fmt = ox.RdfFormat.from_media_type(media or NT)
    if results_format is not None:
        serialize(_virtuoso_ask(ox.parse_query_results(body, results_format)), job, head, write)
    elif fmt is None:
        raise StoreError(f"the SPARQL server answered {media!r}, neither SPARQL results nor RDF")
    else:
        serialize(ox.parse(body, fmt), job, head, write)
