"""The project catalogue loader, on the real seed and on hand-made variants of the same shape."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph import named_queries
from graph.namespaces import Minter, sparql_prefixes
from graph.store import OxigraphStore
from loaders import ImportResult, SourceError, catalogue

SEED = Path(__file__).resolve().parent.parent / "data" / "seeds" / "adrets-catalogue-projets.txt"
GOLD = Path(__file__).resolve().parent / "annotations" / "catalogue-territoires.csv"
P = sparql_prefixes()
EMAIL_OR_PHONE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\[at\]|(?<!\d)0[1-9](?:[ .]?\d{2}){4}(?!\d)")


@pytest.fixture(scope="module")
def minter(base_iri: str) -> Minter:
    return Minter(base_iri)


@pytest.fixture(scope="module")
def result(minter: Minter) -> ImportResult:
    return catalogue.build(SEED, minter)


def load(base_iri: str, result: ImportResult) -> OxigraphStore:
    store = OxigraphStore(base_iri)
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)
    return store


@pytest.fixture(scope="module")
def store(base_iri: str, result: ImportResult) -> OxigraphStore:
    return load(base_iri, result)


def values(store: OxigraphStore, query: str, **kw) -> list[str]:
    return [row["x"].value for row in store.select(P + query, **kw)]


def test_each_triple_once(result):
    """What the import prints as each graph's size is what the store holds."""
    for g in result.graphs:
        assert len(g.triples) == len(set(g.triples)), g.graph


def test_every_record_is_a_project_with_its_activity_line(store):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    activity_lines = [i for i, line in enumerate(lines) if line.lower() in catalogue.ACTIVITY_LINES]
    titles = {lines[i - 1] for i in activity_lines} | {
        "Démarche Smart Villages : Réalisation d'une étude complète pour le Réseau rural national"
    }
    labels = set(values(store, "SELECT ?x WHERE { ?p a schema:Project ; rdfs:label ?x }"))
    assert labels == titles and len(labels) == 39
    with_activity = values(
        store, "SELECT ?x WHERE { ?p a schema:Project ; cs:activityLine ?x ; dcterms:type ?t }"
    )
    assert len(with_activity) == len(activity_lines) == 38
    without = values(
        store,
        "SELECT ?x WHERE { ?p a schema:Project ; rdfs:label ?x FILTER NOT EXISTS { ?p cs:activityLine ?a } }",
    )
    assert without == [
        "Démarche Smart Villages : Réalisation d'une étude complète pour le Réseau rural national"
    ]
    types = set(values(store, "SELECT DISTINCT ?x WHERE { ?p dcterms:type ?t BIND(STR(?t) AS ?x) }"))
    assert {t.rsplit("/", 1)[1] for t in types} == set(catalogue.ACTIVITY_LINES.values())


def test_sections_keep_text_and_bullets(store, minter):
    p = ox.NamedNode(minter.thing("projet", "hub-services-alpins"))
    rows = store.select(
        P + "SELECT ?o ?d ?b WHERE { ?p cs:objectives ?o ; schema:description ?d ; cs:budgetText ?b }",
        {"p": p},
    )
    assert len(rows) == 1
    assert rows[0]["o"].language == "fr"
    assert "\n- l’enclavement de certains territoires" in rows[0]["o"].value
    assert rows[0]["b"].value.startswith("Soutiens financiers :\n- Etat : 75 000 €")
    # A heading glued to the previous paragraph still closes the section.
    lieux = ox.NamedNode(minter.thing("projet", "lieux-apprenants-foad"))
    stakes = store.select(P + "SELECT ?e WHERE { ?p cs:stakes ?e }", {"p": lieux})[0]["e"].value
    assert stakes.endswith("créateur de lien social.")


