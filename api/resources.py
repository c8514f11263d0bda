"""Dereferencing: ``/id/{kind}/{key}`` is the IRI ``{base}id/{kind}/{key}``, served as HTML, RDF or CSV.

Format by a format name as extension (``.ttl``, ``.jsonld`` or ``.json``, ``.nt``, ``.rdf``, ``.csv``,
``.html``…), else ``?format=``, else ``Accept``; always ``Vary: Accept``. 200 on the IRI itself (no 303):
the page describes the thing and says so. An IRI without public data is a 404 in the asked format, a 410 if
it named a contributed resource that was public and was deleted since.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api import cards, conneg
from api.catalogue import licence_context
from api.contributions import TERRITORY_RANKS, contributions_of, territory_line
from api.i18n import PARIS, data_label, date_text, language, term_name, translator
from api.ontology import property_label, property_rank
from api.pages import WEB_ADDRESS, base_of, local_path, number, number_param, plain, render, store_of
from api.public_http import etag_matches, version_etag
from graph import formats, matching, search
from graph.catalog import meta_entry
from graph.describe import Description, Text, describe, group_by_predicate, incoming, pick
from graph.formats import curie
from graph.namespaces import CS, DCTERMS, PROV, RDF, RDFS, SCHEMA, SKOS, VOID, XSD, slugify

router = APIRouter()

# HTML first: on a tie (a browser's */*) the page wins. A spreadsheet's twin, as the lists have: one row per
# statement (``.csv``, ``?format=excel``).
OFFERED = (formats.HTML, *formats.DESCRIPTION, formats.CSV, formats.EXCEL)
ROW = ["subject", "property", "value"]
PAGE = 20
URI_SAFE = ":/?#[]@!$&'()*+,;=%~"  # what a URI keeps as is; anything else is percent-encoded
INCOMING_HIDDEN_ON_TERRITORIES = {  # the card lists them: its parts, its EPCIs (those straddling it too)
    DCTERMS + "isPartOf",
    SCHEMA + "geoOverlaps",
    DCTERMS + "spatial",
    SCHEMA + "location",
    SCHEMA + "areaServed",
}


@router.get("/id/{kind}/{key}")
def dereference(request: Request, kind: str, key: str) -> Response:
    store, base = store_of(request), base_of(request)
    iri = f"{base}id/{kind}/{key}"
    try:  # a space, « < », « " »… cannot be in an IRI: nothing is there
        ox.NamedNode(iri)
    except ValueError:
        raise HTTPException(404, 'No IRI holds a space, « < », « > », « " », « { » or « } ».') from None
    ext = None
    stem, dot, suffix = key.rpartition(".")
    # Any format name the route knows is an extension (json is JSON-LD here); another one is a 400 that
    # lists them, unless the whole key names something (a key may hold a dot).
    if dot and suffix and (formats.find(OFFERED, suffix) or not describe(store, iri).exists):
        key, ext = stem, suffix
        iri = f"{base}id/{kind}/{key}"
    fmt = conneg.choose(request, OFFERED, ext)
    # One version of the store, one page per format and language: a revalidation costs no query. A place's
    # page (its IRI says so) tells whether it is open at the minute it shows: that minute is in its ETag.
    lang, now = language(request), dt.datetime.now(PARIS)
    clock = f"-{now:%Y%m%d%H%M}" if fmt is formats.HTML and kind == "lieu" else ""
    etag = version_etag(request, store.version, fmt.name, f"{lang if fmt is formats.HTML else ''}{clock}")
    if etag_matches(request, etag):
        return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept, Accept-Language, Cookie"})
    desc = describe(store, iri)
    if not desc.triples and (current := merged_into(request, kind, key, desc)):
        target = local_path(current, base) + (f".{ext}" if ext else "")
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(target + query, 301, headers={"Vary": "Accept"})
    status = 200 if desc.exists else 404
    # A contributed resource deleted after it was public is gone (410), not unknown; so is what an import's
    # source no longer has (loaders.data_inclusion.removed): its twins say since when.
    if not desc.exists and kind == "ressource" and contributions_of(request).withdrawn(key):
        status = 410
    removed = removed_on(desc)
    if removed:
        status = 410
    if fmt is not formats.HTML:
        headers = {
            "ETag": etag,
            "Vary": "Accept",
            # Header values are Latin-1: the IRI goes percent-encoded (RFC 3987 → RFC 3986).
            "Link": f'<{quote(local_path(iri, base), safe=URI_SAFE)}.html>; rel="alternate"; '
            'type="text/html"',
        }
        triples = desc.rdf() if desc.exists else []
        if fmt.rdf:
            body = formats.serialize(triples, fmt)
        else:
            rows = [dict(zip(ROW, (t.subject, t.predicate, t.object), strict=True)) for t in triples]
            body = formats.write_rows(fmt, ROW, rows)
        return Response(body, status, headers=headers, media_type=fmt.media_type)
    if status != 200:
        context = {"iri": iri, "gone": status == 410, "removed": removed and date_text(removed, lang)}
        response = render(request, "not_found.html", context, status_code=status)
    else:
        page = page_context(request, store, desc, lang, now)
        response = render(request, page.card.template if page.card else "resource.html", page)
    response.headers["ETag"] = etag
    return response


def removed_on(desc: Description) -> str | None:
    """When the source it was imported from dropped it: a thing no graph describes but by that date."""
    by = group_by_predicate(desc.triples, desc.iri)
    when = by.get(PROV + "invalidatedAtTime")
    return when[0].value if when and RDF + "type" not in by else None


def unmangled(text: str) -> str | None:
    """``text`` before its UTF-8 bytes were decoded as Windows-1252 or Latin-1 (Ã© for é), or None."""
    for codec in ("cp1252", "latin-1"):
        with contextlib.suppress(UnicodeError):
            if (fixed := text.encode(codec).decode("utf-8")) != text:
                return fixed
    return None


def merged_into(request: Request, kind: str, key: str, desc: Description) -> str | None:
    """Where an IRI describing nothing moved for good, rather than a dead end: to the one resource that
    replaces it (dcterms:replaces: a slug minted before ligatures were spelled out, lieu/…-cur-de-garonne);
    a key minted before slugs were ASCII (territoire/grand-briançonnais) to its slug; a former commune's
    code to the current commune it now names (the name index reads the reference's former codes, as
    reconciliation does); a key whose UTF-8 was read as Latin-1 or Windows-1252 on its way
    (grand-brianÃ§onnais) to the key it was."""
    store, iri, ours = store_of(request), desc.iri.value, f"{base_of(request)}id/"
    replacing = store.select(f"SELECT ?new WHERE {{ ?new <{DCTERMS}replaces> ?old }}", {"old": desc.iri})
    if len(new := {r["new"].value for r in replacing if r["new"].value.startswith(ours)}) == 1:
        return new.pop()
    if desc.exists:  # linked to, and by no resource replacing it
        return None
    if not key.isascii():
        keys = [fixed, slugify(fixed)] if (fixed := unmangled(key)) else [slugify(key)]
        moved = [f"{ours}{kind}/{k}" for k in dict.fromkeys(keys)]
        return next((m for m in moved if store.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(m)})), None)
    if kind != "commune":
        return None
    current = matching.index_of(request.app.state.store).current_commune(key)
    return current.iri if current is not None and current.iri != iri else None


VALUE_KEYS = ("href", "label", "nested", "external", "text", "long")
LONG_TEXT = {SCHEMA + "description", DCTERMS + "description", SKOS + "definition"}
LONG_TEXT |= {CS + p for p in ("objectives", "stakes", "schedule", "calendar", "budgetText")}


def view(**given) -> dict:
    """One value of the property table, every key present (tests render templates under StrictUndefined)."""
    return {**dict.fromkeys(VALUE_KEYS), **given}


def in_language(values: list[ox.Term], lang: str) -> list[ox.Term]:
    """Texts in the page's language when there are some, else in French; untagged values always."""
    tags = {v.language for v in values if isinstance(v, ox.Literal) and v.language}
    keep = next((x for x in (lang, "fr") if x in tags), None)
    if keep is None:
        return values
    return [v for v in values if not (isinstance(v, ox.Literal) and v.language not in (None, keep))]


