"""One negotiation for every route that picks a format (api/conneg.py over graph/formats.py), through a
real server: the same Accept header or format name gets the same decision on the resource pages, the
catalogue and VoID, the ontology, the SPARQL endpoint and Graph Store, the named queries and the dumps;
and the CLI's ``--format`` resolves names as ``?format=`` does."""

from __future__ import annotations

import argparse
import csv
import faulthandler
import gc
import io
import json
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from pages_helpers import pages_store, serve

from api import conneg
from api.cli import QUERY_FORMATS, format_option
from graph import formats

BASE = "https://data.adrets-asso.fr/"
RESOURCE = "/id/projet/tremplin-saison"
DESCRIBE = "/sparql?query=" + quote(f"DESCRIBE <{BASE}{RESOURCE[1:]}>")
SELECT = "/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
# Every route that describes something as RDF; the first five are pages too.
PAGES = [RESOURCE, "/catalogue", "/.well-known/void", "/def", "/sparql"]
# A named graph: /store?default is the whole public dataset, as SPARQL's default graph.
RDF_ROUTES = [*PAGES, DESCRIBE, "/store?graph=" + quote(BASE + "graph/essai")]
ROWS = "/api/projets-par-theme"
EVERY_ROUTE = [*RDF_ROUTES, SELECT, ROWS, "/telechargements"]
NT = "application/n-triples"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture(scope="module")
def url(tmp_path_factory, territory_triples):
    # A loaded machine's big JSON-LD answer takes longer than a public query's default 30 s.
    with serve(
        pages_store(BASE, territory_triples), tmp_path_factory.mktemp("formats"), query_timeout="300"
    ) as address:
        yield address


def get(url: str, path: str, accept: str | None = None) -> httpx.Response:
    return httpx.get(url + path, headers={"Accept": accept} if accept else {}, timeout=30)


def media(r: httpx.Response) -> str:
    return r.headers["content-type"].split(";")[0]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples, application/ld+json;q=0.9", "application/n-triples"),
        ("application/rdf+xml;q=0.9, text/html;q=0.2", "application/rdf+xml"),
        ("text/n3", "text/turtle"),  # Turtle is N3's RDF subset
    ],
)
def test_an_rdf_accept_gets_the_same_format_on_every_rdf_route(url, accept, expected) -> None:
    for path in RDF_ROUTES:
        r = get(url, path, accept)
        assert (r.status_code, media(r)) == (200, expected), (path, r.text[:200])
        assert "Accept" in r.headers["vary"], path


def test_browsers_get_pages_and_each_route_its_default_on_a_tie(url) -> None:
    for path in [*PAGES, "/telechargements"]:
        assert media(get(url, path, BROWSER)) == "text/html", path
    defaults = {
        RESOURCE: "text/html",
        "/catalogue": "text/html",
        "/def": "text/html",
        "/sparql": "text/html",
        "/telechargements": "text/html",
        "/.well-known/void": "text/turtle",
        DESCRIBE: "text/turtle",
        SELECT: "application/sparql-results+json",
        ROWS: "application/json",
    }
    for accept in (None, "*/*", "this is not a media range"):  # no header, or one we cannot read
        for path, expected in defaults.items():
            r = get(url, path, accept)
            assert (r.status_code, media(r)) == (200, expected), (path, accept)


