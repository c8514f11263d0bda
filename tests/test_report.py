"""The meeting-report loader, on the real Web @telier report and on another report of the same shape."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from api import cards
from graph.describe import describe
from graph.namespaces import Minter, sparql_prefixes
from graph.store import OxigraphStore
from loaders import ImportResult, SourceError, report

SEED = Path(__file__).resolve().parent.parent / "data" / "seeds" / "adrets-web-atelier-1-compte-rendu.txt"
P = sparql_prefixes()
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"(?<!\d)0[1-9](?:[ .]?\d{2}){4}(?!\d)")
DESK = "adrets@adrets-asso.fr"  # the association's public desk address, not a person's


@pytest.fixture(scope="module")
def minter(base_iri: str) -> Minter:
    return Minter(base_iri)


@pytest.fixture(scope="module")
def result(minter: Minter) -> ImportResult:
    return report.build(SEED, minter)


def load(base_iri: str, result: ImportResult) -> OxigraphStore:
    store = OxigraphStore(base_iri)
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)
    return store


@pytest.fixture(scope="module")
def store(base_iri: str, result: ImportResult) -> OxigraphStore:
    return load(base_iri, result)


@pytest.fixture(scope="module")
def event(minter: Minter) -> ox.NamedNode:
    return ox.NamedNode(minter.thing("evenement", "web-telier-n1-2023-01"))


def one(store: OxigraphStore, query: str, **bindings) -> list[dict]:
    return store.select(P + query, bindings or None)


def test_graphs(result, minter):
    assert [g.graph for g in result.graphs] == [
        minter.graph("rapport/web-telier-n1-2023-01"),
        minter.private_graph("rapport/web-telier-n1-2023-01"),
    ]
    assert result.graphs[0].meta.source == SEED.name


def test_each_triple_once(result):
    """What the import prints as each graph's size is what the store holds."""
    for g in result.graphs:
        assert len(g.triples) == len(set(g.triples)), g.graph


def test_online_event_with_its_month(store, event):
    rows = one(
        store,
        """SELECT ?name ?date ?mode WHERE { ?e a schema:Event ; rdfs:label ?name ;
        schema:startDate ?date ; schema:eventAttendanceMode ?mode ; cs:sourceLines ?l ;
        prov:wasDerivedFrom ?d }""",
        e=event,
    )
    assert len(rows) == 1
    assert rows[0]["name"].value == "Web @telier n°1"
    assert (rows[0]["date"].value, rows[0]["date"].datatype.value.rsplit("#")[1]) == ("2023-01", "gYearMonth")
    assert rows[0]["mode"].value == "http://schema.org/OnlineEventAttendanceMode"


def test_figures_and_represented_departements(store, event, minter):
    figures = {
        (r["v"].value, r["u"].value)
        for r in one(
            store,
            """SELECT ?v ?u WHERE {
        ?e cs:indicator ?q . ?q a schema:QuantitativeValue ; schema:value ?v ; schema:unitText ?u }""",
            e=event,
        )
    }
    assert figures == {
        ("18", "Participant.e.s"),
        ("7", "Départements"),
        ("13", "Lieux de services alpins"),
        ("15", "Territoires alpins représentés"),
    }
    depts = {r["d"].value for r in one(store, "SELECT ?d WHERE { ?e dcterms:spatial ?d }", e=event)}
    assert depts == {minter.thing("departement", c) for c in ("04", "05", "06", "38", "73", "74", "84")}


def test_announced_events(store, event, minter):
    rows = one(
        store,
        """SELECT ?label ?date ?where WHERE { ?e cs:followUp ?f . ?f a schema:Event ; rdfs:label ?label ;
        schema:startDate ?date OPTIONAL { ?f schema:location ?where } }""",
        e=event,
    )
    got = {(r["label"].value, r["date"].value, r["where"].value if "where" in r else None) for r in rows}
    assert got == {
        ("Web @telier n°2", "2023-03-23", None),
        ("Rencontre Saisonnalité", "2023-06-06", minter.thing("territoire", "oisans")),
        ("Rencontre Services et Territoires", "2023", None),
    }
    assert store.ask(P + "ASK { ?z a cs:InformalArea ; rdfs:label 'Oisans'@fr ; cs:covers ?epci }")


