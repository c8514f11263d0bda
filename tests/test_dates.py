"""Dates of the catalogue: every form the records use, stated apart from inferred, each traceable to its
line, and no year taken from something else (a cited study, a partner's history)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph import named_queries
from graph.namespaces import Minter, sparql_prefixes
from graph.store import OxigraphStore
from loaders import catalogue, dates

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "seeds" / "adrets-catalogue-projets.txt"
P = sparql_prefixes()
XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize(
    ("phrase", "value", "datatype"),
    [
        ("le 1er février 2022", "2022-02-01", "date"),
        ("31 août 2021", "2021-08-31", "date"),
        ("21/01/2021", "2021-01-21", "date"),
        ("octobre 2023", "2023-10", "gYearMonth"),
        ("Mars 2021", "2021-03", "gYearMonth"),
        ("2019", "2019", "gYear"),
        ("l'été 2016", "2016", "gYear"),  # a season: its year, no month invented
        ("fin 2018", "2018", "gYear"),
    ],
)
def test_a_date_phrase_is_typed_by_its_precision(phrase: str, value: str, datatype: str) -> None:
    literal = dates.typed(phrase)
    assert (literal.value, literal.datatype.value) == (value, XSD + datatype)


def found(title: str, section: list[str], prose: list[str]) -> list[tuple[str | None, str | None, bool, int]]:
    """(start, end, stated, line) of a hand-made record: title on line 1, section from line 10, prose 20."""
    got = dates.record_dates((1, title), list(enumerate(section, 10)), list(enumerate(prose, 20)))
    return [
        (d.start.value if d.start else None, d.end.value if d.end else None, d.stated, d.line) for d in got
    ]


@pytest.mark.parametrize(
    ("title", "section", "prose", "expected"),
    [
        ("Réseau (2023 -2028)", [], [], [("2023", "2028", True, 1)]),
        ("Forum (2021)", [], [], [("2021", None, True, 1)]),
        ("X", ["- 2016-2017", "- 2017-2018"], [], [("2016", "2017", True, 10), ("2017", "2018", True, 11)]),
        ("X", ["2019"], [], [("2019", None, True, 10)]),
        ("X", ["Mars 2021"], [], [("2021-03", None, True, 10)]),
        ("X", ["Date du Forum : 21/01/2021"], [], [("2021-01-21", None, True, 10)]),
        ("X", ["De mars 2019 à juin 2020."], [], [("2019-03", "2020-06", True, 10)]),
        # months sharing the end's year (after the blind annotation: see tests/annotations/README.md)
        (
            "X",
            ["La phase de test s'est déroulée de mars à juin 2021."],
            [],
            [("2021-03", "2021-06", True, 10)],
        ),
        ("X", ["de novembre à février 2021"], [], [("2020-11", "2021-02", True, 10)]),
        # a period of the description is stated when its sentence names the project's own actor …
        ("X", [], ["L'ADRETS anime le forum du 3 au 5 mars 2021."], [("2021-03-03", "2021-03-05", True, 20)]),
        (
            "X",
            [],
            ["Depuis le 1er février 2022, pour l'ADRETS, elle anime"],
            [("2022-02-01", None, True, 20)],
        ),
        (
            "X",
            [],
            ["Notre plan d'actions se déroulera sur 3 ans du 1er septembre 2018 au 31 août 2021"],
            [("2018-09-01", "2021-08-31", True, 20)],
        ),
        ("X", [], ["Entre avril 2015 et l'été 2016, l'ADRETS a"], [("2015-04", "2016", True, 20)]),
        ("X", [], ["Durant toute l'année 2017, l'ADRETS a animé"], [("2017", "2017", True, 20)]),
        # … else it is another body's (a convention, a national programme): inferred, never a start date
        (
            "X",
            [],
            ["De plus. La DREETS soutient, via cette convention, d'octobre 2023 à septembre 2024. L'ADRETS"],
            [("2023-10", "2024-09", False, 20)],
        ),
        (
            "X",
            [],
            ["Opendata France pilote durant toute l'année 2017 : l'expérimentation"],
            [("2017", "2017", False, 20)],
        ),
        ("X", [], ["En 2016, l'ADRETS a réalisé :"], [("2016", None, False, 20)]),
        (
            "X",
            [],
            ["- En 2015, dans le cadre de l'accompagnement de l'ADRETS, une enquête"],
            [("2015", None, False, 20)],
        ),
        ("X", [], ["2017 sera le temps de mise en œuvre"], [("2017", None, False, 20)]),
        ("X", [], ["- Séminaire de valorisation (juin 2020)."], [("2020-06", None, False, 20)]),
        ("X", [], ["Deux sessions se sont déroulées en 2016"], [("2016", None, False, 20)]),
        # the title's period is the project's: a description's own "entre … et …" does not widen it
        ("X (2023-2028)", [], ["entre 2007 et 2012, les territoires"], [("2023", "2028", True, 1)]),
    ],
)
def test_the_forms_a_record_writes_its_dates_in(title, section, prose, expected) -> None:
    assert found(title, section, prose) == expected


@pytest.mark.parametrize(
    "line",
    [
        "Selon une étude réalisée en septembre 2017 par « UFC Que Choisir », la fracture numérique",
        "le besoin de proximité s'est renforcé avec la crise sanitaire (Forum Vies Mobile, 2021).",
        "ce qui limite son impact (ADEME, 2020).",
        "Initiée en 2007, la démarche s'inscrit dans le cadre de la Convention Interrégionale 2021-2027",
        "le Schéma Départemental de la Savoie adopté en 2018",
        "assistance en animation de réseau depuis 2018.",
        "En 2018, les 9 structures ont manifesté le souhait",  # the partners, not the project
        "mènent depuis novembre dernier un projet Interreg",  # relative: never resolved against today
        "Source : Un emploi saisonnier fortement lié au tourisme d'hiver, INSEE 2019",
    ],
)
def test_years_of_other_things_are_not_taken(line: str) -> None:
    assert found("X", [], [line]) == []


@pytest.fixture(scope="module")
def result():
    return catalogue.build(SEED, Minter("https://data.adrets-asso.fr/"))


@pytest.fixture(scope="module")
def store(result) -> OxigraphStore:
    store = OxigraphStore("https://data.adrets-asso.fr/")
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)
    return store


def test_coverage_of_the_seed_is_reported(result) -> None:
    assert (
        result.report[1]
        == "dates : 15 projets sur 39 ont une année de début (7 énoncées, 8 déduites de la description)"
    )


def start_years(store: OxigraphStore) -> dict[str, tuple[str, str]]:
    """Project label → (start year, basis), as a reuser reads it from the graph."""
    rows = store.select(
        P
        + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
        SELECT ?l (MIN(SUBSTR(STR(?d), 1, 4)) AS ?y) (SAMPLE(?b) AS ?basis) WHERE {
          ?p a schema:Project ; rdfs:label ?l ; dcterms:temporal ?t . ?t cs:dateBasis ?b ; dcat:startDate ?d .
          FILTER(?b = "stated" || NOT EXISTS { ?p dcterms:temporal/cs:dateBasis "stated" })
        } GROUP BY ?l"""
    )
    return {r["l"].value: (r["y"].value, r["basis"].value) for r in rows}


