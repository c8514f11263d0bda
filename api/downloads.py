"""``/telechargements``: the public dumps (N-Quads gzip, Turtle per graph, CSV per class), with ETag and
range requests (Starlette's FileResponse answers ``Range``)."""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from api import conneg
from api.catalogue import licence_context
from api.i18n import STRINGS, language, translator
from api.pages import number, render
from api.public_http import etag_matches, tagged, unmodified_since
from graph import formats
from graph.dumps import DATA_INCLUSION_DIR, NQUADS, Dumps
from graph.store import StoreUnavailable

router = APIRouter()


def open_dumps(app: FastAPI) -> Dumps:
    """The app's Dumps (at start-up), in the folder the settings name (``Settings.dumps_path``: the
    configured one, else ``var/store.dumps`` for ``var/store``), or a temporary one for a store in memory."""
    folder = app.state.settings.dumps_path()
    if folder is None:
        # Nothing on disk to keep them beside: a folder removed when the app stops (api.app).
        temporary = tempfile.TemporaryDirectory(prefix="communs-dumps-", ignore_cleanup_errors=True)
        app.state.dumps_folder, folder = temporary, Path(temporary.name)
    app.state.dumps = Dumps(app.state.store, folder)
    return app.state.dumps


OFFERED = (formats.HTML, formats.JSON, formats.CSV)  # as a list's: HTML first, a browser's */* gets the page
COLUMNS = ["name", "title", "media", "bytes", "triples", "graph", "license", "sources"]


@router.get("/telechargements", include_in_schema=False)
@router.get("/telechargements.{ext}", include_in_schema=False)  # .json, .csv as every page with twins
def downloads_page(request: Request, ext: str | None = None) -> Response:
    """The page and its twins: the manifest (JSON, with ``preparing_version``, and a version ``null``
    before the first build) or its files (CSV), whether or not the files are built yet; while a build is
    under way, each says when to come back (``Retry-After``). A remote store down cannot say whether the
    files are behind: they are listed all the same (``store_version_known`` false), as they are served;
    with none built yet, there is nothing to list: a 503, as every page needing the store answers."""
    fmt = conneg.choose(request, OFFERED, ext)
    dumps: Dumps = request.app.state.dumps
    try:
        dumps.ensure()  # its rebuild started when the store moved on (a write the app was not told of)
        pending, known = dumps.pending(), True
    except StoreUnavailable:  # a remote server down: the files built are listed, perhaps behind the data
        if dumps.manifest() is None:
            raise  # none built, nothing to list: the outage's 503, as every page needing the store
        pending, known = None, False
    manifest = dumps.manifest()
    listed = manifest["files"] if manifest else []
    wait = dumps.retry_after() if pending is not None else None  # seconds, the page says them too
    retry = {"Retry-After": str(wait)} if wait is not None else {}
    headers = {"Vary": "Accept", **retry}
    if fmt is formats.JSON:
        # "preparing", the field's first name (a bare number), stays for the reusers who read it: gone, it
        # would read as null, "nothing being prepared", the opposite of the truth.
        preparing = {"preparing_version": pending, "preparing": pending, "store_version_known": known}
        body = {**(manifest or {"version": None, "files": []}), **preparing, "error": dumps.error}
        return tagged(request, json.dumps(body, ensure_ascii=False), "application/json", headers)
    if fmt is formats.CSV:
        rows = ([formats.joined(f.get(c)) for c in COLUMNS] for f in listed)
        body = formats.spreadsheet_csv(COLUMNS, rows)
        return tagged(request, body, "text/csv; charset=utf-8", headers)
    lang = language(request)
    licences = licence_context(request)  # each graph's licence in the catalogue's words
    stated = {f["graph"]: f["license"] for f in listed if f.get("graph") is not None}  # each graph's
    files = [file_view(f, lang, stated, licences["contributions"]) for f in listed]
    context = {"manifest": manifest, "files": files, "error": dumps.error, "pending": pending, "wait": wait}
    context |= {"known": known, "timed": dumps.timed}  # timed: else no figure to tell people
    context |= licences
    response = render(request, "downloads.html", context)
    response.headers.update(retry)
    return response


