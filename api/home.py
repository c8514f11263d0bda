"""The home page: what this is and for whom, counts, latest additions, and a map of départements
shaded by number of projects (or of service places), every département linking to its page."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from api import maps
from api.i18n import language, translator
from api.pages import local_path, render, store_of
from graph import search

router = APIRouter()
KINDS = ("projets", "acteurs", "ressources", "evenements", "lieux", "territoires")


@dataclass
class Home:
    building: bool  # the server has just started: the page without its figures, map and latest
    triples: int = 0
    figures: list[tuple[str, int]] = field(default_factory=list)
    latest: list[dict] = field(default_factory=list)
    layer: str = "projets"
    map: Markup | None = None
    top: int = 0


def bucket(n: int, top: int) -> int:
    if n <= 0:
        return 0
    scale = [max(1, round(top * f)) for f in (0.1, 0.3, 0.6)]
    return 1 + sum(1 for s in scale if n > s)


def svg_map(counts: dict[str, int], base: str, title: str, unit: str) -> Markup:
    w, h = maps.view_size()
    top = max(counts.values(), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:g} {h:g}" role="group" '
        f'aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>'
    ]
    for code, o in maps.outlines().items():
        n = counts.get(code, 0)
        href = local_path(f"{base}id/departement/{code}", base)
        parts.append(
            f'<a href="{escape(href)}"><title>{escape(o.name)} ({code}) : {n} {escape(unit)}</title>'
            f'<path id="dep-{code}" class="b{bucket(n, top)}" d="{escape(o.d)}"/></a>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    cat = search.catalog_within(store_of(request), search.FIRST_BUILD_WAIT)
    if cat is None:
        return render(request, "home.html", Home(building=True))
    lang = language(request)
    t = translator(lang)
    layer = "lieux" if request.query_params.get("carte") == "lieux" else "projets"
    counts = cat.per_departement(layer)
    latest = [
        {"href": local_path(it.iri, cat.base), "label": cat.label(it.iri, lang), "year": it.year}
        for it in cat.latest("projets", 8)
    ]
    title = "Départements " + t("map_" + layer)
    return render(
        request,
        "home.html",
        Home(
            building=False,
            triples=cat.triples,
            figures=[(k, cat.count(k)) for k in KINDS],
            latest=latest,
            layer=layer,
            map=svg_map(counts, cat.base, title, t(layer).lower()),
            top=max(counts.values(), default=0),
        ),
    )
