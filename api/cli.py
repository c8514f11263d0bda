"""``communs``: load, import, serve, query, export, backup, restore, validate, stats — same flags everywhere.

Bad input prints one line naming the file (and line) and exits 2 with the store untouched."""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import IO

import pyoxigraph as ox
from pydantic import ValidationError

from graph import formats, sparql_text
from graph.pool import spelled_out
from graph.settings import DATA_DIR, Settings
from graph.store import DEFAULT_GRAPH, OxigraphStore, Store, StoreError, open_store
from loaders import ImportResult, SourceError, territories
from loaders import rdf as rdf_loader

DESCRIPTION = "charger, importer, servir, interroger, exporter, sauvegarder, restaurer, valider, compter"
EXIT_BAD_INPUT = 2
EXIT_INVALID = 1
INDEX_LOCKED = (
    "l'index est en cours d'écriture par un autre processus (communs serve ?) : réessayez dans un moment"
)


class UsageError(Exception):
    """A command-line mistake: reported like bad input."""


# --- importers: KIND → function(path, args, store) → ImportResult -------------------------------
# The heavier loaders (and the index, the dumps) are imported by the verbs using them: every verb paid
# for them before it started, a quick ``stats`` or ``query`` too.
def _import_places(path: Path, args: argparse.Namespace, store: Store) -> ImportResult:
    from loaders import places

    if not args.mapping:
        raise UsageError("places demande --mapping MAPPING.toml (voir data/mappings/)")
    return places.build(path, Path(args.mapping), store.minter, store)


def _import_catalogue(path: Path, args: argparse.Namespace, store: Store) -> ImportResult:
    from loaders import catalogue

    return catalogue.build(path, store.minter)


def _import_report(path: Path, args: argparse.Namespace, store: Store) -> ImportResult:
    from loaders import report

    return report.build(path, store.minter)


def _import_data_inclusion(path: Path, args: argparse.Namespace, store: Store) -> ImportResult:
    from loaders import data_inclusion

    return data_inclusion.build(path, Path(args.services) if args.services else None, store.minter, store)


IMPORTERS: dict[str, Callable[[Path, argparse.Namespace, Store], ImportResult]] = {
    "rdf": lambda path, args, store: rdf_loader.build(
        path, store.minter, graph=args.graph, fmt_name=args.format and args.format.name
    ),
    "territories": lambda path, args, store: territories.build(path, store.minter, progress=True),
    "catalogue": _import_catalogue,
    "report": _import_report,
    "places": _import_places,
    "data-inclusion": _import_data_inclusion,
}

# What `communs load` reads: (kind, path relative to data/, mapping of a list of places) in dependency order.
BUNDLED: list[tuple[str, str, str | None]] = [
    ("territories", "decoupage-administratif", None),
    ("catalogue", "seeds/adrets-catalogue-projets.txt", None),
    ("report", "seeds/adrets-web-atelier-1-compte-rendu.txt", None),
    ("places", "france-services/liste-fs-20240801.csv.gz", "mappings/france-services.toml"),
    ("places", "tiers-lieux-2019/CGET_TiersLieux_2019.csv.gz", "mappings/tiers-lieux-2019.toml"),
]


def write(store: Store, result: ImportResult, show_report: bool) -> int:
    total = 0
    for load in result.graphs:
        total += store.replace_graph(load.graph, load.triples, load.meta)
        print(f"  <{load.graph}>: {len(load.triples)} triplets")
    if show_report:
        for line in result.report:
            print(f"  {line}")
    return total


def sizes(store: Store) -> str:
    """The store's quads as a reuser can check them: the public ones are what VoID's ``void:triples`` and the
    N-Quads download count (the default graph and the metadata graph included); the rest (contacts, pending
    contributions, accounts, histories, their metadata) is never published."""
    from graph.dumps import public_counts

    public = sum(public_counts(store).values())
    hidden = store.count() - public
    return f"{public} quads publics (void:triples, lignes du N-Quads téléchargeable) ; {hidden} non publics"


