"""A meeting report ("Compte rendu – <event>") → the event, its figures, what it presented, the events it
announced, the questions exchanged, the survey, and who took the notes. Headings are matched by
``HEADINGS``; a figure is a number alone on its line followed by its label.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path

import pyoxigraph as ox

from graph import contact
from graph.namespaces import SCHEMA, Minter, slugify
from graph.terms import Triples, lit
from loaders import ImportResult, SourceError, mentions, named
from loaders.dates import MONTH, MONTHS

TITLE = re.compile(r"^Compte[ -]rendu\s*[–—-]\s*(.+)$", re.I)
MONTH_LINE = re.compile(rf"^({MONTH})\s+(\d{{4}})$", re.I)
HEADINGS = {
    "introduction": re.compile(r"^Introduction$", re.I),
    "compte-rendu": re.compile(r"^Compte[ -]rendu$", re.I),
    "echanges": re.compile(r"^[EÉ]changes?\b", re.I),
    "sondage": re.compile(r"^R[ée]sultats?\b.*sondage", re.I),
    "notes": re.compile(r"^Prises? de notes?\s*:?$", re.I),
    "redaction": re.compile(r"^R[ée]daction\b.*:?$", re.I),
}
PART = re.compile(r"^Partie\s+(\d+)\s*:\s*(.+)$", re.I)
SURVEY_QUESTION = re.compile(r"^(\d+)\s*[-–.)]\s*(.+)$")
NUMBER = re.compile(r"^\d{1,6}$")
DAY_DATE = re.compile(
    rf"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)?\s*(\d{{1,2}})(?:er)?\s+({MONTH})(?:\s+(\d{{4}}))?",
    re.I,
)
LATER = re.compile(r"(?:en\s+)?fin d['’]année\s+(\d{4})(?:\s*\(([^)]*)\))?", re.I)
PERSON_LINE = re.compile(r"^([A-ZÉÈ][\wéèëïô'-]+(?:[ -][A-ZÉÈ][\wéèëïô'-]+)+)\s*[–—-]\s*(\S+@\S+)$")
BOLD = re.compile(r"\*\*(.+?)\*\*")
ONLINE = ox.NamedNode(SCHEMA + "OnlineEventAttendanceMode")
QUOTED = re.compile(r"[\"“«]\s*(.+?)\s*[\"”»]")


@dataclass
class Report:
    name: str
    title_line: int
    subtitle: str | None = None
    summary: str | None = None
    month: tuple[int, int] | None = None  # (year, month)
    sections: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    head: list[tuple[int, str]] = field(default_factory=list)
    last_line: int = 0


def parse(path: Path) -> Report:
    lines = mentions.read_lines(path)
    content = [(i + 1, line.strip()) for i, line in enumerate(lines) if line.strip()]
    if not content:
        raise SourceError(path, "empty document", 1)
    title = next(((n, TITLE.match(t)) for n, t in content if TITLE.match(t)), None)
    if title is None:
        raise SourceError(path, "not a meeting report: no 'Compte rendu – <event>' title line", content[0][0])
    first, m = title
    if content[0][0] < first:
        raise SourceError(path, "text before the 'Compte rendu – …' title line", content[0][0])
    rep = Report(m.group(1).strip(), first, last_line=content[-1][0])
    current = rep.head
    for n, text in content[1:]:
        name = next((k for k, rx in HEADINGS.items() if rx.match(text)), None)
        if name:
            current = rep.sections.setdefault(name, [])
        else:
            current.append((n, text))
    if mm := next(filter(None, (MONTH_LINE.match(t) for _, t in rep.head)), None):
        rep.month = (int(mm.group(2)), MONTHS[mm.group(1).lower()])
    body = [t for n, t in rep.head if not MONTH_LINE.match(t)]
    rep.subtitle = body[0] if body else None
    rep.summary = next((t for t in body[1:] if len(t) > 60), None)
    if "compte-rendu" not in rep.sections and "introduction" not in rep.sections:
        raise SourceError(path, "no 'Introduction' nor 'Compte-rendu' heading: not a meeting report", first)
    return rep


def figures(lines: list[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """(line, value, label): a number alone on its line, then its label lines (up to the next number)."""
    out: list[tuple[int, int, str]] = []
    for k, (n, text) in enumerate(lines):
        if NUMBER.match(text):
            following = (t for _, t in lines[k + 1 :])
            label = list(takewhile(lambda t: not NUMBER.match(t) and len(t) <= 60, following))
            if label:
                out.append((n, int(text), re.sub(r"\s+", " ", " ".join(label)).strip()))
    return out


def _plain(text: str) -> str:
    """Markdown emphasis and links out: '**X**' → 'X', '[ici](#)' → 'ici'."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", BOLD.sub(r"\1", text)).replace("☞", "").strip(" -:")


