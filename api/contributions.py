"""What every contribution page shares: the app's contribution state, the look-ups of the form's
fields (vocabularies, territories), and the ONE check of a proposal, whether it comes from the HTML form
or the JSON API (``api/contribution_forms.py``) or a moderator's edit (``api/moderation.py``)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from rapidfuzz import fuzz, process
from starlette.datastructures import FormData

from api import accounts
from api.accounts import current_user
from api.i18n import LANGS, PARIS, date_text, language, listed, translator
from api.pages import local_path, render
from api.public_http import unsafe_text
from api.uploads import Upload, UploadError, check, save
from graph import contributions as model
from graph import matching
from graph.contact import scrub
from graph.contributions import LICENSES, LINK_FIELDS, Content, Contributions, Contributor, StoredFile
from graph.describe import labels_of, pick
from graph.namespaces import DCTERMS, ORG, RDF, RDFS, SCHEMA, SKOS, Minter
from graph.settings import ONTOLOGY_DIR, Settings
from graph.store import Store, StoreError
from loaders import rdf as rdf_loader

log = logging.getLogger(__name__)

# The autocomplete's order; an informal area (cs:InformalArea, « Queyras ») has no code: its IRI's end is one.
TERRITORY_RANKS = {"region": 0, "departement": 1, "epci": 2, "commune": 3, "zone": 4}
# Form field (and JSON key) → attribute of graph.contributions.Content: French on the wire, English in code.
FIELDS = {
    "titre": "title",
    "resume": "summary",
    "type": "kind",
    "url": "url",
    "licence": "license",
    "themes": "themes",
    "publics": "publics",
    "territoires": "territories",
    "projets": "projects",
    "organisations": "organisations",
    "debut": "start",  # an event's; the form sends its date and time apart (posted)
    "fin": "end",
    "lieu": "place",
}
# Form field → its list in choices(); those too long to list in an error are named by where to browse them.
CHOSEN = {
    "type": "kinds",
    "licence": "licenses",
    "themes": "themes",
    "publics": "publics",
    "projets": "projects",
    "organisations": "organisations",
}
BROWSED = {"projets": "/projets", "organisations": "/acteurs"}
SCHEMES = {"kinds": "type-ressource", "themes": "theme", "publics": "public"}  # lists labelled per language
# Content's texts a person writes that are published: never with an e-mail address or a phone number in them.
PUBLIC_TEXTS = ("title", "summary", "place")
LIMITS = {
    "titre": (3, 200),
    "resume": (10, 5000),
    "lieu": (0, 300),
    "nom": (0, 120),
    "courriel": (0, 254),
    "url": (0, 2000),
}
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
    SCHEMA + "startDate": "debut",
    SCHEMA + "endDate": "fin",
    SCHEMA + "location": "lieu",
    **{LINK_FIELDS[a]: name for name, a in FIELDS.items() if a in LINK_FIELDS},
}


# --- per-app state -----------------------------------------------------------------------------
@dataclass
class ContribState:
    settings: Settings
    csrf: accounts.Csrf
    secret: bytes
    uploads: Path
    submit_limit: accounts.RateLimiter
    login_limit: accounts.RateLimiter
    model: Contributions | None = None
    territories: tuple[matching.NameIndex, dict[str, Territory]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def setup(app: FastAPI, settings: Settings) -> None:
    secret = accounts.secret_key(settings)
    app.state.accounts = accounts.Accounts(accounts.accounts_path(settings))
    app.state.contrib = ContribState(
        settings=settings,
        csrf=accounts.Csrf(secret),
        secret=secret,
        uploads=settings.uploads_path(),
        submit_limit=accounts.RateLimiter(settings.submit_rate, settings.submit_window, "too_many_proposals"),
        login_limit=accounts.RateLimiter(settings.login_rate, 600.0, "too_many_logins"),
    )


def converge(app: FastAPI) -> None:
    """At start-up, in the background (a slow remote server must not hold the start): the public
    contributions in today's form (see ``Contributions.converge``); a store that fails is tried again at
    the next start."""
    if getattr(app.state.store, "read_only", False):
        return
    model = Contributions(app.state.store, app.state.contrib.secret)

    def run() -> None:
        try:
            model.converge()
        except StoreError as e:
            log.warning("the contributions could not be brought to today's form: %s", e)

    threading.Thread(target=run, daemon=True, name="converge").start()


def state(request: Request) -> ContribState:
    return request.app.state.contrib


def contributions_of(request: Request) -> Contributions:
    """The contribution model of the app's store (resource pages read histories through it too)."""
    st = state(request)
    store: Store = request.app.state.store
    with st.lock:
        if st.model is None or st.model.store is not store:
            st.model = Contributions(store, st.secret)
    return st.model


