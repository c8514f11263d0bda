"""What every request and response gets, whatever the route, in one ASGI middleware.

- A path that is not valid percent-encoded UTF-8, or holds a control character, is refused with a 400
  before any route sees it (it could only ever fail later, as a 500 somewhere deep); but a path whose UTF-8
  was read as Latin-1 on its way (É as Ã and U+0089) is sent, 301, to the path it was.
- Security headers: ``nosniff`` everywhere; pages forbid framing, send no referrer elsewhere and run only
  the platform's own scripts and styles (the templates hold no inline script or style).
- CORS: public read-only routes share one policy, ``COMMUNS_CORS_ORIGINS``; authenticated routes get
  none, so a site elsewhere can read the commons but never act as a logged-in user. ``/sparql`` and
  ``/store`` apply the same policy themselves (:func:`cors_headers`), with their own methods.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.named_queries import CONTROL_CHAR
from graph.settings import ONTOLOGY_DIR, QUERIES_DIR, ROOT

EXPOSED = "ETag, Content-Type, Link, Content-Disposition, Retry-After, Dataset-Version, Dataset-Preparing"
# Reads are public and sent without credentials: any header a script adds (X-App) is allowed.
PREFLIGHT = {"Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "600"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def unsafe_text(value: str, allowed: str = "") -> bool:
    """Control characters (but those ``allowed``), bidirectional and other invisible formatting
    characters (U+202E reverses what follows on every page) and lone surrogates."""
    return any(
        unicodedata.category(c) in ("Cf", "Cs") or (unicodedata.category(c) == "Cc" and c not in allowed)
        for c in value
    )


def path_problem(raw: bytes) -> str | None:
    """Why a request path cannot name anything here, or None."""
    raw = raw.split(b"?", 1)[0]
    if re.search(rb"%(?![0-9A-Fa-f]{2})", raw):
        return "a % in the path is not followed by two hexadecimal digits"
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not UTF-8 once percent-decoded"
    if unsafe_text(path):
        return "the path holds a control or formatting character"
    return None


def meant_path(path: str) -> str | None:
    """A path with control characters that is UTF-8 read as Latin-1 (« Ã » and U+0089 for « É »): the path
    it was, percent-encoded (Windows-1252 misreadings hold no control character: the routes repair them)."""
    with contextlib.suppress(UnicodeError):
        if not unsafe_text(fixed := path.encode("latin-1").decode("utf-8")):
            return "/" + quote(fixed.lstrip("/"), safe="/:@!$&'()*+,;=-._~")  # never //host: no open redirect
    return None


def readable_query(request: Request) -> None:
    """Every route's dependency: a query parameter whose name or value is not UTF-8 once percent-decoded,
    or holds a control character, is a 400 that names it (a NUL was echoed into pages, ``%FF`` read as
    U+FFFD). A dependency, not this middleware: the refusal takes the asked format, as the named queries'
    OpenAPI document describes it (graph.named_queries.TEXT)."""
    for pair in request.scope.get("query_string", b"").split(b"&"):
        name, _, value = pair.partition(b"=")
        texts = [unquote_to_bytes(x.replace(b"+", b" ")) for x in (name, value)]
        shown = repr(texts[0].decode("utf-8", "replace")[:40])
        try:
            if any(CONTROL_CHAR.search(t.decode("utf-8")) for t in texts):
                raise HTTPException(400, f"the query parameter {shown} holds a control character")
        except UnicodeDecodeError:
            raise HTTPException(
                400, f"the query parameter {shown} is not UTF-8 once percent-decoded"
            ) from None


def cors_headers(origins: str, origin: str) -> dict[str, str]:
    """The CORS answer for a request from ``origin``: ``origins`` is ``*``, a space-separated list of
    allowed origins, or empty (no cross-origin reads at all)."""
    listed = origins.split()
    if listed == ["*"]:
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED}
    if origin in listed:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED,
            "Vary": "Origin",
        }
    return {}


class PublicHttp:
    """``routers`` hold the public read-only routes; ``origins`` is the CORS policy; ``before``, the routers
    the app tries first (the contribution API's /api/contributions before the named queries' /api/{name})."""

    def __init__(
        self, app: ASGIApp, routers: Iterable[APIRouter], origins: str, before: Iterable[APIRouter] = ()
    ) -> None:
        self.app, self.origins = app, origins
        self.routes = [route for router in routers for route in router.routes]
        self.public = {getattr(route, "endpoint", None) for route in self.routes} - {None}
        self.before = [route for router in before for route in router.routes]
        self.listed = bool(origins.strip()) and origins.strip() != "*"  # answers depend on Origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin", "")
        if scope["method"] == "OPTIONS" and self._is_public(scope):
            allowed = {"Access-Control-Allow-Methods": self._methods(scope), **PREFLIGHT}
            preflight = Response(status_code=204, headers={**cors_headers(self.origins, origin), **allowed})
            await preflight(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = self._headers(scope, origin, list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        problem = path_problem(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
        if problem and (meant := meant_path(scope["path"])):
            query = scope.get("query_string", b"").decode("latin-1")
            moved = RedirectResponse(meant + (f"?{query}" if query else ""), 301)
            await moved(scope, receive, sending)
            return
        if problem:  # the JSON API's errors are JSON objects, as /openapi.json documents them
            api = scope["path"].startswith("/api/")
            refused = (
                JSONResponse({"detail": problem}, 400)
                if api
                else PlainTextResponse(f"400 Bad Request: {problem}\n", 400)
            )
            await refused(scope, receive, sending)
            return
        await self.app(scope, receive, sending)

    def _headers(
        self, scope: Scope, origin: str, raw: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        headers = MutableHeaders(raw=raw)
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)
        if headers.get("content-type", "").startswith("text/html"):
            headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
        if (version := scope.get("state", {}).get("dataset_version")) is not None:  # read_at
            headers.setdefault("dataset-version", str(version))
        if scope.get("endpoint") not in self.public:
            return headers.raw
        cors = cors_headers(self.origins, origin)
        if self.listed:
            cors["Vary"] = "Origin"
        for name, value in cors.items():
            if name != "Vary":
                headers.setdefault(name, value)
            elif value.lower() not in (vary := headers.get("vary", "")).lower():
                headers["vary"] = f"{vary}, {value}" if vary else value
        return headers.raw

    def _methods(self, scope: Scope) -> str:
        """The methods the public routes at this path take: POST only where one takes it (not /lieux.json)."""
        methods = {
            m
            for route in self.routes
            if route.matches(scope)[0] is not Match.NONE
            for m in getattr(route, "methods", None) or ()
        }
        return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}))

    def _is_public(self, scope: Scope) -> bool:
        """Whether the method a preflight asks for reaches a public route at this path (a preflight carries
        no endpoint yet) before any of ``before``: a POST to /api/contributions is not one to /api/{name}."""
        method = Headers(scope=scope).get("access-control-request-method", "").upper()
        if not method:
            return False
        probe = {**scope, "method": "GET" if method == "HEAD" else method}
        if any(route.matches(probe)[0] is Match.FULL for route in self.before):
            return False
        return any(route.matches(probe)[0] is Match.FULL for route in self.routes)


def etag_matches(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly, as RFC 9110 compares it) or is ``*``."""
    header = request.headers.get("if-none-match", "").strip()
    return header == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