def table(desc, node: ox.NamedNode | ox.BlankNode, lang: str, base: str) -> list[dict]:
    """The property table of a resource or of one of its blank nodes, in the ontology's display order."""
    grouped = group_by_predicate(desc.triples, node)
    return [
        {
            "iri": p,
            "label": property_label(p, lang),
            "values": [value_view(desc, v, lang, p, base) for v in in_language(values, lang)],
        }
        for p, values in sorted(grouped.items(), key=lambda kv: property_rank(kv[0]))
        if p != RDFS + "label"
    ]


def value_view(desc, obj, lang: str, predicate: str, base: str) -> dict:
    """One value for people: a linked thing by its label (else its name in api/i18n.py: a class, a day),
    dates, times and yes/no in words; a CURIE or a raw literal only when nothing names it."""
    if isinstance(obj, ox.NamedNode):
        label = data_label(pick(desc.labels.get(obj.value), lang, ""), lang) or term_name(obj.value, lang)
        return view(href=local_path(obj.value, base), label=label or curie(obj.value))
    if isinstance(obj, ox.BlankNode):
        return view(nested=table(desc, obj, lang, base))
    text, datatype = obj.value, obj.datatype.value
    if datatype.endswith("#decimal") and predicate == SCHEMA + "value":
        text = number(float(text), lang, 2)
    if text.startswith(("http://", "https://")):
        return view(href=text, label=text, external=True)
    if datatype in DATES:
        text = date_text(text, lang)
    elif datatype == XSD + "time":
        text = text[:5]  # 09:00, as the card's week
    elif datatype == XSD + "boolean":
        text = translator(lang)("yes" if text in ("true", "1") else "no")
    return view(text=Text(text, obj.language), long=predicate in LONG_TEXT or len(text) > 200)


