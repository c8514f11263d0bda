"""``/rapprochement``: link a spreadsheet's column of names to our IRIs (``POST /rapprochement.csv`` for
scripts); the CSV comes back with the columns of ``ADDED`` and the extensions asked, streamed as it is
matched. Matching and extension values are those of ``/reconcile``: OpenRefine gets the same answer.
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.i18n import language, translator
from api.pages import base_of, render
from api.reconcile import (
    ACCEPTED_TYPES,
    ENTITY_VALUED,
    EXTENSION_PROPERTIES,
    extension_values,
    name_index,
    property_name,
    type_id,
    type_name,
)
from api.uploads import UploadError
from graph.formats import delimiter_of, french_number, joined, spreadsheet_cells
from graph.matching import TERRITORY_TYPES, TYPES, NameIndex, normalize_code

router = APIRouter()
MAX_BYTES = 32 * 1024 * 1024  # a CSV of every commune with a dozen columns is ~5 MB
ROWS_PER_CHUNK = 500  # rows matched between two writes of the stream
# The entity's columns are filled for a certain match alone (/reconcile's ``match``): a researcher copies
# them blindly. An uncertain best candidate is only named, in the candidat columns, to be checked.
ADDED = ("iri", "code_insee", "libelle", "score", "certain", "candidat", "candidat_iri")
PASTED_COLUMN = "nom"
FIELDS = ("fichier", "colle", "colonne", "type", "colonne_departement", "extension")  # the form's, no other


def _decode(data: bytes) -> tuple[str, bool]:
    """(text, whether the answer should start with a BOM): UTF-8 as most tools write it, else
    Windows-1252 as French Excel does; Excel reads UTF-8 back only after a BOM, so its files get one, and so
    does a file in plain ASCII, which any of them may have written (names typed without accents): the
    answer adds accented names (« Briançon »), and the BOM must precede the first row streamed. Only UTF-8
    proved by accented text and no BOM goes back without one."""
    if b"\0" in data:  # no text table has a NUL byte; a workbook, an image, a PDF have: not a CSV
        raise UploadError("link_not_text")
    try:
        return data.decode("utf-8-sig"), data.startswith(codecs.BOM_UTF8) or data.isascii()
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), True


def read_table(text: str) -> tuple[list[str], list[list[str]], str]:
    """(header, rows, delimiter) of a CSV whose delimiter is a comma, semicolon or tab. Lines may end as
    on any system (a lone CR: an old Mac's, which the csv module refused in English)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader, None)
        if not header:
            raise UploadError("link_empty")
        rows = [r for r in reader if any(cell.strip() for cell in r)]
    except csv.Error:  # a field of more than 128 KB: a quote left open (the module's message is English)
        raise UploadError("link_unreadable", line=reader.line_num) from None
    return [h.strip() for h in header], rows, delimiter


def extension_columns(props: list[str]) -> list[str]:
    """Entity-valued properties give two columns: the name and the code."""
    return [c for p in props for c in ([p, f"code_{p}"] if p in ENTITY_VALUED else [p])]


def linked_rows(
    index: NameIndex,
    header: list[str],
    rows: list[list[str]],
    delimiter: str,
    column: int,
    types: tuple[str, ...],
    departement_column: int | None,
    props: list[str],
    bom: bool = False,
) -> Iterator[str]:
    """The CSV out, a chunk of rows at a time; a name seen twice (in one département) is matched once. A row
    longer than the header gives the header unnamed columns up to it: no cell is lost, and the added columns
    stand under their names on every row."""
    width = max([len(header), *map(len, rows)])
    header = header + [""] * (width - len(header))
    departement_code = functools.cache(index.departement_code)
    blank = [""] * (len(ADDED) + len(extension_columns(props)))
    # No candidate is no certain match either: a filter on certain = false finds those rows too.
    none = ["", "", "", "", "false", "", ""] + blank[len(ADDED) :]
    # A semicolon table is French Excel's (its list separator): its numbers take a decimal comma, as the
    # platform's Excel downloads write them (graph/formats.py), else Excel reads « 77.9 » as text.
    number = french_number if delimiter == ";" else str

    @functools.cache
    def added(name: str, departement: str | None, postal: str | None) -> list[str]:
        deps = (departement,) if departement else ()
        found = index.match(name, types, deps, postal, limit=1) if name else []
        if not found:
            return none
        c = found[0]
        score = number(f"{c.score:g}")
        if not c.match:
            return ["", "", "", score, "false", c.entity.name, c.entity.iri] + blank[len(ADDED) :]
        cells = [c.entity.iri, c.entity.code, c.entity.name, score, "true", "", ""]
        for p in props:
            values = extension_values(index, c.entity, p)
            if p in ENTITY_VALUED:
                related = [index.entities[v["id"]] for v in values]
                cells += [joined([r.name for r in related]), joined([r.code for r in related])]
            else:
                cells.append(joined([str(next(iter(v.values()))) for v in values]))
        return cells

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(spreadsheet_cells(header + list(ADDED) + extension_columns(props)))
    for n, row in enumerate(rows, 1):
        row = row + [""] * (width - len(row))
        raw = row[departement_column].strip() if departement_column is not None else ""
        # A postal code in the département column (« 65360 », « 5000 » once Excel dropped its zero) is read
        # as /reconcile's code_postal: as a département it named none, and was dropped in silence.
        postal = normalize_code(raw, 5) if raw.isdigit() and len(raw) >= 4 else None
        found = added(row[column].strip(), None if postal or not raw else departement_code(raw), postal)
        writer.writerow(spreadsheet_cells(row + found))
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def _form(request: Request) -> dict[str, Any]:
    """The posted form → table and choices; every refusal says what to change."""
    form = await request.form(max_part_size=MAX_BYTES)
    if unknown := sorted(set(form.keys()).difference(FIELDS)):  # a misnamed field was ignored in silence
        raise UploadError("json_unknown_fields", unknown=", ".join(unknown), expected=", ".join(FIELDS))
    upload = form.get("fichier")
    pasted = form.get("colle")
    uploaded = isinstance(upload, UploadFile) and upload.filename
    if uploaded:
        data = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise UploadError("link_too_big", mb=MAX_BYTES // (1024 * 1024))
        text, bom = _decode(data)
        header, rows, delimiter = read_table(text)
    elif isinstance(pasted, str) and pasted.strip():
        lines = [line.strip() for line in pasted.splitlines() if line.strip()]
        # a download, opened in Excel as often as not, which reads « Briançon » only after a BOM
        header, rows, delimiter, bom = [PASTED_COLUMN], [[line] for line in lines], ",", True
    else:
        raise UploadError("link_nothing")
    chosen = str(form.get("colonne") or "").strip() if uploaded else PASTED_COLUMN
    column = _column(header, chosen or header[0], "colonne")
    dep_name = str(form.get("colonne_departement") or "").strip()
    departement_column = _column(header, dep_name, "colonne_departement") if dep_name else None
    asked = str(form.get("type") or "").strip()  # none: any territory level, a column may mix them
    if asked and (t := type_id(asked)) is None:
        raise UploadError("link_type_unknown", asked=asked, known=ACCEPTED_TYPES)
    props = [str(p) for p in form.getlist("extension")]
    unknown = [p for p in props if p not in EXTENSION_PROPERTIES]
    if unknown:
        raise UploadError("link_extension_unknown", asked=unknown[0], known=", ".join(EXTENSION_PROPERTIES))
    return dict(
        header=header,
        rows=rows,
        delimiter=delimiter,
        column=column,
        types=(t,) if asked else TERRITORY_TYPES,
        departement_column=departement_column,
        props=[p for p in dict.fromkeys(props) if p not in ADDED],  # code_insee is there already
        bom=bom,
    )


def _column(header: list[str], name: str, field: str) -> int:
    if name in header:
        return header.index(name)
    lowered = [h.lower() for h in header]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    raise UploadError("link_no_column", field=field, name=name, header=", ".join(header))


@router.get("/rapprochement", response_class=HTMLResponse)
def page(request: Request) -> HTMLResponse:
    lang = language(request)
    return render(
        request,
        "rapprochement.html",
        {
            "types": [(t, type_name(t, lang), cls) for t, cls in TYPES.items()],
            "extensions": [(p, property_name(p, lang)) for p in EXTENSION_PROPERTIES],
            "base": base_of(request),
        },
    )


@router.post("/rapprochement.csv")
async def linked_csv(request: Request) -> Response:
    """Multipart form: ``fichier`` (CSV) or ``colle`` (one name a line), ``colonne``, ``type`` (none: any
    territory level), ``colonne_departement``, ``extension`` (repeated)."""
    try:
        form = await _form(request)
    except UploadError as e:
        t = translator(language(request))
        return PlainTextResponse(t("link_refused", reason=t(e.key, **e.values)) + "\n", 400)
    index = await run_in_threadpool(name_index, request)  # the first read of the index takes seconds
    return StreamingResponse(
        linked_rows(index, **form),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="rapprochement.csv"',
            "X-Rows": str(len(form["rows"])),
        },
    )
