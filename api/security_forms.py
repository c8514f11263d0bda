"""Abuse controls for the forms: CSRF tokens, a honeypot field, a per-address rate limit.

CSRF: a random nonce lives in an HttpOnly, SameSite=Strict cookie; each form carries
``timestamp.HMAC(secret, nonce.timestamp)``, which a forged cross-site post cannot produce."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from fastapi import HTTPException, Request
from fastapi.responses import Response

CSRF_COOKIE = "communs_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_MAX_AGE = 8 * 3600
HONEYPOT_FIELD = "site_web"  # hidden from people (CSS, aria-hidden); bots fill every field


def _sign(secret: bytes, nonce: str, ts: str) -> str:
    return hmac.new(secret, f"{nonce}.{ts}".encode(), hashlib.sha256).hexdigest()


class Csrf:
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
            raise HTTPException(
                403,
                "Jeton de sécurité (CSRF) absent ou expiré : rechargez la page du formulaire et réessayez.",
            )


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (the client address), in this process."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one hit, or raise 429 with Retry-After when over the limit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] + self.window - now) + 1
                raise HTTPException(
                    429,
                    f"Trop de propositions depuis votre adresse : réessayez dans {retry} secondes.",
                    headers={"Retry-After": str(retry)},
                )
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle addresses
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[k]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "inconnu"


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"
