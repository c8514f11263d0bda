"""Proposing an event, as a town hall's agent does: the JSON API and the form on the real app and store,
then the accepted event where the bundled ones are (/evenements, its page, the home count, evenements.csv)."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib
from conftest import load_reference, wait_until
from contrib_helpers import csrf_of, form_data
from fastapi.testclient import TestClient

from api.app import create_app
from graph import dumps
from graph.contributions import Contributions
from graph.settings import Settings
from graph.store import OxigraphStore
from graph.validation import validate_graph

TITLE = "Permanence France Services itinérante à Abriès-Ristolas 15/01/2027"
EVENT = {
    "titre": TITLE,
    "resume": "Aides administratives, accès aux droits et démarches en ligne, sans rendez-vous.",
    "type": "Événement",
    "debut": "2027-01-15T09:00",
    "fin": "2027-01-15T12:00",
    "lieu": "Salle des fêtes, place de la Mairie, Abriès",
    "territoires": ["05001"],
    "nom": "Mairie d'Abriès-Ristolas",
    "courriel": "accueil@example.net",
}
SCHEMA = "http://schema.org/"


@pytest.fixture(scope="module")
def store(base_iri: str, territory_triples: list) -> OxigraphStore:
    return load_reference(OxigraphStore(base_iri), territory_triples)


@pytest.fixture(scope="module")
def app(store, tmp_path_factory):
    """One app for the module: an app per test started its own query workers and built its own index
    of the whole country and its own downloads, in the background of the next tests."""
    uploads = tmp_path_factory.mktemp("evenements") / "uploads"
    settings = Settings(store=":memory:", uploads_dir=str(uploads), secret_key="k" * 32, submit_rate=1000)
    return create_app(settings, store)


@pytest.fixture(scope="module")
def started(app):
    with TestClient(app) as c:  # the app's lifespan: started once
        yield c


@pytest.fixture
def client(started):
    started.cookies.clear()  # each test is a new visitor, not signed in
    return started


def login(client: TestClient, app) -> None:
    if app.state.accounts.get("modo") is None:
        app.state.accounts.add("modo", "un-mot-de-passe-long", "moderateur", "Modé")
    page = client.get("/connexion")
    data = {"csrf_token": csrf_of(page.text), "identifiant": "modo", "mot_de_passe": "un-mot-de-passe-long"}
    assert client.post("/connexion", data=data, follow_redirects=False).status_code == 303


def moderate(client: TestClient, rid: str, **data) -> None:
    page = client.get(f"/moderation/{rid}")
    r = client.post(f"/moderation/{rid}", data={"csrf_token": csrf_of(page.text), **data})
    assert r.status_code == 200, r.text


def test_the_json_api_takes_an_event_and_says_what_to_fix_in_its_dates(client, app, store):
    def errors(**changed) -> dict:
        r = client.post("/api/contributions", json=EVENT | changed)
        assert r.status_code == 422, r.text
        return r.json()["erreurs"]

    assert errors(debut="") == {"debut": ["Un événement a une date de début."]}
    said = "Date illisible : « 2027-02-30 ». Écrivez la date JJ/MM/AAAA ou AAAA-MM-JJ, l'heure HH:MM."
    assert errors(debut="2027-02-30") == {"debut": [said]}
    assert list(errors(debut="9999-12-31T23:59-12:00")) == ["debut"]  # past year 9999 at Paris's time
    assert errors(fin="2027-01-15T08:30") == {
        "fin": ["La fin (15 janvier 2027 à 08:30) est avant le début (15 janvier 2027 à 09:00)."]
    }
    assert errors(fin="14/01/2027")["fin"][0].startswith("La fin (14 janvier 2027) est avant")

    r = client.post("/api/contributions", json=EVENT)  # no link nor file: an event needs neither
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert rid.startswith("permanence-france-services-itinerante-a-abries-ristolas-15-01-2027-")
    # A date alone is an xsd:date; summer time is +02:00.
    r = client.post("/api/contributions", json=EVENT | {"debut": "2027-07-14", "fin": "2027-07-15T18:00"})
    summer = r.json()["id"]
    login(client, app)
    sent = client.get(f"/api/contributions/{rid}").json()
    assert (sent["type"], sent["lieu"]) == ("evenement", EVENT["lieu"])
    assert (sent["debut"], sent["fin"]) == ("2027-01-15T09:00:00+01:00", "2027-01-15T12:00:00+01:00")
    moderate(client, rid, action="accepter")
    # Published as the bundled events are, and as the shapes want an event.
    s = ox.NamedNode(Contributions(store, b"").iri(rid))
    triples = store.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", {"s": s})
    by_p = {t.predicate.value: t.object for t in triples}
    assert {t.object.value for t in triples if t.predicate.value.endswith("#type")} == {SCHEMA + "Event"}
    assert by_p[SCHEMA + "startDate"] == ox.Literal(
        "2027-01-15T09:00:00+01:00", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
    )
    assert by_p[SCHEMA + "location"].value == EVENT["lieu"]
    graph = rdflib.Graph().parse(data="\n".join(f"{t} ." for t in triples), format="nt")
    assert validate_graph(graph, store.minter.base, focus_nodes=[s.value])[0]
    again = client.get(f"/api/contributions/{summer}").json()
    assert (again["debut"], again["fin"]) == ("2027-07-14", "2027-07-15T18:00:00+02:00")


def test_a_date_or_a_place_sent_with_another_kind_is_refused_not_dropped(client):
    """Dropped, they would tell no one the kind is wrong (an event published as a guide, undated): the JSON
    API and the form, where the event's fields always show, refuse them on their fields."""
    guide = EVENT | {"type": "guide", "url": "https://example.org/guide.pdf"}
    r = client.post("/api/contributions", json=guide)
    assert r.status_code == 422, r.text
    assert r.json()["erreurs"] == {
        "debut": ["Une date de début ne vaut que pour un événement."],
        "fin": ["Une date de fin ne vaut que pour un événement."],
        "lieu": ["Un lieu ne vaut que pour un événement."],
    }
    none = {"debut": "", "fin": "", "lieu": ""}
    assert client.post("/api/contributions", json=guide | none).status_code == 201
    page = client.get("/ressources/proposer")
    sent = form_data(date_debut="2027-01-15", lieu="Salle des fêtes", csrf_token=csrf_of(page.text))
    r = client.post("/ressources/proposer", data=sent)
    assert r.status_code == 422 and "Une date de début ne vaut que pour un événement." in r.text
    assert "Un lieu ne vaut que pour un événement." in r.text and 'value="Salle des fêtes"' in r.text
    assert "Une date de fin" not in r.text


