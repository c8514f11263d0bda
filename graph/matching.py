"""Which entity does this name mean: one answer for the reconciliation service, the "link my spreadsheet"
page, the contribution form's territory field and the document loaders (loaders.mentions, span by span).

:func:`name_key` removes exactly the differences without meaning (accents, case, hyphens, "St"/"Saint",
articles, "2" for "Deux", "CC" for "Communauté de communes"). A candidate is certain (``match``) only when
its key equals the query's, no other entity in scope (types, département) has that key, and the query is not
only common words written otherwise ("St" for "Le Saint"); anything else is scored by edit similarity,
below any exact name, so that scores (0-100) compare across queries.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import logging
import re
import threading
import time
import unicodedata
import weakref
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from graph import apart
from graph.namespaces import CREATIVE_WORKS, CS, DCTERMS, IGEO, LIGATURES, ORG, RDF, RDFS, SCHEMA, SKOS
from graph.settings import DATA_DIR
from graph.sparql_text import values
from graph.store import Store, StoreError

log = logging.getLogger(__name__)

# Type id → its classes, in the order a page lists them (their names: "kind_" + id in api/i18n.py); the first
# class names the type (/reconcile's manifest), any of them asks for it. A resource is any kind of work the
# resources list shows (graph.namespaces.CREATIVE_WORKS): bundled ones and accepted contributions alike.
TYPE_CLASSES: dict[str, tuple[str, ...]] = {
    "commune": (IGEO + "Commune",),
    "epci": (IGEO + "Intercommunalite",),
    "departement": (IGEO + "Departement",),
    "region": (IGEO + "Region",),
    # An informal area the association's documents name (Grand Briançonnais, Bauges): a public territory with
    # its page and roll-ups, found under its own name rather than as the organisations or communes named
    # after it.
    "zone": (CS + "InformalArea",),
    "organisation": (ORG + "Organization",),
    "projet": (SCHEMA + "Project",),
    "lieu": (CS + "ServicePlace",),
    "ressource": tuple(SCHEMA + c for c in CREATIVE_WORKS),
}
TYPES = {t: classes[0] for t, classes in TYPE_CLASSES.items()}  # type id → the class that names it
TERRITORY_TYPES = ("commune", "epci", "departement", "region")
# Former units whose names name a current commune.
FORMER_CLASSES = (IGEO + "CommuneDeleguee", IGEO + "CommuneAssociee", IGEO + "ArrondissementMunicipal")
# The names territories go by (« PACA », « Seyne-les-Alpes »): the curated table the loaders read too.
TERRITORY_NAMES = DATA_DIR / "aliases" / "territoires.csv"
SPATIAL = (DCTERMS + "spatial", SCHEMA + "location", SCHEMA + "areaServed")

EXACT = 100.0  # the reference name up to accents, case and punctuation (its fold: "Briancon")
VARIANT = 96.0  # same key, written otherwise (articles, digits, "St", "CC" for "Communauté de communes")
FORMER = 94.0  # another name it goes by: a delegated/associated commune's, the alias table's ("PACA")
AMBIGUOUS = 80.0  # an exact key shared by several entities in scope
FUZZY_MAX = 89.0  # edit similarity never reaches an exact name
PREFIX = 85.0  # the query is the first words of the name
GAPPED = 84.0  # the query's words in the name's order, its first and last included, others between
# A thing's name holding each of the query's words, in any order (« télécentres » for « Réseau des
# télécentres alpins »): titles are long and remembered by a word or two. A tenth less per other word.
WORDS_IN = 80.0
# A name the query begins with, other words after it (« Morzine-Avoriaz »: a resort written after its
# commune): far below, as a typo's edit similarity ranks above it (« Bourg St Mauric » is no Bourg).
# A tenth less per other word.
BEGINS_QUERY = 70.0
FUZZY_FLOOR = 60.0  # below this, a candidate is noise
# Taken off a candidate outside the asked département: an exact name there ranks below any candidate inside
# it, as the département asked is the row's data (« Bozel » in the Hautes-Alpes: Oze before Bozel, Savoie).
OUT_OF_SCOPE = EXACT - FUZZY_FLOOR + 1.0
# Taken off an EPCI whose kind is not the one written: ranked below the right kind, still certain when its
# name is unique ("communauté de communes de Manosque" for the agglomeration: writers do not know kinds).
KIND_MISMATCH = 2.0

NUMBERS = (  # noqa: SIM905 - a table
    "zero un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize dix-sept"
    " dix-huit dix-neuf vingt"
).split()
_ABBREVIATED = (  # noqa: SIM905 - a table
    "st:saint ste:sainte sts:saints stes:saintes mt:mont mts:monts hte:haute htes:hautes ht:haut gd:grand"
    " gde:grande nd:notre_dame s:sur ss:sous 1er:premier"
).split()
ABBREVIATIONS = dict(pair.replace("_", " ").split(":") for pair in _ABBREVIATED)
# Words an abbreviation stands for: a query of these alone ("St", "Saint") names nothing in particular.
GENERIC = frozenset(w for full in ABBREVIATIONS.values() for w in full.split())
ARTICLES = frozenset(["le", "la", "les", "l", "de", "du", "des", "d", "et", "en", "a", "au", "aux", "lez"])
# Words of an EPCI's kind, as written in full or abbreviated; the kind is a property, not part of a name.
EPCI_KINDS = (
    ("communaute de communes", "CC"),
    ("communaute de commune", "CC"),  # as often written
    ("communaute d agglomeration", "CA"),
    ("communaute urbaine", "CU"),
    ("metropole", "METRO"),
    ("cc", "CC"),
    ("ca", "CA"),
    ("cu", "CU"),
)
_EPCI_PREFIX = re.compile(r"^(" + "|".join(k for k, _ in EPCI_KINDS) + r")\b\s*")
_EPCI_KIND = dict(EPCI_KINDS)
# A territory's level written before its name (« Département des Hautes-Alpes », « Ville de Gap »), as a
# spreadsheet's names often are, or an organisation's legal form (« Association ADRETS »): the type, not
# part of the name, read so only when the name as written names nothing (Ville-la-Grand is not Grand).
LEVEL_WORDS = {
    "commune": "commune",
    "ville": "commune",
    "mairie": "commune",
    "departement": "departement",
    "region": "region",
    "association": "organisation",
}
# The France Services network as people write it (« FS Bozel », « MSAP Queyras », « Maison France Services »,
# its former name): the network's words, as its places' names write them (« France services La Poste de
# Bozel »), not a name's own words that must match.
_NETWORK = re.compile(r"\b(?:(?:maison|espace) france services|maison services public|fs|mfs|efs|msap)\b")
_FOLD = re.compile(r"[^a-z0-9]+")
_DIGITS_OR_LETTERS = re.compile(r"[0-9]+|[a-z]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f\u0300-\u036f]")  # the accents NFKD splits off are dropped after
_EPCI_SUFFIX = re.compile(r'\s*["(].*$')
ACRONYM = re.compile(r"\(([A-Z]{3,})\)")
# A name with a hint beside it: "05000 Gap", "Gap 05000" (a postal code), "Gap (05)", "Gap, Hautes-Alpes".
_QUALIFIED = re.compile(
    r"(?:(?P<before>\d{5})\s+)?(?P<name>.*?[^\s,(])(?:\s*\((?P<paren>[^()]+)\)|\s*,\s*(?P<comma>[^,]+)|\s+(?P<after>\d{5}))?"
)
_CODE = re.compile(r"\d[\dab]\d{0,7}", re.IGNORECASE)  # an INSEE code or a SIREN as a query


def fold(name: str) -> str:
    """Lower-case ASCII words: accents, ligatures, case and punctuation carry no meaning in a name (a
    typographic apostrophe separates words as a straight one does: "d’Apt" is "d Apt")."""
    text = unicodedata.normalize("NFKD", name.translate(LIGATURES))
    text = _NON_ASCII.sub(" ", text).encode("ascii", "ignore").decode().lower()
    return _FOLD.sub(" ", text).strip()


def words(name: str) -> list[str]:
    """The folded words of a name, abbreviations and small numbers spelled out, digits apart from letters
    ("Quai9" is "Quai 9"), articles kept (the loaders read running text word by word, where an article is a
    boundary)."""
    out: list[str] = []
    for written in fold(name).split():
        for w in [written] if written in ABBREVIATIONS else _DIGITS_OR_LETTERS.findall(written):  # "1er"
            w = ABBREVIATIONS.get(w, w)
            if w.isdigit() and int(w) < len(NUMBERS):
                w = NUMBERS[int(w)]
            out.extend(w.replace("-", " ").split())
    return out


def name_key(name: str) -> str:
    """The name once every difference without meaning is gone ("Les 2 Alpes" = "Les Deux-Alpes")."""
    return key_of(words(name))


def key_of(name_words: list[str]) -> str:
    """:func:`name_key` of words already split by :func:`words`."""
    kept = [w for w in name_words if w not in ARTICLES]
    return _NETWORK.sub("france services", " ".join(kept or name_words))


def _as_written(name_words: list[str]) -> tuple[bool, list[str], list[str]]:
    """(it states an EPCI kind, its leading articles, the rest) of a name's words."""
    text = " ".join(name_words)
    m = _EPCI_PREFIX.match(text)
    rest = text[m.end() :].split() if m else name_words
    n = 0
    while n < len(rest) - 1 and rest[n] in ARTICLES:
        n += 1
    return bool(m), rest[:n], rest[n:]


