"""The public description of one resource, what a dereferenced IRI returns: outgoing triples with blank
nodes closed, the labels of everything it links to, and incoming links counted per predicate and paged
(a département with thousands of communes never yields a page of thousands of rows).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from graph import sparql_text
from graph.namespaces import DAYS, DCTERMS, RDF, RDFS, SCHEMA, SKOS, VOID
from graph.store import Store, Term

LABEL_PROPS = (RDFS + "label", SKOS + "prefLabel", SCHEMA + "name")
MAX_BNODE_DEPTH = 4
# What the metadata graph says of a graph that a reuser of one of its resources must cite (Licence Ouverte
# asks for the source and its date), as the catalogue gives it.
PROVENANCE = (RDFS + "label", *(DCTERMS + p for p in ("source", "license", "issued", "modified")))
WEEK = {SCHEMA + day: i for i, day in enumerate(DAYS)}


@dataclass
class Description:
    iri: ox.NamedNode
    triples: list[ox.Triple] = field(default_factory=list)  # outgoing, then closed blank nodes
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # IRI → {lang: label}
    incoming_counts: dict[str, int] = field(default_factory=dict)  # predicate IRI → count
    # void:inDataset each public graph stating it, and those graphs' PROVENANCE
    sources: list[ox.Triple] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.triples or self.incoming_counts)

    def types(self) -> list[str]:
        return [o.value for o in group_by_predicate(self.triples, self.iri).get(RDF + "type", ())]

    def rdf(self) -> list[ox.Triple]:
        """The triples to serialise: the description plus the labels of the resources it links to, so that a
        reader names them without another request; never of its predicates, which are others' terms
        (schema.org, DCTERMS…) that the platform does not relabel."""
        seen = {str(t) for t in self.triples}
        labels = (
            ox.Triple(
                ox.NamedNode(target), ox.NamedNode(RDFS + "label"), ox.Literal(text, language=lang or None)
            )
            for target, by_lang in self.labels.items()
            if target != self.iri.value
            for lang, text in by_lang.items()
        )
        return self.triples + [t for t in labels if str(t) not in seen] + self.sources


def labels_of(store: Store, nodes: list[ox.NamedNode]) -> dict[str, dict[str, str]]:
    """rdfs:label, else skos:prefLabel, else schema:name, per language ('' for untagged)."""
    found: dict[str, dict[str, str]] = {}
    unique = list(dict.fromkeys(n for n in nodes if isinstance(n, ox.NamedNode)))
    for start in range(0, len(unique), 400):
        iris = sparql_text.values("x", (n.value for n in unique[start : start + 400]))
        for prop in LABEL_PROPS:  # in order of preference: the first label found in a language stays
            query = f"SELECT ?x ?l WHERE {{ {iris}?x <{prop}> ?l FILTER(isLiteral(?l)) }}"
            for r in store.select(query):
                found.setdefault(r["x"].value, {}).setdefault(r["l"].language or "", r["l"].value)
    return found


def closure_query(node: ox.NamedNode) -> str:
    """Triples of the blank nodes ``node`` reaches through blank nodes only, in MAX_BNODE_DEPTH hops at most.

    One query rather than one per blank node: a remote server's blank-node labels cannot be sent back
    in a later query. The node is written in each branch (by pyoxigraph, escaped) so that every branch
    starts from it; no BIND in the branches, which Virtuoso's compiler fails on."""
    branches = []
    for n in range(MAX_BNODE_DEPTH):
        names = [f"?b{i + 1}" for i in range(n)] + ["?b"]
        starts = [str(node), *names[:-1]]
        hops = " ".join(f"{a} ?q{i} {b} ." for i, (a, b) in enumerate(zip(starts, names, strict=True)))
        blank = " && ".join(f"isBlank({name})" for name in names)
        branches.append(f"{{ {hops} FILTER({blank}) ?b ?p ?o }}")
    return "SELECT DISTINCT ?b ?p ?o WHERE { " + " UNION ".join(branches) + " }"


