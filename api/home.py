"""The home page: what this is and for whom, counts, latest additions, and a map of départements
shaded by number of projects (or of service places), every département linking to its page."""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from api.i18n import language
from api.pages import local_path, render, store_of
from graph import search
from graph.settings import DATA_DIR

router = APIRouter()
MAP_FILE = DATA_DIR / "france-departements-svg" / "france.departments.svg"
PATH = re.compile(r'<path\s+id="([0-9AB]{2,3})"\s+aria-label="([^"]*)"\s+d="([^"]*)"\s*/>', re.S)
BUCKETS = (0, 1, 3, 10, 30)  # lower bounds of classes b0..b4


@lru_cache(maxsize=1)
def map_paths() -> tuple[str, list[tuple[str, str, str]]]:
    """(viewBox, [(INSEE code, name, path data)]) from the bundled SVG (ids are INSEE codes)."""
    text = MAP_FILE.read_text(encoding="utf-8")
    view_box = re.search(r'viewBox="([^"]+)"', text).group(1)
    return view_box, PATH.findall(text)


def bucket(n: int, top: int) -> int:
    if n <= 0:
        return 0
    scale = [max(1, round(top * f)) for f in (0.1, 0.3, 0.6)]
    return 1 + sum(1 for s in scale if n > s)


def svg_map(counts: dict[str, int], base: str, title: str, unit: str) -> Markup:
    view_box, paths = map_paths()
    top = max(counts.values(), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{escape(view_box)}" role="group" '
        f'aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>'
    ]
    for code, name, d in paths:
        n = counts.get(code, 0)
        href = local_path(f"{base}id/departement/{code}", base)
        parts.append(
            f'<a href="{escape(href)}"><title>{escape(name)} ({code}) : {n} {escape(unit)}</title>'
            f'<path id="dep-{code}" class="b{bucket(n, top)}" d="{escape(d)}"/></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    store = store_of(request)
    cat = search.catalog_within(store, search.FIRST_BUILD_WAIT)
    if cat is None:  # the server has just started: the page without its figures, map and latest
        return render(request, "home.html", {"building": True})
    lang = language(request)
    layer = "lieux" if request.query_params.get("carte") == "lieux" else "projets"
    counts = cat.per_departement(layer)
    kinds = ["projets", "acteurs", "ressources", "evenements", "lieux", "territoires"]
    figures = [(k, cat.count(k)) for k in kinds]
    latest = [
        {"href": local_path(it.iri, cat.base), "label": cat.label(it.iri, lang), "year": it.year}
        for it in cat.latest("projets", 8)
    ]
    unit = (
        ("projets" if lang == "fr" else "projects")
        if layer == "projets"
        else ("lieux" if lang == "fr" else "places")
    )
    title = ("Départements " if lang == "en" else "Départements ") + (
        ("by number of " if lang == "en" else "par nombre de ") + unit
    )
    return render(
        request,
        "home.html",
        {
            "building": False,
            "triples": cat.triples,
            "figures": figures,
            "latest": latest,
            "layer": layer,
            "map": svg_map(counts, cat.base, title, unit),
            "top": max(counts.values(), default=0),
        },
    )
