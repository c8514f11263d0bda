"""Signing in and out (``/connexion``, ``/deconnexion``) with a session cookie, and the guards of the
moderators' routes. Accounts and sessions themselves live in ``api/accounts.py``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import SESSION_COOKIE, SESSION_SECONDS, User, current_user
from api.contributions import page, state
from api.security_forms import CSRF_FIELD, client_address, is_secure

router = APIRouter()


def _next(value: str | None) -> str:
    """Only local paths: never an open redirect."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/moderation"


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    suite = _next(request.query_params.get("suite"))
    return page(request, "connexion.html", {"suite": suite, "erreur": None})


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    st = state(request)
    form = await request.form()
    st.csrf.check(request, form.get(CSRF_FIELD))
    st.login_limit.hit("login:" + client_address(request))
    user = st.accounts.authenticate(str(form.get("identifiant", "")), str(form.get("mot_de_passe", "")))
    suite = _next(str(form.get("suite", "")))
    if user is None:
        context = {"suite": suite, "erreur": "Identifiant ou mot de passe incorrect."}
        return page(request, "connexion.html", context, status=401)
    response = RedirectResponse(suite, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        st.accounts.session_cookie(user),
        httponly=True,
        samesite="lax",
        secure=is_secure(request),
        max_age=SESSION_SECONDS,
    )
    return response


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    form = await request.form()
    state(request).csrf.check(request, form.get(CSRF_FIELD))
    state(request).accounts.end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def moderator(request: Request) -> User:
    """The signed-in moderator, else 401 (nobody signed in) or 403 (not a moderator)."""
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "Connectez-vous avec un compte de modération.")
    if not user.is_moderator:
        raise HTTPException(403, "Réservé aux modérateurs.")
    return user


def moderator_page(request: Request) -> User | Response:
    """As :func:`moderator`, but a browser nobody signed in on is sent to the sign-in page."""
    if current_user(request) is None:
        return RedirectResponse(f"/connexion?suite={request.url.path}", status_code=303)
    return moderator(request)
