"""Places: hand-made CSVs through their own mappings, the bundled France Services list, opening hours."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import load_bundled_places, load_reference
from pages_helpers import serve

from api import cli
from api.i18n import date_text
from graph import named_queries, search
from graph.namespaces import DCTERMS
from graph.store import OxigraphStore
from loaders import ImportResult, SourceError, places
from loaders.hours import HoursError, parse_day, parse_week, weekly_rules

FIXTURES = Path(__file__).parent / "fixtures" / "places"
DATA = Path(__file__).resolve().parent.parent / "data"
PREFIXES = """PREFIX schema: <http://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX cs: <https://w3id.org/communs-services/def#> PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX org: <http://www.w3.org/ns/org#>
"""


def load(store: OxigraphStore, csv_name: str, mapping: Path) -> list[str]:
    result = places.build(FIXTURES / csv_name, mapping, store.minter, store)
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)
    return result.report


@pytest.fixture(scope="module")
def loaded(base_iri: str, territory_triples: list) -> tuple[OxigraphStore, list[str], list[str]]:
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    first = load(store, "saisonniers.csv", FIXTURES / "saisonniers.toml")
    second = load(store, "espaces.csv", FIXTURES / "espaces.toml")
    return store, first, second


def labels(store: OxigraphStore, where: str, public: bool = True) -> set[str]:
    rows = store.select(PREFIXES + f"SELECT ?l WHERE {{ {where} ?p rdfs:label ?l }}", public=public)
    return {r["l"].value for r in rows}


# --- opening hours -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("09:00 - 12:00 / 13:30 - 17:00", [("09:00:00", "12:00:00"), ("13:30:00", "17:00:00")]),
        ("9h-12h et 14h-17h30", [("09:00:00", "12:00:00"), ("14:00:00", "17:30:00")]),
        ("8h30 à 12h", [("08:30:00", "12:00:00")]),
        ("00:00 - 00:00 / 09:00 - 12:00", [("09:00:00", "12:00:00")]),  # the FS export's empty slot
        ("13:00 - 24:00", [("13:00:00", "23:59:00")]),
        ("Fermé", []),
        ("", []),
        (None, []),
    ],
)
def test_day_hours(text: str | None, slots: list) -> None:
    assert parse_day(text) == slots


@pytest.mark.parametrize("text", ["12:00 - 09:00", "25:00 - 26:00", "matin", "9h", "09:00 - 12:00 / 13:00"])
def test_bad_day_hours(text: str) -> None:
    with pytest.raises(HoursError):
        parse_day(text)


def test_week_hours() -> None:
    week = parse_week("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00; We off")
    assert set(week) == {"Monday", "Tuesday", "Thursday", "Friday", "Saturday"}
    assert week["Saturday"] == [("09:00:00", "12:00:00")]
    assert parse_week("lundi-mardi : 9h-12h")["Tuesday"] == [("09:00:00", "12:00:00")]
    assert set(parse_week("Sa-Mo 10:00-11:00")) == {"Saturday", "Sunday", "Monday"}
    with pytest.raises(HoursError):
        parse_week("Xy 09:00-12:00")


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("Tu-Sa 14:00-18:00; Jul-Aug off", "Tu-Sa 14:00-18:00", ["Jul-Aug off"]),
        ("Mo-Fr 09:00-12:00; Jan,Feb off; Dec 24 off", "Mo-Fr 09:00-12:00", ["Jan,Feb off", "Dec 24 off"]),
        ("Jul-Aug Mo-Fr 09:00-12:00; Sa 10:00-12:00", "Sa 10:00-12:00", ["Jul-Aug Mo-Fr 09:00-12:00"]),
        ("Mar 15-Oct 31 Sa 09:00-12:00; PH off; SH Mo 10:00-11:00", "", ["Mar 15-Oct 31 Sa 09:00-12:00",
                                                                           "PH off", "SH Mo 10:00-11:00"]),
        ("mar 9h-12h; mar-ven 14h-17h", "mar 9h-12h; mar-ven 14h-17h", []),  # mardi, not March
        ("Mo-Fr,PH 09:00-12:00; Sa 10:00-12:00", "Mo-Fr 09:00-12:00; Sa 10:00-12:00", ["PH 09:00-12:00"]),
        ("PH, Sa,Su 10:00-12:00; Jul-Aug off", "Sa,Su 10:00-12:00", ["PH 10:00-12:00", "Jul-Aug off"]),
    ],
)  # fmt: skip
def test_rules_a_week_cannot_hold_are_dropped(text: str, kept: str, dropped: list[str]) -> None:
    """A rule for some months or days of the year is not the week's: dropped (for the report), never
    published as every week's hours; holidays listed with weekdays (« Mo-Fr,PH », OSM's « weekdays and
    public holidays ») are dropped from the list, the weekdays' hours kept; what is left parses."""
    assert weekly_rules(text) == (kept, dropped)
    parse_week(kept)


