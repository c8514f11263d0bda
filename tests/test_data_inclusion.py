"""The national data·inclusion schema: its lists as SKOS, our places exported, a hand-made file imported.

Every record is checked with the package itself (``data_inclusion.schema.v1``), never with a copy of its
rules.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import httpx
import pytest
from conftest import load_reference
from data_inclusion.schema import v1
from pages_helpers import serve, wait_for_downloads

from api import cli
from api.i18n import date_text
from api.pages import local_path
from graph import data_inclusion as di
from graph.contact import scrub
from graph.dumps import Dumps
from graph.namespaces import CS, DCTERMS, slugify
from graph.store import OxigraphStore
from loaders import SourceError, data_inclusion, places
from loaders import data_inclusion_vocabularies as vocab
from loaders import rdf as rdf_loader
from loaders.gazetteer import load_gazetteer

FIXTURES = Path(__file__).parent / "fixtures" / "data-inclusion"
DATA = Path(__file__).resolve().parent.parent / "data"
README = DATA.parent / "README.md"
# Fields our model does not keep, or keeps elsewhere (README, "data·inclusion"): not compared.
NOT_KEPT = {"contact_nom_prenom", "volume_horaire_hebdomadaire", "nombre_semaines"}
NAMED = "Maryse Vautrin"


def write(store: OxigraphStore, result) -> None:
    for g in result.graphs:
        store.replace_graph(g.graph, g.triples, g.meta)


def with_vocabularies(store: OxigraphStore) -> OxigraphStore:
    """Ontology, our vocabularies (with the France Services bundle) and data·inclusion's lists."""
    for load in [*rdf_loader.ontology(store.minter).graphs, *vocab.build(store.minter).graphs]:
        store.replace_graph(load.graph, load.triples, load.meta)
    return store


def assert_valid(records: list[dict], model: type) -> None:
    for r in records:
        errors, *_ = di.check(model, r)
        assert not errors, (r["id"], errors)


@pytest.fixture(scope="module")
def bundled(base_iri: str, territory_triples: list) -> tuple[OxigraphStore, di.Export]:
    """The bundled lists of places as `communs load` writes them, and their export (code_insee is read from
    the places' IRIs, the commune's name from the territories graph)."""
    store = with_vocabularies(load_reference(OxigraphStore(base_iri), territory_triples))
    for csv_name, mapping in (
        ("france-services/liste-fs-20240801.csv.gz", "france-services.toml"),
        ("tiers-lieux-2019/CGET_TiersLieux_2019.csv.gz", "tiers-lieux-2019.toml"),
    ):
        write(store, places.build(DATA / csv_name, DATA / "mappings" / mapping, store.minter, store))
    return store, di.export(store)


@pytest.fixture(scope="module")
def imported(base_iri: str) -> tuple[OxigraphStore, list[str]]:
    """The hand-made official-format files into a store of their own."""
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(
        FIXTURES / "structures.json", FIXTURES / "services.jsonl", store.minter, store
    )
    write(store, result)
    return store, result.report


def fixture_records(name: str) -> list[dict]:
    path = FIXTURES / name
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(path.read_text(encoding="utf-8"))


def comparable(record: dict) -> dict:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in record.items() if k not in NOT_KEPT}


# --- vocabularies ---------------------------------------------------------------------------------------
def test_one_scheme_per_reference_list_with_the_package_version(imported) -> None:
    store, _ = imported
    rows = store.select(
        """PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT ?scheme ?version (COUNT(?c) AS ?n) WHERE {
          ?scheme a skos:ConceptScheme ; owl:versionInfo ?version . ?c skos:inScheme ?scheme
        } GROUP BY ?scheme ?version"""
    )
    counts = {r["scheme"].value.rsplit("/", 1)[1]: int(r["n"].value) for r in rows}
    assert counts["data-inclusion-thematiques"] == len(v1.Thematique)
    assert counts["data-inclusion-reseaux-porteurs"] == len(v1.ReseauPorteur)
    assert counts["data-inclusion-publics"] == len(v1.Public)
    assert len([s for s in counts if s.startswith("data-inclusion-")]) == len(vocab.LISTS)
    assert {r["version"].value for r in rows} == {vocab.package_version()}
    # our concepts point to theirs
    base = store.minter.base
    assert store.ask(
        f"ASK {{ <{base}id/reseau/france-services> <http://www.w3.org/2004/02/skos/core#exactMatch> "
        f"<{base}id/data-inclusion-reseau/france-service> }}"
    )


def test_alignment_translates_both_ways(base_iri: str) -> None:
    minter = OxigraphStore(base_iri).minter
    assert vocab.to_theirs(minter, "publics", base_iri + "id/public/jeunes-actifs") == ["jeunes", "actifs"]
    assert vocab.to_ours(minter, "publics", "familles") == base_iri + "id/public/familles"
    # 'jeunes' has two close partners of ours: it stays their concept, so it exports back as 'jeunes'
    assert vocab.to_ours(minter, "publics", "jeunes") == base_iri + "id/data-inclusion-public/jeunes"


# --- export of the bundled data ---------------------------------------------------------------------------
def test_bundled_export_validates_and_counts_every_place(bundled) -> None:
    store, exported = bundled
    n = store.select(f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p a <{CS}ServicePlace> }}")
    assert len(exported.structures) == int(n[0]["n"].value) == 2845 + 1512
    assert not exported.errors
    assert_valid(exported.structures, v1.Structure)
    assert_valid(exported.services, v1.Service)
    # a France Services site offers the nine services of the national bundle, with its hours
    fs = [s for s in exported.structures if s["reseaux_porteurs"] == ["france-service"]]
    assert len(fs) == 2845
    assert len(exported.services) == 9 * 2845
    ids = [s["id"] for s in exported.structures]
    assert len(set(ids)) == len(ids) and all(i.startswith("communs-services--") for i in ids)
    yenne = next(s for s in exported.structures if s["nom"] == "France services Yenne")
    assert yenne["code_insee"] == "73330" and yenne["horaires_accueil"].startswith(
        "Mo 08:30-12:30,13:30-17:30;"
    )
    offered = [s for s in exported.services if s["structure_id"] == yenne["id"]]
    assert len(offered) == 9 and {s["horaires_accueil"] for s in offered} == {yenne["horaires_accueil"]}
    # date_maj is the source's publication date (its mapping's `issued`), never the day it was loaded
    dates = {(s["reseaux_porteurs"] is not None, s["date_maj"]) for s in exported.structures}
    assert dates == {(True, "2024-08-01"), (False, "2019-04-27")}  # France Services, tiers-lieux
    assert {s["date_maj"] for s in exported.services} == {"2024-08-01"}
    # a structure's commune is its code_insee's name in the territorial reference, not the source's text
    gz = load_gazetteer()
    briancon = [s for s in exported.structures if s["code_insee"] == "05023"]
    assert briancon and {s["commune"] for s in briancon} == {"Briançon"}
    wrong = [
        s
        for s in exported.structures
        if s["code_insee"] and s["commune"] != gz.current_commune(s["code_insee"]).name
    ]
    assert not wrong, wrong[:3]


