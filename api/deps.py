"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from graph.settings import Settings
from graph.store import Store

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings
