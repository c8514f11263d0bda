"""The query pool: read queries with real deadlines, in worker processes on the public snapshots.

pyoxigraph has no query timeout and an abandoned thread keeps burning CPU, so each query runs in a worker
process the parent can kill. Workers open the newest public snapshot (graph.snapshots) read-only and
stream serialised results back over a pipe; :meth:`QueryRunner.within_deadline` is the one place where a
query meets its deadline. An in-memory store (tests) has no snapshot: its queries run in threads, answered
on time but not stopped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import functools
import io
import multiprocessing
import os
import queue
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pyoxigraph as ox

from graph import formats
from graph.snapshots import Snapshots
from graph.sparql_text import bind, star_in_order
from graph.store import Bindings, OxigraphStore, QueryTimeout, Store, StoreError, as_rows

CHUNK = 64 * 1024
HEAVY_AFTER = 1.0  # seconds: a query still running then gets a lower CPU priority
HEAVY_NICE = 10
EMPTY_GRAPH = "urn:x-communs:empty"  # a graph nothing is ever written to: "no graphs" for pyoxigraph


@dataclass
class Job:
    """What a worker runs: the query, its dataset and the formats the client accepts."""

    query: str
    results_format: str | None  # media type for SELECT/ASK, None if the client accepts none
    graph_format: str | None  # media type for CONSTRUCT/DESCRIBE
    default_graphs: list[str] | None = None  # protocol's default-graph-uri
    named_graphs: list[str] | None = None  # protocol's named-graph-uri
    union_default: bool = True  # no protocol dataset and no FROM: default graph = union of public graphs
    base_iri: str | None = None
    # The query's own FROM and FROM NAMED graphs: a remote server gets them as the protocol's dataset.
    from_graphs: tuple[list[str], list[str]] | None = None


@dataclass
class Head:
    kind: str  # "solutions", "boolean" or "graph"
    media_type: str


Message = tuple[Head, bytes, bool] | Exception  # from a query's thread or worker: an answer's part, or error


class NotAcceptable(StoreError):
    """The query's kind of result has no format the client accepts, or (``reason``) that format cannot
    hold this result."""

    def __init__(self, kind: str, reason: str = ""):
        super().__init__(kind, reason)
        self.kind, self.reason = kind, reason


# --- executed in the worker (and in threads for in-memory stores and remote servers) --------------------
class _Writer(io.RawIOBase):
    """An answer as messages ``(head, bytes, more)`` through ``send``: a small answer is one message, not
    three (head, body, end), most of a cheap query's cost."""

    def __init__(self, send: Callable[[object], None]):
        self.send = send
        self.buf = bytearray()
        self.head: Head | None = None

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.buf += b
        if len(self.buf) >= CHUNK:
            self.part(more=True)
        return len(b)

    def hold_head(self, head: Head) -> None:
        self.head = head

    def part(self, more: bool) -> None:
        self.send((self.head, bytes(self.buf), more))
        self.buf.clear()


def _serve(
    produce: Callable[[Callable[[Head], None], io.RawIOBase], None], send: Callable[[object], None]
) -> None:
    """``produce(head, writer)``'s answer, or its error, sent as messages. An error goes as a fresh
    exception: a traceback would keep pyoxigraph objects, which must not be dropped on another thread."""
    writer = _Writer(send)
    try:
        produce(writer.hold_head, writer)
        writer.part(more=False)
    except StoreError as e:  # NotAcceptable, QueryTimeout, StoreUnavailable included
        send(type(e)(*e.args))
    except SyntaxError as e:
        send(StoreError(f"invalid SPARQL: {e}"))
    except Exception as e:  # noqa: BLE001 - reported to the caller
        send(StoreError(f"{type(e).__name__}: {e}"))


_UNKNOWN_FUNCTION = re.compile(r"The custom function <([^>]*)> is not supported")


def _query(store: ox.Store, text: str, args: dict):
    """An extension function the engine does not know is an error where it is called (the expression
    is unbound, SPARQL 1.1 §17.3), not a reason to refuse the whole query as pyoxigraph does."""
    unknown: dict[ox.NamedNode, object] = {}
    while True:
        try:
            return store.query(text, custom_functions=unknown or None, **args)
        except RuntimeError as e:
            found = _UNKNOWN_FUNCTION.search(str(e))
            if found is None or len(unknown) >= 32:
                raise
            unknown[ox.NamedNode(found.group(1))] = lambda *_: None


