"""graph/matching.py on small stores: name keys, certainty, and an index that follows the store's writes."""

from __future__ import annotations

import time

import pyoxigraph as ox
import pytest

from graph import matching
from graph.namespaces import IGEO, RDF, RDFS, SCHEMA
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
    deadline = time.monotonic() + 30
    while matching.index_of(store) is index and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = matching.index_of(store)
    found = fresh.match("maison des saisonniers", ("projet",))
    assert found[0].match and found[0].entity.departements == ("73",)
    assert fresh.entities[store.minter.thing("commune", "73034")].projects == 1
