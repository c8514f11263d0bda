"""Shared machinery of the browsing pages: store access, language, links, property labels, text rendering.

Store reads go through :func:`store_of` so that a deadline-enforcing runner can replace it in one place.
"""

from __future__ import annotations

import contextlib
import re
import threading
import weakref
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from api.deps import templates
from api.i18n import language, translator
from graph.describe import pick
from graph.namespaces import CS, DCTERMS, FOAF, IGEO, ORG, PREFIXES, RDF, RDFS, SCHEMA, SKOS
from graph.store import Store

# Fallback labels and order for the properties the ontology may not (yet) label.
PROPERTY_LABELS: dict[str, tuple[str, str]] = {
    RDF + "type": ("type", "type"),
    RDFS + "label": ("nom", "name"),
    SKOS + "prefLabel": ("libellé", "label"),
    SKOS + "altLabel": ("autre nom", "other name"),
    SKOS + "definition": ("définition", "definition"),
    SKOS + "inScheme": ("vocabulaire", "vocabulary"),
    SKOS + "broader": ("plus général", "broader"),
    SCHEMA + "name": ("nom", "name"),
    SCHEMA + "description": ("description", "description"),
    CS + "objectives": ("objectifs", "objectives"),
    CS + "stakes": ("enjeux", "stakes"),
    CS + "schedule": ("durée et déroulement", "duration and course"),
    CS + "calendar": ("calendrier", "calendar"),
    CS + "budgetText": ("budget", "budget"),
    CS + "website": ("site web", "website"),
    DCTERMS + "type": ("ligne d'activité / genre", "activity line / kind"),
    DCTERMS + "subject": ("thème", "theme"),
    SCHEMA + "audience": ("public", "audience"),
    DCTERMS + "spatial": ("territoire", "territory"),
    SCHEMA + "startDate": ("début", "start"),
    SCHEMA + "endDate": ("fin", "end"),
    SCHEMA + "funding": ("financement", "funding"),
    SCHEMA + "funder": ("financeur", "funder"),
    SCHEMA + "amount": ("montant", "amount"),
    SCHEMA + "value": ("valeur", "value"),
    SCHEMA + "currency": ("devise", "currency"),
    CS + "participant": ("participant", "participant"),
    SCHEMA + "mentions": ("mentionne", "mentions"),
    SCHEMA + "url": ("site web", "website"),
    DCTERMS + "license": ("licence", "licence"),
    DCTERMS + "created": ("créé le", "created"),
    DCTERMS + "isPartOf": ("fait partie de", "part of"),
    IGEO + "codeINSEE": ("code INSEE", "INSEE code"),
    IGEO + "nom": ("nom officiel", "official name"),
    IGEO + "chefLieu": ("chef-lieu", "administrative centre"),
    CS + "population": ("population", "population"),
    SCHEMA + "postalCode": ("code postal", "postal code"),
    CS + "siren": ("SIREN", "SIREN"),
    CS + "ancienCodeINSEE": ("ancien code INSEE", "former INSEE code"),
    CS + "network": ("réseau", "network"),
    CS + "typology": ("typologie", "typology"),
    SCHEMA + "openingHoursSpecification": ("horaires", "opening hours"),
    SCHEMA + "dayOfWeek": ("jour", "day"),
    SCHEMA + "opens": ("ouvre à", "opens"),
    SCHEMA + "closes": ("ferme à", "closes"),
    SCHEMA + "address": ("adresse", "address"),
    SCHEMA + "location": ("lieu", "location"),
    SCHEMA + "organizer": ("organisateur", "organizer"),
    FOAF + "name": ("nom", "name"),
    ORG + "memberOf": ("membre de", "member of"),
}
# Where a property goes on a page when the ontology gives no cs:displayOrder: names, kind, texts, links.
DEFAULT_ORDER = [
    RDFS + "label",
    SKOS + "prefLabel",
    SCHEMA + "name",
    RDF + "type",
    DCTERMS + "type",
    SCHEMA + "startDate",
    SCHEMA + "endDate",
    SCHEMA + "description",
    CS + "objectives",
    CS + "stakes",
    SKOS + "definition",
    DCTERMS + "spatial",
    DCTERMS + "subject",
    SCHEMA + "audience",
    CS + "participant",
    SCHEMA + "funding",
    CS + "budgetText",
    CS + "schedule",
    CS + "calendar",
]
# Long texts: rendered as paragraphs and lists.
LONG_TEXT = {
    SCHEMA + "description",
    CS + "objectives",
    CS + "stakes",
    CS + "schedule",
    CS + "calendar",
    CS + "budgetText",
    SKOS + "definition",
    DCTERMS + "description",
}

_ontology_lock = threading.Lock()
_ontology_cache: weakref.WeakKeyDictionary[Store, tuple[int, dict[str, dict[str, str]], dict[str, float]]] = (
    weakref.WeakKeyDictionary()
)


