"""Names in French text → territories and organisations: aliases, homonyms, names inside names, citations."""

from __future__ import annotations

import pytest

from loaders.mentions import Resolver, resolver


@pytest.fixture(scope="module")
def res() -> Resolver:
    return resolver()


def codes(res: Resolver, text: str, kind: str | None = None) -> set[tuple[str, str]]:
    return {(p.kind, p.code) for p in res.find(text).places if kind is None or p.kind == kind}


def test_homonym_communes_follow_the_context(res):
    # Montfort and Les Mées exist in the 04 and elsewhere (64, 72): the neighbours decide.
    text = "Les communes de Malijai, Peyruis, Les Mées et Montfort se sont réunies."
    assert {("commune", "04127"), ("commune", "04116")} <= codes(res, text)
    assert ("commune", "64403") not in codes(res, text)
    # Poligny: 05, 10, 39, 77. The EPCI named in the same text puts it in the Jura.
    jura = "La nouvelle intercommunalité Coeur du Jura, fusion des ex-CC de Poligny et Arbois."
    assert ("commune", "39434") in codes(res, jura)
    assert ("commune", "05104") not in codes(res, jura)
    # With a département named by number.
    assert ("commune", "05087") in codes(res, "Journée au château de Montmaur (05).")
    assert ("commune", "11252") in codes(res, "Une réunion à Montmaur (11).")


def test_homonym_without_context_prefers_the_association_area_or_stays_unresolved(res):
    assert codes(res, "Une rencontre à Poligny.", "commune") == {("commune", "05104")}
    found = res.find("Une rencontre à Saint-Martin.")  # dozens of homonyms, none telling
    assert not found.places
    assert any("Saint-Martin" in name for name, _ in found.unresolved)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Diagnostic services publics - CCVUSP (04)", ("epci", "200072304")),
        ("la Maison France Services de Barcelonette", ("commune", "04019")),
        ("Communauté de communes Alpes Provence Verdon", ("epci", "200068625")),
        ("le Pays Asses-Var-Vaïre-Verdon (04)", ("epci", "200068625")),
        ("La communauté d'agglomération du Grand Narbonne", ("epci", "241100593")),
        ("La communauté de communes du Pays Mornantais", ("epci", "246900740")),
        ("La communauté d'agglomération de l'Ouest Rhodanien", ("epci", "200040566")),
        ("du Coeur de Jura", ("epci", "200071595")),
        ("Le territoire de Val Guiers", ("epci", "247300528")),
        ("CC du Pays de Serre-Ponçon", ("epci", "200067742")),
        ("en Savoie", ("departement", "73")),
        ("dans les Hautes Alpes", ("departement", "05")),
        ("formateurs des territoires alpins (04/05/06)", ("departement", "06")),
        ("Saisonniers agricoles Sud 05", ("departement", "05")),
        ("la Région Sud", ("region", "93")),
        ("la région PACA", ("region", "93")),
        ("Provence-Alpes-Côte d'Azur", ("region", "93")),
        ("Région AURA : 43 000 €", ("region", "84")),
        ("en Occitanie", ("region", "76")),
        ("les espaces saisonniers de Tarentaise", ("zone", "tarentaise")),
        ("le mardi 6 juin en Oisans", ("zone", "oisans")),
    ],
)
def test_aliases(res, text, expected):
    assert expected in codes(res, text)


def test_names_inside_other_names_are_not_linked(res):
    assert codes(res, "le programme Leader du GAL Gap Tallard Durance") == set()
    epci_only = codes(res, "Communauté de communes du Pays de Forcalquier Montagne de Lure")
    assert epci_only == {("epci", "240400440")}
    assert codes(res, "avec Aix-Marseille Université et la Vallée d'Aoste") == set()
    # "Jura" inside the EPCI name is not the département.
    assert ("departement", "39") not in codes(res, "La nouvelle intercommunalité Coeur du Jura")


def test_citations_are_not_linked(res):
    assert codes(res, "Une vidéo réalisée par le Département de la Gironde.") == set()
    assert codes(res, "un besoin de proximité (Forum Vies Mobile, 2021).") == set()
    assert codes(res, "Source : étude INSEE Grenoble 2019") == set()


def test_case_matters_for_acronyms(res):
    assert codes(res, "En 2017, l'ADRETS aura l'opportunité de déployer des actions.") == set()
    assert codes(res, "Vers une animation du réseau") == set()


