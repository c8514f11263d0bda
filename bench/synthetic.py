"""Benchmark datasets around the real reference data: synthetic service places, projects, organisations,
resources and contributions (with history) spread over real communes, written as N-Quads next to the
real graphs.

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
NETWORKS = {  # network → typologies of its places (ontology/vocabularies/reseaux.ttl, typologies-lieux.ttl)
    "france-services": ["france-services-fixe", "france-services-multisites", "france-services-itinerante"],
    "tiers-lieux": ["tiers-lieu", "tiers-lieu-coworking", "tiers-lieu-fablab"],
    "maisons-des-saisonniers": ["point-accueil-saisonniers"],
}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
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


def places_part(minter: Minter, out, communes: list, target: int, seed: int) -> int:
    """Service places as `communs import places` writes them (address, coordinates, geometry, network,
    typology, opening hours), one per ~400 quads of the dataset. Coordinates are random points in
    metropolitan France (the reference has no commune centres); the commune is real."""
    rng = random.Random(seed + 1)  # its own stream: projects and resources stay those of earlier runs
    g = f"<{minter.graph('synthetique/lieux')}>"
    count = 0
    for i in range(max(20, target // 400)):
        commune = rng.choice(communes)
        network = rng.choice(list(NETWORKS))
        s = f"<{minter.thing('lieu', f'synth-lieu-{i}')}>"
        name = lit(f"Lieu {sentence(rng, 2)} {commune.name} {i}")
        lat, lon = rng.uniform(42.5, 51.0), rng.uniform(-4.5, 7.8)
        addr, coords, geom = f"_:a{i}", f"_:c{i}", f"_:g{i}"
        postal = commune.postal_codes[0] if commune.postal_codes else ""
        lines = [
            (s, P("rdf:type"), P("schema:Place")),
            (s, P("rdf:type"), P("cs:ServicePlace")),
            (s, P("rdfs:label"), name),
            (s, P("schema:name"), name),
            (s, P("schema:identifier"), lit(f"SYN{i:06d}", None)),
            (s, P("cs:network"), f"<{minter.thing('reseau', network)}>"),
            (s, P("cs:typology"), f"<{minter.thing('typologie-lieu', rng.choice(NETWORKS[network]))}>"),
            (s, P("dcterms:spatial"), f"<{minter.thing('commune', commune.code)}>"),
            (s, P("schema:address"), addr),
            (addr, P("rdf:type"), P("schema:PostalAddress")),
            (addr, P("schema:streetAddress"), lit(f"{rng.randint(1, 120)} rue {sentence(rng, 1)}", None)),
            (addr, P("schema:postalCode"), lit(postal, None)),
            (addr, P("schema:addressLocality"), lit(commune.name, None)),
            (addr, P("schema:addressCountry"), lit("FR", None)),
            (s, P("schema:geo"), coords),
            (coords, P("rdf:type"), P("schema:GeoCoordinates")),
            (coords, P("schema:latitude"), typed(f"{lat:.5f}", "decimal")),
            (coords, P("schema:longitude"), typed(f"{lon:.5f}", "decimal")),
            (s, P("geo:hasGeometry"), geom),
            (geom, P("rdf:type"), P("geo:Geometry")),
            (geom, P("geo:asWKT"), f'"POINT({lon:.5f} {lat:.5f})"^^{P("geo:wktLiteral")}'),
        ]
        slots = [("09:00:00", "12:00:00"), ("13:30:00", "17:00:00")][: rng.randint(1, 2)]
        for k, (opens, closes) in enumerate(slots):
            spec = f"_:h{i}x{k}"
            lines.append((s, P("schema:openingHoursSpecification"), spec))
            lines.append((spec, P("rdf:type"), P("schema:OpeningHoursSpecification")))
            lines += [(spec, P("schema:dayOfWeek"), P("schema:" + d)) for d in DAYS[: rng.randint(3, 6)]]
            lines.append((spec, P("schema:opens"), typed(opens, "time")))
            lines.append((spec, P("schema:closes"), typed(closes, "time")))
        for line in lines:
            out.write(q(*line, g))
        count += len(lines)
    return count


def synthetic_part(minter: Minter, out, target: int, seed: int) -> int:
    rng = random.Random(seed)
    current = [c for (kind, _), c in load_gazetteer().communes.items() if kind == "commune-actuelle"]
    communes = [c.code for c in current]
    g_proj = f"<{minter.graph('synthetique/projets')}>"
    g_contrib = f"<{minter.graph('synthetique/contributions')}>"
    g_hist = f"<{minter.private_graph('synthetique/historique')}>"
    n_orgs = max(50, target // 2000)
    count = places_part(minter, out, current, target, seed)
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
