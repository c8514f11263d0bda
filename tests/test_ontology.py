"""Ontology, SKOS vocabularies and SHACL shapes: complete for what the loaders write, strict on breakage."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDFS, SKOS

from api.ontology import property_label
from graph.namespaces import CS, DCTERMS, SCHEMA, Minter
from graph.settings import DATA_DIR, DEFAULT_BASE_IRI, ONTOLOGY_DIR
from graph.validation import validate_graph
from loaders import catalogue, report
from loaders import rdf as rdf_loader

BASE = DEFAULT_BASE_IRI
PREFIXES = """
@prefix schema: <http://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix cs: <https://w3id.org/communs-services/def#> .
"""


def to_rdflib(triples: list[ox.Triple]) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data="\n".join(f"{t} ." for t in triples), format="nt")
    return g


@pytest.fixture(scope="module")
def reference() -> rdflib.Graph:
    """Ontology and vocabularies as `communs load` stores them."""
    g = rdflib.Graph()
    for load in rdf_loader.ontology(Minter(BASE)).graphs:
        g += to_rdflib(load.triples)
    return g


@pytest.fixture(scope="module")
def documents() -> rdflib.Graph:
    """The public graphs built from the association's two documents."""
    g = rdflib.Graph()
    minter = Minter(BASE)
    for result in (
        catalogue.build(DATA_DIR / "seeds" / "adrets-catalogue-projets.txt", minter),
        report.build(DATA_DIR / "seeds" / "adrets-web-atelier-1-compte-rendu.txt", minter),
    ):
        for load in result.graphs:
            if minter.is_public_graph(load.graph):
                g += to_rdflib(load.triples)
    return g


def concepts(g: rdflib.Graph, scheme: str) -> set[str]:
    return {str(c) for c in g.subjects(SKOS.inScheme, rdflib.URIRef(BASE + "id/schema/" + scheme))}


def test_schemes_hold_the_catalogue_lists(reference):
    assert concepts(reference, "axes") == {
        BASE + "id/axe/" + s
        for s in (
            "animation-de-reseau",
            "strategie-territoriale",
            "accompagnement-collaboratif",
            "capitalisation-et-communs",
        )
    }
    assert len(concepts(reference, "themes")) == 14
    assert len(concepts(reference, "criteres")) == 11
    publics = concepts(reference, "publics")
    for slug in ("saisonniers", "retraites-seniors", "demandeurs-emploi", "nouveaux-arrivants"):
        assert BASE + "id/public/" + slug in publics
    close = {str(s) for s, _ in reference.subject_objects(SKOS.closeMatch)}
    assert BASE + "id/public/retraites-seniors" in close and BASE + "id/public/saisonniers" not in close
    for c in concepts(reference, "themes") | publics:
        langs = {lab.language for lab in reference.objects(rdflib.URIRef(c), SKOS.prefLabel)}
        assert {"fr", "en"} <= langs, c


def test_every_cs_term_the_loaders_write_is_declared_in_both_languages(reference, documents):
    used = {str(p) for p in documents.predicates() if str(p).startswith(CS)}
    used |= {str(o) for o in documents.objects(None, rdflib.RDF.type) if str(o).startswith(CS)}
    assert len(used) > 15
    for term in sorted(used):
        node = rdflib.URIRef(term)
        for prop in (RDFS.label, RDFS.comment):
            langs = {v.language for v in reference.objects(node, prop)}
            assert {"fr", "en"} <= langs, f"{term} lacks a French and English {prop}"


def test_the_ontology_labels_its_own_terms_and_names_the_reused_ones_only_for_its_pages(reference):
    """A term's rdfs:label is its vocabulary's to state: the public ontology graph states none for
    schema.org's, DCTERMS'… (« dcterms:spatial rdfs:label "territoire" »), every cs: term keeps its own,
    and the pages still name the reused terms, from cs:displayLabel."""
    for prop in (RDFS.label, RDFS.comment):
        stated = {str(s) for s in reference.subjects(prop)}
        assert {s for s in stated if not s.startswith((CS, BASE))} == set(), prop
    declared = {s for s in reference.subjects(rdflib.RDF.type) if str(s).startswith(CS)}
    assert len(declared) > 30
    for term in declared:
        assert {"fr", "en"} <= {v.language for v in reference.objects(term, RDFS.label)}, term
    assert property_label(DCTERMS + "isPartOf", "fr") == "fait partie de"
    assert property_label(SCHEMA + "areaServed", "en") == "area served"  # services.ttl


def test_the_association_documents_conform(reference, documents):
    conforms, _, text = validate_graph(documents + reference, BASE)
    assert conforms, text[:3000]


BROKEN = (
    PREFIXES
    + """
<id/projet/x> a schema:Project ; rdfs:label "Projet cassé"@fr ;
    schema:startDate "bientôt" ; dcterms:type <id/axe/inexistant> ; schema:funding <id/financement/x> .
<id/financement/x> a schema:MonetaryGrant ; rdfs:label "Subvention"@fr ;
    schema:fundedItem <id/projet/x> ; schema:amount <id/montant/x> .
<id/montant/x> a schema:MonetaryAmount ; schema:value "75 000 €" ; schema:currency "euros" .
<id/ressource/y> a schema:CreativeWork ; rdfs:label "Guide sans licence"@fr .
"""
)


