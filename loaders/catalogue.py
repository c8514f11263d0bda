"""The association's project catalogue (plain text) → projects, grants, places, organisations, people.

A record opens with its title, its activity line and the title again (or the title twice), then optional
sections ("Objectifs:", "Budget", "Contact & informations"…). Text is kept as written.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from graph import contact
from graph.namespaces import Minter, slugify
from graph.terms import Triples
from loaders import ImportResult, SourceError, dates, mentions, named
from loaders.mentions import Resolver

GRAPH_NAME = "catalogue"
ACTIVITY_LINES = {
    "animation de réseau": "animation-de-reseau",
    "stratégie territoriale": "strategie-territoriale",
    "accompagnement collaboratif": "accompagnement-collaboratif",
    "capitalisation et communs": "capitalisation-et-communs",
}
# Section heading → predicate of its text (None: private, see Contact).
SECTIONS = {
    "Objectifs": "cs:objectives",
    "Description": "schema:description",
    "Enjeux": "cs:stakes",
    "Budget": "cs:budgetText",
    "Durée et déroulement": "cs:schedule",
    "Calendrier": "cs:calendar",
    "Site web": "cs:website",
    "Contact & informations": None,
}
# "Calendrier du projet" is the Calendrier section.
HEADING = re.compile(rf"^({'|'.join(SECTIONS)})(?:(?<=Calendrier) du projet)?\s*(?::\s*(.*))?$")
# A heading glued to the end of the previous paragraph ("…lien social.Durée et déroulement").
GLUED_HEADING = re.compile(r"^(.*[.!?…])\s*(Durée et déroulement|Budget|Site web|Contact & informations)$")

AMOUNT = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.\u00a0\u202f ]\d{3})+|\d+)(?:,(\d{1,2}))?\s*(?:€|EUR\b|euros?\b)", re.I
)
PERSON = re.compile(r"^\s*([A-ZÉÈ][\wéèëïô'-]+(?:[ -][A-ZÉÈ][\wéèëïô'-]+)+)\s*[,–-]")


@dataclass
class Record:
    title: str
    activity: str | None
    first: int  # 1-based line numbers
    last: int
    sections: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    preamble: list[tuple[int, str]] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)  # lines first..last as in the file


@dataclass
class Grant:
    line: int
    funder: str | None  # organisation slug
    funder_text: str
    value: Decimal | None
    role: str | None  # total | part-association | contribution | budget | coverage
    source: str
    share_of: int | None = None  # index of the grant it is a part of: the same money
    rate: Decimal | None = None  # the part of the association's budget a funder covers ("à 75%")


def _is_activity(line: str) -> bool:
    s = line.strip()
    return s.lower() in ACTIVITY_LINES or (
        0 < len(s) <= 40 and ":" not in s and not s.startswith(("-", "•", "→")) and not s.endswith(".")
    )


def _is_title(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s) <= 250 and not s.startswith(("-", "•", "→")) and not HEADING.match(s)


def parse(path: Path) -> list[Record]:
    lines = mentions.read_lines(path)
    nb = [i for i, line in enumerate(lines) if line.strip()]
    records: list[Record] = []
    current: list[tuple[int, str]] = []
    k = 0
    while k < len(nb):
        i, title = nb[k], lines[nb[k]].strip()
        following = [lines[j].strip() for j in nb[k + 1 : k + 3]]
        span = 0
        if _is_title(title) and following[1:] == [title] and _is_activity(following[0]):
            span, activity = 3, following[0]
        elif _is_title(title) and following[:1] == [title]:
            span, activity = 2, None
        if span:
            if k > 0 and not records:
                raise SourceError(path, "text before the first project record", nb[0] + 1)
            records.append(Record(title, activity, i + 1, nb[k + span - 1] + 1))
            current = records[-1].preamble
            k += span
            continue
        k += 1
        if not records:
            continue
        rec, raw = records[-1], lines[i].rstrip()
        rec.last = i + 1
        if raw.strip().lower() in ACTIVITY_LINES:
            raise SourceError(path, f"activity line '{raw.strip()}' without a project title before it", i + 1)
        glued = GLUED_HEADING.match(raw)
        if glued:
            current.append((i + 1, glued.group(1)))
            raw = glued.group(2)
        m = HEADING.match(raw.strip())
        if m:
            current = rec.sections.setdefault(m.group(1), [])
            if m.group(2):
                current.append((i + 1, m.group(2)))
        else:
            current.append((i + 1, raw))
    if not records:
        raise SourceError(
            path,
            "no project record found (a record opens with its title, its activity line, the title again)",
            1,
        )
    for rec in records:
        rec.raw = lines[rec.first - 1 : rec.last]
    return records


def parse_amount(text: str) -> Decimal:
    """'1.884.101,06' → 1884101.06; '75 000' → 75000; '224.929,99' → 224929.99."""
    m = AMOUNT.search(text)
    if not m:
        raise ValueError(f"no amount in {text!r}")
    whole = re.sub(r"[.\u00a0\u202f ]", "", m.group(1))
    return Decimal(f"{whole}.{m.group(2)}" if m.group(2) else whole)


def grants(rec: Record, res: Resolver) -> list[Grant]:
    """Funding stated in the Budget section. Amounts elsewhere (wages quoted from a study) are not grants.

    The association's share of a grant stated just before ("Financement ERDF : 2.061.999 EUR / Pour l'Adrets
    cela représente un financement de 217.000€") is part of that grant, not a second one; its budget ("cela
    représente un budget de 224.929,99€ … avec une prise en charge à 75% par le Fonds…") is no grant (role
    "budget", no funder): the fund named covers the stated part of it, a grant of no stated amount."""
    out: list[Grant] = []
    previous: int | None = None  # index of the last grant naming its funder
    for line, text in rec.sections.get("Budget", []):
        m = AMOUNT.search(text)
        funders = [s for s in res.find(text, line).orgs if s != mentions.ADRETS]
        if not m:
            if re.search(r"financ", text, re.I):
                out += [Grant(line, slug, res.orgs[slug].label, None, None, text) for slug in funders]
            continue
        value = parse_amount(text[m.start() :])
        share = re.search(r"pour l['’]\s*adrets|cela représente", text, re.I)
        if share and re.search(r"\bbudget\b", text[: m.start()], re.I):
            out.append(Grant(line, None, "", value, "budget", text))
            rate = re.search(r"(\d+(?:,\d+)?)\s*%", text)
            if rate and funders:
                pct = Decimal(rate.group(1).replace(",", ".")) / 100
                out.append(Grant(line, funders[0], "", None, "coverage", text, rate=pct))
            continue
        if share:
            whole = out[previous] if previous is not None else None
            funder = funders[0] if funders else whole.funder if whole else None
            part_of = previous if whole and whole.funder == funder else None
            out.append(Grant(line, funder, "", value, "part-association", text, part_of))
            continue
        role = "contribution" if re.search(r"contribution|^\s*-", text, re.I) else "total"
        funder_text = re.sub(
            r"^\s*[-•]\s*|\b(?:Financement|Contribution)\s+(?:de\s+l['’]|de\s+la\s+|de\s+|du\s+)?",
            "",
            text[: m.start()],
        ).strip(" :\t")
        funder = res.org_for(funder_text) if funder_text else None
        out.append(Grant(line, funder, funder_text, value, role, text))
        previous = len(out) - 1 if funder else previous
    return out


PROSE = ("Objectifs", "Description", "Enjeux", "Durée et déroulement", "Calendrier")


def build(path: Path, minter: Minter) -> ImportResult:
    records = parse(path)
    res = mentions.resolver()
    pub, priv = Triples(), Triples()
    doc = mentions.describe_document(pub, minter, path, f"Catalogue des projets de l'ADRETS ({path.name})")
    report: list[str] = []
    seen_slugs: Counter[str] = Counter()
    totals: Counter[str] = Counter()  # grants, places, persons; start years stated or inferred
    for rec in records:
        base_slug = slugify(rec.title)
        seen_slugs[base_slug] += 1
        pslug = base_slug if seen_slugs[base_slug] == 1 else f"{base_slug}-{seen_slugs[base_slug]}"
        p = ox.NamedNode(minter.thing("projet", pslug))
        named(pub, p, rec.title, "schema:Project")
        mentions.derived(pub, p, doc, f"{rec.first}-{rec.last}")
        notes: list[str] = []
        if rec.activity:
            pub.add(p, "cs:activityLine", rec.activity, "fr")
            axe = ACTIVITY_LINES.get(rec.activity.lower())
            if axe:
                pub.add(p, "dcterms:type", ox.NamedNode(minter.thing("axe", axe)))
            else:
                notes.append(f"ligne d'activité inconnue : {rec.activity!r}")
        preamble = "\n".join(t for _, t in rec.preamble).strip()
        for name, predicate in SECTIONS.items():
            text = "\n".join(t for _, t in rec.sections.get(name, [])).strip()
            if name == "Description" and preamble:
                text = (preamble + "\n" + text).strip()
            if not text:
                continue
            if predicate is None:
                priv.add(p, "cs:contactText", text, "fr")
            elif name == "Site web" and re.fullmatch(r"https?://\S+", text):
                pub.add(p, "schema:url", ox.NamedNode(text))
            else:
                pub.add(p, predicate, contact.scrub(text), "fr")
        prose = rec.preamble + [x for name in PROSE for x in rec.sections.get(name, [])]
        schedule = rec.sections.get("Durée et déroulement", [])
        found_dates = dates.record_dates((rec.first, rec.title), schedule, prose)
        start, end = dates.period(found_dates)
        pub.add(p, "schema:startDate", start)
        pub.add(p, "schema:endDate", end)
        for n, d in enumerate(found_dates, 1):
            node = ox.NamedNode(minter.thing("periode", f"{pslug}-{n}"))
            pub.a(node, "dcterms:PeriodOfTime")
            when = "–".join(x.value for x in (d.start, d.end) if x is not None)
            pub.label(node, f"{when} ({'énoncée' if d.stated else 'déduite'}) – {rec.title}")
            pub.label(node, f"{when} ({'stated' if d.stated else 'inferred'}) – {rec.title}", "en")
            pub.add(p, "dcterms:temporal", node)
            pub.add(node, "dcat:startDate", d.start)
            pub.add(node, "dcat:endDate", d.end)
            pub.add(node, "cs:dateBasis", "stated" if d.stated else "inferred")
            mentions.derived(pub, node, doc, d.line, d.text)
        if start is not None:  # a start year, stated, or else the earliest year of work the text tells
            totals["stated"] += 1
        elif any(not d.stated and d.start is not None for d in found_dates):
            totals["inferred"] += 1
        private_lines = {n for n, _ in rec.sections.get("Contact & informations", [])}
        public_text = "\n".join(
            "" if rec.first + k in private_lines else line for k, line in enumerate(rec.raw)
        )  # line for line, so that what is found keeps its line number
        found: mentions.Found = res.find(public_text, rec.first)
        mentions.link(pub, minter, p, found, "dcterms:spatial", "dcterms:subject", "cs:participant")
        project_grants = grants(rec, res)
        for n, g in enumerate(project_grants, 1):
            amount = ox.NamedNode(minter.thing("financement", f"{pslug}-{n}-montant"))
            if g.value is not None:
                pub.a(amount, "schema:MonetaryAmount")
                pub.add(amount, "schema:value", g.value)
                pub.add(amount, "schema:currency", "EUR")
            if g.role == "budget":  # the association's budget in the project: an amount, no grant
                pub.label(amount, f"Budget de l'association – {rec.title}")
                pub.add(p, "cs:budget", amount)
                mentions.derived(pub, amount, doc, g.line, g.source)
                continue
            gi = ox.NamedNode(minter.thing("financement", f"{pslug}-{n}"))
            pub.a(gi, "schema:MonetaryGrant")
            pub.label(gi, f"Financement {_funder(g, res, 'financeur non nommé')} – {rec.title}")
            pub.add(p, "schema:funding", gi)
            pub.add(gi, "schema:fundedItem", p)
            mentions.derived(pub, gi, doc, g.line, g.source)
            pub.add(gi, "cs:amountRole", g.role)
            pub.add(gi, "cs:coverageRate", g.rate)
            if g.share_of is not None:
                whole = ox.NamedNode(minter.thing("financement", f"{pslug}-{g.share_of + 1}"))
                pub.add(gi, "cs:shareOf", whole)
            if g.funder:
                fi = ox.NamedNode(minter.thing("organisation", g.funder))
                pub.add(gi, "schema:funder", fi)
                pub.add(p, "cs:participant", fi)
            elif g.funder_text:
                notes.append(f"financeur non résolu : {g.funder_text!r} (ligne {g.line})")
            if g.value is not None:
                pub.add(gi, "schema:amount", amount)
        for line, text in schedule:
            m = dates.MILESTONE.match(text.strip())
            if m:
                label = m.group(1)
                ev = ox.NamedNode(minter.thing("evenement", f"{pslug}-{slugify(label)}"))
                pub.a(ev, "schema:Event")
                pub.label(ev, f"{label[:1].upper()}{label[1:]} – {rec.title}")
                pub.add(ev, "schema:startDate", dates.typed(m.group(2)))
                mentions.derived(pub, ev, doc, line)
                pub.add(p, "cs:milestone", ev)
        persons = []
        for line, text in rec.sections.get("Contact & informations", []):
            m = PERSON.match(text)
            contacts = {"schema:email": contact.email_of(contact.PHONE.sub(" ", text))}
            contacts["schema:telephone"] = contact.phone_of(text)
            if m and any(contacts.values()):
                priv.add(p, "cs:contactPerson", mentions.describe_person(priv, minter, m[1], line, contacts))
                persons.append(m[1])
        totals["grants"] += sum(g.role != "budget" for g in project_grants)
        totals["places"] += len(found.places)
        totals["persons"] += len(persons)
        report.append(_record_report(rec, found, project_grants, start, end, persons, res))
        report.extend(f"    non résolu : {name} (ligne {line})" for name, line in found.unresolved)
        report.extend(f"    {note}" for note in notes)
    zones, orgs = mentions.named_in(pub, minter)
    report[:0] = [
        f"{path.name} : {len(records)} projets, {totals['grants']} financements, {len(orgs)} organisations, "
        f"{totals['places']} liens territoriaux, {len(zones)} territoires informels, "
        f"{totals['persons']} personnes",
        f"dates : {totals['stated'] + totals['inferred']} projets sur {len(records)} ont une année de "
        f"début ({totals['stated']} énoncées, {totals['inferred']} déduites de la description)",
    ]
    label = "Catalogue des projets de l'ADRETS"
    return mentions.document_graphs(minter, res, pub, priv, GRAPH_NAME, label, path.name, report)


def _funder(g: Grant, res: Resolver, unnamed: str) -> str:
    return res.orgs[g.funder].label if g.funder else g.funder_text or unnamed


def _record_report(
    rec: Record, found: mentions.Found, gs: list[Grant], start, end, persons: list[str], res: Resolver
) -> str:
    places, landmarks = (
        ", ".join(sorted(f"{p.label} ({p.kind} {p.code})" if p.kind != "zone" else p.label for p in ps))
        for ps in (found.places, found.landmarks)
    )
    money = "; ".join(
        f"budget de l'association {g.value} EUR"
        if g.role == "budget"
        else f"{g.value} EUR{f' [{g.role}]' if g.role else ''} ← {_funder(g, res, '?')}"
        if g.value is not None
        else f"{(g.rate * 100).normalize():f} % du budget ← {_funder(g, res, '?')}"
        if g.rate is not None
        else f"financeur {_funder(g, res, '?')}"  # a grant without amount always names its funder
        for g in gs
    )
    when = f"{start.value if start else '?'} → {end.value if end else '?'}" if start or end else "-"
    return (
        f"L{rec.first}-{rec.last} {rec.title} [{rec.activity or 'sans ligne d’activité'}] "
        f"sections: {', '.join(rec.sections) or '-'} | période: {when} | lieux: {places or '-'} | "
        + (f"repères (mentionnés) : {landmarks} | " if landmarks else "")
        + f"organisations: {', '.join(sorted(found.orgs)) or '-'} | financements: {money or '-'}"
        + (f" | contacts: {', '.join(persons)}" if persons else "")
    )