def _execute(store: ox.Store, job: Job, head, write) -> None:
    """Run ``job`` on ``store``; ``head(Head)`` is called once, then the body goes through ``write``."""
    args: dict = {"base_iri": job.base_iri}
    if job.default_graphs is not None or job.named_graphs is not None:
        args["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or []] or [ox.DefaultGraph()]
        args["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or []]
    elif job.union_default:
        args["use_default_graph_as_union"] = True
    serialize(_query(store, spelled_out(job.query, args), args), job, head, write)


def spelled_out(query: str, args: dict) -> str:
    """``star_in_order`` with ``SELECT *``'s variables as pyoxigraph scopes them, on an empty store, for
    every store alike (a remote server sorts them too, or orders them its own way). Called where the query
    runs, under its deadline: an ORDER BY over VALUES evaluates eagerly even on an empty store."""
    return star_in_order(query, lambda probe: [v.value for v in _query(ox.Store(), probe, args).variables])


def serialize(result, job: Job, head, write) -> None:
    """A query's result in the format the job asks for its kind: ``head(Head)`` once, then the body
    through ``write``. ``result`` is pyoxigraph's, or triples parsed from a remote server's answer."""
    if isinstance(result, ox.QueryBoolean | ox.QuerySolutions):
        kind = "boolean" if isinstance(result, ox.QueryBoolean) else "solutions"
        media = job.results_format
    else:
        kind, media = "graph", job.graph_format
    if media is None:
        raise NotAcceptable(kind)
    head(Head(kind, media))
    fmt = (ox.RdfFormat if kind == "graph" else ox.QueryResultsFormat).from_media_type(media)
    if fmt == ox.RdfFormat.JSON_LD:  # compacted, as all our JSON-LD (pyoxigraph writes it expanded)
        try:
            write.write(formats.jsonld(result))
        except ValueError as e:
            raise NotAcceptable(kind, str(e)) from e
    elif isinstance(result, ox.QueryBoolean | ox.QuerySolutions | ox.QueryTriples):
        result.serialize(write, fmt)
    else:
        ox.serialize(result, write, fmt)


def _no_network() -> None:
    """Refuse this process any IPv4 or IPv6 socket (seccomp): a SERVICE or LOAD that got past the text
    checks then fails here and no packet leaves. The pipe to the parent exists already."""
    import pyseccomp

    allow_none = pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)
    for family in (socket.AF_INET, socket.AF_INET6):
        allow_none.add_rule(pyseccomp.ERRNO(errno.EACCES), "socket", pyseccomp.Arg(0, pyseccomp.EQ, family))
    allow_none.load()


def _worker_main(conn: Connection, network: bool) -> None:
    if not network:
        _no_network()
    opened: dict[str, ox.Store] = {}  # the snapshot in use
    while True:
        try:
            snapshot, job = conn.recv()
        except EOFError:
            return

        def produce(head, writer, snapshot=snapshot, job=job) -> None:
            if snapshot not in opened:
                opened.clear()
                opened[snapshot] = ox.Store.read_only(snapshot)
            _execute(opened[snapshot], job, head, writer)

        _serve(produce, conn.send)


# --- the parent side ----------------------------------------------------------------------------------
class Slots:
    """At most ``n`` holders, and a freed slot goes to the longest waiter: with a semaphore, a query
    arriving just as a slot freed took it before those already waiting."""

    def __init__(self, n: int):
        self._free = n
        self._changed = threading.Condition()
        self._waiters: collections.deque[object] = collections.deque()

    def acquire(self, timeout: float) -> bool:
        """A slot within ``timeout`` seconds; with 0, only one that is free and that nobody waits for."""
        me = object()
        with self._changed:
            self._waiters.append(me)
            got = self._changed.wait_for(lambda: self._free > 0 and self._waiters[0] is me, timeout)
            self._waiters.remove(me)
            if got:
                self._free -= 1
            self._changed.notify_all()  # the next waiter is first now
            return got

    def release(self) -> None:
        with self._changed:
            self._free += 1
            self._changed.notify_all()


class _Worker:
    def __init__(self, ctx, network: bool):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_worker_main, args=(child, network), daemon=True, name="communs-query"
        )
        self.process.start()
        child.close()
        self.niced = False

    def kill(self) -> None:
        """Reaped off the caller's path: a killed process busy with disk I/O can take a second to exit, which
        a query past its deadline would otherwise wait for before its answer."""
        with contextlib.suppress(Exception):
            self.process.kill()
            threading.Thread(target=self.process.join, daemon=True, name="communs-reap").start()
        with contextlib.suppress(Exception):
            self.conn.close()


@dataclass
class Answer:
    """A running query: ``head`` is known, ``chunks`` streams the body within the deadline."""

    head: Head
    chunks: Iterator[bytes]
    release: Callable[[bool], None] = lambda reusable: None  # ``release(False)`` stops the work
    complete: bool = False  # the whole body is in ``chunks`` already: reading it never waits

    def close(self) -> None:
        """Stop early (client gone): the worker is killed rather than drained."""
        self.release(False)


