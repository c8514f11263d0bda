"""Contributed resources: proposals, moderation and history, each change a PROV-O change set.

Where a resource ``<id>`` lives (a change is written so that a crash leaves it before or after, see
:meth:`Contributions._commit`):

- content, while pending: ``{base}graph/en-attente/<id>`` (not public);
- content, once accepted: ``{base}graph/contributions``, shared by all accepted resources (public: one
  graph per resource would make every public query scan thousands of graphs);
- rejected or deleted: no content graph; the content survives in its version graphs;
- every version of the content: ``{base}graph/historique/<id>/v<n>`` (not public);
- change sets and the current state: ``{base}graph/historique/<id>`` (not public);
- the contributor's email, name and tracking-token hash: ``{base}graph/prive/contributions`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

import pyoxigraph as ox

from graph.contact import scrub
from graph.namespaces import CS, DCTERMS, PROV, RDFS, SCHEMA, VOID, XSD, Minter, title_slug
from graph.sparql_text import values
from graph.store import GraphMeta, Store
from graph.terms import Triples, iri

LICENSES = {
    "https://creativecommons.org/licenses/by-sa/4.0/": "CC BY-SA 4.0",
    "https://creativecommons.org/licenses/by/4.0/": "CC BY 4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/": "Licence Ouverte 2.0",
}
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
# Names of the licences pages show: those a contribution may take, and those of the loaded sources.
LICENSE_NAMES = {
    **LICENSES,
    "https://opensource.org/licenses/MIT": "MIT",
    "https://opendatacommons.org/licenses/odbl/1-0/": "ODbL 1.0",
}

PENDING, ACCEPTED, REJECTED, DELETED = "en-attente", "acceptee", "rejetee", "supprimee"
CLOSED = "traitee"  # a report on one of the platform's pages, handled where that page's data lives
STATE_LABELS = {
    PENDING: "en attente",
    ACCEPTED: "acceptée",
    REJECTED: "rejetée",
    DELETED: "supprimée",
    CLOSED: "traitée",
}
ACTION_LABELS = {
    "proposition": "Proposition",
    "modification": "Modification",
    "acceptation": "Acceptation",
    "rejet": "Rejet",
    "traitement": "Traitement du signalement",
    "suppression": "Suppression",
    "restauration": "Restauration",
    "retour": "Retour à une version antérieure",
}
ANONYMOUS_LABEL = "Contributeur·rice du réseau"
WITHDRAWN = "retirée par son auteur"  # the reason of a deletion the contributor made

# The kind whose resource is an event (schema:Event, dated and placed): in /evenements, not /ressources.
EVENT = "evenement"
# Predicates of the content whose objects are IRIs chosen in lists: field name → predicate.
LINK_FIELDS = {
    "themes": DCTERMS + "subject",
    "publics": SCHEMA + "audience",
    "territories": DCTERMS + "spatial",
    "projects": DCTERMS + "relation",
    "organisations": SCHEMA + "mentions",
}
# Links that versions before 2026-12 wrote as xsd:anyURI literals; IRIs since, as in every other graph.
LINKS = (SCHEMA + "url", SCHEMA + "contentUrl")


class ContributionError(Exception):
    """An operation that does not apply to the resource in its current state."""


class UnknownContribution(ContributionError):
    """What the operation names (a resource, one of its versions) does not exist."""


class StaleVersion(ContributionError):
    """The resource changed since the moderator read it: writing would undo another's edit unseen (a
    personal name they removed, published again)."""


@dataclass
class StoredFile:
    """A file kept under the uploads folder, published at ``url`` once the resource is accepted."""

    url: str
    name: str
    media_type: str
    size: int


@dataclass
class Content:
    """What a contributor or a moderator writes: the fields of a resource. The same shape carries a
    proposal as posted (territories as typed, api/contributions.py checks it) and as stored."""

    title: str
    summary: str
    kind: str  # slug of a {base}id/type-ressource/ concept; none for a report, which publishes nothing
    url: str | None = None
    license: str = DEFAULT_LICENSE  # none for a report
    themes: list[str] = field(default_factory=list)
    publics: list[str] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    file: StoredFile | None = None
    # An event's (kind EVENT): xsd:date or xsd:dateTime lexical forms at Paris's time and offset, as sent
    # until checked; the place as written (a venue, an address), published.
    start: str = ""
    end: str = ""
    place: str = ""


@dataclass
class Contributor:
    """Who proposed: ``email`` goes only to the private graph; ``name`` is public only if ``show_name``."""

    name: str = ""  # with an account, its display name
    email: str = ""
    show_name: bool = False
    account: str | None = None  # username, when proposed while logged in


@dataclass
class ChangeSet:
    number: int
    action: str
    at: str
    agent_label: str
    state_after: str
    state_before: str | None  # None: the proposal
    version: int | None  # version generated, if the content changed
    reason: str | None
    derived_from: int | None  # version reverted to
    hides_earlier: bool = False  # the versions before it are out of the public history (they named someone)


@dataclass
class Record:
    """A resource as moderators see it."""

    id: str
    iri: str
    state: str
    version: int
    content: Content
    created: str
    contributor_label: str


class Listed(NamedTuple):
    """A resource in a moderation list: enough to triage it (its contributor as the public sees them)."""

    id: str
    title: str
    modified: str
    kind: str  # its slug
    contributor_label: str
    territories: list[str]
    state: str
    url: str | None = None  # a report's page (Contributions.reported)


_links = " ".join(f"<{p}>" for p in LINKS)


def _line_feeds(t: ox.Triple) -> ox.Triple:
    o = t.object
    if not isinstance(o, ox.Literal) or "\r" not in o.value:
        return t
    text = re.sub(r"\r\n?", "\n", o.value)
    return ox.Triple(
        t.subject,
        t.predicate,
        ox.Literal(text, language=o.language, datatype=None if o.language else o.datatype),
    )


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _dt(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "dateTime"))


def _date(value: str) -> ox.Literal | None:
    """An event's date as the loaders write one: xsd:date, or xsd:dateTime with its time."""
    if not value:
        return None
    return _dt(value) if "T" in value else ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))