def _written_as(span: list[str], name: list[str]) -> bool:
    """A span of running text writes this name: word for word, articles inside included ("Pays de Serre"
    is not "Pays de la Serre"); the leading article as the name's ("ADRETS" is not Les Adrets, "de
    Savoie" does not begin Savoie) unless two words remain ("au Pont-de-Montvert"), or any after a kind
    ("CC Oisans")."""
    kind, lead, rest = _as_written(span)
    _, name_lead, name_rest = _as_written(name)
    if rest != name_rest:
        return False
    return kind or lead == name_lead or (bool(name_lead) and len(rest) >= 2)


def epci_key(name: str) -> tuple[str, str | None]:
    """(key of the name without its kind, the kind it states: CC, CA, CU, METRO or None)."""
    text = " ".join(words(name))
    m = _EPCI_PREFIX.match(text)
    if not m:
        return name_key(text), None
    return name_key(text[m.end() :]) or name_key(text), _EPCI_KIND[m.group(1)]


def _level_key(name: str) -> tuple[str, str | None]:
    """(key of the name without the level or legal form written before it, the type it names, or None)."""
    first, *rest = words(name) or [""]
    level = LEVEL_WORDS.get(first)
    return (key_of(rest), level) if level and rest else (name_key(name), None)


@dataclass(slots=True)
class Entity:
    iri: str
    type: str  # a key of TYPES
    name: str  # the official name (igeo:nom), else the label
    label: str = ""  # the display label (rdfs:label: "Savoie (73)")
    code: str = ""  # INSEE code; an EPCI's SIREN
    siren: str = ""
    population: int | None = None
    postal_codes: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()  # INSEE codes: those it is in, overlaps or (a région) covers
    regions: tuple[str, ...] = ()  # IRIs: its own, or those of its départements (an EPCI may straddle two)
    epci: str = ""  # IRI (a commune's)
    epci_kind: str | None = None
    parents: list[str] = field(default_factory=list)  # IRIs it is part of / located in
    projects: int = 0  # for a commune: projects and service places located there
    places: int = 0


@dataclass(frozen=True)
class Candidate:
    entity: Entity
    score: float
    match: bool
    matched_name: str  # the name that matched (a delegated commune's, an alternative label…)
    exact: bool = False  # its key is the query's (certain when alone in scope; else a homonym)


def _backwards(key: str) -> str:
    """A key's words in reverse order: the keys a name ends are those that begin with it backwards."""
    return " ".join(reversed(key.split()))


def _keep_best(found: dict[str, tuple[float, str]], iri: str, score: float, name: str) -> None:
    if score > found.get(iri, (0.0, ""))[0]:
        found[iri] = (score, name)


def similarity(name: str, other: str) -> float:
    """Edit similarity of two names' keys, on the scale of fuzzy candidates (never an exact name's)."""
    return round(fuzz.ratio(name_key(name), name_key(other)) * FUZZY_MAX / 100, 1)