def test_a_browser_on_the_graph_store_gets_what_the_graphs_iri_gives_it(url) -> None:
    """A browser's Accept names application/xml (RDF/XML) after text/html: on /store?graph=… it got RDF/XML,
    on /graph/… the catalogue. RDF clients keep what they ask for, and Turtle on a tie."""
    graph = BASE + "graph/essai"
    for path in ("/store?graph=" + quote(graph), "/store?default", "/" + graph.removeprefix(BASE)):
        r = get(url, path, BROWSER)
        assert r.status_code == 303 and r.headers["location"] == "/catalogue", path
        assert r.headers["vary"] == "Accept", path
    store = "/store?graph=" + quote(graph)
    for accept, expected in (
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        ("application/xml", "application/rdf+xml"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("text/html;q=0.5, application/rdf+xml", "application/rdf+xml"),
    ):
        r = get(url, store, accept)
        assert (r.status_code, media(r)) == (200, expected), accept


def _running(function, scratch: Path) -> bool:
    """Whether ``function`` is running in some thread of this process (the test server's are), read in the
    stacks faulthandler writes: frames held here (``sys._current_frames()``) kept their locals, a pyoxigraph
    result among them, which the collector then dropped on another thread than theirs (pyo3 refuses: « … is
    unsendable, but is being dropped on another thread »)."""
    with scratch.open("w+") as out:
        faulthandler.dump_traceback(out, all_threads=True)
        out.seek(0)
        code = function.__code__
        line = rf'File "{re.escape(code.co_filename)}", line \d+ in {code.co_name}$'
        return re.search(line, out.read(), re.M) is not None


def test_a_big_json_ld_answer_is_written_while_the_server_answers_others(url, monkeypatch, tmp_path) -> None:
    """JSON-LD was compacted inside the async handler: while a big answer was written, the server answered
    nobody. It is written where every other format is (the query's worker or thread): another request is
    answered while it is still being written. Watching it keeps nothing of the server's threads."""
    unraisable: list = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    side = "{{ SELECT DISTINCT ?{0} WHERE {{ ?{0} ?p{0} ?o{0} }} }}"  # every subject
    big = f"CONSTRUCT {{ ?a <urn:x:near> ?b }} WHERE {{ {side.format('a')} {side.format('b')} }} LIMIT 200000"
    answer: list[httpx.Response] = []
    params = {"query": big}
    jsonld = {"Accept": "application/ld+json"}
    big_one = threading.Thread(
        target=lambda: answer.append(httpx.get(url + "/sparql", params=params, headers=jsonld, timeout=300))
    )
    scratch = tmp_path / "stacks.txt"
    gc.disable()  # whatever the watching kept waits for the collection below, on a thread of its own
    try:
        big_one.start()
        while not _running(formats.jsonld, scratch):
            assert big_one.is_alive(), "the JSON-LD answer was never seen being written"
            time.sleep(0.005)
        other = get(url, "/sparql", "text/turtle")  # the service description
        assert other.status_code == 200 and _running(formats.jsonld, scratch), (
            "the other request waited for the JSON-LD"
        )
        big_one.join()
    finally:
        gc.enable()
    collector = threading.Thread(target=gc.collect)
    collector.start()
    collector.join()
    assert not unraisable, [str(u.exc_value) for u in unraisable]
    assert answer[0].status_code == 200 and len(answer[0].json()["@graph"]) > 10
    # A result JSON-LD 1.1 cannot hold is still a 406 that says why.
    term = "CONSTRUCT { ?s <urn:x:says> <<( ?s ?p ?o )>> } WHERE { ?s ?p ?o } LIMIT 1"
    refused = httpx.get(url + "/sparql", params={"query": term}, headers=jsonld)
    assert refused.status_code == 406 and "triple terms" in refused.text, refused.text


def test_application_json_means_the_json_each_route_serves(url) -> None:
    """The first offered format that claims a media type wins: JSON-LD where only RDF is offered."""
    for path in [RESOURCE, "/catalogue", "/.well-known/void", "/def"]:
        assert media(get(url, path, "application/json")) == "application/ld+json", path
    assert media(get(url, SELECT, "application/json")) == "application/sparql-results+json"
    assert media(get(url, DESCRIBE, "application/json")) == "application/ld+json"  # as format=json
    assert media(get(url, DESCRIBE + "&format=json")) == "application/ld+json"
    assert media(get(url, ROWS, "application/json")) == "application/json"


def test_an_unsatisfiable_accept_is_406_listing_the_offered_types_everywhere(url) -> None:
    for path in EVERY_ROUTE:
        r = get(url, path, "image/png")
        assert r.status_code == 406, (path, r.text[:200])
        assert "offered" in r.text, path
    assert "text/html" in get(url, RESOURCE, "image/png").text
    assert "text/csv" in get(url, ROWS, "image/png").text
    assert get(url, SELECT, "text/turtle").status_code == 406  # rows are no graph
    assert get(url, ROWS, "text/turtle").status_code == 406


def test_the_reconciliation_manifest_and_the_sitemaps_negotiate_as_every_route(url) -> None:
    """They answered 200 to any Accept; what their clients send (OpenRefine, crawlers, browsers) still
    works."""
    cases = {
        "/reconcile": ("application/json", ["application/json", "application/*", "*/*;q=0.1"]),
        "/sitemap.xml": ("application/xml", ["application/xml", "text/xml", "text/*"]),
        "/sitemap-1.xml": ("application/xml", ["text/xml;q=0.5, application/xml"]),
    }
    for path, (offered, accepts) in cases.items():
        for accept in [None, "*/*", BROWSER, *accepts]:
            r = get(url, path, accept)
            assert r.status_code == 200 and media(r) == offered, (path, accept, r.text[:200])
            assert "Accept" in r.headers["vary"], path
        for accept in ("image/png", "text/html", "text/turtle"):
            r = get(url, path, accept)
            assert r.status_code == 406 and offered in r.text and "offered" in r.text, (path, accept)
    assert "versions" in get(url, "/reconcile", BROWSER).json()


def test_format_names_mean_the_same_everywhere(url) -> None:
    for path in [RESOURCE, "/catalogue", "/.well-known/void", "/def"]:
        for name, expected in (("ttl", "text/turtle"), ("turtle", "text/turtle"), ("nt", NT)):
            r = get(url, f"{path}?format={name}", BROWSER)
            assert media(r) == expected, (path, name)
        assert get(url, f"{path}?format=png").status_code == get(url, f"{path}?format=").status_code == 400
    assert media(get(url, DESCRIBE + "&format=ttl")) == "text/turtle"
    assert media(get(url, ROWS + "?format=tsv")) == "text/tab-separated-values"
    assert media(get(url, SELECT + "&format=tsv")) == "text/tab-separated-values"
    for path in (DESCRIBE, SELECT, ROWS + "?"):
        r = get(url, path + "&format=png")
        assert r.status_code == 400 and "png" in r.text, path
    # An extension in the path is a name too.
    assert media(get(url, RESOURCE + ".nt")) == media(get(url, "/def.nt")) == NT


def test_the_cli_resolves_format_names_as_the_web_does() -> None:
    for offered in (formats.RDF, QUERY_FORMATS):
        for fmt in offered:
            for token in fmt.tokens:
                assert format_option(offered)(token) is conneg.negotiate(offered, None, [token]), token
    assert format_option(QUERY_FORMATS)("json") is formats.SPARQL_JSON  # as format=json on /sparql
    with pytest.raises(argparse.ArgumentTypeError, match="format inconnu 'yaml'"):
        format_option(formats.RDF)("yaml")
    with pytest.raises(conneg.FormatError, match="yaml"):
        conneg.negotiate(formats.RDF, None, ["yaml"])


def test_flat_json_keeps_big_integers_exact_and_is_valid_json() -> None:
    def row(value: str, datatype: str) -> dict:
        return {"v": ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#" + datatype))}

    values = [("12345678901234567891", "integer"), ("2.5", "decimal"), ("NaN", "double"), ("x", "int")]
    rows = [row(*v) for v in values]
    body = formats.write_rows(formats.JSON, ["v"], rows)
    assert json.loads(body, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) == [
        {"v": 12345678901234567891},
        {"v": 2.5},
        {"v": "NaN"},
        {"v": "x"},
    ]


def test_rows_for_a_french_spreadsheet_have_semicolons_a_bom_and_decimal_commas() -> None:
    """« 1500.5 » is text (or a date) to a French Excel; a version number in a plain literal stays as is."""
    decimal = ox.Literal("1500.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))
    rows = [{"montant": decimal, "nom": ox.Literal("Briançon; 1.2"), "f": ox.Literal("=1+1")}]
    body = formats.write_rows(formats.EXCEL, ["montant", "nom", "f"], rows).decode("utf-8")
    assert body == '\ufeffmontant;nom;f\r\n1500,5;"Briançon; 1.2";\'=1+1\r\n'
    assert formats.find(formats.ROWS, "text/csv") is formats.CSV  # Excel's only by its name
    assert formats.find(formats.ROWS, "tableur") is formats.EXCEL


def test_codes_with_a_leading_zero_stay_text_in_excel() -> None:
    """French Excel opened « 05470 » (a postal code) and « 05001 » (an INSEE code) as the numbers 5470 and
    5001: in the Excel variant they are ``="05470"``, text once opened; numbers and the comma CSV stay as
    they were, and a formula from the data, that very shape too, is still neutralised."""
    integer = ox.Literal("0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    decimal = ox.Literal("0.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))
    cells = ["05470", "05001", integer, decimal, '="05470"', "=05470", "0 5", "05 12 34 56 78"]
    rows = [{f"c{i}": c if isinstance(c, ox.Literal) else ox.Literal(c) for i, c in enumerate(cells)}]
    names = [f"c{i}" for i in range(len(cells))]
    body = formats.write_rows(formats.EXCEL, names, rows).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(body.splitlines()[1]), delimiter=";")) == [
        '="05470"',
        '="05001"',
        "0",
        "0,5",
        '\'="05470"',
        "'=05470",
        "0 5",
        "05 12 34 56 78",
    ]
    assert formats.spreadsheet_csv(["cp"], [["05470"]]) == "cp\r\n05470\r\n"  # the comma CSV: as it is
    assert formats.write_rows(formats.CSV, ["c0"], rows).decode().splitlines()[1] == "05470"


def test_booleans_read_oui_or_non_in_excel() -> None:
    """The Excel variant wrote « true »/« false » in a French sheet; the other formats keep the term's."""
    boolean = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
    rows = [{"b": ox.Literal(v, datatype=boolean)} for v in ("true", "false", "1", "0")]
    excel = formats.write_rows(formats.EXCEL, ["b"], rows).decode("utf-8-sig")
    assert excel.split("\r\n")[1:] == ["oui", "non", "oui", "non", ""]
    assert formats.write_rows(formats.CSV, ["b"], rows).decode().split("\r\n")[1:3] == ["true", "false"]
