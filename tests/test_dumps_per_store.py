"""Each store has its own downloads folder: two embedded stores side by side in one folder (``var/store`` and
``var/store2``) once shared ``var/dumps``, so whichever built last set the other's downloads (its version,
its triple count, its N-Quads file; a per-graph file of its catalogue answered 404)."""

from __future__ import annotations

import fcntl
import gzip
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import wait_until
from fastapi.testclient import TestClient

from api.app import create_app
from graph import dumps
from graph.dumps import public_counts
from graph.settings import Settings
from graph.store import GraphMeta, OxigraphStore

EX = "http://example.org/"


def _store(base_iri: str, path: Path, name: str, triples: int, writes: int) -> OxigraphStore:
    """A store on disk with one public graph of ``triples`` triples marked with its name, written
    ``writes`` times (so that the two stores' versions differ)."""
    store = OxigraphStore(base_iri, path)
    note, mark = ox.NamedNode(EX + "note"), ox.Literal(f"du {name} magasin")
    rows = [ox.Triple(ox.NamedNode(f"{EX}{name}/{i}"), note, mark) for i in range(triples)]
    for _ in range(writes):
        store.replace_graph(store.minter.graph(name), rows, GraphMeta(name, f"{name}.ttl"))
    return store


def _built(client: TestClient, version: int) -> None:
    """Waits for the downloads of ``version`` (the first request begins the build)."""
    wait_until(
        lambda: client.get("/telechargements.json").json()["version"] == version,
        300,
        f"the downloads of version {version}",
    )


def test_two_stores_in_one_folder_each_serve_their_own_downloads(base_iri, tmp_path):
    first = _store(base_iri, tmp_path / "store", "premier", 3, writes=1)
    second = _store(base_iri, tmp_path / "store2", "second", 5, writes=3)
    assert first.version != second.version
    stores = {"premier": first, "second": second}
    apps = {
        name: create_app(
            Settings(store=str(store.path), base_iri=base_iri, secret_key="d" * 32, dumps_dir=None), store
        )
        for name, store in stores.items()
    }
    try:
        with TestClient(apps["premier"]) as one, TestClient(apps["second"]) as two:
            clients = {"premier": one, "second": two}
            # Built one after the other: the second's must not replace the first's.
            for name, client in clients.items():
                _built(client, stores[name].version)
            for name, client in clients.items():
                store, other = stores[name], "second" if name == "premier" else "premier"
                manifest = client.get("/telechargements.json").json()
                assert manifest["version"] == store.version
                assert manifest["triples"] == sum(public_counts(store).values())
                nq = client.get("/telechargements/communs-services.nq.gz")
                assert nq.status_code == 200 and nq.headers["Dataset-Version"] == str(store.version)
                text = gzip.decompress(nq.content).decode()
                assert f"du {name} magasin" in text and f"du {other} magasin" not in text
                ttl = client.get(f"/telechargements/graphe-{name}.ttl")
                assert ttl.status_code == 200 and f"du {name} magasin" in ttl.text
                assert f"graphe-{name}.ttl" in client.get("/catalogue.ttl").text
            # Named after their stores, like the index or the accounts beside them.
            assert (tmp_path / "store.dumps" / "current.json").is_file()
            assert (tmp_path / "store2.dumps" / "current.json").is_file()
            assert not (tmp_path / "dumps").exists()
    finally:
        first.close()
        second.close()


def test_the_downloads_folder_is_named_after_the_store():
    assert Settings(store="var/store", dumps_dir=None).dumps_path() == Path("var/store.dumps")
    assert Settings(store="var/store", dumps_dir="/srv/dl").dumps_path() == Path("/srv/dl")
    # A store in memory: a temporary folder (api/downloads.py).
    assert Settings(store=":memory:", dumps_dir=None).dumps_path() is None
    # A remote store's, like its index, after its location: two servers never share either.
    a, b = (Settings(store=f"sparql+http://{h}/query", dumps_dir=None, index_db=None) for h in "ab")
    assert a.dumps_path() != b.dumps_path() and a.dumps_path().parent == Path("var")
    index = a.index_path().name.removeprefix("index-").removesuffix(".sqlite")
    assert a.dumps_path().name == f"dumps-{index}"


