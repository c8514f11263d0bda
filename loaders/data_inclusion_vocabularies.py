"""data·inclusion's reference lists as SKOS, generated from the installed ``data-inclusion-schema`` package,
so the schemes follow the version the export validates against. A concept's ``skos:notation`` is its wire
value; ``ALIGNMENTS`` maps our concepts to theirs, and import and export translate through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version

import pyoxigraph as ox
from data_inclusion.schema import v1

from graph.namespaces import Minter
from graph.store import GraphMeta
from graph.terms import Triples
from loaders import GraphLoad, ImportResult, named

PACKAGE = "data-inclusion-schema"
GRAPH_NAME = "vocabulaires-data-inclusion"
LICENSE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
REPOSITORY = "https://github.com/gip-inclusion/data-inclusion-schema"
# The IRIs our hand-written vocabularies already point to (ontology/vocabularies/*.ttl): the generated
# concepts say they are the same, so those older links land on them too.
GITHUB_LISTS = {"publics", "thematiques", "reseaux-porteurs", "types-de-services"}


@dataclass(frozen=True)
class ReferenceList:
    name: str  # plural, in the scheme IRI and the file names of the schema repository
    item: str  # singular, the IRI kind of its concepts
    enum: type
    label: str


LISTS = [
    ReferenceList(name, "data-inclusion-" + item, enum, label)
    for name, item, enum, label in (
        ("categories", "categorie", v1.Categorie, "Catégories de thématiques"),
        ("thematiques", "thematique", v1.Thematique, "Thématiques"),
        ("publics", "public", v1.Public, "Publics"),
        ("types-de-services", "type-service", v1.TypeService, "Types de services"),
        ("frais", "frais", v1.Frais, "Frais"),
        ("modes-accueil", "mode-accueil", v1.ModeAccueil, "Modes d'accueil"),
        ("modes-mobilisation", "mode-mobilisation", v1.ModeMobilisation, "Modes de mobilisation"),
        ("personnes-mobilisatrices", "mobilisateur", v1.PersonneMobilisatrice, "Personnes mobilisatrices"),
        ("reseaux-porteurs", "reseau", v1.ReseauPorteur, "Réseaux porteurs"),
    )
]
BY_NAME = {r.name: r for r in LISTS}
VALUES = {r.name: frozenset(e.value for e in r.enum) for r in LISTS}

# (our concept, relative to the base; their list; their value; "exact" or "close"). Exact pairs that are
# one-to-one are also how an imported value comes back as our concept (``to_ours``).
ADMIN = "difficultes-administratives-ou-juridiques--"
ALIGNMENTS: list[tuple[str, str, str, str]] = [
    ("id/" + ours, name, value, kind)
    for ours, name, value, kind in (
        line.split()
        for line in f"""
        public/retraites-seniors publics seniors close
        public/jeunes-actifs publics jeunes close
        public/jeunes-actifs publics actifs close
        public/jeunes-adultes publics jeunes close
        public/personnes-en-situation-de-handicap publics personnes-en-situation-de-handicap exact
        public/personnes-en-difficulte-sociale publics beneficiaires-des-minimas-sociaux close
        public/demandeurs-emploi publics demandeurs-emploi exact
        public/familles publics familles exact
        public/tous-publics publics tous-publics exact
        theme/mobilite categories mobilite close
        theme/numerique categories numerique close
        theme/logement categories logement-hebergement close
        theme/sante categories sante close
        theme/education categories se-former close
        theme/emploi-economie-creation-activite categories trouver-un-emploi close
        theme/emploi-economie-creation-activite categories creer-une-entreprise close
        theme/formalites-administratives thematiques {ADMIN}accompagnement-aux-demarches-administratives close
        theme/social thematiques {ADMIN}accompagnement-pour-lacces-aux-droits close
        reseau/france-services reseaux-porteurs france-service exact
        reseau/espaces-publics-numeriques reseaux-porteurs espaces-publics-numeriques exact
        reseau/conseillers-numeriques reseaux-porteurs conseillers-numeriques exact
        reseau/aidants-connect reseaux-porteurs aidants-connect exact
        reseau/pimms reseaux-porteurs pimms-mediation exact
        reseau/la-poste reseaux-porteurs la-poste exact
        reseau/mission-locale reseaux-porteurs mission-locale exact
        typologie-lieu/france-services reseaux-porteurs france-service close
        """.strip().splitlines()
    )
]


def package_version() -> str:
    return version(PACKAGE)


def concept(minter: Minter, list_name: str, value: str) -> str:
    return minter.thing(BY_NAME[list_name].item, value)


def to_theirs(minter: Minter, list_name: str, iri: str) -> list[str]:
    """Values of ``list_name`` for a concept: its own value if it is theirs, else its aligned values."""
    prefix = minter.thing(BY_NAME[list_name].item, "")
    if iri.startswith(prefix) and iri.removeprefix(prefix) in VALUES[list_name]:
        return [iri.removeprefix(prefix)]
    rel = iri.removeprefix(minter.base)
    return [value for ours, name, value, _ in ALIGNMENTS if ours == rel and name == list_name]


def to_ours(minter: Minter, list_name: str, value: str) -> str:
    """Our concept for one of their values when the two are one and the same (an exact pair, one-to-one
    both ways), else their concept: an import then exports back the value it read."""
    pairs = [a for a in ALIGNMENTS if a[1] == list_name]
    ours = [o for o, _, v, kind in pairs if v == value and kind == "exact"]
    if len(ours) == 1 and [v for o, _, v, _ in pairs if o == ours[0]] == [value]:
        return minter.base + ours[0]
    return concept(minter, list_name, value)


def build(minter: Minter) -> ImportResult:
    """Every reference list of the installed package → one SKOS scheme each, plus our alignments."""
    t = Triples()
    release = package_version()
    for ref in LISTS:
        scheme = ox.NamedNode(minter.thing("schema", "data-inclusion-" + ref.name))
        named(t, scheme, f"data·inclusion : {ref.label.lower()}", "skos:ConceptScheme", prop="skos:prefLabel")
        t.add(scheme, "owl:versionInfo", release)
        t.add(scheme, "dcterms:source", ox.NamedNode(f"{REPOSITORY}/tree/v{release}"))
        t.add(scheme, "dcterms:license", ox.NamedNode(LICENSE))
        definition = f"Liste de référence « {ref.name} » du schéma data·inclusion, version {release}"
        t.add(scheme, "skos:definition", f"{definition} du paquet {PACKAGE}.", "fr")
        for item in ref.enum:
            c = ox.NamedNode(concept(minter, ref.name, item.value))
            named(t, c, item.label, "skos:Concept", prop="skos:prefLabel")
            t.add(c, "skos:inScheme", scheme)
            t.add(c, "skos:notation", item.value)
            t.add(c, "skos:definition", item.description, "fr")
            category, sep, _ = item.value.partition("--")
            if ref.name == "thematiques" and sep:
                parent = ox.NamedNode(concept(minter, "categories", category))
                t.add(c, "skos:broader", parent)
                t.add(parent, "skos:narrower", c)
            else:
                t.add(c, "skos:topConceptOf", scheme)
                t.add(scheme, "skos:hasTopConcept", c)
            if ref.name in GITHUB_LISTS:
                github = f"{REPOSITORY}/blob/main/schemas/v1/extra/{ref.name}.json#{item.value}"
                t.add(c, "skos:exactMatch", ox.NamedNode(github))
    for ours, name, value, kind in ALIGNMENTS:
        t.add(
            ox.NamedNode(minter.base + ours), f"skos:{kind}Match", ox.NamedNode(concept(minter, name, value))
        )
    meta = GraphMeta(
        label=f"Listes de référence data·inclusion ({PACKAGE} {release}) et alignements",
        source=REPOSITORY,
        license=LICENSE,
        description=f"Générées depuis le paquet Python {PACKAGE} {release} installé ; "
        "alignées sur nos thèmes, publics, typologies et réseaux.",
    )
    counts = ", ".join(f"{r.name} {len(r.enum)}" for r in LISTS)
    report = [
        f"{GRAPH_NAME} : {PACKAGE} {release}, {len(LISTS)} schémas ({counts}), {len(ALIGNMENTS)} alignements"
    ]
    return ImportResult([GraphLoad(minter.graph(GRAPH_NAME), list(t), meta)], report)
