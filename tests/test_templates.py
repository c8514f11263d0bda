"""Every template gets the keys it uses. Jinja2 renders a missing key as an empty string, so a renamed
context key would silently blank a part of a page: this crawls the public pages of a real server,
records what each template was given, and compares it with what the template (and what it extends or
includes) reads."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from jinja2 import nodes
from jinja2.meta import find_referenced_templates, find_undeclared_variables
from pages_helpers import pages_store, serve, wait_for_index

from api.deps import templates
from api.i18n import STRINGS

TEMPLATES = Path(templates.env.loader.searchpath[0])
PAGES = [
    "/",
    "/projets",
    "/themes",
    "/territoires",
    "/recherche?q=saisonniers",
    "/id/projet/tremplin-saison",
    "/id/departement/73",
    "/id/commune/73054",
    "/id/region/84",
    "/id/lieu/france-services-chambery",
    "/sparql",
    "/api",
    "/catalogue",
    "/telechargements",
    "/def",
    "/ressources/proposer",
    "/connexion",
    "/rapprochement",
    "/a-propos",
    "/nulle-part",
    "/projets?page=0",  # a refusal (400), shown to a browser as a page
]
# Templates only a signed-in moderator, a tracking link, a failing store or an included card reach.
NOT_CRAWLED = {
    "moderation.html",
    "moderation_edit.html",
    "historique.html",
    "suivi.html",
    "mes_propositions.html",
    "unavailable.html",
    "reconcile_preview.html",
    "evenement.html",
    "organisation.html",
    "ressource.html",
}


def used_keys(name: str, seen: set[str] | None = None) -> set[str]:
    """Names a template reads from its context, with those of the templates it extends or includes."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    tree = templates.env.parse(templates.env.loader.get_source(templates.env, name)[0])
    imported = {n if isinstance(n, str) else n[1] for i in tree.find_all(nodes.FromImport) for n in i.names}
    # Names the template defines itself (macros, {% set %} inside a block or an if) are not context.
    defined = {m.name for m in tree.find_all(nodes.Macro)}
    for target in (a.target for a in tree.find_all(nodes.Assign)):
        defined |= {n.name for n in [target, *target.find_all(nodes.Name)] if isinstance(n, nodes.Name)}
    defined |= {a.target.name for a in tree.find_all(nodes.AssignBlock)}
    keys = find_undeclared_variables(tree) - imported - defined
    for other in find_referenced_templates(tree):
        if other and not other.startswith("_macros"):
            keys |= used_keys(other, seen)
    return keys


@pytest.fixture(scope="module")
def given(base_iri, territory_triples, tmp_path_factory) -> dict[str, set[str]]:
    """Template name → the context keys of its renders while the public pages were crawled."""
    store = pages_store(base_iri, territory_triples)
    recorded: dict[str, set[str]] = {}
    original = templates.TemplateResponse

    def recording(request, name, context=None, *args, **kwargs):
        recorded.setdefault(name, set()).update(context or {}, {"request"})
        return original(request, name, context, *args, **kwargs)

    templates.TemplateResponse = recording
    try:
        with serve(store, tmp_path_factory.mktemp("templates")) as url:
            wait_for_index(url)  # the lists, not the 503 saying the index is being built
            for page in PAGES:
                r = httpx.get(url + page, headers={"Accept": "text/html"}, timeout=60)
                assert r.status_code in (200, 400, 404), (page, r.status_code)
    finally:
        templates.TemplateResponse = original
    return recorded


def test_every_crawled_template_gets_the_keys_it_reads(given):
    globals_ = set(templates.env.globals)
    missing = {name: sorted(used_keys(name) - keys - globals_) for name, keys in given.items()}
    assert not {name: keys for name, keys in missing.items() if keys}, (
        "keys a template reads and is not given"
    )


def page_templates() -> set[str]:
    """Templates a route renders: not the layout or the parts other templates extend or include."""
    names = {p.name for p in TEMPLATES.glob("*.html")}
    parts = set()
    for name in names:
        tree = templates.env.parse(templates.env.loader.get_source(templates.env, name)[0])
        parts |= set(find_referenced_templates(tree))
    return names - parts


def test_every_page_template_is_crawled_or_named_as_not():
    pages = page_templates()
    assert pages >= NOT_CRAWLED, sorted(NOT_CRAWLED - pages)


def test_the_crawl_reaches_the_page_templates(given):
    pages = page_templates()
    assert pages - NOT_CRAWLED <= set(given), sorted(pages - NOT_CRAWLED - set(given))


def test_the_moderation_pages_take_their_words_from_the_strings_table():
    """The moderation templates wrote their French in the markup, the other pages' words being in
    api/i18n.py: no word is left in their text but the site's name, and every key they ask for is in the
    table."""
    for name in ("moderation.html", "moderation_edit.html"):
        tree = templates.env.parse(templates.env.loader.get_source(templates.env, name)[0])
        text = " ".join(d.data for d in tree.find_all(nodes.TemplateData))
        text = re.sub(r"<[^>]*>", " ", text).replace("Comm'un Services", "")  # the name, in every title
        words = re.findall(r"[^\W\d_]{2,}", text)
        assert words == [], (name, words)
        calls = [c for c in tree.find_all(nodes.Call) if getattr(c.node, "name", "") == "t"]
        keys = {c.args[0].value for c in calls if isinstance(c.args[0], nodes.Const)}
        assert keys <= set(STRINGS), (name, keys - set(STRINGS))