def test_a_build_deletes_the_folders_killed_builds_left(base_iri, tmp_path):
    """A build killed half-way (the server, or its child process) left ``.v<version>-<pid>-<thread>.tmp``
    in the downloads folder, deleted by a later build only once untouched for an hour. A build that no
    other build runs beside deletes them all at once; one beside another build (of another process sharing
    the folder, which holds the lock while it writes) leaves them."""
    store = _store(base_iri, tmp_path / "store", "premier", 3, writes=1)
    folder = tmp_path / "store.dumps"
    left = [folder / ".v1-123-456.tmp", folder / ".v2-789-1.tmp"]
    for tmp in left:
        (tmp / "data-inclusion").mkdir(parents=True)
        (tmp / "communs-services.nq.gz").write_bytes(b"half")
    try:
        with open(folder / ".building", "wb") as other:  # another process's build under way
            fcntl.flock(other, fcntl.LOCK_SH)
            assert dumps.Dumps(store, folder).build()["version"] == store.version
            assert all(tmp.exists() for tmp in left)
        assert dumps.Dumps(store, folder).build()["version"] == store.version
        assert not any(folder.glob(".v*.tmp")), sorted(p.name for p in folder.iterdir())
    finally:
        store.close()


def test_while_a_build_runs_the_status_names_the_version_it_reads_and_a_sensible_wait(
    base_iri, tmp_path, monkeypatch
):
    """Two acceptances a few seconds apart: ``preparing_version`` named the second's version while the build
    under way read the first's (the files then delivered), and ``Retry-After``, counted down to 1, stayed
    at 1 for as long as that build ran past the last one's length."""
    store = OxigraphStore(base_iri)  # in memory: the build runs in this process, where it can be held
    write = _writer(store)
    write()
    folder = dumps.Dumps(store, tmp_path / "dumps")
    folder.build()
    started, release = threading.Event(), threading.Event()
    real = dumps.build

    def held(*args: object) -> dict:
        started.set()
        assert release.wait(120)
        return real(*args)

    monkeypatch.setattr(dumps, "SETTLE", 0.0)
    monkeypatch.setattr(dumps, "build", held)
    try:
        write()
        folder.changed()
        assert started.wait(120)
        read = store.version
        write()  # the second acceptance, during the build of the first
        assert store.version > read and folder.pending() == read
        folder._took, folder._begun = 5.0, time.monotonic() - 60  # a build running well past the last's
        assert folder.retry_after() == 5
        release.set()
        wait_until(
            lambda: folder.manifest()["version"] == store.version, 120, "the build of the second acceptance"
        )
        assert folder.manifest()["version"] == store.version and folder.pending() is None
    finally:
        release.set()
        store.close()


def test_before_any_build_is_timed_the_page_says_a_few_minutes_not_a_guessed_figure(base_iri, monkeypatch):
    """The first build said « revenez dans environ 10 secondes » (``RETRY_AFTER``, no measure) and took
    over 2 minutes: until a build is timed the page gives no figure (``Retry-After`` must be one)."""
    store = OxigraphStore(base_iri)
    _writer(store)()
    monkeypatch.setattr(dumps, "SETTLE", 3600.0)  # the first build held back, under way
    settings = Settings(store=":memory:", base_iri=base_iri, secret_key="d" * 32, dumps_dir=None)
    with TestClient(create_app(settings, store)) as client:
        page = client.get("/telechargements")
        assert "Les fichiers sont en préparation ; revenez dans quelques minutes." in page.text, page.text
        assert page.headers["retry-after"] == str(dumps.RETRY_AFTER)
        assert "come back in a few minutes." in client.get("/telechargements", params={"lang": "en"}).text