def test_a_mapping_dates_its_source_with_a_date(base_iri: str, tmp_path: Path) -> None:
    mapping = (DATA / "mappings" / "france-services.toml").read_text(encoding="utf-8")
    (tmp_path / "m.toml").write_text(mapping.replace("issued = 2024-08-01", 'issued = "août 2024"'), "utf-8")
    with pytest.raises(SourceError, match="m.toml: issued: the source's publication date, as a TOML date"):
        places.read_mapping(tmp_path / "m.toml")


def test_readme_states_the_bundled_exports_counts(bundled) -> None:
    """README's figures are those the downloads page computes (graph/data_inclusion.py summary): it said
    135 values left out (postal codes "0", which the loader no longer writes) where the page said 2."""
    summary = di.summary(bundled[1])
    text = " ".join(README.read_text(encoding="utf-8").split("## data·inclusion", 1)[1].split())
    stated = {
        key: int(re.search(rf"([\d,]+) {words}\b", text)[1].replace(",", ""))  # the first: the summary
        for key, words in (
            ("structures", "structures"),
            ("services", "services"),
            ("warnings", "warnings?"),
            ("dropped", "values? left out"),
        )
    }
    assert stated == {key: summary[key] for key in stated}


def test_bundled_export_imports_back_as_the_same_places(bundled, base_iri: str, tmp_path: Path) -> None:
    _, exported = bundled
    di.write(exported, tmp_path)
    empty = OxigraphStore(base_iri)
    result = data_inclusion.build(tmp_path / "structures.json", None, empty.minter, empty)
    assert "4357 structures lues, 4357 lieux chargés, 0 rejetées" in result.report[0]
    write(empty, result)
    again = di.export(empty)
    assert again.structures == exported.structures


# --- import of a hand-made file in the official format ---------------------------------------------------
def test_hand_made_file_loads(imported) -> None:
    store, report = imported
    assert report[0].startswith(
        "data-inclusion : 22 structures lues, 22 lieux chargés, 0 rejetées ; 32 services lus, 32"
    )
    assert "1 codes commune résolus par un ancien code" in report[0]
    base = store.minter.base
    graphs = set(store.public_graphs())
    assert {base + "graph/data-inclusion/dora", base + "graph/data-inclusion/soliguide"} <= graphs
    # Vallouise (05175) merged into Vallouise-Pelvoux (05101)
    assert store.ask(
        f"ASK {{ <{base}id/lieu/dora-mairie-vallouise> <{DCTERMS}spatial> <{base}id/commune/05101> }}"
    )


def test_duplicate_of_a_france_services_site_is_linked(bundled, tmp_path: Path) -> None:
    store, _ = bundled
    result = data_inclusion.build(FIXTURES / "structures.json", None, store.minter, store)
    links = [line for line in result.report if line.startswith("même lieu")]
    assert (
        len(links) == 1
        and "Versants d'Aime" in links[0]
        and "/id/lieu/france-services-versants-d-aime" in links[0]
    )


def test_named_contact_stays_private(imported, tmp_path: Path) -> None:
    store, _ = imported
    query = f'SELECT ?s WHERE {{ ?s ?p "{NAMED}" }}'
    assert store.select(query, public=False) and not store.select(query, public=True)
    assert not store.select('SELECT ?s WHERE { ?s ?p "maryse.vautrin@cidff-exemple.fr" }')
    dumps = Dumps(store, tmp_path)
    manifest = dumps.build()
    assert "data-inclusion/services.csv" in {f["name"] for f in manifest["files"]}
    folder = tmp_path / f"v{manifest['version']}"
    for f in folder.rglob("*"):
        if f.is_file() and not f.name.endswith(".gz"):
            assert NAMED not in f.read_text(encoding="utf-8"), f
    assert NAMED.encode() not in gzip.decompress((folder / "communs-services.nq.gz").read_bytes())


def test_hand_made_file_round_trips(imported, base_iri: str, tmp_path: Path) -> None:
    store, _ = imported
    exported = di.export(store)
    assert_valid(exported.structures, v1.Structure)
    assert_valid(exported.services, v1.Service)
    by_id = {r["id"]: r for r in exported.structures}
    for given in fixture_records("structures.json"):
        got = dict(by_id[given["id"]])
        if given["id"] == "dora--mairie-vallouise":  # a former code comes back as the current commune
            assert got.pop("code_insee") == "05101"
            given.pop("code_insee")
            got = {k: v for k, v in got.items() if k in given}
        assert comparable(got) == comparable(given), given["id"]
    services = {r["id"]: r for r in exported.services}
    # the France Services site of the file also offers the national bundle, as every France Services site
    bundle = [r for r in exported.services if r["source"] == di.SOURCE]
    assert len(services) == 32 + 9 == len(exported.services) and len(bundle) == 9
    assert {r["structure_id"] for r in bundle} == {"dora--fs-versants-aime"}
    for given in fixture_records("services.jsonl"):
        got = services[given["id"]]
        if given["contact_nom_prenom"]:  # the person's e-mail and phone went private with the name
            assert got["courriel"] is None and got["telephone"] is None
            given = {**given, "courriel": None, "telephone": None}
        if given["code_insee"] == "05175":
            given = {**given, "code_insee": "05101"}
        assert comparable(got) == comparable(given), given["id"]
    # and the CSV we publish imports back to the same records
    di.write(exported, tmp_path)
    csv_store = with_vocabularies(OxigraphStore(base_iri))
    write(
        csv_store,
        data_inclusion.build(
            tmp_path / "structures.csv", tmp_path / "services.csv", csv_store.minter, csv_store
        ),
    )
    again = di.export(csv_store)
    assert again.structures == exported.structures and again.services == exported.services


