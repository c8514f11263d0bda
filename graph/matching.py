"""Which entity does this name mean: one answer for the reconciliation service, the "link my spreadsheet"
page, the contribution form's territory field and the document loaders (loaders.mentions, span by span).

:func:`name_key` removes exactly the differences without meaning (accents, case, hyphens, "St"/"Saint",
articles, "2" for "Deux", "CC" for "Communauté de communes"). A candidate is certain (``match``) only when
its key equals the query's, no other entity in scope (types, département) has that key, and the query is not
only common words written otherwise ("St" for "Le Saint"); anything else is scored by edit similarity,
below any exact name, so that scores (0-100) compare across queries.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import time
import unicodedata
import weakref
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rapidfuzz import fuzz, process

from graph.namespaces import CREATIVE_WORKS, CS, DCTERMS, IGEO, LIGATURES, ORG, RDFS, SCHEMA, SKOS
from graph.settings import DATA_DIR
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
    # A lived area the association's documents name (Grand Briançonnais, Bauges): a public territory with
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

EXACT = 100.0  # the reference name, key for key
VARIANT = 96.0  # same key, written otherwise (articles, digits, "CC" for "Communauté de communes")
FORMER = 94.0  # the name of a delegated/associated commune, for its current commune
AMBIGUOUS = 80.0  # an exact key shared by several entities in scope
FUZZY_MAX = 89.0  # edit similarity never reaches an exact name
PREFIX = 85.0  # the query is the first words of the name
FUZZY_FLOOR = 60.0  # below this, a candidate is noise
OUT_OF_SCOPE = 30.0  # taken off a candidate outside the asked département
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
    ("communaute d agglomeration", "CA"),
    ("communaute urbaine", "CU"),
    ("metropole", "METRO"),
    ("cc", "CC"),
    ("ca", "CA"),
    ("cu", "CU"),
)
_EPCI_PREFIX = re.compile(r"^(" + "|".join(k for k, _ in EPCI_KINDS) + r")\b\s*")
_EPCI_KIND = dict(EPCI_KINDS)
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
    return " ".join(kept or name_words)


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


@dataclass
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
    """Every entity of the nine types with its names, keyed for exact and fuzzy look-ups."""

    def __init__(self, entities: Iterable[Entity], aliases: Iterable[tuple[str, str]] = ()):
        self.entities: dict[str, Entity] = {e.iri: e for e in entities}
        # key → {iri: (score if that key matches, the name)}
        self._keys: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
        aliases = list(aliases)
        for e in self.entities.values():
            if e.type == "epci":
                self._add(epci_key(e.name)[0], e.iri, EXACT, e.name)
                # 'CC Alpes-Provence-Verdon "Sources de lumière"', 'CA Porte de l'Isère (CAPI)'
                aliases += [(_EPCI_SUFFIX.sub("", e.name), e.iri)] + [
                    (a, e.iri) for a in ACRONYM.findall(e.name)
                ]
            self._add(name_key(e.name), e.iri, EXACT, e.name)
        for name, iri in aliases:  # (name, IRI): former communes, alternative labels
            if iri in self.entities:
                key = epci_key(name)[0] if self.entities[iri].type == "epci" else name_key(name)
                self._add(key, iri, FORMER, name)
        self.by_code: dict[tuple[str, str], list[str]] = defaultdict(list)  # (type, code) → IRIs
        for e in self.entities.values():
            for code in {e.code, e.siren} - {""}:
                self.by_code[(e.type, code)].append(e.iri)
        # The keys for fuzzy search (in insertion order, which breaks score ties) and sorted, per type (None)
        # and per type and département ("" for none): a search in scope reads its own département's alone.
        self._choices: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        for key, targets in self._keys.items():
            entities = [self.entities[iri] for iri in targets]
            for pool in {(e.type, d) for e in entities for d in (None, *(e.departements or ("",)))}:
                self._choices[pool].append(key)
        self._sorted = {pool: sorted(keys) for pool, keys in self._choices.items()}
        self._backwards = {pool: sorted(map(_backwards, keys)) for pool, keys in self._choices.items()}
        # The names as written, per type, for suggest: a prefix being typed is not yet a key ("Le" is the
        # start of "Le Mans", whose key has no article; "S" of "Strasbourg", not "sur").
        self._written: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for e in self.entities.values():
            self._written[e.type].append((fold(e.name), e.iri))
        for names in self._written.values():
            names.sort()

    def _add(self, key: str, iri: str, score: float, name: str) -> None:
        if key:
            _keep_best(self._keys[key], iri, score, name)

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
        for key in dict.fromkeys((plain, core)):
            for iri, (s, matched) in self._keys.get(key, {}).items():
                e = self.entities[iri]
                if e.type not in scope or (e.type != "epci" and key != plain):
                    continue
                if in_text and not _written_as(written, words(matched)):
                    continue
                if s == EXACT and fold(matched) != folded:
                    s = VARIANT
                if e.type == "epci" and stated_kind and e.epci_kind and stated_kind != e.epci_kind:
                    s -= KIND_MISMATCH  # "CA" for a communauté de communes: the same name, another kind
                _keep_best(found, iri, s, matched)
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
        keys = list(dict.fromkeys((name_key(name), epci_key(name)[0] if "epci" in scope else "")))
        # The asked département's names first; everywhere only when too few were found: a name outside it
        # scores below FUZZY_FLOOR, under any in it, so the ranking is the same whatever the limit.
        for searched in dict.fromkeys((departements, ())):
            if searched != departements and sum(s >= FUZZY_FLOOR for s, _ in candidates.values()) >= limit:
                break
            for i, (s, m) in self._fuzzy(keys, scope, searched).items():
                penalty = 0.0 if self._in_scope(i, departements, postal_code) else OUT_OF_SCOPE
                _keep_best(candidates, i, s - penalty, m)
        ranked = sorted(
            (i for i in candidates if candidates[i][0] >= FUZZY_FLOOR - OUT_OF_SCOPE),
            key=lambda i: (-candidates[i][0], -(self.entities[i].population or 0)),
        )
        return [
            Candidate(self.entities[i], round(candidates[i][0], 1), False, candidates[i][1])
            for i in ranked[:limit]
        ]

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
        """In one of the départements (a région: covering one) and the postal code when given. A territory's
        place is known: one in no département (Saint-Pierre-et-Miquelon) is in none asked; a thing located
        nowhere (an organisation) may be anywhere."""
        e = self.entities[iri]
        placed = e.departements or e.type in TERRITORY_TYPES
        if departements and placed and not set(e.departements) & set(departements):
            return False
        return not (postal_code and e.postal_codes and postal_code not in e.postal_codes)

    def _fuzzy(
        self, keys: list[str], scope: tuple[str, ...], departements: Collection[str] = ()
    ) -> dict[str, tuple[float, str]]:
        """Edit similarity of whole keys (typos), and names the query begins or ends, word for word, just
        below ("Évian" for "Évian-les-Bains"; "Pelvoux" for Vallouise-Pelvoux, as merged communes join the
        names of those they merge): a short name found inside a word elsewhere ("Rians" in "Brianson") is
        not one. Among the keys of those départements (and of entities in none) when given, else all; every
        key above the floor, never a shortlist: France has 230 "Saint-Martin…", the one asked for must not
        be cut."""
        out: dict[str, tuple[float, str]] = {}

        def add(choice: str, score: float, t: str) -> None:
            for iri, (_, matched) in self._keys[choice].items():
                if self.entities[iri].type == t:
                    _keep_best(out, iri, score, matched)

        for t, d in ((t, d) for t in scope for d in ([*departements, ""] if departements else [None])):
            choices = self._choices.get((t, d))
            for key in filter(None, keys) if choices else ():
                close = process.extract(
                    key, choices, scorer=fuzz.ratio, limit=None, score_cutoff=FUZZY_FLOOR * 100 / FUZZY_MAX
                )
                for choice, s, _ in close:
                    add(choice, s * FUZZY_MAX / 100, t)
                for choice in self._prefixed((t, d), key + " ") + self._ending((t, d), key):
                    add(choice, PREFIX, t)
        return out

    def _prefixed(self, pool: tuple[str, str | None], prefix: str) -> list[str]:
        """Every key of the pool that begins with the prefix (keys are ASCII: all sort before DEL, 0x7f)."""
        keys = self._sorted.get(pool, [])
        return keys[bisect_left(keys, prefix) : bisect_left(keys, prefix + "\x7f")]

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


def _pairs(store: Store, predicate: str) -> list[tuple[ox.Term | None, ...]]:
    return store.scan(f"SELECT ?x ?v WHERE {{ ?x <{predicate}> ?v }}", ("x", "v"))


def _instances(store: Store, cls: str) -> list[str]:
    rows = store.scan(f"SELECT ?x WHERE {{ ?x a <{cls}> }}", ("x",))
    return [x.value for (x,) in rows if isinstance(x, ox.NamedNode)]


def read_index(store: Store) -> NameIndex:
    """The index of the store's public data: a dozen flat patterns, joined here (as graph.search does)."""
    type_of: dict[str, str] = {}
    for t, classes in TYPE_CLASSES.items():
        for iri in (iri for cls in classes for iri in _instances(store, cls)):
            type_of.setdefault(iri, t)
    former = {iri for cls in FORMER_CLASSES for iri in _instances(store, cls)}

    def objects(wanted: Collection[str], *predicates: str, kind: type = ox.Literal) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for p in predicates:
            for x, v in _pairs(store, p):
                if isinstance(x, ox.NamedNode) and isinstance(v, kind) and x.value in wanted:
                    out[x.value].append(v.value)
        return out

    wanted = set(type_of) | former
    official = objects(wanted, IGEO + "nom")
    labels: dict[str, str] = {}
    for x, v in _pairs(store, RDFS + "label"):
        named = isinstance(x, ox.NamedNode) and isinstance(v, ox.Literal) and x.value in wanted
        if named and (x.value not in labels or v.language == "fr"):
            labels[x.value] = v.value
    codes = objects(wanted, IGEO + "codeINSEE")
    sirens = objects(type_of, CS + "siren")
    populations = objects(type_of, CS + "population")
    postal = objects(type_of, SCHEMA + "postalCode")
    former_codes = objects(type_of, CS + "ancienCodeINSEE")
    alt = objects(type_of, SKOS + "altLabel")
    kinds = {x.value: v.value.rsplit("/", 1)[-1].upper() for x, v in _pairs(store, IGEO + "typeDEPCI")}
    # An EPCI (an area) across a boundary only overlaps the départements it touches: it is in each of them.
    parents = objects(wanted, DCTERMS + "isPartOf", SCHEMA + "geoOverlaps", kind=ox.NamedNode)
    located = objects(type_of, *SPATIAL, kind=ox.NamedNode)

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
    _place(entities)
    # A delegated commune's name and code name its current commune, as does a merged commune's former code.
    current_of = {i: c for i in former if (c := next((p for p in parents.get(i, ()) if p in entities), None))}
    aliases = [(n, c) for i, c in current_of.items() if (n := (official.get(i) or [labels.get(i, "")])[0])]
    aliases += [(n, iri) for iri, names in alt.items() if iri in entities for n in names]
    # A row the loaders apply only beside a département's name (its context: a homonym) is theirs alone.
    coded = {(e.type, c): iri for iri, e in entities.items() for c in {e.code, e.siren} - {""}}
    with TERRITORY_NAMES.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if (r["kind"], r["target"]) in coded and not r.get("context")]
    aliases += [(r["alias"], coded[(r["kind"], r["target"])]) for r in rows]
    index = NameIndex(entities.values(), aliases)
    for iri, olds in former_codes.items():
        for old in olds if iri in entities else ():
            index.by_code[("commune", old)].append(iri)
    for iri, current in current_of.items():
        for code in codes.get(iri, ()):
            if current not in index.by_code[("commune", code)]:
                index.by_code[("commune", code)].append(current)
    return index


