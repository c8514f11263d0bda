"""Any CSV list of service places → ``schema:Place`` resources, through a TOML mapping
(``data/mappings/*.toml``): a new spreadsheet needs a mapping, not code.

A row missing a required field is rejected, a bad optional value dropped, both reported; the rest loads. A
named person's contact goes only to the private graph. Places of two lists are linked by ``owl:sameAs``
when they share their commune, lie within ``SAME_PLACE_METRES`` and have similar names.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from graph.contact import personal_email, scrub
from graph.matching import words
from graph.namespaces import CS, DCTERMS, OWL, RDFS, SCHEMA, Minter, former_slugify, slugify
from graph.outlines import departement_at
from graph.store import GraphMeta, Store
from graph.terms import Triples, expand, iri, lit
from loaders import GraphLoad, ImportResult, SourceError, csv_reader, named, read_text
from loaders.gazetteer import Commune, Gazetteer, load_gazetteer
from loaders.hours import DAYS, HoursError, Slot, parse_day, parse_week, weekly_rules

SAME_PLACE_METRES = 250.0
SAME_NAME_SCORE = 0.6
# Words that say which network a place belongs to, not which place it is.
GENERIC_WORDS = {
    *("france", "services", "service", "espace", "espaces", "maison", "maisons", "tiers", "lieu", "lieux"),
    *("public", "publics", "msap", "mfs", "bus", "itinerant", "itinerante", "mobile"),
    *("de", "du", "des", "d", "la", "le", "les", "l", "et", "a", "au", "aux", "en", "sur"),
}
JS_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})")
# « rv » that a replace-all turned into « rendez-vous » inside words (the ANCT list: « Cerendez-vousières »,
# « france-serendez-vousices.gouv.fr »): the phrase itself never touches a letter.
RV_REPLACED = re.compile(r"(?<=[^\W\d_])rendez-vous|rendez-vous(?=[^\W\d_])")
KINDS = ("text", "iri", "url", "date", "boolean", "decimal", "integer")


def web_address(text: str, handle: str | None = None) -> str:
    """An absolute http(s) URL from a cell: ``www.x.fr/a`` gains ``http://``; a bare name (``konkarlab``,
    ``@konkarlab``) is a handle on the ``handle`` site, else no address (ValueError): never ``http://konkarlab``,
    nor ``http://nomade.lyon@laposte.fr``."""
    if not re.match(r"^https?://", text, re.IGNORECASE):
        bare = text.strip().lstrip("/@")
        first = re.split(r"[/?#]", bare, maxsplit=1)[0]
        if "." in first:
            text = "http://" + bare
        elif handle and re.fullmatch(r"[\w.\-]+(/.*)?", bare):
            text = handle + bare
        else:
            raise ValueError("not a web address")
    parts = urlsplit(text)
    if "." not in (parts.hostname or "") or any(c in text for c in ' <>"{}|\\^`'):
        raise ValueError("not a web address")
    if parts.username is not None:  # « nomade.lyon@laposte.fr » in a website column: an e-mail address
        raise ValueError("an e-mail address, not a web address")
    return text


@dataclass
class Entry:
    """One column → one property."""

    column: str
    property: str
    kind: str = "text"
    lang: str | None = None
    values: dict[str, Any] | None = None  # source value → IRI (relative to base) / literal
    pattern: str | None = None  # regex whose groups feed ``format``
    format: str | None = None
    split: str | None = None  # several values in one cell
    handle: str | None = None  # kind url: a bare name is a handle on this site ("https://www.facebook.com/")


@dataclass
class Mapping:
    path: Path
    name: str  # graph name: {base}graph/<name>
    meta: GraphMeta
    id: str
    label: str
    slug: str
    types: list[str]
    required: list[str]
    commune: list[str]  # INSEE code columns: the first, else a later one the address agrees with
    latitude: str | None
    longitude: str | None
    street: list[str]
    postal_code: list[str]  # the first column holding a postal code, alone or in an address
    locality: str | None
    delimiter: str | None = None  # unstated: the header's (graph.formats.delimiter_of)
    encoding: str = "utf-8"
    constants: dict[str, Any] = field(default_factory=dict)
    day_columns: dict[str, str] = field(default_factory=dict)  # schema day → column
    week_column: str | None = None
    entries: list[Entry] = field(default_factory=list)
    contact: dict[str, str] = field(default_factory=dict)  # name/email/telephone → column (private)
    organisation: dict[str, Any] = field(default_factory=dict)  # column, label template, types

    def columns(self) -> set[str]:
        cols = {self.id, self.label, *self.commune, self.latitude, self.longitude, *self.postal_code}
        cols |= {self.locality, self.week_column, *self.street, *self.day_columns.values()}
        cols |= {e.column for e in self.entries} | set(self.contact.values())
        cols.add(self.organisation.get("column"))
        cols |= set(re.findall(r"\{([^}]+)\}", self.slug))
        return {c for c in cols if c}


