"""The territorial reference against the real Etalab files, through SPARQL on a real store."""

from __future__ import annotations

import pyoxigraph as ox

from graph.namespaces import sparql_prefixes
from loaders.gazetteer import load_gazetteer

P = sparql_prefixes(["igeo", "dcterms", "rdfs", "cs", "schema"])


def count(store, query: str, **bindings) -> int:
    rows = store.select(P + query, {k: v for k, v in bindings.items()})
    return int(rows[0]["n"].value)


def test_current_communes_are_all_there(territory_store):
    assert count(territory_store, "SELECT (COUNT(*) AS ?n) WHERE { ?c a igeo:Commune }") == 34969
    delegated = "SELECT (COUNT(*) AS ?n) WHERE { ?c a igeo:CommuneDeleguee }"
    assert count(territory_store, delegated) == 2105


def test_every_savoie_commune_rolls_up_to_auvergne_rhone_alpes(territory_store):
    m = territory_store.minter
    savoie = ox.NamedNode(m.thing("departement", "73"))
    aura = ox.NamedNode(m.thing("region", "84"))
    in_savoie = "SELECT (COUNT(*) AS ?n) WHERE { ?c a igeo:Commune ; dcterms:isPartOf ?dep }"
    total = count(territory_store, in_savoie, dep=savoie)
    assert total > 250
    not_rolled = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?c a igeo:Commune ; dcterms:isPartOf ?dep "
        "FILTER NOT EXISTS { ?c dcterms:isPartOf+ ?region } }"
    )
    assert count(territory_store, not_rolled, dep=savoie, region=aura) == 0


def test_bourg_saint_maurice_is_in_haute_tarentaise(territory_store):
    m = territory_store.minter
    rows = territory_store.select(
        P + "SELECT ?label ?siren WHERE { ?c dcterms:isPartOf ?e . ?e a igeo:Intercommunalite ; "
        "rdfs:label ?label ; igeo:codeINSEE ?siren }",
        {"c": ox.NamedNode(m.thing("commune", "73054"))},
    )
    assert [(r["label"].value, r["siren"].value) for r in rows] == [("CC de Haute-Tarentaise", "247300254")]


def test_epci_spanning_departements_overlaps_each_and_is_part_of_none(territory_store):
    gz = load_gazetteer()
    multi = next(
        e
        for e in gz.epcis.values()
        if len({gz.communes[("commune-actuelle", c)].departement for c in e.members}) > 1
    )
    e = {"e": ox.NamedNode(territory_store.minter.thing("epci", multi.siren))}
    rows = territory_store.select(
        P + "SELECT ?d WHERE { ?e schema:geoOverlaps ?d . ?d a igeo:Departement }", e
    )
    assert len(rows) >= 2
    assert not territory_store.ask(P + "ASK { ?e dcterms:isPartOf ?d . ?d a igeo:Departement }", e)


def test_communes_carry_population_postal_codes_and_former_codes(territory_store):
    rows = territory_store.select(
        P + "SELECT ?pop ?cp ?old WHERE { ?c cs:population ?pop ; schema:postalCode ?cp ; "
        "cs:ancienCodeINSEE ?old }",
        {"c": ox.NamedNode(territory_store.minter.thing("commune", "73054"))},
    )
    assert rows and rows[0]["cp"].value == "73700" and rows[0]["old"].value == "73134"
    assert int(rows[0]["pop"].value) > 5000


def test_an_epci_s_population_is_the_sum_of_its_communes(territory_store):
    """CC du Briançonnais showed 18,947 (the EPCI list's own figure, another census year) beside its
    communes' 19,547; a département is the sum of its communes: an EPCI is too, every one of them."""
    rows = territory_store.select(
        P + "SELECT ?e ?pop (SUM(?p) AS ?sum) WHERE { ?e a igeo:Intercommunalite ; cs:population ?pop . "
        "?c dcterms:isPartOf ?e ; a igeo:Commune ; cs:population ?p } GROUP BY ?e ?pop"
    )
    assert len(rows) > 1200 and [r for r in rows if r["pop"].value != r["sum"].value] == []
    briancon = [r for r in rows if r["e"].value.endswith("/id/epci/240500439")]
    assert [int(r["pop"].value) for r in briancon] == [19547]

    # A département and a région have one too, their communes' sum: a reuser's SPARQL or data extension
    # found none (their pages added them up themselves).
    for level, cls, code in (("departement", "Departement", "05"), ("region", "Region", "93")):
        total = territory_store.select(
            P + f"SELECT (SUM(?p) AS ?sum) WHERE {{ ?c a igeo:Commune ; cs:population ?p ; "
            f"dcterms:isPartOf+ ?t . ?t a igeo:{cls} }}",
            {"t": ox.NamedNode(territory_store.minter.thing(level, code))},
        )[0]["sum"]
        said = territory_store.select(
            P + "SELECT ?pop WHERE { ?t cs:population ?pop }",
            {"t": ox.NamedNode(territory_store.minter.thing(level, code))},
        )
        assert [r["pop"].value for r in said] == [total.value] and int(total.value) > 100_000

    gz = load_gazetteer()
    delegated = next(c for (kind, _), c in gz.communes.items() if kind == "commune-deleguee")
    assert gz.current_commune(delegated.code) is not None
    assert gz.current_commune("73134").code == "73054"  # merged former code
    assert gz.current_commune("99999") is None