# --- a new spreadsheet through its own mapping -----------------------------------------------------
def test_rows_and_report(loaded) -> None:
    store, report, _ = loaded
    assert report[0].startswith("test-saisonniers : 6 lignes, 4 lieux chargés, 2 lignes rejetées")
    assert "ligne 4 : rejetée (coordonnées manquantes)" in report
    assert "ligne 5 : code commune « 99999 » introuvable dans le référentiel" in report
    assert "ligne 5 : rejetée (commune non résolue)" in report
    assert any(line.startswith("ligne 6 : règle d'horaires illisible « lundi matin »") for line in report)
    assert "ligne 7 : type = « Kiosque » hors de la liste du mapping" in report
    names = labels(store, "?p a cs:ServicePlace ; cs:network ?n . FILTER(CONTAINS(STR(?n), 'saisonniers'))")
    assert names == {
        "Maison des saisonniers de Bourg-Saint-Maurice",
        "Point saisonniers Hauteville-Gondon",
        "Point saisonniers de Valezan",
        "Maison des saisonniers de Val d'Isère",
    }


def test_former_codes_resolve_to_current_commune(loaded) -> None:
    store, _, _ = loaded
    base = store.minter.base
    rows = store.select(
        PREFIXES
        + "SELECT ?l ?c WHERE { ?p dcterms:spatial ?c ; rdfs:label ?l . FILTER(CONTAINS(?l, 'Point')) }"
    )
    spatial = {r["l"].value: r["c"].value for r in rows}
    assert spatial["Point saisonniers Hauteville-Gondon"] == base + "id/commune/73054"  # merged 2016
    assert spatial["Point saisonniers de Valezan"] == base + "id/commune/73150"  # La Plagne Tarentaise


def test_rollup_to_epci_and_departement(loaded) -> None:
    store, _, _ = loaded
    in_epci = labels(
        store,
        f"?p a cs:ServicePlace ; dcterms:spatial/dcterms:isPartOf+ <{store.minter.base}id/epci/247300254> .",
    )
    assert "Point saisonniers Hauteville-Gondon" in in_epci
    assert "Maison des saisonniers de Val d'Isère" in in_epci
    assert "Point saisonniers de Valezan" not in in_epci  # Versants d'Aime, not Haute-Tarentaise
    in_savoie = labels(
        store,
        f"?p a cs:ServicePlace ; dcterms:spatial/dcterms:isPartOf+ <{store.minter.base}id/departement/73> .",
    )
    assert "Point saisonniers de Valezan" in in_savoie


def test_place_shape(loaded) -> None:
    store, _, _ = loaded
    s1 = store.minter.thing("lieu", "maison-des-saisonniers-de-bourg-saint-maurice")
    rows = store.select(
        PREFIXES
        + f"""SELECT ?wkt ?lat ?zip ?mail ?typo WHERE {{ <{s1}> a schema:Place ;
            geo:hasGeometry/geo:asWKT ?wkt ; schema:geo/schema:latitude ?lat ;
            schema:address/schema:postalCode ?zip ; schema:email ?mail ; cs:typology ?typo }}"""
    )
    assert len(rows) == 1
    r = rows[0]
    assert r["wkt"].value == "POINT(6.7700 45.6186)"
    assert r["wkt"].datatype.value == "http://www.opengis.net/ont/geosparql#wktLiteral"
    assert r["zip"].value == "73700" and r["mail"].value == "accueil@saisonniers-bsm.example.org"
    assert r["typo"].value.endswith("id/typologie-lieu/point-accueil-saisonniers")
    saturday = store.select(
        PREFIXES
        + f"""SELECT ?o ?c WHERE {{ <{s1}> schema:openingHoursSpecification ?h .
            ?h schema:dayOfWeek schema:Saturday ; schema:opens ?o ; schema:closes ?c }}"""
    )
    assert [(r["o"].value, r["c"].value) for r in saturday] == [("09:00:00", "12:00:00")]
    assert saturday[0]["o"].datatype.value == "http://www.w3.org/2001/XMLSchema#time"


def test_named_contact_only_in_private_graph(loaded) -> None:
    store, _, _ = loaded
    ask = PREFIXES + "ASK { ?p schema:contactPoint/schema:email 'lucie.exemple@example.org' }"
    assert not store.ask(ask)
    assert store.ask(ask, public=False)
    graphs = store.select(
        PREFIXES + "SELECT ?g WHERE { GRAPH ?g { ?c schema:name 'Lucie Exemple' } }", public=False
    )
    assert [r["g"].value for r in graphs] == [store.minter.private_graph("test-saisonniers")]


