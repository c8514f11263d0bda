"""A real ``communs serve`` process on 127.0.0.1 over a tmp disk store, for the SPARQL endpoint tests.

The store holds a public graph of projects (labels, types), a second public graph big enough for a
cartesian product to run for minutes, and a private graph with a personal email that must never show.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.settings import DEFAULT_BASE_IRI
from graph.store import OxigraphStore
from loaders import rdf

ROOT = Path(__file__).resolve().parent.parent
BASE = DEFAULT_BASE_IRI
TOKEN = "sparql-test-token"
PUBLIC = BASE + "graph/essai-sparql"
BULK = BASE + "graph/essai-volume"
PRIVATE = BASE + "graph/prive/essai-sparql"
SECRET = "lucie.oliveres@example.org"
PERSON = BASE + "id/personne/lucie-oliveres"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PROJECTS = 40
QUERY_TIMEOUT = 2.0  # seconds: the served endpoint's deadline, unless a test gives its own


def _t(s: str, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), ox.NamedNode(p), o)


def build_store(path: Path, vocabularies: bool = False) -> None:
    """``vocabularies``: the SKOS vocabularies too (a contribution's type must be one of their concepts)."""
    store = OxigraphStore(BASE, path)
    if vocabularies:
        for load in rdf.ontology(store.minter).graphs:
            store.replace_graph(load.graph, load.triples, load.meta)
    projects = []
    for i in range(PROJECTS):
        s = f"{BASE}id/projet/essai-{i}"
        projects += [
            _t(
                s,
                "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                ox.NamedNode("http://schema.org/Project"),
            ),
            _t(s, RDFS_LABEL, ox.Literal(f"Projet d'essai {i}", language="fr")),
        ]
    projects += [
        _t(PERSON, RDFS_LABEL, ox.Literal("Lucie Olivères", language="fr")),
        _t(
            PERSON,
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            ox.NamedNode("http://xmlns.com/foaf/0.1/Person"),
        ),
    ]
    store.replace_graph(PUBLIC, projects)
    store.replace_graph(
        BULK, [_t(f"{BASE}id/chose/{i}", "http://example.org/n", ox.Literal(i)) for i in range(3000)]
    )
    store.replace_graph(PRIVATE, [_t(PERSON, "http://schema.org/email", ox.Literal(SECRET))])
    store.close()


def stop_process(proc: subprocess.Popen, within: float = 20) -> None:
    """Stops ``proc``, started with ``start_new_session=True``, and whatever it started: SIGTERM to it
    (e.g. Virtuoso checkpoints then), then SIGKILL to its whole process group once it has exited or after
    ``within`` seconds, so that neither it nor a child (forkserver, query workers) outlives the test."""
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(within)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    store: Path

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"


@contextmanager
def serve(
    tmp: Path,
    *,
    token: str | None = TOKEN,
    timeout: float = QUERY_TIMEOUT,
    extra: tuple[str, ...] = (),
    env_extra: dict[str, str] | None = None,
    vocabularies: bool = False,
) -> Iterator[Server]:
    build_store(tmp / "store", vocabularies)
    port = free_port()
    env = {
        **os.environ,
        "COMMUNS_SECRET_KEY": "s" * 32,
        "COMMUNS_UPLOADS_DIR": str(tmp / "uploads"),
        "COMMUNS_ACCOUNTS_DB": str(tmp / "comptes.sqlite"),
        "COMMUNS_SERVICE_ALLOWLIST": "http://127.0.0.1:9/allowed-sparql",
        # The suite's concurrent clients all come from 127.0.0.1; the storm test sets the default back.
        "COMMUNS_CLIENT_QUERIES": "64",
    }
    env.update(env_extra or {})
    env.pop("COMMUNS_UPDATE_TOKEN", None)
    if token:
        env["COMMUNS_UPDATE_TOKEN"] = token
    log = tmp / "server.log"
    cmd = [sys.executable, "-m", "api.cli", "serve", "--store", str(tmp / "store"), "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [*cmd, "--query-timeout", str(timeout), "--workers", "2", *extra],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"communs serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/sparql?query=ASK%7B%7D", timeout=2).read()
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield Server(url, proc, tmp / "store")
    finally:
        stop_process(proc)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (query workers are children of the forkserver)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:
                continue
            for k in kids:
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, or -1 if it is gone (or a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    if fields[0] == "Z":
        return -1
    return int(fields[11]) + int(fields[12])


def request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
