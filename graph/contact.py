"""Contact details in text: public text never carries an e-mail address or a phone number (the loaders put
them in the private graph, contributions keep them out of titles and IRIs, moderation warns of them)."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\[at\]|\(at\))\s*[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[ .\u00a0-]?\d{2}){4}(?!\d)")


def scrub(
    text: str,
    email: str = "[courriel retiré]",
    phone: str = "[téléphone retiré]",
    published: Iterable[str] = (),
) -> str:
    """Public text never carries an email address or a phone number (they go to the private graph); a
    text scrub() leaves as it is holds none (the moderation screen warns of the others). A number that
    ``published`` (texts already public beside this one: a desk's phone column) holds is no one's private
    number: « prendre rendez-vous au 04 … » keeps it; any other is removed, whose it is cannot be told."""
    public = {digits(n) for p in published for n in PHONE.findall(p)}
    return PHONE.sub(lambda m: m[0] if digits(m[0]) in public else phone, EMAIL.sub(email, text))


def digits(phone: str) -> str:
    """A phone number however written (04.92…, 04 92…, +33 4 92…) as its national digits."""
    d = re.sub(r"\D", "", phone)
    return "0" + d[2:] if d.startswith("33") and len(d) == 11 else d


def email_of(text: str) -> str | None:
    m = EMAIL.search(text)
    return re.sub(r"\s*(?:\[at\]|\(at\))\s*", "@", m.group()).replace(" ", "") if m else None


def phone_of(text: str) -> str | None:
    m = PHONE.search(text)
    return m.group() if m else None
