"""Lists with facets (``/projets``, ``/territoires``, ``/acteurs``, ``/ressources``, ``/evenements``,
``/lieux``, ``/themes``, ``/publics``) and full-text search (``/recherche``).

Every list URL has ``.json`` and ``.csv`` twins taking the same filters, which the list's own URL also answers
by ``?format=`` or ``Accept`` (api/conneg.py), in pages of ``limit`` rows (at most the ``list_rows`` setting:
the whole list when it fits, else a ``Link: rel=next``). Facet values are short keys
(``?theme=mobilite&departement=73``, a level ``niveau=commune``; a value's IRI reads as its key); values of
one facet are alternatives, facets combine with AND, and a facet's counts apply the other facets' choices only
(what ticking a value gives). A page shows a facet's 40 most frequent values (every région and département,
by name) and folds the others, up to 120; past that (every EPCI of /lieux), they are left out (a département
chosen first scopes them) and ``?valeurs=<facet>`` shows them all. The JSON twin gives every value of each
facet (``facets``) when asked, ``?facets=1``: they would weigh on each of its pages. The places' twins give
each place's coordinates, read from the store (the index has none).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api import cards, conneg
from api.i18n import language, term_name, translator
from api.pages import catalog_of, local_path, number, number_param, render, store_of, with_query
from api.public_http import etag_matches, query_etag
from graph import formats, search, sparql_text
from graph.contributions import LICENSE_NAMES
from graph.named_queries import territory_code
from graph.namespaces import SCHEMA
from graph.store import QueryTimeout, Store, StoreUnavailable

router = APIRouter()
PER_PAGE = 50
SEARCH_FACETS = ["kind", "departement", "theme"]
FACET_VALUES = 40  # the most frequent values a facet shows, the chosen ones too; the others folded
FOLDED = 120  # values of a facet a page holds at most (régions and départements aside), unless ?valeurs=
# Looked for by name, as on a map (Hautes-Alpes was folded, 62nd by count): all, in name order.
BY_NAME = ("region", "departement")
# HTML first: a browser's */* gets the page
OFFERED = (formats.HTML, formats.JSON, formats.CSV, formats.EXCEL)


@dataclass
class ListRow:
    """One row of a list: every key list.html reads, on every row (the pages render under StrictUndefined
    in the tests); :meth:`twin` is the row of the .json and .csv twins."""

    iri: str
    href: str
    label: str
    year: str
    values: dict[str, list[str]]  # each facet's values' names, by facet
    projects: int | None = None  # a theme's or a public's projects
    detail: str = ""  # what tells it from rows with the same label and départements (told_apart)
    located: dict[str, float | None] = field(default_factory=dict)  # a place's latitude and longitude

    @property
    def departement(self) -> list[str]:
        return self.values.get("departement", [])

    def twin(self) -> dict:
        row = {"iri": self.iri, "href": self.href, "label": self.label, "year": self.year, **self.values}
        row |= self.located
        return row if self.projects is None else row | {"projects": self.projects}


@dataclass
class SearchRow:
    """One result of a search, as search.html reads it; its fields are the twins' row."""

    iri: str
    href: str
    label: str
    kind: str
    kind_label: str
    snippet: str  # the page's is marked up (Markup), the twins' plain
    highlights: tuple[tuple[int, int], ...]
    departement: list[str]  # what tells two « Tarentaise » apart, as in the lists

    def twin(self) -> dict:
        return asdict(self)


@dataclass
class Listing:
    """What list.html and search.html get: one page of results with their facets."""

    rows: list[ListRow] | list[SearchRow]
    total: int
    facets: list[dict]
    page: int
    query: str  # this page's (a search's twins give its rows)
    title: str = ""  # a list's
    whole: str = ""  # the query of a list's twins giving the whole list (up to ``cap`` rows)
    cap: int = 0
    path: str = ""
    sort: str = ""
    has_year: bool = False
    q: str = ""  # a search's
    ranked_among: str = ""  # a search's ranking and facet counts cover this many matches, as written
    suggestion: str | None = None  # a search finding nothing: the same with its unknown words corrected,
    suggested: str = ""  # or its other words in the département it names: the query string of either
    wider: str | None = None  # a search finding few: the same without a word, finding many more
    wider_query: str = ""  # its query string (the same kinds and facets)
    wider_count: str = ""  # how many it finds, as the page writes it
    directory: str = ""  # the places of one territory: the query string of their contact sheet
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, (self.total + PER_PAGE - 1) // PER_PAGE)


