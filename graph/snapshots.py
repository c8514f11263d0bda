"""The public snapshots the query workers read: one RocksDB checkpoint of the public store per version.

The embedded store keeps private graphs in an engine of their own (graph.store), so a checkpoint of the
public engine is a public snapshot as it is: publishing a version costs a checkpoint (hard links, a few
ms) whatever the size of the store, and a worker can only ever see public data, whatever the query asks
(``GRAPH ?g``, ``FROM NAMED``). A checkpoint stays consistent while the writer goes on; old ones are
deleted once newer ones are served (a worker still reading one keeps its files open, POSIX).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pyoxigraph as ox

from graph.store import OxigraphStore

SNAPSHOTS_KEPT = 3


class Snapshots:
    """The checkpoints of one on-disk store, in ``<store>.snapshots`` beside it. Thread-safe."""

    def __init__(self, store: OxigraphStore):
        assert store.path is not None
        self.store = store
        self.dir = store.path.with_name(store.path.name + ".snapshots")
        shutil.rmtree(self.dir, ignore_errors=True)  # a previous run's: no worker reads them any more
        self.dir.mkdir(parents=True)
        self._lock = threading.Lock()
        self._current: tuple[int, str] | None = None
        self._published: list[str] = []  # paths, oldest first
        self._opened: tuple[str, ox.Store] | None = None

    def current(self) -> tuple[int, str]:
        """(version, path) of the snapshot of the store's current version, published on first demand."""
        with self._lock:
            if self._current is None or self._current[0] != self.store.version:
                path = str(self.dir / str(time.monotonic_ns()))
                version = self.store.checkpoint(Path(path))
                self._current = (version, path)
                self._published.append(path)
                for old in self._published[:-SNAPSHOTS_KEPT]:
                    shutil.rmtree(old, ignore_errors=True)
                del self._published[:-SNAPSHOTS_KEPT]
            return self._current

    def opened(self) -> ox.Store:
        """The current snapshot opened read-only in this process, for the platform's trusted bulk reads
        (the browsing index): reopened only when a newer one is published."""
        path = self.current()[1]
        with self._lock:
            if self._opened is None or self._opened[0] != path:
                self._opened = (path, ox.Store.read_only(path))
            return self._opened[1]

    def close(self) -> None:
        with self._lock:
            self._opened = None
        shutil.rmtree(self.dir, ignore_errors=True)
