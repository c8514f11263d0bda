"""``communs serve --processes 2``: a lane beside the main process on the same port (api/lane.py).

Every request below opens its own connection, which the kernel gives to either process; a response the
lane passed on from the main process says so (``Via``), so each check is repeated until both kinds have
been seen. Real processes, real sockets, a real store on disk.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlencode

import pytest
from contrib_helpers import csrf_of, form_data
from sparql_helpers import BASE, BULK, PROJECTS, SECRET, TOKEN, Server, descendants, request, serve

LOOKUP = f"SELECT ?p ?o WHERE {{ <{BASE}id/projet/essai-1> ?p ?o }}"
TRIES = 40  # fresh connections per check: both processes are seen with probability 1 - 2^-39


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("lanes"), extra=("--processes", "2")) as srv:
        deadline = time.monotonic() + 60
        while not any("via" in request("GET", srv.url + "/projets.json")[1] for _ in range(10)):
            assert time.monotonic() < deadline, "the lane never answered"
            time.sleep(0.5)
        yield srv


def lanes(srv: Server) -> list[int]:
    return [p for p in descendants(srv.process.pid) if b"api.lane" in _cmdline(p)]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def query(srv: Server, text: str, accept: str = "text/csv", timeout: float = 30):
    body = urlencode({"query": text}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    req = urllib.request.Request(srv.sparql, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()


def both(check: Callable[[], bool]) -> None:
    """Run ``check`` (True if the lane passed the request on) until both processes have answered."""
    seen = {check() for _ in range(TRIES)}
    assert seen == {True, False}, seen


def test_the_lane_answers_lookups_and_repeated_queries_while_the_main_process_is_paused(
    server: Server,
) -> None:
    """The lane answers one-pattern queries from the published snapshot, and queries it passed on once
    from what it kept, without the main process: with it stopped (SIGSTOP), they still answer on the
    lane's connections, the others wait."""
    counted = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a <http://schema.org/Project> } # kept"
    for _ in range(TRIES):  # the lane opens the snapshot at its first lookup, keeps the count it passed on
        query(server, LOOKUP)
        query(server, counted)
    os.kill(server.process.pid, signal.SIGSTOP)
    answered = {LOOKUP: 0, counted: 0}
    try:
        for _ in range(TRIES):
            for text in answered:
                try:
                    status, headers, body = query(server, text, timeout=0.5)
                except OSError:  # a connection of the paused main process
                    continue
                assert status == 200 and "via" not in headers, headers
                assert (
                    "Projet d'essai 1" in body.decode()
                    if text == LOOKUP
                    else body.split() == [b"n", b"%d" % PROJECTS]
                )
                answered[text] += 1
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert all(0 < n < TRIES for n in answered.values()), answered


def test_queries_the_lane_cannot_answer_go_to_the_main_process(server: Server) -> None:
    counted = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a <http://schema.org/Project> }"

    def check() -> bool:
        status, headers, body = query(server, counted)
        assert status == 200 and body.decode().split() == ["n", str(PROJECTS)]
        return "via" in headers

    both(check)
    # A large answer streams through the lane as it comes (60,000 rows, past the main process's prefetch).
    rows = 60_000
    text = f"SELECT ?a ?b WHERE {{ GRAPH <{BULK}> {{ ?a ?p ?x }} ?b ?q ?y }} LIMIT {rows}"
    sizes = set()
    for _ in range(6):
        status, headers, body = query(server, text)
        sizes.add(len(list(csv.reader(io.StringIO(body.decode())))))
    assert sizes == {rows + 1}


def test_a_write_is_seen_at_once_by_every_process(server: Server) -> None:
    subject = f"{BASE}id/projet/essai-ecrit-{time.monotonic_ns()}"
    update = (
        f'INSERT DATA {{ GRAPH <{BASE}graph/essai-sparql> {{ <{subject}> <http://example.org/n> "vu" }} }}'
    )
    headers = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
    assert request("POST", server.sparql, update.encode(), headers)[0] == 204
    for _ in range(TRIES):
        status, _, body = query(server, f"SELECT ?o WHERE {{ <{subject}> ?p ?o }}")
        assert status == 200 and body.decode().split() == ["o", "vu"]


