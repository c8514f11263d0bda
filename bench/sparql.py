"""Throughput and latency of /sparql against Oxigraph's own server (and rdflib-endpoint, for reference).

    python bench/sparql.py [--work /tmp/communs-sparql-bench] [--duration 10]

Builds ~1M quads with bench/synthetic.py (real territories + synthetic projects over real communes),
bulk-loads them into one store directory, then serves it with ``communs serve`` (the console script, as
deployed) and a copy with ``oxigraph serve-read-only --union-default-graph``; rdflib-endpoint gets
a smaller slice (it holds everything in Python objects). All servers are up at once (idle ones cost no
CPU) and each row is measured on every server back to back, in a rotating order, after a short warm-up:
on a shared machine the background load drifts, so a ratio measured within one row is the number to
read. Each server is driven by ``wrk`` (Debian) with URL-encoded POSTs built by a Lua script, at 1 and
8 connections, for:

- (a) a single-resource lookup, (b) a label search with FILTER, (c) an aggregate per département,
  each with *unique* queries: the parameter varies per request and every request text differs
  (a per-request comment), so no cache can answer;
- a *repeated* mix of 8 fixed queries (3 lookups, 3 searches, 2 aggregates), where caching may help.

wrk shares the 2 cores with the server under test: numbers are relative, not absolute capacity.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://data.adrets-asso.fr/"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import tree_rss  # noqa: E402  (bench/serving.py)

PREFIXES = (
    "PREFIX schema: <http://schema.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
)
# Lowercase word pairs that occur in synthetic labels ("Projet Saisonniers formation …").
WORDS = ["saisonniers", "formation", "mobilité", "logement", "numérique", "santé", "emploi", "réseau"]
YEARS = list(range(2010, 2026))

LOOKUP = "SELECT ?p ?o WHERE { <" + BASE + "id/projet/synth-projet-%d> ?p ?o }"
SEARCH = PREFIXES + (
    "SELECT ?s ?label WHERE { ?s a schema:Project ; rdfs:label ?label . "
    'FILTER(CONTAINS(LCASE(?label), "%s %s")) } LIMIT 10'
)
AGGREGATE = PREFIXES + (
    'SELECT ?dep (COUNT(?p) AS ?n) WHERE { ?p schema:startDate "%d"^^xsd:gYear ; dcterms:spatial ?c . '
    "?c dcterms:isPartOf ?dep . ?dep a igeo:Departement } GROUP BY ?dep"
)

LUA = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local function enc(s)
  s = s:gsub("[^%w%-%._~ ]", function(c) return string.format("%%%02X", string.byte(c)) end)
  return (s:gsub(" ", "+"))
end
local words = {WORDS}
local fixed = {FIXED}
local maxi = MAXI
local function project(k)
  local i = (k % maxi) + 1
  if i % 3 == 0 then i = i + 1 end
  return i
end
local function make(k)
  local kind = "KIND"
  if kind == "repeated" then return fixed[(k % #fixed) + 1] end
  local q
  if kind == "lookup" then
    q = string.format(LOOKUP_T, project(k))
  elseif kind == "search" then
    q = string.format(SEARCH_T, words[(k % #words) + 1], words[(math.floor(k / #words) % #words) + 1])
  else
    q = string.format(AGGREGATE_T, 2010 + (k % 16))
  end
  return q .. "\n# request " .. k
end
request = function()
  counter = counter + 1
  local k = counter * NTHREADS + (tid or 0)
  return wrk.format("POST", "PATH", {["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/sparql-results+json"}, "query=" .. enc(make(k)))
end
"""


def lua_string(s: str) -> str:
    return "[==[" + s + "]==]"