# Every amount the Budget sections state, parsed exactly: (project slug, value, role, funder slug).
EXPECTED_GRANTS = {
    ("tremplin-saison-etude-action-sur-les-parcours-saisonniers-et-pluriactifs", "3000", "contribution",
     "edf-une-riviere-un-territoire"),
    ("smartcommunity", "1884101.06", "total", "feder"),
    ("smart-villages-pour-une-transformation-numerique-et-societale-reussie", "2061999", "total", "feder"),
    ("smart-villages-pour-une-transformation-numerique-et-societale-reussie", "217000", "part-association",
     "feder"),
    ("hub-services-alpins", "75000", "contribution", "etat"),
    ("hub-services-alpins", "45000", "contribution", "region-sud"),
    ("hub-services-alpins", "43000", "contribution", "region-aura"),
}  # fmt: skip


def test_every_stated_amount_is_parsed_exactly(store):
    rows = store.select(
        P
        + """SELECT ?p ?v ?role ?f WHERE {
        ?p schema:funding ?g . ?g schema:amount [ schema:value ?v ; schema:currency "EUR" ] .
        OPTIONAL { ?g cs:amountRole ?role } OPTIONAL { ?g schema:funder ?f } }"""
    )
    got = {
        (r["p"].value.rsplit("/", 1)[1], r["v"].value, r["role"].value, r["f"].value.rsplit("/", 1)[1])
        for r in rows
    }
    assert got == EXPECTED_GRANTS
    assert all(r["v"].datatype.value.endswith("#decimal") for r in rows)


def test_a_share_of_a_grant_and_a_budget_are_not_grants_of_their_own(store, minter):
    """Smart Villages: "Financement ERDF : 2.061.999 EUR / Pour l'Adrets cela représente un financement de
    217.000€" is one FEDER grant and the association's share of it; SmartCommunity: "un budget de
    224.929,99€ … avec une prise en charge à 75% par le Fonds Européen pour le Développement Rural" is the
    association's budget, 75 % of it covered by the fund, not a grant of that amount."""
    villages = minter.thing(
        "financement", "smart-villages-pour-une-transformation-numerique-et-societale-reussie"
    )
    assert store.ask(
        P + f"ASK {{ <{villages}-2> cs:shareOf <{villages}-1> ; schema:amount/schema:value 217000.0 }}"
    )
    smart = {"p": ox.NamedNode(minter.thing("projet", "smartcommunity"))}
    assert values(store, "SELECT ?x WHERE { ?p cs:budget/schema:value ?x }", bindings=smart) == ["224929.99"]
    assert not store.ask(P + "ASK { ?p schema:funding/schema:amount/schema:value 224929.99 }", smart)
    rows = store.select(
        P + "SELECT ?f ?rate WHERE { ?p schema:funding ?g . ?g schema:funder ?f ; cs:coverageRate ?rate "
        "FILTER NOT EXISTS { ?g schema:amount ?a } }",
        smart,
    )
    assert [(r["f"].value.rsplit("/", 1)[1], r["rate"].value) for r in rows] == [("feader", "0.75")]
    # Each funder's money once: FEDER gave the two projects' totals, FEADER no stated amount.
    query = named_queries.load_all()["financements-par-financeur"]
    by_funder = {
        r["financeur"].value.rsplit("/", 1)[1]: (int(r["financements"].value), Decimal(r["montant"].value))
        for r in store.select(query.sparql, named_queries.bindings(query, {}, minter))
    }
    assert by_funder["feder"] == (2, Decimal("3946100.06"))
    assert by_funder["feader"] == (2, Decimal(0))
    # Nor is the share a grant of its own in the other named queries: listed once, as the grant.
    queries = named_queries.load_all()
    above = queries["financements-montant-minimum"]
    grants = [
        r["financement"].value for r in store.select(above.sparql, named_queries.bindings(above, {}, minter))
    ]
    assert f"{villages}-1" in grants and f"{villages}-2" not in grants
    funded = queries["organisation-projets"]
    feder = {"organisation": minter.thing("organisation", "feder")}
    rows = store.select(funded.sparql, named_queries.bindings(funded, feder, minter))
    project = minter.thing("projet", "smart-villages-pour-une-transformation-numerique-et-societale-reussie")
    assert [r["projet"].value for r in rows if r["role"].value == "financeur"].count(project) == 1


