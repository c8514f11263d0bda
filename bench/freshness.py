"""Freshness: time from a moderator's acceptance to the resource answering in the query workers.

On a copy of a loaded store (``make load`` gives one with the bundled data and its private graphs):
each round proposes a resource, then times ``accept`` and the first worker query that sees it (the
publication of a snapshot happens on that query's way). No HTTP and no browsing index: what is measured
is the write and the publication of the public snapshot.

    python bench/freshness.py var/store --rounds 5
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.contributions import Content, Contributions, Contributor  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI  # noqa: E402
from graph.store import OxigraphStore  # noqa: E402

try:
    from graph.pool import RESULTS_JSON, Job, QueryRunner
except ImportError:  # before the split of graph/runner.py
    from graph.runner import RESULTS_JSON, Job, QueryRunner  # type: ignore[no-redef]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a loaded store folder (copied, never written)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(args.store, copy)
        for beside in args.store.parent.glob(args.store.name + ".*"):
            if beside.is_dir():
                shutil.copytree(beside, copy.with_name(beside.name.replace(args.store.name, "store", 1)))
            elif beside.suffix == ".version":
                shutil.copy(beside, copy.with_name("store.version"))
        opened = time.perf_counter()
        store = OxigraphStore(DEFAULT_BASE_IRI, copy)
        print(f"store opened in {time.perf_counter() - opened:.2f} s, {len(store.oxigraph):,} quads public")
        started = time.perf_counter()
        runner = QueryRunner(store, workers=1)
        print(f"first snapshot published in {time.perf_counter() - started:.2f} s")
        model = Contributions(store, b"bench")
        who = Contributor("Bench", "bench@example.org")
        times = []
        for i in range(args.rounds):
            content = Content(f"Ressource fraîche {i}", "Mesure de fraîcheur.", "guide")
            rid, _ = model.propose(content, who)
            ask = Job(f"ASK {{ <{model.iri(rid)}> ?p ?o }}", RESULTS_JSON, None)
            t = time.perf_counter()
            model.accept(rid, "modo", "Modé")
            while b"true" not in b"".join(runner.run(ask, 30).chunks):
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
            print(f"round {i}: {times[-1] * 1000:.0f} ms")
            time.sleep(1)  # let a background compaction (before the split) take its share
        print(
            f"accept → visible: median {statistics.median(times) * 1000:.0f} ms,"
            f" max {max(times) * 1000:.0f} ms"
        )
        runner.close()
        store.close()


if __name__ == "__main__":
    main()
