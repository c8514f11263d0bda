"""Named queries: one ``.rq`` file in ``queries/`` = one documented API operation.

A file opens with ``#+`` comment lines holding YAML (grlc's decorators: summary, description, tags,
params), then the SPARQL. Texts are French; ``summary_en`` and ``description_en`` (of the query and of a
parameter) give them in English, for the English pages (:func:`in_language`). Parameters are turned into
RDF terms here and given to the store as bindings, so a value can only ever be a value: it never becomes
query text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from itertools import takewhile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from graph.matching import TYPE_CLASSES, NameIndex, normalize_code
from graph.namespaces import CS, XSD, Minter
from graph.settings import QUERIES_DIR
from graph.sparql_text import query_form
from graph.store import Bindings, Store

INTEGER_LIMIT = 10**17
TERRITORY_LEVELS = ("region", "departement", "epci", "commune")
# Each level's codes: their width (a code given without its leading zeros, as spreadsheets keep them, is
# padded to it: 5 is 05, 5023 is 05023) and their shape, after their level or alone (then 9 digits are an
# EPCI's SIREN, 4 or 5 characters a commune's code, fewer a département's, or the parameter's level's).
CODES = {"region": (2, "[0-9]{1,2}"), "departement": (2, "[0-9]{1,3}|2[AB]"), "epci": (9, "[0-9]{1,9}")}
CODES["commune"] = (5, "[0-9]{4,5}|2[AB][0-9]{3}")
ALONE = f"[0-9]{{9}}|{CODES['departement'][1]}|{CODES['commune'][1]}"
# An informal area (Grand Briançonnais) has no code: its slug, as in its IRI ({base}id/territoire/<slug>).
LEVEL_CODE = "|".join(f"{k}/(?:{s})" for k, (_, s) in CODES.items()) + "|territoire/[a-z0-9][a-z0-9-]*"
TERRITORY_CODE = re.compile(f"^(?:{LEVEL_CODE}|{ALONE})$")
# The site's things are named by their IRI ({base}id/<kind>/<key>) or their short form: a territory by its
# code, another thing by its key where the parameter says its kind (a project's slug). One rule, term().
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
# A text value holds no control character (tabs and line breaks are text): the OpenAPI document says so
# (``pattern``), term() and every query string (api.public_http.readable_query) hold to it.
CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
TEXT = {"type": "string", "pattern": f"^[^{CONTROL}]*$"}
CONTROL_CHAR = re.compile(f"[{CONTROL}]")
# The types a parameter may declare, with the JSON Schema of the values ``term`` accepts (for OpenAPI).
TYPES: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "uri"},
    "string": TEXT,
    "integer": {"type": "integer", "minimum": -INTEGER_LIMIT, "maximum": INTEGER_LIMIT},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "langString": TEXT,
    "territory": {"type": "string", "pattern": TERRITORY_CODE.pattern},
}
# The header of a file made for a French spreadsheet (formats.EXCEL), which people read: one label per
# variable name across the queries, so that one idea keeps one term. JSON, CSV and TSV keep the variable
# names, which programs rely on; a variable missing here keeps its name in the spreadsheet too.
COLUMNS = {
    "adresse": "Adresse",
    "annee": "Année",
    "axe": "Axe",
    "axeNom": "Nom de l'axe",
    "classe": "Classe",
    "code": "Code",
    "codeINSEE": "Code INSEE",
    "codePostal": "Code postal",
    "commune": "Commune",
    "communes": "Nombre de communes",
    "communeNom": "Nom de la commune",
    "courriel": "Courriel",
    "date": "Date",
    "debut": "Début",
    "departement": "Département",
    "devise": "Devise",
    "droits": "Droits",
    "epci": "EPCI",
    "epciNom": "Nom de l'EPCI",
    "evenement": "Événement",
    "ferme": "Heure de fermeture",
    "fin": "Fin",
    "financement": "Financement",
    "financements": "Nombre de financements",
    "financeur": "Financeur",
    "financeurNom": "Nom du financeur",
    "fondement": "Fondement des dates",
    "graphe": "Graphe",
    "latitude": "Latitude",
    "libelle": "Libellé",
    "licence": "Licence",
    "lieu": "Lieu",
    "lieuNom": "Nom du lieu",
    "lieux": "Nombre de lieux",
    "longitude": "Longitude",
    "lundi": "Lundi",
    "mardi": "Mardi",
    "mercredi": "Mercredi",
    "jeudi": "Jeudi",
    "vendredi": "Vendredi",
    "samedi": "Samedi",
    "dimanche": "Dimanche",
    "membre": "Commune membre",
    "modifie": "Date de modification",
    "montant": "Montant",
    "montantsConnus": "Nombre de montants connus",
    "niveau": "Niveau",
    "nom": "Nom",
    "nom1": "Nom de l'organisation 1",
    "nom2": "Nom de l'organisation 2",
    "organisation1": "Organisation 1",
    "organisation2": "Organisation 2",
    "ouvre": "Heure d'ouverture",
    "parent": "Territoire parent",
    "population": "Population",
    "projet": "Projet",
    "projetNom": "Nom du projet",
    "projets": "Nombre de projets",
    "proprieteWikidata": "Propriété Wikidata",
    "publics": "Publics",
    "rendezVous": "Rendez-vous",
    "requeteWikidata": "Requête Wikidata",
    "reseau": "Réseau",
    "reseauIri": "Réseau (IRI)",
    "ressource": "Ressource",
    "role": "Rôle",
    "siren": "SIREN",
    "site": "Site web",
    "source": "Source",
    "statut": "Statut",
    "suite": "Suite",
    "suiteDate": "Date de la suite",
    "suiteDateTexte": "Date de la suite (texte)",
    "suiteNom": "Nom de la suite",
    "telephone": "Téléphone",
    "territoire": "Territoire",
    "theme": "Thème",
    "themeNom": "Nom du thème",
    "themes": "Thèmes",
    "triplets": "Nombre de triplets",
    "type": "Type",
    "valeur": "Montant",
    "valeurWikidata": "Valeur Wikidata",
    "via": "Territoire du projet",
    "zone": "Territoire d'usage",
}
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRAILING_PAGING = re.compile(r"\b(LIMIT|OFFSET)\s+\d+\s*$", re.IGNORECASE)


class QueryFileError(Exception):
    """A named query file is malformed: the message names the file (and line)."""

    def __init__(self, path: Path, message: str, line: int | None = None):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class ParameterError(ValueError):
    """A request gave a parameter value that does not fit its declared type: answered with a 400."""


class Unknown(LookupError):
    """A territory code of the right shape that no territory has, nor had, or a project or organisation
    (a parameter's ``kind``) the site has not: answered with a 404 (an empty answer would say "none")."""


class Uncomposed(LookupError):
    """An informal area that states no composition (no ``cs:covers``: massif alpin, espace alpin) given to a
    query answering with what lies in a territory's units (``composed``): answered with a 422, where an
    empty answer would say "none there" when it is "not known"."""


@dataclass
class Param:
    name: str
    type: str = "string"
    description: str = ""
    description_en: str = ""
    required: bool = False
    default: str | None = None
    enum: list[str] | None = None
    example: str | None = None
    lang: str = "fr"  # for langString
    level: str | None = None  # for territory: force the level when the code alone is ambiguous
    kind: str | None = None  # for iri: the kind of the site's things it names, then given by their key too
    composed: bool = False  # for territory: the answer lies in its units, so an area stating none is refused


@dataclass
class NamedQuery:
    name: str
    path: Path
    summary: str
    description: str
    sparql: str
    tags: list[str] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # projected, in the query's order
    summary_en: str = ""
    description_en: str = ""

    def example_values(self) -> dict[str, str]:
        return {p.name: p.example for p in self.params if p.example is not None}


def parse(path: Path) -> NamedQuery:
    """One file → a NamedQuery; QueryFileError (with the file and line) for anything unusable."""
    name = path.stem
    if not NAME.match(name):
        raise QueryFileError(path, "file name must be lower-case letters, digits, '-' or '_'")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise QueryFileError(path, f"cannot read: {e}") from e
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))  # blank lines may lead
    header = [line[2:].removeprefix(" ") for line in takewhile(lambda x: x.startswith("#+"), lines[start:])]
    body_start = start + len(header)
    if not header:
        raise QueryFileError(path, "no '#+' decorator header (summary, description, tags, params)", 1)
    try:
        meta = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise QueryFileError(path, f"decorator header is not valid YAML: {e}", line) from e
    if not isinstance(meta, dict):
        raise QueryFileError(path, "decorator header must be 'key: value' lines", 1)
    unknown = set(meta) - {"summary", "summary_en", "description", "description_en", "tags", "params"}
    if unknown:
        raise QueryFileError(path, f"unknown decorator(s): {', '.join(sorted(unknown))}", 1)
    if not isinstance(meta.get("summary"), str) or not meta["summary"].strip():
        raise QueryFileError(path, "'#+ summary:' is required", 1)
    sparql = "\n".join(lines[body_start:]).strip() + "\n"
    if _TRAILING_PAGING.search(sparql):
        raise QueryFileError(path, "no final LIMIT/OFFSET: the API pages with ?limit= and ?offset=")
    try:
        result = ox.Store().query(sparql)
    except SyntaxError as e:
        raise QueryFileError(path, f"invalid SPARQL: {e}", body_start + 1) from e
    if not isinstance(result, ox.QuerySolutions):
        form = query_form(sparql)
        raise QueryFileError(path, f"only a SELECT query can be a named query (found {form})", body_start + 1)
    tags = meta.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise QueryFileError(path, "'tags' must be a list of words", 1)
    params = [_param(path, p, sparql) for p in (meta.get("params") or [])]
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise QueryFileError(path, "a parameter is declared twice", 1)
    return NamedQuery(
        name=name,
        path=path,
        summary=meta["summary"].strip(),
        description=str(meta.get("description") or "").strip(),
        sparql=sparql,
        tags=tags,
        params=params,
        variables=[v.value for v in result.variables],
        summary_en=str(meta.get("summary_en") or "").strip(),
        description_en=str(meta.get("description_en") or "").strip(),
    )