def test_shapes_reject_a_broken_project_with_one_message_per_fault(reference):
    data = rdflib.Graph().parse(data=BROKEN, format="turtle", publicID=BASE) + reference
    conforms, results, _ = validate_graph(data, BASE)
    assert not conforms
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    found = {
        (str(results.value(r, sh.focusNode)).removeprefix(BASE), str(results.value(r, sh.resultPath)))
        for r in results.subjects(rdflib.RDF.type, sh.ValidationResult)
    }
    assert ("id/projet/x", "http://schema.org/startDate") in found
    assert ("id/projet/x", "http://purl.org/dc/terms/type") in found  # not a concept of any scheme
    assert ("id/financement/x", "http://schema.org/funder") in found
    assert ("id/montant/x", "http://schema.org/value") in found
    assert ("id/montant/x", "http://schema.org/currency") in found
    assert any(focus == "id/ressource/y" for focus, _ in found)  # neither licence nor rights


def test_every_shape_message_is_in_french_and_in_english(reference):
    """SHACL messages reach people (a proposal's errors, in the page's language): each result carries the
    shape's message in both languages, one of each."""
    shapes = rdflib.Graph().parse(ONTOLOGY_DIR / "shapes.ttl", format="turtle", publicID=BASE)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    worded = [sorted(m.language for m in shapes.objects(s, sh.message)) for s in shapes.subjects(sh.message)]
    assert len(worded) > 40 and all(langs == ["en", "fr"] for langs in worded), worded
    data = rdflib.Graph().parse(data=BROKEN, format="turtle", publicID=BASE) + reference
    _, results, _ = validate_graph(data, BASE)
    messages = [
        list(results.objects(r, sh.resultMessage))
        for r in results.subjects(rdflib.RDF.type, sh.ValidationResult)
    ]
    ours = [found for found in messages if any(m.language for m in found)]  # not pyshacl's own (sh:node)
    assert len(ours) >= 5 and all(sorted(m.language for m in found) == ["en", "fr"] for found in ours), ours


def test_the_same_project_repaired_conforms(reference):
    fixed = (
        BROKEN.replace('"bientôt"', '"2023-10"^^xsd:gYearMonth')
        .replace("<id/axe/inexistant>", "<id/axe/strategie-territoriale>")
        .replace(
            'schema:value "75 000 €" ; schema:currency "euros"',
            'schema:value 75000.0 ; schema:currency "EUR"',
        )
        .replace("schema:fundedItem", "schema:funder <id/organisation/etat> ; schema:fundedItem")
        .replace(
            '"Guide sans licence"@fr .',
            '"Guide"@fr ; dcterms:license <https://creativecommons.org/licenses/by/4.0/> .',
        )
        + '<id/organisation/etat> a org:Organization ; rdfs:label "État"@fr .'
    )
    data = rdflib.Graph().parse(data=fixed, format="turtle", publicID=BASE) + reference
    conforms, _, text = validate_graph(data, BASE)
    assert conforms, text[:2000]


def test_ontology_files_are_turtle_with_relative_vocabulary_iris():
    for path in [*ONTOLOGY_DIR.glob("*.ttl"), *(ONTOLOGY_DIR / "vocabularies").glob("*.ttl")]:
        g = rdflib.Graph().parse(path, format="turtle", publicID="https://example.org/base/")
        assert len(g) > 20, path
    vocab = (ONTOLOGY_DIR / "vocabularies" / "themes.ttl").read_text()
    assert "data.adrets-asso.fr" not in vocab  # the base is configurable


def test_every_cs_term_of_the_place_mappings_is_declared(reference):
    import re

    used = set()
    for mapping in (DATA_DIR / "mappings").glob("*.toml"):
        used |= set(re.findall(r"\bcs:([A-Za-z]+)", mapping.read_text(encoding="utf-8")))
    assert {"network", "siteRole", "mobile"} <= used
    for name in used:
        labels = {v.language for v in reference.objects(rdflib.URIRef(CS + name), RDFS.label)}
        assert {"fr", "en"} <= labels, f"cs:{name} is used by a mapping but not declared"


def test_a_stored_report_conforms_but_a_published_resource_without_licence_does_not() -> None:
    """A report (a proposal whose link is a page of the platform) carries no licence: `communs validate`
    failed on every store holding one, judging its pending and history graphs by the shape of a
    published resource. A resource published without a licence still fails."""
    from graph.contributions import Content, Contributions, Contributor
    from graph.store import OxigraphStore
    from graph.validation import validate_store

    store = OxigraphStore(BASE)
    m = Contributions(store, b"k")
    tallard = store.minter.thing("commune", "05170")
    report = Content(
        title="Horaires faux à Tallard", summary="La mairie ouvre à 9 h.", kind="", url=tallard, license=""
    )
    m.propose(report, Contributor(email="secretariat@tallard.fr"))
    conforms, text = validate_store(store)
    assert conforms, text
    work = ox.NamedNode(m.iri("guide-sans-licence"))
    store.replace_graph(
        m.public_graph(),
        [
            ox.Triple(work, ox.NamedNode(str(rdflib.RDF.type)), ox.NamedNode(SCHEMA + "CreativeWork")),
            ox.Triple(work, ox.NamedNode(SCHEMA + "name"), ox.Literal("Guide des refuges", language="fr")),
            ox.Triple(work, ox.NamedNode(str(RDFS.label)), ox.Literal("Guide des refuges", language="fr")),
        ],
    )
    conforms, text = validate_store(store)
    assert not conforms and "licence" in text, text


def test_a_full_validation_says_when_it_begins(capsys) -> None:
    """A full ``validate`` of the bundled store printed nothing for minutes: one line on stderr as it
    begins, naming how many graphs it judges."""
    from graph.store import OxigraphStore
    from graph.validation import validate_store

    store = OxigraphStore(BASE)
    label = ox.Triple(ox.NamedNode(BASE + "id/x"), ox.NamedNode(str(RDFS.label)), ox.Literal("x"))
    for name in ("a", "b"):
        store.replace_graph(store.minter.graph(name), [label])
    validate_store(store)
    assert "validation de 2 graphe(s)…" in capsys.readouterr().err