def test_a_grant_stated_in_two_graphs_is_counted_once_by_funder(base_iri, result, minter):
    """The default graph is the union of the graphs: a grant a second source states again matched twice,
    and « Financements par financeur » summed its amount twice."""
    store = load(base_iri, result)
    for g in result.graphs:
        store.replace_graph(g.graph + "-copie", g.triples, g.meta)
    query = named_queries.load_all()["financements-par-financeur"]
    by_funder = {
        r["financeur"].value.rsplit("/", 1)[1]: (
            int(r["financements"].value),
            Decimal(r["montant"].value),
            int(r["montantsConnus"].value),
        )
        for r in store.select(query.sparql, named_queries.bindings(query, {}, minter))
    }
    assert by_funder["feder"] == (2, Decimal("3946100.06"), 2)


def test_funders_without_amount_and_amounts_that_are_not_funding(store, minter):
    lab = ox.NamedNode(minter.thing("projet", "lab-3i-illetrisme-illectronisme-itinerance"))
    funders = values(
        store,
        "SELECT ?x WHERE { ?p schema:funding ?g . ?g schema:funder ?f BIND(STR(?f) AS ?x) }",
        bindings={"p": lab},
    )
    assert {f.rsplit("/", 1)[1] for f in funders} == {
        "gal-grand-brianconnais", "gal-pays-sud", "gal-gap-tallard-durance", "feader", "region-sud"
    }  # fmt: skip
    # "9,9 € en moyenne" (wages quoted from an INSEE study) is not a grant.
    tarentaise = ox.NamedNode(minter.thing("projet", "animation-des-espaces-saisonniers-de-tarentaise"))
    assert not store.ask(P + "ASK { ?p schema:funding ?g }", {"p": tarentaise})


@pytest.mark.parametrize(
    "text, value",
    [
        ("Financement FEDER : 1.884.101,06 EUR", "1884101.06"),
        ("un budget de 224.929,99€ sur la période", "224929.99"),
        ("- Etat : 75 000 €", "75000"),
        ("- Etat : 75\u202f000 €", "75000"),
        ("Territoire de Savoie : 3000 €", "3000"),
        ("Financement ERDF : 2.061.999 EUR", "2061999"),
        ("soit 1 234,5 euros", "1234.5"),
        ("un financement de 217.000€ sur la période de 3 ans", "217000"),
    ],
)
def test_french_amounts(text, value):
    assert catalogue.parse_amount(text) == Decimal(value)


@pytest.mark.parametrize(
    "title, start, end",
    [
        ("Co-animation du réseau des chef.fe.s de projet Espaces Valléens", "2023", "2028"),
        ("AJITeR", "2018-09-01", "2021-08-31"),
        ("Acoumpagna", "2017", "2019"),
        ("Schéma de services du Pays de Maurienne", "2015-04", "2016"),
        ("Formations destinées aux Agents des MSAP", "2016", "2018"),
    ],
)
def test_periods_from_explicit_dates(store, title, start, end):
    rows = store.select(
        P
        + f"""SELECT ?s ?e WHERE {{ ?p rdfs:label ?l ; schema:startDate ?s ; schema:endDate ?e
        FILTER(STRSTARTS(?l, {ox.Literal(title)})) }}"""
    )
    assert [(r["s"].value, r["e"].value) for r in rows] == [(start, end)]


def test_start_only_from_depuis(store, minter):
    """A start from "depuis le 1er février 2022" (the new network facilitator), and no end invented."""
    slug = "vers-une-animation-et-une-structuration-du-reseau-savoyard-des-france-services"
    project = ox.NamedNode(minter.thing("projet", slug))
    start = values(store, "SELECT ?x WHERE { ?p schema:startDate ?x }", bindings={"p": project})
    assert start == ["2022-02-01"]
    assert not store.ask(P + f"ASK {{ {project} schema:endDate ?e }}")