def fixed_queries(maxi: int) -> list[str]:
    return [
        LOOKUP % 4,
        LOOKUP % 1000,
        LOOKUP % (maxi // 2 + 1 if (maxi // 2 + 1) % 3 else maxi // 2 + 2),
        SEARCH % ("saisonniers", "formation"),
        SEARCH % ("mobilité", "logement"),
        SEARCH % ("numérique", "santé"),
        AGGREGATE % 2015,
        AGGREGATE % 2020,
    ]


def lua_script(kind: str, path: str, threads: int, maxi: int) -> str:
    return (
        LUA.replace("KIND", kind)
        .replace("PATH", path)
        .replace("NTHREADS", str(threads))
        .replace("MAXI", str(maxi))
        .replace("{WORDS}", "{" + ", ".join(lua_string(w) for w in WORDS) + "}")
        .replace("{FIXED}", "{" + ", ".join(lua_string(q) for q in fixed_queries(maxi)) + "}")
        .replace("LOOKUP_T", lua_string(LOOKUP))
        .replace("SEARCH_T", lua_string(SEARCH))
        .replace("AGGREGATE_T", lua_string(AGGREGATE))
    )


# --- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(url: str, query: str, timeout: float = 120) -> tuple[int, int]:
    """(status, row count) of one POSTed query."""
    body = urllib.parse.urlencode({"query": query}).encode()
    req = urllib.request.Request(
        url,
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            doc = json.loads(resp.read())
            return resp.status, len(doc.get("results", {}).get("bindings", []))
    except urllib.error.HTTPError as e:
        return e.code, 0


@dataclass
class Server:
    name: str
    cmd: list[str]
    path: str
    port: int
    env: dict | None = None
    note: str = ""
    ready_path: str = ""  # and for this page to answer 200 (ours: its list index, built in the background)

    def launch(self, log: Path) -> subprocess.Popen:
        out = log.open("w")
        return subprocess.Popen(self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, proc: subprocess.Popen, log: Path) -> subprocess.Popen:
        deadline = time.monotonic() + 600  # rdflib-endpoint parses its slice before listening
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {log.read_text()[-1500:]}")
            try:
                status, _ = ask(self.url, "ASK {}", timeout=5)
                if status == 200 and self._page_ready():
                    return proc
                if status == 200:
                    time.sleep(0.3)
                if status == 404:
                    proc.terminate()
                    raise RuntimeError(f"{self.name}: {self.path} answers 404")
            except OSError:
                time.sleep(0.3)
        proc.terminate()
        raise RuntimeError(f"{self.name} did not start")

    def _page_ready(self) -> bool:
        if not self.ready_path:
            return True
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.ready_path}", timeout=60) as r:
                return r.status == 200
        except urllib.error.HTTPError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


def serve_rdflib(nq: str, port: int) -> None:
    """Entry point of the rdflib-endpoint subprocess: the whole slice as a union-default Dataset."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    ds = Dataset(default_union=True)
    ds.parse(nq, format="nquads")
    app = SparqlEndpoint(graph=ds, path="/sparql", public_url=f"http://127.0.0.1:{port}/sparql")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and all its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(d.name)] = int(fields[1])
        times[int(d.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(c for c, pp in parents.items() if pp == pid)
    return total


def settle(proc: subprocess.Popen, limit: float = 90) -> float:
    """Wait until a server stops computing answers nobody waits for any more (wrk has hung up, but a
    slow server keeps working through its queue), so it does not steal CPU from the next run."""
    started = time.monotonic()
    last = cpu_seconds(proc.pid)
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = cpu_seconds(proc.pid)
        if now - last < 0.05:
            break
        last = now
    return time.monotonic() - started


# --- wrk ----------------------------------------------------------------------------------------
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class Run:
    rps: float
    p50: float  # ms
    p99: float
    requests: int
    errors: int


def wrk(server: Server, kind: str, conns: int, duration: int, maxi: int, tmp: Path) -> Run:
    threads = min(conns, 2)
    script = tmp / f"{kind}.lua"
    script.write_text(lua_script(kind, server.path, threads, maxi), encoding="utf-8")
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "60s", "--latency"]
    out = subprocess.run(
        [*cmd, "-s", str(script), f"http://127.0.0.1:{server.port}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lat = {
        m[1]: float(m[2]) * UNITS[m[3]]
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    }
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    total = int(re.search(r"(\d+) requests in", out)[1])
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Run(rps, lat.get("50", float("nan")), lat.get("99", float("nan")), total, errors)


def max_project(nq: Path) -> int:
    found = re.findall(rb"synth-projet-(\d+)>", nq.read_bytes())
    return max(int(x) for x in found) if found else 1


# --- main ---------------------------------------------------------------------------------------
def build(work: Path, triples: int, rdflib_triples: int) -> tuple[Path, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    nq, small, store = work / f"{triples}.nq", work / f"{rdflib_triples}.nq", work / "store"
    synthetic = [sys.executable, str(ROOT / "bench" / "synthetic.py")]
    for path, n in ((nq, triples), (small, rdflib_triples)):
        if not path.exists():
            subprocess.run([*synthetic, "--triples", str(n), "--output", str(path)], check=True)
    if not store.exists():
        import pyoxigraph as ox

        started = time.perf_counter()
        st = ox.Store(str(store))
        st.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
        st.flush()
        print(f"bulk-loaded {len(st)} quads in {time.perf_counter() - started:.1f} s")
        del st
    return nq, small, store


def servers(store: Path, small: Path, work: Path) -> list[Server]:
    env = {
        **os.environ,
        "COMMUNS_SECRET_KEY": "b" * 32,
        "COMMUNS_UPLOADS_DIR": str(work / "uploads"),
        "COMMUNS_ACCOUNTS_DB": str(work / "comptes.sqlite"),
        "COMMUNS_CLIENT_QUERIES": "1000",  # wrk's connections all come from one address
    }
    ox_port = free_port()
    rl_port = free_port()
    oxigraph = shutil.which("oxigraph", path=str(BIN)) or "oxigraph"
    # The documented command (``communs serve``): with ``python -m api.cli`` every forkserver query worker
    # re-imports api.cli through runpy (a RuntimeWarning per worker in the log).
    communs = shutil.which("communs", path=str(BIN))
    serve = [communs] if communs else [sys.executable, "-m", "api.cli"]
    # Oxigraph gets its own copy: ours holds the store's RocksDB lock and writes snapshots beside it.
    ox_store = work / "store-oxigraph"
    shutil.rmtree(ox_store, ignore_errors=True)
    shutil.copytree(store, ox_store)
    # No access log: Oxigraph writes none either (without it, ours did 11-48 % more lookups at one
    # connection in a noisy A/B).
    port = free_port()
    found = [
        Server(
            "ours",
            [*serve, "serve", "--store", str(store), "--port", str(port), "--no-access-log"],
            "/sparql",
            port,
            env,
            ready_path="/projets.json",
        )
    ]
    found.append(
        Server(
            "oxigraph",
            [
                oxigraph,
                "serve-read-only",
                "--location",
                str(ox_store),
                "--bind",
                f"127.0.0.1:{ox_port}",
                "--union-default-graph",
            ],
            "/query",
            ox_port,
        )
    )
    try:
        import rdflib_endpoint  # noqa: F401

        cmd = [sys.executable, __file__, "--serve-rdflib", str(small), "--port", str(rl_port)]
        found.append(Server("rdflib-endpoint", cmd, "/sparql", rl_port))
    except ImportError:
        print("rdflib-endpoint not installed (pip install -e '.[bench]'): skipped")
    return found


def table(results: dict, loads: dict, names: list[str], conns: list[int], duration: int) -> list[str]:
    head = "| query | conns |"
    sep = "|---|---|"
    for n in names:
        head += f" {n} req/s | {n} p50 ms | {n} p99 ms |"
        sep += "---|---|---|"
    head += "".join(f" {n}/oxigraph |" for n in OURS) + " goal | load 1 min |"
    sep += "---|" * len(OURS) + "---|---|"
    lines = [head, sep]
    for kind, label in KINDS.items():
        if not any(k[1] == kind for k in results):
            continue
        for c in conns:
            row = f"| {label} | {c} |"
            for n in names:
                r = results.get((n, kind, c))
                if r is None:
                    row += " – | – | – |"
                elif not r.requests:
                    row += f" none finished in {duration} s | – | – |"
                else:
                    err = f" ({r.errors} errors)" if r.errors else ""
                    row += f" {r.rps:.1f}{err} | {r.p50:.1f} | {r.p99:.1f} |"
            oxi = results.get(("oxigraph", kind, c))
            verdicts = []
            for n in OURS:
                ours = results.get((n, kind, c))
                if ours and oxi and oxi.rps:
                    ratio = ours.rps / oxi.rps
                    row += f" {ratio:.2f}× |"
                    verdicts.append(f"{n} {'met' if ratio >= GOALS[kind] else '**missed**'}")
                else:
                    row += " – |"
            row += f" ≥ {GOALS[kind]}×: {', '.join(verdicts) or '–'} |"
            load = loads.get((kind, c))
            row += f" {load:.1f} |" if load is not None else " – |"
            lines.append(row)
    return lines


KINDS = {
    "lookup": "(a) resource lookup, unique",
    "search": "(b) label search FILTER, unique",
    "aggregate": "(c) aggregate per département, unique",
    "repeated": "repeated mix (8 queries)",
}
OURS = ("ours",)
GOALS = {"lookup": 0.5, "search": 0.5, "aggregate": 0.9, "repeated": 1.0}  # issue 4, ours/oxigraph req/s


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "communs-sparql-bench")
    p.add_argument("--triples", type=int, default=1_000_000)
    p.add_argument("--rdflib-triples", type=int, default=400_000, help="slice served by rdflib-endpoint")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded wrk load before each run")
    p.add_argument("--connections", type=int, nargs="+", default=[1, 8])
    p.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS), help="rows to measure")
    p.add_argument(
        "--servers", nargs="+", choices=[*OURS, "oxigraph", "rdflib-endpoint"], help="default: all four"
    )
    p.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "sparql.md")
    p.add_argument("--serve-rdflib", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_rdflib:
        serve_rdflib(args.serve_rdflib, args.port)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk (or make system-deps)")
    nq, small, store = build(args.work, args.triples, args.rdflib_triples)
    maxi = {"big": max_project(nq), "small": max_project(small)}
    results: dict = {}
    loads: dict = {}
    notes: list[str] = []
    load_before = os.getloadavg()
    live: list[tuple[Server, subprocess.Popen]] = []
    launched: list[tuple[Server, subprocess.Popen]] = []
    try:
        # One at a time: our start-up (the list/search index, built under the public query deadline)
        # must not compete with rdflib-endpoint parsing its slice.
        for server in servers(store, small, args.work):
            if args.servers and server.name not in args.servers:
                continue
            log = args.work / f"{server.name}.log"
            launched.append((server, server.launch(log)))
            try:
                live.append((server, server.wait_ready(launched[-1][1], log)))
            except RuntimeError as e:
                notes.append(f"- {server.name}: not measured — {e}")
                print(notes[-1])
        for server, _ in live:
            m = maxi["small" if server.name == "rdflib-endpoint" else "big"]
            counts = [ask(server.url, q) for q in fixed_queries(m)]
            notes.append(f"- {server.name}: the 8 fixed queries answer {counts} (status, rows)")
            print(notes[-1])
        # ours and oxigraph alternate first; the much slower rdflib-endpoint always goes last.
        peers = [x for x in live if x[0].name != "rdflib-endpoint"]  # rotated so that none always goes first
        slow = [x for x in live if x[0].name == "rdflib-endpoint"]
        row = 0
        for kind in args.kinds:
            for c in args.connections:
                loads[(kind, c)] = os.getloadavg()[0]
                order = (peers[row % len(peers) :] + peers[: row % len(peers)] if peers else []) + slow
                row += 1
                for server, proc in order:
                    m = maxi["small" if server.name == "rdflib-endpoint" else "big"]
                    if args.warmup and server.name != "rdflib-endpoint":  # its runs hardly finish anyway
                        wrk(server, kind, c, args.warmup, m, args.work)
                        settle(proc)
                    run = wrk(server, kind, c, args.duration, m, args.work)
                    results[(server.name, kind, c)] = run
                    waited = settle(proc)
                    if waited > 5:
                        notes.append(
                            f"- {server.name} {kind} c={c}: went on computing abandoned requests for "
                            f"{waited:.0f} s after wrk stopped (waited for it before the next run)"
                        )
                    print(
                        f"{server.name:16} {kind:9} c={c}: {run.rps:9.1f} req/s  p50 {run.p50:8.2f} ms  "
                        f"p99 {run.p99:8.2f} ms  ({run.requests} requests, {run.errors} errors)  "
                        f"load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        for server, proc in live:
            notes.append(
                f"- {server.name}: serving RSS after the runs {tree_rss(proc.pid) / 2**20:,.0f} MB "
                "(the server and every process it started)"
            )
            print(notes[-1])
    finally:
        for _, proc in launched:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in launched:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    load_after = os.getloadavg()
    cores = os.cpu_count() or 1
    peak = max([load_before[0], load_after[0], *loads.values()])
    if peak > 0.75 * cores:
        notes.append(
            f"- **Concurrent with other processes**: the 1-minute load average reached {peak:.1f} on "
            f"{cores} cores (per row in the last column). Absolute req/s and latencies are depressed and "
            "noisy; read the ours/oxigraph ratio, measured back to back within each row."
        )
    names = [n for n in (*OURS, "oxigraph", "rdflib-endpoint") if any(k[0] == n for k in results)]
    lines = [
        "# SPARQL endpoint benchmark",
        "",
        f"`python bench/sparql.py --duration {args.duration}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; wrk shares the cores with the server under test. "
        f"Load average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load_before)} before, "
        f"{'/'.join(f'{x:.1f}' for x in load_after)} after.",
        "",
        f"- Data: {args.triples:,} quads from bench/synthetic.py (real territories + synthetic "
        "projects), one bulk-loaded store directory served by `communs serve --no-access-log` (ours, "
        "`/sparql`, otherwise default settings; Oxigraph logs no request either) and by `oxigraph "
        "serve-read-only --union-default-graph` (`/query`), each on a copy of its own. Every query of "
        "ours runs in a worker process on its public snapshot.",
        f"- All servers run at once; each row is measured on each server back to back (order rotating "
        f"per row), {args.duration} s per run after {args.warmup} s of unrecorded warm-up.",
        f"- rdflib-endpoint serves a {args.rdflib_triples:,}-quad slice only (in-memory rdflib Dataset; the "
        "million does not load in reasonable time), so its numbers are a lower bound on its speed, not a "
        "like-for-like comparison.",
        "- Unique = every request differs (varying parameter + a per-request comment), so caches "
        "cannot help; repeated = 8 fixed queries cycled. p50/p99 from wrk's latency distribution.",
        "- Goals (issue 4): (a), (b) ≥ 0.5× Oxigraph on unique queries, (c) ≥ 0.9×, repeated mix ≥ 1×.",
        "",
        *table(results, loads, names, args.connections, args.duration),
        "",
        "Sanity checks and notes:",
        *notes,
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
