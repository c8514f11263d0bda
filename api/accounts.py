"""Who may write: local accounts (argon2 password hashes, server-side sessions, API tokens, roles) and the
forms' abuse controls (CSRF tokens, a honeypot field, a per-address rate limit).

Accounts live in a SQLite file beside the store (``<store>.comptes.sqlite``), not in the triple store:
password and token hashes are not linked data, and SQLite gives transactions and unique names for free.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api.i18n import language, translator
from graph.settings import Settings

ROLES = ("contributeur", "moderateur", "admin")
SESSION_COOKIE = "communs_session"
SESSION_SECONDS = 12 * 3600
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderateur", "admin")


def secret_key(settings: Settings) -> bytes:
    """COMMUNS_SECRET_KEY, else a key generated once into ``<store>.secret_key`` (mode 600), else (in-memory
    store) a key for this process only."""
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.store in (None, ":memory:"):
        return secrets.token_bytes(32)
    path = settings.beside_store("secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


def accounts_path(settings: Settings) -> str:
    if settings.accounts_db:
        return settings.accounts_db
    if settings.store in (None, ":memory:"):
        return ":memory:"
    return str(settings.beside_store("comptes.sqlite"))


class AccountError(Exception):
    """A user-facing account problem (unknown user, bad role, duplicate name)."""


# The public name of an account whose person chose none: the login is never shown (it is half a credential).
UNNAMED = "Compte du réseau"


class Accounts:
    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Password and token hashes, readable by the owner only, as the secret key: SQLite gives its
            # -wal and -shm files the mode of the database. The chmod is for a file already there (touch's
            # mode is for a new one): a copy or an older version left it 644. Another user's file is left as
            # it is (only its owner may chmod it), not a reason to refuse to start.
            Path(path).touch(mode=0o600)
            with contextlib.suppress(PermissionError):
                os.chmod(path, 0o600)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        self._db.executescript(
            """CREATE TABLE IF NOT EXISTS users (
                 username TEXT PRIMARY KEY, name TEXT NOT NULL, password TEXT NOT NULL,
                 role TEXT NOT NULL, created REAL NOT NULL);
               CREATE TABLE IF NOT EXISTS tokens (
                 digest TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
                 label TEXT NOT NULL, created REAL NOT NULL);
               CREATE TABLE IF NOT EXISTS sessions (
                 digest TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
                 expires REAL NOT NULL);"""
        )

    def close(self) -> None:
        self._db.close()

    def _sql(self, sql: str, *params: object) -> tuple | None:
        """One statement under the lock (the connection is shared by threads); its first row."""
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    # --- users -------------------------------------------------------------------------------
    def add(self, username: str, password: str, role: str = "contributeur", name: str = "") -> User:
        _check_role(role)
        if not username or len(password) < 10:
            raise AccountError("un identifiant et un mot de passe d'au moins 10 caractères sont requis")
        try:
            self._sql(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                *(username, name or UNNAMED, _hasher.hash(password), role, time.time()),
            )
        except sqlite3.IntegrityError:
            raise AccountError(f"le compte « {username} » existe déjà") from None
        return User(username, name or UNNAMED, role)

    def get(self, username: str) -> User | None:
        row = self._sql("SELECT username, name, role FROM users WHERE username = ?", username)
        return User(*row) if row else None

    def set_role(self, username: str, role: str) -> None:
        _check_role(role)
        if self.get(username) is None:
            raise AccountError(f"compte inconnu « {username} »")
        self._sql("UPDATE users SET role = ? WHERE username = ?", role, username)

    def listing(self) -> list[tuple[str, str, int, float]]:
        """(username, role, number of tokens, created) of every account by name; a removed one's role is
        « fermé »."""
        with self._lock:
            return self._db.execute(
                """SELECT u.username, CASE u.password WHEN '' THEN 'fermé' ELSE u.role END,
                          COUNT(t.digest), u.created
                   FROM users u LEFT JOIN tokens t ON t.username = u.username
                   GROUP BY u.username ORDER BY u.username"""
            ).fetchall()

    def revoke(self, username: str) -> int:
        """Ends every token and session of the account, read again at each request: it is shut out at once.
        Returns how many were ended."""
        if self.get(username) is None:
            raise AccountError(f"compte inconnu « {username} »")
        with self._lock:
            tokens = self._db.execute("DELETE FROM tokens WHERE username = ?", (username,)).rowcount
            return tokens + self._db.execute("DELETE FROM sessions WHERE username = ?", (username,)).rowcount

    def remove(self, username: str) -> int:
        """Revokes the account and empties its password (no sign-in, no new token), but keeps its name: the
        name keys the pseudonym that signs its contributions, which stay, and must never be another's."""
        revoked = self.revoke(username)
        self._sql("UPDATE users SET password = '' WHERE username = ?", username)
        return revoked

    def authenticate(self, username: str, password: str) -> User | None:
        row = self._sql("SELECT password FROM users WHERE username = ?", username)
        if row is None or not row[0]:  # unknown, or removed
            _hasher.hash(password)  # same cost whether the user exists or not
            return None
        try:
            _hasher.verify(row[0], password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(row[0]):
            # Not over a ``remove`` done while the hash was checked: it would open the account again.
            rehash = "UPDATE users SET password = ? WHERE username = ? AND password != ''"
            self._sql(rehash, _hasher.hash(password), username)
        return self.get(username)

    # --- API tokens ----------------------------------------------------------------------------
    def new_token(self, username: str, label: str = "script") -> str:
        """Shown once; only its SHA-256 is kept (tokens are random, so a slow hash adds nothing)."""
        row = self._sql("SELECT password FROM users WHERE username = ?", username)
        if row is None:
            raise AccountError(f"compte inconnu « {username} »")
        if not row[0]:
            raise AccountError(f"le compte « {username} » est fermé")
        token = "cs_" + secrets.token_urlsafe(32)
        self._sql("INSERT INTO tokens VALUES (?, ?, ?, ?)", _digest(token), username, label, time.time())
        return token

    def by_token(self, token: str) -> User | None:
        """Of an open account only: a sign-in finishing after ``remove`` could have left a token or session
        of a closed one (its password emptied)."""
        row = self._sql(
            "SELECT t.username FROM tokens t JOIN users u ON u.username = t.username"
            " WHERE t.digest = ? AND u.password != ''",
            _digest(token),
        )
        return self.get(row[0]) if row else None

    # --- sessions ------------------------------------------------------------------------------
    def session_cookie(self, user: User) -> str:
        """A random session id, kept server-side by its SHA-256: signing out ends it for good."""
        session, now = secrets.token_urlsafe(32), time.time()
        self._sql("DELETE FROM sessions WHERE expires < ?", now)
        expires = now + SESSION_SECONDS
        self._sql("INSERT INTO sessions VALUES (?, ?, ?)", _digest(session), user.username, expires)
        return session

    def from_cookie(self, cookie: str | None) -> User | None:
        if not cookie:
            return None
        row = self._sql(  # of an open account only, as by_token
            "SELECT s.username FROM sessions s JOIN users u ON u.username = s.username"
            " WHERE s.digest = ? AND s.expires >= ? AND u.password != ''",
            *(_digest(cookie), time.time()),
        )
        return self.get(row[0]) if row else None

    def end_session(self, cookie: str | None) -> None:
        if cookie:
            self._sql("DELETE FROM sessions WHERE digest = ?", _digest(cookie))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"rôle inconnu « {role} » (rôles : {', '.join(ROLES)})")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_user(request: Request) -> User | None:
    """From ``Authorization: Bearer <token>`` (scripts) or the session cookie (browsers)."""
    accounts: Accounts = request.app.state.accounts
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return accounts.by_token(auth[7:].strip())
    return accounts.from_cookie(request.cookies.get(SESSION_COOKIE))