def _date_after(report_month: tuple[int, int] | None, m: re.Match) -> ox.Literal:
    """A DAY_DATE match; without a year, the first such day after the report's month."""
    day, month = int(m.group(1)), MONTHS[m.group(2).lower()]
    if m.group(3):
        return lit(dt.date(int(m.group(3)), month, day))
    ref_year, ref_month = report_month or (dt.date.today().year, 1)
    return lit(dt.date(ref_year + (1 if month < ref_month else 0), month, day))


def build(path: Path, minter: Minter) -> ImportResult:
    rep = parse(path)
    res = mentions.resolver()
    ym = f"{rep.month[0]}-{rep.month[1]:02d}" if rep.month else None
    slug = slugify(f"{rep.name} {ym or ''}")
    pub, priv = Triples(), Triples()
    report_lines: list[str] = []
    doc = mentions.describe_document(pub, minter, path, f"Compte rendu – {rep.name} ({path.name})")
    ev = ox.NamedNode(minter.thing("evenement", slug))
    all_parts = [(n, t) for part in [rep.head, *rep.sections.values()] for n, t in part]
    all_text = "\n".join(t for _, t in all_parts)
    file_line = [n for n, _ in all_parts]  # line k of all_text (from 1) → its line in the file
    online = bool(re.search(r"\bvisio|à distance|en ligne|web\s*@", all_text + rep.name, re.I))
    named(pub, ev, rep.name, "schema:Event")
    pub.add(ev, "schema:alternateName", rep.subtitle, "fr")
    pub.add(ev, "schema:abstract", rep.summary and contact.scrub(rep.summary), "fr")
    pub.add(ev, "schema:eventAttendanceMode", ONLINE if online else None)
    pub.add(ev, "schema:startDate", lit(ym, datatype="xsd:gYearMonth") if ym else None)
    mentions.derived(pub, ev, doc, f"{rep.title_line}-{rep.last_line}")
    pub.add(doc, "schema:about", ev)
    adrets = ox.NamedNode(minter.thing("organisation", mentions.ADRETS))
    intro = rep.sections.get("introduction", [])
    for n, text in intro:
        if re.search(r"organis", text, re.I):
            for org in res.find(text, n).orgs:
                pub.add(ev, "schema:organizer", ox.NamedNode(minter.thing("organisation", org)))
    intro_text = "\n".join(t for _, t in intro if not NUMBER.match(t) and len(t) > 60)
    pub.add(ev, "schema:description", contact.scrub(intro_text), "fr")
    for n, value, label in figures(intro):
        q = ox.NamedNode(minter.thing("evenement", f"{slug}-chiffre-{slugify(label.split('(')[0])}"))
        pub.a(q, "schema:QuantitativeValue")
        pub.label(q, f"{value} {label}")
        pub.add(q, "schema:value", value)
        pub.add(q, "schema:unitText", label.split("(")[0].strip(), "fr")
        pub.add(q, "cs:sourceLines", str(n))
        pub.add(ev, "cs:indicator", q)
        report_lines.append(f"chiffre : {value} {label} (ligne {n})")
        for place in res.find(label, n).places:
            pub.add(ev, "dcterms:spatial", mentions.place_iri(minter, place))
            report_lines.append(f"  représenté : {place.label} ({place.kind} {place.code})")
    # What was presented, and what is announced.
    announced = 0
    for n, text in rep.sections.get("compte-rendu", []):
        plain, quoted = _plain(text), QUOTED.search(text)
        if "consultable" in text.lower():
            bold = BOLD.search(text)
            name = bold.group(1) if bold else re.split(r"\s+sur\s+|\s*☞|\s*:", plain)[0]
            name = re.sub(r"^Présentation\s+(?:de\s+l['’]|de\s+la\s+|du\s+|des\s+|de\s+)", "", name).strip()
            r = ox.NamedNode(minter.thing("ressource", slugify(name)))
            website = bool(re.search(r"plateforme|site", text, re.I))
            named(pub, r, name, "schema:WebSite" if website else "schema:CreativeWork")
            if re.search(r"état des lieux|rapport|étude", name, re.I):
                pub.a(r, "schema:Report")
            pub.add(r, "schema:alternativeHeadline", quoted.group(1) if quoted else None, "fr")
            pub.add(r, "schema:publisher", adrets)
            # No licence is stated for the association's own works: say so rather than invent one.
            pub.add(r, "dcterms:rights", mentions.RIGHTS, "fr")
            mentions.derived(pub, r, doc, n)
            pub.add(ev, "schema:workFeatured", r)
            report_lines.append(f"ressource présentée : {name} (ligne {n})")
        for when, label, note in _announcements(text, rep):
            announced += 1
            f = ox.NamedNode(minter.thing("evenement", slugify(f"{label} {when.value}")))
            named(pub, f, label, "schema:Event")
            pub.add(f, "schema:startDate", when)
            pub.add(f, "cs:dateNote", note, "fr")
            pub.add(f, "schema:eventStatus", ox.NamedNode(SCHEMA + "EventScheduled"))
            pub.add(f, "schema:alternateName", quoted.group(1) if quoted else None, "fr")
            pub.add(f, "schema:description", contact.scrub(plain), "fr")
            if re.search(r"web\s*@|visio", label, re.I):
                pub.add(f, "schema:eventAttendanceMode", ONLINE)
            for place in res.find(re.split(r"\brencontre\b", text, flags=re.I)[-1], n).places:
                pub.add(f, "schema:location", mentions.place_iri(minter, place))
            mentions.derived(pub, f, doc, n)
            pub.add(ev, "cs:followUp", f)
            report_lines.append(
                f"événement annoncé : {label}, {when.value}{' (' + note + ')' if note else ''} (ligne {n})"
            )
    # Questions exchanged, and the survey.
    for kind, section, opener in (("question", "echanges", PART), ("sondage", "sondage", SURVEY_QUESTION)):
        for k, (n, heading, question, answer, last) in enumerate(
            _qa(rep.sections.get(section, []), opener), 1
        ):
            qi = ox.NamedNode(minter.thing("evenement", f"{slug}-{kind}-{k}"))
            ai = ox.NamedNode(minter.thing("evenement", f"{slug}-{kind}-{k}-reponse"))
            named(pub, qi, heading, "schema:Question")
            pub.add(qi, "schema:text", contact.scrub(question), "fr")
            mentions.derived(pub, qi, doc, f"{n}-{last}")
            if answer:
                pub.a(ai, "schema:Answer")
                pub.label(ai, f"Réponse : {heading}")
                pub.label(ai, f"Answer: {heading}", "en")  # our word; the heading is the report's
                pub.add(ai, "schema:text", contact.scrub(answer), "fr")
                pub.add(qi, "schema:acceptedAnswer", ai)
            pub.add(ev, "cs:surveyQuestion" if kind == "sondage" else "cs:question", qi)
            report_lines.append(f"{kind} {k} : {heading[:70]} (lignes {n}-{last})")
    survey_text = "\n".join(t for _, t in rep.sections.get("sondage", []))
    for theme in sorted(res.find(survey_text).themes):
        pub.add(ev, "cs:surveyTheme", ox.NamedNode(minter.thing("theme", theme)))
        report_lines.append(f"thème du sondage : {theme}")
    found = res.find(all_text, 1)
    mentions.link(pub, minter, ev, found, "schema:mentions", "schema:about", "schema:mentions")
    report_lines.extend(
        f"  non résolu : {name} (ligne {file_line[line - 1]})" for name, line in found.unresolved
    )
    # People: note-takers and authors, private whole (mentions.describe_person).
    people = 0
    for section, subject, predicate in (("notes", ev, "cs:noteTaker"), ("redaction", doc, "schema:author")):
        for n, text in rep.sections.get(section, []):
            m = PERSON_LINE.match(text)
            if m:
                email = contact.email_of(m.group(2))
                person = mentions.describe_person(priv, minter, m.group(1), n, {"schema:email": email})
                priv.add(subject, predicate, person)
                people += 1
            elif contact.EMAIL.fullmatch(text):
                # A desk address with no person's name: the association's public contact.
                pub.add(adrets, "schema:email", contact.email_of(text))
            elif url := re.fullmatch(r"<?(https?://[^>\s]+)>?", text):
                pub.add(adrets, "schema:url", ox.NamedNode(url[1]))
    _, orgs = mentions.named_in(pub, minter)
    report_lines.insert(
        0,
        f"{path.name} : événement « {rep.name} » ({ym or 'date inconnue'}), {announced} événements annoncés, "
        f"{people} mentions de personnes, {len(orgs)} organisations",
    )
    label = f"Compte rendu – {rep.name}"
    return mentions.document_graphs(minter, res, pub, priv, f"rapport/{slug}", label, path.name, report_lines)


