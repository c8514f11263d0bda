"""Moderation: signing in (``/connexion``, ``/deconnexion``), the queue (``/moderation``), a resource's edit
form and decisions (``/moderation/<id>``, in JSON ``/api/contributions/<id>``), and its history with diffs
(``/ressources/<id>/historique``: public versions for everyone, every version and revert for moderators)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api import accounts, conneg
from api import contributions as shared
from api.accounts import CSRF_FIELD, User, current_user
from api.contribution_forms import ERRORS, PROPOSAL, STRING
from api.i18n import data_label, language, translator
from api.lists import kind_label
from api.named_queries import refusals
from api.pages import local_path, render, store_of
from graph import contributions as model
from graph import formats, search
from graph.contact import EMAIL_REMOVED, NAME_REMOVED, PHONE_REMOVED, scrub
from graph.contributions import Content, ContributionError, Contributions, StaleVersion, UnknownContribution
from graph.namespaces import DCTERMS, PROV, RDFS, SCHEMA
from graph.terms import Triples, iri, lit

router = APIRouter()

# A moderator's decision on a resource: (model, id, moderator, reason, version seen) → the change made.
DECISIONS: dict[str, Callable[[Contributions, str, User, str, int | None], object]] = {
    "accepter": lambda m, rid, u, reason, seen: m.accept(rid, u.username, u.name, seen),
    "rejeter": lambda m, rid, u, reason, seen: m.reject(rid, u.username, u.name, reason, seen),
    "traiter": lambda m, rid, u, reason, seen: m.close(rid, u.username, u.name, reason or None, seen),
    "supprimer": lambda m, rid, u, reason, seen: m.delete(rid, u.username, u.name, reason or None, seen),
    "restaurer": lambda m, rid, u, reason, seen: m.restore(rid, u.username, u.name, seen),
}

# Every action of the page, each said by the page it leads back to (Post/Redirect/Get: ``?fait=<action>``).
DONE = (*DECISIONS, "enregistrer", "enregistrer_accepter")
REASON_MAX = 2000  # characters of a decision's reason: the form's maxlength, and refused beyond by the server


def _reason_errors(action: str, reason: str) -> dict[str, list[str]]:
    """A decision's reason, checked alike in the form and the JSON API: a rejection needs one (the
    contributor is told why) and none is cut (they would read half of it)."""
    if action == "rejeter" and not reason:
        return {"motif": ["Indiquez le motif du rejet : il sera montré à la personne qui a proposé."]}
    if len(reason) > REASON_MAX:
        return {"motif": [STAFF["t"]("err_too_long", high=REASON_MAX, n=len(reason))]}
    return {}


def _refused(e: ContributionError) -> HTTPException:
    """The same status in the pages and the JSON API: 404 for what does not exist, 409 for a state the
    operation does not apply to (accepting an accepted resource)."""
    return HTTPException(404 if isinstance(e, UnknownContribution) else 409, str(e).capitalize() + ".")


def _seen(value: object) -> int | None:
    """The version the moderator's page showed (its forms carry it), that a write must still find; none
    sent (a script that read nothing first) is not checked."""
    if value in (None, ""):
        return None
    # Not str.isdigit(): it takes « ² » and numbers of thousands of digits, that int() then refuses.
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,9}", str(value)):
        raise HTTPException(400, "Version vue invalide : un entier, celui que donne la page ou l'API.")
    return int(str(value))


# --- signing in ---------------------------------------------------------------------------------------------
def _next(value: str | None) -> str:
    """Only local paths: never an open redirect; none given is "" (the role decides, see :func:`login`)."""
    return value if value and value.startswith("/") and not value.startswith("//") else ""


def _home(user: User) -> str:
    """Where a sign-in without ``suite`` leads: a contributor has no business on the moderators' queue."""
    return "/moderation" if user.is_moderator else "/ressources/proposer"


