"""Our service places as data·inclusion *structures*, and what they offer (``cs:offeredAt``, or through
their networks' ``cs:networkService``) as *services*.

Records are checked with the ``data-inclusion-schema`` package: a refused record is listed, never written.
Ids are stable: an imported place keeps its ``source`` and ``id``; ours get :data:`SOURCE` and an ``id``
from the IRI, which ``communs import data-inclusion`` turns back into it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import pydantic
import pydantic_core
from data_inclusion.schema import v1

from graph.formats import spreadsheet_csv
from graph.namespaces import CS, DAYS, DCTERMS, RDFS, SCHEMA, Minter
from graph.store import Store
from loaders import data_inclusion_vocabularies as vocab

SOURCE = "communs-services"
IMPORT_GRAPH_PREFIX = "data-inclusion/"  # {base}graph/data-inclusion/<source>: one graph per source
# A service's lists: (field, reference list, property), and its free texts: field → property.
SERVICE_LISTS = (
    ("thematiques", "thematiques", DCTERMS + "subject"),
    ("publics", "publics", SCHEMA + "audience"),
    ("modes_accueil", "modes-accueil", CS + "receptionMode"),
    ("modes_mobilisation", "modes-mobilisation", CS + "mobilisationMode"),
    ("mobilisable_par", "personnes-mobilisatrices", CS + "mobilisableBy"),
)
SERVICE_TEXTS = {
    "frais_precisions": CS + "feesDetails",
    "publics_precisions": CS + "audienceDetails",
    "conditions_acces": CS + "accessConditions",
    "mobilisation_precisions": CS + "mobilisationDetails",
}
LIST_FIELDS = {"reseaux_porteurs", "zone_eligibilite", *(name for name, _, _ in SERVICE_LISTS)}
OSM_DAYS = tuple(day[:2] for day in DAYS)  # Mo, Tu… as OpenStreetMap writes them
FILES = ("structures.json", "services.json", "structures.csv", "services.csv")
# The package's refusals (pydantic's, in English) as a French agent reads them, by error type; {…} is the
# error's context. A date refused by the package's own rule (« au 21e siècle ») is already in French.
REFUSALS = {
    "string_type": "texte attendu",
    "string_too_short": "trop court, {min_length} caractères au moins",
    "string_too_long": "trop long, {max_length} caractères au plus",
    "string_pattern_mismatch": "ne suit pas le format attendu ({pattern})",
    "too_short": "{min_length} valeur au moins",
    "set_type": "liste de valeurs attendue",
    "list_type": "liste de valeurs attendue",
    "date_type": "date valide attendue, au format AAAA-MM-JJ",
    "date_parsing": "date valide attendue, au format AAAA-MM-JJ",
    "date_from_datetime_parsing": "date valide attendue, au format AAAA-MM-JJ",
    "date_from_datetime_inexact": "date valide attendue, au format AAAA-MM-JJ",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "greater_than_equal": "{ge:g} au moins",
    "url_type": "adresse web attendue, commençant par https://",
    "url_parsing": "adresse web attendue, commençant par https://",
    "url_scheme": "adresse web attendue, commençant par https:// ou http://",
}
# What a field's format is, said rather than its regular expression (a field not here shows the latter),
# or than why the first of the alternatives it accepts refused the value.
FORMATS = {
    "siret": "14 chiffres attendus",
    "code_postal": "5 chiffres attendus",
    "code_insee": "5 chiffres attendus, ou 2A/2B et 3 chiffres pour la Corse",
    "zone_eligibilite": "code de territoire attendu : de commune (5 chiffres, ou 2A/2B et 3 chiffres), "
    "de département (2 ou 3 chiffres, ou 2A/2B), d'EPCI (9 chiffres), de pays (99100 pour la France) "
    "ou « france »",
}


def check(model: type[pydantic.BaseModel], record: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """(errors, warnings, dropped) as the package sees the record. A value it refuses in an optional field
    (a malformed e-mail or URL, an unknown value in a list) is taken out of the record and listed in
    ``dropped``: one bad detail in a source's list does not cost the record; any other refusal is an
    error. Warnings are its ``avertissement`` errors, raised only when asked for."""
    found = _errors(model, record)
    refused: dict[tuple[str, int | None], str] = {}  # (field, index in its list) → message
    for err in found:
        name = str(err["loc"][0]) if err["loc"] else ""
        optional = (f := model.model_fields.get(name)) is not None and not f.is_required()
        if optional and err["type"] != "avertissement":
            index = err["loc"][1] if len(err["loc"]) > 1 and isinstance(err["loc"][1], int) else None
            refused.setdefault((name, index), _message(model, err))
    for name in {name for name, _ in refused}:
        bad = {index for n, index in refused if n == name}
        kept = None if None in bad else [v for i, v in enumerate(record[name]) if i not in bad]
        record[name] = kept or None
    if refused:
        found = _errors(model, record)
    errors = [_message(model, e) for e in found if e["type"] != "avertissement"]
    return errors, [_message(model, e) for e in found if e["type"] == "avertissement"], list(refused.values())


def _errors(model: type[pydantic.BaseModel], record: dict[str, Any]) -> list[pydantic_core.ErrorDetails]:
    try:
        model.model_validate(record, context={"ignore_warnings": False})
    except pydantic.ValidationError as e:
        return e.errors()
    return []


def _message(model: type[pydantic.BaseModel], err: pydantic_core.ErrorDetails) -> str:
    """The field and the value refused, as an agent finds it in the file: a list's position is not said
    (the package counts from 0), the value is quoted; for a value outside a reference list, where that
    list is rather than its seventy values."""
    where = str(err["loc"][0]) if err["loc"] else "enregistrement"
    value = err["input"]
    quoted = f" « {value} »" if isinstance(value, str | int | float) else ""
    if err["type"] == "missing":
        return f"{where} : champ obligatoire absent"
    # A union refuses a value once per alternative, each error's loc ending with the alternative's name.
    if where in FORMATS and (err["type"] == "string_pattern_mismatch" or len(err["loc"]) > 2):
        return f"{where}{quoted} : {FORMATS[where]}"
    if err["type"] in ("enum", "literal_error"):
        f = model.model_fields.get(where)
        ref = next((r for r in vocab.LISTS if f and r.enum in _types(f.annotation)), None)
        page = ref and f"{vocab.REPOSITORY}/blob/v{vocab.package_version()}/schemas/v1/extra/{ref.name}.json"
        hint = f"voir la liste : {page}" if page else f"attendu : {err.get('ctx', {}).get('expected')}"
        return f"{where} : valeur inconnue{quoted} ; {hint}"
    ctx = err.get("ctx", {})
    if err["type"] == "value_error":  # the package's own rule, in French; or pydantic's e-mail check
        text = "adresse e-mail invalide" if "reason" in ctx else str(ctx.get("error", err["msg"]))
    else:
        text = REFUSALS[err["type"]].format(**ctx) if err["type"] in REFUSALS else err["msg"]
    return f"{where}{quoted} : {text}"


def _types(annotation: Any) -> set[Any]:
    """A field's type and those it is made of (``set[Thematique] | None`` → Thematique among them)."""
    return {annotation, *(t for arg in get_args(annotation) for t in _types(arg))}


