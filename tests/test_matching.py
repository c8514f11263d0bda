"""graph/matching.py on small stores: name keys, certainty, and an index that follows the store's writes."""

from __future__ import annotations

import copy
import dataclasses
import functools

import pyoxigraph as ox
import pytest
from conftest import wait_until

from graph import matching
from graph.namespaces import CS, DCTERMS, IGEO, ORG, RDF, RDFS, SCHEMA, SKOS
from graph.store import OxigraphStore


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Les 2 Alpes", "Les Deux-Alpes"),
        ("Bourg St Maurice", "Bourg-Saint-Maurice"),
        ("STE FOY TARENTAISE", "Sainte-Foy-Tarentaise"),
        ("Le Bourg d'Oisans", "Bourg-d'Oisans"),
        ("Hte Savoie", "Haute-Savoie"),
        ("Cœur de Chartreuse", "Coeur de Chartreuse"),
        ("Pays d’Apt-Luberon", "Pays d'Apt Lubéron"),  # a typographic apostrophe separates words too
        ("Quai9", "Quai 9"),  # digits and letters are words apart, written together or not
        ("Rue du 1er Mai", "rue du premier mai"),  # an abbreviation with a digit stays one word
    ],
)
def test_names_with_the_same_meaning_share_a_key(a, b):
    assert matching.name_key(a) == matching.name_key(b)


def test_different_names_keep_different_keys():
    assert matching.name_key("Saint-Jean-sur-Reyssouze") != matching.name_key("Saint-Jean-sous-Reyssouze")
    assert matching.epci_key("CC de l'Oisans") == ("oisans", "CC")
    assert matching.epci_key("Communauté d'agglomération du Grand Chambéry") == ("grand chambery", "CA")
    # The kind in the singular, as often written (a blind tester's « Communaute de commune du Pays des
    # Ecrins » found no candidate at /reconcile).
    assert matching.epci_key("Communaute de commune du Pays des Ecrins") == ("pays ecrins", "CC")


def _commune(store: OxigraphStore, code: str, name: str, dep: str) -> list[ox.Triple]:
    s = ox.NamedNode(store.minter.thing("commune", code))
    d = ox.NamedNode(store.minter.thing("departement", dep))
    return [
        ox.Triple(s, ox.NamedNode(RDF + "type"), ox.NamedNode(IGEO + "Commune")),
        ox.Triple(s, ox.NamedNode(IGEO + "nom"), ox.Literal(name)),
        ox.Triple(s, ox.NamedNode(IGEO + "codeINSEE"), ox.Literal(code)),
        ox.Triple(s, ox.NamedNode("http://purl.org/dc/terms/isPartOf"), d),
        ox.Triple(d, ox.NamedNode(RDF + "type"), ox.NamedNode(IGEO + "Departement")),
        ox.Triple(d, ox.NamedNode(IGEO + "nom"), ox.Literal(f"Département {dep}")),
        ox.Triple(d, ox.NamedNode(IGEO + "codeINSEE"), ox.Literal(dep)),
    ]


def test_certain_only_when_unique_in_scope_and_the_index_follows_writes():
    store = OxigraphStore("https://example.org/")
    store.replace_graph(
        store.minter.graph("t"),
        _commune(store, "73034", "Beaufort", "73") + _commune(store, "38032", "Beaufort", "38"),
    )
    index = matching.index_of(store)
    found = index.match("beaufort", ("commune",))
    assert len(found) == 2 and not any(c.match for c in found) and all(c.exact for c in found)
    found = index.match("Beaufort", ("commune",), departements=("38",))
    assert [c.entity.code for c in found] == ["38032"] and found[0].match and found[0].score == 100
    assert (
        index.match("Baufort", ("commune",), departements=("73",))[0].match is False
    )  # a typo: never certain
    project = ox.NamedNode(store.minter.thing("projet", "p"))
    store.replace_graph(
        store.minter.graph("p"),
        [
            ox.Triple(project, ox.NamedNode(RDF + "type"), ox.NamedNode(SCHEMA + "Project")),
            ox.Triple(
                project, ox.NamedNode(RDFS + "label"), ox.Literal("Maison des saisonniers", language="fr")
            ),
            ox.Triple(
                project,
                ox.NamedNode("http://purl.org/dc/terms/spatial"),
                ox.NamedNode(store.minter.thing("commune", "73034")),
            ),
        ],
    )
    assert matching.index_of(store) is index  # the previous index answers while the new one is read
    wait_until(lambda: matching.index_of(store) is not index, 30, "a new name index read after the write")
    fresh = matching.index_of(store)
    found = fresh.match("maison des saisonniers", ("projet",))
    assert found[0].match and found[0].entity.departements == ("73",)
    assert fresh.entities[store.minter.thing("commune", "73034")].projects == 1