def test_same_place_in_two_lists(loaded) -> None:
    store, _, report = loaded
    rows = store.select(PREFIXES + "SELECT ?a ?b WHERE { ?a owl:sameAs ?b }")
    pairs = {(r["a"].value.rsplit("/", 1)[1], r["b"].value.rsplit("/", 1)[1]) for r in rows}
    assert pairs == {
        ("espace-saisonniers-bourg-saint-maurice", "maison-des-saisonniers-de-bourg-saint-maurice")
    }
    assert "1 liens owl:sameAs" in report[0]
    assert any(line.startswith("même lieu :") and "Médiathèque" not in line for line in report)
    assert any("fermeture avant l'ouverture" in line and line.startswith("ligne 4") for line in report)


def test_wrong_shape_is_refused(base_iri: str, tmp_path: Path) -> None:
    store = OxigraphStore(base_iri)
    with pytest.raises(SourceError, match=r"espaces\.csv:1: not the shape mapped by saisonniers\.toml"):
        places.build(FIXTURES / "espaces.csv", FIXTURES / "saisonniers.toml", store.minter, store)
    with pytest.raises(SourceError, match="unreadable mapping"):
        places.build(FIXTURES / "espaces.csv", FIXTURES / "espaces.csv", store.minter, store)
    partial = tmp_path / "partial.toml"
    partial.write_text('[source]\nname = "x"\nlabel = "x"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="partial.toml: mapping lacks 'place'"):
        places.build(FIXTURES / "espaces.csv", partial, store.minter, store)


def test_an_excel_csv_is_read_and_another_encoding_is_named(base_iri: str, tmp_path: Path) -> None:
    """French Excel's « CSV UTF-8 » (a BOM, « ; » between cells) loads as the comma file does, the mapping
    stating no delimiter; its plain « CSV » (Windows-1252) is refused in French with its line and how to
    save it again, not Python's « 'utf-8' codec can't decode »."""
    store = OxigraphStore(base_iri)
    text = (FIXTURES / "espaces.csv").read_text(encoding="utf-8")
    excel = tmp_path / "excel.csv"
    excel.write_text("\ufeff" + text.replace(",", ";"), encoding="utf-8")
    comma = places.build(FIXTURES / "espaces.csv", FIXTURES / "espaces.toml", store.minter, store)
    semicolon = places.build(excel, FIXTURES / "espaces.toml", store.minter, store)

    def named_only(result: ImportResult) -> set[ox.Triple]:
        """The place graph's triples but those of its blank nodes (addresses, hours), named anew each time."""
        return {t for t in result.graphs[0].triples if not {type(t.subject), type(t.object)} & {ox.BlankNode}}

    assert len(semicolon.graphs[0].triples) == len(comma.graphs[0].triples) > 20
    assert named_only(semicolon) == named_only(comma)
    excel.write_text(text, encoding="cp1252")
    refused = r"excel\.csv:3: le fichier n'est pas en UTF-8 .*0xe9.* au format « CSV UTF-8 »"
    with pytest.raises(SourceError, match=refused):
        places.build(excel, FIXTURES / "espaces.toml", store.minter, store)


def test_a_list_s_week_column_keeps_its_weekly_hours_without_its_holiday_and_month_rules(
    base_iri: str, tmp_path: Path
) -> None:
    """An OSM hours column is read by the rule the data·inclusion import follows: « PH off », « Jul-Aug off »
    are dropped and reported, the week kept (they lost the place its hours whole: « jour illisible »)."""
    text = (FIXTURES / "saisonniers.csv").read_text(encoding="utf-8").splitlines()
    hours = "Tu-Sa 14:00-18:00; PH off; Jul-Aug off"
    row = text[2].replace("Mo,We 14h-17h", f'"{hours}"')  # quoted: « ; » is the delimiter
    (tmp_path / "l.csv").write_text(f"{text[0]}\n{row}\n", encoding="utf-8")
    store = OxigraphStore(base_iri)
    result = places.build(tmp_path / "l.csv", FIXTURES / "saisonniers.toml", store.minter, store)
    assert f"ligne 2 : horaires « {hours} » : règle(s) « PH off ; Jul-Aug off » ignorée(s)" in "\n".join(
        result.report
    )
    days = {
        t.object.value.rsplit("/", 1)[1]
        for t in result.graphs[0].triples
        if t.predicate.value.endswith("dayOfWeek")
    }
    assert days == {"Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}


MAPPING = """[source]
name = "test-typees"
label = "Valeurs typées (essai)"

[place]
id = "id"
name = "nom"
latitude = "lat"
longitude = "lon"

[[properties]]
column = "accessible"
property = "cs:accessible"
kind = "boolean"

[[properties]]
column = "surface"
property = "schema:floorSize"
kind = "decimal"

[[properties]]
column = "places"
property = "schema:maximumAttendeeCapacity"
kind = "integer"
"""


def _load(tmp_path: Path, mapping: str, rows: str, store: OxigraphStore) -> ImportResult:
    """A list of places (``rows``, CSV) read with ``mapping`` (TOML) from files, as `communs load` does."""
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    (tmp_path / "l.csv").write_text(rows, encoding="utf-8")
    return places.build(tmp_path / "l.csv", tmp_path / "m.toml", store.minter, store)


def test_typed_columns_are_read_or_reported(base_iri: str, tmp_path: Path) -> None:
    """A cell its kind cannot read is named in the report with its line, and its place is kept."""
    rows = 'id,nom,lat,lon,accessible,surface,places\nA,Salle A,45.6,6.7,oui,"12,5",20\n'
    store = OxigraphStore(base_iri)
    result = _load(tmp_path, MAPPING, rows + "B,Salle B,45.6,6.8,non,grand,vingt\n", store)
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)
    query = PREFIXES + "SELECT ?n ?a ?s ?c WHERE { ?p rdfs:label ?n ; cs:accessible ?a "
    query += "OPTIONAL { ?p schema:floorSize ?s } OPTIONAL { ?p schema:maximumAttendeeCapacity ?c } }"
    got = {r["n"].value: tuple(r[k].value if k in r else None for k in "asc") for r in store.select(query)}
    assert got == {"Salle A": ("true", "12.5", "20"), "Salle B": ("false", None, None)}
    assert "ligne 3 : surface = « grand » n'est pas un decimal valide" in result.report
    assert "ligne 3 : places = « vingt » n'est pas un integer valide" in result.report
    (tmp_path / "m.toml").write_text(MAPPING.replace('"integer"', '"entier"'), encoding="utf-8")
    with pytest.raises(SourceError, match="m.toml: property schema:maximumAttendeeCapacity: kind must be"):
        places.build(tmp_path / "l.csv", tmp_path / "m.toml", store.minter, store)


def test_comments_are_unescaped_and_name_no_one(base_iri: str, tmp_path: Path) -> None:
    """A JavaScript-escaped cell is read as its text; a comment (a text in a language) publishes no e-mail
    address nor phone number (a person's may be in it), the desk's own e-mail column stays public."""
    mapping = MAPPING.split("[[properties]]")[0] + (
        '[[properties]]\ncolumn = "note"\nproperty = "schema:description"\nlang = "fr"\n\n'
        '[[properties]]\ncolumn = "mail"\nproperty = "schema:email"\n'
    )
    store = OxigraphStore(base_iri)
    result = _load(
        tmp_path,
        mapping,
        (
            "id,nom,lat,lon,note,mail\n"
            "A,Bus\\x20d\\u2019Avignon,45.6,6.7,Le\\x20bus\\x20circule\\xA0: voir jean.dupont@laposte.fr "
            "ou 04.92.70.14.27,accueil@desk.example.fr\n"
        ),
        store,
    )
    values = {t.predicate.value.rsplit("/", 1)[1]: t.object.value for t in result.graphs[0].triples}
    assert values["name"] == "Bus d\u2019Avignon"
    assert values["description"] == "Le bus circule\xa0: voir [courriel retiré] ou [téléphone retiré]"
    assert values["email"] == "accueil@desk.example.fr"


def test_a_comment_keeps_its_desk_s_own_number_and_no_other(base_iri: str, tmp_path: Path) -> None:
    """« prendre rendez-vous au 04 … »: a number the row publishes in its own phone column (written any
    way) is the desk's and stays in its comment; any other is removed: another desk's, a mobile, the named
    contact's (private, never published)."""
    mapping = MAPPING.split("[[properties]]")[0] + (
        '[[properties]]\ncolumn = "note"\nproperty = "schema:description"\nlang = "fr"\n\n'
        '[[properties]]\ncolumn = "tel"\nproperty = "schema:telephone"\n\n'
        '[contact]\nname = "contact"\ntelephone = "tel_contact"\n'
    )
    store = OxigraphStore(base_iri)
    result = _load(
        tmp_path,
        mapping,
        (
            "id,nom,lat,lon,note,tel,contact,tel_contact\n"
            "A,Desk A,45.6,6.7,Possibilité de prendre rendez-vous au 04.75.91.40.07 ou 06.38.23.07.34,"
            "04 75 91 40 07,Jean Dupont,06 38 23 07 34\n"
            "B,Desk B,45.6,6.8,Rendez-vous au 04 92 70 14 27 ; sinon Desk A au 04 75 91 40 07,"
            "+33 4 92 70 14 27,,\n"
        ),
        store,
    )
    public = next(g for g in result.graphs if g.graph.endswith("test-typees"))
    notes = {t.object.value for t in public.triples if t.predicate.value.endswith("description")}
    assert notes == {
        "Possibilité de prendre rendez-vous au 04.75.91.40.07 ou [téléphone retiré]",
        "Rendez-vous au 04 92 70 14 27 ; sinon Desk A au [téléphone retiré]",
    }
    assert not [t for t in public.triples if "06 38 23 07 34" in str(t)]  # the contact's stays private


def test_cli_needs_a_mapping(capsys) -> None:
    code = cli.main(["import", "places", str(FIXTURES / "espaces.csv"), "--store", ":memory:"])
    assert code == cli.EXIT_BAD_INPUT
    assert "--mapping" in capsys.readouterr().err


# --- the bundled France Services list --------------------------------------------------------------
def test_france_services_savoie_and_haute_tarentaise(base_iri: str, territory_triples: list) -> None:
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    result = places.build(
        DATA / "france-services" / "liste-fs-20240801.csv.gz",
        DATA / "mappings" / "france-services.toml",
        store.minter,
        store,
    )
    assert result.report[0].startswith("france-services : 2845 lignes, 2845 lieux chargés, 0 lignes rejetées")
    for load in result.graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    cat = search.Catalog(store)
    savoie, _ = cat.page("lieux", {"departement": ["73"], "reseau": ["france-services"]}, "", "fr", 0, 100)
    assert savoie == 31  # as in the file: Cœur de Chartreuse's Isère communes are not in the Savoie
    _, haute_tarentaise = cat.page("lieux", {"epci": ["247300254"]}, "", "fr", 0, 100)
    assert {cat.label(item.iri) for item in haute_tarentaise} == {
        "France services Bourg-Saint-Maurice",
        "France services de Tignes",
        "France services Val d'Isère",
    }
    assert cat.page("lieux", {"departement": ["73"], "samedi": ["oui"]}, "", "fr", 0, 100)[0] == 3
    descriptions = {
        r["p"].value.rsplit("/", 1)[1]: r["d"].value
        for r in store.select(PREFIXES + "SELECT ?p ?d WHERE { ?p schema:description ?d }")
    }
    assert descriptions["bus-france-services-avignon-avenir-84"].startswith("Le bus circule dans les 3 QPV")
    assert not [d for d in descriptions.values() if "\\x" in d or "\\u" in d]
    # The list's « rv » replaced by « rendez-vous » inside words, in texts and addresses alike, is « rv ».
    texts = [t.object.value for g in result.graphs for t in g.triples if isinstance(t.object, ox.Literal)]
    assert not [v for v in texts if places.RV_REPLACED.search(v)]
    assert "Cervières" in next(v for v in texts if "Saint André, Cer" in v)
    assert "vincent.carlier" not in descriptions["france-services-la-poste-de-valensole"]
    # The desk's own number (its telephone column) stays in its comment, another is still removed.
    assert descriptions["france-services-saint-marcel-d-ardeche"] == (
        "Possibilité de prendre rendez-vous au 04.75.91.40.07 ou [téléphone retiré]"
    )
    # Its own address (its e-mail column) too: « [courriel retiré] » hid a public address.
    assert descriptions["france-services-la-poste-de-la-grave"] == "la-grave@france-services.gouv.fr"
    group = store.minter.slug("organisation", "France services Pays Ségali (groupement)")
    sites = store.select(PREFIXES + f"SELECT ?s WHERE {{ <{group}> a org:Organization ; org:hasSite ?s }}")
    assert len(sites) == 6  # the main site and its five branches


def test_france_services_agents_addresses_are_private(base_iri: str) -> None:
    """A desk's e-mail column holding an agent's own address (prénom.nom@, p.nom@, pnom@, on a webmail or the
    employer's domain) publishes it nowhere: it is a contact point of the private graph; a service's address
    (franceservices@, accueil@, a commune's or structure's name) stays public."""
    store = OxigraphStore(base_iri)
    result = places.build(
        DATA / "france-services" / "liste-fs-20240801.csv.gz",
        DATA / "mappings" / "france-services.toml",
        store.minter,
        store,
    )
    for load in result.graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    assert [g.graph for g in result.graphs][1] == store.minter.private_graph("france-services")
    public = {r["e"].value for r in store.select(PREFIXES + "SELECT ?e WHERE { ?s schema:email ?e }")}
    private = PREFIXES + "SELECT ?e WHERE { ?s schema:contactPoint/schema:email ?e }"
    withheld = {r["e"].value for r in store.select(private, public=False)}
    agents = {"alex.fronty@hotmail.fr", "coralie.burr@cc2vv.fr", "manon.ancel@ca-saintdie.fr"}
    agents |= {"sarah.lecomte@msm-normandie.fr", "s.strobel@valdemeusevoiesacree.fr", "latil-p@sisteron.fr"}
    agents |= {"aini.abdou@dourgne.fr", "christel.dauzat@dourgne.fr"}  # in one cell with the town hall's
    agents |= {"jean.dada@grandsanti.fr"}  # its desk is in « Route Jean-Pierre Milobie »: no name of its own
    agents |= {
        "mpernot@pays-epinal.fr",
        "jnfrancois@pays-epinal.fr",
        "ncailleux@beauvais.fr",
    }  # initials, name
    agents |= {"anaisso@ville-apatou.fr"}  # a first name and an initial
    assert agents <= withheld and not agents & public and not withheld & public
    desks = {"franceservices@ccpb01.fr", "saint-trivier-de-courtes@france-services.gouv.fr"}
    desks |= {"mairie.bastelicaccia@wanadoo.fr", "psp.rosiers@sarcelles.fr", "relais.albanais@grand-lac.fr"}
    desks |= {"mairie@dourgne.fr", "france-service@carct.fr", "maisondelagglo@carct.fr"}
    desks |= {"siege.rue@ponthieu-marquenterre.fr"}  # a headquarters' (« siège »), in rue d'Ergnies
    desks |= {
        "fseac@epernay-agglo.fr",
        "msappij@cchc.fr",
        "ccpom@ccpom.fr",
        "dclics@lablaiserie.org",
    }  # acronyms
    desks |= {"mddroquebilliere@departement06.fr", "bxaubiers@pimmsmediation.fr", "puzzle@cherbourg.fr"}
    assert desks <= public
    assert (len(public), len(withheld)) == (2606, 94)
    aucun = store.minter.thing(
        "lieu", "france-services-multisites-des-vallees-de-haute-pyrenees-site-d-aucun"
    )
    assert store.ask(PREFIXES + f"ASK {{ <{aucun}> schema:contactPoint/schema:email ?e }}", public=False)
    assert not store.ask(PREFIXES + f"ASK {{ <{aucun}> schema:email|schema:contactPoint ?e }}")


def test_named_queries_on_both_bundled_lists(base_iri: str, territory_triples: list) -> None:
    """'France Services open on Saturday morning in a département', and a territory's places, one row each."""
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    load_bundled_places(store)
    queries = named_queries.load_all()

    def run(name: str, **values: str) -> list[dict]:
        q = queries[name]
        return store.select(q.sparql, named_queries.bindings(q, values, store.minter))

    saturday = run("france-services-samedi", departement="73")
    assert sorted(r["communeNom"].value for r in saturday) == [
        "Les Échelles",
        "Novalaise",
        "Saint-Pierre-d'Entremont",
    ]
    assert all(r["ouvre"].value < "12:00" for r in saturday)
    savoie = run("lieux-territoire", territoire="73")
    assert len(savoie) == len({r["lieu"] for r in savoie})  # not one row per language of the network's label
    networks = [r["reseau"].value for r in savoie]
    assert networks.count("France Services") == 31 and networks.count("Tiers-lieux") >= 1
    assert {r["nom"].value for r in run("lieux-territoire", territoire="247300254")} >= {
        "France services Bourg-Saint-Maurice",
        "France services de Tignes",
        "France services Val d'Isère",
    }


COMMUNES = """[source]
name = "test-communes"
label = "Communes en deux colonnes (essai)"

[place]
id = "id"
name = "nom"
commune = ["insee", "insee_geo"]
latitude = "lat"
longitude = "lon"
postal_code = "cp"
locality = "ville"
"""


def test_a_later_commune_column_stands_in_where_the_address_agrees(base_iri: str, tmp_path: Path) -> None:
    """The first column's commune; a later column's where the first names none and the row's postal code
    or locality agrees with it (or the row has neither); else the one the postal code and locality name
    (E: 97418 Le Tampon, not the Bonifacio a metropolitan geocoder gave); else none, reported."""
    store = OxigraphStore(base_iri)
    result = _load(
        tmp_path,
        COMMUNES,
        (
            "id,nom,insee,insee_geo,lat,lon,cp,ville\n"
            "A,Salle A,73054,73285,45.6,6.7,73700,Bourg-Saint-Maurice\n"
            "B,Salle B,0,73285,45.6,6.8,73700,\n"
            "C,Salle C,,73285,45.6,6.8,0,Séez\n"
            "D,Salle D,0,73054,45.6,6.8,0,\n"
            "E,Salle E,0,2A041,-21.2,55.5,97418,Le Tampon\n"
            "F,Salle F,14327,06152,43.627,7.041,0,Sophia Antipolis\n"
            "G,Salle G,14327,,43.627,7.041,0,Sophia Antipolis\n"
            "H,Salle H,14327,,49.2,-0.33,0,Sophia Antipolis\n"
        ),
        store,
    )
    spatial = {
        t.subject.value.rsplit("/", 1)[1]: t.object.value.rsplit("/", 1)[1]
        for t in result.graphs[0].triples
        if t.predicate.value.endswith("/spatial")
    }
    assert spatial == {
        **{"salle-a": "73054", "salle-b": "73285", "salle-c": "73285", "salle-d": "73054"},
        **{"salle-e": "97422", "salle-f": "06152", "salle-h": "14327"},  # F's first code is in Calvados
    }
    assert "1 lus du code postal et de la localité" in result.report[0]
    assert "ligne 6 : commune lue du code postal et de la localité : Le Tampon" in result.report
    assert "1 contredits par les coordonnées et l'adresse remplacés par une autre colonne" in result.report[0]
    assert (
        "ligne 8 : insee « 14327 » (Hérouville-Saint-Clair) contredit les coordonnées et l'adresse "
        "— lieu sans commune" in result.report
    )
    assert "ligne 6 : insee_geo « 2A041 » (Bonifacio) contredit l'adresse" in result.report
    (tmp_path / "m.toml").write_text(COMMUNES.replace('["insee", "insee_geo"]', "5"), encoding="utf-8")
    with pytest.raises(SourceError, match="m.toml: commune: a column name or a list of column names"):
        places.build(tmp_path / "l.csv", tmp_path / "m.toml", store.minter, store)


STREETS = """[source]
name = "test-rues"
label = "Rues en deux colonnes (essai)"

[place]
id = "id"
name = "nom"
required = ["name"]
street = ["adresse", "complement"]
postal_code = "cp"
locality = "ville"
"""


def test_a_street_loses_the_postal_code_and_town_it_ends_with(base_iri: str, tmp_path: Path) -> None:
    """Some cells of a street column end with, or are, the row's postal code and town (7 France Services,
    1 tiers-lieu): the page showed « 3 rue Hélène Boucher 40220 TARNOS » over « 40220 TARNOS ». They are
    taken off that cell only, and reported; a CEDEX box, a town without its postal code stay."""
    store = OxigraphStore(base_iri)
    result = _load(
        tmp_path,
        STREETS,
        (
            "id,nom,adresse,complement,cp,ville\n"
            "A,Salle A,3 rue Hélène Boucher 40220 TARNOS,,40220,TARNOS\n"
            "B,Salle B,1 rue Chapelle du Saint esprit 62130 Saint Pol sur Ternoise,BP 12,"
            "62130,Saint-Pol-sur-Ternoise\n"
            "C,Salle C,40220 Tarnos,,40220,TARNOS\n"
            "D,Salle D,87 avenue des frères Perret CS 70061,,69192,Saint Fons\n"
            "E,Salle E,12 route de Gap,,05000,Gap\n"
        ),
        store,
    )
    streets = {
        t.subject.value: t.object.value
        for t in result.graphs[0].triples
        if t.predicate.value == "http://schema.org/streetAddress"
    }
    assert sorted(streets.values()) == [
        "1 rue Chapelle du Saint esprit, BP 12",
        "12 route de Gap",
        "3 rue Hélène Boucher",
        "87 avenue des frères Perret CS 70061",
    ]
    assert "3 rues sans le code postal et la commune qui les terminaient" in result.report[0]
    assert "ligne 2 : code postal et commune retirés de la rue « 3 rue Hélène Boucher 40220 TARNOS »" in (
        result.report
    )


def test_tiers_lieux_without_insee_com_take_insee_metro(base_iri: str, territory_triples: list) -> None:
    """148 of the 157 tiers-lieux whose INSEECOM is 0 are in their commune by INSEEMETRO, hence in its
    département's facet; 7 of the 9 whose address contradicts it by their postal code and locality (the
    overseas ones, given a metropolitan commune by INSEEMETRO; L'Arobase, Castres). Two stay without one:
    an address in Tournai (Belgium), and « Sophia Antipolis » without a postal code (a technopole over
    five communes)."""
    store = load_reference(OxigraphStore(base_iri), territory_triples)
    result = places.build(
        DATA / "tiers-lieux-2019" / "CGET_TiersLieux_2019.csv.gz",
        DATA / "mappings" / "tiers-lieux-2019.toml",
        store.minter,
        store,
    )
    (load,) = (g for g in result.graphs if g.graph == store.minter.graph("tiers-lieux-2019"))
    store.replace_graph(load.graph, load.triples, load.meta)
    lonely = store.select(
        PREFIXES + "SELECT ?p WHERE { ?p a cs:ServicePlace FILTER NOT EXISTS { ?p dcterms:spatial ?c } }"
    )
    assert {r["p"].value.rsplit("/", 1)[1] for r in lonely} == {
        "spring-box-coworking-tournai",
        "telecom-valley-so-fab-sophia-antipolis",
    }
    assert sum("contredit l'adresse" in line for line in result.report) == 9
    assert "7 lus du code postal et de la localité" in result.report[0]
    for slug, code in (
        ("larobase-castres-castres", "81065"),
        ("up-space-martinique-sainte-luce", "97227"),
        ("fablab-reunion-le-tampon", "97422"),
        ("runfablab-solidarnum-sainte-clotilde", "97411"),
        ("le-fablab-de-jarry-baie-mahault-guadeloupe", "97103"),
    ):
        place, commune = store.minter.thing("lieu", slug), store.minter.thing("commune", code)
        assert store.ask(PREFIXES + f"ASK {{ <{place}> dcterms:spatial <{commune}> }}"), slug
    # Two INSEECOM codes contradicted by the coordinates' département and the address: INSEEMETRO's instead
    assert "2 contredits par les coordonnées et l'adresse remplacés par une autre colonne" in result.report[0]
    for slug, code in (
        ("sictiam-sophia-antipolis", "06152"),
        ("be-coworking-porte-montmartre-paris", "75056"),
    ):
        spatial = (
            f"<{store.minter.thing('lieu', slug)}> dcterms:spatial <{store.minter.thing('commune', code)}>"
        )
        assert store.ask(PREFIXES + f"ASK {{ {spatial} }}"), slug
    place = store.minter.thing("lieu", "art-prestige-perpignan")
    assert store.ask(
        PREFIXES + f"ASK {{ <{place}> dcterms:spatial <{store.minter.thing('commune', '66136')}> }}"
    )
    _, found = search.Catalog(store).page("lieux", {"departement": ["66"]}, "", "fr", 0, 500)
    assert place in {item.iri for item in found}
    # Cells once read as Windows-1252 by a tool before us are read back; names in capitals stay.
    assert "ROCHER concept |\xa0Coworking" in labels(store, "?p a cs:ServicePlace .")
    rows = store.select(f"SELECT ?o WHERE {{ GRAPH <{load.graph}> {{ ?s ?p ?o }} }}")
    assert not [r["o"].value for r in rows if "Ã" in r["o"].value or "Â\xa0" in r["o"].value]
    assert any("Libourne" in r["o"].value for r in rows)
    # CP is "0" for 133 rows: the postal code is the geocoded address's (GEOCOD), else there is none.
    zips = store.select(
        PREFIXES + "SELECT ?p ?z WHERE { ?p a cs:ServicePlace ; schema:address/schema:postalCode ?z }"
    )
    assert all(len(r["z"].value) == 5 and r["z"].value.isdigit() for r in zips)
    altipolis = store.minter.thing("lieu", "communaute-de-communes-du-brianconnais-altipolis-briancon")
    assert {r["z"].value for r in zips if r["p"].value == altipolis} == {"05100"}


def test_reload_gives_the_same_graphs(base_iri: str) -> None:
    """A list reloaded while the other list (and its links to this one) is in the store: same triples, and
    no place with two partners (a France Services bus and its fixed desk linked to one tiers-lieu)."""
    store = load_bundled_places(OxigraphStore(base_iri))
    same_as = PREFIXES + "SELECT ?a ?b WHERE { ?a owl:sameAs ?b }"

    def state() -> tuple[dict[str, int], set[tuple[str, str]]]:
        counts = {g: store.count(g) for g in store.graphs()}
        return counts, {(r["a"].value, r["b"].value) for r in store.select(same_as)}

    first = state()
    load_bundled_places(store)
    assert state() == first
    linked = [iri for pair in first[1] for iri in pair]
    assert len(first[1]) == 3 and len(linked) == len(set(linked))


def test_a_place_page_and_its_rdf_cite_its_source_date_and_licence(loaded, tmp_path: Path) -> None:
    """A place's page and Turtle said nothing of where its data come from: Licence Ouverte asks a reuser to
    cite the source and its date. Both give its graph's label, source, licence and date, as the catalogue
    (the metadata graph) knows them; the private graph holding its contact is not named."""
    store, _, _ = loaded
    place = store.minter.thing("lieu", "maison-des-saisonniers-de-bourg-saint-maurice")
    path = place.removeprefix(store.minter.base)
    with serve(store, tmp_path) as url:
        page = httpx.get(f"{url}/{path}", headers={"Accept": "text/html"}).text
        ttl = httpx.get(f"{url}/{path}.ttl").text
    graph = store.minter.graph("test-saisonniers")
    said = {(t.predicate.value, t.object.value) for t in ox.parse(ttl, format=ox.RdfFormat.TURTLE)}
    licence = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    assert ("http://rdfs.org/ns/void#inDataset", graph) in said and (DCTERMS + "license", licence) in said
    modified = next(o for p, o in said if p == DCTERMS + "modified")
    assert "/prive/" not in ttl and "/prive/" not in page
    source = page[page.index('<p class="source">') :].split("</p>")[0]
    assert "Points d&#39;accueil des saisonniers (essai)" in source and "Licence Ouverte 2.0" in source
    assert date_text(modified, "fr") in source, source
