"""Every route of the app, walked with malformed values for each path segment and query parameter, on a
real uvicorn: no answer is a 5xx (a 503 of something still being prepared, with Retry-After, excepted).
Plus the security headers every answer carries and the bodies that once crashed the server."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from pages_helpers import pages_store, serve

from api.app import create_app
from graph.settings import DEFAULT_BASE_IRI, Settings
from graph.store import OxigraphStore
from loaders import territories

MALFORMED = [
    "abc",
    "%00",
    "%FF",
    "%ud800",
    "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
    "%C3%A9t%C3%A9",
    "%F0%9F%99%82",
    "%E2%80%AE",  # right-to-left override
    "x" * 3000,
    "-1",
    "0",
    "99999999999999999999",
    "%2e%2e",
    "",
]
# A valid value for each path parameter, so that query parameters reach the route's own code.
VALID = {
    "kind": "commune",
    "key": "73065",
    "rid": "inconnue",
    "name": "projets.csv",
    "token": "x",
    "path": "x",
}
# For query parameters, the values that differ in kind (number, text, encoding, size).
MALFORMED_VALUES = ["abc", "%00", "%FF", "-1", "99999999999999999999", "%E2%80%AE", "x" * 3000]
PARAMETERS = [
    "limit",
    "page",
    "sous_page",
    "entrants",
    "q",
    "format",
    "lang",
    "tri",
    "carte",
    "graph",
    "query",
]


def routes() -> list[tuple[str, list[str]]]:
    app = create_app(Settings(store=":memory:", secret_key="p" * 32))

    def flat(found):
        for r in found:
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):  # FastAPI's included routers
                yield from flat(r.original_router.routes)

    return [(r.path, sorted(r.methods - {"HEAD", "OPTIONS"})) for r in flat(app.routes)]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """The page fixtures and a few communes, not the whole country: thousands of requests are walked."""
    store = OxigraphStore(DEFAULT_BASE_IRI)
    build = territories.build(territories.REFERENCE_DIR, store.minter)
    few = {"73065", "73011", "38185"}
    triples = [t for t in build.graphs[0].triples if not _is_commune(t) or t.subject.value[-5:] in few]
    store = pages_store(DEFAULT_BASE_IRI, triples)
    with serve(store, tmp_path_factory.mktemp("malformed")) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _is_commune(t) -> bool:
    return "/id/commune/" in t.subject.value


def send(site, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection(*site, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def crashed(status: int, headers: dict) -> bool:
    return status >= 500 and not (status == 503 and "retry-after" in headers)


def test_no_route_answers_5xx_to_malformed_paths_or_parameters(site) -> None:
    found = routes()
    assert len(found) > 50
    crashes = []
    for path, methods in found:
        for bad in MALFORMED:
            for method in methods:
                target = re.sub(r"{\w+(?::\w+)?}", bad, path)
                body = b"" if method in ("POST", "PUT") else None
                for accept in ("text/html", "text/turtle", "application/json")[: 3 if method == "GET" else 1]:
                    status, headers, _ = send(site, method, target, body, {"Accept": accept})
                    if crashed(status, headers):
                        crashes.append((status, method, target[:80], accept))
            if "GET" in methods and bad in MALFORMED_VALUES:
                valid = re.sub(r"{(\w+)(?::\w+)?}", lambda m: VALID.get(m[1], "x"), path)
                for name in PARAMETERS:
                    status, headers, _ = send(
                        site, "GET", f"{valid}?{name}={bad}", None, {"Accept": "text/html"}
                    )
                    if crashed(status, headers):
                        crashes.append((status, "GET", valid, name, bad[:20]))
    assert not crashes, crashes[:20]


def test_the_bodies_that_crashed_the_server_get_a_4xx(site) -> None:
    deep = ("[" * 5000 + "]" * 5000).encode()
    status, _, _ = send(site, "POST", "/api/contributions", deep, {"Content-Type": "application/json"})
    assert 400 <= status < 500
    status, _, _ = send(
        site, "GET", "/id/commune/%C3%A9t%C3%A9", None, {"Accept": "text/turtle"}
    )  # a non-Latin-1 IRI in the Link header
    assert status == 404
    title = json.dumps({"titre": "Guide \ud800", "resume": "x" * 30, "type": "guide"}).encode()
    status, _, _ = send(site, "POST", "/api/contributions", title, {"Content-Type": "application/json"})
    assert 400 <= status < 500


def test_every_answer_carries_the_security_headers(site) -> None:
    status, headers, _ = send(site, "GET", "/", None, {"Accept": "text/html"})
    assert status == 200
    policy = headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    )
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    for path in ("/sparql?query=ASK%7B%7D", "/projets.json", "/id/commune/73065.ttl", "/%00"):
        _, headers, _ = send(site, "GET", path)
        assert headers["x-content-type-options"] == "nosniff", path


def test_a_query_parameter_with_a_control_byte_or_not_utf8_is_a_400_naming_it(site) -> None:
    """No route echoes a NUL into a page or reads U+FFFD for a byte: a 400 names the parameter, a page for
    a browser, the named queries' documented problem (JSON) for other clients."""
    for path, name, why in [
        ("/recherche?q=x%00y", "'q'", "control"),
        ("/recherche?q=%FF", "'q'", "UTF-8"),
        ("/projets.json?tri=nom&theme=a%1Bb", "'theme'", "control"),
        ("/id/commune/73065?lang=fr%C2%85", "'lang'", "control"),
        ("/recherche?x%00=1", "'x" + "\\" * 2 + "x00'", "control"),  # JSON doubles the repr's backslash
        ("/api/recherche-libelle?texte=a%07", "'texte'", "control"),
    ]:
        for method in ("GET", "POST") if path.startswith("/api/") else ("GET",):
            status, headers, body = send(site, method, path, b"" if method == "POST" else None)
            assert status == 400 and name in body.decode() and why in body.decode(), (path, body)
            assert b"\x00" not in body and headers["content-type"].startswith("application/json")
    status, headers, body = send(site, "GET", "/recherche?q=x%00y", None, {"Accept": "text/html"})
    assert status == 400 and headers["content-type"].startswith("text/html") and b"\x00" not in body
    # In the path: the JSON API's documented problem (JSON) under /api/, plain text elsewhere.
    for path, media in (
        ("/api/contributions/%C2%9A/supprimer", "application/json"),
        ("/x%C2%9A", "text/plain"),
    ):
        status, headers, body = send(site, "POST" if "api" in path else "GET", path, b"{}", {})
        assert status == 400 and headers["content-type"].startswith(media) and b"control" in body, (
            path,
            body,
        )
    # What people do send still reads: accents, line breaks of a SPARQL query, a + for a space.
    for path in ("/recherche?q=%C3%A9t%C3%A9+saison", "/sparql?query=ASK%0D%0A%7B%09%7D"):
        status, _, _ = send(site, "GET", path, None, {"Accept": "*/*"})
        assert status == 200, path
