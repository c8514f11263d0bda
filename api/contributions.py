"""Comm'un Services, the participative commons: propose a resource, follow it, moderate it, see its
history. Pages are French first and work without JavaScript; the JSON API says the same things.

Routes: ``/ressources/proposer`` (form), ``/api/contributions`` (JSON), ``/suivi/<jeton>`` (the
contributor's private page), ``/moderation`` and ``/moderation/<id>`` (moderators),
``/ressources/<id>/historique`` (history, diffs, revert), ``/connexion`` and ``/deconnexion``,
``/territoires/autocomplete?q=`` (the form's territory field), ``/fichiers/<id>/<nom>`` (files of
accepted resources).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from api.accounts import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    Accounts,
    User,
    accounts_path,
    current_user,
    secret_key,
    uses_cookie_auth,
)
from api.deps import templates
from api.guards import unsafe_text
from api.security_forms import (
    CSRF_FIELD,
    CSRF_HEADER,
    HONEYPOT_FIELD,
    Csrf,
    RateLimiter,
    client_address,
    is_secure,
)
from api.uploads import ALLOWED, INLINE, UploadError, check, locate, save
from graph import contributions as model
from graph import matching
from graph.contributions import (
    KINDS,
    LICENSES,
    LINK_FIELDS,
    Content,
    ContributionError,
    Contributions,
    Contributor,
    StoredFile,
)
from graph.namespaces import DCTERMS, RDF, RDFS, SCHEMA, SKOS
from graph.settings import ONTOLOGY_DIR, Settings
from graph.store import Store

router = APIRouter()

_markdown = MarkdownIt("commonmark", {"html": False})  # raw HTML is escaped, unsafe link schemes refused


def markdown(text: str | None) -> Markup:
    """Markdown → safe HTML: the parser never passes HTML through and refuses javascript:/data: links."""
    return Markup(_markdown.render(text or ""))


templates.env.filters["markdown"] = markdown

# Fallback labels when the SKOS vocabularies are not loaded (slugs from the vocabulary contract).
THEMES = {
    "mobilite": "Mobilité",
    "securites": "Sécurités",
    "sante": "Santé",
    "social": "Social",
    "education": "Éducation",
    "communication": "Communication",
    "emploi-economie-creation-activite": "Emploi, économie, création d'activité",
    "commerces-services-proximite": "Commerces et services de proximité",
    "formalites-administratives": "Formalités administratives",
    "culture-sports-loisirs": "Culture, sports, loisirs",
    "numerique": "Numérique",
    "logement": "Logement",
    "saisonnalite": "Saisonnalité",
    "tiers-lieux": "Tiers-lieux",
}
PUBLICS = {
    "saisonniers": "Saisonniers",
    "retraites-seniors": "Retraités, seniors",
    "jeunes-actifs": "Jeunes actifs",
    "jeunes-adultes": "Jeunes adultes",
    "personnes-en-situation-de-handicap": "Personnes en situation de handicap",
    "personnes-en-difficulte-sociale": "Personnes en difficulté sociale",
    "demandeurs-emploi": "Demandeurs d'emploi",
    "createurs-activite": "Créateurs d'activité",
    "nouveaux-arrivants": "Nouveaux arrivants",
    "familles": "Familles",
    "allophones-illettrisme": "Allophones, illettrisme",
    "tous-publics": "Tous publics",
}
TERRITORY_RANKS = {"region": 0, "departement": 1, "epci": 2, "commune": 3}  # the autocomplete's order
KIND_WORDS = {
    "region": "région",
    "departement": "département",
    "epci": "intercommunalité",
    "commune": "commune",
}
FIELD_LABELS = {
    "titre": "Titre",
    "resume": "Résumé",
    "type": "Type de ressource",
    "url": "Lien",
    "fichier": "Fichier",
    "themes": "Thèmes",
    "publics": "Publics",
    "territoires": "Territoires",
    "projets": "Projets liés",
    "organisations": "Organisations liées",
    "licence": "Licence",
    "nom": "Nom ou pseudonyme",
    "courriel": "Adresse électronique",
    "motif": "Motif",
    "general": "Ressource",
}
LIMITS = {"titre": (3, 200), "resume": (10, 5000), "nom": (0, 120), "courriel": (0, 254), "url": (0, 2000)}
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
SHACL_FIELDS = {
    RDFS + "label": "titre",
    SCHEMA + "name": "titre",
    SCHEMA + "description": "resume",
    DCTERMS + "abstract": "resume",
    DCTERMS + "type": "type",
    SCHEMA + "url": "url",
    DCTERMS + "license": "licence",
    SCHEMA + "associatedMedia": "fichier",
    **{p: f for f, p in (("themes", LINK_FIELDS["themes"]), ("publics", LINK_FIELDS["publics"]))},
    LINK_FIELDS["territories"]: "territoires",
    LINK_FIELDS["projects"]: "projets",
    LINK_FIELDS["organisations"]: "organisations",
}


# --- per-app state -----------------------------------------------------------------------------
@dataclass
class ContribState:
    settings: Settings
    accounts: Accounts
    csrf: Csrf
    secret: bytes
    uploads: Path
    submit_limit: RateLimiter
    login_limit: RateLimiter
    model: Contributions | None = None
    territories: tuple[matching.NameIndex, list[tuple]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def setup(app: FastAPI, settings: Settings) -> None:
    """Called by ``create_app``: accounts database, secret, limits, uploads folder."""
    secret = secret_key(settings)
    uploads = Path(settings.uploads_dir) if settings.uploads_dir else _default_uploads(settings)
    app.state.accounts = accounts = Accounts(accounts_path(settings), secret)
    app.state.contrib = ContribState(
        settings=settings,
        accounts=accounts,
        csrf=Csrf(secret),
        secret=secret,
        uploads=uploads,
        submit_limit=RateLimiter(settings.submit_rate, settings.submit_window),
        login_limit=RateLimiter(settings.login_rate, 600.0),
    )


def _default_uploads(settings: Settings) -> Path:
    if settings.store in (None, ":memory:") or "://" in settings.store:
        return Path("var/uploads")
    return Path(settings.store).parent / "uploads"


def _state(request: Request) -> ContribState:
    return request.app.state.contrib


def _model(request: Request) -> Contributions:
    st = _state(request)
    store: Store = request.app.state.store
    with st.lock:
        if st.model is None or st.model.store is not store:
            st.model = Contributions(store, st.secret)
    return st.model


# --- vocabularies and look-ups -------------------------------------------------------------------
def concepts(store: Store, kind: str, fallback: dict[str, str]) -> list[tuple[str, str]]:
    """(IRI, label) of the SKOS concepts minted as ``{base}id/<kind>/…``; the fallback if none is loaded."""
    prefix = store.minter.thing(kind, "")
    rows = store.select(
        f"""SELECT ?c (SAMPLE(?l) AS ?label) WHERE {{ ?c <{SKOS}prefLabel> ?l
            FILTER(STRSTARTS(STR(?c), "{prefix}") && LANGMATCHES(LANG(?l), "fr")) }} GROUP BY ?c"""
    )
    found = sorted(((r["c"].value, r["label"].value) for r in rows), key=lambda x: matching.fold(x[1]))
    return found or [(prefix + slug, label) for slug, label in fallback.items()]


def entities(store: Store, cls: str) -> list[tuple[str, str]]:
    rows = store.select(
        f"SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ ?s a <{cls}> ; <{RDFS}label> ?l }} GROUP BY ?s LIMIT 2000"
    )
    return sorted(((r["s"].value, r["label"].value) for r in rows), key=lambda x: matching.fold(x[1]))


def territory_index(request: Request) -> list[tuple]:
    """(name key, label, kind, code, IRI, rank, population) of every territory, ranked: régions,
    départements, EPCI, then communes by population; from graph.matching's index (one per store version)."""
    st = _state(request)
    index = matching.index_of(request.app.state.store)
    cached = st.territories
    if cached and cached[0] is index:
        return cached[1]
    entries = [
        (
            matching.name_key(e.name),
            e.label or e.name,
            e.type,
            e.code,
            e.iri,
            TERRITORY_RANKS[e.type],
            e.population or 0,
        )
        for e in index.entities.values()
        if e.type in TERRITORY_RANKS and e.code
    ]
    entries.sort(key=lambda e: (e[5], -e[6]))
    st.territories = (index, entries)
    return entries