def normalize_code(value: str, width: int) -> str:
    """Spreadsheets drop leading zeros: '5023' is the commune 05023, '5' the département 05."""
    value = value.strip().upper()
    return value.zfill(width) if value.isdigit() and len(value) < width else value


class NameIndex:
    """Every entity of the nine types with its names, keyed for exact and fuzzy look-ups. A write gives a new
    index sharing what the write left as it was (:meth:`updated`): readers keep the one they hold, whole."""

    def __init__(
        self,
        entities: Iterable[Entity],
        aliases: Iterable[tuple[str, str]] = (),
        codes: Iterable[tuple[str, str]] = (),
    ):
        self.entities: dict[str, Entity] = {e.iri: e for e in entities}
        self.aliases: dict[str, list[str]] = {}  # IRI → other names (former communes', alternative labels)
        for name, iri in aliases:
            if iri in self.entities:
                self.aliases.setdefault(iri, []).append(name)
        self._keys: dict[str, dict[str, tuple[float, str]]] = {}  # key → {IRI: (score if it matches, name)}
        self.by_code: dict[tuple[str, str], list[str]] = {}  # (type, code) → IRIs
        # The names as written, per type, for suggest: a prefix being typed is not yet a key ("Le" is the
        # start of "Le Mans", whose key has no article; "S" of "Strasbourg", not "sur").
        self._written: dict[str, list[tuple[str, str]]] = {}
        self._children: dict[str, list[str]] = {}  # IRI → the entities part of it or located in it
        for e in self.entities.values():
            self._add(e)
        for code, iri in codes:  # a merged commune's former code, a delegated commune's: its current one
            if iri not in (found := self.by_code.setdefault((self.entities[iri].type, code), [])):
                found.append(iri)
        for names in self._written.values():
            names.sort()
        # The keys sorted per type (None) and per type and département ("" for none), so that a search in
        # scope reads its own département's alone; and reversed word for word, for the names a query ends.
        pools: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        for key in self._keys:
            for pool in self._pools(key):
                pools[pool].append(key)
        self._sorted = {pool: sorted(keys) for pool, keys in pools.items()}
        self._backwards = {pool: sorted(map(_backwards, keys)) for pool, keys in pools.items()}
        self._by_word: dict[tuple[str, str | None], dict[str, list[str]]] = {}  # made per pool, when read
        self.origins: dict[str, set[str]] = {}  # public graph → the entities it says something of
        self.formers: set[str] = set()  # former communes: their names and codes are their current one's
        # A commune's IRI → the names of the former communes it merged: a candidate found by one says so.
        self.merged: dict[str, set[str]] = {}

    def _names(self, e: Entity) -> list[tuple[str, float, str]]:
        """(key, score when it matches, name) of every name the entity goes by."""
        others = self.aliases.get(e.iri, [])
        if e.type == "epci":  # 'CC Alpes-Provence-Verdon "Sources de lumière"', 'CA Porte de l'Isère (CAPI)'
            others = [*others, _EPCI_SUFFIX.sub("", e.name), *ACRONYM.findall(e.name)]
            keyed = [(epci_key(n)[0], FORMER, n) for n in others]
            return [(epci_key(e.name)[0], EXACT, e.name), (name_key(e.name), EXACT, e.name), *keyed]
        return [(name_key(e.name), EXACT, e.name), *((name_key(n), FORMER, n) for n in others)]

    def _add(self, e: Entity) -> None:
        for key, score, name in self._names(e):
            if key:
                _keep_best(self._keys.setdefault(key, {}), e.iri, score, name)
        for code in {e.code, e.siren} - {""}:
            self.by_code.setdefault((e.type, code), []).append(e.iri)
        self._written.setdefault(e.type, []).append((fold(e.name), e.iri))
        for p in e.parents:
            self._children.setdefault(p, []).append(e.iri)

    def _edit(self, entities: Iterable[Entity], add: bool) -> set[str]:
        """Take these entities out of an index made by :meth:`updated` (or put them in), each table entry
        they touch copied first (it is shared with the index it was made from); their keys."""
        entities, keys = list(entities), set()
        for e in entities:
            names = {k for k, _, _ in self._names(e)}
            keys |= names
            for table, k in (
                *((self._keys, k) for k in names),
                *((self.by_code, (e.type, c)) for c in {e.code, e.siren}),
                (self._written, e.type),
                *((self._children, p) for p in e.parents),
            ):
                if k in table:
                    table[k] = copy.copy(table[k])
        for e in entities:
            if add:
                self._add(e)
                continue
            for key, _, _ in self._names(e):
                if self._keys.get(key, {}).pop(e.iri, None) and not self._keys[key]:
                    del self._keys[key]
            for code in {e.code, e.siren} - {""}:
                self.by_code[(e.type, code)].remove(e.iri)
            self._written[e.type].remove((fold(e.name), e.iri))
            for p in e.parents:
                self._children[p].remove(e.iri)
        for t in {e.type for e in entities} if add else ():
            self._written[t].sort()
        return keys

    def _pools(self, key: str) -> set[tuple[str, str | None]]:
        entities = [self.entities[iri] for iri in self._keys.get(key, ())]
        return {(e.type, d) for e in entities for d in (None, *(e.departements or ("",)))}

    def updated(self, store: Store, graphs: Collection[str]) -> NameIndex | None:
        """The index once writes to ``graphs`` are read: what they said or say of entities is read again
        (not the rest of the store), and what is placed through those entities placed again. None when
        the change reaches a territory or a former commune: a new territorial reference is read whole."""
        subjects = set().union(*(self.origins.get(g, ()) for g in graphs))
        for g in graphs:
            query = f"SELECT DISTINCT ?x WHERE {{ GRAPH <{g}> {{ ?x ?p ?o }} FILTER(isIRI(?x)) }}"
            subjects.update(x.value for (x,) in store.scan(query, ("x",)))
        read = _read_subjects(store, subjects)
        old = {i: self.entities[i] for i in subjects if i in self.entities}
        if subjects & (self.formers | read.formers) or any(
            e.type in TERRITORY_TYPES for e in (*old.values(), *read.entities.values())
        ):
            return None
        new = copy.copy(self)
        for name in ("entities", "aliases", "_keys", "by_code", "_written", "_children", "origins"):
            setattr(new, name, dict(getattr(self, name)))
        for g in {g for g, found in self.origins.items() if found & subjects} | read.origins.keys():
            new.origins[g] = (self.origins.get(g, set()) - subjects) | read.origins.get(g, set())
            if not new.origins[g]:
                del new.origins[g]
        moved = {
            i
            for i in subjects
            if _stated(old.get(i)) != _stated(read.entities.get(i))
            or self.aliases.get(i) != read.aliases.get(i)
        }
        placed, queue = set(moved), list(moved)  # and what is part of them or located in them, at any depth
        while queue:
            for child in self._children.get(queue.pop(), ()):
                if child not in placed:
                    placed.add(child)
                    queue.append(child)
        before = {i: self.entities[i] for i in placed if i in self.entities}
        after = {i: read.entities[i] for i in moved if i in read.entities}
        after |= {i: dataclasses.replace(e) for i, e in before.items() if i not in moved}  # shared: a copy
        keys = new._edit(before.values(), add=False)
        for i in moved:
            new.aliases.pop(i, None)
            if i in read.aliases:
                new.aliases[i] = read.aliases[i]
            new.entities.pop(i, None)
        new.entities.update(after)
        _place(new.entities, after.values())
        keys |= new._edit(after.values(), add=True)
        for commune, projects, places in _counts(before.values(), after.values(), moved):
            if (e := new.entities.get(commune)) is not None and e.type == "commune":
                counted = {"projects": e.projects + projects, "places": e.places + places}
                new.entities[commune] = dataclasses.replace(e, **counted)
        edits: dict[tuple[str, str | None], list[tuple[str, bool]]] = defaultdict(list)  # (key, added)
        for key in keys:
            was, now = self._pools(key), new._pools(key)
            for pool in was ^ now:
                edits[pool].append((key, pool in now))
        new._sorted, new._backwards = dict(self._sorted), dict(self._backwards)
        new._by_word = {pool: table for pool, table in self._by_word.items() if pool not in edits}
        for pool, edited in edits.items():
            for table, spelt in ((new._sorted, str), (new._backwards, _backwards)):
                pooled = list(table.get(pool, ()))  # a copy: the list is shared with self
                for key, added in edited:
                    if added:
                        insort(pooled, spelt(key))
                    else:
                        del pooled[bisect_left(pooled, spelt(key))]
                table[pool] = pooled
                if not pooled:
                    del table[pool]
        return new

    def departement_code(self, value: str) -> str | None:
        """A département given as a code ('73', '5', '2a'), an IRI or a name ('Hte Savoie')."""
        value = value.strip()
        if "/" in value:
            value = value.rstrip("/").rsplit("/", 1)[1]
        code = normalize_code(value, 2)
        if self.by_code.get(("departement", code)):
            return code
        found = [c for c in self.match(value, ("departement",), limit=1) if c.match]
        return found[0].entity.code if found else None

    def lookup_code(self, code: str, types: tuple[str, ...]) -> list[Entity]:
        """Entities with that INSEE code or SIREN (a merged commune's former code: its current one)."""
        found: list[Entity] = []
        for t in types:
            width = {"commune": 5, "departement": 2, "region": 2, "epci": 9}.get(t, 0)
            value = normalize_code(code, width) if width else code.strip()
            found += [self.entities[i] for i in self.by_code.get((t, value), ())]
        return found

    def current_commune(self, code: str) -> Entity | None:
        """The one commune a commune's code names today (a merged commune's: the one it is part of)."""
        found = {e.iri: e for e in self.lookup_code(code, ("commune",))}
        return next(iter(found.values())) if len(found) == 1 else None

    def served_by(self, postal_code: str) -> list[Entity]:
        """The communes a postal code serves, the most populous first: what a postal code given for an INSEE
        code stands for (an agent knows her commune's postal code, seldom its INSEE code). A scan: asked
        only of a code no commune has."""
        served = [e for e in self.entities.values() if e.type == "commune" and postal_code in e.postal_codes]
        return sorted(served, key=lambda e: (-(e.population or 0), e.name))

    def has(self, key: str) -> bool:
        """Some entity bears this key (a cheap test before :meth:`exact`, span by span of a text)."""
        return key in self._keys

    def _named(
        self, name: str, scope: tuple[str, ...], in_text: bool = False
    ) -> dict[str, tuple[float, str]]:
        """Every entity of those types whose key is the name's: IRI → (score, the name that matched).
        ``in_text``: the name is a span of running text, where articles are words (:func:`_written_as`)."""
        written = words(name)
        plain = key_of(written)
        core, stated_kind = epci_key(name) if "epci" in scope else (plain, None)
        folded = fold(name)
        found: dict[str, tuple[float, str]] = {}

        def read(key: str, only: str | None = None) -> None:
            """The entities of the scope bearing the key (of that type alone when given) into ``found``."""
            for iri, (s, matched) in self._keys.get(key, {}).items():
                e = self.entities[iri]
                if e.type not in scope or only not in (None, e.type):
                    continue
                if in_text and not _written_as(written, words(matched)):
                    continue
                if s == EXACT and fold(matched) != folded:
                    s = VARIANT
                if e.type == "epci" and stated_kind and e.epci_kind and stated_kind != e.epci_kind:
                    s -= KIND_MISMATCH  # "CA" for a communauté de communes: the same name, another kind
                _keep_best(found, iri, s, matched)

        read(plain)
        if core != plain:
            read(core, "epci")
        rest, level = _level_key(name)
        if not found and level:  # « Commune de Gap » names a commune, never a département named Gap
            read(rest, level)
        return found

    def exact(
        self,
        name: str,
        types: Iterable[str] | None = None,
        departements: Collection[str] = (),
        postal_code: str | None = None,
        in_text: bool = False,
    ) -> list[Candidate]:
        """The entities the name names, key for key, in scope (in one of ``departements`` when given),
        best first. One alone is certain (``match``); several are homonyms, none certain."""
        found = self._named(name, tuple(types or TYPES), in_text)
        exact = {i: v for i, v in found.items() if self._in_scope(i, departements, postal_code)}
        if not exact:
            return []
        best = max(s for s, _ in exact.values())
        generic = best < EXACT and set(name_key(name).split()) <= GENERIC  # "Saint" for "Le Saint"
        if best >= FORMER and len(exact) == 1 and not generic:
            ((iri, (score, matched)),) = exact.items()
            return [Candidate(self.entities[iri], score, True, matched, True)]
        # Several in scope: none is certain; the reference names before former ones, then by size.
        ranked = sorted(exact, key=lambda i: (-exact[i][0], -(self.entities[i].population or 0)))
        score = AMBIGUOUS if len(ranked) > 1 or generic else None
        return [Candidate(self.entities[i], score or exact[i][0], False, exact[i][1], True) for i in ranked]

    def match(
        self,
        name: str,
        types: Iterable[str] | None = None,
        departements: Collection[str] = (),
        postal_code: str | None = None,
        limit: int = 5,
    ) -> list[Candidate]:
        """Candidates for a name, best first; ``departements`` are INSEE codes, any of which the entity may be
        in (homonyms apart)."""
        scope = tuple(types or TYPES)
        if _CODE.fullmatch(name.strip()) and (coded := self.lookup_code(name, scope)):
            return [Candidate(e, EXACT, len(coded) == 1, e.name) for e in coded[:limit]]
        name, hinted, hinted_postal = self.qualified(name)
        departements, postal_code = tuple(departements) or hinted, postal_code or hinted_postal
        exact = self.exact(name, scope, departements, postal_code)
        if exact:
            return exact[:limit]
        # exact names elsewhere, penalised
        candidates = {i: (s - OUT_OF_SCOPE, m) for i, (s, m) in self._named(name, scope).items()}
        rest, level = _level_key(name)
        keys = [name_key(name), epci_key(name)[0] if "epci" in scope else "", rest if level in scope else ""]
        keys = list(dict.fromkeys(keys))
        # The asked département's names first; everywhere only when too few were found: a name outside it
        # scores below FUZZY_FLOOR, under any in it, so the ranking is the same whatever the limit.
        for searched in dict.fromkeys((departements, ())):
            if searched != departements and sum(s >= FUZZY_FLOOR for s, _ in candidates.values()) >= limit:
                break
            for i, (s, m) in self._fuzzy(keys, scope, searched).items():
                penalty = 0.0 if self._in_scope(i, departements, postal_code) else OUT_OF_SCOPE
                _keep_best(candidates, i, s - penalty, m)
        things = tuple(t for t in scope if t not in TERRITORY_TYPES)
        if things and (beside := self._beside_commune(name_key(name))):
            rest, communes = beside
            for c in self.match(rest, things, departements, postal_code, limit):
                if communes & set(c.entity.parents):
                    _keep_best(candidates, c.entity.iri, c.score, c.matched_name)
        ranked = sorted(
            (i for i in candidates if candidates[i][0] >= FUZZY_FLOOR - OUT_OF_SCOPE),
            key=lambda i: (-candidates[i][0], -(self.entities[i].population or 0)),
        )
        return [
            Candidate(self.entities[i], round(candidates[i][0], 1), False, candidates[i][1])
            for i in ranked[:limit]
        ]

    def _beside_commune(self, key: str) -> tuple[str, set[str]] | None:
        """(the rest, the communes) when a key's last words are a commune's: « Snoworkers La Grave » is a
        place's name and its commune written after it, a hint as « Gap (05) » is; the rest alone may name it
        (« The snoworkers »)."""
        asked = key.split()
        for n in range(1, len(asked)):
            found = self._keys.get(" ".join(asked[n:]), {})
            if communes := {i for i in found if self.entities[i].type == "commune"}:
                return " ".join(asked[:n]), communes
        return None

    def qualified(self, name: str) -> tuple[str, tuple[str, ...], str | None]:
        """(the name, the départements and postal code written beside it): a hint, as the departement property
        is, not part of the name; the name as given when what is beside it is no département ("(CAPI)")."""
        m = _QUALIFIED.fullmatch(name.strip())
        if m is None:
            return name, (), None
        beside = m["paren"] or m["comma"]
        code = self.departement_code(beside) if beside else None
        if beside and code is None:
            return name, (), None
        return m["name"], (code,) if code else (), m["before"] or m["after"]

    def _in_scope(self, iri: str, departements: Collection[str], postal_code: str | None) -> bool:
        """In one of the départements (a région: covering one) and the postal code when given (a thing's:
        its communes'). A territory's place is known: one in no département (Saint-Pierre-et-Miquelon) is in
        none asked; a thing located nowhere (an organisation) may be anywhere."""
        e = self.entities[iri]
        placed = e.departements or e.type in TERRITORY_TYPES
        if departements and placed and not set(e.departements) & set(departements):
            return False
        if not postal_code:
            return True
        codes = e.postal_codes or {
            c for p in e.parents if p in self.entities for c in self.entities[p].postal_codes
        }
        return not codes or postal_code in codes

    def _fuzzy(
        self, keys: list[str], scope: tuple[str, ...], departements: Collection[str] = ()
    ) -> dict[str, tuple[float, str]]:
        """Edit similarity of whole keys (typos), and names the query begins or ends, word for word, just
        below ("Évian" for "Évian-les-Bains"; "Pelvoux" for Vallouise-Pelvoux, as merged communes join the
        names of those they merge): a short name found inside a word elsewhere ("Rians" in "Brianson") is
        not one; names the query begins with, further below (:data:`BEGINS_QUERY`). A thing (not a
        territory) also by names holding the query's words (:data:`WORDS_IN`).
        Among the keys of those départements (and of entities in none) when given, else all; every key above
        the floor, never a shortlist: France has 230 "Saint-Martin…", the one asked for must not be cut."""
        out: dict[str, tuple[float, str]] = {}

        def add(choice: str, score: float, t: str) -> None:
            for iri, (_, matched) in self._keys[choice].items():
                if self.entities[iri].type == t:
                    _keep_best(out, iri, score, matched)

        for t, d in ((t, d) for t in scope for d in ([*departements, ""] if departements else [None])):
            choices = self._sorted.get((t, d))
            for key in filter(None, keys) if choices else ():
                close = process.extract(
                    key, choices, scorer=fuzz.ratio, limit=None, score_cutoff=FUZZY_FLOOR * 100 / FUZZY_MAX
                )
                for choice, s, _ in close:
                    add(choice, s * FUZZY_MAX / 100, t)
                for choice in self._prefixed((t, d), key + " ") + self._ending((t, d), key):
                    add(choice, PREFIX, t)
                for choice in self._gapped((t, d), key):  # the fewer words between, the closer
                    add(choice, GAPPED - (choice.count(" ") - key.count(" ")) / 10, t)
                asked = key.split()
                for n in range(1, len(asked)):  # not common words alone: « Saint-Bon-Tarentaise » is no Saint
                    head = " ".join(asked[:n])
                    if not set(asked[:n]) <= GENERIC and self._has((t, d), head):
                        add(head, BEGINS_QUERY - (len(asked) - n) / 10, t)
                if t not in TERRITORY_TYPES:  # a territory's name is not a title: « Saint » is no commune
                    for choice in self._holding((t, d), set(asked)):
                        add(choice, WORDS_IN - (choice.count(" ") - key.count(" ")) / 10, t)
        return out

    def _gapped(self, pool: tuple[str, str | None], key: str) -> list[str]:
        """Every key of the pool with the query's words in order and others between, beginning and ending as
        the query does: « France services Bozel » for « France services La Poste de Bozel », whose edit
        similarity is below « France services Briouze »'s."""
        asked = key.split()
        if len(asked) < 2:
            return []

        def in_order(k: str) -> bool:
            rest = iter(k.split())
            return all(w in rest for w in asked)

        return [k for k in self._ending(pool, asked[-1]) if k.startswith(asked[0] + " ") and in_order(k)]

    def _prefixed(self, pool: tuple[str, str | None], prefix: str) -> list[str]:
        """Every key of the pool that begins with the prefix (keys are ASCII: all sort before DEL, 0x7f)."""
        keys = self._sorted.get(pool, [])
        return keys[bisect_left(keys, prefix) : bisect_left(keys, prefix + "\x7f")]

    def _has(self, pool: tuple[str, str | None], key: str) -> bool:
        """Whether the key is one of the pool's, by bisection (not a slice of the keys it begins)."""
        keys = self._sorted.get(pool, [])
        return (i := bisect_left(keys, key)) < len(keys) and keys[i] == key

    def _holding(self, pool: tuple[str, str | None], words: set[str]) -> list[str]:
        """Every key of the pool holding all these words, in key order: those of the rarest word, from a
        word → keys table made at the pool's first query (every key of the pool was split again for each
        query key, at every /reconcile query and /rapprochement row)."""
        if (table := self._by_word.get(pool)) is None:
            table = {}
            for k in self._sorted.get(pool, []):
                for word in set(k.split()):
                    table.setdefault(word, []).append(k)
            self._by_word[pool] = table  # published whole: another query may read the dict meanwhile
        rarest = min(words, key=lambda w: len(table.get(w, ())))
        return [k for k in table.get(rarest, []) if words <= set(k.split())]

    def _ending(self, pool: tuple[str, str | None], key: str) -> list[str]:
        """Every key of the pool whose last words are the key's."""
        keys, start = self._backwards.get(pool, []), _backwards(key) + " "
        return [_backwards(k) for k in keys[bisect_left(keys, start) : bisect_left(keys, start + "\x7f")]]

    def suggest(self, prefix: str, types: Iterable[str] | None = None, limit: int = 10) -> list[Entity]:
        """Entities whose name starts with ``prefix`` as typed, then key for key ("st m" for "Saint-M…",
        "le ma" for "Le Mans" and "Marseille"), each the most populous first; then those with a word that
        starts so (« zorglub » for « Guide zorglub… »); then names close to it (« Orlu » came first). A name
        that is the whole prefix comes before all (Saint-Bonnet before the 90 larger Saint-Bonnet-…), unless
        the prefix is only common words ("St": Strasbourg, not Le Saint)."""
        key, typed = name_key(prefix), fold(prefix)
        if not key:
            return []
        scope = tuple(types or TYPES)
        whole = {} if set(key.split()) <= GENERIC else self._named(prefix, scope)
        named = {iri: self.entities[iri] for iri in whole}
        as_typed: dict[str, Entity] = {}
        by_key: dict[str, Entity] = {}
        for t in scope:
            names = self._written.get(t, [])
            for _, iri in names[bisect_left(names, (typed,)) : bisect_left(names, (typed + "\x7f",))]:
                as_typed[iri] = self.entities[iri]
            for k in self._prefixed((t, None), key):  # all of them, then the most populous
                for iri, (s, _) in self._keys[k].items():
                    e = self.entities[iri]
                    if e.type == t and s == EXACT:
                        by_key[iri] = e
        inside: dict[str, Entity] = {}
        if len({*named, *as_typed, *by_key}) < limit:  # a scan of every key: only when too few start so
            for k, targets in self._keys.items():
                if f" {key}" in f" {k}":
                    inside |= {i: self.entities[i] for i in targets if self.entities[i].type in scope}
        ranked = [
            e
            for found in (named, as_typed, by_key, inside)
            for e in sorted(found.values(), key=lambda e: (-(e.population or 0), e.name))
        ]
        if len(ranked) < limit:
            ranked += [c.entity for c in self.match(prefix, types, limit=limit)]
        return list({e.iri: e for e in ranked}.values())[:limit]  # each at its first place


