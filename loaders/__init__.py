"""Loaders: each reads one kind of source and returns the triples of one or more named graphs.

A loader never writes to the store itself: it returns an :class:`ImportResult`, fully built in
memory, and ``api.cli`` replaces each graph atomically. So bad input fails before anything is written.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.store import GraphMeta
from graph.terms import Triples


@dataclass
class GraphLoad:
    """The full new content of one named graph."""

    graph: str
    triples: list[ox.Triple]
    meta: GraphMeta


@dataclass
class ImportResult:
    graphs: list[GraphLoad]
    report: list[str]  # what was extracted, names left unresolved


class SourceError(Exception):
    """Bad input the user can fix: names the file and, when known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path, self.line, self.message = str(path), line, message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


def read_text(path: Path, encoding: str = "utf-8", what: str = "file") -> str:
    """A text file, gzipped when its name ends in .gz; unreadable → SourceError."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rt", encoding=encoding, newline="") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(path, f"unreadable {what}: {e}") from None


def named(t: Triples, s: ox.NamedNode, label: str, *classes: str, prop: str = "schema:name") -> None:
    """A resource of ``classes`` with its French name, as rdfs:label and ``prop``."""
    t.a(s, *classes)
    t.label(s, label)
    t.add(s, prop, label, "fr")