def test_stated_and_inferred_start_years_of_the_seed(store) -> None:
    years = start_years(store)
    assert sum(b == "stated" for _, b in years.values()) == 7
    assert sum(b == "inferred" for _, b in years.values()) == 8
    intesi = next(v for k, v in years.items() if k.startswith("INTESI"))
    assert intesi == ("2016", "inferred")
    # the DREETS convention's period, not the prestation's own
    assert next(v for k, v in years.items() if k.startswith("Prestation d’accompagnement à la préf")) == (
        "2023",
        "inferred",
    )
    # no record that dates only a cited study or a partner's history gets a year
    for title in (
        "Plan Préfecture Nouvelle Génération",
        "Milieu - Micro-Tiers",
        "Schéma territorial des services",
    ):
        assert not any(k.startswith(title) for k in years), title


def test_an_inferred_year_is_never_a_start_date_and_every_date_has_its_line(store) -> None:
    assert not store.ask(
        P + 'ASK { ?p schema:startDate ?d ; dcterms:temporal ?t . ?t cs:dateBasis "inferred" '
        'FILTER NOT EXISTS { ?p dcterms:temporal/cs:dateBasis "stated" } }'
    )
    rows = store.select(
        P + "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT ?d ?line ?text WHERE { "
        "?t a dcterms:PeriodOfTime ; dcat:startDate ?d ; cs:sourceLines ?line ; cs:sourceText ?text }"
    )
    lines = SEED.read_text(encoding="utf-8").splitlines()
    assert len(rows) >= 15
    for r in rows:
        source = lines[int(r["line"].value) - 1]
        assert r["text"].value.strip() in source.strip() or source.strip() in r["text"].value
        year = r["d"].value[:4]
        assert year in source or "/" + year in source, (year, source)


