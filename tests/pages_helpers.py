"""A real uvicorn server on 127.0.0.1 over a store holding the territories and the page fixtures
(tests/fixtures/pages/*.ttl), with one private graph that must never show."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from conftest import index_of, load_reference

from api.app import create_app
from graph.settings import Settings
from graph.store import GraphMeta, OxigraphStore
from loaders import rdf as rdf_loader

FIXTURES = Path(__file__).parent / "fixtures" / "pages"


def pages_store(base_iri: str, territory_triples: list) -> OxigraphStore:
    store = OxigraphStore(base_iri)
    load_reference(store, territory_triples)
    catalogue = rdf_loader.build(FIXTURES / "catalogue.ttl", store.minter, graph=store.minter.graph("essai"))
    for load in catalogue.graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    private = rdf_loader.build(
        FIXTURES / "private.ttl", store.minter, graph=store.minter.private_graph("essai")
    )
    for load in private.graphs:
        store.replace_graph(load.graph, load.triples, GraphMeta("privé", "private.ttl"))
    return store


INDEX_BUILT_WITHIN = 300.0  # seconds: an index build (seconds here) on a loaded machine, far from a hang


def wait_for_index(url: str, within: float = INDEX_BUILT_WITHIN) -> None:
    """Lists answer 503 until the index's first build ends (a page waits only so long for it, and the home
    and territory pages show without their figures meanwhile): a module's server is ready for its tests
    once a list answers, however loaded the machine."""
    deadline = time.monotonic() + within
    while (r := httpx.get(url + "/projets.json", timeout=60)).status_code == 503:
        assert time.monotonic() < deadline, f"the index was still being built after {within:g} s: {r.text}"
        time.sleep(0.2)


def wait_for_downloads(url: str, within: float = 300) -> dict:
    """The downloads are built in the background (the first visit begins it) and their manifest says
    ``"version": null`` until that build ends: tests that read the files wait for it, however loaded the
    machine, and get the manifest."""
    deadline = time.monotonic() + within
    while (manifest := httpx.get(url + "/telechargements.json", timeout=60).json())["version"] is None:
        assert time.monotonic() < deadline, f"the downloads were not built within {within:g} s: {manifest}"
        time.sleep(0.2)
    return manifest


@contextmanager
def serve(store: OxigraphStore, tmp_path: Path, **overrides: str) -> Iterator[str]:
    """``overrides``: other settings (e.g. ``cors_origins``)."""
    settings = Settings(
        store=":memory:",
        base_iri=store.minter.base,
        uploads_dir=str(tmp_path / "uploads"),
        secret_key="p" * 32,
        index_db=index_of(store, tmp_path),
        **overrides,
    )
    app = create_app(settings, store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        if not thread.is_alive():
            raise RuntimeError("the app did not start: its lifespan failed (see the log above)")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(60)  # the lifespan lets an index build under way finish (up to 10 s each)
