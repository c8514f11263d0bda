"""The `communs` command, run as a real process against a real on-disk store."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import NamedTuple

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import wait_until
from fastapi.testclient import TestClient
from sparql_helpers import stop_process
from test_contrib_crash import env_for, free_port, start

from api.accounts import SESSION_COOKIE, Accounts, _digest, accounts_path
from api.app import create_app
from graph import catalog, dumps, search
from graph.contributions import Content, Contributions, Contributor
from graph.settings import DEFAULT_BASE_IRI, Settings
from graph.store import GraphMeta, OxigraphStore
from loaders import rdf as rdf_loader

ROOT = Path(__file__).resolve().parent.parent


def communs(*args: str, store: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def select_json(store: Path, query: str) -> list[dict]:
    done = communs("query", query, "--format", "json", store=store)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["results"]["bindings"]


class Upgrade(NamedTuple):
    """A store before ``communs load`` ran on it: what it held then, and what the load must not change."""

    store: Path
    old_term: ox.Triple  # in the stored ontology, gone from the new one
    kept: dict[str, set[ox.Quad]]  # every graph but the ontology and the metadata, quad for quad
    accepted: str
    pending: str


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory) -> Upgrade:
    """The one full ``communs load`` of this file, run as the README's upgrade step: over a store holding an
    old ontology and contributions, pending and accepted (a second full load, only for them, was the suite's
    slowest test)."""
    path = tmp_path_factory.mktemp("cli") / "store"
    store = OxigraphStore("https://data.adrets-asso.fr/", path)
    ontology = store.minter.graph("ontologie")
    removed = ox.NamedNode(store.minter.base + "def#Ancien")
    old_term = ox.Triple(removed, ox.NamedNode(rdflib.RDFS.label), ox.Literal("Ancien"))
    store.replace_graph(ontology, [old_term], GraphMeta("Ontologie", "ontologie.ttl"))
    model = Contributions(store, b"secret")
    ana = Contributor("Ana", "ana@example.net")
    say = "Comment monter une plateforme de mobilité solidaire."
    accepted, _ = model.propose(Content("Guide accepté", say, "guide", url="https://e.org/a"), ana)
    model.accept(accepted, "modo", "Modé")
    pending, _ = model.propose(Content("Guide en attente", say, "guide", url="https://e.org/p"), ana)
    metadata = (ontology, store.meta_graph, store.private_meta_graph)
    kept = {g: set(store.quads(g)) for g in store.graphs() if g not in metadata}
    store.close()
    done = communs("load", store=path)
    assert done.returncode == 0, done.stderr
    return Upgrade(path, old_term, kept, accepted, pending)


@pytest.fixture(scope="module")
def loaded(upgrade: Upgrade) -> Path:
    return upgrade.store


def test_load_answers_the_acceptance_queries(loaded):
    communes = select_json(
        loaded, "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT (COUNT(*) AS ?n) { ?c a igeo:Commune }"
    )
    assert communes[0]["n"]["value"] == "34969"
    epci = select_json(
        loaded,
        "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
        "SELECT ?name { ?c igeo:codeINSEE '73054' ; dcterms:isPartOf ?e . "
        "?e a igeo:Intercommunalite ; igeo:nom ?name }",
    )
    assert [b["name"]["value"] for b in epci] == ["CC de Haute-Tarentaise"]


def test_validate_passes_on_loaded_data(loaded):
    done = communs("validate", store=loaded)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "conforme" in done.stdout


def test_the_readme_s_example_iris_exist_after_load(loaded):
    """README's example /id/projet/tremplin-saison was a 404: every concrete ``/id/<kind>/<key>`` it gives
    is in the bundled data once loaded (described, or named by a redirect: a former commune's code)."""
    keys = re.findall(r"/id/([a-z-]+/[A-Za-z0-9-]+)`", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert "departement/73" in keys and len(keys) > 5
    pairs = " ".join(f'(<https://data.adrets-asso.fr/id/{k}> "{k.rsplit("/", 1)[1]}")' for k in set(keys))
    former = "<https://w3id.org/communs-services/def#ancienCodeINSEE>"
    rows = select_json(
        loaded,
        f"SELECT ?i {{ VALUES (?i ?k) {{ {pairs} }} "
        f"FILTER NOT EXISTS {{ {{ ?i ?p ?o }} UNION {{ ?s ?p ?i }} UNION {{ ?c {former} ?k }} }} }}",
    )
    assert [r["i"]["value"] for r in rows] == []


def test_query_formats(loaded):
    q = (
        "SELECT ?code WHERE { <https://data.adrets-asso.fr/id/region/84> "
        "<http://rdf.insee.fr/def/geo#codeINSEE> ?code }"
    )
    assert communs("query", q, "--format", "csv", store=loaded).stdout.splitlines() == ["code", "84"]
    assert communs("query", q, "--format", "tsv", store=loaded).stdout.splitlines() == ["?code", '"84"']
    assert "84" in communs("query", q, store=loaded).stdout
    star = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"  # the query's order, as /sparql gives it (not o, p, s)
    assert communs("query", star, "--format", "csv", store=loaded).stdout.splitlines()[0] == "s,p,o"
    ask = "ASK { ?s a <http://rdf.insee.fr/def/geo#Region> }"
    assert communs("query", ask, store=loaded).stdout.strip() == "true"
    assert json.loads(communs("query", ask, "--format", "json", store=loaded).stdout)["boolean"] is True
    construct = "CONSTRUCT WHERE { <https://data.adrets-asso.fr/id/region/84> ?p ?o }"
    for args, fmt in (((), "turtle"), (("--format", "jsonld"), "json-ld")):
        done = communs("query", construct, *args, store=loaded)
        assert done.returncode == 0 and len(rdflib.Graph().parse(data=done.stdout, format=fmt)) > 3, (
            done.stderr
        )


def test_export_is_parsable_and_has_no_private_graph(loaded, tmp_path):
    out = tmp_path / "dump.nq"
    done = communs("export", "--format", "nquads", "--output", str(out), store=loaded)
    assert done.returncode == 0, done.stderr
    ds = rdflib.Dataset()
    ds.parse(out, format="nquads")
    assert len(ds) > 300_000
    assert not [g for g in ds.graphs() if "/graph/prive/" in str(g.identifier)]


def _small_store(folder: Path) -> Path:
    store = folder / "store"
    good = folder / "good.ttl"
    good.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n")
    assert communs("import", "rdf", str(good), store=store).returncode == 0
    return store


@pytest.fixture
def small_store(tmp_path) -> Path:
    return _small_store(tmp_path)


@pytest.fixture(scope="module")
def refusing_store(tmp_path_factory) -> Path:
    """One small store for every refused command: each checks that it left the store as it found it."""
    return _small_store(tmp_path_factory.mktemp("refusing"))


def store_size(store: Path) -> str:
    return communs("stats", store=store).stdout.splitlines()[0]


def test_unparsable_rdf_names_file_and_line_and_touches_nothing(small_store, tmp_path):
    before = store_size(small_store)
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c ;\n ex:d .\n")
    done = communs("import", "rdf", str(bad), "--graph", "http://example.org/g", store=small_store)
    assert done.returncode == 2
    assert f"{bad}:4:" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert store_size(small_store) == before


def test_the_private_half_given_as_the_store_is_refused_and_keeps_its_data(small_store, tmp_path):
    """``STORE.private`` opened as a store used to move every private graph into a ``.private`` of its own."""
    good = tmp_path / "good.ttl"
    private = "https://data.adrets-asso.fr/graph/prive/x"
    assert communs("import", "rdf", str(good), "--graph", private, store=small_store).returncode == 0
    before = store_size(small_store)
    companion = small_store.with_name("store.private")
    done = communs("stats", store=companion)
    assert done.returncode == 2 and f"entrepôt {small_store} :" in done.stderr, done.stderr
    assert not companion.with_name("store.private.private").exists()
    assert store_size(small_store) == before and not before.endswith(" 0 non publics")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "rdf", "/nonexistent/file.ttl"], "aucun fichier ni dossier de ce nom"),
        (["import", "rdf", "{tmp}/data.xyz"], "cannot tell the RDF format"),
        (["import", "rdf", "{tmp}/data.xyz", "--format", "yaml"], "format inconnu 'yaml'"),
        (["import", "territories", "{tmp}"], "not a decoupage-administratif folder"),
        (["query"], "donnez une requête, ou --file FICHIER.rq"),
        (
            ["export", "--graph", "https://data.adrets-asso.fr/graph/prive/x"],
            "n'est pas public : ajoutez --private",
        ),
        (["user", "role", "quelquun"], "donnez --role"),
        (["user", "token"], "user token demande un nom"),
        (
            ["query", "ASK {{ SERVICE <http://x.example/> {{ ?s ?p ?o }} }}"],
            "SERVICE <http://x.example/> refused",
        ),
        (
            ["query", "SELECT * WHERE {{ ?s cs:x ?o }}"],
            "add PREFIX cs: <https://w3id.org/communs-services/def#>",
        ),
        (["query", "ASK {{}}", "--format", "ttl"], "ne donne pas de --format ttl"),
        (["query", "SELECT * {{}}", "--format", "jsonld"], "ne donne pas de --format jsonld"),
        (["import", "rdf", "{tmp}/data.xyz", "--graph", "not-an-iri"], "pas une IRI : 'not-an-iri'"),
        (["export", "--output", "/nonexistent/dir/x.nq"], "No such file or directory"),
        (["export", "--output", "/dev/full"], "No space left on device: '/dev/full'"),
        (["query", "ASK {{}}", "--output", "/nonexistent/dir/x.csv"], "No such file or directory"),
        (["query", "ASK {{}}", "--output", "/dev/full"], "No space left on device: '/dev/full'"),
        (["export", "--graph", "https://nope.example/g"], "n'est pas un graphe de cet entrepôt"),
        (["validate", "--graph", "https://nope.example/g"], "n'est pas un graphe de cet entrepôt"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(refusing_store, tmp_path, args, message):
    (tmp_path / "data.xyz").write_text("whatever")
    before = store_size(refusing_store)
    done = communs(*[a.format(tmp=tmp_path) for a in args], store=refusing_store)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert store_size(refusing_store) == before


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["query", "ASK {{}}"],
        ["export", "--output", "{tmp}/sauvegarde.nq"],
        ["validate"],
        ["user", "add", "dave", "--password-stdin"],
        ["serve", "--port", "0"],
    ],
)
def test_a_store_that_is_not_there_is_refused_not_created(tmp_path, args):
    missing = tmp_path / "typo" / "store"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *[a.format(tmp=tmp_path) for a in args], "--store", str(missing)],
        input="un-mot-de-passe-long\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    message = (
        f"aucun entrepôt à {missing} : vérifiez --store, ou créez-le avec « communs load --store {missing} »"
    )
    assert done.stderr == f"communs : erreur : {message}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["stats"], ["backup", "{tmp}/sauvegarde"]])
