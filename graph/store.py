"""One interface over the triple stores the platform can run on.

Terms are pyoxigraph's value types (NamedNode, Literal, BlankNode, Triple, Quad) everywhere, because
they validate IRIs and escape literals; the *store* behind the interface may be pyoxigraph on disk, in
memory, or a remote SPARQL 1.1 server (``graph.remote``).

Reads through :meth:`Store.select` / :meth:`ask` / :meth:`construct` see only the public dataset: the
union of public named graphs as default graph, and only public graphs as named graphs. Private graphs
(personal data, pending contributions) are reachable only with ``public=False``, which no anonymous
HTTP path passes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.namespaces import DCTERMS, PROV, RDF, RDFS, XSD, Minter, sparql_prefixes
from graph.sparql_text import bind

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Bindings = dict[str, Term]


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


BULK_TIMEOUT = 600.0  # seconds: Store.scan, the platform's own whole-list reads


class Store(ABC):
    """What the platform needs from a triple store."""

    def __init__(self, base_iri: str):
        self.minter = Minter(base_iri)
        self.meta_graph = self.minter.graph("meta")
        self.private_meta_graph = self.minter.private_graph("meta")
        self.written: set[str] = set()  # graphs replaced or dropped since graph.search last took them

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
        ``names`` order. These are trusted queries reading whole lists: at 20M quads one can outlast the
        public deadline, so they get :data:`BULK_TIMEOUT`; the runner's reader reads its snapshot directly."""
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

    @abstractmethod
    def has_graph(self, graph: str) -> bool:
        """Whether the named graph exists (public or not)."""

    @abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of one named graph, or of the whole store."""

    def public_graphs(self) -> list[str]:
        return [g for g in self.graphs() if self.minter.is_public_graph(g)]

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Number of quads in one graph, or in the whole store."""

    @abstractmethod
    def dump(self, output: io.BufferedIOBase, fmt: ox.RdfFormat, graphs: list[str] | None = None) -> None:
        """Serialise the given named graphs (all graphs if None, private ones included: callers filter).
        Quad formats keep graph names; triple formats merge the graphs."""

    # --- writing ---------------------------------------------------------------------------
    @abstractmethod
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple], meta: GraphMeta | None = None) -> int:
        """Replace a named graph with ``triples`` in one atomic step; returns the new triple count.
        If anything fails, the previous graph is left as it was."""

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL Update atomically."""

    @abstractmethod
    def drop_graph(self, graph: str) -> None: ...

    @property
    @abstractmethod
    def version(self) -> int:
        """Grows on every committed change: the cache key and ETag of everything derived."""

    def close(self) -> None:  # noqa: B027 - optional for subclasses
        """Release files or connections."""

    # --- shared helpers -----------------------------------------------------------------
    def meta_triples(self, graph: str, meta: GraphMeta, count: int) -> list[ox.Triple]:
        g = ox.NamedNode(graph)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        source = ox.NamedNode(meta.source) if "://" in meta.source else ox.Literal(meta.source)
        triples = [
            ox.Triple(g, ox.NamedNode(RDF + "type"), ox.NamedNode(PROV + "Entity")),
            ox.Triple(g, ox.NamedNode(RDFS + "label"), ox.Literal(meta.label, language="fr")),
            ox.Triple(g, ox.NamedNode(DCTERMS + "source"), source),
            ox.Triple(
                g,
                ox.NamedNode(PROV + "generatedAtTime"),
                ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")),
            ),
            ox.Triple(
                g,
                ox.NamedNode(DCTERMS + "modified"),
                ox.Literal(now, datatype=ox.NamedNode(XSD + "dateTime")),
            ),
            ox.Triple(g, ox.NamedNode("http://rdfs.org/ns/void#triples"), ox.Literal(count)),
        ]
        if isinstance(source, ox.NamedNode):
            triples.append(ox.Triple(g, ox.NamedNode(PROV + "wasDerivedFrom"), source))
        if meta.license:
            triples.append(ox.Triple(g, ox.NamedNode(DCTERMS + "license"), ox.NamedNode(meta.license)))
        if meta.description:
            triples.append(
                ox.Triple(
                    g, ox.NamedNode(DCTERMS + "description"), ox.Literal(meta.description, language="fr")
                )
            )
        return triples


class OxigraphStore(Store):
    """pyoxigraph, on disk (RocksDB directory) or in memory (``path=None``, for tests)."""

    def __init__(self, base_iri: str, path: str | Path | None = None, *, read_only: bool = False):
        super().__init__(base_iri)
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        if self.path is None:
            self._store = ox.Store()
        elif read_only:
            self._store = ox.Store.read_only(str(self.path))
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._store = ox.Store(str(self.path))
            except OSError as e:
                raise StoreUnavailable(
                    f"cannot open the store at {self.path}: {e} (is another 'communs' process using it?)"
                ) from e
        self._version_file = self.path.with_name(self.path.name + ".version") if self.path else None
        self._version = self._read_version()
        self._write_lock = threading.Lock()
        self._public_cache: tuple[int, list[ox.NamedNode]] | None = None
        self._pending = self.path.with_name(self.path.name + ".bulk-pending") if self.path else None
        if self._pending and not read_only:
            self._drop_unfinished_bulk()
        if not read_only:
            self._hide_private_meta()

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for the modules of ``graph/`` that need it (snapshots)."""
        return self._store

    # --- reading ---------------------------------------------------------------------------
    def _public_nodes(self) -> list[ox.NamedNode]:
        cached = self._public_cache
        if cached and cached[0] == self._version:
            return cached[1]
        nodes = [ox.NamedNode(g) for g in self.public_graphs()]
        self._public_cache = (self._version, nodes)
        return nodes

    def _dataset_args(self, public: bool) -> dict:
        if not public:
            return {"use_default_graph_as_union": True}
        nodes = self._public_nodes()
        # An empty list would mean "no default graph at all" to pyoxigraph; keep the empty default graph.
        return {"default_graph": nodes or [ox.DefaultGraph()], "named_graphs": nodes}

    def _run(self, query: str, bindings: Bindings | None, public: bool):
        args = self._dataset_args(public)
        try:
            if bindings and any(isinstance(v, ox.BlankNode) for v in bindings.values()):
                # VALUES cannot hold blank nodes; pyoxigraph substitutes them (pattern variables only).
                subs = {ox.Variable(k): v for k, v in bindings.items()}
                return self._store.query(query, substitutions=subs, **args)
            return self._store.query(bind(query, bindings or {}), **args)
        except SyntaxError as e:
            raise StoreError(f"invalid SPARQL: {e}") from e

    def select(self, query, bindings=None, *, public=True, timeout=None):
        result = self._run(query, bindings, public)
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query, bindings=None, *, public=True):
        return bool(self._run(query, bindings, public))

    def construct(self, query, bindings=None, *, public=True):
        return list(self._run(query, bindings, public))

    def graphs(self):
        return [g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def has_graph(self, graph):
        return self._store.contains_named_graph(ox.NamedNode(graph))

    def count(self, graph=None):
        if graph is None:
            return len(self._store)
        # Counted by the engine: iterating the quads in Python made the first /catalogue take 20 s.
        counted = self._store.query(
            f"SELECT (COUNT(*) AS ?n) {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"
        )
        return int(next(iter(counted))["n"].value)

    def dump(self, output, fmt, graphs=None):
        if graphs is None and fmt.supports_datasets:
            self._store.dump(output, fmt)
            return
        names = [ox.NamedNode(g) for g in (graphs if graphs is not None else self.graphs())]
        quads = (q for g in names for q in self._store.quads_for_pattern(None, None, None, g))
        if fmt.supports_datasets:
            ox.serialize(quads, output, fmt)
        else:
            ox.serialize((q.triple for q in quads), output, fmt)

    def quads(self, graph=None):
        return self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph) if graph else None)

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

    def _bump(self) -> None:
        self._version += 1
        if self._version_file:
            _write_aside(self._version_file, str(self._version))

    def replace_graph(self, graph, triples, meta=None):
        g = ox.NamedNode(graph)
        lines = {str(t) for t in triples}  # materialised first: a failing source never touches the store
        meta_lines = [str(t) for t in self.meta_triples(graph, meta, len(lines))] if meta else []
        forget_meta = self.forget_meta(g)
        meta_graph = self.meta_graph_of(graph)
        with self._write_lock:
            if not self._store.contains_named_graph(g):
                # One load is one transaction, and ~4x faster than INSERT DATA on disk.
                self._store.update(forget_meta)
                mg = f" <{meta_graph}> .\n"
                data = "".join(f"{line} {g} .\n" for line in lines) + "".join(m + mg for m in meta_lines)
                if data:
                    self._store.load(data.encode(), ox.RdfFormat.N_QUADS)
            else:
                # Drop and insert in a single update, so readers see the old graph or the new one.
                body = " .\n".join(lines)
                meta_body = " .\n".join(meta_lines)
                self._store.update(
                    f"DROP SILENT GRAPH {g} ;\n"
                    + (f"{forget_meta} ;\n" if meta else "")
                    + f"INSERT DATA {{ GRAPH {g} {{ {body} }} GRAPH <{meta_graph}> {{ {meta_body} }} }}"
                )
            self.written.add(graph)
            self._bump()
        return len(lines)

    def bulk_import(
        self,
        path: Path,
        fmt: ox.RdfFormat,
        base_iri: str,
        graphs: list[str],
        target: str,
        meta: GraphMeta | None,
    ) -> int | None:
        """Load a whole file into graphs that do not exist yet, without holding it in memory: pyoxigraph's
        bulk loader (at 5M quads the transactional path peaked at 9.6 GB). Returns None, writing
        nothing, when a graph exists (replacing one must stay atomic: use :meth:`replace_graph`).

        The bulk loader is not transactional, so a file beside the store names the graphs until the
        end: if the process dies meanwhile, the next opening drops them (they were new), and the store
        is as before. ``graphs`` are the file's graphs (from a scan, e.g. ``loaders.rdf.scan``)."""
        if self.path is None or self.read_only or self._pending is None:
            return None
        with self._write_lock:
            if any(self._store.contains_named_graph(ox.NamedNode(g)) for g in graphs):
                return None
            _write_aside(self._pending, json.dumps(sorted(graphs)))
            try:
                self._store.bulk_load(
                    path=str(path), format=fmt, base_iri=base_iri, to_graph=ox.NamedNode(target)
                )
                total = 0
                for graph in graphs:
                    g = ox.NamedNode(graph)
                    # Counted again: duplicates in the file are stored once.
                    counted = self._store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH {g} {{ ?s ?p ?o }} }}")
                    count = int(next(iter(counted))["n"].value)
                    total += count
                    self._store.update(self.forget_meta(g))
                    if meta:
                        mg = ox.NamedNode(self.meta_graph_of(graph))
                        self._store.extend(
                            ox.Quad(t.subject, t.predicate, t.object, mg)
                            for t in self.meta_triples(graph, meta, count)
                        )
                self._store.flush()
            except BaseException:
                self._drop_graphs(graphs)
                raise
            finally:
                self._pending.unlink(missing_ok=True)
            self.written.update(graphs)
            self._bump()
        return total

    def _hide_private_meta(self) -> None:
        """A store written before private graphs had their own metadata graph: move what the public one
        says about them (labels, file names, counts) to the private one, once."""
        public, private = ox.NamedNode(self.meta_graph), ox.NamedNode(self.private_meta_graph)
        moved = [
            q
            for q in self._store.quads_for_pattern(None, None, None, public)
            if isinstance(q.subject, ox.NamedNode) and not self.minter.is_public_graph(q.subject.value)
        ]
        if not moved:
            return
        for q in moved:
            self._store.remove(q)
            self._store.add(ox.Quad(q.subject, q.predicate, q.object, private))
        self._bump()

    def _drop_unfinished_bulk(self) -> None:
        """Graphs of a bulk import the process did not finish (see :meth:`bulk_import`) are dropped."""
        assert self._pending is not None
        if not self._pending.exists():
            return
        try:
            graphs = json.loads(self._pending.read_text() or "[]")
        except ValueError:
            graphs = []  # cut while being written: nothing was loaded yet
        self._drop_graphs(graphs)
        self._store.flush()
        self._pending.unlink()
        self._bump()

    def _drop_graphs(self, graphs: list[str]) -> None:
        for graph in graphs:
            g = ox.NamedNode(graph)
            self._store.remove_graph(g)
            self._store.update(self.forget_meta(g))

    def update(self, sparql):
        with self._write_lock:
            try:
                self._store.update(sparql)
            except SyntaxError as e:
                raise StoreError(f"invalid SPARQL Update: {e}") from e
            self._bump()

    def drop_graph(self, graph):
        with self._write_lock:
            g = ox.NamedNode(graph)
            if self._store.contains_named_graph(g):
                self._store.remove_graph(g)
            self._store.update(self.forget_meta(g))
            self.written.add(graph)
            self._bump()

    @property
    def version(self):
        return self._version

    def close(self):
        if self.path is not None and not self.read_only:
            self._store.flush()  # a read-only instance has nothing to flush (and refuses to)
        del self._store


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

        return RemoteStore(base_iri, location.removeprefix("sparql+"))
    return OxigraphStore(base_iri, location, read_only=read_only)


__all__ = [
    "Bindings",
    "GraphMeta",
    "OxigraphStore",
    "QueryTimeout",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "Term",
    "open_store",
    "sparql_prefixes",
]
