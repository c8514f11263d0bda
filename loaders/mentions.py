"""Names in free French text → territories, informal areas, organisations, themes and publics (for the
catalogue and report loaders).

Which territory a name means is graph.matching's answer (the one /reconcile gives); spellings it cannot
know live in ``data/aliases/*.csv``, read first. Names are matched longest first, so a name inside a longer
one ("GAL Gap Tallard Durance") is never linked on its own; citations are masked.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from graph.contact import EMAIL, PHONE, scrub
from graph.matching import EPCI_KINDS, Candidate, Entity, NameIndex, epci_key, fold, key_of, words
from graph.namespaces import Minter, slugify
from graph.settings import DATA_DIR
from graph.store import GraphMeta
from graph.terms import Triples
from loaders import GraphLoad, ImportResult, SourceError, named
from loaders.gazetteer import Gazetteer, load_gazetteer

# Where the association works: breaks a tie between homonym communes when the record gives no context.
HOME_DEPARTEMENTS = ("04", "05", "06", "38", "73", "74", "26", "84", "83", "01")
MAX_TOKENS = 9
WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿŒœ]+(?:\.[a-z]{2,3}\b)?")
DEPT_CODE = r"(?:0[1-9]|[1-8]\d|9[0-5]|2[AB])"
DEPT_LIST = re.compile(rf"\(\s*({DEPT_CODE}(?:\s*(?:[/,]|et)\s*{DEPT_CODE})*)\s*,?\s*\)")
DEPT_AFTER_POINT = re.compile(rf"\b(?:[Ss]ud|[Nn]ord|[Ee]st|[Oo]uest)\s+({DEPT_CODE})\b")
# Citations: a source line, "(Author, 2021)", "réalisé(e) par …" up to the end of the sentence.
CITATIONS = (
    re.compile(r"(?m)^\s*Sources?\s*:.*$"),
    re.compile(r"\([^()\n]{2,80},\s*(?:19|20)\d\d\)"),
    re.compile(r"réalisée?s?\s+(?:en\s+\w+\s+\d{4}\s+)?par\s+[^.\n]*"),
)
# Organisations flagged 'territorial' are linked only where the sentence says they act.
INVOLVEMENT = re.compile(
    r"financ|soutien|soutenu|subvention|porté|porte la|partenai|appel à projets|supporte|observateur"
    r"|contribu|commanditaire",
    re.I,
)
# Any organisation is a participant of a project where its sentence says it takes part (else it is
# only mentioned: "les grands opérateurs (La Poste, EDF, la SNCF…)").
PARTICIPATION = re.compile(
    INVOLVEMENT.pattern
    + r"|partenari|en lien avec|avec l|avec les?\b|accompagn|co-?organis|co-?port|co-?anim"
    r"|membre|comité|consortium|groupement|chef de file|sollicit|convention|pilot|organis|assistance|expert"
    r"|mobilis|implique|associés?\b|réunis",
    re.I,
)
# Collectivities named like communes ("Saint-Martin", "Saint-Barthélemy"): only their communes are indexed.
OVERSEAS_COLLECTIVITIES = {"975", "977", "978", "984", "986", "987", "988", "989"}
AFTER_PREPOSITION = re.compile(
    r"\b(?:à|en|dans l[ea]s?|vers)[ \t]+"
    r"((?:l['’])?[A-ZÉÈÎ][\w’'-]+(?:[ \t]+(?:d[eu]s?[ \t]+)?[A-ZÉÈÎ][\w’'-]+)*)"
)
UNIT = re.compile(
    r"\b(?:[Cc]ommunauté de communes|[Cc]ommunauté d['’]agglomération|CC|CA)\s+"
    r"(?:d[eu]s?\s+|de\s+la\s+|de\s+l['’]|d['’])?"
    r"[A-ZÉÈÎ][\w'’-]*(?:\s+(?:(?:d[eu]s?|de la|et)\s+)?[A-ZÉÈÎ][\w'’-]*)*"
)
# A place named only as a landmark is mentioned, not the text's territory: "sa position stratégique entre
# les agglomérations de Lyon, Chambéry et Grenoble", "près de Riom-ès-Montagnes", "trop éloigné des villes
# d'Apt et de Forcalquier", "tournés vers le Vaucluse"; so is an origin ("Née à Montpellier grâce à
# Outils-réseaux, la formation…": where it was born, not where the project acts). The cue governs the list
# of names that follows it.
LANDMARK_CUE = (
    r"à proximité|aux portes|près|proches?|non loin|à \d+\s*(?:km|kilomètres|minutes)|éloigné(?:e|s|es)?"
    r"|\b[Nn]ée?s?\s+(?:à|en)|originaires?"
    r"|tourné(?:e|s|es)?\s+(?:vers|sur)|(?:position|situation|situé(?:e|s|es)?|mi-chemin)\b[^.;:\n]{0,40}?\bentre"
)
LIST_WORD = r"(?:et|ou|les?|la|d[eu]s?|[dl]['’]|villes?|agglomérations?|pôles?|métropoles?|[A-ZÉÈÎ][\w'’-]*)"
LANDMARK = re.compile(rf"\b(?:{LANDMARK_CUE})(?:(?:[\s,/]+|(?<=['’])){LIST_WORD})*(?:[\s,/]+|(?<=['’]))$")
# A place named in a sentence stating a statistic is the statistic's context, not where the project acts
# ("Les deux tiers de l'emploi saisonnier (soit 12 000 ETP) se concentrent dans … : la Tarentaise, le Mont
# Blanc, le Chablais…", "le salaire … des saisonniers en Auvergne-Rhône-Alpes (9,9 € en moyenne…)").
STATISTIC = re.compile(
    r"\d\s*%|\d\s+ETP\b|\ben moyenne\b|\b(?:deux|trois|un|le|du) (?:tiers|quart)s?(?![\w-])|\bla moitié\b",
    re.I,
)
# Capitalised in the middle of a sentence, an article is part of the name that follows ("entre La Plagne et
# le Puy du Fou"): the name without it ("Plagne", a commune of the Ain) is not the one written.
ARTICLE_OF_NAME = re.compile(r"[^\s.!?:;(«“\"•→-]\s+(?:La|Le|Les)\s+$|[^\s.!?:;(«“\"•→-]\s+L['’]$")
ACRONYM = re.compile(r"(?<![A-Z] )\b((?!EUR\b)[A-Z]{3,})\b(?! [A-Z]{2,})")  # not a word of a line in capitals


@dataclass(frozen=True)
class Place:
    kind: str  # region | departement | epci | commune | zone
    code: str  # INSEE code, SIREN, or the slug of an informal area
    label: str


@dataclass(frozen=True)
class Named:
    """An informal area or an organisation of the alias tables."""

    slug: str
    label: str
    alt_labels: tuple[str, ...]
    covers: tuple[tuple[str, str], ...] = ()  # an area's official units: (kind, code)
    part_of: tuple[str, ...] = ()  # an area's département codes
    territorial: bool = False  # an organisation whose name is also a place


@dataclass
class Found:
    """What one text yields: every linked name with its line, and names left unresolved."""

    places: dict[Place, int] = field(default_factory=dict)  # → first line where it is named
    landmarks: dict[Place, int] = field(default_factory=dict)  # named only as a landmark (LANDMARK)
    orgs: dict[str, int] = field(default_factory=dict)  # org slug → first line, every one named
    participants: set[str] = field(default_factory=set)  # those the text says take part
    unresolved: list[tuple[str, int]] = field(default_factory=list)
    themes: set[str] = field(default_factory=set)
    publics: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Alias:
    """A row of the territory alias table: a spelling the reference does not know, or one to ignore."""

    kind: str
    target: str  # "" for ignore
    context: tuple[str, ...] = ()  # département codes, one of which the text must name
    case: str = ""  # "upper": acronym, written in capitals; "title": starts with a capital


def _case_of(alias: str) -> str:
    letters = [c for c in alias if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return "upper"
    return "title" if alias[:1].isupper() else ""


def _case_ok(case: str, surface: str) -> bool:
    if case == "upper":
        return all(c.isupper() for c in surface if c.isalpha())
    return surface[:1].isupper() if case == "title" else True


PARTICLE = r"(?:de|du|des|la|le|les|en|sur|sous|lès|lez|aux|au|d['’]|l['’])"


def _inside_compound(text: str, start: int, end: int) -> bool:
    """The span is a fragment of one hyphenated name ("Pont" or "Montvert" of "Pont-de-Montvert"): a
    particle joins it to its neighbour. Two names joined by a hyphen ("Banon-Reillane") are both names."""
    before = re.search(rf"\w-{PARTICLE}-$|\w-[dl]['’]$", text[max(0, start - 8) : start], re.I)
    after = re.match(rf"-(?:{PARTICLE}-|[dl]['’])\w", text[end : end + 8], re.I)
    return bool(before or after)


def _takes_part(text: str, pos: int) -> bool:
    """Its sentence says it takes part, or it is an item of a list headed '… partenaires … :'."""
    if PARTICIPATION.search(_sentence(text, pos)):
        return True
    before = text[:pos].split("\n")[-9:-1]
    for line in reversed(before):
        if line.rstrip().endswith(":"):
            return "partenaire" in line.lower()
        if len(line) > 80:
            return False
    return False


def _sentence(text: str, pos: int) -> str:
    left = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos))
    right = min((p for p in (text.find(". ", pos), text.find("\n", pos)) if p != -1), default=len(text))
    return text[left + 1 : right]


def _key(name: str) -> str:
    return " ".join(words(name))


# The reference's levels in the order a name is tried ("Vienne" is the département before the commune).
REFERENCE_LEVELS = ("region", "departement", "epci", "commune")
EPCI_WORDS = frozenset(k.split()[0] for k, _ in EPCI_KINDS)  # a span that begins so may state a kind


def reference_index(gz: Gazetteer) -> NameIndex:
    """The Etalab reference as graph.matching's index, without a store (the loaders resolve before they
    write): entities are keyed "kind:code"; a delegated or associated commune's name names its commune."""
    current = [c for (kind, _), c in gz.communes.items() if kind == "commune-actuelle"]
    dep_of = {c.code: c.departement for c in current}

    def entity(kind: str, code: str, name: str, **more) -> Entity:
        return Entity(f"{kind}:{code}", kind, name, code=code, **more)

    entities = [
        entity(kind, u.code, u.name, departements=(u.code,) * (kind == "departement"))
        for kind, units in (("region", gz.regions), ("departement", gz.departements))
        for u in units.values()
        if u.code not in OVERSEAS_COLLECTIVITIES
    ]
    entities += [
        entity(
            "epci",
            e.siren,
            e.name,
            epci_kind="METRO" if e.type.startswith("MET") else e.type,
            departements=tuple(sorted({dep_of[m] for m in e.members if m in dep_of})),
        )
        for e in gz.epcis.values()
    ]
    entities += [
        entity("commune", c.code, c.name, population=c.population, departements=(c.departement,))
        for c in current
    ]
    aliases = [
        (c.name, f"commune:{c.parent}")
        for (kind, _), c in gz.communes.items()
        if kind in ("commune-deleguee", "commune-associee") and c.parent
    ]
    return NameIndex(entities, aliases)


