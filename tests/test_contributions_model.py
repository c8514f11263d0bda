"""The contribution model on a real store: PROV-O change sets, visibility of each state, revert, and the
SHACL shapes' messages reaching the form field by field."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
from contrib_helpers import csrf_of, form_data
from fastapi.testclient import TestClient

import api.contributions
import graph.validation
import loaders.rdf
from api import cli
from api.app import create_app
from graph.contributions import (
    ACCEPTED,
    DELETED,
    PENDING,
    Content,
    ContributionError,
    Contributions,
    Contributor,
)
from graph.settings import Settings
from graph.store import OxigraphStore

PROV = "http://www.w3.org/ns/prov#"


@pytest.fixture
def model(base_iri: str) -> Contributions:
    return Contributions(OxigraphStore(base_iri), b"secret")


def content(title: str = "Guide mobilité solidaire") -> Content:
    return Content(
        title, "Comment monter une plateforme de mobilité solidaire.", "guide", url="https://e.org/g"
    )


def test_each_state_lives_in_its_own_graph(model: Contributions):
    store = model.store
    rid, _ = model.propose(content(), Contributor("Ana", "ana@example.net"))
    r = ox.NamedNode(model.iri(rid))
    assert model.pending_graph(rid) in store.graphs()
    assert not store.minter.is_public_graph(model.pending_graph(rid))
    assert not store.ask("ASK { ?r ?p ?o }", {"r": r})
    model.accept(rid, "modo", "Modé")
    assert model.pending_graph(rid) not in store.graphs()
    assert model.public_graph() in store.public_graphs()
    assert store.ask("ASK { ?r <http://schema.org/datePublished> ?d }", {"r": r})
    model.delete(rid, "modo", "Modé", "doublon")
    assert model.state(rid) == DELETED and not store.ask("ASK { ?r ?p ?o }", {"r": r})
    assert all(not store.minter.is_public_graph(g) for g in store.graphs() if rid in g)
    model.restore(rid, "modo", "Modé")
    assert model.state(rid) == ACCEPTED and store.ask("ASK { ?r ?p ?o }", {"r": r})
    with pytest.raises(ContributionError):
        model.reject(rid, "modo", "Modé", "trop tard")


def test_shared_public_graph_holds_exactly_the_current_versions(model: Contributions):
    store = model.store
    ana = Contributor("Ana", "ana@example.net", show_name=True)
    a, _ = model.propose(content("Premier guide"), ana)
    b, _ = model.propose(content("Second guide"), ana)
    model.accept(a, "modo", "Modé")
    model.accept(b, "modo", "Modé")
    before = store.count(model.public_graph())
    model.edit(a, content("Premier guide, revu"), "modo", "Modé")
    assert store.count(model.public_graph()) == before
    model.delete(a, "modo", "Modé")
    agent = ox.NamedNode(model.contributor_agent(ana)[0])
    label = "ASK { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    assert store.ask(label, {"a": agent})  # still used by the second guide
    titles = store.select("SELECT ?t WHERE { ?r <http://schema.org/name> ?t }")
    assert [t["t"].value for t in titles] == ["Second guide"]
    model.delete(b, "modo", "Modé")
    assert not store.ask(label, {"a": agent})  # no orphan agent left behind
    assert store.count(model.public_graph()) == 0


def test_change_sets_are_prov_activities_chained_by_revisions(model: Contributions):
    rid, _ = model.propose(content(), Contributor("Ana", "ana@example.net"))
    model.edit(rid, content("Guide de la mobilité solidaire"), "modo", "Modé")
    model.accept(rid, "modo", "Modé")
    rows = model.store.select(
        f"""SELECT ?n ?who ?v ?prev WHERE {{ GRAPH ?h {{ ?c a <{PROV}Activity> ;
              <https://w3id.org/communs-services/def#numero> ?n ; <{PROV}wasAssociatedWith> ?who ;
              <{PROV}endedAtTime> ?t ; <{PROV}generated> ?v .
              ?v <{PROV}specializationOf> ?r ; <{PROV}wasGeneratedBy> ?c .
              OPTIONAL {{ ?v <{PROV}wasRevisionOf> ?prev }} }} }} ORDER BY ?n""",
        {"h": ox.NamedNode(model.history_graph(rid)), "r": ox.NamedNode(model.iri(rid))},
        public=False,
    )
    assert [int(r["n"].value) for r in rows] == [1, 2, 3]
    assert rows[0]["who"].value.startswith(model.minter.thing("contributeur", ""))
    assert rows[1]["who"].value == model.account_agent("modo")  # a pseudonym, never the login
    assert "prev" not in rows[0]
    assert rows[2]["prev"] == rows[1]["v"] and rows[1]["prev"] == rows[0]["v"]


def test_revert_makes_a_new_version_and_keeps_publication_dates(model: Contributions):
    rid, _ = model.propose(content(), Contributor("Ana", "ana@example.net"))
    model.accept(rid, "modo", "Modé")
    model.edit(rid, content("Titre abîmé"), "modo", "Modé")
    model.revert(rid, 1, "modo", "Modé")
    record = model.record(rid)
    assert (
        record.content.title == "Guide mobilité solidaire"
        and record.version == 4
        and record.state == ACCEPTED
    )
    r = ox.NamedNode(model.iri(rid))
    assert model.store.ask("ASK { ?r <http://schema.org/datePublished> ?d }", {"r": r})
    assert [h.action for h in model.history(rid)][-1] == "retour"
    with pytest.raises(ContributionError):
        model.revert(rid, 9, "modo", "Modé")


def test_moderation_lists_by_state(model: Contributions):
    a, _ = model.propose(content("Premier guide"), Contributor("A", "a@example.net"))
    b, _ = model.propose(content("Second guide"), Contributor("B", "b@example.net"))
    model.accept(b, "modo", "Modé")
    assert [(x.id, x.title) for x in model.by_state(PENDING)] == [(a, "Premier guide")]
    assert [(x.id, x.title) for x in model.by_state(ACCEPTED)] == [(b, "Second guide")]


def test_shacl_messages_are_reported_on_their_field(base_iri, tmp_path, monkeypatch):
    (tmp_path / "vocabularies").mkdir()
    (tmp_path / "shapes.ttl").write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix schema: <http://schema.org/> .
        <#Ressource> a sh:NodeShape ; sh:targetClass schema:CreativeWork ;
          sh:property [ sh:path schema:description ; sh:minLength 60 ;
                        sh:message "Le résumé doit compter au moins 60 caractères."@fr,
                          "The summary must have at least 60 characters."@en ] .""",
        encoding="utf-8",
    )
    monkeypatch.setattr(graph.validation, "ONTOLOGY_DIR", tmp_path)
    monkeypatch.setattr(api.contributions, "ONTOLOGY_DIR", tmp_path)
    store = OxigraphStore(base_iri)
    app = create_app(Settings(store=":memory:", uploads_dir=str(tmp_path / "u"), secret_key="s" * 32), store)
    with TestClient(app) as client:
        page = client.get("/ressources/proposer")
        data = form_data(csrf_token=csrf_of(page.text), territoires="", resume="Un résumé trop court.")
        r = client.post("/ressources/proposer", data=data)
        assert r.status_code == 422
        assert re.search(r'id="err-resume"><li>Le résumé doit compter au moins 60 caractères.</li>', r.text)
        fields = {k: v for k, v in data.items() if k != "csrf_token"}  # a form field, unknown to the API
        api_answer = client.post("/api/contributions", json={**fields, "territoires": []})
        assert api_answer.json()["erreurs"] == {"resume": ["Le résumé doit compter au moins 60 caractères."]}
        english = {"Accept-Language": "en"}
        api_answer = client.post("/api/contributions", json={**fields, "territoires": []}, headers=english)
        assert api_answer.json()["erreurs"] == {"resume": ["The summary must have at least 60 characters."]}
        r = client.post("/ressources/proposer?lang=en", data=data)
        assert re.search(r'id="err-resume"><li>The summary must have at least 60 characters.</li>', r.text)
        data["resume"] = "Un résumé assez long pour satisfaire la forme SHACL de démonstration, enfin."
        assert client.post("/ressources/proposer", data=data, follow_redirects=False).status_code == 303


