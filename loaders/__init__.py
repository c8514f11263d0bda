"""Loaders: each reads one kind of source and returns the triples of one or more named graphs.

A loader never writes to the store itself: it returns an :class:`ImportResult`, fully built in
memory, and ``api.cli`` replaces each graph atomically. So bad input fails before anything is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.formats import delimiter_of, opened
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
    """A text file, gzipped when its name ends in .gz, without its BOM (Excel's « CSV UTF-8 » has one);
    unreadable → SourceError. Text of another encoding names its line: what French Excel saves as plain
    « CSV » is Windows-1252, so the message says how to save it again (in French, for whoever made it): as
    « CSV UTF-8 » for a CSV, in UTF-8 for any other."""
    try:
        with opened(path) as f:
            data = f.read()
    except OSError as e:
        raise SourceError(path, f"unreadable {what}: {e}") from None
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        how = "enregistrez-le en UTF-8"
        if path.name.lower().removesuffix(".gz").endswith(".csv"):
            how = "dans Excel ou LibreOffice, enregistrez-le au format « CSV UTF-8 »"
        raise SourceError(
            path,
            f"le fichier n'est pas en {encoding.upper()} (octet illisible 0x{data[e.start]:02x}) : {how}",
            data[: e.start].count(b"\n") + 1,
        ) from None


def csv_reader(text: str, delimiter: str | None = None) -> csv.DictReader:
    """A CSV's rows by its header; without a stated delimiter, the one its header uses (French Excel's
    « ; », graph.formats.delimiter_of)."""
    return csv.DictReader(io.StringIO(text), delimiter=delimiter or delimiter_of(text))


def named(t: Triples, s: ox.NamedNode, label: str, *classes: str, prop: str = "schema:name") -> None:
    """A resource of ``classes`` with its French name, as rdfs:label and ``prop``."""
    t.a(s, *classes)
    t.label(s, label)
    t.add(s, prop, label, "fr")