class QueryRunner:
    """Deadline-enforcing reads of the public dataset. Thread-safe; a query runs on the snapshot of the
    store's version at its start (published then if need be), or on the remote server."""

    def __init__(self, store: Store, workers: int = 2, max_busy: int | None = None, *, network: bool = False):
        """``network``: whether queries may open connections (SERVICE to allow-listed endpoints).
        ``workers`` are kept ready; more start while all are busy, up to ``max_busy`` at once (then a query
        waits for one until its deadline), so cheap queries never queue behind heavy ones."""
        self.store = store
        self.network = network
        self.disk = isinstance(store, OxigraphStore) and store.path is not None
        self.max_idle = workers
        self.max_busy = max_busy or 4 * workers
        # Public SPARQL and the platform's own reads (pages) have slots of their own: a storm of anonymous
        # queries never makes a page wait for a worker.
        self._sparql, self._pages = Slots(self.max_busy), Slots(self.max_busy)
        self.kills = 0
        if self.disk:
            assert isinstance(store, OxigraphStore)
            self.snapshots = Snapshots(store)
            # forkserver: never fork a process holding RocksDB, yet start a worker fast.
            self._ctx = multiprocessing.get_context("forkserver")
            # A child re-runs the parent's main module (e.g. api.cli): preloaded once, not per worker.
            main = getattr(getattr(sys.modules["__main__"], "__spec__", None), "name", None)
            self._ctx.set_forkserver_preload(["graph.pool", *([main] if main else [])])
            self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
            for _ in range(workers):
                self._idle.put(_Worker(self._ctx, self.network))
            self.snapshots.current()

    def run(self, job: Job, timeout: float) -> Answer:
        """A read of the platform's own (pages, named queries): blocks until the head is known."""
        return self._run(job, time.monotonic() + timeout, timeout, self._pages)

    async def run_async(self, job: Job, timeout: float) -> Answer:
        """A public SPARQL query, from the event loop: it waits in a thread, with slots of its own."""
        deadline = time.monotonic() + timeout
        return await asyncio.to_thread(self._run, job, deadline, timeout, self._sparql)

    def _run(self, job: Job, deadline: float, timeout: float, slots: Slots) -> Answer:
        if not isinstance(self.store, OxigraphStore):  # a remote server (graph.remote): it is the snapshot
            return self.store.answer(job, deadline, timeout)  # type: ignore[attr-defined]
        if not self.disk:
            public = self.store.oxigraph  # holds only the public graphs: read as it is
            late = f"the query ran past its {timeout:g} s deadline"
            return threaded_answer(lambda head, writer: _execute(public, job, head, writer), deadline, late)
        _, snapshot = self.snapshots.current()
        if not slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise QueryTimeout(f"all {self.max_busy} query workers stayed busy for {timeout:g} s")
        try:
            worker = self._send(snapshot, job)
        except BaseException:
            slots.release()
            raise
        release = self._checkout(worker, slots)
        return _answer(functools.partial(self.within_deadline, worker, release, deadline, timeout), release)

    def _send(self, snapshot: str, job: Job) -> _Worker:
        """The worker that took the job: an idle one, or a new one if none is idle or it had died (OOM)."""
        try:
            worker = self._idle.get_nowait()
            worker.conn.send((snapshot, job))
            return worker
        except queue.Empty:
            pass
        except OSError:
            worker.kill()
        worker = _Worker(self._ctx, self.network)
        worker.conn.send((snapshot, job))
        return worker

    def _checkout(self, worker: _Worker, slots: Slots) -> Callable[[bool], None]:
        """The ``release(reusable)`` that gives ``worker`` back (or kills it) and frees its slot, once."""
        done = [False]

        def release(reusable: bool) -> None:
            if done[0]:
                return
            done[0] = True
            # A worker started for a burst is kept (up to max_busy): ending it with the burst halves the
            # memory but makes every query of the next burst pay a process start (seconds of p99 tail).
            if reusable and not worker.niced and self._idle.qsize() < self.max_busy:
                self._idle.put(worker)
            else:
                worker.kill()
                if self._idle.qsize() < self.max_idle:
                    threading.Thread(target=self._replenish, daemon=True, name="communs-spawn").start()
            slots.release()

        return release

    def _replenish(self) -> None:
        """Start a worker to replace a killed one, off the path of the next query."""
        with contextlib.suppress(Exception):
            if self._idle.qsize() < self.max_idle:
                self._idle.put(_Worker(self._ctx, self.network))

    def within_deadline(self, worker: _Worker, release, deadline: float, timeout: float) -> Message:
        """The worker's next message (an answer's head, then each chunk of a long one), or the worker
        killed at ``deadline`` and QueryTimeout raised: where every query meets its deadline. A query still
        running after HEAVY_AFTER gets a lower CPU priority, for good: its worker is replaced after it."""
        left = deadline - time.monotonic()
        if not worker.niced and left > HEAVY_AFTER and not worker.conn.poll(HEAVY_AFTER):
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, worker.process.pid, HEAVY_NICE)
                worker.niced = True
            left = deadline - time.monotonic()
        if left <= 0 or not worker.conn.poll(left):
            self.kills += 1
            release(False)
            raise QueryTimeout(f"the query ran past its {timeout:g} s deadline and was stopped")
        try:
            return worker.conn.recv()
        except (EOFError, OSError) as e:
            release(False)
            raise StoreError("the query worker process died") from e

    def close(self) -> None:
        if not self.disk:
            return
        with contextlib.suppress(queue.Empty):
            while True:
                self._idle.get_nowait().kill()
        self.snapshots.close()


