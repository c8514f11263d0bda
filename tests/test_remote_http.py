"""What the remote store sends and how it fails, against a small real HTTP server on 127.0.0.1 that
records each request and can be told to answer slowly or with errors (the platform is never mocked)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import wait_until
from contrib_helpers import csrf_of, form_data
from fastapi.testclient import TestClient
from pages_helpers import serve
from remote_servers import SparqlServer, available

from api.accounts import Accounts
from api.app import create_app
from graph import remote, search
from graph.dumps import Dumps
from graph.remote import RemoteStore
from graph.settings import DEFAULT_BASE_IRI, Settings
from graph.store import GraphMeta, OxigraphStore, StoreUnavailable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
ASK_TRUE = RESULTS + b"<head/><boolean>true</boolean></sparql>"
EMPTY = RESULTS + b'<head><variable name="v"/></head><results/></sparql>'


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.delay = 0.0
        self.failures = 0  # the next N requests answer 503

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder
    protocol_version = "HTTP/1.1"  # keep-alive, as real SPARQL servers answer

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        sent = self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        time.sleep(self.server.delay)
        if self.server.failures:
            self.server.failures -= 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (
            b""
            if self.path.startswith("/update")
            else ASK_TRUE
            if b"ASK" in sent + self.path.encode()
            else EMPTY
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer  # noqa: N815

    def log_message(self, *args) -> None:
        pass


@contextmanager
def recorder() -> Iterator[Recorder]:
    srv = Recorder()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()


def test_location_and_environment_configure_the_store(monkeypatch):
    monkeypatch.setenv("COMMUNS_REMOTE_UPDATE_URL", "http://h:1/maj")
    monkeypatch.setenv("COMMUNS_REMOTE_TIMEOUT", "7")
    store = RemoteStore(DEFAULT_BASE_IRI, "sparql+https://ana:p%40ss@h:1/ds/query")
    assert (store.query_url, store.user, store.password) == ("https://h:1/ds/query", "ana", "p@ss")
    assert (store.settings.remote_update_url, store.timeout) == ("http://h:1/maj", 7.0)
    store.close()
    monkeypatch.setenv("COMMUNS_REMOTE_AUTH", "kerberos")
    with pytest.raises(Exception, match="basic, digest or bearer"):
        RemoteStore(DEFAULT_BASE_IRI, "sparql+http://h/query").credentials("basic")


@pytest.mark.parametrize(
    ("location", "env", "expected"),
    [
        ("sparql+http://{host}/query", {"COMMUNS_REMOTE_TOKEN": "t0k"}, "Bearer t0k"),
        ("sparql+http://ana:secret@{host}/query", {}, "Basic YW5hOnNlY3JldA=="),
    ],
)
def test_writes_carry_the_configured_credentials(monkeypatch, location, env, expected):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with recorder() as srv:
        store = RemoteStore(DEFAULT_BASE_IRI, location.format(host=srv.url.removeprefix("http://")))
        store.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }")
        method, path, headers = srv.seen[-1]
        assert (method, path) == ("POST", "/update")  # the Oxigraph-style sibling of /query
        assert headers["Authorization"] == expected
        store.close()


def test_transient_failures_are_retried_and_a_dead_server_is_unavailable():
    with recorder() as srv:
        store = RemoteStore(DEFAULT_BASE_IRI, f"sparql+{srv.url}/query")
        assert store.ask("ASK {}") is True
        srv.failures = 2  # two 503s, then an answer: a read is retried
        before = len(srv.seen)
        assert store.select("SELECT ?v WHERE { ?v ?p ?o }") == []
        assert len(srv.seen) - before >= 3
        srv.failures = 10
        with pytest.raises(StoreUnavailable, match="failed \\(503\\)"):
            store.select("SELECT ?v WHERE { ?v ?p ?o }")
        url = srv.url
    store.query_url = url + "/query"  # the server is gone now
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.select("SELECT ?v WHERE { ?v ?p ?o }")
    assert time.monotonic() - started < 5


def test_a_slow_server_gives_a_503_page_not_a_hang(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMUNS_REMOTE_TIMEOUT", "1")
    with recorder() as srv:
        store = RemoteStore(DEFAULT_BASE_IRI, f"sparql+{srv.url}/query")
        with pytest.raises(StoreUnavailable, match="not answering"):  # not even the version: down
            srv.delay = 2.0
            store.select("SELECT ?v WHERE { ?v ?p ?o }")
        settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
        with TestClient(create_app(settings, store)) as client:
            started = time.monotonic()
            r = client.get("/id/projet/tremplin-saison", headers={"Accept": "text/html"})
            assert r.status_code == 503 and "indisponible" in r.text
            assert time.monotonic() - started < 8
            # In the asked format: JSON to a JSON client, plain text to one taking neither JSON nor a page.
            assert client.get("/projets.json").json()["error"] == "unavailable"
            r = client.get("/id/projet/tremplin-saison", headers={"Accept": "text/turtle"})
            assert r.status_code == 503 and r.headers["content-type"].startswith("text/plain")
            srv.delay = 0.0
            time.sleep(1.1)
            assert client.get("/id/projet/tremplin-saison").status_code == 404  # back, and nothing there
        assert httpx.get(srv.url + "/query?query=ASK").status_code == 200


def test_a_slow_server_does_not_hold_the_start_up_and_a_signal_stops_the_server(tmp_path):
    # The index is built in the background (here its first read waits 30 s): the start-up ends at once,
    # and a SIGTERM then stops the server at once, its stuck build thread with it.
    with recorder() as srv:
        srv.delay = 30.0
        env = {
            **os.environ,
            "COMMUNS_SECRET_KEY": "s" * 32,
            "COMMUNS_UPLOADS_DIR": str(tmp_path / "uploads"),
            "COMMUNS_ACCOUNTS_DB": str(tmp_path / "comptes.sqlite"),
            "COMMUNS_INDEX_DB": str(tmp_path / "index.sqlite"),
            "COMMUNS_DUMPS_DIR": str(tmp_path / "dumps"),
            "COMMUNS_REMOTE_TIMEOUT": "60",
        }
        log = tmp_path / "serve.log"
        cmd = [sys.executable, "-m", "api.cli", "serve", "--store", f"sparql+{srv.url}/query", "--port", "0"]
        with log.open("w") as out:
            proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            deadline = time.monotonic() + 30
            while not (srv.seen and "Application startup complete" in log.read_text()):
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            started = time.monotonic()
            proc.wait(timeout=10)
            assert time.monotonic() - started < 5
            assert "Application shutdown complete" in log.read_text()
        finally:
            proc.kill()
            proc.wait()


@contextmanager
def store_of(kind: str, tmp_path: Path) -> Iterator[tuple[OxigraphStore | RemoteStore, SparqlServer | None]]:
    """An embedded store, or a remote one on a real server of ``kind`` (the test skipped without it)."""
    if kind == "embedded":
        store, server = OxigraphStore(DEFAULT_BASE_IRI), None
    else:
        if available(kind):
            pytest.skip(available(kind))
        server = SparqlServer(kind, tmp_path / kind)
        server.folder.mkdir()
        server.start()
        store = RemoteStore(DEFAULT_BASE_IRI, server.location)
    try:
        yield store, server
    finally:
        store.close()
        if server is not None:
            if server.process is not None:  # a test may have hung it: a stopped process takes no SIGTERM
                os.kill(server.process.pid, signal.SIGCONT)
            server.stop()


@pytest.mark.parametrize("kind", ["embedded", "oxigraph"])
def test_a_write_to_the_default_graph_is_read_publicly_or_refused(kind, tmp_path):
    """An update without GRAPH and ``PUT /store?default`` wrote, on Oxigraph server, its default graph,
    which no public read of the platform names (204, and the triples nowhere to be seen). The embedded
    store's default graph is public (the W3C Protocol and Graph Store suites write it); a remote store
    refuses such a write, saying what to do."""
    settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path), update_token="t")
    auth = {"Authorization": "Bearer t"}
    with store_of(kind, tmp_path) as (store, server), TestClient(create_app(settings, store)) as client:
        body = '<http://example.org/b> <http://example.org/p> "par le protocole" .'
        headers = {**auth, "Content-Type": "application/n-triples"}
        by_store = client.put("/store?default", content=body.encode(), headers=headers)
        update = 'INSERT DATA { <http://example.org/a> <http://example.org/p> "par mise à jour" }'
        by_update = client.post("/sparql", data={"update": update}, headers=auth)
        query = "SELECT ?o WHERE { ?s <http://example.org/p> ?o }"
        read = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
        seen = set(read.text.splitlines()[1:])
        if kind == "embedded":
            assert (by_update.status_code, by_store.status_code) == (204, 204)
            assert seen == {"par mise à jour", "par le protocole"}
        else:
            for refused in (by_update, by_store):
                assert refused.status_code == 400 and "named graph" in refused.text, refused.text
            assert seen == set()
            direct = httpx.get(f"http://127.0.0.1:{server.port}/store?default", timeout=10)
            assert direct.status_code == 200 and direct.text.strip() == ""  # nothing written there


def test_the_downloads_builder_outlives_a_server_down_when_it_checks_the_version(tmp_path, monkeypatch):
    """The server went away just after a build, as the builder read the store's version to know whether to
    build again: the exception ended its thread, which the app still took for under way, so no write or
    request ever started another and the downloads stayed old for good."""
    monkeypatch.setattr(remote, "VERSION_TTL", 0.0)  # every check asks the server
    with store_of("oxigraph", tmp_path) as (store, server):
        graph = store.minter.graph("essai")
        note = "<http://example.org/note>"
        store.update(f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> {note} "un" }} }}')
        folder = tmp_path / "dumps"
        downloads = Dumps(store, folder)
        built = store.version

        def stop_once_built(request: httpx.Request) -> None:
            manifest = downloads.manifest()
            if server.process is not None and manifest and manifest["version"] == built:
                server.stop()  # the build is done: its check of the version finds the server gone

        store.client.event_hooks["request"] = [stop_once_built]
        downloads.ensure()
        deadline = time.monotonic() + 120
        while server.process is not None:
            assert time.monotonic() < deadline, f"the first build never ended: {downloads.error}"
            time.sleep(0.2)
        store.client.event_hooks["request"] = []
        deadline = time.monotonic() + 10
        while downloads.error is None:  # said where the app shows it
            assert time.monotonic() < deadline, "the builder's failure to read the version went unsaid"
            time.sleep(0.2)
        assert "SPARQL server" in downloads.error
        server.start()
        time.sleep(remote.DOWN_FOR)
        store.update(f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/b> {note} "deux" }} }}')
        downloads.changed([graph])  # the app's store listener, after a write
        deadline = time.monotonic() + 120
        # The build writes its manifest, then clears the error: both, within the deadline.
        while (downloads.manifest() or {}).get("version") != store.version or downloads.error is not None:
            assert time.monotonic() < deadline, f"no build after the server came back: {downloads.error}"
            time.sleep(0.2)
        downloads.close()


def test_a_hung_server_is_unavailable_within_seconds_as_a_stopped_one(tmp_path):
    """A server that accepts connections but answers nothing (stopped by SIGSTOP) took every request 30 s,
    the remote timeout, then answered as if the request were at fault: /sparql a 400 without Retry-After,
    a named query a 504, and a download already built a 503. A stopped server gives 503s with Retry-After
    at once and still serves the downloads built: a hung one must too, within seconds."""
    with store_of("oxigraph", tmp_path) as (store, server):
        graph = store.minter.graph("essai")
        store.update(
            f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> <http://example.org/p> "un" }} }}'
        )
        settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
        with TestClient(create_app(settings, store)) as client:
            deadline = time.monotonic() + 120
            while not client.get("/telechargements.json").json()["files"]:
                assert time.monotonic() < deadline, "the downloads were never built"
                time.sleep(0.5)
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
                started = time.monotonic()
                r = client.get("/sparql", params={"query": "ASK {}"})
                assert r.status_code == 503 and r.headers["retry-after"], r.text
                r = client.get("/api/lieux-territoire", params={"territoire": "73"})
                assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
                r = client.get("/telechargements/lieux.csv")
                assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
                assert time.monotonic() - started < 20  # three answers, each within seconds
            finally:
                os.kill(server.process.pid, signal.SIGCONT)
            time.sleep(remote.DOWN_FOR)
            assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200  # back by itself


def test_a_request_waiting_for_a_hung_server_holds_no_other_request(tmp_path):
    """/sparql, /store, the named queries and the downloads read the store's version (their ETag) or its
    graphs on the event loop: with the server hung, each such read held every other request, pages that
    never ask the store included, for up to ANSWER_WITHIN."""
    with store_of("oxigraph", tmp_path) as (store, server), serve(store, tmp_path) as url:
        graph = store.minter.graph("essai")
        store.update(
            f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> <http://example.org/p> "un" }} }}'
        )
        os.kill(server.process.pid, signal.SIGSTOP)
        time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
        asked = {
            "/sparql": {"query": "ASK {}"},
            "/store": {"graph": graph},
            "/api/lieux-territoire": {"territoire": "73"},
            "/telechargements/lieux.csv": {},
        }
        with ThreadPoolExecutor(len(asked)) as pool:  # all at once: each waits for the server meanwhile
            waiting = {
                path: pool.submit(httpx.get, url + path, params=p, timeout=30) for path, p in asked.items()
            }
            time.sleep(0.5)  # the requests are waiting for the server
            started = time.monotonic()
            assert httpx.get(url + "/robots.txt", timeout=30).status_code == 200
            assert time.monotonic() - started < 2
            assert not any(w.done() for w in waiting.values())  # robots.txt answered while each waited
            for path, w in waiting.items():
                assert w.result().status_code == 503, (path, w.result().text)


def test_a_proposal_or_a_decision_waiting_for_a_hung_server_holds_no_other_request(tmp_path):
    """The contribution and moderation posts (JSON API and forms) read and wrote the store on the event
    loop: with the server hung, each held every other request of the process until the store gave up.
    Each gets its 503 within seconds: their private reads waited the whole remote timeout (30 s)."""
    accounts_db = tmp_path / "comptes.sqlite"
    users = Accounts(str(accounts_db))
    users.add("ana", "un-mot-de-passe-long", "contributeur")
    users.add("modo", "un-mot-de-passe-long", "moderateur")
    contributor = {"Authorization": f"Bearer {users.new_token('ana')}"}
    moderator = {"Authorization": f"Bearer {users.new_token('modo')}"}
    with (
        store_of("oxigraph", tmp_path) as (store, server),
        serve(store, tmp_path, accounts_db=str(accounts_db)) as url,
        httpx.Client(base_url=url, timeout=60) as browser,
    ):
        signed_in = {"identifiant": "modo", "mot_de_passe": "un-mot-de-passe-long"}
        login = browser.post(
            "/connexion", data={"csrf_token": csrf_of(browser.get("/connexion").text), **signed_in}
        )
        assert login.status_code == 303, login.text
        csrf = {"csrf_token": csrf_of(browser.get("/ressources/proposer").text)}
        browser.get("/territoires/autocomplete", params={"q": "Chambéry"})  # the index the form began, read
        proposal = {k: v for k, v in form_data().items() if k not in ("nom", "courriel", "territoires")}
        os.kill(server.process.pid, signal.SIGSTOP)
        time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
        posts = [
            lambda: httpx.post(url + "/api/contributions", json=proposal, headers=contributor, timeout=60),
            lambda: httpx.post(url + "/api/contributions/x/accepter", headers=moderator, timeout=60),
            lambda: browser.post("/ressources/proposer", data={**csrf, **form_data()}),
            lambda: browser.post("/moderation/x", data={**csrf, "action": "accepter"}),
            lambda: browser.post("/ressources/x/historique", data={**csrf, "version": "1"}),
        ]

        def timed(post: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
            sent = time.monotonic()
            return post(), round(time.monotonic() - sent, 1)

        with ThreadPoolExecutor(len(posts)) as pool:  # all at once: each waits for the server meanwhile
            waiting = [pool.submit(timed, post) for post in posts]
            time.sleep(0.5)  # the requests are waiting for the server
            started = time.monotonic()
            assert httpx.get(url + "/robots.txt", timeout=30).status_code == 200
            took = time.monotonic() - started
            pending = sum(not w.done() for w in waiting)
        # path → (status, Retry-After given, answered within)
        answers = {
            r.request.url.path: (r.status_code, "retry-after" in r.headers, s)
            for r, s in (w.result() for w in waiting)
        }
        assert (took < 2, pending) == (True, len(posts)), (took, pending, str(answers))
        assert {a[:2] for a in answers.values()} == {(503, True)}, str(answers)
        assert (
            len(answers) == len(posts) and max(a[2] for a in answers.values()) < remote.ANSWER_WITHIN + 3
        ), str(answers)


def test_the_form_warms_its_autocomplete_quietly_while_the_server_is_down(tmp_path, monkeypatch):
    """The proposal form builds the autocomplete's index in the background: with the server down, that
    thread died of the outage, an error no one reads (the next request that needs the index builds it)."""
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    with store_of("oxigraph", tmp_path) as (store, server):
        settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
        with TestClient(create_app(settings, store)) as client:
            os.kill(server.process.pid, signal.SIGSTOP)
            time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
            client.get("/ressources/proposer")  # its warm-up may be over already (the server known down)
            for thread in [t for t in threading.enumerate() if t.name == "territory-index"]:
                thread.join(remote.ANSWER_WITHIN + 5)
        assert not failures, [f.exc_value for f in failures]


def test_a_server_hung_at_start_up_is_unavailable_within_seconds_and_found_out_when_back(tmp_path):
    """A server stopped just after the app read its version (at start-up) held the first /sparql queries
    until their 30 s deadline, then answered 504: the version was still trusted, and the server's kind
    (its first contact) was asked with the whole remote timeout. A stopped server is down within seconds
    (503, Retry-After), and its kind is found out once it answers again."""
    if available("oxigraph"):
        pytest.skip(available("oxigraph"))
    server = SparqlServer("oxigraph", tmp_path / "oxigraph")
    server.folder.mkdir()
    server.start()
    store = RemoteStore(DEFAULT_BASE_IRI, server.location)  # its kind not asked yet
    settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
    try:
        store.version  # noqa: B018 - read, as the app's start-up does: trusted for VERSION_TTL
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            with TestClient(create_app(settings, store)) as client:
                started = time.monotonic()
                r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
                assert r.status_code == 503 and r.headers["retry-after"], r.text
                assert time.monotonic() - started < remote.ANSWER_WITHIN + 2
                time.sleep(remote.DOWN_FOR)
                started = time.monotonic()
                with pytest.raises(StoreUnavailable, match="not answering"):
                    store.dialect  # noqa: B018
                assert time.monotonic() - started < remote.ANSWER_WITHIN + 2
                os.kill(server.process.pid, signal.SIGCONT)
                time.sleep(remote.DOWN_FOR)
                r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
                assert r.status_code == 200, r.text
                assert store.dialect.name == "oxigraph"
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
    finally:
        store.close()
        server.stop()


@pytest.mark.parametrize(
    ("hung_at", "reads"), [(b"triplesVus", False), (b"GROUP+BY", True), (b"GROUP+BY", False)]
)
def test_a_look_behind_our_back_met_by_a_hung_server_looks_again_once_it_is_back(
    tmp_path, monkeypatch, hung_at, reads
):
    """After a server hung at start-up, writes made on the server itself went unseen for minutes: the
    look at the graphs' sizes it met was followed by the next one at twenty times its duration, which was
    the outage's, not the look's. The look is again due within seconds of the server's return, also when
    the server hung during the count and no other read found it down meanwhile: the count then ran to its
    deadline (BULK_TIMEOUT, here 2 s), which was taken for its own cost."""
    monkeypatch.setenv("COMMUNS_REMOTE_TIMEOUT", "5")
    monkeypatch.setattr(remote, "BULK_TIMEOUT", 2.0)
    with store_of("oxigraph", tmp_path) as (store, server):
        graph = store.minter.graph("essai")
        note = "<http://example.org/note>"
        stopped = threading.Event()
        looks: list[threading.Thread] = []

        def stop_during_the_look(request: httpx.Request) -> None:
            looking = threading.current_thread().name == "look-behind"
            if looking and hung_at in request.content and not stopped.is_set():
                looks.append(threading.current_thread())
                os.kill(server.process.pid, signal.SIGSTOP)
                stopped.set()

        store.update(f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> {note} "un" }} }}')
        store.client.event_hooks["request"] = [stop_during_the_look]
        before = store.version  # read from the server: the first look starts
        assert stopped.wait(10), "no look started"
        deadline = time.monotonic() + remote.BULK_TIMEOUT + remote.ANSWER_WITHIN + 3
        while looks[0].is_alive():  # the look meets the hung server until its deadlines
            assert time.monotonic() < deadline, "the look outlived its deadlines"
            time.sleep(remote.VERSION_TTL)
            if reads:  # the app's reads meanwhile find it down
                with pytest.raises(StoreUnavailable):
                    store.version  # noqa: B018
        os.kill(server.process.pid, signal.SIGCONT)
        time.sleep(remote.DOWN_FOR)
        update = f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/b> {note} "deux" }} }}'
        assert httpx.post(store.dialect.update_url, data={"update": update}).status_code < 300  # not by us
        deadline = time.monotonic() + 4 * remote.LOOK_EVERY
        while store.version == before:
            assert time.monotonic() < deadline, "the write made on the server itself went unseen"
            time.sleep(0.2)


def test_lists_and_search_answer_from_their_index_while_the_server_is_down(tmp_path):
    """Lists and search read the local index, yet answered 503 while the server hung: they asked it its
    version to know whether the index was behind. The index is the last state known: it is served. Two
    rows of a list with the same label are told apart by a street the list asks the server: without it,
    the list is served without the street."""
    with store_of("oxigraph", tmp_path) as (store, server):
        twins = " . ".join(
            f"<{store.minter.base}id/projet/pangolin-qa-{n}> a <http://schema.org/Project> ; "
            '<http://www.w3.org/2000/01/rdf-schema#label> "Projet Pangolin QA"@fr'
            for n in (1, 2)
        )
        street = "<http://schema.org/address> [ <http://schema.org/streetAddress> "
        store.update(
            f"INSERT DATA {{ GRAPH <{store.minter.graph('essai')}> {{ {twins} . "
            f'<{store.minter.base}id/projet/pangolin-qa-1> {street} "12 rue des Pangolins" ] }} }}'
        )
        settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
        with TestClient(create_app(settings, store)) as client:
            wait_until(
                lambda: client.get("/recherche.json", params={"q": "pangolin"}).json().get("total") == 2,
                120,
                "the index's first build",
            )
            assert "12 rue des Pangolins" in client.get("/projets").text
            os.kill(server.process.pid, signal.SIGSTOP)
            try:
                time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
                started = time.monotonic()
                for path in ("/projets", "/recherche", "/recherche.json", "/projets.json"):
                    r = client.get(path, params={"q": "pangolin"} if "recherche" in path else {})
                    assert r.status_code == 200 and r.text.count("Pangolin QA") >= 2, (path, r.text)
                    assert "12 rue des Pangolins" not in r.text
                assert time.monotonic() - started < remote.ANSWER_WITHIN + 5
            finally:
                os.kill(server.process.pid, signal.SIGCONT)


@pytest.mark.parametrize("kind", ["embedded", "oxigraph"])
def test_select_star_gives_its_columns_in_the_query_s_order_on_every_store(kind, tmp_path):
    """``SELECT *`` as CSV had the header ``s,p,o`` on the embedded store (its variables spelled out in the
    order they first appear) but ``o,p,s`` on Oxigraph server, which sorts them, as pyoxigraph does."""
    settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
    with store_of(kind, tmp_path) as (store, _):
        graph = store.minter.graph("essai")
        store.update(
            f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/a> <http://example.org/p> "o" }} }}'
        )
        with TestClient(create_app(settings, store)) as client:
            for query, header in (
                ("SELECT * WHERE { ?s ?p ?o }", "s,p,o"),
                ("SELECT DISTINCT * WHERE { GRAPH ?g { ?s ?p ?o } }", "g,s,p,o"),
            ):
                r = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
                assert r.status_code == 200 and r.text.splitlines()[0] == header, r.text


def test_a_server_down_is_named_by_its_host_never_by_its_url():
    """A store's unavailability reaches public pages (503, the downloads' error): the URL may hold a key."""
    store = RemoteStore(DEFAULT_BASE_IRI, "sparql+http://127.0.0.1:9/query?key=secret")
    try:
        for _ in range(2):  # refused, then within DOWN_FOR without asking
            with pytest.raises(StoreUnavailable) as refused:
                store.select("ASK {}")
            assert "127.0.0.1" in str(refused.value) and "secret" not in str(refused.value), refused.value
    finally:
        store.close()


# One item of each list in Gap (05), and two places of one name and no territory: twins on /lieux alone.
OUTAGE_DATA = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix igeo: <http://rdf.insee.fr/def/geo#> .
@prefix cs: <https://w3id.org/communs-services/def#> .
<id/departement/05> a igeo:Departement ; rdfs:label "Hautes-Alpes"@fr ; igeo:codeINSEE "05" .
<id/commune/05061> a igeo:Commune ; rdfs:label "Gap"@fr ; igeo:codeINSEE "05061" ;
  dcterms:isPartOf <id/departement/05> .
<id/theme/numerique> a skos:Concept ; rdfs:label "Numérique"@fr .
<id/public/jeunes> a skos:Concept ; rdfs:label "Jeunes"@fr .
<id/projet/p> a schema:Project ; rdfs:label "Projet gapençais"@fr ; dcterms:spatial <id/commune/05061> ;
  dcterms:subject <id/theme/numerique> ; schema:audience <id/public/jeunes> .
<id/organisation/o> a org:Organization ; rdfs:label "Association gapençaise"@fr ;
  dcterms:spatial <id/commune/05061> .
<id/ressource/r> a schema:CreativeWork ; rdfs:label "Guide gapençais"@fr ;
  dcterms:spatial <id/commune/05061> .
<id/evenement/e> a schema:Event ; rdfs:label "Forum gapençais"@fr ; dcterms:spatial <id/commune/05061> .
<id/lieu/gap> a cs:ServicePlace ; rdfs:label "France Services de Gap"@fr ;
  dcterms:spatial <id/commune/05061> .
<id/lieu/bus-1> a cs:ServicePlace ; rdfs:label "Bus itinérant"@fr .
<id/lieu/bus-2> a cs:ServicePlace ; rdfs:label "Bus itinérant"@fr .
"""


