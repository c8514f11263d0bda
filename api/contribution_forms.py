"""The contributor's side: the proposal form (``/ressources/proposer``, without JavaScript) and its JSON
twin (``/api/contributions``), the private follow-up pages (``/suivi/<jeton>``, and an account's
``/mes-propositions``), the form's territory autocomplete and the files of accepted resources."""

from __future__ import annotations

import base64
import contextlib
import threading
from typing import Any

import jsonschema
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api import contributions as shared
from api.accounts import CSRF_FIELD, HONEYPOT_FIELD, current_user, sign_in_redirect
from api.i18n import language, translator
from api.named_queries import refusals
from api.uploads import INLINE, TYPES, UploadError, locate
from graph import contributions as model
from graph.contact import EMAIL_REMOVED, NAME_REMOVED, PHONE_REMOVED
from graph.store import StoreError

router = APIRouter()


@router.get("/ressources/proposer", response_class=HTMLResponse)
def propose_form(request: Request) -> HTMLResponse:
    """The form, filled with the fields its query names as the form posts them (a page's « Signaler une
    erreur » link gives its address and territory: api/resources.py correction_href)."""
    if current_user(request) is None and not shared.state(request).settings.allow_anonymous:
        return sign_in_redirect(request)  # back to the form, filled
    # The autocomplete's index is built while the visitor reads the form.
    if shared.state(request).territories is None:
        threading.Thread(target=_warm_up, args=(request,), daemon=True, name="territory-index").start()
    content, _ = shared.posted(request.query_params.getlist)
    report = shared.report_of(request, content, language(request))
    return shared.page(request, "contrib_form.html", shared.form_context(request, content, {}, report=report))


def _warm_up(request: Request) -> None:
    """Ahead of the autocomplete, best effort: with the store down, the next request that needs the index
    builds it (and tells of the outage)."""
    with contextlib.suppress(StoreError):
        shared.territory_index(request)


@router.post("/ressources/proposer", response_class=HTMLResponse)
async def propose_post(request: Request) -> Response:
    """Only the form is read on the event loop: the rest reads and writes the store, which a hung remote
    server holds for seconds (graph/remote.py), and every other request of the process would wait too."""
    shared.check_body_size(request, "form_too_large")
    form = await request.form()
    return await run_in_threadpool(_propose, request, form)


def _propose(request: Request, form: FormData) -> Response:
    st = shared.state(request)
    content, contributor = shared.posted(lambda name: [str(v) for v in form.getlist(name)])
    t = translator(language(request))

    def again(status: int, errors: dict, refusal: str = "", headers: dict | None = None) -> Response:
        """The form again with what was typed (browsers never send a file twice): an expired form or
        the rate limit must not cost the person their text."""
        report = shared.report_of(request, content, language(request))
        context = shared.form_context(request, content, errors, contributor, form, refusal, report=report)
        response = shared.page(request, "contrib_form.html", context, status=status)
        response.headers.update(headers or {})
        return response

    try:
        st.csrf.check(request, form.get(CSRF_FIELD))
    except HTTPException:
        return again(403, {}, t("form_expired"))
    if current_user(request) is None and not st.settings.allow_anonymous:
        raise HTTPException(403, t("sign_in_to_propose"))
    if form.get(HONEYPOT_FIELD):  # bots fill every field, the hidden one too
        raise HTTPException(400, t("bot_refused", field=HONEYPOT_FIELD))
    upload = shared.form_upload(request, form)
    try:
        result = shared.propose(request, content, contributor, upload)
    except HTTPException as e:
        if e.status_code != 429:
            raise
        wait = t("seconds", n=int(e.headers["Retry-After"]))
        return again(429, {}, t("form_too_many", wait=wait), e.headers)
    if isinstance(result, dict):
        return again(422, result)
    renamed = "&renomme=1" if "file_renamed" in result[2] else ""  # the name sent is not kept to tell
    return RedirectResponse(f"/suivi/{result[1]}?nouvelle=1{renamed}", status_code=303)


# The JSON API's proposal, as /openapi.json publishes it: its fields are the form's (api/contributions.py
# FIELDS) and the contributor's. Another field, or one that is not what this says (one IRI where a list of
# them is due), is a 400 naming it; the values are then checked as the form's are (422, errors per field).
PROPOSAL: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{name: {"type": "string"} for name in (*shared.FIELDS, "nom", "courriel")},
        **{
            name: {"type": "array", "items": {"type": "string"}}
            for name, attribute in shared.FIELDS.items()
            if attribute in model.LINK_FIELDS  # IRIs, ends or names; territories also as codes
        },
        "nom_public": {"type": "boolean", "description": "Montrer le nom (sinon : anonyme)."},
        "fichier": {
            "type": "object",
            "properties": {"nom": {"type": "string"}, "contenu_base64": {"type": "string", "format": "byte"}},
            "required": ["nom", "contenu_base64"],
        },
    },
    "additionalProperties": False,
}
for name in shared.CHOSEN:  # no enum: the lists live in the store (a 422 gives a list's values)
    PROPOSAL["properties"][name]["description"] = (
        "Son IRI, la fin de son IRI (mobilite) ou son nom (Mobilité), accents et casse indifférents."
    )
