"""Prefixes and IRI minting: the vocabulary contract every module and reuser relies on."""

from __future__ import annotations

import re
import unicodedata

PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "schema": "http://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "sh": "http://www.w3.org/ns/shacl#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "igeo": "http://rdf.insee.fr/def/geo#",
    "cs": "https://w3id.org/communs-services/def#",
}

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
XSD = PREFIXES["xsd"]
OWL = PREFIXES["owl"]
SCHEMA = PREFIXES["schema"]
DCTERMS = PREFIXES["dcterms"]
SKOS = PREFIXES["skos"]
ORG = PREFIXES["org"]
FOAF = PREFIXES["foaf"]
PROV = PREFIXES["prov"]
DCAT = PREFIXES["dcat"]
IGEO = PREFIXES["igeo"]
CS = PREFIXES["cs"]
VOID = PREFIXES["void"]


def sparql_prefixes(names: list[str] | None = None) -> str:
    """PREFIX lines for a query, so queries in code read like the ones in ``queries/``."""
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in (names or PREFIXES))


LIGATURES = str.maketrans({"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae"})  # NFKD leaves them whole


def slugify(text: str, max_length: int = 80) -> str:
    """Stable ASCII slug: 'Tremplin Saison - Étude' -> 'tremplin-saison-etude', 'Cœur' -> 'coeur'."""
    return former_slugify(text.translate(LIGATURES), max_length)


def former_slugify(text: str, max_length: int = 80, empty: str = "sans-titre") -> str:
    """The slug as minted before ligatures were spelled out ('Cœur' -> 'cur'): a loader states that the
    IRI it mints now replaces (dcterms:replaces) that one, so links to the former IRI keep working."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or empty


def title_slug(text: str, max_length: int = 80) -> str:
    """A new IRI's slug from a title, cut between the title's words (« 15/01/2027 » whole, never « 15-0 »):
    an identifier people read and copy. :func:`slugify` cuts anywhere, and the IRIs it minted stay so."""
    slug = ""
    for word in filter(None, (former_slugify(w.translate(LIGATURES), max_length, "") for w in text.split())):
        if slug and len(slug) + 1 + len(word) > max_length:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or "sans-titre"


class Minter:
    """Mints IRIs under the configured base: ``{base}id/{kind}/{key}`` for things, ``{base}graph/...``
    for named graphs. ``kind`` is a French URL word (commune, epci, projet, organisation...)."""

    def __init__(self, base_iri: str):
        self.base = base_iri if base_iri.endswith("/") else base_iri + "/"

    def thing(self, kind: str, key: str) -> str:
        return f"{self.base}id/{kind}/{key}"

    def slug(self, kind: str, label: str) -> str:
        return self.thing(kind, slugify(label))

    def graph(self, name: str) -> str:
        return f"{self.base}graph/{name}"

    def private_graph(self, name: str) -> str:
        """Personal data of a source: never in the public dataset."""
        return f"{self.base}graph/prive/{name}"

    def is_public_graph(self, graph_iri: str) -> bool:
        """Every named graph is public except those under a non-public prefix of our base."""
        return not any(graph_iri.startswith(self.base + "graph/" + p) for p in NON_PUBLIC_GRAPH_PREFIXES)

    def non_public_filter(self, variable: str) -> str:
        """The negation of :meth:`is_public_graph` as a SPARQL expression on ``?variable``."""
        under = (f'STRSTARTS(STR(?{variable}), "{self.graph(p)}")' for p in NON_PUBLIC_GRAPH_PREFIXES)
        return " || ".join(under)


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # schema:DayOfWeek

# Graph name prefixes (under {base}graph/) that anonymous readers never see.
NON_PUBLIC_GRAPH_PREFIXES = ("prive/", "en-attente/", "comptes", "historique/")

# What a resource is (the list /ressources, its page's card, its dump, the named query
# ressources-theme-public, /reconcile's type ressource): a schema:CreativeWork, typed with it or one of
# these subclasses (no inference).
CREATIVE_WORKS = (  # noqa: SIM905 - a table
    "CreativeWork DigitalDocument Report Article Dataset WebPage WebSite HowTo VideoObject Book Guide"
    " PresentationDigitalDocument SoftwareSourceCode"
).split()
