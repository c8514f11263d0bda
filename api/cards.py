"""The card at the top of a resource page: the facts a person reads that kind of resource for, in the order
they ask, one typed context per kind (from the Description, a few bound SELECTs and the browsing index)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import pyoxigraph as ox
from markupsafe import Markup

from api import maps
from api.i18n import PARIS, data_label, date_text, listed, translator
from api.pages import WEB_ADDRESS, local_path, number
from graph import contributions as model
from graph import search, sparql_text
from graph.contributions import LICENSE_NAMES, Contributions
from graph.describe import Description, Text, group_by_predicate, labels_of, pick
from graph.formats import curie
from graph.matching import words
from graph.named_queries import territory_code
from graph.namespaces import CS, DAYS, DCAT, DCTERMS, FOAF, ORG, PROV, RDF, SCHEMA, VOID
from graph.store import Store, Term

LIST_CAP = 30  # items of a related list shown on a card; the rest is a link to the full list
NEAREST_CAP = 5  # places named on the page of a commune without any: a phone screen's worth


class Link(NamedTuple):
    href: str
    label: str


class Funding(NamedTuple):
    funder: Link | None
    label: str
    amount: float | None
    currency: str
    rate: float | None = None  # the part of the association's budget it covers, when that is what is stated
    shares: tuple[float, ...] = ()  # the association's share of this grant: the same money, shown within it


class DayHours(NamedTuple):
    name: str
    ranges: list[str]
    today: bool


@dataclass
class Neighbours:
    """Other places of the commune or EPCI: past LIST_CAP names, the card says how many and links to their
    /lieux list."""

    links: list[Link]
    total: int
    list_href: str = ""  # '' when every one is named
    list_total: int = 0  # the list's places, this one among them


class HistoryEntry(NamedTuple):
    action: str
    at: str
    by: str


@dataclass
class ProjectCard:
    activity: Link | None
    activity_text: str
    summary: str
    start: str
    end: str
    territories: list[Link]
    map: Markup | None
    fundings: list[Funding]
    total: float | None
    currency: str
    budget: float | None  # the association's budget in the project (cs:budget): an amount, not a grant
    partners: list[Link]
    resources: list[Link]
    events: list[Link]
    source: Link | None
    source_lines: str
    template: str = "projet.html"


@dataclass
class PlaceCard:
    street: str
    postal_code: str
    locality: str
    commune: Link | None
    town: bool  # the locality names the commune: its name, linked in the address, not repeated under it
    week: list[DayHours]
    has_hours: bool
    open_now: bool
    now_text: str
    now_zone: str  # i18n key telling whose time now_text is: Paris's, or the place's own overseas
    network: list[Link]
    typology: list[Link]
    email: str
    telephone: str
    website: str
    appointment: bool
    map: Markup | None
    same_commune: Neighbours
    same_epci: Neighbours
    epci: Link | None
    template: str = "lieu.html"


@dataclass
class ResourceCard:
    kind: list[Link]
    classes: list[str]  # i18n keys of its schema.org classes, shown when it names no kind
    summary: str
    creators: list[Link]  # who made it, as the data says
    proposers: list[Link]  # who proposed it (a contribution): not its author
    license: Link | None
    url: str
    file: Link | None
    themes: list[Link]
    publics: list[Link]
    territories: list[Link]
    history: list[HistoryEntry]
    history_href: str
    template: str = "ressource.html"


@dataclass
class Figures:
    population: int | None
    population_year: str  # the year the populations count, as the reference states it; '' when it does not
    projects: int
    places: int | None  # None: an informal area stating no composition, whose places are not known
    places_per_10k: str  # formatted; '' without a population


class NearPlace(NamedTuple):
    iri: str  # a point of the commune's map
    place: Link
    commune: str  # '' when the index places it in no commune


@dataclass
class Nearest:
    """Where the people of a commune without a place find one: the index knows no commune's coordinates, so
    no distance, but the smallest territory around it that has places, its EPCI before its département."""

    within: Link
    places: list[NearPlace]
    total: int
    list_href: str


@dataclass
class TerritoryCard:
    code: str
    figures: Figures
    parents: list[Link]
    overlaps: list[Link]  # an EPCI's départements it is not part of
    departements: list[Link]
    epcis: list[Link]
    communes: list[Link]
    communes_count: int
    communes_page: int
    communes_pages: int
    map: Markup | None
    rollups: list[dict]
    insee: str | None
    wikidata: str | None
    directory: str  # the query string of its places' contact sheet (/api/annuaire-lieux), '' without places
    nearest: Nearest | None  # a commune without places: those around it
    template: str = "territoire.html"


@dataclass
class OrganisationCard:
    projects: list[tuple[Link, str]]  # project, role
    sites: list[Link]
    partners: list[tuple[Link, int]]  # organisation, projects in common
    territories: list[Link]
    map: Markup | None  # its sites
    template: str = "organisation.html"


@dataclass
class EventCard:
    start: str
    end: str
    summary: str
    location: list[Link]
    online: bool
    organizers: list[Link]
    about: list[Link]
    follow_ups: list[Link]
    source: Link | None
    source_lines: str
    template: str = "evenement.html"


Card = ProjectCard | PlaceCard | ResourceCard | TerritoryCard | OrganisationCard | EventCard


class Facts:
    """Reading helpers over one description, in one language."""

    def __init__(self, store: Store, desc: Description, lang: str):
        self.store, self.desc, self.lang = store, desc, lang
        self.base = store.minter.base
        self.grouped = group_by_predicate(desc.triples, desc.iri)

    def all(self, prop: str, node: Term | None = None) -> list[Term]:
        if node is None:
            return self.grouped.get(prop, [])
        return [t.object for t in self.desc.triples if t.subject == node and t.predicate.value == prop]

    def text(self, prop: str, node: Term | None = None) -> Text:
        """The value in the page's language, else French, else any."""
        values = [v for v in self.all(prop, node) if isinstance(v, ox.Literal)]
        found = (v for want in (self.lang, "fr", None) for v in values if want in (None, v.language))
        return next((Text(v.value, v.language) for v in found), Text(""))

    def summary(self, *props: str) -> Text:
        """The summary of the first of these texts that has one, in its language; where none has, the first
        text's heading with its list (no other text takes its place: a blank card would hide it)."""
        texts = [t for t in map(self.text, props) if t]
        tries = [(t, False) for t in texts] + [(t, True) for t in texts[:1]]
        return next((Text(s, t.lang) for t, h in tries if (s := summary(t, headings=h))), Text(""))

    def date(self, prop: str) -> str:
        return date_text(self.text(prop), self.lang)

    def web(self, *props: str) -> str:
        """The first web address of these properties, an IRI (as the places' loader writes it) or a text; a
        value of another scheme (``javascript:``) is never a link."""
        values = (v.value for prop in props for v in self.all(prop) if not isinstance(v, ox.BlankNode))
        return next((v for v in values if WEB_ADDRESS.match(v)), "")

    def iris(self, prop: str) -> list[str]:
        return [v.value for v in self.all(prop) if isinstance(v, ox.NamedNode)]

    def title(self) -> str:
        return pick(self.desc.labels.get(self.desc.iri.value), self.lang, "")

    def link(self, iri: str, labels: dict[str, dict[str, str]] | None = None) -> Link:
        names = (labels or self.desc.labels).get(iri)
        return Link(local_path(iri, self.base), data_label(pick(names, self.lang, curie(iri)), self.lang))

    def links(self, *props: str) -> list[Link]:
        return by_label({self.link(i) for prop in props for i in self.iris(prop)})

    def first(self, prop: str) -> Link | None:
        return next(iter(self.links(prop)), None)

    def linked(self, iris: list[str]) -> list[Link]:
        """Links to resources the description does not name itself: their labels are read in one go."""
        labels = labels_of(self.store, [ox.NamedNode(i) for i in iris])
        return by_label(self.link(i, labels) for i in iris)