def test_resources_presented(store, event):
    rows = one(
        store, "SELECT ?t ?name WHERE { ?e schema:workFeatured ?r . ?r a ?t ; rdfs:label ?name }", e=event
    )
    got = {(r["name"].value, r["t"].value.rsplit("/", 1)[1]) for r in rows}
    assert {("État des Lieux 2022", "CreativeWork"), ("État des Lieux 2022", "Report"),
            ("Comm'un Services", "WebSite")} == got  # fmt: skip


def test_questions_and_answers(store, event):
    rows = one(
        store,
        """SELECT ?text ?answer WHERE { ?e cs:question ?q . ?q a schema:Question ; schema:text ?text ;
        schema:acceptedAnswer [ a schema:Answer ; schema:text ?answer ] }""",
        e=event,
    )
    assert len(rows) == 3
    texts = {r["text"].value for r in rows}
    assert "Est-il possible d'avoir une définition d'un espace saisonnier ?" in texts
    assert any("Aidants Connect" in r["answer"].value for r in rows)
    survey = one(store, "SELECT ?q WHERE { ?e cs:surveyQuestion ?q }", e=event)
    assert len(survey) == 3
    answers = one(
        store,
        """SELECT ?en WHERE { ?e cs:surveyQuestion/schema:acceptedAnswer ?a . ?a rdfs:label ?en
        FILTER(lang(?en) = "en") }""",
        e=event,
    )
    assert answers and all(r["en"].value.startswith("Answer: ") for r in answers)
    themes = {
        r["t"].value.rsplit("/", 1)[1]
        for r in one(store, "SELECT ?t WHERE { ?e cs:surveyTheme ?t }", e=event)
    }
    assert {"mobilite", "tiers-lieux", "numerique", "logement"} <= themes


def test_note_takers_are_private(store, event):
    """Note-takers and authors are named as contacts, not actors: they, their addresses and the links to
    them are only in the private graph."""
    takers = P + "SELECT ?n WHERE { ?e cs:noteTaker ?p . ?p a foaf:Person ; foaf:name ?n }"
    names = {r["n"].value for r in store.select(takers, {"e": event}, public=False)}
    assert names == {"Chloé Billod", "Lucie Oliveres", "Timothé Digne", "Noémie Lechat"}
    assert not store.select(takers, {"e": event})
    assert not store.ask(P + "ASK { { ?p a foaf:Person } UNION { ?s cs:noteTaker|schema:author ?p } }")
    literals = [r["o"].value for r in one(store, "SELECT ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) }")]
    leaks = [x for x in literals if (EMAIL.search(x) and x != DESK) or PHONE.search(x)]
    assert leaks == []
    assert not store.ask(P + "ASK { ?p a foaf:Person ; schema:email ?m }")
    private = {
        r["m"].value
        for r in store.select(P + "SELECT ?m WHERE { ?p a foaf:Person . ?p schema:email ?m }", public=False)
    }
    assert private == {"cbillod@adrets-asso.fr", "loliveres@adrets-asso.fr", "tdigne@adrets-asso.fr",
                       "nlechat@adrets-asso.fr"}  # fmt: skip


def test_report_lines(result):
    text = "\n".join(result.report)
    assert "3 événements annoncés" in result.report[0]
    assert "Rencontre Saisonnalité, 2023-06-06" in text and "Haute-Savoie" in text


def test_unresolved_names_give_their_line_in_the_file(result):
    """Blank lines count: each name left unresolved is reported with the line of the file that names it."""
    unresolved = [line for line in result.report if "non résolu" in line]
    lines = SEED.read_text(encoding="utf-8").splitlines()
    assert unresolved, result.report
    for entry in unresolved:
        name, n = re.fullmatch(r"\s*non résolu : (.+) \(\w+ \?\) \(ligne (\d+)\)", entry).groups()
        assert name in lines[int(n) - 1], entry
    assert "  non résolu : CIMA (sigle ?) (ligne 20)" in unresolved