# --- verbs ---------------------------------------------------------------------------------
def _opened(settings: Settings, read_only: bool = False) -> contextlib.closing[Store]:
    """``read_only`` for the verbs that only read: opened for writing, a store got ``STORE.private`` created
    and ``STORE.copies`` emptied, and one a server holds could not be read. A bulk import killed midway
    (``STORE.bulk-pending``) is undone by an opening for writing: read-only, its half graphs would be read."""
    pending = Path(settings.store + ".bulk-pending").exists()
    return contextlib.closing(
        open_store(settings.store, settings.base_iri, read_only=read_only and not pending)
    )


def cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from loaders import data_inclusion_vocabularies as data_inclusion_vocab

    with _opened(settings) as store:
        _index_free(store, settings)
        started = time.perf_counter()
        print("ontologie et vocabulaires")
        write(store, rdf_loader.ontology(store.minter), args.report)
        write(store, data_inclusion_vocab.build(store.minter), args.report)
        for kind, rel, mapping in BUNDLED:
            print(f"{kind}: {rel}")
            if mapping:
                args.mapping = str(DATA_DIR / mapping)
            write(store, IMPORTERS[kind](DATA_DIR / rel, args, store), args.report)
        print(f"chargé en {time.perf_counter() - started:.1f} s : {sizes(store)}")
        _index(store, settings)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path)
    for given in (path, Path(args.services) if args.services else None):
        if given is not None and not given.exists():
            raise SourceError(given, "aucun fichier ni dossier de ce nom")
    if args.services and args.kind != "data-inclusion":
        raise UsageError(f"{args.kind} prend un seul fichier")
    with _opened(settings) as store:
        _index_free(store, settings)
        total = None
        if args.kind == "rdf" and isinstance(store, OxigraphStore):
            # Into new graphs of an embedded store: streamed (scanned, then bulk-loaded) instead of held
            # in memory. None when graphs are to be replaced: then the transactional way.
            fmt_name = args.format and args.format.name
            scanned = rdf_loader.scan(path, store.minter, graph=args.graph, fmt_name=fmt_name)
            total = store.bulk_import(path, scanned.fmt, list(scanned.counts), scanned.target, scanned.meta)
            if total is not None:
                for graph, count in scanned.counts.items():
                    print(f"  <{graph}>: {count} quads lus")
        if total is None:
            total = write(store, IMPORTERS[args.kind](path, args, store), args.report)
        print(f"{total} triplets importés depuis {path}")
        _index(store, settings)
    return 0


def _index_free(store: Store, settings: Settings) -> None:
    """Asked before the store is written: a command stopped by the index after writing it said « réessayez »
    with its data already in, and the retry wrote them again."""
    from graph import search

    if settings.store == ":memory:":
        return
    cat = search.Catalog(store, settings.index_path(), build=False)
    try:
        cat.check_free()
    except search.IndexLocked:
        raise StoreError(INDEX_LOCKED) from None
    finally:
        cat.close()


def _index(store: Store, settings: Settings) -> None:
    """Offline writes bring the lists and search index along: a server started next opens it at the
    store's version instead of building it while it serves."""
    from graph import search

    if settings.store == ":memory:":
        return  # nothing serves it next
    # Flushed: a build takes minutes at national scale, silent it looked like a load that had hung.
    print("mise à jour de l'index des listes et de la recherche…", flush=True)
    started = time.perf_counter()
    try:
        search.Catalog(store, settings.index_path()).close()
    except search.IndexLocked:  # its words are the server's: here one French line says what to do
        raise StoreError(INDEX_LOCKED) from None
    print(f"index des listes et de la recherche à jour en {time.perf_counter() - started:.1f} s")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    # The platform's own news (an index build that failed…) in the server's log, like uvicorn's lines.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for name in ("graph", "api"):
        log_config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # X-Forwarded-For is believed only from the proxies named in settings.trusted_proxies (uvicorn's own
    # default believes any loopback client, which let one spoofed header pass the submission limit).
    proxies = settings.trusted_proxies.replace(" ", ",")
    # A store in use is one line here, a traceback in the application's start-up. A remote server down
    # is no reason not to start: the pages say it is down until it is back.
    with _opened(settings) as store, contextlib.suppress(StoreError):
        if rdf_loader.stored_ontology_stamp(store) != rdf_loader.ontology_stamp():
            print(
                "communs : attention : l'ontologie de l'entrepôt n'est pas celle du code (ontology/) : "
                "mettez-la à jour avec « communs load »",
                file=sys.stderr,
            )
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="info",
        log_config=log_config,
        access_log=settings.access_log,
    )
    return 0


