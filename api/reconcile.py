"""``/reconcile``: the Reconciliation Service API 0.2 (W3C Entity Reconciliation CG), as OpenRefine speaks
it: the manifest, batches of queries (GET or POST ``queries=``), suggest, preview and data extension.

Candidates come from :mod:`graph.matching`, the platform's one notion of which entity a name means; a
candidate's ``id`` is the entity's IRI. Every URL the manifest gives is built from the configured base
IRI, never from the request's Host header, so a proxy or a forged header cannot redirect clients.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.i18n import LANGS, language, translator
from api.pages import base_of, render
from graph import formats, matching
from graph.matching import TERRITORY_TYPES, TYPE_CLASSES, TYPES, Entity, NameIndex
from graph.terms import expand

router = APIRouter()
SCHEMAS = Path(__file__).parent / "schemas"
MAX_QUERIES = 1000  # per batch: OpenRefine sends 10
MAX_IDS = 1000  # per extension request
MAX_LIMIT = 25  # candidates per query
DEFAULT_LIMIT = 5

# Properties a query may carry: id → its name's key in api/i18n.py.
QUERY_PROPERTIES = {p: "rp_" + p for p in ("code_postal", "code_insee", "siren")} | {
    "departement": "rp_dep_code"
}
# Properties data extension returns (named "rp_" + id in api/i18n.py): id → (the types that have it, the
# Entity attribute holding its value, the spec's value shape: "str", "int", or "id" for entities of the
# type named by the property's id).
EXTENSION_PROPERTIES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "code_insee": (TERRITORY_TYPES, "code", "str"),
    "siren": (("commune", "epci"), "siren", "str"),
    "population": (("commune", "epci", "departement", "region"), "population", "int"),
    "commune": (tuple(t for t in TYPES if t not in TERRITORY_TYPES), "parents", "id"),  # where a thing is
    "epci": (("commune",), "epci", "id"),
    "departement": (tuple(t for t in TYPES if t not in ("departement", "region")), "departements", "id"),
    "region": (tuple(t for t in TYPES if t != "region"), "regions", "id"),
    "projets": (("commune",), "projects", "int"),
    "lieux": (("commune",), "places", "int"),
}
ENTITY_VALUED = tuple(p for p, (_, _, shape) in EXTENSION_PROPERTIES.items() if shape == "id")
# A type is asked by its id or a class's IRI (in full or as a CURIE: igeo:Commune); answers give the id.
TYPE_IDS = {t: t for t in TYPES} | {cls: t for t, classes in TYPE_CLASSES.items() for cls in classes}
ACCEPTED_TYPES = ", ".join(f"{t} ({cls})" for t, cls in TYPES.items())


class BadQuery(ValueError):
    """A request the spec or our types refuse: answered 400 with the reason."""


@cache
def _schema(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def _check(name: str, document: Any) -> None:
    error = jsonschema.exceptions.best_match(_schema(name).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise BadQuery(f"{where or 'the request'}: {error.message}")


def type_id(asked: str) -> str | None:
    """A type by its id, a class or its name in any language, whatever the case and accents ("Commune"):
    people write what the manifest shows them."""
    return TYPE_IDS.get(expand(asked)) or _type_names().get(matching.fold(asked))


@cache
def _type_names() -> dict[str, str]:
    return {matching.fold(n): t for t in TYPES for n in (t, *(type_name(t, lang) for lang in LANGS))}


def unknown_type(asked: str, where: str = "") -> BadQuery:
    return BadQuery(f"{where}unknown type {asked!r}: the types are {ACCEPTED_TYPES}")


def type_name(t: str, lang: str) -> str:
    return translator(lang)("kind_" + t)


def property_name(p: str, lang: str) -> str:
    return translator(lang)("rp_" + p)


def _type(t: str, lang: str) -> dict[str, str]:
    return {"id": t, "name": type_name(t, lang)}


def _entity(index: NameIndex, e: Entity, lang: str) -> dict[str, Any]:
    return {"id": e.iri, "name": e.name, "description": describe(index, e, lang)}


def describe(index: NameIndex, e: Entity, lang: str) -> str:
    """What tells homonyms apart: the type, the communes a thing is in, the département(s) (a
    département's région) and the code."""
    parts = [type_name(e.type, lang)]
    parents = [index.entities[p] for p in e.parents if p in index.entities]
    if e.type not in TERRITORY_TYPES:
        parts += [p.name for p in parents if p.type == "commune"][:3]
    if e.type == "departement":
        parts += [p.name for p in parents if p.type == "region"]
    elif e.type != "region":
        for d in e.departements[:3]:
            dep = index.lookup_code(d, ("departement",))
            parts.append(f"{dep[0].name} ({d})" if dep else d)
    if e.code:
        parts.append(e.code)
    return " · ".join(parts)


# --- manifest ---------------------------------------------------------------------------------------------
def manifest(base: str, lang: str) -> dict[str, Any]:
    root = base.rstrip("/")
    return {
        "versions": ["0.2"],
        "name": "Comm'un Services",
        "identifierSpace": f"{base}id/",
        "schemaSpace": f"{base}reconcile",
        "documentation": f"{base}rapprochement",
        "view": {"url": "{{id}}"},
        "defaultTypes": [_type(t, lang) for t in TYPES],
        # The frame fits the tallest card, a commune's: its name, description and eight facts (~190 px).
        "preview": {"url": f"{base}reconcile/preview?id={{{{id}}}}", "width": 400, "height": 210},
        "suggest": {
            kind: {"service_url": root, "service_path": f"/reconcile/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": root, "service_path": "/reconcile/properties"},
            "property_settings": [],
        },
    }


# --- queries ----------------------------------------------------------------------------------------------
def _values(v: Any) -> list[str]:
    """A property's value(s) as strings: an entity given as {id, name} counts by its id."""
    items = v if isinstance(v, list) else [v]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id", "")
        if isinstance(item, bool):
            continue
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        text = str(item).strip()
        if text:
            out.append(text)
    return out


def _types(key: str, q: dict[str, Any]) -> tuple[str, ...]:
    """The asked types; every type when none is asked (or only blanks, as a client's empty type field). A
    type we do not have is a 400 naming it and its query: an empty result would read as "no such name
    here", and a result batch has no place for a message (the spec leaves errors to HTTP statuses;
    OpenRefine marks the batch's cells as failed)."""
    asked = q.get("type") or []
    names = [n for n in ([asked] if isinstance(asked, str) else asked) if n.strip()]
    for name in names:
        if type_id(name) is None:
            raise unknown_type(name, f"query {key!r}: ")
    return tuple(dict.fromkeys(map(type_id, names))) or tuple(TYPES)


def _check_properties(key: str, q: dict[str, Any]) -> None:
    """A query property we do not have is a 400 naming it, its query and the properties there are, as an
    unknown type is: OpenRefine sends the properties its user chose from the suggest service or the
    manifest, so an unknown one is a mistake, and ignoring it gave candidates the user thought narrowed."""
    for p in q.get("properties", ()):
        if p["pid"] not in QUERY_PROPERTIES:
            known = ", ".join(QUERY_PROPERTIES)
            raise BadQuery(f"query {key!r}: unknown property {p['pid']!r}: the query properties are {known}")


def candidates(index: NameIndex, q: dict[str, Any], types: tuple[str, ...]) -> list[matching.Candidate]:
    """One query → its candidates, best first (codes first: a code names one entity for certain). A limit
    below 1 is read as 1: the spec's schema allows any number."""
    limit = max(1, min(MAX_LIMIT, int(q.get("limit", DEFAULT_LIMIT))))  # a number: the schema says so
    props: dict[str, list[str]] = {}
    for p in q.get("properties", ()):  # each known: _check_properties refused the others
        props.setdefault(p["pid"], []).extend(_values(p["v"]))
    name = q.get("query", "")
    for pid in ("code_insee", "siren"):
        found = {e.iri: e for v in props.get(pid, ()) for e in index.lookup_code(v, types)}
        if found:
            return _coded(index, list(found.values()), name)[:limit]
    if not name.strip():
        return []
    # Several values (or entries) of a property mean any of them: each département is in scope.
    departements = [index.departement_code(v) for v in props.get("departement", ())]
    postal = next(iter(props.get("code_postal", ())), None)
    # A commune's code beside a thing that has none (a place, a project) says where it is: in that commune's
    # département, at its postal code.
    for commune in (c for v in props.get("code_insee", ()) for c in index.lookup_code(v, ("commune",))):
        departements += commune.departements
        postal = postal or next(iter(commune.postal_codes), None)
    found = index.match(
        name,
        types,
        [d for d in departements if d],
        matching.normalize_code(postal, 5) if postal else None,
        limit,
    )
    if None in departements:  # a département we cannot read: nothing is certain
        found = [replace(c, match=False) for c in found]
    return found


def _coded(index: NameIndex, found: list[Entity], name: str) -> list[matching.Candidate]:
    """A code names its entity for certain, unless the name given beside it names other entities of that type
    and not this one (« Gap » with Briançon's code): then one of the two is wrong, and both are candidates,
    each scored by the name's edit similarity, none certain. A name that names no entity (« Briançon
    centre ») contradicts nothing: the code, exact where names are written loosely, decides."""
    out: dict[str, matching.Candidate] = {}
    for e in found:
        named = {c.entity.iri: c for c in index.exact(name, (e.type,))} if name.strip() else {}
        if not named or e.iri in named:
            out.setdefault(e.iri, matching.Candidate(e, matching.EXACT, len(found) == 1, e.name))
            continue
        for x, said in [(e, e.name)] + [(c.entity, c.matched_name) for c in named.values()]:
            out.setdefault(x.iri, matching.Candidate(x, matching.similarity(name, said), False, said))
    return sorted(out.values(), key=lambda c: -c.score)


def result(index: NameIndex, c: matching.Candidate, lang: str) -> dict[str, Any]:
    """A candidate; one found by the name of a former commune it merged says so, as its name is today's
    (« Bauné » gives Loire-Authion): the spec's name is the entity's, which OpenRefine writes in the cell.
    A former commune that bore the current one's name (Annecy, Murat) is no news to one found by that name."""
    found = _entity(index, c.entity, lang)
    if c.matched_name in index.merged.get(c.entity.iri, ()) and c.matched_name != c.entity.name:
        found["description"] += " · " + translator(lang)("reconcile_former", name=c.matched_name)
    return found | {
        "score": c.score,
        "match": c.match,
        "type": [_type(c.entity.type, lang)],
        "features": [{"id": "name", "value": c.score}],
    }


def answer_batch(index: NameIndex, batch: Any, lang: str) -> dict[str, Any]:
    _check("reconciliation-query-batch.json", batch)
    if len(batch) > MAX_QUERIES:
        raise BadQuery(f"at most {MAX_QUERIES} queries per batch")
    types = {key: _types(key, q) for key, q in batch.items()}  # all known before any query is answered
    for key, q in batch.items():
        _check_properties(key, q)
    return {
        key: {"result": [result(index, c, lang) for c in candidates(index, q, types[key])]}
        for key, q in batch.items()
    }


# --- data extension ---------------------------------------------------------------------------------------
def extension_values(index: NameIndex, e: Entity, prop: str) -> list[dict[str, Any]]:
    """One property of one entity, in the spec's value shapes ({str}, {int}, {id, name})."""
    types, attribute, shape = EXTENSION_PROPERTIES[prop]
    value = getattr(e, attribute)
    if e.type not in types or value in (None, ""):
        return []
    if shape != "id":
        return [{shape: value}]
    if prop == "departement":  # INSEE codes
        found = [d for code in value for d in index.lookup_code(code, ("departement",))]
    else:  # the EPCI's IRI, the régions' IRIs, the communes among a thing's parents
        iris = (value,) if isinstance(value, str) else value
        found = [t for i in iris if (t := index.entities.get(i)) is not None and t.type == prop]
    return [{"id": t.iri, "name": t.name} for t in found]


def entity_of(index: NameIndex, iri: str, base: str) -> Entity | None:
    """An id's entity. A former commune's IRI (…/id/commune/74182, Meythet, merged into Annecy) is the
    commune it belongs to today, as the IRI itself redirects there (api/resources.merged_into): OpenRefine
    keeps the ids it was given years ago, and an empty preview or row would read as "nothing known"."""
    if (e := index.entities.get(iri)) is not None:
        return e
    code = iri.removeprefix(f"{base}id/commune/")
    return index.current_commune(code) if code != iri else None


def extend(index: NameIndex, query: Any, lang: str, base: str) -> dict[str, Any]:
    _check("data-extension-query.json", query)
    if len(query["ids"]) > MAX_IDS:
        raise BadQuery(f"at most {MAX_IDS} ids per request")
    props = list(dict.fromkeys(p["id"] for p in query["properties"]))
    # A property we do not have is a 400, as an unknown type is: its column of empty cells read as "no data".
    if unknown := [p for p in props if p not in EXTENSION_PROPERTIES]:
        known = ", ".join(EXTENSION_PROPERTIES)
        raise BadQuery(f"unknown property {unknown[0]!r}: the extension properties are {known}")
    meta = []
    for p in props:
        item: dict[str, Any] = {"id": p, "name": property_name(p, lang)}
        if p in ENTITY_VALUED:
            item["type"] = _type(p, lang)
        meta.append(item)
    rows = {}
    for iri in query["ids"]:
        e = entity_of(index, iri, base)
        rows[iri] = {p: extension_values(index, e, p) if e else [] for p in props}
    return {"meta": meta, "rows": rows}


# --- routes -----------------------------------------------------------------------------------------------
def name_index(request: Request) -> NameIndex:
    """Read from the store (public graphs only), cached per store version."""
    return matching.index_of(request.app.state.store)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _json_param(raw: str, field: str) -> Any:
    try:
        return json.loads(raw, parse_constant=_refuse_constant)  # NaN, Infinity: Python's, not JSON's
    except ValueError as e:
        raise BadQuery(f"{field}: not JSON ({e})") from None


def _json_only(request: Request) -> None:
    """A route's dependency: JSON negotiated before anything else, as on every route (api/conneg.py): an
    ``Accept`` without it is a 406. OpenRefine sends ``*/*`` or no ``Accept``."""
    conneg.choose(request, (formats.JSON,))


JSON_ONLY, HTML_ONLY = [Depends(_json_only)], [Depends(conneg.page)]


def _json(content: Any, status: int = 200) -> JSONResponse:
    """Every answer depends on ``Accept`` (a 406 without JSON), and says so to caches."""
    return JSONResponse(content, status, {"Vary": "Accept"})


def _bad(e: BadQuery) -> JSONResponse:
    return _json({"error": "bad request", "message": str(e)}, 400)


def _dispatch(request: Request, queries: str | None, extension: str | None) -> Response:
    lang = language(request)
    try:
        if queries is not None:
            return _json(answer_batch(name_index(request), _json_param(queries, "queries"), lang))
        if extension is not None:
            extension_query = _json_param(extension, "extend")
            return _json(extend(name_index(request), extension_query, lang, base_of(request)))
    except BadQuery as e:
        return _bad(e)
    return _json(manifest(base_of(request), lang))


@router.get("/reconcile", dependencies=JSON_ONLY)
def reconcile_get(request: Request, queries: str | None = None, extend: str | None = None) -> Response:
    """The manifest; with ``queries=`` a batch of queries, with ``extend=`` a data extension."""
    return _dispatch(request, queries, extend)


@router.post("/reconcile", dependencies=JSON_ONLY)
async def reconcile_post(request: Request) -> Response:
    """OpenRefine posts ``queries=`` (or ``extend=``) as a form field."""
    form = await request.form()
    fields = [v if isinstance(v := form.get(k), str) else None for k in ("queries", "extend")]
    if fields == [None, None]:
        return _bad(BadQuery("a form field 'queries' or 'extend' (JSON) is required"))
    return await run_in_threadpool(_dispatch, request, *fields)


@router.get("/reconcile/suggest/entity", dependencies=JSON_ONLY)
def suggest_entity(request: Request, prefix: str = "", type: str | None = None, cursor: int = 0) -> Response:
    lang = language(request)
    t = None if type is None else type_id(type)
    if type is not None and t is None:
        return _bad(unknown_type(type))
    index = name_index(request)
    cursor = max(0, cursor)
    found = index.suggest(prefix[:200], (t,) if t else None, limit=cursor + 10)[cursor:]
    return _json({"result": [_entity(index, e, lang) | {"notable": [_type(e.type, lang)]} for e in found]})


def _starts(prefix: str, *names: str) -> bool:
    key = matching.fold(prefix)
    return any(matching.fold(n).startswith(key) or f" {key}" in f" {matching.fold(n)}" for n in names)


@router.get("/reconcile/suggest/type", dependencies=JSON_ONLY)
def suggest_type(request: Request, prefix: str = "") -> Response:
    lang = language(request)
    found = [t for t in TYPES if _starts(prefix, t, *(type_name(t, other) for other in LANGS))]
    return _json({"result": [_type(t, lang) for t in found]})


@router.get("/reconcile/suggest/property", dependencies=JSON_ONLY)
def suggest_property(request: Request, prefix: str = "") -> Response:
    lang = language(request)
    names = {p: property_name(p, lang) for p in EXTENSION_PROPERTIES}
    names |= {p: translator(lang)(key) for p, key in QUERY_PROPERTIES.items()}
    return _json({"result": [{"id": p, "name": n} for p, n in names.items() if _starts(prefix, p, n)]})


@router.get("/reconcile/properties", dependencies=JSON_ONLY)
def propose_properties(request: Request, type: str | None = None, limit: int = 20) -> Response:
    t = None if type is None else type_id(type)
    if type is not None and t is None:
        return _bad(unknown_type(type))
    lang, limit = language(request), max(1, min(limit, 100))
    found = [
        {"id": p, "name": property_name(p, lang)}
        for p, (types, _, _) in EXTENSION_PROPERTIES.items()
        if t in (None, *types)
    ]
    answer = {"properties": found[:limit], "type": t, "limit": limit}
    return _json({k: v for k, v in answer.items() if v is not None})


@router.get("/reconcile/preview", response_class=HTMLResponse, dependencies=HTML_ONLY)
def preview(request: Request, id: str = "") -> Response:
    """A small card for OpenRefine's preview frame; every value escaped by the template."""
    index = name_index(request)
    e = entity_of(index, id, base_of(request))
    if e is None:
        return _json({"error": "not found", "message": "unknown id"}, 404)
    lang = language(request)
    facts = [
        (property_name(p, lang), values)
        for p in EXTENSION_PROPERTIES
        if (values := extension_values(index, e, p))
    ]
    context = {"entity": e, "description": describe(index, e, lang), "facts": facts}
    return render(request, "reconcile_preview.html", context)