# --- vocabularies and look-ups -------------------------------------------------------------------
def concepts(store: Store, kind: str, lang: str = "fr") -> list[tuple[str, str]]:
    """(IRI, label in ``lang``, else French) of the SKOS concepts minted as ``{base}id/<kind>/…``, else
    the bundled ones: the vocabularies have their English labels, the English form shows them."""
    prefix = store.minter.thing(kind, "")
    rows = store.select(
        f"""SELECT ?c ?l WHERE {{ ?c <{SKOS}prefLabel> ?l FILTER(STRSTARTS(STR(?c), "{prefix}")) }}"""
    )
    found = [(r["c"].value, r["l"]) for r in rows]
    found = found or [(c, label) for c, label in _bundled_concepts(store.minter.base) if c.startswith(prefix)]
    labels: dict[str, dict[str, str]] = {}
    for c, label in found:
        labels.setdefault(c, {}).setdefault(label.language or "", label.value)
    named = [(c, pick(by_lang, lang)) for c, by_lang in labels.items()]
    return sorted(named, key=lambda x: matching.fold(x[1]))


@functools.cache
def _bundled_concepts(base: str) -> list[tuple[str, ox.Literal]]:
    """(IRI, label) of the concepts of ontology/vocabularies, as ``communs load`` would write them: the
    form's lists are never empty on a store without them."""
    vocabularies = rdf_loader.ontology(Minter(base)).graphs[-1].triples
    preferred = SKOS + "prefLabel"
    return [(t.subject.value, t.object) for t in vocabularies if t.predicate.value == preferred]


def entities(store: Store, cls: str) -> list[tuple[str, str]]:
    rows = store.select(
        f"SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ ?s a <{cls}> ; <{RDFS}label> ?l }} GROUP BY ?s LIMIT 2000"
    )
    return sorted(((r["s"].value, r["label"].value) for r in rows), key=lambda x: matching.fold(x[1]))


class Territory(NamedTuple):
    key: str  # the name's words (matching.words), articles kept: « Saint-Martin-de » is not Saint-Martin
    label: str
    kind: str  # a key of TERRITORY_RANKS
    code: str
    iri: str
    postal_codes: tuple[str, ...]
    departements: tuple[str, ...]

    @property
    def line(self) -> str:
        return territory_line(self.label, self.kind, self.code)


def territory_line(label: str, kind: str, code: str) -> str:
    """What the form shows and parses back: 'Chambéry [commune 73065]'; also how a page's correction link
    fills it (api/resources.py correction_href)."""
    return f"{label} [{kind} {code}]"


def territory_index(request: Request) -> dict[str, Territory]:
    """Every territory by IRI, ranked: régions, départements, EPCI, then communes by population; from
    graph.matching's index (one per store version)."""
    st = state(request)
    index = matching.index_of(request.app.state.store)
    if st.territories and st.territories[0] is index:
        return st.territories[1]
    found = [e for e in index.entities.values() if e.type in TERRITORY_RANKS and (e.code or e.type == "zone")]
    found.sort(key=lambda e: (TERRITORY_RANKS[e.type], -(e.population or 0)))
    entries = {
        e.iri: Territory(
            _typed(e.name),
            e.label or e.name,
            e.type,
            e.code or e.iri.rsplit("/", 1)[-1],
            e.iri,
            e.postal_codes,
            e.departements,
        )
        for e in found
    }
    st.territories = (index, entries)
    return entries