PARAMETERS = ("page", "limit", "format", "lang", "valeurs")  # every list's and the search's, beside facets


def selected_facets(
    request: Request, fmt: formats.Format, facets: list[str], own: tuple[str, ...]
) -> dict[str, list[str]] | RedirectResponse:
    """The facets' chosen values. A parameter no facet or page reads (a région filter where there was
    none) was ignored and the whole list came back as if filtered: in a twin, a 400 that names it and the
    known ones (a reuser learns of a typo). A page's (« xtor », « ref », « _ga »: added on a link's way from
    a newsletter) moves to the page's address without it, whose own links (twins, pages) then work: a
    redirect returned, not raised (the error handler would draw a whole error page as its body)."""
    known = [*facets, *own, *PARAMETERS]
    if wrong := next((k for k in request.query_params if k not in known), None):
        if fmt is formats.HTML:
            kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k in known])
            # Temporary: a browser keeps a 301 for ever, and a parameter may become a facet one day.
            return RedirectResponse(request.url.path + (f"?{kept}" if kept else ""), 302)
        message = translator(language(request))("param_unknown", param=wrong[:40], known=", ".join(known))
        raise HTTPException(400, message)
    chosen = {name: [v for v in request.query_params.getlist(name) if v] for name in facets}
    return {name: values for name, values in chosen.items() if values}


def known_facets(cat: search.Catalog, chosen: dict[str, list[str]], lang: str) -> None:
    """Values given by their IRI read as their keys (``niveau=`` a level's class); a value no item has is a
    mistyped URL: a 400 that names it, not a list ticked with nothing in it."""
    for values in chosen.values():
        values[:] = [search.key_of(v, cat.base) for v in values]
    if wrong := cat.unknown(chosen):
        raise HTTPException(400, translator(lang)("facet_unknown", facet=wrong[0], value=wrong[1][:60]))


def facet(name: str, lang: str, values: list[tuple[str, str, int]], chosen: list[str], whole: bool) -> dict:
    """One facet of the form: its values as (key, label, count), the chosen ones checked and first (in count
    order, a chosen value was 41st at the bottom of its scrolling box, out of sight on a phone); past the
    FACET_VALUES first, the values not chosen are ``more``, by name (folded on the page), or only ``left``
    out, counted, when there are more than FOLDED and not the ``whole`` facet is asked (every EPCI would
    weigh on each page of /lieux). Régions and départements: all shown, by name (:data:`BY_NAME`)."""
    rows = [{"key": k, "label": lb, "count": n, "checked": k in chosen} for k, lb, n in values]
    first = FACET_VALUES
    if name in BY_NAME:
        rows.sort(key=lambda v: search.folded(v["label"]))
        first = len(rows)
    shown = rows[:first] + [v for v in rows[first:] if v["checked"]]
    shown.sort(key=lambda v: not v["checked"])
    more = [v for v in rows[first:] if not v["checked"]]
    left = 0 if whole or len(rows) <= FOLDED else len(more)
    more = [] if left else sorted(more, key=lambda v: search.folded(v["label"]))
    label = translator(lang)("facet_" + name)
    return {"name": name, "label": label, "values": shown, "more": more, "left": left}


def value_label(cat: search.Catalog, value: str, lang: str) -> str:
    """A facet value's name, on the page and in the twins alike: a licence's short name (as on cards), a
    class's name as the platform names its types everywhere (the type and level facets: « Territoire
    d'usage » beside « Commune », not the ontology's lower-case label), else its label, else the value."""
    if "://" not in value:
        return value
    return LICENSE_NAMES.get(value) or term_name(value, lang) or cat.label(value, lang)


def facet_view(
    cat: search.Catalog,
    kind: str,
    facets: list[str],
    chosen: dict[str, list[str]],
    lang: str,
    whole: list[str],
) -> list[dict]:
    """Counts per facet (what ticking a value gives: the other facets' choices applied), the chosen values
    always shown, every value of the ``whole`` facets. The facets without a choice are counted first: over
    the page's items, already chosen."""
    t = translator(lang)
    views = []
    order = sorted(facets, key=lambda name: name in chosen)
    counted = {name: cat.facet_counts(kind, chosen, name) for name in order}
    for name in facets:
        counts = counted[name]
        if not counts and name not in chosen:
            continue
        shown = {c[0] for c in counts}
        counts += [(k, 0, cat.value_of(kind, name, k)) for k in chosen.get(name, []) if k not in shown]
        values = []
        for key, n, value in counts:
            values.append((key, t("yes") if name == "samedi" else value_label(cat, value, lang), n))
        if name == "annee":
            values.sort(reverse=True)
        views.append(facet(name, lang, values, chosen.get(name, []), name in whole))
    return views


