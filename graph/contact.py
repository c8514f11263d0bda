"""Contact details in text: public text never carries an e-mail address or a phone number (the loaders put
them in the private graph, contributions keep them out of titles and IRIs, moderation warns of them)."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[ .\u00a0-]?\d{2}){4}(?!\d)")


def scrub(text: str, email: str = "[courriel retiré]", phone: str = "[téléphone retiré]") -> str:
    """Public text never carries an email address or a phone number (they go to the private graph); a
    text scrub() leaves as it is holds none (the moderation screen warns of the others)."""
    return PHONE.sub(phone, EMAIL.sub(email, text))


def email_of(text: str) -> str | None:
    m = EMAIL.search(text)
    return re.sub(r"\s*(?:\[at\]|\(at\))\s*", "@", m.group()).replace(" ", "") if m else None


def phone_of(text: str) -> str | None:
    m = PHONE.search(text)
    return m.group() if m else None