def by_label(links) -> list[Link]:
    """In the lists' order (graph.search.folded: « Éourres » with the E, not after « Vitrolles »)."""
    return sorted(links, key=lambda link: (search.folded(link.label), link.href))


BULLET = re.compile(r"^\s*(?:[-•→*]\s*)+")


def summary(text: Text, limit: int = 700, *, headings: bool = False) -> str:
    """The first paragraph, cut at a sentence end near ``limit``: the card's one-paragraph summary. A
    paragraph announcing a list ("Ce projet se compose de trois grandes actions :") carries the list, its
    items joined; a heading over a list ("Phase 1 - Diagnostic") is no summary: '' lets a card take another
    text, unless ``headings`` (there is no other: a contributor's "Ligne 1" over a list), then it announces
    its list. A last sentence announcing a list that does not follow is left out. The items are joined as the
    text's language writes it (the data's texts without a language are French)."""
    lang = text.lang or "fr"
    block = next((p for p in re.split(r"\n\s*\n(?!\s*[-•→*])", text) if p.strip()), "")
    lead, *items = re.split(r"\n\s*(?=[-•→*])", block.strip())
    first = " ".join(lead.split())

    def sentence_end(text: str) -> int:
        return max(text.rfind(". "), text.rfind("! "), text.rfind("? "))

    if items and headings and not first.endswith((".", "!", "?", ")", ":")):
        first += ":" if lang == "en" else " :"
    if items and first.endswith(":"):
        # An item is its line and the lines wrapping it, up to one ending a sentence: what follows the
        # list without a bullet is no longer the list (Smart Villages' "iNotre espace de ressources…").
        # As many whole items as the limit holds.
        items = [re.split(r"(?<=[.!?])\n", BULLET.sub("", item), maxsplit=1)[0] for item in items]
        items = [" ".join(item.split()).rstrip(".,;") for item in items]
        shown = len(items)
        while shown > 1 and len(first) + sum(len(item) + 2 for item in items[:shown]) > limit:
            shown -= 1
        first = f"{first} {listed(items[:shown] + ([] if shown == len(items) else ['…']), lang)}"
        first += "." if shown == len(items) else ""
    elif items and not first.endswith((".", "!", "?", ")")):
        return ""
    elif first.endswith(":") and (end := sentence_end(first)) > 0:
        first = first[: end + 1]
    if len(first) <= limit:
        return first
    cut = first[:limit]
    end = sentence_end(cut)
    return (cut[: end + 1] if end > limit // 2 else cut.rsplit(" ", 1)[0] + " …").strip()


# Which card a resource gets, from its classes: the first kind whose classes it has.
KINDS = (
    ("projet", {SCHEMA + "Project"}),
    ("lieu", {CS + "ServicePlace"}),
    ("territoire", set(search.TERRITORY_CLASSES)),
    ("evenement", {SCHEMA + "Event"}),
    ("organisation", {ORG + "Organization", FOAF + "Person"}),
    ("ressource", {SCHEMA + c for c in search.CREATIVE_WORKS}),
)


def kind_of(types: list[str]) -> str:
    return next((kind for kind, classes in KINDS if classes.intersection(types)), "")


def _departements(cat: search.Catalog | None, territories: list[str]) -> list[str]:
    """INSEE codes of the départements the territories are in or contain (a région, an EPCI: through
    what they contain; not a département's children, which may straddle into its neighbours)."""
    if cat is None:
        return []
    known = [iri for iri in territories if iri in cat.territories]
    down = [
        c
        for i in known
        if cat.territories[i].level in ("region", "epci", "zone")  # an area: those of what it covers
        for c in cat.children.get(i, ())
    ]
    found = {x for i in known + down for x in cat.closure(i)}
    return sorted({cat.territories[x].code for x in found if cat.territories[x].level == "departement"})


def coordinates(store: Store, places: list[str]) -> dict[str, tuple[float, float]]:
    """(longitude, latitude) of the places that have them, asked in chunks of store IRIs."""
    found: dict[str, tuple[float, float]] = {}
    for start in range(0, len(places), 400):
        rows = store.select(
            f"SELECT ?x ?lat ?lon WHERE {{ {sparql_text.values('x', places[start : start + 400])}"
            f"?x <{SCHEMA}geo> ?g . ?g <{SCHEMA}latitude> ?lat ; <{SCHEMA}longitude> ?lon }}"
        )
        for r in rows:
            with contextlib.suppress(ValueError):
                found[r["x"].value] = (float(r["lon"].value), float(r["lat"].value))
    return found


def _points(
    store: Store, places: list[str], label: Callable[[str], str], main: str = ""
) -> list[maps.MapPoint]:
    found = coordinates(store, places[:3000])
    return [maps.MapPoint(lon, lat, label(p), p == main) for p, (lon, lat) in found.items()]


# --- projet ----------------------------------------------------------------------------------------------
FUNDINGS = f"""SELECT DISTINCT ?grant ?funder ?value ?currency ?whole ?rate WHERE {{
  {{ ?item <{SCHEMA}funding> ?grant }} UNION {{ ?grant <{SCHEMA}fundedItem> ?item }}
  OPTIONAL {{ ?grant <{SCHEMA}funder> ?funder }}
  OPTIONAL {{ ?grant <{CS}shareOf> ?whole }}
  OPTIONAL {{ ?grant <{CS}coverageRate> ?rate }}
  OPTIONAL {{ ?grant <{SCHEMA}amount> ?a . ?a <{SCHEMA}value> ?value
             OPTIONAL {{ ?a <{SCHEMA}currency> ?currency }} }}
}}"""
BUDGET = f"""SELECT ?value WHERE {{ ?item <{CS}budget> ?b . ?b <{SCHEMA}value> ?value }} LIMIT 1"""
# Informal areas (a valley, a "pays") are not in the territorial reference: their map shows what they are
# part of or cover.
AREA_TERRITORIES = f"""SELECT DISTINCT ?area ?t WHERE {{
  ?item <{DCTERMS}spatial> ?area . ?area <{DCTERMS}isPartOf>|<{CS}covers> ?t }}"""
RELATED = f"""SELECT DISTINCT ?x ?type WHERE {{
  {{ ?x <{DCTERMS}relation> ?item }} UNION {{ ?item <{DCTERMS}relation> ?x }}
  UNION {{ ?x <{SCHEMA}about> ?item }} UNION {{ ?x <{SCHEMA}subjectOf> ?item }}
  UNION {{ ?item <{SCHEMA}subjectOf> ?x }}
  ?x <{RDF}type> ?type }}"""


def project_card(store: Store, desc: Description, lang: str, cat: search.Catalog | None) -> ProjectCard:
    f = Facts(store, desc, lang)
    item = {"item": desc.iri}
    grants: dict[str, dict] = {}
    for r in store.select(FUNDINGS, item):
        g = grants.setdefault(r["grant"].value, dict.fromkeys(("funder", "value", "whole", "rate")))
        for key in ("funder", "whole"):
            g[key] = r[key].value if key in r else g[key]
        for key in ("value", "rate"):
            with contextlib.suppress(KeyError, ValueError):
                g[key] = float(r[key].value)
        g["currency"] = r["currency"].value if "currency" in r else g.get("currency") or "EUR"
    names = labels_of(
        store, [ox.NamedNode(i) for i in [*grants, *(g["funder"] for g in grants.values())] if i]
    )
    # A share of a grant listed too (cs:shareOf: "Pour l'Adrets cela représente un financement de…") is
    # the same money: shown within that grant, "dont part ADRETS", and counted once, there.
    shares: dict[str, list[float]] = {}
    for g in grants.values():
        if g["whole"] in grants and g["value"] is not None:
            shares.setdefault(g["whole"], []).append(g["value"])
    fundings = [
        Funding(
            g["funder"] and f.link(g["funder"], names),
            pick(names.get(iri), lang),
            g["value"],
            g["currency"],
            g["rate"],
            tuple(shares.get(iri, ())),
        )
        for iri, g in grants.items()
        if g["whole"] not in grants or g["value"] is None
    ]
    fundings.sort(key=lambda x: (-(x.amount or 0), x.rate is None, x.funder.label if x.funder else x.label))
    amounts = [x.amount for x in fundings if x.amount is not None]
    budget = None
    with contextlib.suppress(ValueError):
        budget = next((float(r["value"].value) for r in store.select(BUDGET, item)), None)
    related: dict[str, set[str]] = {}
    for r in store.select(RELATED, item):
        related.setdefault(r["x"].value, set()).add(r["type"].value)
    kinds = {iri: kind_of(list(types)) for iri, types in related.items()}
    territories = f.iris(DCTERMS + "spatial")
    if cat is not None and any(t not in cat.territories for t in territories):
        rows = store.select(AREA_TERRITORIES, item)
        territories += [r["t"].value for r in rows if r["area"].value not in cat.territories]
    return ProjectCard(
        activity=f.first(DCTERMS + "type"),
        activity_text=f.text(CS + "activityLine"),
        summary=f.summary(SCHEMA + "description", CS + "objectives"),
        start=f.date(SCHEMA + "startDate"),
        end=f.date(SCHEMA + "endDate"),
        territories=f.links(DCTERMS + "spatial"),
        map=maps.render(f.title(), _departements(cat, territories), []),
        fundings=fundings,
        total=sum(amounts) if amounts else None,
        currency=next((x.currency for x in fundings if x.currency), "EUR"),
        budget=budget,
        partners=f.links(CS + "participant"),
        resources=f.linked([i for i, k in kinds.items() if k == "ressource"]),
        events=f.linked([i for i, k in kinds.items() if k == "evenement"]),
        source=f.first(PROV + "wasDerivedFrom"),
        source_lines=f.text(CS + "sourceLines"),
    )


# --- lieu ------------------------------------------------------------------------------------------------
# Sources give opening hours in the place's local time: overseas, its département's zone (the first three
# digits of its commune's code), not Paris's.
TIME_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
    "986": "Pacific/Wallis",
    "987": "Pacific/Tahiti",
    "988": "Pacific/Noumea",
}