def _stated(e: Entity | None) -> tuple | None:
    """What the store states of an entity (not what is derived from others: its place, its counts)."""
    if e is None:
        return None
    return e.type, e.name, e.label, e.code, e.siren, e.population, e.postal_codes, e.epci_kind, e.parents


def _counts(
    before: Iterable[Entity], after: Iterable[Entity], moved: set[str]
) -> Iterator[tuple[str, int, int]]:
    """(territory, projects, places) to add to its counts, for the projects and places that moved."""
    for sign, entities in ((-1, before), (1, after)):
        for e in entities:
            if e.iri in moved and e.type in ("projet", "lieu"):
                for p in e.parents:
                    yield p, sign * (e.type == "projet"), sign * (e.type == "lieu")


@dataclass
class _Read:
    entities: dict[str, Entity]  # not yet placed
    aliases: dict[str, list[str]]  # IRI → its other names
    codes: list[tuple[str, str]]  # (a former code, the commune it names)
    formers: set[str]
    merged: dict[str, set[str]]  # a commune's IRI → the names of the former communes it merged
    origins: dict[str, set[str]]  # public graph → the entities (and former communes) it says something of


def _read_subjects(store: Store, subjects: Collection[str] | None) -> _Read:
    """What the public data say of those subjects (of all for None) that the index reads, and the graphs
    that say it: flat patterns, joined here (as graph.search does)."""
    origins: dict[str, set[str]] = {g: set() for g in store.public_graphs()}
    kept: Collection[str] | None = None  # the subjects worth keeping, once their types are known
    one: dict[str, str] = {}  # one string per IRI or value, however many rows repeat it (an index of 1M
    # entities names each commune, each département, each name's words thousands of times)

    def read(predicate: str, kind: type = ox.Literal, also: str = "", terms: bool = False) -> dict:
        """Subject → values (their text, else the terms), graph by graph: each row's graph is known then."""
        out: dict[str, list] = defaultdict(list)
        asked = sorted(subjects if kept is None else kept) if subjects is not None else [None]
        for g, said in origins.items():
            for chunk in (asked[n : n + 500] for n in range(0, len(asked), 500)):
                only = "" if chunk == [None] else values("x", chunk)
                query = f"SELECT ?x ?v WHERE {{ {only}{also}GRAPH <{g}> {{ ?x <{predicate}> ?v }} }}"
                for x, v in store.scan(query, ("x", "v")):
                    iri = x.value
                    if isinstance(x, ox.NamedNode) and isinstance(v, kind) and (kept is None or iri in kept):
                        iri = one.setdefault(iri, iri)
                        out[iri].append(v if terms else one.setdefault(v.value, v.value))
                        said.add(iri)
        return out

    classes = {c: t for t, cs in TYPE_CLASSES.items() for c in cs} | {c: "" for c in FORMER_CLASSES}
    types = read(RDF + "type", ox.NamedNode, values("v", classes))
    rank = {t: n for n, t in enumerate(TYPE_CLASSES)}
    type_of = {
        iri: min((classes[c] for c in found if classes[c]), key=rank.__getitem__)
        for iri, found in types.items()
        if any(classes[c] for c in found)
    }
    former = {iri for iri, found in types.items() if not any(classes[c] for c in found)}
    kept = set(type_of) | former

    def links(*predicates: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for p in predicates:
            for x, vs in read(p, ox.NamedNode).items():
                out[x] += vs
        return out

    official = read(IGEO + "nom")
    labels: dict[str, str] = {}
    for x, vs in read(RDFS + "label", terms=True).items():
        for v in vs:
            if x not in labels or v.language == "fr":
                labels[x] = v.value
    codes, sirens, populations = read(IGEO + "codeINSEE"), read(CS + "siren"), read(CS + "population")
    postal, former_codes = read(SCHEMA + "postalCode"), read(CS + "ancienCodeINSEE")
    alt = read(SKOS + "altLabel")
    epci_kinds = read(IGEO + "typeDEPCI", ox.NamedNode)
    kinds = {x: v[0].rsplit("/", 1)[-1].upper() for x, v in epci_kinds.items()}
    # An EPCI (an area) across a boundary only overlaps the départements it touches: it is in each of them.
    parents = links(DCTERMS + "isPartOf", SCHEMA + "geoOverlaps")
    located = links(*SPATIAL)

    entities: dict[str, Entity] = {}
    for iri, t in type_of.items():
        name = (official.get(iri) or [labels.get(iri, "")])[0]
        if not name:
            continue
        pop = populations.get(iri, [None])[0]
        entities[iri] = Entity(
            iri=iri,
            type=t,
            name=name,
            label=labels.get(iri, name),
            code=(codes.get(iri) or [""])[0],
            siren=(sirens.get(iri) or [""])[0],
            population=int(pop) if pop and pop.isdigit() else None,
            postal_codes=tuple(sorted(postal.get(iri, ()))),
            epci_kind=kinds.get(iri) if t == "epci" else None,
            parents=parents.get(iri, []) + located.get(iri, []),
        )
    # A delegated commune's name and code name its current commune, as does a merged commune's former code.
    current_of = {i: c for i in former if (c := next((p for p in parents.get(i, ()) if p in entities), None))}
    aliases: dict[str, list[str]] = defaultdict(list)
    merged: dict[str, set[str]] = defaultdict(set)  # a Paris arrondissement is no former commune
    for i, c in current_of.items():
        if n := (official.get(i) or [labels.get(i, "")])[0]:
            aliases[c].append(n)
            if IGEO + "ArrondissementMunicipal" not in types[i]:
                merged[c].add(n)
    for iri, names in alt.items():
        if iri in entities:
            aliases[iri] += names
    # A row the loaders apply only beside a département's name (its context: a homonym) is theirs alone.
    coded = {(e.type, c): iri for iri, e in entities.items() for c in {e.code, e.siren} - {""}}
    with TERRITORY_NAMES.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if (r["kind"], r["target"]) in coded and not r.get("context"):
                aliases[coded[(r["kind"], r["target"])]].append(r["alias"])
                if r.get("merged"):  # a former commune the reference knows by its code alone
                    merged[coded[(r["kind"], r["target"])]].add(r["alias"])
    codes_of = [(old, iri) for iri, olds in former_codes.items() if iri in entities for old in olds]
    codes_of += [(code, c) for i, c in current_of.items() for code in codes.get(i, ())]
    origins = {g: said for g, said in origins.items() if said}
    return _Read(entities, dict(aliases), codes_of, former, dict(merged), origins)


def read_index(store: Store) -> NameIndex:
    """The index of the store's public data, read whole."""
    read = _read_subjects(store, None)
    entities = read.entities
    _place(entities, entities.values())
    for d in entities.values():  # a région covers its départements: asked with one of them, it is in scope
        if d.type == "departement":
            for r in d.regions:
                entities[r].departements = tuple(sorted((*entities[r].departements, d.code)))
    for commune, projects, places in _counts((), entities.values(), set(entities)):
        if (e := entities.get(commune)) is not None and e.type == "commune":
            e.projects += projects
            e.places += places
    aliases = [(n, iri) for iri, names in read.aliases.items() for n in names]
    index = NameIndex(entities.values(), aliases, read.codes)
    index.origins, index.formers, index.merged = read.origins, read.formers, read.merged
    return index


def _place(entities: dict[str, Entity], placing: Iterable[Entity]) -> None:
    """Départements, régions and EPCI of the entities ``placing`` (in ``entities``), from the territories
    they are part of, overlap or are located in."""

    def level(iri: str) -> str | None:
        e = entities.get(iri)
        return e.type if e is not None and e.type in TERRITORY_TYPES else None

    def departements_of(iri: str, seen: frozenset[str] = frozenset()) -> set[str]:
        e = entities.get(iri)
        if e is None or iri in seen:
            return set()
        if e.type == "departement":
            return {iri}
        if e.type == "region":
            return set()
        out: set[str] = set()
        for p in e.parents:
            if e.type == "commune" and level(p) == "epci":
                continue  # a commune's département is its own, not its EPCI's others
            out |= departements_of(p, seen | {iri})
        return out

    def regions_of(e: Entity) -> set[str]:
        return {p for p in e.parents if level(p) == "region"}

    for e in placing:
        departements = [entities[d] for d in departements_of(e.iri)]
        e.departements = tuple(sorted({d.code for d in departements}))
        if e.type == "commune":
            e.epci = next((p for p in e.parents if level(p) == "epci"), "")
        if e.type != "region":  # its own, and those of its départements
            e.regions = tuple(sorted(regions_of(e).union(*map(regions_of, departements))))


_lock = threading.Lock()
_read = threading.Condition(_lock)  # notified when a read of an index ends (done or failed)
# Per store object, weakly (an id() could be reused by a new store): (version, index, when its read ended,
# how long the read took).
_cache: weakref.WeakKeyDictionary[Store, tuple[int, NameIndex, float, float]] = weakref.WeakKeyDictionary()
_building: weakref.WeakSet[Store] = weakref.WeakSet()  # a read under way or about to begin
# Writes told of since the cached version: (how many, the public graphs they changed).
_told: weakref.WeakKeyDictionary[Store, tuple[int, set[str]]] = weakref.WeakKeyDictionary()
SETTLE = 1.0  # seconds after a write before a whole re-read: one load is several writes
stats = {"full_reads": 0, "read_apart": 0}  # whole reads, those in a child process


def start(store: Store) -> None:
    """Begin the first read in the background at server start, so no visitor waits for all of it."""
    with _lock:
        if store not in _cache:
            _follow(store)


def changed(store: Store, graphs: Collection[str]) -> None:
    """A write to public ``graphs`` was committed (the app's store listener): the index follows it in the
    background."""
    with _lock:
        count, told = _told.get(store, (0, set()))
        _told[store] = (count + 1, told | set(graphs))
        _follow(store)


def finish(store: Store, timeout: float) -> None:
    """Before the store closes: let a read under way end (a store closed under it would fail it)."""
    with _lock:
        _read.wait_for(lambda: store not in _building, timeout)


def index_of(store: Store, follow: float = 0.0) -> NameIndex:
    """The index of the store's version, eventually: a write begins a re-read in the background
    (:func:`changed`) while the previous index answers; only the first read is waited for. With
    ``follow``, a caller that found a name missing waits up to that many seconds for the index to follow
    the store's version: the thing may have been written a moment ago."""
    with _lock:
        _read.wait_for(lambda: store in _cache or store not in _building)  # a first read begun elsewhere
        cached = _cache.get(store)
        if cached:
            if cached[0] != store.version:
                _follow(store)  # a write no listener told of (another process's, on a remote store)
                if follow:
                    _read.wait_for(lambda: store not in _building, follow)  # the read ends: current or failed
                    cached = _cache[store]
            return cached[1]
        _building.add(store)
    try:
        return _load(store)  # the first read, here: a store that cannot be read raises to the caller
    finally:
        with _lock:
            _building.discard(store)
            _read.notify_all()


def _follow(store: Store) -> None:
    """Under ``_lock``: read the index in the background, unless a read is under way (it reads again when
    it ends if the store moved meanwhile)."""
    if store not in _building:
        _building.add(store)
        threading.Thread(target=_refresh, args=(store,), daemon=True, name="name-index").start()


def _load(store: Store) -> NameIndex:
    with _lock:
        version, started = store.version, time.monotonic()
        _told.pop(store, None)
    stats["full_reads"] += 1
    with store.public_copy() as opener:
        index = read_index(store) if opener is None else apart.call(read_index, opener, keep=True)
        stats["read_apart"] += opener is not None
    with _lock:
        _cache[store] = (version, index, time.monotonic(), time.monotonic() - started)
        _read.notify_all()
    return index


def _refresh(store: Store) -> None:
    """Follow the store's version. Writes this process told of (:func:`changed`), and they alone, are read
    as they come: what they changed alone. Otherwise (another process's writes, a new territorial
    reference) the index is read whole, SETTLE after the write and at least as long after the previous
    whole read as that read took, so that writes in a row cost such reads half the time at most."""
    current = False
    try:
        while True:
            with _lock:  # the version read and the end of the build at once: a write between is not lost
                cached = _cache.get(store)
                version = store.version
                count, graphs = _told.pop(store, (0, set()))
                current = cached is not None and cached[0] == version
                if current:
                    _building.discard(store)
                    _read.notify_all()
                    return
            told = cached is not None and count and cached[0] + count == version
            if told and (index := cached[1].updated(store, graphs)) is not None:
                with _lock:
                    _cache[store] = (version, index, cached[2], cached[3])
                    _read.notify_all()
                continue
            if cached:
                time.sleep(max(SETTLE, cached[3] - (time.monotonic() - cached[2])))
            _load(store)
    except StoreError:
        pass  # a remote store down: the previous index answers (or the next request reads it itself)
    except Exception:  # noqa: BLE001 - a thread's error would otherwise only reach stderr
        log.exception("the name index could not be read")
    finally:
        if not current:
            with _lock:
                _building.discard(store)
                _read.notify_all()