def _typed(name: str) -> str:
    return " ".join(matching.words(name))


def search_territories(request: Request, q: str, limit: int = 12) -> list[Territory]:
    """What a person is typing: the exact name or code (a commune's postal code too), then the names it
    begins, then those with a word it begins; when none, the names it misspells, as the form's check
    suggests them."""
    key = _typed(q)
    if not key:
        return []
    code = q.strip().upper()
    exact, prefix, words = [], [], []
    territories = territory_index(request)
    for e in territories.values():  # ranked: régions, départements, EPCI, then communes by population
        if e.key == key or e.code == code or code in e.postal_codes:
            exact.append(e)
        elif e.key.startswith(key):
            prefix.append(e)
        elif len(words) < limit and f" {key}" in f" {e.key}":
            words.append(e)
    if exact or prefix or words or code.isdigit():
        return (exact + prefix + words)[:limit]
    near = matching.index_of(request.app.state.store).match(q, TERRITORY_RANKS, limit=limit)
    return _known(territories, near)


def _known(territories: dict[str, Territory], candidates: list[matching.Candidate]) -> list[Territory]:
    return [territories[c.entity.iri] for c in candidates if c.entity.iri in territories]


SHOWN = 6  # homonyms an error lists
LINE = re.compile(rf"\[({'|'.join(TERRITORY_RANKS)}) ([0-9A-Za-z-]+)\]\s*$")


def resolve_territories(request: Request, values: list[str], lang: str) -> tuple[list[str], list[str]]:
    """Lines typed or picked in the form (or IRIs from the API) → (IRIs, errors in ``lang``). A typed name
    is resolved as /reconcile resolves it, only when certain; homonyms and near names are offered instead."""
    t = translator(lang)
    by_iri = territory_index(request)
    names = matching.index_of(request.app.state.store)
    found, errors = [], []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        m = LINE.search(value)
        if m:  # the line's level and code, as the index has them (an informal area's IRI is not minted so)
            target = next((e.iri for e in by_iri.values() if (e.kind, e.code) == m.groups()), value)
        elif value.startswith(("http://", "https://")):
            target = value
        else:
            # A name, or a bare code as reusers send them ("73054"; "84" is a région and a département).
            code = value.upper()
            by_code = [e for e in by_iri.values() if e.code == code]
            # A few candidates: asked for all, a name with none exact was fuzzily searched everywhere
            # besides its département (« Sainte-Colombe (05) »), which match does only when too few are
            # found in it. Exact names are homonyms: all are counted then (France has 12 Sainte-Colombe,
            # the few listed are among them), match stopping at them, before any fuzzy search.
            candidates = [] if by_code else names.match(value, TERRITORY_RANKS, limit=SHOWN + 1)
            if len(candidates) > SHOWN and candidates[SHOWN].exact:
                candidates = names.match(value, TERRITORY_RANKS, limit=len(by_iri))
            if len(by_code) == 1 or (candidates and candidates[0].match):
                found.append(by_code[0].iri if by_code else candidates[0].entity.iri)
                continue
            options = by_code or _known(by_iri, candidates)
            if (homonyms := len(by_code) or sum(c.exact for c in candidates)) > 1:
                lines = listed((e.line for e in options[:SHOWN]), lang)
                # Past those listed, how to narrow them is said with one of them, so that it finds it
                # (« Sainte-Colombe (69) »): the first with a postal code, as a few communes have none.
                one = next((e for e in options if e.postal_codes and e.departements), None)
                if homonyms <= SHOWN or one is None:
                    errors.append(t("err_territory_ambiguous", value=value, lines=lines))
                else:
                    dep, post = one.departements[0], one.postal_codes[0]
                    errors.append(
                        t("err_territory_many", value=value, lines=lines, count=homonyms, dep=dep, post=post)
                    )
            elif options:
                lines = listed((e.line for e in options[:3]), lang)
                errors.append(t("err_territory_near", value=value, lines=lines))
            else:
                errors.append(t("err_territory_pick", value=value))
            continue
        if target in by_iri:
            found.append(target)
        else:
            errors.append(t("err_territory_unknown", value=value))
    return list(dict.fromkeys(found)), errors