def _param(path: Path, spec: object, sparql: str) -> Param:
    if not isinstance(spec, dict) or "name" not in spec:
        raise QueryFileError(path, f"each parameter needs at least 'name' (got {spec!r})", 1)
    known = {f.name for f in fields(Param)}
    if set(spec) - known:
        raise QueryFileError(path, f"parameter {spec['name']}: unknown key(s) {sorted(set(spec) - known)}", 1)
    name = str(spec["name"])
    if not _PARAM_NAME.match(name) or name in ("limit", "offset", "format"):
        raise QueryFileError(path, f"parameter name {name!r} is not allowed", 1)
    if not re.search(r"[?$]" + re.escape(name) + r"\b", sparql):
        raise QueryFileError(path, f"parameter {name}: the query has no variable ?{name}", 1)
    kind = str(spec.get("type", "string"))
    if kind not in TYPES:
        raise QueryFileError(path, f"parameter {name}: type {kind!r} is not one of {', '.join(TYPES)}", 1)
    p = Param(
        name=name,
        type=kind,
        description=str(spec.get("description") or "").strip(),
        description_en=str(spec.get("description_en") or "").strip(),
        required=bool(spec.get("required", False)),
        enum=[str(v) for v in spec["enum"]] if spec.get("enum") else None,
        lang=str(spec.get("lang", "fr")),
        level=spec.get("level"),
        kind=spec.get("kind"),
        composed=bool(spec.get("composed", False)),
        **{k: str(spec[k]) for k in ("default", "example") if spec.get(k) is not None},
    )
    if p.level is not None and p.level not in TERRITORY_LEVELS:
        raise QueryFileError(path, f"parameter {name}: level must be one of {TERRITORY_LEVELS}", 1)
    if p.composed and p.type != "territory":
        raise QueryFileError(path, f"parameter {name}: composed is a territory parameter's", 1)
    if p.kind is not None and (p.type != "iri" or p.kind not in TYPE_CLASSES):
        raise QueryFileError(
            path, f"parameter {name}: kind is an iri parameter's, one of {', '.join(TYPE_CLASSES)}", 1
        )
    minter = Minter("https://example.org/")
    checks = [("default", p.default), ("example", p.example), *(("enum", v) for v in p.enum or [])]
    for label, value in checks:
        if value is not None:
            try:
                term(p, value, minter)
            except ParameterError as e:
                raise QueryFileError(path, f"parameter {name}: {label} {value!r}: {e}", 1) from e
    if p.enum and p.default is not None and p.default not in p.enum:
        raise QueryFileError(path, f"parameter {name}: default {p.default!r} is not among the enum values", 1)
    if p.example is None and p.default is None and p.required:
        raise QueryFileError(path, f"parameter {name}: a required parameter needs an 'example'", 1)
    return p