def _state(index: matching.NameIndex) -> dict:
    """Everything an index holds, order aside."""
    return {
        "entities": {i: dataclasses.asdict(e) for i, e in index.entities.items()},
        "keys": index._keys,
        "codes": {k: sorted(v) for k, v in index.by_code.items() if v},
        "pools": (index._sorted, index._backwards),
        "written": {t: names for t, names in index._written.items() if names},
        "children": {k: sorted(v) for k, v in index._children.items() if v},
        "aliases": index.aliases,
        "merged": index.merged,
        "origins": index.origins,
    }


def test_a_write_is_read_alone_and_the_index_then_equals_a_whole_read():
    store = OxigraphStore("https://example.org/")
    m = store.minter
    store.replace_graph(
        m.graph("t"), _commune(store, "73034", "Beaufort", "73") + _commune(store, "38032", "Autrans", "38")
    )
    store.listeners.append(functools.partial(matching.changed, store))
    first = matching.index_of(store)
    g, org, project, place = (
        m.graph("contributions"),
        m.thing("organisation", "o"),
        m.thing("projet", "p"),
        m.thing("lieu", "l"),
    )
    beaufort, autrans = m.thing("commune", "73034"), m.thing("commune", "38032")
    writes = [
        # an organisation in Beaufort, a project part of it (placed through it), a place in Autrans
        f"""INSERT DATA {{ GRAPH <{g}> {{
            <{org}> a <{ORG}Organization> ; <{RDFS}label> "Foyer de ski de fond"@fr ;
              <{SKOS}altLabel> "FSF" ; <{SCHEMA}location> <{beaufort}> .
            <{project}> a <{SCHEMA}Project> ; <{RDFS}label> "Maison des saisonniers"@fr ;
              <{DCTERMS}isPartOf> <{org}> .
            <{place}> a <{CS}ServicePlace> ; <{RDFS}label> "Espace France Services"@fr ;
              <{SCHEMA}location> <{autrans}> ; <{SCHEMA}postalCode> "38880" }} }}""",
        # the organisation moves: its project follows it to the other département
        f"DELETE WHERE {{ GRAPH <{g}> {{ <{org}> <{SCHEMA}location> ?l }} }} ;"
        f"INSERT DATA {{ GRAPH <{g}> {{ <{org}> <{SCHEMA}location> <{autrans}> }} }}",
        # renamed, and given a location of its own in Beaufort
        f"DELETE WHERE {{ GRAPH <{g}> {{ <{project}> <{RDFS}label> ?l }} }} ;"
        f'INSERT DATA {{ GRAPH <{g}> {{ <{project}> <{RDFS}label> "Relais saisonniers"@fr ;'
        f" <{DCTERMS}spatial> <{beaufort}> }} }}",
        # the place withdrawn
        f"DELETE WHERE {{ GRAPH <{g}> {{ <{place}> ?p ?o }} }}",
    ]
    full_reads, index, untouched = matching.stats["full_reads"], first, copy.deepcopy(_state(first))
    for update in writes:
        store.update(update)
        _follows(store)
        index = matching.index_of(store)
        assert _state(index) == _state(matching.read_index(store)), update
    assert matching.stats["full_reads"] == full_reads  # the writes were read alone
    assert index.match("relais saisonniers", ("projet",))[0].entity.departements == ("38", "73")
    assert not any(c.exact for c in index.match("maison des saisonniers", ("projet",)))
    assert index.match("FSF", ("organisation",))[0].entity.departements == ("38",)
    assert (index.entities[beaufort].projects, index.entities[autrans].places) == (1, 0)
    assert _state(first) == untouched  # readers of the first index kept it whole
    store.update(f"DROP GRAPH <{g}>")  # every contribution withdrawn at once
    _follows(store)
    assert _state(matching.index_of(store)) == _state(matching.read_index(store))
    assert matching.stats["full_reads"] == full_reads  # read alone too
    # A change of a territory is read whole.
    store.update(
        f'INSERT DATA {{ GRAPH <{m.graph("t")}> {{ <{beaufort}> <{SKOS}altLabel> "Beaufort-sur-Doron" }} }}'
    )
    _follows(store)
    assert matching.stats["full_reads"] == full_reads + 1
    assert matching.index_of(store).match("Beaufort-sur-Doron", ("commune",))[0].match