def sign_in_redirect(request: Request) -> RedirectResponse:
    """To the sign-in page, which comes back here after: the path and its query (a filled form's) are
    URL-encoded, so that a query's « & » or « # » stays in ``suite`` instead of ending it."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/connexion?suite=" + quote(here, safe="/"), status_code=303)


# --- abuse controls of the forms ---------------------------------------------------------------
CSRF_COOKIE = "communs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_MAX_AGE = 8 * 3600
HONEYPOT_FIELD = "site_web"  # hidden from people (CSS, aria-hidden); bots fill every field


def _sign(secret: bytes, nonce: str, ts: str) -> str:
    return hmac.new(secret, f"{nonce}.{ts}".encode(), hashlib.sha256).hexdigest()


class Csrf:
    """A random nonce lives in an HttpOnly, SameSite=Strict cookie; each form carries
    ``timestamp.HMAC(secret, nonce.timestamp)``, which a forged cross-site post cannot produce."""

    def __init__(self, secret: bytes):
        self._secret = secret

    def token(self, request: Request) -> tuple[str, str | None]:
        """(token for the form, nonce to set as cookie when the browser has none yet)."""
        nonce = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not nonce or len(nonce) < 20:
            nonce = fresh = secrets.token_urlsafe(24)
        ts = str(int(time.time()))
        return f"{ts}.{_sign(self._secret, nonce, ts)}", fresh

    @staticmethod
    def set_cookie(response: Response, nonce: str | None, secure: bool) -> None:
        if nonce:
            response.set_cookie(
                CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=secure, max_age=CSRF_MAX_AGE
            )

    def check(self, request: Request, token: str | None) -> None:
        """Raise 403 unless ``token`` matches this browser's cookie and is recent."""
        nonce = request.cookies.get(CSRF_COOKIE)
        try:
            ts, sig = (token or "").split(".")
            fresh = time.time() - int(ts) < CSRF_MAX_AGE
        except ValueError:
            fresh = False
        if not (nonce and fresh and hmac.compare_digest(sig, _sign(self._secret, nonce, ts))):
            raise HTTPException(403, translator(language(request))("csrf_refused"))


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (the client address), in this process;
    ``refusal`` (a key of api/i18n.py) says what was refused and when to try again."""

    def __init__(self, limit: int, window: float, refusal: str):
        self.limit, self.window, self.refusal = limit, window, refusal
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, lang: str, count: bool = True) -> None:
        """Count one hit (or only check, when ``count`` is false), or raise 429 with Retry-After when over
        the limit, said in ``lang``."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] + self.window - now) + 1
                t = translator(lang)
                message = t(self.refusal, wait=t("seconds", n=retry))
                raise HTTPException(429, message, headers={"Retry-After": str(retry)})
            if count:
                hits.append(now)
            if len(self._hits) > 10000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[k]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"