def _place(entities: dict[str, Entity]) -> None:
    """Départements, régions and EPCI of every entity, from the territories it is part of, overlaps or is
    located in; and each commune's count of projects and service places."""
    level = {iri: e.type for iri, e in entities.items() if e.type in TERRITORY_TYPES}

    def departements_of(iri: str, seen: frozenset[str] = frozenset()) -> set[str]:
        e = entities.get(iri)
        if e is None or iri in seen:
            return set()
        if e.type == "departement":
            return {e.code}
        if e.type == "region":
            return set()
        out: set[str] = set()
        for p in e.parents:
            if e.type == "commune" and level.get(p) == "epci":
                continue  # a commune's département is its own, not its EPCI's others
            out |= departements_of(p, seen | {iri})
        return out

    for e in entities.values():
        e.departements = tuple(sorted(departements_of(e.iri)))
        if e.type == "commune":
            e.epci = next((p for p in e.parents if level.get(p) == "epci"), "")

    def regions_of(e: Entity) -> set[str]:
        return {p for p in e.parents if level.get(p) == "region"}

    by_dep = {e.code: e for e in entities.values() if e.type == "departement"}
    for e in entities.values():
        if e.type != "region":  # its own, and those of its départements
            e.regions = tuple(sorted(regions_of(e).union(*(regions_of(by_dep[d]) for d in e.departements))))
    for d in by_dep.values():  # a région covers its départements: asked with one of them, it is in scope
        for r in d.regions:
            entities[r].departements = tuple(sorted((*entities[r].departements, d.code)))
    for e in entities.values():
        for p in e.parents if e.type in ("projet", "lieu") else ():
            target = entities.get(p)
            if target is not None and target.type == "commune":
                target.projects += e.type == "projet"
                target.places += e.type == "lieu"


