"""The published snapshot, for other processes: one small shared file the writer updates in place.

The main process (graph.runner) writes the store's version on every committed change and the snapshot it
serves; sibling processes (api.lane) read it on every request to answer from the same snapshot, or to
hand the request over when the store has moved past it. A seqlock makes a read that overlapped a write
try again, so a reader never sees a version with another version's path.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from pathlib import Path

_HEAD = struct.Struct("<QQQH")  # sequence (odd while written), store version, snapshot version, path size
SIZE = 4096


class Board:
    def __init__(self, path: Path, *, writer: bool = False):
        self.path = path
        flags = os.O_RDWR | os.O_CREAT if writer else os.O_RDONLY
        fd = os.open(path, flags, 0o600)
        try:
            if writer:
                os.ftruncate(fd, SIZE)
            access = mmap.ACCESS_WRITE if writer else mmap.ACCESS_READ
            self._map = mmap.mmap(fd, SIZE, access=access)
        finally:
            os.close(fd)
        self._lock = threading.Lock()
        self._state = (0, 0, "")

    def write(self, store_version: int | None = None, snapshot: tuple[int, str] | None = None) -> None:
        """Change the store's version, the snapshot served (version, path), or both."""
        with self._lock:
            version, snap_version, path = self._state
            if store_version is not None:
                version = store_version
            if snapshot is not None:
                snap_version, path = snapshot
            raw = path.encode()
            if _HEAD.size + len(raw) > SIZE:
                raise ValueError(f"snapshot path too long for the board: {path}")
            self._state = (version, snap_version, path)
            seq = _HEAD.unpack_from(self._map)[0]
            struct.pack_into("<Q", self._map, 0, seq + 1)  # odd: readers wait
            _HEAD.pack_into(self._map, 0, seq + 1, version, snap_version, len(raw))
            self._map[_HEAD.size : _HEAD.size + len(raw)] = raw
            struct.pack_into("<Q", self._map, 0, seq + 2)

    def read(self) -> tuple[int, int, str]:
        """(store version, snapshot version, snapshot path); the path is "" before the first snapshot."""
        for _ in range(100_000):
            seq, version, snap_version, size = _HEAD.unpack_from(self._map)
            if seq % 2:
                continue
            path = self._map[_HEAD.size : _HEAD.size + size].decode(errors="replace")
            if _HEAD.unpack_from(self._map)[0] == seq:
                return version, snap_version, path
        return 0, -1, ""  # a writer that died mid-write: no snapshot to serve

    def close(self) -> None:
        self._map.close()