def read_mapping(path: Path) -> Mapping:
    """Parse and check a mapping file; every mistake names the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SourceError(path, f"unreadable mapping: {e}") from None
    try:
        src, place = data["source"], data["place"]
        issued = src.get("issued")
        if issued is not None and type(issued) is not dt.date:
            raise SourceError(path, "issued: the source's publication date, as a TOML date (2024-08-01)")
        meta = GraphMeta(
            label=src["label"],
            source=src.get("url", path.name),
            license=src.get("license"),
            description=src.get("description"),
            issued=issued,
        )
        hours = data.get("hours", {})
        entries = []
        for e in data.get("properties", []):
            entry = Entry(**e)
            if entry.kind not in KINDS:
                raise SourceError(path, f"property {entry.property}: kind must be one of {', '.join(KINDS)}")
            entries.append(entry)
        required = place.get("required", ["name", "coordinates"])
        unknown = set(required) - {"name", "coordinates", "commune"}
        if unknown:
            raise SourceError(path, f"required: unknown field(s) {', '.join(sorted(unknown))}")
        keys = ("street", "commune", "postal_code")  # a column's name or a list of them
        lists = {k: [v] if isinstance(v := place.get(k, []), str) else v for k in keys}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
                raise SourceError(path, f"{key}: a column name or a list of column names")
        if "organisation" in data and "column" not in data["organisation"]:
            raise SourceError(path, "[organisation] needs the 'column' naming the structure")
        return Mapping(
            path=path,
            name=src["name"],
            meta=meta,
            id=place["id"],
            label=place["name"],
            slug=place.get("slug", "{" + place["name"] + "}"),
            types=place.get("types", ["schema:Place", "cs:ServicePlace"]),
            required=required,
            **{k: place.get(k) for k in ("latitude", "longitude", "locality")},
            **lists,
            delimiter=src.get("delimiter"),
            encoding=src.get("encoding", "utf-8"),
            constants=data.get("constants", {}),
            day_columns={d: c for d, c in hours.items() if d in DAYS},
            week_column=hours.get("week"),
            entries=entries,
            contact=data.get("contact", {}),
            organisation=data.get("organisation", {}),
        )
    except KeyError as e:
        raise SourceError(path, f"mapping lacks {e.args[0]!r}") from None
    except TypeError as e:
        raise SourceError(path, f"bad mapping entry: {e}") from None


def read_rows(path: Path, mapping: Mapping) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for a .csv or .csv.gz; the header must hold every mapped column."""
    reader = csv_reader(read_text(path, mapping.encoding, f"CSV ({mapping.encoding})"), mapping.delimiter)
    header = reader.fieldnames or []
    missing = sorted(mapping.columns() - set(header))
    if missing:
        raise SourceError(
            path,
            f"not the shape mapped by {mapping.path.name}: missing column(s) {', '.join(missing)} "
            f"(header: {', '.join(header[:12]) or 'empty'})",
            1,
        )
    return [
        (reader.line_num, {k: repaired((v or "").strip()) for k, v in row.items() if k}) for row in reader
    ]


def repaired(cell: str) -> str:
    """A cell some tool wrote JavaScript-escaped ("Le\\x20bus\\x20circule", "d\\u2019Avignon") is unescaped;
    one written as UTF-8 read as Windows-1252 ("ThÃ©Ã¢tre", "|Â Coworking") is read back, only when the
    whole cell then decodes as UTF-8, which French text never does ("CHÂTEAUROUX"); a « rv » replaced by
    « rendez-vous » inside a word is « rv » again."""
    cell = RV_REPLACED.sub("rv", JS_ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)), cell))
    if "Ã" not in cell and "Â" not in cell:
        return cell
    try:
        return cell.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return cell


@dataclass
class Place:
    iri: ox.NamedNode
    label: str
    commune: str | None
    lat: float | None
    lon: float | None


