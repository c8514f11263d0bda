"""data·inclusion structures and services files (JSON array, JSON Lines or CSV) → service places (the model
of ``communs import places``) and their services, one graph per ``source``.

A record the ``data-inclusion-schema`` package refuses is rejected and reported, the rest load. A
service's named contact (with its e-mail and phone), and an e-mail address that is a person's
(``graph.contact.personal_email``) with its record's phone, go only to the private graph. A record whose
``source`` is ours gets back the IRI it was exported from, so an export imports back as is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import pydantic
import pyoxigraph as ox
from data_inclusion.schema import v1

from graph import data_inclusion as di
from graph.contact import personal_email, scrub
from graph.formats import spreadsheet_text
from graph.matching import name_key
from graph.namespaces import CS, PROV, SCHEMA, Minter, slugify
from graph.store import GraphMeta, Store
from graph.terms import Triples, lit
from loaders import GraphLoad, ImportResult, SourceError, csv_reader, named, read_text
from loaders import data_inclusion_vocabularies as vocab
from loaders.gazetteer import Gazetteer, load_gazetteer
from loaders.hours import parse_week
from loaders.places import Place, PlaceBuilder, insee_code, link_same_places, number

# a decimal comma is read here; the package's own lax parsing reads the rest ("12" for an int)
NUMBERS = {"latitude", "longitude", "volume_horaire_hebdomadaire"}
# date_maj as the package reads it: a midnight datetime or a timestamp, which fromisoformat refuses
DATE = pydantic.TypeAdapter(dt.date)


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, record) from a .json array, .jsonl/.ndjson or .csv file (each optionally .gz)."""
    name = path.name.lower().removesuffix(".gz")
    text = read_text(path)
    if name.endswith(".csv"):
        reader = csv_reader(text)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            raise SourceError(path, "not a data·inclusion CSV: no 'id' column", 1)
        rows = []
        for row in reader:
            try:
                rows.append((reader.line_num, _from_csv(row)))
            except ValueError as e:  # a list cell that starts like JSON but is not
                raise SourceError(path, f"unreadable cell: {e}", reader.line_num) from None
        return rows
    if name.endswith((".jsonl", ".ndjson")):
        return [(n, _json(path, line, n)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if name.endswith(".json"):
        data = _json(path, text, None)
        if not isinstance(data, list):
            raise SourceError(path, "a data·inclusion JSON file is an array of records")
        return [(i, r) for i, r in enumerate(data, 1)]
    raise SourceError(path, "expected .json, .jsonl or .csv (optionally .gz)")


def _json(path: Path, text: str, line: int | None) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(path, f"invalid JSON: {e.msg}", line or e.lineno) from None
    if line is not None and not isinstance(value, dict):
        raise SourceError(path, "each line is one record (a JSON object)", line)
    return value


def _from_csv(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, raw in row.items():
        if not key:
            continue
        text = spreadsheet_text(raw or "").strip()
        if not text:
            record[key] = None
        elif key in di.LIST_FIELDS:
            record[key] = _list(text)
        elif key in NUMBERS:
            record[key] = text if (value := number(text)) is None else float(value)
        else:
            record[key] = text
    return record


def _list(text: str) -> list[str]:
    """A list cell: 'a,b' as we write it, a JSON array, or a database array '{a,b}'."""
    if text.startswith("["):
        return [str(v) for v in json.loads(text)]
    return [v.strip().strip('"') for v in text.strip("{}").split(",") if v.strip()]


def _prose(text: str | None, published: list[str | None]) -> str | None:
    """A free text never publishes an e-mail address or a phone number: a person's may be in it (the
    structure's own are in their fields, and the number and address its record publishes stay in its texts
    too)."""
    return scrub(text, published=[p or "" for p in published]) if text else None


def _link(value: Any) -> ox.NamedNode | None:
    return ox.NamedNode(str(value)) if value else None


@dataclass
class SourceBuild:
    """One source's graphs and figures."""

    public: Triples = field(default_factory=Triples)
    private: Triples = field(default_factory=Triples)
    places: list[Place] = field(default_factory=list)  # one per structure
    services: int = 0


class Builder(PlaceBuilder):
    def __init__(self, minter: Minter, gz: Gazetteer):
        super().__init__(minter, gz)
        self.sources: dict[str, SourceBuild] = defaultdict(SourceBuild)
        self.rejected = {"structures": 0, "services": 0}
        self.warnings = 0
        self.dropped = 0  # optional values the schema refuses
        self.communes_to_check = 0  # named otherwise than their code's commune
        self.place_of: dict[str, ox.NamedNode] = {}  # structure id → place IRI, as its IRI: any source's
        self.loaded_at: dict[ox.NamedNode, tuple[str, str]] = {}  # IRI → (source, where its record is)
        self.refused: dict[tuple[str, str], str] = {}  # (source, id) of a structure refused → where it is

    def checked(self, kind: str, model: type, where: str, record: dict[str, Any]) -> bool:
        errors, warnings, dropped = di.check(model, record)
        self.warnings += len(warnings)
        for w in warnings:
            self.report.append(f"{where} : avertissement {w}")
        if errors:
            self.rejected[kind] += 1
            self.report.append(f"{where} : rejetée ({'; '.join(errors)})")
            return False
        self.dropped += len(dropped)
        for d in dropped:
            self.report.append(f"{where} : valeur ignorée, le reste est chargé ({d})")
        return True

    def duplicate(self, kind: str, where: str, s: ox.NamedNode, source: str, local_id: str) -> bool:
        """A second record of an id would be merged into the first one's IRI (two names, two dates, two
        addresses): it is rejected, the first kept whole. The IRI is minted from the id alone
        (data·inclusion's ids name their source, « cd05--mds-embrun »), so the same id in another source is
        one too."""
        first_source, first = self.loaded_at.setdefault(s, (source, where))
        if first != where:
            why = "déjà utilisé" if first_source == source else "même id dans une autre source"
            self.rejected[kind] += 1
            self.report.append(f"{where} : rejetée (id « {local_id} » {why} : {first})")
        return first != where

    def iri(self, source: str, local_id: str, kind: str) -> ox.NamedNode:
        """Ours back to the IRI it was exported from; another source's from its id."""
        if source == di.SOURCE and local_id.startswith(di.SOURCE + "--"):
            key = local_id.removeprefix(di.SOURCE + "--")  # what di.key_of kept of the IRI
            return ox.NamedNode(self.minter.base + "id/" + (key if "/" in key else f"{kind}/{key}"))
        return ox.NamedNode(self.minter.thing(kind, slugify(local_id, 120)))

    def hours(self, t: Triples, s: ox.NamedNode, prop: str, text: str | None, where: str) -> None:
        """OSM opening_hours → one specification per slot with its days (``weekly``: the week's rules)."""
        if text:
            self.opening_hours(t, s, prop, where, parse_week, self.weekly(where, text))

    def desk_contact(self, r: dict[str, Any], s: ox.NamedNode, names: str, written: Any) -> list[str | None]:
        """The record's e-mail and phone, published as its desk's, unless the e-mail is an agent's own: the
        phone given with it is then that agent's too (« marie.dupont@ », « 06 … »), and both go private, as a
        service's named contact's do. Whose the e-mail is is judged on the address ``written`` in the file,
        even one the schema refused and dropped (« marie.dupont@orange,fr » is still hers). Returns what is
        published."""
        build = self.sources[r["source"]]
        email, phone = r.get("courriel"), r.get("telephone")
        if written and not self.public(r, str(written), names):
            self.add_contact(build.private, s, {"email": str(written), "telephone": phone})
            return []
        build.public.add(s, "schema:email", email)
        build.public.add(s, "schema:telephone", phone)
        return [phone, email]

    @staticmethod
    def public(r: dict[str, Any], address: str | None, names: str) -> str | None:
        """A desk's address is public; an agent's own ("prénom.nom@") is personal data: private only. Our
        own export's were judged when loaded, with the desk's group (a name the records do not carry)."""
        if address and (r["source"] == di.SOURCE or not personal_email(address, names)):
            return address
        return None

    def structure(self, where: str, r: dict[str, Any]) -> None:
        written = r.get("courriel")
        if not self.checked("structures", v1.Structure, where, r):
            self.refused[str(r.get("source")), str(r.get("id"))] = where
            return
        source, local_id = r["source"], r["id"]
        build = self.sources[source]
        t = build.public
        s = self.iri(source, local_id, "lieu")
        if self.duplicate("structures", where, s, source, local_id):
            if self.loaded_at[s][0] != source:  # its source's services are not the other's place's
                self.refused[source, local_id] = where
            return
        self.place_of[local_id] = s
        address = {prop: r.get(key) for key, prop in di.ADDRESS_PROPERTIES.items()}
        commune = self.named_commune(where, r)
        lat, lon = r.get("latitude"), r.get("longitude")
        coords = (float(lat), float(lon)) if lat is not None and lon is not None else (None, None)
        types = ["schema:Place", "cs:ServicePlace"]
        build.places.append(self.place(t, s, r["nom"], types, local_id, address, commune, *coords))
        t.add(s, "dcterms:modified", lit(DATE.validate_python(r["date_maj"])))
        names = " ".join(filter(None, (r["nom"], r.get("commune"))))
        published = self.desk_contact(r, s, names, written)
        t.add(s, "schema:description", _prose(r.get("description"), published), "fr")
        if r.get("lien_source") != s.value:
            t.add(s, "dcterms:source", _link(r.get("lien_source")))
        for key, prop in di.PLACE_AS_IS.items():
            if key in ("courriel", "telephone"):
                continue
            t.add(s, prop, _link(r.get(key)) if key in ("site_web", "accessibilite_lieu") else r.get(key))
        for value in r.get("reseaux_porteurs") or []:
            t.add(s, "cs:network", ox.NamedNode(vocab.to_ours(self.minter, "reseaux-porteurs", value)))
        self.hours(t, s, "schema:openingHoursSpecification", r.get("horaires_accueil"), where)

    def named_commune(self, where: str, r: dict[str, Any]) -> ox.NamedNode | None:
        """The code's commune, as ever; a name that is neither it nor one of its delegated communes is
        reported, since the address then names another town (spellings, accents and « St » aside). A
        former code is not checked: the reference keeps only its current commune's name."""
        code, name = r.get("code_insee"), r.get("commune")
        found = self.gz.current_commune(insee_code(code)) if code and name else None
        if found and found.code == insee_code(code or ""):
            given = set(name_key(name or "").split())
            communes = chain([found], (c for c in self.gz.communes.values() if c.parent == found.code))
            if not any(set(name_key(c.name).split()) <= given for c in communes):
                self.communes_to_check += 1
                self.report.append(
                    f"{where} : la commune « {name} » n'est pas celle du code_insee {code} ({found.name}) : "
                    f"lieu rattaché à {found.name}, à vérifier"
                )
        return self.commune(f"{where} : code_insee de la structure « {r['id']} »", code)

    def service(self, where: str, r: dict[str, Any]) -> None:
        written = r.get("courriel")
        if not self.checked("services", v1.Service, where, r):
            return
        refused = self.refused.get((r["source"], r["structure_id"]))
        place = None if refused else self.place_of.get(r["structure_id"])
        if place is None:
            self.rejected["services"] += 1
            why = f"refusée : {refused}" if refused else "absente"
            self.report.append(f"{where} : rejetée (structure « {r['structure_id']} » {why})")
            return
        build = self.sources[r["source"]]
        t, m = build.public, self.minter
        s = self.iri(r["source"], r["id"], "service")
        if self.duplicate("services", where, s, r["source"], r["id"]):
            return
        build.services += 1
        named(t, s, r["nom"], "schema:Service")
        t.add(s, "schema:identifier", r["id"])
        t.add(s, "cs:offeredAt", place)
        name, email, phone = r.get("contact_nom_prenom"), r.get("courriel"), r.get("telephone")
        # Given with a named person, they are that person's.
        published = [] if name else self.desk_contact(r, s, r["nom"], written)
        t.add(s, "schema:description", _prose(r["description"], published), "fr")
        t.add(s, "dcterms:modified", lit(DATE.validate_python(r["date_maj"])))
        t.add(s, "dcterms:source", _link(r.get("lien_source")))
        if r.get("type"):
            t.add(s, "dcterms:type", ox.NamedNode(vocab.concept(m, "types-de-services", r["type"])))
        for key, list_name, prop in di.SERVICE_LISTS:
            for value in r.get(key) or []:
                t.add(s, prop, ox.NamedNode(vocab.to_ours(m, list_name, value)))
        if r.get("frais"):
            t.add(s, "schema:isAccessibleForFree", r["frais"] == "gratuit")
        for key, prop in di.SERVICE_TEXTS.items():
            t.add(s, prop, _prose(r.get(key), published), "fr")
        t.add(s, "schema:url", _link(r.get("lien_mobilisation")))
        zone = f"{where} : zone_eligibilite du service « {r['id']} »"
        for code in r.get("zone_eligibilite") or []:
            t.add(s, "schema:areaServed", self.area(zone, code))
        if name:  # the e-mail and phone given with a named person are that person's
            self.add_contact(build.private, s, {"name": name, "email": email, "telephone": phone})
        self.hours(t, s, "schema:hoursAvailable", r.get("horaires_accueil"), where)

    def area(self, where: str, code: str) -> ox.NamedNode | ox.Literal | None:
        """A COG code → our territory: a commune (current one for a former code), an EPCI (SIREN), a
        département; 'france' and a country code stay as they are. A code the reference has not (the schema
        takes any five letters as a commune's) is reported and left out, never published as a territory."""
        if code == "france" or (len(code) == 5 and code.startswith("99")):
            return ox.Literal(code)
        if len(code) == 5:
            return self.commune(where, code)
        kind, known = ("epci", self.gz.epcis) if len(code) == 9 else ("departement", self.gz.departements)
        if code in known:
            return ox.NamedNode(self.minter.thing(kind, code))
        self.report.append(f"{where} : code « {code} » introuvable dans le référentiel")
        return None


def removed(store: Store | None, graph: str, loaded: dict[ox.NamedNode, Any]) -> Triples:
    """The places and services the source's graph had and this import has not, kept as the date they left
    it (prov:invalidatedAtTime): a reuser who linked one is told it is gone (410), not that it never was.
    An earlier removal keeps its date, unless its record is back."""
    t = Triples()
    if store is None:
        return t
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = store.select(
        f"""SELECT ?s (MIN(?at) AS ?when) WHERE {{ GRAPH <{graph}> {{
              {{ ?s a ?type VALUES ?type {{ <{CS}ServicePlace> <{SCHEMA}Service> }} }}
              UNION {{ ?s <{PROV}invalidatedAtTime> ?at }} }} }} GROUP BY ?s"""
    )
    for r in rows:
        if r["s"] not in loaded:
            t.add(r["s"], "prov:invalidatedAtTime", r.get("when") or now)
    return t


def build(
    structures_path: Path, services_path: Path | None, minter: Minter, store: Store | None = None
) -> ImportResult:
    """Structures (and services) files → one public graph per source, a private one for named contacts."""
    structures = read_records(structures_path)
    if not structures:
        raise SourceError(structures_path, "no records")
    services = read_records(services_path) if services_path else []
    gz = load_gazetteer()
    b = Builder(minter, gz)
    for line, record in structures:
        b.structure(f"{structures_path.name} ligne {line}", record)
    for line, record in services:
        b.service(f"{services_path.name} ligne {line}", record)
    loads, links_report = [], []
    for source, build_ in sorted(b.sources.items()):
        name = di.IMPORT_GRAPH_PREFIX + slugify(source)
        graph = minter.graph(name)
        links_report += link_same_places(build_.public, build_.places, store, graph, gz, minter)
        build_.public += removed(store, graph, b.loaded_at)
        meta = GraphMeta(
            label=f"data·inclusion : {source}",
            source=structures_path.name,
            license=vocab.LICENSE,
            description=f"Structures et services de la source « {source} » au schéma data·inclusion "
            f"({vocab.PACKAGE} {vocab.package_version()}).",
        )
        loads.append(GraphLoad(graph, list(dict.fromkeys(build_.public)), meta))
        loads.append(b.contact_graph(name, build_.private, meta))
    sources = ", ".join(
        f"{s} ({len(b.sources[s].places)} structures, {b.sources[s].services} services)"
        for s in sorted(b.sources)
    )
    report = [
        f"data-inclusion : {len(structures)} structures lues, "
        f"{sum(len(x.places) for x in b.sources.values())} "
        f"lieux chargés, {b.rejected['structures']} rejetées ; {len(services)} services lus, "
        f"{sum(x.services for x in b.sources.values())} chargés, {b.rejected['services']} rejetés ; "
        f"{b.warnings} avertissements du schéma ; {b.dropped} valeurs refusées par le schéma ignorées ; "
        f"{b.former_codes} codes commune résolus par un ancien code "
        f"ou une commune déléguée ; {b.communes_to_check} communes à vérifier ; "
        f"{b.hours_cut} horaires en partie ignorés ; {len(links_report)} liens owl:sameAs",
        f"sources : {sources or 'aucune'}",
        *links_report,
        *b.report,
    ]
    return ImportResult(loads, report)
