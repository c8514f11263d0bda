"""Contact details in text: public text never carries an e-mail address or a phone number (the loaders put
them in the private graph, contributions keep them out of titles and IRIs, moderation warns of them)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from graph.matching import fold
from graph.settings import DATA_DIR

AT = re.compile(r"@|\[at\]|\(at\)")  # how an address is written, « [at] » too
EMAIL = re.compile(rf"[\w.+-]+\s*(?:{AT.pattern})\s*[\w-]+(?:\.[\w-]+)+")
# A French number, national (06 …) or international (+33 6 …, 0033 6 …, +33 (0)6 …: the 0 people keep).
PHONE = re.compile(r"(?<!\d)(?:(?:\+|00)33\s?(?:\(0\)\s?)?|0)[1-9](?:[ .\u00a0-]?\d{2}){4}(?!\d)")
# A person named with a civility (« Mme Sophie Durand », « MME DURAND », « M. Le Gall »): a civility in any
# case (but « M. »: « m. » is a metre), then one to three capitalised words (first name, surname), each maybe
# after a particle (« Mme de Villiers »), a day's or a month's name ending them (« Mme Durand Mardi 9h »).
# A title right after the civility (« M. le maire », « Madame La Présidente ») is no name, nor is a civility
# in a street's name (« rue Madame Curie »).
UPPER = "A-ZÀ-ÖØ-Þ"
CALENDAR = (
    "lundi mardi mercredi jeudi vendredi samedi dimanche janvier février fevrier mars avril mai juin "
    "juillet août aout septembre octobre novembre décembre decembre"
)
TITLES = (
    "maire préfet préfète président présidente directeur directrice adjoint adjointe conseiller "
    "conseillère député députée sénateur sénatrice ministre"
)
STREETS = "rue avenue boulevard bd place allée impasse quai square chemin cours passage route"
# A surname's lower-case particle (« M. d'Aubigné », « Mme van der Berg »): part of the name only before a
# capitalised word, so « M. le maire » stays a title.
_PARTICLE = r"(?:(?:de(?:[ \u00a0]+la)?|du|des|van(?:[ \u00a0]+der)?|von|l[ae])[ \u00a0]+|d['’])"
_NAME_WORD = rf"{_PARTICLE}?(?!(?i:{'|'.join(CALENDAR.split())})\b)[{UPPER}][\w'’-]*"
CIVILITY_NAME = re.compile(
    rf"(?<![\w.])(?P<street>(?i:{'|'.join(STREETS.split())})[ \u00a0]+)?"
    r"(?:M\.|(?i:Mme\.?|Mlle\.?|Mr\.?|Madame|Monsieur|Mademoiselle))[ \u00a0]+"
    rf"(?!(?i:(?:l[ae][ \u00a0]+|l['’])?(?:{'|'.join(TITLES.split())}))(?![\w-]))"
    rf"{_NAME_WORD}(?:[ \u00a0]{_NAME_WORD}){{0,2}}"
)


EMAIL_REMOVED, PHONE_REMOVED = "[courriel retiré]", "[téléphone retiré]"  # what scrub() leaves in their place
NAME_REMOVED = "[nom retiré]"


def scrub(
    text: str,
    email: str = EMAIL_REMOVED,
    phone: str = PHONE_REMOVED,
    published: Iterable[str] = (),
    name: str | None = NAME_REMOVED,
) -> str:
    """Public text never carries an email address, a phone number, nor a person named with a civility
    (« Mme Sophie Durand »: whoever a desk's text names so is an agent or a user, never the desk); a text
    scrub() leaves as it is holds none (the moderation screen warns of the others). A number or an address
    that ``published`` (texts already public beside this one: a desk's phone and e-mail columns) holds is no
    one's private one: « prendre rendez-vous au 04 … » keeps it; any other is removed, whose it is cannot
    be told. ``name`` None keeps names: a contributor's name shown is theirs to publish."""
    numbers = {digits(n) for p in published for n in PHONE.findall(p)}
    addresses = {a.lower() for p in published for a in EMAIL.findall(p)}
    text = EMAIL.sub(lambda m: m[0] if m[0].lower() in addresses else email, text)
    text = PHONE.sub(lambda m: m[0] if digits(m[0]) in numbers else phone, text)
    return text if name is None else CIVILITY_NAME.sub(lambda m: m[0] if m["street"] else name, text)


def digits(phone: str) -> str:
    """A phone number however written (04.92…, 04 92…, +33 4 92…, 0033 4 92…, +33 (0)4 92…) as its
    national digits."""
    d = re.sub(r"\D", "", phone)
    return re.sub(r"^(?:00)?330?", "0", d) if len(d) > 10 else d


def email_of(text: str) -> str | None:
    m = EMAIL.search(text)
    return re.sub(r"\s*(?:\[at\]|\(at\))\s*", "@", m.group()).replace(" ", "") if m else None


def phone_of(text: str) -> str | None:
    m = PHONE.search(text)
    return m.group() if m else None


# Words of a service's or a place's address, not of a person's name: with a word of the desk's own names
# (its label, commune, group; not its street, whose « Route Jean-Pierre … » held an agent's first name), any
# of them makes a local part a service's ("pole.couches@", "brest.keredern@" in Brest); a longer word
# holding one of the longer ones too ("cauvaldorservices-…").
SERVICE_WORDS = frozenset(
    re.findall(
        r"\w+",
        """
        france services service fs mfs efs msap masp msp mds mdr mdf mpt psp sp esp accueil contact
        mairie ccas cias cc ca maison espace espaces bus relais pole centre social sociale info point
        numerique public publique emploi direction secretariat agence mediation conseiller itinerant
        itinerance antenne site guichet cyber epn bij pij csi sci mjc caf msa famillesrurales ville
        commune communes pays val vallee bassin plateau agglo mont monts lot vignoble nord sud est
        ouest saint sainte st ste le la les de du des sur sous en haut haute habitants usagers relations
        referent responsable coopr active depar clientel chargeclientel siege rsp clic clics
        """,
    )
)
LONG_SERVICE_WORDS = tuple(w for w in SERVICE_WORDS if len(w) >= 5)
SERVICE_PREFIXES = ("bus", "pays", "fs", "cs")  # "busfsqpv.isere@", "paysdescoteaux@", "csesgo@"
SERVICE_ACRONYMS = tuple(w for w in SERVICE_WORDS if len(w) >= 3)


def personal_email(address: str, names: str = "") -> bool:
    """An address of a person, not of a desk: its local part has a first name among two to four words
    ("msap.nathalie"), or is two to four words of letters ("prénom.nom", "p.nom", "prénom-nom",
    "jean-marc.nom", "prénom.nom-da-nom") or one word made of one or two initials and a name ("mpernot",
    "jnfrancois") or one that is or begins with a first name ("sophie", "alaintomeo"), none a service's or
    a place's word nor one of the desk's ``names``; an acronym
    ("psp.rosiers", "christelle.espere.cscb", "ccbbo") is left aside. Whatever the domain, but the
    national network's: a webmail's is judged by the same shape. A name without initials ("ejacques" reads
    as a word, so does "dupont") is not seen."""
    if "france-services" in address.lower().rpartition("@")[2]:  # the national network's desks
        return False
    parts = fold(address.rpartition("@")[0]).split()
    own = {w for w in fold(names).split() if len(w) > 2}
    if 2 <= len(parts) <= 4 and _first_name(parts, own) or len(parts) == 1 and _named_after(parts[0], own):
        return True
    parts = [p for p in parts if len(p) <= 2 or re.search("[aeiouy]", p)]  # acronyms aside
    if len(parts) == 1:
        parts = _initials_and_name(parts[0], own)
    return (
        2 <= len(parts) <= 4
        and all(p.isalpha() for p in parts)
        and not any(p in SERVICE_WORDS or p in own or any(w in p for w in LONG_SERVICE_WORDS) for p in parts)
        and not any(p.startswith(SERVICE_PREFIXES) for p in parts)
    )


@cache
def _first_names() -> frozenset[str]:
    """INSEE's common first names (data/prenoms), folded, of four letters or more: « Eve », « Luc » are
    words of places and services too."""
    text = (DATA_DIR / "prenoms" / "prenoms-courants.txt").read_text(encoding="utf-8")
    return frozenset(w for w in fold(text).split() if len(w) >= 4)


def _first_name(parts: list[str], own: set[str]) -> bool:
    """A part is a person's first name, whatever the others are (« msap.nathalie », « thierry.villemarie »
    at a desk named after its host), unless the desk's names hold it (« espace.simone.veil » at the Espace
    Simone Veil) or it follows « saint » (« st.martin »)."""
    saints = {"saint", "sainte", "st", "ste"}
    return any(
        p in _first_names() and p not in own and p not in SERVICE_WORDS and not (i and parts[i - 1] in saints)
        for i, p in enumerate(parts)
    )


def _named_after(word: str, own: set[str]) -> bool:
    """A one-word local part that is a first name (« sophie@ », « laurent@ »: a small association's
    agents write so) or begins with one of five letters or more (« alaintomeo », « anaisso »), none of the
    desk's own names in it (« albertville@ » at Albertville) nor a service's word (« franceservices »).
    A shorter first name begins too many words of places and services (« emmabus »)."""
    if word in SERVICE_WORDS or any(w in word for w in own if len(w) > 3):
        return False
    firsts = _first_names()
    return word in firsts or any(
        word[:k] in firsts and word[:k] not in SERVICE_WORDS for k in range(5, len(word))
    )


# Two consonants a French word (or name) may begin with; any other pair cannot start one ("mp", "cg", "jn").
ONSETS = frozenset(
    re.findall(
        r"\w+", "bl br ch cl cr dr fl fr gl gn gr kh ph pl pn pr ps rh sc sh sk sl sm sn sp st sv th tr vr"
    )
)


def _starts_a_word(letters: str) -> bool:
    return bool(re.match("[aeiouy]", letters)) or letters[1:2] in "aeiouy" or letters[:2] in ONSETS


def _initials_and_name(word: str, own: set[str]) -> list[str]:
    """A one-word local part as [initials, name] when it cannot begin a word but drops one or two consonants
    to one that can, of four letters or more ("mpernot" is M. Pernot, "cchampagne" C. Champagne); else as
    it is. A desk's either way: one starting with a service's acronym ("msappij", "fsnantua") or a run of
    consonants ("ccmsl"), or whose rest holds one of its names or starts with a service's word
    ("mddroquebilliere" in Roquebillière, "ppvaldesaire")."""
    if _starts_a_word(word) or word.startswith(SERVICE_PREFIXES + SERVICE_ACRONYMS):
        return [word]
    for k in (1, 2):
        initials, name = word[:k], word[k:]
        if re.fullmatch("[^aeiouy]+", initials) and len(name) >= 4 and _starts_a_word(name):
            desk = any(w in name for w in own if len(w) > 3) or name.startswith(SERVICE_ACRONYMS)
            return [word] if desk else [initials, name]
    return [word]
