"""The browsing index is kept on disk beside the store and follows its writes graph by graph: a write
re-reads the items of the graph it changed, a restart after an offline import catches up without a full
rebuild, and a process killed in the middle of an update leaves the old version, whole."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from api import cards
from graph import search
from graph.store import GraphMeta, OxigraphStore

BASE = "https://data.adrets-asso.fr/"
PREFIXES = f"""@prefix schema: <http://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix igeo: <http://rdf.insee.fr/def/geo#> .
@prefix region: <{BASE}id/region/> . @prefix dep: <{BASE}id/departement/> .
@prefix commune: <{BASE}id/commune/> . @prefix projet: <{BASE}id/projet/> . @prefix epci: <{BASE}id/epci/> .
"""
TERRITORIES = """
region:84 a igeo:Region ; rdfs:label "Auvergne-Rhône-Alpes"@fr ; igeo:codeINSEE "84" .
dep:73 a igeo:Departement ; rdfs:label "Savoie"@fr ; igeo:codeINSEE "73" ;
  dcterms:isPartOf region:84 .
commune:73054 a igeo:Commune ; rdfs:label "Bourg-Saint-Maurice"@fr ; igeo:codeINSEE "73054" ;
  dcterms:isPartOf dep:73 .
"""


def project(key: str, label: str, text: str = "", where: str = "commune:73054") -> str:
    return (
        f'projet:{key} a schema:Project ; rdfs:label "{label}"@fr ; schema:description "{text or label}"@fr ;'
        f" dcterms:spatial {where} .\n"
    )


def triples(ttl: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse((PREFIXES + ttl).encode(), ox.RdfFormat.TURTLE)]


def write(store: OxigraphStore, name: str, ttl: str) -> None:
    store.replace_graph(BASE + "graph/" + name, triples(ttl), GraphMeta(name, f"{name}.ttl"))


def labels(cat: search.Catalog, kind: str = "projets") -> set[str]:
    return {cat.label(item.iri) for item in cat.page(kind, {}, "", "fr", 0, 1000)[1]}


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    """On disk, as a server's: its index file lives beside it."""
    store = OxigraphStore(BASE, tmp_path / "store")
    write(store, "territoires", TERRITORIES)
    write(store, "catalogue", "".join(project(f"p{i}", f"Projet {i}") for i in range(20)))
    write(store, "saison", project("tremplin", "Tremplin Saison", "Accueil des saisonniers"))
    return store


def test_a_full_build_of_a_store_on_disk_runs_in_a_child_process(store: OxigraphStore) -> None:
    """A full build reads every item: in a thread of the serving process it would hold the GIL as long.
    Here it read none (the child did, on a copy); the file it wrote is what a build in memory gives."""
    search.stats.clear()
    cat = search.Catalog(store)
    assert search.stats == {"full_builds": 1} and cat.version == store.version and cat.ready.is_set()
    assert not any(store.path.with_name("store.copies").iterdir())  # its copy of the store deleted
    memory = OxigraphStore(BASE)
    for graph in (BASE + "graph/territoires", BASE + "graph/catalogue", BASE + "graph/saison"):
        memory.replace_graph(graph, [q.triple for q in store.quads(graph)], GraphMeta("t", "t.ttl"))
    here = search.Catalog(memory)
    assert search.stats["items_read"] > 0  # a store in memory gives no copy: built here
    assert labels(cat) == labels(here) and len(labels(cat)) == 21
    assert cat.rollups(BASE + "id/departement/73", "fr", 30)["projets"][0] == 21
    assert cat.search("saisonniers", [], {}, 0, 10)[0] == here.search("saisonniers", [], {}, 0, 10)[0] == 1
    assert cat.territories.keys() == here.territories.keys() and cat.triples == store.count()


def test_a_write_to_one_graph_rereads_only_the_items_it_touches(store: OxigraphStore) -> None:
    cat = search.Catalog(store)
    assert cat.path == store.path.with_name("store.index.sqlite") and cat.version == store.version
    assert len(labels(cat)) == 21 and cat.rollups(BASE + "id/departement/73", "fr", 30)["projets"][0] == 21
    search.stats.clear()
    write(store, "saison", project("tremplin", "Tremplin Hiver", "Accueil des travailleurs mobiles"))
    cat.refresh(store)
    assert search.stats == {"updates": 1, "items_read": 1}  # the one project of that graph, not 21
    assert cat.version == store.version
    assert "Tremplin Hiver" in labels(cat) and "Tremplin Saison" not in labels(cat)
    assert cat.search("saisonniers", [], {}, 0, 10)[0] == 0
    total, found, by_kind, counts = cat.search("travailleurs mobiles", [], {"departement": ["73"]}, 0, 10)
    assert total == 1 and found[0][0].iri == BASE + "id/projet/tremplin" and "<mark>" in found[0][1].html()
    assert by_kind == [("projets", 1)] and counts["departement"] == [(BASE + "id/departement/73", 1)]
    assert cat.facet_counts("projets", {}, "departement", 10) == [("73", 21, BASE + "id/departement/73")]
    saison = ox.NamedNode(BASE + "graph/saison")
    store.update(f"DROP GRAPH {saison} ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ {saison} ?p ?o }} }}")
    cat.refresh(store)
    assert len(labels(cat)) == 20 and search.stats["full_builds"] == 0


def test_a_sparql_update_names_the_graphs_the_index_rereads(store: OxigraphStore) -> None:
    """An update (the endpoint's, a moderator's edit) keeps its graph's triple count and may land within
    the metadata's second: the store names its graphs, so the index does not depend on a fingerprint."""
    cat = search.Catalog(store)
    search.stats.clear()
    store.update(
        f"""DELETE DATA {{ GRAPH <{BASE}graph/saison> {{ <{BASE}id/projet/tremplin>
              <http://www.w3.org/2000/01/rdf-schema#label> "Tremplin Saison"@fr }} }} ;
            INSERT DATA {{ GRAPH <{BASE}graph/saison> {{ <{BASE}id/projet/tremplin>
              <http://www.w3.org/2000/01/rdf-schema#label> "Tremplin Été"@fr }} }}"""
    )
    cat.refresh(store)
    assert "Tremplin Été" in labels(cat) and "Tremplin Saison" not in labels(cat)
    assert search.stats.get("full_builds", 0) == 0 and search.stats["items_read"] == 1


def test_a_restart_after_an_offline_import_catches_up(store: OxigraphStore) -> None:
    search.Catalog(store).close()
    old = store.version
    write(store, "evenements", project("forum", "Forum des saisonniers"))  # the CLI: no index open
    path = store.path
    store.close()
    store = OxigraphStore(BASE, path)
    search.stats.clear()
    cat = search.Catalog(store, build=False)
    assert cat.ready.is_set() and cat.version == old  # served at once, as it was
    assert "Forum des saisonniers" not in labels(cat)
    cat.refresh(store)
    assert cat.version == store.version and "Forum des saisonniers" in labels(cat)
    assert search.stats == {"updates": 1, "items_read": 1}


CRASH = """
import os, signal, sys
from graph import search
from graph.store import OxigraphStore
sys.path.insert(0, {tests!r})
from test_index import BASE, project, write

store = OxigraphStore(BASE, {path!r})
write(store, "saison", project("tremplin", "Tremplin Hiver"))
insert = search.Catalog._insert

def insert_then_die(self, items):
    insert(self, items)  # written, not committed
    os.kill(os.getpid(), signal.SIGKILL)

search.Catalog._insert = insert_then_die
search.Catalog(store)
"""