def test_rejected_record_and_bad_file(base_iri: str, tmp_path: Path, capsys) -> None:
    store = OxigraphStore(base_iri)
    good = fixture_records("structures.json")[0]
    bad = {**good, "id": "dora--sans-nom", "nom": "AB"}
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (good, bad)), encoding="utf-8")
    result = data_inclusion.build(path, None, store.minter, store)
    assert "1 lieux chargés, 1 rejetées" in result.report[0]
    assert any("ligne 2 : rejetée (nom" in line for line in result.report)
    store_dir = str(tmp_path / "store")
    args = ["import", "data-inclusion", str(FIXTURES / "structures.json"), str(FIXTURES / "services.jsonl")]
    assert cli.main([*args, "--store", store_dir, "--report"]) == 0
    out = capsys.readouterr().out
    assert "<https://data.adrets-asso.fr/graph/data-inclusion/soliguide>" in out and "22 lieux chargés" in out
    assert cli.main(["import", "places", str(path), str(path), "--store", store_dir]) == cli.EXIT_BAD_INPUT
    bad_cell = tmp_path / "s.csv"
    bad_cell.write_text(
        'source,id,nom,date_maj,reseaux_porteurs\ndora,dora--x,Lieu,2025-01-01,"[caf"\n', "utf-8"
    )
    with pytest.raises(SourceError, match="unreadable cell"):
        data_inclusion.read_records(bad_cell)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": ', encoding="utf-8")
    code = cli.main(["import", "data-inclusion", str(broken), "--store", ":memory:"])
    assert code == cli.EXIT_BAD_INPUT and "broken.json" in capsys.readouterr().err


def test_an_excel_csv_is_read_and_another_encoding_is_named(tmp_path: Path) -> None:
    """Structures saved by French Excel as « CSV UTF-8 » (a BOM, « ; ») read as their comma file does (the
    tester's was refused for « no 'id' column »); saved as plain « CSV » (Windows-1252), the file is
    refused in French with its line and how to save it again (a JSON file in UTF-8, not as a CSV)."""
    records = [
        {k: v for k, v in r.items() if not isinstance(v, list)} for r in fixture_records("structures.json")
    ]
    fields = list(records[0])
    for name, delimiter, bom in (("comma.csv", ",", ""), ("excel.csv", ";", "\ufeff")):
        with (tmp_path / name).open("w", encoding="utf-8", newline="") as f:
            f.write(bom)
            csv.DictWriter(f, fields, delimiter=delimiter, extrasaction="ignore").writerows(
                [dict(zip(fields, fields, strict=True)), *records]
            )
    read = data_inclusion.read_records(tmp_path / "excel.csv")
    assert read == data_inclusion.read_records(tmp_path / "comma.csv")
    assert read[0][1]["commune"] == "Chambéry"
    windows = tmp_path / "windows.csv"
    windows.write_text((tmp_path / "comma.csv").read_text(encoding="utf-8"), encoding="cp1252")
    with pytest.raises(SourceError, match=r"windows\.csv:2: le fichier n'est pas en UTF-8 .*« CSV UTF-8 »"):
        data_inclusion.read_records(windows)
    jsonl = tmp_path / "windows.jsonl.gz"
    jsonl.write_bytes(gzip.compress('{"nom": "Chambéry"}'.encode("cp1252")))
    with pytest.raises(SourceError, match=r"windows\.jsonl\.gz:1: .* 0xe9\) : enregistrez-le en UTF-8$"):
        data_inclusion.read_records(jsonl)


def test_free_texts_publish_no_contact_details(base_iri: str, tmp_path: Path) -> None:
    """A description may name a person's e-mail or phone: neither is published; the structure's own
    e-mail field stays."""
    structure = fixture_records("structures.json")[0]
    structure["description"] = "Accueil sur rendez-vous auprès de jean.dupont@laposte.fr (06 12 34 56 78)."
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    write(store, data_inclusion.build(tmp_path / "s.json", None, store.minter, store))
    (record,) = di.export(store).structures
    removed = "Accueil sur rendez-vous auprès de [courriel retiré] ([téléphone retiré])."
    assert record["description"] == removed
    assert record["courriel"] == structure["courriel"]


def test_a_person_named_with_a_civility_is_taken_out_of_free_texts(base_iri: str, tmp_path: Path) -> None:
    """The tester's « cd05--mds-gap »: its number was removed but « Mme Sophie Durand » published. A civility
    and capitalised words are a person; « M. le maire », « Monsieur Le Maire » are titles and stay."""
    structure = fixture_records("structures.json")[0]
    structure["description"] = (
        "Pour un rendez-vous, appelez directement Mme Sophie Durand au 06 98 76 54 32. Permanences de "
        "M. le maire et de Monsieur Le Maire délégué ; courrier à M. DUPONT, Madame Émilie Roux-Martin."
    )
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    write(store, data_inclusion.build(tmp_path / "s.json", None, store.minter, store))
    (record,) = di.export(store).structures
    assert record["description"] == (
        "Pour un rendez-vous, appelez directement [nom retiré] au [téléphone retiré]. Permanences de "
        "M. le maire et de Monsieur Le Maire délégué ; courrier à [nom retiré], [nom retiré]."
    )


@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("Permanence de Mme Durand Mardi Jeudi 9h", "Permanence de [nom retiré] Mardi Jeudi 9h"),
        ("Écrire à MME DURAND ou à Mr Dupont", "Écrire à [nom retiré] ou à [nom retiré]"),
        ("Accueil par M. Le Gall en JUIN", "Accueil par [nom retiré] en JUIN"),
        ("Mme Marie-Claire Le Gall Dupont Accueil", "[nom retiré] Dupont Accueil"),
        (
            "Monsieur LE MAIRE, Madame la Présidente, M. l'adjoint",
            "Monsieur LE MAIRE, Madame la Présidente, M. l'adjoint",
        ),
        ("Bureau rue Madame Curie, à 200 m. Parking", "Bureau rue Madame Curie, à 200 m. Parking"),
        ("Mme de Villiers, M. du Pont, Mme d'Aubigné", "[nom retiré], [nom retiré], [nom retiré]"),
        ("M. de La Fontaine et Mme van der Berg lundi", "[nom retiré] et [nom retiré] lundi"),
        (
            "Mme Le Gall, M. Le Pen, M. le maire, Madame la directrice, Monsieur le Préfet",
            "[nom retiré], [nom retiré], M. le maire, Madame la directrice, Monsieur le Préfet",
        ),
    ],
)
def test_a_civility_names_a_person_up_to_three_words_and_not_a_title_a_day_or_a_street(
    text: str, public: str
) -> None:
    """A civility (any case) and at most three capitalised words, each maybe after a lower-case particle
    (de, d', van der), are a person; a day or a month ends the name, a title or a street's name is none."""
    assert scrub(text) == public


