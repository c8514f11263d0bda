"""Freshness: time from a moderator's acceptance to the resource answering in the query workers.

On a copy of a loaded store (``make load`` gives one with the bundled data and its private graphs):
each round proposes a resource, then times ``accept`` and the first worker query that sees it (the
publication of a snapshot happens on that query's way). No HTTP and no browsing index: what is measured
is the write and the publication of the public snapshot, and the CPU the process tree spent meanwhile
(what runs in the background after a write, such as a compaction, included).

    python bench/freshness.py var/store --rounds 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import tree  # noqa: E402

from graph.contributions import Content, Contributions, Contributor  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI  # noqa: E402
from graph.store import OxigraphStore  # noqa: E402

try:
    from graph.pool import RESULTS_JSON, Job, QueryRunner
except ImportError:  # before the split of graph/runner.py
    from graph.runner import RESULTS_JSON, Job, QueryRunner  # type: ignore[no-redef]


def cpu_seconds() -> float:
    """CPU time of this process and its descendants, the ones they waited for included."""
    ticks = 0
    for pid in tree(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


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
        cpu = cpu_seconds()
        for i in range(args.rounds):
            content = Content(f"Ressource fraîche {i}", "Mesure de fraîcheur.", "guide")
            rid, _ = model.propose(content, who)
            ask = Job(f"ASK {{ <{model.iri(rid)}> ?p ?o }}", RESULTS_JSON, None)
            t = time.perf_counter()
            model.accept(rid, "modo", "Modé")
            accepted = time.perf_counter()
            while b"true" not in b"".join(runner.run(ask, 30).chunks):
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
            visible = (time.perf_counter() - accepted) * 1000
            print(f"round {i}: {times[-1] * 1000:.0f} ms (publication + first query: {visible:.0f} ms)")
            time.sleep(3)  # let what follows a write in the background (a compaction, before) end
        cpu = cpu_seconds() - cpu
        print(
            f"accept → visible: median {statistics.median(times) * 1000:.0f} ms,"
            f" max {max(times) * 1000:.0f} ms; CPU of the process tree: {cpu / args.rounds:.2f} s per round"
        )
        runner.close()
        store.close()


if __name__ == "__main__":
    main()