# Theme and public keywords (regex on normalised text) → slug of the SKOS concept.
THEMES = {
    "mobilite": r"\bmobilite|deplacement|demobilite|transport",
    "securites": r"\bsecurites\b",
    "sante": r"\bsante\b",
    "social": r"\bsocia(?:l|ux|le)\b|insertion|solidarit",
    "education": r"\beducation|scolaire",
    "communication": r"\bcommunication\b",
    "emploi-economie-creation-activite": r"\bemploi|creation d activite|createurs? d activite|economi",
    "commerces-services-proximite": r"commerces?\b|services de proximite|epicerie",
    "formalites-administratives": r"demarches administratives|formalites|dematerialisation|teleprocedure",
    "culture-sports-loisirs": r"\bculture|\bloisirs|sport",
    "numerique": r"numerique|illectronisme|open ?data|donnees|smart village",
    "logement": r"\blogement|habitat\b|hebergement",
    "saisonnalite": r"saisonni|saisonnalite|pluriactiv",
    "tiers-lieux": r"tiers lieu|coworking|co learning",
}
PUBLICS = {
    "saisonniers": r"\bsaisonnier(?:e|s|es)?\b|travailleurs? saisonniers",
    "retraites-seniors": r"retraite|senior|personnes agees|60 ans et plus",
    "jeunes-actifs": r"jeunes actifs",
    "jeunes-adultes": r"jeunes adultes|\bjeunes\b(?! (?:actifs|enfants))",
    "personnes-en-situation-de-handicap": r"handicap",
    "personnes-en-difficulte-sociale": r"difficulte sociale|precaires|exclusion|non recours",
    "demandeurs-emploi": r"demandeurs? d emploi",
    "createurs-activite": r"createurs? d activite",
    "nouveaux-arrivants": r"nouveaux arrivants|neo ruraux",
    "familles": r"\bfamilles?\b",
    "allophones-illettrisme": r"illettr|illetr|allophon",
    "tous-publics": r"\bpour tous\b|tous publics|ensemble de la population",
}


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("alias") and not r["alias"].startswith("#")]
    return [{k: (v or "").strip() for k, v in r.items() if k} for r in rows]