def test_projects_active_in_a_year_include_inferred_ones(store) -> None:
    q = named_queries.load_all()["projets-actifs-annee"]
    rows = store.select(q.sparql, named_queries.bindings(q, {"annee": "2017"}, store.minter))
    got = {(r["nom"].value.split(" ")[0], r["fondement"].value) for r in rows}
    assert {("INTESI", "inferred"), ("Acoumpagna", "stated"), ("Formations", "stated")} <= got
    assert ("Plan", "inferred") not in got  # the 2017 of PPNG is a study's
    # an inferred period runs to its end: the DREETS convention of 2023-10 → 2024-09
    rows = store.select(q.sparql, named_queries.bindings(q, {"annee": "2024"}, store.minter))
    assert ("Prestation", "inferred") in {(r["nom"].value.split(" ")[0], r["fondement"].value) for r in rows}


def test_the_cli_report_prints_the_coverage(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "import",
            "catalogue",
            str(SEED),
            "--report",
            "--store",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "dates : 15 projets sur 39 ont une année de début (7 énoncées, 8 déduites" in done.stdout


def test_a_typed_literal_needs_a_year() -> None:
    with pytest.raises(ValueError):
        dates.typed("novembre dernier")
    assert isinstance(dates.typed("2020"), ox.Literal)


def test_the_year_facet_of_the_project_list_sees_inferred_years(store) -> None:
    from graph import search

    cat = search.Catalog(store)
    in_2016 = {cat.label(item.iri) for item in cat.page("projets", {"annee": ["2016"]}, "", "fr", 0, 1000)[1]}
    assert any(label.startswith("INTESI") for label in in_2016)  # inferred: "En 2016, l'ADRETS a réalisé"
    assert any(label.startswith("Formations destinées") for label in in_2016)  # stated: "- 2016-2017"
    dated = [item for item in cat.page("projets", {}, "", "fr", 0, 1000)[1] if item.facets.get("annee")]
    assert len(dated) == 15  # was 7: the stated starts only


def test_a_period_has_an_english_label_besides_the_french_one(store) -> None:
    """Its words are ours ("déduite"), so English pages get them in English; the title is the source's."""
    rows = store.select(
        "SELECT ?fr ?en WHERE { ?t a <http://purl.org/dc/terms/PeriodOfTime> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?fr, ?en "
        'FILTER(lang(?fr) = "fr" && lang(?en) = "en") }'
    )
    assert rows and all(
        r["en"].value == r["fr"].value.replace("(déduite)", "(inferred)").replace("(énoncée)", "(stated)")
        for r in rows
    )
