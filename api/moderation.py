"""Moderation: the queue (``/moderation``), a resource's edit form and decisions (``/moderation/<id>``),
and its history with diffs (``/ressources/<id>/historique``: public versions for everyone, every
version and revert for moderators). The same decisions in JSON are in ``api/contribution_api.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import contributions as shared
from api.accounts import User, current_user
from api.security_forms import CSRF_FIELD
from api.sign_in import moderator, moderator_page
from graph import contributions as model
from graph.contributions import Content, ContributionError, Contributions
from graph.namespaces import DCTERMS, RDFS, SCHEMA

router = APIRouter()

# A moderator's decision on a resource: (model, id, moderator, reason) → the change made.
DECISIONS: dict[str, Callable[[Contributions, str, User, str], object]] = {
    "accepter": lambda m, rid, u, reason: m.accept(rid, u.username, u.name),
    "rejeter": lambda m, rid, u, reason: m.reject(rid, u.username, u.name, reason),
    "supprimer": lambda m, rid, u, reason: m.delete(rid, u.username, u.name, reason or None),
    "restaurer": lambda m, rid, u, reason: m.restore(rid, u.username, u.name),
}


@router.get("/moderation", response_class=HTMLResponse)
def queue(request: Request) -> Response:
    user = moderator_page(request)
    if isinstance(user, Response):
        return user
    m = shared.contributions_of(request)
    lists = {s: m.by_state(s) for s in (model.PENDING, model.ACCEPTED, model.REJECTED, model.DELETED)}
    return shared.page(request, "moderation.html", {"lists": lists, "state_labels": model.STATE_LABELS})


def _as_form(request: Request, record: model.Record) -> Content:
    """The stored content as the form shows it: territories as the lines the autocomplete writes."""
    by_iri = {e[4]: e for e in shared.territory_index(request)}
    lines = [shared.territory_line(by_iri[t]) if t in by_iri else t for t in record.content.territories]
    return replace(record.content, territories=lines)


def _edit_page(request: Request, record: model.Record, content: Content, errors: dict, status: int = 200):
    context = shared.form_context(
        request,
        content,
        errors,
        record=record,
        state_label=model.STATE_LABELS[record.state],
        history=shared.contributions_of(request).history(record.id),
        actions=model.ACTION_LABELS,
    )
    return shared.page(request, "moderation_edit.html", context, status=status)


@router.get("/moderation/{rid}", response_class=HTMLResponse)
def moderate_form(request: Request, rid: str) -> Response:
    user = moderator_page(request)
    if isinstance(user, Response):
        return user
    record = shared.contributions_of(request).record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    return _edit_page(request, record, _as_form(request, record), {})


@router.post("/moderation/{rid}", response_class=HTMLResponse)
async def moderate(request: Request, rid: str) -> Response:
    shared.check_body_size(request)
    user = moderator(request)
    form = await request.form()
    shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    m = shared.contributions_of(request)
    record = m.record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    action = str(form.get("action", ""))
    reason = str(form.get("motif", "")).strip()[:2000]
    try:
        if action in ("enregistrer", "enregistrer_accepter"):
            content, contributor = shared.posted(lambda name: [str(v) for v in form.getlist(name)])
            content.file = record.content.file if not form.get("retirer_fichier") else None
            upload = await shared.form_upload(request, form)
            checked, errors, file = shared.validate(request, content, contributor, upload, need_contact=False)
            if checked is None:
                return _edit_page(request, record, content, errors, status=422)
            if file is not None:
                checked.file = shared.store_file(request, rid, file)
            m.edit(rid, checked, user.username, user.name)
            if action == "enregistrer_accepter" and record.state == model.PENDING:
                m.accept(rid, user.username, user.name)
        elif action == "rejeter" and not reason:
            errors = {"motif": ["Indiquez le motif du rejet : il sera montré à la personne qui a proposé."]}
            return _edit_page(request, record, _as_form(request, record), errors, status=422)
        elif action in DECISIONS:
            DECISIONS[action](m, rid, user, reason)
        else:
            raise HTTPException(400, "Action inconnue.")
    except ContributionError as e:
        raise HTTPException(409, str(e).capitalize() + ".") from None
    return RedirectResponse(f"/moderation/{rid}", status_code=303)


# --- history ------------------------------------------------------------------------------------------------
PREDICATE_LABELS = {
    RDFS + "label": "Libellé",
    SCHEMA + "name": "Titre",
    SCHEMA + "description": "Résumé",
    DCTERMS + "type": "Type",
    DCTERMS + "license": "Licence",
    SCHEMA + "url": "Lien",
    DCTERMS + "subject": "Thème",
    SCHEMA + "audience": "Public",
    DCTERMS + "spatial": "Territoire",
    DCTERMS + "relation": "Projet lié",
    SCHEMA + "mentions": "Organisation liée",
    SCHEMA + "associatedMedia": "Fichier",
    DCTERMS + "created": "Proposée le",
    DCTERMS + "modified": "Modifiée le",
    SCHEMA + "datePublished": "Publiée le",
    "http://www.w3.org/ns/prov#wasAttributedTo": "Proposée par",
}


def _readable(triples: list[ox.Triple], subject: str, names: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for t in triples:
        if t.subject.value != subject or t.predicate.value not in PREDICATE_LABELS:
            continue
        value = names.get(t.object.value, t.object.value)
        if t.predicate.value == SCHEMA + "associatedMedia":
            value = t.object.value.rsplit("/", 1)[-1]
        out.append((PREDICATE_LABELS[t.predicate.value], value))
    return out


@router.get("/ressources/{rid}/historique", response_class=HTMLResponse)
def history(request: Request, rid: str) -> HTMLResponse:
    """Everyone sees the versions that were public; moderators see every version and can revert."""
    m = shared.contributions_of(request)
    record = m.record(rid)
    user = current_user(request)
    is_moderator = bool(user and user.is_moderator)
    if record is None or (not is_moderator and record.state != model.ACCEPTED):
        raise HTTPException(404, "Ressource inconnue.")
    changes = m.history(rid)
    public_versions = {c.version for c in changes if c.version and c.state_after == model.ACCEPTED}
    names = shared.labels(request)
    entries, previous = [], []
    for c in changes:
        entry = {"change": c, "label": model.ACTION_LABELS[c.action], "removed": [], "added": []}
        entry["shown"] = shown = is_moderator or c.version in public_versions
        if c.version and shown:
            # The public compares public versions only: a pending draft never leaks through a diff.
            current = m.version_content(rid, c.version)
            removed, added = model.diff(previous, current)
            entry["removed"] = _readable(removed, m.iri(rid), names)
            entry["added"] = _readable(added, m.iri(rid), names)
            previous = current
        entries.append(entry)
    context = {
        "record": record,
        "entries": [e for e in reversed(entries) if e["shown"]],
        "moderator": is_moderator,
        "state_label": model.STATE_LABELS[record.state],
    }
    return shared.page(request, "historique.html", context)


@router.post("/ressources/{rid}/historique")
async def revert(request: Request, rid: str) -> Response:
    user = moderator(request)
    form = await request.form()
    shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    try:
        version = int(str(form.get("version", "")))
        shared.contributions_of(request).revert(rid, version, user.username, user.name)
    except ValueError:
        raise HTTPException(400, "Version invalide.") from None
    except ContributionError as e:
        raise HTTPException(409, str(e).capitalize() + ".") from None
    return RedirectResponse(f"/ressources/{rid}/historique", status_code=303)
