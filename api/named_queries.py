"""``/api/{name}``: the named queries of ``queries/`` as a REST API, its OpenAPI 3 document and docs page.

Values are bound as RDF terms (graph.named_queries), the read goes through ``store_of(request)`` with the
same deadline as ``/sparql``, and every failure is a 400/404/504 with a message — never a 500.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import jsonschema
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.accounts import CSRF_HEADER, SESSION_COOKIE
from api.i18n import language
from api.pages import base_of, render, store_of, version_of
from api.public_http import etag_matches, query_etag
from graph import formats, matching
from graph import named_queries as nq
from graph.namespaces import Minter
from graph.sparql_text import Refused
from graph.store import QueryTimeout, StoreError, StoreUnavailable

router = APIRouter()

DEFAULT_LIMIT = 100
# The OpenAPI document's validator: its integers are written without a decimal point, where JSON Schema's
# since draft 6 include 24.0 (schemathesis sends it, and the document says it is to be refused).
BodyValidator = jsonschema.validators.extend(
    jsonschema.Draft7Validator,
    type_checker=jsonschema.Draft7Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)
MAX_OFFSET = 10**9
BODIES = ("application/x-www-form-urlencoded", "application/json")  # what a POST may send its values in
ERRORS = {
    "400": "Paramètre invalide",
    "404": (
        "Requête inconnue, territoire qui n'a (ni n'a eu) ce code, projet ou organisation inconnus, "
        "page au-delà de la dernière"
    ),
    "406": "Aucun format acceptable (en-tête Accept)",
    "504": "Délai dépassé",
}
UNCOMPOSED = "Territoire vécu dont la composition n'est pas renseignée : ce qu'il contient n'est pas connu"
PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Who a route of the JSON API (under /api/, declared at the route) serves: a script's token or a signed-in
# browser's session, whose writes carry the CSRF header (api.contributions.api_guard).
AUTH = {
    "jeton": {"type": "http", "scheme": "bearer", "description": "Jeton d'API (communs user token)."},
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": f"Session d'un navigateur (/connexion), ses envois avec l'en-tête {CSRF_HEADER}.",
    },
}


def refusals(texts: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses`` when refused: each a problem (``{"detail": message}``), as any other 4xx."""
    described = {code: {"description": text, "content": PROBLEM} for code, text in texts.items()}
    # A path no route can read (a control character in it) is refused before any route, in plain text.
    refused = PROBLEM | {"text/plain": {"schema": {"type": "string"}}}
    return {**described, "4XX": {"description": "Requête refusée", "content": refused}}


def setup(app: FastAPI) -> None:
    """Read and validate every query file at start-up: a bad file stops the app with its name and line."""
    app.state.named_queries = nq.load_all()


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":  # the docs page's form sends its empty field
        return default
    try:
        number = int(value)
    except ValueError:
        raise Refused(400, f"{name}: {value!r} is not an integer") from None
    if not low <= number <= high:
        raise Refused(400, f"{name}: must be between {low} and {high}")
    return number


