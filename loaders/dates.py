"""When a catalogue record says its project happened: each date with its source line and how sure it is.

Stated (the project's own start and end): the dates section, a title's "(2023 -2028)", or a period whose
sentence names the project's own actor. Inferred, never passed off as a start: a period told of another
body, a year the text places the project's work in ("En 2016, l'ADRETS a réalisé…"). Only phrases with a
four-digit year are read, so nothing depends on today.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from dateparser.date import DateDataParser

from graph.terms import lit

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
}  # fmt: skip
YEAR = r"((?:19|20)\d\d)(?!\d)"
MONTH = "(?:" + "|".join(MONTHS) + ")"
_SEASON = r"(?:l['’]\s*)?(?:été|hiver|printemps|automne)"
# One date of a period: "1er février 2022", "octobre 2023", "l'été 2016", "fin 2018", "2019", "21/01/2021".
DATE = (
    rf"(?:\d{{1,2}}/\d{{1,2}}/\d{{4}}|(?:(?:le\s+)?\d{{1,2}}(?:er)?\s+)?(?:{MONTH}\s+|{_SEASON}\s+|(?:fin|début|mi-)\s*)?"
    r"(?:19|20)\d\d)(?!\d)"
)
PERIODS = [  # an explicit period, wherever it is written
    re.compile(rf"\bdu\s+(?P<start>{DATE})\s+au\s+(?P<end>{DATE})", re.I),
    re.compile(rf"\bd(?:e\s+|['’]\s*)(?P<start>{DATE})\s+à\s+(?P<end>{DATE})", re.I),
    re.compile(rf"\bentre\s+(?P<start>{DATE})\s+et\s+(?P<end>{DATE})", re.I),
    re.compile(  # a whole year: "durant toute l'année 2017"
        rf"\b(?:durant|pendant|tout au long de)\s+(?:toute\s+)?l['’]\s*année\s+(?P<start>(?P<year>{YEAR}))",
        re.I,
    ),
    # a start only; "depuis 2018" alone is left out: it is how a text tells someone's history
    re.compile(rf"\bdepuis\s+(?P<start>(?:le\s+\d{{1,2}}(?:er)?\s+)?{MONTH}\s+{YEAR})", re.I),
]
# a period whose start borrows the end's year (and month): "de mars à juin 2021", "du 3 au 15 mars 2021",
# "du 3 mars au 15 juin 2021"; a start month after the end month is of the year before ("de novembre à
# février 2021")
Y = r"(?P<y>(?:19|20)\d\d)(?!\d)"  # the year a period's two ends share
SHARED_YEAR = [
    re.compile(pattern, re.I)
    for pattern in (
        rf"\b(?:de\s+|d['’]\s*|entre\s+)(?P<m1>{MONTH})\s+(?:à|et)\s+(?P<m2>{MONTH})\s+{Y}",
        rf"\bdu\s+(?P<d1>\d{{1,2}})(?:er)?\s+au\s+(?P<d2>\d{{1,2}})(?:er)?\s+(?P<m2>{MONTH})\s+{Y}",
        rf"\bdu\s+(?P<d1>\d{{1,2}})(?:er)?\s+(?P<m1>{MONTH})\s+au\s+(?P<d2>\d{{1,2}})(?:er)?\s+(?P<m2>{MONTH})\s+{Y}",
    )
]
YEAR_RANGE = re.compile(rf"(?<!\d){YEAR}\s*[-–/]\s*{YEAR}")
MILESTONE = re.compile(r"^Date\s+(?:du|de la|de l['’]|des|de)\s*(.+?)\s*:\s*(\d{1,2}/\d{1,2}/\d{4})\s*$")
LONE_DATE = re.compile(rf"^[-•\s]*(?P<start>{DATE})\s*\.?$", re.I)
TITLE_YEAR = re.compile(rf"\(\s*{YEAR}\s*\)")
# the project's own actor, in the sentence of a period the description writes
OWN = re.compile(r"\bADRETS\b|\b(?:nous|notre|nos)\b|\b(?:le|ce|du|au) projet\b", re.I)
INFERRED = [  # a year of the project's own work, told in its description
    re.compile(
        rf"\ben\s+(?P<when>(?:{MONTH}\s+)?{YEAR})\s*,?\s+(?:dans le cadre d[^,.]*?)?"
        r"(?:l['’]\s*ADRETS|l['’]association|nous|elle|il|(?:le|ce) projet)\b",
        re.I,
    ),
    re.compile(rf"(?:^|[.:]\s+)(?P<when>{YEAR})\s+sera\b", re.I),
    re.compile(
        rf"\b(?:se\s+sont\s+déroulée?s|s['’]est\s+déroulée?|a\s+eu\s+lieu|ont\s+eu\s+lieu|avoir\s+lieu)\s+"
        rf"(?:en|au)\s+(?:ce\s+)?(?:{_SEASON}\s+|{MONTH}\s+)?(?P<when>{YEAR})",
        re.I,
    ),
    re.compile(
        rf"\b(?:restitution|lancement|démarrage|clôture)\s+en\s+(?P<when>(?:{MONTH}\s+)?{YEAR})", re.I
    ),
    re.compile(rf"^[-•\s]*Participation\s+(?:à|au|aux)\b.*?\b(?P<when>{YEAR})", re.I),
    # a step's month: "(juin 2020)", not "(ADEME, 2020)"
    re.compile(rf"\((?P<when>{MONTH}\s+{YEAR})\)", re.I),
]


@dataclass(frozen=True)
class Dated:
    """One date of a record: a stated one is the project's period, an inferred one a year of work."""

    start: ox.Literal | None
    end: ox.Literal | None
    stated: bool
    line: int
    text: str  # the source line as written