def test_milestone_and_no_invented_period(store, minter):
    forum = ox.NamedNode(minter.thing("projet", "animation-du-forum-du-reseau-rural-paca-en-visioconference"))
    dates = values(
        store,
        "SELECT ?x WHERE { ?p cs:milestone ?e . ?e a schema:Event ; schema:startDate ?x }",
        bindings={"p": forum},
    )
    assert dates == ["2021-01-21"]
    # "Convention Interrégionale du Massif Alpin 2021-2027" is not the period of the Espaces valléens project.
    assert not store.ask(P + 'ASK { ?p schema:startDate "2021"^^xsd:gYear }')


def _gold() -> dict[str, set[tuple[str, str]]]:
    gold: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with GOLD.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            gold[row["record_line"]].add((row["level"], row["code"]))
    return gold


def test_territory_precision_recall(store, record_score):
    rows = store.select(
        P
        + """SELECT ?lines ?t WHERE { ?p a schema:Project ; cs:sourceLines ?lines .
        OPTIONAL { ?p dcterms:spatial ?t } }"""
    )
    predicted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in rows:
        first = r["lines"].value.split("-")[0]
        predicted[first]
        if "t" in r:
            kind, code = r["t"].value.rsplit("/", 2)[1:]
            predicted[first].add((kind, code))
    gold = _gold()
    assert set(gold) <= set(predicted)  # the annotation names real records
    scores = {}
    for level in ("departement", "epci", "commune"):
        tp = fp = fn = 0
        for record in predicted:
            p = {x for x in predicted[record] if x[0] == level}
            g = {x for x in gold.get(record, set()) if x[0] == level}
            tp, fp, fn = tp + len(p & g), fp + len(p - g), fn + len(g - p)
        precision, recall = tp / (tp + fp), tp / (tp + fn)
        scores[level] = (precision, recall)
        counts = f"(tp={tp} fp={fp} fn={fn})"
        record_score(f"catalogue territoires {level:12s} P={precision:.3f} R={recall:.3f} {counts}")
    for level, (precision, recall) in scores.items():
        assert precision >= 0.9 and recall >= 0.85, level


def test_organisations_reconciled_and_linked(store, minter):
    sud = ox.NamedNode(minter.thing("organisation", "region-sud"))
    projects = values(store, "SELECT ?x WHERE { ?p cs:participant ?o ; rdfs:label ?x }", bindings={"o": sud})
    assert len(projects) >= 4
    alt = set(values(store, "SELECT ?x WHERE { ?o skos:altLabel ?x }", bindings={"o": sud}))
    assert {"Région PACA", "Région Sud-Provence-Alpes-Côte d'Azur"} <= alt
    anct = values(
        store, "SELECT ?x WHERE { ?o a org:Organization ; rdfs:label ?x FILTER(CONTAINS(?x, 'ANCT')) }"
    )
    assert len(anct) == 1
    assert store.ask(P + "ASK { ?g a schema:MonetaryGrant ; schema:funder ?f . ?f a org:Organization }")
    # Named as partners → participants; cited as examples ("La Poste, EDF, la SNCF…") → only mentioned.
    maurienne = ox.NamedNode(minter.thing("projet", "schema-de-services-du-pays-de-maurienne"))
    edf = ox.NamedNode(minter.thing("organisation", "edf"))
    assert store.ask(P + "ASK { ?p schema:mentions ?o FILTER NOT EXISTS { ?p cs:participant ?o } }",
                     {"p": maurienne, "o": edf})  # fmt: skip
    tremplin = ox.NamedNode(
        minter.thing("projet", "tremplin-saison-etude-action-sur-les-parcours-saisonniers-et-pluriactifs")
    )
    partners = values(
        store, "SELECT ?x WHERE { ?p cs:participant ?o BIND(STR(?o) AS ?x) }", bindings={"p": tremplin}
    )
    assert {
        minter.thing("organisation", s) for s in ("cluster-montagne", "geiq-savoie", "pole-emploi")
    } <= set(partners)


