"""Any RDF file (Turtle, TriG, N-Triples, N-Quads, JSON-LD, RDF/XML) → named graphs; and our own
ontology and vocabularies, which are RDF files with IRIs relative to the configured base."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph import formats
from graph.namespaces import OWL, Minter, slugify
from graph.settings import ONTOLOGY_DIR
from graph.store import GraphMeta, Store
from loaders import GraphLoad, ImportResult, SourceError

ONTOLOGY_LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def rdf_format(path: Path, name: str | None = None) -> ox.RdfFormat:
    """By ``--format`` name, else by extension (``dump.nq.gz``: N-Quads, read gunzipped)."""
    fmt = formats.find(formats.RDF, name) if name else formats.of_file(formats.RDF, path)
    if fmt is None:
        why = f"unknown format '{name}'" if name else f"cannot tell the RDF format from '{path.name}'"
        raise SourceError(path, f"{why}: pass --format ({formats.names(formats.RDF)})")
    return fmt.rdf


def read_quads(path: Path, fmt: ox.RdfFormat, base_iri: str) -> Iterator[ox.Quad]:
    """The file's quads, streamed; parser errors become a SourceError naming the file and line."""
    if not path.is_file():
        raise SourceError(path, "no such file")
    try:
        with formats.opened(path) as f:
            yield from ox.parse(f, format=fmt, base_iri=base_iri)
    except SyntaxError as e:
        raise SourceError(path, e.msg, e.lineno) from None
    except (UnicodeDecodeError, ValueError, OSError) as e:  # OSError: a .gz that is not gzip
        raise SourceError(path, f"unreadable RDF: {e}") from None


def build(path: Path, minter: Minter, graph: str | None = None, fmt_name: str | None = None) -> ImportResult:
    """Triples go to ``graph`` (default ``{base}graph/import/<file-stem>``); quads keep their graph,
    and quads in the default graph go to ``graph`` too."""
    fmt = rdf_format(path, fmt_name)
    target = graph or minter.graph("import/" + slugify(path.stem))
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    for item in read_quads(path, fmt, minter.base):
        name = item.graph_name.value if isinstance(item.graph_name, ox.NamedNode) else target
        by_graph[name].append(item.triple)
    meta = GraphMeta(label=f"Import de {path.name}", source=path.name)
    loads = [GraphLoad(g, triples, meta) for g, triples in by_graph.items()]
    return ImportResult(loads, [f"{path.name}: {len(t)} triplets → <{g}>" for g, t in by_graph.items()])


@dataclass
class FileScan:
    """What a file holds, read once without keeping it: its graphs and their quad counts."""

    fmt: ox.RdfFormat
    target: str  # the graph of its triples (and of the default graph's quads)
    counts: dict[str, int]
    meta: GraphMeta


def scan(path: Path, minter: Minter, graph: str | None = None, fmt_name: str | None = None) -> FileScan:
    """A streaming pass over the file: its syntax checked (a SourceError with the line otherwise) and
    its quads counted per graph, in constant memory, so that a big file can then be bulk-loaded."""
    fmt = rdf_format(path, fmt_name)
    target = graph or minter.graph("import/" + slugify(path.stem))
    counts = Counter(
        q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else target
        for q in read_quads(path, fmt, minter.base)
    )
    meta = GraphMeta(label=f"Import de {path.name}", source=path.name)
    return FileScan(fmt, target, dict(counts), meta)


def ontology_stamp() -> str:
    """A digest of ontology/, recorded with its graphs: ``serve`` tells a store loaded from older files by
    reading one triple instead of comparing graphs."""
    digest = hashlib.sha1()
    for f in sorted(ONTOLOGY_DIR.rglob("*.ttl")):
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def stored_ontology_stamp(store: Store) -> str | None:
    """What ``ontology_stamp`` was when ``communs load`` last wrote the ontology (None: never, or older)."""
    meta, graph = store.meta_graph, store.minter.graph("ontologie")
    rows = store.select(f"SELECT ?v WHERE {{ GRAPH <{meta}> {{ <{graph}> <{OWL}versionInfo> ?v }} }}")
    return rows[0]["v"].value if rows else None


def ontology(minter: Minter) -> ImportResult:
    """ontology/*.ttl (ontology, shapes) → graph 'ontologie'; ontology/vocabularies/*.ttl → 'vocabulaires'."""
    parts = {
        "ontologie": (sorted(ONTOLOGY_DIR.glob("*.ttl")), "Ontologie et formes SHACL de Comm'un Services"),
        "vocabulaires": (sorted((ONTOLOGY_DIR / "vocabularies").glob("*.ttl")), "Vocabulaires SKOS"),
    }
    loads, report = [], []
    for name, (files, label) in parts.items():
        triples: list[ox.Triple] = []
        for f in files:
            triples.extend(q.triple for q in read_quads(f, ox.RdfFormat.TURTLE, minter.base))
        meta = GraphMeta(
            label=label,
            source="https://w3id.org/communs-services/def",
            license=ONTOLOGY_LICENSE,
            version=ontology_stamp(),
        )
        loads.append(GraphLoad(minter.graph(name), triples, meta))
        report.append(f"{name}: {len(files)} fichiers, {len(triples)} triplets")
    return ImportResult(loads, report)
