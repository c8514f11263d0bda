"""Runtime settings, each declared ONCE here: its type, default and help text. It is read from the
environment as ``COMMUNS_<NAME>`` (pydantic-settings), and ``communs`` builds its flags from the same
declaration (api/cli.py: ``--<name>``, plus the older spellings kept in ``aliases``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
ONTOLOGY_DIR = ROOT / "ontology"
QUERIES_DIR = ROOT / "queries"

DEFAULT_BASE_IRI = "https://data.adrets-asso.fr/"
ENV_PREFIX = "COMMUNS_"


def setting(default: Any, help: str, *aliases: str, cli: str | None = "serve") -> Any:
    """``cli``: which verbs take the flag (``"all"``, ``"serve"``, or None for the environment only: secrets
    must not show in ``ps``); ``aliases``: other spellings of the flag that keep working."""
    return Field(default, description=help, json_schema_extra={"cli": cli, "aliases": list(aliases)})


class Settings(BaseSettings):
    """Everything a deployment may change; one instance is shared by the CLI and the HTTP app."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True)

    store: str = setting(
        "var/store", "dossier de l'entrepôt, ':memory:' ou sparql+http://…", "--location", cli="all"
    )
    base_iri: str = setting(DEFAULT_BASE_IRI, "base des IRI créées", cli="all")
    query_timeout: float = setting(30.0, "secondes que peut durer une requête publique (504 au-delà)")
    query_workers: int = setting(
        2, "processus de requête tenus prêts (d'autres démarrent quand tous sont occupés)", "--workers"
    )
    query_workers_max: int | None = setting(
        None,
        "requêtes simultanées, chacune dans son processus (par défaut 4 × query workers)",
        "--workers-max",
    )
    access_log: bool = setting(
        True, "une ligne de journal par requête (à couper derrière un proxy qui les journalise)"
    )
    client_queries: int = setting(
        2, "requêtes publiques qu'un client peut avoir en cours ou en attente (puis 429)"
    )
    trusted_proxies: str = setting(
        "", "proxys dont l'en-tête X-Forwarded-For nomme le client (séparés par des espaces)"
    )
    max_rows: int = setting(100_000, "lignes que rend au plus une requête nommée")
    list_rows: int = setting(
        10_000,
        "lignes que donne au plus par requête le .json/.csv d'une liste, ou le fichier d'une requête nommée "
        "(un en-tête Link rel=next mène à la suite)",
    )
    update_token: str | None = setting(None, "jeton bearer des mises à jour SPARQL et de /store", cli=None)
    service_allowlist: Annotated[tuple[str, ...], NoDecode] = setting(
        (), "points d'accès que le SERVICE d'une requête peut appeler (séparés par des espaces)"
    )
    cors_origins: str = setting(
        "*",
        "origines autorisées à lire les réponses publiques : '*', une liste séparée par des espaces ou ''",
    )
    allow_anonymous: bool = setting(
        True, "propositions sans compte (toutes passent de toute façon par la modération)"
    )
    secret_key: str | None = setting(
        None,
        "signe les jetons des formulaires, clé des pseudonymes "
        "(par défaut : générée dans <store>.secret_key ; "
        "distant : var/secret_key ; la même pour tous les serveurs : en donner une par déploiement)",
        cli=None,
    )
    accounts_db: str | None = setting(
        None,
        "base des comptes, SQLite (par défaut <store>.comptes.sqlite ; distant : var/comptes.sqlite ; "
        "la même pour tous les serveurs : en donner une par déploiement)",
        cli="all",
    )
    index_db: str | None = setting(
        None,
        "index des listes et de la recherche (par défaut <store>.index.sqlite ; "
        "distant : var/index-<hash>.sqlite)",
        cli="all",
    )
    uploads_dir: str | None = setting(
        None,
        "dossier des fichiers déposés (par défaut : uploads à côté de l'entrepôt ; distant : var/uploads ; "
        "le même pour tous les serveurs : en donner un par déploiement)",
    )
    upload_max_bytes: int = setting(10 * 1024 * 1024, "plus gros fichier qu'une contribution peut joindre")
    submit_rate: int = setting(10, "propositions par adresse de client et par fenêtre (puis 429)")
    submit_window: float = setting(600.0, "secondes de la fenêtre des propositions")
    login_rate: int = setting(20, "tentatives de connexion par adresse de client et par 10 minutes")
    dumps_dir: str | None = setting(
        None,
        "dossier des téléchargements (par défaut <store>.dumps ; distant : var/dumps-<hash> ; "
        "en mémoire : temporaire)",
    )
    # A remote store (graph/remote.py): where updates and the Graph Store Protocol go when the server's
    # defaults do not fit, and how to authenticate (the URL's user and password come first).
    remote_update_url: str | None = setting(None, "entrepôt distant : URL des mises à jour SPARQL", cli=None)
    remote_gsp_url: str | None = setting(None, "entrepôt distant : URL du Graph Store Protocol", cli=None)
    remote_auth: str | None = setting(None, "entrepôt distant : basic, digest ou bearer", cli=None)
    remote_user: str | None = setting(None, "entrepôt distant : utilisateur", cli=None)
    remote_password: str | None = setting(None, "entrepôt distant : mot de passe", cli=None)
    remote_token: str | None = setting(None, "entrepôt distant : jeton bearer", cli=None)
    remote_timeout: float = setting(30.0, "entrepôt distant : secondes par requête", cli=None)

    @field_validator("base_iri")
    @classmethod
    def _ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("service_allowlist", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return tuple(value.split()) if isinstance(value, str) else value

    def beside_store(self, suffix: str) -> Path:
        """``<store>.<suffix>`` for an embedded store; ``var/<suffix>`` for a remote one."""
        if "://" in self.store:
            return Path("var") / suffix
        return Path(self.store).with_name(Path(self.store).name + "." + suffix)

    def _of_location(self, name: str) -> str:
        """``name`` for an embedded store (beside it, ``<store>.<name>``); ``<name>-<hash of the location>``
        for a remote one, so that pointing at another server never reads this one's files."""
        if "://" in self.store:
            return f"{name}-{hashlib.sha256(self.store.encode()).hexdigest()[:12]}"
        return name

    def index_path(self) -> Path | None:
        """Where a remote store's browsing index is kept, named after its location (None: beside an
        embedded store, graph/search.py)."""
        if self.index_db:
            return Path(self.index_db)
        if "://" in self.store:
            return self.beside_store(self._of_location("index") + ".sqlite")
        return None

    def uploads_path(self) -> Path:
        """Uploaded files: ``uploads`` in the embedded store's folder, ``var/uploads`` otherwise."""
        if self.uploads_dir:
            return Path(self.uploads_dir)
        embedded = self.store != ":memory:" and "://" not in self.store
        return Path(self.store).parent / "uploads" if embedded else Path("var/uploads")

    def dumps_path(self) -> Path | None:
        """The downloads folder (graph/dumps.py): ``<store>.dumps`` beside an embedded store, and
        ``var/dumps-<hash of the location>`` for a remote one, so that two stores never serve each other's
        files; None for a store in memory (a temporary folder, api/downloads.py)."""
        if self.dumps_dir:
            return Path(self.dumps_dir)
        if self.store in (None, ":memory:"):
            return None
        return self.beside_store(self._of_location("dumps"))

    @staticmethod
    def env_name(name: str) -> str:
        return ENV_PREFIX + name.upper()
