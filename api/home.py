"""The home page: what this is, for whom, and how much data it holds."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.deps import get_store, templates
from graph.store import Store

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, store: Store = Depends(get_store)) -> HTMLResponse:
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    triples = int(rows[0]["n"].value) if rows else 0
    return templates.TemplateResponse(request, "home.html", {"triples": triples})
