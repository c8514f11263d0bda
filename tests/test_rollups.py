"""Strict territorial roll-ups over the whole country: what ``isPartOf*`` counts must equal what each
commune's own codes count (Etalab gazetteer, read here without the graph), for every département and région.

One store per module: the territorial reference, both bundled lists of places, the catalogue and the report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import load_bundled_places, load_reference

from api import cards
from graph import named_queries as nq
from graph import search
from graph.matching import read_index
from graph.namespaces import Minter, sparql_prefixes
from graph.store import OxigraphStore
from graph.validation import validate_graph
from loaders import catalogue, report
from loaders.gazetteer import load_gazetteer
from loaders.mentions import resolver

DATA = Path(__file__).resolve().parent.parent / "data"
P = sparql_prefixes(["igeo", "dcterms", "rdfs", "cs", "schema", "skos"])
CHARTREUSE = "200040111"  # CC Cœur de Chartreuse, Isère and Savoie


@pytest.fixture(scope="module")
def store(base_iri: str, territory_triples: list) -> OxigraphStore:
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    load_bundled_places(store)
    for result in (
        catalogue.build(DATA / "seeds" / "adrets-catalogue-projets.txt", store.minter),
        report.build(DATA / "seeds" / "adrets-web-atelier-1-compte-rendu.txt", store.minter),
    ):
        for load in result.graphs:
            store.replace_graph(load.graph, load.triples, load.meta)
    return store


def within(store: OxigraphStore) -> dict[str, tuple[set[str], set[str]]]:
    """Territory IRI → (départements, régions) it lies wholly in, from the gazetteer and alias table only."""
    gz = load_gazetteer()
    m = store.minter
    found: dict[str, tuple[set[str], set[str]]] = {}

    def add(iri: str, deps: set[str]) -> None:
        regions = {gz.departements[d].region for d in deps}
        found[iri] = (deps if len(deps) == 1 else set(), regions if len(regions) == 1 else set())

    for (kind, code), c in gz.communes.items():
        if kind == "commune-actuelle":
            add(m.thing("commune", code), {c.departement})
    for e in gz.epcis.values():
        add(m.thing("epci", e.siren), {gz.communes[("commune-actuelle", c)].departement for c in e.members})
    for d in gz.departements.values():
        add(m.thing("departement", d.code), {d.code})
    for r in gz.regions.values():
        found[m.thing("region", r.code)] = (set(), {r.code})
    for slug, zone in resolver().zones.items():
        if zone.part_of:
            add(m.thing("territoire", slug), set(zone.part_of))
    return found


def counted_by_codes(store: OxigraphStore, cls: str) -> tuple[Counter, Counter]:
    inside = within(store)
    deps: dict[str, set[str]] = defaultdict(set)
    regions: dict[str, set[str]] = defaultdict(set)
    rows = store.select(P + f"SELECT DISTINCT ?x ?t WHERE {{ ?x a {cls} ; dcterms:spatial ?t }}")
    for row in rows:
        d, r = inside.get(row["t"].value, (set(), set()))
        for code in d:
            deps[code].add(row["x"].value)
        for code in r:
            regions[code].add(row["x"].value)
    return Counter({k: len(v) for k, v in deps.items()}), Counter({k: len(v) for k, v in regions.items()})


def counted_by_is_part_of(store: OxigraphStore, cls: str, level: str) -> Counter:
    rows = store.select(
        P + f"SELECT ?code (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a {cls} ; "
        f"dcterms:spatial/dcterms:isPartOf* ?t . ?t a {level} ; igeo:codeINSEE ?code }} GROUP BY ?code"
    )
    return Counter({row["code"].value: int(row["n"].value) for row in rows})


@pytest.mark.parametrize("cls", ["schema:Place", "schema:Project"])
def test_every_departement_and_region_counts_the_same_both_ways(store: OxigraphStore, cls: str) -> None:
    by_deps, by_regions = counted_by_codes(store, cls)
    assert counted_by_is_part_of(store, cls, "igeo:Departement") == by_deps
    assert counted_by_is_part_of(store, cls, "igeo:Region") == by_regions
    assert len(by_deps) > (60 if cls == "schema:Place" else 2), by_deps  # the check ran on real counts


def test_savoie_counts_the_31_france_services_of_the_file(store: OxigraphStore) -> None:
    rows = store.select(
        P + "SELECT (COUNT(DISTINCT ?place) AS ?n) WHERE { ?place cs:network ?net ; "
        "dcterms:spatial/dcterms:isPartOf* ?savoie . ?net skos:prefLabel 'France Services'@fr }",
        {"savoie": ox.NamedNode(store.minter.thing("departement", "73"))},
    )
    assert int(rows[0]["n"].value) == 31  # was 33: two Isère places of the CC Cœur de Chartreuse leaked in


def test_from_every_commune_is_part_of_reaches_its_own_departement_and_region_only(
    base_iri: str, territory_triples: list
) -> None:
    """Walked in Python over the triples: 35,000 communes in well under a second."""
    gz = load_gazetteer()
    m = Minter(base_iri)
    up: dict[str, list[str]] = defaultdict(list)
    for t in territory_triples:
        if t.predicate.value == "http://purl.org/dc/terms/isPartOf":
            up[t.subject.value].append(t.object.value)
    reached: dict[str, set[str]] = {}

    def closure(node: str) -> set[str]:
        if node not in reached:
            reached[node] = {node}.union(*(closure(p) for p in up.get(node, ())))
        return reached[node]

    wrong, checked = [], 0
    for (kind, code), c in gz.communes.items():
        if kind == "commune-actuelle":
            above = closure(m.thing("commune", code))
            levels = {
                "/departement/": m.thing("departement", c.departement),
                "/region/": m.thing("region", c.region),
            }
            for marker, own in levels.items():
                if {p for p in above if marker in p} != {own}:
                    wrong.append(code)
            checked += 1
    assert checked > 34000 and wrong == []


def test_a_straddling_epci_overlaps_its_departements_and_shapes_accept_it(store: OxigraphStore) -> None:
    m = store.minter
    epci = ox.NamedNode(m.thing("epci", CHARTREUSE))
    rows = store.select(P + "SELECT ?p ?o WHERE { ?e ?p ?o FILTER(isIRI(?o)) }", {"e": epci})
    edges = {(r["p"].value.rsplit("/", 1)[-1], r["o"].value.removeprefix(m.base)) for r in rows}
    assert {("geoOverlaps", "id/departement/38"), ("geoOverlaps", "id/departement/73")} <= edges
    assert ("isPartOf", "id/region/84") in edges  # both départements lie in Auvergne-Rhône-Alpes
    assert not any(p == "isPartOf" and o.startswith("id/departement/") for p, o in edges)
    member = ox.NamedNode(m.thing("commune", "38412"))  # Saint-Laurent-du-Pont: still a member of its EPCI
    assert store.ask(P + "ASK { ?c dcterms:isPartOf ?e }", {"c": member, "e": epci})
    haute_tarentaise = ox.NamedNode(m.thing("epci", "247300254"))
    savoie = ox.NamedNode(m.thing("departement", "73"))
    assert store.ask(P + "ASK { ?e dcterms:isPartOf ?d }", {"e": haute_tarentaise, "d": savoie})
    igeo = "http://rdf.insee.fr/def/geo#"
    lines = [
        f"{q.triple} ."
        for e in (epci, haute_tarentaise)
        for q in store.oxigraph.quads_for_pattern(e, None, None)
    ]
    lines += [f"<{m.thing('departement', d)}> a <{igeo}Departement> ." for d in ("38", "73")]
    lines += [f"<{m.thing('region', '84')}> a <{igeo}Region> ."]
    data = rdflib.Graph().parse(data="\n".join(lines), format="turtle")
    conforms, _, text = validate_graph(data, m.base, focus_nodes=[epci.value, haute_tarentaise.value])
    assert conforms, text[:2000]


# The pattern README (Territorial roll-ups) documents: what a territory page counts, list by list.
ROLLUP = (
    "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ VALUES ?class {{ {classes} }} ?x a ?class ; "
    "(dcterms:spatial|schema:location|schema:areaServed)/(dcterms:isPartOf|^cs:covers)* ?t }}"
)


@pytest.fixture(scope="module")
def cat(store: OxigraphStore) -> search.Catalog:
    return search.Catalog(store)


def test_a_territory_page_counts_what_the_documented_sparql_counts(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """A commune, an EPCI, a département, a région and an informal area: each list's figure on the page
    (the index's roll-up) is the documented pattern's count. Grand Briançonnais showed 9 places where
    ``dcterms:spatial/dcterms:isPartOf*`` gave 0; the région missed an event located (schema:location) in
    Oisans."""
    m, names, queries = store.minter, read_index(store), nq.load_all()
    territories = [
        m.thing("commune", "05023"),
        m.thing("epci", "240500439"),
        m.thing("departement", "05"),
        m.thing("region", "84"),
        m.thing("territoire", "grand-brianconnais"),
    ]
    for t in territories:
        shown = cat.rollups(t, "fr", 1)
        for kind in search.ROLLUP_KINDS:
            classes = " ".join(f"<{c}>" for c in search.LISTS[kind].classes)
            rows = store.select(P + ROLLUP.format(classes=classes), {"t": ox.NamedNode(t)})
            assert int(rows[0]["n"].value) == shown[kind][0], (t, kind)
        for name, kind, column in (
            ("projets-territoire", "projets", "projet"),
            ("lieux-territoire", "lieux", "lieu"),
            ("annuaire-lieux", "lieux", "lieu"),
        ):
            q = queries[name]
            rows = store.select(q.sparql, nq.bindings(q, {"territoire": t}, m, names))
            assert len({r[column].value for r in rows}) == shown[kind][0], (t, name)
        q = queries["territoire-parents"]
        parents = {
            r["parent"].value for r in store.select(q.sparql, nq.bindings(q, {"territoire": t}, m, names))
        }
        assert parents == cat.closure(t) - {t}, t  # the page's « Fait partie de »
    area = cat.rollups(m.thing("territoire", "grand-brianconnais"), "fr", 1)
    assert area["lieux"][0] >= 9 and area["projets"][0] >= 4  # the check ran on real counts
    assert cat.rollups(m.thing("region", "84"), "fr", 1)["evenements"][0] >= 2
    assert m.thing("territoire", "grand-brianconnais") in cat.closure(m.thing("commune", "05023"))


def test_an_informal_area_holds_the_places_of_the_units_it_covers(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """12 of the 18 areas the sources name covered no commune: /id/territoire/queyras showed « 0 lieu de
    services » and lieux-territoire and annuaire-lieux answered [] for territoire/queyras, though France
    services Queyras is at Aiguilles. Each covers the communes or EPCI of its definition (the notes of
    data/aliases/territoires.csv): its page and both queries list the desks there, the same count."""
    m, names, queries = store.minter, read_index(store), nq.load_all()
    wanted = {
        "queyras": {("France services Queyras", "Aiguilles")},
        "champsaur": {("France services du Champsaur-Valgaudemar", "Saint-Bonnet-en-Champsaur")},
        "gapencais": {("France services Gap", "Gap"), ("France services de Tallard", "Tallard")},
        "alpes-sud-isere": {("France services La Matheysine", "La Mure"), ("France services Mens", "Mens")},
        "bauges": {("France services Le Châtelard", "Le Châtelard")},
        "chablais": {("France services Haut-Chablais", "Montriond")},
        "mont-blanc": {("France services Vallée de Chamonix Mont Blanc", "Chamonix-Mont-Blanc")},
        "vallee-de-l-arve": {("France services Cluses et environs", "Cluses")},
    }
    for slug, desks in wanted.items():
        area = m.thing("territoire", slug)
        count = cat.rollups(area, "fr", 1)["lieux"][0]
        for name in ("lieux-territoire", "annuaire-lieux"):
            q = queries[name]
            rows = store.select(q.sparql, nq.bindings(q, {"territoire": f"territoire/{slug}"}, m, names))
            found = {(r["nom"].value, r["communeNom"].value) for r in rows}
            assert desks <= found, (slug, name, sorted(found))
            assert len({r["lieu"].value for r in rows}) == count, (slug, name)
    # Gap's four desks, the place the tester counted
    gap = cat.rollup_iris(m.thing("territoire", "gapencais"), "lieux")
    assert len(set(gap) & set(cat.rollup_iris(m.thing("commune", "05061"), "lieux"))) >= 4


def test_an_informal_area_s_page_gives_the_population_of_what_it_covers(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """/id/territoire/grand-brianconnais showed no population though it covers three EPCI whose
    populations are known; Queyras showed neither population, communes nor map. An area's population is
    the sum over the units it covers, its page lists them and draws its départements."""
    m = store.minter
    area = cat.territories[m.thing("territoire", "grand-brianconnais")]
    epcis = [m.thing("epci", siren) for siren in ("240500439", "200067452", "240500462")]
    card = cards.territory_card(store, cat, area, "fr", 1)
    assert card.figures.population == sum(cat.territories[e].population or 0 for e in epcis) > 30_000
    assert len(card.epcis) == 3 and card.map is not None and card.figures.places_per_10k
    queyras = cat.territories[m.thing("territoire", "queyras")]
    card = cards.territory_card(store, cat, queyras, "fr", 1)
    communes = [c for c in cat.children[queyras.iri] if cat.territories[c].level == "commune"]
    assert card.figures.population == sum(cat.territories[c].population or 0 for c in communes) > 1_000
    assert card.communes_count == 7 and "Aiguilles" in {c.label for c in card.communes}
    assert card.map is not None and card.figures.places == 1
    # An area over two départements (Bauges: 73 and 74, only geoOverlaps them) is drawn on both.
    assert cards._departements(cat, [m.thing("territoire", "bauges")]) == ["73", "74"]


def test_a_search_of_what_and_where_finds_the_places_there(store: OxigraphStore, cat: search.Catalog) -> None:
    """« tiers-lieu Gap », « France services Hautes-Alpes » found nothing: no text of a place names its
    network nor its territories (a search ending with a département's name only suggested a filter). They
    are its context now: the tiers-lieux of Gap, the list's France Services of the Hautes-Alpes (not those
    of the CC Hautes Terres in Auvergne-Rhône-Alpes: a hyphenated name is a phrase)."""
    m = store.minter

    def places(text: str) -> set[str]:
        total, hits, _, _ = cat.search(text, ["lieux"], {}, 0, 500)
        assert total == len(hits)
        return {it.iri for it, _ in hits}

    def listed(**facets: str) -> set[str]:
        return {it.iri for it in cat.page("lieux", {k: [v] for k, v in facets.items()}, "", "fr", 0, 5000)[1]}

    in_gap = set(cat.rollup_iris(m.thing("commune", "05061"), "lieux"))
    assert places("tiers-lieu Gap") == in_gap & listed(reseau="tiers-lieux") and len(in_gap) > 3
    assert len(places("tiers-lieu Gap")) == 3
    found = places("France services Hautes-Alpes")
    assert found == listed(reseau="france-services", departement="05") and len(found) == 21
    every = cat.search("tiers-lieu", ["lieux"], {}, 0, 1)[0]  # the network's, and two other places saying so
    assert every == len(listed(reseau="tiers-lieux")) + 2 == 1514


def test_a_departement_s_code_finds_what_its_name_finds(store: OxigraphStore, cat: search.Catalog) -> None:
    """« France services 05 » found 69 desks, « France services Hautes-Alpes » 24: « 05 » was also the
    first word of phone numbers in the comments of desks of the South-West."""

    def found(text: str) -> list[str]:
        return [it.iri for it, _ in cat.search(text, [], {}, 0, 500)[1]]

    assert found("France services 05") == found("France services Hautes-Alpes")
    assert found("tiers-lieu 05") == found("tiers-lieu Hautes-Alpes")
    # Alone, as typed in the search box: « 05 » found « Le Numéro Cinq » first (a spelling of « 05 »).
    m = store.minter
    for code, name in [("05", "Hautes-Alpes"), ("73", "Savoie"), ("2A", "Corse-du-Sud"), ("974", "")]:
        alone = found(code)  # « La Réunion » also names the région: the code, the département only
        assert alone[0] == m.thing("departement", code) and (not name or alone == found(name)), code
    for number in ("05000", "00", "99", "2"):  # a postal code, numbers that are no code: words
        assert cat.places_named(number) == ([number], []), number


def test_a_postal_code_finds_the_communes_it_serves_and_the_places_whose_address_has_it(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """A blind tester typed « 05000 », Gap's postal code, and got nothing, though the desks and tiers-lieux
    of Gap carry it on their address. It finds the communes the reference says it serves, first, then what
    has it on its address (as SPARQL reads it); every match counted, per kind too; beside « Gap », what is
    there; « 75011 » finds the places of the 11th arrondissement, not all of Paris."""
    m, gz = store.minter, load_gazetteer()

    def addressed(code: str) -> set[str]:
        query = P + "SELECT ?x WHERE { ?x schema:address/schema:postalCode ?code }"
        return {r["x"].value for r in store.select(query, {"code": ox.Literal(code)})}

    def search_of(text: str) -> tuple[list[str], list[tuple[str, int]]]:
        total, hits, by_kind, _ = cat.search(text, [], {}, 0, 500)
        assert total == len(hits) == sum(c for _, c in by_kind), text
        return [it.iri for it, _ in hits], by_kind

    served = {m.thing("commune", c.code) for c in gz.by_postal_code["05000"]}
    found, by_kind = search_of("05000")
    assert set(found[: len(served)]) == served and len(served) == 8
    assert set(found[len(served) :]) == addressed("05000") and len(addressed("05000")) == 4
    assert dict(by_kind) == {"territoires": 8, "lieux": 4}
    gap = m.thing("commune", "05061")
    in_gap = set(cat.rollup_iris(gap, "lieux"))
    there = search_of("05000 Gap")[0]
    assert there == search_of("gap 05000")[0] and there[0] == gap
    assert set(there[1:]) == addressed("05000") & in_gap and len(there) > 2
    paris = search_of("75011")[0]
    assert paris[0] == m.thing("commune", "75056") and set(paris[1:]) == addressed("75011")
    assert len(paris) < len(cat.rollup_iris(m.thing("commune", "75056"), "lieux"))


def test_a_search_naming_a_territory_finds_what_lies_within_it_first(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """A territory's name was a prefix word of the places' context: « tiers-lieu Savoie » brought FABLAB74
    and FabLac of Haute-Savoie, « France services Indre » those of Indre-et-Loire, « Gap » the commune
    Gapennes and the CC de la Vallée du Gapeau, and « coworking Lyon » ranked the Métropole de Lyon's places
    (Villeurbanne's CCO) among Lyon's. Words naming a territory select it: what lies within it comes first."""
    m = store.minter

    def places(text: str) -> list[str]:
        return [it.iri for it, _ in cat.search(text, ["lieux"], {}, 0, 500)[1]]

    def within(level: str, code: str) -> set[str]:
        return set(cat.rollup_iris(m.thing(level, code), "lieux"))

    only_74 = within("departement", "74") - within("departement", "73")
    savoie, indre = places("tiers-lieu Savoie"), places("France services Indre")
    assert savoie and not set(savoie) & only_74
    assert indre and not set(indre) & within("departement", "37")
    in_lyon = [iri in within("commune", "69123") for iri in places("coworking Lyon")]
    assert in_lyon == sorted(in_lyon, reverse=True) and in_lyon.count(True) > 5
    gap = [cat.label(it.iri) for it, _ in cat.search("Gap", [], {}, 0, 500)[1]]
    assert gap[0] == "Gap" and not {"Gapennes", "CC de la Vallée du Gapeau"} & set(gap)


def test_a_search_of_a_territory_s_name_lists_it_then_what_is_there_then_its_parts(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """« Savoie » listed the département, then 21 of its communes before the first of its places (Elefab),
    shortest labels first; « Auvergne-Rhône-Alpes » filled its 2,000 ranked matches with communes and places
    mixed. Now the territory, every place, project, actor, event and resource within it, then the
    territories within it."""
    m = store.minter
    for level, code, text in (
        ("departement", "73", "Savoie"),
        ("departement", "05", "Hautes-Alpes"),
        ("region", "84", "Auvergne-Rhône-Alpes"),
    ):
        hits = [it for it, _ in cat.search(text, [], {}, 0, 2000)[1]]
        there = sum(n for n, _, _ in cat.rollups(m.thing(level, code), "fr", 0).values())
        assert hits[0].iri == m.thing(level, code) and there > 40, text
        assert all(it.kind != "territoires" for it in hits[1 : there + 1]), text
        assert hits[there + 1].kind == "territoires", text


def test_a_territory_s_name_is_not_found_in_the_longer_names_holding_it(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """« France services Loire » listed those of Meung-sur-Loire, Chalonnes-sur-Loire… (Loiret,
    Maine-et-Loire), « Saint-Martin » the France Services of Saint-Martin-de-Ré and the communes
    Saint-Martin-…: the name was found as words of their labels. Those are other territories' names; what
    the département Loire and the communes named Loire or Saint-Martin hold, and the texts saying the name
    itself, are still found."""
    m = store.minter

    def labels(text: str) -> set[str]:
        return {cat.label(it.iri) for it, _ in cat.search(text, [], {}, 0, 2000)[1]}

    loire = labels("France services Loire")
    assert not {"France services Meung-sur-Loire", "France services Chalonnes-sur-Loire"} & loire
    in_42 = {cat.label(iri) for iri in cat.rollup_iris(m.thing("departement", "42"), "lieux")}
    assert {label for label in in_42 if label.startswith("France services")} <= loire and loire & in_42
    martin = labels("Saint-Martin")
    assert (
        "France services La Poste de Saint-Martin-de-Ré" not in martin and "Saint-Martin-de-Ré" not in martin
    )
    assert "Le 10h10 Saint-Martin" in martin and "Saint-Martin" in martin


def test_a_territory_holding_the_one_named_is_found_after_what_lies_there(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """« Lyon » lost the Métropole de Lyon when a territory's name stopped being found in longer names: it
    holds Lyon, and comes after the commune and what lies there; the communes whose names merely hold
    « Lyon » (Sainte-Foy-lès-Lyon, Chazelles-sur-Lyon) stay out."""
    m = store.minter
    hits = [it for it, _ in cat.search("Lyon", [], {}, 0, 2000)[1]]
    iris = [it.iri for it in hits]
    there = len(cat.rollup_iris(m.thing("commune", "69123"), "lieux"))
    assert iris[0] == m.thing("commune", "69123") and iris.index(m.thing("epci", "200046977")) > there
    assert not {"Sainte-Foy-lès-Lyon", "Chazelles-sur-Lyon"} & {cat.label(iri) for iri in iris}


def test_a_search_names_an_epci_as_people_write_it(store: OxigraphStore, cat: search.Catalog) -> None:
    """« France services communauté de communes Briançonnais » found nothing (the EPCI is « CC du
    Briançonnais »): the same places as its name now."""

    def places(text: str) -> set[str]:
        return {it.iri for it, _ in cat.search(text, ["lieux"], {}, 0, 500)[1]}

    those = places("France services CC du Briançonnais")
    assert those and all(
        places(f"France services {said}") == those
        for said in (
            "CC Briançonnais",
            "communauté de communes Briançonnais",
            "communauté de communes du Briançonnais",
        )
    )


def test_a_search_knows_the_names_people_give_networks_and_typologies(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """« MFS Hautes-Alpes » found nothing (no text says « MFS » for Maison France Services), « fab lab » only
    the fablabs whose own texts had a word beginning with « lab »: the vocabularies' alternate labels, which
    a place's context holds, now say them."""

    def places(text: str) -> set[str]:
        return {it.iri for it, _ in cat.search(text, ["lieux"], {}, 0, 500)[1]}

    assert places("MFS Hautes-Alpes") == places("France services Hautes-Alpes") != set()
    # The name the desks had before 2020, written out: found nothing in Gap
    assert places("maison de services au public Gap") == places("MSAP Gap") != set()
    fablabs = {it.iri for it in cat.page("lieux", {"typologie": ["tiers-lieu-fablab"]}, "", "fr", 0, 500)[1]}
    assert fablabs and places("fab lab") >= fablabs


def test_a_search_finding_few_offers_the_same_without_a_generic_word(
    store: OxigraphStore, cat: search.Catalog
) -> None:
    """« espace de coworking Lille » found one place, ESPACE FLANDRE (the one of Lille's coworking places
    whose texts say « espace »), and offered nothing, where « coworking Lille » finds 23: a wider search was
    offered only to a search finding nothing. A search finding few offers the same without one of its words,
    the first first, when that finds at least three times as many and five, with the same kinds and facets;
    it keeps the territories named and a word besides them (« coworking Gap » does not become all of Gap, nor
    « coworking » all of France), and a search finding enough is not widened."""
    total, hits, _, _ = cat.search("espace de coworking Lille", [], {}, 0, 10)
    assert total == 1 and [cat.label(it.iri) for it, _ in hits] == ["ESPACE FLANDRE"]
    lille = cat.search("coworking Lille", [], {}, 0, 1)[0]
    assert lille == 23 and cat.fewer_words("espace de coworking Lille", [], {}, 1) == ("coworking Lille", 23)
    in_59 = cat.search("coworking Lille", ["lieux"], {"departement": ["59"]}, 0, 1)[0]
    wider = cat.fewer_words("espace de coworking Lille", ["lieux"], {"departement": ["59"]}, 1)
    assert wider == ("coworking Lille", in_59) and in_59 >= 5
    assert cat.search("coworking Gap", [], {}, 0, 1)[0] == 2 and cat.search("coworking", [], {}, 0, 1)[0] > 6
    assert cat.fewer_words("coworking Gap", [], {}, 2) is None
    assert (
        cat.fewer_words("France services Lot", [], {}, cat.search("France services Lot", [], {}, 0, 1)[0])
        is None
    )
