"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from graph.contributions import LICENSE_NAMES

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["license_name"] = lambda iri: LICENSE_NAMES.get(iri, iri)  # a licence by its name
