"""Killing the server in the middle of a burst of submissions and acceptances loses nothing it confirmed.

A real uvicorn server on an on-disk store, a moderator's API token made with the CLI, several clients
proposing and accepting at once, SIGKILL at a random moment, a restart on the same store: every
proposal answered 201 and every acceptance answered 2xx must be there.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
from sparql_helpers import stop_process

from graph.settings import DEFAULT_BASE_IRI
from graph.store import OxigraphStore

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(tmp: Path) -> dict:
    env = dict(os.environ)
    env.update(
        COMMUNS_STORE=str(tmp / "store"),
        COMMUNS_SECRET_KEY="crash-test-secret-" + "x" * 20,
        COMMUNS_SUBMIT_RATE="100000",
        COMMUNS_UPLOADS_DIR=str(tmp / "uploads"),
    )
    return env


def start(tmp: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env_for(tmp),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / f"server-{port}.log", "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/territoires/autocomplete?q=x", timeout=1).status_code
                == 200
            ):
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_process(proc)
    raise AssertionError((tmp / f"server-{port}.log").read_text())


def test_sigkill_mid_burst_loses_no_confirmed_write(tmp_path: Path):
    env = env_for(tmp_path)
    # The resource kinds the proposals use are concepts of the bundled vocabulary, as in any deployment.
    vocabulary = ROOT / "ontology" / "vocabularies" / "types-ressources.ttl"
    graph = DEFAULT_BASE_IRI + "graph/vocabulaires"
    subprocess.run(
        [sys.executable, "-m", "api.cli", "import", "rdf", str(vocabulary), "--graph", graph],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    cli = [sys.executable, "-m", "api.cli", "user"]
    subprocess.run(
        [*cli, "add", "modo", "--role", "moderateur", "--password-stdin"],
        input="un-mot-de-passe-long\n",
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )
    token = subprocess.run(
        [*cli, "token", "modo"], cwd=ROOT, env=env, check=True, text=True, capture_output=True
    ).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    server = start(tmp_path, port)
    proposed: list[str] = []
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def worker(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            i = 0
            while not stop.is_set():
                i += 1
                body = {
                    "titre": f"Ressource {n}-{i}",
                    "resume": "Une ressource du test de coupure brutale.",
                    "type": "guide",
                    "url": f"https://example.org/{n}/{i}",
                }
                try:
                    r = client.post("/api/contributions", json=body, headers=auth)
                    if r.status_code != 201:
                        continue
                    rid = r.json()["id"]
                    with lock:
                        proposed.append(rid)
                    if client.post(f"/api/contributions/{rid}/accepter", headers=auth).is_success:
                        with lock:
                            accepted.append(rid)
                except httpx.HTTPError:
                    return  # the server is gone

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(2.0, 4.0))
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for t in threads:
        t.join(15)
    assert len(accepted) >= 10, "the burst was too short to mean anything"

    server = start(tmp_path, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=auth) as client:
            states = {rid: client.get(f"/api/contributions/{rid}").json().get("etat") for rid in proposed}
    finally:
        stop_process(server)
    assert all(states[rid] == "acceptee" for rid in accepted), [
        r for r in accepted if states[r] != "acceptee"
    ]
    assert all(states[rid] in ("en-attente", "acceptee") for rid in proposed)

    store = OxigraphStore(DEFAULT_BASE_IRI, tmp_path / "store")
    try:
        for rid in accepted:
            assert store.ask(
                "ASK { ?r <http://schema.org/name> ?n }",
                {"r": ox.NamedNode(store.minter.thing("ressource", rid))},
            )
    finally:
        store.close()
    print(f"{len(proposed)} proposals, {len(accepted)} acceptances confirmed before SIGKILL; none lost")
