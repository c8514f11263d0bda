"""One interface over the triple stores the platform can run on: pyoxigraph on disk or in memory, or a
remote SPARQL 1.1 server (``graph.remote``). Terms are pyoxigraph's value types everywhere.

Reads see only the public dataset (the union of public named graphs) unless ``public=False``, which no
anonymous HTTP path passes: private graphs hold personal data, pending contributions and histories.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import itertools
import json
import os
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph import formats, sparql_text
from graph.namespaces import Minter
from graph.sparql_text import Bindings, bind
from graph.terms import Triples

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def as_rows(solutions: ox.QuerySolutions) -> list[dict[str, Term]]:
    """Query solutions as a list of rows, unbound variables absent from the row."""
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in solutions]


class StoreError(Exception):
    """A store operation failed for a reason the user can act on (bad query, bad data)."""


class QueryTimeout(StoreError):
    """The query ran past its deadline and was stopped."""


class StoreUnavailable(StoreError):
    """The store (a remote server) cannot be reached right now."""


@dataclass
class GraphMeta:
    """Where a named graph came from: recorded next to it in the metadata graph."""

    label: str
    source: str  # IRI or file name of the source document
    license: str | None = None  # IRI of the licence
    description: str | None = None
    issued: dt.date | None = None  # when the source published this version: its records' date, not the load's
    version: str | None = None  # owl:versionInfo: the digest of the files loaded (the ontology's)


BULK_TIMEOUT = 600.0  # seconds: Store.scan, the platform's own whole-list reads
DEFAULT_GRAPH = ""  # the unnamed default graph, where a graph IRI is expected (count, quads, dumps)


class Store(ABC):
    """What the platform needs from a triple store."""

    def __init__(self, base_iri: str):
        self.minter = Minter(base_iri)
        self.meta_graph = self.minter.graph("meta")
        self.private_meta_graph = self.minter.private_graph("meta")
        self.written: set[str] = set()  # public graphs replaced or dropped since graph.search last took them
        # Called after every committed change to public graphs, in the writer's thread (some under its
        # lock): each only schedules the re-reading of what it derives (the name index, the downloads).
        self.listeners: list[Callable[[list[str]], None]] = []

    @property
    def sorted_rows(self) -> int | None:
        """How deep (offset + limit) a sorted query may read, if the store bounds it (a SPARQL server's)."""
        return None

    def changed(self, graphs: list[str]) -> None:
        """Tell the listeners that the version moved, and which public graphs moved it (also kept in
        ``written``: the browsing index re-reads what they describe)."""
        self.written.update(graphs)
        for listener in list(self.listeners):
            listener(graphs)

    def graphs_named(self, sparql: str) -> tuple[list[str], list[str]]:
        """The private and the public graphs of ours an update names."""
        ours = [i for i in sparql_text.named_iris(sparql) if i.startswith(self.minter.graph(""))]
        public = [g for g in ours if self.minter.is_public_graph(g)]
        return [g for g in ours if g not in public], public

    def meta_graph_of(self, graph: str) -> str:
        """Where a graph's provenance goes: a private graph's label, file name and triple count are not
        public either, so they go to a private metadata graph (the public one is in every snapshot)."""
        return self.meta_graph if self.minter.is_public_graph(graph) else self.private_meta_graph

    def forget_meta(self, g: ox.NamedNode) -> str:
        """The SPARQL Update removing what both metadata graphs say about ``g``."""
        return " ;\n".join(
            f"DELETE WHERE {{ GRAPH <{m}> {{ {g} ?p ?o }} }}"
            for m in (self.meta_graph, self.private_meta_graph)
        )

    # --- reading ---------------------------------------------------------------------------
    @abstractmethod
    def select(
        self,
        query: str,
        bindings: Bindings | None = None,
        *,
        public: bool = True,
        timeout: float | None = None,
    ) -> list[dict[str, Term]]:
        """SELECT → list of rows (unbound variables absent from the row)."""

    def scan(self, query: str, names: tuple[str, ...]) -> list[tuple[Term | None, ...]]:
        """A whole public SELECT for the platform's own bulk reads (the browsing index), as tuples in
        ``names`` order: trusted queries reading whole lists, so past the public deadline."""
        return [tuple(r.get(n) for n in names) for r in self.select(query, timeout=BULK_TIMEOUT)]

    @abstractmethod
    def ask(self, query: str, bindings: Bindings | None = None, *, public: bool = True) -> bool: ...

    @abstractmethod
    def construct(
        self, query: str, bindings: Bindings | None = None, *, public: bool = True
    ) -> list[ox.Triple]: ...

    @abstractmethod
    def graphs(self) -> list[str]:
        """Every named graph, public or not."""

    def has_graph(self, graph: str) -> bool:
        """Whether the named graph exists (public or not)."""
        return graph in (self.public_graphs() if self.minter.is_public_graph(graph) else self.graphs())

    @abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of one graph, or of the whole store."""

    def public_graphs(self) -> list[str]:
        return [g for g in self.graphs() if self.minter.is_public_graph(g)]

    def public_default_count(self) -> int:
        """Triples of an unnamed default graph that public queries read besides the named graphs (a token
        holder's update without ``GRAPH`` writes there): none here, as a remote store's public default
        graph is the union of its public named graphs."""
        return 0

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Number of quads in one graph, or in the whole store."""

    def dump(self, output: io.BufferedIOBase, fmt: ox.RdfFormat, graphs: list[str] | None = None) -> None:
        """Serialise the given named graphs (all graphs if None, private ones included: callers filter).
        Quad formats keep graph names; triple formats merge the graphs."""
        quads = self.quads() if graphs is None else (q for g in graphs for q in self.quads(g))
        ox.serialize(quads if fmt.supports_datasets else (q.triple for q in quads), output, fmt)

    # --- writing ---------------------------------------------------------------------------
    @abstractmethod
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple], meta: GraphMeta | None = None) -> int:
        """Replace a named graph with ``triples`` in one atomic step; returns the new triple count.
        If anything fails, the previous graph is left as it was."""

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL Update atomically."""

    @property
    @abstractmethod
    def version(self) -> int:
        """Grows on every committed change to the public graphs: the cache key and ETag of everything derived
        from them (a proposal, written to private graphs, leaves the pages, the index and the dumps be)."""

    def close(self) -> None:  # noqa: B027 - optional for subclasses
        """Release files or connections."""

    @contextlib.contextmanager
    def public_copy(self) -> Iterator[Callable[[], Store] | None]:
        """How another process opens the public data as they are now (a picklable call), for a bulk read
        that would otherwise hold this process's GIL; ``None`` when it cannot (in memory)."""
        yield None

    # --- shared helpers -----------------------------------------------------------------
    def replacement(self, graph: str, lines: set[str], meta: GraphMeta | None) -> str:
        """The one SPARQL Update replacing ``graph`` by ``lines`` (N-Triples), so readers see the old
        graph or the new one, and with ``meta`` its provenance."""
        g = ox.NamedNode(graph)
        body = " .\n".join(lines)
        update = f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{ {body} }} }}"
        return f"{update} ;\n{self.meta_update(graph, meta, len(lines))}" if meta else update

    def meta_update(self, graph: str, meta: GraphMeta, count: int) -> str:
        """The SPARQL Update replacing what the metadata graphs say about ``graph``."""
        body = " .\n".join(str(t) for t in self.meta_triples(graph, meta, count))
        insert = f"INSERT DATA {{ GRAPH <{self.meta_graph_of(graph)}> {{ {body} }} }}"
        return f"{self.forget_meta(ox.NamedNode(graph))} ;\n{insert}"

    def meta_triples(self, graph: str, meta: GraphMeta, count: int) -> list[ox.Triple]:
        """Nothing for a metadata graph (an import of a dump holding it): its own count, taken before the
        other graphs' descriptions land in it, went stale, and the home page said it where VoID counts."""
        if graph in (self.meta_graph, self.private_meta_graph):
            return []
        g = ox.NamedNode(graph)
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        source = ox.NamedNode(meta.source) if "://" in meta.source else ox.Literal(meta.source)
        t = Triples()
        t.a(g, "prov:Entity")
        t.label(g, meta.label)
        t.add(g, "dcterms:source", source)
        t.add(g, "prov:generatedAtTime", at)
        t.add(g, "dcterms:modified", at)
        t.add(g, "void:triples", count)
        if isinstance(source, ox.NamedNode):
            t.add(g, "prov:wasDerivedFrom", source)
        if meta.license:
            t.add(g, "dcterms:license", ox.NamedNode(meta.license))
        t.add(g, "dcterms:description", meta.description, "fr")
        t.add(g, "dcterms:issued", meta.issued)
        t.add(g, "owl:versionInfo", meta.version)
        return t