def file_view(f: dict, lang: str, stated: dict[str, str | None], contributions: str) -> dict:
    """A file as the page shows it: its title in the page's language (the manifest's are French, for
    machines), its size for people; a table's licences, those of the graphs its rows come from (``stated``
    by graph), each once (the ``contributions`` graph's, each resource's own, apart)."""
    t = translator(lang)
    name = f["name"]
    if name == NQUADS:
        title = t("dump_all")
    elif f.get("graph"):
        title = t("dump_graph", graph=f["graph"])
    elif name.startswith(DATA_INCLUSION_DIR + "/"):
        title = t("dump_data_inclusion", name=name.removeprefix(DATA_INCLUSION_DIR + "/"))
    else:
        title = t("dump_" + name) if "dump_" + name in STRINGS else f["title"]
    licences = {stated.get(g) or (g == contributions): g for g in f.get("sources") or ()}
    sources = [(stated.get(g), g) for g in licences.values()]
    return {**f, "title": title, "size": file_size(f["bytes"], lang), "licences": sources}


def _excel(path: Path) -> Iterator[bytes]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        for chunk in formats.spreadsheet_chunks(next(rows, []), rows, formats.EXCEL):
            yield chunk.encode()


def file_size(size: int, lang: str) -> str:
    """Binary units, one decimal: '5,4 Mio' / '5.4 MiB'."""
    units = translator(lang)("size_units").split()
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{number(value, lang, 1 if unit else 0)}\u00a0{units[unit]}"


@router.get("/telechargements/{name:path}", include_in_schema=False)  # data-inclusion/… included
def download(request: Request, name: str) -> Response:
    dumps: Dumps = request.app.state.dumps
    try:
        dumps.ensure()
        pending, known = dumps.pending(), True
    except StoreUnavailable:  # a remote server down: the files built are still what they are, served
        pending, known = None, False
    manifest = dumps.manifest()
    if manifest is None:
        retry = {"Retry-After": str(dumps.retry_after())}
        return Response("Les fichiers sont en préparation.", status_code=503, headers=retry)
    # Only the names of the current build's manifest resolve: never a path of the client's making.
    file = next((f for f in manifest["files"] if f["name"] == name), None)
    path = dumps.directory / f"v{manifest['version']}" / name
    if file is None or not path.is_file():
        raise HTTPException(404, f"Pas de fichier « {name} ».")  # a page for a browser, as every 404
    media = file["media"]
    # A CSV also as a French spreadsheet opens it (as the lists offer it): converted as it is sent.
    table = media == formats.CSV.media_type
    asked = request.query_params.getlist("format")
    offered = (
        (formats.CSV, formats.EXCEL) if table else (formats.of_file((formats.JSON, *formats.RDF), path),)
    )
    fmt = conneg.negotiate(offered, None, asked) if asked else offered[0]
    excel = "-excel" if fmt is formats.EXCEL else ""
    # Which version this is, and the newer one being built when there is one: no older file without a word.
    # Its ETag by its bytes (a build before sha256 was recorded: by version), not the dataset's version.
    tag = file.get("sha256") or f"{manifest['version']}-{name}"
    headers = {"ETag": f'"{tag}{excel}"', "Dataset-Version": str(manifest["version"])}
    if pending:
        headers["Dataset-Preparing"] = str(pending)
    if etag_matches(request, headers["ETag"]) or unmodified_since(request, path.stat().st_mtime):
        return Response(status_code=304, headers=headers)
    if name.endswith(".gz"):
        media = "application/gzip"
    elif media.startswith("text/"):
        media += "; charset=utf-8"
    headers["Cache-Control"] = "public, max-age=60" if known and not pending else "no-cache"
    if fmt is formats.EXCEL:  # no Range: its bytes are made as they are sent
        stem = name.rsplit("/", 1)[-1].removesuffix(".csv")
        headers["Content-Disposition"] = f'attachment; filename="{formats.file_name(stem, fmt)}"'
        return StreamingResponse(_excel(path), media_type=media, headers=headers)
    return FileResponse(path, media_type=media, filename=name.rsplit("/", 1)[-1], headers=headers)
