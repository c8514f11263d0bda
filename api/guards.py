"""What every response and every request path gets, whatever the route: one middleware, set in one place.

- A path that is not valid percent-encoded UTF-8, or holds a control character, is refused with a 400
  before any route sees it (it could only ever fail later, as a 500 somewhere deep).
- Security headers: ``nosniff`` everywhere; pages forbid framing, send no referrer elsewhere and run only
  the platform's own scripts and styles (the templates hold no inline script or style).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
CONTENT_SECURITY_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def unsafe_text(value: str, allowed: str = "") -> bool:
    """Control characters (but those ``allowed``), bidirectional and other invisible formatting
    characters (U+202E reverses what follows on every page) and lone surrogates."""
    return any(
        unicodedata.category(c) in ("Cf", "Cs") or (unicodedata.category(c) == "Cc" and c not in allowed)
        for c in value
    )


def path_problem(raw: bytes) -> str | None:
    """Why a request path cannot name anything here, or None."""
    raw = raw.split(b"?", 1)[0]
    if re.search(rb"%(?![0-9A-Fa-f]{2})", raw):
        return "a % in the path is not followed by two hexadecimal digits"
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not UTF-8 once percent-decoded"
    if unsafe_text(path):
        return "the path holds a control or formatting character"
    return None


class Guards:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = path_problem(scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape"))
        if problem:
            body = f"400 Bad Request: {problem}\n".encode()
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
            ]
            await send({"type": "http.response.start", "status": 400, "headers": headers + SECURITY_HEADERS})
            await send({"type": "http.response.body", "body": body})
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if media.startswith(b"text/html") and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, secured)