def _answer(receive: Callable[[], Message], release: Callable[[bool], None]) -> Answer:
    """The answer whose messages ``receive`` gives (within the deadline): the whole of a small one."""

    def part() -> tuple[Head, bytes, bool]:
        message = receive()
        if isinstance(message, Exception):
            release(True)
            raise message
        return message

    head, first, more = part()
    if not more:
        release(True)
        return Answer(head, iter([first] if first else []), complete=True)

    def chunks() -> Iterator[bytes]:
        body, more = first, True
        while more:
            yield body
            _, body, more = part()
        release(True)
        if body:
            yield body

    return Answer(head, chunks(), release)


def threaded_answer(
    produce: Callable[[Callable[[Head], None], io.RawIOBase], None],
    deadline: float,
    late: str,
    stop: Callable[[], None] = lambda: None,
) -> Answer:
    """``produce(head, writer)`` run in a thread, its answer read here within the deadline.

    For work that cannot be killed (an in-memory store, a remote server's answer): past the deadline the
    caller gets ``QueryTimeout(late)`` and ``stop`` is called to cut what can be cut."""
    out: queue.Queue = queue.Queue()
    threading.Thread(target=_serve, args=(produce, out.put), daemon=True, name="communs-query").start()

    def receive() -> Message:
        try:
            return out.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            stop()
            raise QueryTimeout(late) from None

    return _answer(receive, lambda reusable: None if reusable else stop())


class Reader:
    """What ``api.pages.store_of`` returns: the store, but for its public select/ask/construct, which get
    a real deadline in the runner's workers (``public=False`` reads, for moderation, go to the store)."""

    def __init__(self, store: Store, runner: QueryRunner, timeout: float):
        self.store = store
        self.runner = runner
        self.timeout = timeout

    def __getattr__(self, name: str):
        if name == "store":
            raise AttributeError(name)
        return getattr(self.store, name)

    def _body(self, query: str, bindings: Bindings | None, timeout: float | None, results: bool) -> bytes:
        media = formats.SPARQL_JSON.media_type if results else None
        job = Job(bind(query, bindings or {}), media, None if results else formats.NTRIPLES.media_type)
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        return b"".join(self.runner.run(job, limit).chunks)

    def _direct(self, public: bool) -> bool:
        # Private reads need the store; an in-memory store has no workers to gain from.
        return not public or not self.runner.disk

    def select(self, query, bindings=None, *, public=True, timeout=None):
        if self._direct(public):
            return self.store.select(query, bindings, public=public, timeout=timeout)
        body = self._body(query, bindings, timeout, True)
        return as_rows(ox.parse_query_results(body, ox.QueryResultsFormat.JSON))

    def scan(self, query, names):
        if not self.runner.disk:
            return self.store.scan(query, names)
        # In this process, on the public snapshot: no worker to serialise and this process to parse, and
        # no public deadline (the index build reads whole lists).
        snapshot = self.runner.snapshots.opened()
        return [tuple(s[n] for n in names) for s in snapshot.query(query, use_default_graph_as_union=True)]

    def ask(self, query, bindings=None, *, public=True):
        if self._direct(public):
            return self.store.ask(query, bindings, public=public)
        body = self._body(query, bindings, None, True)
        return bool(ox.parse_query_results(body, ox.QueryResultsFormat.JSON))

    def construct(self, query, bindings=None, *, public=True):
        if self._direct(public):
            return self.store.construct(query, bindings, public=public)
        return list(ox.parse(self._body(query, bindings, None, False), ox.RdfFormat.N_TRIPLES))
