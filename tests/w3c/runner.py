"""Runs the W3C SPARQL 1.1 suites against a live endpoint, over HTTP only."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

from .manifest import W3CTest, file_path, read_manifest
from .results import (
    RDF_TYPES,
    ResultError,
    Solutions,
    as_csv,
    compare,
    parse_csv,
    parse_graph,
    parse_response,
    read_expected,
)

W3C_DIR = Path(__file__).resolve().parents[3] / "shared" / "w3c-sparql11"
KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")
EMPTY_GRAPH = "urn:x-w3c-harness:empty"  # a default graph nothing is loaded into

# Run in this order: protocol tests CLEAR/DROP ALL, graph-store tests rewrite graphs.
SUITES = {
    "query": "manifest-sparql11-query.ttl",
    "json-res": "json-res/manifest.ttl",
    "csv-tsv-res": "csv-tsv-res/manifest.ttl",
    "service-description": "service-description/manifest.ttl",
    "protocol": "protocol/manifest.ttl",
    "graph-store-protocol": "graph-store-protocol/manifest.ttl",
}
DATA_SUITES = ("query", "json-res", "csv-tsv-res", "protocol")

ACCEPT = {
    ".srx": "application/sparql-results+xml",
    ".srj": "application/sparql-results+json",
    ".tsv": "text/tab-separated-values",
    ".csv": "text/csv",
}
RESULTS_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9"
ANY_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ("u", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


# --- HTTP ----------------------------------------------------------------------------------------
class Endpoint:
    """One keep-alive connection; paths and bodies are sent byte for byte as the manifests give them."""

    def __init__(
        self, url: str, sparql_path: str = "/sparql", store_path: str = "/store", token: str | None = None
    ):
        parts = urlsplit(url)
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sparql_path, self.store_path, self.token = sparql_path, store_path, token
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                resp = self._conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, ConnectionError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
                continue
            if resp.getheader("connection", "").lower() == "close":
                self._conn.close()
                self._conn = None
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        raise AssertionError("unreachable")

    def put_graph(self, name: str, ntriples: bytes) -> None:
        status, _, body = self.request(
            "PUT",
            f"{self.store_path}?{urlencode({'graph': name})}",
            ntriples,
            {"Content-Type": "application/n-triples"},
        )
        if status >= 300:
            raise RuntimeError(f"loading <{name}> through {self.store_path} failed: {status} {body[:200]!r}")


# --- data ------------------------------------------------------------------------------------------
def load_tests(suites: list[str], w3c_dir: Path = W3C_DIR) -> dict[str, list[W3CTest]]:
    return {s: read_manifest(w3c_dir / SUITES[s]) for s in suites}


def dataset_graphs(tests: dict[str, list[W3CTest]]) -> dict[str, Path]:
    """Every data file the tests use, by the named graph it goes into: its own file IRI (query
    tests: the test's default graph is then chosen with ``default-graph-uri``) or the graph name the
    protocol manifest gives."""
    graphs: dict[str, Path] = {}
    for suite in DATA_SUITES:
        for t in tests.get(suite, []):
            for iri in t.data:
                graphs[iri] = _path(iri)
            for iri, name in t.graph_data:
                graphs[name] = _path(iri)
    return graphs


def _path(file_iri: str) -> Path:
    return file_path(file_iri)


def read_triples(path: Path) -> list[ox.Triple]:
    fmt = {".rdf": ox.RdfFormat.RDF_XML, ".nt": ox.RdfFormat.N_TRIPLES}.get(path.suffix, ox.RdfFormat.TURTLE)
    return [q.triple for q in ox.parse(path=str(path), format=fmt, base_iri=path.as_uri())]


def load_over_http(ep: Endpoint, graphs: dict[str, Path]) -> None:
    for name, path in graphs.items():
        ep.put_graph(name, ox.serialize(read_triples(path), format=ox.RdfFormat.N_TRIPLES) or b"")


# --- reports -------------------------------------------------------------------------------------
@dataclass
class Outcome:
    test: W3CTest
    reason: str | None  # None = passed
    skipped: bool = False


@dataclass
class SuiteReport:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def run(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.skipped]

    @property
    def passed(self) -> int:
        return sum(o.reason is None for o in self.run)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.run if o.reason is not None]


def read_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    known = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            test_id, _, reason = line.partition(" ")
            known[test_id] = reason.strip()
    return known


# --- helpers -----------------------------------------------------------------------------------
_LEXICAL = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"'''
    r"""|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*"""
)


def _bare(query: str) -> str:
    """The query without strings, IRIs and comments, to look for keywords."""
    return _LEXICAL.sub(" ", query)


def has_dataset_clause(query: str) -> bool:
    return re.search(r"(?<![\w:?$])FROM(?![\w:-])", _bare(query), re.I) is not None


def _status_ok(status: int, allowed: set[str]) -> bool:
    return not allowed or any(str(status) == a or str(status).startswith(a) for a in allowed)


def _mime(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _excerpt(body: bytes) -> str:
    return body[:160].decode("utf-8", "replace").replace("\n", " ")


def query_params(t: W3CTest) -> list[tuple[str, str]]:
    text = t.query.read_text(encoding="utf-8")
    params = [("query", f"BASE <{t.query.as_uri()}>\n{text}")]
    if not has_dataset_clause(text):
        params += [("default-graph-uri", d) for d in t.data or [EMPTY_GRAPH]]
        params += [("named-graph-uri", name) for _, name in t.graph_data]
    return params


def post_query(ep: Endpoint, params: list[tuple[str, str]], accept: str) -> tuple[int, dict, bytes]:
    return ep.request(
        "POST",
        ep.sparql_path,
        urlencode(params).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
    )


# --- runners ------------------------------------------------------------------------------------
def run_evaluation(ep: Endpoint, t: W3CTest) -> str | None:
    if t.query is None or t.result is None:
        return "malformed test (no query or no result)"
    expected, file_orders = read_expected(t.result, t.result.as_uri())
    text = t.query.read_text(encoding="utf-8")
    ordered = file_orders and re.search(r"ORDER\s+BY", _bare(text), re.I) is not None
    csv_test = t.result.suffix == ".csv"
    if t.result.suffix in ACCEPT:
        accept = ACCEPT[t.result.suffix]
    else:
        accept = GRAPH_ACCEPT if isinstance(expected, set) else RESULTS_ACCEPT
    status, headers, body = post_query(ep, query_params(t), accept)
    if status != 200:
        return f"HTTP {status}: {_excerpt(body)}"
    if t.result.suffix in ACCEPT and _mime(headers) != accept:
        return f"asked for {accept}, got Content-Type {headers.get('content-type')!r}"
    try:
        actual = parse_csv(body) if csv_test else parse_response(headers.get("content-type", ""), body)
    except ResultError as e:
        return str(e)
    if csv_test and isinstance(expected, Solutions):
        expected = parse_csv(t.result.read_bytes())
    elif isinstance(expected, Solutions) and isinstance(actual, Solutions) and _mime(headers) == "text/csv":
        expected = as_csv(expected)
    return compare(expected, actual, ordered)


def run_syntax(ep: Endpoint, t: W3CTest) -> str | None:
    text = t.query.read_text(encoding="utf-8")
    params = [("query", f"BASE <{t.query.as_uri()}>\n{text}")]
    if not has_dataset_clause(text):
        params.append(("default-graph-uri", EMPTY_GRAPH))
    status, _, body = post_query(ep, params, ANY_ACCEPT)
    if t.kind.startswith("Positive"):
        return None if status == 200 else f"valid query refused: HTTP {status}: {_excerpt(body)}"
    if 400 <= status < 500:
        return None
    return f"invalid query not refused with 4xx: HTTP {status}"


def _check_response(resp, status: int, headers: dict, body: bytes, base: str) -> str | None:
    if not _status_ok(status, resp.statuses):
        return f"expected status {sorted(resp.statuses)}, got {status}: {_excerpt(body)}"
    if resp.format:
        try:
            result = parse_response(headers.get("content-type", ""), body, base)
        except ResultError as e:
            return f"{resp.format} result: {e}"
        wanted = {"boolean": bool, "tabular": Solutions, "RDF": set}[resp.format]
        if not isinstance(result, wanted):
            return f"expected a {resp.format} result, got {type(result).__name__}"
        if resp.boolean is not None and result is not resp.boolean:
            return f"expected {resp.boolean}, got {result}"
    if resp.content_type:
        want = resp.content_type.split(";")[0].strip().lower()
        if _mime(headers) != want:
            return f"expected Content-Type {want}, got {headers.get('content-type')!r}"
    if resp.body is not None:
        mime = _mime(headers)
        if mime not in RDF_TYPES:
            return f"body is not RDF: {headers.get('content-type')!r}"
        try:
            expected = parse_graph(resp.body.encode(), ox.RdfFormat.TURTLE, base)
            actual = parse_graph(body, RDF_TYPES[mime], base)
        except ResultError as e:
            return str(e)
        return compare(expected, actual, False)
    return None


def run_http_test(ep: Endpoint, t: W3CTest, prefix: str, path: str) -> str | None:
    """Protocol and graph-store tests: a sequence of requests, each with its expected response."""
    variables: dict[str, str] = {}
    for i, r in enumerate(t.requests, 1):
        target = r.path
        body = r.body
        for var, value in variables.items():
            target = target.replace(var, value)
            body = body.replace(var, value) if body is not None else None
        if target.startswith(prefix):  # "/sparql/?query=…" → "/sparql?query=…", "/gsp/x" → "/store/x"
            target = path + target[len(prefix) :]
        headers = dict(r.headers)
        data = body.encode(r.encoding.lower()) if body is not None else None
        status, resp_headers, resp_body = ep.request(r.method, target, data, headers)
        reason = _check_response(r.response, status, resp_headers, resp_body, ep.url + target)
        if reason:
            return f"request {i} ({r.method} {target[:80]}): {reason}"
        if r.response.location_var:
            location = resp_headers.get("location")
            if not location:
                return f"request {i}: no Location header"
            variables[r.response.location_var] = location
    return None


def _forget_graphs(ep: Endpoint, t: W3CTest) -> None:
    """Each graph-store test expects the graphs it names not to exist yet (its first PUT answers
    201 Created), although an earlier test of the same manifest created them: delete them first."""
    for target in {r.path for r in t.requests if "$" not in r.path}:
        if target.startswith("/gsp") and "default" not in target:
            ep.request("DELETE", ep.store_path + target[len("/gsp") :])


def run_service_description(ep: Endpoint, t: W3CTest) -> str | None:
    accept = "text/turtle, application/rdf+xml;q=0.9, application/n-triples;q=0.8, application/ld+json;q=0.7"
    status, headers, body = ep.request("GET", ep.sparql_path, None, {"Accept": accept})
    endpoint = ep.url + ep.sparql_path
    if status != 200:
        return f"GET {ep.sparql_path}: HTTP {status}"
    try:
        graph = parse_response(headers.get("content-type", ""), body, endpoint)
    except ResultError as e:
        return str(e)
    if not isinstance(graph, set):
        return f"not RDF: {headers.get('content-type')!r}"
    local = t.id.rsplit("/", 1)[-1]
    if local == "returns-rdf":
        return None
    if local == "has-endpoint-triple":
        found = [o for _, p, o in graph if p == ("u", SD + "endpoint")]
        return None if ("u", endpoint) in found else f"no sd:endpoint <{endpoint}> (found {found})"
    return _sd_schema(graph)


def _sd_schema(graph: set) -> str | None:
    """The constraints of the service-description vocabulary that a document can break."""
    services = {s for s, p, o in graph if p == RDF_TYPE and o == ("u", SD + "Service")}
    if not services:
        return "no sd:Service"
    langs = {SD + "SPARQL10Query", SD + "SPARQL11Query", SD + "SPARQL11Update"}
    iri_valued = ("endpoint", "supportedLanguage", "resultFormat", "inputFormat", "feature")
    for s in services:
        props: dict[str, list] = {}
        for s2, p, o in graph:
            if s2 == s:
                props.setdefault(p[1], []).append(o)
        if not props.get(SD + "endpoint"):
            return "sd:Service without sd:endpoint"
        if not props.get(SD + "supportedLanguage"):
            return "sd:Service without sd:supportedLanguage"
        bad = [o for o in props[SD + "supportedLanguage"] if o[0] != "u" or o[1] not in langs]
        if bad:
            return f"sd:supportedLanguage outside the sd: languages: {bad}"
        for name in iri_valued:
            bad = [o for o in props.get(SD + name, []) if o[0] != "u"]
            if bad:
                return f"sd:{name} must be an IRI, got {bad}"
        for ds in props.get(SD + "defaultDataset", []):
            if ds[0] == "l":
                return "sd:defaultDataset must be a resource"
            for _, p, g in (x for x in graph if x[0] == ds):
                if p == ("u", SD + "namedGraph") and not any(
                    s3 == g and p3 == ("u", SD + "name") and o3[0] == "u" for s3, p3, o3 in graph
                ):
                    return "sd:namedGraph without an IRI sd:name"
    return None


def run_suite(
    ep: Endpoint, name: str, tests: list[W3CTest], *, load: bool, gsp_features: set[str]
) -> SuiteReport:
    report = SuiteReport(name)
    for t in tests:
        if "entailment" in t.iri.lower():
            continue
        try:
            if name == "graph-store-protocol" and not t.requires <= gsp_features:
                missing = ", ".join(sorted(t.requires - gsp_features))
                report.outcomes.append(Outcome(t, f"optional feature not claimed: {missing}", skipped=True))
                continue
            if name == "protocol":
                if load:
                    load_over_http(ep, {graph: _path(iri) for iri, graph in t.graph_data})
                reason = run_http_test(ep, t, "/sparql/", ep.sparql_path)
            elif name == "graph-store-protocol":
                _forget_graphs(ep, t)
                reason = run_http_test(ep, t, "/gsp", ep.store_path)
            elif name == "service-description":
                reason = run_service_description(ep, t)
            elif "Syntax" in t.kind:
                reason = run_syntax(ep, t)
            else:
                reason = run_evaluation(ep, t)
        except (OSError, http.client.HTTPException, RuntimeError, ResultError) as e:
            reason = f"{type(e).__name__}: {e}"
        report.outcomes.append(Outcome(t, reason))
    return report


def run_all(
    url: str,
    suites: list[str] | None = None,
    *,
    token: str | None = None,
    sparql_path: str = "/sparql",
    store_path: str = "/store",
    load: bool = True,
    gsp_features: set[str] | None = None,
    w3c_dir: Path = W3C_DIR,
) -> list[SuiteReport]:
    """``load=False`` when the caller has put :func:`dataset_graphs` into the store already."""
    suites = [s for s in SUITES if s in (suites or SUITES)]
    tests = load_tests(suites, w3c_dir)
    ep = Endpoint(url, sparql_path, store_path, token)
    if load:
        load_over_http(ep, dataset_graphs(tests))
    features = gsp_features if gsp_features is not None else {"IndirectGraphIdentification"}
    return [run_suite(ep, s, tests[s], load=load, gsp_features=features) for s in suites]


def format_reports(reports: list[SuiteReport], known: dict[str, str]) -> str:
    lines = []
    for r in reports:
        failed = r.failed
        known_failed = [o for o in failed if o.test.id in known]
        skipped = len(r.outcomes) - len(r.run)
        extra = f", {len(known_failed)} of them known engine limitations" if known_failed else ""
        extra += f", {skipped} skipped" if skipped else ""
        lines.append(f"{r.name}: {r.passed} passed, {len(failed)} failed{extra}")
    for r in reports:
        for o in r.failed:
            tag = f"known: {known[o.test.id]}" if o.test.id in known else "FAIL"
            lines.append(f"  [{r.name}] {o.test.id} ({tag}) — {o.reason}")
        for o in r.run:
            if o.reason is None and o.test.id in known:
                lines.append(f"  [{r.name}] {o.test.id} passes now: remove it from known_failures.txt")
        for o in r.outcomes:
            if o.skipped:
                lines.append(f"  [{r.name}] {o.test.id} skipped — {o.reason}")
    return "\n".join(lines)
