"""p50/p95 of the browsing pages on the million-triple store of the SPARQL benchmark.

    python bench/synthetic.py --triples 1000000 --output /tmp/1m.nq   # then bulk-load it:
    python bench/pages.py --store /tmp/pagesbench/store [--nq /tmp/1m.nq] [--runs 40]

Requests go through a real uvicorn server on 127.0.0.1. The index (lists, facets, roll-ups, search) is
built once per store version: its cold build time is reported separately, then pages are timed warm.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from graph import search  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI, Settings  # noqa: E402
from graph.store import OxigraphStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--nq", help="bulk-load this N-Quads file first when the store is empty")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    if args.nq and not Path(args.store).exists():
        ox.Store(args.store).bulk_load(path=args.nq, format=ox.RdfFormat.N_QUADS)
    store = OxigraphStore(DEFAULT_BASE_IRI, args.store, read_only=True)
    started = time.perf_counter()
    cat = search.catalog(store)
    cold = time.perf_counter() - started
    project = next(cat.items[n].iri for n in cat.by_kind["projets"])
    app = create_app(Settings(store=":memory:", secret_key="x" * 32), store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    pages = {
        "resource page": project.replace(DEFAULT_BASE_IRI, "/"),
        "list, two facets": "/projets?theme=mobilite&departement=73",
        "territory with roll-ups (Savoie)": "/id/departement/73",
        "search": "/recherche?q=saisonniers+mobilite",
    }
    print(f"store: {len(store.oxigraph)} quads; index cold build {cold:.1f} s ({len(cat.items)} items)")
    print("| page | p50 ms | p95 ms |\n|---|---|---|")
    with httpx.Client(base_url=url, timeout=60) as client:
        for name, path in pages.items():
            assert client.get(path).status_code == 200, path
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            print(f"| {name} (`{path}`) | {statistics.median(times):.0f} | {p95:.0f} |")
    server.should_exit = True


if __name__ == "__main__":
    main()