def test_places_absent_from_the_alias_table_resolve_from_the_reference(res):
    text = (
        "Une action avec la Communauté de communes Champsaur-Valgaudemar, la ville de Briançon, "
        "Saint-Jean-de-Maurienne et la Drôme."
    )
    assert {
        ("epci", "200068096"),
        ("commune", "05023"),
        ("commune", "73248"),
        ("departement", "26"),
    } <= codes(res, text)


def test_unknown_intercommunality_is_reported(res):
    found = res.find("Avec la Communauté de communes du Haut Pays Imaginaire et la CC Val Guiers.", 12)
    assert ("Communauté de communes du Haut Pays Imaginaire", 12) in found.unresolved
    assert ("epci", "247300528") in {(p.kind, p.code) for p in found.places}


def test_informal_areas_cover_official_units(res):
    tarentaise = res.zones["tarentaise"]
    assert set(tarentaise.covers) == {("epci", "247300254"), ("epci", "247300817"), ("epci", "200023299")}
    assert tarentaise.part_of == ("73",)
    # Queyras covered nothing: Aiguilles (seat of France services Queyras) and Abriès-Ristolas, today's code
    assert {("commune", "05003"), ("commune", "05001")} <= set(res.zones["queyras"].covers)
    current = {c.code: c for (k, _), c in res.gz.communes.items() if k == "commune-actuelle"}
    for zone in res.zones.values():  # every unit a zone covers exists in the reference, today
        communes: set[str] = set()
        for kind, code in zone.covers:
            assert kind in ("epci", "commune"), (zone.slug, kind)
            assert code in (res.gz.epcis if kind == "epci" else current), (zone.slug, code)
            communes |= set(res.gz.epcis[code].members) if kind == "epci" else {code}
        for dep in zone.part_of:
            assert dep in res.gz.departements
        # and lies in the zone's départements: an area part of one (dcterms:isPartOf) rolls up strictly, so
        # a commune it covered beyond it (Claret, 04, of the CA Gap-Tallard-Durance) would count in the 05
        if zone.part_of:
            assert {current[c].departement for c in communes} <= set(zone.part_of), zone.slug


def test_organisations_are_reconciled(res):
    text = (
        "Financé par la Région Sud. Subvention de la Région PACA. Soutien de la Région "
        "Sud-Provence-Alpes-Côte d'Azur. Porté par l'ANCT avec "
        "l'Agence nationale de la cohésion des territoires."
    )
    assert set(res.find(text).orgs) == {"region-sud", "anct"}
    # A région named as a place only is not an organisation taking part.
    assert "region-sud" not in res.find("les points d'accueil de la zone alpine de la Région Sud PACA").orgs
    # "état des lieux" is not the State.
    assert "etat" not in res.find("Présentation de l'État des Lieux 2022").orgs


def test_themes_and_publics(res):
    found = res.find("Agir pour le logement des travailleurs saisonniers et la mobilité des jeunes adultes.")
    assert {"logement", "saisonnalite", "mobilite"} <= found.themes
    assert {"saisonniers", "jeunes-adultes"} <= found.publics


def test_former_communes_and_hyphenated_names(res):
    """Found by the blind second catalogue (tests/annotations/README.md): a delegated commune's name leads
    to its commune, and a fragment of a hyphenated name is no commune ("Pont", "Montvert")."""
    assert codes(res, "trois structures, à Ax-les-Thermes, à Vicdessos et à Auzat", "commune") == {
        ("commune", "09032"),
        ("commune", "09334"),  # Vicdessos, now part of Val-de-Sos
        ("commune", "09030"),
    }
    assert codes(res, "des entretiens, notamment au Pont-de-Montvert.", "commune") == {("commune", "48116")}
    # two names joined by a hyphen are still two names
    assert {("commune", "04018"), ("commune", "04160")} <= codes(
        res, "Le territoire de Banon-Reillane", "commune"
    )