# --- reading and checking a proposal ----------------------------------------------------------------
def report_of(request: Request, content: Content, lang: str) -> dict[str, str] | None:
    """The platform's page a proposal reports an error on (Contributions.reported, the one rule), named by
    its label in ``lang``: the form presents itself as a report on it, the moderator corrects it there."""
    m = contributions_of(request)
    reported = m.reported(content)
    if not reported:
        return None
    found = labels_of(m.store, [ox.NamedNode(reported)]).get(reported) if _is_iri(reported) else None
    return {"href": local_path(reported, m.minter.base), "label": pick(found, lang, reported)}


def choices(request: Request, lang: str | None = None) -> dict:
    """What the form's fields offer, labelled in ``lang`` (by default the page's)."""
    store: Store = request.app.state.store
    lang = lang or language(request)
    return {key: concepts(store, scheme, lang) for key, scheme in SCHEMES.items()} | {
        "licenses": list(LICENSES.items()),
        "projects": entities(store, SCHEMA + "Project"),
        "organisations": entities(store, ORG + "Organization"),
    }


def slug(iri: str, base: str) -> str:
    """The end of one of our IRIs (``mobilite`` for ``{base}id/theme/mobilite``); none for another's (a
    licence's "4.0" names nothing)."""
    return iri.rsplit("/", 1)[-1] if iri.startswith(base + "id/") else ""


VERSION = re.compile(r"\s+\d+(?:\.\d+)*$")  # « 4.0 » of « CC BY 4.0 »


def resolve_choices(
    values: list[str], pairs: list[tuple[str, str]], base: str
) -> tuple[list[str], list[str]]:
    """(IRIs, values naming none or several) of values sent for a list of (IRI, label): the HTML form sends
    IRIs, a person or a script the slug or the label as well, case and accents aside (graph.matching.fold),
    or the label without its version, as people name a licence (« CC0 » for « CC0 1.0 »)."""
    keys: dict[str, set[str]] = {}
    for iri, label in pairs:
        unversioned = VERSION.sub("", label)
        for key in filter(
            None, (iri, matching.fold(label), matching.fold(unversioned), matching.fold(slug(iri, base)))
        ):
            keys.setdefault(key, set()).add(iri)
    found, bad = [], []
    for value in values:
        iris = keys.get(value.strip()) or keys.get(matching.fold(value), set())
        if len(iris) == 1:
            found.extend(iris)
        else:
            bad.append(value)
    return list(dict.fromkeys(found)), bad


def accepted(pairs: list[tuple[str, str]], base: str, lang: str) -> str:
    """A short list's values, as an error names them: « Mobilité (mobilite) ; … »."""
    return listed(
        (f"{label} ({slug(iri, base)})" if slug(iri, base) else label for iri, label in pairs), lang
    )


def unknown_browsed(value: str, pairs: list[tuple[str, str]], base: str, where: str, lang: str) -> str:
    """Why a value of a long list (projects, organisations) is unknown: the closest names, where all are."""
    names = {iri: matching.fold(label) for iri, label in pairs}
    near = process.extract(matching.fold(value), names, scorer=fuzz.WRatio, limit=3, score_cutoff=70)
    label = dict(pairs)
    close = listed((f"{label[iri]} ({slug(iri, base) or iri})" for _, _, iri in near), lang)
    t = translator(lang)
    return (
        t("err_unknown_near", value=value, names=close, url=where)
        if near
        else t("err_unknown_browse", value=value, url=where)
    )


