"""Settings are declared once (graph/settings.py): the environment, the CLI flags and the README follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import build_parser, main, settings_from
from graph.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_readme_names_every_setting():
    missing = [Settings.env_name(n) for n in Settings.model_fields if Settings.env_name(n) not in README]
    assert missing == []


def test_the_environment_is_read_with_each_setting_s_type(monkeypatch):
    monkeypatch.setenv("COMMUNS_SERVICE_ALLOWLIST", "https://a.example/sparql https://b.example/sparql")
    monkeypatch.setenv("COMMUNS_ACCESS_LOG", "false")
    monkeypatch.setenv("COMMUNS_QUERY_WORKERS_MAX", "")
    monkeypatch.setenv("COMMUNS_QUERY_TIMEOUT", "7.5")
    monkeypatch.setenv("COMMUNS_BASE_IRI", "https://example.org/base")
    s = Settings(max_rows=5)
    assert s.service_allowlist == ("https://a.example/sparql", "https://b.example/sparql")
    assert (s.access_log, s.query_workers_max, s.query_timeout, s.max_rows) == (False, None, 7.5, 5)
    assert s.base_iri == "https://example.org/base/"


def test_a_flag_wins_over_the_environment_and_old_spellings_still_work(monkeypatch):
    monkeypatch.setenv("COMMUNS_QUERY_WORKERS", "5")
    monkeypatch.setenv("COMMUNS_STORE", "elsewhere")
    args = build_parser().parse_args(["serve", "--workers", "3", "--no-access-log", "--location", "var/x"])
    s = settings_from(args)
    assert (s.query_workers, s.access_log, s.store) == (3, False, "var/x")
    args = build_parser().parse_args(["serve", "--query-workers-max", "9", "--store", "var/y"])
    assert (settings_from(args).query_workers_max, settings_from(args).store) == (9, "var/y")
    assert settings_from(build_parser().parse_args(["stats"])).query_workers == 5


def test_secrets_have_no_flag():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--secret-key", "visible-in-ps"])


def test_a_bad_value_is_a_usage_error_before_anything_starts(capsys):
    assert main(["serve", "--query-workers", "many", "--store", ":memory:"]) == 2
    assert "query_workers" in capsys.readouterr().err