def test_private_data_never_shows_through_the_lane(server: Server) -> None:
    for text in ("SELECT * WHERE { ?s ?p ?o }", "SELECT ?o WHERE { ?s <http://schema.org/email> ?o }"):
        for _ in range(10):
            status, _, body = query(server, text)
            assert status == 200 and SECRET.encode() not in body


def test_pages_forms_and_cookies_pass_through_the_lane(server: Server) -> None:
    def page() -> bool:
        status, headers, body = request("GET", server.url + "/projets.json")
        assert status == 200 and json.loads(body)
        return "via" in headers

    both(page)
    assert request("GET", server.url + "/pas-de-page")[0] == 404
    assert '"GET /projets.json HTTP/1.1" 200' in (server.store.parent / "server.log").read_text()
    # The contribution form: its CSRF cookie and token make the round trip through the lane.
    for _ in range(TRIES):
        with urllib.request.urlopen(server.url + "/ressources/proposer", timeout=30) as resp:
            if resp.headers.get("via"):
                cookie = resp.headers["set-cookie"].split(";")[0]
                token = csrf_of(resp.read().decode())
                break
    else:
        pytest.fail("the lane never passed the form on")
    # Filled honeypot: refused with 400 once the token is checked, before anything is counted or written.
    data = urlencode(form_data(csrf_token=token, site_web="http://spam.example")).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    seen = set()
    for _ in range(TRIES):
        status, headers, body = request(
            "POST", server.url + "/ressources/proposer", data, {**form, "Cookie": cookie}
        )
        assert status == 400 and "refusée" in body.decode(), (status, body)  # the token passed: not a 403
        seen.add("via" in headers)
        forged, _, _ = request("POST", server.url + "/ressources/proposer", data, form)
        assert forged == 403, body  # without the cookie the token is refused, whichever process answers
    assert seen == {True, False}


def test_each_request_is_logged_once_by_the_process_that_answered_it(server: Server) -> None:
    """A request the lane passed on is logged by the main process only, with the client's address."""
    marker = f"logged-once-{time.monotonic_ns()}"
    lookup = quote(LOOKUP)
    seen = set()
    for i in range(TRIES):
        target = f"/projets.json?{marker}={i}" if i % 2 else f"/sparql?query={lookup}&{marker}={i}"
        status, headers, _ = request("GET", server.url + target)
        assert status == 200
        seen.add("via" in headers)
    assert seen == {True, False}  # some went through the lane to the main process
    log = server.store.parent / "server.log"
    deadline = time.monotonic() + 10
    while (lines := [x for x in log.read_text().splitlines() if marker in x]) and len(lines) < TRIES:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(lines) == TRIES, lines
    assert all("127.0.0.1:" in x for x in lines)


def test_a_dead_lane_is_started_again_and_stops_with_the_server_no_access_log_in_both(tmp_path) -> None:
    with serve(tmp_path, extra=("--processes", "2", "--no-access-log")) as srv:
        deadline = time.monotonic() + 60
        while not lanes(srv):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        (first,) = lanes(srv)
        os.kill(first, signal.SIGKILL)
        while not [p for p in lanes(srv) if p != first]:
            assert time.monotonic() < deadline, "the lane was not started again"
            time.sleep(0.2)
        url = srv.sparql + "?query=" + quote(LOOKUP)
        assert all(request("GET", url, headers={"Accept": "text/csv"})[0] == 200 for _ in range(10))
        running = lanes(srv)
        srv.process.terminate()
        srv.process.wait(20)
    assert not [p for p in running if _cmdline(p)], "a lane outlived the server"
    assert "/sparql?query=" not in (tmp_path / "server.log").read_text()  # --no-access-log, in both processes
