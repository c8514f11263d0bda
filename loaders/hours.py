"""Opening hours as written in French lists → (opens, closes) slots per day.

A day's cell ("9h-12h et 14h-17h30", "fermé") or a whole week in the OpenStreetMap syntax ("Mo-Fr
09:00-12:00; Sa 09:00-12:00"). "00:00 - 00:00" is the France Services export's empty slot, skipped;
anything else unreadable raises :class:`HoursError`, so the caller reports the row rather than guess.
"""

from __future__ import annotations

import re
import unicodedata

from graph.namespaces import DAYS

DAY_NAMES = {
    "mo": 0, "tu": 1, "we": 2, "th": 3, "fr": 4, "sa": 5, "su": 6,
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
    "lun": 0, "mar": 1, "mer": 2, "jeu": 3, "ven": 4, "sam": 5, "dim": 6,
}  # fmt: skip
CLOSED = {"", "ferme", "closed", "off", "-", "/"}
TIME = r"(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?"
SLOT = re.compile(rf"^{TIME}\s*(?:-|–|à|a)\s*{TIME}$")
SLOT_SEPARATORS = re.compile(r"\s*(?:/|,|;|\bet\b|&)\s*")
DAY_SPEC = re.compile(r"^([a-z]+)(?:\s*-\s*([a-z]+))?$")
MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
# An OSM rule for public or school holidays, some months or days of the year (« PH off », « Jul-Aug off »,
# « Dec 24 off », « Jul-Aug Mo-Fr 09:00-12:00 »): a weekly model cannot hold it. « mar » alone is the
# French lists' mardi, March only before another month (« Mar-Oct », « Mar 15-Oct 31 »).
NOT_WEEKLY = re.compile(
    rf"^(?:ph|sh|easter|week\b|\d{{4}}|(?!mar\b)(?:{MONTHS})\b|mar(?: \d{{1,2}})?\s*[-,]\s*(?:{MONTHS})\b)"
)
# A rule's list of days (« Mo-Fr,PH 09:00-12:00 »: weekdays and public holidays) and the rest of it.
DAY_LIST = re.compile(r"^([a-z]+(?:-[a-z]+)?(?:\s*,\s*[a-z]+(?:-[a-z]+)?)+)\s+(.*)$", re.IGNORECASE)
HOLIDAYS = {"ph", "sh"}

Slot = tuple[str, str]  # ("09:00:00", "12:00:00"), xsd:time lexical forms


class HoursError(ValueError):
    """Text that looks like hours but is not: the row is reported, never guessed."""


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text).strip()


def _time(hour: str, minute: str | None, text: str) -> str:
    h, m = int(hour), int(minute or 0)
    if h == 24 and m == 0:
        return "23:59:00"  # schema.org's way of saying "until midnight"
    if h > 23 or m > 59:
        raise HoursError(f"heure impossible « {text} »")
    return f"{h:02d}:{m:02d}:00"


def parse_day(text: str | None) -> list[Slot]:
    """The slots of one day's cell, in order; [] when closed or empty."""
    plain = _plain(text or "")
    if plain in CLOSED:
        return []
    slots: list[Slot] = []
    for part in SLOT_SEPARATORS.split(plain):
        if not part:
            continue
        m = SLOT.match(part)
        if not m:
            raise HoursError(f"horaire illisible « {text.strip()} »")
        opens, closes = _time(m[1], m[2], text), _time(m[3], m[4], text)
        if opens == closes == "00:00:00":
            continue
        if closes <= opens:
            raise HoursError(f"fermeture avant l'ouverture « {part} »")
        slots.append((opens, closes))
    return slots


def _days(spec: str, text: str) -> list[int]:
    days: list[int] = []
    for piece in spec.split(","):
        m = DAY_SPEC.match(piece.strip())
        if not m or m[1] not in DAY_NAMES or (m[2] and m[2] not in DAY_NAMES):
            raise HoursError(f"jour illisible « {piece.strip()} » dans « {text} »")
        first = DAY_NAMES[m[1]]
        last = DAY_NAMES[m[2]] if m[2] else first
        days.extend(range(first, last + 1) if last >= first else [*range(first, 7), *range(0, last + 1)])
    return days


def _holidays_apart(rule: str) -> tuple[str, str | None]:
    """A rule whose days list holidays among weekdays (« Mo-Fr,PH 09:00-12:00 ») → the weekdays' rule
    (« Mo-Fr 09:00-12:00 ») and the holidays' (« PH 09:00-12:00 »), else the rule and None."""
    m = DAY_LIST.match(rule)
    days = [d.strip() for d in m[1].split(",")] if m else []
    holidays = [d for d in days if d.lower() in HOLIDAYS]
    if not m or not holidays or len(holidays) == len(days):
        return rule, None
    return f"{','.join(d for d in days if d not in holidays)} {m[2]}", f"{','.join(holidays)} {m[2]}"


def weekly_rules(text: str) -> tuple[str, list[str]]:
    """An OSM opening_hours as the rules a week holds, and those dropped (to report): a rule for some
    months is not the year's week, so it is dropped, not published as every week's hours; holidays listed
    with weekdays are dropped from the list, the weekdays' hours kept."""
    kept: list[str] = []
    dropped: list[str] = []
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        rule, holidays = _holidays_apart(rule)
        if holidays:
            dropped.append(holidays)
        (dropped if NOT_WEEKLY.match(_plain(rule)) else kept).append(rule)
    return "; ".join(kept), dropped


def parse_week(text: str | None) -> dict[str, list[Slot]]:
    """A whole week in one cell → {schema day name: slots}; rules are separated by ';'."""
    result: dict[str, list[Slot]] = {}
    plain = _plain(text or "")
    if plain in CLOSED:
        return result
    for rule in filter(None, (r.strip() for r in plain.split(";"))):
        m = re.match(r"^([a-z][a-z ,\-]*?)\s*:?\s*(\d.*|off|ferme|closed)$", rule)
        if not m:
            raise HoursError(f"règle d'horaires illisible « {rule} »")
        slots = parse_day(m[2])
        for day in _days(m[1].replace(" ", ""), rule):
            result[DAYS[day]] = slots  # a later rule overrides an earlier one, as in OSM
    return {day: slots for day, slots in result.items() if slots}