class Resolver:
    """Finds names of places and organisations in text. Built once per process (see :func:`resolver`)."""

    def __init__(self) -> None:
        self.gz = load_gazetteer()
        self.names = reference_index(self.gz)
        self.aliases: dict[str, Alias] = {}
        self.zones: dict[str, Named] = {}
        self.orgs: dict[str, Named] = {}
        self.org_index: dict[str, tuple[str, str]] = {}  # key → (slug or "" to ignore, case)
        self._load_territory_aliases(DATA_DIR / "aliases" / "territoires.csv")
        self._load_organisations(DATA_DIR / "aliases" / "organisations.csv")
        self.max_org_tokens = max((len(k.split()) for k in self.org_index), default=1)

    def _load_territory_aliases(self, path: Path) -> None:
        zone_rows: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in _read_csv(path):
            kind, target = row["kind"], row.get("target", "")
            if kind not in (*REFERENCE_LEVELS, "zone", "ignore"):
                raise ValueError(f"{path}: unknown kind '{kind}' for alias '{row['alias']}'")
            if kind == "zone":  # the slug of an IRI: ASCII whatever the table says ("briançonnais")
                target = slugify(target)
            context = tuple(row.get("context", "").split())
            self.aliases[_key(row["alias"])] = Alias(kind, target, context, _case_of(row["alias"]))
            if kind == "zone":
                zone_rows[target].append(row)
        for slug, rows in zone_rows.items():
            first = rows[0]
            covers = tuple(tuple(c.split(":", 1)) for c in first.get("covers", "").split())
            alt_labels = tuple(r["alias"] for r in rows[1:])
            part_of = tuple(first.get("part_of", "").split())
            self.zones[slug] = Named(slug, first["alias"], alt_labels, covers, part_of)  # type: ignore[arg-type]

    def _load_organisations(self, path: Path) -> None:
        labels: dict[str, str] = {}
        alts: dict[str, list[str]] = defaultdict(list)
        territorial: set[str] = set()
        for row in _read_csv(path):
            slug, flags = row.get("slug", ""), row.get("flags", "")
            self.org_index[_key(row["alias"])] = ("" if "ignore" in flags else slug, _case_of(row["alias"]))
            if not slug or "ignore" in flags:
                continue
            if row.get("label"):
                labels[slug] = row["label"]
            alts[slug].append(row["alias"])
            if "territorial" in flags:
                territorial.add(slug)
        for slug, names in alts.items():
            label = labels.get(slug, names[0])
            alt_labels = tuple(n for n in names if n != label)
            self.orgs[slug] = Named(slug, label, alt_labels, territorial=slug in territorial)

    def place(self, kind: str, code: str) -> Place:
        if kind == "zone":
            return Place(kind, code, self.zones[code].label)
        return Place(kind, code, self.names.entities[f"{kind}:{code}"].name)

    def find(self, text: str, first_line: int = 1) -> Found:
        """Every place and organisation named in ``text`` (whose first line is ``first_line``)."""
        found = Found()
        masked = text
        for pattern in CITATIONS:
            masked = pattern.sub(lambda m: " " * len(m.group()), masked)
        for person in {m[1] for m in PERSON_WITH_CONTACT.finditer(masked)}:  # "Timothé Digne" is no Digne
            masked = masked.replace(person, " " * len(person))

        def line_of(pos: int) -> int:
            return first_line + text.count("\n", 0, pos)

        tokens = [(words(m.group()), m.start(), m.end()) for m in WORD.finditer(masked)]
        epci_spans: list[tuple[int, int]] = []
        known: list[tuple[int, int]] = []  # every span a table or the reference recognised
        # resolved once the context is known
        pending: list[tuple[Alias | list[Candidate], str, int, bool]] = []
        context: set[str] = set()

        def note(place: Place, line: int, landmark: bool = False) -> None:
            (found.landmarks if landmark else found.places).setdefault(place, line)

        i = 0
        while i < len(tokens):
            for n in range(min(MAX_TOKENS, len(tokens) - i), 0, -1):
                start, end = tokens[i][1], tokens[i + n - 1][2]
                hit = self._named(tokens[i : i + n], masked, start, end)
                if hit:
                    break
            else:
                i += 1
                continue
            i += n
            surface, line = text[start:end], line_of(start)
            landmark = bool(LANDMARK.search(masked, max(0, start - 200), start))
            landmark = landmark or bool(STATISTIC.search(_sentence(masked, start)))
            known.append((start, end))
            kind = hit.kind if isinstance(hit, Alias) else hit[0].entity.type
            if kind == "epci":
                epci_spans.append((start, end))
            if kind == "ignore":
                continue
            if isinstance(hit, Alias) and not hit.context:
                place = self.place(kind, hit.target)
            elif isinstance(hit, list) and hit[0].match:
                place = self.place(kind, hit[0].entity.code)
            else:
                pending.append((hit, surface, line, landmark))
                continue
            note(place, line, landmark)
            if place.kind == "zone":
                context |= set(self.zones[place.code].part_of)
            else:
                context |= set(self.names.entities[f"{place.kind}:{place.code}"].departements)
        codes = [(m, code) for m in DEPT_LIST.finditer(masked) for code in re.findall(DEPT_CODE, m.group(1))]
        codes += [(m, m.group(1)) for m in DEPT_AFTER_POINT.finditer(masked)]
        for m, code in codes:
            if code in self.gz.departements:
                note(self.place("departement", code), line_of(m.start()))
                context.add(code)
        for hit, surface, line, landmark in pending:
            if isinstance(hit, Alias):
                place = self.place(hit.kind, hit.target) if context & set(hit.context) else None
            else:
                chosen = self._choose(hit[0].entity.type, surface, context)
                place = chosen and self.place(chosen.type, chosen.code)
                surface += f" (homonymes : {', '.join(c.entity.code for c in hit)})"
            if place:
                note(place, line, landmark)
            else:
                found.unresolved.append((surface, line))
        found.landmarks = {p: n for p, n in found.landmarks.items() if p not in found.places}
        # EPCI-like phrases ("communauté de communes X") that no EPCI name covered: worth reporting
        found.unresolved += [
            (m.group(0), line_of(m.start()))
            for m in UNIT.finditer(masked)
            if not any(s < m.end() and m.start() < e for s, e in epci_spans)
        ]
        known.extend(self._find_orgs(text, masked, tokens, found, line_of))
        found.unresolved.extend(self._unknown_names(masked, known, line_of))
        norm = fold(masked)
        found.themes = {slug for slug, rx in THEMES.items() if re.search(rx, norm)}
        found.publics = {slug for slug, rx in PUBLICS.items() if re.search(rx, norm)}
        return found

    def _named(
        self, span: list[tuple[list[str], int, int]], masked: str, start: int, end: int
    ) -> Alias | list[Candidate] | None:
        """What a span of text names: a row of the alias table (it comes before the reference), else
        the reference entities of the first level bearing its key (graph.matching's notion of a name)."""
        ws = [w for t, _, _ in span for w in t]
        surface = masked[start:end]
        alias = self.aliases.get(" ".join(ws))
        if alias is not None:
            return alias if _case_ok(alias.case, surface) else None  # "AURA" is not "aura"
        plain, stated = key_of(ws), ws[0] in EPCI_WORDS
        if not self.names.has(plain) and not (stated and self.names.has(epci_key(surface)[0])):
            return None
        if len(span) == 1 and len(plain) < 3:
            return None
        if not (surface[:1].isupper() or ws[0] == "communaute"):
            return None  # reference names are capitalised, but "la communauté de communes du Diois"
        if _inside_compound(masked, start, end):
            return None  # "Pont" and "Montvert" are not named by "Pont-de-Montvert"
        if ARTICLE_OF_NAME.search(masked, max(0, start - 12), start):
            return None  # "La Plagne" is not "Plagne"
        for level in REFERENCE_LEVELS:
            if level == "epci" and not stated and len(plain.split()) < 2:
                continue  # "Diois" alone is an area; "CC du Diois" the EPCI
            found = self.names.exact(surface, (level,), in_text=True)
            if found:
                return found
        return None

    def _choose(self, level: str, surface: str, context: set[str]) -> Entity | None:
        """Homonyms: the one in a département the text names, else in the association's area."""
        for pool in (context, HOME_DEPARTEMENTS):
            found = self.names.exact(surface, (level,), pool, in_text=True)
            if found and found[0].match:
                return found[0].entity
        return None

    def _unknown_names(self, masked: str, known: list[tuple[int, int]], line_of) -> list[tuple[str, int]]:
        """Names nothing recognised, for the import report: a capitalised name after 'à', 'en', 'dans
        le'…, and acronyms. Some are not places nor organisations (SDAASP, MSAP); the report says so."""
        out: list[tuple[str, int]] = []
        seen: set[str] = set()
        for rx, what in ((AFTER_PREPOSITION, "lieu ?"), (ACRONYM, "sigle ?")):
            for m in rx.finditer(masked):
                start, end = m.span(1)
                name = m.group(1)
                if name in seen or any(s < end and start < e for s, e in known):
                    continue
                seen.add(name)
                out.append((f"{name} ({what})", line_of(start)))
        return out

    def _find_orgs(
        self, text: str, masked: str, tokens: list, found: Found, line_of
    ) -> list[tuple[int, int]]:
        """Organisations named in ``text`` into ``found``; returns the spans of every alias seen."""
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(tokens):
            for n in range(min(self.max_org_tokens, len(tokens) - i), 0, -1):
                key = " ".join(w for t, _, _ in tokens[i : i + n] for w in t)
                hit = self.org_index.get(key)
                start, end = tokens[i][1], tokens[i + n - 1][2]
                if hit is None or not _case_ok(hit[1], text[start:end]):
                    continue
                slug = hit[0]
                spans.append((start, end))
                if slug and self.orgs[slug].territorial and not INVOLVEMENT.search(_sentence(masked, start)):
                    break
                if slug:
                    found.orgs.setdefault(slug, line_of(start))
                    if self.orgs[slug].territorial or _takes_part(masked, start):
                        found.participants.add(slug)
                i += n - 1
                break
            i += 1
        return spans

    def org_for(self, name: str) -> str | None:
        """The slug of an organisation named exactly ``name`` (a funder on a budget line)."""
        ws = _key(name).split()
        for n in range(len(ws), 0, -1):
            for s in range(len(ws) - n + 1):
                hit = self.org_index.get(" ".join(ws[s : s + n]))
                if hit and hit[0]:
                    return hit[0]
        return None