_lock = threading.Lock()
_read = threading.Condition(_lock)  # notified when a read of an index ends (done or failed)
# Per store object, weakly (an id() could be reused by a new store): (version, index, when its read ended,
# how long the read took).
_cache: weakref.WeakKeyDictionary[Store, tuple[int, NameIndex, float, float]] = weakref.WeakKeyDictionary()
_building: weakref.WeakSet[Store] = weakref.WeakSet()  # a read under way or about to begin
SETTLE = 1.0  # seconds after a write before the re-read: one change is several updates (an acceptance's)


def start(store: Store) -> None:
    """Begin the first read in the background at server start, so no visitor waits for all of it."""
    with _lock:
        if store not in _cache:
            _follow(store)


def changed(store: Store) -> None:
    """A write was committed (the app's store listener): the index is read again in the background."""
    with _lock:
        _follow(store)


def finish(store: Store, timeout: float) -> None:
    """Before the store closes: let a read under way end (a store closed under it would fail it)."""
    with _lock:
        _read.wait_for(lambda: store not in _building, timeout)


def index_of(store: Store) -> NameIndex:
    """The index of the store's version, eventually: a write begins a re-read in the background
    (:func:`changed`) while the previous index answers; only the first read is waited for."""
    with _lock:
        _read.wait_for(lambda: store in _cache or store not in _building)  # a first read begun elsewhere
        cached = _cache.get(store)
        if cached:
            if cached[0] != store.version:
                _follow(store)  # a write no listener told of (another process's, on a remote store)
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
    version, started = store.version, time.monotonic()
    index = read_index(store)
    with _lock:
        _cache[store] = (version, index, time.monotonic(), time.monotonic() - started)
        _read.notify_all()
    return index


def _refresh(store: Store) -> None:
    """Read the index until it is the store's version: SETTLE after the write, and at least as long after
    the previous read as that read took, so that writes in a row cost reads half the time at most (a write
    shows within three reads' time: 4-15 s each, at 1M triples)."""
    current = False
    try:
        while True:
            with _lock:  # the version read and the end of the build at once: a write between is not lost
                cached = _cache.get(store)
                current = cached is not None and cached[0] == store.version
                if current:
                    _building.discard(store)
                    _read.notify_all()
                    return
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
