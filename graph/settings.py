"""Runtime settings, read from the environment (``COMMUNS_*``) and overridable by CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
ONTOLOGY_DIR = ROOT / "ontology"
QUERIES_DIR = ROOT / "queries"

DEFAULT_BASE_IRI = "https://data.adrets-asso.fr/"


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass
class Settings:
    """Everything a deployment may change; one instance is shared by the CLI and the HTTP app."""

    store: str = field(default_factory=lambda: os.environ.get("COMMUNS_STORE", "var/store"))
    base_iri: str = field(default_factory=lambda: os.environ.get("COMMUNS_BASE_IRI", DEFAULT_BASE_IRI))
    query_timeout: float = field(default_factory=lambda: _env_float("COMMUNS_QUERY_TIMEOUT", 30.0))
    # Query worker processes kept ready (more start while all are busy, so cheap queries never queue).
    query_workers: int = field(default_factory=lambda: int(os.environ.get("COMMUNS_QUERY_WORKERS", "2")))
    # At most this many queries run at once (each in its own process); default 4 × query_workers.
    query_workers_max: int | None = field(
        default_factory=lambda: (
            int(os.environ["COMMUNS_QUERY_WORKERS_MAX"])
            if os.environ.get("COMMUNS_QUERY_WORKERS_MAX")
            else None
        )
    )
    # One log line per HTTP request (uvicorn's access log); off behind a proxy that keeps its own.
    access_log: bool = field(
        default_factory=lambda: (
            os.environ.get("COMMUNS_ACCESS_LOG", "true").lower() not in ("0", "false", "no")
        )
    )
    # Public SPARQL queries one client may have running or waiting at once; past it → 429 Retry-After.
    client_queries: int = field(default_factory=lambda: int(os.environ.get("COMMUNS_CLIENT_QUERIES", "2")))
    # Proxies whose X-Forwarded-For names the client (space-separated addresses); none by default.
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("COMMUNS_TRUSTED_PROXIES", ""))
    max_rows: int = field(default_factory=lambda: int(os.environ.get("COMMUNS_MAX_ROWS", "100000")))
    update_token: str | None = field(default_factory=lambda: os.environ.get("COMMUNS_UPDATE_TOKEN") or None)
    service_allowlist: tuple[str, ...] = field(
        default_factory=lambda: tuple(u for u in os.environ.get("COMMUNS_SERVICE_ALLOWLIST", "").split() if u)
    )
    cors_origins: str = field(default_factory=lambda: os.environ.get("COMMUNS_CORS_ORIGINS", "*"))
    # Contributions (api/contributions.py): anonymous proposals always go through moderation anyway.
    allow_anonymous: bool = field(
        default_factory=lambda: (
            os.environ.get("COMMUNS_ALLOW_ANONYMOUS", "true").lower() not in ("0", "false", "no")
        )
    )
    # Signs sessions and CSRF tokens; generated into <store>.secret_key when not given.
    secret_key: str | None = field(default_factory=lambda: os.environ.get("COMMUNS_SECRET_KEY") or None)
    # Accounts database (SQLite); default <store>.comptes.sqlite, in memory for an in-memory store.
    accounts_db: str | None = field(default_factory=lambda: os.environ.get("COMMUNS_ACCOUNTS_DB") or None)
    # Uploaded files; default var/uploads next to the store directory.
    uploads_dir: str | None = field(default_factory=lambda: os.environ.get("COMMUNS_UPLOADS_DIR") or None)
    upload_max_bytes: int = field(
        default_factory=lambda: int(os.environ.get("COMMUNS_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
    )
    # At most this many submissions per client address per window (seconds); over it → 429.
    submit_rate: int = field(default_factory=lambda: int(os.environ.get("COMMUNS_SUBMIT_RATE", "10")))
    submit_window: float = field(default_factory=lambda: _env_float("COMMUNS_SUBMIT_WINDOW", 600.0))
    # Login attempts per address per window, against password guessing.
    login_rate: int = field(default_factory=lambda: int(os.environ.get("COMMUNS_LOGIN_RATE", "20")))

    def __post_init__(self) -> None:
        if not self.base_iri.endswith("/"):
            self.base_iri += "/"