def osm_hours(week: dict[str, list[tuple[str, str]]]) -> str | None:
    """schema.org slots per day → OSM ``opening_hours``: one rule per distinct set of slots, its days as
    runs ("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00", "Tu,Th 14:00-18:00")."""
    runs: dict[str, list[list[int]]] = {}  # slots text → runs of consecutive days, in week order
    for i, day in enumerate(DAYS):
        slots = sorted(week.get(day, []))
        if not slots:
            continue
        text = ",".join(f"{_hhmm(o)}-{_hhmm(c)}" for o, c in slots)
        days = runs.setdefault(text, [])
        if days and days[-1][-1] == i - 1:
            days[-1].append(i)
        else:
            days.append([i])
    if not runs:
        return None
    return "; ".join(
        ",".join(OSM_DAYS[r[0]] if len(r) == 1 else f"{OSM_DAYS[r[0]]}-{OSM_DAYS[r[-1]]}" for r in days)
        + " "
        + text
        for text, days in runs.items()
    )


def _hhmm(xsd_time: str) -> str:
    return "24:00" if xsd_time.startswith("23:59") else xsd_time[:5]


# A structure's fields that are their property's first value, as they are.
PLACE_AS_IS = {
    "siret": CS + "siret",
    "telephone": SCHEMA + "telephone",
    "courriel": SCHEMA + "email",
    "site_web": SCHEMA + "url",
    "accessibilite_lieu": CS + "accessibilityPage",
}
# What structures and services both say, then each its own.
RECORD_PROPERTIES = {
    "label": RDFS + "label",
    "description": SCHEMA + "description",
    "identifier": SCHEMA + "identifier",
    "modified": DCTERMS + "modified",
    "source": DCTERMS + "source",
}
PLACE_PROPERTIES = {
    **RECORD_PROPERTIES,
    "network": CS + "network",
    "commune": DCTERMS + "spatial",
    **PLACE_AS_IS,
}
ADDRESS_PROPERTIES = {
    "adresse": SCHEMA + "streetAddress",
    "complement_adresse": CS + "addressComplement",
    "code_postal": SCHEMA + "postalCode",
    "commune": SCHEMA + "addressLocality",
}
SERVICE_PROPERTIES = {
    **RECORD_PROPERTIES,
    "type": DCTERMS + "type",
    "free": SCHEMA + "isAccessibleForFree",
    "area": SCHEMA + "areaServed",
    "url": SCHEMA + "url",
    "telephone": SCHEMA + "telephone",
    "email": SCHEMA + "email",
    **SERVICE_TEXTS,
    **{name: prop for name, _, prop in SERVICE_LISTS},
}