def posted(values: Callable[[str], list[str]]) -> tuple[Content, Contributor]:
    """A proposal as sent (``values`` gives a form field's or a JSON key's strings), not yet checked:
    its territories are the lines typed, its contributor what the form says about the person. Lines end
    with a line feed whatever sent them: a browser's form ends them with CR LF, which would be published."""

    def sent(name: str) -> list[str]:
        return [v.replace("\r\n", "\n").replace("\r", "\n") for v in values(name)]

    def one(name: str) -> str:
        return next(iter(sent(name)), "")

    def when(day: str, time: str) -> str:
        return f"{day.strip()}T{time.strip()}" if time.strip() else day.strip()

    end_time = one("heure_fin")
    end_day = one("date_fin") or (one("date_debut") if end_time.strip() else "")  # the same day's

    lists = {
        FIELDS[name]: [v for v in sent(name) if v.strip()]
        for name in ("themes", "publics", "projets", "organisations")
    }
    content = Content(
        title=one("titre"),
        summary=one("resume"),
        kind=one("type"),
        url=one("url"),
        license=one("licence") or model.DEFAULT_LICENSE,
        territories=[line for v in sent("territoires") for line in v.splitlines() if line.strip()],
        start=one("debut") or when(one("date_debut"), one("heure_debut")),
        end=one("fin") or when(end_day, end_time),
        place=one("lieu"),
        **lists,
    )
    contributor = Contributor(one("nom"), one("courriel"), one("nom_public") in ("on", "1", "true"))
    return content, contributor