def within_pages(request: Request, page: int, per_page: int, total: int, lang: str) -> None:
    """A page past the last is a dead link: 404, saying how many there are, in the page and its twins alike
    (page 1 of an empty list is an answer, "no results"), and linking the last (``Link: rel=last``, which
    the error page shows: it had no way back to the list); a twin names its next page (``next``, ``Link``)."""
    if page > 1 and (page - 1) * per_page >= total:
        pages = max(1, (total + per_page - 1) // per_page)
        last = {"Link": f'<{with_query(request, page=pages if pages > 1 else None)}>; rel="last"'}
        raise HTTPException(404, translator(lang)("page_past_end", page=page, pages=pages), last)


def told_apart(
    store: Store, cat: search.Catalog, rows: list[ListRow], items: list[search.Item], lang: str
) -> None:
    """Rows of a page with the same label and département get what tells them apart, their street address
    and the territories they name (three « Anticafé — Paris (75) », two agencies in Bas-Rhin): one query
    for those few rows only."""

    def same(r: ListRow) -> tuple:
        return r.label, tuple(r.departement)

    seen = Counter(map(same, rows))
    twins = [(r, it) for r, it in zip(rows, items, strict=True) if seen[same(r)] > 1]
    if not twins:
        return
    iris = sparql_text.values("x", (it.iri for _, it in twins))
    query = f"SELECT ?x ?street WHERE {{ {iris}?x <{SCHEMA}address>/<{SCHEMA}streetAddress> ?street }}"
    try:
        streets = {r["x"].value: r["street"].value for r in store.select(query)}
    except (StoreUnavailable, QueryTimeout):  # the list is the index's: it goes without the streets
        streets = {}
    for r, it in twins:
        places = sorted(cat.label(t, lang) for t in it.direct if t != it.iri)
        r.detail = ", ".join(filter(None, [streets.get(it.iri), *places]))


# The strings naming a twin's columns in a spreadsheet's header: a facet's name, else these.
COLUMNS = {
    "iri": "column_iri",
    "label": "column_label",
    "snippet": "column_snippet",
    "latitude": "column_latitude",
    "longitude": "column_longitude",
}


def twin_etag(request: Request, cat: search.Catalog, fmt: formats.Format) -> str:
    """A twin's ETag as a resource page's (api/resources.py): the version its rows were read at (the
    index's, which may follow the store's by a moment), its format and language, and its query."""
    return query_etag(request, cat.version, fmt.name, language(request))


def export(
    request: Request,
    cat: search.Catalog,
    rows: list[ListRow] | list[SearchRow],
    columns: list[str],
    fmt: formats.Format,
    total: int,
    extra: dict,
) -> Response:
    """One page of ``limit`` rows of a list or search: the next page named in the body and by a ``Link``
    header (the first is the whole list when it fits). A column's several values are joined by " | "."""
    page, limit = extra["page"], extra["limit"]
    following = with_query(request, page=page + 1) if page * limit < total else None
    headers = {"Vary": "Accept", "ETag": twin_etag(request, cat, fmt)}
    headers |= {"Link": f'<{following}>; rel="next"'} if following else {}
    items = [r.twin() for r in rows]
    if fmt is formats.JSON:
        body = {"total": total, **extra, "next": following, "items": items}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json", headers=headers)
    # A French spreadsheet reads a number with a point as text, or a date.
    decimal = formats.french_number if fmt is formats.EXCEL else str

    def cell(value: Any) -> Any:
        return decimal(str(value)) if isinstance(value, float) else formats.joined(value)

    cells = ([r["iri"], r["label"], *(cell(r.get(c, [])) for c in columns)] for r in items)
    header = ["iri", "label", *columns]
    if fmt is formats.EXCEL:  # people read its header (programs the comma CSV's), a spreadsheet opens it
        t = translator(language(request))
        header = [t(COLUMNS.get(c, "facet_" + c)) for c in header]
        name = request.url.path.strip("/").partition(".")[0] or "liste"
        headers["Content-Disposition"] = f'attachment; filename="{formats.file_name(name, fmt)}"'
    body = formats.spreadsheet_csv(header, cells, fmt)
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


def list_page(request: Request, fmt: formats.Format, kind_name: str) -> Response:
    kind = search.LISTS[kind_name]
    lang = language(request)
    facets = [f.name for f in kind.facets]
    chosen = selected_facets(request, fmt, facets, ("tri", "facets"))
    if isinstance(chosen, Response):
        return chosen
    # By year only where the items have one (the page offers it there); another value was ignored, the
    # list coming back in its default order as if sorted.
    year = any(f.year for f in kind.facets)
    sorts = ("nom", "annee") if year else ("nom",)
    if (sort := request.query_params.get("tri") or "nom") not in sorts:
        message = translator(lang)("value_unknown", param="tri", value=sort[:40], known=", ".join(sorts))
        raise HTTPException(400, message)
    page = number_param(request, "page", 1)
    cap = request.app.state.settings.list_rows
    per_page = PER_PAGE if fmt is formats.HTML else number_param(request, "limit", cap, maximum=cap)
    if (asked := request.query_params.get("facets", "0")) not in ("0", "1"):
        raise HTTPException(400, f"facets={asked[:40]!r} : 1 ou 0 attendu / 1 or 0 expected")
    cat = catalog_of(request)  # after the parameters: a bad one never waits for the index
    known_facets(cat, chosen, lang)
    total, items = cat.page(kind_name, chosen, sort, lang, (page - 1) * per_page, per_page)
    concepts = kind_name in ("themes", "publics")
    rows = [
        ListRow(
            it.iri,
            local_path(it.iri, cat.base),
            cat.label(it.iri, lang),
            it.year,
            {name: sorted(value_label(cat, v, lang) for v in it.facets.get(name, ())) for name in facets},
            cat.count("projets", kind_name[:-1], search.key_of(it.iri, cat.base)) if concepts else None,
        )
        for it in items
    ]
    within_pages(request, page, per_page, total, lang)
    if fmt is not formats.HTML:
        extra: dict = {"page": page, "limit": per_page}
        if fmt is formats.JSON and asked == "1":  # every value of each facet
            views = facet_view(cat, kind_name, facets, chosen, lang, facets)
            extra["facets"] = {f["name"]: f["values"] + f["more"] for f in views}
        if kind_name == "lieux":  # a map draws the page's places without asking for each one
            try:
                found = cards.coordinates(store_of(request), [r.iri for r in rows])
            except (StoreUnavailable, QueryTimeout):  # the list is the index's: it goes without them
                found = {}
            for r in rows:
                lon, lat = found.get(r.iri, (None, None))
                r.located = {"latitude": lat, "longitude": lon}
            facets += ["latitude", "longitude"]
        return export(request, cat, rows, facets, fmt, total, extra)
    told_apart(store_of(request), cat, rows, items, lang)
    views = facet_view(cat, kind_name, facets, chosen, lang, request.query_params.getlist("valeurs"))
    title = translator(lang)(kind_name)
    this_page = with_query(request, page=page, limit=PER_PAGE).partition("?")[2]  # the twins' same rows
    whole = with_query(request, page=None, limit=None).partition("?")[2]
    listing = Listing(rows, total, views, page, this_page, title, whole, cap, request.url.path, sort, year)
    if kind_name == "lieux" and len(chosen) == 1:  # one territory's places, those of its contact sheet
        ((level, keys),) = chosen.items()
        if level in ("region", "departement", "epci") and len(keys) == 1:
            code = territory_code(f"{cat.base}id/{level}/{keys[0]}", cat.base)
            listing.directory = urlencode({"territoire": code})
    return render(request, "list.html", listing)


def kind_label(cat: search.Catalog, item: search.Item, t: Callable[..., str]) -> str:
    """A result's kind, in the singular as its page names it: a territory's level (« Commune », « Territoire
    d'usage »: two territories of one name differ by it), else its list's (« Lieu de services »)."""
    territory = cat.territories.get(item.iri) if item.kind == "territoires" else None
    singular = {"acteurs": "organisation", "lieux": "lieu"}.get(item.kind, item.kind[:-1])
    return t("kind_" + (territory.level if territory else singular))


def _query(q: str, kinds: list[str], chosen: dict[str, list[str]]) -> str:
    """The query string of another search with the same kinds and facets."""
    facets = [(name, key) for name, keys in chosen.items() for key in keys]
    return urlencode([("q", q), *(("kind", k) for k in kinds), *facets])


def search_page(request: Request, fmt: formats.Format) -> Response:
    lang = language(request)
    t = translator(lang)
    q = request.query_params.get("q", "").strip()[:200]
    chosen = selected_facets(request, fmt, SEARCH_FACETS, ("q",))
    if isinstance(chosen, Response):
        return chosen
    kinds = chosen.pop("kind", [])
    page = number_param(request, "page", 1)
    most = request.app.state.settings.list_rows
    per_page = PER_PAGE if fmt is formats.HTML else number_param(request, "limit", PER_PAGE, maximum=most)
    if wrong := next((k for k in kinds if k not in search.LISTS), None):
        raise HTTPException(400, t("facet_unknown", facet="kind", value=wrong[:60]))
    cat = catalog_of(request)
    known_facets(cat, chosen, lang)
    total, found, kind_counts, counts = cat.search(q, kinds, chosen, (page - 1) * per_page, per_page, lang)
    within_pages(request, page, per_page, total, lang)
    # The twins give a snippet's text and its highlights' offsets (characters), the page marks them.
    rows = [
        SearchRow(
            it.iri,
            local_path(it.iri, cat.base),
            cat.label(it.iri, lang),
            it.kind,
            kind_label(cat, it, t),
            s.text,
            s.spans,
            sorted(value_label(cat, v, lang) for v in it.facets.get("departement", ())),
        )
        for it, s in found
    ]
    # A search finding nothing: what it may have meant, its unknown words corrected, else fewer words (a
    # search naming a territory finds what is there: the items' context holds its name). A search finding
    # few (none past search.FEW): a wider one, without one word only few of the items the others find say.
    # Both with the same kinds and facets.
    suggestion, wider, wider_found = None, None, 0
    if total == 0:
        suggestion = cat.suggest(q, kinds, chosen)
        if not suggestion and (fewer := cat.fewer_words(q, kinds, chosen, 0)):
            suggestion = fewer[0]
        suggestion = suggestion or None
    elif fewer := cat.fewer_words(q, kinds, chosen, total):
        wider, wider_found = fewer
    suggested = _query(suggestion, kinds, chosen) if suggestion else ""
    wider_query = _query(wider, kinds, chosen) if wider else ""
    if fmt is not formats.HTML:
        # ``complete``: the total is every match (it was a lower bound past 10,000), kept for who reads it
        extra = {"q": q, "page": page, "limit": per_page, "complete": True, "suggestion": suggestion}
        extra["suggestion_url"] = f"/recherche?{suggested}" if suggested else None
        extra["wider_search"] = wider
        extra["wider_search_total"] = wider_found if wider else None
        extra["wider_search_url"] = f"/recherche?{wider_query}" if wider else None
        return export(request, cat, rows, ["kind", "departement", "snippet"], fmt, total, extra)
    for r, (_, s) in zip(rows, found, strict=True):
        r.snippet = s.html()
    whole = request.query_params.getlist("valeurs")
    facets = [facet("kind", lang, [(k, t(k), c) for k, c in kind_counts], kinds, "kind" in whole)]
    facets = facets if kind_counts else []  # nothing found: no empty fieldset to tick
    for name in ("departement", "theme"):
        values = [(search.key_of(v, cat.base), cat.label(v, lang), c) for v, c in counts.get(name, ())]
        if values:
            facets.append(facet(name, lang, values, chosen.get(name, []), name in whole))
    listing = Listing(rows, total, facets, page, request.url.query, q=q, suggestion=suggestion)
    listing.suggested = suggested
    listing.wider, listing.wider_query = wider, wider_query
    listing.wider_count = number(wider_found, lang)
    listing.ranked_among = number(search.RANKED, lang) if total > search.RANKED else ""
    return render(request, "search.html", listing)


def _endpoint(build: Callable[[Request, formats.Format], Response], ext: str | None) -> Callable:
    def endpoint(request: Request) -> Response:
        fmt = conneg.choose(request, OFFERED, ext)
        if fmt is not formats.HTML and "if-none-match" in request.headers:  # a twin asked again
            etag = twin_etag(request, catalog_of(request), fmt)
            if etag_matches(request, etag):
                return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept"})
        return build(request, fmt)

    return endpoint


# Every list and the search: the page and its .json and .csv twins, taking the same filters.
for _path, _build in [("/recherche", search_page)] + [
    (f"/{k}", lambda request, fmt, k=k: list_page(request, fmt, k)) for k in search.LISTS
]:
    for _ext in (None, "json", "csv"):
        _route = _path + (f".{_ext}" if _ext else "")
        router.add_api_route(_route, _endpoint(_build, _ext), methods=["GET"], include_in_schema=False)