def _values(
    store: Store, subjects: str, props: dict[str, str], node: str = "?s"
) -> dict[str, dict[str, list[str]]]:
    """subject IRI → field → values (sorted), for the subjects matched by the ``subjects`` pattern; the
    values are those of ``node`` (a node of the pattern, the subject's address for instance)."""
    names = {iri: name for name, iri in props.items()}
    in_list = ", ".join(f"<{p}>" for p in props.values())
    rows = store.select(
        f"SELECT DISTINCT ?s ?p ?o WHERE {{ {subjects} {node} ?p ?o FILTER(?p IN ({in_list})) }}"
    )
    out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        out[r["s"].value][names[r["p"].value]].append(r["o"].value)
    for fields in out.values():
        for values in fields.values():
            values.sort()
    return out


def _hours(store: Store, subjects: str, prop: str) -> dict[str, dict[str, list[tuple[str, str]]]]:
    rows = store.select(
        f"""SELECT DISTINCT ?s ?d ?o ?c WHERE {{ {subjects} ?s <{prop}> ?h .
              ?h <{SCHEMA}dayOfWeek> ?d ; <{SCHEMA}opens> ?o ; <{SCHEMA}closes> ?c }}"""
    )
    out: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        out[r["s"].value][r["d"].value.removeprefix(SCHEMA)].append((r["o"].value, r["c"].value))
    return out


def _graph_of(store: Store, pattern: str) -> dict[str, str]:
    """subject → the graph it comes from (the first by name, when several say it)."""
    query = f"SELECT ?s (MIN(STR(?g)) AS ?graph) WHERE {{ GRAPH ?g {{ {pattern} }} }} GROUP BY ?s"
    return {r["s"].value: r["graph"].value for r in store.select(query)}


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    return next(iter(fields.get(name, ())), None)


@dataclass
class Export:
    structures: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the package's avertissements
    dropped: list[str] = field(default_factory=list)  # optional values the schema refused, left out
    errors: list[str] = field(default_factory=list)
    package: str = ""


def key_of(minter: Minter, iri: str, kind: str = "lieu") -> str:
    """The part of an IRI its data·inclusion id carries: 'id/lieu/x' → 'x', 'id/k/x' → 'k/x'."""
    return iri.removeprefix(minter.base + "id/").removeprefix(kind + "/")