def validate(
    request: Request,
    content: Content,
    contributor: Contributor,
    upload: tuple[str, bytes] | UploadError | None,
    *,
    need_contact: bool,
    lang: str,
) -> tuple[Content | None, dict[str, list[str]], Upload | None]:
    """Field-by-field errors in ``lang``, then the SHACL shapes' verdict; when there are none, the content as
    it will be stored (territories resolved to IRIs). The upload is checked but not saved; an error is why
    the request's file could not even be read. The public texts are stored scrubbed (graph.contact.scrub):
    typed by a contributor or a moderator, contact details would be published, then kept in the history."""
    t = translator(lang)
    errors: dict[str, list[str]] = {}
    picked: dict[str, Any] = {}

    def err(name: str, *messages: str) -> None:
        errors.setdefault(name, []).extend(messages)

    url = (content.url or "").strip()
    texts = {"titre": content.title, "resume": content.summary, "url": url, "lieu": content.place}
    texts |= {"nom": contributor.name, "courriel": contributor.email}
    for name, (low, high) in LIMITS.items():
        value = texts[name].strip()
        if low and len(value) < low:
            err(name, t("err_required") if not value else t("err_too_short", n=low))
        elif len(value) > high:
            err(name, t("err_too_long", high=high, n=len(value)))
        elif unsafe_text(value, allowed="\t\n"):  # posted() made every line end a line feed
            err(name, t("err_control"))
    # Each list's values as a person sends them: an IRI, a slug or a label (in either language).
    store: Store = request.app.state.store
    allowed, base = choices(request, lang), store.minter.base
    report = bool(contributions_of(request).reported(content))
    for name, key in CHOSEN.items():
        if report and name in ("type", "licence"):  # a report publishes nothing: it is asked neither
            picked[FIELDS[name]] = ""
            continue
        given, pairs = getattr(content, FIELDS[name]), allowed[key]
        values = given if isinstance(given, list) else [given]
        other = [
            p
            for code in LANGS
            if code != lang and key in SCHEMES
            for p in concepts(store, SCHEMES[key], code)
        ]
        found, bad = resolve_choices(values, pairs + other, base)
        if bad == [""]:  # nothing chosen in the form: its values are offered there, not listed
            err(name, t("err_required"))
        elif bad and name in BROWSED:
            err(name, *[unknown_browsed(v, pairs, base, BROWSED[name], lang) for v in bad[:3]])
        elif bad:
            said = {"type": "err_kind", "licence": "err_license"}.get(name, "err_unknown_values")
            err(name, t(said, n=len(bad), values=", ".join(bad[:3]), accepted=accepted(pairs, base, lang)))
        picked[FIELDS[name]] = found if isinstance(given, list) else next(iter(found), "")
    if url and not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", url):
        err("url", t("err_url_scheme"))
    elif url and not _is_iri(url):  # it is published as an IRI
        err("url", t("err_url_iri"))
    elif scrub(url) != url:  # published too, and scrubbing it would break it
        err("url", t("err_url_contact"))
    territories, t_errors = resolve_territories(request, content.territories, lang)
    for message in t_errors:
        err("territoires", message)
    if need_contact:
        if not contributor.name.strip():
            err("nom", t("err_name"))
        elif contributor.show_name and not scrub(contributor.name, "", "").strip():
            err("nom", t("err_name_contact"))  # published: scrubbed as the title is, nothing would be left
        if not EMAIL.match(contributor.email.strip()):
            err("courriel", t("err_email"))
    checked = None
    try:
        if isinstance(upload, UploadError):
            raise upload
        checked = check(*upload, state(request).settings.upload_max_bytes) if upload else None
    except UploadError as e:
        err("fichier", t(e.key, **e.values))
    event = picked.get("kind", "").endswith("/" + model.EVENT)
    # Only an event is dated and placed; dropped, a date would hide a wrong kind (an event sent as a guide).
    if not event and "type" not in errors:
        for name, value in (("debut", content.start), ("fin", content.end), ("lieu", content.place)):
            if value.strip():
                err(name, t("err_event_only_" + name))
    if not event:
        content = replace(content, start="", end="", place="")
    start, end = event_date(content.start), event_date(content.end)
    if event:
        if not content.start.split("T")[0]:
            err("debut", t("err_start_required"))
        elif start is None:
            err("debut", t("err_date", value=content.start))
        if end is None:
            err("fin", t("err_date", value=content.end))
        elif start and end and _before(end, start):
            err("fin", t("err_end_before_start", end=date_text(end, lang), start=date_text(start, lang)))
    elif not url and not upload and not content.file and "fichier" not in errors:
        err("url", t("err_link_or_file"))  # both fields are where it is fixed
        err("fichier", t("err_link_or_file"))
    if errors:
        return None, errors, None
    clean = replace(
        content,
        **{name: scrub(getattr(content, name).strip()) for name in PUBLIC_TEXTS},
        url=url or None,
        territories=territories,
        start=start or "",
        end=end or "",
        **(picked | {"kind": picked["kind"].rsplit("/", 1)[-1]}),
    )
    errors = {} if report else shacl_errors(request, clean, lang)  # the shapes are what is published
    return (None if errors else clean), errors, checked


FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def event_date(value: str) -> str | None:
    """An event's date (ISO or JJ/MM/AAAA, a time after a « T » or a space) as stored: xsd:date, or
    xsd:dateTime at Paris's time with its offset, as a visitor reads it and a calendar needs it; "" if
    none, None if unreadable. A time without an offset is Paris's (the form's)."""
    text = value.strip()
    if m := FRENCH_DATE.match(text):
        text = f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}{text[m.end() :]}"
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            return dt.date.fromisoformat(text).isoformat()
        if not re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d?:\d\d\S*", text):
            return None if text else ""
        at = dt.datetime.fromisoformat(text if text[11:13].isdigit() else f"{text[:11]}0{text[11:]}")
        # Paris's time of a moment at the calendar's ends (9999-12-31T23:59-12:00) is past them: unreadable.
        at = at.astimezone(PARIS) if at.tzinfo else at.replace(tzinfo=PARIS)
    except (ValueError, OverflowError):
        return None
    return at.isoformat(timespec="seconds")


def _before(end: str, start: str) -> bool:
    """Whether ``end`` is before ``start``: by their times if both have one, else by their days."""
    if "T" in end and "T" in start:
        return dt.datetime.fromisoformat(end) < dt.datetime.fromisoformat(start)
    return end[:10] < start[:10]


