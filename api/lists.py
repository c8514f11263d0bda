"""Lists with facets (``/projets``, ``/territoires``, ``/acteurs``, ``/ressources``, ``/evenements``,
``/lieux``, ``/themes``, ``/publics``) and full-text search (``/recherche``).

Every list URL has ``.json`` and ``.csv`` twins taking the same filters. Facet values are short keys
(``?theme=mobilite&departement=73``); values of one facet are alternatives, facets combine with AND.
"""

from __future__ import annotations

import csv
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.i18n import language, translator
from api.pages import local_path, number_param, render, store_of
from graph import search

router = APIRouter()
PER_PAGE = 50


def selected_facets(request: Request, facets: list[str]) -> dict[str, list[str]]:
    chosen = {}
    for name in facets:
        values = [v for v in request.query_params.getlist(name) if v]
        if values:
            chosen[name] = values
    return chosen


def facet_view(
    cat: search.Catalog,
    kind: str,
    facets: list[str],
    chosen: dict[str, list[str]],
    lang: str,
    limit: int = 40,
) -> list[dict]:
    """Counts per facet over the matching items, the chosen values always shown."""
    views = []
    for name in facets:
        counts = cat.facet_counts(kind, chosen, name, limit + 1)
        if not counts and name not in chosen:
            continue
        shown = counts[:limit]
        shown += [
            (k, 0, cat.value_of(kind, name, k))
            for k in chosen.get(name, [])
            if k not in {c[0] for c in shown}
        ]
        values = []
        for key, n, value in shown:
            label = cat.label(value, lang) if "://" in value else ("oui" if value == "oui" else value)
            if label == value and value in search.TERRITORY_CLASSES:  # igeo: classes carry no label
                label = translator(lang)("kind_" + search.TERRITORY_CLASSES[value])
            if name == "samedi":
                label = "oui" if lang == "fr" else "yes"
            values.append({"key": key, "label": label, "count": n, "checked": key in chosen.get(name, [])})
        if name == "annee":
            values.sort(key=lambda v: v["key"], reverse=True)
        views.append(
            {
                "name": name,
                "label": translator(lang)("facet_" + name),
                "values": values,
                "more": len(counts) > limit,
            }
        )
    return views


def rows_for(cat: search.Catalog, items: list[search.Item], lang: str, facets: list[str]) -> list[dict]:
    rows = []
    for item in items:
        row = {
            "iri": item.iri,
            "href": local_path(item.iri, cat.base),
            "label": cat.label(item.iri, lang),
            "year": item.year,
        }
        for name in facets:
            row[name] = sorted(cat.label(v, lang) if "://" in v else v for v in item.facets.get(name, ()))
        rows.append(row)
    return rows


