"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from api.i18n import data_label, date_text
from graph.contributions import LICENSE_NAMES
from graph.formats import curie

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["license_name"] = lambda iri: LICENSE_NAMES.get(iri, iri)  # a licence by its name
templates.env.filters["date_text"] = date_text  # {{ iso|date_text(lang) }}
templates.env.filters["data_label"] = data_label  # {{ label|data_label(lang) }}
templates.env.filters["curie"] = curie  # an IRI shown short, the full one as its link or title
