"""Interfaces to the platform: the HTTP app (FastAPI + Jinja2 pages) and the ``communs`` CLI."""
