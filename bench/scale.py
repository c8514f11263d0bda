"""How the platform's costs grow with the data: 1M, 5M and 20M quads on the embedded store, Oxigraph
server and Virtuoso.

    python bench/scale.py [--sizes 1M 5M 20M] [--work /tmp/communs-scale] [--duration 6]
                          [--backends embedded oxigraph virtuoso] [--workers-size 1M]

For each size, bench/synthetic.py writes an N-Quads file (real territories, ontology and vocabularies +
synthetic service places, organisations, projects, resources and contribution history over real
communes). Then, one backend at a time (the machine has 2 cores; nothing else of ours runs meanwhile):

- load: ``oxigraph load --location DIR --file FILE`` (the reference, also the store Oxigraph server
  serves); ``communs import rdf FILE --store DIR`` (the embedded store: our only bulk path, one
  transaction per named graph); Virtuoso's bulk loader (``ld_dir`` + ``rdf_loader_run`` +
  ``checkpoint`` through ``isql-vt``) into a fresh database. Throughput = quads in the file / wall time;
  peak RSS from ``/usr/bin/time -v`` (single-process loaders) or the server's ``VmHWM`` (Virtuoso);
  disk = ``du`` of the store folder.
- serving: ``communs serve --store DIR`` (embedded) or ``--store sparql+http://…`` (remote) is started,
  its start-up timed (until it answers SPARQL, and until its list/search index is built), then one
  sequential httpx client measures p50/p95 of the SPARQL query mix of bench/sparql.py (unique lookups,
  label FILTER searches, aggregates per département) on ``/sparql`` and of the page mix of
  bench/pages.py (resource page, list with two facets, territory page with roll-ups, search), each for
  ``--duration`` seconds.
  For remote servers the same queries are also sent to the server directly (union default graph), so
  the platform's own share shows. Peak RSS while serving = max over samples (every 0.5 s) of the summed
  RSS of the process tree (communs serve with its query workers; the SPARQL server).
- workers: at ``--workers-size``, ``communs serve`` on the embedded store with exactly 1 and 2 query
  processes (``COMMUNS_QUERY_WORKERS`` = ``COMMUNS_QUERY_WORKERS_MAX``), wrk at 8 connections on the
  unique lookup and aggregate queries (bench/sparql.py's driver),
  two rounds in alternating order.

Results are kept per size in bench/results/scale.json (a run for one size replaces that size only), and
bench/results/scale.md and scale.svg are rewritten from all sizes measured so far.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT / "tests"))

import freshness  # noqa: E402  (bench/freshness.py: accept a contribution, poll until it shows)
import sparql as sparql_bench  # noqa: E402  (bench/sparql.py: query templates and the wrk driver)
from remote_servers import virtuoso_ini  # noqa: E402  (tests/remote_servers.py: one Virtuoso configuration)
from serving import status_kb, tree  # noqa: E402  (bench/serving.py)

BIN = Path(sys.executable).parent
OXIGRAPH = BIN / "oxigraph"
COMMUNS = BIN / "communs"
BASE = "https://data.adrets-asso.fr/"
RESULTS = BENCH / "results"
BACKENDS = ["embedded", "oxigraph", "virtuoso"]
LABELS = {
    "oxigraph-load": "`oxigraph load` (reference)",
    "embedded": "embedded (communs)",
    "oxigraph": "Oxigraph server",
    "virtuoso": "Virtuoso",
}
PAGES = {
    "resource": "/id/projet/synth-projet-1",
    "list, two facets": "/projets?theme=mobilite&departement=73",
    "territory (Savoie)": "/id/departement/73",
    "search": "/recherche?q=saisonniers+mobilite",
}
GOAL_PAGES = ("search", "territory (Savoie)", "list, two facets")
FRESH = ("sparql", "list", "search", "territory")  # bench/freshness.py's places, in its order
KINDS = {"lookup": "lookup", "search": "label FILTER search", "aggregate": "aggregate per département"}
MB = 1024 * 1024

# Virtuoso: loopback only, its own folder, the configuration of tests/remote_servers.py with buffers sized
# for 20M quads (~2.7 GB of 8 KB pages) and result rows up to 20M, so that no answer the platform reads
# (index build) is cut.
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size {text!r}: use 1M, 500k or 1000000")
    return int(float(m[1]) * {"": 1, "k": 1e3, "m": 1e6}[m[2].lower()])


def size_name(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def du(path: Path) -> int:
    """Bytes on disk (allocated blocks) of a folder."""
    total = 0
    for p in [path, *path.rglob("*")]:
        with contextlib.suppress(OSError):
            total += p.lstat().st_blocks * 512
    return total


# --- processes and memory --------------------------------------------------------------------------
class Sampler:
    """Peak of the summed RSS of named process trees, sampled every 0.5 s in a thread."""

    def __init__(self, roots: dict[str, int]):
        self.roots = roots
        self.peak = dict.fromkeys(roots, 0)
        self.procs = dict.fromkeys(roots, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, root in self.roots.items():
                pids = tree(root)
                rss = sum(status_kb(p, "VmRSS") for p in pids) * 1024
                self.peak[name] = max(self.peak[name], rss)
                self.procs[name] = max(self.procs[name], len(pids))
            self._stop.wait(0.5)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(cmd: list[str], log: Path, env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one command, through /usr/bin/time -v."""
    started = time.perf_counter()
    with log.open("w") as out:
        rc = subprocess.run(
            ["/usr/bin/time", "-v", *cmd], stdout=out, stderr=subprocess.STDOUT, env=env
        ).returncode
    elapsed = time.perf_counter() - started
    text = log.read_text(errors="replace")
    if rc:
        raise RuntimeError(f"{cmd[0]} failed (rc {rc}): {text[-1500:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)[1]) * 1024
    return elapsed, rss


def stop(proc: subprocess.Popen | None, wait: float = 60) -> None:
    """SIGTERM to the process group we started (Virtuoso checkpoints on it), SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def wait_http(url: str, proc: subprocess.Popen, log: Path, limit: float, page: bool = False) -> float:
    """Seconds until ``url`` answers 200 (a POSTed ASK, or a GET of a ``page``: the list/search index is
    built once ``/projets.json`` answers); raises if the process dies or ``limit`` passes."""
    started = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text(errors='replace')[-1500:]}")
        with contextlib.suppress(httpx.HTTPError):
            # A page: the server waits up to 30 s for its index, then answers 503.
            r = httpx.get(url, timeout=60) if page else httpx.post(url, data={"query": "ASK {}"}, timeout=5)
            if r.status_code == 200:
                return time.perf_counter() - started
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"not answering after {limit:.0f} s")
        time.sleep(0.5)


# --- SPARQL servers ------------------------------------------------------------------------------
@dataclass
class Virtuoso:
    folder: Path
    data: Path
    http_port: int = 0
    sql_port: int = 0
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        db = self.folder / "db"
        db.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        self.http_port, self.sql_port = free_port(), free_port()
        ini.write_text(
            virtuoso_ini(
                db, self.sql_port, self.http_port, dirs=(self.data,), buffers=340_000, max_rows=20_000_000
            )
        )
        log = self.folder / "virtuoso.out"
        self.proc = subprocess.Popen(
            [VIRTUOSO, "+configfile", str(ini), "+foreground"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            start_new_session=True,
        )
        wait_http(self.endpoint, self.proc, log, 180)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def isql(self, sql: str, timeout: float = 3600) -> str:
        out = subprocess.run(
            [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={sql}"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if out.returncode:
            raise RuntimeError(f"isql-vt: {out.stdout[-800:]} {out.stderr[-800:]}")
        return out.stdout


def count_quads(endpoint: str) -> int | None:
    """Quads in our graphs, asked of a server directly (a sanity check of the load)."""
    q = f'SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{BASE}")) }}'
    try:
        r = httpx.post(
            endpoint, data={"query": q}, headers={"Accept": "application/sparql-results+json"}, timeout=300
        )
        return int(r.json()["results"]["bindings"][0]["n"]["value"])
    except (httpx.HTTPError, KeyError, ValueError, IndexError):
        return None


def register_graphs(endpoint: str, location: str) -> float:
    """Virtuoso has no cheap list of graphs, so RemoteStore keeps one (graph/remote.py: every graph an
    update names is recorded). Graphs written by the bulk loader behind its back are recorded with one
    no-op update through RemoteStore itself. Returns its seconds."""
    sys.path.insert(0, str(ROOT))
    from graph.remote import RemoteStore

    q = f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{BASE}graph/")) }}'
    started = time.perf_counter()
    r = httpx.post(
        endpoint, data={"query": q}, headers={"Accept": "application/sparql-results+json"}, timeout=600
    )
    graphs = [b["g"]["value"] for b in r.json()["results"]["bindings"]]
    none = "<urn:x-scale:none>"
    store = RemoteStore(BASE, location.removeprefix("sparql+"))
    try:
        store.update(" ;\n".join(f"DELETE DATA {{ GRAPH <{g}> {{ {none} {none} {none} }} }}" for g in graphs))
        found = store.graphs()
    finally:
        store.close()
    if not set(graphs) <= set(found):
        raise RuntimeError(f"graphs not registered: {sorted(set(graphs) - set(found))[:5]}")
    return round(time.perf_counter() - started, 2)


# --- latency -------------------------------------------------------------------------------------
def percentiles(times: list[float]) -> dict:
    if not times:
        return {"n": 0}
    times = sorted(times)
    return {
        "n": len(times),
        "p50": round(statistics.median(times), 1),
        "p95": round(times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)], 1),
    }


def sparql_mix(endpoint: str, duration: float, maxi: int, limit: int = 400) -> dict:
    """p50/p95 (ms) of unique queries of each kind, sent one after the other for ``duration`` s each."""
    out = {}
    words = sparql_bench.WORDS
    with httpx.Client(timeout=120, headers={"Accept": "application/sparql-results+json"}) as client:
        for kind in KINDS:
            times, errors, rows = [], 0, 0
            started, k = time.perf_counter(), 0
            load = load1()
            while time.perf_counter() - started < duration and k < limit:
                k += 1
                if kind == "lookup":
                    i = (k * 7919) % maxi + 1
                    q = sparql_bench.LOOKUP % (i + 1 if i % 3 == 0 else i)
                elif kind == "search":
                    q = sparql_bench.SEARCH % (words[k % len(words)], words[(k // len(words)) % len(words)])
                else:
                    q = sparql_bench.AGGREGATE % (2010 + k % 16)
                q += f"\n# scale request {k} {time.time()}"
                t = time.perf_counter()
                try:
                    r = client.post(endpoint, data={"query": q})
                    ok = r.status_code == 200
                    if ok:
                        rows += len(r.json()["results"]["bindings"])
                except httpx.HTTPError:
                    ok = False
                if ok:
                    times.append((time.perf_counter() - t) * 1000)
                else:
                    errors += 1
            out[kind] = {**percentiles(times), "errors": errors, "rows": rows, "load": load}
            print(f"    sparql {kind:9} {out[kind]}", flush=True)
    return out


def page_mix(base: str, duration: float, limit: int = 200) -> dict:
    out = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for name, path in PAGES.items():
            load = load1()
            try:
                first = client.get(path)
            except httpx.HTTPError as e:
                out[name] = {"n": 0, "errors": 1, "first": str(e)[:80], "load": load}
                continue
            times, errors = [], 0
            started = time.perf_counter()
            while time.perf_counter() - started < duration and len(times) + errors < limit:
                t = time.perf_counter()
                try:
                    ok = client.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    times.append((time.perf_counter() - t) * 1000)
                else:
                    errors += 1
            out[name] = {**percentiles(times), "errors": errors, "first": first.status_code, "load": load}
            print(f"    page {name:18} {out[name]}", flush=True)
    return out


def max_project(nq: Path) -> int:
    """Highest synth-projet number: projects run to the end of the file, so its tail is enough."""
    with nq.open("rb") as f:
        f.seek(max(0, nq.stat().st_size - 4 * MB))
        found = re.findall(rb"synth-projet-(\d+)>", f.read())
    return max(int(x) for x in found) if found else 1


# --- communs serve -------------------------------------------------------------------------------
def communs_env(work: Path, workers: int | None = None) -> dict:
    """The environment of ``communs serve``: the defaults, or exactly ``workers`` query processes (no
    extra ones for bursts), so that a 1-vs-2 comparison compares one core's worth with two."""
    env = {
        **os.environ,
        "COMMUNS_SECRET_KEY": "s" * 32,
        "COMMUNS_UPLOADS_DIR": str(work / "uploads"),
        "COMMUNS_ACCOUNTS_DB": str(work / "comptes.sqlite"),
        "COMMUNS_CLIENT_QUERIES": "1000",  # wrk's connections all come from one address
    }
    if workers is not None:
        env.update(COMMUNS_QUERY_WORKERS=str(workers), COMMUNS_QUERY_WORKERS_MAX=str(workers))
    return env


def start_communs(store: str, work: Path, log: Path, workers: int | None = None, limit: float = 1200):
    port = free_port()
    env = communs_env(work, workers)
    if "://" in store:  # a remote store's index and downloads: in the work folder, not the checkout's var/
        env["COMMUNS_INDEX_DB"] = str(work / "index-remote.sqlite")
        env["COMMUNS_DUMPS_DIR"] = str(work / "dumps-remote")
    proc = subprocess.Popen(
        [str(COMMUNS), "serve", "--store", store, "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        listen = wait_http(f"http://127.0.0.1:{port}/sparql", proc, log, limit)
        startup = listen + wait_http(
            f"http://127.0.0.1:{port}/projets.json", proc, log, limit - listen, page=True
        )
        # The reconciliation's names, read after start-up by a child process: waited for, so that the page
        # mix measures the server as it serves, not during that read.
        names = startup + wait_http(
            f"http://127.0.0.1:{port}/reconcile?queries=" + '{"q0":{"query":"Gap"}}',
            proc,
            log,
            limit - startup,
            page=True,
        )
    except RuntimeError:
        stop(proc)
        raise
    return proc, port, listen, startup, names


def serve_and_measure(
    name: str, store: str, server_pid: int | None, direct: str | None, work: Path, args, maxi: int
) -> dict:
    """Start communs serve on ``store``, measure the query and page mixes, stop it."""
    rec: dict = {}
    log = work / f"communs-serve-{name}.log"
    print(f"  communs serve --store {store}", flush=True)
    sampler_roots = {"server": server_pid} if server_pid else {}
    if args.serve_max and args.current > args.serve_max:
        why = f"`communs serve` not measured at this size (`--serve-max {size_name(args.serve_max)}`)"
        prev = args.previous.get(f"startup-{name}")
        if prev:
            why += (
                f": its start-up (index build) took {prev[1]:,} s at {size_name(prev[0])} and grows at least "
                f"linearly, so ≥ {prev[1] * args.current / prev[0]:,.0f} s here, beyond this run's budget"
            )
        rec["serve_error"] = why
        print("   ", why, flush=True)
        if direct and server_pid:
            print(f"  direct to {direct}", flush=True)
            with Sampler({"server": server_pid}) as sampler:
                rec["sparql_direct"] = sparql_mix(direct, args.duration, maxi)
            rec["direct_rss"] = sampler.peak["server"]
        return rec
    env = communs_env(work)
    for p in [*work.glob("comptes.sqlite*"), *work.glob("index-remote.sqlite*")]:
        p.unlink()
    shutil.rmtree(work / "dumps-remote", ignore_errors=True)  # another server's (both remote ones share work)
    token = freshness.moderator_token(env)
    try:
        proc, port, listen, startup, names = start_communs(store, work, log, limit=args.startup_limit)
    except RuntimeError as e:
        rec["serve_error"] = f"communs serve did not start: {str(e)[:300]}"
        print("   ", rec["serve_error"], flush=True)
        return rec
    rec["startup_s"], rec["listen_s"], rec["names_s"] = round(startup, 1), round(listen, 1), round(names, 1)
    print(
        f"    answering in {listen:.1f} s, index built in {startup:.1f} s, names in {names:.1f} s", flush=True
    )
    try:
        with Sampler({"communs": proc.pid, **sampler_roots}) as sampler:
            rec["sparql"] = sparql_mix(f"http://127.0.0.1:{port}/sparql", args.duration, maxi)
            rec["pages"] = page_mix(f"http://127.0.0.1:{port}", args.duration)
            if direct:
                print(f"  direct to {direct}", flush=True)
                rec["sparql_direct"] = sparql_mix(direct, args.duration, maxi)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers) as client:
                rec["freshness"] = freshness.measure(client, args.freshness_rounds)
        rec["serve_rss"] = {k: v for k, v in sampler.peak.items()}
        rec["serve_procs"] = sampler.procs["communs"]
    finally:
        stop(proc, 20)
    # Again, now that the index is on disk: the start-up a deployment sees after a restart.
    try:
        proc, port, listen, startup, names = start_communs(store, work, log, limit=args.startup_limit)
        rec["restart_s"], rec["renames_s"] = round(startup, 1), round(names, 1)
        print(
            f"    restarted: lists and search answering in {startup:.1f} s, names in {names:.1f} s",
            flush=True,
        )
        stop(proc, 20)
    except RuntimeError as e:
        rec["restart_error"] = str(e)[:300]
    return rec


# --- one size ------------------------------------------------------------------------------------
def measure_size(n: int, args) -> dict:
    name = size_name(n)
    work = args.work / name
    work.mkdir(parents=True, exist_ok=True)
    data = args.work / "data" / name
    data.mkdir(parents=True, exist_ok=True)
    nq = data / f"{name}.nq"
    res: dict = {
        "size": n,
        "duration": args.duration,
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "notes": [],
    }
    res["uptime_before"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    if not nq.exists():
        print(f"[{name}] generating {nq}", flush=True)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, str(BENCH / "synthetic.py"), "--triples", str(n), "--output", str(nq)],
            check=True,
        )
        res["generate_s"] = round(time.perf_counter() - t, 1)
    with nq.open("rb") as f:
        quads = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(16 * MB), b""))
    res["quads"] = quads
    res["file_bytes"] = nq.stat().st_size
    maxi = max_project(nq)
    backends: dict = {}
    res["backends"] = backends

    # Reference: oxigraph load. Its folder is also what Oxigraph server serves.
    ox_dir = work / "oxigraph"
    shutil.rmtree(ox_dir, ignore_errors=True)
    print(f"[{name}] oxigraph load", flush=True)
    load = load1()
    wall, rss = timed(
        [str(OXIGRAPH), "load", "--location", str(ox_dir), "--file", str(nq)], work / "oxigraph-load.log"
    )
    backends["oxigraph-load"] = {
        "load_s": round(wall, 1),
        "load_tps": round(quads / wall),
        "load_rss": rss,
        "disk": du(ox_dir),
        "load_during": load,
        "how": "`oxigraph load --location DIR --file FILE` (Rust CLI, bulk loader)",
    }
    print(f"    {backends['oxigraph-load']}", flush=True)

    if "embedded" in args.backends:
        backends["embedded"] = measure_embedded(n, nq, quads, work, ox_dir, args, maxi, res)
    if "oxigraph" in args.backends:
        rec = {**{k: v for k, v in backends["oxigraph-load"].items() if k != "how"}}
        rec["how"] = "loaded with `oxigraph load` (the reference run itself), served by `oxigraph serve`"
        port = free_port()
        log = work / "oxigraph-serve.log"
        print(f"[{name}] oxigraph serve", flush=True)
        proc = subprocess.Popen(
            [
                str(OXIGRAPH),
                "serve",
                "--location",
                str(ox_dir),
                "--bind",
                f"127.0.0.1:{port}",
                "--union-default-graph",
            ],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            endpoint = f"http://127.0.0.1:{port}/query"
            wait_http(endpoint, proc, log, 300)
            rec["stored_quads"] = count_quads(endpoint)
            rec.update(
                serve_and_measure("oxigraph", f"sparql+{endpoint}", proc.pid, endpoint, work, args, maxi)
            )
        except RuntimeError as e:
            rec["serve_error"] = f"oxigraph serve: {e}"
        finally:
            stop(proc, 30)
        rec["disk_served"] = du(ox_dir)
        backends["oxigraph"] = rec
    if "virtuoso" in args.backends:
        backends["virtuoso"] = measure_virtuoso(name, nq, quads, work, args, maxi)
    res["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return res


def measure_embedded(n, nq, quads, work, ox_dir, args, maxi, res) -> dict:
    rec: dict = {
        "how": "`communs import rdf FILE --store DIR` (new graphs: a scan, then pyoxigraph's bulk loader)"
    }
    store = work / "embedded"
    index = [store.with_name("embedded.index.sqlite" + end) for end in ("", "-wal", "-shm")]
    beside = [store.with_name(f"embedded.{e}") for e in ("version", "private", "snapshots", "bulk-pending")]
    for p in (store, *beside, *index):  # a private engine left by a kept run would turn the import away
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    print(f"[{size_name(n)}] communs import rdf", flush=True)
    load = load1()
    try:
        wall, rss = timed(
            [str(COMMUNS), "import", "rdf", str(nq), "--store", str(store)],
            work / "communs-import.log",
            communs_env(work),
        )
        text = (work / "communs-import.log").read_text(errors="replace")
        m = re.search(r"(\d+) triplets importés", text)
        rec.update(
            load_s=round(wall, 1),
            load_tps=round(quads / wall),
            load_rss=rss,
            disk=du(store),
            load_during=load,
            stored_quads=int(m[1]) if m else None,
            quads=quads,
        )
    except RuntimeError as e:
        rec["load_error"] = f"`communs import` failed: {str(e)[:300]}"
    print(f"    {rec}", flush=True)
    if "load_error" in rec:
        # Serve the store `oxigraph load` built (same RocksDB format): serving is still measured.
        rec["served_from"] = "the `oxigraph load` folder (communs import not run)"
        served = ox_dir
    else:
        served = store
    rec.update(serve_and_measure("embedded", str(served), None, None, work, args, maxi))
    rec["disk_served"] = du(served)  # RocksDB compacts once served: its files change size
    if "load_error" not in rec and not args.keep:
        shutil.rmtree(store, ignore_errors=True)  # disk: it is not needed any more
    return rec


def measure_virtuoso(name, nq, quads, work, args, maxi) -> dict:
    rec: dict = {
        "how": "bulk loader: `ld_dir(DIR, FILE, graph)` + `rdf_loader_run()` + `checkpoint` via isql-vt",
    }
    if not VIRTUOSO or not ISQL:
        rec["load_error"] = "virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)"
        return rec
    folder = work / "virtuoso"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    v = Virtuoso(folder, nq.parent)
    print(f"[{name}] virtuoso", flush=True)
    try:
        v.start()
        base_rss = status_kb(v.proc.pid, "VmRSS") * 1024
        load = load1()
        started = time.perf_counter()
        with Sampler({"virtuoso": v.proc.pid}) as sampler:
            v.isql(
                f"ld_dir('{nq.parent}', '{nq.name}', '{BASE}graph/import/virtuoso'); "
                "rdf_loader_run(); checkpoint;"
            )
        wall = time.perf_counter() - started
        errors = v.isql("SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;")
        if re.search(r"\b[1-9]\d* Rows", errors):
            rec["load_warning"] = errors[-500:]
        auth = f"sparql+http://dba:dba@127.0.0.1:{v.http_port}/sparql"
        rec["register_s"] = register_graphs(v.endpoint, auth)
        rec.update(
            load_s=round(wall, 1),
            load_tps=round(quads / wall),
            load_rss=max(status_kb(v.proc.pid, "VmHWM") * 1024, sampler.peak["virtuoso"]),
            rss_before_load=base_rss,
            disk=du(folder / "db"),
            load_during=load,
            stored_quads=count_quads(v.endpoint),
        )
        print(f"    {rec}", flush=True)
        rec.update(serve_and_measure("virtuoso", auth, v.proc.pid, v.endpoint, work, args, maxi))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        rec.setdefault("load_error", f"Virtuoso: {str(e)[:400]}")
    finally:
        stop(v.proc, 120)
    shutil.rmtree(folder, ignore_errors=True)
    return rec


# --- 1 vs 2 workers ------------------------------------------------------------------------------
def workers_bench(n: int, args) -> dict:
    name = size_name(n)
    work = args.work / name
    nq = args.work / "data" / name / f"{name}.nq"
    store = work / "workers-store"
    if not store.exists():
        # Same content as the embedded store; built by the faster `oxigraph load` (the import was timed).
        subprocess.run(
            [str(OXIGRAPH), "load", "--location", str(store), "--file", str(nq)],
            check=True,
            capture_output=True,
        )
    maxi = max_project(nq)
    out: dict = {"size": n, "duration": args.wrk_duration, "runs": []}
    for rnd, order in enumerate(([1, 2], [2, 1])):
        for workers in order:
            log = work / f"workers-{workers}.log"
            proc, port, _, _, _ = start_communs(str(store), work, log, workers=workers)
            server = sparql_bench.Server(f"workers-{workers}", [], "/sparql", port)
            try:
                with Sampler({"communs": proc.pid}) as sampler:
                    for kind in ("lookup", "aggregate"):
                        sparql_bench.wrk(server, kind, 8, 2, maxi, work)  # warm-up
                        sparql_bench.settle(proc)
                        load = load1()
                        run = sparql_bench.wrk(server, kind, 8, args.wrk_duration, maxi, work)
                        sparql_bench.settle(proc)
                        row = {
                            "round": rnd + 1,
                            "workers": workers,
                            "kind": kind,
                            "rps": round(run.rps, 1),
                            "p50": round(run.p50, 1),
                            "p99": round(run.p99, 1),
                            "requests": run.requests,
                            "errors": run.errors,
                            "load": load,
                        }
                        out["runs"].append(row)
                        print(f"    {row}", flush=True)
                out.setdefault("procs", {})[str(workers)] = max(
                    out.get("procs", {}).get(str(workers), 0), sampler.procs["communs"]
                )
            finally:
                stop(proc, 20)
    shutil.rmtree(store, ignore_errors=True)
    return out


# --- report --------------------------------------------------------------------------------------
def fmt_mb(b) -> str:
    return f"{b / MB:,.0f}" if b else "–"


def cell(rec: dict | None, key: str, f=lambda v: f"{v:,}") -> str:
    if not rec:
        return "not measured"
    if key in rec and rec[key] is not None:
        return f(rec[key])
    return "–"


def report(data: dict, path_md: Path, path_svg: Path, cmdline: str) -> None:
    sizes = sorted(data.get("sizes", {}).values(), key=lambda r: r["size"])
    cols = ["oxigraph-load", "embedded", "oxigraph", "virtuoso"]
    serve_cols = ["embedded", "oxigraph", "virtuoso"]
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    L = [
        "# Scale: cost against size (bench/scale.py)",
        "",
        f"Produced by `{cmdline}` (each size is measured in its own run and kept in `scale.json`). "
        f"Machine: {os.cpu_count()} cores, {ram / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.platform()}. Other work (test suites) ran on the "
        "same "
        "machine: see the load averages below; absolute times are inflated by it, the growth with size is "
        "the thing to read.",
        "",
        "| size | quads in file | file MB | measured (UTC) | `--duration` s | `uptime` before "
        "| `uptime` after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in sizes:
        L.append(
            f"| {size_name(r['size'])} | {r['quads']:,} | {r['file_bytes'] / MB:,.0f} | {r['started']} | "
            f"{r.get('duration', '?')} | "
            f"{r['uptime_before'].split('load average:')[-1].strip()} | "
            f"{r['uptime_after'].split('load average:')[-1].strip()} |"
        )
    L += [
        "",
        *(
            ["Runs that produced these figures: " + "; ".join(f"`{c}`" for c in data["commands"]) + ".", ""]
            if data.get("commands")
            else []
        ),
        "How each backend was loaded and served:",
        "",
        "- `oxigraph load` (reference): `oxigraph load --location DIR --file FILE` (the Rust bulk loader, "
        "PyPI `oxigraph`). Its folder is then served by `oxigraph serve --union-default-graph` for the "
        "Oxigraph server column, so that column's load figures are the reference's own.",
        "- embedded: `communs import rdf FILE --store DIR` (new graphs: a streamed syntax check and "
        "count, then pyoxigraph's bulk loader), served by `communs serve --store DIR` "
        "(2 query workers, the default). Columns kept from an earlier run (see the notes per size) are "
        "compared with that run's `oxigraph load`.",
        "- Oxigraph server: `communs serve --store sparql+http://127.0.0.1:PORT/query`.",
        "- Virtuoso 7.2 (Debian `virtuoso-t`, own ini in a temporary folder, loopback only, "
        "NumberOfBuffers=340000): its bulk loader (`ld_dir` + `rdf_loader_run()` + `checkpoint` through "
        "`isql-vt`), not our RemoteStore (then the loaded graphs are recorded in RemoteStore's list of "
        "graphs, which Virtuoso needs, by one no-op SPARQL Update through RemoteStore); served by "
        "`communs serve --store sparql+http://dba:dba@127.0.0.1:PORT/sparql`.",
        "- Throughput = quads in the file / wall time of the whole load (parse + index + flush). Peak "
        "memory: `/usr/bin/time -v` maximum RSS of the loading process; for Virtuoso, the server "
        "process's VmHWM (it includes its buffer pool). Disk: allocated blocks of the store folder after "
        "the load (Virtuoso: its database folder after the checkpoint).",
        "- Latency: one sequential httpx client, warm, each kind for a fixed time (`--duration`), every "
        "SPARQL request unique (varying parameter + comment: no cache answers); pages as in "
        "bench/pages.py (fixed URLs, warm). p95 over n requests (n in the detailed tables). "
        '"direct" = the same queries sent to the SPARQL server itself (union default graph), '
        "without the platform. Where n < 10 (a series in which each request took seconds), p50/p95 "
        'are not percentiles worth the name: read them as "each request took about this long".',
    ]

    def table(title: str, columns: list[str], value) -> None:
        """One section: a row per size, a column per backend, ``value(record, column)`` in each cell."""
        L.extend(["", title, "", "| size | " + " | ".join(LABELS[c] for c in columns) + " |"])
        L.append("|---|" + "---|" * len(columns))
        for r in sizes:
            L.append(f"| {size_name(r['size'])} | " + " | ".join(value(r, c) for c in columns) + " |")

    def load_cell(r, c):
        b = r["backends"].get(c)
        if not b:
            return "not measured"
        if "load_tps" not in b:
            return "not measured" + (" (see notes)" if b.get("load_error") else "")
        ref = b.get("ref_load_tps") or r["backends"]["oxigraph-load"]["load_tps"]  # the same run's
        ratio = "" if c in ("oxigraph-load", "oxigraph") else f", {b['load_tps'] / ref:.2f}×"
        return f"{b['load_tps']:,} ({b['load_s']:,} s{ratio})"

    def serve_rss(r, c):
        b = r["backends"].get(c) or {}
        s = b.get("serve_rss")
        if not s and b.get("direct_rss"):
            return f"not measured + {fmt_mb(b['direct_rss'])} (server alone, direct queries)"
        if not s:
            return "not measured"
        if "server" in s:
            return f"{fmt_mb(s['communs'])} + {fmt_mb(s['server'])}"
        return f"{fmt_mb(s['communs'])} ({b.get('serve_procs', '?')} processes)"

    def metric(key, fmt):
        return lambda r, c: cell(r["backends"].get(c), key, fmt)

    def disk_ratio(r) -> str:
        """Right after the load, then once both stores were served (RocksDB's compactions rewrite them)."""
        ours, ref = r["backends"].get("embedded") or {}, r["backends"].get("oxigraph") or {}
        if not ours.get("disk") or not (r["backends"].get("oxigraph-load") or {}).get("disk"):
            return "–"
        text = f"{ours['disk'] / r['backends']['oxigraph-load']['disk']:.2f}×"
        if ours.get("disk_served") and ref.get("disk_served"):
            text += f" ({ours['disk_served'] / ref['disk_served']:.2f}× once served)"
        return text

    def goal_row(r, c, b=None, size=""):
        b = b or r["backends"].get(c) or {}
        pages = b.get("pages", {})
        f = b.get("freshness")
        rss = sum((b.get("serve_rss") or {}).values())
        cells = [
            f"{max(max(v) for v in f.values()):.2f}" if f else "–",
            cell(b, "restart_s"),
            *(str(pages.get(p, {}).get("p95", "–")) for p in GOAL_PAGES),
            fmt_mb(rss) if rss else "–",
            disk_ratio(r) if c == "embedded" else "–",
        ]
        return f"| {size or size_name(r['size'])} | {LABELS[c]} | " + " | ".join(cells) + " |"

    L += [
        "",
        "## Against issue 21's goals",
        "",
        "| size | backend | accepted → visible everywhere, worst round (s; goal ≤ 2) | restart start-up "
        "(s; ≤ 30 at 20M) | search p95 (ms; ≤ 200) | territory page p95 (ms; ≤ 150) | list with two facets "
        "p95 (ms; ≤ 100) | serving RSS, process tree (MB; ≤ 2,560 at 20M) | disk / `oxigraph load` "
        "(≤ 1.3×) |",
        "|---|---|---|---|---|---|---|---|---|",
        *(goal_row(r, c) for r in sizes for c in ("embedded", "oxigraph") if r["backends"].get(c)),
        *(goal_row({"backends": {}}, "embedded", x, x["note"]) for x in data.get("checks", [])),
    ]
    table(
        "## Load throughput (quads/s; in parentheses: wall time, and ratio to `oxigraph load`)",
        cols,
        load_cell,
    )
    table("## Peak memory while loading (MB, RSS)", cols, metric("load_rss", fmt_mb))
    table("## Disk (MB)", cols, metric("disk", fmt_mb))

    def first_then(r: dict, c: str, first: str, then: str) -> str:
        return f"{cell(r['backends'].get(c), first)} / {cell(r['backends'].get(c), then)}"

    table(
        "## `communs serve` start-up (s until lists and search answer: first start, the index built from "
        "nothing / restart, the index on disk; in brackets, when SPARQL answered at the first start)",
        serve_cols,
        lambda r, c: (
            first_then(r, c, "startup_s", "restart_s")
            + (f" [{r['backends'][c]['listen_s']:,}]" if "listen_s" in r["backends"].get(c, {}) else "")
        ),
    )
    table(
        "## The reconciliation's names read after start-up (s until `/reconcile` answers: first start / "
        "restart; read by a child process while the server serves)",
        serve_cols,
        lambda r, c: first_then(r, c, "names_s", "renames_s"),
    )

    def fresh(r, c):
        f = (r["backends"].get(c) or {}).get("freshness")
        if not f:
            return "not measured"
        return " / ".join(f"{statistics.median(f[p]) * 1000:,.0f} ({max(f[p]) * 1000:,.0f})" for p in FRESH)

    table(
        "## Accepted contribution → visible (ms from the moderator's acceptance to the first poll that "
        "sees it: " + " / ".join(FRESH) + "; median of the rounds, max in brackets)",
        serve_cols,
        fresh,
    )
    table(
        "## Peak memory while serving (MB, RSS of the process tree: communs serve + SPARQL server)",
        serve_cols,
        serve_rss,
    )

    def lat(b, group, kind):
        x = (b or {}).get(group, {}).get(kind)
        if not x:
            return "not measured"
        if not x.get("n"):
            return f"none answered ({x.get('errors', 0)} errors)"
        err = f", {x['errors']} errors" if x.get("errors") else ""
        return f"{x['p50']:,} / {x['p95']:,} (n={x['n']}{err})"

    L += ["", "## SPARQL query mix through `/sparql` of `communs serve`: p50 / p95 ms", ""]
    for kind, label in KINDS.items():
        L += [
            f"**{label}**",
            "",
            "| size | "
            + " | ".join(LABELS[c] for c in serve_cols)
            + " | Oxigraph server direct | Virtuoso direct |",
            "|---|" + "---|" * (len(serve_cols) + 2),
        ]
        for r in sizes:
            B = r["backends"]
            L.append(
                f"| {size_name(r['size'])} | "
                + " | ".join(lat(B.get(c), "sparql", kind) for c in serve_cols)
                + f" | {lat(B.get('oxigraph'), 'sparql_direct', kind)}"
                + f" | {lat(B.get('virtuoso'), 'sparql_direct', kind)} |"
            )
        L.append("")
    L += ["## Page mix served by `communs serve`: p50 / p95 ms", ""]
    for page, path in PAGES.items():
        L += [
            f"**{page}** (`{path}`)",
            "",
            "| size | " + " | ".join(LABELS[c] for c in serve_cols) + " |",
            "|---|" + "---|" * len(serve_cols),
        ]
        for r in sizes:
            L.append(
                f"| {size_name(r['size'])} | "
                + " | ".join(lat(r["backends"].get(c), "pages", page) for c in serve_cols)
                + " |"
            )
        L.append("")
    w = data.get("workers")
    L += ["## Serving throughput of the embedded store: 1 vs 2 query workers", ""]
    if w:
        L += [
            f"`communs serve --store DIR` at {size_name(w['size'])} with `COMMUNS_QUERY_WORKERS` and "
            "`COMMUNS_QUERY_WORKERS_MAX` both 1, then both 2 (exactly that many query processes: by default "
            "more start for bursts, up to 4 × the first), "
            f"wrk (bench/sparql.py's driver: unique POSTed queries) at 8 connections, {w['duration']} s "
            "per run after 2 s of warm-up, two rounds in alternating order (1,2 then 2,1). wrk runs on "
            "the same 2 cores. "
            "Largest process tree seen (server + query workers, incl. extra workers started while all "
            "are busy): "
            + ", ".join(f"{k} worker(s) → {v} processes" for k, v in sorted(w.get("procs", {}).items())),
            "",
            "| query | workers | round | req/s | p50 ms | p99 ms | requests | errors | load 1 min |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for x in sorted(w["runs"], key=lambda x: (x["kind"] != "lookup", x["workers"], x["round"])):
            L.append(
                f"| {KINDS[x['kind']]} | {x['workers']} | {x['round']} | {x['rps']:,} | {x['p50']} | "
                f"{x['p99']} | "
                f"{x['requests']:,} | {x['errors']} | {x['load']} |"
            )
        L.append("")
        for kind in ("lookup", "aggregate"):
            mean = {
                k: statistics.mean(x["rps"] for x in w["runs"] if x["kind"] == kind and x["workers"] == k)
                for k in (1, 2)
                if any(x["kind"] == kind and x["workers"] == k for x in w["runs"])
            }
            if len(mean) == 2 and mean[1]:
                L.append(
                    f"- {KINDS[kind]}: mean {mean[1]:,.1f} → {mean[2]:,.1f} req/s, "
                    f"{mean[2] / mean[1]:.2f}× with 2 workers"
                )
        L.append("")
    else:
        L += ["not measured", ""]
    checks = data.get("checks", [])
    if checks:
        L += [
            "## Checks: `communs serve` on other store folders (`--serve-only DIR NOTE`)",
            "",
            "| store | measured | disk MB | start-up s | "
            + " | ".join(f"SPARQL {k} p50/p95" for k in KINDS)
            + " | "
            + " | ".join(f"page {p} p50/p95" for p in PAGES)
            + " |",
            "|---|---|---|---|" + "---|" * (len(KINDS) + len(PAGES)),
        ]
        for c in checks:
            L.append(
                f"| {c['note']} | {c['measured']} | {fmt_mb(c['disk'])} | {c.get('startup_s', '–')} | "
                + " | ".join(lat(c, "sparql", k) for k in KINDS)
                + " | "
                + " | ".join(lat(c, "pages", p) for p in PAGES)
                + " |"
            )
        L.append("")
    L += ["## What was not measured, and notes", ""]
    notes = []
    for r in sizes:
        for c in cols:
            b = r["backends"].get(c)
            nm = f"{size_name(r['size'])}, {LABELS[c]}"
            if b is None:
                if c in serve_cols:
                    notes.append(f"- {nm}: not run (`--backends` left it out).")
                continue
            for key in ("load_error", "serve_error", "load_warning"):
                if b.get(key):
                    notes.append(f"- {nm}: {b[key]}")
            if b.get("served_from") and not b.get("serve_error"):
                notes.append(f"- {nm}: served from {b['served_from']}.")
            if b.get("stored_quads") and c != "oxigraph-load":
                notes.append(
                    f"- {nm}: {b['stored_quads']:,} quads stored (file: {r['quads']:,}; duplicates in "
                    "the file count once)."
                )
        for note in r.get("notes", []):
            notes.append(f"- {size_name(r['size'])}: {note}")
    L += notes or ["- everything listed above was measured."]
    L += [
        "",
        "The plot: [scale.svg](scale.svg) (log-log, one panel per cost; dashed = SPARQL server asked "
        "directly). Raw figures: `scale.json`.",
        "",
    ]
    path_md.write_text("\n".join(L), encoding="utf-8")
    path_svg.write_text(svg(sizes), encoding="utf-8")


# --- plot (plain SVG: no plotting dependency) ----------------------------------------------------
COLORS = {"oxigraph-load": "#888888", "embedded": "#1f77b4", "oxigraph": "#2ca02c", "virtuoso": "#d62728"}


def series(sizes: list[dict]) -> list[tuple[str, dict[str, list[tuple[int, float]]]]]:
    def pts(c, get):
        out = []
        for r in sizes:
            b = r["backends"].get(c)
            with contextlib.suppress(KeyError, TypeError):
                v = get(b)
                if v:
                    out.append((r["size"], float(v)))
        return out

    panels = [
        ("load throughput (quads/s)", ["oxigraph-load", "embedded", "virtuoso"], lambda b: b["load_tps"]),
        ("load wall time (s)", ["oxigraph-load", "embedded", "virtuoso"], lambda b: b["load_s"]),
        (
            "peak RSS while loading (MB)",
            ["oxigraph-load", "embedded", "virtuoso"],
            lambda b: b["load_rss"] / MB,
        ),
        ("disk (MB)", ["oxigraph-load", "embedded", "virtuoso"], lambda b: b["disk"] / MB),
        ("serve start-up (s)", BACKENDS, lambda b: b["startup_s"]),
        (
            "peak RSS while serving (MB)",
            BACKENDS,
            lambda b: sum(b["serve_rss"].values()) / MB,
        ),
    ]
    for kind, label in KINDS.items():
        panels.append((f"SPARQL {label} p95 (ms)", BACKENDS, lambda b, k=kind: b["sparql"][k]["p95"]))
    result = [(title, {c: pts(c, get) for c in cs}) for title, cs, get in panels]
    for i, kind in enumerate(KINDS):  # the servers asked directly: dashed
        for c in ("oxigraph", "virtuoso"):
            result[6 + i][1][c + " direct"] = pts(c, lambda b, k=kind: b["sparql_direct"][k]["p95"])
    panels = []
    for page in PAGES:
        panels.append((f"page: {page} p95 (ms)", BACKENDS, lambda b, p=page: b["pages"][p]["p95"]))
    return result + [(title, {c: pts(c, get) for c in cs}) for title, cs, get in panels]


def svg(sizes: list[dict]) -> str:
    panels = series(sizes)
    W, H, cols = 300, 220, 4
    rows = math.ceil(len(panels) / cols)
    ml, mr, mt, mb = 52, 10, 26, 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W * cols}" height="{H * rows + 30}" '
        'font-family="sans-serif" font-size="10">',
        f'<rect width="{W * cols}" height="{H * rows + 30}" fill="white"/>',
    ]
    xs = sorted({r["size"] for r in sizes}) or [1_000_000]
    xmin, xmax = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    if xmax - xmin < 0.5:
        xmin, xmax = xmin - 0.3, xmax + 0.3
    for idx, (title, lines) in enumerate(panels):
        ox_, oy = (idx % cols) * W, (idx // cols) * H
        pw, ph = W - ml - mr, H - mt - mb
        vals = [v for pts in lines.values() for _, v in pts if v > 0]
        out.append(
            f'<text x="{ox_ + W / 2}" y="{oy + 14}" text-anchor="middle" font-weight="bold">'
            f"{html.escape(title)}</text>"
        )
        out.append(
            f'<rect x="{ox_ + ml}" y="{oy + mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>'
        )
        if not vals:
            out.append(f'<text x="{ox_ + W / 2}" y="{oy + H / 2}" text-anchor="middle">not measured</text>')
            continue
        ymin, ymax = math.floor(math.log10(min(vals))), math.ceil(math.log10(max(vals)))
        if ymax == ymin:
            ymax += 1

        def X(x, ox_=ox_, pw=pw):
            return ox_ + ml + (math.log10(x) - xmin) / (xmax - xmin) * pw

        def Y(y, oy=oy, ph=ph, ymin=ymin, ymax=ymax):
            return oy + mt + ph - (math.log10(y) - ymin) / (ymax - ymin) * ph

        for e in range(ymin, ymax + 1):
            y = Y(10**e)
            out.append(
                f'<line x1="{ox_ + ml}" x2="{ox_ + ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            )
            label = next(
                (f"{10 ** (e - k):g}{u}" for k, u in ((9, "G"), (6, "M"), (3, "k")) if e >= k), f"{10**e:g}"
            )
            out.append(f'<text x="{ox_ + ml - 4}" y="{y + 3:.1f}" text-anchor="end">{label}</text>')
        for x in xs:
            out.append(
                f'<text x="{X(x):.1f}" y="{oy + mt + ph + 14}" text-anchor="middle">{size_name(x)}</text>'
            )
        for c, pts in lines.items():
            pts = [(x, v) for x, v in pts if v > 0]
            if not pts:
                continue
            base = c.removesuffix(" direct")
            dash = ' stroke-dasharray="4 3"' if c != base else ""
            dx = (list(COLORS).index(base) - 1.5) * 3  # equal values side by side, not hidden
            d = " ".join(f"{X(x) + dx:.1f},{Y(v):.1f}" for x, v in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{COLORS[base]}" stroke-width="2"{dash}/>')
            for x, v in pts:
                fill = "white" if dash else COLORS[base]
                out.append(
                    f'<circle cx="{X(x) + dx:.1f}" cy="{Y(v):.1f}" r="3" fill="{fill}" '
                    f'stroke="{COLORS[base]}"/>'
                )
    ly = H * rows + 18
    for i, (c, color) in enumerate(COLORS.items()):
        out.append(f'<rect x="{20 + i * 220}" y="{ly - 8}" width="12" height="8" fill="{color}"/>')
        out.append(f'<text x="{36 + i * 220}" y="{ly}">{html.escape(LABELS[c].replace("`", ""))}</text>')
    out.append(
        f'<text x="{20 + 4 * 220}" y="{ly}">dashed, open: the server asked directly (no platform)</text>'
    )
    out.append("</svg>")
    return "\n".join(out)


# --- main ----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", type=parse_size, default=[1_000_000, 5_000_000, 20_000_000])
    p.add_argument("--work", type=Path, default=Path("/tmp/communs-scale"))
    p.add_argument("--duration", type=float, default=6, help="seconds per latency series")
    p.add_argument("--backends", nargs="+", choices=BACKENDS, default=BACKENDS)
    p.add_argument(
        "--workers-size", type=parse_size, default=1_000_000, help="size of the 1-vs-2-workers run"
    )
    p.add_argument("--wrk-duration", type=int, default=10, help="seconds per wrk run (workers)")
    p.add_argument("--no-workers", action="store_true", help="skip the 1-vs-2-workers run")
    p.add_argument(
        "--startup-limit", type=float, default=1200, help="seconds allowed for communs serve to start"
    )
    p.add_argument(
        "--serve-max",
        type=parse_size,
        help="measure communs serve only up to this size (direct queries still)",
    )
    p.add_argument("--freshness-rounds", type=int, default=3, help="contributions accepted per backend")
    p.add_argument("--keep", action="store_true", help="keep the generated files and stores in --work")
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--report-only", action="store_true", help="rewrite scale.md/svg from scale.json")
    p.add_argument(
        "--serve-only",
        nargs=2,
        metavar=("DIR", "NOTE"),
        help="only measure communs serve on an existing store folder (kept in scale.json as a check)",
    )
    args = p.parse_args(argv)
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install {tool}")
    args.results.mkdir(parents=True, exist_ok=True)
    raw = args.results / "scale.json"
    data = json.loads(raw.read_text()) if raw.exists() else {}
    data.setdefault("sizes", {})
    if args.report_only:
        report(data, args.results / "scale.md", args.results / "scale.svg", "python bench/scale.py")
        return
    args.previous = {}
    if args.serve_only:
        folder, note = Path(args.serve_only[0]), args.serve_only[1]
        args.current, args.serve_max = 0, None
        work = args.work / "serve-only"
        work.mkdir(parents=True, exist_ok=True)
        rec = {
            "store": str(folder),
            "note": note,
            "disk": du(folder),
            "load_before": load1(),
            "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        # Lookups over the first 30,000 project numbers: every dataset of 1M quads or more has them.
        rec.update(serve_and_measure("embedded", str(folder), None, None, work, args, 30_000))
        data.setdefault("checks", []).append(rec)
        raw.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        report(data, args.results / "scale.md", args.results / "scale.svg", "python bench/scale.py")
        shutil.rmtree(work, ignore_errors=True)
        return

    def remember(res: dict) -> None:
        for name in BACKENDS:
            if "startup_s" in res["backends"].get(name, {}):
                args.previous[f"startup-{name}"] = (res["size"], res["backends"][name]["startup_s"])

    for prev in sorted(data["sizes"].values(), key=lambda r: r["size"]):
        if prev["size"] < min(args.sizes):
            remember(prev)
    for n in sorted(args.sizes):
        args.current = n
        res = measure_size(n, args)
        earlier = data["sizes"].get(size_name(n))
        for name, rec in (earlier or {}).get("backends", {}).items():
            if name not in res["backends"]:  # not asked for this time: the earlier run's figures stay
                kept = {
                    "run": earlier.get("started"),
                    "ref_load_tps": earlier["backends"].get("oxigraph-load", {}).get("load_tps"),
                    **rec,  # kept over more than one run: the first run's
                }
                res["backends"][name] = kept
                res["notes"].append(f"{name}: figures of the run of {kept['run']}")
        data["sizes"][size_name(n)] = res
        remember(res)
        if n == args.workers_size and not args.no_workers:
            print(f"[{size_name(n)}] 1 vs 2 query workers", flush=True)
            data["workers"] = workers_bench(n, args)
        raw.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        report(data, args.results / "scale.md", args.results / "scale.svg", "python bench/scale.py")
        if not args.keep:
            shutil.rmtree(args.work / size_name(n), ignore_errors=True)
            shutil.rmtree(args.work / "data" / size_name(n), ignore_errors=True)
    print((args.results / "scale.md").read_text())


if __name__ == "__main__":
    main()