def test_a_whole_read_of_a_store_on_disk_runs_in_a_child_process(tmp_path):
    """The serving process only unpickles the index: a read in one of its threads would hold its GIL."""
    store = OxigraphStore("https://example.org/", tmp_path / "store")
    store.replace_graph(store.minter.graph("t"), _commune(store, "73034", "Beaufort", "73"))
    apart = matching.stats["read_apart"]
    index = matching.index_of(store)
    assert matching.stats["read_apart"] == apart + 1
    assert _state(index) == _state(matching.read_index(store))
    assert index.match("Beaufort", ("commune",))[0].match
    assert not any((tmp_path / "store.copies").iterdir())  # its copy of the store deleted
    matching.finish(store, timeout=10)
    store.close()


def _follows(store: OxigraphStore) -> None:
    """Wait until the name index is the store's version."""
    wait_until(
        lambda: matching._cache[store][0] == store.version, 30, "the name index at the store's version"
    )


def test_an_association_s_legal_form_written_before_its_name_names_it():
    """« Association ADRETS » found nothing certain: the legal form is read as a level word is (« Ville de
    Gap »), only when the name as written names nothing: the type, not part of the name."""
    adrets = matching.Entity("o/adrets", "organisation", "ADRETS - Association de Développement en Réseau")
    index = matching.NameIndex(
        [adrets, matching.Entity("c/38002", "commune", "Les Adrets", code="38002", departements=("38",))],
        [("ADRETS", adrets.iri), ("Association de Développement en Réseau", adrets.iri)],
    )
    for name in ("Association ADRETS", "association Adrets", "Association de Développement en Réseau"):
        for types in (None, ("organisation",)):
            found = index.match(name, types)
            assert [(c.entity.iri, c.match) for c in found[:1]] == [(adrets.iri, True)], (name, types, found)
    assert not index.match("Association Gap", ("commune",))  # an organisation's form, not a commune's


def test_a_place_s_name_with_its_commune_after_it_finds_the_place_there():
    """« Snoworkers La Grave » gave no candidate while « snoworkers » found « The snoworkers » (La Grave): the
    commune written after a place's name is a hint, the rest of the name matched among the places there."""
    grave = matching.Entity("c/05063", "commune", "La Grave", code="05063", departements=("05",))
    gap = matching.Entity("c/05061", "commune", "Gap", code="05061", departements=("05",))
    there = matching.Entity("l/1", "lieu", "The snoworkers", parents=[grave.iri], departements=("05",))
    elsewhere = matching.Entity("l/2", "lieu", "The snoworkers", parents=[gap.iri], departements=("05",))
    index = matching.NameIndex([grave, gap, there, elsewhere])
    found = index.match("Snoworkers La Grave", ("lieu",), departements=("05",))
    assert [c.entity.iri for c in found[:1]] == [there.iri] and found[0].score >= 80, found
    assert all(c.entity.iri != elsewhere.iri or c.score < found[0].score for c in found)


@pytest.mark.parametrize(
    ("query", "departement", "expected"),
    [
        ("FS Bozel", "73", "l/bozel"),
        ("MSAP Queyras", "05", "l/queyras"),
        ("Maison France Services Queyras", "05", "l/queyras"),
        ("Espace France Services du Queyras", "05", "l/queyras"),
        ("Maison de services au public Queyras", "05", "l/queyras"),
    ],
)
def test_the_france_services_network_as_people_write_it(query, departement, expected):
    """« FS Bozel » found nothing and « MSAP Queyras » gave « MSAP de Meyrueis » (Lozère): the network's
    abbreviations and former name are its words, not a place's name."""
    bozel = matching.Entity("c/73055", "commune", "Bozel", code="73055", departements=("73",))
    index = matching.NameIndex(
        [
            bozel,
            matching.Entity(
                "l/bozel",
                "lieu",
                "France services La Poste de Bozel",
                parents=[bozel.iri],
                departements=("73",),
            ),
            matching.Entity("l/queyras", "lieu", "France services Queyras", departements=("05",)),
            matching.Entity("l/meyrueis", "lieu", "MSAP de Meyrueis", departements=("48",)),
        ]
    )
    found = index.match(query, ("lieu",), departements=(departement,))
    assert [c.entity.iri for c in found[:1]] == [expected], found


def test_a_candidate_outside_the_asked_departement_never_outranks_one_inside_it():
    """« Bozel » asked in the Hautes-Alpes ranked Bozel (Savoie, 70) above Oze (Hautes-Alpes, 66.8): an exact
    name elsewhere lost 30 points, less than an inside candidate's edit similarity may be below it."""
    index = matching.NameIndex(
        [
            matching.Entity("c/73055", "commune", "Bozel", code="73055", departements=("73",)),
            matching.Entity("c/05099", "commune", "Oze", code="05099", departements=("05",)),
        ]
    )
    found = index.match("Bozel", ("commune",), departements=("05",))
    assert [c.entity.code for c in found] == ["05099", "73055"], found
