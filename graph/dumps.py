"""Bulk downloads of the public dataset, rebuilt in the background after every write (the app's store
listener) and whenever a request finds the store moved on.

Each build writes into a temporary folder then renames it to ``v<version>`` and swaps the ``current.json``
pointer, so a reader always sees one complete set. Only public graphs are ever dumped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph import apart, data_inclusion, formats
from graph.describe import LABEL_PROPS
from graph.namespaces import CS, ORG, sparql_prefixes
from graph.search import LISTS
from graph.sparql_text import values
from graph.store import DEFAULT_GRAPH, Store, StoreError

NQUADS = "communs-services.nq.gz"
DATA_INCLUSION_DIR = "data-inclusion"  # /telechargements/data-inclusion/structures.json …
DATA_INCLUSION_TITLE = "Lieux et services au schéma data·inclusion {package} : {name}"
SETTLE = 1.0  # seconds after a write before a build: one change is several updates (an acceptance's)
CLOSE_WAIT = 10.0  # seconds close() waits for a build under way, as the app's stop for a search refresh
BUILD_FAILED = "the last build failed; the server's log says why"
RETRY_AFTER = 10  # seconds a client is told to wait for a build while this process has timed none
_P = sparql_prefixes()
log = logging.getLogger(__name__)


def _label(v: str) -> tuple[str, str]:
    """Patterns and expression choosing a label as the browsing index does (rdfs:label, else
    skos:prefLabel, else schema:name; French, else untagged), so the download and the list agree."""
    patterns, names = [], []
    for i, prop in enumerate(LABEL_PROPS):
        for lang in ("fr", ""):
            name = f"{v}_{i}{lang}"
            patterns.append(f'OPTIONAL {{ {v} <{prop}> {name} FILTER(lang({name}) = "{lang}") }}')
            names.append(name)
    return " ".join(patterns), f"COALESCE({', '.join(names)}, STR({v}))"


def _column(items: str, name: str, pattern: str, shown: str | None = None) -> str:
    """One multi-valued column of a table of ``items`` (a pattern binding ?iri): ``pattern`` links ?iri to
    its values ?v, shown by their labels, or by the expression ``shown`` of ?v (a date's text, a year);
    one row per item, with or without values, so that joining the columns keeps one row per item."""
    patterns, expr = ("", shown) if shown else _label("?v")
    return f"""{{ SELECT ?iri (GROUP_CONCAT(DISTINCT ?shown; separator=" | ") AS ?{name}) WHERE {{
      {items} OPTIONAL {{ {pattern} {patterns} BIND({expr} AS ?shown) }} }} GROUP BY ?iri }}"""


def _project_column(name: str, pattern: str, year: bool = False) -> str:
    """One multi-valued column of projets.csv: ``pattern`` links ?iri to its values ?v."""
    return _column("?iri a schema:Project", name, pattern, "SUBSTR(STR(?v), 1, 4)" if year else None)


_ITEM_PATTERNS, _ITEM_LABEL = _label("?iri")


def _of(classes: tuple[str, ...]) -> str:
    """The pattern binding ?iri to the items of some classes (a list's)."""
    return f"VALUES ?class {{ {' '.join(f'<{c}>' for c in classes)} }} ?iri a ?class ."


def _items(classes: tuple[str, ...], **columns: str | tuple[str, str]) -> str:
    """The items of some classes (a list's: the download and the list hold the same items) with their
    labels, and a column per property path: its values by their labels, as projets.csv shows its linked
    things (a place's commune by its name, not its IRI), or ``(path, expression of ?v)`` (a date's text)."""
    items = _of(classes)
    paths = {name: (c, None) if isinstance(c, str) else c for name, c in columns.items()}
    cells = " ".join(_column(items, name, f"?iri {path} ?v", shown) for name, (path, shown) in paths.items())
    return (
        _P
        + f"""SELECT ?iri ?nom {" ".join(f"?{name}" for name in columns)} WHERE {{
  {{ SELECT ?iri (SAMPLE(?l) AS ?nom)
     WHERE {{ {items} {_ITEM_PATTERNS} BIND({_ITEM_LABEL} AS ?l) }} GROUP BY ?iri }}
  {cells} }} ORDER BY ?iri"""
    )


_ORGANISATIONS = (
    _P
    + f"""SELECT ?iri (SAMPLE(?l) AS ?nom) (COUNT(DISTINCT ?project) AS ?projets) WHERE {{
  {_of((ORG + "Organization",))} {_ITEM_PATTERNS} BIND({_ITEM_LABEL} AS ?l)
  OPTIONAL {{ ?project cs:participant ?iri }} }} GROUP BY ?iri ORDER BY ?iri"""
)
_RESOURCE = _of(LISTS["ressources"].classes)
# What a resource's page shows: its kind (dcterms:type, the list's « genre »), themes, publics and territories
# by their labels, its class, link, licence or rights and dates; public graphs only, as every table.
_RESOURCES = (
    _P
    + f"""SELECT ?iri ?nom ?classe ?type ?themes ?publics ?territoires ?lien ?licence ?droits
  ?creation ?modification ?publication WHERE {{
  {{ SELECT ?iri (SAMPLE(?l) AS ?nom) (GROUP_CONCAT(DISTINCT STR(?class); separator=" | ") AS ?classe)
     WHERE {{ {_RESOURCE} {_ITEM_PATTERNS} BIND({_ITEM_LABEL} AS ?l) }} GROUP BY ?iri }}
  {_column(_RESOURCE, "type", "?iri dcterms:type ?v")}
  {_column(_RESOURCE, "themes", "?iri dcterms:subject ?v")}
  {_column(_RESOURCE, "publics", "?iri schema:audience ?v")}
  {_column(_RESOURCE, "territoires", "?iri dcterms:spatial ?v")}
  {_column(_RESOURCE, "lien", "?iri schema:url ?v", "STR(?v)")}
  {_column(_RESOURCE, "licence", "?iri dcterms:license ?v", "STR(?v)")}
  {_column(_RESOURCE, "droits", "?iri dcterms:rights ?v", "STR(?v)")}
  {_column(_RESOURCE, "creation", "?iri dcterms:created ?v", "STR(?v)")}
  {_column(_RESOURCE, "modification", "?iri dcterms:modified ?v", "STR(?v)")}
  {_column(_RESOURCE, "publication", "?iri schema:datePublished ?v", "STR(?v)")}
}} ORDER BY ?iri"""
)
_EVENTS = _items(LISTS["evenements"].classes, date=("schema:startDate", "STR(?v)"), lieu="schema:location")
# A place's commune by its name, and by its INSEE code, the key a reuser joins on (territoires-communes.csv);
# its coordinates (WGS84, as stored) for a map.
_PLACES = _items(
    LISTS["lieux"].classes,
    commune="dcterms:spatial",
    code_commune=("dcterms:spatial/igeo:codeINSEE", "STR(?v)"),
    reseaux="cs:network",
    latitude=("schema:geo/schema:latitude", "STR(?v)"),
    longitude=("schema:geo/schema:longitude", "STR(?v)"),
)
# The same columns as the list's CSV twin (/projets.csv): the facets of the projects list.
_PROJECTS = (
    _P
    + f"""SELECT ?iri ?label ?axe ?region ?departement ?theme ?public ?annee ?financeur WHERE {{
  {{ SELECT ?iri (SAMPLE(?l) AS ?label) WHERE {{
     ?iri a schema:Project {_ITEM_PATTERNS} BIND({_ITEM_LABEL} AS ?l) }} GROUP BY ?iri }}
  {_project_column("axe", "?iri dcterms:type ?v")}
  {_project_column("region", "?iri dcterms:spatial/dcterms:isPartOf* ?v . ?v a igeo:Region")}
  {_project_column("departement", "?iri dcterms:spatial/dcterms:isPartOf* ?v . ?v a igeo:Departement")}
  {_project_column("theme", "?iri dcterms:subject ?v")}
  {_project_column("public", "?iri schema:audience ?v")}
  {_project_column("annee", "?iri schema:startDate|dcterms:temporal/dcat:startDate ?v", year=True)}
  {_project_column("financeur", "?iri schema:funding/schema:funder ?v")}
}} ORDER BY ?iri"""
)
# The levels above a territory: each one's class and its path from it (a commune's région is its
# département's, a département's its own: one step or two; isPartOf+ read every commune's ancestry slowly).
_ABOVE = {
    "epci": ("Intercommunalite", "dcterms:isPartOf"),
    "departement": ("Departement", "dcterms:isPartOf"),
    "region": ("Region", "dcterms:isPartOf/dcterms:isPartOf?"),
}


def _territories(cls: str, above: tuple[str, ...]) -> str:
    """A level's table, with one column per level above (code_epci, code_departement, code_region): the
    codes a reuser joins on, each in its own cell."""
    codes = " ".join(f'(GROUP_CONCAT(DISTINCT ?{a}; separator=" | ") AS ?code_{a})' for a in above)
    parents = " ".join(
        f"OPTIONAL {{ ?iri {_ABOVE[a][1]} ?{a}_ . ?{a}_ a igeo:{_ABOVE[a][0]} ; igeo:codeINSEE ?{a} }}"
        for a in above
    )
    return (
        _P
        + f"""SELECT ?iri ?code ?nom ?population {codes} WHERE {{
  ?iri a igeo:{cls} ; igeo:codeINSEE ?code ; igeo:nom ?nom .
  OPTIONAL {{ ?iri cs:population ?population }} {parents}
}} GROUP BY ?iri ?code ?nom ?population ORDER BY ?code"""
    )


# One CSV per main class: (file, title, query). Multi-valued columns are joined with " | ".
CSV_QUERIES: list[tuple[str, str, str]] = [
    ("projets.csv", "Projets", _PROJECTS),
    ("organisations.csv", "Organisations", _ORGANISATIONS),
    *[
        (f"territoires-{level}.csv", f"Territoires : {title}", _territories(cls, above))
        for level, title, cls, above in (
            ("regions", "régions", "Region", ()),
            ("departements", "départements", "Departement", ("region",)),
            ("epci", "EPCI", "Intercommunalite", ("departement", "region")),
            ("communes", "communes", "Commune", ("epci", "departement", "region")),
        )
    ],
    ("ressources.csv", "Ressources", _RESOURCES),
    ("evenements.csv", "Événements", _EVENTS),
    ("lieux.csv", "Lieux de services", _PLACES),
]
# Each CSV's header, its query's projection rather than the rows' keys: a reuser's pipeline needs one
# header whatever the data. Read once, as the queries never change.
CSV_HEADERS = {query: [v.value for v in ox.Store().query(query).variables] for _, _, query in CSV_QUERIES}


@dataclass
class DumpFile:
    name: str
    title: str
    media: str
    bytes: int = 0  # known once written
    graph: str | None = None
    license: str | None = None
    triples: int | None = None
    sources: list[str] | None = None  # a table's: the graphs its rows' items come from (their licences)
    sha256: str | None = None  # its ETag: a sync tool fetches it again only when its bytes change


def public_counts(store: Store) -> dict[str, int]:
    """Triples per public graph as the dumps hold them (VoID states the same numbers), the default graph
    (``""``) first when public queries read triples there, so that every count adds up to theirs."""
    default = store.public_default_count()
    named = {g: store.count(g) for g in sorted(store.public_graphs())}
    return {DEFAULT_GRAPH: default, **named} if default else named


def _sources(store: Store, iris: list[str]) -> list[str]:
    """The graphs stating the type of a table's items: a reuser's rights on its rows are those graphs'."""
    found: set[str] = set()
    for at in range(0, len(iris), 1000):
        query = (
            f"SELECT DISTINCT ?g WHERE {{ {values('iri', iris[at : at + 1000])} GRAPH ?g {{ ?iri a ?c }} }}"
        )
        found.update(r["g"].value for r in store.select(query))
    return sorted(found)


def _shared(licences: dict[str, str], graphs: list[str]) -> str | None:
    """A derived file's licence: that of the graphs it comes from when they all have the same one (else
    each graph's own applies to its part, as the page and ``sources`` say)."""
    stated = {licences.get(g) for g in graphs}
    return stated.pop() if len(stated) == 1 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def graph_file(store: Store, graph: str) -> str:
    """'…/graph/rapport/x' → 'graphe-rapport-x.ttl'."""
    local = graph.removeprefix(store.minter.base + "graph/")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in local).strip("-")
    return f"graphe-{safe or 'defaut'}.ttl"


class Dumps:
    """The downloads folder of one store."""

    def __init__(self, store: Store, directory: Path):
        self.store = store
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self._begun: float | None = None  # time.monotonic() when the build under way (or the last) began
        self._took: float | None = None  # seconds the last build done took, its SETTLE included
        self._reading: int | None = None  # the store version the build under way reads, once it has read it
        self._closed = threading.Event()

    def manifest(self) -> dict | None:
        try:
            return json.loads(_read(self.directory / "current.json") or "null")
        except ValueError:
            return None

    def _stale(self) -> bool:
        """Whether the downloads are not of the store's version (none yet, or older ones)."""
        m = self.manifest()
        return m is None or m["version"] != self.store.version

    def pending(self) -> int | None:
        """The version being prepared when the downloads are stale: the one the build under way read, which
        it will deliver (a write during it moves the store on, and only the next build reads that), else
        the store's, which the next build (or the one still settling) will read."""
        m, version, reading = self.manifest(), self.store.version, self._reading
        if m is not None and m["version"] == version:
            return None
        return reading if reading is not None and (m is None or reading > m["version"]) else version

    @property
    def timed(self) -> bool:
        """Whether this process has timed a build: until then :meth:`retry_after` is ``RETRY_AFTER``, a
        figure no one measured (a first build of the whole store takes minutes), not for people to read."""
        return self._took is not None

    def retry_after(self) -> int:
        """Seconds until the build under way should be done, for ``Retry-After``: the last build's length
        less what this one has run (the store grows little between two); once that is past, the last
        build's length again (a build slower than the last is no closer to its end for it, and « 1 » said
        for as long as it runs only has clients ask every second); ``RETRY_AFTER`` until this process has
        timed a build."""
        took, begun = self._took, self._begun
        if took is None or begun is None:
            return RETRY_AFTER
        left = took - (time.monotonic() - begun)
        return max(1, math.ceil(left if left > 0 else took))

    def ensure(self) -> None:
        """Start a rebuild in the background when the store moved on (one under way builds again when it
        ends if the store moved meanwhile)."""
        with self._lock:
            if self._thread is None and not self._closed.is_set() and self._stale():
                self._thread = threading.Thread(target=self._follow, daemon=True, name="dumps")
                self._thread.start()

    def changed(self, graphs: Collection[str] = ()) -> None:
        """A write to public ``graphs`` (the app's store listener): rebuild the downloads there are (the
        first are built when first asked for, not by every write of a test server or a fresh install)."""
        if self.manifest() is not None:
            self.ensure()

    def _follow(self) -> None:
        """Build until the downloads are the store's version; a failed build, or the store's version
        unread after one (a remote server gone), keeps the previous build and stops (the page and the log
        say why; the next write or request tries again): an exception ending the thread would leave it
        taken for under way, and no build would ever begin again. The public ``error`` is a ``StoreError``'s
        message, written for users (a server named by its host only), else ``BUILD_FAILED``: any other
        exception's text may carry the server's paths, which only the log shows."""
        while True:
            self._begun = begun = time.monotonic()
            try:
                if not self._closed.wait(SETTLE):
                    self.build()
                    self.error = None
                    self._took = time.monotonic() - begun
                with self._lock:
                    if self._closed.is_set() or not self._stale():
                        self._thread = None
                        return
            except Exception as e:  # noqa: BLE001
                log.warning("downloads not built: %s", e, exc_info=not isinstance(e, StoreError))
                with self._lock:
                    self.error = str(e) if isinstance(e, StoreError) else BUILD_FAILED
                    self._thread = None
                    return

    def close(self) -> None:
        """No build begins any more, and the one under way is waited for, CLOSE_WAIT at most: the folder
        may then be removed (an app's in-memory store's is), which a build still settling would have made
        again, whole. A longer build is not waited for: stopping the app must not take minutes."""
        with self._lock:
            self._closed.set()
            thread = self._thread
        if thread is not None:
            thread.join(CLOSE_WAIT)

    def build(self) -> dict:
        """The downloads of the store's version, built by a child process when the store can be opened
        there (graph.apart): a build reads every quad. Until it ends, ``pending`` names the version read."""
        self._reading = version = self.store.version
        try:
            with self.store.public_copy() as opener:
                if opener is None:
                    return build(self.store, self.directory, version)
                return apart.call(build, opener, self.directory, version)
        finally:
            self._reading = None


def build(store: Store, directory: Path, version: int) -> dict:
    """The downloads of ``store``'s public data, as of ``version``, into ``directory``; their manifest. A
    build killed half-way leaves its folder; every build holds a shared lock on ``.building`` while it runs
    (the system drops a killed process's), so one that gets it alone knows no build of any process sharing
    the folder is under way, and deletes every folder left."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".building", "wb") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another build is writing its folder
        else:
            for left in directory.glob(".v*.tmp"):
                shutil.rmtree(left, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_SH)
        return _build(store, directory, version)


def _build(store: Store, directory: Path, version: int) -> dict:
    tmp = directory / f".v{version}-{os.getpid()}-{threading.get_ident()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    counts = public_counts(store)
    graphs, total = list(counts), sum(counts.values())
    query = f"SELECT ?g ?l WHERE {{ GRAPH <{store.meta_graph}> {{ ?g dcterms:license ?l }} }}"
    lic = {r["g"].value: r["l"].value for r in store.select(_P + query)}
    files: list[DumpFile] = []
    with formats.opened(tmp / NQUADS, "wb") as out:
        for g in graphs:
            ox.serialize(store.quads(g), out, ox.RdfFormat.N_QUADS)
    title = "Jeu de données public complet (N-Quads, gzip)"
    files.append(DumpFile(NQUADS, title, formats.NQUADS.media_type, license=_shared(lic, graphs)))
    files[-1].triples, files[-1].sources = total, graphs
    for g in graphs:
        name = graph_file(store, g)
        with open(tmp / name, "wb") as out:
            ox.serialize((q.triple for q in store.quads(g)), out, ox.RdfFormat.TURTLE)
        title = f"Graphe <{g}> (Turtle)" if g else "Graphe par défaut (Turtle)"
        files.append(DumpFile(name, title, formats.TURTLE.media_type, 0, g, lic.get(g), counts.get(g)))
    for name, title, query in CSV_QUERIES:
        rows, names = store.select(query), CSV_HEADERS[query]
        cells = ([r[n].value if n in r else "" for n in names] for r in rows)
        (tmp / name).write_text(formats.spreadsheet_csv(names, cells), encoding="utf-8", newline="")
        sources = _sources(store, [r["iri"].value for r in rows if "iri" in r])
        files.append(
            DumpFile(name, title, formats.CSV.media_type, license=_shared(lic, sources), sources=sources)
        )
    exchange = data_inclusion.export(store)
    places = [r["s"].value for r in store.select(f"SELECT DISTINCT ?s WHERE {{ ?s a <{CS}ServicePlace> }}")]
    sources = _sources(store, places)  # the export's records are the service places and their services
    for name in data_inclusion.write(exchange, tmp / DATA_INCLUSION_DIR):
        media = (formats.JSON if name.endswith(".json") else formats.CSV).media_type
        title = DATA_INCLUSION_TITLE.format(package=exchange.package, name=name)
        files.append(DumpFile(f"{DATA_INCLUSION_DIR}/{name}", title, media, license=_shared(lic, sources)))
        files[-1].sources = sources
    # A file the last build wrote with the same bytes keeps its time, its Last-Modified.
    try:
        last = json.loads(_read(directory / "current.json") or "{}")
    except ValueError:  # corrupt, as Dumps.manifest() tolerates it: this build replaces it
        last = {}
    before = {f["name"]: f.get("sha256") for f in last.get("files", [])}
    for f in files:
        path = tmp / f.name
        f.bytes = path.stat().st_size
        with open(path, "rb") as written:
            f.sha256 = hashlib.file_digest(written, "sha256").hexdigest()
        old = directory / f"v{last.get('version')}" / f.name
        if before.get(f.name) == f.sha256 and old.is_file():
            os.utime(path, ns=(old.stat().st_atime_ns, old.stat().st_mtime_ns))
    manifest = {"version": version, "triples": total, "graphs": graphs, "files": [vars(f) for f in files]}
    manifest["data_inclusion"] = data_inclusion.summary(exchange)
    text = json.dumps(manifest, ensure_ascii=False)
    (tmp / "manifest.json").write_text(text, encoding="utf-8")
    final = directory / f"v{version}"
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    pointer = directory / f".current-{os.getpid()}.json"
    pointer.write_text(text, encoding="utf-8")
    os.replace(pointer, directory / "current.json")
    # Keep the previous build for downloads in flight; older ones go.
    builds = sorted(
        (p for p in directory.glob("v*") if p.is_dir() and p.name[1:].isdigit()),
        key=lambda p: int(p.name[1:]),
    )
    for old in builds[:-2]:
        shutil.rmtree(old, ignore_errors=True)
    return manifest
