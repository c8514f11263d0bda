"""Contribution write path: proposal, acceptance and edit latency on an on-disk store holding the real
territorial reference, plus the form's territory autocomplete and a full HTTP form post.

    python bench/contributions.py --n 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from contrib_helpers import csrf_of, form_data  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from graph.contributions import Content, Contributions, Contributor  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI, Settings  # noqa: E402
from graph.store import OxigraphStore  # noqa: E402
from loaders import territories  # noqa: E402


def timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def report(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(f"{name:<34} n={len(ms):<5} p50={statistics.median(ms):7.2f} ms  p95={p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = OxigraphStore(DEFAULT_BASE_IRI, Path(tmp) / "store")
        load = territories.build(territories.REFERENCE_DIR, store.minter).graphs[0]
        store.replace_graph(load.graph, load.triples, load.meta)
        model = Contributions(store, b"bench")
        commune = store.minter.thing("commune", "73065")
        ids: list[str] = []

        def propose(i: int) -> None:
            c = Content(
                f"Ressource {i}",
                "Une ressource de mesure.",
                "guide",
                url="https://e.org",
                territories=[commune],
            )
            ids.append(model.propose(c, Contributor("B", f"b{i}@example.net"))[0])

        report("propose (model, on disk)", timed(propose, args.n))
        report("accept (model, on disk)", timed(lambda i: model.accept(ids[i], "modo", "Modé"), args.n))
        edit = Content("Titre modifié", "Une ressource de mesure.", "guide", url="https://e.org")
        report(
            "edit accepted (model, on disk)",
            timed(lambda i: model.edit(ids[i], edit, "modo", "Modé"), args.n),
        )
        report("moderation list (accepted)", timed(lambda i: model.by_state("acceptee"), 20))

        app = create_app(
            Settings(store=":memory:", uploads_dir=str(Path(tmp) / "u"), submit_rate=10**6), store
        )
        with TestClient(app) as client:
            t = time.perf_counter()
            client.get("/territoires/autocomplete?q=cha")
            print(
                f"{'autocomplete index build':<34} {(time.perf_counter() - t) * 1000:7.0f} ms (cached 5 min)"
            )
            queries = ["cham", "saint", "savoie", "73", "val", "grenoble", "aussois", "bourg"]
            report(
                "autocomplete (warm)",
                timed(lambda i: client.get(f"/territoires/autocomplete?q={queries[i % 8]}"), 80),
            )
            token = csrf_of(client.get("/ressources/proposer").text)
            post = lambda i: client.post(  # noqa: E731
                "/ressources/proposer",
                data=form_data(csrf_token=token, titre=f"Form {i}"),
                follow_redirects=False,
            )
            report("HTTP form post (validate + write)", timed(post, min(args.n, 50)))
        store.close()


if __name__ == "__main__":
    main()