def _format_table(rows: list[dict], names: list[str]) -> str:
    cells = [[str(r[n].value) if n in r else "" for n in names] for r in rows]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


QUERY_FORMATS = (formats.SPARQL_JSON, formats.CSV, formats.TSV)  # and "table", the default


def cmd_query(args: argparse.Namespace, settings: Settings) -> int:
    """Any query form, under /sparql's rules (SERVICE only to the allow-listed endpoints), its errors
    worded as /sparql words them."""
    text = Path(args.file).read_text(encoding="utf-8") if args.file else args.sparql
    if not text:
        raise UsageError("donnez une requête, ou --file FICHIER.rq")
    text = sparql_text.canonical(text)
    sparql_text.check_remote(text, settings.service_allowlist, None)
    text = spelled_out(text, {})
    form, public = sparql_text.query_form(text), not args.private
    graph = form in ("CONSTRUCT", "DESCRIBE")
    offered = formats.RDF if graph else QUERY_FORMATS
    named = args.output and formats.of_file(offered, Path(args.output))
    token = args.format or (named.name if named else "turtle" if graph else "table")
    fmt = formats.find(offered, token)
    if fmt is None and (graph or token != "table"):
        raise UsageError(
            f"une requête {form or ''} ne donne pas de --format {token} : {formats.names(offered)}"
        )
    with _opened(settings, read_only=True) as store:
        try:
            if form == "ASK":
                answer = store.ask(text, public=public)
                said = (
                    json.dumps({"head": {}, "boolean": answer})
                    if fmt == formats.SPARQL_JSON
                    else str(answer).lower()
                )
                written = said.encode() + b"\n"
            elif graph:
                written = formats.serialize(store.construct(text, public=public), fmt)
            else:
                rows = store.select(text, public=public)
                names = list(dict.fromkeys(k for r in rows for k in r))
                out = (
                    _format_table(rows, names)
                    if fmt is None
                    else formats.write_rows(fmt, names, rows).decode()
                )
                written = out.rstrip("\n").encode() + b"\n"
        except StoreError as e:
            raise StoreError(sparql_text.as_written(text, str(e))) from None
    with _output(args.output) as out:
        out.write(written)
    return 0


@contextlib.contextmanager
def _output(name: str | None) -> Iterator[IO[bytes]]:
    """``--output``: the file (gzipped if its name ends in .gz), else standard output."""
    try:
        with formats.opened(Path(name), "wb") if name else contextlib.nullcontext(sys.stdout.buffer) as out:
            yield out
    except OSError as e:  # a write's error names no file (« No space left on device »): this one
        if e.filename or not name:
            raise
        raise OSError(e.errno, e.strerror, name) from None


def format_option(offered: tuple[formats.Format, ...]) -> Callable[[str], formats.Format]:
    """``--format``: a name, extension or media type of graph/formats.py, as ``?format=`` on the web."""

    def parse(token: str) -> formats.Format:
        fmt = formats.find(offered, token)
        if fmt is None:
            raise argparse.ArgumentTypeError(
                f"format inconnu '{token}' (au choix : {formats.names(offered)})"
            )
        return fmt

    return parse


def graph_option(token: str) -> str:
    """``--graph``: an absolute IRI, checked as the store would check it, before anything is read."""
    try:
        return ox.NamedNode(token).value
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"pas une IRI : {token!r} ({e})") from None


def _known(store: Store, graph: str | None) -> None:
    """``--graph`` naming no graph of the store would export or validate nothing, and say it succeeded."""
    if graph and not store.has_graph(graph):
        raise UsageError(f"<{graph}> n'est pas un graphe de cet entrepôt (communs stats les liste)")


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    with _opened(settings, read_only=True) as store:
        named = store.graphs() if args.private else store.public_graphs()
        graphs = [args.graph] if args.graph else [DEFAULT_GRAPH, *named]  # all, as the download has them
        if args.graph and not args.private and not store.minter.is_public_graph(args.graph):
            raise UsageError(f"<{args.graph}> n'est pas public : ajoutez --private pour l'exporter")
        _known(store, args.graph)
        named = args.output and formats.of_file(formats.RDF, Path(args.output))
        with _output(args.output) as out:
            store.dump(out, (args.format or named or formats.NQUADS).rdf, graphs)
    return 0


