"""Sibling HTTP processes (``communs serve --processes N``): more cores for SPARQL lookups, one writer.

One Python process uses one core: a lookup costs it the engine's time plus uvicorn's and the kernel's
(about 60 µs of CPU per request with a bare ASGI app), so at 8 connections on 2 cores one process served
0.47× of what Oxigraph's multi-threaded server does, two 0.63× (bench/results/sparql.md). So N-1 *lanes*
listen on the public port beside the main process (SO_REUSEPORT: the kernel spreads the connections). A
lane answers one-pattern queries (graph.runner.Job.scans) itself, from the snapshot the main process
publishes (graph.board) or its in-memory copy (graph.runner.OpenSnapshot), stopped on time by the same
writer budget. Everything
else — pages, writes, heavier queries, a store that has moved past its snapshot — goes to the main process
over loopback, with the client's address in X-Forwarded-For (uvicorn trusts it from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import copy
import http.cookiejar
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pyoxigraph as ox
from starlette.types import Message, Receive, Scope, Send

from api import sparql
from graph.board import Board
from graph.runner import Answer, Job, OpenSnapshot, inline_answer
from graph.settings import Settings

log = logging.getLogger(__name__)
# Hop-by-hop headers (RFC 9110 §7.6.1), and the forwarding ones this proxy writes itself.
_REQUEST_DROPPED = {
    b"connection",
    b"keep-alive",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"expect",
    b"x-forwarded-for",
    b"x-forwarded-proto",
}
_RESPONSE_DROPPED = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"trailer",
    b"upgrade",
    b"date",
    b"server",
}
RESTART_AFTER = 1.0  # seconds between checks that every lane still runs
# Set in the task of a request passed on to the main process, which logs it (with the client's address).
_passing_on: contextvars.ContextVar[bool] = contextvars.ContextVar("passing_on", default=False)


class LoggedOnce(logging.Filter):
    """Drops a lane's access-log line for a request the main process answered: one line per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _passing_on.get()


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening socket other processes of this user may bind too; the kernel balances connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class LaneRunner:
    """The runner a lane's /sparql sees: the main process's current snapshot, opened here read-only, for
    one-pattern queries only; anything else is :class:`api.sparql.Elsewhere`."""

    def __init__(self, board: Board, memory_quads: int = 0):
        self.board = board
        self._snapshot = OpenSnapshot(memory_quads)

    @property
    def version(self) -> int:
        return self.board.read()[0]

    def found(self) -> tuple[int, ox.Store] | None:
        version, snapshot_version, path = self.board.read()
        if version != snapshot_version or not path:
            return None  # a write not yet published: the main process publishes it and answers
        store = self._snapshot.soon(version, path)
        return (version, store) if store is not None else None

    async def run_async(self, job: Job, timeout: float) -> Answer:
        found = self.found() if job.scans else None
        answer = inline_answer(found, job, time.monotonic() + timeout) if found is not None else None
        if answer is None:
            raise sparql.Elsewhere
        return answer


class Upstream:
    """The main process, as a reverse proxy sees it: requests and answers streamed both ways."""

    def __init__(self, url: str):
        self.url = httpx.URL(url)
        # No cookie jar: a client's cookies must never be kept and sent with someone else's request.
        jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(None, connect=5), follow_redirects=False, cookies=jar
        )

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        keep: Callable[[int, httpx.Headers, bytes], None] | None = None,
    ) -> None:
        """``keep(status, headers, body)`` is then given the whole answer, if it was small."""
        _passing_on.set(True)
        headers = [(k, v) for k, v in scope["headers"] if k not in _REQUEST_DROPPED]
        if scope.get("client"):
            host, port = scope["client"][:2]
            host = f"[{host}]" if ":" in host else host
            headers.append((b"x-forwarded-for", f"{host}:{port}".encode()))
        headers.append((b"x-forwarded-proto", scope["scheme"].encode()))
        has_body = any(k in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])
        target = scope.get("raw_path") or scope["path"].encode()
        if scope["query_string"]:
            target += b"?" + scope["query_string"]
        request = self.client.build_request(
            scope["method"],
            self.url.copy_with(raw_path=target),
            headers=headers,
            content=_body(receive) if has_body else None,
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError as e:
            log.warning("the main process did not answer: %s", e)
            await _unavailable(send)
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    # Via: what a proxy says it did (RFC 9110 §7.6.3).
                    "headers": [(b"via", b"1.1 communs-lane")]
                    + [(k.lower(), v) for k, v in response.headers.raw if k.lower() not in _RESPONSE_DROPPED],
                }
            )
            kept: list[bytes] | None = [] if keep else None
            size = 0
            async for chunk in response.aiter_raw():
                if kept is not None:
                    size += len(chunk)
                    if size <= sparql.CACHE_MAX_BODY:
                        kept.append(chunk)
                    else:
                        kept = None
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()
        if keep and kept is not None:
            keep(response.status_code, response.headers, b"".join(kept))

    async def close(self) -> None:
        await self.client.aclose()


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        yield message.get("body", b"")
        if not message.get("more_body"):
            return


