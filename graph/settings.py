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
        "var/store", "store directory, ':memory:' or sparql+http://…", "--location", cli="all"
    )
    base_iri: str = setting(DEFAULT_BASE_IRI, "base of minted IRIs", cli="all")
    query_timeout: float = setting(30.0, "seconds a public query may run (504 past it)")
    query_workers: int = setting(2, "query processes kept ready (more start while all are busy)", "--workers")
    query_workers_max: int | None = setting(
        None, "queries at once, each in its own process (default 4 × query workers)", "--workers-max"
    )
    access_log: bool = setting(True, "one log line per request (off behind a proxy that logs them)")
    client_queries: int = setting(2, "public queries one client may have running or waiting (then 429)")
    trusted_proxies: str = setting("", "proxies whose X-Forwarded-For names the client (space-separated)")
    max_rows: int = setting(100_000, "rows a named query returns at most")
    list_rows: int = setting(
        10_000,
        "rows a list's .json/.csv, or a named query's file download, gives at most per request (a Link "
        "rel=next header to the rest)",
    )
    update_token: str | None = setting(None, "bearer token for SPARQL updates and /store", cli=None)
    service_allowlist: Annotated[tuple[str, ...], NoDecode] = setting(
        (), "endpoints a query's SERVICE may call (space-separated)"
    )
    cors_origins: str = setting(
        "*", "origins allowed to read public answers: '*', a space-separated list or ''"
    )
    allow_anonymous: bool = setting(True, "proposals without an account (all go through moderation anyway)")
    secret_key: str | None = setting(
        None,
        "signs form tokens, keys pseudonyms (default: generated into <store>.secret_key; "
        "remote: var/secret_key; the same for every server: set one per deployment)",
        cli=None,
    )
    accounts_db: str | None = setting(
        None,
        "accounts database, SQLite (default <store>.comptes.sqlite; remote: var/comptes.sqlite; "
        "the same for every server: set one per deployment)",
        cli="all",
    )
    index_db: str | None = setting(
        None,
        "lists and search index (default <store>.index.sqlite; remote: var/index-<hash>.sqlite)",
        cli="all",
    )
    uploads_dir: str | None = setting(
        None,
        "folder of uploaded files (default: uploads beside the store; remote: var/uploads; the same for "
        "every server: set one per deployment)",
    )
    upload_max_bytes: int = setting(10 * 1024 * 1024, "largest file a contribution may attach")
    submit_rate: int = setting(10, "proposals per client address per submit window (then 429)")
    submit_window: float = setting(600.0, "seconds of the submit rate's window")
    login_rate: int = setting(20, "sign-in attempts per client address per 10 minutes")
    dumps_dir: str | None = setting(
        None,
        "folder of the downloads (default <store>.dumps; remote: var/dumps-<hash>; in memory: temporary)",
    )
    # A remote store (graph/remote.py): where updates and the Graph Store Protocol go when the server's
    # defaults do not fit, and how to authenticate (the URL's user and password come first).
    remote_update_url: str | None = setting(None, "remote store: SPARQL update URL", cli=None)
    remote_gsp_url: str | None = setting(None, "remote store: Graph Store Protocol URL", cli=None)
    remote_auth: str | None = setting(None, "remote store: basic, digest or bearer", cli=None)
    remote_user: str | None = setting(None, "remote store: user", cli=None)
    remote_password: str | None = setting(None, "remote store: password", cli=None)
    remote_token: str | None = setting(None, "remote store: bearer token", cli=None)
    remote_timeout: float = setting(30.0, "remote store: seconds per request", cli=None)

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