def time_zone(commune: str, prefix: str) -> ZoneInfo:
    """``prefix``: the IRI of communes before their code."""
    zone = TIME_ZONES.get(commune.removeprefix(prefix)[:3]) if commune.startswith(prefix) else None
    return ZoneInfo(zone) if zone else PARIS


def week(f: Facts, now: dt.datetime) -> tuple[list[DayHours], bool]:
    """The week's opening hours from schema:OpeningHoursSpecification, and whether it is open at ``now``."""
    ranges: dict[str, list[tuple[str, str]]] = {d: [] for d in DAYS}
    for spec in f.all(SCHEMA + "openingHoursSpecification"):
        opens, closes = f.text(SCHEMA + "opens", spec)[:5], f.text(SCHEMA + "closes", spec)[:5]
        if not opens or not closes:
            continue
        for day in f.all(SCHEMA + "dayOfWeek", spec):
            name = day.value.rsplit("/", 1)[-1]
            if name in ranges:
                ranges[name].append((opens, closes))
    today = DAYS[now.weekday()]
    clock = now.strftime("%H:%M")
    open_now = any(o <= clock < c for o, c in ranges[today])
    t = translator(f.lang)
    days = [
        DayHours(t("day_" + d), [f"{o}–{c}" for o, c in sorted(set(ranges[d]))], d == today) for d in DAYS
    ]
    return days, open_now


