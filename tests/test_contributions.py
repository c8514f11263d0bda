"""The contribution flow over HTTP on a real store holding the real territorial reference."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
import re
import threading
import time
import zipfile

import httpx
import jsonschema
import pyoxigraph as ox
import pytest
import rdflib
from conftest import index_of, load_reference, wait_until
from contrib_helpers import PDF, csrf_of, form_data
from fastapi.testclient import TestClient
from pages_helpers import serve

from api import accounts, uploads
from api.app import create_app
from api.cli import main as cli_main
from api.contributions import concepts
from graph import contributions as model
from graph import dumps as dumps_module
from graph import matching
from graph.contact import digits, scrub
from graph.contributions import Content, Contributions, Contributor
from graph.namespaces import CS, DCTERMS, ORG, RDF, RDFS
from graph.settings import Settings
from graph.store import OxigraphStore

EMAIL = "lucie.secrete@example.net"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def store(base_iri: str, territory_triples: list) -> OxigraphStore:
    s = OxigraphStore(base_iri)
    load_reference(s, territory_triples)
    return s


def make_app(store: OxigraphStore, tmp_path, **overrides):
    settings = Settings(
        store=":memory:",
        uploads_dir=str(tmp_path / "uploads"),
        secret_key="k" * 32,
        index_db=index_of(store, tmp_path),
        **overrides,
    )
    return create_app(settings, store)


@pytest.fixture
def app(store, tmp_path):
    return make_app(store, tmp_path, submit_rate=1000)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def propose(client: TestClient, files=None, **fields):
    page = client.get("/ressources/proposer")
    return client.post(
        "/ressources/proposer",
        data=form_data(csrf_token=csrf_of(page.text), **fields),
        files=files,
        follow_redirects=False,
    )


def login(client: TestClient, app, username="modo", role="moderateur"):
    if app.state.accounts.get(username) is None:
        app.state.accounts.add(username, "un-mot-de-passe-long", role, f"{username.title()} Modé")
    page = client.get("/connexion")
    r = client.post(
        "/connexion",
        data={
            "csrf_token": csrf_of(page.text),
            "identifiant": username,
            "mot_de_passe": "un-mot-de-passe-long",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303


def rid_of(client: TestClient, suivi: str) -> str:
    page = client.get(suivi)
    return re.search(r"id/ressource/([a-z0-9-]+)", page.text).group(1) if "id/ressource/" in page.text else ""


def pending_id(app, token_url: str) -> str:
    token = token_url.split("/suivi/")[1].split("?")[0]
    return Contributions(app.state.store, b"").by_token(token)


def moderate(client: TestClient, rid: str, **data):
    page = client.get(f"/moderation/{rid}")
    return client.post(
        f"/moderation/{rid}", data={"csrf_token": csrf_of(page.text), **data}, follow_redirects=False
    )


def public_text(store: OxigraphStore) -> str:
    buf = io.BytesIO()
    store.dump(buf, ox.RdfFormat.N_QUADS, store.public_graphs())
    return buf.getvalue().decode()


# --- proposing --------------------------------------------------------------------------------------
def test_proposal_with_file_waits_unseen_then_is_accepted_on_its_territory(client, app, store):
    r = propose(client, files={"fichier": ("Guide final.pdf", PDF, "application/pdf")})
    assert r.status_code == 303 and r.headers["location"].startswith("/suivi/")
    rid = pending_id(app, r.headers["location"])
    follow = client.get(r.headers["location"])
    assert "en attente" in follow.text and "Guide des saisonniers" in follow.text
    resource = ox.NamedNode(store.minter.thing("ressource", rid))
    assert not store.ask("ASK { ?r ?p ?o }", {"r": resource})  # pending: not public
    assert client.get(f"/fichiers/{rid}/guide-final.pdf").status_code == 404  # nor its file

    login(client, app)
    assert rid in client.get("/moderation").text
    assert moderate(client, rid, action="accepter").status_code == 303
    # DISTINCT: a sequence path may reach the département through several territories (duplicates are
    # allowed by SPARQL 1.1; Virtuoso keeps them here).
    rows = store.select(
        """SELECT DISTINCT ?t ?lic WHERE { ?r <http://purl.org/dc/terms/spatial>/<http://purl.org/dc/terms/isPartOf>*
           <https://data.adrets-asso.fr/id/departement/73> ; <http://schema.org/name> ?t ;
           <http://purl.org/dc/terms/license> ?lic }""",
        {"r": resource},
    )
    assert [r["t"].value for r in rows] == ["Guide des saisonniers en Maurienne"]
    assert rows[0]["lic"].value == "https://creativecommons.org/licenses/by-sa/4.0/"
    f = client.get(f"/fichiers/{rid}/guide-final.pdf")
    assert f.status_code == 200 and f.content == PDF and f.headers["x-content-type-options"] == "nosniff"
    media = store.select("SELECT ?m WHERE { ?r <http://schema.org/associatedMedia> ?m }", {"r": resource})
    assert media[0]["m"].value.endswith(f"fichiers/{rid}/guide-final.pdf")


def test_errors_are_reported_per_field_in_french_and_the_input_is_kept(client):
    r = propose(
        client, titre="", url="pas-une-adresse", type="roman", territoires="Nullepartville", courriel="x"
    )
    assert r.status_code == 422
    errors = dict(re.findall(r'<ul class="erreurs" id="err-([a-z]+)"><li>(.*?)</li>', r.text))
    assert set(errors) == {"titre", "url", "type", "territoires", "courriel"}
    assert errors["titre"] == "Ce champ est obligatoire."
    assert "https://" in errors["url"]
    assert "Nullepartville" in errors["territoires"] and "inconnu" in errors["territoires"]
    assert 'value="pas-une-adresse"' in r.text  # what was typed stays in the form


def test_the_form_says_what_it_requires_before_and_an_error_flags_every_field_it_is_about(client):
    """Requirements were said only after an error: the minimum lengths and « a link or a file » are each
    field's help; the name and email an anonymous person must give are required in the markup too; no
    link nor file flags both fields; no type chosen says so without the codes the JSON API takes."""
    form = client.get("/ressources/proposer").text
    assert re.search(r'<p class="aide" id="aide-titre">Au moins 3 caractères\.</p>\s*<input id="titre"', form)
    assert 'id="aide-resume">Au moins 10 caractères.' in form
    for field in ("url", "fichier", "nom", "courriel", "titre"):
        tag = re.search(rf'<input id="{field}"[^>]*>', form).group(0)
        assert ("required" in tag) == (field in ("nom", "courriel", "titre")), tag
        assert ('aria-describedby="aide-lien"' in tag) == (field in ("url", "fichier")), tag
    r = propose(client, url="", type="")
    errors = dict(re.findall(r'<ul class="erreurs" id="err-([a-z]+)"><li>(.*?)</li>', r.text))
    assert errors["url"] == errors["fichier"] == "Donnez un lien vers la ressource ou joignez un fichier."
    assert 'aria-invalid="true" aria-describedby="aide-lien err-fichier"' in r.text
    assert errors["type"] == "Ce champ est obligatoire."


def test_a_page_s_correction_link_opens_the_form_filled_and_proposing_from_it_works(client, store):
    """A commune's secretary follows « Signaler une erreur » on Tallard's page: the form has the page's
    address as the link and Tallard as a territory; said what is wrong, the proposal is taken."""

    def link() -> str:
        page = client.get("/id/commune/05170").text
        return html.unescape(re.search(r'<p class="correction"><a href="([^"]+)"', page).group(1))

    # The territory comes from the index: its first build, begun by the first visit, may not be over yet.
    wait_until(lambda: "territoires=" in link(), 120, "the index naming the page's territory")
    href = link()
    iri = store.minter.thing("commune", "05170")
    form = client.get(href).text
    assert f'<input type="hidden" name="url" value="{iri}">' in form
    assert 'aria-describedby="aide-territoires">Tallard [commune 05170]</textarea>' in form
    said = {"titre": "Erreur sur la page de Tallard", "resume": "Le lieu de la mairie a changé d'adresse."}
    r = client.post(
        "/ressources/proposer",
        data=form_data(
            csrf_token=csrf_of(form), url=iri, territoires="Tallard [commune 05170]", type="autre", **said
        ),
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_projects_and_organisations_are_checkboxes_kept_checked_and_recorded(client, app, store):
    """A <select multiple> lost the first choice to an arrow key: a list of checkboxes keeps each one."""
    b = store.minter.base
    projects = [ox.NamedNode(f"{b}id/projet/essai-{n}") for n in ("velo", "bus", "train")]
    store.replace_graph(
        store.minter.graph("essai-projets"),
        [
            triple
            for p in projects
            for triple in (
                ox.Triple(p, ox.NamedNode(RDF + "type"), ox.NamedNode("http://schema.org/Project")),
                ox.Triple(p, ox.NamedNode(RDFS + "label"), ox.Literal(p.value.rsplit("-", 1)[-1])),
            )
        ],
    )
    form = client.get("/ressources/proposer").text
    assert '<fieldset class="champ" id="projets">' in form and '<select id="projets"' not in form
    chosen = [projects[0].value, projects[2].value]
    refused = propose(client, titre="", projets=chosen)
    assert refused.status_code == 422
    for p in projects:
        checked = f'name="projets" value="{p.value}" checked>' in refused.text
        assert checked == (p.value in chosen), p
    r = propose(client, projets=chosen)
    recorded = Contributions(store, b"").record(pending_id(app, r.headers["location"])).content.projects
    assert sorted(recorded) == sorted(chosen)


def test_ambiguous_commune_names_ask_for_the_code(client):
    assert propose(client, territoires="Savoie").status_code == 303  # a département by name
    r = propose(client, territoires="Saint-Pierre")
    assert r.status_code == 422 and "désigne 9 territoires" in r.text and "[commune " in r.text
    assert re.search(r"\[commune \w+\]\u202f; \S", r.text)  # French typography: a narrow no-break space


def test_more_homonyms_than_listed_are_counted_and_the_way_to_narrow_them_said(client):
    """« Sainte-Colombe » listed 6 of its 12 communes as if they were all: the error says how many there
    are and that a département or postal code finds the one meant, with the first one's, which the field
    then accepts (it said « Sainte-Colombe (73) », « 73000 Sainte-Colombe » whatever the name: none is in
    Savoie)."""
    r = propose(client, territoires="Sainte-Colombe")
    error = html.unescape(re.search(r'<ul class="erreurs" id="err-territoires"><li>(.*?)</li>', r.text)[1])
    assert r.status_code == 422 and "désigne 12 territoires, dont : Sainte-Colombe [commune 69189]" in error
    assert error.count("[commune ") == 6
    assert error.endswith("pour le trouver : « Sainte-Colombe (69) », « 69560 Sainte-Colombe ».")
    assert "désigne plusieurs territoires" in propose(client, territoires="Beaufort").text  # 5: all listed
    for narrowed in ("Sainte-Colombe (69)", "69560 Sainte-Colombe"):
        assert propose(client, territoires=narrowed).status_code == 303, narrowed


def test_a_near_name_in_a_departement_is_not_searched_for_everywhere_too(client, monkeypatch):
    """A typed name none bears, with its département, was searched for fuzzily in the département, then
    everywhere: every candidate was asked for to count the homonyms, which only exact names are."""
    searched = []
    fuzzy = matching.NameIndex._fuzzy

    def counted(self, keys, scope, departements=()):
        searched.append(tuple(departements))
        return fuzzy(self, keys, scope, departements)

    monkeypatch.setattr(matching.NameIndex, "_fuzzy", counted)
    r = propose(client, territoires="Saint-Pierr (73)")
    assert r.status_code == 422 and searched == [("73",)], searched
    assert "Saint-Pierre-de-Soucy [commune 73276]" in r.text  # the same near names, first


def test_a_bare_code_is_a_territory_and_an_ambiguous_one_is_explained(client):
    assert propose(client, territoires="73054").status_code == 303  # Bourg-Saint-Maurice
    r = propose(client, territoires="84")  # the région Provence-Alpes-Côte d'Azur, and the Vaucluse
    assert r.status_code == 422 and "plusieurs territoires" in r.text
    assert "[region 84]" in r.text and "[departement 84]" in r.text


def test_json_api_reports_the_same_errors_and_accepts_files(client, app, store):
    r = client.post("/api/contributions", json={"titre": "A", "type": "guide", "url": "ftp://x"})
    assert r.status_code == 422
    errors = r.json()["erreurs"]
    assert {"titre", "resume", "url", "nom", "courriel"} <= set(errors)
    assert errors["titre"] == ["Au moins 3 caractères."]
    body = {
        "titre": "Carte des tiers-lieux de Savoie",
        "resume": "Où trouver un tiers-lieu près de chez soi en Savoie.",
        "type": "outil",
        "licence": "https://creativecommons.org/publicdomain/zero/1.0/",
        "territoires": ["https://data.adrets-asso.fr/id/departement/73"],
        "themes": ["https://data.adrets-asso.fr/id/theme/tiers-lieux"],
        "nom": "Jo",
        "courriel": EMAIL,
        "fichier": {"nom": "carte.png", "contenu_base64": __import__("base64").b64encode(PNG).decode()},
    }
    r = client.post("/api/contributions", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["etat"] == "en-attente" and out["suivi"].startswith("/suivi/")
    assert EMAIL not in r.text


def test_line_ends_from_the_form_or_the_json_api_are_published_as_line_feeds(client, app, store):
    """A browser's form ends the summary's lines with CR LF: they reached the published Turtle as sent."""
    summary = "Trois étapes :\r\n\r\n- accueillir ;\r\n- orienter ;\r- suivre."
    r = propose(client, resume=summary)
    ids = [pending_id(app, r.headers["location"])]
    body = {k: v for k, v in form_data(resume=summary, titre="Guide par l'API").items() if k != "territoires"}
    ids.append(client.post("/api/contributions", json=body).json()["id"])
    login(client, app)
    for rid in ids:
        assert moderate(client, rid, action="accepter").status_code == 303
        turtle = rdflib.Graph().parse(data=client.get(f"/id/ressource/{rid}.ttl").text, format="turtle")
        described = turtle.value(
            rdflib.URIRef(store.minter.thing("ressource", rid)),
            rdflib.URIRef("http://schema.org/description"),
        )
        assert str(described) == "Trois étapes :\n\n- accueillir ;\n- orienter ;\n- suivre.", rid


def test_lists_take_a_slug_or_a_label_and_a_422_says_what_they_take(client, app, store):
    """« mobilite », « CC BY 4.0 », « ADRETS » got « Valeur inconnue » and « Choisissez une licence dans la
    liste » with nothing to choose from: a list's value is its IRI, its slug or its label, case and accents
    aside, in the JSON API and the form alike; a 422 lists a short list's values with their slugs, and for
    organisations and projects (too many) the closest names and where to find them all."""
    b = store.minter.base
    adrets = ox.NamedNode(b + "id/organisation/adrets")
    store.replace_graph(
        store.minter.graph("essai-acteurs"),
        [
            ox.Triple(adrets, ox.NamedNode(RDF + "type"), ox.NamedNode(ORG + "Organization")),
            ox.Triple(
                adrets, ox.NamedNode(RDFS + "label"), ox.Literal("ADRETS - Association de Développement")
            ),
        ],
    )
    body = {**form_data(territoires=["Briancon"]), "nom": "Jo", "courriel": EMAIL, "type": "Fiche PRATIQUE"}
    body |= {"themes": ["mobilite", "saisonnalité", f"{b}id/theme/sante"], "publics": ["Seasonal workers"]}
    body |= {"licence": "cc by 4.0", "organisations": ["adrets"]}
    r = client.post("/api/contributions", json=body)
    assert r.status_code == 201, r.text
    content = Contributions(store, b"").record(r.json()["id"]).content
    assert content.themes == sorted(f"{b}id/theme/{t}" for t in ("mobilite", "saisonnalite", "sante"))
    assert content.publics == [f"{b}id/public/saisonniers"] and content.organisations == [adrets.value]
    assert (content.kind, content.license) == (
        "fiche-pratique",
        "https://creativecommons.org/licenses/by/4.0/",
    )
    # A licence by its name without its version, as people say it (the README's « CC0 » was refused).
    for said, meant in (
        ("CC0", "publicdomain/zero/1.0/"),
        ("CC-BY", "licenses/by/4.0/"),
        ("cc by-sa", "by-sa/4.0/"),
    ):
        r = client.post("/api/contributions", json={**body, "licence": said})
        assert r.status_code == 201, r.text
        assert Contributions(store, b"").record(r.json()["id"]).content.license.endswith(meant)
    bad = {"themes": ["transports"], "licence": "GPL-3", "type": "roman", "organisations": ["Adret", "Zzyzx"]}
    errors = client.post("/api/contributions", json={**body, **bad}).json()["erreurs"]
    assert set(errors) == set(bad), errors
    themes = errors["themes"][0]
    assert (
        themes.startswith("Valeur inconnue : transports. Valeurs possibles")
        and "Mobilité (mobilite)" in themes
    )
    assert all(f"{label} ({iri.rsplit('/', 1)[1]})" in themes for iri, label in concepts(store, "theme"))
    assert "CC BY 4.0" in errors["licence"][0] and "Licence Ouverte 2.0" in errors["licence"][0]
    assert "Fiche pratique (fiche-pratique)" in errors["type"][0]
    near, unknown = errors["organisations"]
    assert "ADRETS - Association de Développement (adrets)" in near and "/acteurs" in near, near
    assert unknown.startswith("« Zzyzx » : inconnu") and "/acteurs" in unknown, unknown
    # The form reads its fields through the same look-up.
    assert propose(client, themes="Mobilité", licence="CC0 1.0", type="guide").status_code == 303
    r = propose(client, themes="transports")
    assert r.status_code == 422 and "Mobilité (mobilite)" in html.unescape(r.text)


def test_json_api_refuses_unknown_fields_and_a_name_consent_that_is_not_a_boolean(client):
    body = {**form_data(territoires=[]), "nom": "Jo", "courriel": EMAIL}
    r = client.post("/api/contributions", json={**body, "date": "2023-13-45", "foo": 1})
    assert r.status_code == 400 and "date, foo" in r.json()["detail"], r.text
    r = client.post("/api/contributions", json={**body, "nom_public": "oui"})
    assert r.status_code == 400 and "nom_public" in r.json()["detail"], r.text
    assert client.post("/api/contributions", json={**body, "nom_public": True}).status_code == 201


def test_json_api_refuses_a_field_that_is_not_what_its_schema_says(client):
    """One theme sent as a string where /openapi.json says array is a 400 naming the field, never read as
    a list of one; so is a number for a text, a list of numbers, or a title given as a list."""
    body = {**form_data(territoires=["73065"]), "nom": "Jo", "courriel": EMAIL}
    theme = "https://data.adrets-asso.fr/id/theme/saisonnalite"
    schema = client.get("/openapi.json").json()["paths"]["/api/contributions"]["post"]["requestBody"]
    assert schema["content"]["application/json"]["schema"]["properties"]["themes"]["type"] == "array"
    for field, value, said in [
        ("themes", theme, "themes est une liste, même d'une seule valeur"),
        ("territoires", "73065", "territoires est une liste"),
        ("publics", [1, 2], "publics est une liste"),
        ("titre", 12345, "titre est un texte."),
        ("resume", ["Un résumé en liste, pas en texte."], "resume est un texte."),
        ("nom_public", "oui", "nom_public vaut true ou false."),
    ]:
        r = client.post("/api/contributions", json={**body, field: value})
        assert r.status_code == 400 and said in r.json()["detail"], (field, r.text)
    r = client.post("/api/contributions?lang=en", json={**body, "themes": theme})
    assert r.status_code == 400 and r.json()["detail"] == 'themes is a list, even of one value: ["…"].'
    assert client.post("/api/contributions", json={**body, "themes": [theme]}).status_code == 201


def test_json_api_blames_a_bad_file_on_the_file_not_on_the_link(store, tmp_path):
    """Over a real server: an unreadable ``fichier`` is an error on ``fichier``, and on nothing else."""
    body = {
        "titre": "Carte des tiers-lieux de Savoie",
        "resume": "Où trouver un tiers-lieu près de chez soi en Savoie.",
        "type": "outil",
        "licence": "https://creativecommons.org/publicdomain/zero/1.0/",
        "territoires": ["https://data.adrets-asso.fr/id/departement/73"],
        "nom": "Jo",
        "courriel": EMAIL,
    }
    with serve(store, tmp_path) as url:
        for fichier, message in [
            ({"nom": "x.pdf", "contenu_base64": "!!!"}, "base64"),
            ("abc", "objet"),
            ({"nom": "x.pdf", "contenu_base64": ""}, "vide"),
            ({"nom": "x.pdf", "contenu_base64": base64.b64encode(PNG).decode()}, "ne correspond pas"),
        ]:
            r = httpx.post(url + "/api/contributions", json={**body, "fichier": fichier}, timeout=60)
            assert r.status_code == 422, (fichier, r.text)
            errors = r.json()["erreurs"]
            assert set(errors) == {"fichier"} and message in errors["fichier"][0], (fichier, errors)
        # Base64 wrapped over lines, as MIME writes it, is base64.
        wrapped = "\n".join(re.findall(".{1,8}", base64.b64encode(PDF).decode()))
        fichier = {"nom": "g.pdf", "contenu_base64": wrapped}
        r = httpx.post(url + "/api/contributions", json={**body, "fichier": fichier}, timeout=60)
        assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("faux.pdf", PNG, "ne correspond pas"),
        ("script.html", b"<script>", "non accepté"),
        ("gros.pdf", PDF + b"0" * 3000, "trop lourd"),
    ],
)
def test_uploads_are_checked_by_content_and_size(store, tmp_path, name, data, message):
    app = make_app(store, tmp_path, upload_max_bytes=2048)
    with TestClient(app) as client:
        r = propose(client, files={"fichier": (name, data, "application/pdf")})
    assert r.status_code == 422 and message in r.text
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*.*"))


