"""The home page: what this is and for whom, counts, latest additions, and a map of départements
shaded by number of projects (or of service places), every département linking to its page."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.i18n import language
from api.pages import catalog_of, local_path, render, store_of
from graph import search
from graph.outlines import VIEW_SIZE, Outline, outlines

router = APIRouter()
KINDS = ("projets", "acteurs", "ressources", "evenements", "lieux", "territoires")
# Where a harvester or a researcher landing here finds the data described (home.html's <head> says it too).
DESCRIBED_BY = {"Link": '</.well-known/void>; rel="describedby"; type="text/turtle"'}


@dataclass
class Home:
    building: bool  # the server has just started: the page without its figures, map and latest
    triples: int = 0
    figures: list[tuple[str, int]] = field(default_factory=list)
    latest: list[dict] = field(default_factory=list)
    layer: str = "projets"
    outlines: list[Outline] = field(default_factory=list)  # the map's départements, drawn by home.html
    overseas: list[tuple[str, str]] = field(default_factory=list)  # (code, label) of those it does not draw
    view: tuple[float, float] = (0.0, 0.0)
    counts: dict[str, int] = field(default_factory=dict)  # per département code
    shades: dict[str, int] = field(default_factory=dict)
    legend: list[tuple[int, int, int]] = field(default_factory=list)


def scale(top: int) -> list[int]:
    """The highest count of each shade but the last (the map's top), from the largest count."""
    return [max(1, round(top * f)) for f in (0.1, 0.3, 0.6)]


def bucket(n: int, top: int) -> int:
    if n <= 0:
        return 0
    return 1 + sum(1 for s in scale(top) if n > s)


def legend(top: int) -> list[tuple[int, int, int]]:
    """(shade, lowest, highest count) of each shade a count may have, from the same scale as the map's: the
    legend said « 0 / ≥ 1 / 11 », three of five shades, in figures a screen reader was not given."""
    highest = [*scale(top), top]
    shades = zip(range(1, 5), [1] + [h + 1 for h in highest[:-1]], highest, strict=True)
    return [(shade, lo, hi) for shade, lo, hi in shades if lo <= min(hi, top)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    response = _home(request)
    response.headers.update(DESCRIBED_BY)
    return response


def _home(request: Request) -> HTMLResponse:
    if search.catalog_within(store_of(request), search.FIRST_BUILD_WAIT) is None:
        return render(request, "home.html", Home(building=True))
    cat = catalog_of(request)
    lang = language(request)
    layer = "lieux" if request.query_params.get("carte") == "lieux" else "projets"
    counts = cat.per_departement(layer)
    top = max(counts.values(), default=0)
    latest = [
        {"href": local_path(it.iri, cat.base), "label": cat.label(it.iri, lang), "year": it.year}
        for it in cat.latest("projets", 8)
    ]
    return render(
        request,
        "home.html",
        Home(
            building=False,
            triples=cat.triples,
            figures=[(k, cat.count(k)) for k in KINDS],
            latest=latest,
            layer=layer,
            outlines=list(outlines().values()),
            overseas=sorted(
                (t.code, t.label)
                for t in cat.territories.values()
                if t.level == "departement" and t.code not in outlines()
            ),
            view=VIEW_SIZE,
            counts=counts,
            shades={code: bucket(n, top) for code, n in counts.items()},
            legend=legend(top),
        ),
    )
