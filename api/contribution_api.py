"""The contributions in JSON (``/api/contributions``): propose (anyone, or a token's owner), and for
moderators read a resource with its history and decide on it. Field names are the form's."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from api.accounts import SESSION_COOKIE, current_user, uses_cookie_auth
from api.contributions import FIELDS, check_body_size, contributions_of, posted, propose, state
from api.moderation import DECISIONS
from api.security_forms import CSRF_HEADER, HONEYPOT_FIELD, client_address
from api.sign_in import moderator
from graph import contributions as model
from graph.contributions import ContributionError

router = APIRouter()


def _guard(request: Request) -> None:
    """A cookie-authenticated API call must carry the CSRF header (scripts use a Bearer token)."""
    if uses_cookie_auth(request) and request.cookies.get(SESSION_COOKIE):
        state(request).csrf.check(request, request.headers.get(CSRF_HEADER))


async def _json_body(request: Request) -> dict:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, "Envoyez du JSON (Content-Type: application/json).")
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: an array nested thousands deep
        raise HTTPException(400, "Corps JSON illisible.") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "Le corps doit être un objet JSON.")
    return body


def _strings(body: dict, key: str) -> list[str]:
    """A JSON value as the form's strings: a list or one value; ``true`` reads as the checkbox's "true"."""
    value = body.get(key)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _file(body: dict) -> tuple[str, bytes] | None:
    f = body.get("fichier")
    if not isinstance(f, dict):
        return None
    try:
        data = base64.b64decode(str(f.get("contenu_base64", "")))
    except (binascii.Error, ValueError):
        return None
    return (str(f.get("nom", "")), data) if data else None


@router.post("/api/contributions")
async def api_propose(request: Request) -> JSONResponse:
    """JSON proposal. 201 with the private tracking address; 422 with errors per field."""
    check_body_size(request)
    _guard(request)
    st = state(request)
    user = current_user(request)
    if user is None and request.headers.get("authorization"):
        raise HTTPException(401, "Jeton d'API inconnu.")
    if user is None and not st.settings.allow_anonymous:
        raise HTTPException(401, "Authentifiez-vous (jeton d'API) pour proposer une ressource.")
    body = await _json_body(request)
    if body.get(HONEYPOT_FIELD):
        raise HTTPException(400, "Proposition refusée.")
    st.submit_limit.hit(client_address(request))
    content, contributor = posted(lambda key: _strings(body, key))
    result = propose(request, content, contributor, _file(body))
    if isinstance(result, dict):
        return JSONResponse({"valide": False, "erreurs": result}, status_code=422)
    rid, token = result
    iri = contributions_of(request).iri(rid)
    return JSONResponse({"id": rid, "iri": iri, "etat": model.PENDING, "suivi": f"/suivi/{token}"}, 201)


@router.post("/api/contributions/{rid}/{action}")
async def api_moderate(request: Request, rid: str, action: str) -> JSONResponse:
    """``accepter``, ``rejeter`` (body {"motif": …}), ``supprimer``, ``restaurer``: moderators only."""
    _guard(request)
    user = moderator(request)
    m = contributions_of(request)
    body = await _json_body(request) if action in ("rejeter", "supprimer") else {}
    reason = str(body.get("motif", "")).strip()[:2000]
    if action not in DECISIONS:
        raise HTTPException(404, "Action inconnue.")
    if action == "rejeter" and not reason:
        return JSONResponse({"valide": False, "erreurs": {"motif": ["Le motif est obligatoire."]}}, 422)
    try:
        DECISIONS[action](m, rid, user, reason)
    except ContributionError as e:
        raise HTTPException(404 if "inconnue" in str(e) else 409, str(e).capitalize() + ".") from None
    return JSONResponse({"id": rid, "etat": m.state(rid)})


@router.get("/api/contributions/{rid}")
def api_record(request: Request, rid: str) -> JSONResponse:
    """Moderators only (pending content is not public); the contributor's email is never in it."""
    moderator(request)
    m = contributions_of(request)
    record = m.record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    c = record.content
    return JSONResponse(
        {
            "id": rid,
            "iri": record.iri,
            "etat": record.state,
            "version": record.version,
            **{name: getattr(c, attribute) for name, attribute in FIELDS.items()},
            "fichier": c.file.url if c.file else None,
            "historique": [
                {
                    "numero": h.number,
                    "action": h.action,
                    "date": h.at,
                    "par": h.agent_label,
                    "version": h.version,
                    "motif": h.reason,
                }
                for h in m.history(rid)
            ],
        }
    )