# --- abuse controls ---------------------------------------------------------------------------------
def test_submission_without_or_with_a_forged_csrf_token_is_refused(client, store):
    before = len(store.graphs())
    assert client.post("/ressources/proposer", data=form_data()).status_code == 403
    client.get("/ressources/proposer")  # has the cookie now, but not the secret
    assert client.post("/ressources/proposer", data=form_data(csrf_token="1700000000.abc")).status_code == 403
    other = TestClient(client.app)  # a token from another browser does not match this browser's cookie
    token = csrf_of(other.get("/ressources/proposer").text)
    assert client.post("/ressources/proposer", data=form_data(csrf_token=token)).status_code == 403
    assert len(store.graphs()) == before


def test_honeypot_filled_is_refused(client, store):
    before = len(store.graphs())
    assert propose(client, site_web="http://spam.example").status_code == 400
    upload = {"fichier": ("guide.pdf", PDF, "application/pdf")}
    assert propose(client, files=upload, site_web="http://spam.example").status_code == 400
    assert len(store.graphs()) == before


def test_rate_limit_answers_429(store, tmp_path):
    app = make_app(store, tmp_path, submit_rate=2, submit_window=3600)
    with TestClient(app) as client:
        assert [propose(client).status_code for _ in range(2)] == [303, 303]
        r = propose(client)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert client.post("/api/contributions", json={}).status_code == 429


def test_only_stored_proposals_count_against_the_rate_limit(store, tmp_path):
    app = make_app(store, tmp_path, submit_rate=3, submit_window=3600)
    with TestClient(app) as client:
        assert [propose(client, titre="").status_code for _ in range(3)] == [422] * 3
        assert [propose(client).status_code for _ in range(3)] == [303] * 3
        assert propose(client, titre="").status_code == 429


def test_the_secret_key_outlives_a_restart(tmp_path, monkeypatch):
    """Without COMMUNS_SECRET_KEY the key is made once beside the store, readable by its owner only:
    sessions, form tokens and contributors' pseudonyms (an HMAC of their email) survive a restart."""
    monkeypatch.delenv("COMMUNS_SECRET_KEY", raising=False)
    key = accounts.secret_key(Settings(store=str(tmp_path / "store")))
    assert accounts.secret_key(Settings(store=str(tmp_path / "store"))) == key
    assert (tmp_path / "store.secret_key").stat().st_mode & 0o777 == 0o600
    assert accounts.secret_key(Settings(store=str(tmp_path / "autre"))) != key
    assert accounts.secret_key(Settings(store=":memory:")) != accounts.secret_key(Settings(store=":memory:"))


def test_the_accounts_database_is_readable_by_its_owner_only(tmp_path):
    """It holds password and token hashes; a umask of 022 made it readable by every user."""
    umask = os.umask(0o022)
    try:
        db = accounts.Accounts(str(tmp_path / "store.comptes.sqlite"))
        db.add("dave", "un-mot-de-passe-long", "admin", "")
        files = sorted(tmp_path.iterdir())
        assert [f.name for f in files] == [f"store.comptes.sqlite{end}" for end in ("", "-shm", "-wal")]
        assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
        db.close()
    finally:
        os.umask(umask)


def zipped(*parts: tuple[str, str]) -> bytes:
    """Dated, so that the bytes (and the test ids made of them) are the same in every test process."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in parts:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


ODT = "application/vnd.oasis.opendocument.text"


@pytest.mark.parametrize(
    ("name", "data", "accepted"),
    [
        ("note.docx", zipped(("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w/>")), True),
        ("note.docx", zipped(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<x/>")), False),
        ("note.docx", zipped(("lisez-moi.txt", "un zip quelconque")), False),
        ("note.odt", zipped(("mimetype", ODT), ("content.xml", "<office/>")), True),
        ("note.odt", zipped(("mimetype", ODT.replace("text", "spreadsheet"))), False),
        ("note.odt", b"PK\x03\x04 pas un zip", False),
    ],
)
def test_office_files_are_checked_inside_their_zip(name, data, accepted):
    """A .docx must hold a Word part and an .odt name its own type: a zip's first bytes alone say nothing."""
    if accepted:
        assert uploads.check(name, data, 10_000).name == name
    else:
        with pytest.raises(uploads.UploadError, match="ne correspond pas"):
            uploads.check(name, data, 10_000)


def test_a_file_name_never_publishes_an_email_address_or_a_phone_number():
    """The file's name is published with it, as its name and in its address."""
    assert uploads.check("CV jean.dupont@gmail.com 06 12 34 56 78.pdf", PDF, 10_000).name == "cv.pdf"
    assert uploads.check("jean.dupont@gmail.com.pdf", PDF, 10_000).name == "sans-titre.pdf"
    assert uploads.check("fiche-paul.agent@fs05.fr-0612345678.pdf", PDF, 10_000).name == "fiche.pdf"
    assert uploads.check("Note_06-12-34-56-78_paul[at]mairie-x.fr.pdf", PDF, 10_000).name == "note-x-fr.pdf"
    assert uploads.check("Guide_saisonniers-2025 v2.pdf", PDF, 10_000).name == "guide-saisonniers-2025-v2.pdf"
    assert uploads.check("Compte rendu Mme Sophie Durand.pdf", PDF, 10_000).name == "compte-rendu.pdf"


def test_a_file_renamed_for_the_personal_data_in_its_name_is_said_so(client):
    """« affiche Mme Martin 06 11 22 33 44.pdf » silently became « affiche.pdf »: the 201 and the form's
    follow-up page say so, as they say a text was scrubbed."""
    name = "affiche Mme Martin 06 11 22 33 44.pdf"
    body = {**form_data(url=""), "territoires": []}
    sent = {"nom": name, "contenu_base64": base64.b64encode(PDF).decode()}
    r = client.post("/api/contributions", json={**body, "fichier": sent})
    assert r.status_code == 201 and "il a été renommé" in r.json()["avertissement"], r.text
    plain = client.post("/api/contributions", json={**body, "fichier": {**sent, "nom": "Affiche 2025.pdf"}})
    assert plain.status_code == 201 and "avertissement" not in plain.json(), plain.text
    by_form = propose(client, url="", files={"fichier": (name, PDF, "application/pdf")})
    page = html.unescape(client.get(by_form.headers["location"]).text)
    assert "il a été renommé" in page and "affiche.pdf" in page and "Martin" not in page
    by_form = propose(client, url="", files={"fichier": ("Affiche 2025.pdf", PDF, "application/pdf")})
    assert "renommé" not in client.get(by_form.headers["location"]).text


def test_files_saved_at_once_under_one_name_each_get_their_own_name_whole(tmp_path):
    """Moderation saves files in a thread pool: two edits attaching « guide.pdf » at once both found the
    name free and wrote one temporary file, leaving one file (or a mix of two) under one name. Each save
    ends with a name of its own holding its bytes whole, none overwritten, no temporary file left."""
    from concurrent.futures import ThreadPoolExecutor

    sent = [PDF + bytes([n]) * 2_000_000 for n in range(8)]
    saved = [uploads.Upload("guide.pdf", "application/pdf", data) for data in sent]
    start = threading.Barrier(len(saved))

    def save(upload: uploads.Upload) -> None:
        start.wait()
        uploads.save(tmp_path, "guide", upload)

    with ThreadPoolExecutor(len(saved)) as pool:
        list(pool.map(save, saved))
    names = sorted(u.name for u in saved)
    assert names == sorted(["guide.pdf"] + [f"guide-{n}.pdf" for n in range(2, 9)])
    assert sorted(p.name for p in (tmp_path / "guide").iterdir()) == names
    assert all(
        (tmp_path / "guide" / u.name).read_bytes() == data for u, data in zip(saved, sent, strict=True)
    )


def test_an_expired_form_or_the_rate_limit_gives_the_form_back_with_what_was_typed(store, tmp_path):
    """A browser whose form expired (no CSRF cookie, or a token too old) or that is over the rate limit
    gets the form again, filled as it was sent, the refusal stated at the top, the status and Retry-After
    kept; the fresh token it carries sends the proposal."""
    app = make_app(store, tmp_path, submit_rate=1, submit_window=3600)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    typed = form_data(titre="Guide <des> saisonniers", resume="Un résumé tapé pendant une heure entière.")
    files = {"fichier": ("guide.pdf", PDF, "application/pdf")}

    def kept(page: str) -> None:
        assert 'value="Guide &lt;des&gt; saisonniers"' in page and "tapé pendant une heure entière" in page
        assert 'value="Lucie Contributrice"' in page and "Chambéry [commune 73065]</textarea>" in page
        assert 'id="fichier-perdu"' in page  # a file is never sent twice: say to attach it again

    with TestClient(app) as client:
        r = client.post("/ressources/proposer", data=typed, files=files, headers=browser)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert re.search(r'<p id="refus">Le formulaire avait expiré[^<]*envoyez-la à nouveau', r.text)
        kept(r.text)
        expired = form_data(csrf_token="1000000000.abc", **typed)  # a token from long ago
        english = {**browser, "Accept-Language": "en"}
        r = client.post("/ressources/proposer", data=expired, headers=english)
        assert r.status_code == 403 and '<p id="refus">The form had expired' in r.text
        back = {**typed, "csrf_token": csrf_of(r.text)}
        r = client.post("/ressources/proposer", data=back, follow_redirects=False)
        assert r.status_code == 303  # the form given back sends
        token = csrf_of(client.get("/ressources/proposer").text)
        r = client.post(
            "/ressources/proposer", data={**typed, "csrf_token": token}, files=files, headers=browser
        )
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert re.search(r'<p id="refus">Trop de propositions[^<]*dans \d+ secondes\.</p>', r.text)
        kept(r.text)
        back = {**typed, "csrf_token": csrf_of(r.text)}
        r = client.post("/ressources/proposer", data=back, headers=english)
        assert r.status_code == 429 and re.search(r"Too many proposals[^<]*in \d+ seconds\.", r.text)
        # Scripts keep the JSON refusals.
        r = client.post("/api/contributions", json={**typed, "territoires": []})
        assert r.status_code == 429 and "Trop de propositions" in r.json()["detail"]


def test_a_sending_too_large_is_refused_unread_and_says_how_to_get_the_text_back(store, tmp_path):
    """A body over the limit is never read, so no form can be given back: the page says what happened and
    that the browser's Back button keeps what was typed (test_contrib_browser checks it does); the JSON
    API says the same without the Back button."""
    app = make_app(store, tmp_path, upload_max_bytes=2048)
    big = {"fichier": ("gros.pdf", PDF + b"0" * 400_000, "application/pdf")}
    pages = {
        "fr": "2 Kio au plus) : rien n'a été lu ni enregistré. Revenez au formulaire avec le bouton Retour",
        "en": "2 KiB at most): nothing was read or saved. Go back to the form with your browser's Back",
    }
    with TestClient(app) as client:
        token = csrf_of(client.get("/ressources/proposer").text)
        for lang, words in pages.items():
            headers = {"Accept": "text/html", "Accept-Language": lang}
            data = form_data(csrf_token=token)
            r = client.post("/ressources/proposer", data=data, files=big, headers=headers)
            assert r.status_code == 413 and f'<html lang="{lang}"' in r.text
            assert words in html.unescape(r.text), r.text
        r = client.post("/api/contributions", json={**form_data(), "resume": "x" * 400_000})
        assert r.status_code == 413 and r.json()["detail"].endswith("Kio au plus) : rien n'a été lu."), r.text
        # The follow-up page's withdrawal form, which anyone holding a follow-up address may post.
        r = client.post(
            "/suivi/un-jeton", data={"csrf_token": token}, files=big, headers={"Accept": "text/html"}
        )
        assert r.status_code == 413, r.text


def test_the_json_api_takes_a_file_up_to_the_limit_though_base64_weighs_a_third_more(store, tmp_path):
    """The limit is the file's, as on the form: a file just under it is taken, base64 and all; one just
    over it is an error on the file (read, so said per field), and a body far over is refused unread."""
    limit = 1024 * 1024
    app = make_app(store, tmp_path, upload_max_bytes=limit, submit_rate=1000)

    def sent(size: int):
        data = base64.b64encode(PDF + b"0" * (size - len(PDF))).decode()
        body = {**form_data(territoires=["Chambéry [commune 73065]"]), "url": ""}
        body["fichier"] = {"nom": "guide.pdf", "contenu_base64": data}
        return client.post("/api/contributions", json=body)

    with TestClient(app) as client:
        assert sent(limit).status_code == 201
        over = sent(limit + 1)
        assert over.status_code == 422 and "fichier" in over.json()["erreurs"], over.text
        assert sent(2 * limit).status_code == 413


