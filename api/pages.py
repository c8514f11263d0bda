"""Shared machinery of the browsing pages: store access, language, links, text rendering."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.deps import templates
from api.i18n import language, translator
from api.public_http import read_at
from graph import search
from graph.store import Store


def store_of(request: Request) -> Store:
    """The deadline-enforcing reader (graph.pool.Reader) once the app started, else the store."""
    return getattr(request.app.state, "reader", None) or request.app.state.store


def catalog_of(request: Request) -> search.Catalog:
    """The lists' and search's index, for a page read from it: the answer says the version it was read at,
    the index's (a moment behind the store's, perhaps), as every other public read does."""
    cat = search.catalog(store_of(request))
    read_at(request, cat.version)
    return cat


async def version_of(store: Store) -> int:
    """For an async route: on a remote store the version is an HTTP read, which a hung server holds for
    seconds (graph/remote.py ``ANSWER_WITHIN``), and on the event loop every other request would wait too."""
    return await run_in_threadpool(lambda: store.version)


def number_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    """A positive whole-number query parameter (page, limit…): a 400 that names it when it is not one."""
    given = request.query_params.get(name, "")
    if given == "":
        return default
    if not given.isascii() or not given.isdigit() or int(given) < 1:
        raise HTTPException(400, f"{name}={given[:40]!r} : un nombre entier positif est attendu / expected")
    return min(int(given), maximum) if maximum else int(given)


def base_of(request: Request) -> str:
    return request.app.state.settings.base_iri


def local_path(iri: str, base: str) -> str:
    """IRIs under the base become site paths, so browsing works on 127.0.0.1 as in production."""
    if iri.startswith(base):
        return "/" + iri[len(base) :]
    return iri


WEB_ADDRESS = re.compile(r"https?://[^\s]+$", re.IGNORECASE)  # what a page links to or shows as a web address


# Texts are Markdown (CommonMark: **bold**, *italic*, lists, [links](https://…)), the sources' as the
# contributors': raw HTML is escaped, javascript:/data: links refused, no images (nothing loads from
# elsewhere) and no headings (they would break the page's outline). Texts are written a line at a time: a
# line break is kept, "•"/"→" bullets are list items, and a line without a bullet after an item ends the list
# (Markdown would carry it on in the item: Smart Villages' "iNotre espace de ressources…").
MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(["image", "heading", "lheading"])
SOURCE_BULLET = re.compile(r"^(\s*)[•→]\s*", re.M)
ITEM = r"(?:[-*+]|\d{1,9}[.)])\s"
LIST_END = re.compile(rf"^(\s*{ITEM}.*)\n(?!\s|{ITEM})", re.M)


def paragraphs(text: str) -> Markup:
    """A long text (a description, a contributor's summary) as HTML, from its Markdown."""
    return Markup(MARKDOWN.render(LIST_END.sub(r"\1\n\n", SOURCE_BULLET.sub(r"\1- ", text or ""))))


def inline(text: str) -> Markup:
    """A one-paragraph text (a card's summary) as HTML, its Markdown emphasis and links only."""
    return Markup(MARKDOWN.renderInline(text or ""))


def plain(text: str) -> str:
    """A one-paragraph text as plain text (a page's meta description): its emphasis and links' words. The
    only tags are Markdown's (a user's ``<`` is escaped); its spaces stay (striptags would turn the narrow
    no-break space before « ; » into a breaking one)."""
    return Markup(re.sub(r"<[^>]*>", "", inline(text))).unescape()


def lang_attr(text: object, page_lang: str) -> Markup:
    """``lang="…"`` for an element holding a text in another language than the page's (WCAG 3.1.2), read
    from its literal's tag (graph.describe.Text); nothing for a text in the page's language or untagged."""
    tag = getattr(text, "lang", "")
    return Markup(' lang="{}"').format(tag) if tag and tag.split("-")[0].lower() != page_lang else Markup()


def number(value: float, lang: str, decimals: int = 0) -> str:
    """French: 75 000,5 (narrow no-break space); English: 75,000.5."""
    text = f"{value:,.{decimals}f}"
    return text if lang == "en" else text.replace(",", "\u202f").replace(".", ",")


def money(value: float, currency: str, lang: str) -> str:
    whole = value == int(value)
    amount = number(value, lang, 0 if whole else 2)
    symbol = "€" if currency in ("EUR", "") else currency
    return f"{symbol}{amount}" if lang == "en" else f"{amount}\u00a0{symbol}"


def with_query(request: Request, **changes: Any) -> str:
    """The current URL with some parameters changed (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for k, v in changes.items():
        params += [(k, x) for x in (v if isinstance(v, list | tuple) else [v]) if x is not None]
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def render(request: Request, template: str, context: Any, status_code: int = 200) -> HTMLResponse:
    """``context``: a dict, or a page's typed context (a dataclass: its fields are the template's keys)."""
    conneg.page(request)
    lang = language(request)
    base = base_of(request)
    t = translator(lang)
    ctx = {
        "lang": lang,
        "t": t,
        "local": lambda iri: local_path(iri, base),
        "paragraphs": paragraphs,
        "inline": inline,
        "lang_attr": lambda text: lang_attr(text, lang),
        "num": lambda n: number(n, lang),
        "counted": lambda n, key: f"{number(n, lang)} {t(key, n=n)}",  # "1 projet", "2 000 résultats"
        "money": lambda n, currency="EUR": money(n, currency, lang),
        "with_query": lambda **kw: with_query(request, **kw),
        "other_lang": "en" if lang == "fr" else "fr",
        **(context if isinstance(context, dict) else vars(context)),
    }
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if request.query_params.get("lang") in ("fr", "en"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response
