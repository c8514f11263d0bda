"""W3C SPARQL 1.1 conformance of our endpoint, judged over HTTP against a real ``communs serve``.

The test data goes into the store before the server starts: each data file becomes a named graph
named by its file IRI, and each query test picks its dataset with ``default-graph-uri`` /
``named-graph-uri`` (so our union-of-public-graphs default never mixes tests). Failures that come from
pyoxigraph itself are listed, with the reason, in ``tests/w3c/known_failures.txt``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sparql_helpers import stop_process
from w3c import SuiteReport, dataset_graphs, format_reports, load_tests, read_known_failures, run_all
from w3c.results import Solutions, compare, literal
from w3c.runner import W3C_DIR, read_triples

from graph.settings import DEFAULT_BASE_IRI
from graph.store import OxigraphStore

TOKEN = "w3c-test-token"
KNOWN = read_known_failures()
# The issue asks for ≥ 97 %. pyoxigraph 0.5.13 alone fails 10 of the 328 query tests; the endpoint makes
# GROUP_CONCAT a simple literal again (api.sparql.as_sparql11), which leaves 8 (320/328 = 97.56 %, see
# known_failures.txt), and no other failure is let through.
QUERY_PASS_RATE = 0.97

pytestmark = pytest.mark.skipif(not W3C_DIR.is_dir(), reason=f"W3C test suite not found at {W3C_DIR}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"communs serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url + "/", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"communs serve did not answer within 60 s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SuiteReport]]:
    tmp = tmp_path_factory.mktemp("w3c")
    store = OxigraphStore(DEFAULT_BASE_IRI, tmp / "store")
    for name, path in dataset_graphs(load_tests(["query", "json-res", "csv-tsv-res", "protocol"])).items():
        store.replace_graph(name, read_triples(path))
    store.close()
    port = _free_port()
    env = {
        **os.environ,
        # The service description names the endpoint by the configured base (never the Host header): the
        # suite's check that it names the URL queried holds where the base is the server's own address.
        "COMMUNS_BASE_IRI": f"http://127.0.0.1:{port}/",
        "COMMUNS_UPDATE_TOKEN": TOKEN,
        "COMMUNS_SECRET_KEY": "w" * 32,
        "COMMUNS_UPLOADS_DIR": str(tmp / "uploads"),
        "COMMUNS_ACCOUNTS_DB": str(tmp / "comptes.sqlite"),
    }
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--store", str(tmp / "store"), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parent.parent,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        results = run_all(url, token=TOKEN, load=False)
        print(format_reports(results, KNOWN))
        yield {r.name: r for r in results}
    finally:
        stop_process(proc)


def _unexpected(report: SuiteReport) -> list[str]:
    return [f"{o.test.id}: {o.reason}" for o in report.failed if o.test.id not in KNOWN]


@pytest.mark.parametrize("suite", ["protocol", "graph-store-protocol", "service-description"])
def test_protocol_suites_all_pass(reports: dict[str, SuiteReport], suite: str) -> None:
    report = reports[suite]
    assert report.run, f"{suite}: no test ran"
    assert [f"{o.test.id}: {o.reason}" for o in report.failed] == []


@pytest.mark.parametrize("suite", ["json-res", "csv-tsv-res"])
def test_result_formats_pass_except_engine_limits(reports: dict[str, SuiteReport], suite: str) -> None:
    assert reports[suite].run
    assert _unexpected(reports[suite]) == []


def test_query_evaluation(reports: dict[str, SuiteReport]) -> None:
    report = reports["query"]
    assert len(report.run) > 300
    assert _unexpected(report) == []
    assert report.passed / len(report.run) >= QUERY_PASS_RATE


# --- the comparison itself must be able to fail -------------------------------------------------
def _rows(*rows: tuple) -> Solutions:
    return Solutions(["x", "y"], [dict(zip(["x", "y"], r, strict=True)) for r in rows])


def test_blank_nodes_match_up_to_renaming_only() -> None:
    a, b = ("b", "a"), ("b", "b")
    one = literal("1", "http://www.w3.org/2001/XMLSchema#integer")
    assert compare(_rows((a, one), (b, one)), _rows((b, one), (a, one)), False) is None
    # the same blank node twice cannot stand for two different ones
    assert compare(_rows((a, one), (b, one)), _rows((a, one), (a, one)), False) is not None
    graph1 = {(a, ("u", "p"), b), (b, ("u", "p"), a)}
    graph2 = {(a, ("u", "p"), b), (b, ("u", "p"), b)}
    assert compare(graph1, {(b, ("u", "p"), a), (a, ("u", "p"), b)}, False) is None
    assert compare(graph1, graph2, False) is not None


def test_order_counts_only_when_asked() -> None:
    r1, r2 = (("u", "s1"), ("l", "x", None, None)), (("u", "s2"), ("l", "y", None, None))
    assert compare(_rows(r1, r2), _rows(r2, r1), False) is None
    assert compare(_rows(r1, r2), _rows(r2, r1), True) == "same solutions in a different order"
    # numbers compare by value, other literals by their exact form
    dec = "http://www.w3.org/2001/XMLSchema#decimal"
    assert literal("1.0", dec) == literal("1", dec)
    assert literal("a", None, "EN") == literal("a", None, "en") != literal("A", None, "en")