def describe(store: Store, iri: str) -> Description:
    node = ox.NamedNode(iri)
    rows = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"s": node})
    desc = Description(node, [ox.Triple(node, r["p"], r["o"]) for r in rows])
    if any(isinstance(t.object, ox.BlankNode) for t in desc.triples):
        desc.triples.extend(ox.Triple(r["b"], r["p"], r["o"]) for r in store.select(closure_query(node)))
    for r in store.select("SELECT ?o ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o ?p", {"o": node}):
        desc.incoming_counts[r["p"].value] = int(r["n"].value)
    linked = [t.object for t in desc.triples if isinstance(t.object, ox.NamedNode)]
    desc.labels = labels_of(store, [node, *linked])
    if not desc.triples:  # no graph states it: a 404, or the extension probe, costs no provenance query
        return desc
    meta, asked = ox.NamedNode(store.meta_graph), " ".join(f"<{p}>" for p in PROVENANCE)
    query = f"""SELECT ?g ?p ?o WHERE {{ {{ SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {node} ?q ?x }} }} }}
      FILTER(?g != {meta}) OPTIONAL {{ GRAPH {meta} {{ ?g ?p ?o VALUES ?p {{ {asked} }} }} }} }}"""
    rows = store.select(query)
    graphs = dict.fromkeys(r["g"] for r in rows)
    desc.sources = [ox.Triple(node, ox.NamedNode(VOID + "inDataset"), g) for g in graphs]
    desc.sources += [ox.Triple(r["g"], r["p"], r["o"]) for r in rows if "p" in r]
    return desc


def incoming(
    store: Store, iri: str, predicate: str, limit: int, offset: int
) -> list[tuple[str, dict[str, str]]]:
    """One page of the subjects linking to ``iri`` through ``predicate``, sorted by label, with labels."""
    rows = store.select(
        # The aggregate is repeated in ORDER BY rather than named by its alias: Virtuoso refuses the alias.
        f"SELECT ?o ?p ?s (MIN(STR(?l)) AS ?label) WHERE {{ ?s ?p ?o OPTIONAL {{ ?s <{RDFS}label> ?l }} }}"
        f" GROUP BY ?o ?p ?s ORDER BY LCASE(MIN(STR(?l))) ?s LIMIT {int(limit)} OFFSET {int(offset)}",
        {"o": ox.NamedNode(iri), "p": ox.NamedNode(predicate)},
    )
    subjects = [r["s"] for r in rows if isinstance(r["s"], ox.NamedNode)]
    labels = labels_of(store, subjects)
    return [(s.value, labels.get(s.value, {})) for s in subjects]


class Text(str):
    """A literal's text with its language tag ('' untagged): a page shows it marked ``lang="…"`` where that
    is not the page's own language (WCAG 3.1.2), however the text reached it (api.pages.lang_attr)."""

    lang: str

    def __new__(cls, value: str, lang: str | None = "") -> Text:
        text = super().__new__(cls, value)
        text.lang = lang or ""
        return text


def pick(labels: dict[str, str] | None, lang: str, fallback: str = "") -> str:
    """The label in ``lang``, else French, else untagged, else any; a Text, with its language."""
    if not labels:
        return fallback
    key = next((key for key in (lang, "fr", "") if key in labels), next(iter(labels)))
    return Text(labels[key], key)


def group_by_predicate(triples: list[ox.Triple], subject: Term) -> dict[str, list[Term]]:
    """A subject's values per predicate in the store's order, except a week's: the store keeps no order, and
    people read days Monday→Sunday and opening hours by their first day (tables, JSON-LD alike)."""
    grouped: dict[str, list[Term]] = defaultdict(list)
    first_day: dict[Term, int] = {}
    for t in triples:
        if t.subject == subject:
            grouped[t.predicate.value].append(t.object)
        if t.predicate.value == SCHEMA + "dayOfWeek":
            first_day[t.subject] = min(
                first_day.get(t.subject, len(DAYS)), WEEK.get(t.object.value, len(DAYS))
            )
    for values in grouped.values():
        values.sort(key=lambda v: WEEK.get(v.value, first_day.get(v, len(DAYS))))
    return grouped