def territory_line(entry: tuple) -> str:
    """What the form shows and parses back: 'Chambéry [commune 73065]'."""
    return f"{entry[1]} [{entry[2]} {entry[3]}]"


def search_territories(request: Request, q: str, limit: int = 12) -> list[tuple]:
    key = matching.name_key(q)
    if not key:
        return []
    code = q.strip().upper()
    exact, prefix, words = [], [], []
    for e in territory_index(request):  # ranked: régions, départements, EPCI, then communes by population
        if e[0] == key or e[3] == code:
            exact.append(e)
        elif e[0].startswith(key):
            prefix.append(e)
        elif len(words) < limit and f" {key}" in f" {e[0]}":
            words.append(e)
    return (exact + prefix + words)[:limit]


LINE = re.compile(r"\[(region|departement|epci|commune) ([0-9A-Za-z]+)\]\s*$")


def resolve_territories(request: Request, values: list[str]) -> tuple[list[str], list[str]]:
    """Lines typed or picked in the form (or IRIs from the API) → (IRIs, French errors).

    A typed name is resolved as /reconcile resolves it (graph.matching): accepted only when certain (its
    name, unique among territories: a former commune's name gives its current commune); homonyms and near
    names are offered as choices instead."""
    index = territory_index(request)
    by_iri = {e[4]: e for e in index}
    names = matching.index_of(request.app.state.store)
    store: Store = request.app.state.store
    found, errors = [], []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        m = LINE.search(value)
        if m:
            target = store.minter.thing(m.group(1), m.group(2))
        elif value.startswith(("http://", "https://")):
            target = value
        else:
            # A name, or a bare code as reusers send them ("73054"; "84" is a région and a département).
            code = value.upper()
            by_code = [e for e in index if e[3] == code]
            candidates = [] if by_code else names.match(value, TERRITORY_RANKS, limit=6)
            if len(by_code) == 1 or (candidates and candidates[0].match):
                found.append(by_code[0][4] if by_code else candidates[0].entity.iri)
                continue
            options = by_code or [by_iri[c.entity.iri] for c in candidates if c.entity.iri in by_iri]
            if len(by_code) > 1 or sum(c.exact for c in candidates) > 1:
                lines = " ; ".join(territory_line(e) for e in options[:6])
                errors.append(f"« {value} » désigne plusieurs territoires, précisez lequel : {lines}.")
            elif options:
                lines = " ; ".join(territory_line(e) for e in options[:3])
                errors.append(f"« {value} » : territoire inconnu ; vouliez-vous dire : {lines} ?")
            else:
                errors.append(
                    f"« {value} » : territoire inconnu ; choisissez-le dans la liste des suggestions."
                )
            continue
        if target in by_iri:
            found.append(target)
        else:
            errors.append(f"« {value} » : territoire inconnu du référentiel.")
    return list(dict.fromkeys(found)), errors