@cache
def resolver() -> Resolver:
    return Resolver()


# A name followed by an email address or a phone number is a person's ("Timothé Digne - tdigne@…"): each
# of its words is a first name or a surname, not a place, wherever the text writes it.
PERSON_WITH_CONTACT = re.compile(
    rf"([A-ZÉÈ][\w'’-]*[a-zé](?:[ -][A-ZÉÈ][\w'’-]*[a-zé])+)\s*[,:–—-]?\s*(?={EMAIL.pattern}|{PHONE.pattern})"
)
ADRETS = "adrets"


def read_lines(path: Path) -> list[str]:
    """The document as lines (CRLF/CR tolerated, BOM dropped); unreadable input → SourceError with a line."""
    if not path.is_file():
        raise SourceError(path, "no such file")
    data = path.read_bytes()
    if b"\x00" in data:
        raise SourceError(
            path, "binary content, not a text document", data[: data.index(b"\x00")].count(b"\n") + 1
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise SourceError(
            path, f"not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as UTF-8", line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def place_iri(minter: Minter, place: Place) -> ox.NamedNode:
    return ox.NamedNode(minter.thing("territoire" if place.kind == "zone" else place.kind, place.code))


def describe_person(
    priv: Triples, minter: Minter, name: str, line: int, contacts: dict[str, str | None]
) -> ox.NamedNode:
    """A person named at ``line`` of a document, private whole: a contact named in a document is no actor of
    the commons, so no public page, list, count or answer names them; what links to them (a project's
    contact, a note-taker) goes to the private graph too. The private graph is read on its own (its own
    store): it says what it describes."""
    person = ox.NamedNode(minter.thing("personne", slugify(name)))
    priv.a(person, "foaf:Person")
    priv.label(person, name)
    priv.add(person, "foaf:name", name)
    for prop, value in contacts.items():
        priv.add(person, prop, value)
    priv.add(person, "cs:sourceLines", str(line))
    return person


def link(
    t: Triples, minter: Minter, s: ox.NamedNode, found: Found, places: str, themes: str, participants: str
) -> None:
    """``s`` to what ``found`` names: places (landmarks are only mentioned), organisations (those taking
    part by ``participants``), themes and publics."""
    for place in found.places:
        t.add(s, places, place_iri(minter, place))
    for place in found.landmarks:
        t.add(s, "schema:mentions", place_iri(minter, place))
    for slug in found.orgs:
        predicate = participants if slug in found.participants else "schema:mentions"
        t.add(s, predicate, ox.NamedNode(minter.thing("organisation", slug)))
    for theme in found.themes:
        t.add(s, themes, ox.NamedNode(minter.thing("theme", theme)))
    for public in found.publics:
        t.add(s, "schema:audience", ox.NamedNode(minter.thing("public", public)))


def named_in(pub: Triples, minter: Minter) -> tuple[set[str], set[str]]:
    """The slugs of the informal areas and of the organisations a document graph points to."""
    objects = {t.object.value for t in pub if isinstance(t.object, ox.NamedNode)}
    zone, org = minter.thing("territoire", ""), minter.thing("organisation", "")
    zones = {o.removeprefix(zone) for o in objects if o.startswith(zone)}
    return zones, {o.removeprefix(org) for o in objects if o.startswith(org)}


def document_graphs(
    minter: Minter, res: Resolver, pub: Triples, priv: Triples, graph: str, label: str, source: str,
    report: list[str],
) -> ImportResult:  # fmt: skip
    """A document's public graph, with the informal areas and organisations it names, and its private
    graph of personal contacts."""
    zones, orgs = named_in(pub, minter)
    things = [("territoire", res.zones[z], ("cs:InformalArea", "schema:Place")) for z in sorted(zones)]
    things += [("organisation", res.orgs[o], ("org:Organization",)) for o in sorted(orgs)]
    for kind, thing, types in things:
        s = ox.NamedNode(minter.thing(kind, thing.slug))
        named(pub, s, thing.label, *types, prop="skos:prefLabel")
        for alt in thing.alt_labels:
            pub.add(s, "skos:altLabel", alt, "fr")
        for k, code in thing.covers:
            pub.add(s, "cs:covers", ox.NamedNode(minter.thing(k, code)))
        # isPartOf only when an area lies in one département (rolls up strictly): Bauges (73, 74) overlaps
        for dep in thing.part_of:
            relation = "dcterms:isPartOf" if len(thing.part_of) == 1 else "schema:geoOverlaps"
            pub.add(s, relation, ox.NamedNode(minter.thing("departement", dep)))
    meta = GraphMeta(label=label, source=source, description=RIGHTS)
    private_meta = GraphMeta(label=f"{label} : coordonnées personnelles (non public)", source=source)
    return ImportResult(
        [  # each triple once
            GraphLoad(minter.graph(graph), list(dict.fromkeys(pub)), meta),
            GraphLoad(minter.private_graph(graph), list(dict.fromkeys(priv)), private_meta),
        ],
        report,
    )


def describe_document(t: Triples, minter: Minter, path: Path, label: str) -> ox.NamedNode:
    """The source file as a node every extracted statement points back to (prov:wasDerivedFrom)."""
    doc = ox.NamedNode(minter.thing("document", slugify(path.stem)))
    t.a(doc, "schema:DigitalDocument")
    t.label(doc, label)
    t.add(doc, "schema:name", path.name)
    t.add(doc, "schema:encodingFormat", "text/plain")
    t.add(doc, "schema:publisher", ox.NamedNode(minter.thing("organisation", ADRETS)))
    t.add(doc, "dcterms:rights", RIGHTS, "fr")
    return doc


def derived(t: Triples, s: ox.NamedNode, doc: ox.NamedNode, line: int | str, text: str | None = None) -> None:
    """Where a statement comes from (the document, its lines, their words), so a reader can check it."""
    t.add(s, "cs:sourceLines", str(line))
    if text is not None:
        t.add(s, "cs:sourceText", scrub(text.strip()), "fr")
    t.add(s, "prov:wasDerivedFrom", doc)


RIGHTS = (
    "Contenu public de l'association ADRETS (https://www.adrets-asso.fr/), publié sans licence explicite : "
    "réutilisation à confirmer auprès de l'association."
)