def value_schema(p: Param, minter: Minter) -> dict[str, Any]:
    """The JSON Schema of the values :func:`term` accepts (for OpenAPI): its type's, and the site's IRIs."""
    if p.type == "territory":
        site = re.escape(minter.base + "id/")
        return {"type": "string", "pattern": f"^(?:(?:{site})?(?:{LEVEL_CODE})|{ALONE})$"}
    if p.kind:
        return {"anyOf": [TYPES["iri"], {"type": "string", "pattern": KEY.pattern}]}
    return dict(TYPES[p.type])


def term(p: Param, value: str, minter: Minter, names: NameIndex | None = None) -> ox.NamedNode | ox.Literal:
    """A request value → an RDF term of the parameter's type (ParameterError when it does not fit); with
    ``names``, a territory's code must be one's, today or formerly, and a project or organisation one of
    the site's."""
    if p.enum and value not in p.enum:
        raise ParameterError(f"{p.name}: {value!r} is not one of {', '.join(p.enum)}")
    if CONTROL_CHAR.search(value):
        raise ParameterError(f"{p.name}: {value!r} holds a control character")
    try:
        if p.type == "iri":
            if p.kind and KEY.match(value):
                value = minter.thing(p.kind, value)
            if not IRI.match(value):
                raise ValueError(f"not an absolute IRI{f' nor a {p.kind} key' if p.kind else ''}")
            if p.kind and names is not None and getattr(names.entities.get(value), "type", None) != p.kind:
                raise Unknown(f"no {p.kind} has the IRI {value}")
            return ox.NamedNode(value)
        if p.type == "integer":
            if not re.match(r"^[+-]?\d{1,18}$", value) or abs(int(value)) > INTEGER_LIMIT:
                raise ValueError(f"not an integer between -{INTEGER_LIMIT} and {INTEGER_LIMIT}")
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
        if p.type == "decimal":
            # A French decimal comma (1000,5) as the site's pages and spreadsheets write numbers.
            point = value.replace(",", ".") if value.count(",") == 1 and "." not in value else value
            try:
                number = Decimal(point)
            except InvalidOperation:  # its text is Python's internals ([<class 'decimal.ConversionSyntax'>])
                raise ValueError(
                    "un nombre décimal est attendu, par ex. 1500 ou 12,5 / not a decimal number, e.g. 1500 "
                    "or 12.5"
                ) from None
            if not number.is_finite():
                raise ValueError("not a finite number")
            return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))
        if p.type == "date":
            return ox.Literal(dt.date.fromisoformat(value).isoformat(), datatype=ox.NamedNode(XSD + "date"))
        if p.type == "langString":
            return ox.Literal(value, language=p.lang)
        if p.type == "territory":
            return territory_iri(value, minter, p.level, names)
        return ox.Literal(value)
    except (ValueError, InvalidOperation) as e:
        raise ParameterError(f"{p.name}: {value!r} is not a valid {p.type} ({e})") from e
    except Unknown as e:
        raise Unknown(f"{p.name}: {value!r}: {e}") from None