@dataclass
class ResourcePage:
    """What every resource page gets (the model is Datasette's RowContext): the card of its kind on top,
    then the full property table ("Toutes les données"), incoming links and the RDF formats."""

    iri: str
    title: str
    types: list[str]
    props: list[dict]
    incoming: list[dict]
    jsonld: str
    formats: list[tuple[str, str]]
    path: str
    sparql_href: str
    description: str  # for Open Graph
    kind: str = ""  # the card's kind, named in the header ("projet", "lieu", a territory's level…)
    index_building: bool = False
    card: cards.Card | None = None
    # Each graph stating it: what the metadata graph says of it (label, source, license, issued, modified),
    # so that a reuser cites the source, its date and licence; and what templates/_licence.html reads.
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    contributions: str = ""
    licenses: dict[str, str] = field(default_factory=dict)
    correction: str = ""  # the proposal form, filled to tell what is wrong here (correction_href)


def page_context(request: Request, store, desc, lang: str, now: dt.datetime) -> ResourcePage:
    base = store.minter.base
    iri = desc.iri.value
    title = data_label(pick(desc.labels.get(iri), lang, curie(iri)), lang)
    grouped = group_by_predicate(desc.triples, desc.iri)
    # The header names the kind: a concept by its scheme ("Thèmes des services au public"), else the
    # classes by their names in api/i18n.py (as lists and /reconcile name them), else labels, else CURIEs.
    schemes = [pick(desc.labels.get(s.value), lang, "") for s in grouped.get(SKOS + "inScheme", [])]
    names = [term_name(t, lang) or pick(desc.labels.get(t), lang, curie(t)) for t in desc.types()]
    types = list(dict.fromkeys([s for s in schemes if s] or names))  # a type stated in two graphs: once
    kind = cards.kind_of(desc.types())
    # A territory's card is its roll-ups: during the server's first index build its page waits up to
    # FIRST_BUILD_WAIT, then shows without them and says they are coming. Project and place cards only take
    # their map and neighbours from the index: they never wait for it.
    wait = {"territoire": search.FIRST_BUILD_WAIT, "lieu": 0.0, "projet": 0.0}.get(kind)
    cat = search.catalog_within(store, wait) if wait is not None else None
    territory = cat.territories.get(iri) if cat else None
    chosen = request.query_params.get("entrants")
    page = number_param(request, "page", 1) if chosen else 1
    groups = []
    for p, count in sorted(desc.incoming_counts.items(), key=lambda kv: -kv[1]):
        if territory and p in INCOMING_HIDDEN_ON_TERRITORIES:
            continue
        this_page = page if chosen == p else 1
        subjects = incoming(store, iri, p, PAGE, (this_page - 1) * PAGE)
        groups.append(
            {
                "predicate": p,
                "label": property_label(p, lang),
                "count": count,
                "page": this_page,
                "pages": (count + PAGE - 1) // PAGE,
                "items": [
                    {"href": local_path(s, base), "label": pick(lbl, lang, curie(s))} for s, lbl in subjects
                ],
            }
        )
    texts = [
        Text(v.value, v.language)
        for v in grouped.get(SCHEMA + "description", [])
        if isinstance(v, ox.Literal)
    ]
    card: cards.Card | None = None
    about = territory  # the territory the page is about, for its correction link
    if territory:
        card = cards.territory_card(store, cat, territory, lang, number_param(request, "sous_page", 1))
    elif kind == "projet":
        card = cards.project_card(store, desc, lang, cat)
    elif kind == "lieu":
        card = cards.place_card(store, desc, lang, cat, now)
        communes = [v.value for v in grouped.get(DCTERMS + "spatial", []) if isinstance(v, ox.NamedNode)]
        about = cat.territories.get(communes[0]) if cat and communes else None  # its commune, as its card's
    elif kind == "ressource":
        card = cards.resource_card(store, desc, lang, contributions_of(request))
    elif kind == "organisation":
        card = cards.organisation_card(store, desc, lang)
    elif kind == "evenement":
        card = cards.event_card(store, desc, lang)
    return ResourcePage(
        iri=iri,
        title=title,
        types=types,
        props=table(desc, desc.iri, lang, base),
        incoming=groups,
        jsonld=schema_jsonld(store, desc, title, territory, lang),
        formats=[(f.extension, f.media_type) for f in formats.DESCRIPTION],
        path=local_path(iri, base),
        sparql_href="/sparql?query=" + quote(f"DESCRIBE <{iri}>"),
        description=(texts and plain(cards.summary(texts[0], 200, headings=True))) or ", ".join(types),
        kind=territory.level if territory else kind,
        index_building=kind == "territoire" and cat is None,
        card=card,
        sources={
            g.value: _provenance(desc, g)
            for g in group_by_predicate(desc.sources, desc.iri).get(VOID + "inDataset", [])
        },
        correction=correction_href(iri, about),
        **licence_context(request),
    )


