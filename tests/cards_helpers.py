"""The page-fixture store plus tests/fixtures/cards/cards.ttl: one resource of every card kind."""

from __future__ import annotations

from pathlib import Path

from pages_helpers import pages_store

from graph.contributions import Content, Contributions, Contributor, StoredFile
from graph.store import OxigraphStore
from loaders import rdf as rdf_loader

CONTRIBUTOR_EMAIL = "camille.martin@example.org"  # private: never on a page
CARDS = Path(__file__).parent / "fixtures" / "cards" / "cards.ttl"
# One page per kind: the facts each must show, by visible text (French, English).
PAGES = {
    "projet": "/id/projet/tremplin-saison",
    "lieu": "/id/lieu/espace-saisonniers-bourg",
    "ressource": "/id/ressource/guide-saisonniers",
    "ressource-contribuee": "/id/ressource/fiche-covoiturage",
    "territoire-departement": "/id/departement/73",
    "territoire-commune": "/id/commune/73054",
    "organisation": "/id/organisation/mission-locale",
    "evenement": "/id/evenement/rencontre-2023",
}


def cards_store(base_iri: str, territory_triples: list) -> OxigraphStore:
    store = pages_store(base_iri, territory_triples)
    for load in rdf_loader.build(CARDS, store.minter, graph=store.minter.graph("essai-fiches")).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    # A contributed resource, proposed then accepted through the real model: its card shows the history.
    m = Contributions(store, b"secret")
    content = Content(
        "Fiche covoiturage",
        "Organiser le covoiturage des saisonniers.",
        "fiche-pratique",
        url="https://example.org/covoiturage",
        territories=[store.minter.base + "id/commune/73054"],
        file=StoredFile(
            store.minter.base + "fichiers/fiche-covoiturage/fiche.pdf", "fiche.pdf", "application/pdf", 9
        ),
    )
    contributor = Contributor("Camille Martin", CONTRIBUTOR_EMAIL, show_name=True)
    rid, _ = m.propose(content, contributor, rid="fiche-covoiturage")
    m.accept(rid, "modo", "Équipe de modération")
    return store
