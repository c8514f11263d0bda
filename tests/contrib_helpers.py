"""Shared by the contribution tests: an app on a real store, and form posting with the CSRF token."""

from __future__ import annotations

import re

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def form_data(**overrides) -> dict:
    data = {
        "titre": "Guide des saisonniers en Maurienne",
        "resume": "Un guide **pratique** pour les travailleurs saisonniers : logement, santé, droits.",
        "type": "guide",
        "url": "https://example.org/guide.pdf",
        "licence": "https://creativecommons.org/licenses/by-sa/4.0/",
        "territoires": "Chambéry [commune 73065]",
        "nom": "Lucie Contributrice",
        "courriel": "lucie.secrete@example.net",
    }
    data.update(overrides)
    return data