def test_an_agent_s_own_address_in_courriel_goes_private_and_a_desk_s_stays(
    base_iri: str, tmp_path: Path
) -> None:
    """« prénom.nom@ » in a structure's or a service's ``courriel`` is a person's: private graph only, as the
    places loader does; « accueil@ » is the desk's and is published."""
    structure = fixture_records("structures.json")[0] | {"courriel": "maryse.vautrin@cc-exemple.fr"}
    desk, agent = fixture_records("services.jsonl")[:2]
    desk |= {"structure_id": structure["id"], "contact_nom_prenom": None, "courriel": "accueil@cc-exemple.fr"}
    agent |= {
        "structure_id": structure["id"],
        "contact_nom_prenom": None,
        "courriel": "jean.dupont@laposte.fr",
    }
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    (tmp_path / "v.jsonl").write_text("\n".join(json.dumps(r) for r in (desk, agent)), encoding="utf-8")
    store = OxigraphStore(base_iri)
    write(store, data_inclusion.build(tmp_path / "s.json", tmp_path / "v.jsonl", store.minter, store))
    exported = di.export(store)
    assert exported.structures[0]["courriel"] is None
    assert {r["id"]: r["courriel"] for r in exported.services} == {
        desk["id"]: "accueil@cc-exemple.fr",
        agent["id"]: None,
    }
    query = "SELECT ?e WHERE { GRAPH ?g { ?s <http://schema.org/email> ?e } }"
    emails = {public: {r["e"].value for r in store.select(query, public=public)} for public in (True, False)}
    assert emails[True] == {"accueil@cc-exemple.fr"}
    assert emails[False] - emails[True] == {"maryse.vautrin@cc-exemple.fr", "jean.dupont@laposte.fr"}


def test_the_phone_of_a_record_whose_e_mail_is_an_agent_s_goes_private_with_it(
    base_iri: str, tmp_path: Path
) -> None:
    """The tester's « cd05--mds-embrun »: « marie.dupont@ » was withheld but the mobile of the same record
    published (page, JSON-LD, export). Given with an agent's own address, the phone is that agent's: private
    both, in its record's texts too; a desk's record keeps its own."""
    mobile = "06 12 34 56 78"
    structure = fixture_records("structures.json")[0] | {"courriel": "marie.dupont@hautes-alpes.fr"}
    structure |= {"telephone": mobile, "description": f"Permanences sociales, au {mobile}."}
    desk, agent = fixture_records("services.jsonl")[:2]
    desk |= {"structure_id": structure["id"], "contact_nom_prenom": None, "courriel": "accueil@cc-exemple.fr"}
    desk["telephone"] = "04 92 00 00 00"
    agent |= {
        "structure_id": structure["id"],
        "contact_nom_prenom": None,
        "courriel": "jean.dupont@laposte.fr",
    }
    agent["telephone"] = "06 98 76 54 32"
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([desk, agent]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    write(store, data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store))
    exported = di.export(store)
    assert (exported.structures[0]["telephone"], exported.structures[0]["courriel"]) == (None, None)
    assert exported.structures[0]["description"] == "Permanences sociales, au [téléphone retiré]."
    assert {r["id"]: r["telephone"] for r in exported.services} == {
        desk["id"]: "04 92 00 00 00",
        agent["id"]: None,
    }
    query = "SELECT ?t WHERE { GRAPH ?g { ?s <http://schema.org/telephone> ?t } }"
    phones = {public: {r["t"].value for r in store.select(query, public=public)} for public in (True, False)}
    assert phones[True] == {"04 92 00 00 00"}
    assert phones[False] - phones[True] == {mobile, "06 98 76 54 32"}


def test_a_malformed_personal_e_mail_still_keeps_its_phone_private(base_iri: str, tmp_path: Path) -> None:
    """The schema drops a malformed address (« marie.dupont@orange,fr »), but it is still a person's: whose
    it is is judged as written, so her mobile is not published, and both are kept in the private graph."""
    mobile, written = "06 12 34 56 78", "marie.dupont@orange,fr"
    structure = fixture_records("structures.json")[0] | {"courriel": written, "telephone": mobile}
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    result = data_inclusion.build(tmp_path / "s.json", None, store.minter, store)
    write(store, result)
    assert any("valeur ignorée" in line and "courriel" in line for line in result.report)
    query = "SELECT ?v WHERE { GRAPH ?g { ?s <http://schema.org/telephone>|<http://schema.org/email> ?v } }"
    values = {public: {r["v"].value for r in store.select(query, public=public)} for public in (True, False)}
    assert values[True] == set()
    assert values[False] == {mobile, written}