def unmodified_since(request: Request, modified: float) -> bool:
    """Whether ``If-Modified-Since`` is no earlier than ``modified`` (seconds since the epoch, as the
    ``Last-Modified`` sent, to the second), and no ``If-None-Match`` is sent, which RFC 9110 makes win."""
    since = request.headers.get("if-modified-since")
    if not since or "if-none-match" in request.headers:
        return False
    try:
        return int(modified) <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):  # not a date: the condition is ignored, as RFC 9110 says
        return False


def code_digest(folders: Iterable[Path]) -> str:
    """A digest of the files in ``folders``."""
    digest = hashlib.sha1()
    for path in sorted(
        p for f in folders for p in f.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


# The code, templates and queries that shape an answer beside the data: in every ETag a store version
# decides, so that a release changing a page, a named query or a format is never a 304 to an older copy.
RELEASE = code_digest((ROOT / "api", ROOT / "graph", QUERIES_DIR, ONTOLOGY_DIR))


def read_at(request: Request, version: int) -> None:
    """The store version the answer is read at, which this middleware sends as ``Dataset-Version`` (a
    citation's version: the answer's, which a list's index may hold a moment behind the store's)."""
    request.state.dataset_version = version


def version_etag(request: Request, version: int, *parts: object) -> str:
    """The ETag of an answer the store's ``version`` and ``parts`` decide: the version is sent too."""
    read_at(request, version)
    return '"' + "-".join(map(str, (RELEASE, version, *parts))) + '"'


def query_etag(request: Request, version: int, *parts: object) -> str:
    """The ETag of an answer its query string decides beside ``version`` and ``parts`` (a format, a
    language): the lists' and search's twins, the named queries."""
    return version_etag(request, version, *parts, hashlib.sha1(request.url.query.encode()).hexdigest()[:16])


def tagged(request: Request, body: bytes | str, media_type: str, headers: dict[str, str]) -> Response:
    """An answer no store version decides (a file, the downloads' manifest): its ETag is its body's digest,
    and a client that has it gets a 304."""
    data = body.encode() if isinstance(body, str) else body
    headers = {**headers, "ETag": '"' + hashlib.sha1(data).hexdigest()[:16] + '"'}
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)