# An event's fields (type evenement), which a client learns here rather than from a 422.
WHEN = (
    "JJ/MM/AAAA ou AAAA-MM-JJ, l'heure après un « T » ou une espace, à l'heure de Paris sauf décalage donné"
)
EVENT_FIELDS = {
    "debut": (f"Début d'un événement, requis pour lui : {WHEN}.", "2027-01-15T09:00"),
    "fin": (f"Fin d'un événement, après son début : {WHEN}.", "2027-01-15T12:00"),
    "lieu": (
        "Lieu d'un événement, tel qu'un visiteur le lit (300 caractères au plus).",
        "Salle des fêtes, Abriès",
    ),
}
for name, (description, example) in EVENT_FIELDS.items():
    said = f"{description} Avec un autre type : refusé (422)."
    PROPOSAL["properties"][name] |= {"description": said, "example": example}  # OpenAPI 3.0: one
API_FIELDS = list(PROPOSAL["properties"])  # what the JSON API reads
MALFORMED = {"string": "json_not_string", "array": "json_not_list", "boolean": "json_not_boolean"}
STRING = {"type": "string"}
PROPOSED = {  # the 201's body
    "type": "object",
    "properties": {"id": STRING, "iri": STRING, "etat": STRING, "suivi": STRING, "avertissement": STRING},
    "required": ["id", "iri", "etat", "suivi"],
}
ERRORS = {  # a 422's body: what to fix, per field
    "type": "object",
    "properties": {
        "valide": {"type": "boolean"},
        "erreurs": {"type": "object", "additionalProperties": {"type": "array", "items": STRING}},
    },
    "required": ["valide", "erreurs"],
}


def _strings(body: dict, key: str) -> list[str]:
    """A JSON value (checked) as the form's strings; ``true`` reads as the checkbox's "true"."""
    value = body.get(key)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(v).lower() if isinstance(v, bool) else v for v in values]


def _file(body: dict) -> tuple[str, bytes] | UploadError | None:
    """The attached file, or why ``fichier`` cannot be one (blamed on it, not on the missing link)."""
    f = body.get("fichier")
    if f is None:
        return None
    if not isinstance(f, dict):
        return UploadError("err_file_object")
    try:  # strictly: b64decode would drop what is not base64 and read "!!!" as an empty file
        data = base64.b64decode("".join(str(f.get("contenu_base64", "")).split()), validate=True)
    except ValueError:  # binascii.Error is one
        return UploadError("err_file_base64")
    return str(f.get("nom", "")), data


@router.post(
    "/api/contributions",
    status_code=201,
    summary="Proposer une ressource",
    description="Une proposition, publiée une fois acceptée par la modération. Sans compte (si le site "
    "l'accepte), nom et courriel sont requis. La réponse donne l'adresse privée de suivi.",
    tags=["contributions"],
    responses={
        201: {"description": "Proposée", "content": {"application/json": {"schema": PROPOSED}}},
        422: {"description": "À corriger", "content": {"application/json": {"schema": ERRORS}}},
        **refusals(
            {
                400: "Champ inconnu, ou corps illisible",
                401: "Jeton inconnu, ou compte requis",
                403: "Jeton CSRF absent (session)",
                413: "Envoi trop volumineux",
                415: "Corps non JSON",
                429: "Trop de propositions",
            }
        ),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": PROPOSAL}}},
        "security": [{}, {"jeton": []}, {"session": []}],
    },
)
async def api_propose(request: Request) -> JSONResponse:
    """201 with the private tracking address; 422 with errors per field."""
    shared.check_body_size(request, base64=True)
    shared.api_guard(request)
    user, t = current_user(request), translator(language(request))
    if user is None and request.headers.get("authorization"):
        raise HTTPException(401, t("api_token_unknown"))
    if user is None and not shared.state(request).settings.allow_anonymous:
        raise HTTPException(401, t("api_sign_in"))
    body = await shared.json_body(request, API_FIELDS)
    for name, value in body.items():  # each as PROPOSAL says; the file's own check says more (422)
        schema = PROPOSAL["properties"][name]
        if name != "fichier" and not jsonschema.Draft7Validator(schema).is_valid(value):
            raise HTTPException(400, t(MALFORMED[schema["type"]], field=name))
    content, contributor = shared.posted(lambda key: _strings(body, key))
    # The store's reads and writes off the event loop, as propose_post's.
    result = await run_in_threadpool(shared.propose, request, content, contributor, _file(body))
    if isinstance(result, dict):
        return JSONResponse({"valide": False, "erreurs": result}, status_code=422)
    rid, token, notes = result
    iri = shared.contributions_of(request).iri(rid)
    answer = {"id": rid, "iri": iri, "etat": model.PENDING, "suivi": f"/suivi/{token}"}
    if notes:
        answer["avertissement"] = " ".join(t(key) for key in notes)
    return JSONResponse(answer, 201)


@router.get("/suivi/{token}", response_class=HTMLResponse)
def follow(request: Request, token: str) -> HTMLResponse:
    m = shared.contributions_of(request)
    response = _follow_page(request, m, m.by_token(token))
    response.headers["Referrer-Policy"] = "no-referrer"  # the address is the secret
    return response