def _once(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """Every parameter takes one value: a repeated one (?departement=05&departement=73) is a 400 that names
    it, never its last value used in silence."""
    if repeated := next((k for k, n in Counter(k for k, _ in items).items() if n > 1), None):
        raise Refused(400, f"{repeated}: given several times; it takes one value")
    return dict(items)


async def _values(request: Request, q: nq.NamedQuery) -> dict[str, str]:
    values = _once(request.query_params.multi_items())
    if request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if kind == "application/json":
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                raise Refused(400, "the JSON body is not valid JSON") from None
            if not isinstance(body, dict):
                raise Refused(400, "the JSON body must be an object of parameter values")
            # Checked against the schema the OpenAPI document publishes for it: typed values, no others.
            schema = body_schema(q, request.app.state.settings.max_rows, store_of(request).minter)
            if error := jsonschema.exceptions.best_match(BodyValidator(schema).iter_errors(body)):
                raise Refused(400, f"the JSON body: {error.message}")
            values.update({k: str(v) for k, v in body.items()})
        else:
            form = await request.form()
            values.update(_once([(k, v) for k, v in form.multi_items() if isinstance(v, str)]))
    return values


@router.api_route("/api/{name}", methods=["GET", "POST"], include_in_schema=False)
async def run_named_query(request: Request, name: str) -> Response:
    q = request.app.state.named_queries.get(name)
    if q is None:
        return _problem(404, f"no named query {name!r}; see /openapi.json for the list")
    settings = request.app.state.settings
    try:
        values = await _values(request, q)
        given = values.pop("format", None)
        fmt = conneg.negotiate(formats.ROWS, request.headers.get("accept"), [] if given is None else [given])
        whole = settings.list_rows if fmt in formats.FILES else DEFAULT_LIMIT
        limit = _int(values.pop("limit", None), "limit", whole, 1, settings.max_rows)
        offset = _int(values.pop("offset", None), "offset", 0, 0, MAX_OFFSET)
        store = store_of(request)
        # The server's kind (its first contact) and the version are HTTP reads on a remote store.
        if (
            deepest := await run_in_threadpool(lambda: store.sorted_rows)
        ) is not None:  # with the row that tells whether more follow
            limit = min(limit, deepest - 1 - offset)
            if limit < 1:
                return _problem(
                    400, f"offset: the SPARQL server sorts at most {deepest} rows; ask a narrower query"
                )
        # A GET's answer, as a list's twin's (api/lists.py): the store's version, the format and the query.
        etag: str | None = query_etag(request, await version_of(store), fmt.name)
        if request.method != "GET":  # a POST's answer is not cached, but its version is said
            etag = None
        elif etag_matches(request, etag):
            return Response(status_code=304, headers={"ETag": etag, "Vary": "Accept"})
        # A territory's code is checked against the territories (a former code names today's commune), a
        # project or organisation against the site's: by the store when it states one today, else by the
        # app's name index (read at start, so only such a value may wait for it).
        coded = any((p.type == "territory" or p.kind) and values.get(p.name) for p in q.params)
        bindings = await run_in_threadpool(nq.current_bindings, q, values, store) if coded else None
        if bindings is None:
            app_store = request.app.state.store
            names = await run_in_threadpool(matching.index_of, app_store) if coded else None
            try:
                bindings = nq.bindings(q, values, store.minter, names)
            except nq.Unknown:  # maybe written a moment ago: the index follows writes in the background
                names = await run_in_threadpool(matching.index_of, app_store, settings.query_timeout)
                bindings = nq.bindings(q, values, store.minter, names)
        if coded:  # an informal area stating no composition: what lies in it is not known (not none)
            await run_in_threadpool(nq.check_composed, q, bindings, store)
        # Every named query's ORDER BY sorts its whole answer before any page of it: reading past the page,
        # up to a download's cap, costs about the page's own run and tells where the answer ends (rel=last).
        read = max(
            limit + 1, settings.list_rows if deepest is None else min(settings.list_rows, deepest - offset)
        )
        # Only validated integers are appended to our own query text; user values travel as bindings.
        text = f"{q.sparql}LIMIT {read} OFFSET {offset}\n"
        rows = await run_in_threadpool(store.select, text, bindings, timeout=settings.query_timeout)
    except (Refused, conneg.FormatError) as e:
        return _problem(e.status, str(e))
    except nq.Unknown as e:
        return _problem(404, str(e))
    except nq.Uncomposed as e:
        return _problem(422, str(e))
    except QueryTimeout:
        return _problem(504, f"the query ran past the {settings.query_timeout:g} s deadline")
    except StoreUnavailable:
        raise  # the app's 503 with Retry-After, as every read's: the request was not wrong
    except (nq.ParameterError, StoreError) as e:
        return _problem(400, str(e))
    if offset and not rows:  # the lists' rule: a page past the last is a dead link, not an empty page
        return _problem(404, f"offset {offset} is past the last result: follow the pages' Link rel=next")
    more, ends = len(rows) > limit, len(rows) < read  # ends: the answer's last row was read
    last = offset + (len(rows) - 1) // limit * limit
    rows = rows[:limit]
    body = formats.write_rows(fmt, q.variables, rows, nq.COLUMNS)
    response = Response(
        body, media_type=fmt.media_type, headers={"ETag": etag, "Vary": "Accept"} if etag else {}
    )
    if fmt is formats.EXCEL:  # downloaded, not shown: a spreadsheet opens it
        response.headers["Content-Disposition"] = f'attachment; filename="{formats.file_name(name, fmt)}"'
    params = {k: v for k, v in values.items() if v != ""}
    if fmt is not formats.JSON or given is not None:
        params["format"] = fmt.name
    base = request.url.path  # relative, as the lists' links: followed on the host that answered
    pages = {"next": offset + limit, **({"last": last} if ends else {})} if more else {}
    if offset > 0:
        pages |= {"prev": max(0, offset - limit), "first": 0}
    if pages:
        response.headers["Link"] = ", ".join(
            f'<{base}?{urlencode({**params, "limit": limit, "offset": at})}>; rel="{rel}"'
            for rel, at in pages.items()
        )
    return response


# --- OpenAPI ------------------------------------------------------------------------------------
def _param_schema(p: nq.Param, minter: Minter) -> dict[str, Any]:
    schema = {"type": "string", "enum": p.enum} if p.enum else nq.value_schema(p, minter)
    if p.required:
        if schema.get("type") == "string":
            schema["minLength"] = 1  # an empty value counts as absent
    else:
        # An empty value counts as absent (the docs page's "—" option, an empty form field): say so.
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    if p.default is not None:
        schema["default"] = _typed(p, p.default)
    return schema


def _typed(p: nq.Param, value: str) -> Any:
    """A default or example as the JSON value its schema describes (enum values stay strings)."""
    return value if p.enum else {"integer": int, "decimal": float}.get(p.type, str)(value)


def _paging(max_rows: int) -> dict[str, dict[str, Any]]:
    empty = {"type": "string", "maxLength": 0}  # counts as absent, as for the queries' optional parameters
    return {
        "limit": {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": max_rows}, empty],
            "default": DEFAULT_LIMIT,
            "description": f"{DEFAULT_LIMIT} lignes par défaut en JSON ; en CSV, TSV et tableur, toute la "
            "réponse (jusqu'au plafond du site, un en-tête Link rel=next au-delà)",
        },
        "offset": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, empty], "default": 0},
        "format": {"type": "string", "enum": formats.tokens(formats.ROWS)},
    }