def insee_code(raw: str) -> str:
    return raw.zfill(5) if raw.isdigit() else raw  # spreadsheets drop the leading zero of 01…09


def number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ".")) if text else None
    except InvalidOperation:
        return None


class PlaceBuilder:
    """What the builders of places (CSV lists, data·inclusion files) share."""

    def __init__(self, minter: Minter, gz: Gazetteer):
        self.minter, self.gz = minter, gz
        self.report: list[str] = []
        self.former_codes = 0  # resolved through a former code or a delegated commune
        self.hours_cut = 0  # opening hours some of whose rules were dropped

    def commune(self, where: str, raw: str | None) -> ox.NamedNode | None:
        """An INSEE code's current commune; a miss is reported."""
        if not raw:
            return None
        code = insee_code(raw)
        found = self.gz.current_commune(code)
        if found is None:
            self.report.append(f"{where} : code commune « {raw} » introuvable dans le référentiel")
            return None
        if found.code != code:
            self.former_codes += 1
        return ox.NamedNode(self.minter.thing("commune", found.code))

    def place(
        self, t: Triples, s: ox.NamedNode, label: str, types: list[str], identifier: str,
        address: dict[str, str | None], commune: ox.NamedNode | None, lat: Any, lon: Any,
    ) -> Place:  # fmt: skip
        """A service place with its name, address, commune and coordinates (as the source writes them)."""
        named(t, s, label, *types)
        t.add(s, "schema:identifier", identifier)
        node = ox.BlankNode()
        t.add(s, "schema:address", node)
        t.a(node, "schema:PostalAddress")
        for prop, value in (address | {"schema:addressCountry": "FR"}).items():
            t.add(node, prop, value)
        t.add(s, "dcterms:spatial", commune)
        if lat is None:
            return Place(s, label, commune and commune.value, None, None)
        coords, geometry = ox.BlankNode(), ox.BlankNode()
        t.add(s, "schema:geo", coords)
        t.a(coords, "schema:GeoCoordinates")
        t.add(coords, "schema:latitude", lat)
        t.add(coords, "schema:longitude", lon)
        t.add(s, "geo:hasGeometry", geometry)
        t.a(geometry, "geo:Geometry")
        t.add(geometry, "geo:asWKT", lit(f"POINT({lon} {lat})", datatype="geo:wktLiteral"))
        return Place(s, label, commune and commune.value, float(lat), float(lon))

    @staticmethod
    def add_contact(t: Triples, s: ox.NamedNode, values: dict[str, str | None]) -> None:
        """A named person's contact point (name, email, telephone), for a private graph."""
        point = ox.BlankNode()
        t.add(s, "schema:contactPoint", point)
        t.a(point, "schema:ContactPoint")
        for key in ("name", "email", "telephone"):
            t.add(point, "schema:" + key, values.get(key))

    def contact_graph(self, name: str, triples: list[ox.Triple], meta: GraphMeta) -> GraphLoad:
        """The private graph of a list's named contacts, always replaced: a contact removed from the source
        leaves the store too."""
        private = GraphMeta(label=f"{meta.label} — contacts nominatifs (privé)", source=meta.source)
        return GraphLoad(self.minter.private_graph(name), list(triples), private)

    def weekly(self, where: str, text: str) -> str:
        """The rules of an OSM opening_hours a week holds; what our model cannot say (public or school
        holidays, months, days of the year) is dropped and reported, the week's hours kept."""
        kept, dropped = weekly_rules(text)
        if dropped:
            self.hours_cut += 1
            self.report.append(
                f"{where} : horaires « {text} » : règle(s) « {' ; '.join(dropped)} » ignorée(s) (jours "
                "fériés, vacances ou mois : seules les heures de la semaine type sont chargées)"
            )
        return kept

    def opening_hours(
        self, t: Triples, s: ox.NamedNode, prop: str, where: str, parse: Callable[[Any], dict], source: Any
    ) -> None:
        """One specification per slot with every day that has it ("09:00-12:00" Monday to Friday is one
        node with five schema:dayOfWeek, not five nodes). Unreadable hours are reported and left out
        whole, rather than guessed."""
        try:
            week: dict[str, list[Slot]] = parse(source)
        except HoursError as e:
            self.report.append(f"{where} : {e} — horaires non chargés")
            return
        days_of: dict[Slot, list[str]] = {}
        for day, slots in week.items():
            for slot in slots:
                days_of.setdefault(slot, []).append(day)
        for (opens, closes), days in sorted(days_of.items()):
            spec = ox.BlankNode()
            t.add(s, prop, spec)
            t.a(spec, "schema:OpeningHoursSpecification")
            for day in days:
                t.add(spec, "schema:dayOfWeek", iri("schema:" + day))
            t.add(spec, "schema:opens", lit(opens, datatype="xsd:time"))
            t.add(spec, "schema:closes", lit(closes, datatype="xsd:time"))