def territory_iri(
    code: str, minter: Minter, level: str | None = None, names: NameIndex | None = None
) -> ox.NamedNode:
    """'73' or '5' (05) → a département, '73054' → a commune, 9 digits → an EPCI (SIREN), 'region/84' or
    its IRI ({base}id/region/84) → a région, 'territoire/bauges' or its IRI → an informal area. With
    ``names``, a code no territory has is Unknown (an empty answer would say "none there"), unless
    it is a former one: a merged or delegated commune's, a Paris arrondissement's, which names today's
    commune, as for the reconciliation."""
    code = code.strip().removeprefix(minter.base + "id/")
    if not TERRITORY_CODE.match(code):
        raise ValueError(
            _named(code, minter, names)
            + "type its code, not its name: an INSEE code or SIREN (05, 2A, 73054, 200023414), a level and "
            "its code: region/84, departement/73, commune/73054, epci/200023414, an informal area: "
            f"territoire/grand-brianconnais, or the IRI: {minter.thing('departement', '73')}"
        )
    kind, _, given = code.rpartition("/")
    if kind == "territoire":
        iri = minter.thing(kind, given)
        if names is None or iri in names.entities:
            return ox.NamedNode(iri)
        raise Unknown(f"no informal area is named {given}")
    if not kind:
        kind = "epci" if len(given) == 9 else "commune" if len(given) > 3 else level or "departement"
    bare = normalize_code(given, CODES[kind][0])
    iri = minter.thing(kind, bare)
    if names is None or iri in names.entities:
        return ox.NamedNode(iri)
    found = names.lookup_code(bare, (kind,))
    if len(found) != 1:
        raise Unknown(
            f"no {kind} has or had the code {bare}" + (_postal(bare, names) if kind == "commune" else "")
        )
    return ox.NamedNode(found[0].iri)


TERRITORY_TYPES = ("commune", "epci", "departement", "region", "zone")


