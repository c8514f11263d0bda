"""The French territorial reference (Etalab ``decoupage-administratif``) as in-memory look-ups, so loaders
resolve names and INSEE codes without a store round trip.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from graph.settings import DATA_DIR

REFERENCE_DIR = DATA_DIR / "decoupage-administratif"
SOURCE_IRI = "https://github.com/etalab/decoupage-administratif"
# The data's licence, as the source's README says (its code is MIT, its LICENSE file).
LICENSE_IRI = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"

# Etalab's types of the units within a current commune.
INNER_KINDS = ("commune-deleguee", "commune-associee", "arrondissement-municipal")


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region: str
    chef_lieu: str | None


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    kind: str  # commune-actuelle or one of INNER_KINDS
    departement: str
    region: str
    parent: str | None = None  # the current commune of a delegated/associated commune or arrondissement
    siren: str | None = None
    population: int | None = None
    postal_codes: tuple[str, ...] = ()
    former_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Epci:
    siren: str
    name: str
    type: str  # CC, CA, CU, METRO, MET69
    members: tuple[str, ...]


@dataclass
class Gazetteer:
    regions: dict[str, Region] = field(default_factory=dict)
    departements: dict[str, Departement] = field(default_factory=dict)
    communes: dict[tuple[str, str], Commune] = field(default_factory=dict)  # (kind, code)
    epcis: dict[str, Epci] = field(default_factory=dict)
    epci_of_commune: dict[str, str] = field(default_factory=dict)
    by_postal_code: dict[str, list[Commune]] = field(default_factory=dict)  # current communes
    _former: dict[str, str] = field(default_factory=dict)

    def current_commune(self, code: str) -> Commune | None:
        """The current commune for an INSEE code, following a merger's former code if needed."""
        found = self.communes.get(("commune-actuelle", code))
        if found:
            return found
        successor = self._former.get(code)
        if successor:
            return self.communes.get(("commune-actuelle", successor))
        other = next((self.communes[(k, code)] for k in INNER_KINDS if (k, code) in self.communes), None)
        if other and other.parent:
            return self.communes.get(("commune-actuelle", other.parent))
        return None


@cache
def load_gazetteer(directory: Path = REFERENCE_DIR) -> Gazetteer:
    """Read the bundled gzipped JSON once per process."""

    def read(name: str) -> list[dict]:
        with gzip.open(directory / f"{name}.json.gz", "rt", encoding="utf-8") as f:
            return json.load(f)

    gz = Gazetteer()
    for r in read("regions"):
        gz.regions[r["code"]] = Region(r["code"], r["nom"])
    for d in read("departements"):
        gz.departements[d["code"]] = Departement(d["code"], d["nom"], d["region"], d.get("chefLieu"))
    for c in read("communes"):
        kind = c["type"]
        commune = Commune(
            code=c["code"],
            name=c["nom"],
            kind=kind,
            departement=c["departement"],
            region=c["region"],
            parent=c.get("chefLieu") or c.get("commune"),
            siren=c.get("siren"),
            population=c.get("population"),
            postal_codes=tuple(c.get("codesPostaux", ())),
            former_codes=tuple(c.get("anciensCodes", ())),
        )
        gz.communes[(kind, commune.code)] = commune
        if kind == "commune-actuelle":
            for old in commune.former_codes:
                gz._former[old] = commune.code
            for postal in commune.postal_codes:
                gz.by_postal_code.setdefault(postal, []).append(commune)
    for e in read("epci"):
        members = tuple(m["code"] for m in e["membres"])
        gz.epcis[e["code"]] = Epci(e["code"], e["nom"], e["type"], members)
        for m in members:
            gz.epci_of_commune[m] = e["code"]
    return gz