def test_informal_areas_and_rollup(store, minter):
    tarentaise = ox.NamedNode(minter.thing("territoire", "tarentaise"))
    covers = values(
        store,
        "SELECT ?x WHERE { ?z a cs:InformalArea ; cs:covers ?e BIND(STR(?e) AS ?x) }",
        bindings={"z": tarentaise},
    )
    assert len(covers) == 3
    assert store.ask(P + "ASK { ?p dcterms:spatial ?z . ?z dcterms:isPartOf ?d }", {"z": tarentaise})


def test_traceability(store, result, minter):
    rows = store.select(
        P
        + """SELECT ?p ?lines ?doc WHERE { ?p a schema:Project .
        OPTIONAL { ?p cs:sourceLines ?lines } OPTIONAL { ?p prov:wasDerivedFrom ?doc } }"""
    )
    assert len(rows) == 39 and all("lines" in r and "doc" in r for r in rows)
    doc = ox.NamedNode(minter.thing("document", "adrets-catalogue-projets"))
    assert {r["doc"] for r in rows} == {doc}
    assert store.ask(
        P + 'ASK { ?d a schema:DigitalDocument ; schema:name "adrets-catalogue-projets.txt" }', {"d": doc}
    )
    lines = SEED.read_text(encoding="utf-8").split("\n")
    for r in rows:  # the lines named are the record's: its title opens them
        first, last = map(int, r["lines"].value.split("-"))
        label = store.select(P + "SELECT ?l WHERE { ?p rdfs:label ?l }", {"p": r["p"]})[0]["l"].value
        assert lines[first - 1] == label and first <= last
    assert result.graphs[0].meta.source == "adrets-catalogue-projets.txt"


def test_contacts_are_private(store, minter):
    literals = values(store, "SELECT ?x WHERE { ?s ?p ?x FILTER(isLiteral(?x)) }")
    assert not [x for x in literals if EMAIL_OR_PHONE.search(x)]
    private = values(store, "SELECT ?x WHERE { ?s ?p ?x FILTER(isLiteral(?x)) }", public=False)
    assert {"cbelet@adrets-asso.fr", "06 10 56 94 99"} <= set(private)
    # The person is private whole, with the link from her project: no public answer names her.
    named = P + 'ASK { ?p cs:contactPerson ?c . ?c a foaf:Person ; foaf:name "Claire Belet" }'
    assert store.ask(named, public=False) and not store.ask(named)
    assert not store.ask(P + "ASK { { ?c a foaf:Person } UNION { ?p cs:contactPerson ?c } }")
    assert not [x for x in literals if "Claire Belet" in x]
    # The private graph says what it describes, as the report loader's does: a person, with her line.
    in_private = "SELECT ?x WHERE { GRAPH ?g { ?c a foaf:Person ; schema:telephone ?t ; cs:sourceLines ?x } }"
    assert values(store, in_private, public=False)


def test_report_lists_extractions(result):
    assert result.report[0].startswith("adrets-catalogue-projets.txt : 39 projets, 13 financements")
    assert any("Barcelonnette" in line for line in result.report)
    # Names nothing resolved are listed with their line.
    assert "    non résolu : SUERA (sigle ?) (ligne 45)" in result.report
    assert "    non résolu : l’Italie (lieu ?) (ligne 114)" in result.report


# --- other files of the same shape ---------------------------------------------------------------------
NEW = """Réseau des lieux de services du Diois
Animation de réseau
Réseau des lieux de services du Diois
Objectifs: Animer le réseau des lieux de services de Die et de la communauté de communes du Diois (26).

- réunions trimestrielles
Budget
Financement Région AURA : 12.500,50 €
Durée et déroulement
2024-2025
Un projet sans sections
Capitalisation et communs
Un projet sans sections
"""