def test_openapi_describes_an_event_s_fields_with_examples_the_api_takes(client):
    """``debut``, ``fin`` and ``lieu`` were bare strings in /openapi.json: a reuser could not tell they are
    an event's, nor which dates they take."""
    fields = client.get("/openapi.json").json()["paths"]["/api/contributions"]["post"]["requestBody"]
    properties = fields["content"]["application/json"]["schema"]["properties"]
    examples = {name: properties[name]["example"] for name in ("debut", "fin", "lieu")}
    for name in examples:
        assert "d'un événement" in properties[name]["description"], properties[name]
    assert "JJ/MM/AAAA" in properties["debut"]["description"]
    r = client.post("/api/contributions", json=EVENT | examples)
    assert r.status_code == 201, r.text


def test_the_form_asks_an_event_s_date_time_and_place_and_the_moderator_edits_them(client, app, store):
    page = client.get("/ressources/proposer")
    assert '<option value="evenement">Événement</option>' in page.text
    for field in ('name="date_debut" type="date"', 'name="heure_debut" type="time"', 'name="lieu"'):
        assert field in page.text
    event = form_data(
        titre=TITLE,
        type="evenement",
        url="",
        territoires="Abriès-Ristolas [commune 05001]",
        date_debut="2027-01-15",
        heure_debut="09:00",
        heure_fin="12:00",  # the same day's
        lieu="Salle des fêtes",
    )
    r = client.post("/ressources/proposer", data=event | {"csrf_token": csrf_of(page.text), "date_debut": ""})
    assert r.status_code == 422 and "Un événement a une date de début." in r.text
    assert 'name="heure_debut" type="time" value="09:00"' in r.text and 'value="Salle des fêtes"' in r.text
    r = client.post(
        "/ressources/proposer", data=event | {"csrf_token": csrf_of(r.text)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    follow = client.get(r.headers["location"]).text
    assert "15 janvier 2027 à 09:00" in follow and "15 janvier 2027 à 12:00" in follow
    assert "Salle des fêtes" in follow

    rid = Contributions(store, b"").by_token(r.headers["location"].split("/suivi/")[1].split("?")[0])
    login(client, app)
    edit = client.get(f"/moderation/{rid}").text
    assert 'name="date_debut" type="date" value="2027-01-15"' in edit
    assert 'name="heure_fin" type="time" value="12:00"' in edit
    moderate(client, rid, action="accepter")  # then edited: its public history says what changed
    moderate(
        client, rid, **event | {"lieu": "Salle polyvalente", "heure_debut": "09:30", "action": "enregistrer"}
    )
    record = Contributions(store, b"").record(rid)
    assert (record.content.start, record.content.place) == ("2027-01-15T09:30:00+01:00", "Salle polyvalente")
    changes = client.get(f"/ressources/{rid}/historique.json").json()["historique"][-1]
    assert {(f["propriete"], f["valeur"]) for f in changes["ajoute"]} == {
        ("schema:startDate", "2027-01-15T09:30:00+01:00"),
        ("schema:location", "Salle polyvalente"),
    }


def test_the_moderator_is_warned_of_contact_details_in_an_event_s_place(client, app, store):
    """The place is published text, as the title and summary: what scrub() took out of it is said, and
    what a moderator types in it is checked."""
    place = "Salle des fêtes, appeler le 04 92 46 70 00"
    rid = client.post("/api/contributions", json=EVENT | {"lieu": place}).json()["id"]
    login(client, app)
    page = client.get(f"/moderation/{rid}").text
    assert "Retiré automatiquement de cette proposition : téléphone" in page
    typed = form_data(
        titre="",  # refused, so the page shows the place as typed
        type="evenement",
        territoires="Abriès-Ristolas [commune 05001]",
        date_debut="2027-01-15",
        lieu="Salle des fêtes, contact@example.net",
        action="enregistrer",
        csrf_token=csrf_of(page),
    )
    r = client.post(f"/moderation/{rid}", data=typed)
    assert r.status_code == 422 and "numéro de téléphone probable dans : Lieu (salle, adresse)" in r.text


def test_an_accepted_event_is_listed_paged_counted_and_downloaded_as_the_bundled_ones(client, app, store):
    def counted() -> int | None:
        found = re.search(
            r'<a href="/evenements"><strong>([\d\s\u202f\u00a0]+)</strong>', client.get("/").text
        )
        return int(re.sub(r"\D", "", found[1])) if found else None

    wait_until(lambda: counted() is not None, 120, "the index's first build")
    before = counted()
    title = "Atelier numérique à Abriès-Ristolas le 22/01/2027"
    rid = client.post("/api/contributions", json=EVENT | {"titre": title}).json()["id"]
    login(client, app)
    moderate(client, rid, action="accepter")
    wait_until(lambda: title in client.get("/evenements").text, 120, "the event in /evenements")
    assert counted() == before + 1
    page = client.get(f"/id/ressource/{rid}").text
    assert title in page and "15 janvier 2027" in page and EVENT["lieu"] in page
    rows = {r["iri"].value: r for r in store.select(dumps._EVENTS)}  # evenements.csv's query
    row = rows[Contributions(store, b"").iri(rid)]
    assert (row["date"].value, row["lieu"].value) == ("2027-01-15T09:00:00+01:00", EVENT["lieu"])