@pytest.fixture(scope="module")
def outage(tmp_path_factory) -> Iterator[TestClient]:
    """An app whose index and downloads were built from OUTAGE_DATA, its Oxigraph server then hung."""
    tmp_path = tmp_path_factory.mktemp("outage")
    with store_of("oxigraph", tmp_path) as (store, server):
        graph = store.minter.graph("essai")
        turtle = f"@base <{store.minter.base}> .\n{OUTAGE_DATA}"
        triples = list(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE))
        store.replace_graph(graph, triples, GraphMeta("essai", "essai"))
        settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
        with TestClient(create_app(settings, store)) as client:
            wait_until(
                lambda: client.get("/recherche.json", params={"q": "bus"}).json().get("total") == 2,
                120,
                "the index's first build",
            )
            wait_until(
                lambda: client.get("/telechargements.json").json()["version"] == store.version,
                120,
                "the downloads' first build",
            )
            os.kill(server.process.pid, signal.SIGSTOP)
            time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
            yield client  # store_of resumes the server before stopping it


def outage_cases() -> list[tuple[str, dict[str, str]]]:
    """Every list's page and twins, bare and by a territory where it has that facet, the search and home."""
    cases: list[tuple[str, dict[str, str]]] = [("/", {}), ("/recherche", {"q": "gap"})]
    for name, kind in search.LISTS.items():
        forms = [{}] + [{"departement": "05"}] * any(f.name == "departement" for f in kind.facets)
        cases += [(f"/{name}{ext}", form) for ext in ("", ".json", ".csv") for form in forms]
    return cases