def write(
    tmp_path: Path, text: str, name: str = "cat.txt", newline: str = "\n", encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def test_new_projects_missing_sections_crlf_and_blank_lines(tmp_path, minter):
    plain = catalogue.build(write(tmp_path, NEW), minter)
    crlf = catalogue.build(write(tmp_path, NEW.replace("\n", "\n\n"), "crlf.txt", "\r\n"), minter)
    for r in (plain, crlf):
        assert r.report[0].startswith(r.report[0].split(" :")[0] + " : 2 projets, 1 financements")
    triples = {str(t) for t in plain.graphs[0].triples if "document" not in str(t)}
    crlf_triples = {
        str(t) for t in crlf.graphs[0].triples if "document" not in str(t) and "sourceLines" not in str(t)
    }
    assert crlf_triples <= triples
    store = load(minter.base, plain)
    diois = ox.NamedNode(minter.thing("projet", "reseau-des-lieux-de-services-du-diois"))
    spatial = set(
        values(store, "SELECT ?x WHERE { ?p dcterms:spatial ?t BIND(STR(?t) AS ?x) }", bindings={"p": diois})
    )
    assert {
        minter.thing("commune", "26113"),
        minter.thing("epci", "242600534"),
        minter.thing("departement", "26"),
    } <= spatial
    assert values(
        store,
        "SELECT ?x WHERE { ?p schema:funding/schema:amount/schema:value ?v BIND(STR(?v) AS ?x) }",
        bindings={"p": diois},
    ) == ["12500.5"]
    assert store.ask(
        P + 'ASK { ?p schema:startDate "2024"^^xsd:gYear ; schema:endDate "2025"^^xsd:gYear }', {"p": diois}
    )


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("Juste une ligne de texte.\nEt une autre.\n", 1, "no project record"),
        ("\n\nUn préambule\nTitre\nAnimation de réseau\nTitre\nDescription: x\n", 3, "before the first"),
        (
            "Titre\nAnimation de réseau\nTitre\nDescription: x\n\nStratégie territoriale\nSuite\n",
            6,
            "without a project title",
        ),
    ],
)
def test_malformed_files(tmp_path, minter, text, line, message):
    with pytest.raises(SourceError) as e:
        catalogue.build(write(tmp_path, text), minter)
    assert e.value.line == line and message in e.value.message
    assert f"cat.txt:{line}" in str(e.value)


def test_binary_and_non_utf8(tmp_path, minter):
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"Titre\nAnimation\n\x00\x01\x02")
    with pytest.raises(SourceError) as e:
        catalogue.build(binary, minter)
    assert e.value.line == 3 and "binary" in e.value.message
    latin1 = write(tmp_path, "Titre\nAnimation de réseau\nTitre\nDescription: été\n", encoding="latin-1")
    with pytest.raises(SourceError) as e:
        catalogue.build(latin1, minter)
    assert e.value.line == 2 and "UTF-8" in e.value.message


def test_malformed_file_leaves_the_previous_graph_intact(tmp_path, base_iri, result, minter):
    store = load(base_iri, result)
    before = store.count(minter.graph("catalogue"))
    with pytest.raises(SourceError):
        new = catalogue.build(write(tmp_path, "pas un catalogue\n"), minter)
        for g in new.graphs:
            store.replace_graph(g.graph, g.triples, g.meta)
    assert store.count(minter.graph("catalogue")) == before > 1000


def test_places_named_only_as_landmarks_are_mentioned_not_the_project_territory(store, minter):
    """Val Guiers lies "entre les agglomérations de Lyon, Chambéry et Grenoble": none is its territory."""
    project = ox.NamedNode(
        minter.thing(
            "projet", "schema-territorial-des-services-au-public-de-la-communaute-de-communes-val-guier"
        )
    )
    spatial = values(store, "SELECT ?x WHERE { ?p dcterms:spatial ?x }", bindings={"p": project})
    mentioned = values(store, "SELECT ?x WHERE { ?p schema:mentions ?x }", bindings={"p": project})
    cities = {minter.thing("commune", c) for c in ("69123", "73065", "38185")}
    assert spatial and not cities & set(spatial)
    assert cities <= set(mentioned)