def store_of(request: Request) -> Store:
    """The deadline-enforcing reader (graph.pool.Reader) once the app started, else the store."""
    return getattr(request.app.state, "reader", None) or request.app.state.store


def number_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    """A positive whole-number query parameter (page, limit…): a 400 that names it when it is not one."""
    given = request.query_params.get(name, "")
    if given == "":
        return default
    if not given.isascii() or not given.isdigit() or int(given) < 1:
        raise HTTPException(400, f"{name}={given[:40]!r} : un nombre entier positif est attendu / expected")
    return min(int(given), maximum) if maximum else int(given)


def base_of(request: Request) -> str:
    return request.app.state.settings.base_iri


def ontology_labels(store: Store) -> tuple[dict[str, dict[str, str]], dict[str, float]]:
    """Property labels (per language) and ``cs:displayOrder`` from the ontology, per store version."""
    with _ontology_lock:
        cached = _ontology_cache.get(store)
        if cached and cached[0] == store.version:
            return cached[1], cached[2]
        labels: dict[str, dict[str, str]] = {}
        order: dict[str, float] = {}
        rows = store.select(
            f"SELECT ?p ?l ?o WHERE {{ {{ ?p a <{RDF}Property> }} UNION {{ ?p a <http://www.w3.org/2002/07/owl#"
            f"ObjectProperty> }} UNION {{ ?p a <http://www.w3.org/2002/07/owl#DatatypeProperty> }} UNION "
            f"{{ ?p <{CS}displayOrder> ?any }} OPTIONAL {{ ?p <{RDFS}label> ?l }} "
            f"OPTIONAL {{ ?p <{CS}displayOrder> ?o }} }}"
        )
        for r in rows:
            p = r["p"].value
            if "l" in r:
                labels.setdefault(p, {})[r["l"].language or ""] = r["l"].value
            if "o" in r:
                with contextlib.suppress(ValueError):
                    order[p] = float(r["o"].value)
        _ontology_cache[store] = (store.version, labels, order)
        return labels, order


def property_label(store: Store, predicate: str, lang: str) -> str:
    labels, _ = ontology_labels(store)
    if predicate in labels:
        return pick(labels[predicate], lang)
    if predicate in PROPERTY_LABELS:
        return PROPERTY_LABELS[predicate][1 if lang == "en" else 0]
    return curie(predicate)


def property_rank(store: Store, predicate: str) -> tuple[float, str]:
    _, order = ontology_labels(store)
    if predicate in order:
        return (order[predicate], predicate)
    if predicate in DEFAULT_ORDER:
        return (DEFAULT_ORDER.index(predicate) + 0.5, predicate)
    return (1000.0, predicate)


def curie(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def local_path(iri: str, base: str) -> str:
    """IRIs under the base become site paths, so browsing works on 127.0.0.1 as in production."""
    if iri.startswith(base):
        return "/" + iri[len(base) :]
    return iri


BULLET = re.compile(r"^\s*(?:[-•→*]|\d+[.)])\s+")


def paragraphs(text: str) -> Markup:
    """Paragraphs from lines, and runs of '- '/'• ' lines as lists; everything escaped."""
    out: list[str] = []
    items: list[str] = []
    para: list[str] = []

    def flush_para() -> None:
        if para:
            out.append("<p>" + "<br>".join(str(escape(x)) for x in para) + "</p>")
            para.clear()

    def flush_items() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(x)}</li>" for x in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if not line.strip():
            flush_para()
            flush_items()
        elif BULLET.match(line):
            flush_para()
            items.append(BULLET.sub("", line, count=1).strip())
        else:
            flush_items()
            para.append(line.strip())
            if len(line) > 80:  # one paragraph per long line: the sources write one paragraph a line
                flush_para()
    flush_para()
    flush_items()
    return Markup("".join(out))


def number(value: float, lang: str, decimals: int = 0) -> str:
    """French: 75 000,5 (narrow no-break space); English: 75,000.5."""
    text = f"{value:,.{decimals}f}"
    return text if lang == "en" else text.replace(",", "\u202f").replace(".", ",")


def money(value: float, currency: str, lang: str) -> str:
    whole = value == int(value)
    amount = number(value, lang, 0 if whole else 2)
    symbol = "€" if currency in ("EUR", "") else currency
    return f"{symbol}{amount}" if lang == "en" else f"{amount}\u00a0{symbol}"


def with_query(request: Request, **changes: Any) -> str:
    """The current URL with some parameters changed (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for k, v in changes.items():
        if v is None:
            continue
        if isinstance(v, list | tuple):
            params += [(k, x) for x in v]
        else:
            params.append((k, v))
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    base = base_of(request)
    ctx = {
        "lang": lang,
        "t": translator(lang),
        "local": lambda iri: local_path(iri, base),
        "paragraphs": paragraphs,
        "num": lambda n: number(n, lang),
        "money": lambda n, currency="EUR": money(n, currency, lang),
        "with_query": lambda **kw: with_query(request, **kw),
        "other_lang": "en" if lang == "fr" else "fr",
        **context,
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response