def _writer(store: OxigraphStore) -> Callable[[], None]:
    """A write to one public graph, another each time (the store's version moves on)."""
    count = iter(range(1_000_000))

    def write() -> None:
        n = next(count)
        rows = [ox.Triple(ox.NamedNode(f"{EX}n/{n}"), ox.NamedNode(EX + "note"), ox.Literal(str(n)))]
        store.replace_graph(store.minter.graph("notes"), rows, GraphMeta("notes", "notes.ttl"))

    return write


@pytest.mark.parametrize("moment", ["settling", "writing"])
def test_stopping_the_app_during_a_build_leaves_no_temporary_folder(base_iri, moment):
    """A store in memory has its downloads in a temporary folder, removed when the app stops: a build that
    was settling made it again and wrote a whole build there, one that was writing went on writing there,
    and /tmp kept them."""
    store = OxigraphStore(base_iri)
    note = ox.NamedNode(EX + "note")
    rows = [ox.Triple(ox.NamedNode(f"{EX}r/{i}"), note, ox.Literal(f"note {i}")) for i in range(100_000)]
    store.replace_graph(store.minter.graph("gros"), rows, GraphMeta("gros", "gros.ttl"))
    settings = Settings(store=":memory:", base_iri=base_iri, secret_key="d" * 32, dumps_dir=None)
    app = create_app(settings, store)
    with TestClient(app) as client:
        folder = app.state.dumps.directory
        assert client.get("/telechargements.json").json()["version"] is None  # the first build begins
        deadline = time.monotonic() + 60
        while moment == "writing" and not any(folder.glob(".v*.tmp/*")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert moment == "settling" or any(folder.glob(".v*.tmp/*")), "the build never began writing"
    for thread in threading.enumerate():  # a build the stop did not wait for ends here
        if thread.name == "dumps":
            thread.join(120)
    assert not folder.exists(), sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    store.close()


def test_closing_waits_for_a_long_build_no_longer_than_close_wait(base_iri, tmp_path, monkeypatch):
    """close() joined the build under way without a timeout: the app's stop could wait minutes for a big
    build, where the search refresh beside it is given 10 s."""
    store = OxigraphStore(base_iri)
    _writer(store)()
    folder = dumps.Dumps(store, tmp_path / "dumps")
    started, release = threading.Event(), threading.Event()

    def held(*args: object) -> dict:
        started.set()
        assert release.wait(120)
        return {}

    monkeypatch.setattr(dumps, "SETTLE", 0.0)
    monkeypatch.setattr(dumps, "CLOSE_WAIT", 0.2)
    monkeypatch.setattr(dumps, "build", held)
    try:
        folder.ensure()
        assert started.wait(120)
        begun = time.monotonic()
        folder.close()
        assert time.monotonic() - begun < 5
    finally:
        release.set()
        store.close()


def test_stopping_the_app_waits_for_a_build_of_a_store_on_disk(base_iri, tmp_path):
    """Only a store in memory's stop waited for the build under way: a store on disk's stop left it
    writing its temporary folder (in a child process), half-built if the server then exited."""
    store = OxigraphStore(base_iri, tmp_path / "store")
    note = ox.NamedNode(EX + "note")
    rows = [ox.Triple(ox.NamedNode(f"{EX}r/{i}"), note, ox.Literal(f"note {i}")) for i in range(20_000)]
    store.replace_graph(store.minter.graph("gros"), rows, GraphMeta("gros", "gros.ttl"))
    settings = Settings(store=str(store.path), base_iri=base_iri, secret_key="d" * 32, dumps_dir=None)
    app = create_app(settings, store)
    try:
        with TestClient(app) as client:
            folder = app.state.dumps.directory
            assert client.get("/telechargements.json").json()["version"] is None  # the first build begins
            deadline = time.monotonic() + 60
            while not any(folder.glob(".v*.tmp/*")) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert any(folder.glob(".v*.tmp/*")), "the build never began writing"
        assert not any(folder.glob(".v*.tmp")), sorted(p.name for p in folder.iterdir())
        assert app.state.dumps.manifest()["version"] == store.version
    finally:
        for thread in threading.enumerate():  # a build the stop did not wait for ends here
            if thread.name == "dumps":
                thread.join(120)
        store.close()