# What ``backup`` writes in its folder, and ``restore`` reads back.
BACKUP_DATA, BACKUP_VERSION, BACKUP_ACCOUNTS, BACKUP_KEY, BACKUP_UPLOADS = (
    "donnees.nq.gz",
    "version",
    "comptes.sqlite",
    "secret_key",
    "uploads",
)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Everything a site holds, in one new folder, taken while a server runs (``--store-read-only``): every
    graph as it is from the store's snapshot, the accounts by SQLite's online backup, the secret key and the
    uploaded files (each written whole, under its final name). Copying the folders instead, while served,
    gave a proposal accepted in the private graphs and not yet in the public ones."""
    from api.accounts import accounts_path

    folder = Path(args.folder)
    folder.mkdir(mode=0o700, parents=True)  # never over an older backup
    with _owner_only(), _opened(settings, read_only=True) as store:
        with formats.opened(folder / BACKUP_DATA, "wb") as out:
            store.dump(out, ox.RdfFormat.N_QUADS)
        (folder / BACKUP_VERSION).write_text(str(store.version))
        print(f"{folder / BACKUP_DATA} : {sizes(store)}")
        # Each part says where it was looked for: one not where this process's settings say (a cron job run
        # from another folder) was left out silently under « sauvegarde complète ».
        accounts, key = Path(accounts_path(settings)), settings.beside_store("secret_key")
        uploads = settings.uploads_path()
        if accounts.exists():
            _copy_db(accounts, folder / BACKUP_ACCOUNTS)
        print(f"comptes : {'copiés de' if accounts.exists() else 'absents de'} {accounts}")
        if settings.secret_key:
            print("la clé secrète est COMMUNS_SECRET_KEY : gardez-la avec la sauvegarde")
        else:
            if key.exists():
                shutil.copy2(key, folder / BACKUP_KEY)
            print(f"clé secrète : {'copiée de' if key.exists() else 'absente de'} {key}")
        if uploads.exists():
            unfinished = shutil.ignore_patterns(".*.part")
            shutil.copytree(uploads, folder / BACKUP_UPLOADS, ignore=unfinished)
        print(f"fichiers déposés : {'copiés de' if uploads.exists() else 'absents de'} {uploads}")
    print(f"sauvegarde {'complète' if accounts.exists() else 'sans comptes'} dans {folder}")
    return 0


@contextlib.contextmanager
def _owner_only() -> Iterator[None]:
    """Files created meanwhile are the owner's only (600): a backup holds the private graphs (contributors'
    e-mails) and the password and token hashes, which the usual umask 022 left readable by every user."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _copy_db(source: Path | str, target: Path | str) -> None:
    """SQLite's online backup: a whole copy, even of a database a server is writing. A new target is created
    600 first (password and token hashes): sqlite3.connect would create it with the umask's 644."""
    Path(target).touch(mode=0o600)
    with contextlib.closing(sqlite3.connect(source)) as db, contextlib.closing(sqlite3.connect(target)) as to:
        db.backup(to)


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """A ``backup`` folder into a new embedded store: its graphs as they were (an ``import rdf`` of the
    dump describes every graph as coming from the file), its version, accounts, key and uploads."""
    from api.accounts import accounts_path

    folder = Path(args.folder)
    data = folder / BACKUP_DATA
    if not data.is_file():
        raise SourceError(folder, f"pas de {BACKUP_DATA} : ce dossier n'a pas été écrit par communs backup")
    if settings.store == ":memory:" or "://" in settings.store:
        raise UsageError("restore écrit un entrepôt embarqué : donnez --store DOSSIER")
    _nothing_live(folder, settings)
    with _opened(settings) as store:
        _index_free(store, settings)
        try:
            store.restore(data, int((folder / BACKUP_VERSION).read_text()))
        except SyntaxError as e:
            raise SourceError(data, e.msg, e.lineno) from None
        if (folder / BACKUP_ACCOUNTS).exists():
            _copy_db(folder / BACKUP_ACCOUNTS, accounts_path(settings))
        if (folder / BACKUP_KEY).exists() and not settings.secret_key:
            shutil.copy2(folder / BACKUP_KEY, settings.beside_store("secret_key"))
        if (folder / BACKUP_UPLOADS).exists():
            shutil.copytree(folder / BACKUP_UPLOADS, settings.uploads_path(), dirs_exist_ok=True)
        print(f"restauré : {sizes(store)} ; version {store.version}")
        _index(store, settings)
    return 0


