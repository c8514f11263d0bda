"""The territorial reference → RDF: régions, départements, EPCI and communes of France.

``dcterms:isPartOf`` is strict containment, so that ``isPartOf+`` rolls up without leaking: an EPCI that
straddles a boundary is only ``schema:geoOverlaps`` each département (and région) it touches, so the Isère
communes of the CC Cœur de Chartreuse (38, 73) do not count in the Savoie.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
from tqdm import tqdm

from graph.namespaces import Minter
from graph.store import GraphMeta
from graph.terms import Triples, iri
from loaders import GraphLoad, ImportResult, SourceError
from loaders.gazetteer import LICENSE_IRI, REFERENCE_DIR, SOURCE_IRI, load_gazetteer

GRAPH_NAME = "territoires"
EPCI_TYPES = "http://id.insee.fr/codes/geo/typesDEPCI/"
# Etalab's EPCI type → INSEE's code and label of it
EPCI_TYPE = {
    "CC": ("CC", "Communauté de communes"),
    "CA": ("CA", "Communauté d'agglomération"),
    "CU": ("CU", "Communauté urbaine"),
    "METRO": ("Metro", "Métropole"),
    "MET69": ("Metro", "Métropole"),
}
# Etalab's commune type → the URL word of its IRI and its class
COMMUNE_KINDS = {
    "commune-actuelle": ("commune", "igeo:Commune"),
    "commune-deleguee": ("commune-deleguee", "igeo:CommuneDeleguee"),
    "commune-associee": ("commune-associee", "igeo:CommuneAssociee"),
    "arrondissement-municipal": ("arrondissement-municipal", "igeo:ArrondissementMunicipal"),
}

META = GraphMeta(
    label="Référentiel territorial (régions, départements, EPCI, communes)",
    source=SOURCE_IRI,
    license=LICENSE_IRI,
    description="Découpage administratif de la France, Etalab @etalab/decoupage-administratif 6.0.0 "
    "(Licence Ouverte 2.0).",
)
# The populations légales Etalab 6.0.0 gives, in force on 1 January 2026, count the inhabitants on 1 January
# 2023 (INSEE's three-year lag): said in the data, on the graph's cs:population partition (VoID, as the
# catalogue partitions the whole dataset), so that a figure is never compared with another year's unknowingly.
POPULATION_DATE = dt.date(2023, 1, 1)


def build(directory: Path, minter: Minter, progress: bool = False) -> ImportResult:
    """A folder of the Etalab files (the bundled copy by default) → the 'territoires' graph."""
    for name in ("regions", "departements", "communes", "epci"):
        if not (directory / f"{name}.json.gz").is_file():
            raise SourceError(directory, f"not a decoupage-administratif folder: {name}.json.gz is missing")
    gz = load_gazetteer(directory) if directory.resolve() != REFERENCE_DIR.resolve() else load_gazetteer()
    t = Triples()

    def territory_iri(kind: str, code: str) -> ox.NamedNode:
        return ox.NamedNode(minter.thing(kind, code))

    def unit(kind: str, cls: str, code: str, name: str, label: str | None = None) -> ox.NamedNode:
        s = territory_iri(kind, code)
        t.a(s, cls)
        t.label(s, label or name)
        t.add(s, "igeo:nom", name)
        t.add(s, "igeo:codeINSEE", code)
        return s

    for code, label in dict(EPCI_TYPE.values()).items():
        concept = iri(EPCI_TYPES + code)
        t.a(concept, "skos:Concept")
        t.add(concept, "skos:prefLabel", label, "fr")
        t.label(concept, label)
    # A département's and a région's population: the sum of their communes', as an EPCI's (below); the
    # reference gives none of their own.
    people: Counter[str] = Counter()
    for c in gz.communes.values():
        if c.kind == "commune-actuelle" and c.population:
            people[c.departement] += c.population
            if c.departement in gz.departements:
                people["region/" + gz.departements[c.departement].region] += c.population
    for r in gz.regions.values():
        s = unit("region", "igeo:Region", r.code, r.name)
        t.add(s, "cs:population", people["region/" + r.code] or None)
    for d in gz.departements.values():
        s = unit("departement", "igeo:Departement", d.code, d.name, f"{d.name} ({d.code})")
        t.add(s, "cs:population", people[d.code] or None)
        t.add(s, "dcterms:isPartOf", territory_iri("region", d.region))
        if d.chef_lieu:
            t.add(s, "igeo:chefLieu", territory_iri("commune", d.chef_lieu))
    for e in gz.epcis.values():
        s = unit("epci", "igeo:Intercommunalite", e.siren, e.name)
        t.add(s, "cs:siren", e.siren)
        t.add(s, "igeo:typeDEPCI", iri(EPCI_TYPES + EPCI_TYPE[e.type][0]))
        members = [gz.communes.get(("commune-actuelle", m)) for m in e.members]
        # The sum of its communes', as a département's page adds them up: the EPCI list's own figure is of
        # another census year (CC du Briançonnais 18,947 beside its communes' 19,547).
        t.add(s, "cs:population", sum(c.population for c in members if c and c.population) or None)
        depts = sorted({c.departement for c in members if c})
        regions = sorted({gz.departements[d].region for d in depts if d in gz.departements})
        for kind, codes in (("departement", depts), ("region", regions)):
            relation = "dcterms:isPartOf" if len(codes) == 1 else "schema:geoOverlaps"
            for code in codes:
                t.add(s, relation, territory_iri(kind, code))
            if len(codes) == 1:
                break  # within one département: its région follows by isPartOf+
    communes = list(gz.communes.values())
    for c in tqdm(communes, desc="communes", unit=" communes", disable=not progress):
        s = unit(*COMMUNE_KINDS[c.kind], c.code, c.name)
        t.add(s, "cs:siren", c.siren)
        t.add(s, "cs:population", c.population)
        for pc in c.postal_codes:
            t.add(s, "schema:postalCode", pc)
        for old in c.former_codes:
            t.add(s, "cs:ancienCodeINSEE", old)
        if c.kind == "commune-actuelle":
            t.add(s, "dcterms:isPartOf", territory_iri("departement", c.departement))
            epci = gz.epci_of_commune.get(c.code)
            if epci:
                t.add(s, "dcterms:isPartOf", territory_iri("epci", epci))
        elif c.parent:
            t.add(s, "dcterms:isPartOf", territory_iri("commune", c.parent))
    partition, period = ox.BlankNode(), ox.BlankNode()
    t.add(ox.NamedNode(minter.graph(GRAPH_NAME)), "void:propertyPartition", partition)
    t.add(partition, "void:property", iri("cs:population"))
    t.add(partition, "dcterms:temporal", period)
    t.a(period, "dcterms:PeriodOfTime")
    t.label(period, f"populations légales {POPULATION_DATE.year} (au {POPULATION_DATE:%d/%m/%Y})")
    t.add(period, "dcat:startDate", POPULATION_DATE)
    t.add(period, "dcat:endDate", POPULATION_DATE)
    t.add(period, "cs:dateBasis", "stated")  # the reference states it (« populations légales 2023 »)
    t.add(period, "dcterms:source", ox.NamedNode(SOURCE_IRI))
    report = [
        f"{len(gz.regions)} régions, {len(gz.departements)} départements, {len(gz.epcis)} EPCI, "
        f"{len(gz.communes)} communes (dont déléguées, associées, arrondissements municipaux)"
    ]
    return ImportResult([GraphLoad(minter.graph(GRAPH_NAME), list(t), META)], report)
