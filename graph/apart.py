"""Whole reads of the store in a child process: the name index (graph.matching), the downloads (graph.dumps),
a full build of the lists and search index (graph.search).

Such a read is Python work for every row. In a thread of the serving process it would hold the GIL for as
long as it takes, and every page would wait for it meanwhile. A child reads a copy of the public data
(``Store.public_copy``: a checkpoint of a store on disk, or the remote server itself) and sends back its
result, which the parent unpickles as it arrives, a frame at a time.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import pickle
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from graph.store import Store, StoreError


def call(work: Callable[..., Any], opener: Callable[[], Store], *args: Any, keep: bool = False) -> Any:
    """``work(store, *args)`` in a child process, on the store ``opener`` opens there; its result, or its
    exception raised here. ``keep``: the result is many objects without cycles kept for long (an index):
    no collection of the garbage collector should walk them, neither while they arrive nor later."""
    context = multiprocessing.get_context("forkserver")  # never fork a process holding RocksDB
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, opener, args, send), daemon=True, name="communs-apart")
    child.start()
    send.close()
    if keep:
        gc.disable()
    try:
        result = pickle.load(io.BufferedReader(Chunks(iter(receive.recv_bytes, None)), 1 << 16))
    except EOFError:
        raise StoreError(f"the process running {work.__name__} ended without an answer") from None
    finally:
        if keep:
            gc.freeze()
            gc.enable()
        receive.close()
        child.join()
    if isinstance(result, BaseException):
        raise result
    return result


class Chunks(io.RawIOBase):
    """Chunks of bytes as a file: the pickle a child sends, message by message (and a remote server's
    streamed answer). The C unpickler calls this, Python code, once per frame (64 KiB): a page's thread
    waiting for the GIL gets it there, so a large result never holds it whole."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.pending = chunks, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.pending = memoryview(chunk)
        n = min(len(buffer), len(self.pending))
        buffer[:n], self.pending = self.pending[:n], self.pending[n:]
        return n


class _Sent(io.RawIOBase):
    def __init__(self, conn: Connection):
        self.conn = conn

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.conn.send_bytes(b)
        return len(b)


def _child(work: Callable[..., Any], opener: Callable[[], Store], args: tuple, send: Connection) -> None:
    try:
        store = opener()
        try:
            result = work(store, *args)
        finally:
            store.close()
    except Exception as e:  # noqa: BLE001 - raised again in the parent
        result = e
    pickle.dump(result, _Sent(send), protocol=pickle.HIGHEST_PROTOCOL)