def _nothing_live(folder: Path, settings: Settings) -> None:
    """Refuses a restore whose accounts or uploads would land on live ones: the empty-store check covers the
    quads only, and the accounts database (``--accounts-db``, one per deployment) or the uploads folder (by
    default shared by the stores of one folder) may be another site's: SQLite's backup replaced it whole."""
    from api.accounts import accounts_path

    accounts, uploads = Path(accounts_path(settings)), settings.uploads_path()
    if (folder / BACKUP_ACCOUNTS).exists() and accounts.exists():
        raise UsageError(f"{accounts} existe déjà : donnez à --accounts-db un fichier neuf où restaurer")
    if (folder / BACKUP_UPLOADS).exists() and uploads.exists() and any(uploads.iterdir()):
        name = Settings.env_name("uploads_dir")
        raise UsageError(f"{uploads} n'est pas vide : donnez à {name} un dossier neuf où restaurer")


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    with _opened(settings, read_only=True) as store:
        print(f"{sizes(store)} ; version {store.version}")
        for g in sorted(store.graphs()):
            visibility = "public" if store.minter.is_public_graph(g) else "privé"
            print(f"  {store.count(g):>9}  {visibility:<6}  <{g}>")
        rows = store.select(
            "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)"
        )
        print("classes :")
        for r in rows[:30]:
            print(f"  {r['n'].value:>9}  <{r['class'].value}>")
    return 0


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    from graph.validation import validate_store

    with _opened(settings, read_only=True) as store:
        _known(store, args.graph)
        conforms, report = validate_store(store, graph=args.graph)
    print(report)
    return 0 if conforms else EXIT_INVALID


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    """Accounts live next to the store (SQLite), so this works while a server runs."""
    import getpass

    from api.accounts import AccountError, Accounts, accounts_path

    if (args.action == "list") == bool(args.username):
        raise UsageError(
            "user list ne prend pas de nom" if args.username else f"user {args.action} demande un nom"
        )
    accounts = Accounts(accounts_path(settings))
    try:
        if args.action == "add":
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                try:
                    password = getpass.getpass(f"mot de passe pour {args.username} : ")
                except EOFError:
                    raise UsageError(
                        "aucun mot de passe saisi : tapez-le, ou donnez-le sur l'entrée standard "
                        "avec --password-stdin"
                    ) from None
            user = accounts.add(args.username, password, args.role or "contributeur", args.name or "")
            print(f"compte « {user.username} » créé ({user.role})")
        elif args.action == "role":
            if not args.role:
                raise UsageError("donnez --role contributeur|moderateur|admin")
            accounts.set_role(args.username, args.role)
            print(f"« {args.username} » est maintenant {args.role}")
        elif args.action == "token":
            print(accounts.new_token(args.username, args.label))
        elif args.action == "list":
            for username, role, tokens, created in accounts.listing():
                print(username, role, tokens, time.strftime("%Y-%m-%d", time.gmtime(created)), sep="\t")
        elif args.action == "revoke":
            print(f"« {args.username} » : {accounts.revoke(args.username)} jeton(s) et session(s) révoqué(s)")
        else:
            revoked = accounts.remove(args.username)
            print(
                f"compte « {args.username} » fermé, {revoked} jeton(s) et session(s) révoqué(s) ; "
                "ses contributions restent, son identifiant reste réservé"
            )
    except AccountError as e:
        raise UsageError(str(e)) from None
    finally:
        accounts.close()
    return 0