def place_card(
    store: Store, desc: Description, lang: str, cat: search.Catalog | None, now: dt.datetime
) -> PlaceCard:
    f = Facts(store, desc, lang)
    communes = f.iris(DCTERMS + "spatial")
    commune = communes[0] if communes else ""
    zone = time_zone(commune, store.minter.thing("commune", ""))
    now = now.astimezone(zone)
    days, open_now = week(f, now)
    address = next(iter(f.all(SCHEMA + "address")), None)
    street, postal_code, locality = (
        f.text(SCHEMA + p, address) if address is not None else ""
        for p in ("streetAddress", "postalCode", "addressLocality")
    )
    here = desc.iri.value
    epci, same_commune, same_epci, neighbours = "", [], [], {}
    if cat is not None and commune in cat.territories:
        parents = [cat.territories[p] for p in cat.territories[commune].parents if p in cat.territories]
        epci = next((p.iri for p in parents if p.level == "epci"), "")
        same_commune = [p for p in cat.rollup_iris(commune, "lieux") if p != here]
        same_epci = (
            [p for p in cat.rollup_iris(epci, "lieux") if p != here and p not in same_commune] if epci else []
        )
        points = _points(store, [here, *same_commune, *same_epci], lambda p: cat.label(p, lang), here)
        neighbours = {p: {"": cat.label(p, lang)} for p in [*same_commune, *same_epci]}
    else:
        points = _points(store, [here], lambda _: f.title() or here, here)
    commune_link = f.link(commune) if commune else None

    def nearby(territory: str, places: list[str]) -> Neighbours:
        found = Neighbours(by_label(f.link(p, neighbours) for p in places)[:LIST_CAP], len(places))
        if len(places) <= LIST_CAP:
            return found
        level, key = cat.territories[territory].level, search.key_of(territory, cat.base)
        found.list_href = f"/lieux?{level}={quote(key)}"
        found.list_total = len(cat.rollup_iris(territory, "lieux"))
        return found

    # The lists write « BRIANCON », « St Priest »: the commune's name, « Briançon », « Saint-Priest », once
    town = commune_link is not None and words(commune_link.label) == words(locality)
    return PlaceCard(
        street=street,
        postal_code=postal_code,
        locality=commune_link.label if town else locality,
        commune=commune_link,
        town=town,
        week=days,
        has_hours=any(d.ranges for d in days),
        open_now=open_now,
        now_text=now.strftime("%H:%M"),
        now_zone="paris_time" if zone is PARIS else "local_time",
        network=f.links(CS + "network"),
        typology=f.links(CS + "typology"),
        email=f.text(SCHEMA + "email"),
        telephone=f.text(SCHEMA + "telephone"),
        website=f.web(SCHEMA + "url", CS + "website"),
        appointment=any(isinstance(v, ox.Literal) and v.value == "true" for v in f.all(CS + "appointment")),
        map=maps.render(f.title(), _departements(cat, communes), points, around_points=True),
        same_commune=nearby(commune, same_commune),
        same_epci=nearby(epci, same_epci),
        epci=Link(local_path(epci, f.base), cat.territories[epci].label) if epci else None,
    )