@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    suite = _next(request.query_params.get("suite"))
    return shared.page(request, "connexion.html", {"suite": suite, "erreur": None, "username": ""})


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    st = shared.state(request)
    form = await request.form()
    st.csrf.check(request, form.get(CSRF_FIELD))
    st.login_limit.hit("login:" + accounts.client_address(request), language(request))
    users: accounts.Accounts = request.app.state.accounts
    username = str(form.get("identifiant", ""))
    user = users.authenticate(username, str(form.get("mot_de_passe", "")))
    suite = _next(str(form.get("suite", "")))
    if user is None:  # the username typed comes back, never the password
        context = {
            "suite": suite,
            "erreur": translator(language(request))("login_failed"),
            "username": username,
        }
        return shared.page(request, "connexion.html", context, status=401)
    response = RedirectResponse(suite or _home(user), status_code=303)
    response.set_cookie(
        accounts.SESSION_COOKIE,
        users.session_cookie(user),
        httponly=True,
        samesite="lax",
        secure=accounts.is_secure(request),
        max_age=accounts.SESSION_SECONDS,
    )
    return response


@router.post("/deconnexion")
async def logout(request: Request) -> Response:
    form = await request.form()
    shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    request.app.state.accounts.end_session(request.cookies.get(accounts.SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(accounts.SESSION_COOKIE)
    return response


def moderator(request: Request) -> User:
    """The signed-in moderator, else 401 (nobody signed in) or 403 (not a moderator)."""
    user, t = current_user(request), translator(language(request))
    if user is None:
        raise HTTPException(401, t("moderators_sign_in"))
    if not user.is_moderator:
        raise HTTPException(403, t("moderators_only"))
    return user


def sign_in_first(request: Request) -> Response | None:
    """As :func:`moderator`, but a browser nobody signed in on is sent to the sign-in page."""
    if current_user(request) is None:
        return accounts.sign_in_redirect(request)
    moderator(request)
    return None


# --- the queue and decisions ----------------------------------------------------------------------------
# The association's staff work in French: their pages say so in any language rather than claim English.
STAFF = {"lang": "fr", "t": translator("fr")}


@router.get("/moderation", response_class=HTMLResponse)
def queue(request: Request) -> Response:
    if redirect := sign_in_first(request):
        return redirect
    m = shared.contributions_of(request)
    states = (model.PENDING, model.ACCEPTED, model.REJECTED, model.CLOSED, model.DELETED)
    lists = {s: m.by_state(s) for s in states}
    # Pending reports first: quick to handle, and about data already published (a stable sort).
    lists[model.PENDING].sort(key=lambda x: not m.reported(x))
    context = {
        "lists": lists,
        "labels": shared.labels(request),
        "kind_iri": m.kind_iri,
        "reported": m.reported,
        **STAFF,
    }
    return shared.page(request, "moderation.html", context)


def _as_form(request: Request, record: model.Record) -> Content:
    """The stored content as the form shows it: territories as the lines the autocomplete writes."""
    by_iri = shared.territory_index(request)
    lines = [by_iri[t].line if t in by_iri else t for t in record.content.territories]
    return replace(record.content, territories=lines)


NEAR = 3  # published things a pending proposal's page lists as maybe the same


def _near(request: Request, title: str) -> list[tuple[str, str, str]]:
    """(path, label, kind) of what the site's search finds first for a proposal's title: a duplicate
    differs in accents, case or subtitle (« Etat des lieux 2022 - dynamique… », « État des Lieux 2022 »),
    and every word searched must match: the title before its subtitle is searched. Nothing while the
    index's first build is under way: the page never waits for it."""
    cat = search.catalog_within(store_of(request), 0.0)
    if cat is None:
        return []
    head, lang, t = re.split(r"\s[-–—:]\s|[:(…]", title)[0], STAFF["lang"], STAFF["t"]
    found = cat.search(head, [], {}, 0, NEAR, lang)[1]
    return [
        (local_path(it.iri, cat.base), cat.label(it.iri, lang), kind_label(cat, it, t)) for it, _ in found
    ]


def _edit_page(
    request: Request,
    record: model.Record,
    content: Content,
    errors: dict,
    status: int = 200,
    reasons: dict[str, str] | None = None,
    done: str = "",
    **refused,
):
    """The moderator is warned of public fields that look like they hold an email address or a phone
    number: they would be published as typed. A report names the page it is about by its label, for the
    moderator to correct it there. ``refused``: the form as sent and why (form_context);
    ``reasons``: the reason typed in a refused decision's form, by action, shown in it again; ``done``: what
    the action just made did, said first (a screen reader hears nothing of a page reloaded the same)."""
    public = {
        "titre": content.title,
        "resume": content.summary,
        "url": content.url or "",
        "lieu": content.place,
    }
    m = shared.contributions_of(request)
    reported = shared.report_of(request, record.content, STAFF["lang"])
    # A contribution reported on is corrected here, in its own moderation page (README, « Signaler »).
    contributed = (record.content.url or "").removeprefix(m.iri(""))
    if reported and re.fullmatch(RID_PATTERN, contributed) and m.state(contributed):
        reported["moderate"] = f"/moderation/{contributed}"
    # What scrub() took out of the texts sent (its marks in them): the same person may be named otherwise.
    texts = (record.contributor_label, *(getattr(record.content, name) for name in shared.PUBLIC_TEXTS))
    marks = (EMAIL_REMOVED, PHONE_REMOVED, NAME_REMOVED)
    removed = [m[1:].split()[0] for m in marks if any(m in text for text in texts)]  # « courriel »…
    context = shared.form_context(
        request,
        content,
        errors,
        **refused,
        record=record,
        named=record.contributor_label != model.ANONYMOUS_LABEL,  # a name a moderator may hide
        history=m.history(record.id),
        reported=reported,
        public_href=local_path(m.iri(record.id), m.minter.base) if record.state == model.ACCEPTED else "",
        personal=[STAFF["t"]("field_" + name) for name, text in public.items() if scrub(text) != text],
        removed=removed,
        near=_near(request, record.content.title) if record.state == model.PENDING and not reported else [],
        reasons=reasons or {},
        reason_max=REASON_MAX,
        done=done,
        **STAFF,
    )
    return shared.page(request, "moderation_edit.html", context, status=status)


@router.get("/moderation/{rid}", response_class=HTMLResponse)
def moderate_form(request: Request, rid: str) -> Response:
    if redirect := sign_in_first(request):
        return redirect
    record = shared.contributions_of(request).record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    done = request.query_params.get("fait", "")  # only an action's own words: no text from the address
    said = STAFF["t"]("done_" + done) if done in DONE else ""
    return _edit_page(request, record, _as_form(request, record), {}, done=said)


@router.post("/moderation/{rid}", response_class=HTMLResponse)
async def moderate(request: Request, rid: str) -> Response:
    """The form on the event loop, the store's reads and writes off it (as api/contribution_forms.py
    ``propose_post``)."""
    shared.check_body_size(request)
    user = moderator(request)
    form = await request.form()
    return await run_in_threadpool(_moderate, request, rid, user, form)


def _moderate(request: Request, rid: str, user: User, form: FormData) -> Response:
    m = shared.contributions_of(request)
    record = m.record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    action = str(form.get("action", ""))
    reason = str(form.get("motif", "")).strip()
    edit = action in ("enregistrer", "enregistrer_accepter")
    seen = _seen(form.get("version_vue"))
    content, contributor = shared.posted(lambda name: [str(v) for v in form.getlist(name)])
    content.file = record.content.file if not form.get("retirer_fichier") else None
    try:  # an edit that took long comes back as typed, as a proposal does (the session cookie is SameSite)
        shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    except HTTPException:
        shown = content if edit else _as_form(request, record)
        expired = STAFF["t"]("form_expired")
        return _edit_page(request, record, shown, {}, 403, {action: reason}, sent=form, refusal=expired)
    try:
        if edit:
            upload = shared.form_upload(request, form)
            checked, errors, file = shared.validate(
                request, content, contributor, upload, need_contact=False, lang=STAFF["lang"]
            )
            if checked is None:
                return _edit_page(request, record, content, errors, status=422, sent=form)
            if action == "enregistrer_accepter":  # refused before the edit is saved, not after
                m.check_report(checked, closing=False)
            if file is not None:
                checked.file = shared.store_file(request, rid, file)
            hidden = bool(form.get("masquer_nom")), seen, bool(form.get("masquer_historique"))
            try:
                m.edit(rid, checked, user.username, user.name, *hidden)
            except ContributionError:  # the file, saved before the check (made under the lock), is unused
                if file is not None:  # save() gave it its final name
                    (shared.state(request).uploads / rid / file.name).unlink(missing_ok=True)
                raise
            if action == "enregistrer_accepter" and record.state == model.PENDING:
                m.accept(rid, user.username, user.name)  # the version this edit just wrote
        elif action in DECISIONS and (errors := _reason_errors(action, reason)):
            shown = _as_form(request, record)
            return _edit_page(request, record, shown, errors, status=422, reasons={action: reason})
        elif action in DECISIONS:
            DECISIONS[action](m, rid, user, reason, seen)
        else:
            raise HTTPException(400, "Action inconnue.")
    except UnknownContribution as e:
        raise _refused(e) from None
    except ContributionError as e:  # what was typed comes back, over the resource as it is now, with why
        now = m.record(rid) or record
        shown = content if edit else _as_form(request, now)
        said = _refused(e).detail
        if isinstance(e, StaleVersion):
            said = f"{str(e).capitalize()} ; vos modifications sont rappelées ci-dessous."
        return _edit_page(request, now, shown, {}, 409, {action: reason}, sent=form, refusal=said)
    return RedirectResponse(f"/moderation/{rid}?fait={action}", status_code=303)


# --- history ------------------------------------------------------------------------------------------------
# The fields a person edits, and who proposed (the name they chose), by their names' keys in api/i18n.py:
# not the label repeating the title, nor the dates the platform writes (each change is headed by its own).
PREDICATE_LABELS = {
    SCHEMA + "name": "field_titre",
    SCHEMA + "description": "field_resume",
    DCTERMS + "type": "field_kind",
    DCTERMS + "license": "field_licence",
    SCHEMA + "url": "field_url",
    DCTERMS + "subject": "field_theme",
    SCHEMA + "audience": "field_public",
    DCTERMS + "spatial": "field_territoire",
    DCTERMS + "relation": "field_projet",
    SCHEMA + "mentions": "field_organisation",
    SCHEMA + "associatedMedia": "field_fichier",
    SCHEMA + "startDate": "field_debut",
    SCHEMA + "endDate": "field_fin",
    SCHEMA + "location": "field_lieu",
    PROV + "wasAttributedTo": "field_proposed_by",
}


def _readable(triples: set[ox.Triple], subject: str, names: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, value, predicate) of the triples of ``subject``, in a stable order."""
    out = []
    for t in sorted(triples, key=str):
        if t.subject.value != subject or t.predicate.value not in PREDICATE_LABELS:
            continue
        value = names.get(t.object.value, t.object.value)
        if t.predicate.value == PROV + "wasAttributedTo":  # the name the contributor made public, if any
            value = names.get(t.object.value, model.ANONYMOUS_LABEL)
        if t.predicate.value == SCHEMA + "associatedMedia":
            value = t.object.value.rsplit("/", 1)[-1]
        out.append((PREDICATE_LABELS[t.predicate.value], value, t.predicate.value))
    return out


# The page, then its twins: its entries as JSON, its change sets as RDF (application/json is the JSON).
HISTORY_FORMATS = (formats.HTML, formats.JSON, *formats.DESCRIPTION)


@router.get("/ressources/{rid}/historique", response_class=HTMLResponse)
@router.get("/ressources/{rid}/historique.{ext}", include_in_schema=False)  # .json, .ttl…: its twins
def history(request: Request, rid: str, ext: str | None = None) -> Response:
    """Everyone sees the versions that were public; moderators see every version and can revert. The twins
    are the public page's whoever asks (a moderator's session never puts a pending draft in data), built
    from what it shows: no public triple is written for them."""
    return _history(request, rid, conneg.choose(request, HISTORY_FORMATS, ext))


def _history(
    request: Request, rid: str, fmt: formats.Format, refusal: str = "", status: int = 200
) -> Response:
    """The history in ``fmt``; ``refusal``: why a revert sent from its page was refused, said at its top."""
    m = shared.contributions_of(request)
    record = m.record(rid)
    user = current_user(request)
    is_moderator = bool(user and user.is_moderator) and fmt is formats.HTML
    lang = language(request)
    if not is_moderator and m.withdrawn(rid):
        # Its IRI was public and now answers 410: its history says the same, and no longer shows its versions.
        if fmt is not formats.HTML:
            raise HTTPException(410, translator(lang)("resource_unknown"))
        return render(
            request, "not_found.html", {"iri": m.iri(rid), "gone": True, "removed": None}, status_code=410
        )
    if record is None or (not is_moderator and record.state != model.ACCEPTED):
        raise HTTPException(404, translator(lang)("resource_unknown"))
    changes = m.history(rid)
    # A moderator's edit that took personal data out hides the versions before it from the public.
    hidden = max((c.number for c in changes if c.hides_earlier), default=0)
    public_versions = {
        c.version for c in changes if c.version and c.state_after == model.ACCEPTED and c.number >= hidden
    }
    names = shared.labels(request)
    entries, previous = [], set()
    for c in changes:
        entry = {"change": c, "removed": [], "added": []}
        entry["shown"] = shown = is_moderator or c.version in public_versions
        if c.version and shown:
            # The public compares public versions only: a pending draft never leaks through a diff.
            current = set(m.version_content(rid, c.version))
            names |= {t.subject.value: t.object.value for t in current if t.predicate.value == RDFS + "label"}
            entry["removed"] = _readable(previous - current, m.iri(rid), names)
            entry["added"] = _readable(current - previous, m.iri(rid), names)
            previous = current
        entries.append(entry)
    public = [e for e in entries if e["shown"]]  # everything, for a moderator's page
    headers = {"Vary": "Accept"}
    if fmt is formats.JSON:
        return JSONResponse(_history_json(record, public, lang, bool(hidden)), headers=headers)
    if fmt is not formats.HTML:
        body = formats.serialize(_history_rdf(m, rid, [e["change"] for e in public]), fmt)
        return Response(body, media_type=fmt.media_type, headers=headers)
    context = {
        "record": record,
        "entries": public[::-1],
        "moderator": is_moderator,
        "hidden": hidden,
        "refusal": refusal,
        "revertible_from": m.hidden_before(rid),  # earlier versions hold what a hiding edit took out
        # The twins are the public history's: a resource not public (pending, withdrawn) has none to link.
        "formats": [
            (f.extension, f.media_type) for f in HISTORY_FORMATS[1:] if record.state == model.ACCEPTED
        ],
    }
    response = shared.page(request, "historique.html", context, status=status)
    response.headers.update(headers)
    return response


def _history_json(record: model.Record, entries: list[dict], lang: str, hidden: bool) -> dict:
    """The page's entries, oldest first, with the keys of ``/api/contributions/<id>``'s history; each
    changed field by its property (its CURIE) and its words in the asked language."""
    t = translator(lang)

    def fields(rows: list[tuple[str, str, str]]) -> list[dict]:
        return [
            {"propriete": formats.curie(p), "champ": t(f), "valeur": data_label(v, lang)} for f, v, p in rows
        ]

    return {
        "id": record.id,
        "iri": record.iri,
        "versions_anterieures_masquees": hidden,
        "historique": [
            {
                "numero": c.number,
                "action": c.action,
                "libelle": t("action_" + c.action),
                "date": c.at,
                "par": data_label(c.agent_label, lang),
                "version": c.version,
                "retour_a": c.derived_from,
                "motif": c.reason,
                "retire": fields(e["removed"]),
                "ajoute": fields(e["added"]),
            }
            for e in entries
            for c in [e["change"]]
        ],
    }


def _history_rdf(m: Contributions, rid: str, changes: list[model.ChangeSet]) -> Triples:
    """The public change sets as PROV-O, as the private history graph writes them but only what the page
    shows: the agent a blank node with its public name (no pseudonym's IRI), a version's previous public
    one as the one it revises."""
    r = iri(m.iri(rid))
    out, previous = Triples(), None
    public = {c.version for c in changes if c.version}
    for c in changes:
        node, at = iri(m.change_iri(rid, c.number)), lit(c.at, datatype="xsd:dateTime")
        out.a(node, "prov:Activity", "cs:Modification")
        out.label(node, model.ACTION_LABELS[c.action])
        out.add(node, "cs:action", c.action)
        out.add(node, "cs:numero", c.number)
        out.add(node, "prov:startedAtTime", at)
        out.add(node, "prov:endedAtTime", at)
        agent = ox.BlankNode()
        out.add(node, "prov:wasAssociatedWith", agent)
        out.a(agent, "prov:Agent")
        out.label(agent, c.agent_label)
        out.add(node, "cs:motif", c.reason, "fr")
        if c.hides_earlier:  # as the page and the JSON twin say it
            out.add(node, "cs:masqueAvant", True)
        if c.version:
            v = iri(m.version_iri(rid, c.version))
            out.add(node, "prov:generated", v)
            out.a(v, "prov:Entity")
            out.label(v, f"Version {c.version}")
            out.add(v, "prov:specializationOf", r)
            out.add(v, "prov:wasGeneratedBy", node)
            out.add(v, "prov:generatedAtTime", at)
            out.add(v, "prov:wasRevisionOf", previous)
            if c.derived_from in public:
                out.add(v, "prov:wasDerivedFrom", iri(m.version_iri(rid, c.derived_from)))
            previous = v
    return out


@router.get("/ressources/{rid}", include_in_schema=False)
def resource_of(request: Request, rid: str) -> Response:
    """Its history is /ressources/<id>/historique, so one who cuts the address back finds the resource's
    page (a 404 there if it was never published), not a 404 here."""
    m = shared.contributions_of(request)
    return RedirectResponse(local_path(m.iri(rid), m.minter.base), status_code=302)


@router.post("/ressources/{rid}/historique")
async def revert(request: Request, rid: str) -> Response:
    user = moderator(request)
    form = await request.form()
    shared.state(request).csrf.check(request, form.get(CSRF_FIELD))
    try:
        version = int(str(form.get("version", "")))
        m = shared.contributions_of(request)
        seen = _seen(form.get("version_vue"))
        await run_in_threadpool(m.revert, rid, version, user.username, user.name, seen)  # as moderate's
    except ValueError:
        raise HTTPException(400, "Version invalide.") from None
    except UnknownContribution as e:
        raise _refused(e) from None
    except ContributionError as e:  # the history as it is now, saying why
        return await run_in_threadpool(_history, request, rid, formats.HTML, _refused(e).detail, 409)
    return RedirectResponse(f"/ressources/{rid}/historique", status_code=303)


# --- the same in JSON ---------------------------------------------------------------------------------------
MODERATORS = [{"jeton": []}, {"session": []}]  # who may (/openapi.json): a moderator's token or session
# A resource's id, as Contributions.new_id mints it (documented, not enforced: another is a 404).
RID_PATTERN = "[a-z0-9-]+"
RID = Path(description="…/id/ressource/<rid>", json_schema_extra={"pattern": f"^{RID_PATTERN}$"})


@router.post(
    "/api/contributions/{rid}/{action}",
    summary="Accepter, rejeter, traiter, supprimer ou restaurer une ressource",
    description="Réservé à la modération, sauf supprimer (voir plus bas). rejeter demande un motif "
    "(montré au contributeur), supprimer "
    "et traiter l'acceptent. traiter clôt un signalement (une proposition dont le lien est une page de la "
    "plateforme, que accepter refuse) sans rien publier. restaurer remet la ressource dans l'état d'avant "
    "sa suppression, son rejet ou son traitement : publiée "
    "seulement si elle l'était, sinon en attente. supprimer est aussi ouvert à la personne qui a proposé "
    "(son compte), tant que sa proposition est en attente : « retirée par son auteur » (le corps est "
    "alors ignoré).",
    responses={
        200: {
            "description": "Fait : l'état de la ressource",
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"id": STRING, "etat": STRING}}
                }
            },
        },
        422: {
            "description": "Motif manquant ou trop long",
            "content": {"application/json": {"schema": ERRORS}},
        },
        **refusals(
            {
                400: "Champ inconnu, ou corps illisible",
                401: "Non connecté",
                403: "Pas modérateur",
                404: "Ressource ou action inconnue",
                409: "Impossible dans cet état, ou la ressource a changé depuis la version lue",
                415: "Corps non JSON (sans corps : pas de motif)",
            }
        ),
    },
    openapi_extra={
        "security": MODERATORS,
        "requestBody": {
            "required": False,
            "description": "Facultatif : le motif (obligatoire pour rejeter) et la version lue.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "motif": STRING,
                            "version": {
                                "type": "integer",
                                "description": "La version lue (GET /api/contributions/<id>) : "
                                "si la ressource a changé depuis, 409 et rien n'est fait.",
                            },
                        },
                        "additionalProperties": False,
                    }
                }
            },
        },
    },
    tags=["modération"],
)
async def api_moderate(
    request: Request, rid: str = RID, action: str = Path(json_schema_extra={"enum": list(DECISIONS)})
) -> JSONResponse:
    """``accepter``, ``rejeter`` (body {"motif": …}), ``traiter``, ``supprimer``, ``restaurer``: moderators
    only, but for a contributor's ``supprimer`` of their own proposal (a withdrawal)."""
    shared.api_guard(request)
    m = shared.contributions_of(request)
    user = current_user(request)
    if action == "supprimer" and user is not None and not user.is_moderator:  # one's own, withdrawn
        if not await run_in_threadpool(m.owns, user.username, rid):
            raise HTTPException(404, "Ressource inconnue.")
        try:
            await run_in_threadpool(m.withdraw, rid)
        except ContributionError as e:
            raise _refused(e) from None
        return JSONResponse({"id": rid, "etat": model.DELETED})
    user = moderator(request)
    # The same rule for every decision: no body is an empty reason; a body is JSON.
    body = await shared.json_body(request, ["motif", "version"]) if await request.body() else {}
    reason = str(body.get("motif", "")).strip()
    seen = _seen(body.get("version"))
    if action not in DECISIONS:
        raise HTTPException(404, "Action inconnue.")
    if errors := _reason_errors(action, reason):
        return JSONResponse({"valide": False, "erreurs": errors}, 422)
    try:  # off the event loop, as moderate's
        await run_in_threadpool(DECISIONS[action], m, rid, user, reason, seen)
    except ContributionError as e:
        raise _refused(e) from None
    return JSONResponse({"id": rid, "etat": await run_in_threadpool(m.state, rid)})


NULLABLE = {"type": ["string", "null"]}
RECORD = {  # GET /api/contributions/<id>'s body: the proposal's fields as they were sent, and its state
    "type": "object",
    "properties": {
        "id": STRING,
        "iri": STRING,
        "etat": STRING,
        "version": {"type": "integer"},
        **{name: PROPOSAL["properties"][name] for name in shared.FIELDS},
        **{name: NULLABLE | {"description": "null pour un signalement"} for name in ("type", "licence")},
        "url": NULLABLE | {"description": "null pour une proposition d'un fichier sans lien"},
        "fichier": NULLABLE,
        "signale": NULLABLE
        | {"description": "Un signalement : l'IRI de la page de la plateforme qu'il signale (sinon null)."},
        "historique": {"type": "array", "items": {"type": "object"}},
    },
}


@router.get(
    "/api/contributions/{rid}",
    summary="Une ressource proposée, son état et son historique",
    response_description="La ressource : état, version, champs, historique",
    description="Réservé à la modération (le contenu en attente n'est pas public ; le courriel du "
    "contributeur n'y est jamais).",
    responses={
        200: {"content": {"application/json": {"schema": RECORD}}},
        **refusals({401: "Non connecté", 403: "Pas modérateur", 404: "Ressource inconnue"}),
    },
    openapi_extra={"security": MODERATORS},
    tags=["modération"],
)
def api_record(request: Request, rid: str = RID) -> JSONResponse:
    """Pending content is not public; the contributor's email is never in it."""
    moderator(request)
    m = shared.contributions_of(request)
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
            **{name: getattr(c, attribute) for name, attribute in shared.FIELDS.items()},
            "type": c.kind or None,  # a report has none
            "licence": c.license or None,
            "fichier": c.file.url if c.file else None,
            "signale": m.reported(c),
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