def export(store: Store, today: dt.date | None = None) -> Export:
    """Every public service place and its services, as records checked by the package. A record the
    package refuses is left out and listed in ``errors`` (with its services): nothing invalid is
    published, and one bad contributed place does not hold back the files."""
    minter = store.minter
    today = today or dt.date.today()
    result = Export(package=vocab.package_version())
    place_pattern = f"?s a <{CS}ServicePlace> ."
    places = _values(store, place_pattern, PLACE_PROPERTIES)
    address = _values(store, f"{place_pattern} ?s <{SCHEMA}address> ?a .", ADDRESS_PROPERTIES, "?a")
    coords = {
        r["s"].value: (float(r["lat"].value), float(r["lon"].value))
        for r in store.select(
            f"""SELECT ?s (SAMPLE(?la) AS ?lat) (SAMPLE(?lo) AS ?lon) WHERE {{ {place_pattern}
                  ?s <{SCHEMA}geo> ?g . ?g <{SCHEMA}latitude> ?la ; <{SCHEMA}longitude> ?lo }} GROUP BY ?s"""
        )
    }
    hours = _hours(store, place_pattern, SCHEMA + "openingHoursSpecification")
    graph_of = _graph_of(store, place_pattern)
    # A record's date is its own, else its source's publication date (dcterms:issued, from the mapping),
    # else (a source that states none) the day its graph was written.
    dated = {
        r["g"].value: r["d"].value[:10]
        for r in store.select(
            f"SELECT ?g (MAX(COALESCE(?i, ?m)) AS ?d) WHERE {{ GRAPH <{store.meta_graph}> "
            f"{{ ?g <{DCTERMS}modified> ?m OPTIONAL {{ ?g <{DCTERMS}issued> ?i }} }} }} GROUP BY ?g"
        )
    }
    commune_prefix = minter.thing("commune", "")
    # The commune of code_insee by its name in the territorial reference, not the source's text (BRIANCON).
    commune_names = {
        r["c"].value.removeprefix(commune_prefix): r["n"].value
        for r in store.select(
            f"""SELECT ?c (MIN(?l) AS ?n) WHERE {{ {place_pattern} ?s <{DCTERMS}spatial> ?c .
                  ?c <{RDFS}label> ?l FILTER(STRSTARTS(STR(?c), "{commune_prefix}")) }} GROUP BY ?c"""
        )
    }
    structure_ids: dict[str, dict[str, Any]] = {}
    for iri in sorted(places):
        f = places[iri]
        graph = graph_of.get(iri, "")
        source, local_id = _identity(minter, graph, f.get("identifier", []), iri)
        a = address.get(iri, {})
        communes = [
            c.removeprefix(commune_prefix) for c in f.get("commune", []) if c.startswith(commune_prefix)
        ]
        lat_lon = coords.get(iri)
        date_maj = _first(f, "modified") or dated.get(graph) or today.isoformat()
        record = {
            "source": source,
            "id": local_id,
            "nom": _name(_first(f, "label") or local_id),
            "date_maj": min(date_maj[:10], today.isoformat()),
            "description": d if (d := _first(f, "description")) and len(d.strip()) >= 5 else None,
            "lien_source": _first(f, "source") or iri,
            **{name: _first(f, name) for name in PLACE_AS_IS},
            **{name: _first(a, name) for name in ADDRESS_PROPERTIES},
            "code_postal": _postal_code(_first(a, "code_postal")),
            "commune": communes and commune_names.get(communes[0]) or _first(a, "commune"),
            "code_insee": communes[0] if communes else None,
            "longitude": lat_lon[1] if lat_lon else None,
            "latitude": lat_lon[0] if lat_lon else None,
            "horaires_accueil": osm_hours(hours.get(iri, {})),
            "reseaux_porteurs": _many(minter, "reseaux-porteurs", f.get("network", [])),
        }
        if _keep_valid(v1.Structure, record, result):
            result.structures.append(record)
            structure_ids[iri] = record
    _services(store, structure_ids, result)
    result.structures.sort(key=lambda r: r["id"])
    result.services.sort(key=lambda r: r["id"])
    return result


def _identity(
    minter: Minter, graph: str, identifiers: list[str], iri: str, kind: str = "lieu"
) -> tuple[str, str]:
    """(source, id): a data·inclusion source's own, for what was imported from it (its graph says which),
    else ours from the IRI. A place of a national list also has that list's identifier: the source's is
    the one prefixed with the source's name."""
    source = graph.removeprefix(minter.graph(IMPORT_GRAPH_PREFIX))
    if source != graph and source != SOURCE and identifiers:
        return source, next((i for i in identifiers if i.startswith(source + "--")), identifiers[0])
    return SOURCE, f"{SOURCE}--{key_of(minter, iri, kind)}"


def _name(text: str) -> str:
    """The schema wants 3 to 150 characters: a longer name is cut at a word, a shorter one padded by
    nothing we could invent, so it stays and the record is reported."""
    text = " ".join(text.split())
    if len(text) > 150:
        text = text[:150].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return text


def _postal_code(text: str | None) -> str | None:
    """Spreadsheets drop the leading zero of 01000…09999: '6400' is 06400."""
    return text.zfill(5) if text and text.isdigit() and len(text) == 4 else text


def _keep_valid(model: type[pydantic.BaseModel], record: dict[str, Any], result: Export) -> bool:
    """A record the package refuses is left out, listed in ``errors``; an optional value it refuses (a
    malformed e-mail or URL in a source list), in ``dropped``."""
    errors, warnings, dropped = check(model, record)
    result.dropped.extend(f"{record['id']} : {d} — valeur omise" for d in dropped)
    result.errors.extend(f"{record['id']} : {e}" for e in errors)
    result.warnings.extend(f"{record['id']} : {w}" for w in warnings)
    return not errors