# --- ressource -------------------------------------------------------------------------------------------
def resource_card(store: Store, desc: Description, lang: str, contributions: Contributions) -> ResourceCard:
    f = Facts(store, desc, lang)
    licenses = [
        Link(v.value, LICENSE_NAMES.get(v.value) or pick(desc.labels.get(v.value), lang, v.value))
        for v in f.all(DCTERMS + "license")
    ]
    # A contributed file is a schema:MediaObject named by its download URL (graph/contributions.py).
    media = f.iris(SCHEMA + "associatedMedia")
    prefix = store.minter.thing("ressource", "")
    rid = desc.iri.value.removeprefix(prefix) if desc.iri.value.startswith(prefix) else ""
    t = translator(lang)
    history = [  # the changes that made a public version, as on the history page
        HistoryEntry(
            t("action_" + c.action),
            date_text(c.at, lang),
            data_label(c.agent_label, lang),
        )
        for c in (contributions.history(rid) if rid else [])
        if c.state_after == model.ACCEPTED and (c.version or c.action == "acceptation")
    ]
    return ResourceCard(
        kind=f.links(DCTERMS + "type"),
        classes=sorted(
            "class_" + t.removeprefix(SCHEMA)
            for t in desc.types()
            if t.removeprefix(SCHEMA) in search.CREATIVE_WORKS
        ),
        summary=f.summary(SCHEMA + "description", DCTERMS + "description"),
        creators=f.links(SCHEMA + "author", SCHEMA + "creator", DCTERMS + "creator", SCHEMA + "publisher"),
        proposers=f.links(PROV + "wasAttributedTo"),
        license=next(iter(licenses), None),
        url=f.web(SCHEMA + "url"),
        file=f.link(media[0]) if media else None,
        themes=f.links(DCTERMS + "subject"),
        publics=f.links(SCHEMA + "audience"),
        territories=f.links(DCTERMS + "spatial"),
        history=history,
        history_href=f"/ressources/{rid}/historique" if history else "",
    )