def territory_code(iri: str, base: str) -> str:
    """The shortest value :func:`territory_iri` reads back to this territory: a code where it alone says
    the level, else the level and key (region/84 would read as a département, an informal area has none)."""
    kind, _, key = iri.removeprefix(base + "id/").rpartition("/")
    return key if kind in ("commune", "departement", "epci") else f"{kind}/{key}"


def _named(name: str, minter: Minter, names: NameIndex | None) -> str:
    """What a territory's name given for its code (« Briançon ») stands for: the code to type instead, or
    the codes of the few territories of that name."""
    found = names.exact(name, TERRITORY_TYPES) if names is not None and name.strip() else []
    if not found or len(found) > 5:
        return ""
    coded = [
        f"{territory_code(c.entity.iri, minter.base)} ({c.entity.label or c.entity.name}, {c.entity.type})"
        for c in found
    ]
    if len(found) == 1:
        return f"its code is {coded[0]}; "
    return f"{len(found)} territories have this name: {', '.join(coded)}; "


def _postal(code: str, names: NameIndex) -> str:
    """What a postal code given for a commune's code (« 05000 ») stands for: the communes it serves, with
    the INSEE codes to type instead (the ten most populous: a code may serve dozens)."""
    served = names.served_by(code)
    if not served:
        return ""
    listed = ", ".join(f"{e.name} ({e.code})" for e in served[:10])
    more = f" and {len(served) - 10} more" if len(served) > 10 else ""
    return f"; {code} is a postal code, that of {listed}{more}: give the commune's INSEE code"


def bindings(
    q: NamedQuery, values: dict[str, str], minter: Minter, names: NameIndex | None = None
) -> Bindings:
    """Request values (with defaults) → store bindings; unknown names are rejected, not ignored."""
    unknown = set(values) - {p.name for p in q.params}
    if unknown:
        raise ParameterError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    out: Bindings = {}
    for p in q.params:
        value = values.get(p.name) or p.default  # an empty value counts as absent
        if value is None:
            if p.required:
                raise ParameterError(f"{p.name}: required")
            continue
        out[p.name] = term(p, value, minter, names)
    return out


def current_bindings(q: NamedQuery, values: dict[str, str], store: Store) -> Bindings | None:
    """The bindings, when each territory, project or organisation given is one the public data state
    under that IRI today (an ASK each): the common case is answered without the name index, whose first
    read takes a while after the server starts. None for any other value, which the index tells: a former
    code (today's commune), one nobody has (a 404), a name given for a code (the 400 says its code)."""
    try:
        bound = bindings(q, values, store.minter)
    except ParameterError:
        return None
    for p in q.params:
        if (p.type == "territory" or p.kind) and p.name in bound:
            types = (p.kind,) if p.kind else TERRITORY_TYPES
            classes = " ".join(f"<{c}>" for t in types for c in TYPE_CLASSES[t])
            if not store.ask(
                f"ASK {{ VALUES ?class {{ {classes} }} ?thing a ?class }}", {"thing": bound[p.name]}
            ):
                return None
    return bound


COVERS_ANY = f"ASK {{ ?area <{CS}covers> ?unit }}"


def check_composed(q: NamedQuery, bound: Bindings, store: Store) -> None:
    """Uncomposed when a ``composed`` territory parameter names an informal area covering no official unit:
    no place, no desk is located in such an area, its communes are not known."""
    areas = store.minter.thing("territoire", "")
    for p in q.params:
        area = bound.get(p.name)
        if not (p.composed and isinstance(area, ox.NamedNode) and area.value.startswith(areas)):
            continue
        if not store.ask(COVERS_ANY, {"area": area}):
            slug = area.value.removeprefix(areas)
            raise Uncomposed(
                f"{p.name}: the informal area {slug} states no composition (no cs:covers): what lies in "
                "it is not known, not none; ask by its départements, EPCI or communes"
            )


def in_language(q: NamedQuery, lang: str) -> NamedQuery:
    """``q`` with its texts in ``lang``: the English ones where the header gives them, else the French."""
    if lang != "en":
        return q
    params = [replace(p, description=p.description_en or p.description) for p in q.params]
    summary, description = q.summary_en or q.summary, q.description_en or q.description
    return replace(q, summary=summary, description=description, params=params)


def load_all(directory: Path = QUERIES_DIR) -> dict[str, NamedQuery]:
    """Every ``*.rq`` of the folder, validated: called at start-up so a bad file stops the server."""
    return {q.name: q for q in map(parse, sorted(directory.glob("*.rq")))}
