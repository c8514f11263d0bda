"""/rapprochement.csv on a file of every current commune name (~35,000 rows), through a real uvicorn.

    python bench/reconcile.py [--output bench/results/reconcile.md]

The store holds the whole territorial reference in memory. The name index is read once (its cold read is
reported apart), then the file is posted as a script would, and the streamed answer timed: first bytes,
whole file, rows per second; and how many rows came back certain and right, against the reference codes.
Also a batch of 1,000 names through /reconcile (OpenRefine's form), as a per-query cost.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving import serve_in_thread  # noqa: E402  (bench/serving.py: scripts run from bench/)

from api.app import create_app  # noqa: E402
from graph import matching  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI, Settings  # noqa: E402
from graph.store import OxigraphStore  # noqa: E402
from loaders import territories  # noqa: E402
from loaders.gazetteer import load_gazetteer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="also write the results as Markdown here")
    args = parser.parse_args()
    load_before = os.getloadavg()
    store = OxigraphStore(DEFAULT_BASE_IRI)
    load = territories.build(territories.REFERENCE_DIR, store.minter).graphs[0]
    store.replace_graph(load.graph, load.triples, load.meta)
    started = time.perf_counter()
    matching.index_of(store)
    cold = time.perf_counter() - started

    gz = load_gazetteer()
    communes = [c for (kind, _), c in gz.communes.items() if kind == "commune-actuelle"]
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(["nom", "departement", "attendu"])
    for c in communes:
        writer.writerow([c.name, c.departement, c.code])
    body = text.getvalue().encode("utf-8")

    app = create_app(Settings(store=":memory:", secret_key="x" * 32), store)
    url, server = serve_in_thread(app)
    results = []
    with httpx.Client(base_url=url, timeout=300) as client:
        for label, data in (
            ("name only", {"colonne": "nom", "type": "commune"}),
            (
                "name + département column + 3 extension columns",
                {
                    "colonne": "nom",
                    "colonne_departement": "departement",
                    "type": "commune",
                    "extension": ["population", "epci", "departement"],
                },
            ),
        ):
            started = time.perf_counter()
            first = None
            chunks = []
            with client.stream(
                "POST", "/rapprochement.csv", files={"fichier": ("communes.csv", body, "text/csv")}, data=data
            ) as r:
                r.raise_for_status()
                for chunk in r.iter_text():
                    if first is None:
                        first = time.perf_counter() - started
                    chunks.append(chunk)
            total = time.perf_counter() - started
            rows = list(csv.DictReader(io.StringIO("".join(chunks)), delimiter=";"))
            certain = sum(r["certain"] == "true" for r in rows)
            # the best candidate, certain (iri) or to be checked (candidat_iri)
            right = sum((r["iri"] or r["candidat_iri"]).endswith("/" + r["attendu"]) for r in rows)
            wrong_certain = sum(r["certain"] == "true" and r["code_insee"] != r["attendu"] for r in rows)
            results.append((label, len(rows), first or 0.0, total, certain, right, wrong_certain))
        names = [c.name for c in communes[:1000]]
        queries = {f"q{n}": {"query": name, "type": "commune"} for n, name in enumerate(names)}
        started = time.perf_counter()
        r = client.post("/reconcile", data={"queries": json.dumps(queries)})
        r.raise_for_status()
        batch = time.perf_counter() - started
    server.should_exit = True

    lines = [
        "# /rapprochement.csv on every commune name",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average before "
        f"{load_before[0]:.1f} (shared with other engineers' work); Python {platform.python_version()}.",
        f"Store: the territorial reference in memory; name index read cold in {cold:.1f} s.",
        "",
        "| file | rows | first bytes | whole file | rows/s | certain | top-1 = reference | certain, wrong |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, n, first, total, certain, right, wrong in results:
        lines.append(
            f"| {label} | {n} | {first:.2f} s | {total:.1f} s | {n / total:,.0f} "
            f"| {certain} ({certain / n:.1%}) | {right} ({right / n:.1%}) | {wrong} |"
        )
    lines += [
        "",
        f"/reconcile, one POST of 1,000 queries (commune names, no département): {batch:.2f} s "
        f"({batch:.1f} ms a query).",
        "",
        "Names not certain without their département are homonyms (several communes share the name); "
        "with the département column they become certain.",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