def test_script_in_a_title_is_shown_as_text(client, app):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = propose(client, titre=evil, resume="Résumé <script>alert(2)</script> [lien](javascript:alert(3))")
    suivi = client.get(r.headers["location"]).text
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    for page in (
        suivi,
        client.get("/moderation").text,
        client.get(f"/moderation/{rid}").text,
        client.get(f"/ressources/{rid}/historique").text,
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page
        assert 'href="javascript:' not in page


def test_anonymous_proposals_can_be_switched_off(store, tmp_path):
    app = make_app(store, tmp_path, allow_anonymous=False)
    with TestClient(app) as client:
        assert client.get("/ressources/proposer", follow_redirects=False).status_code == 303
        filled = client.get(
            "/ressources/proposer?territoires=Tallard+%5Bcommune+05170%5D", follow_redirects=False
        )
        sign_in = client.get(filled.headers["location"]).text  # signed in, the form comes back filled
        assert 'name="suite" value="/ressources/proposer?territoires=Tallard+%5Bcommune+05170%5D"' in sign_in
        assert client.post("/api/contributions", json={"titre": "x"}).status_code == 401
        login(client, app, "camille", "contributeur")
        r = propose(client, nom="", courriel="")
        assert r.status_code == 303


def test_cookie_authenticated_api_calls_need_the_csrf_header(client, app):
    login(client, app)
    r = client.post("/api/contributions/inconnue/accepter")
    assert r.status_code == 403


# --- moderation, history, revert ----------------------------------------------------------------------
def test_a_moderator_s_edit_is_checked_as_a_proposal_and_may_replace_the_file(client, app, store):
    rid = pending_id(
        app, propose(client, files={"fichier": ("guide.pdf", PDF, "application/pdf")}).headers["location"]
    )
    login(client, app)
    before = Contributions(store, b"").record(rid)
    r = moderate(client, rid, **form_data(titre="", action="enregistrer"))
    assert r.status_code == 422 and "Ce champ est obligatoire." in r.text  # the edit page, with what to fix
    assert "<title>Erreur\u00a0: Modérer" in r.text and 'id="resume-erreurs" autofocus' in r.text
    assert Contributions(store, b"").record(rid) == before  # nothing written
    page = client.get(f"/moderation/{rid}")
    assert f'<a href="/fichiers/{rid}/guide.pdf">guide.pdf</a>' in page.text  # this site's, not the IRI host
    data = form_data(csrf_token=csrf_of(page.text), action="enregistrer_accepter")
    r = client.post(f"/moderation/{rid}", data=data, files={"fichier": ("carte.png", PNG, "image/png")})
    assert r.status_code == 200  # followed to the moderation page
    record = Contributions(store, b"").record(rid)
    assert record.state == "acceptee" and record.content.file.name == "carte.png"
    served = client.get(f"/fichiers/{rid}/carte.png")
    assert served.status_code == 200 and served.content == PNG
    assert moderate(client, rid, action="envoler").status_code == 400
    page = client.get(f"/ressources/{rid}/historique")
    bad = client.post(
        f"/ressources/{rid}/historique", data={"csrf_token": csrf_of(page.text), "version": "x"}
    )
    assert bad.status_code == 400


def test_a_moderator_s_expired_edit_comes_back_as_typed(client, app, store):
    """The moderator's edit form, as the proposal form: an expired token (a long edit) gives the form back
    filled as sent, the reason at the top, the status kept, and a fresh token that sends it."""
    rid = pending_id(app, propose(client).headers["location"])
    login(client, app)
    before = Contributions(store, b"").record(rid)
    edited = form_data(titre="Guide <révisé> par la modération", resume="Un résumé réécrit longuement.")
    files = {"fichier": ("carte.png", PNG, "image/png")}
    expired = {**edited, "action": "enregistrer", "csrf_token": "1000000000.abc"}
    r = client.post(f"/moderation/{rid}", data=expired, files=files, follow_redirects=False)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert re.search(r'<p id="refus">Le formulaire avait expiré[^<]*envoyez-la à nouveau', r.text)
    assert 'value="Guide &lt;révisé&gt; par la modération"' in r.text and "réécrit longuement" in r.text
    assert 'id="fichier-perdu"' in r.text  # the chosen file is never sent twice
    assert Contributions(store, b"").record(rid) == before  # nothing written
    r = client.post(
        f"/moderation/{rid}", data={**expired, "csrf_token": csrf_of(r.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert Contributions(store, b"").record(rid).content.title == "Guide <révisé> par la modération"
    # A decision refused so shows the resource as it is, and decides nothing.
    r = client.post(f"/moderation/{rid}", data={"action": "accepter"}, follow_redirects=False)
    assert r.status_code == 403 and '<p id="refus">Le formulaire avait expiré' in r.text
    assert Contributions(store, b"").record(rid).state == "en-attente"
    # A rejection's or a deletion's typed reason is kept in its own field, escaped.
    for action, field in (
        ("rejeter", r'<textarea id="motif"[^>]*>{}</textarea>'),
        ("supprimer", r'id="motif-suppression"[^>]*value="{}"'),
    ):
        r = client.post(f"/moderation/{rid}", data={"action": action, "motif": "Doublon <de> l'autre"})
        assert r.status_code == 403 and re.search(
            field.format("Doublon &lt;de&gt; l(&#39;|&#x27;)autre"), r.text
        ), action
    assert Contributions(store, b"").record(rid).state == "en-attente"


def test_edit_accept_history_revert_delete_restore(client, app, store):
    r = propose(client)
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    page = client.get(f"/moderation/{rid}")
    data = form_data(titre="Guide des saisonniers (édition 2025)", territoires="Savoie (73) [departement 73]")
    data.update(csrf_token=csrf_of(page.text), action="enregistrer_accepter")
    assert client.post(f"/moderation/{rid}", data=data, follow_redirects=False).status_code == 303
    resource = ox.NamedNode(store.minter.thing("ressource", rid))
    name = "SELECT ?t WHERE { ?r <http://schema.org/name> ?t }"
    assert [x["t"].value for x in store.select(name, {"r": resource})] == [
        "Guide des saisonniers (édition 2025)"
    ]

    history = client.get(f"/ressources/{rid}/historique")
    assert history.status_code == 200
    assert "<del>Guide des saisonniers en Maurienne</del>" in history.text
    assert "<ins>Guide des saisonniers (édition 2025)</ins>" in history.text
    assert "Revenir à la version 1" in history.text
    r = client.post(
        f"/ressources/{rid}/historique",
        data={"csrf_token": csrf_of(history.text), "version": "1"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [x["t"].value for x in store.select(name, {"r": resource})] == [
        "Guide des saisonniers en Maurienne"
    ]

    assert moderate(client, rid, action="supprimer", motif="doublon").status_code == 303
    assert not store.ask("ASK { ?r ?p ?o }", {"r": resource})
    assert client.get(f"/ressources/{rid}/historique").status_code == 200  # moderators still see it
    assert TestClient(app).get(f"/ressources/{rid}/historique").status_code == 410
    assert moderate(client, rid, action="restaurer").status_code == 303
    assert [x["t"].value for x in store.select(name, {"r": resource})] == [
        "Guide des saisonniers en Maurienne"
    ]
    actions = [h["action"] for h in client.get(f"/api/contributions/{rid}").json()["historique"]]
    assert actions == ["proposition", "modification", "acceptation", "retour", "suppression", "restauration"]
    # What cannot be done answers the same in the pages as in the JSON API: 409 for a state it does not apply
    # to, 404 for a version that does not exist; and nothing is written.
    assert moderate(client, rid, action="restaurer").status_code == 409
    history = client.get(f"/ressources/{rid}/historique")
    r = client.post(
        f"/ressources/{rid}/historique", data={"csrf_token": csrf_of(history.text), "version": "9"}
    )
    assert r.status_code == 404 and "Version inconnue : 9" in r.text
    assert [h["action"] for h in client.get(f"/api/contributions/{rid}").json()["historique"]] == actions


SEEN = re.compile(r'name="version_vue" value="(\d+)"')


def test_a_refused_decision_in_a_browser_shows_its_page_again_saying_why(client, app):
    """A decision the resource's state refuses (another moderator decided first), or a stale revert, is a
    409 page in the form's error pattern, not the JSON API's ``{"detail": …}``."""
    rid = pending_id(app, propose(client).headers["location"])
    login(client, app)
    old = client.get(f"/moderation/{rid}").text
    assert moderate(client, rid, action="accepter").status_code == 303
    again = {"csrf_token": csrf_of(old), "version_vue": SEEN.search(old).group(1), "action": "accepter"}
    r = client.post(f"/moderation/{rid}", data={**again, "version_vue": ""})
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html"), r.text
    assert '<p id="refus">Impossible : la ressource est acceptée.</p>' in r.text, r.text
    assert "<title>Erreur" in r.text
    history = client.get(f"/ressources/{rid}/historique").text
    assert moderate(client, rid, action="enregistrer", **form_data(titre="Guide retitré")).status_code == 303
    revert = {"csrf_token": csrf_of(history), "version": "1", "version_vue": SEEN.search(history).group(1)}
    r = client.post(f"/ressources/{rid}/historique", data=revert)
    assert r.status_code == 409 and r.headers["content-type"].startswith("text/html"), r.text
    assert '<p id="refus">Cette proposition a changé depuis' in r.text and "rechargez la page" in r.text
    assert "<title>Erreur" in r.text and "Guide retitré" in r.text


def test_a_moderator_writing_from_a_page_another_changed_since_is_refused_not_over_their_edit(
    store, tmp_path
):
    """Two moderators' sessions over a real server: B takes a name out and accepts; A, still on the page B
    changed, edits the title: a 409, nothing written (the name stays out), what A typed shown again. Every
    decision of the page, the history's revert and the API's decisions given the version read refuse so."""
    accounts_db = tmp_path / "comptes.sqlite"
    users = accounts.Accounts(str(accounts_db))
    users.add("alice", "un-mot-de-passe-long", "contributeur")
    for name in ("anna", "bruno"):
        users.add(name, "un-mot-de-passe-long", "moderateur", name.title())
    named = "Un guide écrit avec Sophie Bernard, animatrice du réseau."
    with (
        serve(store, tmp_path, accounts_db=str(accounts_db)) as url,
        httpx.Client(base_url=url, timeout=60) as a,
        httpx.Client(base_url=url, timeout=60) as b,
    ):
        alice = {"Authorization": f"Bearer {users.new_token('alice')}"}
        body = {**form_data(resume=named), "territoires": []}
        rid = httpx.post(url + "/api/contributions", json=body, headers=alice, timeout=60).json()["id"]
        for browser, name in ((a, "anna"), (b, "bruno")):
            signed_in = {"identifiant": name, "mot_de_passe": "un-mot-de-passe-long"}
            browser.post(
                "/connexion", data={"csrf_token": csrf_of(browser.get("/connexion").text), **signed_in}
            )
        page_a, page_b = a.get(f"/moderation/{rid}").text, b.get(f"/moderation/{rid}").text
        assert SEEN.search(page_a).group(1) == "1"

        def sent(page: str, **fields) -> dict:
            return {"csrf_token": csrf_of(page), "version_vue": SEEN.search(page).group(1), **fields}

        cleaned = form_data(resume="Un guide écrit avec l'animatrice du réseau.")
        r = b.post(f"/moderation/{rid}", data=sent(page_b, **cleaned, action="enregistrer_accepter"))
        assert r.status_code == 303, r.text
        stale = form_data(titre="Guide retitré par Anna", resume=named)
        r = a.post(f"/moderation/{rid}", data=sent(page_a, **stale, action="enregistrer"))
        assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
        assert (
            "Cette proposition a changé depuis que vous l&#39;avez ouverte (version 1, maintenant 3) : "
            "rechargez la page ; vos modifications sont rappelées ci-dessous." in r.text
        ), r.text
        assert 'value="Guide retitré par Anna"' in r.text and SEEN.search(r.text).group(1) == "3"
        record = Contributions(store, b"").record(rid)
        assert (record.version, record.state) == (3, "acceptee")
        assert "Sophie Bernard" not in public_text(store)
        for action in ("supprimer", "rejeter", "accepter"):  # every decision of the old page
            r = a.post(f"/moderation/{rid}", data=sent(page_a, action=action, motif="Doublon"))
            assert r.status_code == 409 and "(version 1, maintenant 3)" in r.text, action
        revert = {"csrf_token": csrf_of(page_a), "version": "1", "version_vue": "1"}
        assert a.post(f"/ressources/{rid}/historique", data=revert).status_code == 409
        robot = {"Authorization": f"Bearer {users.new_token('anna')}"}
        api = f"{url}/api/contributions/{rid}/supprimer"
        r = httpx.post(api, json={"version": 1}, headers=robot, timeout=60)
        assert r.status_code == 409 and "maintenant 3" in r.json()["detail"], r.text
        for bad in ("x", "²", "9" * 5000):  # not a version: a 400, not int()'s 500
            assert httpx.post(api, json={"version": bad}, headers=robot, timeout=60).status_code == 400, bad
        bad_seen = {"csrf_token": csrf_of(page_a), "version": "1", "version_vue": "²"}
        assert a.post(f"/ressources/{rid}/historique", data=bad_seen).status_code == 400
        assert Contributions(store, b"").record(rid).version == 3 and "Sophie Bernard" not in public_text(
            store
        )
        # Reloaded, the page's edit goes through.
        r = a.post(
            f"/moderation/{rid}", data=sent(a.get(f"/moderation/{rid}").text, **cleaned, action="enregistrer")
        )
        assert r.status_code == 303 and Contributions(store, b"").record(rid).version == 4
        assert httpx.post(api, json={"version": 4}, headers=robot, timeout=60).json()["etat"] == "supprimee"


@pytest.mark.parametrize("action", ["enregistrer", "enregistrer_accepter"])
def test_a_stale_edit_with_a_file_is_refused_and_leaves_no_file_behind(client, app, store, tmp_path, action):
    """Two moderators' sessions: B retitles; A, still on the page B changed, saves (or saves and accepts)
    with a file: a 409, nothing written nor accepted, and the file A sent does not stay on disk unused."""
    rid = pending_id(app, propose(client).headers["location"])
    login(client, app)
    bruno = TestClient(app)
    login(bruno, app, "bruno")
    page_a, page_b = client.get(f"/moderation/{rid}").text, bruno.get(f"/moderation/{rid}").text

    def sent(page: str, **fields) -> dict:
        return {"csrf_token": csrf_of(page), "version_vue": SEEN.search(page).group(1), **fields}

    retitled = form_data(titre="Guide retitré par Bruno")
    r = bruno.post(
        f"/moderation/{rid}", data=sent(page_b, **retitled, action="enregistrer"), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    folder = tmp_path / "uploads"
    before = sorted(p for p in folder.rglob("*") if p.is_file())
    files = {"fichier": ("Guide final.pdf", PDF, "application/pdf")}
    r = client.post(f"/moderation/{rid}", data=sent(page_a, **form_data(), action=action), files=files)
    assert r.status_code == 409 and "(version 1, maintenant 2)" in r.text, r.text
    record = Contributions(store, b"").record(rid)
    assert (record.version, record.state, record.content.title) == (
        2,
        "en-attente",
        "Guide retitré par Bruno",
    )
    assert record.content.file is None
    assert sorted(p for p in folder.rglob("*") if p.is_file()) == before


def test_an_edit_taking_a_name_out_can_hide_the_earlier_versions_from_the_public_history(client, app, store):
    """A name published, then taken out by a moderator: the public history (page and twins) starts at that
    edit and says so; SPARQL and the dumps never held the old versions; moderators still see them all."""
    named = "Un guide écrit avec Sophie Bernard, animatrice du réseau."
    rid = pending_id(app, propose(client, resume=named).headers["location"])
    login(client, app)
    assert moderate(client, rid, action="accepter").status_code == 303
    public = TestClient(app)
    assert "Sophie Bernard" in public.get(f"/ressources/{rid}/historique").text
    assert 'name="masquer_historique"' in client.get(f"/moderation/{rid}").text
    cleaned = form_data(resume="Un guide écrit avec l'animatrice du réseau.")
    r = moderate(client, rid, action="enregistrer", masquer_historique="on", **cleaned)
    assert r.status_code == 303
    for suffix in ("", ".json", ".ttl", ".nt"):
        assert "Sophie Bernard" not in public.get(f"/ressources/{rid}/historique{suffix}").text, suffix
    page = public.get(f"/ressources/{rid}/historique").text
    assert "Versions antérieures masquées par la modération." in page and "Version 2" not in page
    shown = public.get(f"/ressources/{rid}/historique.json").json()
    assert shown["versions_anterieures_masquees"] is True
    assert [h["version"] for h in shown["historique"]] == [3]
    for suffix in (".ttl", ".nt"):  # the RDF twins say so too
        twin = rdflib.Graph().parse(
            data=public.get(f"/ressources/{rid}/historique{suffix}").text, format="turtle"
        )
        hides = rdflib.URIRef(CS + "masqueAvant")
        assert [o.toPython() for o in twin.objects(None, hides)] == [True], suffix
    query = 'ASK { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?o), "Sophie Bernard")) } }'
    assert public.get("/sparql", params={"query": query}).json()["boolean"] is False
    assert "Sophie Bernard" not in public_text(store)
    # Nothing is lost: moderators see every version, and the private record keeps them.
    assert "Sophie Bernard" in client.get(f"/ressources/{rid}/historique").text
    assert "Sophie Bernard" in str(Contributions(store, b"").version_content(rid, 2))
    # Nor can a revert publish them again: no button for them, and a revert sent anyway is refused.
    page = client.get(f"/ressources/{rid}/historique").text
    assert "Revenir à la version" not in page
    r = client.post(f"/ressources/{rid}/historique", data={"csrf_token": csrf_of(page), "version": "2"})
    assert r.status_code == 409 and "Impossible : les versions avant la 3 sont masquées" in r.text
    assert "Sophie Bernard" not in public.get(f"/ressources/{rid}/historique").text


def test_a_contributor_withdraws_their_own_pending_proposal_and_no_one_else_s(client, app, store):
    """By the JSON API, the follow-up address or their account's page, while pending: a deletion whose
    reason says so, under the proposal's own attribution; another account's is a 404, a decided one a 409."""
    users = app.state.accounts
    for name in ("alice", "bob"):
        users.add(name, "un-mot-de-passe-long", "contributeur", f"{name.title()} Secrète")
    alice = {"Authorization": f"Bearer {users.new_token('alice')}"}
    bob = {"Authorization": f"Bearer {users.new_token('bob')}"}
    body = {**form_data(), "territoires": []}
    mine = client.post("/api/contributions", json=body, headers=alice).json()["id"]
    api = f"/api/contributions/{mine}/supprimer"
    assert client.post(api, headers=bob).status_code == 404
    r = client.post(api, headers=alice)
    assert r.status_code == 200 and r.json() == {"id": mine, "etat": "supprimee"}, r.text
    last = Contributions(store, b"").history(mine)[-1]
    assert (last.action, last.state_before, last.reason) == (
        "suppression",
        "en-attente",
        "retirée par son auteur",
    )
    assert last.agent_label == model.ANONYMOUS_LABEL  # the name alice did not choose to show, never
    assert client.post(api, headers=alice).status_code == 409
    # The follow-up address, without an account.
    suivi = propose(client).headers["location"].split("?")[0]
    page = client.get(suivi).text
    assert "Retirer ma proposition" in page
    r = client.post(suivi, data={"csrf_token": csrf_of(page)})
    assert (
        r.status_code == 200 and "retirée par son auteur" in r.text and "Retirer ma proposition" not in r.text
    )
    assert client.post(suivi, data={"csrf_token": csrf_of(page)}).status_code == 409
    # An account's page: its own proposal, not another's.
    theirs = client.post("/api/contributions", json=body, headers=bob).json()["id"]
    mine = client.post("/api/contributions", json=body, headers=alice).json()["id"]
    login(client, app, "alice", "contributeur")
    page = client.get(f"/mes-propositions/{mine}").text
    assert client.post(f"/mes-propositions/{theirs}", data={"csrf_token": csrf_of(page)}).status_code == 404
    assert Contributions(store, b"").record(theirs).state == "en-attente"
    r = client.post(f"/mes-propositions/{mine}", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and Contributions(store, b"").record(mine).state == "supprimee"


def test_the_follow_up_page_shows_every_field_given_and_why_contact_details_went_at_every_visit(client):
    """The audiences were stored but never shown; the removed contact details were explained only on the
    visit right after proposing."""
    audience = re.search(r'name="publics" value="([^"]+)"', client.get("/ressources/proposer").text).group(1)
    r = propose(client, publics=audience, resume="Un guide pratique. Écrire à jo.secret@example.org.")
    later = client.get(r.headers["location"].split("?")[0]).text
    label = re.search(rf'value="{re.escape(audience)}"> ([^<]+)<', client.get("/ressources/proposer").text)
    assert "<dt>Publics</dt>" in later and label.group(1).strip() in later
    why = "numéros de téléphone du titre, du résumé et du nom affiché"
    assert "[courriel retiré]" in later and why in later
    plain = client.get(propose(client).headers["location"].split("?")[0]).text
    assert why not in plain and "<dt>Publics</dt>" not in plain


def test_the_follow_up_page_says_why_a_name_went(client):
    """A summary that lost only a person's name (« Mme Sophie Durand ») is explained as one that lost an
    e-mail address is."""
    r = propose(client, resume="Compte rendu de la rencontre avec Mme Sophie Durand.")
    later = client.get(r.headers["location"].split("?")[0]).text
    assert "[nom retiré]" in later and "personnes nommées avec une civilité" in later


def test_the_moderation_queue_says_who_proposed_what_kind_where(client, app):
    """Titles and dates alone did not let a moderator triage: the queue names the kind, the territories and
    the contributor as the public would see them (their name only if they chose to show it, never an
    e-mail address)."""
    propose(client, titre="Guide nommé des saisonniers", nom_public="on")
    propose(
        client, titre="Guide anonyme des saisonniers", nom="Caché Quelqu'un", courriel="cache@example.net"
    )
    login(client, app)
    queue = html.unescape(client.get("/moderation").text)
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in queue.split("<tr>")[1:]}
    named, anonymous = rows["Guide nommé des saisonniers"], rows["Guide anonyme des saisonniers"]
    assert "Lucie Contributrice" in named and "Chambéry (commune)" in named and "<td>Guide</td>" in named
    assert model.ANONYMOUS_LABEL in anonymous and "Caché" not in queue
    assert EMAIL not in queue and "cache@example.net" not in queue


def test_rejection_reason_reaches_the_contributor_page(client, app, store):
    r = propose(client)
    suivi = r.headers["location"]
    rid = pending_id(app, suivi)
    login(client, app)
    refused = moderate(client, rid, action="rejeter", motif="")
    assert refused.status_code == 422
    # As a proposal's errors: the summary links to the field, which says it is invalid and why.
    summary = re.search(
        r'<div class="alerte" role="alert"[^>]*id="resume-erreurs".*?</div>', refused.text, re.S
    )
    assert '<a href="#motif">Motif</a>' in summary.group(0)
    field = re.search(r'<textarea id="motif"[^>]*>', refused.text).group(0)
    assert "required" in field and 'aria-invalid="true"' in field and 'aria-describedby="err-motif"' in field
    assert (
        '<label for="motif">Motif du rejet (montré à la personne qui a proposé) <span class="requis">'
        in refused.text
    )
    done = moderate(client, rid, action="rejeter", motif="Ressource déjà présente.")
    assert done.status_code == 303
    # The page it leads back to says what was done, in its title too; an unknown value says nothing.
    page = client.get(done.headers["location"]).text
    assert '<div class="info" role="status"><p>Proposition rejetée.</p></div>' in page
    assert "<title>Proposition rejetée. Modérer" in page
    assert 'role="status"' not in client.get(f"/moderation/{rid}?fait=Pirat%C3%A9").text
    page = TestClient(app).get(suivi)
    assert "rejetée" in page.text and "Ressource déjà présente." in page.text
    assert TestClient(app).get(f"/ressources/{rid}/historique").status_code == 404  # never public


def test_public_history_shows_only_public_versions(client, app):
    r = propose(client, titre="Brouillon confidentiel")
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    page = client.get(f"/moderation/{rid}")
    data = form_data(titre="Titre intermédiaire", csrf_token=csrf_of(page.text), action="enregistrer")
    client.post(f"/moderation/{rid}", data=data)
    data.update(titre="Titre publié", action="enregistrer_accepter")
    client.post(f"/moderation/{rid}", data=data)
    assert "Titre intermédiaire" in client.get(f"/ressources/{rid}/historique").text  # moderators see all
    anonymous = TestClient(app).get(f"/ressources/{rid}/historique").text
    assert "Titre publié" in anonymous and "Brouillon confidentiel" not in anonymous
    assert "Titre intermédiaire" not in anonymous
    # Every column of the changes' tables is named, the −/+ one too (axe: empty-table-header).
    assert '<table class="diff">' in anonymous and not re.search(r"<th[^>]*>\s*</th>", anonymous)
    assert "Revenir à la version" not in anonymous


def test_public_history_has_twins_of_what_it_shows(client, app):
    """The history was HTML only (``.ttl`` a 404, ``?format=ttl`` a 400, ``Accept: text/turtle`` a 406): its
    twins, negotiated as every page's, give the public change sets (version, time, action, public name),
    to a moderator too, never a pending draft, an e-mail or a pseudonym's IRI."""
    r = propose(client, titre="Brouillon confidentiel", nom="Lucie Publique", nom_public="on")
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    assert client.get(f"/ressources/{rid}/historique.json").status_code == 404  # pending: not public
    assert "historique.ttl" not in client.get(f"/ressources/{rid}/historique").text  # nor linked
    page = client.get(f"/moderation/{rid}")
    data = form_data(titre="Titre publié", csrf_token=csrf_of(page.text), action="enregistrer_accepter")
    client.post(f"/moderation/{rid}", data=data)
    client.post(f"/moderation/{rid}", data={**data, "titre": "Titre corrigé", "action": "enregistrer"})
    path = f"/ressources/{rid}/historique"
    visitor = TestClient(app)
    html_page = visitor.get(path).text
    assert f'<link rel="alternate" type="text/turtle" href="{path}.ttl">' in html_page
    answers = [
        visitor.get(path + ".ttl"),
        visitor.get(path + "?format=ttl"),
        visitor.get(path, headers={"Accept": "text/turtle"}),
        client.get(path + ".ttl"),  # a moderator's session: the same public change sets
    ]
    for answer in answers:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/turtle")
        text = answer.text
        assert "Brouillon confidentiel" not in text and EMAIL not in text, text
        assert "/id/contributeur/" not in text and "/id/compte/" not in text, text
    graph = list(ox.parse(answers[0].content, format=ox.RdfFormat.TURTLE))
    prov = "http://www.w3.org/ns/prov#"
    activities = {t.subject for t in graph if t.object == ox.NamedNode(prov + "Activity")}
    assert len(activities) == 2  # the acceptation and the edit after it; not the proposal nor the draft
    agents = {t.object for t in graph if t.predicate == ox.NamedNode(prov + "wasAssociatedWith")}
    names = {
        t.object.value for t in graph if t.subject in agents and t.predicate == ox.NamedNode(RDFS + "label")
    }
    assert names == {"Modo Modé"}
    generated = [t.object.value for t in graph if t.predicate == ox.NamedNode(prov + "generated")]
    assert sorted(generated) == [
        f"{app.state.store.minter.thing('ressource', rid)}/version/{n}" for n in (3, 4)
    ]
    jsonld = visitor.get(path + ".jsonld")
    assert jsonld.headers["content-type"].startswith("application/ld+json") and "prov:Activity" in jsonld.text
    entries = visitor.get(path, headers={"Accept": "application/json"}).json()["historique"]
    assert entries == visitor.get(path + ".json").json()["historique"]
    assert [(e["action"], e["version"], e["par"]) for e in entries] == [
        ("acceptation", 3, "Modo Modé"),
        ("modification", 4, "Modo Modé"),
    ]
    assert {"propriete": "schema:name", "champ": "Titre", "valeur": "Titre corrigé"} in entries[1]["ajoute"]
    assert {"propriete": "schema:name", "champ": "Titre", "valeur": "Titre publié"} in entries[1]["retire"]
    assert "Brouillon confidentiel" not in json.dumps(entries) and EMAIL not in json.dumps(entries)


def test_pages_show_times_at_paris_time_as_the_catalogue_does(client, app, monkeypatch):
    """It showed « 2026-12-06 23:30 UTC » where the catalogue shows Paris time in words, without saying so."""
    monkeypatch.setattr(model, "now", lambda: "2026-12-06T23:30:00Z")
    suivi = propose(client).headers["location"]
    rid = pending_id(app, suivi)
    login(client, app)
    moderate(client, rid, action="accepter")
    page = TestClient(app).get(f"/ressources/{rid}/historique").text
    assert "7 décembre 2026 à 00:30" in page and "UTC" not in page, page
    assert "7 December 2026, 00:30" in TestClient(app).get(f"/ressources/{rid}/historique?lang=en").text
    # Every page for people shows that moment alike: they gave the UTC date (« 2026-12-06 », « 6 décembre
    # 2026 ») or time (« 2026-12-06 23:30 »), unlabelled. The store is the module's: others are listed too.
    for path in (f"/id/ressource/{rid}", suivi, "/moderation", f"/moderation/{rid}"):
        page = re.sub(r"<script.*?</script>", "", client.get(path).text, flags=re.S)  # JSON-LD keeps ISO UTC
        assert "7 décembre 2026 à 00:30" in page and "2026-12-06" not in page, path


def test_public_history_lists_the_fields_people_edit_and_no_raw_date(client, app):
    """It listed the title's label (« Libellé ») and the dates the platform writes as changes, raw (« Proposée
    le 2026-12-07T11:36:01Z ») under a heading that says the change's date in words."""
    rid = pending_id(app, propose(client, titre="Guide des dates").headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    page = TestClient(app).get(f"/ressources/{rid}/historique").text
    diff = re.search(r'<table class="diff">.*?</table>', page, re.S)[0]
    assert "<td>Titre</td><td><ins>Guide des dates</ins>" in diff and "Résumé" in diff
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", page), page
    for technical in ("Libellé", "Proposée le", "Modifiée le", "Publiée le"):
        assert technical not in page, technical


def test_public_history_names_the_contributor_as_they_chose_never_by_iri(client, app):
    anonymous = pending_id(app, propose(client).headers["location"])
    named = pending_id(app, propose(client, nom="Lucie Publique", nom_public="on").headers["location"])
    login(client, app)
    for rid in (anonymous, named):
        moderate(client, rid, action="accepter")
    pages = [TestClient(app).get(f"/ressources/{rid}/historique").text for rid in (anonymous, named)]
    assert all("/id/contributeur/" not in page for page in pages)
    assert re.search(r"Proposée par</td><td><ins>Contributeur·rice du réseau<", pages[0]), pages[0]
    assert re.search(r"Proposée par</td><td><ins>Lucie Publique<", pages[1]), pages[1]
    english = TestClient(app).get(f"/ressources/{anonymous}/historique?lang=en").text
    assert re.search(r"Proposed by</td><td><ins>Network contributor<", english), english
    assert "Contributeur·rice du réseau" not in english


def test_moderation_needs_a_moderator(client, app):
    assert client.get("/moderation", follow_redirects=False).status_code == 303
    login(client, app, "simple", "contributeur")
    assert client.get("/moderation").status_code == 403
    assert client.post("/api/contributions/x/accepter").status_code == 403


def test_signing_in_leads_where_asked_else_where_the_role_works(client, app):
    """The sign-in form's ``suite`` is the page that sent there; without one, a contributor goes to the
    proposal form (the moderators' queue is a 403 to them) and a moderator to the queue."""

    def sign_in(username: str, role: str, suite: str = "") -> str:
        app.state.accounts.add(username, "un-mot-de-passe-long", role)
        page = client.get("/connexion" + (f"?suite={suite}" if suite else ""))
        data = {
            "csrf_token": csrf_of(page.text),
            "identifiant": username,
            "mot_de_passe": "un-mot-de-passe-long",
        }
        data |= {"suite": m.group(1)} if (m := re.search(r'name="suite" value="([^"]*)"', page.text)) else {}
        r = client.post("/connexion", data=data, follow_redirects=False)
        client.cookies.clear()
        return r.headers["location"]

    assert sign_in("contrib", "contributeur") == "/ressources/proposer"
    assert sign_in("modo", "moderateur") == "/moderation"
    assert sign_in("admin", "admin") == "/moderation"
    assert sign_in("contrib2", "contributeur", "/ressources/x/historique") == "/ressources/x/historique"
    assert sign_in("other", "contributeur", "//elsewhere.example") == "/ressources/proposer"


def test_every_page_leads_to_proposing_and_signing_in_and_a_personal_one_out(client, app):
    """Public pages are cached, the same bytes for everybody: they link to the form and the sign-in page
    alone. The pages drawn for one person (never cached) name who is signed in, the queue for a
    moderator, and sign out with a form carrying the CSRF token: a shared desk computer is left signed out."""
    anonymous = {path: client.get(path).text for path in ("/", "/ressources", "/ressources/proposer")}

    def header(text: str) -> str:  # the layout's part (a public page's lists fill in once indexed)
        return text[text.index("<header") : text.index("</header>")]

    for path, text in anonymous.items():
        assert 'href="/ressources/proposer"' in text and 'href="/connexion"' in text, path
        assert 'action="/deconnexion"' not in text, path
    login(client, app, "simple", "contributeur")
    for path in ("/", "/ressources"):
        assert header(client.get(path).text) == header(anonymous[path]), path  # the same for everybody
    form = client.get("/ressources/proposer").text
    assert "Simple Modé" in form and 'action="/deconnexion"' in form and 'href="/connexion"' not in form
    assert 'href="/moderation"' not in form
    client.cookies.clear()
    login(client, app)
    queue = client.get("/moderation").text
    assert 'href="/moderation"' in queue and "Se déconnecter" in queue
    signed_out = client.post("/deconnexion", data={"csrf_token": csrf_of(queue)}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert client.get("/moderation", follow_redirects=False).headers["location"].startswith("/connexion")


def test_every_sign_in_redirect_keeps_the_query_url_encoded(client):
    """Three of the four redirects to the sign-in page (the form's is tested above) wrote the path raw and
    dropped the query: one helper (accounts.sign_in_redirect) encodes both, a « & » no longer ends it."""
    client.cookies.clear()
    for path in ("/mes-propositions", "/mes-propositions/x", "/moderation"):
        location = client.get(path + "?lang=en&a=1", follow_redirects=False).headers["location"]
        assert location == f"/connexion?suite={path}%3Flang%3Den%26a%3D1", path


def test_a_report_on_a_page_is_handled_not_published(client, app, store):
    """A page's « Signaler une erreur » link proposes with the page's IRI as its link: accepting it
    published a resource whose link was that page. It is a report on the page, named to the moderator, who
    closes it as handled (nothing public, the reporter sees it) or rejects it; it cannot be accepted."""
    tallard = store.minter.thing("commune", "05170")
    login(client, app, "rapporteur", "contributeur")
    sent = propose(client, titre="Horaires faux pour Tallard", url=tallard, resume="La mairie ouvre à 9 h.")
    rid = re.search(r"/mes-propositions/([a-z0-9-]+)", client.get("/mes-propositions").text).group(1)
    assert sent.status_code == 303
    client.cookies.clear()
    login(client, app)
    page = client.get(f"/moderation/{rid}").text
    assert 'Signalement sur <a href="/id/commune/05170">Tallard</a>' in page, page
    assert 'value="accepter"' not in page and 'value="enregistrer_accepter"' not in page
    assert moderate(client, rid, action="accepter").status_code == 409
    r = moderate(client, rid, action="traiter", motif="Horaires corrigés dans la liste des lieux.")
    assert r.status_code == 303 and Contributions(store, b"").state(rid) == model.CLOSED
    assert "Signalement marqué comme traité." in client.get(r.headers["location"]).text
    assert "Horaires faux" not in public_text(store) and client.get(f"/id/ressource/{rid}").status_code == 404
    assert "Traitée (1)" in client.get("/moderation").text
    client.cookies.clear()
    login(client, app, "rapporteur", "contributeur")
    assert "traitée" in client.get("/mes-propositions").text
    follow = client.get(f"/mes-propositions/{rid}").text
    assert "Horaires corrigés dans la liste des lieux." in follow and "Traitement du signalement" in follow
    # What was done is a note from the moderators, not an alert as a rejection's reason is.
    assert '<div class="info"><h2>Note de la modération</h2><p>Horaires corrigés' in follow
    # Closed again without a reason, the page shows no earlier decision's reason as what was done.
    client.cookies.clear()
    login(client, app)
    assert moderate(client, rid, action="restaurer").status_code == 303
    assert moderate(client, rid, action="traiter").status_code == 303
    # A resource proposed is not closed as a report, nor made one by the edit that accepts it (not saved).
    client.cookies.clear()
    sent = propose(client, titre="Guide des saisonniers", url="https://example.org/guide")
    other = pending_id(app, sent.headers["location"])
    login(client, app)
    assert moderate(client, other, action="traiter").status_code == 409
    fields = form_data(titre="Guide des saisonniers", url=tallard, action="enregistrer_accepter")
    assert moderate(client, other, **fields).status_code == 409
    record = Contributions(store, b"").record(other)
    assert record.state == model.PENDING and record.content.url == "https://example.org/guide"
    client.cookies.clear()
    login(client, app, "rapporteur", "contributeur")
    assert '<div class="alerte"><h2>' not in client.get(f"/mes-propositions/{rid}").text


def test_a_report_s_form_speaks_of_a_report_and_asks_only_what_a_report_uses(client, store):
    """The form a page's « Signaler une erreur » link opens said « à quoi sert la ressource », « La
    proposition n'a pas été enregistrée », and asked for themes, publics, projects, organisations and a
    file, which a report does not use; « J'accepte que mon nom soit affiché avec la ressource » too, though
    a report publishes nothing; sent, it was thanked as « votre proposition »."""
    iri = store.minter.thing("commune", "05170")
    form = client.get("/ressources/proposer", params={"url": iri}).text
    assert "Ce qui est faux ou manque sur la page" in form and "à quoi sert la ressource" not in form
    for name in ("themes", "publics", "projets", "organisations", "fichier", "type", "licence", "nom_public"):
        assert f'name="{name}"' not in form, name
    refused = propose(client, url=iri, titre="")
    assert refused.status_code == 422
    said = html.unescape(refused.text)
    assert "Le signalement n'a pas été envoyé" in said and "La proposition n'a pas" not in said
    assert 'name="themes"' not in refused.text and 'name="fichier"' not in refused.text
    sent = propose(client, url=iri, titre="Horaires faux", resume="La mairie ouvre à 9 h.")
    assert sent.status_code == 303
    follow = html.unescape(client.get(sent.headers["location"]).text)
    assert "Merci, votre signalement est enregistré." in follow and "Suivi de votre signalement" in follow
    assert "proposition" not in follow
    assert 'name="nom_public"' in client.get("/ressources/proposer").text  # a proposal still asks


def test_every_link_of_the_error_summary_leads_to_its_field(client):
    """The summary linked « #themes » and « #publics », which named nothing on the page."""
    refused = propose(client, themes="inconnu", publics="personne", titre="")
    assert refused.status_code == 422
    targets = re.findall(r'<li><a href="#([\w-]+)">', refused.text)
    assert {"themes", "publics", "titre"} <= set(targets), targets
    for target in targets:
        assert f'id="{target}"' in refused.text, target


def test_a_report_s_themes_sent_through_the_api_survive_a_moderator_s_edit(client, app, store):
    """The report form hides themes and publics; the moderation page's form then sent none, and saving a
    report sent with some through the JSON API lost them."""
    body = {"titre": "Horaires faux", "resume": "La mairie ouvre à 9 h.", "nom": "Jo", "courriel": EMAIL}
    body |= {"url": store.minter.thing("commune", "05170"), "themes": ["mobilite"]}
    r = client.post("/api/contributions", json=body)
    assert r.status_code == 201, r.text
    rid, theme = r.json()["id"], f"{store.minter.base}id/theme/mobilite"
    login(client, app)
    page = client.get(f"/moderation/{rid}").text
    assert f'<input type="hidden" name="themes" value="{theme}">' in page, page
    kept = {"themes": [theme]}  # as the browser sends the hidden field back
    fields = form_data(titre="Horaires faux à Tallard", url=body["url"], action="enregistrer")
    fields.pop("type"), fields.pop("licence")
    assert moderate(client, rid, **fields, **kept).status_code == 303
    assert Contributions(store, b"").record(rid).content.themes == [theme]


def test_a_signed_in_contributor_finds_their_proposals_named_or_not_and_no_one_else_s(client, app):
    """« Mes propositions »: what the account proposed, its name shown or not, with the state as it goes;
    each opens its follow-up page without the emailed link; another's proposal is a 404 there."""
    login(client, app, "max", "contributeur")
    assert propose(client, titre="La proposition de Max").status_code == 303
    client.cookies.clear()
    assert client.get("/mes-propositions", follow_redirects=False).headers["location"] == (
        "/connexion?suite=/mes-propositions"
    )
    login(client, app, "lea", "contributeur")
    assert 'href="/mes-propositions"' in client.get("/ressources/proposer").text
    assert "encore rien proposé" in client.get("/mes-propositions").text
    propose(client, titre="Le guide nommé de Léa", nom_public="on")
    propose(client, titre="La fiche anonyme de Léa")
    mine = client.get("/mes-propositions").text
    assert "Le guide nommé de Léa" in mine and "La fiche anonyme de Léa" in mine, mine
    assert "La proposition de Max" not in mine and mine.count("en attente") == 2
    ids = re.findall(r'href="/mes-propositions/([a-z0-9-]+)"', mine)
    assert len(ids) == 2
    ids.sort(key=lambda rid: "anonyme" not in rid)  # accepted below: no account's agent is made public
    maxs = next(x.id for x in Contributions(app.state.store, b"").by_state("en-attente") if "max" in x.id)
    assert client.get(f"/mes-propositions/{maxs}").status_code == 404
    client.cookies.clear()
    login(client, app)
    assert moderate(client, ids[0], action="accepter").status_code == 303
    client.cookies.clear()
    login(client, app, "lea", "contributeur")
    mine = client.get("/mes-propositions").text
    assert mine.count("acceptée") == 1 and mine.count("en attente") == 1
    follow = client.get(f"/mes-propositions/{ids[0]}")
    assert follow.status_code == 200 and f"/id/ressource/{ids[0]}" in follow.text
    assert follow.headers["Cache-Control"] == "no-store"


def test_wrong_password_is_refused(client, app):
    app.state.accounts.add("alex", "un-mot-de-passe-long", "moderateur")
    page = client.get("/connexion")
    r = client.post(
        "/connexion", data={"csrf_token": csrf_of(page.text), "identifiant": "alex", "mot_de_passe": "faux"}
    )
    assert r.status_code == 401 and "incorrect" in r.text
    assert 'name="identifiant" autocomplete="username" value="alex"' in r.text  # kept, the password never
    assert 'value="faux"' not in r.text
    assert client.get("/moderation", follow_redirects=False).status_code == 303


# --- privacy ------------------------------------------------------------------------------------------
def test_contributor_email_is_in_no_public_answer(client, app, store):
    r = propose(client, nom="Lucie Discrète", courriel=EMAIL)
    suivi = r.headers["location"]
    rid = pending_id(app, suivi)
    login(client, app)
    moderate(client, rid, action="accepter")
    anonymous = TestClient(app)
    rows = store.select("SELECT ?s ?p ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
    assert not [row for row in rows if "lucie.secrete" in row["o"].value]
    assert "lucie.secrete" not in public_text(store)
    assert "Lucie Discrète" not in public_text(store)  # name not shown: she did not agree
    for path in (suivi, f"/ressources/{rid}/historique", "/territoires/autocomplete?q=cham"):
        assert "lucie.secrete" not in anonymous.get(path).text
    assert "lucie.secrete" not in client.get(f"/api/contributions/{rid}").text
    assert "lucie.secrete" not in client.get(f"/moderation/{rid}").text
    # ... but it is kept, privately, to answer the contributor.
    private = store.minter.private_graph("contributions")
    assert store.ask(
        "ASK { GRAPH ?g { ?r ?p ?mail } }",
        {"g": ox.NamedNode(private), "mail": ox.Literal(EMAIL)},
        public=False,
    )
    history_graphs = [g for g in store.graphs() if "/historique/" in g]
    buf = io.BytesIO()
    store.dump(buf, ox.RdfFormat.N_QUADS, history_graphs)
    assert EMAIL not in buf.getvalue().decode()


def test_named_contributor_is_public_only_with_consent(store):
    m = Contributions(store, b"secret")
    content = Content("Fiche transport à la demande", "Résumé de la fiche transport.", "guide")
    named = m.contributor_agent(Contributor("Ana", "ana@example.net", True))[0]
    hidden = m.contributor_agent(Contributor("Ana", "ana@example.net", False))[0]
    assert named != hidden  # an anonymous contribution is never linked to a named one
    rid, _ = m.propose(content, Contributor("Ana", "ana@example.net", True))
    m.accept(rid, "modo", "Modé")
    assert "Ana" in public_text(store) and "ana@example.net" not in public_text(store)


def test_an_account_publishes_one_name_its_own_and_only_when_asked(client, app, store):
    """One account proposing (names sent with nom_public false) and moderating, as an admin script does: no
    name it sent is published, and each change set has one author, the right one."""
    app.state.accounts.add("script", "un-mot-de-passe-long", "admin", "Modo Test")
    auth = {"Authorization": f"Bearer {app.state.accounts.new_token('script')}"}
    body = {"resume": "Un guide pour les saisonniers.", "type": "guide", "url": "https://example.org/g"}
    ids = []
    for title, name in (("Guide Alpha", "Scripteur Secret"), ("Guide Bravo", "Xavier Caché")):
        r = client.post(
            "/api/contributions",
            json={**body, "titre": title, "nom": name, "nom_public": False},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    a, b = ids
    assert client.post(f"/api/contributions/{a}/accepter", headers=auth).status_code == 200
    assert (
        client.post(f"/api/contributions/{b}/rejeter", json={"motif": "Hors sujet"}, headers=auth).status_code
        == 200
    )
    account = store.minter.thing("compte", "")
    public = public_text(store)
    assert "Scripteur Secret" not in public and "Xavier Caché" not in public and account not in public
    assert "Modo Test" not in public  # the account's own name too: nom_public was false
    history = TestClient(app).get(f"/ressources/{a}/historique").text
    assert history.count("Acceptation") == 1 and "Scripteur" not in history, history
    changes = client.get(f"/api/contributions/{b}", headers=auth).json()["historique"]
    assert [(c["action"], c["par"]) for c in changes] == [
        ("proposition", "Contributeur·rice du réseau"),
        ("rejet", "Modo Test"),
    ]
    # Asked for, the name shown is the account's (the one its moderation changes bear), not the one sent.
    r = client.post(
        "/api/contributions",
        json={**body, "titre": "Guide Charlie", "nom": "Autre Nom", "nom_public": True},
        headers=auth,
    )
    c = r.json()["id"]
    assert "nom et le courriel envoyés sont ignorés" in r.json()["avertissement"], r.text  # said, not silent
    quiet = client.post("/api/contributions", json={**body, "titre": "Guide Delta"}, headers=auth)
    assert quiet.status_code == 201 and "avertissement" not in quiet.json(), quiet.text
    client.post(f"/api/contributions/{c}/accepter", headers=auth)
    labels = store.select(
        "SELECT ?l WHERE { ?r <http://www.w3.org/ns/prov#wasAttributedTo> ?a . "
        "?a <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
        {"r": ox.NamedNode(store.minter.thing("ressource", c))},
    )
    assert [x["l"].value for x in labels] == ["Modo Test"] and "Autre Nom" not in public_text(store)


def test_restoring_puts_back_the_state_before_never_publishes_unaccepted(client, app, store):
    """A rejected proposal, or a pending one deleted, comes back pending (to be edited and accepted); only
    an accepted one comes back published; the button says which."""
    login(client, app)
    published = ox.NamedNode("http://schema.org/datePublished")
    for first in ("rejeter", "supprimer"):
        rid = pending_id(app, propose(client, titre=f"Guide à {first}").headers["location"])
        resource = ox.NamedNode(store.minter.thing("ressource", rid))
        assert moderate(client, rid, action=first, motif="Hors sujet").status_code == 303
        assert "Restaurer (en attente de décision)" in client.get(f"/moderation/{rid}").text
        assert moderate(client, rid, action="restaurer").status_code == 303
        assert client.get(f"/api/contributions/{rid}").json()["etat"] == "en-attente"
        assert not store.ask("ASK { ?r ?p ?o }", {"r": resource})  # not public
        assert "Accepter et publier" in client.get(f"/moderation/{rid}").text
        assert moderate(client, rid, action="accepter").status_code == 303
        assert store.ask("ASK { ?r ?p ?d }", {"r": resource, "p": published})
    assert moderate(client, rid, action="supprimer").status_code == 303
    assert "Restaurer et publier" in client.get(f"/moderation/{rid}").text
    assert moderate(client, rid, action="restaurer").status_code == 303
    assert client.get(f"/api/contributions/{rid}").json()["etat"] == "acceptee"
    assert store.ask("ASK { ?r ?p ?d }", {"r": resource, "p": published})


def test_every_decision_reads_its_body_by_the_same_rule(client, app):
    """No body is an empty reason (rejeter then says a reason is needed); a body is JSON, whatever the
    decision; OpenAPI says the body is optional."""
    app.state.accounts.add("robot", "un-mot-de-passe-long", "moderateur", "Robot")
    auth = {"Authorization": f"Bearer {app.state.accounts.new_token('robot')}"}
    rids = [pending_id(app, propose(client, titre=f"Guide {n}").headers["location"]) for n in "ABC"]
    api = "/api/contributions/{}/{}".format
    r = client.post(api(rids[0], "rejeter"), headers=auth)
    assert r.status_code == 422 and r.json()["erreurs"]["motif"], r.text
    assert client.post(api(rids[0], "supprimer"), headers=auth).json()["etat"] == "supprimee"
    text = {**auth, "Content-Type": "text/plain"}
    for action in ("accepter", "rejeter", "supprimer", "restaurer"):
        assert client.post(api(rids[1], action), content="x", headers=text).status_code == 415
    assert client.post(api(rids[1], "accepter"), json={}, headers=auth).json()["etat"] == "acceptee"
    assert client.post(api(rids[2], "rejeter"), json={"motif": "Doublon"}, headers=auth).status_code == 200
    spec = client.get("/openapi.json").json()["paths"]["/api/contributions/{rid}/{action}"]["post"]
    assert spec["requestBody"]["required"] is False and "415" in spec["responses"]


def test_a_reason_longer_than_the_form_allows_is_refused_not_published(client, app):
    """The contributor would read a reason the moderation form cannot even hold; cut, half of it."""
    app.state.accounts.add("robot2", "un-mot-de-passe-long", "moderateur", "Robot")
    auth = {"Authorization": f"Bearer {app.state.accounts.new_token('robot2')}"}
    rid = pending_id(app, propose(client).headers["location"])
    r = client.post(f"/api/contributions/{rid}/rejeter", json={"motif": "x" * 5000}, headers=auth)
    assert r.status_code == 422 and "Au plus 2000 caractères" in r.json()["erreurs"]["motif"][0], r.text
    r = client.post(f"/api/contributions/{rid}/supprimer", json={"motif": "x" * 2001}, headers=auth)
    assert r.status_code == 422, r.text
    login(client, app)
    page = client.get(f"/moderation/{rid}").text
    assert len(re.findall(r'name="motif"[^>]*maxlength="2000"', page)) == 2, page
    r = moderate(client, rid, action="rejeter", motif="y" * 2001)
    assert r.status_code == 422 and "Au plus 2000 caractères (2001 saisis)" in r.text
    r = moderate(client, rid, action="supprimer", motif="y" * 2001)  # its error at its own field
    assert '<a href="#motif-suppression">' in r.text and 'aria-describedby="err-motif"' in r.text
    assert r.text.count('aria-invalid="true"') == 1, r.text
    assert client.get(f"/api/contributions/{rid}").json()["etat"] == "en-attente"
    r = client.post(f"/api/contributions/{rid}/rejeter", json={"motif": "x" * 2000}, headers=auth)
    assert r.json()["etat"] == "rejetee", r.text


def test_a_deleted_public_resource_is_gone_and_a_never_public_one_unknown(client, app):
    login(client, app)
    public = pending_id(app, propose(client, titre="Guide publié puis retiré").headers["location"])
    never = pending_id(app, propose(client, titre="Brouillon jamais publié").headers["location"])
    moderate(client, public, action="accepter")
    for rid in (public, never):
        assert moderate(client, rid, action="supprimer").status_code == 303
    anonymous = TestClient(app)
    page = anonymous.get(f"/id/ressource/{public}")
    assert page.status_code == 410 and "Ressource retirée" in page.text, page.text
    assert "Guide publié" not in page.text
    assert anonymous.get(f"/id/ressource/{public}?lang=en").text.count("Resource withdrawn") == 2
    for ext in ("ttl", "json"):
        assert anonymous.get(f"/id/ressource/{public}.{ext}").status_code == 410
    # Its history is gone with it, as its page says, without the versions it had.
    history = anonymous.get(f"/ressources/{public}/historique?lang=fr")
    assert history.status_code == 410 and "Ressource retirée" in history.text, history.text
    assert "Guide publié" not in history.text
    assert anonymous.get(f"/ressources/{public}/historique?lang=en").text.count("Resource withdrawn") == 2
    hidden = anonymous.get(f"/id/ressource/{never}")
    assert hidden.status_code == 404 and "Brouillon" not in hidden.text
    assert anonymous.get(f"/ressources/{never}/historique").status_code == 404
    assert anonymous.get(f"/id/ressource/{never}.ttl").status_code == 404
    assert anonymous.get("/id/ressource/inconnue-123456").status_code == 404


def test_a_contributed_resource_names_who_proposed_it_not_an_author_in_the_page_language(client, app):
    login(client, app)
    rid = pending_id(app, propose(client, titre="Guide proposé anonymement").headers["location"])
    moderate(client, rid, action="accepter")
    english = TestClient(app).get(f"/id/ressource/{rid}?lang=en").text
    assert re.search(r"<dt>Proposed by</dt><dd><a [^>]+>Network contributor</a></dd>", english), english
    assert "Made by" not in english
    # « All the data » too (and the agent's own page): the data has the label in French only, pages say it
    # in their language; the JSON-LD the page embeds is the data.
    shown = re.sub(r'<script type="application/ld\+json">.*?</script>', "", english, flags=re.S)
    assert "Contributeur·rice du réseau" not in shown, shown
    agent = re.search(r'<dt>Proposed by</dt><dd><a href="([^"]+)"', english)[1]
    assert "<h1>Network contributor" in TestClient(app).get(f"{agent}?lang=en").text
    french = TestClient(app).get(f"/id/ressource/{rid}").text
    assert re.search(r"<dt>Proposée par</dt><dd><a [^>]+>Contributeur·rice du réseau</a></dd>", french)
    assert "Réalisé par" not in french


# --- accounts and the CLI -------------------------------------------------------------------------------
def test_cli_user_add_role_token_and_api_token_flow(store, tmp_path, monkeypatch, capsys):
    db = tmp_path / "comptes.sqlite"
    monkeypatch.setenv("COMMUNS_ACCOUNTS_DB", str(db))
    monkeypatch.setenv("COMMUNS_SECRET_KEY", "k" * 32)
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-de-passe-robuste\n"))
    assert cli_main(["user", "add", "robot", "--password-stdin", "--store", ":memory:"]) == 0
    assert cli_main(["user", "role", "robot", "--role", "moderateur", "--store", ":memory:"]) == 0
    assert cli_main(["user", "role", "personne", "--role", "admin", "--store", ":memory:"]) == 2
    capsys.readouterr()
    assert cli_main(["user", "token", "robot", "--store", ":memory:"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("cs_")

    app = create_app(Settings(store=":memory:", accounts_db=str(db), uploads_dir=str(tmp_path / "u")), store)
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {token}"}
        body = {
            "titre": "Rapport mobilité",
            "resume": "Un rapport sur la mobilité rurale.",
            "type": "rapport",
            "url": "https://example.org/rapport",
            "nom_public": True,  # credited to the account (else anonymous)
        }
        r = client.post("/api/contributions", json=body, headers=auth)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert client.post(f"/api/contributions/{rid}/accepter", headers=auth).json()["etat"] == "acceptee"
        assert client.post(f"/api/contributions/{rid}/accepter", headers=auth).status_code == 409
        bad = {"Authorization": "Bearer cs_faux"}
        assert client.post(f"/api/contributions/{rid}/supprimer", json={}, headers=bad).status_code == 401
    rows = store.select(
        "SELECT ?a WHERE { ?r <http://www.w3.org/ns/prov#wasAttributedTo> ?a }",
        {"r": ox.NamedNode(store.minter.thing("ressource", rid))},
    )
    agent = rows[0]["a"].value
    assert agent.startswith(store.minter.thing("compte", "")) and "robot" not in agent  # never the login
    assert "robot" not in public_text(store)


def test_autocomplete_finds_territories_by_name_and_code(client):
    names = [t["label"] for t in client.get("/territoires/autocomplete?q=chambery").json()]
    assert names[0] == "Chambéry"
    by_code = client.get("/territoires/autocomplete?q=73").json()
    assert by_code[0]["type"] == "departement" and by_code[0]["valeur"] == "Savoie (73) [departement 73]"
    assert json.loads(client.get("/territoires/autocomplete?q=").text) == []


def test_autocomplete_reads_every_word_typed_a_postal_code_and_a_typo(client):
    """« saint-martin-de » listed the six « Saint-Martin » first (the name key drops « de »), « Gapp » and
    « 05000 » found nothing, where the form's own check suggests Gap."""

    def labels(q: str) -> list[str]:
        return [t["label"] for t in client.get("/territoires/autocomplete", params={"q": q}).json()]

    found = labels("saint-martin-de")
    assert found and all(label.replace(" ", "-").startswith("Saint-Martin-de") for label in found), found
    assert labels("Saint-Martin-de-B")[0].startswith("Saint-Martin-de-B")
    assert labels("Gapp")[0] == "Gap"
    assert "Gap" in labels("05000")
    assert labels("Xqzwvbk") == []


def test_sessions_are_server_side_and_end_at_sign_out(client, app):
    login(client, app)
    cookie = client.cookies.get("communs_session")
    forged = TestClient(app, cookies={"communs_session": cookie[:-2] + ("A" if cookie[-1] != "A" else "B")})
    assert forged.get("/moderation", follow_redirects=False).status_code == 303
    assert TestClient(app, cookies={"communs_session": cookie}).get("/moderation").status_code == 200
    token = csrf_of(client.get("/connexion").text)  # signed in: the page offers to sign out
    assert client.post("/deconnexion", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    # The old cookie, kept by someone, opens nothing any more.
    stolen = TestClient(app, cookies={"communs_session": cookie})
    assert stolen.get("/moderation", follow_redirects=False).status_code == 303


def test_login_attempts_are_rate_limited(store, tmp_path):
    app = make_app(store, tmp_path, login_rate=3)
    with TestClient(app) as client:
        token = csrf_of(client.get("/connexion").text)
        codes = [
            client.post(
                "/connexion", data={"csrf_token": token, "identifiant": "x", "mot_de_passe": "y"}
            ).status_code
            for _ in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def test_an_accepted_resource_is_public_at_once_and_a_pending_one_never(client, app):
    ask = "ASK { ?r a <http://schema.org/CreativeWork> ; <http://www.w3.org/2000/01/rdf-schema#label> ?t }"
    r = propose(client)
    rid = pending_id(app, r.headers["location"])
    iri = app.state.store.minter.thing("ressource", rid)
    query = ask.replace("?r a", f"<{iri}> a")
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is False
    path = iri.removeprefix(app.state.store.minter.base)
    assert client.get(f"/ressources/{rid}", follow_redirects=False).headers["location"] == "/" + path
    login(client, app)
    assert f'href="/{path}">page publique' not in client.get(f"/moderation/{rid}").text
    moderate(client, rid, action="accepter")
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is True
    assert f'href="/{path}">page publique' in client.get(f"/moderation/{rid}").text


def test_an_accepted_resource_reaches_reconcile_and_suggest_without_anyone_asking(client, app, store):
    """The acceptance itself has the name index read again (it took 4-5 minutes and a look-up to start it):
    once that read is over, the very first /reconcile and suggest answers hold the resource."""
    title = "Annuaire des maisons de santé de Maurienne"
    r = propose(client, titre=title)
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    matching.finish(store, timeout=120)  # the re-read the write began (no request: none began it)
    queries = {"q": {"query": title.lower(), "type": "ressource"}}
    found = client.post("/reconcile", data={"queries": json.dumps(queries)}).json()["q"]["result"]
    assert [(c["id"], c["match"]) for c in found] == [(store.minter.thing("ressource", rid), True)]
    suggested = client.get("/reconcile/suggest/entity", params={"prefix": "annuaire des maisons de sant"})
    assert [e["id"] for e in suggested.json()["result"]][:1] == [store.minter.thing("ressource", rid)]


def test_a_write_rebuilds_the_downloads_and_until_then_they_say_which_version_they_are(
    store, tmp_path, monkeypatch
):
    """Downloads once built follow every write, nobody opening /telechargements (they waited for a visit);
    while the rebuild is under way the page, its JSON twin and each file name the version they hold and
    the one being prepared (the rebuild held back here by a long SETTLE, so that the test sees it): the JSON
    twin's « "preparing": 16 » said neither what 16 was nor when to come back, now ``preparing_version``
    and, on the page and its twins, ``Retry-After``."""
    folder = tmp_path / "dumps"
    app = make_app(store, tmp_path, submit_rate=1000, dumps_dir=str(folder))
    with TestClient(app) as client:
        wait_until(  # the first build, begun by the first visit
            lambda: (
                client.get("/telechargements", headers={"Accept": "application/json"}).json()["version"]
                is not None
            ),
            300,
            "the downloads' first build",
        )
        first = client.get("/telechargements", headers={"Accept": "application/json"})
        assert first.json()["version"] == store.version
        title = "Carnet des permanences sociales de Tarentaise"
        rid = pending_id(app, propose(client, titre=title).headers["location"])
        login(client, app)
        accepted = time.monotonic()
        moderate(client, rid, action="accepter")
        iri = store.minter.thing("ressource", rid)

        def built() -> dict:  # read from the folder: a request would begin the rebuild itself
            return json.loads((folder / "current.json").read_text(encoding="utf-8"))

        wait_until(lambda: built()["version"] == store.version, 300, "the downloads rebuilt after a write")
        rebuilt_in = time.monotonic() - accepted  # the last build's length, give or take its SETTLE
        assert iri in (folder / f"v{store.version}" / "ressources.csv").read_text(encoding="utf-8")
        now = client.get("/telechargements", headers={"Accept": "application/json"})
        assert (now.json()["version"], now.json()["preparing_version"]) == (store.version, None)
        assert now.json()["preparing"] is None and "retry-after" not in now.headers

        monkeypatch.setattr(dumps_module, "SETTLE", 3600.0)
        served = store.version
        rid = pending_id(app, propose(client, titre="Un autre carnet").headers["location"])
        moderate(client, rid, action="accepter")
        assert store.version > served
        page = client.get("/telechargements")
        notice = f"Ces fichiers sont ceux de la version {served} ; la version {store.version}"
        assert f"Version {served} —" in page.text and notice in page.text
        assert re.search(r"rechargez cette page dans environ \d+ secondes?\.", page.text)  # Retry-After's
        english = client.get("/telechargements", params={"lang": "en"}).text
        assert f"These files are version {served}; version {store.version}" in english
        manifest = client.get("/telechargements", headers={"Accept": "application/json"}).json()
        assert (manifest["version"], manifest["preparing_version"]) == (served, store.version)
        assert manifest["preparing"] == store.version  # the field's first name, kept for its readers
        for twin in ("", ".json", ".csv"):  # when to come back, in seconds: what the last build took
            retry = client.get("/telechargements" + twin).headers.get("retry-after", "")
            assert retry.isdigit() and 1 <= int(retry) <= math.ceil(rebuilt_in) + 1, (twin, retry)
        r = client.get("/telechargements/ressources.csv")
        sha = next(f["sha256"] for f in manifest["files"] if f["name"] == "ressources.csv")  # the served
        assert r.status_code == 200 and r.headers["etag"] == f'"{sha}"'
        versions = r.headers["dataset-version"], r.headers["dataset-preparing"]
        assert versions == (str(served), str(store.version))
        assert r.headers["cache-control"] == "no-cache"  # no cache keeps it once the new one is there
        again = client.get("/telechargements/ressources.csv", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.headers["dataset-preparing"] == str(store.version)


@pytest.mark.parametrize("char", ["\u202e", "\u200f", "\u2066", "\u0000", "\ud800"])
def test_titles_with_direction_control_or_lone_surrogate_characters_are_refused(client, char):
    """U+202E reverses what follows on every page that shows the title; a lone surrogate cannot be
    written out at all."""
    body = {
        "titre": f"Guide {char}des saisonniers",
        "resume": "Un guide pour les travailleurs saisonniers.",
        "type": "guide",
        "url": "https://example.org/guide",
        "nom": "Ana",
        "courriel": "ana@example.net",
    }
    r = client.post(
        "/api/contributions", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "titre" in r.json()["erreurs"], r.text


def test_an_email_or_phone_number_in_a_title_never_reaches_the_iri(client):
    """The IRI is minted from the proposed title and outlives the moderator's correction of it."""
    for title in ("QA-API4 Saisonniers 06 98 76 54 32", "Guide jean.secret@example.org +33 6-12-34-56-78"):
        body = {**form_data(titre=title), "territoires": [], "nom": "Ana", "courriel": "ana@example.net"}
        r = client.post("/api/contributions", json=body)
        assert r.status_code == 201, r.text
        assert not re.search(r"\d{2}-\d{2}|secret|example", r.json()["id"]), r.json()["id"]


def test_contact_details_typed_in_a_proposal_or_an_edit_are_never_published(client, app, store):
    """Published, an e-mail address or a phone number would stay in the resource's public history after
    the moderator took it out: the texts are stored without them, whoever typed them."""
    summary = "Un guide pour la mobilité. Contact: jean.dupont@gmail.com ou 06 12 34 56 78"
    body = {**form_data(resume=summary), "territoires": [], "nom": "Ana", "courriel": "ana@example.net"}
    r = client.post("/api/contributions", json=body)
    assert r.status_code == 201 and "retirés" in r.json()["avertissement"], r.text
    plain = client.post("/api/contributions", json={**body, "resume": "Sans contact, un guide."})
    assert plain.status_code == 201 and "avertissement" not in plain.json(), plain.text
    rid = r.json()["id"]
    by_form = propose(client, titre="Guide de marie.martin@example.org", resume=summary)
    assert (
        "numéros de téléphone du titre, du résumé et du nom affiché"
        in client.get(by_form.headers["location"]).text
    )
    login(client, app)
    assert moderate(client, rid, action="accepter").status_code == 303
    edit = form_data(resume="Un guide. Écrire à paul.durand@example.org, +33 6 98 76 54 32.")
    assert moderate(client, rid, action="enregistrer", **edit).status_code == 303
    visitor = TestClient(app)
    resource = store.minter.thing("ressource", rid)
    describe = f"SELECT ?d WHERE {{ <{resource}> <http://schema.org/description> ?d }}"
    found = visitor.get("/sparql", params={"query": describe}, headers={"Accept": "application/json"}).json()
    assert [b["d"]["value"] for b in found["results"]["bindings"]] == [
        "Un guide. Écrire à [courriel retiré], [téléphone retiré]."
    ]
    pages = [visitor.get(f"/ressources/{rid}/historique"), visitor.get(f"/id/ressource/{rid}")]
    assert all(page.status_code == 200 for page in pages)
    pages = [page.text for page in pages]
    assert "[courriel retiré] ou [téléphone retiré]" in pages[0] and "[téléphone retiré]" in pages[1]
    for text in (*pages, public_text(store)):
        for personal in ("dupont", "12 34 56 78", "durand", "98 76 54 32"):
            assert personal not in text


def test_phone_numbers_with_an_international_prefix_are_scrubbed_and_a_link_holding_one_is_refused(client):
    """A link cannot be cleaned without breaking it: one holding contact details is refused, saying why."""
    for phone in ("0033612345678", "+33 (0)6 12 34 56 78", "+33(0)612345678"):
        assert scrub(f"Appeler le {phone}.") == "Appeler le [téléphone retiré].", phone
    assert digits("0033612345678") == digits("+33 (0)6 12 34 56 78") == "0612345678"
    for url in (
        "https://example.org/annuaire?contact=jean.dupont@gmail.com&tel=0612345678",
        "https://example.org/annuaire?tel=0033612345678",
    ):
        r = client.post("/api/contributions", json={**form_data(url=url), "territoires": []})
        assert r.status_code == 422 and list(r.json()["erreurs"]) == ["url"], r.text
        assert "ne peut pas en être nettoyé" in r.json()["erreurs"]["url"][0]
    fine = "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000041234567?page=0612"
    assert (
        client.post("/api/contributions", json={**form_data(url=fine), "territoires": []}).status_code == 201
    )


def test_a_person_named_with_a_civility_leaves_a_summary_but_a_name_shown_is_kept(client, app, store):
    """« Mme Sophie Durand » in a summary is someone else's name, scrubbed as the import's free texts are;
    the contributor's own name shown, « M. Lucien Affiché », is theirs to publish."""
    body = {**form_data(resume="Compte rendu de la rencontre avec Mme Sophie Durand, M. le maire présent.")}
    r = client.post(
        "/api/contributions", json={**body, "territoires": [], "nom": "M. Lucien Affiché", "nom_public": True}
    )
    assert r.status_code == 201 and "civilité" in r.json()["avertissement"], r.text
    login(client, app)
    assert moderate(client, r.json()["id"], action="accepter").status_code == 303
    page = TestClient(app).get(f"/id/ressource/{r.json()['id']}").text
    assert "rencontre avec [nom retiré], M. le maire présent." in page and "M. Lucien Affiché" in page
    assert "Sophie Durand" not in public_text(store)


def test_a_public_name_is_scrubbed_and_a_moderator_can_hide_it(client, app, store):
    """The name shown is published (page, SPARQL, dumps) as the title is: contact details in it go, a name
    that is nothing else is refused, and a moderator can take a name down without deleting the resource."""
    body = {**form_data(), "territoires": [], "nom_public": True}
    only = client.post("/api/contributions", json={**body, "nom": "jean.dupont@gmail.com 06 12 34 56 78"})
    assert only.status_code == 422 and list(only.json()["erreurs"]) == ["nom"], only.text
    assert "nom affiché est publié" in only.json()["erreurs"]["nom"][0]
    r = client.post("/api/contributions", json={**body, "nom": "Jean D. (jean.dupont@gmail.com)"})
    assert r.status_code == 201 and "nom affiché" in r.json()["avertissement"], r.text
    hidden = client.post(
        "/api/contributions", json={**body, "nom": "jean.dupont@gmail.com", "nom_public": False}
    )
    assert hidden.status_code == 201 and "avertissement" not in hidden.json(), hidden.text  # never published
    by_form = propose(client, nom="Marie 06 12 34 56 78", nom_public="on")
    assert "du nom affiché" in client.get(by_form.headers["location"]).text  # the follow-up page says why
    named = pending_id(app, propose(client, nom="Léon Visible", nom_public="on").headers["location"])
    login(client, app)
    for rid in (r.json()["id"], pending_id(app, by_form.headers["location"]), named):
        assert moderate(client, rid, action="accepter").status_code == 303
    attributed = f"SELECT ?l WHERE {{ ?r <http://www.w3.org/ns/prov#wasAttributedTo>/<{RDFS}label> ?l }}"

    def label(rid: str) -> list[str]:
        resource = ox.NamedNode(store.minter.thing("ressource", rid))
        return [x["l"].value for x in store.select(attributed, {"r": resource})]

    assert label(r.json()["id"]) == ["Jean D. ([courriel retiré])"]
    assert (
        "Marie [téléphone retiré]"
        in TestClient(app).get(f"/id/ressource/{pending_id(app, by_form.headers['location'])}").text
    )
    assert "Masquer le nom affiché « Léon Visible »" in client.get(f"/moderation/{named}").text
    assert moderate(client, named, action="enregistrer", masquer_nom="on", **form_data()).status_code == 303
    assert label(named) == [model.ANONYMOUS_LABEL]
    assert "Léon Visible" not in TestClient(app).get(f"/id/ressource/{named}").text
    assert "Léon Visible" not in TestClient(app).get(f"/ressources/{named}/historique").text
    assert "Léon Visible" not in public_text(store) and "dupont@" not in public_text(store)
    assert "12 34 56 78" not in public_text(store)


def test_the_moderation_screen_warns_of_contact_details_in_public_fields(client, app):
    """Stored before proposals were scrubbed, or in a link: the moderator is told before publishing."""
    summary = "Écrire à jean.secret@example.org ou appeler le 06 12 34 56 78 pour le guide."
    content = Content("Guide ancien", summary, "guide", url="https://example.org/guide")
    flagged, _ = Contributions(app.state.store, app.state.contrib.secret).propose(content, Contributor())
    clean = pending_id(app, propose(client).headers["location"])
    login(client, app)
    page = client.get(f"/moderation/{flagged}").text
    assert re.search(r"numéro de téléphone probable dans : Résumé\.", page), page
    assert "téléphone probable" not in client.get(f"/moderation/{clean}").text


def test_a_pending_proposal_s_page_lists_what_the_search_finds_already_published_for_its_title(client, app):
    """A moderator had no hint that « Etat des lieux 2022 - dynamique des acteurs… » was already published
    as « État des Lieux 2022 », which the site's search finds first."""
    login(client, app)
    published = pending_id(app, propose(client, titre="État des Lieux 2022").headers["location"])
    assert moderate(client, published, action="accepter").status_code == 303

    def found() -> bool:  # a 503 during the index's first build
        r = client.get("/recherche.json", params={"q": "etat des lieux 2022"})
        return r.status_code == 200 and r.json()["total"] > 0

    wait_until(
        found,
        300,
        "the published resource in the search",
    )
    title = "Etat des lieux 2022 - dynamique des acteurs, réseaux et lieux"
    rid = pending_id(app, propose(client, titre=title).headers["location"])
    page = client.get(f"/moderation/{rid}").text
    assert "Ressources proches déjà publiées" in page
    assert re.search(rf'<a href="/id/ressource/{published}">État des Lieux 2022</a> \(Ressource\)', page), (
        page
    )
    assert "Ressources proches" not in client.get(f"/moderation/{published}").text  # published: none


def test_the_moderation_form_says_which_names_are_left_and_what_was_removed(client, app):
    """« Contact : Mme Martin … ou Sophie Martin » was published as « [nom retiré] … ou Sophie Martin »:
    only a name with a civility is removed, and nothing told the moderator to look for the others."""
    summary = "Contact : Mme Martin au 06 12 34 56 78, ou Sophie Martin, secrétaire de mairie."
    named = client.post("/api/contributions", json={**form_data(resume=summary), "territoires": []})
    assert named.status_code == 201, named.text
    clean = pending_id(app, propose(client).headers["location"])
    login(client, app)
    page = client.get(f"/moderation/{named.json()['id']}").text
    assert "Retiré automatiquement de cette proposition : téléphone, nom ;" in page
    reminder = "Seuls les noms précédés de M., Mme… sont retirés automatiquement"
    assert reminder in page and "Sophie Martin" in page
    page = client.get(f"/moderation/{clean}").text
    assert reminder in page and "Retiré automatiquement" not in page


def test_links_are_iris_and_links_published_as_literals_converge(store, tmp_path):
    """schema:url is an IRI in every other graph; earlier versions wrote an xsd:anyURI literal, in the
    public graph and in the version graphs: the next start rewrites the public one, and an edit then
    leaves one link."""
    m = Contributions(store, b"")
    app = make_app(store, tmp_path, submit_rate=1000)
    with TestClient(app) as client:
        bad = client.post(
            "/api/contributions", json={**form_data(url="https://example.org/a|b"), "territoires": []}
        )
        assert bad.status_code == 422 and list(bad.json()["erreurs"]) == ["url"], bad.text
        rid = pending_id(app, propose(client, url="https://example.org/lien").headers["location"])
        login(client, app)
        moderate(client, rid, action="accepter")
    s, url, public = ox.NamedNode(m.iri(rid)), ox.NamedNode("http://schema.org/url"), m.public_graph()

    def links() -> list:
        return [q.object for q in store.oxigraph.quads_for_pattern(s, url, None, ox.NamedNode(public))]

    assert links() == [ox.NamedNode("https://example.org/lien")]
    literal = ox.Literal(
        "https://example.org/lien", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI")
    )
    for graph in (public, m.version_graph(rid, 2)):
        store.update(
            f"DELETE DATA {{ GRAPH <{graph}> {{ {s} {url} <https://example.org/lien> }} }} ;"
            f"INSERT DATA {{ GRAPH <{graph}> {{ {s} {url} {literal} }} }}"
        )
    store.update(
        f"DELETE WHERE {{ GRAPH <{store.meta_graph}> {{ <{public}> ?p ?o }} }}"
    )  # no count, no licence
    app = make_app(store, tmp_path, submit_rate=1000)
    with TestClient(app) as client:
        wait_until(  # brought to today's form in the background, not holding the start
            lambda: links() == [ox.NamedNode("https://example.org/lien")], 60, "the link rewritten as an IRI"
        )
        void = "<http://rdfs.org/ns/void#triples>"
        count = f"SELECT ?n WHERE {{ GRAPH <{store.meta_graph}> {{ <{public}> {void} ?n }} }}"
        assert [int(r["n"].value) for r in store.select(count)] == [store.count(public)]
        login(client, app)
        moderate(client, rid, **form_data(url="https://example.org/autre", action="enregistrer"))
        assert links() == [ox.NamedNode("https://example.org/autre")]


def test_file_addresses_are_iris_and_those_published_as_literals_converge(store, tmp_path):
    """schema:contentUrl of an attached file is an IRI, as every other link; earlier versions wrote an
    xsd:anyURI literal, in the public graph and the version graphs: the next start rewrites the public one,
    an edit then leaves no stale address, and the readers (page, JSON twin, SPARQL, dump) see the IRI."""
    m = Contributions(store, b"")
    content_url = ox.NamedNode("http://schema.org/contentUrl")
    app = make_app(store, tmp_path, submit_rate=1000)
    with TestClient(app) as client:
        files = {"fichier": ("Plan d'accès.pdf", PDF, "application/pdf")}
        rid = pending_id(app, propose(client, files=files, titre="Plan d'accès").headers["location"])
        login(client, app)
        moderate(client, rid, action="accepter")
    public = ox.NamedNode(m.public_graph())
    media = ox.NamedNode(f"{store.minter.base}fichiers/{rid}/plan-d-acces.pdf")

    def addresses() -> list:
        return [q.object for q in store.oxigraph.quads_for_pattern(media, content_url, None, public)]

    assert addresses() == [media]
    literal = ox.Literal(media.value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#anyURI"))
    for graph in (public, ox.NamedNode(m.version_graph(rid, 2))):
        store.update(
            f"DELETE DATA {{ GRAPH {graph} {{ {media} {content_url} {media} }} }} ;"
            f"INSERT DATA {{ GRAPH {graph} {{ {media} {content_url} {literal} }} }}"
        )
    app = make_app(store, tmp_path, submit_rate=1000)
    with TestClient(app) as client:
        wait_until(  # brought to today's form in the background, not holding the start
            lambda: addresses() == [media], 60, "the file's address rewritten as an IRI"
        )
        page = client.get(f"/id/ressource/{rid}")
        assert page.status_code == 200 and f'href="/fichiers/{rid}/plan-d-acces.pdf"' in page.text
        assert media.value in client.get(f"/id/ressource/{rid}.json").text
        assert f"{media} {content_url} {media} {public} ." in public_text(store)
        ask = f"ASK {{ ?m <{content_url.value}> ?u FILTER(isIRI(?u) && STR(?u) = STR(?m)) }}"
        assert client.get("/sparql", params={"query": ask}, headers={"Accept": "application/json"}).json()[
            "boolean"
        ]
        login(client, app)
        files = {"fichier": ("Plan v2.pdf", PDF, "application/pdf")}
        page = client.get(f"/moderation/{rid}")
        data = form_data(titre="Plan d'accès", action="enregistrer", csrf_token=csrf_of(page.text))
        assert (
            client.post(f"/moderation/{rid}", data=data, files=files, follow_redirects=False).status_code
            == 303
        )
        assert addresses() == []  # the old file is no longer the resource's: no address left behind
        new = ox.NamedNode(f"{store.minter.base}fichiers/{rid}/plan-v2.pdf")
        assert [q.object for q in store.oxigraph.quads_for_pattern(new, content_url, None, public)] == [new]


def test_only_the_current_versions_file_is_public(client, app):
    """A replaced file may belong to a version hidden from the public history, and a file saved by an edit
    then refused is no version's: the public gets only the file the current version points to."""
    files = {"fichier": ("Guide final.pdf", PDF, "application/pdf")}
    rid = pending_id(app, propose(client, files=files).headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    page = client.get(f"/moderation/{rid}")
    data = form_data(action="enregistrer", masquer_historique="1", csrf_token=csrf_of(page.text))
    files = {"fichier": ("Guide v2.pdf", PDF, "application/pdf")}
    assert (
        client.post(f"/moderation/{rid}", data=data, files=files, follow_redirects=False).status_code == 303
    )
    assert client.get(f"/fichiers/{rid}/guide-final.pdf").status_code == 200  # a moderator's still
    client.cookies.clear()
    assert client.get(f"/fichiers/{rid}/guide-final.pdf").status_code == 404
    assert client.get(f"/fichiers/{rid}/guide-v2.pdf").status_code == 200


def test_the_contributions_graph_states_its_triple_count_after_each_change_and_no_licence(client, app, store):
    """graph/meta holds each graph's source, licence, load time and triple count (README); the
    contributions graph has none of its own: each resource states its licence, which a graph licence
    (CC BY-SA 4.0 until now) contradicted for a resource under another."""
    public = Contributions(store, b"").public_graph()

    def described() -> dict:
        r = client.get("/api/graphes-sources?format=csv")
        return next(row for row in csv.DictReader(io.StringIO(r.text)) if row["graphe"] == public)

    ids = [pending_id(app, propose(client, titre=f"Guide {n}").headers["location"]) for n in "AB"]
    login(client, app)
    for rid in ids:
        moderate(client, rid, action="accepter")
    row = described()
    assert row["licence"] == ""
    assert int(row["triplets"]) == store.count(public)
    moderate(client, ids[0], **form_data(titre="Guide A corrigé", action="enregistrer"))
    moderate(client, ids[1], action="supprimer")
    assert int(described()["triplets"]) == store.count(public)


def test_every_field_in_error_references_its_message_and_keeps_its_help(client):
    r = propose(client, resume="", territoires="Nullepartville")
    assert r.status_code == 422
    for name in ("resume", "territoires"):
        field = re.search(rf'<textarea id="{name}"[^>]*>', r.text)[0]
        assert 'aria-invalid="true"' in field and f'aria-describedby="aide-{name} err-{name}"' in field
        assert f'id="err-{name}"' in r.text


def test_the_form_names_the_formatting_the_pages_render(client, app):
    """The summary's help names the Markdown the pages render; a proposed summary reads so on the card and
    in « Toutes les données » (not a list here and literal asterisks there), its HTML and unsafe links
    shown as text."""
    assert "Markdown" in client.get("/ressources/proposer").text
    assert "**bold**" in client.get("/ressources/proposer?lang=en").text
    summary = "Un **guide** pour :\n- logement\n- emploi\nÀ lire.\n<script>alert(1)</script> [site](https://example.org)"
    r = propose(client, resume=summary + " [x](javascript:alert(1))")
    rid = pending_id(app, r.headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    page = client.get(f"/id/ressource/{rid}").text
    card = re.search(r'<p class="summary".*?</p>', page, re.S)[0]
    assert "<strong>guide</strong>" in card and "**" not in card and "logement\u202f; emploi" in card
    data = re.search(r'<section aria-labelledby="h-props".*?</section>', page, re.S)[0]
    assert "<strong>guide</strong>" in data and "<li>logement</li>" in data and "**" not in data
    assert "<li>emploi</li>" in data  # a line without a bullet ends the list (not so in CommonMark)
    assert '<a href="https://example.org">site</a>' in data and "&lt;script&gt;" in data
    assert "<script>" not in page and 'href="javascript' not in page


def test_a_summary_whose_first_line_heads_a_list_shows_on_the_card_and_in_the_meta(client, app):
    """A first line over a list read as a heading that another text replaces; a resource has none, so its
    card was blank and its meta description its type. The line now announces its list, in the card (items
    joined, as an announcing paragraph's) and as plain text in the meta description, escaped as ever."""
    summary = "Ce guide rassemble **trois** conseils\n\n- se loger\n- se déplacer <b>vite</b>"
    rid = pending_id(app, propose(client, resume=summary).headers["location"])
    login(client, app)
    moderate(client, rid, action="accepter")
    page = TestClient(app).get(f"/id/ressource/{rid}").text
    card = re.search(r'<p class="summary".*?</p>', page, re.S)[0]
    said = "rassemble <strong>trois</strong> conseils : se loger\u202f; se déplacer &lt;b&gt;vite&lt;/b&gt;."
    assert said in card, card
    meta = "Ce guide rassemble trois conseils : se loger\u202f; se déplacer &lt;b&gt;vite&lt;/b&gt;."
    assert f'<meta name="description" content="{meta}">' in page
    assert f'<meta property="og:description" content="{meta}">' in page
    assert "<b>" not in page


def test_a_refused_form_asks_for_the_file_again(client):
    files = {"fichier": ("guide.pdf", PDF, "application/pdf")}
    r = propose(client, files=files, titre="")
    assert r.status_code == 422 and 'id="fichier-perdu"' in r.text and "joignez-le à nouveau" in r.text
    assert 'id="fichier-perdu"' not in propose(client, titre="").text  # no file, nothing lost


def test_the_vocabularies_are_listed_and_followed_up_in_the_page_s_language(client, app, base_iri):
    """The kinds, themes and publics have English labels: the English form lists them, sorted by them."""
    for lang, words, other in (
        ("en", ["Tool", "Seasonality", "Seasonal workers"], ["Outil", "Saisonnalité", "Saisonniers"]),
        ("fr", ["Outil", "Saisonnalité", "Saisonniers"], ["Tool", "Seasonality", "Seasonal workers"]),
    ):
        text = html.unescape(client.get(f"/ressources/proposer?lang={lang}").text)
        assert all(w in text for w in words) and not [w for w in other if w in text], lang
    kinds = re.findall(r'<option value="([a-z-]+)">', client.get("/ressources/proposer?lang=en").text)
    assert kinds[:3] == ["evenement", "guide", "retour-d-experience"]  # by name: Event, Guide…
    assert kinds[-2:] == ["formation", "video"]
    follow = propose(client, type="outil").headers["location"].split("?")[0]
    assert "<dd>Tool</dd>" in client.get(f"{follow}?lang=en").text
    assert "<dd>Outil</dd>" in client.get(f"{follow}?lang=fr").text
    login(client, app)
    staff = client.get(f"/moderation/{pending_id(app, follow)}?lang=en").text  # French, whatever the cookie
    assert ">Outil</option>" in staff and ">Tool</option>" not in staff
    # A store without the vocabularies lists the bundled ones, in either language too.
    assert ("https://data.adrets-asso.fr/id/public/saisonniers", "Seasonal workers") in concepts(
        OxigraphStore(base_iri), "public", "en"
    )


def test_a_proposal_made_in_english_is_told_its_errors_in_english(client, app):
    """The page's language (?lang=, the lang cookie, Accept-Language) words the field errors, in the form
    and in the JSON API's 422; the moderation pages stay French."""
    bad = {"titre": "", "resume": "court", "url": "pas-une-adresse", "type": "roman", "courriel": "x"}
    bad |= {
        "territoires": "Xqzwvbk\nBeaufort",
        "themes": ["https://example.org/a", "https://example.org/b"],
    }
    french = ["obligatoire", "caractères", "territoire", "Choisissez", "Indiquez", "inconnue", "fichier"]

    def listed(kind: str) -> str:  # what an error lists: every value, by its English name and its slug
        return "; ".join(
            f"{label} ({iri.rsplit('/', 1)[1]})" for iri, label in concepts(app.state.store, kind, "en")
        )

    body = {
        **bad,
        "territoires": bad["territoires"].split("\n"),
        "fichier": {"nom": "x.pdf", "contenu_base64": "!"},
    }
    expected = {
        "titre": ["This field is required."],
        "resume": ["At least 10 characters."],
        "url": ["The link must be a full web address starting with https:// or http://."],
        "type": [f"Choose a kind of resource among: {listed('type-ressource')}."],
        "themes": [
            "Unknown values: https://example.org/a, https://example.org/b. Possible values (name, identifier"
            f" in brackets or address): {listed('theme')}."
        ],
        "territoires": ["“Xqzwvbk”: unknown territory; pick it from the suggestions."],
        "nom": ["Give your name or a pseudonym."],
        "courriel": ["Give a valid email address (it will never be published)."],
    }
    for asked in ({"headers": {"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}}, {"params": {"lang": "en"}}):
        r = client.post("/api/contributions", json={**body, "nom": ""}, **asked)
        assert r.status_code == 422, r.text
        errors = r.json()["erreurs"]
        assert {k: v[:1] for k, v in errors.items() if k in expected} == expected, errors
        assert errors["territoires"][1].startswith("“Beaufort” names several territories, say which one: ")
        assert (
            re.search(r"\[commune \w+\]; \S", errors["territoires"][1])
            and "\u202f" not in errors["territoires"][1]
        )
        assert errors["fichier"] == ["contenu_base64 is not valid base64."]
        assert [w for w in french if w in json.dumps(list(errors.values()), ensure_ascii=False)] == [], errors
    assert client.post("/api/contributions", json=body).json()["erreurs"]["titre"] == [
        "Ce champ est obligatoire."
    ]
    token = csrf_of(client.get("/ressources/proposer?lang=en").text)  # the lang cookie from now on
    files = {"fichier": ("notes.txt", b"du texte", "text/plain")}
    r = client.post("/ressources/proposer", data=form_data(csrf_token=token, **bad), files=files)
    assert r.status_code == 422 and '<html lang="en"' in r.text
    shown = {
        k: html.unescape(v)
        for k, v in re.findall(r'<ul class="erreurs" id="err-([a-z]+)"><li>(.*?)</li>', r.text)
    }
    assert {k: [v] for k, v in shown.items() if k in expected and k != "nom"} == {
        k: v for k, v in expected.items() if k != "nom"
    }, shown
    assert shown["fichier"].startswith("File type not accepted: PDF")
    assert "At most 200 characters (201 typed)." in propose(client, titre="x" * 201).text
    assert "At least 3 characters." in propose(client, titre="ab").text
    rid = pending_id(app, propose(client).headers["location"])
    login(client, app)
    r = moderate(client, rid, **form_data(titre="", territoires="Nullepartville", action="enregistrer"))
    assert r.status_code == 422 and '<html lang="fr"' in r.text  # the staff's pages: French, and say so
    assert "Ce champ est obligatoire." in r.text and "territoire inconnu" in r.text


def test_contribution_pages_in_english_say_nothing_in_french(client, app):
    r = propose(client, files=None, titre="", resume="", courriel="x")
    assert r.status_code == 422 and "3 champs à corriger" in r.text
    assert "1 champ à corriger" in propose(client, titre="").text
    english = client.get("/ressources/proposer?lang=en")
    assert 'data-search-label="Search a territory to add"' in english.text  # contrib.js's words
    token = csrf_of(english.text)
    r = client.post("/ressources/proposer", data=form_data(csrf_token=token, titre=""))
    assert r.status_code == 422 and "1 field to correct" in r.text and "Propose a resource" in r.text
    follow = propose(client).headers["location"]
    rid = pending_id(app, follow)
    login(client, app)
    staff = client.get("/moderation?lang=en").text  # French, and says so
    assert "(modérateur·rice)" in staff and '<html lang="fr"' in staff
    moderate(client, rid, action="accepter")
    pages = {
        "/ressources/proposer": ["Proposer", "obligatoire", "Résumé", "Territoires concernés", "Thèmes"],
        "/connexion": ["Connexion", "Identifiant", "Mot de passe", "moderateur", "modérateur"],
        follow: ["Suivi", "État", "acceptée", "Étapes", "Résumé", "(commune)", "Proposition"],
        f"/ressources/{rid}/historique": ["Historique", "Proposée par", "Résumé", "état", "Acceptation"],
        "/sparql": ["Interrogez", "Délai", "Exemples"],
    }
    for path, french in pages.items():
        text = client.get(path + ("&" if "?" in path else "?") + "lang=en").text
        assert '<html lang="en"' in text, path
        assert [w for w in french if w in text] == [], path
    assert "Municipality" not in client.get(f"{follow.split('?')[0]}?lang=en").text
    assert "(municipality)" in client.get(f"{follow.split('?')[0]}?lang=en").text


def test_refusals_of_a_whole_request_are_said_in_the_asker_s_language(store, tmp_path):
    """Not only field errors: the refusals before the fields are read (sign in, bot, CSRF, rate limits, a
    body that is no JSON object, an unknown token) follow the one rule of the pages, which the JSON API
    shares: ?lang=, the lang cookie, Accept-Language, else French."""
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    body = {**form_data(territoires=[]), "nom": "Jo", "courriel": EMAIL}

    def detail(r: httpx.Response, status: int) -> str:
        assert r.status_code == status, r.text
        return r.json()["detail"]

    app = make_app(store, tmp_path, login_rate=1)
    with TestClient(app) as client:
        api = "/api/contributions"
        sent = {"content": "titre=x", "headers": {"Content-Type": "text/plain"}}
        assert detail(client.post(api, **sent), 415) == "Envoyez du JSON (Content-Type: application/json)."
        sent["headers"] |= english
        assert detail(client.post(api, **sent), 415) == "Send JSON (Content-Type: application/json)."
        json_header = {"Content-Type": "application/json", **english}
        assert detail(client.post(api, content="{", headers=json_header), 400) == "Unreadable JSON body."
        assert detail(client.post(api, content="[]", headers=json_header), 400).startswith("The body must")
        r = client.post(api, json={**body, "foo": 1}, params={"lang": "en"})
        assert detail(r, 400).startswith("Unknown fields: foo; expected: titre, ")
        r = client.post(api, json={**body, "nom_public": "oui"}, headers=english)
        assert detail(r, 400) == "nom_public is true or false."
        r = client.post(api, json=body, headers={"Authorization": "Bearer cs_nope", **english})
        assert detail(r, 401) == "Unknown API token."
        r = client.post("/api/contributions/x/accepter", headers=english)
        assert detail(r, 401) == "Sign in with a moderation account."
        # The pages: the bot's refusal, a CSRF refusal outside the proposal form, the sign-in rate limit.
        token = csrf_of(client.get("/ressources/proposer?lang=en").text)  # the lang cookie from now on
        r = client.post("/ressources/proposer", data=form_data(csrf_token=token, site_web="http://spam"))
        assert r.status_code == 400 and "Proposal refused: the field “site_web”" in html.unescape(r.text)
        assert "site_web" in detail(client.post(api, json={"site_web": "x"}), 400)  # unknown to the API
        r = client.post("/connexion", data={"csrf_token": "1.2"})
        assert r.status_code == 403 and "Security token (CSRF) missing or expired" in r.text
        token = csrf_of(client.get("/connexion").text)
        login_data = {"csrf_token": token, "identifiant": "x", "mot_de_passe": "y"}
        assert client.post("/connexion", data=login_data).status_code == 401
        r = client.post("/connexion", data=login_data)
        assert r.status_code == 429 and re.search(r"Too many sign-in attempts[^<]*in \d+ seconds?\.", r.text)
        client.cookies.set("lang", "fr")
        r = client.post("/connexion", data=login_data)
        assert r.status_code == 429 and "Trop de tentatives de connexion" in r.text  # not of proposals
    app = make_app(store, tmp_path, allow_anonymous=False)
    with TestClient(app) as client:
        r = client.post("/api/contributions", json=body, headers=english)
        assert detail(r, 401) == "Authenticate (API token) to propose a resource."
        token = csrf_of(client.get("/connexion?lang=en").text)
        r = client.post("/ressources/proposer", data=form_data(csrf_token=token))
        assert r.status_code == 403 and "Sign in to propose a resource." in r.text
        client.cookies.set("lang", "fr")
        r = client.post("/ressources/proposer", data=form_data(csrf_token=token))
        assert r.status_code == 403 and "Connectez-vous pour proposer une ressource." in r.text


def test_a_page_s_report_link_opens_a_report_form_asking_no_type_or_licence(client, app, store):
    """A page's « Signaler une erreur » link opened « Proposer une ressource », never saying « signal »,
    asking a type and a licence that a report, which publishes nothing, stored as Type « Autre »: the form
    names the page it reports on, asks neither, and says so again when it is refused."""
    tallard = store.minter.thing("commune", "05170")
    page = client.get("/ressources/proposer", params={"url": tallard}).text
    assert "<h1>Signaler une erreur sur Tallard</h1>" in page, page
    assert "Partagez un guide" not in page and 'name="type"' not in page and 'name="licence"' not in page
    assert f'<input type="hidden" name="url" value="{tallard}">' in page
    fields = form_data(titre="Horaires faux pour Tallard", url=tallard, resume="Court")
    del fields["type"], fields["licence"]
    refused = client.post("/ressources/proposer", data=fields | {"csrf_token": csrf_of(page)})
    assert refused.status_code == 422 and "<h1>Signaler une erreur sur Tallard</h1>" in refused.text
    assert 'name="type"' not in refused.text and "Type de ressource" not in refused.text
    fields["resume"] = "La mairie ouvre à 9 h, pas à 8 h."
    sent = client.post(
        "/ressources/proposer", data=fields | {"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    assert "Signaler une erreur" not in client.get("/ressources/proposer").text


def test_a_report_carries_no_type_nor_licence_anywhere(client, app, store):
    """The report form asks neither type nor licence, yet a report was stored as Type « Autre » under CC
    BY-SA, shown so to the moderator, in GET /api/contributions/<id> and to the reporter: it carries
    neither (null in the JSON, as /openapi.json says), and a moderator's edit adds none. A proposal keeps
    both."""
    tallard = store.minter.thing("commune", "05170")
    login(client, app, "signaleuse", "contributeur")
    form = client.get("/ressources/proposer", params={"url": tallard}).text
    fields = form_data(titre="Horaires faux à Tallard", url=tallard, resume="La mairie ouvre à 9 h.")
    del fields["type"], fields["licence"], fields["nom"], fields["courriel"]
    sent = client.post(
        "/ressources/proposer", data=fields | {"csrf_token": csrf_of(form)}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    rid = pending_id(app, sent.headers["location"])
    m = Contributions(store, b"")
    stored = {t.predicate.value for t in m.version_content(rid, 1)}
    assert not stored & {DCTERMS + "type", DCTERMS + "license"}, stored
    follow = client.get(f"/mes-propositions/{rid}").text
    assert "<dt>Type</dt>" not in follow and "<dt>Licence</dt>" not in follow, follow
    assert "Autre" not in client.get("/mes-propositions").text
    client.cookies.clear()
    login(client, app)
    page = client.get(f"/moderation/{rid}").text
    assert 'name="type"' not in page and 'name="licence"' not in page and "Autre" not in page
    assert moderate(client, rid, **fields, action="enregistrer").status_code == 303
    assert not {t.predicate.value for t in m.version_content(rid, 2)} & {
        DCTERMS + "type",
        DCTERMS + "license",
    }
    schema = client.get("/openapi.json").json()["paths"]["/api/contributions/{rid}"]["get"]
    schema = schema["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    proposal = pending_id(app, propose(client, titre="Guide des refuges").headers["location"])
    for pending, kind, licence in [(rid, None, None), (proposal, "guide", model.DEFAULT_LICENSE)]:
        record = client.get(f"/api/contributions/{pending}").json()
        assert (record["type"], record["licence"]) == (kind, licence), record
        for name in ("type", "licence"):
            jsonschema.validate(record[name], schema[name])


def test_a_record_without_a_link_is_what_openapi_says(client, app):
    """A file proposed without a link gave ``"url": null`` in GET /api/contributions/<id>, where
    /openapi.json said a string: a client generated from it refused the record. It says null too."""
    files = {"fichier": ("guide.pdf", PDF, "application/pdf")}
    rid = pending_id(app, propose(client, url="", files=files).headers["location"])
    login(client, app)
    record = client.get(f"/api/contributions/{rid}").json()
    path = client.get("/openapi.json").json()["paths"]["/api/contributions/{rid}"]["get"]
    assert record["url"] is None and record["fichier"], record
    jsonschema.validate(record, path["responses"]["200"]["content"]["application/json"]["schema"])


def test_a_report_on_a_contribution_links_to_its_moderation_page(client, app, store):
    """A report on a contributed resource linked only to its public page: the README says to correct it
    through its moderator's edit, which the report's moderation page now links to as well."""
    guide = pending_id(app, propose(client, titre="Guide des cabanes").headers["location"])
    login(client, app)
    assert moderate(client, guide, action="accepter").status_code == 303
    client.cookies.clear()
    sent = propose(client, titre="Lien mort du guide", url=store.minter.thing("ressource", guide))
    report = pending_id(app, sent.headers["location"])
    login(client, app)
    page = client.get(f"/moderation/{report}").text
    assert f'Signalement sur <a href="/id/ressource/{guide}">Guide des cabanes</a>' in page, page
    assert f'<a href="/moderation/{guide}">' in page
    tallard = pending_id(
        app, propose(client, titre="Tallard", url=store.minter.thing("commune", "05170")).headers["location"]
    )
    assert (
        "/moderation/"
        not in client.get(f"/moderation/{tallard}").text.split("Signalement sur")[1].split("</p>")[0]
    )


def test_reports_are_told_apart_in_the_queue_and_the_json_api(client, app, store):
    """Reports looked like any proposal in the queue and in GET /api/contributions/<id>: the queue marks
    them « Signalement », the JSON gives the page reported on (``signale``), as /openapi.json says."""
    tallard = store.minter.thing("commune", "05170")
    report = pending_id(app, propose(client, titre="Mairie fermée", url=tallard).headers["location"])
    other = pending_id(app, propose(client, titre="Guide des refuges").headers["location"])
    login(client, app)
    queue = client.get("/moderation").text
    assert f'Signalement</strong> <a href="/moderation/{report}">' in queue, queue
    assert f'Signalement</strong> <a href="/moderation/{other}">' not in queue
    assert client.get(f"/api/contributions/{report}").json()["signale"] == tallard
    assert client.get(f"/api/contributions/{other}").json()["signale"] is None
    path = client.get("/openapi.json").json()["paths"]["/api/contributions/{rid}"]["get"]
    assert "signale" in path["responses"]["200"]["content"]["application/json"]["schema"]["properties"]


def test_the_queue_lists_pending_reports_first_latest_first_within_each_group(client, app, store):
    """Reports were mixed with proposals, by date only: they come first among pending ones (quick to
    handle, about published data), each group still latest first."""
    tallard = store.minter.thing("commune", "05170")
    sent = []
    for title, url in [
        ("Mairie fermée le lundi", tallard),
        ("Guide des refuges gardés", "https://example.org/refuges"),
        ("Mauvais code postal", tallard),
        ("Guide des estives", "https://example.org/estives"),
    ]:
        sent.append(pending_id(app, propose(client, titre=title, url=url).headers["location"]))
        time.sleep(1.1)  # dates are to the second: each one later than the one before
    login(client, app)
    pending = client.get("/moderation").text.split("<h2>")[1]
    shown = sorted(sent, key=lambda rid: pending.index(f'href="/moderation/{rid}"'))
    assert shown == [sent[2], sent[0], sent[3], sent[1]], shown


def test_a_decision_s_unknown_field_is_refused_as_a_proposal_s_is(client, app, store):
    """``{"motif": …, "autre": 1}`` decided with 200, the unknown field ignored, where a proposal's is a 400
    naming it: a decision refuses it the same way, and decides nothing."""
    app.state.accounts.add("script", "un-mot-de-passe-long", "moderateur", "Modo Script")
    auth = {"Authorization": f"Bearer {app.state.accounts.new_token('script')}"}
    tallard = store.minter.thing("commune", "05170")
    report = pending_id(app, propose(client, titre="Mairie fermée", url=tallard).headers["location"])
    r = client.post(
        f"/api/contributions/{report}/traiter", json={"motif": "Corrigé", "autre": 1}, headers=auth
    )
    assert r.status_code == 400 and "autre" in r.json()["detail"], r.text
    assert Contributions(store, b"").state(report) == model.PENDING
    r = client.post(f"/api/contributions/{report}/traiter", json={"motif": "Corrigé"}, headers=auth)
    assert r.status_code == 200 and r.json()["etat"] == model.CLOSED


@pytest.fixture(scope="module")
def zoned(base_iri: str, territory_triples: list) -> OxigraphStore:
    """The reference and three informal areas, two of them homonyms: their own store, as their names would
    be the other tests' too."""
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    zone = "https://w3id.org/communs-services/def#InformalArea"
    triples = []
    for slug, label in (("queyras", "Queyras"), ("bauges", "Bauges"), ("bauges-2", "Bauges")):
        area = ox.NamedNode(store.minter.thing("territoire", slug))
        triples += [
            ox.Triple(area, ox.NamedNode(RDF + "type"), ox.NamedNode(zone)),
            ox.Triple(area, ox.NamedNode(RDFS + "label"), ox.Literal(label, language="fr")),
        ]
    store.replace_graph(store.minter.graph("essai-zones"), triples)
    return store


def test_an_informal_area_is_a_territory_a_proposal_names(zoned, tmp_path):
    """« Queyras », a Territoire d'usage shown on pages and found by search, was « territoire inconnu »
    to the API and the form alike (only territories with a code were kept): it is taken by its name, its
    exact label or the line the autocomplete writes, and its homonyms are told apart as a commune's are."""
    store = zoned
    queyras = store.minter.thing("territoire", "queyras")
    with TestClient(make_app(store, tmp_path, submit_rate=1000)) as client:
        body = {**form_data(territoires=["Queyras"]), "url": "https://example.org/q"}
        r = client.post("/api/contributions", json=body)
        assert r.status_code == 201, r.text
        assert Contributions(store, b"").record(r.json()["id"]).content.territories == [queyras]
        found = client.get("/territoires/autocomplete", params={"q": "Queyr"}).json()
        line = next(e["valeur"] for e in found if e["iri"] == queyras)
        assert line == "Queyras [zone queyras]", found
        sent = propose(client, territoires=line)
        assert sent.status_code == 303, sent.text
        assert Contributions(store, b"").record(
            pending_id(client.app, sent.headers["location"])
        ).content.territories == [queyras]
        r = client.post("/api/contributions", json={**body, "territoires": ["Bauges"]})
        assert r.status_code == 422 and "Bauges [zone bauges-2]" in r.text, r.text


def test_an_informal_area_s_report_link_names_it_as_a_commune_s_names_the_commune(zoned, tmp_path):
    """Queyras's « Signaler une erreur » link opened the report form without its territory (an informal
    area has no code), where a commune's, an EPCI's or a région's names theirs: it is named by the line the
    autocomplete writes, and the report sent from the form is taken with it."""
    store = zoned
    area = ox.NamedNode(store.minter.thing("territoire", "queyras"))
    with TestClient(make_app(store, tmp_path, submit_rate=1000)) as client:

        def link() -> str:
            page = client.get("/id/territoire/queyras").text
            return html.unescape(re.search(r'<p class="correction"><a href="([^"]+)"', page).group(1))

        # The territory comes from the index: its first build, begun by the first visit, may not be over yet.
        wait_until(lambda: "territoires=" in link(), 120, "the index naming the page's territory")
        href = link()
        form = client.get(href).text
        assert "<h1>Signaler une erreur sur Queyras</h1>" in form, form
        assert 'aria-describedby="aide-territoires">Queyras [zone queyras]</textarea>' in form, href
        said = {"titre": "Commune manquante", "resume": "Abriès-Ristolas manque parmi les communes."}
        fields = form_data(
            csrf_token=csrf_of(form), url=area.value, territoires="Queyras [zone queyras]", **said
        )
        sent = client.post("/ressources/proposer", data=fields, follow_redirects=False)
        assert sent.status_code == 303, sent.text
        record = Contributions(store, b"").record(pending_id(client.app, sent.headers["location"]))
        assert record.content.territories == [area.value]