@router.post("/suivi/{token}", response_class=HTMLResponse)
async def withdraw_by_token(request: Request, token: str) -> Response:
    """The follow-up address proves the proposal is theirs, as it does to read it."""
    m = shared.contributions_of(request)
    await _withdraw(request, m, await run_in_threadpool(m.by_token, token))
    return RedirectResponse(f"/suivi/{token}", status_code=303)


@router.get("/mes-propositions", response_class=HTMLResponse)
def my_proposals(request: Request) -> Response:
    """What the signed-in person proposed, in any state: the follow-up pages of an account."""
    user = current_user(request)
    if user is None:
        return sign_in_redirect(request)
    m = shared.contributions_of(request)
    context = {"items": m.of_account(user.username), "labels": shared.labels(request), "kind_iri": m.kind_iri}
    return shared.page(request, "mes_propositions.html", context)


@router.get("/mes-propositions/{rid}", response_class=HTMLResponse)
def my_proposal(request: Request, rid: str) -> Response:
    """One's own proposal's follow-up page, without its link: another's is a 404, as an unknown one."""
    user = current_user(request)
    if user is None:
        return sign_in_redirect(request)
    m = shared.contributions_of(request)
    return _follow_page(request, m, rid if m.owns(user.username, rid) else None)


@router.post("/mes-propositions/{rid}", response_class=HTMLResponse)
async def withdraw_mine(request: Request, rid: str) -> Response:
    user = current_user(request)
    if user is None:
        return sign_in_redirect(request)
    m = shared.contributions_of(request)
    await _withdraw(request, m, rid if await run_in_threadpool(m.owns, user.username, rid) else None)
    return RedirectResponse(f"/mes-propositions/{rid}", status_code=303)


async def _withdraw(request: Request, m: model.Contributions, rid: str | None) -> None:
    """Withdrawn while pending only (a decision made is the moderators'); another's is a 404."""
    shared.check_body_size(request, "form_too_large")
    form = await request.form()
    shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    if rid is None:
        raise HTTPException(404, translator(language(request))("follow_unknown"))
    try:
        await run_in_threadpool(m.withdraw, rid)
    except model.ContributionError as e:
        raise HTTPException(409, str(e).capitalize() + ".") from None


def _follow_page(request: Request, m: model.Contributions, rid: str | None) -> HTMLResponse:
    """Everything the contributor gave, but what is private; whenever a public text holds what scrub()
    left of contact details, why (not only on the visit right after proposing)."""
    record = m.record(rid) if rid else None
    if record is None:
        raise HTTPException(404, translator(language(request))("follow_unknown"))
    history = m.history(rid)
    # The reason of the decision that put it in its state (a rejection, deletion or closing), if it gave one.
    reason = history[-1].reason if history else None
    context = {
        "record": record,
        "reason": reason if record.state in (model.REJECTED, model.DELETED, model.CLOSED) else None,
        "history": history,
        "new": request.query_params.get("nouvelle") == "1",
        "renamed": request.query_params.get("renomme") == "1",
        "report": bool(m.reported(record.content)),  # thanked as a report, not a proposal
        "contact_removed": any(
            mark in text
            for text in (record.contributor_label, *(getattr(record.content, n) for n in shared.PUBLIC_TEXTS))
            for mark in (EMAIL_REMOVED, PHONE_REMOVED, NAME_REMOVED)
        ),
        "labels": (names := shared.labels(request)),
        "kind_label": names.get(m.kind_iri(record.content.kind), record.content.kind),
    }
    response = shared.page(request, "suivi.html", context)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get("/territoires/autocomplete")
def autocomplete(request: Request, q: str = "") -> JSONResponse:
    found = shared.search_territories(request, q[:100])
    t = translator(language(request))
    return JSONResponse(
        [
            {
                "iri": e.iri,
                "label": e.label,
                "type": e.kind,
                "type_libelle": t("word_" + e.kind),
                "code": e.code,
                "valeur": e.line,
            }
            for e in found
        ]
    )


@router.get("/fichiers/{rid}/{name}")
def uploaded_file(request: Request, rid: str, name: str) -> FileResponse:
    """Public only as the file the current public version points to: a file of an older version (maybe
    hidden from the public history) or of an edit that was refused stays in the folder, for moderators."""
    path = locate(shared.state(request).uploads, rid, name)  # None unless both names are safe
    record = shared.contributions_of(request).record(rid) if path else None
    current = record and record.state == model.ACCEPTED and record.content.file
    public = bool(current and current.url.endswith(f"/fichiers/{rid}/{name}"))
    user = current_user(request) if record and not public else None
    if not public and not (user and user.is_moderator):
        raise HTTPException(404, translator(language(request))("file_unknown"))
    media_type, _ = TYPES.get(name.rsplit(".", 1)[-1], ("application/octet-stream", None))
    return FileResponse(
        path,
        media_type=media_type,
        content_disposition_type="inline" if media_type in INLINE else "attachment",
        filename=name,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