def test_markup_tags_are_not_words_of_the_iri():
    """The IRI is permanent: a tag typed in the title (kept in it, shown escaped) is not one of its words."""
    rid = Contributions.new_id("Carte des <script>alert(1)</script> tiers-lieux <b>Queyras</b> < 3 km")
    assert re.fullmatch(r"carte-des-alert-1-tiers-lieux-queyras-3-km-[0-9a-f]{6}", rid), rid


def test_the_iri_keeps_a_date_whole_and_is_cut_between_words():
    """People read and copy the IRI: « 15/01/2027 » is « 15-01-2027 » in it, never cut to « 15-0 »."""
    rid = Contributions.new_id("Permanence France Services itinérante à Abriès-Ristolas 15/01/2027")
    assert re.fullmatch(
        r"permanence-france-services-itinerante-a-abries-ristolas-15-01-2027-[0-9a-f]{6}", rid
    )
    long = Contributions.new_id(
        "Permanence France Services itinérante à Abriès-Ristolas, le 15/01/2027 de 9 h à 12 h"
    )
    assert re.fullmatch(r"permanence-[a-z0-9-]*-15-01-2027-de-9-h-a-[0-9a-f]{6}", long), long


def test_summaries_published_with_cr_lf_converge_to_line_feeds(model: Contributions):
    """Until 2026-12 a browser's CR LF reached the public graph as sent: the next start ends each line of
    a published summary with a line feed, its language kept; the version graphs stay as written."""
    old = Content("Guide des trois étapes", "Trois étapes :\r\n\r\n- accueillir ;\r- orienter.", "guide")
    rid, _ = model.propose(old, Contributor("Ana", "ana@example.net"))
    model.accept(rid, "modo", "Modé")
    query = "SELECT ?d WHERE { ?r <http://schema.org/description> ?d }"
    r = {"r": ox.NamedNode(model.iri(rid))}
    published = ox.Literal("Trois étapes :\n\n- accueillir ;\n- orienter.", language="fr")
    assert [x["d"] for x in model.store.select(query, r)] == [published]  # the version's CR LF not published
    g, s, d = f"<{model.public_graph()}>", r["r"], "<http://schema.org/description>"
    crlf = ox.Literal(old.summary, language="fr")  # as an earlier release published it
    model.store.update(
        f"DELETE DATA {{ GRAPH {g} {{ {s} {d} {published} }} }} ;"
        f"INSERT DATA {{ GRAPH {g} {{ {s} {d} {crlf} }} }}"
    )
    model.converge()
    assert [x["d"] for x in model.store.select(query, r)] == [
        ox.Literal("Trois étapes :\n\n- accueillir ;\n- orienter.", language="fr")
    ]
    model.edit(rid, Content("Guide des trois étapes", "Deux étapes.", "guide"), "modo", "Modé")
    assert [x["d"].value for x in model.store.select(query, r)] == ["Deux étapes."]  # not beside the old
    model.revert(rid, 1, "modo", "Modé")  # the old version back, its lines ended as published
    assert [x["d"].value for x in model.store.select(query, r)] == [
        "Trois étapes :\n\n- accueillir ;\n- orienter."
    ]
    model.delete(rid, "modo", "Modé", "données personnelles")
    assert not model.store.select(query, r)  # a deleted resource's text is not left public


