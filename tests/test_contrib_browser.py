"""The whole contribution flow in a real browser (Debian's chromium driven by Playwright) against a real
uvicorn server: propose with a file → see a field error → fix → a moderator logs in, edits and accepts →
the resource is on its territory (SPARQL rollup) → its history shows both versions → revert works."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from conftest import load_reference
from contrib_helpers import PDF
from pages_helpers import serve, wait_for_index

from api.accounts import Accounts
from graph.store import OxigraphStore

FIRST_SEARCH_MS = 120_000  # the first territory search builds the index, however loaded the machine


@pytest.fixture(scope="module")
def server(base_iri, territory_triples, tmp_path_factory) -> Iterator[tuple[str, OxigraphStore]]:
    """One server for the module: only the first test proposes, and no other test sends a form that passes."""
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    folder = tmp_path_factory.mktemp("contrib-browser")
    accounts = str(folder / "comptes.sqlite")
    Accounts(accounts).add("camille", "mot-de-passe-moderation", "moderateur", "Camille Modératrice")
    with serve(store, folder, accounts_db=accounts) as url:
        wait_for_index(url)  # the territories' suggestions, and the home page a signing out lands on
        yield url, store


def titles_on_territory(store: OxigraphStore, territory: str) -> list[str]:
    """What a territory page lists: resources on the territory or on any place inside it."""
    rows = store.select(
        """SELECT ?t WHERE { ?r a <http://schema.org/CreativeWork> ; <http://schema.org/name> ?t ;
             <http://purl.org/dc/terms/spatial>/<http://purl.org/dc/terms/isPartOf>* ?terr }""",
        {"terr": ox.NamedNode(territory)},
    )
    return sorted(r["t"].value for r in rows)


def test_propose_fix_moderate_accept_history_revert(browser, server, tmp_path):
    url, store = server
    pdf = tmp_path / "guide-saisonniers.pdf"
    pdf.write_bytes(PDF)
    page = browser.new_page(locale="fr-FR")  # a French contributor: the pages follow Accept-Language
    page.goto(f"{url}/ressources/proposer")
    page.fill("#titre", "Guide d'accueil des saisonniers")
    page.fill("#resume", "Tout ce qu'il faut savoir en arrivant pour la saison : logement, santé, droits.")
    page.select_option("#type", "guide")
    page.fill("#url", "pas une adresse")
    page.fill("#territoire-recherche", "Chambér")  # the autocomplete of contrib.js
    # the first search builds the territories' index
    page.get_by_role("option", name="Chambéry (commune 73065)").click(timeout=FIRST_SEARCH_MS)
    assert page.input_value("#territoires") == "Chambéry [commune 73065]"
    page.check("input[value$='/id/theme/saisonnalite']")
    page.set_input_files("#fichier", str(pdf))
    page.fill("#nom", "Sam")
    page.fill("#courriel", "sam.prive@example.net")
    page.click("button[type=submit]")

    error = page.locator("#err-url")
    assert "https://" in error.inner_text()
    assert page.get_attribute("#url", "aria-invalid") == "true"
    assert page.input_value("#territoires") == "Chambéry [commune 73065]"  # kept
    page.fill("#url", "https://example.org/guide-saisonniers")
    page.set_input_files("#fichier", str(pdf))  # browsers never keep a file across a reload
    page.click("button[type=submit]")
    assert "/suivi/" in page.url
    assert "en attente" in page.inner_text("main")
    follow_url = page.url.split("?")[0]
    assert titles_on_territory(store, "https://data.adrets-asso.fr/id/departement/73") == []

    moderator = browser.new_context(locale="fr-FR").new_page()
    moderator.goto(f"{url}/moderation")
    moderator.fill("#identifiant", "camille")
    moderator.fill("#mot_de_passe", "mot-de-passe-moderation")
    moderator.click("button[type=submit]")
    moderator.get_by_role("link", name="Guide d'accueil des saisonniers").click()
    moderator.fill("#titre", "Guide d'accueil des travailleurs saisonniers")
    moderator.get_by_role("button", name="Enregistrer et accepter").click()
    assert "acceptée" in moderator.inner_text("main")

    on_savoie = titles_on_territory(store, "https://data.adrets-asso.fr/id/departement/73")
    assert on_savoie == ["Guide d'accueil des travailleurs saisonniers"]
    assert titles_on_territory(store, "https://data.adrets-asso.fr/id/region/84") == on_savoie
    page.goto(follow_url)
    assert "acceptée" in page.inner_text("main")

    moderator.get_by_role("link", name="historique").click()
    history = moderator.inner_text("main")
    assert "Guide d'accueil des saisonniers" in history  # version 1, removed
    assert "Guide d'accueil des travailleurs saisonniers" in history  # version 2, added
    assert moderator.locator("del", has_text="Guide d'accueil des saisonniers").count() >= 1
    moderator.get_by_role("button", name="Revenir à la version 1").click()
    assert "Retour à une version antérieure" in moderator.inner_text("main")
    assert titles_on_territory(store, "https://data.adrets-asso.fr/id/departement/73") == [
        "Guide d'accueil des saisonniers"
    ]
    media = store.select("SELECT ?m WHERE { ?r <http://schema.org/associatedMedia> ?m }")
    path = media[0]["m"].value.removeprefix(store.minter.base)
    download = page.request.get(f"{url}/{path}")  # the anonymous contributor's browser
    assert download.status == 200 and download.body() == PDF
    moderator.get_by_role("button", name="Se déconnecter").click()  # a shared desk computer
    assert moderator.get_by_role("link", name="Se connecter").is_visible()
    moderator.goto(f"{url}/moderation")
    assert "/connexion" in moderator.url
    moderator.context.close()
    page.close()