def _provenance(desc: Description, graph: ox.NamedNode) -> dict[str, str]:
    """What the metadata graph says of ``graph`` by the names of the catalogue's statistics (its sources'
    labels are French, as there). Its source is kept only if a page may link to it (a file name, a
    ``javascript:`` address, is not)."""
    meta = dict(meta_entry(p, o[0]) for p, o in group_by_predicate(desc.sources, graph).items())
    if not WEB_ADDRESS.match(meta.get("source", "")):
        meta.pop("source", None)
    return meta


def correction_href(iri: str, territory: search.Territory | None) -> str:
    """The proposal form, filled to say what is wrong on a page: the page's address as the link, and the
    territory it is about (a place's commune) as the form writes one, « Tallard [commune 05170] ». The
    territory comes from the index: during its first build the link names none. An informal area has no
    code: its IRI's end is one, as the form's autocomplete writes it (« Queyras [zone queyras] »). The page
    is cached, the same bytes for everybody: nothing in it is the visitor's."""
    query = {"url": iri}
    if territory and territory.level in TERRITORY_RANKS:
        code = territory.code or territory.iri.rsplit("/", 1)[-1]
        query["territoires"] = territory_line(territory.label, territory.level, code)
    return "/ressources/proposer?" + urlencode(query)


SCHEMA_TYPES = {
    "schema:Project": "Project",
    "org:Organization": "Organization",
    "foaf:Person": "Person",
    "schema:Event": "Event",
    "schema:GovernmentOffice": "GovernmentOffice",
    "cs:ServicePlace": "Place",
    "schema:Place": "Place",
    "schema:Report": "Report",
    "schema:WebSite": "WebSite",
    "schema:DigitalDocument": "DigitalDocument",
    "schema:CreativeWork": "CreativeWork",
}
NUMBERS = {XSD + "decimal", XSD + "double", XSD + "float", XSD + "integer"}
DATES = {XSD + "date", XSD + "gYearMonth", XSD + "dateTime"}  # shown for people in the property table
MAX_VALUES = 50  # per property: a page's JSON-LD stays small whatever links to it