@functools.cache
def _parser() -> DateDataParser:
    return DateDataParser(languages=["fr"], settings={"PREFER_DAY_OF_MONTH": "first"})


def typed(phrase: str) -> ox.Literal:
    """A located date phrase → a literal typed by its precision; a phrase dateparser cannot read ("l'été
    2016", "fin 2018") or reads into another year falls back to its year."""
    year = re.search(r"(?:19|20)\d\d", phrase)
    if year is None:
        raise ValueError(f"no year in {phrase!r}")
    cleaned = re.sub(r"\b(?:le|du|au)\s+|(?<=\d)er\b", "", phrase.strip(), flags=re.I)
    data = _parser().get_date_data(cleaned)
    when: dt.datetime | None = data.date_obj
    if when is None or str(when.year) != year.group():
        return lit(year.group(), datatype="xsd:gYear")
    if data.period == "day" and re.search(r"\d{1,2}(?:er)?\s+\D|/", cleaned):
        return lit(when.date())
    if data.period in ("day", "month") and re.search(MONTH, cleaned, re.I):
        return lit(f"{when.year}-{when.month:02d}", datatype="xsd:gYearMonth")
    return lit(year.group(), datatype="xsd:gYear")


def _year_range(line: int, text: str) -> Dated | None:
    years = YEAR_RANGE.findall(text)
    return Dated(typed(years[0][0]), typed(years[-1][1]), True, line, text) if years else None


def _stated_in_section(line: int, text: str) -> Dated | None:
    m = MILESTONE.match(text.strip())
    if m:
        return Dated(typed(m.group(2)), None, True, line, text)
    if years := _year_range(line, text):
        return years
    m = LONE_DATE.match(text.strip())
    if m:
        return Dated(typed(m.group("start")), None, True, line, text)
    return _period(line, text)


def _period(line: int, text: str, prose: bool = False) -> Dated | None:
    """An explicit period of the line; in a description, stated only when its sentence names the project's
    own actor, else the period of another body the project is tied to (inferred)."""
    for pattern in PERIODS + SHARED_YEAR:
        m = pattern.search(text)
        if not m:
            continue
        parts = m.groupdict()
        if "y" in parts:  # the start borrows the end's year
            year = int(parts["y"])
            m1, m2 = parts.get("m1") or parts["m2"], parts["m2"]
            start_year = year - 1 if MONTHS[m1.lower()] > MONTHS[m2.lower()] else year
            day1, day2 = (f"{parts['d1']} ", f"{parts['d2']} ") if parts.get("d1") else ("", "")
            start, end = typed(f"{day1}{m1} {start_year}"), typed(f"{day2}{m2} {year}")
        else:
            end_text = parts.get("end") or parts.get("year")
            start, end = typed(parts["start"]), typed(end_text) if end_text else None
        end_at = text.find(". ", m.end())
        sentence = text[text.rfind(". ", 0, m.start()) + 1 : end_at if end_at >= 0 else None]
        return Dated(start, end, not prose or bool(OWN.search(sentence)), line, text)
    return None


def _inferred(line: int, text: str) -> list[Dated]:
    found = {m.group("when") for pattern in INFERRED for m in pattern.finditer(text)}
    literals = {typed(w) for w in found}
    # "juin 2020" and "2020" on one line say the same year: keep the more precise
    years = {lit_.value[:4] for lit_ in literals if "-" in lit_.value}
    kept = sorted((x for x in literals if "-" in x.value or x.value not in years), key=lambda x: x.value)
    return [Dated(x, None, False, line, text) for x in kept]


def record_dates(
    title: tuple[int, str],
    dates_section: Iterable[tuple[int, str]],
    prose: Iterable[tuple[int, str]],
) -> list[Dated]:
    """Every date of one record. Periods of the prose count only when the dates section and the title give
    none (a description also tells the history of what the project continues)."""
    periods = [d for line, text in dates_section if (d := _stated_in_section(line, text))]
    line, text = title
    if years := _year_range(line, text):
        periods.append(years)
    elif m := TITLE_YEAR.search(text):
        periods.append(Dated(typed(m.group(1)), None, True, line, text))
    prose = list(prose)
    from_prose = [d for line, text in prose if (d := _period(line, text, prose=True))]
    periods = periods or from_prose
    with_period = {d.line for d in periods + from_prose}
    inferred = [d for line, text in prose if line not in with_period for d in _inferred(line, text)]
    return periods + inferred


def period(found: list[Dated]) -> tuple[ox.Literal | None, ox.Literal | None]:
    """The project's stated period: earliest stated start, latest stated end (an end alone is kept)."""
    starts = [d.start for d in found if d.stated and d.start is not None]
    ends = [d.end for d in found if d.stated and d.end is not None]
    return min(starts, key=lambda x: x.value, default=None), max(ends, key=lambda x: x.value, default=None)