class Builder(PlaceBuilder):
    def __init__(self, mapping: Mapping, minter: Minter, gz: Gazetteer):
        super().__init__(minter, gz)
        self.m = mapping
        self.public, self.private = Triples(), Triples()
        self.places: list[Place] = []
        self.rejected = 0
        self.organisations: set[str] = set()
        self.corrected = 0  # commune codes the coordinates and address contradicted, another column's taken
        self.by_address = 0  # communes no column gave, read from the postal code and locality
        self.trimmed = 0  # street cells that ended with the row's postal code and town

    def resolve(self, value: Any) -> ox.NamedNode | ox.Literal:
        """A mapping value: 'id/…' is relative to the base, a CURIE or http IRI is an IRI, else a literal."""
        if isinstance(value, str):
            if value.startswith("id/"):
                return ox.NamedNode(self.minter.base + value)
            if value.startswith(("http://", "https://")) or (":" in value and expand(value) != value):
                return iri(value)
        return lit(value)

    def value(self, e: Entry, raw: str, line: int, published: list[str]) -> list[ox.NamedNode | ox.Literal]:
        out: list[ox.NamedNode | ox.Literal] = []
        for text in [v.strip() for v in raw.split(e.split)] if e.split else [raw]:
            if not text:
                continue
            if e.values is not None:
                if text not in e.values:
                    self.report.append(f"ligne {line} : {e.column} = « {text} » hors de la liste du mapping")
                    continue
                out.append(self.resolve(e.values[text]))
                continue
            if e.pattern:
                m = re.search(e.pattern, text)
                if not m:
                    self.report.append(f"ligne {line} : {e.column} = « {text} » ne suit pas le motif attendu")
                    continue
                text = (e.format or "{0}").format(m[0], *m.groups())
            try:
                out.append(self.literal(e, text, published))
            except ValueError:
                self.report.append(f"ligne {line} : {e.column} = « {text} » n'est pas un {e.kind} valide")
        return out

    def literal(self, e: Entry, text: str, published: list[str]) -> ox.NamedNode | ox.Literal:
        if e.kind == "iri":
            return self.resolve(text)
        if e.kind == "url":
            return ox.NamedNode(web_address(text, e.handle))
        if e.kind == "date":
            return lit(dt.date.fromisoformat(text))
        if e.kind == "boolean":
            return lit(text.lower() in ("oui", "yes", "true", "1", "vrai"))
        if e.kind == "decimal":
            value = number(text)
            if value is None:
                raise ValueError(text)
            return lit(value)
        if e.kind == "integer":
            return lit(int(text))
        # A text in a language is prose (a comment): it may name a person's e-mail or phone, which are never
        # public; the desk's own are in their columns, and a number of those stays in a comment too. Bare
        # texts are values (the desk's e-mail and phone, a code).
        return lit(scrub(text, published=published) if e.lang else text, e.lang)

    def week(self, row: dict[str, str], where: str) -> dict[str, list[Slot]]:
        week = parse_week(self.weekly(where, row[self.m.week_column])) if self.m.week_column else {}
        return week | {day: s for day, col in self.m.day_columns.items() if (s := parse_day(row[col]))}

    def row(self, line: int, row: dict[str, str], slug: str, former: str) -> None:
        m, t = self.m, self.public
        label = row[m.label]
        problems = [] if label else ["nom manquant"]
        lat = number(row[m.latitude]) if m.latitude else None
        lon = number(row[m.longitude]) if m.longitude else None
        has_coords = lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180
        if (lat is not None or lon is not None) and not has_coords:
            problems.append(f"coordonnées invalides « {row[m.latitude]} ; {row[m.longitude]} »")
        elif not has_coords and "coordinates" in m.required:
            problems.append("coordonnées manquantes")
        coords = (lat, lon) if has_coords else (None, None)
        commune = self.commune_of(f"ligne {line}", row, *coords) if m.commune else None
        if commune is None and "commune" in m.required:
            problems.append("commune non résolue")
        if problems:
            self.rejected += 1
            self.report.append(f"ligne {line} : rejetée ({'; '.join(problems)})")
            return
        s = self.minted("lieu", slug, former)
        postal_code = self.postal_code(row)
        address = {
            "schema:streetAddress": self.street(f"ligne {line}", row, postal_code),
            "schema:postalCode": postal_code,
            "schema:addressLocality": row[m.locality] if m.locality else None,
        }
        self.places.append(self.place(t, s, label, m.types, row[m.id], address, commune, *coords))
        for prop, value in m.constants.items():
            for v in value if isinstance(value, list) else [value]:
                t.add(s, prop, self.resolve(v))
        where = f"ligne {line}"
        self.opening_hours(
            t, s, "schema:openingHoursSpecification", where, lambda r: self.week(r, where), row
        )
        names = " ".join(row[c] for c in (m.label, m.locality, m.organisation.get("column")) if c)
        published: list[str] = []  # the row's public values, read before its prose (entries with a language)
        for e in sorted(m.entries, key=lambda e: e.lang is not None):
            for v in self.value(e, row[e.column], line, published):
                if e.property == "schema:email" and personal_email(v.value, names):
                    self.add_contact(self.private, s, {"email": v.value})  # an agent's own: private only
                    continue
                t.add(s, e.property, v)
                published += [] if e.lang else [v.value]
        contact = {k: row[c] for k, c in m.contact.items() if row.get(c)}
        if contact:  # a named person's: private graph only
            self.add_contact(self.private, s, contact)
        self.organisation(s, row, commune)

    def commune_of(
        self, where: str, row: dict[str, str], lat: Decimal | None, lon: Decimal | None
    ) -> ox.NamedNode | None:
        """The commune of the first commune column, unless it names none (the tiers-lieux' INSEECOM is 0 for
        157 places) or the row's coordinates lie in another département and its address does not agree
        with it either (SICTIAM at Sophia Antipolis given Hérouville-Saint-Clair, Calvados): then a later
        column's, if the row's postal code or locality agrees with it or the row has neither, or (for a
        contradicted code) it lies in the coordinates' département. INSEEMETRO is a geocoder's metropolitan
        commune, Bonifacio for a place in La Réunion. A contradicted code nothing stands in for is
        reported, and the place has no commune."""
        first, *others = self.m.commune
        found = self.gz.current_commune(insee_code(row[first]))
        at = None
        if found and lat is not None and lon is not None and not self.address_agrees(found, row):
            at = departement_at(float(lon), float(lat))
        contradicted = found is not None and at not in (None, found.departement)
        if found is None or contradicted:
            for column in others:
                other = self.gz.current_commune(insee_code(row[column])) if row[column] else None
                if other is not None and (
                    self.address_agrees(other, row) or (contradicted and other.departement == at)
                ):
                    self.corrected += contradicted
                    return self.commune(where, row[column])
                if other is not None:
                    self.report.append(
                        f"{where} : {column} « {row[column]} » ({other.name}) contredit l'adresse"
                    )
            if by_address := self.postal_commune(row):
                self.by_address += 1
                self.report.append(
                    f"{where} : commune lue du code postal et de la localité : {by_address.name}"
                )
                return self.commune(where, by_address.code)
        if contradicted:
            self.report.append(
                f"{where} : {first} « {row[first]} » ({found.name}) contredit les coordonnées et l'adresse "
                "— lieu sans commune"
            )
            return None
        return self.commune(where, row[first])

    def street(self, where: str, row: dict[str, str], postal_code: str | None) -> str:
        """The street columns' cells, less the row's postal code and town where a cell ends with them (« 3 rue
        Hélène Boucher 40220 TARNOS »): they are the address's parts of their own, and a page showing all
        three read « … 40220 TARNOS / 40220 TARNOS ». Only that postal code followed by that town is taken
        off, so a CEDEX box (« CS 70061 ») or another number stays; each cut is reported."""
        town = words(row[self.m.locality]) if self.m.locality and postal_code else []
        ending = re.compile(rf"(.*?)[\s,]*(?<!\d){postal_code}\s+(.+)")
        cells: list[str] = []
        for column in self.m.street:
            cell = row[column]
            end = ending.fullmatch(cell) if town else None
            if end and words(end[2]) == town:
                self.trimmed += 1
                self.report.append(f"{where} : code postal et commune retirés de la rue « {cell} »")
                cell = end[1]
            if cell:
                cells.append(cell)
        return ", ".join(cells)

    def postal_code(self, row: dict[str, str]) -> str | None:
        """Five digits, from the first column that holds them, alone or as the last number of an address
        (a geocoded "… 05100 Briançon"): a "0" is no postal code, and none is better than a wrong one."""
        for column in self.m.postal_code:
            if found := re.findall(r"(?<!\d)\d{5}(?!\d)", row[column]):
                return found[-1]
        return None

    def postal_commune(self, row: dict[str, str]) -> Commune | None:
        """For a row whose commune columns name none or a wrong one: the commune of one of its postal codes
        that its locality names (97418 Le Tampon; CP 97129 Lamentin, GEOCOD 97122 Baie-Mahault: the latter
        for « Baie Mahault Guadeloupe »), else the only commune its postal codes give (97490 for
        « Sainte-Clotilde », a quarter of Saint-Denis)."""
        codes = {c for column in self.m.postal_code for c in re.findall(r"(?<!\d)\d{5}(?!\d)", row[column])}
        communes = {c for code in codes for c in self.gz.by_postal_code.get(code, ())}
        locality = set(words(row[self.m.locality])) if self.m.locality else set()
        named = [c for c in communes if set(words(c.name)) <= locality]
        if named:
            return max(named, key=lambda c: len(words(c.name)))  # « Saint-Paul », not « Paul »
        return communes.pop() if len(communes) == 1 else None

    def address_agrees(self, commune: Commune, row: dict[str, str]) -> bool:
        # the row's own postal code: a geocoded address would agree with the geocoder's commune anyway
        postal = row[self.m.postal_code[0]] if self.m.postal_code else ""
        postal = postal if re.fullmatch(r"\d{5}", postal) else ""  # not "0"
        locality = row[self.m.locality] if self.m.locality else ""
        if not postal and not locality:
            return True
        return postal in commune.postal_codes or set(words(commune.name)) <= set(words(locality))

    def minted(self, kind: str, key: str, former: str) -> ox.NamedNode:
        """The IRI of ``key``; when the former slug differs (« Cœur » was « cur »), it replaces the IRI that
        slug minted, which then answers 301 to it (a group's repeats go at the end)."""
        s = ox.NamedNode(self.minter.thing(kind, key))
        if former != key:
            self.public.add(s, "dcterms:replaces", ox.NamedNode(self.minter.thing(kind, former)))
        return s

    def organisation(self, s: ox.NamedNode, row: dict[str, str], commune: ox.NamedNode | None) -> None:
        """The structure a site belongs to (a France Services group: main site and branches)."""
        spec = self.m.organisation
        if not spec or not row[spec["column"]]:
            return
        label = spec.get("label", "{" + spec["column"] + "}").format_map(row)
        o = self.minted("organisation", slugify(label), former_slugify(label))
        if o.value not in self.organisations:
            self.organisations.add(o.value)
            self.public.a(o, *spec.get("types", ["org:Organization"]))
            self.public.label(o, label)
        self.public.add(o, "org:hasSite", s)
        self.public.add(s, "org:siteOf", o)
        self.public.add(o, "dcterms:spatial", commune)


