"""Freshness: time from a moderator's acceptance to the resource showing everywhere a person looks.

On a copy of a loaded store (``make load`` gives one with the bundled data and its private graphs), a
real ``communs serve`` on a free loopback port; each round proposes a resource through the JSON API
with a moderator's token, accepts it, then polls, over HTTP, until each place shows it: SPARQL (ASK),
its list (``/ressources.json`` filtered on its département), search (``/recherche.json``), its
territory's page and the reconciliation service (``/reconcile``, the name index). A round's figure
per place is the time from the acceptance's answer to the first poll that sees it. The CPU the
server's process tree spent per round is reported too.

    python bench/freshness.py var/store --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import tree  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMUNS = [sys.executable, "-m", "api.cli"]
COMMUNE = "73065"  # Chambéry: a commune page with many neighbours in its roll-ups
WAIT = 120.0


def cpu_seconds(root: int) -> float:
    """CPU time of ``root`` and its descendants, the ones they waited for included."""
    ticks = 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def copy_store(source: Path, target: Path) -> None:
    """The store and what lives beside it (private engine, index, accounts, version)."""
    shutil.copytree(source, target)
    for beside in source.parent.glob(source.name + ".*"):
        name = beside.name.replace(source.name, target.name, 1)
        if beside.is_dir():
            shutil.copytree(beside, target.with_name(name))
        else:
            shutil.copy(beside, target.with_name(name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(seen: Callable[[], bool], since: float) -> float:
    """Seconds from ``since`` to the first poll where ``seen()`` holds (``inf`` past WAIT)."""
    while time.perf_counter() - since < WAIT:
        if seen():
            return time.perf_counter() - since
        time.sleep(0.05)
    return float("inf")


def moderator_token(env: dict) -> str:
    """A moderator's API token, made with the CLI in the accounts database ``env`` names."""
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run(
        [*COMMUNS, "user", "add", "modo", "--role", "moderateur", "--password-stdin"], input="x" * 16, **run
    )
    return subprocess.run([*COMMUNS, "user", "token", "modo"], **run).stdout.strip()


def measure(client: httpx.Client, rounds: int) -> dict[str, list[float]]:
    """Seconds from acceptance to visibility, per place and round (``client`` carries a moderator's token)."""
    figures: dict[str, list[float]] = {p: [] for p in ("sparql", "list", "search", "territory", "reconcile")}
    for i in range(rounds):
        word = f"fraicheur{i}x{int(time.time())}"
        title = f"Guide {word}"
        body = {
            "titre": title,
            "resume": f"Mesure de fraîcheur {word}.",
            "type": "guide",
            "url": "https://example.org/guide",
            "territoires": [COMMUNE],
        }
        proposed = client.post("/api/contributions", json=body)
        proposed.raise_for_status()
        rid, iri = proposed.json()["id"], proposed.json()["iri"]
        client.post(f"/api/contributions/{rid}/accepter").raise_for_status()
        accepted = time.perf_counter()
        seen = {place: until(check, accepted) for place, check in places(client, iri, title, word).items()}
        for place, seconds in seen.items():
            figures[place].append(seconds)
        print(f"round {i}: " + ", ".join(f"{p} {s * 1000:.0f} ms" for p, s in seen.items()), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a loaded store folder (copied, never written)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        copy_store(args.store.resolve(), store)
        env = {**os.environ, "COMMUNS_STORE": str(store)}
        token = moderator_token(env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        server = subprocess.Popen(
            [*COMMUNS, "serve", "--port", str(port), "--no-access-log"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        client = httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        try:
            until(lambda: _ok(client, "/recherche.json?q=saisonniers"), started)
            print(f"server answering lists and search {time.perf_counter() - started:.1f} s after its start")
            until(lambda: _ok(client, "/reconcile?queries=" + json.dumps({"q": {"query": "Gap"}})), started)
            print(f"and reconciliation {time.perf_counter() - started:.1f} s after its start")
            cpu_before = cpu_seconds(server.pid)
            figures = measure(client, args.rounds)
            cpu = (cpu_seconds(server.pid) - cpu_before) / args.rounds
            for place, times in figures.items():
                median, worst = statistics.median(times) * 1000, max(times) * 1000
                print(f"accept → visible in {place}: median {median:.0f} ms, max {worst:.0f} ms")
            print(f"CPU of the server's process tree: {cpu:.2f} s per round (the polls' answers included)")
        finally:
            client.close()
            server.terminate()
            server.wait(30)


def places(client: httpx.Client, iri: str, title: str, word: str) -> dict[str, Callable[[], bool]]:
    """Where a person looks for the new resource: each check is true once it shows there."""
    ask = {"query": f"ASK {{ <{iri}> ?p ?o }}"}
    json_results = {"Accept": "application/sparql-results+json"}
    in_list = {"departement": "73", "limit": 10000}
    named = {"queries": json.dumps({"q": {"query": title, "type": "ressource"}})}
    return {
        "sparql": lambda: client.get("/sparql", params=ask, headers=json_results).json()["boolean"],
        "list": lambda: title in client.get("/ressources.json", params=in_list).text,
        "search": lambda: title in client.get("/recherche.json", params={"q": word}).text,
        "territory": lambda: title in client.get(f"/id/commune/{COMMUNE}").text,
        "reconcile": lambda: f'"id":"{iri}"' in client.get("/reconcile", params=named).text.replace(" ", ""),
    }


def _ok(client: httpx.Client, path: str) -> bool:
    try:
        return client.get(path).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