def holds_contact(content: Content, contributor: Contributor) -> bool:
    """Whether contact details are taken out of the public texts (the content's, the name shown): the
    person is told."""
    texts = [getattr(content, name) for name in PUBLIC_TEXTS]
    shown = [contributor.name] if contributor.show_name else []
    return any(scrub(text) != text for text in texts) or any(scrub(n, name=None) != n for n in shown)


def _is_iri(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def shacl_errors(request: Request, content: Content, lang: str) -> dict[str, list[str]]:
    """The SHACL shapes' own verdict on the content, mapped back to form fields (their messages in ``lang``
    if they have them, else in French)."""
    if not (ONTOLOGY_DIR / "shapes.ttl").is_file():
        return {}
    import rdflib

    from graph.validation import validate_graph

    m = contributions_of(request)
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
    scheme = f"<{SKOS}inScheme>"
    types = f"CONSTRUCT {{ ?o a ?t . ?o {scheme} ?s }} WHERE {{ ?o a ?t OPTIONAL {{ ?o {scheme} ?s }} }}"
    typed = [t for o in objects for t in store.construct(types, {"o": o})]
    data = rdflib.Graph()
    data.parse(data="\n".join(f"{t} ." for t in [*triples, *typed]), format="nt")
    focus = [t.subject.value for t in triples if t.predicate.value == RDF + "type"]
    conforms, results, _ = validate_graph(data, m.minter.base, focus_nodes=focus)
    if conforms:
        return {}
    sh = rdflib.SH
    errors: dict[str, list[str]] = {}
    for r in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        if results.value(r, sh.resultSeverity) != sh.Violation:
            continue
        path = str(results.value(r, sh.resultPath) or "")
        worded = {getattr(x, "language", None): str(x) for x in results.objects(r, sh.resultMessage)}
        fallback = next(iter(worded.values()), translator(lang)("err_invalid"))
        message = worded.get(lang) or worded.get("fr") or fallback
        errors.setdefault(SHACL_FIELDS.get(path, "general"), []).append(message)
    return errors


def form_upload(request: Request, form: FormData) -> tuple[str, bytes] | None:
    """The form's file, read up to one byte more than allowed (enough to refuse it), in the route's thread
    (off the event loop, as starlette's own ``UploadFile.read`` reads a file spooled to disk)."""
    upload = form.get("fichier")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    data = upload.file.read(state(request).settings.upload_max_bytes + 1)
    return (upload.filename, data) if data else None


def api_guard(request: Request) -> None:
    """A cookie-authenticated API call (one a forged cross-site request could ride on) must carry the CSRF
    header; scripts use a Bearer token."""
    bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    if not bearer and request.cookies.get(accounts.SESSION_COOKIE):
        state(request).csrf.check(request, request.headers.get(accounts.CSRF_HEADER))


async def json_body(request: Request, fields: list[str]) -> dict:
    """The JSON object sent; a field it holds beyond ``fields`` is a 400 naming it (a typo is never
    silently ignored)."""
    t = translator(language(request))
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise HTTPException(415, t("json_required"))
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: an array nested thousands deep
        raise HTTPException(400, t("json_unreadable")) from None
    if not isinstance(body, dict):
        raise HTTPException(400, t("json_not_object"))
    if unknown := sorted(set(body).difference(fields)):
        raise HTTPException(
            400, t("json_unknown_fields", unknown=", ".join(unknown), expected=", ".join(fields))
        )
    return body


def check_body_size(request: Request, key: str = "body_too_large", base64: bool = False) -> None:
    """A body well over the file limit is refused unread (it is never parsed, so no form can be given
    back): ``key`` says so in the asker's language, and a form's says how to get back what was typed. The
    limit is the file's: a body carrying it in ``base64`` (the JSON API) weighs a third more."""
    max_bytes = state(request).settings.upload_max_bytes
    length = request.headers.get("content-length")
    carried = -(-max_bytes // 3) * 4 if base64 else max_bytes
    if length and length.isdigit() and int(length) > carried + 256 * 1024:
        t = translator(language(request))
        raise HTTPException(413, t(key, kb=int(length) // 1024, max_kb=max_bytes // 1024))


def store_file(request: Request, rid: str, upload: Upload) -> StoredFile:
    save(state(request).uploads, rid, upload)
    url = f"{request.app.state.store.minter.base}fichiers/{rid}/{upload.name}"
    return StoredFile(url, upload.name, upload.media_type, len(upload.data))


def propose(
    request: Request,
    content: Content,
    contributor: Contributor,
    upload: tuple[str, bytes] | UploadError | None,
) -> tuple[str, str, list[str]] | dict[str, list[str]]:
    """(id, tracking token, keys of api/i18n.py telling the sender what was changed in what they sent) of
    the new pending resource, or the errors per field; senders over the rate limit are refused. Only
    proposals stored count: a refused one is corrected and sent again. A name shown is published: it is
    stored scrubbed, as the title is."""
    limit, address, lang = state(request).submit_limit, accounts.client_address(request), language(request)
    limit.hit(address, lang, count=False)
    user = current_user(request)
    checked, errors, file = validate(
        request, content, contributor, upload, need_contact=user is None, lang=lang
    )
    if checked is None:
        return errors
    # Signed in, the name shown (if they choose to show one) is the account's: the "nom" sent is ignored.
    if user:
        who = replace(contributor, name=user.name, account=user.username)
    elif contributor.show_name:
        # Their own name is theirs to publish, « M. Durand » too; contact details never.
        who = replace(contributor, name=scrub(contributor.name.strip(), name=None))
    else:
        who = contributor
    notes = ["contact_removed"] if holds_contact(content, Contributor() if user else contributor) else []
    if user and (contributor.name.strip() or contributor.email.strip()):
        notes.append("account_contact_ignored")  # a script would believe the name it sent is shown
    if file is not None and isinstance(upload, tuple) and scrub(upload[0]) != upload[0]:
        notes.append("file_renamed")  # its name is published: uploads.check took the person's out of it
    limit.hit(address, lang)
    m = contributions_of(request)
    rid = m.new_id(checked.title)
    if file is not None:
        checked.file = store_file(request, rid, file)
    return *m.propose(checked, who, rid=rid), notes


# --- pages ---------------------------------------------------------------------------------------------
def page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    """A page with a form: the CSRF token and the signed-in user in its context, never cached."""
    st = state(request)
    token, fresh = st.csrf.token(request)
    context = {"csrf": token, "csrf_field": accounts.CSRF_FIELD, "user": current_user(request), **context}
    response = render(request, name, context, status)
    st.csrf.set_cookie(response, fresh, accounts.is_secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


def form_context(
    request: Request,
    content: Content,
    errors: dict,
    contributor: Contributor | None = None,
    sent: FormData | None = None,
    refusal: str = "",
    **extra,
) -> dict:
    """A form's page, filled with ``content``; a refused form (``sent``: errors, expired, rate limit) comes
    back as it was sent, ``refusal`` saying above its fields why the whole of it was refused, so that no
    refusal costs what was typed (the proposal form and the moderator's edit alike)."""
    return {
        "content": content,
        "contributor": contributor or Contributor(),
        "errors": errors,
        "choices": choices(request, extra.get("lang")),  # the staff's pages give theirs: French
        "honeypot": accounts.HONEYPOT_FIELD,
        "max_mb": state(request).settings.upload_max_bytes / 1024 / 1024,
        # A file was sent with a refused form: browsers never send it again.
        "file_lost": bool(sent and getattr(sent.get("fichier"), "filename", "")),
        "refusal": refusal,
        **extra,
    }


def labels(request: Request) -> dict[str, str]:
    """IRI → label of everything a content may link to; a territory's level in the page's language."""
    t = translator(language(request))
    out = {iri: label for pairs in choices(request).values() for iri, label in pairs}
    for e in territory_index(request).values():
        out[e.iri] = f"{e.label} ({t('word_' + e.kind)})"
    return out