# --- territoire ------------------------------------------------------------------------------------------
WIKIDATA_PROPERTY = {"commune": "P374", "departement": "P2586", "region": "P2585", "epci": "P1616"}


def territory_card(
    store: Store, cat: search.Catalog, territory: search.Territory, lang: str, communes_page: int
) -> TerritoryCard:
    def link(iri: str) -> Link:
        return Link(local_path(iri, cat.base), cat.territories[iri].label)

    def told_apart(iris: list[str], among: list[str]) -> list[Link]:
        """Links by name; a name several of ``among`` share gets its départements' codes (the two
        Saint-Pierre-d'Entremont of an EPCI across Isère and Savoie)."""
        same = Counter(cat.territories[i].label for i in among)
        return [
            Link(x.href, f"{x.label} ({', '.join(_departements(cat, [i]))})") if same[x.label] > 1 else x
            for i, x in zip(iris, map(link, iris), strict=True)
        ]

    def level_of(iri: str) -> str:
        return cat.territories[iri].level

    order = {"epci": 0, "departement": 1, "region": 2}
    parents = [p for p in cat.closure(territory.iri) - {territory.iri} if p in cat.territories]
    parents.sort(key=lambda p: (order.get(level_of(p), 3), search.folded(cat.territories[p].label), p))
    # In the lists' order, the IRI parting homonyms: each commune on one sub-page only, whatever the request.
    children = sorted(
        cat.children.get(territory.iri, ()), key=lambda c: (search.folded(cat.territories[c].label), c)
    )
    communes = [c for c in children if level_of(c) == "commune"]
    departements = [c for c in children if level_of(c) == "departement"]
    if territory.level in ("departement", "region"):
        # An EPCI belongs to a département's or a région's list when one of its communes is in it: the
        # communes' own links, so a straddling EPCI shows in each, and only there (a région's own children
        # are only the EPCIs straddling two of its départements).
        within = communes + [
            c for d in departements for c in cat.children.get(d, ()) if level_of(c) == "commune"
        ]
        epcis = {p for c in within for p in cat.territories[c].parents if level_of(p) == "epci"}
    else:
        epcis = {c for c in children if level_of(c) == "epci"}
    places = cat.rollup_iris(territory.iri, "lieux")
    nearest = _nearest(cat, territory, lang) if territory.level == "commune" and not places else None
    pop = territory.population or population(cat, territory.iri)
    # An area covering no official unit (massif alpin): no place is located in it, yet some are there.
    unknown = territory.level == "zone" and not children
    per = number(len(places) / pop * 10000, lang, 1) if pop and not unknown else ""
    pages = max(1, (len(communes) + 99) // 100)
    page = min(max(1, communes_page), pages)
    deps = [territory.code] if territory.level == "departement" else _departements(cat, [territory.iri])
    # An EPCI across a boundary is part of no département: the card names those it overlaps.
    overlaps = [f"{cat.base}id/departement/{c}" for c in deps] if territory.level == "epci" else []
    shown = [p.iri for p in nearest.places] if nearest else []
    points = _points(store, places or shown, lambda p: cat.label(p, lang))
    code, wikidata = territory.code, WIKIDATA_PROPERTY.get(territory.level)
    search_wikidata = "https://www.wikidata.org/w/index.php?search=" + quote(
        f"haswbstatement:{wikidata}={code}"
    )
    rollups = []
    for kind, (count, indirect, items) in cat.rollups(territory.iri, lang, 30).items():
        if count:
            rows = [
                {
                    "href": local_path(it.iri, cat.base),
                    "label": cat.label(it.iri, lang),
                    "indirect": territory.iri not in it.direct,
                }
                for it in items
            ]
            facets = {f.name for f in search.LISTS[kind].facets}  # an EPCI: only /lieux has that facet
            see_all = f"/{kind}?{territory.level}={quote(code)}" if territory.level in facets else None
            rollups.append(
                {"kind": kind, "count": count, "indirect": indirect, "see_all": see_all, "items": rows}
            )
    return TerritoryCard(
        code=code,
        figures=Figures(
            pop,
            population_year(store) if pop else "",
            sum(r["count"] for r in rollups if r["kind"] == "projets"),
            None if unknown else len(places),
            per,
        ),
        parents=[link(p) for p in parents],
        departements=[link(d) for d in departements],
        overlaps=[link(d) for d in overlaps if d in cat.territories and d not in parents],
        epcis=by_label(told_apart(list(epcis), list(epcis))),
        communes=told_apart(communes[(page - 1) * 100 : page * 100], communes),
        communes_count=len(communes),
        communes_page=page,
        communes_pages=pages,
        map=maps.render(territory.label, deps, points, territory.level == "commune"),
        rollups=rollups,
        insee=f"https://www.insee.fr/fr/recherche?q={quote(code)}" if code else None,
        wikidata=search_wikidata if wikidata and code else None,
        directory=urlencode({"territoire": territory_code(territory.iri, cat.base)}) if places else "",
        nearest=nearest,
    )


def _nearest(cat: search.Catalog, commune: search.Territory, lang: str) -> Nearest | None:
    """The first places by name of the commune's EPCI, else of its département, as their own pages list
    them (the index's roll-ups); None when neither has any."""
    around = [cat.territories[t] for t in sorted(cat.closure(commune.iri)) if t in cat.territories]
    for level in ("epci", "departement"):
        for t in (t for t in around if t.level == level):
            total, _, items = cat.rollups(t.iri, lang, NEAREST_CAP)["lieux"]
            if total:
                communes = [
                    sorted(d for d in it.direct if (x := cat.territories.get(d)) and x.level == "commune")
                    for it in items
                ]
                places = [
                    NearPlace(
                        it.iri,
                        Link(local_path(it.iri, cat.base), cat.label(it.iri, lang)),
                        cat.territories[c[0]].label if c else "",
                    )
                    for it, c in zip(items, communes, strict=True)
                ]
                key = quote(search.key_of(t.iri, cat.base))
                return Nearest(
                    Link(local_path(t.iri, cat.base), t.label), places, total, f"/lieux?{level}={key}"
                )
    return None


def population_year(store: Store) -> str:
    """The year of the territories' populations: a figure of 2023 is not one of 2021 (loaders/territories.py
    states it on the reference graph's cs:population partition)."""
    rows = store.select(
        f"SELECT ?d WHERE {{ ?g <{VOID}propertyPartition> ?p . ?p <{VOID}property> <{CS}population> ; "
        f"<{DCTERMS}temporal>/<{DCAT}startDate> ?d }} LIMIT 1"
    )
    return rows[0]["d"].value[:4] if rows else ""


def population(cat: search.Catalog, iri: str) -> int | None:
    """A territory's population as the sum of its communes' when the data gives none of its own
    (département and région rows carry none; an EPCI's is that sum, from the loader): each commune counted
    once, under its own links. An informal area's is its communes', those it covers and those of the
    units it covers, each once (one it covers and whose EPCI it covers too)."""
    t = cat.territories[iri]
    if t.level == "zone" and not t.population:
        return _communes_population(cat, iri)
    below = {"region": "departement", "departement": "commune", "epci": "commune"}.get(t.level)
    if below is None:
        return t.population
    parts = [population(cat, c) for c in cat.children.get(iri, ()) if cat.territories[c].level == below]
    known = [p for p in parts if p]
    return sum(known) if known else None


def _communes_population(cat: search.Catalog, iri: str) -> int | None:
    """The sum of the populations of the communes below ``iri``, each once (a walk: written data may
    loop, an area covering what holds it)."""
    seen, todo, communes = {iri}, list(cat.children.get(iri, ())), set()
    while todo:
        if (c := todo.pop()) in seen or c not in cat.territories:
            continue
        seen.add(c)
        if cat.territories[c].level == "commune":
            communes.add(c)
        else:
            todo += cat.children.get(c, ())
    known = [p for c in communes if (p := cat.territories[c].population)]
    return sum(known) if known else None


# --- organisation ----------------------------------------------------------------------------------------
# No BIND in UNION branches and no aggregate alias in ORDER BY: Virtuoso's compiler refuses both.
ORG_PROJECTS = f"""SELECT DISTINCT ?project ?p WHERE {{
  VALUES ?p {{ <{CS}participant> <{SCHEMA}mentions> }}
  ?project ?p ?org . ?project <{RDF}type> <{SCHEMA}Project> }}"""
ORG_FUNDED = f"""SELECT DISTINCT ?project WHERE {{
  {{ ?project <{SCHEMA}funding> ?g }} UNION {{ ?g <{SCHEMA}fundedItem> ?project }}
  ?g <{SCHEMA}funder> ?org . ?project <{RDF}type> <{SCHEMA}Project> }}"""
ORG_PARTNERS = f"""SELECT ?other (COUNT(DISTINCT ?project) AS ?n) WHERE {{
  ?project <{CS}participant> ?org . ?project <{CS}participant> ?other FILTER(?other != ?org)
}} GROUP BY ?other ORDER BY DESC(COUNT(DISTINCT ?project)) ?other LIMIT 12"""
ROLE_ORDER = ("partner", "funder", "mentioned")
ROLE_OF = {CS + "participant": "partner", SCHEMA + "mentions": "mentioned"}


def organisation_card(store: Store, desc: Description, lang: str) -> OrganisationCard:
    f = Facts(store, desc, lang)
    bound = {"org": desc.iri}
    roles: dict[str, str] = {}
    found = [(r["project"].value, ROLE_OF[r["p"].value]) for r in store.select(ORG_PROJECTS, bound)]
    found += [(r["project"].value, "funder") for r in store.select(ORG_FUNDED, bound)]
    for project, role in sorted(found, key=lambda pr: ROLE_ORDER.index(pr[1])):  # a project's first role
        roles.setdefault(project, role)
    counts = [(r["other"].value, int(r["n"].value)) for r in store.select(ORG_PARTNERS, bound)]
    labels = labels_of(store, [ox.NamedNode(i) for i in [*roles, *(o for o, _ in counts)]])
    projects = sorted(
        ((f.link(p, labels), role) for p, role in roles.items()),
        key=lambda pr: (ROLE_ORDER.index(pr[1]), search.folded(pr[0].label)),
    )
    points = _points(store, f.iris(ORG + "hasSite"), lambda p: f.link(p).label)
    return OrganisationCard(
        projects=projects,
        sites=f.links(ORG + "hasSite"),
        partners=[(f.link(o, labels), n) for o, n in counts],
        territories=f.links(DCTERMS + "spatial"),
        map=maps.render(f.title(), [], points, around_points=True),
    )


# --- événement -------------------------------------------------------------------------------------------
def event_card(store: Store, desc: Description, lang: str) -> EventCard:
    f = Facts(store, desc, lang)
    online = any(v.value.endswith("OnlineEventAttendanceMode") for v in f.all(SCHEMA + "eventAttendanceMode"))
    # An online event's territories are where its participants are (a web workshop's « 7 Départements »),
    # not where it takes place: what it is about, not its « Lieu ».
    spatial = [] if online else [DCTERMS + "spatial"]
    return EventCard(
        start=f.date(SCHEMA + "startDate"),
        end=f.date(SCHEMA + "endDate"),
        summary=f.summary(SCHEMA + "description"),
        location=f.links(SCHEMA + "location", *spatial),
        online=online,
        organizers=f.links(SCHEMA + "organizer"),
        about=f.links(SCHEMA + "about", SCHEMA + "mentions", *([DCTERMS + "spatial"] if online else [])),
        follow_ups=f.links(CS + "followUp"),
        source=f.first(PROV + "wasDerivedFrom"),
        source_lines=f.text(CS + "sourceLines"),
    )