def test_the_same_id_in_two_sources_is_one_iri_so_the_second_is_refused_with_its_services(
    base_iri: str, tmp_path: Path
) -> None:
    """An IRI is minted from the id alone: « 1 » of source B would be A's « 1 ». B's is rejected saying so,
    and B's service of « 1 » is not attached to A's place."""
    first = fixture_records("structures.json")[0] | {"source": "source-a", "id": "1"}
    second = first | {"source": "source-b", "nom": "Autre structure"}
    service = fixture_records("services.jsonl")[0] | {"source": "source-b", "id": "b-1", "structure_id": "1"}
    (tmp_path / "s.json").write_text(json.dumps([first, second]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([service]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    result = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store)
    assert (
        "s.json ligne 2 : rejetée (id « 1 » même id dans une autre source : s.json ligne 1)" in result.report
    )
    assert "v.json ligne 1 : rejetée (structure « 1 » refusée : s.json ligne 2)" in result.report
    write(store, result)
    assert di.export(store).services == []


def test_free_texts_keep_their_record_s_own_desk_number_and_no_other(base_iri: str, tmp_path: Path) -> None:
    """The number a record publishes in its telephone field stays in its texts (« rendez-vous au 04 … »);
    another is removed, and so is a service's number given with a named person (that person's)."""
    structure = fixture_records("structures.json")[0] | {"telephone": "04 79 00 00 00"}
    structure["description"] = "Rendez-vous au 04.79.00.00.00 ou au 06 12 34 56 78."
    desk, person = fixture_records("services.jsonl")[:2]
    desk |= {"structure_id": structure["id"], "telephone": "04 70 00 10 20", "contact_nom_prenom": None}
    desk["description"] = "Appelez le 04 70 00 10 20 (le 04 79 00 00 00 est celui de la structure)."
    person |= {
        "structure_id": structure["id"],
        "telephone": "06 98 76 54 32",
        "contact_nom_prenom": "Jean Dupont",
    }
    person["mobilisation_precisions"] = "Appeler Jean Dupont au 06 98 76 54 32"
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([desk, person]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    write(store, data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store))
    exported = di.export(store)
    assert exported.structures[0]["description"] == "Rendez-vous au 04.79.00.00.00 ou au [téléphone retiré]."
    services = {r["nom"]: r for r in exported.services}
    assert services[desk["nom"]]["description"] == (
        "Appelez le 04 70 00 10 20 (le [téléphone retiré] est celui de la structure)."
    )
    assert services[person["nom"]]["mobilisation_precisions"] == "Appeler Jean Dupont au [téléphone retiré]"


def test_a_service_of_no_structure_is_rejected_and_holiday_rules_are_reported(base_iri: str, tmp_path: Path):
    """What the model cannot hold is named in the report: a service whose structure is not in the file
    (rejected), rules of opening hours for public holidays or months (dropped; the week's hours are
    kept, as the tester's « Tu-Sa 14:00-18:00; Jul-Aug off » lost them whole), and counted in its
    summary line."""
    hours = "Mo-Fr 09:00-12:00; PH off; Jul-Aug off"
    structure = {**fixture_records("structures.json")[0], "horaires_accueil": hours}
    service = fixture_records("services.jsonl")[0]
    orphan = {**service, "id": "dora--sans-structure", "structure_id": "dora--nulle-part"}
    (tmp_path / "structures.json").write_text(json.dumps([structure]), encoding="utf-8")
    (tmp_path / "services.jsonl").write_text(f"{json.dumps(service)}\n{json.dumps(orphan)}\n", "utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(
        tmp_path / "structures.json", tmp_path / "services.jsonl", store.minter, store
    )
    assert "2 services lus, 1 chargés, 1 rejetés" in result.report[0]
    assert "1 horaires en partie ignorés" in result.report[0], result.report[0]
    assert any("ligne 2 : rejetée (structure « dora--nulle-part » absente)" in line for line in result.report)
    dropped = f"horaires « {hours} » : règle(s) « PH off ; Jul-Aug off » ignorée(s)"
    assert any(dropped in r for r in result.report)
    write(store, result)
    query = "ASK { ?p <http://schema.org/openingHoursSpecification>/<http://schema.org/opens> ?o }"
    assert store.ask(query)


def test_a_second_record_of_an_id_is_rejected_and_the_first_kept_whole(base_iri: str, tmp_path: Path):
    """Two records of one id would be one place with two names, two addresses and two dates: the second is
    rejected and names the line of the first."""
    structure = fixture_records("structures.json")[0]
    other = fixture_records("structures.json")[1] | {"id": structure["id"], "date_maj": "2020-01-01"}
    service = fixture_records("services.jsonl")[0] | {"structure_id": structure["id"]}
    again = service | {"nom": "Autre service", "description": "Un autre service du même identifiant."}
    (tmp_path / "s.json").write_text(json.dumps([structure, other]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([service, again]), encoding="utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store)
    counts = "2 structures lues, 1 lieux chargés, 1 rejetées ; 2 services lus, 1 chargés, 1 rejetés"
    assert counts in result.report[0]
    for name, first in (("s.json", structure), ("v.json", service)):
        line = f"{name} ligne 2 : rejetée (id « {first['id']} » déjà utilisé : {name} ligne 1)"
        assert line in result.report
    write(store, result)
    exported = di.export(store)
    assert [comparable(r) for r in exported.structures] == [comparable(structure)]
    assert [r["nom"] for r in exported.services] == [service["nom"]]


def test_a_value_the_schema_refuses_in_an_optional_field_is_left_out(base_iri: str, tmp_path: Path) -> None:
    """A web address without « https:// », an e-mail without a domain, an unknown value in a list: that value
    is left out and named, the record loads; a refused required field still rejects the record."""
    first, second, third = fixture_records("structures.json")[:3]
    first |= {"site_web": "www.abries-ristolas.com", "courriel": "accueil@devoluy"}
    third |= {"date_maj": "12/03/2025"}
    service = fixture_records("services.jsonl")[0] | {"structure_id": first["id"]}
    service["thematiques"] = ["famille--soins-enfants", "numerique--acceder-a-des-services-en-ligne"]
    (tmp_path / "s.json").write_text(json.dumps([first, second, third]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([service]), encoding="utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store)
    assert "3 structures lues, 2 lieux chargés, 1 rejetées ; 1 services lus, 1 chargés" in result.report[0]
    assert "3 valeurs refusées par le schéma ignorées" in result.report[0]
    ignored = [line for line in result.report if "valeur ignorée, le reste est chargé" in line]
    said = ("courriel « accueil@devoluy »", "site_web « www.abries-ristolas.com »", "famille--soins-enfants")
    assert len(ignored) == 3 and all(value in line for line, value in zip(ignored, said, strict=True))
    assert any(line.startswith("s.json ligne 3 : rejetée (date_maj « 12/03/2025 »") for line in result.report)
    write(store, result)
    exported = di.export(store)
    assert {r["id"]: (r["site_web"], r["courriel"]) for r in exported.structures} == {
        first["id"]: (None, None),
        second["id"]: (second["site_web"], second["courriel"]),
    }
    assert exported.services[0]["thematiques"] == ["numerique--acceder-a-des-services-en-ligne"]


def test_a_refusal_names_the_value_and_where_to_find_the_right_ones(base_iri: str, tmp_path: Path) -> None:
    """An agent fixes the file from the report: the value refused is quoted, a reference list is pointed to
    rather than spelled out (70 thématiques), and a service of a refused structure says so, with its line."""
    good, nameless = fixture_records("structures.json")[:2]
    del nameless["nom"]
    service = fixture_records("services.jsonl")[0] | {"structure_id": good["id"]}
    service["thematiques"] = ["numerique--acceder-a-des-services-en-ligne", "famille--soins-enfants"]
    orphan = fixture_records("services.jsonl")[1] | {"structure_id": nameless["id"]}
    (tmp_path / "s.json").write_text(json.dumps([good, nameless]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps([service, orphan]), encoding="utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    report = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store).report
    lists = f"https://github.com/gip-inclusion/data-inclusion-schema/blob/v{vocab.package_version()}"
    assert report[2:] == [
        "s.json ligne 2 : rejetée (nom : champ obligatoire absent)",
        "v.json ligne 1 : valeur ignorée, le reste est chargé (thematiques : valeur inconnue "
        f"« famille--soins-enfants » ; voir la liste : {lists}/schemas/v1/extra/thematiques.json)",
        f"v.json ligne 2 : rejetée (structure « {nameless['id']} » refusée : s.json ligne 2)",
    ]


def test_a_structure_a_re_import_no_longer_has_is_gone_since_that_day(base_iri: str, tmp_path: Path) -> None:
    """A département's file imported again without one of its structures: its IRI answered 404, as if it
    had never been. It is 410 in every format, the page and the twins saying since when, through later
    imports too; back in the file, it is a place again."""
    structures = fixture_records("structures.json")
    services = fixture_records("services.jsonl")
    gone, kept = structures[0], structures[1]
    (tmp_path / "all.json").write_text(json.dumps(structures), encoding="utf-8")
    (tmp_path / "less.json").write_text(json.dumps(structures[1:]), encoding="utf-8")
    (tmp_path / "v.json").write_text(
        json.dumps([s for s in services if s["structure_id"] != gone["id"]]), encoding="utf-8"
    )
    store = with_vocabularies(OxigraphStore(base_iri))
    write(store, data_inclusion.build(tmp_path / "all.json", None, store.minter, store))
    for _ in range(2):  # the second re-import keeps what the first one removed
        write(store, data_inclusion.build(tmp_path / "less.json", tmp_path / "v.json", store.minter, store))
    place = store.minter.thing("lieu", slugify(gone["id"], 120))
    (when,) = [
        t.object.value
        for t in store.construct(f"CONSTRUCT {{ <{place}> ?p ?o }} WHERE {{ <{place}> ?p ?o }}")
    ]
    with serve(store, tmp_path) as url:
        path = url + local_path(place, base_iri)
        page = httpx.get(path)
        assert page.status_code == 410, page.text
        assert f"retirée de cette source le {date_text(when, 'fr')}" in page.text
        turtle = httpx.get(path + ".ttl")
        assert turtle.status_code == 410 and "invalidatedAtTime" in turtle.text and when in turtle.text
        assert httpx.get(path + ".jsonld").status_code == 410
        still = store.minter.thing("lieu", slugify(kept["id"], 120))
        assert httpx.get(url + local_path(still, base_iri)).status_code == 200
    write(store, data_inclusion.build(tmp_path / "all.json", None, store.minter, store))
    assert not store.ask(f"ASK {{ <{place}> <http://www.w3.org/ns/prov#invalidatedAtTime> ?when }}")
    assert store.ask(f"ASK {{ <{place}> a <{CS}ServicePlace> }}")


def test_a_source_a_file_does_not_hold_is_left_as_it_was(base_iri: str, tmp_path: Path) -> None:
    """An import replaces the sources its file holds and no other (README, « Import »): a file of one
    source, a département's beside the national one, withdraws nothing of another source."""
    structures = fixture_records("structures.json")
    (tmp_path / "all.json").write_text(json.dumps(structures), encoding="utf-8")
    (tmp_path / "dora.json").write_text(
        json.dumps([s for s in structures if s["source"] == "dora"]), encoding="utf-8"
    )
    store = with_vocabularies(OxigraphStore(base_iri))
    write(store, data_inclusion.build(tmp_path / "all.json", None, store.minter, store))
    soliguide = store.minter.graph(di.IMPORT_GRAPH_PREFIX + "soliguide")
    before = store.count(soliguide)
    write(store, data_inclusion.build(tmp_path / "dora.json", None, store.minter, store))
    assert store.count(soliguide) == before > 0
    assert not store.ask("ASK { ?s <http://www.w3.org/ns/prov#invalidatedAtTime> ?when }")


def test_every_kind_of_refusal_is_said_in_french_with_its_field_and_value(
    base_iri: str, tmp_path: Path
) -> None:
    """The report is read by a département's agent: a wrong type, a length, a date, a pattern, a web or
    e-mail address, a minimum were pydantic's English (« String should have at least 3 characters »), and a
    code's format its regular expression (« ^\\d{14}$ »)."""
    structure = fixture_records("structures.json")[0]
    service = fixture_records("services.jsonl")[0] | {"structure_id": structure["id"]}
    bad_structures = [
        {"nom": "AB"},
        {"nom": "Maison " * 25},
        {"nom": 12},
        {"date_maj": "12/03/2025"},
        {"date_maj": "1999-01-01"},
        {"siret": "1234567890123a"},
        {"code_postal": "5000A"},
        {"code_insee": "05-01"},
        {"latitude": "quarante-quatre"},
        {"courriel": "accueil@mairie"},
        {"site_web": "ftp://mairie.fr"},
        {"reseaux_porteurs": "caf"},
    ]
    bad_services = [{"nombre_semaines": 0}, {"nombre_semaines": 1.5}, {"publics": []}]
    records = [structure] + [
        structure | b | {"id": f"{structure['id']}-{i}"} for i, b in enumerate(bad_structures)
    ]
    services = [service | b | {"id": f"{service['id']}-{i}"} for i, b in enumerate(bad_services)]
    (tmp_path / "s.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps(services), encoding="utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    report = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store).report
    said = [line.split(" : ", 1)[1] for line in report if " ligne " in line]
    ignored = "valeur ignorée, le reste est chargé"
    assert said == [
        "rejetée (nom « AB » : trop court, 3 caractères au moins)",
        f"rejetée (nom « {'Maison ' * 25} » : trop long, 150 caractères au plus)",
        "rejetée (nom « 12 » : texte attendu)",
        "rejetée (date_maj « 12/03/2025 » : date valide attendue, au format AAAA-MM-JJ)",
        "rejetée (date_maj « 1999-01-01 » : La date de dernière modification doit être au 21e siècle.)",
        f"{ignored} (siret « 1234567890123a » : 14 chiffres attendus)",
        f"{ignored} (code_postal « 5000A » : 5 chiffres attendus)",
        f"{ignored} (code_insee « 05-01 » : 5 chiffres attendus, ou 2A/2B et 3 chiffres pour la Corse)",
        f"{ignored} (latitude « quarante-quatre » : nombre attendu)",
        f"{ignored} (courriel « accueil@mairie » : adresse e-mail invalide)",
        f"{ignored} (site_web « ftp://mairie.fr » : adresse web attendue, commençant par https:// ou http://)",
        f"{ignored} (reseaux_porteurs « caf » : liste de valeurs attendue)",
        f"{ignored} (nombre_semaines « 0 » : 1 au moins)",
        f"{ignored} (nombre_semaines « 1.5 » : nombre entier attendu)",
        f"{ignored} (publics : 1 valeur au moins)",
    ]


def test_a_date_the_package_accepts_is_read_as_it_reads_it(base_iri: str, tmp_path: Path) -> None:
    """The package reads a midnight datetime or a timestamp as a date: the import stopped on it with a
    Python error (it was read again as an ISO date), losing the whole file. A number that is not a
    timestamp at midnight (20250101) is refused saying the format."""
    structure = fixture_records("structures.json")[0]
    service = fixture_records("services.jsonl")[0] | {"structure_id": f"{structure['id']}-a"}
    dates = {"a": "2025-01-01T00:00:00", "b": 1735689600, "c": 20250101}
    records = [structure | {"id": f"{structure['id']}-{k}", "date_maj": d} for k, d in dates.items()]
    (tmp_path / "s.json").write_text(json.dumps(records), encoding="utf-8")
    (tmp_path / "v.json").write_text(
        json.dumps([service | {"date_maj": "2025-01-02T00:00:00"}]), encoding="utf-8"
    )
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store)
    assert [line for line in result.report if " ligne " in line] == [
        "s.json ligne 3 : rejetée (date_maj « 20250101 » : date valide attendue, au format AAAA-MM-JJ)"
    ]
    write(store, result)
    xsd_date = "http://www.w3.org/2001/XMLSchema#date"
    rows = store.select(
        f"SELECT ?d WHERE {{ ?s <{DCTERMS}modified> ?d FILTER(DATATYPE(?d) = <{xsd_date}>) }}"
    )
    assert sorted(r["d"].value for r in rows) == ["2025-01-01", "2025-01-01", "2025-01-02"]


def test_a_territory_code_is_refused_once_saying_every_kind_it_may_be(base_iri: str, tmp_path: Path) -> None:
    """zone_eligibilite takes a commune's, a département's, an EPCI's or a country's code: the package
    refuses a wrong one once per kind, and the first reason (« trop court, 5 caractères au moins » for
    « 5 ») was said, false for a département. One line each, saying what a code may be. A code of the
    right shape that names no territory (« ABCDE », which the package takes for a commune's) was reported
    without its field or record, then published as the text « ABCDE » among the service's territories;
    « XY » and an unknown SIREN as territories that do not exist. Each is reported and left out."""
    structure = fixture_records("structures.json")[0]
    service = fixture_records("services.jsonl")[0] | {"structure_id": structure["id"]}
    codes = [["5"], ["0500"], ["ABCDE", "05"], ["XY"], ["123456789", "france"]]
    services = [service | {"id": f"{service['id']}-{i}", "zone_eligibilite": c} for i, c in enumerate(codes)]
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    (tmp_path / "v.json").write_text(json.dumps(services), encoding="utf-8")
    store = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(tmp_path / "s.json", tmp_path / "v.json", store.minter, store)
    kinds = (
        "code de territoire attendu : de commune (5 chiffres, ou 2A/2B et 3 chiffres), de département "
        "(2 ou 3 chiffres, ou 2A/2B), d'EPCI (9 chiffres), de pays (99100 pour la France) ou « france »"
    )
    svc = service["id"]
    assert [line for line in result.report if line.startswith("v.json")] == [
        f"v.json ligne 1 : valeur ignorée, le reste est chargé (zone_eligibilite « 5 » : {kinds})",
        f"v.json ligne 2 : valeur ignorée, le reste est chargé (zone_eligibilite « 0500 » : {kinds})",
        f"v.json ligne 3 : zone_eligibilite du service « {svc}-2 » : code commune « ABCDE » introuvable "
        "dans le référentiel",
        f"v.json ligne 4 : zone_eligibilite du service « {svc}-3 » : code « XY » introuvable dans le "
        "référentiel",
        f"v.json ligne 5 : zone_eligibilite du service « {svc}-4 » : code « 123456789 » introuvable dans le "
        "référentiel",
    ]
    write(store, result)
    rows = store.select("SELECT ?a WHERE { ?s <http://schema.org/areaServed> ?a }")
    assert sorted(r["a"].value for r in rows) == ["france", base_iri + "id/departement/05"]


def test_an_unknown_code_insee_is_reported_naming_its_field_and_structure(
    base_iri: str, tmp_path: Path
) -> None:
    """As an unknown zone_eligibilite code is: the line named neither the field nor the structure, which a
    source's team then looked for by line number. The place still loads, with no commune."""
    structure = fixture_records("structures.json")[0] | {"code_insee": "05999"}
    (tmp_path / "s.json").write_text(json.dumps([structure]), encoding="utf-8")
    store = OxigraphStore(base_iri)
    result = data_inclusion.build(tmp_path / "s.json", None, store.minter, store)
    assert [line for line in result.report if " ligne " in line] == [
        f"s.json ligne 1 : code_insee de la structure « {structure['id']} » : code commune « 05999 » "
        "introuvable dans le référentiel"
    ]
    write(store, result)
    assert len(store.select("SELECT ?s WHERE { ?s a <http://schema.org/Place> }")) == 1
    assert not store.ask(f"ASK {{ ?s <{DCTERMS}spatial> ?c }}")


def test_a_commune_name_that_is_not_its_code_s_is_reported(base_iri: str, tmp_path: Path) -> None:
    """« Gap » with Abriès-Ristolas' code: the place goes to the code's commune, and the report says so (and
    counts it in its summary line); a name spelt otherwise, a delegated commune under its code and a merged
    commune's former code do not."""
    base = fixture_records("structures.json")[0]
    communes = [
        ("Gap", "05001"),
        ("BRIANCON", "05023"),
        ("St Bonnet en Champsaur", "05132"),
        ("Argentiere la Bessee", "05006"),
        ("Ribiers", "05118"),  # delegated commune of Val Buëch-Méouge, same code
        ("Agnières-en-Dévoluy", "05002"),  # merged into Dévoluy
    ]
    records = [
        base
        | {"id": f"dora--lieu-{i}", "commune": name, "code_insee": code, "latitude": None, "longitude": None}
        for i, (name, code) in enumerate(communes)
    ]
    (tmp_path / "s.json").write_text(json.dumps(records), encoding="utf-8")
    store = OxigraphStore(base_iri)
    result = data_inclusion.build(tmp_path / "s.json", None, store.minter, store)
    assert [line for line in result.report if "code_insee" in line] == [
        "s.json ligne 1 : la commune « Gap » n'est pas celle du code_insee 05001 (Abriès-Ristolas) : "
        "lieu rattaché à Abriès-Ristolas, à vérifier"
    ]
    assert "1 communes à vérifier" in result.report[0], result.report[0]
    write(store, result)
    gap = store.minter.thing("lieu", "dora-lieu-0")
    assert store.ask(f"ASK {{ <{gap}> <{DCTERMS}spatial> <{store.minter.thing('commune', '05001')}> }}")


def test_csv_exports_do_not_run_formulas_and_read_back(imported, base_iri: str, tmp_path: Path) -> None:
    """A text a spreadsheet would run (OWASP "CSV injection") is written behind a ' as in every CSV made for
    spreadsheets (graph.formats.spreadsheet_cells), a signed number as it is; the import reads it back."""
    store, _ = imported
    exported = di.export(store)
    formula, bullets = '=HYPERLINK("http://evil.example/","Cliquez")', "- sur place\n- par téléphone"
    exported.services[0] |= {
        "description": formula,
        "conditions_acces": bullets,
        "telephone": "+33 4 70 00 10 20",
    }
    di.write(exported, tmp_path)
    with (tmp_path / "services.csv").open(encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["id"] == exported.services[0]["id"])
    assert (row["description"], row["conditions_acces"]) == ("'" + formula, "'" + bullets)
    assert row["telephone"] == "+33 4 70 00 10 20" and row["longitude"].startswith(("-", "5", "6", "7"))
    again = with_vocabularies(OxigraphStore(base_iri))
    write(
        again,
        data_inclusion.build(tmp_path / "structures.csv", tmp_path / "services.csv", again.minter, again),
    )
    back = next(r for r in di.export(again).services if r["id"] == exported.services[0]["id"])
    assert (back["description"], back["conditions_acces"]) == (formula, bullets)


def test_an_unreadable_number_costs_its_value_only(imported, base_iri: str, tmp_path: Path) -> None:
    """A CSV cell the package cannot read as a number (a digit-like '²') costs that value, not its service
    nor the file; a plain '12' is read."""
    store, _ = imported
    di.write(di.export(store), tmp_path)
    with (tmp_path / "services.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows[0]["nombre_semaines"], rows[1]["nombre_semaines"] = "²", "12"
    with (tmp_path / "services.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    again = with_vocabularies(OxigraphStore(base_iri))
    result = data_inclusion.build(tmp_path / "structures.csv", tmp_path / "services.csv", again.minter, again)
    assert f"{len(rows)} services lus, {len(rows)} chargés, 0 rejetés" in result.report[0]
    assert any(
        "services.csv ligne 2 : valeur ignorée, le reste est chargé (nombre_semaines « ² »" in line
        for line in result.report
    )


def test_downloads_and_sparql_over_http(imported, tmp_path: Path, monkeypatch) -> None:
    """The exchange files at /telechargements/data-inclusion/…; the named contact in neither them nor
    the public SPARQL endpoint."""
    store, _ = imported
    monkeypatch.setenv("COMMUNS_DUMPS_DIR", str(tmp_path / "dumps"))
    with serve(store, tmp_path) as url:
        manifest = wait_for_downloads(url)
        assert manifest["data_inclusion"]["structures"] == 22 and manifest["data_inclusion"]["services"] == 41
        structures = httpx.get(url + "/telechargements/data-inclusion/structures.json")
        assert structures.status_code == 200 and structures.headers["content-type"] == "application/json"
        assert_valid(structures.json(), v1.Structure)
        services = httpx.get(url + "/telechargements/data-inclusion/services.csv")
        assert services.status_code == 200 and services.text.startswith("source,structure_id,id,nom")
        assert NAMED not in services.text and "maryse.vautrin" not in services.text
        assert httpx.get(url + "/telechargements/data-inclusion/inconnu.json").status_code == 404
        assert "data·inclusion" in httpx.get(url + "/telechargements").text
        answer = httpx.get(
            url + "/sparql",
            params={"query": f'SELECT ?s WHERE {{ ?s ?p "{NAMED}" }}'},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert answer.status_code == 200 and answer.json()["results"]["bindings"] == []


def test_a_place_the_schema_refuses_is_left_out_and_counted(base_iri: str) -> None:
    store = OxigraphStore(base_iri)
    store.update(
        f"""INSERT DATA {{ GRAPH <{base_iri}graph/essai> {{
          <{base_iri}id/lieu/ab> a <{CS}ServicePlace> ; <http://www.w3.org/2000/01/rdf-schema#label> "AB" ;
            <http://schema.org/email> "pas-un-courriel" .
          <{base_iri}id/lieu/mairie-de-bessans> a <{CS}ServicePlace> ;
            <http://www.w3.org/2000/01/rdf-schema#label> "Mairie de Bessans" ;
            <http://schema.org/email> "pas-un-courriel" }} }}"""
    )
    exported = di.export(store)
    assert [r["id"] for r in exported.structures] == ["communs-services--mairie-de-bessans"]
    assert exported.structures[0]["courriel"] is None and len(exported.dropped) == 2
    assert len(exported.errors) == 1 and exported.errors[0].startswith("communs-services--ab : nom")


def test_our_export_imported_next_to_its_places_keeps_its_identifiers(base_iri: str, tmp_path: Path) -> None:
    """A list's own identifier (the France Services id_fs) never replaces ours once the export is imported
    back into the store that holds the list."""
    store = with_vocabularies(OxigraphStore(base_iri))
    store.update(
        f"""INSERT DATA {{ GRAPH <{base_iri}graph/france-services> {{
          <{base_iri}id/lieu/france-services-bessans> a <{CS}ServicePlace> ;
            <http://www.w3.org/2000/01/rdf-schema#label> "France services Bessans" ;
            <http://schema.org/identifier> "123" ;
            <{CS}network> <{base_iri}id/reseau/france-services> }} }}"""
    )
    first = di.export(store)
    di.write(first, tmp_path)
    write(
        store,
        data_inclusion.build(tmp_path / "structures.json", tmp_path / "services.json", store.minter, store),
    )
    again = di.export(store)
    assert [r["id"] for r in again.structures] == ["communs-services--france-services-bessans"]
    assert again.structures == first.structures and again.services == first.services
    assert len(again.services) == 9
