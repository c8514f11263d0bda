"""The browsing index: lists, facets, territorial roll-ups and full-text search, in one SQLite file beside
the store (a page is a few indexed SELECTs, not a GROUP BY per facet over SPARQL). When the store's version
moves, only the items of the graphs that changed are read again, in one transaction; a first start, or a
change of most of the store, is a full rebuild (in the background on a server).
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import logging
import re
import sqlite3
import tempfile
import threading
import unicodedata
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from markupsafe import Markup, escape
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from graph import apart, matching
from graph.describe import LABEL_PROPS, labels_of, pick
from graph.namespaces import (
    CREATIVE_WORKS,
    CS,
    DCAT,
    DCTERMS,
    FOAF,
    IGEO,
    LIGATURES,
    ORG,
    RDF,
    SCHEMA,
    SKOS,
    VOID,
)
from graph.sparql_text import values
from graph.store import Store, StoreError, StoreUnavailable

log = logging.getLogger(__name__)
BUSY_WAIT = 5.0  # seconds a write waits for the index file's lock (sqlite3's default)
FIRST_BUILD_WAIT = 30.0  # seconds a request waits for the first index before a 503 (the reads' deadline)
TERRITORY_CLASSES = {
    IGEO + "Region": "region",
    IGEO + "Departement": "departement",
    IGEO + "Intercommunalite": "epci",
    IGEO + "Commune": "commune",
    # Informal areas of the association's documents (Chablais, Tarentaise…): part of the roll-ups, as
    # dcterms:isPartOf* makes them for anyone querying SPARQL.
    CS + "InformalArea": "zone",
}
SPATIAL = f"<{DCTERMS}spatial>|<{SCHEMA}location>|<{SCHEMA}areaServed>"
# An item's postal codes, a commune's own or its address's: people type theirs, not an INSEE code.
POSTAL = (f"<{SCHEMA}postalCode>", f"<{SCHEMA}address>/<{SCHEMA}postalCode>")
TEXT_PROPS = (  # searched beside the labels
    f"<{SCHEMA}description> <{CS}objectives> <{CS}stakes> <{SKOS}definition> <{SKOS}altLabel>"
    f" <{DCTERMS}description> <{SCHEMA}abstract>"
)
# The names of the services a place offers, its own or its networks' (the France Services bundle): people
# look for where to get help with something (« RSA », « carte grise »), not for a place's name.
OFFERING = f"^<{CS}offeredAt>|<{CS}network>/<{CS}networkService>"  # from a place to its services
OFFERED = f"({OFFERING})/<{SCHEMA}name>"


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
    folder: str = ""  # the concept lists are the concepts under one IRI folder of the base


F_THEME = Facet("theme", f"<{DCTERMS}subject>")
F_PUBLIC = Facet("public", f"<{SCHEMA}audience>")
F_DEP = Facet("departement", "")
F_REGION = Facet("region", "")
F_TYPE = Facet("type", f"<{RDF}type>")

LISTS: dict[str, ListKind] = {
    k.name: k
    for k in (
        ListKind(
            "projets",
            (SCHEMA + "Project",),
            (
                Facet("axe", f"<{DCTERMS}type>"),
                F_REGION,
                F_DEP,
                F_THEME,
                F_PUBLIC,
                # every year of a stated or inferred period (dcterms:temporal); shown: the stated start
                Facet("annee", f"<{SCHEMA}startDate>|<{DCTERMS}temporal>/<{DCAT}startDate>", year=True),
                Facet("financeur", f"<{SCHEMA}funding>/<{SCHEMA}funder>"),
            ),
        ),
        ListKind("acteurs", (ORG + "Organization", FOAF + "Person"), (F_TYPE, F_REGION, F_DEP, F_THEME)),
        ListKind(
            "ressources",
            tuple(SCHEMA + c for c in CREATIVE_WORKS),
            (
                Facet("genre", f"<{DCTERMS}type>"),
                F_THEME,
                F_PUBLIC,
                F_REGION,
                F_DEP,
                Facet("annee", f"<{DCTERMS}created>|<{SCHEMA}datePublished>", year=True),
                Facet("licence", f"<{DCTERMS}license>"),
            ),
        ),
        ListKind(
            "evenements",
            (SCHEMA + "Event",),
            (F_REGION, F_DEP, F_THEME, Facet("annee", f"<{SCHEMA}startDate>", year=True)),
        ),
        ListKind(
            "lieux",
            (CS + "ServicePlace",),
            (
                Facet("reseau", f"<{CS}network>"),
                Facet("typologie", f"<{CS}typology>"),
                F_REGION,
                F_DEP,
                Facet("epci", ""),
                Facet("commune", ""),
                Facet("samedi", f"<{SCHEMA}openingHoursSpecification>/<{SCHEMA}dayOfWeek>"),
            ),
        ),
        ListKind("territoires", tuple(TERRITORY_CLASSES), (Facet("niveau", f"<{RDF}type>"), F_REGION, F_DEP)),
        ListKind("themes", (SKOS + "Concept",), (), "id/theme/"),
        ListKind("publics", (SKOS + "Concept",), (), "id/public/"),
    )
}
# The lists of each class (a skos:Concept is in two, told apart by its IRI's folder).
CLASSES = {c: [k for k in LISTS.values() if c in k.classes] for k in LISTS.values() for c in k.classes}
ROLLUP_KINDS = ("projets", "acteurs", "ressources", "evenements", "lieux")


LEVELS = ("region", "departement", "epci", "commune")  # the facets a place's territories give (its closure)
SCHEMA_VERSION = "20"
LABELS_KEPT = 20_000  # labels cached between two versions
NAMES_KEPT = 1_000  # territories' names whose items said elsewhere are kept (Catalog._left_out)
LAST = 2**62  # an offset past any list (a page number in a URL may be any size; SQLite's are 64-bit)
BATCH = 400  # IRIs per VALUES clause when re-reading some items, values per SQL IN (...)
RANKED = 2_000  # matches of one search ranked and counted per facet (all are counted in all and per list)
FULL_SHARE = 0.5  # a change of more than this share of the store's triples is rebuilt whole
PREFIXED = "SELECT term FROM word WHERE term >= ? AND term < ? ORDER BY LENGTH(term), term LIMIT ?"
# What tests and benchmarks count: "items_read", "full_builds", "updates", "relabelled" (the items not read
# again whose context a write relabelling one of their values rewrote).
stats: Counter[str] = Counter()

TABLES = """
CREATE TABLE IF NOT EXISTS state(name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending(graph TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS graph(iri TEXT PRIMARY KEY, fingerprint TEXT, triples INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS origin(graph TEXT, iri TEXT, PRIMARY KEY(graph, iri)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS origin_iri ON origin(iri);
CREATE TABLE IF NOT EXISTS item(
  n INTEGER PRIMARY KEY, iri TEXT, kind TEXT, labels TEXT, year TEXT, sort_fr TEXT, sort_en TEXT);
CREATE INDEX IF NOT EXISTS item_iri ON item(iri);
CREATE INDEX IF NOT EXISTS item_fr ON item(kind, sort_fr, iri);
CREATE INDEX IF NOT EXISTS item_en ON item(kind, sort_en, iri);
CREATE INDEX IF NOT EXISTS item_year ON item(kind, year);
CREATE TABLE IF NOT EXISTS facet(
  kind TEXT, name TEXT, key TEXT, n INTEGER, value TEXT, PRIMARY KEY(kind, name, key, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS facet_n ON facet(n, name, key, value);
CREATE TABLE IF NOT EXISTS facet_count(
  kind TEXT, name TEXT, key TEXT, value TEXT, c INTEGER, PRIMARY KEY(kind, name, key)) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS facet_in AFTER INSERT ON facet BEGIN
  INSERT INTO facet_count VALUES (new.kind, new.name, new.key, new.value, 1)
  ON CONFLICT DO UPDATE SET c = c + 1;
END;
CREATE TRIGGER IF NOT EXISTS facet_out AFTER DELETE ON facet BEGIN
  UPDATE facet_count SET c = c - 1 WHERE kind = old.kind AND name = old.name AND key = old.key;
END;
CREATE TABLE IF NOT EXISTS place(territory TEXT, n INTEGER, PRIMARY KEY(territory, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS place_n ON place(n);
CREATE TABLE IF NOT EXISTS territory(
  iri TEXT PRIMARY KEY, level TEXT, label TEXT, code TEXT, population INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS part(child TEXT, parent TEXT, PRIMARY KEY(child, parent)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS part_parent ON part(parent);
CREATE TABLE IF NOT EXISTS value_label(iri TEXT PRIMARY KEY, labels TEXT, alternates TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS word(term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS name(key TEXT, n INTEGER, PRIMARY KEY(key, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS name_n ON name(n);
CREATE VIRTUAL TABLE IF NOT EXISTS doc USING fts5(
  label, body, body_fr, body_en, postal, offered, context, tokenize='unicode61 remove_diacritics 2');
"""
BODIES = ("", "fr", "en")  # doc's text columns: in no page language (untagged, or another), French, English
# doc's last column, the item's context: the labels of its facets' values and of its territories (the closure
# of its places: commune, EPCI, département, région, informal areas), in every language, and each of these
# territories' token. « tiers-lieu Gap » finds the tiers-lieux of Gap though no text of theirs names their
# network or their commune; Gap's token, not the word « gap », which « Gapeau » begins.
# Between two labels of the context, a word no search has: a phrase is within one label (« Thorame-Haute »
# then « Alpes-de-Haute-Provence » is not « Haute-Alpes »).
APART = " zt "
OWN = "{label body body_fr body_en postal}"  # doc's columns of the item's own texts (:data:`POSTAL`)
# Then ``offered``, a place's services (:data:`OFFERED`): searched with the context, after the own texts.
DERIVED = (  # noqa: SIM905 - every table but state and pending
    "graph origin item facet_count facet place territory part value_label word name doc"
).split()
WITHIN = "temp.within w CROSS JOIN item i ON i.n = w.n"  # the items of the territory last asked


@dataclass
class Item:
    iri: str
    kind: str
    labels: dict[str, str]
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    direct: set[str] = field(default_factory=set)  # places named by the item (territories among them)
    year: str = ""
    texts: list[tuple[str, str]] = field(default_factory=list)  # (a language of BODIES, text)
    # keys of its labels, alternate labels and acronyms, and a commune's postal codes
    names: set[str] = field(default_factory=set)
    postal: set[str] = field(default_factory=set)  # its postal codes (:data:`POSTAL`)
    offered: set[str] = field(default_factory=set)  # a place's services (:data:`OFFERED`)


@dataclass(frozen=True)
class Snippet:
    """A search hit's text and its highlights as (start, end) offsets: a page marks them, JSON gives them."""

    text: str = ""
    spans: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, marked: str, marks: tuple[str, str]) -> Snippet:
        """From FTS5's snippet(), whose highlights open and close with ``marks``."""
        text, spans = "", []
        for i, part in enumerate(re.split(f"[{''.join(marks)}]", marked)):
            if i % 2:
                spans.append((len(text), len(text) + len(part)))
            text += part
        return cls(text, tuple(spans))

    def html(self) -> Markup:
        out, at = Markup(), 0
        for start, end in self.spans:
            out += escape(self.text[at:start]) + Markup("<mark>%s</mark>") % self.text[start:end]
            at = end
        return out + escape(self.text[at:])


def key_of(value: str, base: str) -> str:
    """A short URL key for a facet value: the last segment of an IRI of ours, a territory class's level
    (``niveau=commune``), else the value itself. A key is its own key: a URL may name a value by its IRI."""
    if value in TERRITORY_CLASSES:
        return TERRITORY_CLASSES[value]
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

    @functools.cached_property  # asked once per item within the territory
    def token(self) -> str:
        """The one word of an item's context saying it lies in this territory: a search naming the territory
        asks for it, where its label's words are also those of longer names (« Savoie » of « Haute-Savoie »)
        and begin others (« Gap » « Gapeau »). No text has it, and the word table does not (no prefix nor
        spelling suggestion reaches it)."""
        return "zt" + self.level + re.sub("[^0-9a-z]", "", folded(self.iri.rsplit("/", 1)[-1]))


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _chunks(values: list) -> Iterator[list]:
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


class Catalog:
    """The index file of one store (``path``, else beside an on-disk store, else a temporary one), read by
    the pages; ``build=False`` only opens it (the server then refreshes it in the background)."""

    def __init__(self, store: Store, path: Path | None = None, *, build: bool = True):
        self.base = store.minter.base
        location = getattr(store, "path", None)
        self.temporary = path is None and not isinstance(location, Path)
        self.closed = False  # set by finish(): a build under way stops at its next read of the store
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.path = path
        elif isinstance(location, Path):
            self.path = location.with_name(location.name + ".index.sqlite")
        else:  # an in-memory or remote store: a private file, gone with this object
            self._folder = tempfile.TemporaryDirectory(prefix="communs-index-")
            self.path = Path(self._folder.name) / "index.sqlite"
        self.db = self._connect()  # the writer's connection (under self.busy)
        self.reader = self._connect()  # the pages' connection (under self._read_lock)
        self._read_lock = threading.RLock()  # a method reading items inside another's transaction
        # Labels cached per version: a page asks for the same facet values' again and again.
        self.label = functools.lru_cache(LABELS_KEPT)(self.label)
        self._left_out = functools.lru_cache(NAMES_KEPT)(self._left_out)
        self._filled: dict[str, object] = {}  # what temp.chosen and temp.within hold the items of
        self.busy = threading.Lock()  # one refresh at a time
        self.ready = threading.Event()  # set once a version is there to read
        state = dict(self.db.execute("SELECT name, value FROM state"))
        if state and (state.get("schema") != SCHEMA_VERSION or state.get("base") != self.base):
            # Said at once: the build ends minutes later, and until then list and search pages wait.
            log.info("index d'une version antérieure (%s) : reconstruction…", self.path)
            self.close()  # another layout or another base: what the file holds cannot be read
            for end in ("", "-wal", "-shm"):
                self.path.with_name(self.path.name + end).unlink(missing_ok=True)
            self.db, self.reader, state = self._connect(), self._connect(), {}
        self.version: int | None = int(state["version"]) if "version" in state else None
        self._load_territories()
        if self.version is not None:
            self.ready.set()
        if build:
            self.refresh(store)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash may lose the last commit, never mix two
        db.execute("PRAGMA cache_size=-65536")  # 64 MB: a full build writes indexes in random order
        db.executescript(TABLES)
        db.create_function("likeness", 2, likeness, deterministic=True)  # Catalog.search's tie-breaker
        db.executescript(
            "CREATE TEMP TABLE hit(n INTEGER PRIMARY KEY, tier INTEGER, e INTEGER, r REAL);"  # one search's
            "CREATE TEMP TABLE within(n INTEGER PRIMARY KEY, direct INTEGER);"  # one territory's items
            "CREATE TEMP TABLE chosen(n INTEGER PRIMARY KEY);"  # one list's items matching its facets
            "CREATE TEMP TABLE elsewhere(n INTEGER PRIMARY KEY);"  # one search's (Catalog._elsewhere_clause)
        )
        return db

    def close(self) -> None:
        self.db.close()
        self.reader.close()

    # --- bringing the file to the store's version ---------------------------------------------
    def refresh(self, store: Store, *, wait: bool = True) -> None:
        """Read again what changed since the recorded version; a full build when there is none or when
        most of the store changed. Without ``wait``, nothing is done if another thread is at it."""
        if not self.busy.acquire(blocking=wait):
            return  # another thread is at it: its result will be read
        try:
            version = store.version
            if version == self.version:
                return
            self._begin(BUSY_WAIT if wait else 0)  # a load writing the index: known before reading the store
            there = self.db.execute("SELECT value FROM state WHERE name = 'version'").fetchone()
            self.db.execute("ROLLBACK")
            if there is not None and int(there[0]) != self.version:  # another process wrote the file
                self._adopt(int(there[0]))
                if version == self.version:
                    return
            written = store.written  # named by the store's writes in this process
            while written:  # kept in the file until applied: a crash in between does not lose them
                self.db.execute("INSERT OR IGNORE INTO pending VALUES (?)", (written.pop(),))
            told = {g for (g,) in self.db.execute("SELECT graph FROM pending")}
            rows = self.db.execute("SELECT iri, fingerprint, triples FROM graph")
            recorded = {g: (f, n) for g, f, n in rows}
            # Our own writes named their graphs: the others keep their recorded counts (counting every
            # graph a load did not describe costs a scan of it); a change by another hand is read whole.
            prints = self._fingerprints(store, recorded if told else {}, told)
            graphs = prints.keys() | recorded.keys()
            changed = {g for g in graphs if g in told or prints.get(g) != recorded.get(g)}
            changed.discard(store.meta_graph)  # it says things about graphs, never about items
            total = sum(n for _, n in prints.values()) or 1
            moved = sum(prints.get(g, ("", 0))[1] for g in changed)
            if self.version is not None and moved / total <= FULL_SHARE:
                self._apply(store, version, prints, sorted(changed))
            elif wait:
                self._build(store, version, prints)
            else:  # a full build on a server: in the background, the old version served meanwhile
                threading.Thread(target=_catch_up, args=(self, store), daemon=True, name="index").start()
        finally:
            self.busy.release()

    def check_free(self) -> None:
        """``IndexLocked`` if another process writes the file now: a command asks before it writes the
        store, rather than write it and then stop on the index."""
        self._begin(0)
        self.db.execute("ROLLBACK")

    def _adopt(self, version: int) -> None:
        """The file is at ``version``, written by another process (or this one's build apart): what this
        object keeps of it in memory is read again, so pages and their ETags say that version."""
        self.version = version
        self._load_territories()
        self.label.cache_clear()
        self.ready.set()

    def _build(self, store: Store, version: int, prints: dict[str, tuple[str, int]]) -> None:
        """A full build reads every item of the store: a serving process's pages would wait for its GIL
        as long as it runs. So it runs in a child process on a copy of the public data (graph.apart),
        writing this file in one transaction while the pages read the version before, when the store
        gives a copy (else here: a store in memory)."""
        with store.public_copy() as opener:
            if opener is None:
                self._apply(store, version, prints, None)
            else:
                apart.call(_build_whole, opener, self.path, version, prints)
                stats["full_builds"] += 1
                self._adopt(version)
        log.info("the lists and search index built whole at version %s", version)

    def _apply(
        self, store: Store, version: int, prints: dict[str, tuple[str, int]], graphs: list[str] | None
    ) -> None:
        """One transaction: the items the changed ``graphs`` state something about (all for None) read
        again, the territories too if some of them are, the fingerprints and the version recorded."""
        db = self.db
        self._begin(BUSY_WAIT)
        try:
            if graphs is None:
                stats["full_builds"] += 1
                for table in DERIVED:
                    db.execute(f"DELETE FROM {table}")
                iris, labelled = None, {}
                territories = True
            else:
                stats["updates"] += 1
                touched: set[str] = set()
                for g in graphs:
                    touched.update(i for (i,) in db.execute("SELECT iri FROM origin WHERE graph = ?", (g,)))
                    if g in prints:  # its subjects, and the places offering services it names now
                        query = f"""SELECT DISTINCT ?x WHERE {{
                              {{ GRAPH <{g}> {{ ?x ?p ?o }} FILTER(isIRI(?x)) }}
                              UNION {{ GRAPH <{g}> {{ ?s <{SCHEMA}name> ?n }} ?x {OFFERING} ?s }} }}"""
                        touched.update(x.value for (x,) in self._scan(store, query, ("x",)))
                iris = sorted(touched)
                territories = any(i in self.territories for i in iris)
                labelled = self._value_labels(iris)
                self._forget(iris)
            before = read_after = db.execute("SELECT COALESCE(MAX(n), 0) FROM item").fetchone()[0]
            docs: dict[int, tuple[str, ...]] = {}  # the own texts of the items read, by number
            for chunk in [None] if iris is None else _chunks(iris):
                found = self._read_items(store, chunk)
                stats["items_read"] += len(found)
                docs |= self._insert(found)
                territories = territories or any(it.kind == "territoires" for it in found)
            if territories:
                self._write_territories(store)
                self._load_territories(db)
                db.execute(f"DELETE FROM facet WHERE name IN ({_marks(len(LEVELS))})", LEVELS)
                before = 0
            self._level_facets(before)
            written = self._label_values(store, read_after, sorted(labelled))
            self._documents(docs, before, self._relabelled(labelled, written, before))
            self._origins(store, iris, prints)
            if graphs is None:  # the full-text index in one segment, not the many its inserts left: quicker
                db.execute("INSERT INTO doc(doc) VALUES ('optimize')")  # every search, for a moment's work
            db.execute("DELETE FROM graph")
            db.execute("DELETE FROM pending")
            db.executemany("INSERT INTO graph VALUES (?, ?, ?)", [(g, *p) for g, p in prints.items()])
            db.executemany(
                "INSERT OR REPLACE INTO state VALUES (?, ?)",
                [("schema", SCHEMA_VERSION), ("base", self.base), ("version", str(version))],
            )
            db.execute("COMMIT")
            if graphs is None:  # a whole copy went through the WAL: give its space back
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            db.execute("ROLLBACK")
            self._load_territories()
            raise
        self.version = version
        self.label.cache_clear()
        self.triples = sum(n for _, n in prints.values())
        self.ready.set()

    def _begin(self, wait: float) -> None:
        """The file's write lock, waited for ``wait`` seconds; held past that by another process (a load
        writing the index), ``IndexLocked``: the version the file holds is served until it is free."""
        self.db.execute(f"PRAGMA busy_timeout = {wait * 1000:.0f}")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if e.sqlite_errorname != "SQLITE_BUSY":
                raise
            raise IndexLocked(
                f"the lists and search index {self.path} is being written by another process (communs load "
                "or import): this server reads it as it is and takes it up once that process is done"
            ) from None
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_WAIT * 1000:.0f}")

    def _forget(self, iris: list[str]) -> None:
        db = self.db
        for chunk in _chunks(iris):
            where = f"IN ({_marks(len(chunk))})"
            numbers = f"IN (SELECT n FROM item WHERE iri {where})"
            for table, column in (("facet", "n"), ("place", "n"), ("name", "n"), ("doc", "rowid")):
                db.execute(f"DELETE FROM {table} WHERE {column} {numbers}", chunk)
            for table in ("item", "value_label", "origin"):
                db.execute(f"DELETE FROM {table} WHERE iri {where}", chunk)

    def _insert(self, items: list[Item]) -> dict[int, tuple[str, ...]]:
        """The items, their facets, places and names; their own texts (label, bodies, postal codes) are
        returned by number for :meth:`_documents`, which writes them with their context once the territories
        are known."""
        db = self.db
        first = db.execute("SELECT COALESCE(MAX(n), 0) FROM item").fetchone()[0] + 1
        numbered = list(enumerate(items, first))
        db.executemany(
            "INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (n, it.iri, it.kind, json.dumps(it.labels, ensure_ascii=False), it.year)
                + (folded(pick(it.labels, "fr", it.iri)), folded(pick(it.labels, "en", it.iri)))
                for n, it in numbered
            ],
        )
        db.executemany(
            "INSERT OR IGNORE INTO facet VALUES (?, ?, ?, ?, ?)",
            [
                (it.kind, name, key_of(v, self.base), n, v)
                for n, it in numbered
                for name, vs in it.facets.items()
                for v in vs
            ],
        )
        db.executemany(
            "INSERT OR IGNORE INTO place VALUES (?, ?)", [(t, n) for n, it in numbered for t in it.direct]
        )
        db.executemany(
            "INSERT OR IGNORE INTO name VALUES (?, ?)", [(k, n) for n, it in numbered for k in it.names]
        )
        return {
            n: tuple(
                text.translate(LIGATURES)  # unicode61 keeps « œ » whole: the words of :func:`folded`
                for text in (
                    " ".join(dict.fromkeys(it.labels.values())),
                    *("\n".join(t for lang, t in it.texts if lang == body) for body in BODIES),
                    " ".join(sorted(it.postal)),
                    " ; ".join(sorted(it.offered)),
                )
            )
            for n, it in numbered
        }

    def _documents(self, docs: dict[int, tuple[str, ...]], after: int, others: list[int]) -> None:
        """The full-text rows of the items numbered above ``after``: those just read with their own texts
        (``docs``), and every one's context (the others' only when the territories changed: ``after`` 0);
        and the context of ``others``, items not read again that carry a value whose labels moved."""
        db = self.db
        said: dict[int, list[str]] = defaultdict(list)
        query = (
            "SELECT f.n, v.labels, v.alternates FROM facet f JOIN value_label v ON v.iri = f.value "
            "WHERE f.n {n}"
        )
        for n, labels, alternates in self._numbered(query, after, others):
            said[n] += [*json.loads(labels).values(), *json.loads(alternates)]
        within: dict[int, set[str]] = defaultdict(set)
        for n, place in self._numbered("SELECT n, territory FROM place WHERE n {n}", after, others):
            within[n] |= self.closure(place) & self.territories.keys()
        names: dict[str, list[str]] = {}  # a territory's labels, every language
        query = "SELECT iri, labels FROM item WHERE kind = 'territoires' AND iri IN"
        for chunk in _chunks(sorted(set().union(*within.values()))):
            rows = db.execute(f"{query} ({_marks(len(chunk))})", chunk)
            names |= {iri: [*json.loads(labels).values()] for iri, labels in rows}
        for n, places in within.items():
            said[n] += [label for t in places for label in names.get(t) or [self.territories[t].label]]
        # The words the table holds, so that a search expands a prefix into words (a prefix query of
        # FTS5 reads every posting of its words before the first match; a word query streams them).
        found = {w for texts in docs.values() for w in words_of(" ".join(texts))}
        found.update(w for labels in said.values() for label in labels for w in words_of(label))
        context = {n: APART.join(dict.fromkeys(labels)).translate(LIGATURES) for n, labels in said.items()}
        for n, places in within.items():
            context[n] += "".join(sorted(" " + self.territories[t].token for t in places))
        # Rows already there (items not read again: above ``after`` when the territories changed, and the
        # ``others``): the contexts that moved. Then the rows of the items read.
        rows = self._numbered("SELECT rowid, context FROM doc WHERE rowid {n}", after, others)
        moved = [(context.get(n, ""), n) for n, c in rows if c != context.get(n, "")]
        db.executemany("UPDATE doc SET context = ? WHERE rowid = ?", moved)
        db.executemany(
            "INSERT INTO doc(rowid, label, body, body_fr, body_en, postal, offered, context) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(n, *texts, context.get(n, "")) for n, texts in docs.items()],
        )
        db.executemany("INSERT OR IGNORE INTO word VALUES (?)", [(w,) for w in found])

    def _numbered(self, query: str, after: int, others: list[int]) -> Iterator[tuple]:
        """The rows of ``query`` for the items numbered above ``after`` and for ``others``: its ``{n}`` is
        the condition on an item's number, a range then lists (each an index's lookup, where an OR of them
        may be a scan)."""
        yield from self.db.execute(query.format(n="> ?"), (after,))
        for chunk in _chunks(others):
            yield from self.db.execute(query.format(n=f"IN ({_marks(len(chunk))})"), chunk)

    def _write_territories(self, store: Store) -> None:
        """The territories are the items of that list; their codes, populations, ``isPartOf`` and ``covers``
        are read again whole (flat patterns: a few tens of thousands of rows for France)."""
        db = self.db
        codes = {x.value: v.value for x, v in self._pairs(store, None, f"<{IGEO}codeINSEE>")}
        pops = {x.value: v.value for x, v in self._pairs(store, None, f"<{CS}population>")}
        territories: dict[str, tuple] = {}  # the first level of an IRI that has two
        for iri, level, labels in db.execute(
            "SELECT i.iri, f.value, i.labels FROM item i JOIN facet f ON f.n = i.n "
            "WHERE i.kind = 'territoires' AND f.kind = 'territoires' AND f.name = 'niveau' ORDER BY i.n"
        ):
            population = int(pops[iri]) if pops.get(iri, "").isdigit() else None
            label = pick(json.loads(labels), "fr", iri)
            territories.setdefault(
                iri, (iri, TERRITORY_CLASSES[level], label, codes.get(iri, ""), population)
            )
        # An informal area contains the official units it covers: its roll-ups count what is in them.
        parts = [
            (c.value, p.value)
            for c, p in self._pairs(store, None, f"<{DCTERMS}isPartOf>|^<{CS}covers>")
            if c.value in territories and p.value in territories
        ]
        for table in ("territory", "part"):
            db.execute(f"DELETE FROM {table}")
        db.executemany("INSERT INTO territory VALUES (?, ?, ?, ?, ?)", territories.values())
        db.executemany("INSERT OR IGNORE INTO part VALUES (?, ?)", parts)

    def _level_facets(self, after: int) -> None:
        """The territorial facets of the items numbered above ``after``: the closure of their places."""
        wanted = {(k.name, f.name) for k in LISTS.values() for f in k.facets if f.name in LEVELS}
        rows = self.db.execute(
            "SELECT p.n, i.kind, p.territory FROM place p JOIN item i ON i.n = p.n WHERE p.n > ?", (after,)
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO facet VALUES (?, ?, ?, ?, ?)",
            [
                (kind, t.level, key_of(t.iri, self.base), n, t.iri)
                for n, kind, place in rows.fetchall()
                for t in map(self.territories.get, self.closure(place))
                if t is not None and (kind, t.level) in wanted
            ],
        )

    def _value_labels(self, iris: list[str]) -> dict[str, tuple[str, str]]:
        """The recorded (labels, alternate labels) of those of ``iris`` that are facet values, before a
        write's update forgets them: read again, they tell whether the items' contexts moved."""
        found = {}
        for chunk in _chunks(iris):
            query = f"SELECT iri, labels, alternates FROM value_label WHERE iri IN ({_marks(len(chunk))})"
            found |= {iri: (labels, alternates) for iri, labels, alternates in self.db.execute(query, chunk)}
        return found

    def _relabelled(
        self, old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]], up_to: int
    ) -> list[int]:
        """The items numbered up to ``up_to`` (not read again) carrying a value whose labels or alternate
        labels moved from ``old`` to ``new`` (alternates in any order: a store gives them in none)."""

        def said(row: tuple[str, str]) -> tuple[dict, list]:
            return json.loads(row[0]), sorted(json.loads(row[1]))

        moved = sorted(v for v, row in old.items() if said(row) != said(new[v]))
        numbers: set[int] = set()
        for chunk in _chunks(moved):
            query = f"SELECT n FROM facet WHERE value IN ({_marks(len(chunk))}) AND n <= ?"
            numbers.update(n for (n,) in self.db.execute(query, [*chunk, up_to]))
        if numbers:
            stats["relabelled"] += len(numbers)
        return sorted(numbers)

    def _label_values(self, store: Store, after: int, again: list[str]) -> dict[str, tuple[str, str]]:
        """Labels of the facet values of the items numbered above ``after`` that are not territories and
        have none recorded, and of the values ``again`` (whose graphs were written), with their alternate
        labels (searched in the items' context: « MSAP », « Maison France Services »); the rows written."""
        db = self.db
        query = (
            "SELECT DISTINCT value FROM facet WHERE n > ? AND value LIKE '%://%' AND value NOT IN "
            "(SELECT iri FROM value_label) AND value NOT IN (SELECT iri FROM territory)"
        )
        wanted = sorted({v for (v,) in db.execute(query, (after,))} | set(again))
        found = labels_of(store, [ox.NamedNode(v) for v in wanted])
        alternates: dict[str, list[str]] = defaultdict(list)
        for chunk in _chunks(wanted):
            for x, v in self._pairs(store, chunk, f"<{SKOS}altLabel>"):
                if isinstance(v, ox.Literal):
                    alternates[x.value].append(v.value)
        rows = {
            v: (
                json.dumps(found.get(v, {}), ensure_ascii=False),
                json.dumps(alternates[v], ensure_ascii=False),
            )
            for v in wanted
        }
        db.executemany(
            "INSERT OR REPLACE INTO value_label VALUES (?, ?, ?)", [(v, *r) for v, r in rows.items()]
        )
        return rows

    def _origins(self, store: Store, iris: list[str] | None, prints: dict[str, tuple[str, int]]) -> None:
        """Which public graphs state something about each item or labelled value, or name a service a place
        offers (its row holds that name): the graphs to watch."""
        db = self.db
        pairs: list[tuple[str, str]] = []
        if iris is None:
            for g in prints:
                if g != store.meta_graph:
                    query = f"SELECT DISTINCT ?x WHERE {{ GRAPH <{g}> {{ ?x ?p ?o }} }}"
                    pairs += [(g, x.value) for (x,) in self._scan(store, query, ("x",))]
        else:
            for chunk in _chunks(iris):
                query = f"SELECT DISTINCT ?x ?g WHERE {{ {values('x', chunk)} GRAPH ?g {{ ?x ?p ?o }} }}"
                pairs += [(g.value, x.value) for x, g in self._scan(store, query, ("x", "g"))]
        for chunk in [None] if iris is None else _chunks(iris):
            only = "" if chunk is None else values("x", chunk)
            named = f"GRAPH ?g {{ ?s <{SCHEMA}name> ?n }}"
            query = f"SELECT DISTINCT ?x ?g WHERE {{ {only}?x {OFFERING} ?s {named} }}"
            pairs += [(g.value, x.value) for x, g in self._scan(store, query, ("x", "g"))]
        db.executemany(
            "INSERT OR IGNORE INTO origin SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM item WHERE iri = ?2) "
            "OR EXISTS (SELECT 1 FROM value_label WHERE iri = ?2)",
            pairs,
        )

    def _scan(self, store: Store, query: str, names: tuple[str, ...]) -> list:
        """Every read of the store by a refresh: a closed catalog's build (a stopping server's) stops here."""
        if self.closed:
            raise Abandoned
        return store.scan(query, names)

    def _fingerprints(
        self, store: Store, recorded: dict[str, tuple[str, int]], told: set[str]
    ) -> dict[str, tuple[str, int]]:
        """Per public graph, (its ``dcterms:modified`` and ``void:triples`` in the metadata graph, its
        triple count); a graph with no stated count is counted, unless no write was ``told`` of it since
        ``recorded``."""

        def said(predicate: str) -> dict[str, str]:
            query = f"SELECT ?g ?v WHERE {{ GRAPH <{store.meta_graph}> {{ ?g <{predicate}> ?v }} }}"
            return {g.value: v.value for g, v in self._scan(store, query, ("g", "v"))}

        modified, stated = said(DCTERMS + "modified"), said(VOID + "triples")
        out = {}
        for g in store.public_graphs():
            try:
                n = int(stated[g])
            except (KeyError, ValueError):
                if g in recorded and g not in told:
                    out[g] = recorded[g]
                    continue
                n = store.count(g)
            out[g] = (f"{modified.get(g, '')}|{n}", n)
        return out

    def _pairs(
        self, store: Store, iris: list[str] | None, path: str, extra: str = ""
    ) -> list[tuple[ox.Term, ox.Term]]:
        """(subject, value) of one property path, flat: over the public dataset (a list of named graphs) a
        join costs a lookup per graph and per row, so the join with the items is done here, in Python."""
        only = "" if iris is None else values("x", iris)  # none: every subject (the full build)
        return self._scan(store, f"SELECT ?x ?v WHERE {{ {only}{extra}?x {path} ?v }}", ("x", "v"))

    def _read_items(self, store: Store, iris: list[str] | None) -> list[Item]:
        """The items of every list among ``iris`` (all of them for None), with what the index keeps."""
        labels: dict[str, dict[str, str]] = defaultdict(dict)
        alternates: dict[str, list[str]] = defaultdict(list)
        for prop in (*LABEL_PROPS, SKOS + "altLabel"):  # the pages' rule: per language, the first label found
            for x, v in self._pairs(store, iris, f"<{prop}>"):
                if isinstance(x, ox.NamedNode) and isinstance(v, ox.Literal):
                    if prop in LABEL_PROPS:
                        labels[x.value].setdefault(v.language or "", v.value)
                    else:
                        alternates[x.value].append(v.value)
        kinds_of = " ".join(f"<{c}>" for c in CLASSES)
        instances = [
            (x.value, c.value)
            for x, c in self._pairs(store, iris, "a", f"VALUES ?v {{ {kinds_of} }} ")
            if isinstance(x, ox.NamedNode)
        ]
        index: dict[tuple[str, str], Item] = {}  # by IRI and list: an IRI may be an item of two lists
        by_iri: dict[str, list[Item]] = defaultdict(list)
        for x, c in instances:
            for kind in CLASSES[c]:
                if (kind.folder and not x.startswith(self.base + kind.folder)) or (x, kind.name) in index:
                    continue
                item = index[(x, kind.name)] = Item(x, kind.name, dict(labels.get(x, {})))
                item.names = names_of([*item.labels.values(), *alternates.get(x, ())])
                by_iri[x].append(item)
                if kind.name == "territoires":
                    item.direct.add(x)
        if not index:
            return []
        for x, t in self._pairs(store, iris, f"({SPATIAL})"):
            for item in by_iri.get(x.value, ()):
                if item.kind != "territoires" and isinstance(t, ox.NamedNode):
                    item.direct.add(t.value)

        @functools.cache
        def read(path: str) -> list[tuple[str, str]]:  # a path several lists share is read once
            return [(x.value, v.value) for x, v in self._pairs(store, iris, path)]

        # An item's shown year: the earliest of the first alternative of its year facet's path that gives one
        # (a project's stated start before the years inferred from its text); its facet keeps every year.
        years: dict[tuple[str, str], tuple[int, str]] = {}
        for kind in LISTS.values():
            for facet in kind.facets:
                if facet.path == f"<{RDF}type>" and kind.name == "territoires":  # the classes read above
                    pairs = [(x, c, 0) for x, c in instances if c in TERRITORY_CLASSES]
                elif facet.path == f"<{RDF}type>":  # every type of the items: a join, on a short list
                    typed = self._pairs(store, iris, "a", f"{values('c', kind.classes)}?x a ?c . ")
                    pairs = [(x.value, v.value, 0) for x, v in typed]
                else:  # the paths ('' for the computed facets) and their alternatives, in order
                    paths = facet.path.split("|") if facet.path else []
                    pairs = [(x, v, rank) for rank, path in enumerate(paths) for x, v in read(path)]
                for x, value, rank in pairs:
                    if (item := index.get((x, kind.name))) is None:
                        continue
                    value = value[:4] if facet.year else value
                    if facet.name == "samedi":
                        if value != SCHEMA + "Saturday":
                            continue
                        value = "oui"
                    item.facets[facet.name].add(value)
                    if facet.year:
                        years[(x, kind.name)] = min(years.get((x, kind.name), (rank, value)), (rank, value))
        for key, (_, year) in years.items():
            index[key].year = year
        for x, t in self._pairs(store, iris, "?p", f"VALUES ?p {{ {TEXT_PROPS} }} "):
            if isinstance(t, ox.Literal):
                lang = (t.language or "").split("-")[0]
                for item in by_iri.get(x.value, ()):
                    item.texts.append((lang if lang in BODIES else "", t.value))
        for x, code in (pair for path in POSTAL for pair in self._pairs(store, iris, path)):
            for item in by_iri.get(x.value, ()) if isinstance(code, ox.Literal) else ():
                item.postal.add(code.value)
                if item.kind == "territoires":  # « 05000 » names the communes it serves, first in a search
                    item.names.add(name_key(code.value))
        for x, name in self._pairs(store, iris, f"({OFFERED})"):
            for item in by_iri.get(x.value, ()) if isinstance(name, ox.Literal) else ():
                item.offered.add(name.value)
        return list(index.values())

    def _load_territories(self, db: sqlite3.Connection | None = None) -> None:
        """Territories stay in memory (a fixed number, ~40,000 for France): cards walk their tree. Read
        through the writer's connection while it rewrites them (``db``), else in a read transaction."""
        if db is None:
            with self._reading() as reader:
                return self._load_territories(reader)
        self.territories: dict[str, Territory] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        self._closure: dict[str, set[str]] = {}
        for iri, level, label, code, population in db.execute(
            "SELECT iri, level, label, code, population FROM territory"
        ):
            self.territories[iri] = Territory(iri, level, label, code, population)
        for child, parent in db.execute("SELECT child, parent FROM part"):
            self.territories[child].parents.append(parent)
            self.children[parent].append(child)
        self.triples: int = db.execute("SELECT COALESCE(SUM(triples), 0) FROM graph").fetchone()[0]
        self._named: dict[str, set[str]] | None = None
        self._name_span = (0, 0)  # the most words and characters of a key of territory_names()

    def territory_names(self) -> dict[str, set[str]]:
        """The territories by the keys of their names, with or without their code in brackets (« Savoie
        (73) »; homonyms together: the communes Saint-Martin; an EPCI also by :func:`epci_name`), by the
        other names the reconciliation knows them by (graph.matching's table: « PACA », « Région Sud », but a
        homonym's, which needs a département beside it), and the départements also by their codes; made at
        the first search, not at each start."""
        if self._named is None:  # made aside, then published: another search may read it meanwhile
            named: dict[str, set[str]] = defaultdict(set)
            by_key = {(t.level, t.iri.rsplit("/", 1)[-1]): t.iri for t in self.territories.values()}
            with matching.TERRITORY_NAMES.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    if not row["context"] and (iri := by_key.get((row["kind"], row["target"]))):
                        named[name_key(row["alias"])].add(iri)
            for t in self.territories.values():
                for name in {t.label, BRACKETED.sub("", t.label)}:
                    named[name_key(name)].add(t.iri)
                    if t.level == "epci" and (epci := epci_name(name)):
                        named[epci].add(t.iri)
                if t.level == "departement" and t.code:
                    named["#" + t.code.lower()].add(t.iri)
            self._holding = defaultdict(list)  # the keys holding each word
            for key in named:
                for word in set(key.split()):
                    self._holding[word].append(key)
            words = (len(k.split()) for k in named)
            self._name_span = (max(words, default=0), max(map(len, named), default=0))
            self._named = named
        return self._named

    def said_parts(self, text: str) -> list[tuple[str, set[str]]]:
        """What a search says, in its order: each longest run of words that names a territory, case, accents,
        hyphens and « St » aside (« tiers-lieu saint martin de belleville »), with its territories, each other
        word with none. A département's code, a whole word, names it (« tiers-lieu 05 », « 05 » alone: what
        one types in a search box for the Hautes-Alpes, not the « cinq » of texts); a postal code (« 05000 »)
        or a number that is no code (« 00 », « 2 ») stays a word: the items' postal codes are words of their
        own (:data:`POSTAL`), which finds the places whose address has it, not all of Paris for « 75011 ».
        A run is at most two words longer than a name's key (a kind spelled out): not n²/2 lookups."""
        written, parts, at = text.split(), [], 0
        named = self.territory_names()
        most_words = self._name_span[0] + 2  # « communauté de communes » is « CC »: one word of its key
        while at < len(written):
            for end in range(min(len(written), at + most_words), at, -1):
                name = " ".join(written[at:end])
                iris = (
                    named.get(name_key(name)) or named.get(epci_name(name)) or named.get("#" + name.lower())
                )
                if iris:
                    parts.append((name, iris))
                    at = end
                    break
            else:
                parts.append((written[at], set()))
                at += 1
        return parts

    def places_named(self, text: str) -> tuple[list[str], list[tuple[str, set[str]]]]:
        """(the words of a search, small words but those of a name dropped; the names of territories it says
        in full and the territories of each): :meth:`said_parts`."""
        parts = self.said_parts(text)
        words = [name for name, iris in parts if not iris]
        places = [(name, iris) for name, iris in parts if iris]
        said = [w for w in words if folded(w) not in SMALL_WORDS]
        return said if places or said else words, places

    # --- reading ----------------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: the statements of a page see one version, even while a refresh commits."""
        with self._read_lock:
            if self.reader.in_transaction:  # inside another method's
                yield self.reader
                return
            self.reader.execute("BEGIN")
            try:
                yield self.reader
            finally:
                self.reader.execute("COMMIT")

    def closure(self, territory: str) -> set[str]:
        """The territory and every territory containing it: ``isPartOf`` is strict in the territories graph
        (an EPCI straddling two départements only ``geoOverlaps`` them), and an informal area contains what
        it ``covers`` (a walk, not a recursion: written data may loop: an area covering what holds it)."""
        found = self._closure.get(territory)
        if found is None:
            found, todo = set(), [territory]
            while todo:
                if (t := todo.pop()) not in found:
                    found.add(t)
                    todo += self.territories[t].parents if t in self.territories else ()
            self._closure[territory] = found
        return found

    def label(self, iri: str, lang: str = "fr") -> str:
        with self._reading() as db:
            row = db.execute("SELECT labels FROM item WHERE iri = ? ORDER BY n LIMIT 1", (iri,)).fetchone()
            if row is None:
                query = "SELECT labels FROM value_label WHERE iri = ? AND labels != '{}'"
                row = db.execute(query, (iri,)).fetchone()
        if row:
            return pick(json.loads(row[0]), lang, iri)
        return self.territories[iri].label if iri in self.territories else iri

    def items_of(self, numbers: Iterable[int]) -> list[Item]:
        """The items with these numbers, in this order, with their facets and places."""
        numbers = list(numbers)
        found: dict[int, Item] = {}
        with self._reading() as db:
            for chunk in _chunks(numbers):
                where = f"WHERE n IN ({_marks(len(chunk))})"
                rows = db.execute(f"SELECT n, iri, kind, labels, year FROM item {where}", chunk)
                for n, iri, kind, labels, year in rows:
                    found[n] = Item(iri, kind, json.loads(labels), year=year)
                for n, name, value in db.execute(f"SELECT n, name, value FROM facet {where}", chunk):
                    found[n].facets[name].add(value)
                for n, t in db.execute(f"SELECT n, territory FROM place {where}", chunk):
                    if t in self.territories:
                        found[n].direct.add(t)
        return [found[n] for n in numbers if n in found]

    def _choose(self, db: sqlite3.Connection, kind: str, selected: dict[str, list[str]]) -> None:
        """``temp.chosen``: the items of ``kind`` matching every facet (values of one facet are
        alternatives), read from the facet with the fewest items, the others looked up for each. Kept for
        the next call with the same filters on the same data (a page, then its facets' counts)."""
        if not self._stale(db, "chosen", (kind, sorted((n, sorted(keys)) for n, keys in selected.items()))):
            return

        def posting(alias: str, name: str) -> tuple[str, list]:
            keys = selected[name]
            where = f"{alias}.kind = ? AND {alias}.name = ? AND {alias}.key IN ({_marks(len(keys))})"
            return f"FROM facet {alias} WHERE {where}", [kind, name, *keys]

        def size(name: str) -> int:
            query, args = posting("f", name)
            return db.execute(f"SELECT COUNT(*) {query}", args).fetchone()[0]

        first, *others = sorted(selected, key=size)
        query, args = posting("f", first)
        query = f"INSERT INTO temp.chosen SELECT DISTINCT f.n {query}"
        for name in others:
            more, more_args = posting("g", name)
            query += f" AND EXISTS (SELECT 1 {more} AND g.n = f.n)"
            args += more_args
        db.execute("DELETE FROM temp.chosen")
        db.execute(query, args)

    def page(
        self, kind: str, selected: dict[str, list[str]], order: str, lang: str, offset: int, limit: int
    ) -> tuple[int, list[Item]]:
        """(how many match, the items of one page) sorted by label, or by year (newest first)."""
        sort = "sort_en" if lang == "en" else "sort_fr"
        # same names (the two « Abancourt ») or years by IRI: the items' numbers follow the order of reading
        by = "COALESCE(NULLIF(year, ''), '0000') DESC, iri" if order == "annee" else f"{sort}, iri"
        with self._reading() as db:
            if selected:  # sort the few matching items
                self._choose(db, kind, selected)
                total = db.execute("SELECT COUNT(*) FROM temp.chosen").fetchone()[0]
                source, args = "item WHERE n IN (SELECT n FROM temp.chosen)", []
            else:  # walk the list's sorted index, then stop
                total = self.count(kind)
                source, args = "item WHERE kind = ?", [kind]
            query = f"SELECT n FROM {source} ORDER BY {by} LIMIT ? OFFSET ?"
            numbers = [n for (n,) in db.execute(query, [*args, limit, min(offset, LAST)])]
            return total, self.items_of(numbers)

    def facet_counts(
        self, kind: str, selected: dict[str, list[str]], facet: str, limit: int = -1
    ) -> list[tuple[str, int, str]]:
        """(key, count, value) of one facet, most frequent first, over the items matching the OTHER facets'
        choices: a value's count is then what ticking it gives (its values are alternatives), and a chosen
        one's its share; every value unless a ``limit`` is given. Kept counts when no other facet is
        chosen (``facet_count``, by triggers), the chosen items' facets otherwise (``temp.chosen``: ask
        the facets without a choice first, whose items are the page's)."""
        selected = {name: keys for name, keys in selected.items() if name != facet}
        with self._reading() as db:
            if not selected:
                return db.execute(
                    "SELECT key, c, value FROM facet_count WHERE kind = ? AND name = ? AND c > 0 "
                    "ORDER BY c DESC, key LIMIT ?",
                    (kind, facet, limit),
                ).fetchall()
            self._choose(db, kind, selected)
            return db.execute(
                "SELECT f.key, COUNT(*) AS c, MIN(f.value) FROM temp.chosen s CROSS JOIN facet f "
                "ON f.n = s.n AND f.name = ? GROUP BY f.key ORDER BY c DESC, f.key LIMIT ?",
                (facet, limit),
            ).fetchall()

    def unknown(self, selected: dict[str, list[str]]) -> tuple[str, str] | None:
        """A (facet, key) no item of any list has, nor a territory of that level: a mistyped URL (e.g.
        ``niveau=Commune``), not a choice that happens to leave nothing (``departement=2A`` on projects)."""
        kinds = list(LISTS)
        have = f"SELECT 1 FROM facet_count WHERE kind IN ({_marks(len(kinds))}) AND name = ? AND key = ?"
        with self._reading() as db:
            for name, keys in selected.items():
                for key in keys:
                    territory = name in LEVELS and f"{self.base}id/{name}/{key}" in self.territories
                    if not territory and not db.execute(have, [*kinds, name, key]).fetchone():
                        return name, key
        return None

    def value_of(self, kind: str, facet: str, key: str) -> str:
        query = "SELECT value FROM facet WHERE kind = ? AND name = ? AND key = ? LIMIT 1"
        with self._reading() as db:
            row = db.execute(query, (kind, facet, key)).fetchone()
        return row[0] if row else key

    def count(self, kind: str, facet: str | None = None, key: str | None = None) -> int:
        """Items of a list, or of a list with one facet value."""
        with self._reading() as db:
            if facet is None:
                return db.execute("SELECT COUNT(*) FROM item WHERE kind = ?", (kind,)).fetchone()[0]
            query = "SELECT c FROM facet_count WHERE kind = ? AND name = ? AND key = ?"
            return (db.execute(query, (kind, facet, key)).fetchone() or (0,))[0]

    def per_departement(self, kind: str) -> dict[str, int]:
        """Items of a list per département code (the home page's map)."""
        query = (
            "SELECT t.code, SUM(f.c) FROM facet_count f JOIN territory t ON t.iri = f.value "
            "WHERE f.kind = ? AND f.name = 'departement' AND f.c > 0 GROUP BY t.code"
        )
        with self._reading() as db:
            return dict(db.execute(query, (kind,)))

    def latest(self, kind: str, limit: int) -> list[Item]:
        with self._reading() as db:
            query = "SELECT n FROM item WHERE kind = ? ORDER BY year DESC, iri LIMIT ?"
            return self.items_of(n for (n,) in db.execute(query, (kind, limit)).fetchall())

    def rollups(self, territory: str, lang: str, limit: int) -> dict[str, tuple[int, int, list[Item]]]:
        """Per list of :data:`ROLLUP_KINDS`: (its items within the territory, how many only through a
        smaller territory, the first ``limit`` by label). The items within are found once for all lists."""
        sort = "sort_en" if lang == "en" else "sort_fr"
        with self._reading() as db:
            self._within(db, territory)
            query = f"SELECT i.kind, COUNT(*), SUM(1 - w.direct) FROM {WITHIN} GROUP BY i.kind"
            counts = {kind: (total, indirect) for kind, total, indirect in db.execute(query)}
            first: dict[str, list[int]] = defaultdict(list)
            query = (
                f"SELECT kind, n FROM (SELECT i.kind, i.n, ROW_NUMBER() OVER (PARTITION BY i.kind "
                f"ORDER BY i.{sort}, i.iri) AS rank FROM {WITHIN}) WHERE rank <= ? ORDER BY rank"
            )
            for kind, n in db.execute(query, (limit,)):
                first[kind].append(n)
            return {kind: (*counts.get(kind, (0, 0)), self.items_of(first[kind])) for kind in ROLLUP_KINDS}

    def rollup_iris(self, territory: str, kind: str) -> list[str]:
        """Every item of ``kind`` within the territory (a map's points)."""
        with self._reading() as db:
            self._within(db, territory)
            query = f"SELECT i.iri FROM {WITHIN} WHERE i.kind = ? ORDER BY i.n"
            return [iri for (iri,) in db.execute(query, (kind,))]

    def _within(self, db: sqlite3.Connection, territory: str) -> None:
        """``temp.within``: the items within the territory, each marked if it names the territory itself.
        Kept for the next call on the same territory and data (its roll-ups, then its map)."""
        if not self._stale(db, "within", territory):
            return
        db.execute("DELETE FROM temp.within")
        db.execute(
            "WITH RECURSIVE down(t) AS (SELECT :t UNION SELECT child FROM down JOIN part ON parent = down.t) "
            "INSERT INTO temp.within SELECT p.n, MAX(p.territory = :t) FROM down "
            "JOIN place p ON p.territory = down.t GROUP BY p.n",
            {"t": territory},
        )

    def _stale(self, db: sqlite3.Connection, table: str, key: object) -> bool:
        """Whether the temporary ``table`` must be filled again for ``key``: it was filled for another one,
        or before another connection's commit (``data_version`` moves with them). Records ``key``."""
        key = (db.execute("PRAGMA data_version").fetchone()[0], key)
        stale, self._filled[table] = self._filled.get(table) != key, key
        return stale

    def iris(self, prefix: str, offset: int, limit: int) -> tuple[int, list[str]]:
        """(how many, a window of) the items' IRIs under ``prefix``, in IRI order (the sitemap)."""
        within = "SELECT DISTINCT iri FROM item WHERE iri >= ? AND iri < ?"
        args = (prefix, prefix + "\U0010ffff")
        with self._reading() as db:
            total = db.execute(f"SELECT COUNT(*) FROM ({within})", args).fetchone()[0]
            rows = db.execute(f"{within} ORDER BY iri LIMIT ? OFFSET ?", (*args, limit, min(offset, LAST)))
            return total, [iri for (iri,) in rows]

    def _terms(self, db: sqlite3.Connection, word: str) -> list[str]:
        """The index's words a word of a search stands for: those it begins, and its other spellings as the
        reconciliation reads names ("st" is "saint" and "saint" "st", "2" is "deux"), whole words."""
        full = name_key(word)
        others = {full, SPELLED.get(full, full)} - {word, ""}
        return [t for (t,) in db.execute(PREFIXED, (word, word + "\U0010ffff", PREFIXES))] + sorted(others)

    def _clause(self, db: sqlite3.Connection, written: str) -> str | None:
        """The full-text clause of what a search writes between two spaces: each of its words as the index's
        words it stands for; a name of several words ("Hautes-Alpes", "tiers-lieu", "d'Azur") as a phrase,
        its words whole but the last and in that order: « France services Hautes-Alpes » is not a place of
        the CC Hautes Terres in Auvergne-Rhône-Alpes. None: a word the index has not."""
        words = words_of(written)
        terms = [self._terms(db, w) for w in words]
        if not all(terms):
            return None
        if len(words) > 1:
            whole = [
                [t for t in ts if t == w or not t.startswith(w)] or ts
                for w, ts in zip(words, terms, strict=True)
            ]
            phrases = list(itertools.product(*whole[:-1], terms[-1]))
            if len(phrases) <= PHRASES:  # else too many spellings: its words anywhere
                return "(" + " OR ".join('"' + " ".join(p) + '"' for p in phrases) + ")"
        return " AND ".join("(" + " OR ".join(f'"{t}"' for t in ts) + ")" for ts in terms)

    def _within_clause(self, iris: set[str]) -> str:
        """The items within one of these territories: their tokens, in the items' context."""
        return "(" + " OR ".join(f'"{self.territories[t].token}"' for t in sorted(iris)) + ")"

    def _names(self, name: str, iris: set[str]) -> list[str]:
        """A territory's name as the search and the territory write it, with and without its code in brackets
        (« Hautes-Alpes (05) », « Hautes-Alpes »); not a département's code: « 05 » in a text is a phone
        number's or a street's, not the Hautes-Alpes."""
        named = [self.territories[t] for t in sorted(iris)]
        codes = {t.code.lower() for t in named if t.level == "departement"}
        labels = [label for t in named for label in (t.label, BRACKETED.sub("", t.label))]
        return [n for n in dict.fromkeys([name, *labels]) if n.lower() not in codes]

    def _place_clause(self, name: str, iris: set[str]) -> str:
        """A territory's name in a search: the items within it, or whose own texts say its name as the search
        or the territory writes it, whole words (a project « passant à Bourg-Saint-Maurice »)."""
        names = self._names(name, iris)
        said = " OR ".join(dict.fromkeys(f'"{" ".join(words_of(n))}"' for n in names if words_of(n)))
        return f"({self._within_clause(iris)} OR {OWN} : ({said}))"

    def _elsewhere_clause(self, name: str, iris: set[str]) -> str | None:
        """The items not within these territories whose own texts say a longer name of another territory
        holding the name (« Haute-Savoie » for « Savoie », « Meung-sur-Loire » for « Loire »): their words are
        not the name :meth:`_place_clause` finds. Those saying both are left out too (FTS5 tells rows apart,
        not places in a row); they are found within the territory. The name of a territory containing them
        is not another's (« Métropole de Lyon » for « Lyon »): it is found after them and what lies there."""
        named = self.territory_names()
        holding = iris.union(*map(self.closure, iris))  # theirs, and those containing them
        longer = set()
        for key in {name_key(n) for n in self._names(name, iris)} - {""}:
            rarest = min(key.split(), key=lambda w: len(self._holding.get(w, ())))
            longer |= {
                f'"{" ".join(words_of(k))}"'
                for k in self._holding.get(rarest, ())
                if f" {key} " in f" {k} " and not named[k] <= holding
            }
        return f"{OWN} : ({' OR '.join(sorted(longer))}) NOT {self._within_clause(iris)}" if longer else None

    def _left_out(self, clause: str, version: int) -> list[int]:
        """The items of an :meth:`_elsewhere_clause`, kept per ``data_version`` of the pages' connection (it
        moves with every commit): a name many longer ones hold (« Saint-Martin ») is an OR of hundreds of
        phrases, read again at each search naming it."""
        with self._reading() as db:
            return [n for (n,) in db.execute("SELECT rowid FROM doc WHERE doc MATCH ?", [clause])]

    def suggest(
        self, text: str, kinds: list[str] | None = None, selected: dict[str, list[str]] | None = None
    ) -> str | None:
        """What a search finding nothing may have meant: its words respelt (:meth:`_respelt`), else the
        territory whose name it nearly is (:meth:`_territory_near`)."""
        kinds, selected = kinds or [], selected or {}
        return self._respelt(text, kinds, selected) or self._territory_near(text, kinds, selected)

    def _territory_near(self, text: str, kinds: list[str], selected: dict[str, list[str]]) -> str | None:
        """The text with a run of its words replaced by the name of the territory one or two edits from it,
        when that finds something: « Haute-Alpes » is « Hautes-Alpes », « France services Haute-Alpes »
        « France services Hautes-Alpes », « Bouche du Rhone » « Bouches-du-Rhône ». Each of their words is
        one of the index, so none is respelt, and written together they find nothing. The runs ending last
        first (a place's name ends a search), the longest of them first, then the nearest name, the most
        populous of its territories; at most :data:`TRIES` searches. Each run is a fuzzy scan of every name:
        only the runs two edits (a space among them) can make a name's length are scanned, and at most
        :data:`FUZZY` of them, not a few per word of a long text finding nothing (on the public endpoint)."""
        written, names, tries = text.split(), self.territory_names(), TRIES
        most_words, longest = (n + 2 for n in self._name_span)
        runs = [(i, j) for j in range(len(written) + 1) for i in range(max(0, j - most_words), j)]
        runs.sort(key=lambda run: (-run[1], run[0]))
        keyed = [(i, j, key) for i, j in runs if 6 <= len(key := name_key(" ".join(written[i:j]))) <= longest]
        for i, j, key in keyed[:FUZZY]:
            found = process.extractOne(key, names.keys(), scorer=OSA.distance, score_cutoff=2)
            if not found or found[1] == 0:
                continue
            named = (self.territories[t] for t in names[found[0]])
            label = BRACKETED.sub("", max(named, key=lambda t: t.population or 0).label).strip()
            wanted = " ".join([*written[:i], label, *written[j:]])
            if self.search(wanted, kinds, selected, 0, 1)[0]:
                return wanted
            if (tries := tries - 1) == 0:
                break
        return None

    def _respelt(self, text: str, kinds: list[str], selected: dict[str, list[str]]) -> str | None:
        """What a search finding nothing may have meant (FTS5 has no spelling correction): each of its words
        that no word of the index begins ("brinacon") replaced by one of about its length similar enough
        ("briancon"), when every such word has one; the first of these readings that finds something of
        ``kinds`` with the facets ``selected`` (« france Serviès » finds nothing, « france services » does).
        A word one edit away (a letter swapped, missing, doubled or wrong) comes before one further, whatever
        their similarity, then one holding every letter typed, in order (a letter left out: « mobilte » is
        « mobilité », not « mobile », which drops the typed « t »), then the one more items say: a common
        word of the texts before a rare name as near (« servises » is « services », not the commune Serviès).
        At most :data:`TRIES` readings; none past :data:`FUZZY` words to respell."""
        said: list[list[tuple[str, bool]]] = []  # each word as written, or the index's words it may be
        with self._reading() as db:
            words = [
                (w, bool(self._terms(db, folded(w))))
                for w in WORD.findall(unicodedata.normalize("NFC", text))
            ]
            if sum(not known for _, known in words) > FUZZY:
                return None
            for written, known in words:
                if known:
                    said.append([(written, False)])
                    continue
                w = folded(written)
                near = [t for (t,) in db.execute(NEAR, (len(w) - 2, len(w) + 2))]
                similar = len(w) > 3 and process.extract(
                    w, near, scorer=fuzz.ratio, score_cutoff=SIMILAR, limit=None
                )
                if not similar:
                    return None
                used = {t: db.execute(USED, (f'"{t}"', COMMON)).fetchone()[0] for t, _, _ in similar}
                ranked = sorted(used, key=lambda t: (OSA.distance(w, t), not holds(t, w), -used[t]))
                said.append([(t, True) for t in ranked])
        if not any(term for words in said for _, term in words):  # every word begins one of the index
            return None
        for reading in itertools.islice(itertools.product(*said), TRIES):
            with self._reading() as db:
                wanted = " ".join(as_written(db, w) if term else w for w, term in reading)
            if self.search(wanted, kinds, selected, 0, 1)[0]:
                return wanted
        return None

    def fewer_words(
        self, text: str, kinds: list[str], selected: dict[str, list[str]], found: int
    ) -> tuple[str, int] | None:
        """A wider search than ``text``, which finds ``found`` items (of ``kinds``, with the facets
        ``selected``), and how many it finds: the same without one of its words (small words aside), the
        first first (a kind's qualifier comes before the kind, a place's name last). Finding nothing, the
        first that finds something: a word is in no item that has the others (« espace France services
        Yonne »). Finding fewer than :data:`FEW`, the first that finds :data:`WIDER` times as many and at
        least FEW: a generic word few of the items the others find say (« espace de coworking Lille »: one
        of Lille's coworking places); it keeps the territories named and a word besides them (« coworking
        Gap » does not become all of Gap). At most :data:`TRIES` one-row searches."""
        if found >= FEW:
            return None
        parts = [
            (name, bool(iris))
            for name, iris in self.said_parts(text)
            if iris or folded(name) not in SMALL_WORDS
        ]
        if found:
            words = [i for i, (_, place) in enumerate(parts) if not place]
            dropped = words if len(words) > 1 else []
        else:
            dropped = list(range(len(parts))) if len(parts) > 1 else []
        wanted = max(FEW, WIDER * found) if found else 1
        for i in dropped[:TRIES]:
            wider = " ".join(name for j, (name, _) in enumerate(parts) if j != i)
            if (total := self.search(wider, kinds, selected, 0, 1)[0]) >= wanted:
                return wider, total
        return None

    def search(
        self,
        text: str,
        kinds: list[str],
        selected: dict[str, list[str]],
        offset: int,
        limit: int,
        lang: str = "fr",
    ) -> tuple[int, list[tuple[Item, Snippet]], list[tuple[str, int]], dict[str, list[tuple[str, int]]]]:
        """Full text, every word as a prefix: (how many match, one page of items best first with their
        snippet, counts per list, counts per facet); words naming a territory in full select it
        (:meth:`places_named`). Every match is counted, in all and per list; only the first :data:`RANKED`
        are ranked and counted per facet: those a whole name of which (label, alternate label, acronym) is
        the search, and the territories it names, first; then what lies within these (its other words in
        the label, the own texts, the context), then the territories within them, in the same order (the
        communes of « Savoie » after its places); then those with every word in the label, then in their
        own texts, then with some word only in their context or services (« tiers-lieu Gap », « RSA »).
        Within a tier, the labels writing the words as typed come first (:func:`likeness`), then the
        shorter, then the territory more items name as their place (« Tarentaise »: the valley the
        association's projects are in before the commune no item names). Later pages follow in index order.
        Every language is searched; the snippet is from the item's own text in ``lang`` (or in none), unless
        only the other language's text holds the match: that text then tells why the item was found, or only
        its postal codes or services: the one matched, then that text (never the context)."""
        words, places = self.places_named(text)
        typed = " ".join(WORD.findall(unicodedata.normalize("NFC", " ".join(words)).lower()))
        with self._reading() as db:
            clauses = [self._clause(db, written) for written in dict.fromkeys(words)]
        clauses = [c for c in dict.fromkeys(clauses) if c != ""]
        if not (clauses or places) or None in clauses:  # no word, or one the index has not
            return 0, [], [], {}
        what = " AND ".join(clauses)
        located = " AND ".join(self._within_clause(iris) for _, iris in places)
        match = " AND ".join([*clauses, *(self._place_clause(name, iris) for name, iris in places)])
        # After a whole name, those within the territories named first, then the words' own tiers.
        within = [f"{c} : ({what}) AND {located}" for c in ("{label}", OWN)] + [f"({what}) AND {located}"]
        within = (within if what else [located]) if places else []
        of_kind = f"i.kind IN ({_marks(len(kinds))})" if kinds else "1"
        elsewhere = [c for name, iris in places if (c := self._elsewhere_clause(name, iris))]
        said = sorted(set().union(*(iris for _, iris in places)))
        hits = "temp.hit h CROSS JOIN item i ON i.n = h.n"
        kept = f"{hits} WHERE {of_kind}"
        marks = "\x02", "\x03"
        counted_by = (
            f"SELECT f.value, COUNT(*) AS c FROM {hits} CROSS JOIN facet f ON f.n = h.n AND f.name = ? "
            f"WHERE {of_kind} GROUP BY f.value ORDER BY c DESC, f.value"
        )

        def rank(db: sqlite3.Connection, chosen: dict[str, list[str]]) -> tuple[str, list[str]]:
            """``temp.hit``: the first RANKED matches of the facets ``chosen``, in the tiers said above; and
            the matches' SQL (facets applied as they stream: SQLite stops at a LIMIT)."""
            where, args = [], []
            for name, keys in chosen.items():
                keyed = f"f.key IN ({_marks(len(keys))})"
                where.append(f"EXISTS (SELECT 1 FROM facet f WHERE f.n = i.n AND f.name = ? AND {keyed})")
                args += [name, *keys]
            where_facets = " AND ".join(where) or "1"
            matches = (
                "FROM doc CROSS JOIN item i ON i.n = doc.rowid WHERE doc MATCH ? "
                f"AND doc.rowid NOT IN (SELECT n FROM temp.elsewhere) AND {where_facets}"
            )
            db.execute("DELETE FROM temp.hit")
            named = (
                f"AND (doc.rowid IN (SELECT n FROM name WHERE key = ?) OR i.iri IN ({_marks(len(said))}))",
                match,
                [name_key(text), *said],
            )
            labelled, own = ("", f"{{label}} : ({match})", []), ("", f"{OWN} : ({match})", [])
            parts = [(f"AND i.kind {op} 'territoires'", t, []) for op in ("!=", "=") for t in within]
            tiers = (named, *parts, labelled, own, ("", match, []))
            for tier, (also, terms, more) in enumerate(tiers):
                room = RANKED - db.execute("SELECT COUNT(*) FROM temp.hit").fetchone()[0]
                if room > 0:
                    query = (
                        "INSERT INTO temp.hit SELECT doc.rowid, ?, likeness(doc.label, ?), LENGTH(i.sort_fr) "
                        f"{matches} {also} AND doc.rowid NOT IN (SELECT n FROM temp.hit) LIMIT ?"
                    )
                    db.execute(query, [tier, typed, terms, *args, *more, room])
            return matches, args

        with self._reading() as db:
            db.execute("DELETE FROM temp.elsewhere")
            version = db.execute("PRAGMA data_version").fetchone()[0]
            for clause in elsewhere:
                left_out = [(n,) for n in self._left_out(clause, version)]
                db.executemany("INSERT OR IGNORE INTO temp.elsewhere VALUES (?)", left_out)
            counts = {}  # a ticked facet's values counted with the other facets' choices only
            for name in ("departement", "theme"):
                if name in selected:
                    rank(db, {other: keys for other, keys in selected.items() if other != name})
                    counts[name] = db.execute(counted_by, [name, *kinds]).fetchall()
            matches, args = rank(db, selected)
            fresh = f"{matches} AND doc.rowid NOT IN (SELECT n FROM temp.hit)"
            capped = db.execute("SELECT COUNT(*) FROM temp.hit").fetchone()[0] == RANKED
            ranked = db.execute(f"SELECT COUNT(*) FROM {kept}", kinds).fetchone()[0]
            query = "SELECT i.kind, COUNT(*) AS c {} GROUP BY i.kind ORDER BY c DESC, i.kind"
            if capped:  # every match counted, not only the ranked ones
                by_kind = db.execute(query.format(matches), [match, *args]).fetchall()
            else:
                by_kind = db.execute(query.format(f"FROM {hits}")).fetchall()
            total = sum(c for kind, c in by_kind if not kinds or kind in kinds)
            named_by = "(SELECT COUNT(*) FROM place WHERE territory = i.iri AND i.kind = 'territoires') DESC"
            query = f"SELECT h.n FROM {kept} ORDER BY h.tier, h.e, h.r, {named_by}, h.n LIMIT ? OFFSET ?"
            page = [n for (n,) in db.execute(query, [*kinds, limit, min(offset, LAST)])]
            if capped and len(page) < limit:  # past the ranked ones: index order
                query = f"SELECT doc.rowid {fresh} AND {of_kind} LIMIT ? OFFSET ?"
                rest = [match, *args, *kinds, limit - len(page), max(0, offset - ranked)]
                page += [n for (n,) in db.execute(query, rest)]
            order = (3, 1, 2) if lang == "en" else (2, 1, 3)  # the page's language, none, the other
            shown = (0, *order, 4, 5)  # the label, the bodies, then the postal codes, the services
            snippets = ", ".join(f"snippet(doc, {c}, ?, ?, '…', 20)" for c in shown)
            query = f"SELECT rowid, {snippets} FROM doc WHERE doc MATCH ? AND rowid IN ({_marks(len(page))})"
            rows = db.execute(query, [*marks * 6, match, *page])
            found = {n: _snippet(texts, marks[0]) for n, *texts in rows}
            items = self.items_of(page)
            for name in ("departement", "theme"):
                counts.setdefault(name, db.execute(counted_by, [name, *kinds]).fetchall())
        snippets = [Snippet.of(found.get(n, ""), marks) for n in page]
        return total, list(zip(items, snippets, strict=True)), by_kind, counts


def _snippet(texts: list[str], mark: str) -> str:
    """A hit's snippet among its texts' (``texts``: the label, the bodies in order, then the postal codes,
    then the services offered): the first body holding the match; else, when the label says nothing of it,
    the postal code or the service matched, that the reader sees why a place was found (« 05000 »,
    « RSA »), before the first body; else the first body."""
    label, *bodies, postal, offered = texts
    first = next((t for t in bodies if t), "")
    if marked := next((t for t in bodies if mark in t), None):
        return marked
    for said in (postal, offered) if mark not in label else ():
        if mark in said:
            return f"{said} · {first}" if first else said
    return first


WORD = re.compile(r"[^\W_]+")
BRACKETED = re.compile(r"\s*\([^()]*\)$")  # what a name ends with in brackets: a département's code
ACCENTS = re.compile(r"[\u0300-\u036f]")
PREFIXES = 30  # words of the index a word of a search stands for at most (the shortest ones)
PHRASES = 100  # spellings of a name of several words ("Bourg-St-Maurice") searched as a phrase at most
NEAR = "SELECT term FROM word WHERE LENGTH(term) BETWEEN ? AND ?"  # the words a misspelt one may be
USED = "SELECT COUNT(*) FROM (SELECT 1 FROM doc WHERE doc MATCH ? LIMIT ?)"  # items saying a word...
COMMON = 1_000  # ... counted up to this many
# spellings
WRITTEN = "SELECT label, body, body_fr, body_en, offered, context FROM doc WHERE doc MATCH ? LIMIT 20"
FEW = 5  # a search finding fewer items offers a wider one (Catalog.fewer_words)...
WIDER = 3  # ... finding at least this many times as many
TRIES = 6  # searches without one word tried at most, the first words first
# Fuzzy scans (one word or run of words against every word or name of the index) a suggestion makes at most,
# per kind: its misspelt words (more of them is no misspelling), its runs nearly naming a territory.
FUZZY = 12
SIMILAR = 80  # edit similarity (0-100) of a word suggested for a misspelt one ("briancon" for "brinacon": 88)
# Words a search may say that no name needs (« France services à Gap », « près de Briançon »).
SMALL_WORDS = matching.ARTICLES | {"dans", "pres", "sur", "pour", "chez"}  # not "vers": a commune (46)
SPELLED = {full: short for short, full in matching.ABBREVIATIONS.items() if " " not in full}  # saint: st


def holds(word: str, typed: str) -> bool:
    """Whether ``word`` has every letter of ``typed`` in order: ``typed`` is it with letters left out."""
    letters = iter(word)
    return all(c in letters for c in typed)


def as_written(db: sqlite3.Connection, term: str) -> str:
    """An index word as the texts holding it write it ("Briançon" for "briancon"): its most frequent
    spelling in the first labels holding it, else in their other texts."""
    rows = db.execute(WRITTEN, (f'"{term}"',)).fetchall()
    for texts in ([r[0] for r in rows], [t for r in rows for t in r[1:]]):
        spellings = Counter(w for text in texts for w in WORD.findall(text or "") if folded(w) == term)
        if spellings:
            return spellings.most_common(1)[0][0]
    return term


def likeness(label: str, typed: str) -> int:
    """How far a label is from the words of a search as typed (lower case, space-separated), each word 0
    when the label writes it so (case aside), 1 with other accents, 2 when it only begins a word of the
    label or is elsewhere: the order within a tier, where every word is a prefix and accents are folded
    (« Ameli » is the site Ameli before the commune Amélie-les-Bains, « Amélie » the commune before
    « Amelie »)."""
    said = set(WORD.findall(unicodedata.normalize("NFC", label).lower()))
    bare = {folded(w) for w in said}
    return sum(0 if w in said else 1 if folded(w) in bare else 2 for w in typed.split())


def folded(text: str) -> str:
    """Lower case, no accents, œ and æ spelt out: the lists' sort key (É sorts with E, « Bœrsch » before
    « Byans ») and what words are cut from (« coeur » finds « Cœur »)."""
    return ACCENTS.sub("", unicodedata.normalize("NFKD", text.lower().translate(LIGATURES)))


def name_key(name: str) -> str:
    """A whole name as graph.matching spells its words ("St" is "Saint"), articles kept: "ADRETS" is not
    "Les Adrets"."""
    return " ".join(matching.words(name))


def epci_name(name: str) -> str | None:
    """The key of an EPCI's name by its kind, abbreviated or not, and its other words but articles: people
    write « CC Briançonnais », « communauté de communes Briançonnais » for « CC du Briançonnais ». None for
    a name stating no kind."""
    key, kind = matching.epci_key(name)
    return f"{kind} {key}" if kind else None


def names_of(names: list[str]) -> set[str]:
    """The keys an exact search finds an item by: its labels, alternate labels, the acronyms they give in
    brackets ("Caisse d'allocations familiales (CAF)") and what they say before them (« Savoie (73) »)."""
    keys = {name_key(a) for n in names for a in (n, BRACKETED.sub("", n), *matching.ACRONYM.findall(n))}
    return keys - {""}


def words_of(text: str) -> list[str]:
    """Words as the full-text table cuts them (unicode61, diacritics removed): lower case, no accents."""
    return WORD.findall(folded(text))


# --- the index of each store ------------------------------------------------------------------
_lock = threading.Lock()
# Kept per store object, weakly: an id() could be reused by a new store and serve the old one's index.
_cache: weakref.WeakKeyDictionary[Store, Catalog] = weakref.WeakKeyDictionary()


class IndexNotReady(StoreUnavailable):
    """The first index of this store is still being built (a server start at national scale)."""


class IndexLocked(IndexNotReady):
    """Another process (``communs load`` or ``import``) is writing the index file: this one serves the
    version committed there; its next refresh, the file free, adopts the version that process recorded
    (Catalog._adopt) and catches up from it."""


class Abandoned(Exception):
    """The index was closed during its build (the server stops): the build ends, the file keeps its
    previous version."""


def _opened(store: Store, path: Path | None = None) -> Catalog:
    with _lock:
        cat = _cache.get(store)
        if cat is None:
            cat = _cache[store] = Catalog(store, path, build=False)
        return cat


def start(store: Store, path: Path | None = None) -> None:
    """Open the index at start-up and bring it to the store's version in the background: an index on disk
    is served at once; during a first build, index pages wait FIRST_BUILD_WAIT, then say 503."""
    cat = _opened(store, path)
    threading.Thread(target=_catch_up, args=(cat, store), daemon=True, name="index").start()


def _build_whole(store: Store, path: Path, version: int, prints: dict[str, tuple[str, int]]) -> None:
    """Catalog._build's child: the build, on the copy ``store``, into the index file at ``path``."""
    cat = Catalog(store, path, build=False)
    try:
        cat._apply(store, version, prints, None)
    finally:
        cat.close()


def _catch_up(cat: Catalog, store: Store) -> None:
    try:
        cat.refresh(store)
    except IndexLocked as e:
        log.warning("%s", e)  # a read after that process is done takes up from it
    except (StoreError, Abandoned):
        pass  # a remote store down: the next read tries again; or the server stops
    except Exception:  # noqa: BLE001 - a thread's error would otherwise only reach stderr
        log.exception("the index could not be brought up to date")


def finish(store: Store, timeout: float) -> None:
    """Before the store closes: let a refresh under way end, then close the file (which folds its WAL into
    it); a longer refresh is left to the process's exit, and the file keeps the version before it. A
    temporary file (an in-memory or remote store's) has nothing to keep: its refresh is not waited for
    and stops at its next read of the store."""
    with _lock:
        cat = _cache.pop(store, None)
    if cat is None:
        return
    cat.closed = cat.temporary  # a kept file's build is let finish within the timeout
    if cat.busy.acquire(timeout=0 if cat.temporary else timeout):
        try:
            cat.close()
        finally:
            cat.busy.release()


def catalog(store: Store) -> Catalog:
    """The index at the store's version: what changed since is read now (a full rebuild is done in the
    background while the previous version is served); the very first build is waited for. Lists and
    search read only the index: a store that cannot say its version leaves them as they are, not down."""
    cat = _opened(store)
    if not cat.ready.is_set():
        if not cat.busy.locked():
            cat.refresh(store)
        elif not cat.ready.wait(FIRST_BUILD_WAIT):
            raise IndexNotReady(
                "the index of lists and search is still being built (the server has just started): "
                "try again in a minute"
            )
        return catalog(store)  # built; or failed (a remote server down), and this request tries again
    try:
        current = store.version
    except StoreUnavailable:  # a remote server down: what the index holds is the last state known
        return cat
    if cat.version != current:
        with suppress(IndexLocked):  # another process writes it: the version it holds is served meanwhile
            cat.refresh(store, wait=False)
    return cat


def catalog_within(store: Store, wait: float) -> Catalog | None:
    """The index, or None if its first build is still under way after ``wait`` seconds."""
    cat = _opened(store)
    if not cat.ready.is_set() and cat.busy.locked() and not cat.ready.wait(wait):
        return None
    return catalog(store)