# --- argument parsing ----------------------------------------------------------------------
def add_settings(parser: argparse.ArgumentParser, verbs: str) -> None:
    """The flags of the settings ``verbs`` take, from their one declaration (graph/settings.py). A flag
    given wins over the environment; a value is checked as the environment's would be."""
    for name, f in Settings.model_fields.items():
        extra = f.json_schema_extra
        if extra["cli"] != verbs:
            continue
        default = "" if f.default in (None, "", ()) else f", par défaut {f.default}"
        help = f"{f.description} (variable {Settings.env_name(name)}{default})"
        flags = ["--" + name.replace("_", "-"), *extra["aliases"]]
        action = argparse.BooleanOptionalAction if f.annotation is bool else "store"
        parser.add_argument(*flags, dest=name, action=action, default=argparse.SUPPRESS, help=help)


def settings_from(args: argparse.Namespace) -> Settings:
    """The flags given, then the environment, then the declared defaults."""
    try:
        return Settings(**{name: getattr(args, name) for name in Settings.model_fields if name in args})
    except ValidationError as e:
        raise UsageError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_settings(common, "all")
    writing = argparse.ArgumentParser(add_help=False, parents=[common])  # the verbs that load
    writing.add_argument(
        "--report", action="store_true", help="affiche ce qui a été extrait et ce qui ne l'a pas été"
    )
    reading = argparse.ArgumentParser(add_help=False, parents=[common])  # the verbs that only read
    reading.add_argument(
        "--store-read-only",
        action="store_true",
        help="ouvre l'entrepôt embarqué en lecture seule, ce que ces verbes font toujours "
        "(gardé pour les anciens scripts)",
    )

    parser = argparse.ArgumentParser(prog="communs", description=DESCRIPTION)
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {version('communs-services')}",
        help="affiche la version",
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    verbs.add_parser(
        "load",
        parents=[writing],
        help="charge toutes les données fournies (ontologie, territoires, documents…)",
    )

    p = verbs.add_parser("import", parents=[writing], help="importe une source dans son graphe nommé")
    p.add_argument("kind", choices=sorted(IMPORTERS), help="ce que contient le fichier")
    p.add_argument("path", help="le fichier à importer")
    p.add_argument(
        "services", nargs="?", help="data-inclusion : le fichier des services, après celui des structures"
    )
    p.add_argument("--graph", type=graph_option, help="IRI du graphe nommé où importer (rdf)")
    p.add_argument(
        "--format", type=format_option(formats.RDF), help="format RDF ; par défaut : d'après l'extension"
    )
    p.add_argument("--mapping", help="fichier de correspondance (places)")

    secrets = [
        (Settings.env_name(n), f.description)
        for n, f in Settings.model_fields.items()
        if not f.json_schema_extra["cli"]
    ]
    p = verbs.add_parser(
        "serve",
        parents=[common],
        help="sert les pages web, le point d'accès SPARQL et l'API",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="réglés par l'environnement seulement (les secrets, qui ne doivent pas paraître dans ps, "
        "et ceux de l'entrepôt distant) :\n" + "\n".join(f"  {env}  {help}" for env, help in secrets),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="adresse d'écoute (par défaut 127.0.0.1 : cette machine seulement)",
    )
    p.add_argument("--port", type=int, default=8000, help="port d'écoute (par défaut 8000)")
    add_settings(p, "serve")

    p = verbs.add_parser(
        "query",
        parents=[reading],
        help="exécute une requête SPARQL (SELECT, ASK, CONSTRUCT, DESCRIBE) sur le jeu de données public",
    )
    p.add_argument("sparql", nargs="?", help="la requête (ou --file)")
    p.add_argument("--file", help="lit la requête dans un fichier .rq")
    p.add_argument(
        "--format",
        help="SELECT, ASK : table (par défaut), json, csv, tsv ; "
        "CONSTRUCT, DESCRIBE : turtle (par défaut), jsonld… ; "
        "par défaut : celui que nomme l'extension de --output",
    )
    p.add_argument(
        "--output",
        help="fichier à écrire, compressé en gzip si son nom finit par .gz (par défaut : la sortie standard)",
    )
    p.add_argument(
        "--private", action="store_true", help="interroge les graphes privés (administrateurs seulement)"
    )

    p = verbs.add_parser("export", parents=[reading], help="exporte le jeu de données public ou un graphe")
    p.add_argument(
        "--format",
        type=format_option(formats.RDF),
        help="format RDF (par défaut : l'extension de --output, sinon nquads)",
    )
    p.add_argument("--graph", type=graph_option, help="ce graphe nommé seulement")
    p.add_argument(
        "--output",
        help="fichier à écrire, compressé en gzip si son nom finit par .gz (par défaut : la sortie standard)",
    )
    p.add_argument(
        "--private", action="store_true", help="y ajoute les graphes privés (administrateurs seulement)"
    )

    p = verbs.add_parser("validate", parents=[reading], help="vérifie les données selon les formes SHACL")
    p.add_argument("--graph", type=graph_option, help="ce graphe nommé seulement")

    verbs.add_parser("stats", parents=[reading], help="triplets par graphe, instances par classe")

    p = verbs.add_parser(
        "backup",
        parents=[reading],
        help="sauvegarde les graphes, les comptes, la clé secrète et les fichiers déposés "
        "dans un nouveau dossier (même pendant serve)",
    )
    p.add_argument("folder", help="le dossier à créer")
    p = verbs.add_parser(
        "restore", parents=[common], help="restaure un dossier de sauvegarde dans un --store neuf et vide"
    )
    p.add_argument("folder", help="un dossier écrit par communs backup")

    p = verbs.add_parser(
        "user",
        parents=[common],
        help="comptes : créer, changer de rôle, émettre ou révoquer des jetons d'API, lister, fermer",
    )
    p.add_argument(
        "action",
        choices=["add", "role", "token", "list", "revoke", "remove"],
        help="créer un compte, changer son rôle, lui émettre un jeton, lister les comptes (séparés par des "
        "tabulations : nom, rôle, jetons, création), révoquer ses jetons et sessions, ou le fermer (ses "
        "contributions restent)",
    )
    p.add_argument(
        "username", nargs="?", help="l'identifiant de connexion du compte (toutes les actions sauf list)"
    )
    p.add_argument(
        "--role",
        choices=["contributeur", "moderateur", "admin"],
        help="ce que le compte peut faire (add : contributeur par défaut ; role)",
    )
    p.add_argument("--name", help="nom affiché (add)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="lit le mot de passe (10 caractères au moins) sur l'entrée standard (add)",
    )
    p.add_argument("--label", default="script", help="à quoi sert le jeton (token)")
    return parser