def slugs(
    mapping: Mapping, rows: list[tuple[int, dict[str, str]]], slug: Callable[[str], str] = slugify
) -> list[str]:
    """Readable slugs from the mapping's template; one used twice in the file gets the row's id, so
    a slug does not depend on row order."""
    base = [slug(mapping.slug.format_map(row)) for _, row in rows]
    seen = Counter(base)
    return [
        b if seen[b] == 1 else f"{b}-{slug(row[mapping.id])}" for b, (_, row) in zip(base, rows, strict=True)
    ]


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def name_similarity(a: str, b: str, commune_name: str = "") -> float:
    """1.0 when the distinctive words of one name are all in the other, else their sequence ratio."""
    drop = GENERIC_WORDS | set(words(commune_name))
    wa = [w for w in words(a) if w not in drop]
    wb = [w for w in words(b) if w not in drop]
    if not wa or not wb:
        return 0.0
    if set(wa) <= set(wb) or set(wb) <= set(wa):
        return 1.0
    return SequenceMatcher(None, *sorted((" ".join(wa), " ".join(wb)))).ratio()  # the same both ways


def link_same_places(
    t: Triples, new: list[Place], store: Store | None, graph: str, gz: Gazetteer, minter: Minter
) -> list[str]:
    """``owl:sameAs`` from new places to the same places of the other lists in ``store``; the report lines.
    At most one partner per place on each side: owl:sameAs is transitive, so linking one tiers-lieu
    to a France Services desk *and* its bus would declare the desk and the bus the same. A place another
    list already links (that list was loaded after this one) is taken: a reload then states no link
    twice nor a second partner, and gives the same graph as the first load."""
    if store is None:
        return []
    linked = store.select(
        f"""SELECT ?a ?b WHERE {{ GRAPH ?g {{ ?a <{OWL}sameAs> ?b }} FILTER(?g != <{graph}>)
              ?a a <{CS}ServicePlace> . ?b a <{CS}ServicePlace> }}"""
    )
    rows = store.select(
        f"""SELECT ?g ?p ?l ?c ?lat ?lon WHERE {{ GRAPH ?g {{
              ?p a <{CS}ServicePlace> ; <{RDFS}label> ?l ; <{DCTERMS}spatial> ?c ;
                 <{SCHEMA}geo> [ <{SCHEMA}latitude> ?lat ; <{SCHEMA}longitude> ?lon ] }}
              FILTER(?g != <{graph}>) }}"""
    )
    by_commune: dict[str, list[Place]] = {}
    for r in rows:
        lat, lon = float(r["lat"].value), float(r["lon"].value)
        by_commune.setdefault(r["c"].value, []).append(Place(r["p"], r["l"].value, r["c"].value, lat, lon))
    prefix = minter.thing("commune", "")
    candidates = []
    for p in new:
        if not p.commune or p.lat is None:
            continue
        commune = gz.communes.get(("commune-actuelle", p.commune.removeprefix(prefix)))
        for q in by_commune.get(p.commune, ()):
            if q.iri == p.iri:
                continue
            metres = distance_m(p.lat, p.lon, q.lat, q.lon)
            if metres > SAME_PLACE_METRES:
                continue
            score = name_similarity(p.label, q.label, commune.name if commune else "")
            if score >= SAME_NAME_SCORE:
                candidates.append((-score, round(metres / 50), len(q.label), p.iri.value, q.iri.value, p, q))
    pairs, taken = [], {r[v].value for r in linked for v in ("a", "b")}
    for *_, p, q in sorted(candidates, key=lambda c: c[:5]):
        if p.iri.value not in taken and q.iri.value not in taken:
            taken |= {p.iri.value, q.iri.value}
            pairs.append((p, q))
            t.add(p.iri, "owl:sameAs", q.iri)
    return [f"même lieu : <{p.iri.value}> « {p.label} » = <{q.iri.value}> « {q.label} »" for p, q in pairs]