def _announcements(text: str, rep: Report) -> list[tuple[ox.Literal, str, str | None]]:
    """Events a bullet announces: 'Prochain web @atelier le jeudi 23 mars', '1 rencontre X : … le mardi
    6 juin', '1 rencontre Y : en fin d'année 2023 (date à fixer)'."""
    plain = _plain(text)
    nxt = re.search(r"prochaine?s?\s+(web\s*@\s*t?ate?lier|rencontre|visio[\w-]*)", plain, re.I)
    day = DAY_DATE.search(plain[nxt.end() :] if nxt else plain)
    if nxt and day:
        number = re.search(r"n°\s*(\d+)", rep.name)
        series = re.sub(r"\s*n°\s*\d+.*$", "", rep.name)
        same_series = slugify(series).split("-")[0] == slugify(nxt.group(1)).split("-")[0]
        label = (
            f"{series} n°{int(number.group(1)) + 1}" if number and same_series else f"Prochain {nxt.group(1)}"
        )
        return [(_date_after(rep.month, day), label, None)]
    m = re.match(r"^\d+\s+(rencontre[^:]*?)\s*:", plain, re.I)
    if not m:
        return []
    label = m.group(1)[:1].upper() + m.group(1)[1:]
    if day := DAY_DATE.search(plain[m.end() :]):
        return [(_date_after(rep.month, day), label, None)]
    later = LATER.search(plain)
    return [(lit(later.group(1), datatype="xsd:gYear"), label, later.group(0))] if later else []


def _qa(lines: list[tuple[int, str]], opener: re.Pattern) -> list[tuple[int, str, str, str, int]]:
    """(first line, heading, question, answer, last line) for each block opened by ``opener``.
    The question is the quoted line after a 'Partie N : …' heading, or the numbered line itself."""
    blocks: list[list[tuple[int, str]]] = []
    for n, text in lines:
        if opener.match(text):
            blocks.append([(n, text)])
        elif blocks:
            blocks[-1].append((n, text))
    out = []
    for block in blocks:
        n, head = block[0]
        m = opener.match(head)
        heading = m.group(2).strip()
        rest = block[1:]
        if rest and re.match(r"^[\"“«]", rest[0][1]):
            question, rest = rest[0][1].strip('"“”«» '), rest[1:]
        else:
            question = heading
        answer = "\n".join(t for _, t in rest).strip()
        out.append((n, heading, question, answer, block[-1][0]))
    return out