COMMANDS = {
    "load": cmd_load,
    "import": cmd_import,
    "serve": cmd_serve,
    "query": cmd_query,
    "export": cmd_export,
    "validate": cmd_validate,
    "stats": cmd_stats,
    "user": cmd_user,
    "backup": cmd_backup,
    "restore": cmd_restore,
}


def _existing(verb: str, settings: Settings) -> None:
    """Only the verbs that write data on purpose (load, import, restore) create a store: opened by any other,
    a mistyped --store was a new empty store, exported as an empty file that a backup script took for a
    success. A folder without Oxigraph's ``CURRENT`` (empty, or anything else) is no store either: read-only,
    its opening failed on that file's name alone. ``user`` opens no store: the folder says where its
    accounts are kept."""
    store = settings.store
    writes = verb in ("load", "import", "restore")
    found = Path(store).is_dir() if verb == "user" else Path(store, "CURRENT").is_file()
    if writes or store == ":memory:" or "://" in store or found:
        return
    raise UsageError(
        f"aucun entrepôt à {store} : vérifiez --store, ou créez-le avec « communs load --store {store} »"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
        _existing(args.verb, settings)
        return COMMANDS[args.verb](args, settings)
    except (SourceError, StoreError, UsageError, sparql_text.Refused) as e:
        print(f"communs : erreur : {e}", file=sys.stderr)
    except BrokenPipeError:
        return 0
    except OSError as e:  # a file that cannot be read or written (--output in a folder that is not there)
        print(f"communs : erreur : {e}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