@pytest.mark.parametrize(
    "slug, territory, context",
    [  # the INSEE figures the project quotes; where the training was born
        ("animation-des-espaces-saisonniers-de-tarentaise", ("territoire", "tarentaise"),
         [("region", "84"), ("territoire", "chablais"), ("territoire", "maurienne"),
          ("territoire", "mont-blanc"), ("territoire", "vallee-de-l-arve")]),
        ("animacoop-formation-pour-animer-des-projets-collaboratifs", ("region", "93"),
         [("commune", "34172")]),
    ],
)  # fmt: skip
def test_places_of_a_quoted_statistic_or_an_origin_are_mentioned_not_the_project_territory(
    store, minter, slug, territory, context
):
    project = {"p": ox.NamedNode(minter.thing("projet", slug))}
    spatial = set(values(store, "SELECT ?x WHERE { ?p dcterms:spatial ?x }", bindings=project))
    mentioned = set(values(store, "SELECT ?x WHERE { ?p schema:mentions ?x }", bindings=project))
    context_iris = {minter.thing(*c) for c in context}
    assert minter.thing(*territory) in spatial and not context_iris & spatial
    assert context_iris <= mentioned


def test_contacts_named_by_the_sources_are_no_public_actors(base_iri, territory_triples, tmp_path):
    """The five ADRETS staff the seeds name as contacts (a project's, the minutes' note-takers) have no
    public page, no place in the actors' list, its count or search, no SPARQL answer; the pages that named
    them still answer; the private graphs still hold them."""
    import httpx
    from pages_helpers import pages_store, serve, wait_for_index

    from loaders import report

    store = pages_store(base_iri, territory_triples)
    report_seed = SEED.parent / "adrets-web-atelier-1-compte-rendu.txt"
    for result in (catalogue.build(SEED, store.minter), report.build(report_seed, store.minter)):
        for g in result.graphs:
            store.replace_graph(g.graph, g.triples, g.meta)
    staff = ["noemie-lechat", "claire-belet", "timothe-digne", "chloe-billod", "lucie-oliveres"]
    people = {store.minter.thing("personne", slug) for slug in staff}
    assert set(values(store, "SELECT ?x WHERE { ?x a foaf:Person }", public=False)) == people
    (project,) = values(store, "SELECT ?x WHERE { ?x cs:contactPerson ?c }", public=False)
    organisations = len(values(store, "SELECT DISTINCT ?x WHERE { ?x a org:Organization }"))
    with serve(store, tmp_path) as url:
        wait_for_index(url)
        actors = httpx.get(f"{url}/acteurs.json", params={"limit": 1000}).json()
        assert actors["total"] == organisations and not people & {i["iri"] for i in actors["items"]}
        assert httpx.get(f"{url}/recherche.json", params={"q": "Claire Belet"}).json()["total"] == 0
        for iri in people:
            assert httpx.get(iri.replace(base_iri, url + "/")).status_code == 404
        page = httpx.get(project.replace(base_iri, url + "/"))
        assert page.status_code == 200 and "Belet" not in page.text
        queries = {f"q{i}": {"query": name} for i, name in enumerate(["Claire Belet", "Timothé Digne"])}
        found = httpx.post(f"{url}/reconcile", data={"queries": json.dumps(queries)}).json()
        assert not [r for q in found.values() for r in q["result"] if "/personne/" in r["id"]]
        sparql = "SELECT * WHERE { { ?x a foaf:Person } UNION { ?x ?p ?o "
        sparql += "FILTER(CONTAINS(STR(?x), '/personne/') || CONTAINS(STR(?o), '/personne/')) } }"
        rows = httpx.get(f"{url}/sparql", params={"query": P + sparql, "format": "json"}).json()
        assert rows["results"]["bindings"] == []
