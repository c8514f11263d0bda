"""Fixtures shared by the whole suite: real stores with the real territorial reference."""

from __future__ import annotations

import shutil
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

from graph.settings import DEFAULT_BASE_IRI
from graph.store import OxigraphStore
from loaders import places, territories
from loaders import rdf as rdf_loader

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's, which Playwright drives
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def record_score(request: pytest.FixtureRequest):
    """``record_score(line)``: a measured score (precision, recall, accuracy) kept with the test's report
    and printed after the run, whichever test process ran the test (what a test prints there is lost)."""
    return lambda line: request.node.user_properties.append(("score", line))


def pytest_terminal_summary(terminalreporter) -> None:
    reports = [r for kind in ("passed", "failed") for r in terminalreporter.stats.get(kind, [])]
    lines = [v for r in reports for k, v in r.user_properties if k == "score"]
    if lines:
        terminalreporter.section("scores")
        for line in sorted(lines):
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def base_iri() -> str:
    return DEFAULT_BASE_IRI


@pytest.fixture(scope="session")
def territory_triples(base_iri: str) -> list:
    """Built once per session: the whole country, ~340k triples."""
    store = OxigraphStore(base_iri)
    return territories.build(territories.REFERENCE_DIR, store.minter).graphs[0].triples


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Polls ``condition`` until it holds, for ``timeout`` seconds at most (a deadline, however long each
    try takes), then fails the test naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}, in vain")
        time.sleep(0.1)


# Each store's lists and search index, in one file its apps share, as a server's restarts share the one
# beside its store: an app started on a module's country-scale store finds it indexed, instead of indexing
# it anew (in a temporary file) in the background of every test.
_indexes: weakref.WeakKeyDictionary[OxigraphStore, str] = weakref.WeakKeyDictionary()


def index_of(store: OxigraphStore, tmp_path: Path) -> str:
    """The ``index_db`` setting of an app on ``store``: its first app's test folder keeps the file."""
    return _indexes.setdefault(store, str(tmp_path / "index.sqlite"))


def load_reference(store: OxigraphStore, territory_triples: list) -> OxigraphStore:
    """What every deployment has before any source: territories, ontology, shapes and vocabularies."""
    store.replace_graph(store.minter.graph(territories.GRAPH_NAME), territory_triples, territories.META)
    for load in rdf_loader.ontology(store.minter).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    return store


def load_bundled_places(store: OxigraphStore) -> OxigraphStore:
    """The two bundled lists of places (France Services, tiers-lieux 2019), through their mappings."""
    for folder, csv_name, mapping in (
        ("france-services", "liste-fs-20240801.csv.gz", "france-services.toml"),
        ("tiers-lieux-2019", "CGET_TiersLieux_2019.csv.gz", "tiers-lieux-2019.toml"),
    ):
        result = places.build(DATA / folder / csv_name, DATA / "mappings" / mapping, store.minter, store)
        for load in result.graphs:
            store.replace_graph(load.graph, load.triples, load.meta)
    return store


@pytest.fixture
def territory_store(base_iri: str, territory_triples: list) -> OxigraphStore:
    """A fresh in-memory store holding the territories graph."""
    store = OxigraphStore(base_iri)
    store.replace_graph(store.minter.graph(territories.GRAPH_NAME), territory_triples, territories.META)
    return store


@pytest.fixture(scope="module")
def browser():
    """One browser process per module: each test opens its own page (its own context, cookies and
    settings), which costs little, where a browser's start costs seconds."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (make system-deps)")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