def body_schema(q: nq.NamedQuery, max_rows: int, minter: Minter) -> dict[str, Any]:
    """What a POST body holds: the query's parameters and the paging ones."""
    required = [p.name for p in q.params if p.required]
    return {
        "type": "object",
        "properties": {p.name: _param_schema(p, minter) for p in q.params} | _paging(max_rows),
        "additionalProperties": False,
        **({"required": required} if required else {}),
    }


def openapi(queries: dict[str, nq.NamedQuery], server: str, max_rows: int) -> dict[str, Any]:
    paging, minter = _paging(max_rows), Minter(server)
    paths: dict[str, Any] = {}
    for q in queries.values():
        params = [
            {
                "name": p.name,
                "in": "query",
                "required": p.required,
                "description": p.description or p.type,
                "schema": _param_schema(p, minter),
                **({"example": _typed(p, p.example)} if p.example is not None else {}),
            }
            for p in q.params
        ]
        row = {"type": "object", "properties": {n: {} for n in q.variables}, "additionalProperties": False}
        schemas = {
            formats.JSON: {"type": "array", "items": row},
            formats.SPARQL_JSON: {"$ref": "#/components/schemas/SparqlResults"},
        }
        responses = {
            "200": {
                "description": "Résultats (une page)",
                "headers": {
                    "Link": {
                        "description": "Pages suivante/précédente (RFC 8288) ; la dernière page n'a pas de "
                        'rel="next" ; rel="last" la nomme quand la réponse finit dans les COMMUNS_LIST_ROWS '
                        "lignes qui suivent (le total : son offset et ses lignes)",
                        "schema": {"type": "string"},
                    }
                },
                "content": {
                    f.media_type: {"schema": schemas.get(f, {"type": "string"})} for f in formats.ROWS
                },
            },
            **{code: {"description": text, "content": PROBLEM} for code, text in ERRORS.items()},
        }
        if any(p.composed for p in q.params):
            responses["422"] = {"description": UNCOMPOSED, "content": PROBLEM}
        description = (
            q.description + "\n\n" if q.description else ""
        ) + f"Requête SPARQL ([{q.path.name}](/api#{q.name})) :\n\n```sparql\n{q.sparql}```"
        op = {
            "operationId": q.name.replace("-", "_"),
            "summary": q.summary,
            "description": description,
            "tags": q.tags,
            "x-sparql": q.sparql,
            "responses": responses,
        }
        form_schema = body_schema(q, max_rows, minter)
        paths[f"/api/{q.name}"] = {
            "get": {**op, "parameters": params + [{"$ref": f"#/components/parameters/{n}"} for n in paging]},
            "post": {
                **op,
                "operationId": op["operationId"] + "_post",
                "requestBody": {
                    "required": True,
                    "content": {kind: {"schema": form_schema} for kind in BODIES},
                },
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Comm'un Services — API",
            "version": "1",
            "description": "Chaque requête SPARQL du dossier queries/ est une opération. Formats : JSON "
            "(liste d'objets), SPARQL JSON, CSV, TSV (paramètre format ou en-tête Accept). Pagination "
            "par limit/offset et en-têtes Link. S'y ajoutent les contributions : proposer une ressource, "
            "et sa modération.",
            "license": {"name": "Licences par source : voir /catalogue"},
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "securitySchemes": AUTH,
            "parameters": {n: {"name": n, "in": "query", "schema": schema} for n, schema in paging.items()},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "properties": {"detail": {"type": "string"}},
                    "required": ["detail"],
                },
                "SparqlResults": {
                    "type": "object",
                    "required": ["head", "results"],
                    "properties": {
                        "head": {
                            "type": "object",
                            "properties": {"vars": {"type": "array", "items": {"type": "string"}}},
                        },
                        "results": {
                            "type": "object",
                            "properties": {"bindings": {"type": "array", "items": {"type": "object"}}},
                        },
                    },
                },
            },
        },
    }


@router.get("/openapi.json", include_in_schema=False)
async def openapi_json(request: Request) -> JSONResponse:
    """The named queries, and the JSON API's routes (api.app: each declares its body, answers and auth)."""
    server = base_of(request).rstrip("/")
    doc = openapi(request.app.state.named_queries, server, request.app.state.settings.max_rows)
    doc["paths"] |= get_openapi(title="", version="", routes=request.app.state.documented)["paths"]
    return JSONResponse(doc)


@router.get("/api", include_in_schema=False)
async def api_docs(request: Request) -> Response:
    lang = language(request)
    queries = [nq.in_language(q, lang) for q in request.app.state.named_queries.values()]
    queries.sort(key=lambda q: (q.tags[:1], q.name))
    return render(request, "api_docs.html", {"queries": queries, "formats": [f.name for f in formats.ROWS]})