def export(rows: list[dict], facets: list[str], fmt: str, total: int, extra: dict | None = None) -> Response:
    if fmt == "json":
        body = {"total": total, **(extra or {}), "items": rows}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["iri", "label", *facets])
    for r in rows:
        writer.writerow([r["iri"], r["label"], *(" | ".join(r.get(f, [])) for f in facets)])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def list_page(request: Request, kind_name: str, fmt: str = "html") -> Response:
    store = store_of(request)
    cat = search.catalog(store)
    kind = search.LISTS[kind_name]
    lang = language(request)
    facets = [f.name for f in kind.facets]
    chosen = selected_facets(request, facets)
    sort = request.query_params.get("tri", "nom")
    page = number_param(request, "page", 1)
    per_page = PER_PAGE if fmt == "html" else number_param(request, "limit", 1000, maximum=10000)
    total, items = cat.page(kind_name, chosen, sort, lang, (page - 1) * per_page, per_page)
    rows = rows_for(cat, items, lang, facets)
    if kind_name in ("themes", "publics"):
        facet = "theme" if kind_name == "themes" else "public"
        for r in rows:
            r["projects"] = cat.count("projets", facet, search.key_of(r["iri"], cat.base))
    if fmt != "html":
        return export(rows, facets, fmt, total, {"page": page, "limit": per_page})
    return render(
        request,
        "list.html",
        {
            "kind": kind_name,
            "title": translator(lang)(kind_name),
            "rows": rows,
            "total": total,
            "facets": facet_view(cat, kind_name, facets, chosen, lang),
            "chosen": chosen,
            "page": page,
            "pages": max(1, (total + PER_PAGE - 1) // PER_PAGE),
            "sort": sort,
            "has_year": any(f.year for f in kind.facets),
            "path": request.url.path,
            "query": request.url.query,
        },
    )


def _register(kind_name: str) -> None:
    def html(request: Request) -> Response:
        return list_page(request, kind_name)

    def json_twin(request: Request) -> Response:
        return list_page(request, kind_name, "json")

    def csv_twin(request: Request) -> Response:
        return list_page(request, kind_name, "csv")

    router.add_api_route(f"/{kind_name}", html, methods=["GET"], include_in_schema=False)
    router.add_api_route(f"/{kind_name}.json", json_twin, methods=["GET"], include_in_schema=False)
    router.add_api_route(f"/{kind_name}.csv", csv_twin, methods=["GET"], include_in_schema=False)


for _kind in search.LISTS:
    _register(_kind)


SEARCH_FACETS = ["kind", "departement", "theme"]


def search_page(request: Request, fmt: str = "html") -> Response:
    cat = search.catalog(store_of(request))
    lang = language(request)
    q = request.query_params.get("q", "").strip()[:200]
    chosen = selected_facets(request, SEARCH_FACETS)
    kinds = chosen.pop("kind", [])
    page = number_param(request, "page", 1)
    total, found, kind_counts, counts = cat.search(q, kinds, chosen, (page - 1) * PER_PAGE, PER_PAGE)
    rows = [
        {
            "iri": item.iri,
            "href": local_path(item.iri, cat.base),
            "label": cat.label(item.iri, lang),
            "kind": item.kind,
            "kind_label": translator(lang)(item.kind),
            "snippet": snippet,
        }
        for item, snippet in found
    ]
    complete = not search.more_than(total)
    if fmt != "html":
        shown = total if complete else search.COUNTED
        return export(rows, [], fmt, shown, {"q": q, "page": page, "complete": complete})
    facet_counts = [
        {
            "name": "kind",
            "label": translator(lang)("facet_kind"),
            "more": False,
            "values": [
                {"key": k, "label": translator(lang)(k), "count": c, "checked": k in kinds}
                for k, c in kind_counts
            ],
        }
    ]
    for name in ("departement", "theme"):
        if counts.get(name):
            facet_counts.append(
                {
                    "name": name,
                    "label": translator(lang)("facet_" + name),
                    "more": False,
                    "values": [
                        {
                            "key": search.key_of(v, cat.base),
                            "label": cat.label(v, lang),
                            "count": c,
                            "checked": search.key_of(v, cat.base) in chosen.get(name, []),
                        }
                        for v, c in counts[name]
                    ],
                }
            )
    return render(
        request,
        "search.html",
        {
            "q": q,
            "rows": rows,
            "total": total if complete else translator(lang)("more_than", n=search.COUNTED),
            "ranked_among": search.RANKED if total > search.RANKED else None,
            "facets": facet_counts,
            "page": page,
            "pages": max(1, (total + PER_PAGE - 1) // PER_PAGE),
            "query": request.url.query,
        },
    )


@router.get("/recherche", include_in_schema=False)
def recherche(request: Request) -> Response:
    return search_page(request)


@router.get("/recherche.json", include_in_schema=False)
def recherche_json(request: Request) -> Response:
    return search_page(request, "json")


@router.get("/recherche.csv", include_in_schema=False)
def recherche_csv(request: Request) -> Response:
    return search_page(request, "csv")
