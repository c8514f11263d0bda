"""The HTTP application: one store, one settings object, routers per feature."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send

from api import (
    catalogue,
    conneg,
    contribution_forms,
    contributions,
    crawlers,
    downloads,
    home,
    lists,
    moderation,
    named_queries,
    ontology,
    resources,
    sparql,
)
from api.linking import router as linking_router
from api.pages import render
from api.public_http import PublicHttp, readable_query
from api.reconcile import router as reconcile_router
from graph import formats, matching, search
from graph.pool import QueryRunner, Reader
from graph.settings import Settings
from graph.store import OxigraphStore, QueryTimeout, Store, StoreUnavailable, open_store

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """``store`` is injected by tests; otherwise it is opened from ``settings.store`` at start-up."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runner, app.state.listeners = None, []
        try:
            app.state.store = store or open_store(settings.store, settings.base_iri)
            contributions.converge(app)
            # Public reads (/sparql, pages) go through worker processes with real deadlines.
            app.state.runner = QueryRunner(
                app.state.store,
                workers=settings.query_workers,
                max_busy=settings.query_workers_max,
                network=bool(settings.service_allowlist),
            )
            if isinstance(app.state.store, OxigraphStore):  # a remote server is read directly by the pages
                app.state.reader = Reader(app.state.store, app.state.runner, settings.query_timeout)
            # The list/search index of the object pages read through (api.pages.store_of: it is kept per
            # store object), begun now but not waited for: SPARQL and resource pages answer during its build.
            search.start(getattr(app.state, "reader", None) or app.state.store, settings.index_path())
            matching.start(app.state.store)  # the names /reconcile and the contribution form resolve
            # Each write has the name index read again and the downloads rebuilt, in the background.
            dumps = downloads.open_dumps(app)
            app.state.listeners = [functools.partial(matching.changed, app.state.store), dumps.changed]
            app.state.store.listeners += app.state.listeners
            dumps.changed()  # writes while the server was down (communs load)
            yield
        finally:
            for listener in app.state.listeners:
                app.state.store.listeners.remove(listener)
            if hasattr(app.state, "dumps"):  # a build under way is let finish, whatever the store
                app.state.dumps.close()
            if hasattr(app.state, "dumps_folder"):  # the downloads of an in-memory store
                app.state.dumps_folder.cleanup()
            if hasattr(app.state, "reader"):  # embedded: a refresh under way is let finish
                search.finish(app.state.reader, timeout=10)
                if store is None:  # then closed below: not under a read of the names
                    matching.finish(app.state.store, timeout=10)
            elif hasattr(app.state, "store"):  # remote: one under way fails once the store is closed
                search.finish(app.state.store, timeout=0)
            if app.state.runner is not None:
                app.state.runner.close()
            if store is None and hasattr(app.state, "store"):
                app.state.store.close()

    app = FastAPI(
        title="Comm'un Services",
        description="Données liées ouvertes sur l'accès aux services au public en territoires de montagne.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # /openapi.json: the named queries and the JSON API (api/named_queries.py)
        dependencies=[Depends(readable_query)],
    )
    app.state.settings = settings
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(QueryTimeout, unavailable)
    app.add_exception_handler(conneg.FormatError, conneg.refuse)  # 400 unknown format, 406 unacceptable
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    contributions.setup(app, settings)
    named_queries.setup(app)
    for contributing in (contribution_forms, moderation):
        app.include_router(contributing.router)  # first: /ressources/proposer before any /ressources/{id}
    # /openapi.json: the named queries and these routes of the JSON API, each declaring itself.
    app.state.documented = [
        r for m in (contribution_forms, moderation) for r in m.router.routes if r.path.startswith("/api/")
    ]
    app.include_router(sparql.router)  # /sparql, /store
    app.include_router(home.router)
    app.include_router(resources.router)  # /id/{kind}/{key}: dereferencing
    app.include_router(lists.router)  # /projets, /territoires..., /recherche (+ .json, .csv)
    app.include_router(named_queries.router)  # /api, /api/{name}, /openapi.json
    app.include_router(catalogue.router)  # /catalogue, /.well-known/void
    app.include_router(downloads.router)  # /telechargements
    app.include_router(reconcile_router)  # /reconcile: the W3C reconciliation API (OpenRefine)
    app.include_router(linking_router)  # /rapprochement: link a spreadsheet's names to our IRIs
    app.include_router(ontology.router)  # /def: the ontology
    app.include_router(crawlers.router)  # /robots.txt, /sitemap.xml
    app.add_exception_handler(HTTPException, refused)
    # Bad paths refused, security headers on every answer, and CORS on these public routers.
    public = [home.router, resources.router, lists.router, named_queries.router, catalogue.router]
    public += [downloads.router, ontology.router, crawlers.router, reconcile_router]
    first = [contribution_forms.router, moderation.router]
    app.add_middleware(PublicHttp, routers=public, origins=settings.cors_origins, before=first)
    app.add_middleware(Compressed, compresslevel=6)
    return app


