"""The browsing index: lists, facets, territorial roll-ups and full-text search, built per store version
(the server's first one in the background, so that a start at national scale is not a long outage).

A million-triple store answers "projects in Savoie about mobility, with counts per theme" badly through
SPARQL (every facet is a GROUP BY over a property path). So we read each list's items and facet values
once per store version (a few flat SELECTs), keep postings (facet value → item numbers) in memory, and put
labels and texts in an SQLite FTS5 table with ``remove_diacritics`` so French search is accent- and
case-insensitive. Territorial roll-ups come from the ``dcterms:isPartOf`` closure computed in Python.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox
from markupsafe import Markup, escape

from graph.describe import labels_of
from graph.namespaces import CS, DCAT, DCTERMS, FOAF, IGEO, ORG, RDF, RDFS, SCHEMA, SKOS
from graph.store import Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)
FIRST_BUILD_WAIT = 30.0  # seconds a request waits for the first index before a 503 (the reads' deadline)
TERRITORY_CLASSES = {
    IGEO + "Region": "region",
    IGEO + "Departement": "departement",
    IGEO + "Intercommunalite": "epci",
    IGEO + "Commune": "commune",
    # Named areas of the association's documents (Chablais, Tarentaise…): part of the roll-ups, as
    # dcterms:isPartOf* makes them for anyone querying SPARQL.
    CS + "InformalArea": "zone",
}
SPATIAL = f"<{DCTERMS}spatial>|<{SCHEMA}location>|<{SCHEMA}areaServed>"
TEXT_PROPS = (
    SCHEMA + "description",
    CS + "objectives",
    CS + "stakes",
    SKOS + "definition",
    SKOS + "altLabel",
    DCTERMS + "description",
    SCHEMA + "abstract",
)
CREATIVE_WORKS = (
    "CreativeWork",
    "DigitalDocument",
    "Report",
    "Article",
    "Dataset",
    "WebPage",
    "HowTo",
    "VideoObject",
    "Book",
    "Guide",
    "PresentationDigitalDocument",
    "SoftwareSourceCode",
)


@dataclass(frozen=True)
class Facet:
    name: str  # URL parameter
    path: str  # SPARQL path from the item to the value ('' = computed: departement, epci, region)
    year: bool = False  # value is a date: keep the year


@dataclass(frozen=True)
class ListKind:
    name: str  # URL word: projets, acteurs...
    classes: tuple[str, ...]
    facets: tuple[Facet, ...]


F_AXE = Facet("axe", f"<{DCTERMS}type>")
F_THEME = Facet("theme", f"<{DCTERMS}subject>")
F_PUBLIC = Facet("public", f"<{SCHEMA}audience>")
F_DEP = Facet("departement", "")
F_EPCI = Facet("epci", "")
F_REGION = Facet("region", "")
F_TYPE = Facet("type", f"<{RDF}type>")

LISTS: dict[str, ListKind] = {
    k.name: k
    for k in (
        ListKind(
            "projets",
            (SCHEMA + "Project",),
            (
                F_AXE,
                F_DEP,
                F_THEME,
                F_PUBLIC,
                # stated periods and years inferred from the description (dcterms:temporal) alike
                Facet("annee", f"<{SCHEMA}startDate>|<{DCTERMS}temporal>/<{DCAT}startDate>", year=True),
                Facet("financeur", f"<{SCHEMA}funding>/<{SCHEMA}funder>"),
            ),
        ),
        ListKind("acteurs", (ORG + "Organization", FOAF + "Person"), (F_TYPE, F_DEP, F_THEME)),
        ListKind(
            "ressources",
            tuple(SCHEMA + c for c in CREATIVE_WORKS),
            (
                Facet("genre", f"<{DCTERMS}type>"),
                F_THEME,
                F_PUBLIC,
                F_DEP,
                Facet("annee", f"<{DCTERMS}created>|<{SCHEMA}datePublished>", year=True),
                Facet("licence", f"<{DCTERMS}license>"),
            ),
        ),
        ListKind(
            "evenements",
            (SCHEMA + "Event",),
            (F_DEP, F_THEME, Facet("annee", f"<{SCHEMA}startDate>", year=True)),
        ),
        ListKind(
            "lieux",
            (CS + "ServicePlace",),
            (
                Facet("reseau", f"<{CS}network>"),
                Facet("typologie", f"<{CS}typology>"),
                F_DEP,
                F_EPCI,
                Facet("samedi", f"<{SCHEMA}openingHoursSpecification>/<{SCHEMA}dayOfWeek>"),
            ),
        ),
        ListKind("territoires", tuple(TERRITORY_CLASSES), (Facet("niveau", f"<{RDF}type>"), F_REGION, F_DEP)),
        ListKind("themes", (SKOS + "Concept",), ()),
        ListKind("publics", (SKOS + "Concept",), ()),
    )
}
# The concept lists are the concepts under one IRI folder of the base.
CONCEPT_FOLDERS = {"themes": "id/theme/", "publics": "id/public/"}
ROLLUP_KINDS = ("projets", "acteurs", "ressources", "evenements", "lieux")


@dataclass
class Item:
    iri: str
    kind: str
    labels: dict[str, str]
    types: set[str] = field(default_factory=set)
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    direct: set[str] = field(default_factory=set)  # territories named by the item
    within: set[str] = field(default_factory=set)  # those and every territory containing them
    year: str = ""


def key_of(value: str, base: str) -> str:
    """A short URL key for a facet value: the last segment of an IRI of ours, else the value itself."""
    if value.startswith(base + "id/"):
        return value.rsplit("/", 1)[1]
    if value.startswith(SCHEMA):
        return value[len(SCHEMA) :]
    return value


@dataclass
class Territory:
    iri: str
    level: str
    label: str
    code: str = ""
    population: int | None = None
    parents: list[str] = field(default_factory=list)


class Catalog:
    """Items of every list, their facet postings and territorial roll-ups, for one store version."""

    def __init__(self, store: Store):
        started = time.perf_counter()
        self.base = store.minter.base
        self.version = store.version
        self.territories: dict[str, Territory] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        self.items: list[Item] = []
        self.by_kind: dict[str, list[int]] = defaultdict(list)
        self.by_iri: dict[str, list[int]] = defaultdict(list)
        self.postings: dict[tuple[str, str, str], set[int]] = defaultdict(set)  # (kind, facet, key) → items
        self.facet_values: dict[tuple[str, str, str], str] = {}  # (kind, facet, key) → value IRI/literal
        self.rollup: dict[str, list[int]] = defaultdict(list)  # territory → items within it
        self.value_labels: dict[str, dict[str, str]] = {}
        self._labels = self._all_labels(store)
        self._load_territories(store)
        for kind in LISTS.values():
            self._load_kind(store, kind)
        self._label_values(store)
        # For the home page: counting 20M triples per visit took seconds; once per version is enough.
        self.triples = int(store.scan("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", ("n",))[0][0].value)
        del self._labels
        self.__dict__.pop("_spatial_pairs", None)
        self.build_seconds = time.perf_counter() - started

    # --- building -------------------------------------------------------------------------
    @staticmethod
    def _pairs(store: Store, path: str) -> list[tuple[ox.Term, ox.Term]]:
        """(subject, value) of one property path, with no join on the item's class.

        Over the public dataset (a list of named graphs) a join costs a lookup per graph and per row: the
        old ``?t a ?c OPTIONAL {…}`` queries took ~38 s for the territories of a 500k-triple store where
        these flat patterns take ~0.5 s each; the join with the item index is done here, in Python.
        """
        return store.scan(f"SELECT ?x ?v WHERE {{ ?x {path} ?v }}", ("x", "v"))

    def _instances(self, store: Store, classes: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
        """(IRI, class) of the named instances of each class."""
        out = []
        for c in classes:
            for (x,) in store.scan(f"SELECT ?x WHERE {{ ?x a <{c}> }}", ("x",)):
                if isinstance(x, ox.NamedNode):
                    out.append((x.value, c))
        return out

    def _all_labels(self, store: Store) -> dict[str, dict[str, str]]:
        """rdfs:label per named subject and language (the first one read wins)."""
        labels: dict[str, dict[str, str]] = defaultdict(dict)
        for x, v in self._pairs(store, f"<{RDFS}label>"):
            if isinstance(x, ox.NamedNode) and isinstance(v, ox.Literal):
                labels[x.value].setdefault(v.language or "", v.value)
        return labels

    def _load_territories(self, store: Store) -> None:
        codes = {x.value: v.value for x, v in self._pairs(store, f"<{IGEO}codeINSEE>")}
        pops = {x.value: v.value for x, v in self._pairs(store, f"<{CS}population>")}
        for iri, c in self._instances(store, list(TERRITORY_CLASSES)):
            names = self._labels.get(iri, {})
            label = names.get("fr") or names.get("") or next(iter(names.values()), iri)
            pop = pops.get(iri)
            try:
                population = int(pop) if pop is not None else None
            except ValueError:
                population = None
            self.territories[iri] = Territory(
                iri, TERRITORY_CLASSES[c], label, codes.get(iri, ""), population
            )
        for child, parent in store.scan(f"SELECT ?c ?p WHERE {{ ?c <{DCTERMS}isPartOf> ?p }}", ("c", "p")):
            c, p = child.value, parent.value
            if c in self.territories and p in self.territories:
                self.territories[c].parents.append(p)
                self.children[p].append(c)
        self._closure: dict[str, set[str]] = {}

    def _spatial(self, store: Store) -> list[tuple[ox.Term, ox.Term]]:
        """Every (item, place) of the spatial properties, read once for all the lists."""
        if not hasattr(self, "_spatial_pairs"):
            self._spatial_pairs = self._pairs(store, f"({SPATIAL})")
        return self._spatial_pairs

    def closure(self, territory: str) -> set[str]:
        """The territory and every territory containing it (commune → EPCI, département, région).

        Plain closure: the territories graph keeps ``isPartOf`` strict (an EPCI straddling two départements
        only ``geoOverlaps`` them), so a commune reaches its own département and no other.
        """
        found = self._closure.get(territory)
        if found is None:
            found = {territory}
            t = self.territories.get(territory)
            for p in t.parents if t else ():
                found |= self.closure(p)
            self._closure[territory] = found
        return found

    def _load_kind(self, store: Store, kind: ListKind) -> None:
        values = " ".join(f"<{c}>" for c in kind.classes)
        index: dict[str, Item] = {}
        folder = self.base + CONCEPT_FOLDERS[kind.name] if kind.name in CONCEPT_FOLDERS else None
        for iri, c in self._instances(store, kind.classes):
            if folder and not iri.startswith(folder):
                continue
            item = index.get(iri)
            if item is None:
                item = index[iri] = Item(iri, kind.name, dict(self._labels.get(iri, {})))
            item.types.add(c)
        if not index:
            return
        start = len(self.items)
        for n, item in enumerate(index.values()):
            self.items.append(item)
            self.by_kind[kind.name].append(start + n)
            self.by_iri[item.iri].append(start + n)
        numbers = {item.iri: start + n for n, item in enumerate(index.values())}
        type_filter = f"VALUES ?c {{ {values} }} ?x a ?c ."
        if kind.name == "territoires":
            for item in index.values():
                item.direct = {item.iri}
        else:
            for x, t in self._spatial(store):
                item = index.get(x.value)
                if item is not None and t.value in self.territories:
                    item.direct.add(t.value)
        for item in index.values():
            for t in item.direct:
                item.within |= self.closure(t)
        for facet in kind.facets:
            if facet.path:
                if facet.path == f"<{RDF}type>" and kind.name == "territoires":
                    pairs = [(ox.NamedNode(i.iri), ox.NamedNode(c)) for i in index.values() for c in i.types]
                elif facet.path == f"<{RDF}type>":  # every type of the items: a join, on a short list
                    query = f"SELECT DISTINCT ?x ?v WHERE {{ {type_filter} ?x {facet.path} ?v }}"
                    pairs = store.scan(query, ("x", "v"))
                else:
                    pairs = self._pairs(store, facet.path)
                for x, v in pairs:
                    item = index.get(x.value)
                    if item is None:
                        continue
                    value = v.value[:4] if facet.year else v.value
                    if facet.name == "samedi":
                        if value != SCHEMA + "Saturday":
                            continue
                        value = "oui"
                    item.facets[facet.name].add(value)
                    if facet.year and (not item.year or value > item.year):
                        item.year = value
            else:
                level = facet.name
                for item in index.values():
                    item.facets[level] = {t for t in item.within if self.territories[t].level == level}
        for item in index.values():
            n = numbers[item.iri]
            for name, vals in item.facets.items():
                for v in vals:
                    key = key_of(v, self.base)
                    self.postings[(kind.name, name, key)].add(n)
                    self.facet_values[(kind.name, name, key)] = v
            if kind.name in ROLLUP_KINDS:
                for t in item.within:
                    self.rollup[t].append(n)

    def _label_values(self, store: Store) -> None:
        wanted = {v for v in self.facet_values.values() if "://" in v and v not in self.territories}
        self.value_labels = labels_of(store, [ox.NamedNode(v) for v in wanted])
        for t in self.territories.values():
            self.value_labels[t.iri] = {"fr": t.label}

    # --- reading ----------------------------------------------------------------------------
    def label(self, iri: str, lang: str = "fr") -> str:
        for n in self.by_iri.get(iri, ()):
            labels = self.items[n].labels
            return labels.get(lang) or labels.get("fr") or labels.get("") or next(iter(labels.values()), iri)
        labels = self.value_labels.get(iri)
        if labels:
            return labels.get(lang) or labels.get("fr") or labels.get("") or next(iter(labels.values()))
        return iri

    def filter(self, kind: str, selected: dict[str, list[str]]) -> list[int]:
        """Items of ``kind`` matching every facet (values of one facet are alternatives)."""
        result: set[int] | None = None
        for name, keys in selected.items():
            matching: set[int] = set()
            for key in keys:
                matching |= self.postings.get((kind, name, key), set())
            result = matching if result is None else result & matching
        if result is None:
            return list(self.by_kind.get(kind, ()))
        return sorted(result)

    def facet_counts(self, kind: str, numbers: list[int], facet: str) -> list[tuple[str, int]]:
        """(key, count) for one facet over the given items, most frequent first."""
        counts: dict[str, int] = defaultdict(int)
        for n in numbers:
            for v in self.items[n].facets.get(facet, ()):
                counts[key_of(v, self.base)] += 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


_lock = threading.Lock()
# Kept per store object, weakly: an id() could be reused by a new store and serve the old one's index.
_cache: weakref.WeakKeyDictionary[Store, tuple[int, Catalog, TextIndex]] = weakref.WeakKeyDictionary()
_building: weakref.WeakKeyDictionary[Store, threading.Event] = weakref.WeakKeyDictionary()  # set when built


class IndexNotReady(StoreUnavailable):
    """The first index of this store is still being built (a server start at national scale)."""


def catalog(store: Store) -> Catalog:
    return _current(store)[0]


def text_index(store: Store) -> TextIndex:
    return _current(store)[1]


def catalog_within(store: Store, wait: float) -> Catalog | None:
    """The index, or None if its first build is still under way after ``wait`` seconds."""
    try:
        return _current(store, wait)[0]
    except IndexNotReady:
        return None


def start(store: Store) -> None:
    """Build the first index in the background: at 20M quads it takes ~12 min, during which the server
    answers SPARQL, resource pages and dumps, and index pages wait up to FIRST_BUILD_WAIT then say 503."""
    with _lock:
        if store not in _cache and store not in _building:
            _spawn(store)


def finish(store: Store, timeout: float) -> None:
    """Before the store closes: let a build under way end (a few seconds below 1M quads; a bigger one is
    left to the process's exit rather than make the shutdown wait for it)."""
    with _lock:
        building = _building.get(store)
    if building is not None:
        building.wait(timeout)


def _spawn(store: Store) -> None:
    _building[store] = threading.Event()
    threading.Thread(target=_rebuild, args=(store,), daemon=True, name="search-index").start()


def _current(store: Store, wait: float | None = None) -> tuple[Catalog, TextIndex]:
    """The index of the store's version; after a write, the previous one while the new one builds.

    Building takes seconds at scale (~20 s for 1M triples), so a write must not make the next visitor wait:
    lists and search are eventually consistent (resource pages read the store directly, always fresh).
    Only the very first build, with nothing to serve, is waited for: built here, or for at most ``wait``
    seconds (FIRST_BUILD_WAIT) when :func:`start` began it.
    """
    key = store
    with _lock:
        cached = _cache.get(key)
        if cached and (cached[0] == store.version or key in _building):
            return cached[1], cached[2]
        if cached:
            _spawn(store)
            return cached[1], cached[2]
        building = _building.get(key)
        if building is None:
            return _build(store)
    if not building.wait(FIRST_BUILD_WAIT if wait is None else wait):
        raise IndexNotReady(
            "the index of lists and search is still being built (the server has just started): "
            "try again in a minute"
        )
    return _current(store, wait)  # built; or failed (a remote server down), and this request tries again


def _build(store: Store) -> tuple[Catalog, TextIndex]:
    cat = Catalog(store)
    idx = TextIndex(store, cat)
    _cache[store] = (cat.version, cat, idx)
    return cat, idx


def _rebuild(store: Store) -> None:
    try:
        cat = Catalog(store)
        idx = TextIndex(store, cat)
        with _lock:
            _cache[store] = (cat.version, cat, idx)
    except StoreError:
        pass  # a remote store down or closed: the previous index is served; the next read tries again
    except Exception:  # noqa: BLE001 - a thread's error would otherwise only reach stderr
        log.exception("the index could not be built")
    finally:
        with _lock:
            _building.pop(store).set()


TOKEN = re.compile(r"\w+", re.UNICODE)


class TextIndex:
    """SQLite FTS5 over labels (weight 10) and texts (weight 1) of every catalogue item."""

    def __init__(self, store: Store, cat: Catalog):
        self.catalog = cat
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute(
            "CREATE VIRTUAL TABLE doc USING fts5(label, body, n UNINDEXED,"
            " tokenize='unicode61 remove_diacritics 2')"
        )
        texts: dict[str, list[str]] = defaultdict(list)
        props = " ".join(f"<{p}>" for p in TEXT_PROPS)
        query = f"SELECT ?x ?t WHERE {{ VALUES ?p {{ {props} }} ?x ?p ?t FILTER(isLiteral(?t)) }}"
        for x, t in store.scan(query, ("x", "t")):
            if x.value in cat.by_iri:
                texts[x.value].append(t.value)
        rows = []
        for n, item in enumerate(cat.items):
            label = " ".join(dict.fromkeys(item.labels.values()))
            rows.append((label, "\n".join(texts.get(item.iri, ())), n))
        self.db.executemany(
            "INSERT INTO doc(rowid, label, body, n) VALUES (?, ?, ?, ?)",
            [(n + 1, *r) for n, r in enumerate(rows)],
        )
        self.lock = threading.Lock()

    @staticmethod
    def fts_query(text: str) -> str:
        """Every word must match, as a prefix ('saisonnier' finds 'saisonniers')."""
        return " ".join(f'"{w}"*' for w in TOKEN.findall(text.lower()))

    def search(self, text: str, limit: int = 1000) -> list[tuple[int, float]]:
        """(item number, rank) best first."""
        query = self.fts_query(text)
        if not query:
            return []
        with self.lock:
            rows = self.db.execute(
                "SELECT n, bm25(doc, 10.0, 1.0) AS r FROM doc WHERE doc MATCH ? ORDER BY r LIMIT ?",
                (query, limit),
            ).fetchall()
        return [(int(n), r) for n, r in rows]

    def snippets(self, numbers: list[int], text: str) -> list[tuple[int, Markup]]:
        """Escaped excerpts of the texts with the matched words in <mark>."""
        query = self.fts_query(text)
        marks = "\x02", "\x03"
        with self.lock:
            rows = self.db.execute(
                f"SELECT n, snippet(doc, 1, ?, ?, '…', 20) FROM doc WHERE doc MATCH ? AND rowid IN "
                f"({','.join('?' * len(numbers))})",
                (*marks, query, *(n + 1 for n in numbers)),
            ).fetchall()
        return [
            (int(n), Markup(str(escape(s)).replace(marks[0], "<mark>").replace(marks[1], "</mark>")))
            for n, s in rows
        ]