def test_a_process_killed_during_an_update_leaves_the_old_version(store: OxigraphStore) -> None:
    search.Catalog(store).close()
    old, path = store.version, store.path
    store.close()
    script = CRASH.format(tests=str(Path(__file__).parent), path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    store = OxigraphStore(BASE, path)
    assert store.version == old + 1  # the store's write went through; the index's did not
    cat = search.Catalog(store, build=False)
    assert cat.version == old and len(labels(cat)) == 21 and "Tremplin Saison" in labels(cat)
    assert cat.search("tremplin", [], {}, 0, 10)[0] == 1
    cat.refresh(store)
    assert cat.version == store.version and "Tremplin Hiver" in labels(cat) and len(labels(cat)) == 21


def test_an_index_of_another_layout_is_built_again(
    store: OxigraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    """After an upgrade that changes the index's tables (or a change of base IRI), the old file is
    dropped and built again from the store, never read as if it were of this layout; the server's log
    says so when it starts, not only once the build is over (pages waited 30 s, the log silent)."""
    search.Catalog(store).close()
    path = store.path.with_name(store.path.name + ".index.sqlite")
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE state SET value = 'ancien' WHERE name = 'schema'")
        db.execute("DELETE FROM item")  # what an old layout held is not read
    db.close()
    search.stats.clear()
    caplog.set_level(logging.INFO, logger="graph")
    cat = search.Catalog(store, build=False)
    assert not cat.ready.is_set() and cat.version is None
    assert [r.getMessage() for r in caplog.records] == [
        f"index d'une version antérieure ({path}) : reconstruction…"
    ]
    cat.refresh(store)
    assert len(labels(cat)) == 21 and search.stats["full_builds"] == 1


def test_a_facets_counts_are_what_ticking_its_values_gives(store: OxigraphStore) -> None:
    """Values of one facet are alternatives (OR), facets combine with AND: a facet's counts apply the other
    facets' choices and not its own, so that an unticked value's count is the total its ticking gives."""
    theme, public = f"{BASE}id/theme/", f"{BASE}id/public/"
    ttl = "".join(
        f"projet:{key} a schema:Project ; rdfs:label {key!r} ; dcterms:subject {themes} ;"
        f" schema:audience <{public}{audience}> .\n"
        for key, themes, audience in [
            ("a", f"<{theme}mobilite>, <{theme}numerique>", "jeunes"),
            ("b", f"<{theme}mobilite>", "aines"),
            ("c", f"<{theme}numerique>", "jeunes"),
            ("d", f"<{theme}sante>", "jeunes"),
        ]
    ).replace("'", '"')
    write(store, "facettes", ttl)
    cat = search.Catalog(store)

    def counts(selected: dict[str, list[str]], facet: str) -> dict[str, int]:
        return {key: c for key, c, _ in cat.facet_counts("projets", selected, facet, 10)}

    assert counts({"theme": ["mobilite"]}, "theme") == {"mobilite": 2, "numerique": 2, "sante": 1}
    assert counts({"theme": ["mobilite"]}, "public") == {"jeunes": 1, "aines": 1}
    for selected in ({"theme": ["mobilite"], "public": ["jeunes"]}, {"theme": ["numerique", "sante"]}):
        for facet in ("theme", "public"):
            for key, c in counts(selected, facet).items():
                alone = {**selected, facet: [key]}  # ticked alone in its facet: the count is its share
                assert cat.page("projets", alone, "", "fr", 0, 10)[0] == c, (selected, facet, key)
    assert counts({"theme": ["mobilite"], "public": ["jeunes"]}, "theme") == {
        "mobilite": 1,
        "numerique": 2,
        "sante": 1,
    }
    # Ticking a second value of a facet gives the union of both.
    assert cat.page("projets", {"theme": ["mobilite", "numerique"]}, "", "fr", 0, 10)[0] == 3


def test_lists_sort_by_label_whatever_its_accents(store: OxigraphStore) -> None:
    """French order: É with E, not after Z (the sort key was the lower-cased label)."""
    names = ["Éducation populaire", "Diagnostic territorial", "Démarche Smart Villages", "Fête", "Eau"]
    write(store, "accents", "".join(project(f"a{i}", name) for i, name in enumerate(names)))
    cat = search.Catalog(store)
    shown = [
        cat.label(it.iri) for it in cat.page("projets", {}, "", "fr", 0, 100)[1] if "/projet/a" in it.iri
    ]
    assert shown == [
        "Démarche Smart Villages",
        "Diagnostic territorial",
        "Eau",
        "Éducation populaire",
        "Fête",
    ]


def test_lists_sort_and_search_oe_and_ae_as_spelt_out(store: OxigraphStore) -> None:
    """NFKD leaves « œ » and « æ » whole: « Bœrsch » sorted after « Byans », and « coeur » did not find
    « Cœur »."""
    names = ["Byans", "Bœrsch", "Boz", "Cæsar", "Cb"]
    write(store, "ligatures", "".join(project(f"l{i}", name) for i, name in enumerate(names)))
    write(store, "coeur", project("coeur", "France services Cœur du Perche"))
    cat = search.Catalog(store)
    shown = [
        cat.label(it.iri) for it in cat.page("projets", {}, "", "fr", 0, 100)[1] if "/projet/l" in it.iri
    ]
    assert shown == ["Bœrsch", "Boz", "Byans", "Cæsar", "Cb"]
    assert found(cat, "coeur") == found(cat, "Cœur") == ["France services Cœur du Perche"]


def test_lists_sort_the_same_names_by_iri_whatever_the_order_they_were_read_in(store: OxigraphStore) -> None:
    """Two « Abancourt », or two projects of the same year: ties fell to the items' numbers, which follow the
    order of reading, so a list's rows swapped between builds and after a write touching one of them."""
    write(store, "a", project("b-homonyme", "Homonyme"))
    write(store, "b", project("a-homonyme", "Homonyme"))
    cat = search.Catalog(store)
    for _ in range(2):
        for order in ("", "annee"):  # by name, by year (neither has one)
            shown = [it.iri for it in cat.page("projets", {}, order, "fr", 0, 100)[1] if "homonyme" in it.iri]
            assert shown == [BASE + "id/projet/a-homonyme", BASE + "id/projet/b-homonyme"], order
        write(store, "b", project("a-homonyme", "Homonyme", "relu"))  # read again: numbered last
        cat = search.Catalog(store)


def test_a_projects_shown_year_is_its_stated_start_and_its_facet_every_year(store: OxigraphStore) -> None:
    """A project stated to start in 2015-04 whose text tells of work in 2017 (an inferred period) shows
    2015, as its page does, and is found under both years; with no stated start, its earliest inferred."""
    period = '<http://purl.org/dc/terms/temporal> [ <http://www.w3.org/ns/dcat#startDate> "{}" ]'
    ttl = (
        'projet:maurienne a schema:Project ; rdfs:label "Schéma de services" ; schema:startDate "2015-04" ;'
        f" {period.format('2015')} ; {period.format('2017')} .\n"
        f'projet:deduit a schema:Project ; rdfs:label "Déduit" ;'
        f" {period.format('2019')} ; {period.format('2018')} .\n"
    )
    write(store, "periodes", ttl)
    cat = search.Catalog(store)
    shown = {it.iri.rsplit("/", 1)[1]: it.year for it in cat.page("projets", {}, "", "fr", 0, 100)[1]}
    assert shown["maurienne"] == "2015" and shown["deduit"] == "2018"
    for year in ("2015", "2017"):
        found = cat.page("projets", {"annee": [year]}, "", "fr", 0, 100)[1]
        assert [it.iri.rsplit("/", 1)[1] for it in found] == ["maurienne"]


def found(cat: search.Catalog, text: str) -> list[str]:
    return [cat.label(it.iri) for it, _ in cat.search(text, [], {}, 0, 20)[1]]


def test_a_search_reads_st_as_saint_as_the_reconciliation_does(store: OxigraphStore) -> None:
    """graph.matching's spellings: "St" is "Saint" (and "Saint" "St"), "Ste" "Sainte", whole words."""
    write(store, "lieux", project("msap", "MSAP de St-Martin", "Maison de services à Ste Foy"))
    cat = search.Catalog(store)
    # the commune, then what is located there (its name is in their context)
    assert found(cat, "Bourg St Maurice") == found(cat, "bourg saint maurice")
    assert found(cat, "Bourg St Maurice")[0] == "Bourg-Saint-Maurice"
    assert found(cat, "saint martin") == found(cat, "st martin") == ["MSAP de St-Martin"]
    assert found(cat, "sainte foy") == ["MSAP de St-Martin"]


def test_a_search_ranks_an_exact_name_first(store: OxigraphStore) -> None:
    """A whole label, alternate label or bracketed acronym equal to the search comes before the labels that
    merely hold its words (shorter ones first): « CAF » is the Caisse, not « Café … »; « ADRETS » the
    association, not the commune « Les Adrets »."""
    org, skos = "<http://www.w3.org/ns/org#Organization>", "<http://www.w3.org/2004/02/skos/core#altLabel>"
    ttl = "".join(project(f"cafe{i}", f"Café {i}") for i in range(3)) + (
        f'commune:38002 a igeo:Commune ; rdfs:label "Les Adrets"@fr ; igeo:codeINSEE "38002" .\n'
        f'<{BASE}id/organisation/caf> a {org} ; rdfs:label "Caisse d\'allocations familiales (CAF)"@fr .\n'
        f'<{BASE}id/organisation/adrets> a {org} ; {skos} "ADRETS" ;\n'
        '  rdfs:label "ADRETS - Association de Développement en Réseau des Territoires"@fr .\n'
    )
    write(store, "noms", ttl)
    cat = search.Catalog(store)
    assert found(cat, "CAF")[0] == "Caisse d'allocations familiales (CAF)"
    assert found(cat, "caisse d'allocations familiales (caf)")[0] == "Caisse d'allocations familiales (CAF)"
    assert found(cat, "Adrets")[:2] == [
        "ADRETS - Association de Développement en Réseau des Territoires",
        "Les Adrets",
    ]
    assert found(cat, "les adrets")[0] == "Les Adrets"
    assert found(cat, "bourg st maurice")[0] == "Bourg-Saint-Maurice"


def test_a_search_ranks_a_word_as_typed_before_one_it_begins_or_that_differs_in_accents(
    store: OxigraphStore,
) -> None:
    """« Ameli » listed the commune Amélie-les-Bains-Palalda before the video on the site Ameli: both labels
    hold a word the search begins and the shorter came first. Among otherwise equal matches a label writing
    the word as typed comes first, then one writing it with other accents, then one holding a longer word."""
    ttl = (
        'commune:66003 a igeo:Commune ; rdfs:label "Amélie-les-Bains-Palalda"@fr ; igeo:codeINSEE "66003" .\n'
        + project("ameli", "Vidéo : créer son compte sur le site Ameli")
        + project("amelie", "Amelie et ses voisins")
        + project("amelioration", "Améliorations")
    )
    write(store, "ameli", ttl)
    cat = search.Catalog(store)
    assert found(cat, "Ameli") == [
        "Vidéo : créer son compte sur le site Ameli",  # the word as typed
        "Améliorations",  # words it begins, shorter labels first
        "Amelie et ses voisins",
        "Amélie-les-Bains-Palalda",
    ]
    assert found(cat, "amélie")[:2] == ["Amélie-les-Bains-Palalda", "Amelie et ses voisins"]
    assert found(cat, "Amelie")[:2] == ["Amelie et ses voisins", "Amélie-les-Bains-Palalda"]
    assert cat.search("Ameli", [], {}, 0, 1)[0] == 4  # the same items found


def test_a_search_finding_nothing_suggests_the_words_of_the_index(store: OxigraphStore) -> None:
    """A misspelt word no word of the index begins gets the most similar one, if near enough."""
    cat = search.Catalog(store)
    assert cat.search("Bourg Saint Mauirce", [], {}, 0, 10)[0] == 0
    assert cat.suggest("Bourg Saint Mauirce") == "Bourg Saint Maurice"  # as the search and the names write it
    assert found(cat, "bourg saint maurice")[0] == "Bourg-Saint-Maurice"
    assert cat.suggest("tremplin saisonn") is None  # every word begins one: nothing to correct
    assert cat.suggest("Bourg xqzwv") is None and cat.suggest("Bourg Mau") is None


def test_a_search_finding_nothing_suggests_the_territory_it_nearly_names(store: OxigraphStore) -> None:
    """« Haute-Alpes » found nothing and suggested nothing: each of its words is one of the index (« Haute-
    Savoie », « Hautes-Alpes »), so none was respelt. The territory whose name is one or two edits from the
    whole text is suggested, when it finds something."""
    ttl = (
        TERRITORIES
        + """dep:05 a igeo:Departement ; rdfs:label "Hautes-Alpes"@fr ; igeo:codeINSEE "05" ;
      dcterms:isPartOf region:93 . dep:74 a igeo:Departement ; rdfs:label "Haute-Savoie"@fr ;
      igeo:codeINSEE "74" ; dcterms:isPartOf region:84 .
    region:93 a igeo:Region ; rdfs:label "Provence-Alpes-Côte d'Azur"@fr ; igeo:codeINSEE "93" ."""
    )
    write(store, "territoires", ttl)
    cat = search.Catalog(store)
    assert cat.search("Haute-Alpes", [], {}, 0, 10)[0] == 0
    assert cat.suggest("Haute-Alpes") == "Hautes-Alpes" and found(cat, "Hautes-Alpes")[0] == "Hautes-Alpes"
    assert cat.suggest("haute savoi alpes") == "Haute-Savoie alpes"  # a run of its words nearly names one
    assert cat.suggest("alpes saisonniers") is None  # no run of it within two edits of a name
    assert cat.suggest("Haute-Alpes", ["projets"]) is None  # finds no project


def test_a_long_search_finding_nothing_does_a_bounded_number_of_fuzzy_scans_and_name_lookups(
    store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 words finding nothing took 164 fuzzy scans of the territories' names (every run two edits can make
    a name's length), a fuzzy scan of the index's words per misspelt word, and each search looked up every
    run of its words as a territory's name (820 for 40 words, at each of the 7 searches): at most FUZZY
    scans of each kind now, and runs no longer than a name's words."""
    cat = search.Catalog(store)
    calls: Counter[str] = Counter()

    def counting(module: object, name: str) -> None:
        real = getattr(module, name)

        def counted(*args: object, **kwargs: object) -> object:
            calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    for module, name in ((search.process, "extractOne"), (search.process, "extract"), (search, "epci_name")):
        counting(module, name)
    text = " ".join(f"zorglub{i}" for i in range(40))
    assert cat.search(text, [], {}, 0, 10)[0] == 0 and cat.suggest(text) is None
    assert cat.fewer_words(text, [], {}, 0) is None
    assert 0 < calls["extractOne"] <= search.FUZZY, calls
    most = cat._name_span[0] + 2  # the runs a name may be, from each word: 8 searches' said_parts
    assert calls["epci_name"] <= 8 * 40 * most, calls
    calls.clear()
    misspelt = " ".join(["tremplni saisno acceuil"] * 14)  # 42 words to respell, each near one of the index
    assert cat.suggest("tremplni saisno") == "Tremplin Saison"
    assert calls["extract"] == 2
    assert cat.suggest(misspelt) is None and calls["extract"] == 2, calls


def test_a_search_naming_a_territory_nearly_gets_it_within_its_other_words(store: OxigraphStore) -> None:
    """« France services Haute-Alpes » found nothing and suggested « France services » (every place of the
    country): only the whole text was compared with the territories' names. And « Haute-Alpes » found a
    project whose context's labels, joined, said « … haute » then « Alpes-de-Haute-Provence », so no
    suggestion: a phrase now stays within one label."""
    ttl = (
        TERRITORIES
        + """dep:05 a igeo:Departement ; rdfs:label "Hautes-Alpes"@fr ; igeo:codeINSEE "05" .
    dep:04 a igeo:Departement ; rdfs:label "Alpes-de-Haute-Provence"@fr ; igeo:codeINSEE "04" ."""
    )
    write(store, "territoires", ttl)
    concept = "<http://www.w3.org/2004/02/skos/core#Concept>"
    theme = f'<{BASE}id/theme/haute> a {concept} ; rdfs:label "Ville haute"@fr .'
    places = "".join(project(f"fs{i}", f"France services {i}", where="dep:05") for i in range(2))
    perched = (
        project("perche", "Village perché", where="dep:04")
        + f"projet:perche dcterms:subject <{BASE}id/theme/haute> .\n"
    )
    write(store, "catalogue", places + perched + theme)
    cat = search.Catalog(store)
    assert found(cat, "Ville haute Alpes-de-Haute-Provence") == ["Village perché"]  # each name, a phrase
    assert cat.search("Haute-Alpes", [], {}, 0, 10)[0] == 0
    assert cat.suggest("Haute-Alpes") == "Hautes-Alpes"
    assert cat.search("France services Haute-Alpes", [], {}, 0, 10)[0] == 0
    assert cat.suggest("France services Haute-Alpes") == "France services Hautes-Alpes"
    assert len(found(cat, "France services Hautes-Alpes")) == 2
    # The name ends the text: the runs ending last are scanned first, not the longest runs of it anywhere.
    long = "France services " * 5 + "Haute-Alpes"
    assert cat.suggest(long) == long.replace("Haute-Alpes", "Hautes-Alpes")


def test_an_informal_area_s_population_counts_each_commune_once(store: OxigraphStore) -> None:
    """An area's page showed no population (only communes and EPCI carry one): it is the sum over the
    communes it covers, directly or through an EPCI, one covered both ways counted once; an area covering
    nothing has none (not 0)."""
    cs, epci = "https://w3id.org/communs-services/def#", f"<{BASE}id/epci/247300254>"
    area, empty = BASE + "id/territoire/haute-tarentaise", BASE + "id/territoire/vide"
    write(
        store,
        "zones",
        f"""{epci} a igeo:Intercommunalite ; rdfs:label "CC Haute-Tarentaise"@fr ; dcterms:isPartOf dep:73 ;
          <{cs}population> 9000 .
        commune:73054 dcterms:isPartOf {epci} ; <{cs}population> 7000 .
        commune:73150 a igeo:Commune ; rdfs:label "Landry"@fr ; igeo:codeINSEE "73150" ;
          dcterms:isPartOf dep:73, {epci} ; <{cs}population> 2000 .
        commune:73011 a igeo:Commune ; rdfs:label "Aiton"@fr ; igeo:codeINSEE "73011" ;
          dcterms:isPartOf dep:73 ; <{cs}population> 500 .
        <{area}> a <{cs}InformalArea> ; rdfs:label "Haute-Tarentaise vécue"@fr ; dcterms:isPartOf dep:73 ;
          <{cs}covers> {epci}, commune:73054, commune:73011 .
        <{empty}> a <{cs}InformalArea> ; rdfs:label "Vide"@fr .""",
    )
    cat = search.Catalog(store)
    assert cards.population(cat, area) == 7000 + 2000 + 500  # Bourg-Saint-Maurice once
    assert cards.population(cat, empty) is None


def test_an_informal_area_rolls_up_what_is_in_the_units_it_covers(store: OxigraphStore) -> None:
    """Tarentaise ``cs:covers`` an EPCI: the places and projects of its communes are within the area (its
    page said « 0 lieu de services »), not directly; an area covering what it is part of does not loop."""
    cs, epci = "https://w3id.org/communs-services/def#", f"<{BASE}id/epci/247300817>"
    write(
        store,
        "zones",
        f"""{epci} a igeo:Intercommunalite ; rdfs:label "CC Haute-Tarentaise"@fr ; dcterms:isPartOf dep:73 .
        commune:73054 dcterms:isPartOf {epci} .
        <{BASE}id/territoire/tarentaise> a <{cs}InformalArea> ; rdfs:label "Tarentaise"@fr ;
          dcterms:isPartOf dep:73 ; <{cs}covers> {epci} .
        <{BASE}id/territoire/savoie> a <{cs}InformalArea> ; rdfs:label "Savoie vécue"@fr ;
          dcterms:isPartOf dep:73 ; <{cs}covers> dep:73 .
        <{BASE}id/lieu/fs> a <{cs}ServicePlace> ; rdfs:label "France Services"@fr ;
          dcterms:spatial commune:73054 .""",
    )
    cat = search.Catalog(store)
    rollups = cat.rollups(BASE + "id/territoire/tarentaise", "fr", 30)
    assert rollups["lieux"][:2] == (1, 1) and rollups["projets"][:2] == (21, 21)
    assert cat.rollups(BASE + "id/territoire/savoie", "fr", 30)["lieux"][0] == 1
    assert BASE + "id/territoire/tarentaise" in cat.closure(BASE + "id/commune/73054")
    assert cat.facet_counts("lieux", {}, "epci", 10) == [("247300817", 1, BASE + "id/epci/247300817")]


def test_an_item_written_after_the_build_is_found_by_its_word_and_its_territory(store: OxigraphStore) -> None:
    """« ressourcerie Bourg-Saint-Maurice » found nothing: no text of the project names its commune. An item's
    context (the labels of its territories and facet values) is searched now (the snippet is from its own
    texts), and kept right by the write that reads the item again, then by one renaming its commune (the
    items not read again). A search naming a territory ranks what lies within it before what only says its
    name (the mobile one, passing by)."""
    cat = search.Catalog(store)
    search.stats.clear()
    ailleurs = (
        'projet:mobile a schema:Project ; rdfs:label "Ressourcerie mobile"@fr ;'
        ' schema:description "Une ressourcerie passant à Bourg-Saint-Maurice"@fr .\n'
    )
    write(store, "atelier", project("ressourcerie", "Ressourcerie", "Réemploi des objets") + ailleurs)
    cat.refresh(store)
    assert search.stats.get("full_builds", 0) == 0 and search.stats["items_read"] == 2
    total, hits, _, _ = cat.search("ressourcerie Bourg-Saint-Maurice", [], {}, 0, 10)
    assert [cat.label(it.iri) for it, _ in hits] == ["Ressourcerie", "Ressourcerie mobile"]
    assert hits[0][1].text == "Réemploi des objets" and not hits[0][1].spans  # not the context
    assert found(cat, "ressourcerie savoie") == ["Ressourcerie"]  # its département, through the closure
    write(store, "territoires", TERRITORIES.replace('"Bourg-Saint-Maurice"@fr', '"Les Arcs"@fr'))
    cat.refresh(store)
    assert search.stats.get("full_builds", 0) == 0
    assert found(cat, "ressourcerie arcs") == ["Ressourcerie"] and found(cat, "tremplin arcs") == [
        "Tremplin Saison"
    ]
    assert found(cat, "ressourcerie Bourg-Saint-Maurice") == ["Ressourcerie mobile"]


def test_a_spelling_suggested_finds_something_and_is_a_common_word_before_a_rare_name(
    store: OxigraphStore,
) -> None:
    """« france servises » suggested « france Serviès », the commune nearest in letters, which finds
    nothing: a suggestion is now a reading that finds something, and among the words as near (one edit
    away) the one more items say."""
    write(
        store,
        "voisins",
        'commune:81290 a igeo:Commune ; rdfs:label "Serviès"@fr ; igeo:codeINSEE "81290" .\n'
        + "".join(
            project(f"fs{i}", f"France services {i}", "Un guichet de services publics") for i in range(3)
        ),
    )
    cat = search.Catalog(store)
    assert cat.suggest("france servises") == "france services"
    assert cat.suggest("servises") == "services"
    assert cat.suggest("frnace services") == "France services"
    assert cat.suggest("france servises", ["projets"], {"departement": ["74"]}) is None  # none there


# Territories whose names hold or begin those of others, labelled as the territorial reference labels them.
NEIGHBOURS = """
dep:74 a igeo:Departement ; rdfs:label "Haute-Savoie (74)"@fr ; igeo:codeINSEE "74" ;
  dcterms:isPartOf region:84 .
commune:74010 a igeo:Commune ; rdfs:label "Annecy"@fr ; igeo:codeINSEE "74010" ; dcterms:isPartOf dep:74 .
commune:73257 a igeo:Commune ; rdfs:label "Saint-Martin-de-Belleville"@fr ; igeo:codeINSEE "73257" ;
  dcterms:isPartOf dep:73 .
commune:73900 a igeo:Commune ; rdfs:label "Saint-Martin"@fr ; igeo:codeINSEE "73900" ;
  dcterms:isPartOf dep:73 .
commune:74900 a igeo:Commune ; rdfs:label "Saint-Martin"@fr ; igeo:codeINSEE "74900" ;
  dcterms:isPartOf dep:74 .
region:93 a igeo:Region ; rdfs:label "Provence-Alpes-Côte d'Azur"@fr ; igeo:codeINSEE "93" .
dep:05 a igeo:Departement ; rdfs:label "Hautes-Alpes (05)"@fr ; igeo:codeINSEE "05" ;
  dcterms:isPartOf region:93 .
commune:05061 a igeo:Commune ; rdfs:label "Gap"@fr ; igeo:codeINSEE "05061" ;
  dcterms:isPartOf dep:05, epci:200067452 .
epci:200067452 a igeo:Intercommunalite ; rdfs:label "CA Gap-Tallard-Durance"@fr ; dcterms:isPartOf dep:05 .
commune:80374 a igeo:Commune ; rdfs:label "Gapennes"@fr ; igeo:codeINSEE "80374" .
"""


def test_a_search_naming_a_territory_selects_it_not_the_names_its_words_begin_or_end(
    store: OxigraphStore,
) -> None:
    """« tiers-lieu Savoie » found the tiers-lieux of Haute-Savoie too, « tiers-lieu Gap » those of Gapennes,
    « tiers-lieu Saint-Martin » those of Saint-Martin-de-Belleville: the name was a prefix word of the
    context. Words naming a territory in full now select it (every homonym), and what lies within it."""
    write(
        store,
        "voisins",
        NEIGHBOURS
        + project("cimes", "Tiers-lieu Les Cimes")  # Bourg-Saint-Maurice, Savoie
        + project("lac", "Tiers-lieu Le Lac", where="commune:74010")
        + project("belleville", "Tiers-lieu de Belleville", where="commune:73257")
        + project("martin73", "Tiers-lieu du Col", where="commune:73900")
        + project("martin74", "Tiers-lieu du Pont", where="commune:74900")
        + project("gare", "Tiers-lieu La Gare", where="commune:05061")
        + project("champs", "Tiers-lieu des Champs", where="commune:80374"),
    )
    cat = search.Catalog(store)
    assert set(found(cat, "tiers-lieu Savoie")) == {
        "Tiers-lieu Les Cimes",
        "Tiers-lieu de Belleville",
        "Tiers-lieu du Col",
    }
    assert set(found(cat, "Tiers-lieu Haute-Savoie")) == {"Tiers-lieu Le Lac", "Tiers-lieu du Pont"}
    assert found(cat, "tiers-lieu Gap") == found(cat, "tiers-lieu à gap") == ["Tiers-lieu La Gare"]
    assert found(cat, "tiers-lieu 05") == ["Tiers-lieu La Gare"]  # a département's code beside other words
    assert found(cat, "tiers-lieu Hautes-Alpes (05)") == ["Tiers-lieu La Gare"]  # as its label writes it
    assert found(cat, "tiers-lieu provence alpes cote d'azur") == ["Tiers-lieu La Gare"]
    assert set(found(cat, "tiers-lieu St Martin")) == {"Tiers-lieu du Col", "Tiers-lieu du Pont"}
    assert found(cat, "tiers-lieu Saint-Martin de Belleville") == ["Tiers-lieu de Belleville"]
    assert found(cat, "Gap")[0] == "Gap" and "Gapennes" not in found(cat, "Gap")  # the commune itself
    assert found(cat, "Haute-Savoie")[0] == "Haute-Savoie (74)"  # first, then what lies within it
    assert "Gapennes" in found(cat, "Gape")  # a word naming no territory begins words, as before


def test_a_departement_s_code_selects_it_and_is_no_word_of_the_texts(store: OxigraphStore) -> None:
    """« France services 05 » found 69 desks where « France services Hautes-Alpes » found 24: the code was
    also a word of the items' own texts, the phone numbers of the South-West's desks (« rendez-vous au 05 62
    99 20 42 »). A code read as its département selects it only, alone too: « 05 » found Eauze's phone
    number and « Le Numéro Cinq » (its other spellings) before the Hautes-Alpes."""
    write(
        store,
        "voisins",
        NEIGHBOURS
        + project("gare", "France services Gap", where="commune:05061")
        + project("sud", "France services Eauze", "Rendez-vous au 05 62 99 20 42", where="commune:74010"),
    )
    cat = search.Catalog(store)
    assert found(cat, "France services 05") == found(cat, "France services Hautes-Alpes")
    assert found(cat, "France services 05") == ["France services Gap"]
    alone = found(cat, "05")  # the territory, then what lies there
    assert alone == found(cat, "Hautes-Alpes") and alone[:2] == ["Hautes-Alpes (05)", "France services Gap"]
    assert "France services Eauze" not in alone
    assert found(cat, "99") == ["France services Eauze"]  # no département's code: a word of the texts
    assert cat.places_named("05000") == (["05000"], [])  # a postal code names no département


def test_a_postal_code_finds_the_communes_it_serves_then_the_places_whose_address_has_it(
    store: OxigraphStore,
) -> None:
    """« 05000 », Gap's postal code, found nothing though the places' addresses and the communes carry it
    (``schema:postalCode``): people type their postal code, not the INSEE code. It finds the communes it
    serves first, then the places whose address has it, not those of another postal code nor of Gap's
    INSEE code; beside the commune's name too, either way round. A place not read again keeps its postal
    code when the territories are written again."""
    cs = "https://w3id.org/communs-services/def#"

    def place(key: str, label: str, postal: str, where: str) -> str:
        return (
            f'<{BASE}id/lieu/{key}> a <{cs}ServicePlace> ; rdfs:label "{label}"@fr ;'
            f' dcterms:spatial {where} ; schema:address [ schema:postalCode "{postal}" ] .\n'
        )

    served = (
        'commune:05061 schema:postalCode "05000" .\n'
        'commune:05100 a igeo:Commune ; rdfs:label "Pelleautier"@fr ; igeo:codeINSEE "05100" ;'
        ' schema:postalCode "05000" ; dcterms:isPartOf dep:05 .\n'
    )
    write(store, "voisins", NEIGHBOURS + served)
    write(
        store,
        "lieux",
        place("gare", "Guichet de la gare", "05000", "commune:05061")
        + place("tallard", "Guichet de Tallard", "05130", "commune:05061")
        + place("annecy", "Guichet d'Annecy", "74000", "commune:74010"),
    )
    cat = search.Catalog(store)
    assert found(cat, "05000") == ["Gap", "Pelleautier", "Guichet de la gare"]
    total, _, by_kind, _ = cat.search("05000", [], {}, 0, 1)
    assert total == sum(c for _, c in by_kind) == 3 and dict(by_kind) == {"territoires": 2, "lieux": 1}
    assert found(cat, "05000 Gap") == found(cat, "gap 05000") == ["Gap", "Guichet de la gare"]
    assert found(cat, "05061") == []  # the INSEE code is no postal code
    write(store, "voisins", NEIGHBOURS + served.replace('"Pelleautier"', '"Pelleautier-Village"'))
    cat.refresh(store)
    assert found(cat, "05000") == ["Gap", "Pelleautier-Village", "Guichet de la gare"]


def test_a_place_found_by_its_postal_code_shows_it_in_its_snippet(store: OxigraphStore) -> None:
    """« 05000 » found the place whose address has it, but its snippet was its description alone: the
    reader did not see why. The postal code, marked, comes first, then the description."""
    cs = "https://w3id.org/communs-services/def#"
    write(store, "voisins", NEIGHBOURS + 'commune:05061 schema:postalCode "05000" .\n')
    write(
        store,
        "lieux",
        f'<{BASE}id/lieu/gare> a <{cs}ServicePlace> ; rdfs:label "Guichet de la gare"@fr ;'
        ' schema:description "Permanence ferroviaire"@fr ; dcterms:spatial commune:05061 ;'
        ' schema:address [ schema:postalCode "05000" ] .\n',
    )
    cat = search.Catalog(store)
    snippets = {cat.label(it.iri): s for it, s in cat.search("05000", [], {}, 0, 20)[1]}
    place = snippets["Guichet de la gare"]
    assert place.text.startswith("05000") and "Permanence ferroviaire" in place.text
    assert [place.text[a:b] for a, b in place.spans] == ["05000"]
    assert [snippets["Gap"].text[a:b] for a, b in snippets["Gap"].spans] == ["05000"]
    # a match in the description is its snippet, as before
    snippet = cat.search("ferroviaire", [], {}, 0, 20)[1][0][1]
    assert snippet.text == "Permanence ferroviaire" and snippet.spans == ((11, 22),)


def test_a_place_is_found_by_the_services_it_offers_after_the_places_it_names(store: OxigraphStore) -> None:
    """« RSA » found nothing, though every France Services place offers help with it (its network's bundle,
    ``cs:networkService``) and an imported place its own services (``cs:offeredAt``): people look for where
    to get help. The place whose name says it comes first, then those offering it, the service marked in
    their snippet (not in the snippet of a place whose name matched); the services are no results, and
    their private contacts are searched nowhere."""
    cs = "https://w3id.org/communs-services/def#"
    lieu, service = f"{BASE}id/lieu/", f"{BASE}id/service/"
    write(
        store,
        "lieux",
        f"""@prefix cs: <{cs}> .
        <{BASE}id/reseau/fs> cs:networkService <{service}caf> .
        <{service}caf> a schema:Service ; rdfs:label "Prestations familiales, aides au logement et RSA"@fr ;
          schema:name "Prestations familiales, aides au logement et RSA"@fr .
        <{service}suivi> a schema:Service ; schema:name "Accompagnement RSA"@fr ; cs:offeredAt <{lieu}arcs> .
        <{lieu}fs> a cs:ServicePlace ; rdfs:label "France services Bourg"@fr ;
          cs:network <{BASE}id/reseau/fs> ; dcterms:spatial commune:73054 .
        <{lieu}arcs> a cs:ServicePlace ; rdfs:label "Tiers-lieu des Arcs"@fr ;
          schema:description "Espace de travail partagé"@fr ; dcterms:spatial commune:73054 .
        <{lieu}point> a cs:ServicePlace ; rdfs:label "Point RSA"@fr ; dcterms:spatial commune:73054 ;
          cs:network <{BASE}id/reseau/fs> .
        """,
    )
    contact = (
        f'<{service}suivi> schema:contactPoint [ schema:name "Claire Belet" ; schema:email "cb@x.fr" ] .'
    )
    store.replace_graph(store.minter.private_graph("lieux"), triples(contact), GraphMeta("contacts", "c.ttl"))
    cat = search.Catalog(store)
    total, hits, by_kind, _ = cat.search("RSA", [], {}, 0, 20)
    assert total == 3 and by_kind == [("lieux", 3)]
    assert [cat.label(it.iri) for it, _ in hits][0] == "Point RSA"
    snippets = {cat.label(it.iri): s for it, s in hits}
    arcs, fs = snippets["Tiers-lieu des Arcs"], snippets["France services Bourg"]
    assert arcs.text == "Accompagnement RSA · Espace de travail partagé"
    assert fs.text == "Prestations familiales, aides au logement et RSA"
    assert [arcs.text[a:b] for a, b in arcs.spans] == [fs.text[a:b] for a, b in fs.spans] == ["RSA"]
    assert snippets["Point RSA"].text == ""  # its name says why it was found: not its services
    assert sorted(found(cat, "aides au logement Bourg")) == ["France services Bourg", "Point RSA"]
    assert found(cat, "Belet") == found(cat, "cb@x.fr") == []


def test_a_search_naming_a_territory_lists_it_then_what_is_there_then_its_parts(store: OxigraphStore) -> None:
    """« Haute-Savoie » listed the département, then its communes and what lies there mixed, shortest labels
    first (Annecy before the places of Annecy); « Saint-Martin Haute-Savoie » the places of Saint-Martin
    before the commune. The territories named come first, then what lies within them, then the territories
    within them."""
    write(
        store,
        "voisins",
        NEIGHBOURS
        + project("lac", "Tiers-lieu Le Lac", where="commune:74010")
        + project("fablab", "Fablab", where="commune:74900"),
    )
    cat = search.Catalog(store)
    assert found(cat, "Haute-Savoie") == [
        "Haute-Savoie (74)",
        "Fablab",
        "Tiers-lieu Le Lac",
        "Annecy",
        "Saint-Martin",
    ]
    assert found(cat, "Saint-Martin Haute-Savoie") == ["Saint-Martin", "Fablab"]
    savoie = [cat.label(it.iri) for it, _ in cat.search("Savoie", [], {}, 0, 50)[1]]
    assert savoie[0] == "Savoie" and len(savoie) == 25  # the département, its 21 projects, its 3 communes
    assert set(savoie[-3:]) == {"Bourg-Saint-Maurice", "Saint-Martin", "Saint-Martin-de-Belleville"}
    assert found(cat, "tiers-lieu Haute-Savoie") == ["Tiers-lieu Le Lac"]


def test_a_territory_named_in_an_item_s_text_is_not_one_whose_name_holds_its_name(
    store: OxigraphStore,
) -> None:
    """« tiers-lieu Savoie » found a tiers-lieu of Annecy whose text says « Haute-Savoie », « tiers-lieu
    Saint-Martin » one whose text says « Saint-Martin-de-Belleville »: the name was matched as words of the
    item's own texts, where they were part of a longer territory's name. A text saying the name itself still
    finds the item, wherever it lies."""
    write(
        store,
        "voisins",
        NEIGHBOURS
        + project("lac", "Tiers-lieu Le Lac", "Un tiers-lieu de Haute-Savoie", where="commune:74010")
        + project("col", "Tiers-lieu du Col", "Près de Saint-Martin-de-Belleville", where="commune:74010")
        + project("amis", "Tiers-lieu des Amis", "Ouvert aux voisins de la Savoie", where="commune:05061"),
    )
    cat = search.Catalog(store)
    assert found(cat, "tiers-lieu Savoie") == ["Tiers-lieu des Amis"]
    assert found(cat, "tiers-lieu Saint-Martin") == []
    assert set(found(cat, "tiers-lieu Haute-Savoie")) == {"Tiers-lieu Le Lac", "Tiers-lieu du Col"}
    assert found(cat, "tiers-lieu Saint-Martin-de-Belleville") == ["Tiers-lieu du Col"]


def test_the_items_saying_longer_names_are_read_once_per_name_and_version(store: OxigraphStore) -> None:
    """Each search naming « Saint-Martin » read again the items saying one of the hundreds of longer names
    holding it (its OR of phrases cost more than the search). They are kept per name until the index
    changes."""
    col = project("col", "Tiers-lieu du Col", "Près de Saint-Martin-de-Belleville", where="commune:74010")
    write(store, "voisins", NEIGHBOURS + col)
    cat = search.Catalog(store)
    assert found(cat, "tiers-lieu Saint-Martin") == found(cat, "Saint-Martin tiers-lieu") == []
    assert cat._left_out.cache_info().misses == 1
    pont = project(
        "pont", "Tiers-lieu du Pont", "Au pied de Saint-Martin-de-Belleville", where="commune:74010"
    )
    write(store, "voisins", NEIGHBOURS + col + pont)
    cat.refresh(store)
    assert found(cat, "tiers-lieu Saint-Martin") == []  # read again: the new one says a longer name too
    assert cat._left_out.cache_info().misses == 2
    assert found(cat, "tiers-lieu Saint-Martin-de-Belleville") == ["Tiers-lieu du Col", "Tiers-lieu du Pont"]


def test_a_territory_holding_the_one_named_is_found_after_what_lies_there(store: OxigraphStore) -> None:
    """« Lyon » no longer listed the Métropole de Lyon once a territory's name stopped being found inside
    longer names: the Métropole holds Lyon, it comes after the commune and what lies there;
    Sainte-Foy-lès-Lyon (within the Métropole, not holding Lyon) stays out."""
    metropole = """
    dep:69 a igeo:Departement ; rdfs:label "Rhône (69)"@fr ; igeo:codeINSEE "69" ;
      dcterms:isPartOf region:84 .
    epci:200046977 a igeo:Intercommunalite ; rdfs:label "Métropole de Lyon"@fr ; dcterms:isPartOf dep:69 .
    commune:69123 a igeo:Commune ; rdfs:label "Lyon"@fr ; dcterms:isPartOf dep:69, epci:200046977 .
    commune:69202 a igeo:Commune ; rdfs:label "Sainte-Foy-lès-Lyon"@fr ;
      dcterms:isPartOf dep:69, epci:200046977 .
    """
    write(
        store,
        "voisins",
        NEIGHBOURS
        + metropole
        + project("pente", "Tiers-lieu de la Pente", where="commune:69123")
        + project("foy", "Tiers-lieu de la Colline", where="commune:69202"),
    )
    cat = search.Catalog(store)
    assert found(cat, "Lyon") == ["Lyon", "Tiers-lieu de la Pente", "Métropole de Lyon"]
    assert found(cat, "tiers-lieu Lyon") == ["Tiers-lieu de la Pente"]


def test_a_search_knows_a_territory_by_the_other_names_the_reconciliation_knows(store: OxigraphStore) -> None:
    """« tiers-lieu PACA » found nothing: no text says « PACA ». graph.matching's table of the names people
    give territories (data/aliases/territoires.csv: « PACA », « Région Sud ») names them for a search too."""
    write(
        store,
        "voisins",
        NEIGHBOURS
        + project("gare", "Tiers-lieu La Gare", where="commune:05061")
        + project("cimes", "Tiers-lieu Les Cimes"),  # Bourg-Saint-Maurice, Auvergne-Rhône-Alpes
    )
    cat = search.Catalog(store)
    assert found(cat, "tiers-lieu AURA") == ["Tiers-lieu Les Cimes"]
    assert found(cat, "tiers-lieu PACA") == found(cat, "tiers-lieu région sud") == ["Tiers-lieu La Gare"]


def test_a_search_names_an_epci_by_its_kind_in_full(store: OxigraphStore) -> None:
    """The reference labels an EPCI with its kind abbreviated (« CA Gap-Tallard-Durance »): « … communauté
    d'agglomération Gap-Tallard-Durance » found nothing, no text saying « communauté »."""
    write(store, "voisins", NEIGHBOURS + project("gare", "Tiers-lieu La Gare", where="commune:05061"))
    cat = search.Catalog(store)
    assert found(cat, "tiers-lieu CA Gap-Tallard-Durance") == ["Tiers-lieu La Gare"]
    assert found(cat, "tiers-lieu communauté d'agglomération Gap-Tallard-Durance") == ["Tiers-lieu La Gare"]


def test_a_search_names_an_epci_without_the_articles_of_its_name(store: OxigraphStore) -> None:
    """« CC Briançonnais » (« CC du Briançonnais ») named no territory: its words found the places of the
    other EPCI of the Grand Briançonnais too, « communauté de communes Briançonnais » nothing. The articles
    inside an EPCI's name are optional, its kind abbreviated or not."""
    cs = "https://w3id.org/communs-services/def#"
    epcis = f"""
    epci:240500439 a igeo:Intercommunalite ; rdfs:label "CC du Briançonnais"@fr ; dcterms:isPartOf dep:05 .
    epci:240500462 a igeo:Intercommunalite ; rdfs:label "CC du Pays des Écrins"@fr ; dcterms:isPartOf dep:05 .
    commune:05023 a igeo:Commune ; rdfs:label "Briançon"@fr ; dcterms:isPartOf dep:05, epci:240500439 .
    commune:05006 a igeo:Commune ; rdfs:label "L'Argentière"@fr ; dcterms:isPartOf dep:05, epci:240500462 .
    <{BASE}id/territoire/grand-brianconnais> a <{cs}InformalArea> ; rdfs:label "Grand Briançonnais"@fr ;
      dcterms:isPartOf dep:05 ; <{cs}covers> epci:240500439, epci:240500462 .
    """
    write(
        store,
        "voisins",
        NEIGHBOURS
        + epcis
        + project("quai", "Tiers-lieu du Quai", where="commune:05023")
        + project("forge", "Tiers-lieu de la Forge", where="commune:05006"),
    )
    cat = search.Catalog(store)
    for said in ("CC du Briançonnais", "CC Briançonnais", "communauté de communes Briançonnais"):
        assert cat.places_named(said)[1] == [(said, {BASE + "id/epci/240500439"})]
        assert found(cat, f"tiers-lieu {said}") == ["Tiers-lieu du Quai"], said
    for said in ("CC Pays des Écrins", "CC Pays Écrins", "communauté de communes du pays des ecrins"):
        assert found(cat, f"tiers-lieu {said}") == ["Tiers-lieu de la Forge"], said
    assert found(cat, "CC Briançonnais")[0] == "CC du Briançonnais"  # the EPCI, then what is in it


def vocabulary(network: str, alternates: str, theme: str) -> str:
    skos = "http://www.w3.org/2004/02/skos/core#"
    return (
        f'<{BASE}id/reseau/fs> a <{skos}Concept> ; rdfs:label "{network}"@fr ;'
        f" <{skos}altLabel> {alternates} .\n"
        f'<{BASE}id/theme/mobilite> a <{skos}Concept> ; rdfs:label "{theme}"@fr .\n'
    )


def test_a_facet_value_relabelled_is_searched_by_its_new_name_in_the_items_not_read_again(
    store: OxigraphStore,
) -> None:
    """A write relabelling a network or a theme (its vocabulary's graph) left the places and projects carrying
    it with the old labels in their search context, and the network with no label at all (its IRI shown),
    until a full build: « Maisons de l'État » found nothing, « France Services » still found them. The
    items carrying a value whose labels moved get their context again; only those, and none when the
    labels did not move."""
    cs = "https://w3id.org/communs-services/def#"
    write(store, "vocabulaire", vocabulary("France Services", '"MSAP"@fr', "Mobilité"))
    places = "".join(
        f'<{BASE}id/lieu/{key}> a <{cs}ServicePlace> ; rdfs:label "{label}"@fr ;'
        f" <{cs}network> <{BASE}id/reseau/fs> ; dcterms:spatial commune:73054 .\n"
        for key, label in (("arc", "Guichet de l'Arc"), ("isere", "Guichet de l'Isère"))
    )
    bus = f"projet:bus dcterms:subject <{BASE}id/theme/mobilite> .\n"
    write(store, "lieux", places + project("bus", "Navette des stations") + bus)
    cat = search.Catalog(store)
    guichets = ["Guichet de l'Arc", "Guichet de l'Isère"]
    assert sorted(found(cat, "MSAP")) == sorted(found(cat, "France Services")) == guichets
    search.stats.clear()
    write(store, "vocabulaire", vocabulary("France Services", '"MSAP"@fr', "Mobilité"))  # the same labels
    cat.refresh(store)
    assert search.stats == {"updates": 1, "items_read": 1}  # the theme; no context written again
    write(
        store, "vocabulaire", vocabulary("Maisons de l'État", '"MFS"@fr, "Guichet unique"@fr', "Transports")
    )
    cat.refresh(store)
    assert search.stats["full_builds"] == 0 and search.stats["relabelled"] == 3  # the places, the project
    assert cat.label(BASE + "id/reseau/fs") == "Maisons de l'État"
    assert sorted(found(cat, "maisons de l'etat")) == sorted(found(cat, "MFS")) == guichets
    assert found(cat, "France Services") == found(cat, "MSAP") == []
    assert (
        found(cat, "navette transports") == ["Navette des stations"] and found(cat, "navette mobilité") == []
    )
    store.update(  # a moderator's edit: an alternate label added to the theme
        f"""INSERT DATA {{ GRAPH <{BASE}graph/vocabulaire> {{ <{BASE}id/theme/mobilite>
              <http://www.w3.org/2004/02/skos/core#altLabel> "Déplacements"@fr }} }}"""
    )
    cat.refresh(store)
    assert found(cat, "navette déplacements") == ["Navette des stations"]


def test_a_search_counts_every_departement_of_its_matches(store: OxigraphStore) -> None:
    """The search's département facet had its 30 most frequent values only, where a list's shows every
    département by name: the search's counts now have every value, which the page shows as a list's."""
    departements = "".join(
        f'dep:{n} a igeo:Departement ; rdfs:label "Département {n}"@fr ; igeo:codeINSEE "{n}" .\n'
        for n in range(10, 45)
    )
    write(store, "territoires", TERRITORIES + departements)
    write(
        store,
        "relais",
        "".join(project(f"relais{n}", f"Relais {n}", where=f"dep:{n}") for n in range(10, 45)),
    )
    cat = search.Catalog(store)
    total, _, _, counts = cat.search("relais", [], {}, 0, 10)
    assert total == 35
    assert len(counts["departement"]) == 35


def test_of_two_territories_tied_on_a_search_the_one_more_items_name_comes_first(
    store: OxigraphStore,
) -> None:
    """« Tarentaise » listed the Loire commune before the Savoie valley: an exact tie (the same name, the
    same tier), broken by the index's order. The territory more items name as their place comes first."""
    cs = "https://w3id.org/communs-services/def#"
    ttl = (
        TERRITORIES
        + f"""dep:42 a igeo:Departement ; rdfs:label "Loire"@fr ; igeo:codeINSEE "42" .
        commune:42306 a igeo:Commune ; rdfs:label "Tarentaise"@fr ; igeo:codeINSEE "42306" ;
          dcterms:isPartOf dep:42 .
        <{BASE}id/territoire/tarentaise> a <{cs}InformalArea> ; rdfs:label "Tarentaise"@fr ;
          dcterms:isPartOf dep:73 ."""
    )
    write(store, "territoires", ttl)
    cat = search.Catalog(store)
    hits = [it.iri.rsplit("/", 2)[1] for it, _ in cat.search("Tarentaise", [], {}, 0, 2)[1]]
    assert hits == ["commune", "territoire"]  # tied: the index's order
    write(
        store, "vallee", project("station", "Station de ski", where="<" + BASE + "id/territoire/tarentaise>")
    )
    cat = search.Catalog(store)
    hits = [it.iri.rsplit("/", 2)[1] for it, _ in cat.search("Tarentaise", [], {}, 0, 2)[1]]
    assert hits == ["territoire", "commune"]


# Another process writing the index, as ``communs load`` does while it builds it (one transaction).
HOLD_THE_WRITE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_server_meeting_an_index_another_process_writes_says_so_in_one_line_and_serves_it(
    store: OxigraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``communs serve`` started while ``communs load`` built the index logged « ERROR: the index could not
    be brought up to date » with a traceback ending in « database is locked ». It says in one line that
    another process writes the index, serves the version there meanwhile, and catches up once it is done."""
    search.Catalog(store).close()
    write(store, "evenements", project("forum", "Forum des saisonniers"))  # a load's data, its index next
    index = store.path.with_name(store.path.name + ".index.sqlite")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(index)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    caplog.set_level(logging.INFO, logger="graph")
    try:
        assert holder.stdout.readline() == b"locked\n"
        search.start(store)  # as the server's start-up
        deadline = time.monotonic() + 30
        while not caplog.records:
            assert time.monotonic() < deadline, "nothing said of the index"
            time.sleep(0.1)
        started = time.monotonic()
        cat = search.catalog(store)  # a page's read
        assert "Forum des saisonniers" not in labels(cat) and len(labels(cat)) == 21
        assert time.monotonic() - started < 1
    finally:
        holder.communicate(b"")
    said = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert len(said) == 1 and said[0][0] == "WARNING" and not said[0][2], said
    assert "being written by another process (communs load or import)" in said[0][1]
    assert "Forum des saisonniers" in labels(search.catalog(store))  # that process gone: caught up
    search.finish(store, 10)


def communs_import(store: Path, ttl: str, graph: str) -> subprocess.CompletedProcess:
    """``communs import`` in its own process: the store's writes, then the index brought to its version."""
    source = store.with_name(graph + ".ttl")
    source.write_text(PREFIXES + ttl, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "import", "rdf", str(source), "--graph", BASE + "graph/" + graph]
        + ["--store", str(store)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=300,
    )


def test_a_server_adopts_the_version_another_process_wrote_in_the_index(store: OxigraphStore) -> None:
    """When another process (``communs import``) wrote the index, a server kept its version in memory (the
    pages' ETags said the old one over the new rows) and the territories it had read (Hautes-Alpes, just
    imported, was missing); with no index at its start, it built it again whole. It adopts the file's."""
    index = store.path.with_name(store.path.name + ".index.sqlite")
    server = search.Catalog(store, index, build=False)  # its start: no index yet, none ready
    store.close()  # the other process's turn
    done = communs_import(store.path, 'dep:05 a igeo:Departement ; rdfs:label "Hautes-Alpes"@fr .', "alpes")
    assert done.returncode == 0, done.stderr
    reopened = OxigraphStore(BASE, store.path)
    builds = search.stats["full_builds"]
    server.refresh(reopened)
    assert server.ready.is_set() and server.version == reopened.version
    assert search.stats["full_builds"] == builds  # nothing built again here
    assert server.territories[BASE + "id/departement/05"].label == "Hautes-Alpes"
    reopened.close()  # once more, the server's index ready this time
    done = communs_import(store.path, 'dep:38 a igeo:Departement ; rdfs:label "Isère"@fr .', "isere")
    assert done.returncode == 0, done.stderr
    reopened = OxigraphStore(BASE, store.path)
    server.refresh(reopened)
    assert server.version == reopened.version and BASE + "id/departement/38" in server.territories
    write(reopened, "saison", project("tremplin", "Tremplin d'hiver"))  # its own write: caught up from there
    server.refresh(reopened)
    assert server.version == reopened.version and "Tremplin d'hiver" in labels(server)
    server.close()
    reopened.close()


def test_an_import_meeting_an_index_another_process_writes_says_so_in_french_and_writes_nothing(
    store: OxigraphStore,
) -> None:
    """``communs import`` while a server wrote the index ended on the server's English words, « this
    server reads it as it is ». It says in one French line what happens and what to do, and exits 2; it
    wrote the store first, then said « réessayez »: it asks for the index before, and writes nothing."""
    search.Catalog(store).close()
    store.close()
    index = store.path.with_name(store.path.name + ".index.sqlite")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITE_LOCK, str(index)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline() == b"locked\n"
        done = communs_import(
            store.path, 'dep:05 a igeo:Departement ; rdfs:label "Hautes-Alpes"@fr .', "alpes"
        )
    finally:
        holder.communicate(b"")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "communs : erreur : l'index est en cours d'écriture par un autre processus (communs serve ?) : "
        "réessayez dans un moment\n"
    )
    assert BASE + "graph/alpes" not in OxigraphStore(BASE, store.path).graphs()


def test_a_word_missing_a_letter_is_suggested_the_word_holding_it_before_one_without_another(
    store: OxigraphStore,
) -> None:
    """« mobilte » suggested « Mobile », one edit away as « Mobilité » is, and said by more items: a word
    typed with a letter left out is the one holding every letter typed, in order, before one that drops a
    letter typed."""
    write(
        store,
        "mobile",
        "".join(project(f"bus{i}", f"Bus mobile {i}", "Un guichet mobile") for i in range(3))
        + project("mobilite", "Mobilité solidaire"),
    )
    cat = search.Catalog(store)
    assert cat.suggest("mobilte") == "Mobilité"
    assert cat.suggest("moblie") == "mobile"  # letters swapped: none holds them in order, the most said


def test_a_service_renamed_in_a_graph_its_place_is_not_in_renames_it_in_the_place_s_row(
    store: OxigraphStore,
) -> None:
    """A place's row holds the names of the services it offers; a refresh read again only the items of the
    graphs written, so a service renamed, added or withdrawn in its own graph (a data·inclusion source's, a
    network's bundle) left its places found by the old names until a full build."""
    cs = "https://w3id.org/communs-services/def#"
    lieu, service = f"{BASE}id/lieu/", f"{BASE}id/service/"
    prefix = f"@prefix cs: <{cs}> .\n"
    write(
        store,
        "lieux",
        f"""{prefix}<{lieu}arcs> a cs:ServicePlace ; rdfs:label "Tiers-lieu des Arcs"@fr ;
          dcterms:spatial commune:73054 .
        <{lieu}fs> a cs:ServicePlace ; rdfs:label "France services Bourg"@fr ;
          cs:network <{BASE}id/reseau/fs> .
        """,
    )

    def services(names: dict[str, str], graph: str = "services") -> None:
        offered = "".join(
            f'<{service}{key}> a schema:Service ; schema:name "{name}"@fr ; cs:offeredAt <{lieu}arcs> .\n'
            for key, name in names.items()
        )
        write(store, graph, prefix + offered)

    def bundle(name: str) -> None:
        write(
            store,
            "bouquet",
            f"{prefix}<{BASE}id/reseau/fs> cs:networkService <{service}caf> .\n"
            f'<{service}caf> a schema:Service ; schema:name "{name}"@fr .',
        )

    services({"atelier": "Atelier numérique", "colis": "Aide alimentaire"})
    bundle("Prestations familiales")
    cat = search.Catalog(store)
    assert found(cat, "numérique") == found(cat, "alimentaire") == ["Tiers-lieu des Arcs"]
    assert found(cat, "familiales") == ["France services Bourg"]
    search.stats.clear()
    services({"atelier": "Permanence juridique"})  # one renamed, the other withdrawn
    bundle("Allocations logement")
    cat.refresh(store)
    assert found(cat, "numérique") == found(cat, "alimentaire") == found(cat, "familiales") == []
    assert found(cat, "juridique") == ["Tiers-lieu des Arcs"]
    assert found(cat, "logement") == ["France services Bourg"]
    services({})  # its last service withdrawn: the graph no longer links the place
    cat.refresh(store)
    assert found(cat, "juridique") == []
    services({"velo": "Atelier vélo"}, "autres")  # a graph that named none of its services
    cat.refresh(store)
    assert found(cat, "vélo") == ["Tiers-lieu des Arcs"]
    assert search.stats.get("full_builds", 0) == 0