class OxigraphStore(Store):
    """pyoxigraph, on disk or in memory (``path=None``), as two engines: the public graphs in ``path``,
    the private ones in ``path.private``, so a checkpoint of the public one is a public snapshot as it is.
    ``public=False`` reads the private engine only; a write's graphs pick its engine, never both."""

    def __init__(self, base_iri: str, path: str | Path | None = None, *, read_only: bool = False):
        super().__init__(base_iri)
        self.path = Path(path) if path is not None else None
        if self.path and self.path.suffix == ".private" and self.path.with_suffix("").is_dir():
            # Opened as a store of its own, it got a companion of its own and held no public graph.
            raise StoreError(
                f"{self.path} est la partie privée de l'entrepôt {self.path.with_suffix('')} : "
                "donnez ce chemin-là"
            )
        self.read_only = read_only
        private = self.path.with_name(self.path.name + ".private") if self.path else None
        # The private engine opened first: read-only, each engine is seen as it was when opened, and a change
        # writes the public one first (graph.contributions), so a backup taken while serving never has an
        # acceptance recorded whose content is not public (at worst the reverse: what a retry mends).
        self._private = self._open(private if private is None or private.exists() or not read_only else None)
        self.oxigraph = self._open(self.path)  # the public engine (graph.snapshots checkpoints it)
        self._version_file = self.path.with_name(self.path.name + ".version") if self.path else None
        self._version = self._read_version()
        self._write_lock = threading.Lock()
        # What ends every update of the public engine (see _public_only): the guard graph, itself non-public,
        # is made when the update left a non-public graph there, so creating it then fails.
        guard = ox.NamedNode(self.minter.private_graph("garde"))
        self._guard = guard.value
        self._guard_ops = (
            f" INSERT {{ GRAPH {guard} {{ {guard} {guard} {guard} }} }} "
            f"WHERE {{ GRAPH ?g {{ }} FILTER({self.minter.non_public_filter('g')}) }} ;\n"
            f"CREATE GRAPH {guard} ;\nDROP GRAPH {guard}"
        )
        self._pending = self.path.with_name(self.path.name + ".bulk-pending") if self.path else None
        if self._pending and self._pending.exists() and not read_only:
            self._drop_unfinished_bulk(self._pending)
        self._copies = self.path.with_name(self.path.name + ".copies") if self.path else None
        if self._copies and not read_only:
            shutil.rmtree(self._copies, ignore_errors=True)

    def _open(self, path: Path | None) -> ox.Store:
        if path is None:
            return ox.Store()
        if path.is_file():  # not a store in use, as Oxigraph's « exists but is not a directory » suggested
            raise StoreError(f"cannot open the store at {path}: it is a file, not a store's folder")
        if self.read_only:
            return ox.Store.read_only(str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return ox.Store(str(path))
        except OSError as e:
            raise StoreUnavailable(
                f"cannot open the store at {path}: {e} (is another 'communs' process using it?)"
            ) from e

    def _of(self, graph: str) -> ox.Store:
        """The engine that holds ``graph``."""
        return self.oxigraph if self.minter.is_public_graph(graph) else self._private

    # --- reading ---------------------------------------------------------------------------
    def _run(self, query: str, bindings: Bindings | None, public: bool):
        store = self.oxigraph if public else self._private
        try:
            return store.query(bind(query, bindings or {}), use_default_graph_as_union=True)
        except SyntaxError as e:
            raise StoreError(f"invalid SPARQL: {e}") from e

    def select(self, query, bindings=None, *, public=True, timeout=None):
        return as_rows(self._run(query, bindings, public))

    def scan(self, query, names):
        return [tuple(s[n] for n in names) for s in self._run(query, None, True)]  # no row dicts on the way

    def ask(self, query, bindings=None, *, public=True):
        return bool(self._run(query, bindings, public))

    def construct(self, query, bindings=None, *, public=True):
        return list(self._run(query, bindings, public))

    def graphs(self):
        return [
            g.value
            for s in (self.oxigraph, self._private)
            for g in s.named_graphs()
            if isinstance(g, ox.NamedNode)
        ]

    def public_graphs(self):
        return [g.value for g in self.oxigraph.named_graphs() if isinstance(g, ox.NamedNode)]

    def has_graph(self, graph):
        return self._of(graph).contains_named_graph(ox.NamedNode(graph))

    def public_default_count(self):
        return self.count(DEFAULT_GRAPH)

    def count(self, graph=None):
        if graph is None:
            return len(self.oxigraph) + len(self._private)
        # Counted by the engine: iterating the quads in Python is far slower.
        pattern = f"GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }}" if graph else "?s ?p ?o"
        counted = self._of(graph).query(f"SELECT (COUNT(*) AS ?n) {{ {pattern} }}")
        return int(next(iter(counted))["n"].value)

    def quads(self, graph=None):
        if graph is None:
            return itertools.chain(self.oxigraph, self._private)
        name = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        return self._of(graph).quads_for_pattern(None, None, None, name)

    # --- writing ---------------------------------------------------------------------------
    def _read_version(self) -> int:
        if not self._version_file or not self._version_file.exists():
            return 0
        try:
            return int(self._version_file.read_text())
        except ValueError:
            # Unreadable (written by an older release when the process was killed mid-write): a version
            # above any counted one, so that no ETag or snapshot of before is taken for the current state.
            return time.time_ns() // 1_000_000

    def _bump(self, graphs: list[str]) -> None:
        self._version += 1
        if self._version_file:
            _write_aside(self._version_file, str(self._version))
        self.changed(graphs)

    def replace_graph(self, graph, triples, meta=None):
        g = ox.NamedNode(graph)
        store = self._of(graph)
        lines = {str(t) for t in triples}  # materialised first: a failing source never touches the store
        with self._write_lock:
            if store.contains_named_graph(g):
                store.update(self.replacement(graph, lines, meta))
            else:
                # One load is one transaction, and much faster than INSERT DATA on disk.
                store.update(self.forget_meta(g))
                data = "".join(f"{line} {g} .\n" for line in lines)
                if meta:
                    mg = self.meta_graph_of(graph)
                    data += "".join(f"{t} <{mg}> .\n" for t in self.meta_triples(graph, meta, len(lines)))
                if data:
                    store.load(data.encode(), ox.RdfFormat.N_QUADS)
            if self.minter.is_public_graph(graph):
                self._bump([graph])
        return len(lines)

    def bulk_import(
        self, path: Path, fmt: ox.RdfFormat, graphs: list[str], target: str, meta: GraphMeta | None
    ) -> int | None:
        """Load a whole file into its ``graphs`` (from ``loaders.rdf.scan``), all new, with pyoxigraph's bulk
        loader instead of holding it in memory; None, writing nothing, when one exists (a replacement
        must stay atomic). The loader is not transactional, so a file beside the store names the graphs
        until the end: after a crash, the next opening drops them and the store is as before."""
        if self.read_only or self._pending is None:  # in memory, or read-only
            return None
        engines = {id(self._of(g)): self._of(g) for g in graphs} or {0: self._of(target)}
        with self._write_lock:
            if any(self.has_graph(g) for g in graphs):
                return None
            _write_aside(self._pending, json.dumps(sorted(graphs)))
            try:
                if len(engines) == 1:
                    (engine,) = engines.values()
                    base, to = self.minter.base, ox.NamedNode(target)
                    with formats.opened(path) as f:
                        engine.bulk_load(f, fmt, base_iri=base, to_graph=to)
                else:
                    for engine in engines.values():
                        engine.bulk_extend(self._quads_for(engine, path, fmt, ox.NamedNode(target)))
                total = 0
                for graph in graphs:
                    count = self.count(graph)  # counted again: duplicates in the file are stored once
                    total += count
                    forget = self.forget_meta(ox.NamedNode(graph))
                    self._of(graph).update(self.meta_update(graph, meta, count) if meta else forget)
                for engine in engines.values():
                    engine.flush()
            except BaseException:
                self._drop_graphs(graphs)
                raise
            finally:
                self._pending.unlink(missing_ok=True)
            if public := [g for g in graphs if self.minter.is_public_graph(g)]:
                self._bump(public)
        return total

    def _quads_for(
        self, engine: ox.Store, path: Path, fmt: ox.RdfFormat, target: ox.NamedNode
    ) -> Iterator[ox.Quad]:
        """The file's quads that go to ``engine``, its default graph read as ``target``."""
        with formats.opened(path) as f:
            for q in ox.parse(f, format=fmt, base_iri=self.minter.base, rename_blank_nodes=True):
                if isinstance(q.graph_name, ox.DefaultGraph):
                    q = ox.Quad(q.subject, q.predicate, q.object, target)
                if self._of(q.graph_name.value) is engine:
                    yield q

    def restore(self, path: Path, version: int) -> None:
        """Every quad of a backup (``communs backup``'s N-Quads) back in its graph and engine as it is, the
        metadata graphs too (an import would describe each graph as coming from the file), at the backed-up
        ``version``. Into an empty store only: the bulk loader is not transactional, so a failure empties it
        again."""
        if self.count():
            raise StoreError(f"{self.path} is not empty: restore into a new --store")
        with self._write_lock:
            try:
                for engine in (self.oxigraph, self._private):
                    with formats.opened(path) as f:
                        quads = ox.parse(f, format=ox.RdfFormat.N_QUADS)
                        engine.bulk_extend(q for q in quads if self._of(_graph_of(q)) is engine)
                    engine.flush()
            except BaseException:
                self.oxigraph.clear()
                self._private.clear()
                raise
            self._version = version
            if self._version_file:
                _write_aside(self._version_file, str(version))

    def _drop_unfinished_bulk(self, pending: Path) -> None:
        """Graphs of a bulk import the process did not finish (see :meth:`bulk_import`) are dropped."""
        try:
            graphs = json.loads(pending.read_text() or "[]")
        except ValueError:
            graphs = []  # cut while being written: nothing was loaded yet
        self._drop_graphs(graphs)
        self.oxigraph.flush()
        self._private.flush()
        pending.unlink()
        self._bump([])

    def _drop_graphs(self, graphs: list[str]) -> None:
        for graph in graphs:
            g = ox.NamedNode(graph)
            self._of(graph).remove_graph(g)
            self._of(graph).update(self.forget_meta(g))

    def update(self, sparql):
        """Run on the engine of the graphs the update names: the private one if it names a private
        graph, else the public one (the endpoint's updates name public graphs only)."""
        private, public = self.graphs_named(sparql)
        if private and public:
            # No transaction spans the two engines: such a change is two updates, written in an order that
            # loses nothing if the second never happens (see ``Contributions._commit``).
            raise StoreError(f"an update names both a private graph (<{private[0]}>) and public graphs")
        with self._write_lock:
            try:
                if private:
                    self._private.update(sparql)
                else:
                    self.oxigraph.update(sparql + self._public_only(sparql))
            except SyntaxError as e:
                raise StoreError(f"invalid SPARQL Update: {e}") from e
            except RuntimeError as e:
                if f"<{self._guard}>" in str(e):
                    raise StoreError(
                        "the update writes into a non-public graph (a graph name computed when it runs): "
                        "write to public graphs only"
                    ) from None
                raise
            if not private:
                self._bump(public)

    def _public_only(self, sparql: str) -> str:
        """What follows an update of the public engine so that it fails whole, in its own transaction, if
        it left a non-public graph there (``GRAPH ?g`` bound at run time names no graph the text shows)."""
        toks = sparql_text.tokens(sparql)
        words = [t[1].upper() for t in toks[-3:]]
        # After a ';' or a prologue, another operation may follow directly; after an operation, a ';'.
        tail = ";" in words[-1:] or "BASE" in words[-2:-1] or "PREFIX" in words[-3:-2] or not toks
        return f"\n{'' if tail else ';'}{self._guard_ops}"

    @property
    def version(self):
        return self._version

    def checkpoint(self, folder: Path) -> int:
        """A RocksDB checkpoint of the public engine in ``folder`` (hard links: cheap whatever the size);
        the version it holds."""
        with self._write_lock:
            self.oxigraph.backup(str(folder))
            return self._version

    @contextlib.contextmanager
    def public_copy(self):
        """A checkpoint of the public engine (hard links), deleted after use; one a killed process left is
        deleted when the store is next opened for writing."""
        if self.path is None:
            yield None
            return
        folder = self._copies / str(time.monotonic_ns())
        self._copies.mkdir(exist_ok=True)
        self.checkpoint(folder)
        try:
            yield functools.partial(OxigraphStore, self.minter.base, folder, read_only=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self):
        if self.path is not None and not self.read_only:
            self.oxigraph.flush()  # a read-only instance has nothing to flush (and refuses to)
            self._private.flush()
        del self.oxigraph, self._private


def _graph_of(quad: ox.Quad) -> str:
    return quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else DEFAULT_GRAPH


def _write_aside(path: Path, text: str) -> None:
    """Written aside then renamed: a process killed mid-write leaves the old content, never a part."""
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    os.replace(part, path)


def open_store(location: str | None, base_iri: str, *, read_only: bool = False) -> Store:
    """``:memory:`` → in memory; ``sparql+http(s)://…`` → remote server; anything else → a directory."""
    if location in (None, ":memory:"):
        return OxigraphStore(base_iri)
    if location.startswith(("sparql+http://", "sparql+https://")):
        from graph.remote import RemoteStore

        return RemoteStore(base_iri, location)
    return OxigraphStore(base_iri, location, read_only=read_only)