def _schema_value(desc, obj: ox.Term, lang: str, depth: int = 0) -> object:
    """One RDF value as schema.org JSON: numbers as numbers, linked things as named nodes, blank nodes
    (address, coordinates, opening hours) as nested objects of their schema.org properties."""
    if isinstance(obj, ox.Literal):
        return float(obj.value) if obj.datatype.value in NUMBERS else obj.value
    if isinstance(obj, ox.BlankNode):
        return _schema_node(desc, obj, lang, depth + 1) if depth < 4 else None
    label = pick(desc.labels.get(obj.value), lang, "")
    if obj.value.startswith(SCHEMA):
        return "https://schema.org/" + obj.value.removeprefix(SCHEMA)  # an enumeration member: Saturday
    if not label:
        return obj.value  # an outside page
    return {"@id": obj.value, "name": label}


def _schema_node(desc, node: ox.NamedNode | ox.BlankNode, lang: str, depth: int = 0) -> dict:
    """The schema.org properties the RDF gives ``node``, with its schema.org type."""
    out: dict = {}
    for p, values in group_by_predicate(desc.triples, node).items():
        if p == RDF + "type":
            kinds = [v.value.removeprefix(SCHEMA) for v in values if v.value.startswith(SCHEMA)]
            if kinds:
                out["@type"] = kinds[0]
        elif p.startswith(SCHEMA) and p != SCHEMA + "description":
            values = in_language(values, lang)[:MAX_VALUES]
            if p == SCHEMA + "url":  # a harvester follows it: a web address only, never « javascript: »
                values = [v for v in values if WEB_ADDRESS.match(v.value)]
            found = [x for x in (_schema_value(desc, v, lang, depth) for v in values) if x is not None]
            if found:
                out[p.removeprefix(SCHEMA)] = found[0] if len(found) == 1 else found
    return out


def schema_jsonld(store, desc, title: str, territory, lang: str) -> str:
    """schema.org for search engines and harvesters: what the RDF says in schema.org terms (a place's
    address, coordinates, telephone and opening hours; a project's dates, URL and funders), the
    territories served as places, the description."""
    # The most specific type, in SCHEMA_TYPES' order: the store's order of a thing's types is not fixed.
    grouped = group_by_predicate(desc.triples, desc.iri)
    declared = {curie(t) for t in desc.types()}
    fallback = "AdministrativeArea" if territory else "Thing"
    kind = next((k for c, k in SCHEMA_TYPES.items() if c in declared), fallback)
    data: dict = {"@context": "https://schema.org", **_schema_node(desc, desc.iri, lang)}
    data.update({"@type": kind, "@id": desc.iri.value, "name": title})
    texts = [v.value for v in grouped.get(SCHEMA + "description", []) if isinstance(v, ox.Literal)]
    if texts:
        data["description"] = texts[0][:1000]
    places = [
        {"@type": "AdministrativeArea", "@id": v.value, "name": pick(desc.labels.get(v.value), lang, "")}
        for v in grouped.get(DCTERMS + "spatial", [])[:MAX_VALUES]
        if isinstance(v, ox.NamedNode)
    ]
    if places:
        data["areaServed"] = places
    websites = [v.value for v in grouped.get(CS + "website", []) if isinstance(v, ox.NamedNode)]
    if websites and "url" not in data:
        data["url"] = websites[0]
    if kind == "Project":
        funders = store.select(
            f"SELECT DISTINCT ?f ?l WHERE {{ ?s <{SCHEMA}funding>/<{SCHEMA}funder> ?f "
            f"OPTIONAL {{ ?f <{RDFS}label> ?l }} }} LIMIT {MAX_VALUES}",
            {"s": desc.iri},
        )
        by_iri = {r["f"].value: r["l"].value if "l" in r else "" for r in funders}
        if by_iri:
            data["funder"] = [{"@type": "Organization", "@id": f, "name": n} for f, n in by_iri.items()]
    # No "</script>" can come out of this: '<' is escaped.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