class Compressed(GZipMiddleware):
    """Outermost, every answer to a client that takes gzip (a full SELECT as CSV is tens of MB), a stream
    chunk by chunk; but the downloads' files, served whole or in ranges under one strong ETag: gzipped,
    a download resumed with If-Range would get plain bytes after gzipped ones.

    HEAD: RFC 9110 asks every GET resource to answer it, FastAPI's GET routes answer 405, so a HEAD runs as
    its GET, compressed as it would be, and the body is dropped: its headers are the GET's, Content-Encoding,
    Vary and Content-Length included."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":

            async def bodiless(message: Message) -> None:
                if message["type"] == "http.response.body":
                    if message.get("more_body", False):
                        return
                    message = {"type": "http.response.body", "body": b""}
                await send(message)

            await self({**scope, "method": "GET"}, receive, bodiless)
        elif scope["type"] == "http" and scope["path"].startswith("/telechargements/"):
            await self.app(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


async def refused(request: Request, exc: Exception) -> Response:
    """A browser gets a page, with the message the route wrote for people (an expired form, a page past a
    list's end, a state a moderation no longer applies to, too many proposals): "Unknown resource" only for
    a path no route knows; other clients keep FastAPI's JSON."""
    assert isinstance(exc, HTTPException)
    # Data the route chose to answer (a twin's .json or .csv, whatever Accept says) is never a page.
    data = getattr(request.state, "format", formats.HTML) is not formats.HTML
    with contextlib.suppress(conneg.FormatError):
        if not data and conneg.choose(request, (formats.JSON, formats.HTML)) is formats.HTML:
            if exc.status_code == 404 and exc.detail == "Not Found":  # no route's message (Starlette's)
                return render(
                    request,
                    "not_found.html",
                    {"iri": request.url.path, "gone": False, "removed": None},
                    status_code=404,
                )
            # A page past a list's last links that one (lists.within_pages), not only says how many there are.
            last = re.fullmatch(r'<([^>]*)>; rel="last"', (exc.headers or {}).get("Link", ""))
            context = {"status": exc.status_code, "message": str(exc.detail), "last": last and last[1]}
            response = render(request, "refused.html", context, status_code=exc.status_code)
            response.headers.update(exc.headers or {})
            return response
    return await http_exception_handler(request, exc)


PAGE_FIRST, API_FIRST = (formats.HTML, formats.JSON), (formats.JSON, formats.HTML)


async def unavailable(request: Request, exc: Exception) -> Response:
    """A remote store down or too slow, or the index not built yet: say so in the asked format (plain text
    to a client that takes neither a page nor JSON) and invite to retry (never hang)."""
    headers = {"Retry-After": "5"}
    ext = PurePosixPath(request.url.path).suffix[1:] or None
    # The web API's clients (scripts, OpenRefine) send */*: JSON first there, a page first elsewhere.
    offered = API_FIRST if request.url.path.startswith(("/api/", "/reconcile")) else PAGE_FIRST
    try:
        fmt = conneg.choose(request, offered, ext)
    except conneg.FormatError:
        return PlainTextResponse(f"{exc}\n", 503, headers=headers)
    if fmt is formats.JSON:
        return JSONResponse({"error": "unavailable", "message": str(exc)}, 503, headers=headers)
    # A page says it in its language alone: the exception's words are English, for logs and machines.
    text = "index_building_text" if isinstance(exc, search.IndexNotReady) else "unavailable_text"
    response = render(request, "unavailable.html", {"text": text}, status_code=503)
    response.headers.update(headers)
    return response
