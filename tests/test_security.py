"""Findings of the attacker's probe (issue 19) that need a real `communs serve`: forwarded addresses,
updates reaching private graphs through relative IRIs, and text that reverses or hides what follows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sparql_helpers import BASE, PRIVATE, PUBLIC, SECRET, TOKEN, Server, request, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(
        tmp_path_factory.mktemp("security"), env_extra={"COMMUNS_SUBMIT_RATE": "2"}, vocabularies=True
    ) as srv:
        yield srv


def propose(srv: Server, forwarded: str, title: str = "Un guide") -> int:
    # A proposal that is stored: only those count against the limit.
    fields = {
        "titre": title,
        "resume": "Un résumé assez long.",
        "type": "guide",
        "nom": "Jo",
        "courriel": "jo@example.org",
        "url": "https://example.org/guide",
    }
    body = json.dumps(fields).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": forwarded}
    return request("POST", srv.url + "/api/contributions", body, headers)[0]


def test_a_forwarded_address_from_an_untrusted_client_is_not_believed(server: Server) -> None:
    """Three proposals from one connection's address, each claiming another: the third is over the
    limit of two (a spoofed header passed it when loopback clients were trusted)."""
    statuses = [propose(server, f"203.0.113.{i}") for i in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429, statuses


def test_a_forwarded_address_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    env = {"COMMUNS_SUBMIT_RATE": "2", "COMMUNS_TRUSTED_PROXIES": "127.0.0.1"}
    with serve(tmp_path, env_extra=env, vocabularies=True) as srv:
        statuses = [propose(srv, f"203.0.113.{i}") for i in range(3)]
    assert 429 not in statuses, statuses


def update(srv: Server, text: str) -> int:
    headers = {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"}
    return request("POST", srv.sparql, text.encode(), headers)[0]


def test_an_update_cannot_read_a_private_graph_named_by_the_protocol(server: Server) -> None:
    """``using-graph-uri`` (or ``using-named-graph-uri``) naming a private graph is refused: else an
    update could copy it into a public one."""
    copy = f"INSERT {{ GRAPH <{PUBLIC}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {TOKEN}"}
    for param in ("using-graph-uri", "using-named-graph-uri"):
        body = urlencode({"update": copy, param: PRIVATE}).encode()
        status, _, answer = request("POST", server.sparql, body, headers)
        assert status == 403 and b"not a public graph" in answer
    query = "?query=" + quote(f"ASK {{ GRAPH <{PUBLIC}> {{ ?s ?p {json.dumps(SECRET)} }} }}")
    status, _, answer = request(
        "GET", server.sparql + query, None, {"Accept": "application/sparql-results+json"}
    )
    assert status == 200 and json.loads(answer)["boolean"] is False


@pytest.mark.parametrize(
    "text",
    [
        f"BASE <{BASE}graph/> COPY <prive/essai-sparql> TO <{PUBLIC}>",
        f"BASE <{BASE}graph/> PREFIX p: <prive/> ADD p:essai-sparql TO <{PUBLIC}>",
        f"ADD <graph/prive/essai-sparql> TO <{PUBLIC}>",  # relative to the endpoint, <base>sparql
        f"BASE <{BASE}graph/> INSERT DATA {{ GRAPH <prive/essai-sparql> {{ <http://a> <http://b> 1 }} }}",
    ],
)
def test_updates_cannot_reach_a_private_graph_by_a_relative_iri(server: Server, text: str) -> None:
    assert update(server, text) == 403
    status, _, body = request(
        "GET", server.sparql + "?query=" + "SELECT%20*%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D", None, {}
    )
    assert status == 200 and SECRET.encode() not in body
    assert PRIVATE.encode() not in body
