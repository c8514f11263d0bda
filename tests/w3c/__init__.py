"""W3C SPARQL 1.1 conformance, judged from outside: every suite runs over HTTP against a live server.

``python -m tests.w3c --url http://127.0.0.1:PORT`` (see ``__main__``); ``tests/test_w3c.py`` runs it
against our own server.
"""

from .runner import (
    SUITES,
    SuiteReport,
    dataset_graphs,
    format_reports,
    load_tests,
    read_known_failures,
    run_all,
)

__all__ = [
    "SUITES",
    "SuiteReport",
    "dataset_graphs",
    "format_reports",
    "load_tests",
    "read_known_failures",
    "run_all",
]