@pytest.mark.parametrize(("path", "params"), outage_cases())
def test_every_list_answers_from_its_index_bare_and_filtered_while_the_server_is_down(outage, path, params):
    """During an outage every list answered from its index, bare /lieux excepted: a 503, as its page of
    twins (two « Bus itinérant ») asked the server what tells them apart. Each list and the search, bare
    and filtered, answers 200 within seconds."""
    started = time.monotonic()
    r = outage.get(path, params=params)
    assert r.status_code == 200, (path, params, r.text[:500])
    assert time.monotonic() - started < remote.ANSWER_WITHIN + 2
    if path.startswith("/lieux"):
        assert ("Bus itinérant" in r.text) != bool(params) and "France Services de Gap" in r.text


def test_the_downloads_page_lists_the_files_built_while_the_server_is_down(outage):
    """The files built were served during an outage, but the page listing them and its twins answered 503
    (they ask the store its version, to say whether a newer build is due): a reuser could not find them.
    They list the files, saying they may be behind."""
    started = time.monotonic()
    manifest = outage.get("/telechargements.json")
    assert manifest.status_code == 200 and manifest.json()["store_version_known"] is False, manifest.text
    names = [f["name"] for f in manifest.json()["files"]]
    page, table = outage.get("/telechargements"), outage.get("/telechargements.csv")
    assert page.status_code == table.status_code == 200
    assert "peuvent ne pas tenir compte des dernières modifications" in page.text
    assert names and all(f'href="/telechargements/{n}"' in page.text and n in table.text for n in names)
    assert outage.get(f"/telechargements/{names[0]}").status_code == 200  # and each is served
    assert time.monotonic() - started < remote.ANSWER_WITHIN + 2