def _data(graph: str, triples: list[ox.Triple]) -> str:
    body = " .\n".join(str(t) for t in triples)
    return f"GRAPH <{graph}> {{ {body} }}\n" if triples else ""


class Contributions:
    """The contribution model over any :class:`Store` (writes are SPARQL Updates only)."""

    def __init__(self, store: Store, secret: bytes):
        self.store = store
        self.minter: Minter = store.minter
        self._secret = secret
        self._lock = threading.Lock()
        self.private_graph = self.minter.private_graph("contributions")

    def iri(self, rid: str) -> str:
        return self.minter.thing("ressource", rid)

    def public_graph(self) -> str:
        return self.minter.graph("contributions")

    def pending_graph(self, rid: str) -> str:
        return self.minter.graph(f"en-attente/{rid}")

    def history_graph(self, rid: str) -> str:
        return self.minter.graph(f"historique/{rid}")

    def version_graph(self, rid: str, n: int) -> str:
        return self.minter.graph(f"historique/{rid}/v{n}")

    def version_iri(self, rid: str, n: int) -> str:
        return f"{self.iri(rid)}/version/{n}"

    def change_iri(self, rid: str, n: int) -> str:
        """The change set ``n`` (a prov:Activity): the history graph's node, and the history twins' too."""
        return f"{self.iri(rid)}/modification/{n}"

    def state_iri(self, state: str) -> str:
        return self.minter.thing("statut", state)

    def kind_iri(self, slug: str) -> str:
        return self.minter.thing("type-ressource", slug)

    def account_agent(self, username: str) -> str:
        """A pseudonymous IRI: the login name is a credential half and is never published (the agent's
        public label is the display name the person chose)."""
        return self._pseudonym("compte", f"compte|{username}")

    def contributor_agent(self, c: Contributor) -> tuple[str, str]:
        """(agent, public label) of who proposed, a pseudonym with ONE label (a label added per change would
        pile up every name sent on one agent). A name is public only if they chose to show it: their
        account's display name when signed in (the agent of their moderation changes too), else the name
        typed (one agent per email and name). An anonymous proposal never shares an agent with a named one
        (that would unmask it), nor with the account's."""
        if not (c.show_name and c.name.strip()):
            who = f"compte|{c.account}" if c.account else c.email.strip().lower()
            return self._pseudonym("contributeur", f"{who}|anonyme"), ANONYMOUS_LABEL
        name = c.name.strip()
        if c.account:
            return self.account_agent(c.account), name
        return self._pseudonym("contributeur", f"{c.email.strip().lower()}|nom|{name}"), name

    def _pseudonym(self, kind: str, key: str) -> str:
        return self.minter.thing(kind, hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()[:20])

    def content_triples(
        self, rid: str, c: Content, *, agent: str, agent_label: str, created: str, modified: str
    ) -> list[ox.Triple]:
        s = iri(self.iri(rid))
        t = Triples()
        t.a(s, "schema:Event" if c.kind == EVENT else "schema:CreativeWork")
        t.label(s, c.title)
        t.add(s, "schema:name", c.title, "fr")
        t.add(s, "schema:description", c.summary, "fr")
        t.add(s, "dcterms:type", iri(self.kind_iri(c.kind)) if c.kind else None)
        t.add(s, "dcterms:license", iri(c.license) if c.license else None)
        if c.url:
            t.add(s, "schema:url", iri(c.url))  # an IRI, as in every other graph
        t.add(s, "schema:startDate", _date(c.start))
        t.add(s, "schema:endDate", _date(c.end))
        t.add(s, "schema:location", c.place)
        for name, predicate in LINK_FIELDS.items():
            for value in getattr(c, name):
                t.add(s, predicate, iri(value))
        if c.file:
            m = iri(c.file.url)
            t.add(s, "schema:associatedMedia", m)
            t.a(m, "schema:MediaObject")
            t.label(m, c.file.name)
            t.add(m, "schema:name", c.file.name)
            t.add(m, "schema:contentUrl", m)  # the file is named by its download address
            t.add(m, "schema:encodingFormat", c.file.media_type)
            t.add(m, "schema:contentSize", c.file.size)
        a = iri(agent)
        t.add(s, "prov:wasAttributedTo", a)
        t.a(a, "prov:Agent")
        t.label(a, agent_label)
        t.add(s, "dcterms:created", _dt(created))
        t.add(s, "dcterms:modified", _dt(modified))
        return t

    def read_content(self, triples: list[ox.Triple], rid: str) -> Content:
        s = self.iri(rid)
        by_p: dict[str, list] = {}
        for t in triples:
            if t.subject.value == s:
                by_p.setdefault(t.predicate.value, []).append(t.object)

        def one(p: str) -> str | None:
            values = by_p.get(p)
            return values[0].value if values else None

        kind_prefix = self.kind_iri("")
        c = Content(
            title=one(SCHEMA + "name") or one(RDFS + "label") or "",
            summary=one(SCHEMA + "description") or "",
            kind=(one(DCTERMS + "type") or kind_prefix).removeprefix(kind_prefix),
            url=one(SCHEMA + "url"),
            license=one(DCTERMS + "license") or "",
            start=one(SCHEMA + "startDate") or "",
            end=one(SCHEMA + "endDate") or "",
            place=one(SCHEMA + "location") or "",
        )
        for name, predicate in LINK_FIELDS.items():
            setattr(c, name, sorted(o.value for o in by_p.get(predicate, [])))
        media = one(SCHEMA + "associatedMedia")
        if media:
            props = {t.predicate.value: t.object.value for t in triples if t.subject.value == media}
            c.file = StoredFile(
                url=media,
                name=props.get(SCHEMA + "name", ""),
                media_type=props.get(SCHEMA + "encodingFormat", ""),
                size=int(props.get(SCHEMA + "contentSize", "0")),
            )
        return c

    def _state(self, rid: str) -> tuple[str, int, int] | None:
        """(state, current version, number of change sets), or None if the resource is unknown."""
        rows = self.store.select(
            f"SELECT ?etat ?v ?n WHERE {{ GRAPH ?h {{ ?r <{CS}etat> ?etat ; <{CS}versionCourante> ?v ;"
            f" <{CS}nombreModifications> ?n }} }}",
            {"h": ox.NamedNode(self.history_graph(rid)), "r": ox.NamedNode(self.iri(rid))},
            public=False,
        )
        if not rows:
            return None
        state = rows[0]["etat"].value.rsplit("/", 1)[-1]
        return state, int(rows[0]["v"].value), int(rows[0]["n"].value)

    def state(self, rid: str) -> str | None:
        st = self._state(rid)
        return st[0] if st else None

    def _commit(
        self,
        rid: str,
        action: str,
        agent: str,
        agent_label: str,
        states: tuple[str, ...] | None,
        state_after: str | None = None,
        *,
        rewrite: bool = False,
        content: Content | None = None,
        reason: str | None = None,
        derived_from: int | None = None,
        private: list[ox.Triple] | None = None,
        hide_name: bool = False,
        hide_history: bool = False,
        seen: int | None = None,
    ) -> int:
        """Write one change set of a resource in one of ``states`` (None: a new resource) by ``agent``;
        ``state_after`` None keeps the state. ``rewrite``: a new version with ``content`` (None: that of
        version ``derived_from``, else the current one) under the original attribution and creation date,
        published now if accepted now; ``hide_name``: under an anonymous pseudonym instead of the name
        shown (one per original agent, never linked to it publicly), the name taken out of the resource's
        history too (a name that should never have been public); ``hide_history``: the public history
        starts at this version (earlier ones hold personal data it took out), they stay here; ``seen``:
        the version the moderator's page showed, refused if it is no longer the current one (checked here,
        under the lock, so that two moderators' writes never cross). The content graph of the old state is
        dropped and the content is written to the graph of the new state (if any)."""
        with self._lock:  # one change at a time per process: read the state, then write
            state_before, version, count = None, 0, 0
            if states is not None:
                st = self._state(rid)
                if st is None:
                    raise UnknownContribution(f"ressource inconnue : {rid}")
                if seen is not None and seen != st[1]:  # before its state: what the page showed is stale
                    raise StaleVersion(
                        f"cette proposition a changé depuis que vous l'avez ouverte (version {seen}, "
                        f"maintenant {st[1]}) : rechargez la page"
                    )
                if st[0] not in states:
                    raise ContributionError(f"impossible : la ressource est {STATE_LABELS[st[0]]}")
                state_before, version, count = st
            state_after = state_after or state_before
            at, number = now(), count + 1
            r = ox.NamedNode(self.iri(rid))
            hidden = None  # the agent whose name is hidden, if any
            old = self.version_content(rid, version) if version else []
            content_now, new_version = old, version
            if rewrite:
                if derived_from is not None and not 1 <= derived_from <= version:
                    raise UnknownContribution(f"version inconnue : {derived_from}")
                if derived_from is not None and derived_from < (floor := self.hidden_before(rid)):
                    # Public again, it would show what a hiding edit took out (as added, in the public diff).
                    raise ContributionError(f"impossible : les versions avant la {floor} sont masquées")
                if content is None:
                    source = self.version_content(rid, derived_from) if derived_from else old
                    content = self.read_content(source, rid)
                creator, label, created = self._attribution(rid, old) if old else (agent, agent_label, at)
                if hide_name and label != ANONYMOUS_LABEL:
                    hidden = creator
                    creator, label = self._pseudonym("contributeur", f"{creator}|anonyme"), ANONYMOUS_LABEL
                content_now = self.content_triples(
                    rid, content, agent=creator, agent_label=label, created=created, modified=at
                )
                published_on = ox.NamedNode(SCHEMA + "datePublished")
                if state_after == ACCEPTED and state_before != ACCEPTED:  # accepted now
                    content_now.append(ox.Triple(r, published_on, _dt(at)))
                else:
                    content_now += [t for t in old if t.subject == r and t.predicate == published_on]
                new_version = version + 1

            cs_node = ox.NamedNode(self.change_iri(rid, number))
            hist = Triples()
            hist.a(cs_node, "prov:Activity", "cs:Modification")
            hist.label(cs_node, ACTION_LABELS[action])
            hist.add(cs_node, "cs:action", action)
            hist.add(cs_node, "cs:numero", number)
            hist.add(cs_node, "prov:startedAtTime", _dt(at))
            hist.add(cs_node, "prov:endedAtTime", _dt(at))
            hist.add(cs_node, "prov:wasAssociatedWith", iri(agent))
            hist.label(iri(agent), agent_label)
            hist.add(cs_node, "cs:etatApres", iri(self.state_iri(state_after)))
            if state_before:
                hist.add(cs_node, "cs:etatAvant", iri(self.state_iri(state_before)))
            hist.add(cs_node, "cs:motif", reason, "fr")
            if version:
                hist.add(cs_node, "prov:used", iri(self.version_iri(rid, version)))
            if derived_from:
                hist.add(cs_node, "cs:retourA", iri(self.version_iri(rid, derived_from)))
            if hide_history:
                hist.add(cs_node, "cs:masqueAvant", True)
            if rewrite:
                v = iri(self.version_iri(rid, new_version))
                hist.a(v, "prov:Entity")
                hist.label(v, f"Version {new_version}")
                hist.add(v, "prov:specializationOf", r)
                hist.add(v, "prov:wasGeneratedBy", cs_node)
                hist.add(v, "prov:generatedAtTime", _dt(at))
                hist.add(v, "prov:wasAttributedTo", iri(agent))
                hist.add(v, "cs:graphe", iri(self.version_graph(rid, new_version)))
                hist.add(cs_node, "prov:generated", v)
                if version:
                    hist.add(v, "prov:wasRevisionOf", iri(self.version_iri(rid, version)))
                if derived_from:
                    hist.add(v, "prov:wasDerivedFrom", iri(self.version_iri(rid, derived_from)))
            hist.add(r, "cs:etat", iri(self.state_iri(state_after)))
            hist.add(r, "cs:versionCourante", new_version)
            hist.add(r, "cs:nombreModifications", number)
            hist.add(r, "dcterms:modified", _dt(at))

            # Two updates, as the embedded store keeps private graphs in an engine of their own: the public
            # one first. If the process dies between them, the record still says the old state and the
            # moderator's retry rewrites the same public triples; the other order could record a resource
            # as accepted whose content never reached the public graph.
            h, public, published = self.history_graph(rid), self.public_graph(), []
            updates = [
                f"DELETE WHERE {{ GRAPH <{h}> {{ {r} <{CS}etat> ?a ; <{CS}versionCourante> ?b ; "
                f"<{CS}nombreModifications> ?c ; <{DCTERMS}modified> ?d }} }}"
            ]
            if state_before == PENDING:
                updates.append(f"DROP SILENT GRAPH <{self.pending_graph(rid)}>")
            elif state_before == ACCEPTED:
                # The shared public graph holds exactly the current version: take out what this resource
                # owns (agents may be shared by several resources: they are cleaned up below).
                files = f"{self.minter.base}fichiers/{rid}/"
                owned = [t for t in old if t.subject == r or t.subject.value.startswith(files)]
                published.append(f"DELETE DATA {{ {_data(public, owned)} }}")
                # The links, whatever their form (literals until 2026-12: converge() rewrites them as IRIs).
                subjects = " ".join({str(t.subject) for t in owned})
                published.append(
                    f"DELETE {{ GRAPH <{public}> {{ ?s ?p ?u }} }} WHERE {{ VALUES ?s {{ {subjects} }} "
                    f"VALUES ?p {{ {_links} }} GRAPH <{public}> {{ ?s ?p ?u }} }}"
                )
            insert = _data(h, hist) + _data(self.private_graph, private or [])
            if rewrite:
                insert += _data(self.version_graph(rid, new_version), content_now)
            if state_after == PENDING:
                insert += _data(self.pending_graph(rid), content_now)
            elif state_after == ACCEPTED:
                published.append(f"INSERT DATA {{ {_data(public, content_now)} }}")
            updates.append(f"INSERT DATA {{ {insert} }}")
            if hidden:  # nor in its public history: its change sets and versions no longer name it
                named = f"<{hidden}> <{RDFS}label>"
                updates.append(
                    f"DELETE {{ GRAPH ?g {{ {named} ?l }} }} INSERT {{ GRAPH ?g {{ {named} "
                    f"{ox.Literal(ANONYMOUS_LABEL)} }} }} WHERE {{ GRAPH ?g {{ {named} ?l }} "
                    f'FILTER(?g = <{h}> || STRSTARTS(STR(?g), "{h}/v")) }}'
                )
            if state_before == ACCEPTED:
                agents = " ".join(
                    str(t.object)
                    for t in old
                    if t.subject == r and t.predicate.value == PROV + "wasAttributedTo"
                )
                published.append(
                    f"DELETE {{ GRAPH <{public}> {{ ?a ?p ?o }} }} WHERE {{ VALUES ?a {{ {agents} }} "
                    f"GRAPH <{public}> {{ ?a ?p ?o }} FILTER NOT EXISTS {{ GRAPH <{public}> "
                    f"{{ ?x <{PROV}wasAttributedTo> ?a }} }} }}"
                )
            if published:
                self.store.update(" ;\n".join([*published, self._provenance()]))
            self.store.update(" ;\n".join(updates))
            return number

    def converge(self) -> None:
        """What earlier versions published, brought to today's form at start-up (the version graphs stay
        as they were written): links as IRIs, as in every other graph; summaries' lines ended by line feeds
        (a browser's CR LF was published as sent until 2026-12); the graph's triple count in graph/meta,
        and no graph licence (earlier ones stated one, which some resources' contradicted)."""
        public, meta = self.public_graph(), self.store.meta_graph
        summary = f'GRAPH <{public}> {{ ?s <{SCHEMA}description> ?d FILTER(CONTAINS(?d, "\\r")) }}'
        old = f"VALUES ?p {{ {_links} }} GRAPH <{public}> {{ ?s ?p ?u FILTER(isLiteral(?u)) }}"
        counted = f"GRAPH <{meta}> {{ <{public}> <{VOID}triples> ?n }}"
        licensed = f"GRAPH <{meta}> {{ <{public}> <{DCTERMS}license> ?l }}"
        described = f"FILTER(NOT EXISTS {{ {counted} }} || EXISTS {{ {licensed} }})"
        stale = f"{{ {old} }} UNION {{ {summary} }} UNION {{ GRAPH <{public}> {{ ?s ?p ?o }} {described} }}"
        if self.store.select(f"SELECT ?s WHERE {{ {stale} }} LIMIT 1"):
            self.store.update(
                f"DELETE {{ GRAPH <{public}> {{ ?s ?p ?u }} }}"
                f" INSERT {{ GRAPH <{public}> {{ ?s ?p ?i }} }}"
                f" WHERE {{ {old} BIND(IRI(STR(?u)) AS ?i) }} ;\n"
                f"DELETE {{ GRAPH <{public}> {{ ?s <{SCHEMA}description> ?d }} }}"
                f" INSERT {{ GRAPH <{public}> {{ ?s <{SCHEMA}description> ?n }} }}"
                f' WHERE {{ {summary} BIND(REPLACE(?d, "\\r\\n?", "\\n") AS ?n) }} ;\n'
                f"{self._provenance()}"
            )

    def _provenance(self) -> str:
        """The update saying in graph/meta what it says of every graph (source, time, triple count), the
        count taken after the changes before it in the same update. No licence for the graph: each resource
        has its own (any of LICENSES), which one for the whole would contradict; the catalogue states the
        description as the graph's rights."""
        public, meta = self.public_graph(), self.store.meta_graph
        about = GraphMeta(
            label="Ressources partagées par le réseau (contributions acceptées)",
            source=self.minter.base + "ressources/proposer",
            description="Chaque ressource porte sa propre licence (dcterms:license), choisie par qui l'a "
            f"proposée parmi : {', '.join(LICENSES.values())}.",
        )
        void = f"<{VOID}triples>"
        described = [t for t in self.store.meta_triples(public, about, 0) if str(t.predicate) != void]
        return (
            f"DELETE WHERE {{ GRAPH <{meta}> {{ <{public}> ?p ?o }} }} ;\n"
            f"INSERT DATA {{ {_data(meta, described)} }} ;\n"
            f"INSERT {{ GRAPH <{meta}> {{ <{public}> {void} ?n }} }} "
            f"WHERE {{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{public}> {{ ?s ?p ?o }} }} }}"
        )

    @staticmethod
    def new_id(title: str) -> str:
        """Readable and unguessable enough to never collide: 'guide-des-saisonniers-3fa2c1'. The IRI outlives
        any edit of the title: an email address or a phone number typed in it never reaches the IRI, nor do
        markup tags (« <b>Queyras</b> » gives « queyras »; the title keeps them, shown escaped)."""
        words = re.sub(r"</?[A-Za-z][^<>]*>", " ", scrub(title, "", ""))
        return f"{title_slug(words)}-{secrets.token_hex(3)}"

    def propose(self, content: Content, contributor: Contributor, rid: str | None = None) -> tuple[str, str]:
        """A new pending resource → (id, private tracking token)."""
        rid = rid or self.new_id(content.title)
        token = secrets.token_urlsafe(24)
        agent, label = self.contributor_agent(contributor)
        r = iri(self.iri(rid))
        private = Triples()
        private.add(r, "cs:courriel", contributor.email.strip())
        private.add(r, "cs:nomContributeur", contributor.name.strip())
        private.add(r, "cs:nomPublic", contributor.show_name)
        private.add(r, "cs:jetonSuivi", hashlib.sha256(token.encode()).hexdigest())
        private.add(r, "prov:wasAttributedTo", iri(agent))
        self._commit(
            rid, "proposition", agent, label, None, PENDING, rewrite=True, content=content, private=private
        )
        return rid, token

    def _attribution(self, rid: str, current: list[ox.Triple]) -> tuple[str, str, str]:
        """(agent IRI, agent label, created) of the original contribution: edits keep them."""
        s = self.iri(rid)
        value = {(t.subject.value, t.predicate.value): t.object.value for t in current}
        agent = value[(s, PROV + "wasAttributedTo")]
        return agent, value.get((agent, RDFS + "label"), ANONYMOUS_LABEL), value[(s, DCTERMS + "created")]

    def _change(self, rid: str, user: str, user_label: str, action: str, *args, **kwargs) -> int:
        """A moderator's change: under the pseudonym of their account."""
        return self._commit(rid, action, self.account_agent(user), user_label, *args, **kwargs)

    def edit(
        self,
        rid: str,
        content: Content,
        user: str,
        user_label: str,
        hide_name: bool = False,
        seen: int | None = None,
        hide_history: bool = False,
    ) -> int:
        """A new version; ``hide_name``: the contributor's name is no longer shown (a name that should not
        be public: the resource is then credited as an anonymous proposal is); ``hide_history``: the
        earlier versions, holding what this one took out, leave the public history."""
        return self._change(
            rid,
            user,
            user_label,
            "modification",
            (PENDING, ACCEPTED),
            rewrite=True,
            content=content,
            hide_name=hide_name,
            hide_history=hide_history,
            seen=seen,
        )

    def reported(self, content: Content | Listed) -> str | None:
        """The platform's page a proposal reports an error on (its link is one of our IRIs, as a page's
        « Signaler une erreur » link fills it): to correct where that page's data lives, never to publish
        as a resource of its own."""
        return content.url if content.url and content.url.startswith(self.minter.base + "id/") else None

    def check_report(self, content: Content, closing: bool) -> None:
        """A report is closed, never published; a proposal of a resource is accepted or rejected."""
        if bool(self.reported(content)) != closing:
            said = (
                "un signalement se traite, il ne se publie pas"
                if not closing
                else "seul un signalement se traite"
            )
            raise ContributionError(f"impossible : {said}")

    def accept(self, rid: str, user: str, user_label: str, seen: int | None = None) -> int:
        if record := self.record(rid):
            self.check_report(record.content, closing=False)
        return self._change(
            rid, user, user_label, "acceptation", (PENDING,), ACCEPTED, rewrite=True, seen=seen
        )

    def close(
        self, rid: str, user: str, user_label: str, reason: str | None = None, seen: int | None = None
    ) -> int:
        """A report handled: closed, nothing published (``reason`` tells the reporter what was done)."""
        if record := self.record(rid):
            self.check_report(record.content, closing=True)
        return self._change(rid, user, user_label, "traitement", (PENDING,), CLOSED, reason=reason, seen=seen)

    def reject(self, rid: str, user: str, user_label: str, reason: str, seen: int | None = None) -> int:
        return self._change(rid, user, user_label, "rejet", (PENDING,), REJECTED, reason=reason, seen=seen)

    def delete(
        self, rid: str, user: str, user_label: str, reason: str | None = None, seen: int | None = None
    ) -> int:
        states = (ACCEPTED, PENDING)
        return self._change(rid, user, user_label, "suppression", states, DELETED, reason=reason, seen=seen)

    def withdraw(self, rid: str) -> int:
        """The contributor takes their pending proposal back: a deletion under the proposal's own
        attribution (never an account's name they chose not to show), restorable as any other."""
        st = self._state(rid)
        if st is None:
            raise UnknownContribution(f"ressource inconnue : {rid}")
        agent, label, _ = self._attribution(rid, self.version_content(rid, st[1]))
        return self._commit(rid, "suppression", agent, label, (PENDING,), DELETED, reason=WITHDRAWN)

    def restore(self, rid: str, user: str, user_label: str, seen: int | None = None) -> int:
        """Deleted, rejected or closed → the state it had before, with the content it had: only a resource
        that was accepted is published again, a pending one waits again for a decision (the last change set
        is the deletion, rejection or closing: nothing else applies to a resource in those states)."""
        last = self.history(rid)[-1:]
        before = last[0].state_before if last and last[0].state_before in (ACCEPTED, PENDING) else PENDING
        states = (DELETED, REJECTED, CLOSED)
        return self._change(rid, user, user_label, "restauration", states, before, seen=seen)

    def revert(self, rid: str, to_version: int, user: str, user_label: str, seen: int | None = None) -> int:
        """A new version with an old one's content (history only grows), in the current state's graph; the
        dates describe the resource, not a version: they stay the current ones."""
        states = (PENDING, ACCEPTED)
        return self._change(
            rid, user, user_label, "retour", states, rewrite=True, derived_from=to_version, seen=seen
        )

    def record(self, rid: str) -> Record | None:
        st = self._state(rid)
        if st is None:
            return None
        current = self.version_content(rid, st[1])
        agent, label, created = self._attribution(rid, current)
        return Record(rid, self.iri(rid), st[0], st[1], self.read_content(current, rid), created, label)

    def withdrawn(self, rid: str) -> bool:
        """Deleted once accepted: its IRI was public (dumps, sitemap), so it is gone rather than unknown. A
        resource never accepted stays unknown: its IRI, let alone its title, was never published."""
        return self.state(rid) == DELETED and any(c.state_after == ACCEPTED for c in self.history(rid))

    def version_content(self, rid: str, n: int) -> list[ox.Triple]:
        """A version's triples with its summary's lines ended as published (:meth:`converge`): taken out
        of the public graph, an old version's CR LF would match nothing there and leave the text public;
        restored, it would publish CR LF again."""
        graph = ox.NamedNode(self.version_graph(rid, n))
        found = self.store.construct(
            "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": graph}, public=False
        )
        return [_line_feeds(t) if t.predicate.value == SCHEMA + "description" else t for t in found]

    def hidden_before(self, rid: str) -> int:
        """The version before which the public history is hidden (0: none is): its versions hold what an
        edit took out, so none of them may be reverted to."""
        return max((c.version or 0 for c in self.history(rid) if c.hides_earlier), default=0)

    def history(self, rid: str) -> list[ChangeSet]:
        rows = self.store.select(
            f"""SELECT ?n ?action ?at ?agent ?label ?apres ?avant ?gen ?motif ?retour ?masque WHERE {{
              GRAPH ?h {{
              ?c <{CS}numero> ?n ; <{CS}action> ?action ; <{PROV}endedAtTime> ?at ;
                 <{PROV}wasAssociatedWith> ?agent ; <{CS}etatApres> ?apres .
              OPTIONAL {{ ?agent <{RDFS}label> ?label }}
              OPTIONAL {{ ?c <{CS}etatAvant> ?avant }}
              OPTIONAL {{ ?c <{PROV}generated> ?gen }}
              OPTIONAL {{ ?c <{CS}motif> ?motif }}
              OPTIONAL {{ ?c <{CS}retourA> ?retour }}
              OPTIONAL {{ ?c <{CS}masqueAvant> ?masque }} }} }} ORDER BY ?n""",
            {"h": ox.NamedNode(self.history_graph(rid))},
            public=False,
        )
        return [
            ChangeSet(
                number=int(r["n"].value),
                action=r["action"].value,
                at=r["at"].value,
                agent_label=r["label"].value if "label" in r else ANONYMOUS_LABEL,
                state_after=r["apres"].value.rsplit("/", 1)[-1],
                state_before=r["avant"].value.rsplit("/", 1)[-1] if "avant" in r else None,
                version=int(r["gen"].value.rsplit("/", 1)[-1]) if "gen" in r else None,
                reason=r["motif"].value if "motif" in r else None,
                derived_from=int(r["retour"].value.rsplit("/", 1)[-1]) if "retour" in r else None,
                hides_earlier="masque" in r,
            )
            # One row per change set, even where stores written before 2026-12 gave an agent several labels.
            for r in {r["n"].value: r for r in rows}.values()
        ]

    def by_state(self, state: str) -> list[Listed]:
        """Every resource in ``state``, most recent first: what a moderator triages by."""
        return self._listed("", {"e": ox.NamedNode(self.state_iri(state))})

    def of_account(self, username: str) -> list[Listed]:
        """What an account proposed, named or not (its two agents), latest first: « mes propositions »."""
        return self._listed(self._proposed_by(username), {})

    def owns(self, username: str, rid: str) -> bool:
        """Whether the account proposed ``rid`` (named or not): its follow-up page is then theirs."""
        where = self._proposed_by(username)
        return self.store.ask(f"ASK {{ {where} }}", {"r": ox.NamedNode(self.iri(rid))}, public=False)

    def _proposed_by(self, username: str) -> str:
        """The pattern binding ``?r`` to what the account proposed, under either of its agents."""
        agents = (self.account_agent(username), self.contributor_agent(Contributor(account=username))[0])
        return f"GRAPH <{self.private_graph}> {{ ?r <{PROV}wasAttributedTo> ?a }} " + values("a", agents)

    def _listed(self, where: str, bindings: dict[str, ox.Term]) -> list[Listed]:
        """The resources ``where`` selects, with their state (``?e`` if bound), in one query."""
        rows = self.store.select(
            f"""SELECT ?r ?m ?e (SAMPLE(?t) AS ?title) (SAMPLE(?k) AS ?kind) (SAMPLE(?who) AS ?label)
                (SAMPLE(?u) AS ?url) (GROUP_CONCAT(DISTINCT STR(?place); separator=" ") AS ?places) WHERE {{
              {where}
              GRAPH ?h {{ ?r <{CS}etat> ?e ; <{DCTERMS}modified> ?m ; <{CS}versionCourante> ?v }}
              FILTER(STRSTARTS(STR(?h), "{self.minter.graph("historique/")}"))
              BIND(IRI(CONCAT(STR(?h), "/v", STR(?v))) AS ?vg)
              OPTIONAL {{ GRAPH ?vg {{ ?r <{SCHEMA}name> ?t }} }}
              OPTIONAL {{ GRAPH ?vg {{ ?r <{DCTERMS}type> ?k }} }}
              OPTIONAL {{ GRAPH ?vg {{ ?r <{SCHEMA}url> ?u }} }}
              OPTIONAL {{ GRAPH ?vg {{ ?r <{PROV}wasAttributedTo>/<{RDFS}label> ?who }} }}
              OPTIONAL {{ GRAPH ?vg {{ ?r <{LINK_FIELDS["territories"]}> ?place }} }}
            }} GROUP BY ?r ?m ?e ORDER BY DESC(?m)""",
            bindings,
            public=False,
        )

        def value(r: dict, name: str) -> str:
            return r[name].value if name in r else ""

        return [
            Listed(
                r["r"].value.removeprefix(self.iri("")),
                value(r, "title"),
                r["m"].value,
                value(r, "kind").removeprefix(self.kind_iri("")),
                value(r, "label") or ANONYMOUS_LABEL,
                sorted(value(r, "places").split()),
                r["e"].value.removeprefix(self.state_iri("")),
                value(r, "url") or None,
            )
            for r in rows
        ]

    def by_token(self, token: str) -> str | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        rows = self.store.select(
            f"SELECT ?r WHERE {{ GRAPH ?g {{ ?r <{CS}jetonSuivi> ?h }} }}",
            {"g": ox.NamedNode(self.private_graph), "h": ox.Literal(digest)},
            public=False,
        )
        return rows[0]["r"].value.removeprefix(self.iri("")) if rows else None
