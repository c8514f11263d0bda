"""Small maps drawn on the server as SVG: département outlines (graph/outlines.py) plus points for places,
with no tile server, no script and no request leaving the site. Overseas places get no map.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from graph.outlines import VIEW_SIZE, outlines, project

MIN_SPAN = 24.0  # the narrowest frame around points, in map units (about 50 km)


@dataclass(frozen=True)
class MapPoint:
    lon: float
    lat: float
    label: str
    main: bool = False  # the page's own place, drawn larger


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