def test_the_downloads_page_never_built_answers_503_while_the_server_is_down(tmp_path):
    """With no files ever built and the server down, the page said « Les fichiers sont en préparation ;
    revenez dans environ None secondes » with a 200, though nothing was being prepared. Nothing to list:
    the page and its twins answer as every page needing the store does, a 503 with Retry-After."""
    settings = Settings(store=":memory:", secret_key="s" * 32, uploads_dir=str(tmp_path))
    with store_of("oxigraph", tmp_path) as (store, server), TestClient(create_app(settings, store)) as client:
        os.kill(server.process.pid, signal.SIGSTOP)
        time.sleep(remote.VERSION_TTL + 0.1)  # past the second a version read is trusted
        for path in ("/telechargements", "/telechargements.json", "/telechargements.csv"):
            r = client.get(path)
            assert r.status_code == 503 and r.headers["Retry-After"], (path, r.status_code, r.text[:300])
            assert "None" not in r.text and "en préparation" not in r.text, r.text


def test_a_page_says_in_french_alone_that_the_server_is_down(outage):
    """The French 503 page ended with the exception's English, « the SPARQL server at 127.0.0.1 is not
    answering ». A page says it in its language; JSON clients keep the message, for machines and logs."""
    page = outage.get("/id/projet/p", headers={"Accept": "text/html"})
    assert page.status_code == 503 and "La base de données ne répond pas" in page.text
    assert "not answering" not in page.text and "SPARQL server" not in page.text, page.text
    data = outage.get("/id/projet/p", headers={"Accept": "application/json"})
    assert data.status_code == 503 and "127.0.0.1 is not answering" in data.json()["message"], data.text
