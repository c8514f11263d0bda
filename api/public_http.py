"""HEAD and CORS for the whole application, in one ASGI middleware.

RFC 9110 asks every GET resource to answer HEAD; FastAPI routes declared with GET answer it 405, so a HEAD
is run as the GET it stands for and its body dropped (status and headers stay the GET's, Content-Length
included). Public read-only routes (the routers given at set-up) share one CORS policy,
``COMMUNS_CORS_ORIGINS``; authenticated routes (contributions, moderation, the Graph Store) get none, so
a browser application on another site can read the commons but never act as a logged-in user.
``/sparql`` and ``/store`` apply the same policy themselves (:func:`cors_headers`), with their own methods.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXPOSED = "ETag, Content-Type, Link, Content-Disposition, Retry-After"
READ_METHODS = "GET, HEAD, POST, OPTIONS"


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
    """``routes`` are the public read-only routes; ``origins`` is the policy."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], origins: str) -> None:
        self.app, self.routes, self.origins = app, routes, origins
        self.public = {getattr(route, "endpoint", None) for route in routes} - {None}
        self.listed = bool(origins.strip()) and origins.strip() != "*"  # answers depend on Origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if scope["method"] == "OPTIONS" and self._is_public(scope):
            await self._preflight(scope, send)
            return
        if head:
            scope = {**scope, "method": "GET"}
        origin = _header(scope, b"origin")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("endpoint") in self.public:
                headers = list(message.get("headers", []))
                cors = cors_headers(self.origins, origin)
                if self.listed:
                    cors["Vary"] = "Origin"
                for name, value in cors.items():
                    key = name.lower().encode("latin-1")
                    if key == b"vary":
                        _add_vary(headers, value)
                    elif not any(k == key for k, _ in headers):
                        headers.append((key, value.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and head:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, sending)

    def _is_public(self, scope: Scope) -> bool:
        """Whether a GET at this path reaches a public route (a preflight carries no endpoint yet)."""
        if not _header(scope, b"access-control-request-method"):
            return False
        probe = {**scope, "method": "GET"}
        return any(route.matches(probe)[0] is Match.FULL for route in self.routes)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        headers = {
            **cors_headers(self.origins, _header(scope, b"origin")),
            "Access-Control-Allow-Methods": READ_METHODS,
            "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Type, If-None-Match",
            "Access-Control-Max-Age": "600",
        }
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": 204, "headers": raw})
        await send({"type": "http.response.body", "body": b""})


def public_routes(routers: Iterable[APIRouter]) -> list[BaseRoute]:
    """These routers' routes: the public read-only ones, marked once at set-up."""
    return [route for router in routers for route in router.routes]


def etag_matches(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly, as RFC 9110 compares it) or is ``*``."""
    header = request.headers.get("if-none-match", "").strip()
    return header == "*" or etag in [t.strip().removeprefix("W/") for t in header.split(",")]


def _header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k == name), "")


def _add_vary(headers: list[tuple[bytes, bytes]], value: str) -> None:
    for i, (k, v) in enumerate(headers):
        if k == b"vary":
            if value.lower() not in v.decode("latin-1").lower():
                headers[i] = (k, v + b", " + value.encode("latin-1"))
            return
    headers.append((b"vary", value.encode("latin-1")))