def _services(store: Store, structures: dict[str, dict[str, Any]], result: Export) -> None:
    minter = store.minter
    offered = store.select(
        f"""SELECT DISTINCT ?s ?place WHERE {{ ?s a <{SCHEMA}Service> ; <{CS}offeredAt> ?place .
              ?place a <{CS}ServicePlace> }}"""
    )
    by_network = store.select(
        f"""SELECT DISTINCT ?s ?place WHERE {{ ?n <{CS}networkService> ?s . ?s a <{SCHEMA}Service> .
              ?place a <{CS}ServicePlace> ; <{CS}network> ?n }}"""
    )
    pattern = f"{{ ?s <{CS}offeredAt> ?x }} UNION {{ ?x <{CS}networkService> ?s }}"
    fields = _values(store, pattern, SERVICE_PROPERTIES)
    hours = _hours(store, f"?s a <{SCHEMA}Service> .", SCHEMA + "hoursAvailable")
    service_graph = _graph_of(store, f"?s <{CS}offeredAt> ?x")
    seen: set[str] = set()
    pairs = [(r["s"].value, r["place"].value, True) for r in offered]
    pairs += [(r["s"].value, r["place"].value, False) for r in by_network]
    for service, place, own in sorted(pairs):
        structure = structures.get(place)
        if structure is None:
            continue
        f = fields.get(service, {})
        graph = service_graph.get(service, "")
        if own:
            source, local_id = _identity(minter, graph, f.get("identifier", []), service, "service")
        else:  # one record per place and network service
            service_key = service.removeprefix(minter.thing("service", ""))
            source, local_id = SOURCE, f"{SOURCE}--{key_of(minter, place)}--{service_key}"
        if local_id in seen:
            continue
        seen.add(local_id)
        free = _first(f, "free")
        record = {
            "source": source,
            "structure_id": structure["id"],
            "id": local_id,
            "nom": _name(_first(f, "label") or local_id),
            "description": _first(f, "description") or _name(_first(f, "label") or local_id),
            "lien_source": _first(f, "source") if own else None,
            "date_maj": (_first(f, "modified") or structure["date_maj"])[:10],
            "type": _one(minter, "types-de-services", f.get("type", [])),
            "frais": None if free is None else ("gratuit" if free == "true" else "payant"),
            **{name: _first(f, name) for name in SERVICE_TEXTS},
            **{name: _many(minter, list_name, f.get(name, [])) for name, list_name, _ in SERVICE_LISTS},
            **{k: structure[k] for k in (*ADDRESS_PROPERTIES, "code_insee", "longitude", "latitude")},
            "telephone": _first(f, "telephone") if own else structure["telephone"],
            "courriel": _first(f, "email") if own else structure["courriel"],
            "zone_eligibilite": _zone(minter, f.get("area", [])),
            "contact_nom_prenom": None,  # a named person stays in the private graph
            "lien_mobilisation": _first(f, "url"),
            "volume_horaire_hebdomadaire": None,
            "nombre_semaines": None,
            "horaires_accueil": osm_hours(hours.get(service, {})) if own else structure["horaires_accueil"],
        }
        if _keep_valid(v1.Service, record, result):
            result.services.append(record)


def _many(minter: Minter, list_name: str, iris: list[str]) -> list[str] | None:
    values = sorted({v for i in iris for v in vocab.to_theirs(minter, list_name, i)})
    return values or None


def _one(minter: Minter, list_name: str, iris: list[str]) -> str | None:
    values = _many(minter, list_name, iris)
    return values[0] if values else None


def _zone(minter: Minter, areas: list[str]) -> list[str] | None:
    """Territory IRIs back to COG codes (commune, département, EPCI); literals ('france', a country
    code) as they are."""
    codes = [a.rsplit("/", 1)[1] if a.startswith(minter.base + "id/") else a for a in areas]
    return sorted(codes) or None


def write(result: Export, folder: Path) -> list[str]:
    """structures/services as JSON (the full model, nulls included, as data·inclusion publishes) and CSV
    (lists joined by ','); returns the file names written."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, model, records in (
        ("structures", v1.Structure, result.structures),
        ("services", v1.Service, result.services),
    ):
        fields = list(model.model_fields)
        rows = [{k: r.get(k) for k in fields} for r in records]
        (folder / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        cells = ([",".join(v) if isinstance(v, list) else v for v in r.values()] for r in rows)
        (folder / f"{name}.csv").write_text(spreadsheet_csv(fields, cells), encoding="utf-8", newline="")
    return list(FILES)


def summary(result: Export) -> dict[str, Any]:
    """What the downloads page and manifest say about the exchange files."""
    return {
        "package": f"data-inclusion-schema {result.package}",
        "structures": len(result.structures),
        "services": len(result.services),
        "warnings": len(result.warnings),
        "dropped": len(result.dropped),
        "refused": len(result.errors),
    }