def test_a_refused_form_says_so_in_its_title_and_focuses_the_list_of_errors(browser, server):
    """After an empty form was sent, the focus stayed on the page and its title said nothing: the title
    begins with « Erreur » and the list of what to fix has the focus, without a script."""
    url, _ = server
    page = browser.new_page(locale="fr-FR", java_script_enabled=False)
    page.goto(f"{url}/ressources/proposer")
    assert page.title().startswith("Proposer une ressource")
    page.click("button[type=submit]")
    assert page.title().startswith("Erreur\u00a0: Proposer une ressource")
    page.wait_for_function("document.activeElement.id === 'resume-erreurs'")
    page.close()


def test_a_sending_too_large_is_explained_and_back_keeps_what_was_typed(browser, server, tmp_path):
    """The server refuses a body over the limit unread (413): its page says to go back, and the browser's
    Back button gives the form back as it was typed."""
    url, _ = server
    big = tmp_path / "trop-gros.pdf"
    big.write_bytes(PDF + b"0" * (11 * 1024 * 1024))  # over the 10 MiB a file may weigh
    page = browser.new_page(locale="en-GB")
    page.goto(f"{url}/ressources/proposer")
    page.fill("#titre", "A guide typed for an hour")
    page.fill("#resume", "Everything a seasonal worker needs, written with care.")
    page.set_input_files("#fichier", str(big))
    page.click("button[type=submit]")
    assert "Back button, which keeps what you typed" in page.inner_text("main")
    page.go_back()
    assert page.input_value("#titre") == "A guide typed for an hour"
    assert page.input_value("#resume") == "Everything a seasonal worker needs, written with care."
    page.close()


def test_the_territory_search_is_a_combobox_the_keyboard_drives(browser, server):
    """Down focused the first of 12 suggestions and nothing further, and a search without result showed and
    said nothing: Down and Up move through them (the focus stays in the box, aria-activedescendant names
    the one shown), Enter adds it, Escape closes the list, and the status line says how many or none."""
    url, _ = server
    page = browser.new_page(locale="en-GB")
    page.goto(f"{url}/ressources/proposer")
    page.set_default_timeout(FIRST_SEARCH_MS)  # the first search builds the territories' index
    box, options = page.locator("#territoire-recherche"), page.locator("#territoire-suggestions li")
    found = page.request.get(f"{url}/territoires/autocomplete?q=Saint-Bonnet", timeout=FIRST_SEARCH_MS).json()
    assert len(found) == 12
    box.fill("Saint-Bonnet")
    options.nth(11).wait_for()
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"
    assert [options.nth(i).get_attribute("role") for i in range(12)] == ["option"] * 12
    assert page.inner_text("#territoire-statut").startswith("Suggestions: 12. Up and down arrows")

    def shown() -> int:
        active = box.get_attribute("aria-activedescendant")
        selected = [i for i in range(12) if options.nth(i).get_attribute("aria-selected") == "true"]
        assert selected == [int(active.rsplit("-", 1)[1])], (active, selected)
        return selected[0]

    for key, index in [("ArrowDown", 0), ("ArrowDown", 1), ("ArrowDown", 2), ("ArrowUp", 1)]:
        box.press(key)
        assert shown() == index, key
    assert page.evaluate("document.activeElement.id") == "territoire-recherche"
    box.press("Enter")
    assert page.input_value("#territoires") == found[1]["valeur"]
    assert options.count() == 0 and box.get_attribute("aria-expanded") == "false"
    assert box.input_value() == ""

    box.fill("Saint-Bonnet")
    options.nth(11).wait_for()
    box.press("ArrowUp")  # before the first: the last
    assert shown() == 11
    box.press("Escape")
    assert options.count() == 0 and box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None and box.input_value() == "Saint-Bonnet"
    box.press("ArrowDown")  # opens the list again
    options.nth(11).wait_for()
    assert page.input_value("#territoires") == found[1]["valeur"]  # nothing added meanwhile

    box.fill("zzzzqqq")
    none = "No territory matches: try another name, or an INSEE code."
    page.locator("#territoire-statut", has_text=none).wait_for()
    assert page.inner_text("#territoire-statut") == none
    assert page.get_attribute("#territoire-statut", "role") == "status"
    assert options.count() == 0 and box.get_attribute("aria-expanded") == "false"
    box.press("Enter")  # nothing to add, and the form is not sent
    assert page.url.endswith("/ressources/proposer")
    assert page.input_value("#territoires") == found[1]["valeur"]
    page.close()


def test_a_territory_added_from_the_suggestions_is_announced(browser, server):
    """A screen reader heard nothing when Enter added a territory (the list closed, the box emptied, the
    status line went blank): the polite status line says which one was added."""
    url, _ = server
    page = browser.new_page(locale="fr-FR")
    page.goto(f"{url}/ressources/proposer")
    page.set_default_timeout(FIRST_SEARCH_MS)  # the first search builds the territories' index
    box = page.get_by_role("combobox", name="Chercher un territoire à ajouter")
    box.fill("Chambér")
    page.get_by_role("option", name="Chambéry (commune 73065)").wait_for()
    box.press("Enter")
    status = page.get_by_role("status").filter(has_text="Territoire ajouté")
    assert status.inner_text() == "Territoire ajouté\u00a0: Chambéry (commune 73065)"
    assert status.get_attribute("id") == "territoire-statut"
    assert page.input_value("#territoires") == "Chambéry [commune 73065]"
    page.close()