def build(path: Path, mapping_path: Path, minter: Minter, store: Store | None = None) -> ImportResult:
    """A CSV and its mapping → the list's public graph, its private graph (if any contact), a report."""
    mapping = read_mapping(mapping_path)
    rows = read_rows(path, mapping)
    if not rows:
        raise SourceError(path, "no data rows")
    gz = load_gazetteer()
    b = Builder(mapping, minter, gz)
    for (line, row), slug, former in zip(
        rows, slugs(mapping, rows), slugs(mapping, rows, former_slugify), strict=True
    ):
        b.row(line, row, slug, former)
    graph = minter.graph(mapping.name)
    links = link_same_places(b.public, b.places, store, graph, gz, minter)
    report = [
        f"{mapping.name} : {len(rows)} lignes, {len(b.places)} lieux chargés, {b.rejected} lignes rejetées, "
        f"{b.former_codes} codes commune résolus par un ancien code ou une commune déléguée, "
        f"{b.corrected} contredits par les coordonnées et l'adresse remplacés par une autre colonne, "
        f"{b.by_address} lus du code postal et de la localité, "
        f"{b.trimmed} rues sans le code postal et la commune qui les terminaient, "
        f"{len(b.organisations)} structures, {len(links)} liens owl:sameAs",
        *links,
        *b.report,
    ]
    loads = [GraphLoad(graph, list(dict.fromkeys(b.public)), mapping.meta)]  # a group repeats its communes
    if mapping.contact or b.private:
        loads.append(b.contact_graph(mapping.name, b.private, mapping.meta))
    return ImportResult(loads, report)