def test_a_proposal_is_a_report_when_it_links_to_a_resource_page_only(model: Contributions, base_iri: str):
    """A page's « Signaler une erreur » link fills the page's IRI: that proposal is a report; one linking to
    a file the platform serves (an accepted resource's upload) or an outside site is a resource."""
    page, upload = base_iri + "id/commune/05170", base_iri + "fichiers/abc/guide.pdf"
    assert model.reported(Content("Erreur", "Horaires faux.", "guide", url=page)) == page
    assert model.reported(Content("Guide", "Le guide.", "guide", url=upload)) is None
    assert model.reported(content()) is None


def test_the_public_graph_of_accepted_proposals_conforms_to_the_shapes(base_iri, tmp_path, capsys):
    """``validate --graph`` of the contributions alone said their kinds were no concepts: the concepts'
    types live in the vocabularies' graph, which a one-graph check left out. A report, closed, publishes
    nothing."""
    store = OxigraphStore(base_iri, tmp_path / "store")
    for load in loaders.rdf.ontology(store.minter).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    model = Contributions(store, b"secret")
    ana = Contributor("Ana", "ana@example.net")
    rid, _ = model.propose(content(), ana)
    model.accept(rid, "modo", "Modé")
    report, _ = model.propose(
        Content("Erreur", "Horaires faux.", "guide", url=base_iri + "id/commune/05170"), ana
    )
    model.close(report, "modo", "Modé", "corrigé")
    assert not store.ask("ASK { ?r ?p ?o }", {"r": ox.NamedNode(model.iri(report))})
    graph_iri = model.public_graph()
    store.close()
    assert cli.main(["validate", "--graph", graph_iri, "--store", str(tmp_path / "store")]) == 0, (
        capsys.readouterr()
    )
    store = OxigraphStore(base_iri, tmp_path / "store")
    model = Contributions(store, b"secret")
    unknown = Content("Autre guide", "Un guide d'un type que le vocabulaire ignore.", "inconnu")
    model.accept(model.propose(unknown, ana)[0], "modo", "Modé")  # the form would refuse it: still judged
    store.close()
    assert (
        cli.main(["validate", "--graph", graph_iri, "--store", str(tmp_path / "store")]) == cli.EXIT_INVALID
    )