# --- reading and checking a submission ---------------------------------------------------------------
@dataclass
class Submission:
    """Raw values from the form or the JSON body, all strings or lists of strings."""

    titre: str = ""
    resume: str = ""
    type: str = ""
    url: str = ""
    licence: str = model.DEFAULT_LICENSE
    themes: list[str] = field(default_factory=list)
    publics: list[str] = field(default_factory=list)
    territoires: list[str] = field(default_factory=list)
    projets: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    nom: str = ""
    courriel: str = ""
    nom_public: bool = False
    fichier_nom: str = ""
    fichier: bytes | None = None

    def territory_text(self) -> str:
        return "\n".join(self.territoires)


def _choices(request: Request) -> dict:
    store: Store = request.app.state.store
    return {
        "kinds": concepts(store, "type-ressource", KINDS),
        "themes": concepts(store, "theme", THEMES),
        "publics": concepts(store, "public", PUBLICS),
        "licenses": list(LICENSES.items()),
        "projects": entities(store, SCHEMA + "Project"),
        "organisations": entities(store, "http://www.w3.org/ns/org#Organization"),
    }


def validate(
    request: Request, sub: Submission, *, need_contact: bool, keep_file: StoredFile | None = None
) -> tuple[Content | None, dict[str, list[str]], object]:
    """Field-by-field French errors; the content when there are none. The upload is checked but not saved."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, (low, high) in LIMITS.items():
        value = getattr(sub, name).strip()
        if low and len(value) < low:
            err(name, "Ce champ est obligatoire." if not value else f"Au moins {low} caractères.")
        elif len(value) > high:
            err(name, f"Au plus {high} caractères ({len(value)} saisis).")
        elif unsafe_text(value, allowed="\t\n\r"):
            err(name, "Caractères de contrôle, de direction ou invalides non autorisés.")
    choices = _choices(request)
    kinds = {c.rsplit("/", 1)[-1] for c, _ in choices["kinds"]}
    if sub.type not in kinds:
        err("type", "Choisissez un type de ressource dans la liste.")
    url = sub.url.strip()
    if url and not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", url):
        err("url", "Le lien doit être une adresse web complète commençant par https:// ou http://.")
    if sub.licence not in LICENSES:
        err("licence", "Choisissez une licence dans la liste.")
    picked = {}
    for name, key in (
        ("themes", "themes"),
        ("publics", "publics"),
        ("projets", "projects"),
        ("organisations", "organisations"),
    ):
        allowed = {c for c, _ in choices[key]}
        bad = [v for v in getattr(sub, name) if v not in allowed]
        if bad:
            err(name, f"Valeur inconnue : {', '.join(bad[:3])}.")
        picked[name] = [v for v in getattr(sub, name) if v in allowed]
    territories, t_errors = resolve_territories(request, sub.territoires)
    for message in t_errors:
        err("territoires", message)
    if need_contact:
        if not sub.nom.strip():
            err("nom", "Indiquez votre nom ou un pseudonyme.")
        if not EMAIL.match(sub.courriel.strip()):
            err("courriel", "Indiquez une adresse électronique valide (elle ne sera jamais publiée).")
    upload = None
    if sub.fichier:
        try:
            upload = check(sub.fichier_nom, sub.fichier, _state(request).settings.upload_max_bytes)
        except UploadError as e:
            err("fichier", str(e).capitalize() + ".")
    if not url and not sub.fichier and not keep_file and "fichier" not in errors:
        err("url", "Donnez un lien vers la ressource ou joignez un fichier.")
    if errors:
        return None, errors, None
    content = Content(
        title=sub.titre.strip(),
        summary=sub.resume.strip(),
        kind=sub.type,
        url=url or None,
        license=sub.licence,
        themes=picked["themes"],
        publics=picked["publics"],
        territories=territories,
        projects=picked["projets"],
        organisations=picked["organisations"],
        file=keep_file,
    )
    return content, errors, upload


def shacl_errors(request: Request, m: Contributions, content: Content) -> dict[str, list[str]]:
    """The SHACL shapes' own verdict on the content, mapped back to form fields (plain French messages)."""
    if not (ONTOLOGY_DIR / "shapes.ttl").is_file():
        return {}
    import rdflib

    from graph.validation import validate_graph

    triples = m.content_triples(
        "verification",
        content,
        agent=m.minter.thing("contributeur", "x"),
        agent_label="x",
        created=model.now(),
        modified=model.now(),
    )
    store: Store = request.app.state.store
    objects = {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    typed: list[ox.Triple] = []
    for o in objects:
        typed += [
            ox.Triple(o, t.predicate, t.object)
            for t in store.construct(
                "CONSTRUCT { ?o a ?t . ?o <http://www.w3.org/2004/02/skos/core#inScheme> ?s } WHERE "
                "{ ?o a ?t OPTIONAL { ?o <http://www.w3.org/2004/02/skos/core#inScheme> ?s } }",
                {"o": o},
            )
        ]
    data = rdflib.Graph()
    data.parse(data="\n".join(f"{t} ." for t in [*triples, *typed]), format="nt")
    focus = [t.subject.value for t in triples if t.predicate.value == RDF + "type"]
    conforms, results, _ = validate_graph(data, m.minter.base, focus_nodes=focus)
    if conforms:
        return {}
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    errors: dict[str, list[str]] = {}
    for r in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        if results.value(r, sh.resultSeverity) != sh.Violation:
            continue
        path = str(results.value(r, sh.resultPath) or "")
        messages = list(results.objects(r, sh.resultMessage))
        french = [x for x in messages if getattr(x, "language", None) == "fr"]
        message = str((french or messages or ["Valeur non conforme."])[0])
        errors.setdefault(SHACL_FIELDS.get(path, "general"), []).append(message)
    return errors


def _form_submission(form) -> Submission:
    return Submission(
        titre=str(form.get("titre", "")),
        resume=str(form.get("resume", "")),
        type=str(form.get("type", "")),
        url=str(form.get("url", "")),
        licence=str(form.get("licence", model.DEFAULT_LICENSE)),
        themes=[str(v) for v in form.getlist("themes")],
        publics=[str(v) for v in form.getlist("publics")],
        territoires=[
            line for v in form.getlist("territoires") for line in str(v).splitlines() if line.strip()
        ],
        projets=[str(v) for v in form.getlist("projets") if v],
        organisations=[str(v) for v in form.getlist("organisations") if v],
        nom=str(form.get("nom", "")),
        courriel=str(form.get("courriel", "")),
        nom_public=form.get("nom_public") in ("on", "1", "true"),
    )


async def _read_file(request: Request, form) -> tuple[str, bytes | None]:
    upload = form.get("fichier")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return "", None
    limit = _state(request).settings.upload_max_bytes
    data = await upload.read(limit + 1)  # one byte more than allowed is enough to refuse it
    return upload.filename, data


def _check_body_size(request: Request) -> None:
    limit = _state(request).settings.upload_max_bytes + 256 * 1024
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(413, f"Envoi trop volumineux ({int(length) // 1024} Kio).")


def _store_file(request: Request, rid: str, upload) -> StoredFile:
    st = _state(request)
    save(st.uploads, rid, upload)
    url = f"{request.app.state.store.minter.base}fichiers/{rid}/{upload.name}"
    return StoredFile(url, upload.name, upload.media_type, len(upload.data))


def _render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    st = _state(request)
    token, fresh = st.csrf.token(request)
    user = current_user(request)
    response = templates.TemplateResponse(
        request, name, {"csrf": token, "csrf_field": CSRF_FIELD, "user": user, **context}, status_code=status
    )
    st.csrf.set_cookie(response, fresh, is_secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_context(request: Request, sub: Submission, errors: dict, **extra) -> dict:
    return {
        "sub": sub,
        "errors": errors,
        "choices": _choices(request),
        "honeypot": HONEYPOT_FIELD,
        "field_labels": FIELD_LABELS,
        "allow_anonymous": _state(request).settings.allow_anonymous,
        "max_mb": _state(request).settings.upload_max_bytes / 1024 / 1024,
        **extra,
    }


# --- proposing ----------------------------------------------------------------------------------------
@router.get("/ressources/proposer", response_class=HTMLResponse)
def propose_form(request: Request) -> HTMLResponse:
    user = current_user(request)
    if user is None and not _state(request).settings.allow_anonymous:
        return RedirectResponse("/connexion?suite=/ressources/proposer", status_code=303)
    if _state(request).territories is None:  # build the autocomplete index while the visitor reads the form
        threading.Thread(target=territory_index, args=(request,), daemon=True).start()
    return _render(request, "contrib_form.html", _form_context(request, Submission(), {}))


def _propose(request: Request, sub: Submission, user: User | None) -> tuple[str, str] | dict[str, list[str]]:
    m = _model(request)
    content, errors, upload = validate(request, sub, need_contact=user is None)
    if content is None:
        return errors
    errors = shacl_errors(request, m, content)
    if errors:
        return errors
    contributor = Contributor(
        name=sub.nom.strip() or (user.name if user else ""),
        email=sub.courriel.strip(),
        show_name=sub.nom_public or user is not None,
        account=user.username if user else None,
    )
    rid = m.new_id(content.title)
    if upload is not None:
        content.file = _store_file(request, rid, upload)
    return m.propose(content, contributor, rid=rid)


@router.post("/ressources/proposer", response_class=HTMLResponse)
async def propose_post(request: Request) -> Response:
    _check_body_size(request)
    st = _state(request)
    form = await request.form()
    st.csrf.check(request, form.get(CSRF_FIELD))
    user = current_user(request)
    if user is None and not st.settings.allow_anonymous:
        raise HTTPException(403, "Connectez-vous pour proposer une ressource.")
    if form.get(HONEYPOT_FIELD):
        raise HTTPException(400, "Proposition refusée.")
    st.submit_limit.hit(client_address(request))
    sub = _form_submission(form)
    sub.fichier_nom, sub.fichier = await _read_file(request, form)
    result = _propose(request, sub, user)
    if isinstance(result, dict):
        return _render(request, "contrib_form.html", _form_context(request, sub, result), status=422)
    return RedirectResponse(f"/suivi/{result[1]}?nouvelle=1", status_code=303)


def _json_submission(body: dict) -> Submission:
    def strings(key: str) -> list[str]:
        value = body.get(key) or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    sub = Submission(
        titre=str(body.get("titre", "")),
        resume=str(body.get("resume", "")),
        type=str(body.get("type", "")),
        url=str(body.get("url") or ""),
        licence=str(body.get("licence") or model.DEFAULT_LICENSE),
        themes=strings("themes"),
        publics=strings("publics"),
        territoires=strings("territoires"),
        projets=strings("projets"),
        organisations=strings("organisations"),
        nom=str(body.get("nom", "")),
        courriel=str(body.get("courriel", "")),
        nom_public=bool(body.get("nom_public", False)),
    )
    f = body.get("fichier")
    if isinstance(f, dict):
        try:
            sub.fichier_nom, sub.fichier = (
                str(f.get("nom", "")),
                base64.b64decode(str(f.get("contenu_base64", ""))),
            )
        except (binascii.Error, ValueError):
            sub.fichier_nom, sub.fichier = str(f.get("nom", "")), b""
    return sub


def _api_guard(request: Request) -> None:
    """A cookie-authenticated API call must carry the CSRF header (scripts use a Bearer token)."""
    if uses_cookie_auth(request) and request.cookies.get(SESSION_COOKIE):
        _state(request).csrf.check(request, request.headers.get(CSRF_HEADER))


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


@router.post("/api/contributions")
async def api_propose(request: Request) -> JSONResponse:
    """JSON proposal. 201 with the private tracking address; 422 with errors per field."""
    _check_body_size(request)
    _api_guard(request)
    st = _state(request)
    user = current_user(request)
    if user is None and request.headers.get("authorization"):
        raise HTTPException(401, "Jeton d'API inconnu.")
    if user is None and not st.settings.allow_anonymous:
        raise HTTPException(401, "Authentifiez-vous (jeton d'API) pour proposer une ressource.")
    body = await _json_body(request)
    if body.get(HONEYPOT_FIELD):
        raise HTTPException(400, "Proposition refusée.")
    st.submit_limit.hit(client_address(request))
    result = _propose(request, _json_submission(body), user)
    if isinstance(result, dict):
        return JSONResponse({"valide": False, "erreurs": result}, status_code=422)
    rid, token = result
    return JSONResponse(
        {"id": rid, "iri": _model(request).iri(rid), "etat": model.PENDING, "suivi": f"/suivi/{token}"},
        status_code=201,
    )


# --- following one's proposal -------------------------------------------------------------------------
@router.get("/suivi/{token}", response_class=HTMLResponse)
def follow(request: Request, token: str) -> HTMLResponse:
    m = _model(request)
    rid = m.by_token(token)
    record = m.record(rid) if rid else None
    if record is None:
        raise HTTPException(404, "Lien de suivi inconnu.")
    context = {
        "record": record,
        "state_label": model.STATE_LABELS[record.state],
        "reason": m.reason(rid) if record.state in (model.REJECTED, model.DELETED) else None,
        "history": m.history(rid),
        "actions": model.ACTION_LABELS,
        "new": request.query_params.get("nouvelle") == "1",
        "labels": (labels := _labels(request)),
        "kind_label": labels.get(m.kind_iri(record.content.kind), record.content.kind),
    }
    response = _render(request, "suivi.html", context)
    response.headers["Referrer-Policy"] = "no-referrer"  # the address is the secret
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _labels(request: Request) -> dict[str, str]:
    choices = _choices(request)
    out = {
        iri: label
        for key in ("kinds", "themes", "publics", "licenses", "projects", "organisations")
        for iri, label in choices[key]
    }
    for e in territory_index(request):
        out[e[4]] = f"{e[1]} ({KIND_WORDS[e[2]]})"
    return out


# --- accounts ---------------------------------------------------------------------------------------------
@router.get("/connexion", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _render(
        request, "connexion.html", {"suite": _next(request.query_params.get("suite")), "erreur": None}
    )


def _next(value: str | None) -> str:
    """Only local paths: never an open redirect."""
    return value if value and value.startswith("/") and not value.startswith("//") else "/moderation"


@router.post("/connexion", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    st = _state(request)
    form = await request.form()
    st.csrf.check(request, form.get(CSRF_FIELD))
    st.login_limit.hit("login:" + client_address(request))
    user = st.accounts.authenticate(str(form.get("identifiant", "")), str(form.get("mot_de_passe", "")))
    suite = _next(str(form.get("suite", "")))
    if user is None:
        context = {"suite": suite, "erreur": "Identifiant ou mot de passe incorrect."}
        return _render(request, "connexion.html", context, status=401)
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
    _state(request).csrf.check(request, form.get(CSRF_FIELD))
    _state(request).accounts.end_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _moderator(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, "Connectez-vous avec un compte de modération.")
    if not user.is_moderator:
        raise HTTPException(403, "Réservé aux modérateurs.")
    return user


def _moderator_page(request: Request) -> User | Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/connexion?suite={request.url.path}", status_code=303)
    if not user.is_moderator:
        raise HTTPException(403, "Réservé aux modérateurs.")
    return user


# --- moderation -----------------------------------------------------------------------------------------
@router.get("/moderation", response_class=HTMLResponse)
def queue(request: Request) -> Response:
    user = _moderator_page(request)
    if isinstance(user, Response):
        return user
    m = _model(request)
    lists = {
        state: m.by_state(state) for state in (model.PENDING, model.ACCEPTED, model.REJECTED, model.DELETED)
    }
    return _render(request, "moderation.html", {"lists": lists, "state_labels": model.STATE_LABELS})


def _submission_of(record: model.Record, request: Request) -> Submission:
    c = record.content
    by_iri = {e[4]: e for e in territory_index(request)}
    return Submission(
        titre=c.title,
        resume=c.summary,
        type=c.kind,
        url=c.url or "",
        licence=c.license,
        themes=c.themes,
        publics=c.publics,
        territoires=[territory_line(by_iri[t]) if t in by_iri else t for t in c.territories],
        projets=c.projects,
        organisations=c.organisations,
    )


def _moderation_page(
    request: Request, record: model.Record, sub: Submission, errors: dict, status: int = 200
):
    m = _model(request)
    context = _form_context(
        request,
        sub,
        errors,
        record=record,
        state_label=model.STATE_LABELS[record.state],
        history=m.history(record.id),
        actions=model.ACTION_LABELS,
    )
    return _render(request, "moderation_edit.html", context, status=status)


@router.get("/moderation/{rid}", response_class=HTMLResponse)
def moderate_form(request: Request, rid: str) -> Response:
    user = _moderator_page(request)
    if isinstance(user, Response):
        return user
    record = _model(request).record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    return _moderation_page(request, record, _submission_of(record, request), {})


@router.post("/moderation/{rid}", response_class=HTMLResponse)
async def moderate(request: Request, rid: str) -> Response:
    _check_body_size(request)
    user = _moderator(request)
    form = await request.form()
    _state(request).csrf.check(request, form.get(CSRF_FIELD))
    m = _model(request)
    record = m.record(rid)
    if record is None:
        raise HTTPException(404, "Ressource inconnue.")
    action = str(form.get("action", ""))
    try:
        if action in ("enregistrer", "enregistrer_accepter"):
            sub = _form_submission(form)
            sub.fichier_nom, sub.fichier = await _read_file(request, form)
            keep = record.content.file if not form.get("retirer_fichier") else None
            content, errors, upload = validate(request, sub, need_contact=False, keep_file=keep)
            errors = errors or shacl_errors(request, m, content)
            if errors:
                return _moderation_page(request, record, sub, errors, status=422)
            if upload is not None:
                content.file = _store_file(request, rid, upload)
            m.edit(rid, content, user.username, user.name)
            if action == "enregistrer_accepter" and record.state == model.PENDING:
                m.accept(rid, user.username, user.name)
        elif action == "accepter":
            m.accept(rid, user.username, user.name)
        elif action == "rejeter":
            reason = str(form.get("motif", "")).strip()
            if not reason:
                errors = {
                    "motif": ["Indiquez le motif du rejet : il sera montré à la personne qui a proposé."]
                }
                return _moderation_page(request, record, _submission_of(record, request), errors, status=422)
            m.reject(rid, user.username, user.name, reason[:2000])
        elif action == "supprimer":
            m.delete(rid, user.username, user.name, str(form.get("motif", "")).strip()[:2000] or None)
        elif action == "restaurer":
            m.restore(rid, user.username, user.name)
        else:
            raise HTTPException(400, "Action inconnue.")
    except ContributionError as e:
        raise HTTPException(409, str(e).capitalize() + ".") from None
    return RedirectResponse(f"/moderation/{rid}", status_code=303)


@router.post("/api/contributions/{rid}/{action}")
async def api_moderate(request: Request, rid: str, action: str) -> JSONResponse:
    """``accepter``, ``rejeter`` (body {"motif": …}), ``supprimer``, ``restaurer``: moderators only."""
    _api_guard(request)
    user = _moderator(request)
    m = _model(request)
    body = await _json_body(request) if action in ("rejeter", "supprimer") else {}
    try:
        if action == "accepter":
            m.accept(rid, user.username, user.name)
        elif action == "rejeter":
            if not str(body.get("motif", "")).strip():
                return JSONResponse(
                    {"valide": False, "erreurs": {"motif": ["Le motif est obligatoire."]}}, 422
                )
            m.reject(rid, user.username, user.name, str(body["motif"]).strip()[:2000])
        elif action == "supprimer":
            m.delete(rid, user.username, user.name, str(body.get("motif", "")).strip()[:2000] or None)
        elif action == "restaurer":
            m.restore(rid, user.username, user.name)
        else:
            raise HTTPException(404, "Action inconnue.")
    except ContributionError as e:
        status = 404 if "inconnue" in str(e) else 409
        raise HTTPException(status, str(e).capitalize() + ".") from None
    return JSONResponse({"id": rid, "etat": m.state(rid)})


@router.get("/api/contributions/{rid}")
def api_record(request: Request, rid: str) -> JSONResponse:
    """Moderators only (pending content is not public); the contributor's email is never in it."""
    _moderator(request)
    m = _model(request)
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
            "titre": c.title,
            "resume": c.summary,
            "type": c.kind,
            "url": c.url,
            "licence": c.license,
            "themes": c.themes,
            "publics": c.publics,
            "territoires": c.territories,
            "projets": c.projects,
            "organisations": c.organisations,
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


def _readable(
    triples: list[ox.Triple], rid: str, m: Contributions, labels: dict[str, str]
) -> list[tuple[str, str]]:
    s = m.iri(rid)
    out = []
    for t in triples:
        if t.subject.value != s or t.predicate.value not in PREDICATE_LABELS:
            continue
        value = labels.get(t.object.value, t.object.value)
        if t.predicate.value == SCHEMA + "associatedMedia":
            value = t.object.value.rsplit("/", 1)[-1]
        out.append((PREDICATE_LABELS[t.predicate.value], value))
    return out


@router.get("/ressources/{rid}/historique", response_class=HTMLResponse)
def history(request: Request, rid: str) -> HTMLResponse:
    """Everyone sees the versions that were public; moderators see every version and can revert."""
    m = _model(request)
    record = m.record(rid)
    user = current_user(request)
    moderator = bool(user and user.is_moderator)
    if record is None or (not moderator and record.state != model.ACCEPTED):
        raise HTTPException(404, "Ressource inconnue.")
    changes = m.history(rid)
    public_versions = {c.version for c in changes if c.version and c.state_after == model.ACCEPTED}
    labels = _labels(request)
    entries, previous = [], []
    for c in changes:
        entry = {
            "change": c,
            "label": model.ACTION_LABELS[c.action],
            "removed": [],
            "added": [],
        }
        entry["shown"] = shown = moderator or c.version in public_versions
        if c.version and shown:
            # The public compares public versions only: a pending draft never leaks through a diff.
            current = m.version_content(rid, c.version)
            removed, added = model.diff(previous, current)
            entry["removed"] = _readable(removed, rid, m, labels)
            entry["added"] = _readable(added, rid, m, labels)
            previous = current
        entries.append(entry)
    context = {
        "record": record,
        "entries": [e for e in reversed(entries) if e["shown"]],
        "moderator": moderator,
        "state_label": model.STATE_LABELS[record.state],
    }
    return _render(request, "historique.html", context)


@router.post("/ressources/{rid}/historique")
async def revert(request: Request, rid: str) -> Response:
    user = _moderator(request)
    form = await request.form()
    _state(request).csrf.check(request, form.get(CSRF_FIELD))
    try:
        version = int(str(form.get("version", "")))
        _model(request).revert(rid, version, user.username, user.name)
    except ValueError:
        raise HTTPException(400, "Version invalide.") from None
    except ContributionError as e:
        raise HTTPException(409, str(e).capitalize() + ".") from None
    return RedirectResponse(f"/ressources/{rid}/historique", status_code=303)


# --- territory autocomplete and files -------------------------------------------------------------------
@router.get("/territoires/autocomplete")
def autocomplete(request: Request, q: str = "") -> JSONResponse:
    found = search_territories(request, q[:100])
    return JSONResponse(
        [
            {
                "iri": e[4],
                "label": e[1],
                "type": e[2],
                "type_libelle": KIND_WORDS[e[2]],
                "code": e[3],
                "valeur": territory_line(e),
            }
            for e in found
        ]
    )


@router.get("/fichiers/{rid}/{name}")
def uploaded_file(request: Request, rid: str, name: str) -> FileResponse:
    m = _model(request)
    state = m.state(rid) if re.fullmatch(r"[a-z0-9-]+", rid) else None
    user = current_user(request) if state != model.ACCEPTED else None
    if state is None or (state != model.ACCEPTED and not (user and user.is_moderator)):
        raise HTTPException(404, "Fichier inconnu.")
    path = locate(_state(request).uploads, rid, name)
    if path is None:
        raise HTTPException(404, "Fichier inconnu.")
    ext = name.rsplit(".", 1)[-1]
    media_type = ALLOWED.get(ext, "application/octet-stream")
    disposition = "inline" if media_type in INLINE else "attachment"
    return FileResponse(
        path,
        media_type=media_type,
        content_disposition_type=disposition,
        filename=name,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