async def _unavailable(send: Send) -> None:
    body = b"the application is restarting: try again in a moment\n"
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"2")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_upto(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The request body, or its first ``limit`` bytes and True when there is more."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body"):
            return b"".join(chunks), False
        if size > limit:
            return b"".join(chunks), True


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what the client still sends."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


class Lane:
    """The ASGI application of a lane process."""

    def __init__(self, board: Board, upstream: Upstream, settings: Settings):
        self.upstream = upstream
        self.runner = LaneRunner(board, settings.memory_quads)
        # What api.sparql reads from ``request.app.state``; ``lane`` makes it hand over what it cannot do.
        self.state = SimpleNamespace(settings=settings, runner=self.runner, sparql_cache=None, lane=True)
        self.parent = os.getppid()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if not sparql.handles(scope) or scope["method"] == "HEAD":
            await self.upstream.forward(scope, receive, send)
            return
        body, more = await _read_upto(receive, sparql.QUERY_MAX_BYTES)
        if more:
            await self.upstream.forward(scope, _replay(body, more, receive), send)
            return
        scope["app"] = self  # what Starlette's Request.app returns
        try:
            await sparql.serve(scope, _replay(body, more, receive), send)
        except sparql.Elsewhere:
            await self.upstream.forward(scope, _replay(body, more, receive), send, self._keep)

    def _keep(self, status: int, headers: httpx.Headers, body: bytes) -> None:
        """A query answer passed on is kept here too, under the main process's ETag (the store version and
        the request, computed alike in both processes): a repeated query is then answered by the lane."""
        etag, media = headers.get("etag"), headers.get("content-type")
        if (
            status == 200
            and etag
            and media
            and "content-encoding" not in headers
            and "set-cookie" not in headers
        ):
            sparql.cache_of(self.state).put(etag, media, body)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        watch = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runner.found()  # the current snapshot opened (and copied into memory) from now on
                watch = asyncio.create_task(self._watch_parent())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if watch is not None:
                    watch.cancel()
                await self.upstream.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _watch_parent(self) -> None:
        """A lane outlives no main process (killed with SIGKILL, it could not stop its lanes)."""
        while os.getppid() == self.parent:
            await asyncio.sleep(RESTART_AFTER)
        os.kill(os.getpid(), signal.SIGTERM)


class Lanes:
    """The main process's side: starts the lanes, starts a lane again when one dies, stops them."""

    def __init__(self, count: int, host: str, port: int, upstream: str, settings: Settings):
        self.count, self.host, self.port, self.upstream = count, host, port, upstream
        self.env = {
            **os.environ,
            # The main process's own values, flags included, for what a lane decides alone.
            "COMMUNS_QUERY_TIMEOUT": str(settings.query_timeout),
            "COMMUNS_CORS_ORIGINS": settings.cors_origins,
            "COMMUNS_SERVICE_ALLOWLIST": " ".join(settings.service_allowlist),
            "COMMUNS_ACCESS_LOG": str(settings.access_log).lower(),
            "COMMUNS_MEMORY_QUADS": str(settings.memory_quads),
        }
        self._procs: list[subprocess.Popen] = []
        self._stopped = threading.Event()
        self._board: Path | None = None

    def start(self, board: Path) -> None:
        self._board = board
        self._procs = [self._spawn() for _ in range(self.count)]
        threading.Thread(target=self._keep, daemon=True, name="communs-lanes").start()

    def _spawn(self) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "api.lane", "--board", str(self._board), "--upstream", self.upstream]
        # A session of its own: a Ctrl-C in the terminal stops the main process, which stops its lanes.
        return subprocess.Popen(
            [*cmd, "--host", self.host, "--port", str(self.port)], env=self.env, start_new_session=True
        )

    def _keep(self) -> None:
        while not self._stopped.wait(RESTART_AFTER):
            for i, proc in enumerate(self._procs):
                if proc.poll() is not None and not self._stopped.is_set():
                    log.warning("lane %d exited with %s: started again", proc.pid, proc.returncode)
                    self._procs[i] = self._spawn()

    def stop(self) -> None:
        self._stopped.set()
        for proc in self._procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    p = argparse.ArgumentParser(prog="python -m api.lane", description="a lane of `communs serve`")
    p.add_argument("--board", type=Path, required=True)
    p.add_argument("--upstream", required=True, help="the main process, e.g. http://127.0.0.1:40123")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args(argv)
    settings = Settings()
    lane = Lane(Board(args.board), Upstream(args.upstream), settings)
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for name in ("graph", "api"):  # as the main process (api.cli)
        log_config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    log_config.setdefault("filters", {})["logged_once"] = {"()": LoggedOnce}
    log_config["loggers"]["uvicorn.access"]["filters"] = ["logged_once"]
    config = uvicorn.Config(
        lane, log_level="info", log_config=log_config, lifespan="on", access_log=settings.access_log
    )
    uvicorn.Server(config).run(sockets=[reuseport_socket(args.host, args.port)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
