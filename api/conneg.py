"""Content negotiation: one rule, for every route and the CLI, over the formats of graph/formats.py.

1. A name asked for (an extension in the path, ``?format=``, ``--format``) picks the first offered format
   it names; a name that names none of them is a 400 listing the names offered.
2. Else the ``Accept`` header, read by python-mimeparse (q-values, wildcards, the most specific range).
   No header, or one that cannot be parsed, means ``*/*``. On a tie the format the route lists first
   wins: HTML on pages (a browser's ``*/*`` gets a page), Turtle on ``/.well-known/void``, SPARQL JSON
   on ``/sparql``. A format's own media type beats another's alias (``text/*`` is CSV, not SPARQL XML).
3. An ``Accept`` that no offered format satisfies is a 406 whose body lists the offered media types,
   whatever the route: no silent default.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import mimeparse
from fastapi import Request
from fastapi.responses import PlainTextResponse

from graph.formats import HTML, Format, find, names


class FormatError(Exception):
    """A format nobody offers: 400 for an unknown name, 406 for an unsatisfiable ``Accept``."""

    headers = {"Vary": "Accept"}

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def negotiate(offered: Sequence[Format], accept: str | None, asked: Iterable[str] = ()) -> Format:
    """The format of ``offered`` to answer in; ``asked`` are names, the first known one wins."""
    asked = list(asked)
    for token in asked:
        if fmt := find(offered, token):
            return fmt
    if asked:
        raise FormatError(400, f"format: {', '.join(map(repr, asked))} is not one of {names(offered)}")
    fmt = _best(tuple(offered), (accept or "").strip() or "*/*")
    if fmt is None:
        raise FormatError(406, "no acceptable format; offered: " + ", ".join(f.media_type for f in offered))
    return fmt


def choose(request: Request, offered: Sequence[Format], ext: str | None = None) -> Format:
    """By the path's extension, else ``?format=``, else ``Accept``; remembered for :func:`page`. With both,
    ``?format=`` picks among the formats the extension names (``.csv?format=excel``: it gave the comma
    CSV, ignored), another is a 400."""
    asked = request.query_params.getlist("format")
    if ext:
        named = [f for f in offered if ext in f.tokens]
        offered, asked = (named, asked or [ext]) if named else (offered, [ext])
    request.state.format = negotiate(offered, request.headers.get("accept"), asked)
    return request.state.format


def page(request: Request) -> None:
    """A page about to be rendered: a route that offers nothing else (the home page, a form) negotiates
    here, so that an ``Accept`` without HTML is a 406 there too; one that chose HTML already is not
    asked again (``/id/….html`` with ``Accept: text/turtle``)."""
    if getattr(request.state, "format", None) is None:
        choose(request, (HTML,))


@functools.lru_cache(maxsize=512)
def _best(offered: tuple[Format, ...], accept: str) -> Format | None:
    # Clients send a handful of distinct Accept headers; parsing one costs more than a cheap query.
    own = [f.media_type for f in offered]
    candidates = own + [a for f in offered for a in f.aliases if "/" in a and a not in own]
    try:
        match = mimeparse.best_match(candidates[::-1], accept)  # the last of a tie wins: list reversed
    except ValueError:
        return offered[0]
    return find(offered, match) if match else None


async def refuse(request: Request, exc: Exception) -> PlainTextResponse:
    """The app's answer to a FormatError."""
    assert isinstance(exc, FormatError)
    return PlainTextResponse(f"{exc}\n", exc.status, exc.headers)