@pytest.mark.parametrize("held", [[], ["notes.txt"]], ids=["empty", "not-a-store"])
def test_a_folder_that_is_no_store_is_said_so_in_french_and_left_as_it_was(tmp_path, args, held):
    folder = tmp_path / "dossier"
    folder.mkdir()
    for name in held:
        (folder / name).write_text("à garder")
    done = communs(*[a.format(tmp=tmp_path) for a in args], store=folder)
    assert done.returncode == 2, done.stderr
    message = (
        f"aucun entrepôt à {folder} : vérifiez --store, ou créez-le avec « communs load --store {folder} »"
    )
    assert done.stderr == f"communs : erreur : {message}\n"
    assert sorted(p.name for p in folder.iterdir()) == held
    assert list(tmp_path.iterdir()) == [folder]


def test_a_store_in_use_is_one_line_to_serve_and_read_by_the_reading_verbs(small_store):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(small_store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline() == b"ouvert\n"
        done = communs("serve", "--port", "0", store=small_store)
        reading = communs("stats", store=small_store)
        read = communs("stats", "--store-read-only", store=small_store)
    finally:
        holder.communicate(timeout=60)
    assert done.returncode == 2, done.stderr  # the store or its .private: the engine opened first
    assert done.stderr.startswith(f"communs : erreur : cannot open the store at {small_store}")
    assert len(done.stderr.splitlines()) == 1
    for verb in (reading, read):  # a reading verb opens it read-only, the flag given or not
        assert verb.returncode == 0 and "quads publics" in verb.stdout, verb.stderr


HOLD = """import sys
from graph.store import OxigraphStore
store = OxigraphStore("https://data.adrets-asso.fr/", sys.argv[1])
print("ouvert", flush=True)
sys.stdin.read()
store.close()
"""


def test_a_file_given_as_the_store_is_said_to_be_a_file(tmp_path):
    good = tmp_path / "good.ttl"
    good.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n")
    done = communs("import", "rdf", str(good), store=good)
    assert done.returncode == 2
    message = f"cannot open the store at {good}: it is a file, not a store's folder"
    assert done.stderr == f"communs : erreur : {message}\n"


def test_version_is_the_package_s():
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--version"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert done.returncode == 0 and done.stdout == f"communs {project['version']}\n"


def test_the_quick_verbs_do_not_import_the_loaders_the_index_or_the_dumps(small_store):
    """Every ``communs`` imported them all before it started: a ``query`` or an ``export`` paid for the
    loaders of load and import, the search index and the downloads builder."""
    heavy = ["graph.dumps", "graph.search", "loaders.catalogue", "loaders.data_inclusion", "loaders.places"]
    verbs = [["query", "ASK {}"], ["export", "--output", os.devnull]]
    run = (
        "import sys\nfrom api.cli import main\n"
        f"for verb in {verbs!r}:\n    assert main([*verb, '--store', {str(small_store)!r}]) == 0\n"
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.splitlines()[-1] == "[]", done.stdout + done.stderr


def _quads_file(path: Path, n: int) -> Path:
    """``n`` quads in two named graphs, plus default-graph triples and one duplicate line."""
    with path.open("w") as out:
        for i in range(n):
            graph = "<http://example.org/g1>" if i % 2 else "<http://example.org/g2>"
            out.write(f'<http://example.org/s{i}> <http://example.org/p> "v{i}" {graph} .\n')
        out.write("<http://example.org/s0> <http://example.org/p> <http://example.org/o> .\n" * 2)
    return path


def graph_counts(store: Path) -> dict[str, int]:
    rows = select_json(store, "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}


def test_import_of_new_graphs_is_streamed_and_a_second_import_replaces_them(tmp_path):
    store = tmp_path / "store"
    data = _quads_file(tmp_path / "big.nq", 1000)
    target = "https://data.adrets-asso.fr/graph/import/big"
    done = communs("import", "rdf", str(data), store=store)
    assert done.returncode == 0, done.stderr
    assert "quads lus" in done.stdout and "1001 triplets importés" in done.stdout  # the duplicate once
    # The index's build, minutes at national scale, says when it begins as when it ends.
    said = done.stdout.splitlines()[-2:]
    assert said[0] == "mise à jour de l'index des listes et de la recherche…", done.stdout
    assert said[1].startswith("index des listes et de la recherche à jour en"), done.stdout
    counts = graph_counts(store)
    assert (counts["http://example.org/g1"], counts["http://example.org/g2"], counts[target]) == (500, 500, 1)
    meta = select_json(
        store,
        "PREFIX void: <http://rdfs.org/ns/void#> "
        "SELECT ?n { GRAPH ?m { <http://example.org/g1> void:triples ?n } }",
    )
    assert [m["n"]["value"] for m in meta] == ["500"]
    again = communs("import", "rdf", str(data), store=store)  # graphs exist: the transactional way
    assert again.returncode == 0 and "quads lus" not in again.stdout, again.stderr
    assert graph_counts(store) == counts


def test_the_site_s_gzipped_download_imports_as_it_is(tmp_path):
    """``dump.nq.gz``, the site's own download, was refused (« cannot tell the RDF format from '.gz' »):
    read gunzipped, streamed into new graphs and again the transactional way, and as gzipped Turtle."""
    plain = _quads_file(tmp_path / "plain.nq", 100)
    gzipped = tmp_path / "dump.nq.gz"
    gzipped.write_bytes(gzip.compress(plain.read_bytes()))
    store = tmp_path / "store"
    for _ in range(2):  # streamed, then replacing (graphs exist)
        done = communs("import", "rdf", str(gzipped), store=store)
        assert done.returncode == 0, done.stderr
        counts = graph_counts(store)
        assert (counts["http://example.org/g1"], counts["http://example.org/g2"]) == (50, 50)
    turtle = tmp_path / "one.ttl.gz"
    turtle.write_bytes(gzip.compress(b"<http://example.org/a> <http://example.org/b> 1 ."))
    done = communs("import", "rdf", str(turtle), "--graph", "http://example.org/t", store=store)
    assert done.returncode == 0 and graph_counts(store)["http://example.org/t"] == 1, done.stderr


def test_a_bulk_import_killed_midway_leaves_the_store_as_before(tmp_path):
    store = tmp_path / "store"
    OxigraphStore("https://data.adrets-asso.fr/", store).close()
    data = _quads_file(tmp_path / "big.nq", 400_000)
    before = store_size(store)
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "import", "rdf", str(data), "--store", str(store)], cwd=ROOT
    )
    pending = store.with_name("store.bulk-pending")
    deadline = time.monotonic() + 120
    while not pending.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert pending.exists(), "the bulk load never started (or ended before it could be seen)"
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    # Opening the store dropped the unfinished graphs (its version moves on: caches are not trusted).
    assert store_size(store).rsplit(";", 1)[0] == before.rsplit(";", 1)[0]
    assert not pending.exists()
    assert graph_counts(store) == {}


def test_the_sizes_printed_are_the_public_quads_of_void_and_the_download_and_the_rest(tmp_path):
    """What ``load`` and ``stats`` print: the public quads as VoID and the N-Quads download count them (the
    default graph and the metadata graph with the named graphs), and apart what is never published (load
    printed the triples it wrote, private ones included, and every quad of both engines)."""
    path = tmp_path / "store"
    store = OxigraphStore("https://data.adrets-asso.fr/", path)
    a, label = ox.NamedNode(store.minter.thing("projet", "a")), ox.NamedNode(rdflib.RDFS.label)
    triples = [ox.Triple(a, label, ox.Literal(x)) for x in "ab"]
    store.replace_graph(store.minter.graph("essai"), triples, GraphMeta("Essai", "essai.ttl"))
    store.replace_graph(store.minter.private_graph("essai"), triples[:1], GraphMeta("Privé", "prive.ttl"))
    store.update(f'INSERT DATA {{ {a} {label} "par défaut" }}')
    void = catalog.statistics(store)["triples"]
    dumps.build(store, tmp_path / "dumps", store.version)
    with gzip.open(tmp_path / "dumps" / f"v{store.version}" / dumps.NQUADS, "rt") as nquads:
        downloaded = sum(1 for _ in nquads)
    hidden = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    private = int(store.select(hidden, public=False)[0]["n"].value)
    store.close()
    printed = store_size(path)
    assert void == downloaded > 3 and private > 1
    assert printed.startswith(f"{void} quads publics") and f" ; {private} non publics ;" in printed, printed
    exported = communs("export", "--format", "nquads", store=path).stdout.splitlines()
    assert len(exported) == void and f'{a} {label} "par défaut" .' in exported  # as downloaded


def test_every_argument_of_every_verb_says_what_it_is():
    """``--help`` is the deployer's manual: an argument without help text is one they must guess."""
    from api.cli import build_parser

    verbs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    silent = [
        f"{verb} {action.dest}"
        for verb, parser in verbs.choices.items()
        for action in parser._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert not silent
    flags = {verb: {o for a in p._actions for o in a.option_strings} for verb, p in verbs.choices.items()}
    # Each verb offers what it uses: --report where data is loaded, --store-read-only where it is only read.
    assert {v for v, f in flags.items() if "--report" in f} == {"load", "import"}
    assert {v for v, f in flags.items() if "--store-read-only" in f} == {
        "query",
        "export",
        "validate",
        "stats",
        "backup",
    }


def test_a_remote_store_s_files_are_where_the_settings_help_says(tmp_path, monkeypatch):
    """``communs user --help`` said accounts live in ``<store>.comptes.sqlite``: for a remote store they are
    written to ``var/comptes.sqlite`` in the working directory, beside ``var/secret_key``. Each file's help
    (graph/settings.py, the flags' and the environment's) names where a remote store's is, and that the
    accounts, the key and the uploads are the same for every server."""
    from api import accounts
    from graph.settings import Settings

    monkeypatch.chdir(tmp_path)
    settings = Settings(store="sparql+http://127.0.0.1:7878/query")
    accounts.secret_key(settings)  # written on first use
    found = {
        "accounts_db": accounts.accounts_path(settings),
        "secret_key": next(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()),
        "index_db": str(settings.index_path()),
        "dumps_dir": str(settings.dumps_path()),
    }
    for name, path in found.items():
        said = re.search(r"distant : ([^ ;)]+)", Settings.model_fields[name].description or "")
        assert said and re.fullmatch(re.escape(said[1]).replace("<hash>", "[0-9a-f]{12}"), path), (name, path)
    shown = subprocess.run(
        [sys.executable, "-m", "api.cli", "user", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "distant : var/comptes.sqlite" in " ".join(shown.split())
    # Not named after the server as the index is: two deployments from one folder share them, which the help
    # says (the README's « On a SPARQL server » says why).
    for name in ("accounts_db", "secret_key", "uploads_dir"):
        assert "pour tous les serveurs" in (Settings.model_fields[name].description or ""), name


def test_a_backup_taken_while_serving_restores_the_same_site(tmp_path):
    """``backup`` while the server holds the store, ``restore`` into a new one: the same quads in the same
    graphs (an ``import rdf`` of ``export --private`` relabelled every graph « Import de full.nq » and lost
    its licence), the same version and counts, and the accounts, key and uploaded file work there."""
    old, new = tmp_path / "site" / "store", tmp_path / "ailleurs" / "store"
    store = OxigraphStore("https://data.adrets-asso.fr/", old)
    for load in rdf_loader.ontology(store.minter).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    a, label = ox.NamedNode(store.minter.thing("projet", "a")), ox.NamedNode(rdflib.RDFS.label)
    licence = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    meta = GraphMeta("Essai", "essai.ttl", licence, issued=dt.date(2024, 8, 1))
    store.replace_graph(store.minter.graph("essai"), [ox.Triple(a, label, ox.Literal("A"))], meta)
    store.replace_graph(store.minter.private_graph("essai"), [ox.Triple(a, label, ox.Literal("P"))], meta)
    store.close()
    password = "un-mot-de-passe-long"
    add = ["user", "add", "modo", "--role", "moderateur", "--password-stdin"]
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *add, "--store", str(old)],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    token = communs("user", "token", "modo", store=old).stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    body = {
        "titre": "Guide des saisonniers",
        "resume": "Un guide pour les saisonniers.",
        "type": "guide",
        "licence": "https://creativecommons.org/licenses/by/4.0/",
        "nom": "Jo",
        "courriel": "jo@example.net",
        "url": "https://example.org/guide",
    }
    pdf = {"nom": "guide.pdf", "contenu_base64": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()}

    def site(path: Path, catch_up: bool = False) -> dict:
        """What a reuser and a moderator see of the site at ``path``, served: ``catch_up``, once its index
        took up the last writes of the server before (in the background: the home page says the figure of
        the index's version until then); a restored one's is up to date from the start."""
        with TestClient(create_app(Settings(store=str(path)))) as client:
            void = client.get("/.well-known/void", headers={"Accept": "application/n-triples"}).text
            void_triples = re.findall(r"void#triples> \"(\d+)\"", void)

            def home() -> str:
                said = re.search(r'id="triples">([^<]+)<', client.get("/").text)[1]
                return re.sub(r"\D", "", said)

            if catch_up:
                wait_until(lambda: home() == void_triples[0], 60, "the index to take up the last writes")
            return {
                "home": home(),
                "void": void_triples,
                "pending": client.get(f"/api/contributions/{pending}", headers=bearer).status_code,
                "file": client.get(published_file).status_code,
                "sign-in": client.post(
                    "/connexion",
                    data={
                        "csrf_token": re.search(
                            r'csrf_token" value="([^"]+)"', client.get("/connexion").text
                        )[1],
                        "identifiant": "modo",
                        "mot_de_passe": password,
                    },
                    follow_redirects=False,
                ).status_code,
            }

    with TestClient(create_app(Settings(store=str(old)))) as client:
        proposed = [
            client.post("/api/contributions", json=b, headers=bearer)
            for b in ({**body, "fichier": pdf}, body)
        ]
        assert [r.status_code for r in proposed] == [201, 201], proposed[1].text
        accepted, pending = proposed[0].json(), proposed[1].json()["id"]
        done = client.post(f"/api/contributions/{accepted['id']}/accepter", headers=bearer)
        assert done.status_code == 200, done.text
        published_file = re.search(r'href="(/[^"]+guide\.pdf)"', client.get(accepted["iri"]).text)[1]
        backed = communs("backup", str(tmp_path / "sauvegarde"), "--store-read-only", store=old)
        assert backed.returncode == 0, backed.stderr
    done = communs("restore", str(tmp_path / "sauvegarde"), store=new)
    assert done.returncode == 0, done.stderr
    assert communs("restore", str(tmp_path / "sauvegarde"), store=new).returncode == 2  # not over a store
    before, after = (OxigraphStore("https://data.adrets-asso.fr/", s) for s in (old, new))
    assert set(before.quads()) == set(after.quads()) and before.version == after.version > 0
    assert sorted(before.public_graphs()) == sorted(after.public_graphs())  # the private ones apart
    key = "store.secret_key"  # contributors' pseudonyms are keyed by it
    assert old.with_name(key).read_text() == new.with_name(key).read_text()
    before.close(), after.close()
    assert communs("stats", store=old).stdout == communs("stats", store=new).stdout
    was, now = site(old, catch_up=True), site(new)
    assert was == now, (was, now)
    assert now["pending"] == 200 and now["file"] == 200 and now["sign-in"] == 303
    assert now["home"] == now["void"][0], now  # the dataset's void:triples, first


def _site_with_an_account(store: Path) -> None:
    """A small store (a public and a private graph) and its accounts database holding « bob »."""
    oxi = OxigraphStore("https://data.adrets-asso.fr/", store)
    a, label = ox.NamedNode(oxi.minter.thing("projet", "a")), ox.NamedNode(rdflib.RDFS.label)
    meta = GraphMeta("Essai", "essai.ttl")
    oxi.replace_graph(oxi.minter.graph("essai"), [ox.Triple(a, label, ox.Literal("A"))], meta)
    oxi.replace_graph(oxi.minter.private_graph("essai"), [ox.Triple(a, label, ox.Literal("P"))], meta)
    oxi.close()
    accounts = Accounts(accounts_path(Settings(store=str(store))))
    accounts.add("bob", "un-mot-de-passe-long")
    accounts.close()


def test_backup_and_restore_write_the_private_files_for_the_owner_only(tmp_path):
    """Under the usual umask 022, the backup folder was 755 and its dump (contributors' e-mails) and accounts
    copy (password hashes) 644, as was the restored accounts database: now 700 and 600."""
    from api.cli import main

    old, new, folder = tmp_path / "site" / "store", tmp_path / "neuf" / "store", tmp_path / "sauvegarde"
    _site_with_an_account(old)
    umask = os.umask(0o022)
    try:
        assert main(["backup", str(folder), "--store", str(old)]) == 0
        assert main(["restore", str(folder), "--store", str(new)]) == 0
    finally:
        os.umask(umask)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (folder, *folder.iterdir())}
    assert modes == {"sauvegarde": 0o700, "donnees.nq.gz": 0o600, "version": 0o600, "comptes.sqlite": 0o600}
    assert accounts_path(Settings(store=str(new))) == str(new.with_name("store.comptes.sqlite"))
    assert new.with_name("store.comptes.sqlite").stat().st_mode & 0o777 == 0o600


def test_restore_refuses_to_land_on_live_accounts_or_uploads(tmp_path, capsys):
    """The empty-store check covered the quads only: a restore replaced the live accounts database given by
    --accounts-db (one per deployment) and merged into an uploads folder in use. Now it refuses, in one line
    naming the file, before anything is written."""
    from api.cli import main

    old, folder = tmp_path / "site" / "store", tmp_path / "sauvegarde"
    _site_with_an_account(old)
    (tmp_path / "site" / "uploads").mkdir()
    (tmp_path / "site" / "uploads" / "guide.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert main(["backup", str(folder), "--store", str(old)]) == 0
    capsys.readouterr()

    live = tmp_path / "live.sqlite"
    accounts = Accounts(str(live))
    accounts.add("carol", "un-mot-de-passe-long")
    accounts.close()
    before = live.read_bytes()
    new = tmp_path / "neuf" / "store"
    assert main(["restore", str(folder), "--store", str(new), "--accounts-db", str(live)]) == 2
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and str(live) in said and "--accounts-db" in said, said
    assert live.read_bytes() == before and not new.exists()

    other = tmp_path / "voisin" / "store"
    (tmp_path / "voisin" / "uploads").mkdir(parents=True)
    (tmp_path / "voisin" / "uploads" / "vivant.pdf").write_bytes(b"live")
    assert main(["restore", str(folder), "--store", str(other)]) == 2
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and str(tmp_path / "voisin" / "uploads") in said, said
    assert [p.name for p in (tmp_path / "voisin" / "uploads").iterdir()] == ["vivant.pdf"]
    assert not other.exists() and not other.with_name("store.comptes.sqlite").exists()


def test_backup_says_which_parts_it_took_and_is_not_complete_without_the_accounts(tmp_path, capsys):
    """Run where the settings miss the accounts (a cron job from another folder), ``backup`` left them out
    and still said « sauvegarde complète »: each part now says where it was looked for, and the last line
    says the backup has no accounts."""
    from api.cli import main

    store = tmp_path / "site" / "store"
    _site_with_an_account(store)
    accounts = store.with_name("store.comptes.sqlite")
    assert main(["backup", str(tmp_path / "avec"), "--store", str(store)]) == 0
    said = capsys.readouterr().out.splitlines()
    assert f"comptes : copiés de {accounts}" in said and said[-1].startswith("sauvegarde complète"), said
    elsewhere = tmp_path / "ailleurs.sqlite"
    without = ["backup", str(tmp_path / "sans"), "--store", str(store), "--accounts-db", str(elsewhere)]
    assert main(without) == 0
    said = capsys.readouterr().out.splitlines()
    assert f"comptes : absents de {elsewhere}" in said, said
    assert f"fichiers déposés : absents de {tmp_path / 'site' / 'uploads'}" in said, said
    assert said[-1] == f"sauvegarde sans comptes dans {tmp_path / 'sans'}", said


def test_the_readme_s_backup_and_upgrade_commands_are_the_command_s():
    """Backup, restore and upgrade were documented nowhere: the README's section shows them, and every
    ``communs`` line it shows is one the command takes (its verbs and flags)."""
    from api.cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Sauvegarder, restaurer, mettre à jour")[1].split("\n## ")[0]
    lines = re.findall(r"^communs (.+?)(?:\s+#.*)?$", section, re.MULTILINE)
    assert [line.split()[0] for line in lines] == ["backup", "restore", "serve", "load", "serve"]
    for line in lines:
        build_parser().parse_args(line.split())


def test_load_the_upgrade_step_replaces_the_old_ontology_and_keeps_the_contributions(upgrade):
    """What the README says of an upgrade: ``communs load`` puts the new code's ontology in place of the
    stored one (kept until then) and leaves the proposals, pending and accepted, as they were."""
    store = OxigraphStore("https://data.adrets-asso.fr/", upgrade.store, read_only=True)
    try:
        assert {g: set(store.quads(g)) for g in upgrade.kept} == upgrade.kept
        ontology = store.minter.graph("ontologie")
        assert (
            upgrade.old_term not in {q.triple for q in store.quads(ontology)} and store.count(ontology) > 1000
        )
        model = Contributions(store, b"secret")
        assert (model.state(upgrade.accepted), model.state(upgrade.pending)) == ("acceptee", "en-attente")
    finally:
        store.close()


def test_an_imported_dump_s_counts_are_the_same_on_the_home_page_and_in_void(tmp_path):
    """``import rdf`` of the site's dump holds the metadata graph: it was described as an import, its own
    count taken before the other graphs' descriptions landed in it, so the home page (the index sums the
    stated counts) said 2 triples fewer than VoID; the same again when the dump is imported a second time."""
    source = OxigraphStore("https://data.adrets-asso.fr/", tmp_path / "source")
    for load in rdf_loader.ontology(source.minter).graphs:
        source.replace_graph(load.graph, load.triples, load.meta)
    source.close()
    dump = tmp_path / "dump.nq"
    assert communs("export", "--output", str(dump), store=tmp_path / "source").returncode == 0
    path = tmp_path / "store"
    for _ in range(2):  # new graphs (bulk-loaded), then existing ones (one transaction each)
        assert communs("import", "rdf", str(dump), store=path).returncode == 0
        store = OxigraphStore("https://data.adrets-asso.fr/", path)
        index = search.Catalog(store)
        assert index.triples == catalog.statistics(store)["triples"]
        index.close()
        store.close()


def user_cli(env: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "user", *args],
        input=stdin,
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
    )


def test_user_list_is_one_tab_separated_line_per_account(small_store):
    env = {**os.environ, "COMMUNS_STORE": str(small_store)}
    user_cli(env, "add", "bob", "--password-stdin", stdin="un-mot-de-passe-long\n")
    user_cli(env, "add", "alice", "--role", "moderateur", "--password-stdin", stdin="un-mot-de-passe-long\n")
    user_cli(env, "token", "alice")
    user_cli(env, "token", "alice")
    done = user_cli(env, "list")
    assert done.returncode == 0, done.stderr
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert done.stdout == f"alice\tmoderateur\t2\t{today}\nbob\tcontributeur\t0\t{today}\n"


@pytest.fixture
def served(tmp_path):
    """A real server (its own process) on an on-disk store holding the resource kinds, a moderator « modo »
    and a contributor « alice », each with an API token: (env, base URL, tokens by name)."""
    env = env_for(tmp_path)
    vocabulary = ROOT / "ontology" / "vocabularies" / "types-ressources.ttl"
    graph = DEFAULT_BASE_IRI + "graph/vocabulaires"
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "import", "rdf", str(vocabulary), "--graph", graph],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    tokens = {}
    for name, role in (("modo", "moderateur"), ("alice", "contributeur")):
        add = ("add", name, "--role", role, "--name", name.title(), "--password-stdin")
        assert user_cli(env, *add, stdin="un-mot-de-passe-long\n").returncode == 0
        tokens[name] = {"Authorization": "Bearer " + user_cli(env, "token", name).stdout.strip()}
    port = free_port()
    server = start(tmp_path, port)
    try:
        yield env, f"http://127.0.0.1:{port}", tokens
    finally:
        stop_process(server)


def test_user_revoke_shuts_out_tokens_and_sessions_of_a_running_server(served):
    env, base, tokens = served
    accounts = Accounts(accounts_path(Settings(store=env["COMMUNS_STORE"])))
    session = {SESSION_COOKIE: accounts.session_cookie(accounts.get("modo"))}
    accounts.close()
    assert httpx.get(base + "/moderation", headers=tokens["modo"]).status_code == 200
    assert httpx.get(base + "/moderation", cookies=session).status_code == 200
    done = user_cli(env, "revoke", "modo")
    assert done.returncode == 0 and done.stdout == "« modo » : 2 jeton(s) et session(s) révoqué(s)\n"
    for shut_out in (
        httpx.get(base + "/moderation", headers=tokens["modo"]),
        httpx.get(base + "/moderation", cookies=session),
    ):
        assert shut_out.status_code == 303 and shut_out.headers["location"].startswith("/connexion")
    assert user_cli(env, "list").stdout.startswith("alice\tcontributeur\t1\t")  # another's stays
    unknown = user_cli(env, "revoke", "personne")
    assert unknown.returncode == 2 and unknown.stderr == "communs : erreur : compte inconnu « personne »\n"


def test_user_remove_shuts_the_account_out_and_keeps_its_contributions_and_its_name(served):
    env, base, tokens = served
    body = {
        "titre": "Guide des aides",
        "resume": "Un guide des aides locales.",
        "type": "guide",
        "url": "https://example.org/g",
    }
    proposed = httpx.post(
        base + "/api/contributions", json={**body, "nom_public": True}, headers=tokens["alice"]
    )
    assert proposed.status_code == 201, proposed.text
    rid = proposed.json()["id"]
    assert httpx.post(f"{base}/api/contributions/{rid}/accepter", headers=tokens["modo"]).is_success
    assert httpx.get(base + "/mes-propositions", headers=tokens["alice"]).status_code == 200

    done = user_cli(env, "remove", "alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("compte « alice » fermé, 1 jeton(s) et session(s) révoqué(s)")
    assert httpx.get(base + "/mes-propositions", headers=tokens["alice"]).status_code == 303
    for page in (f"/ressources/{rid}", f"/ressources/{rid}/historique"):
        shown = httpx.get(base + page, follow_redirects=True)
        assert shown.status_code == 200 and "Guide des aides" in shown.text and "Alice" in shown.text, page
    accounts = Accounts(accounts_path(Settings(store=env["COMMUNS_STORE"])))
    try:
        assert accounts.authenticate("alice", "un-mot-de-passe-long") is None
    finally:
        accounts.close()
    # The name keys the pseudonym signing alice's contributions: never anyone else's, nor hers again.
    for args in (("token", "alice"), ("add", "alice", "--password-stdin")):
        refused = user_cli(env, *args, stdin="un-autre-mot-de-passe\n")
        assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "alice\tfermé\t0\t" in user_cli(env, "list").stdout


def test_user_remove_leaves_no_session_or_token_a_late_sign_in_could_add(tmp_path):
    """A sign-in whose Argon2 check ended after ``user remove`` could still write a session (or a token) for
    the closed account: such rows no longer let it in, while an open account's still do."""
    path = tmp_path / "comptes.sqlite"
    accounts = Accounts(str(path))
    for name in ("alice", "bob"):
        accounts.add(name, "un-mot-de-passe-long")
    env = {**os.environ, "COMMUNS_STORE": str(tmp_path / "store"), "COMMUNS_ACCOUNTS_DB": str(path)}
    (tmp_path / "store").mkdir()
    assert user_cli(env, "remove", "alice").returncode == 0
    sessions = {name: accounts.session_cookie(accounts.get(name)) for name in ("alice", "bob")}
    db = sqlite3.connect(path)  # as the late sign-in would have written the tokens
    with db:
        for name in ("alice", "bob"):
            db.execute("INSERT INTO tokens VALUES (?, ?, 'tard', 0)", (_digest(f"cs_{name}"), name))
    db.close()
    assert accounts.from_cookie(sessions["alice"]) is None and accounts.by_token("cs_alice") is None
    assert accounts.from_cookie(sessions["bob"]).username == accounts.by_token("cs_bob").username == "bob"
    accounts.close()


def test_user_accounts_database_left_644_is_made_owner_only_when_opened(tmp_path):
    """``touch(mode=0o600)`` leaves an existing file's mode alone: a 644 accounts database (copied, or made by
    an older version) kept its password hashes readable by every user."""
    path = tmp_path / "store.comptes.sqlite"
    Accounts(str(path)).close()
    path.chmod(0o644)
    (tmp_path / "store").mkdir()
    env = {**os.environ, "COMMUNS_STORE": str(tmp_path / "store")}
    assert user_cli(env, "list").returncode == 0
    assert path.stat().st_mode & 0o777 == 0o600


def test_export_to_a_gz_name_writes_gzip(tmp_path):
    """``--output x.nq.gz`` wrote plain N-Quads under a .gz name: written as ``import rdf`` reads it."""
    source = OxigraphStore(DEFAULT_BASE_IRI, tmp_path / "store")
    for load in rdf_loader.ontology(source.minter).graphs:
        source.replace_graph(load.graph, load.triples, load.meta)
    source.close()
    for name in ("x.nq", "x.nq.gz"):
        assert communs("export", "--output", str(tmp_path / name), store=tmp_path / "store").returncode == 0
    plain = (tmp_path / "x.nq").read_bytes()
    assert set(ox.parse(gzip.decompress((tmp_path / "x.nq.gz").read_bytes()), ox.RdfFormat.N_QUADS)) == set(
        ox.parse(plain, ox.RdfFormat.N_QUADS)
    )


def test_query_output_writes_the_file_in_the_format_its_name_says(small_store, tmp_path):
    """``query`` had no ``--output``: a file is written as ``export`` writes one (format from its name, .gz
    gzipped), nothing on standard output."""
    done = communs(
        "query",
        "SELECT ?o { <http://example.org/a> ?p ?o }",
        "--output",
        str(tmp_path / "r.csv.gz"),
        store=small_store,
    )
    assert done.returncode == 0 and done.stdout == "", done.stderr
    assert gzip.decompress((tmp_path / "r.csv.gz").read_bytes()) == b"o\r\nhttp://example.org/c\r\n"


def test_the_reading_verbs_leave_the_store_s_folder_as_they_found_it(small_store):
    """Without ``--store-read-only`` they opened the store for writing: ``STORE.private`` was created,
    ``STORE.copies`` (a killed server's checkpoints) dropped."""
    shutil.rmtree(small_store.with_name("store.private"), ignore_errors=True)
    (small_store.with_name("store.copies") / "1").mkdir(parents=True)

    def files() -> dict[Path, int]:
        return {p: p.stat().st_mtime_ns for p in small_store.parent.rglob("*")}

    before = files()
    for args in (["stats"], ["query", "ASK {}"], ["export", "--output", "/dev/null"], ["validate"]):
        done = communs(*args, store=small_store)
        assert done.returncode == 0, done.stderr
        assert files() == before, args


def test_serve_says_in_one_line_when_the_stored_ontology_is_not_the_code_s(tmp_path):
    """An upgrade's code served a store whose ontology was the older code's, silently: the step that puts
    the new one in place (``communs load``) is now named at start-up."""
    store = OxigraphStore(DEFAULT_BASE_IRI, tmp_path / "store")
    loads = rdf_loader.ontology(store.minter).graphs
    logs = []
    for version in (None, "ancienne"):  # as loaded by this code, then by an older one
        for load in loads:
            meta = load.meta if version is None else dataclasses.replace(load.meta, version=version)
            store.replace_graph(load.graph, load.triples, meta)
        store.close()
        port = free_port()
        stop_process(start(tmp_path, port))
        logs.append((tmp_path / f"server-{port}.log").read_text())
        store = OxigraphStore(DEFAULT_BASE_IRI, tmp_path / "store")
    store.close()
    assert "communs load" not in logs[0], logs[0]
    assert [line for line in logs[1].splitlines() if "communs load" in line] == [
        "communs : attention : l'ontologie de l'entrepôt n'est pas celle du code (ontology/) : "
        "mettez-la à jour avec « communs load »"
    ], logs[1]


def test_serve_starts_on_a_remote_server_down_and_answers_that_it_is_down(tmp_path):
    """The start-up's ontology check asked the server: one down at boot stopped serve (exit 2), where the
    site serves « down » pages until it is back."""
    port, gone = free_port(), free_port()
    env = {**env_for(tmp_path), "COMMUNS_STORE": f"sparql+http://127.0.0.1:{gone}/sparql"}
    log = tmp_path / "server.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        status, deadline = None, time.monotonic() + 60
        while status is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/sparql?query=ASK{{}}", timeout=5).status_code
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status == 503, log.read_text()
    finally:
        stop_process(proc)


def test_every_help_text_is_in_french():
    """``--help`` mixed French and English: every text the project writes there (verbs, arguments, settings)
    is French. argparse's own words (usage, options) are not the project's."""
    from api.cli import DESCRIPTION, build_parser

    english = {"the", "and", "of", "to", "with", "only", "each", "every", "which", "what", "file", "default"}
    verbs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    texts = [DESCRIPTION, *(a.help for a in verbs._choices_actions)]
    texts += [
        a.help for p in verbs.choices.values() for a in p._actions if not isinstance(a, argparse._HelpAction)
    ]
    texts += [p.epilog for p in verbs.choices.values() if p.epilog]
    found = [t for t in texts if english & set(re.findall(r"[a-z]+", re.sub(r"--[\w-]+", "", t.lower())))]
    assert not found, found
