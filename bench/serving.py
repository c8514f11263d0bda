"""The platform served by a real uvicorn on a free loopback port, in a thread of the benchmark itself."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI


def serve_in_thread(app: FastAPI) -> tuple[str, uvicorn.Server]:
    """The base URL once the server answers, and the server (set ``should_exit`` to stop it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server