def test_running_text_asks_graph_matching(res):
    """One notion of a name (graph.matching): the text finder keys names as /reconcile does ("Les 2 Alpes",
    "St Véran", a typographic apostrophe) and takes a homonym only when it is certain in the départements
    the text names; in running text an article is a word ("ADRETS" is not Les Adrets, "Pays de Serre" not
    the CC du Pays de la Serre)."""
    assert ("commune", "38253") in codes(res, "Une station : Les 2 Alpes.")
    assert ("commune", "05157") in codes(res, "Une permanence à St Véran (05).")
    assert ("epci", "200040624") in codes(res, "les communes de la CC du Pays d’Apt Lubéron")
    assert codes(res, "L’ADRETS et l'association ADRETS", "commune") == set()
    assert ("epci", "240200469") not in codes(res, "la CC du Pays de Serre-Ponçon")
    assert codes(res, "à Beaufort (73)", "commune") == {("commune", "73034")}
    assert [c.entity.code for c in res.names.exact("Beaufort", ("commune",), ("38", "05")) if c.match] == [
        "38032"
    ]
    # A kind written wrong does not make a unique name uncertain.
    assert res.names.exact("Communauté de communes du Grand Chambéry", ("epci",))[0].match


def test_a_place_named_only_as_a_landmark_is_mentioned_not_the_territory(res):
    """A landmark cue governs the list of names after it; the text's own places stay its territory."""
    seed = (
        "Le territoire de Val Guiers bénéficie de nombreux atouts, de par sa position stratégique entre les "
        "agglomérations de Lyon, Chambéry et Grenoble, et grâce à une attractivité naturelle."
    )
    found = res.find(seed)
    assert {(p.kind, p.code) for p in found.places} == {("epci", "247300528")}
    assert {p.code for p in found.landmarks} == {"69123", "73065", "38185"}
    found = res.find("Un tiers-lieu ouvert à Embrun, à proximité de Gap et non loin de Briançon.")
    assert {p.code for p in found.places} == {"05046"}
    assert {p.code for p in found.landmarks} == {"05061", "05023"}
    found = res.find("Le secteur d'Annot, tourné vers le Vaucluse et les Alpes Maritimes.")
    assert {p.code for p in found.places} == {"04008"} and {p.code for p in found.landmarks} == {"84", "06"}
    # Named as a landmark and as a place of the project: the project's. "Entre" alone is no landmark.
    found = res.find("Une permanence à Gap, près de Briançon. Un atelier à Briançon.")
    assert {p.code for p in found.places} == {"05061", "05023"} and not found.landmarks
    assert {p.code for p in res.find("Une navette entre Gap et Briançon.").places} == {"05061", "05023"}


def test_places_of_a_statistic_or_an_origin_are_mentioned_not_the_territory(res):
    """A statistic's places are its context (the INSEE figures the Tarentaise project quotes); so is where
    something was born. "Un tiers-lieu" states no share."""
    insee = (
        "Les espaces saisonniers de Tarentaise.\nLes deux tiers de l’emploi salarié saisonnier"
        " (soit 12 000 ETP) se concentrent dans les cinq zones d’emploi des Alpes : la Tarentaise,"
        " le Chablais et la Maurienne."
        "\nAinsi, le salaire perçu par les saisonniers en Auvergne-Rhône-Alpes est de 9,9 € en moyenne."
    )
    found = res.find(insee)
    assert {p.code for p in found.places} == {"tarentaise"}
    assert {p.code for p in found.landmarks} == {"chablais", "maurienne", "84"}
    found = res.find("Née à Montpellier grâce à Outils-réseaux, la formation est portée en PACA.")
    assert {p.code for p in found.places} == {"93"} and {p.code for p in found.landmarks} == {"34172"}
    assert codes(res, "La préfiguration d'un tiers-lieu à Embrun.") == {("commune", "05046")}


def test_a_person_name_and_a_name_with_its_article_are_not_other_places(res):
    """A name followed by an email address is a person's wherever the text writes it; "La Plagne" is not
    Plagne (01)."""
    text = "Une permanence de Timothé Digne.\nPrise de note :\nTimothé Digne - tdigne@adrets-asso.fr"
    assert codes(res, text) == set()
    assert codes(res, "Une permanence à Digne (04).", "commune") == {("commune", "04070")}
    assert codes(res, "Exemple du partenariat entre La Plagne et le Puy du Fou.") == set()
    assert codes(res, "Le territoire de La Motte du Caire.") == {("commune", "04134")}
    assert ("commune", "04116") in codes(res, "Les communes de Peyruis, Les Mées et Malijai.")