OTHER = """Compte rendu – Web @telier n°4

Mobilité en montagne

Retour sur les solutions de mobilité solidaire présentées par les territoires et échanges entre pairs.

Octobre 2023

Introduction

Ce web @telier, organisé par l'ADRETS, a réuni les acteurs de la mobilité solidaire.

25

Participant.e.s

3

Départements
(05, 38 et 73)

Compte-rendu

- Présentation du **Guide mobilité solidaire** ☞ Consultable [ici](#)
- Prochain web @atelier le **jeudi 18 janvier de 10h à 11h30**

Echanges entre les participant.e.s

Partie 1 : Transport à la demande

“ Comment lancer un service de transport à la demande ?”

La communauté de communes du Briançonnais a partagé son expérience.

Prise de note :

Jeanne Martin – jmartin@example.org
"""


def test_another_report_of_the_same_shape_with_crlf(tmp_path, minter):
    path = tmp_path / "cr-web-atelier-4.txt"
    path.write_bytes(OTHER.replace("\n", "\r\n\r\n").encode("utf-8"))
    result = report.build(path, minter)
    store = load(minter.base, result)
    ev = ox.NamedNode(minter.thing("evenement", "web-telier-n4-2023-10"))
    assert store.ask(
        P + 'ASK { ?e rdfs:label "Web @telier n°4"@fr ; schema:startDate "2023-10"^^xsd:gYearMonth }',
        {"e": ev},
    )
    follow = one(store, "SELECT ?l ?d WHERE { ?e cs:followUp [ rdfs:label ?l ; schema:startDate ?d ] }", e=ev)
    assert [(r["l"].value, r["d"].value) for r in follow] == [("Web @telier n°5", "2024-01-18")]  # next year
    assert len(one(store, "SELECT ?d WHERE { ?e dcterms:spatial ?d }", e=ev)) == 3
    assert one(store, "SELECT ?r WHERE { ?e schema:workFeatured ?r }", e=ev)[0]["r"].value.endswith(
        "ressource/guide-mobilite-solidaire"
    )
    assert store.ask(P + "ASK { ?e cs:question [ schema:acceptedAnswer ?a ] }", {"e": ev})
    assert {
        r["m"].value for r in store.select(P + "SELECT ?m WHERE { ?p schema:email ?m }", public=False)
    } == {"jmartin@example.org"}


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("\n\nUn texte quelconque\nsans titre de compte rendu\n", 3, "no 'Compte rendu"),
        ("Compte rendu – Réunion\n\nMars 2023\n\nRien d'autre\n", 1, "not a meeting report"),
        ("Préambule\nCompte rendu – Réunion\nIntroduction\nx\n", 1, "before the"),
    ],
)
def test_malformed_reports(tmp_path, minter, text, line, message):
    path = tmp_path / "cr.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as e:
        report.build(path, minter)
    assert e.value.line == line and message in e.value.message


def test_non_utf8_report(tmp_path, minter):
    path = tmp_path / "cr.txt"
    path.write_bytes("Compte rendu – Réunion\nIntroduction\nÉté\n".encode("cp1252"))
    with pytest.raises(SourceError) as e:
        report.build(path, minter)
    assert e.value.line == 1 and "UTF-8" in e.value.message


def test_a_note_taker_s_surname_and_a_resort_are_not_communes_of_the_event(store, event, minter):
    """ "Timothé Digne" is no Digne-les-Bains (04070); "La Plagne" (a Savoie resort) is no Plagne (01298)."""
    named = {
        r["x"].value for r in one(store, "SELECT ?x WHERE { ?e schema:mentions|dcterms:spatial ?x }", e=event)
    }
    assert not {minter.thing("commune", c) for c in ("04070", "01298")} & named
    assert minter.thing("departement", "73") in named


def test_an_online_event_s_represented_departements_are_what_it_is_about_not_its_place(store, event):
    """The workshop was online; its « 7 Départements (04,05,…) » count where the participants came from."""
    card = cards.event_card(store, describe(store, event.value), "fr")
    assert card.online and card.location == []
    assert "/id/departement/73" in {link.href for link in card.about}
