"""Benchmark datasets around the real reference data: synthetic projects, organisations, resources and
contributions (with history) spread over real communes, written as N-Quads next to the real graphs.

    python bench/synthetic.py --triples 1000000 --output bench/work/1m.nq

The real part (territories, ontology, vocabularies) is the same as ``communs load`` produces; the
synthetic part uses the platform's vocabulary so every page, list and named query has work to do.
Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.namespaces import PREFIXES, Minter  # noqa: E402
from graph.settings import DEFAULT_BASE_IRI  # noqa: E402
from loaders import rdf as rdf_loader  # noqa: E402
from loaders import territories  # noqa: E402
from loaders.gazetteer import load_gazetteer  # noqa: E402

WORDS = [
    "mobilité",
    "solidaire",
    "saisonniers",
    "logement",
    "accueil",
    "numérique",
    "inclusion",
    "services",
    "publics",
    "montagne",
    "vallée",
    "tiers-lieu",
    "coopération",
    "santé",
    "emploi",
    "formation",
    "jeunes",
    "seniors",
    "transport",
    "itinérance",
    "médiation",
    "réseau",
    "diagnostic",
    "schéma",
    "observatoire",
    "télécentre",
    "animation",
    "territoire",
    "ruralité",
    "accès",
    "droits",
    "démarches",
]
THEMES = [
    "mobilite",
    "sante",
    "social",
    "numerique",
    "logement",
    "saisonnalite",
    "tiers-lieux",
    "emploi-economie-creation-activite",
    "formalites-administratives",
    "education",
]
PUBLICS = [
    "saisonniers",
    "retraites-seniors",
    "jeunes-actifs",
    "jeunes-adultes",
    "demandeurs-emploi",
    "nouveaux-arrivants",
    "personnes-en-situation-de-handicap",
]
AXES = [
    "animation-de-reseau",
    "strategie-territoriale",
    "accompagnement-collaboratif",
    "capitalisation-et-communs",
]
KINDS = ["guide", "rapport", "outil", "formation", "video", "retour-experience"]
LICENCES = ["https://creativecommons.org/licenses/by-sa/4.0/", "https://creativecommons.org/licenses/by/4.0/"]


def q(s: str, p: str, o: str, g: str) -> str:
    return f"{s} {p} {o} {g} .\n"


def lit(text: str, lang: str | None = "fr") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{PREFIXES["xsd"]}{datatype}>'


def P(curie: str) -> str:  # noqa: N802 - reads like the CURIE it expands
    prefix, local = curie.split(":", 1)
    return f"<{PREFIXES[prefix]}{local}>"


def org_iri(minter: Minter, i: int) -> str:
    return f"<{minter.thing('organisation', f'synth-org-{i}')}>"


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def real_part(minter: Minter, out) -> int:
    """Territories, ontology and vocabularies exactly as `communs load` writes them."""
    count = 0
    results = [territories.build(territories.REFERENCE_DIR, minter), rdf_loader.ontology(minter)]
    for result in results:
        for load in result.graphs:
            g = f"<{load.graph}>"
            for t in load.triples:
                out.write(f"{t} {g} .\n")
                count += 1
    return count


def synthetic_part(minter: Minter, out, target: int, seed: int) -> int:
    rng = random.Random(seed)
    communes = [c.code for (kind, _), c in load_gazetteer().communes.items() if kind == "commune-actuelle"]
    g_proj = f"<{minter.graph('synthetique/projets')}>"
    g_contrib = f"<{minter.graph('synthetique/contributions')}>"
    g_hist = f"<{minter.private_graph('synthetique/historique')}>"
    n_orgs = max(50, target // 2000)
    count = 0
    for i in range(n_orgs):
        org = org_iri(minter, i)
        out.write(q(org, P("rdf:type"), P("org:Organization"), g_proj))
        out.write(q(org, P("rdfs:label"), lit(f"Association {sentence(rng, 2)} {i}"), g_proj))
        out.write(q(org, P("dcterms:spatial"), f"<{minter.thing('commune', rng.choice(communes))}>", g_proj))
        count += 3
    i = 0
    while count < target:
        i += 1
        commune = f"<{minter.thing('commune', rng.choice(communes))}>"
        if i % 3:
            s = f"<{minter.thing('projet', f'synth-projet-{i}')}>"
            g = g_proj
            lines = [
                (P("rdf:type"), P("schema:Project")),
                (P("rdfs:label"), lit(f"Projet {sentence(rng, 4)} {i}")),
                (P("schema:description"), lit(sentence(rng, 40))),
                (P("dcterms:type"), f"<{minter.thing('axe', rng.choice(AXES))}>"),
                (P("dcterms:subject"), f"<{minter.thing('theme', rng.choice(THEMES))}>"),
                (P("dcterms:subject"), f"<{minter.thing('theme', rng.choice(THEMES))}>"),
                (P("schema:audience"), f"<{minter.thing('public', rng.choice(PUBLICS))}>"),
                (P("dcterms:spatial"), commune),
                (P("schema:startDate"), typed(str(rng.randint(2010, 2025)), "gYear")),
                (P("cs:participant"), org_iri(minter, rng.randrange(n_orgs))),
            ]
            grant = f"<{minter.thing('financement', f'synth-{i}')}>"
            amount = f"<{minter.thing('financement', f'synth-{i}-montant')}>"
            lines.append((P("schema:funding"), grant))
            for line in lines:
                out.write(q(s, *line, g))
            out.write(q(grant, P("rdf:type"), P("schema:MonetaryGrant"), g))
            out.write(q(grant, P("rdfs:label"), lit(f"Financement du projet {i}"), g))
            out.write(q(grant, P("schema:funder"), org_iri(minter, rng.randrange(n_orgs)), g))
            out.write(q(grant, P("schema:amount"), amount, g))
            out.write(q(amount, P("rdf:type"), P("schema:MonetaryAmount"), g))
            out.write(q(amount, P("schema:value"), typed(f"{rng.randint(1000, 500000)}.00", "decimal"), g))
            out.write(q(amount, P("schema:currency"), lit("EUR", None), g))
            count += len(lines) + 7
        else:
            s = f"<{minter.thing('ressource', f'synth-ressource-{i}')}>"
            lines = [
                (P("rdf:type"), P("schema:CreativeWork")),
                (P("rdfs:label"), lit(f"Guide {sentence(rng, 3)} {i}")),
                (P("schema:description"), lit(sentence(rng, 25))),
                (P("dcterms:type"), f"<{minter.thing('type-ressource', rng.choice(KINDS))}>"),
                (P("dcterms:subject"), f"<{minter.thing('theme', rng.choice(THEMES))}>"),
                (P("schema:audience"), f"<{minter.thing('public', rng.choice(PUBLICS))}>"),
                (P("dcterms:spatial"), commune),
                (P("dcterms:license"), f"<{rng.choice(LICENCES)}>"),
                (P("dcterms:created"), typed(f"20{rng.randint(18, 26)}-0{rng.randint(1, 9)}-15", "date")),
            ]
            for line in lines:
                out.write(q(s, *line, g_contrib))
            for version in range(2):  # a proposal and an acceptance, as PROV-O change sets
                change = f"<{minter.thing('changement', f'synth-{i}-{version}')}>"
                out.write(q(change, P("rdf:type"), P("prov:Activity"), g_hist))
                out.write(q(change, P("prov:used"), s, g_hist))
                out.write(q(change, P("prov:endedAtTime"), typed("2025-01-01T00:00:00Z", "dateTime"), g_hist))
            count += len(lines) + 6
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000, help="total quads to write (approximate)")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--base-iri", default=DEFAULT_BASE_IRI)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    minter = Minter(args.base_iri)
    with args.output.open("w", encoding="utf-8", buffering=1 << 20) as out:
        real = real_part(minter, out)
        synthetic = synthetic_part(minter, out, max(0, args.triples - real), args.seed)
    elapsed = time.perf_counter() - started
    print(f"{args.output}: {real} real + {synthetic} synthetic quads in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
