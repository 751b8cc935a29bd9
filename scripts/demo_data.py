# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The data of the demo: its customers, segments and how they pay, and the
plan of the invoices to create with what happens to them."""
import datetime as dt
from decimal import Decimal

CENT = Decimal('0.01')

# name, street, postal code, city, country, language, customer type,
# segment, email
CUSTOMERS = [
    # The customers of the reminders shown today, one per level
    ("Boulangerie Martin", "4 place Bellecour", "69002", "Lyon",
        'FR', 'fr', 'professional', 'standard',
        "compta@boulangerie-martin.fr"),
    ("Garage des Deux Rives", "27 quai de la Fosse", "44000", "Nantes",
        'FR', 'fr', 'professional', 'standard', None),
    ("Librairie Vauban", "9 rue Nationale", "59000", "Lille",
        'FR', 'fr', 'professional', 'standard', "contact@librairie-vauban.fr"),
    ("Hôtel du Vieux Port", "31 quai du Port", "13002", "Marseille",
        'FR', 'fr', 'professional', 'standard', None),
    ("Menuiserie Lefèvre", "12 rue du Moulin", "35000", "Rennes",
        'FR', 'fr', 'professional', 'standard', None),
    ("Café de la Gare", "1 avenue de la Gare", "67000", "Strasbourg",
        'FR', 'fr', 'professional', 'standard', None),
    ("Thames Design Ltd", "14 Shoreditch High Street", "E1 6JE", "London",
        'GB', 'en', 'professional', 'standard',
        "accounts@thames-design.co.uk"),
    # Standard segment
    ("Pharmacie du Marché", "8 place des Capucins", "33800", "Bordeaux",
        'FR', 'fr', 'professional', 'standard', None),
    ("Cabinet Roussel Architectes", "22 allées Jean-Jaurès", "31000",
        "Toulouse", 'FR', 'fr', 'professional', 'standard',
        "admin@roussel-architectes.fr"),
    ("Imprimerie Gutenberg", "5 rue des Orfèvres", "67000", "Strasbourg",
        'FR', 'fr', 'professional', 'standard', None),
    ("Fleurs & Jardins Moreau", "40 boulevard Gambetta", "06000", "Nice",
        'FR', 'fr', 'professional', 'standard', None),
    ("Restaurant Le Bouchon Lyonnais", "17 rue Mercière", "69002", "Lyon",
        'FR', 'fr', 'professional', 'standard', None),
    ("Auto-École Bertrand", "3 rue de la Liberté", "21000", "Dijon",
        'FR', 'fr', 'professional', 'standard', None),
    ("Salon Élégance Coiffure", "11 rue de la Loge", "34000", "Montpellier",
        'FR', 'fr', 'professional', 'standard', None),
    ("Brasserie du Capitole", "2 place du Capitole", "31000", "Toulouse",
        'FR', 'fr', 'professional', 'standard', None),
    ("Maison Garnier Traiteur", "26 rue Colbert", "37000", "Tours",
        'FR', 'fr', 'professional', 'standard', None),
    ("Julien Petit", "7 rue Félix-Poulat", "38000", "Grenoble",
        'FR', 'fr', 'consumer', 'standard', "julien.petit@example.fr"),
    ("Sophie Laurent", "15 rue Lenepveu", "49100", "Angers",
        'FR', 'fr', 'consumer', 'standard', None),
    ("Famille Girard", "48 rue de Vesle", "51100", "Reims",
        'FR', 'fr', 'consumer', 'standard', None),
    ("Camille Fontaine", "9 rue Écuyère", "14000", "Caen",
        'FR', 'fr', 'consumer', 'standard', None),
    # Good payers: a softer procedure
    ("Mairie de Saint-Avertin", "Place de la Mairie", "37550",
        "Saint-Avertin", 'FR', 'fr', 'professional', 'good', None),
    ("Clinique Vétérinaire des Lilas", "60 rue des Lilas", "75019", "Paris",
        'FR', 'fr', 'professional', 'good', None),
    ("Agence Horizon Immobilier", "12 cours de l'Intendance", "33000",
        "Bordeaux", 'FR', 'fr', 'professional', 'good', None),
    ("Lycée Jean-Moulin", "1 boulevard Jean-Moulin", "49000", "Angers",
        'FR', 'fr', 'professional', 'good', None),
    ("Domaine Viticole Chevalier", "Route des Grands Crus", "21200",
        "Beaune", 'FR', 'fr', 'professional', 'good', None),
    ("Élodie Marchand", "33 rue des Martyrs", "75009", "Paris",
        'FR', 'fr', 'consumer', 'good', None),
    ("Brussels Office Partners", "Avenue Louise 120", "1050", "Bruxelles",
        'BE', 'fr', 'professional', 'good', None),
    # Chronic late payers: a tighter procedure
    ("Bâti-Rénov SARL", "14 rue Gabriel-Péri", "93200", "Saint-Denis",
        'FR', 'fr', 'professional', 'late', None),
    ("Pizzeria Da Marco", "5 rue Droite", "06300", "Nice",
        'FR', 'fr', 'professional', 'late', None),
    ("Bar Tabac Le Balto", "21 quai de Southampton", "76600", "Le Havre",
        'FR', 'fr', 'professional', 'late', None),
    ("Transports Lemoine", "Zone industrielle du Madrillet", "76800",
        "Saint-Étienne-du-Rouvray", 'FR', 'fr', 'professional', 'late',
        None),
    ("Ateliers Durand", "8 avenue Baudin", "87000", "Limoges",
        'FR', 'fr', 'professional', 'late', None),
    ("Kevin Robert", "19 rue Serpenoise", "57000", "Metz",
        'FR', 'fr', 'consumer', 'late', None),
    ("Nadia Benali", "70 rue de Rome", "13006", "Marseille",
        'FR', 'fr', 'consumer', 'late', None),
    ("Events & Co", "6 quai Saint-Antoine", "69002", "Lyon",
        'FR', 'fr', 'professional', 'late', None),
    # Strategic accounts: large amounts, phone first
    ("Groupe Hôtelier Riviera", "58 boulevard de la Croisette", "06400",
        "Cannes", 'FR', 'fr', 'professional', 'strategic', None),
    ("Galeries Parisiennes", "40 boulevard Haussmann", "75009", "Paris",
        'FR', 'fr', 'professional', 'strategic', None),
    ("Centre Hospitalier de Vannes",
        "20 boulevard Général-Maurice-Guillaudot",
        "56000", "Vannes", 'FR', 'fr', 'professional', 'strategic', None),
    ("Nordic Retail AB", "Drottninggatan 53", "111 21", "Stockholm",
        'SE', 'en', 'professional', 'strategic', None),
    ("Boulangeries Paul & Fils", "2 rue du Faubourg-Saint-Denis", "75010",
        "Paris", 'FR', 'fr', 'professional', 'strategic', None),
    # Customers abroad, written to in their language with the late-payment
    # rules of their country
    ("Müller Maschinenbau GmbH", "Friedrichstraße 120", "10117", "Berlin",
        'DE', 'de', 'professional', 'standard', None),
    ("Bouwbedrijf Peeters NV", "Meir 45", "2000", "Antwerpen",
        'BE', 'nl', 'professional', 'standard', None),
    ("Distribuciones García S.L.", "Calle de Alcalá 85", "28009", "Madrid",
        'ES', 'es', 'professional', 'standard', None),
    ]
SHOWCASE = 7  # the first customers, those of the reminders shown today
# The languages of the letters besides French and English
LETTER_LANGUAGES = ['de', 'es', 'nl']

# The litigation: the customers (indexes in CUSTOMERS, among the 14 of the
# small demo of the browser tests) of a file handed over to a bailiff and
# of a receivership, with their legal form and registration as the court
# documents print them
LITIGATION_CUSTOMERS = {
    'bailiff': (10, "SARL", "RCS Nice B 487 512 303"),
    'receivership': (11, "SAS", "RCS Lyon B 519 844 021"),
    }
# Their invoices: (case, days from today to the due date, amount excl.
# VAT, what), never paid
LITIGATION_INVOICES = [
    ('bailiff', -110, '2870', "Agencement de la boutique (comptoir et "
        "présentoirs)"),
    ('bailiff', -96, '760', "Étagères en chêne pour la réserve"),
    ('receivership', -85, '3460', "Banquettes et habillage bois de la salle"),
    ('receivership', -35, '1280', "Contrat d'entretien trimestriel"),
    ]
# The days before today: the file handed over to the bailiff (the formal
# notices of its invoices expired); the judgment of opening of the
# receivership, its publication in the BODACC and the day the company
# records it (the claim then to declare within two months of the
# publication: listed among the claims to declare today)
HAND_OVER_DAYS = 21
JUDGMENT_DAYS = 52
PUBLICATION_DAYS = 45
RECORDED_DAYS = 44
# name, street, postal code, city, kind of recovery agent (None: the
# mandataire judiciaire)
AGENTS = {
    'bailiff': ("SCP Giordano & Baudoin, commissaires de justice",
        "12 avenue Jean-Médecin", "06000", "Nice", 'bailiff'),
    'mandataire': ("Maître Hélène Ravier (SELARL Ravier Mandataires)",
        "45 rue de la République", "69002", "Lyon", None),
    }
# What the company knows of them
LITIGATION_DETAILS = {
    'reference': "Dossier 2026/0147",
    'fees': "12 % HT des sommes recouvrées",
    'court_file_court': "Tribunal de commerce de Nice",
    'proceeding_court': "Tribunal des activités économiques de Lyon",
    'case_number': "%dJ00412",
    'proceeding_note': "Avertissement du mandataire reçu : déclarer la "
    "créance avant la date limite.",
    }

COUNTRIES = {
    'FR': "France", 'GB': "United Kingdom", 'BE': "Belgium",
    'SE': "Sweden", 'DE': "Germany", 'ES': "Spain",
    }

# code: name, description, procedure (None: the shipped one) as a list of
# (days, delay, channel, payment delay) by level of the shipped procedure
# (None: no such level)
# code: the shipped segment (XML id) used when the module has it, else a
# segment created with its name, description and a copy of the shipped
# procedure as a list of (days, delay, channel, payment delay) by level of
# the shipped procedure (None: no such level)
SEGMENTS = {
    'standard': ('segment_standard', None, None, None),
    'good': ('segment_good_payer', "Bons payeurs",
        "Customers who pay on time: reminded later and more softly.",
        ("Procédure souple (bons payeurs)", [
                None,
                (15, 15, 'email', 10),
                (30, 15, 'letter', 8),
                (45, 15, 'letter', 8),
                (60, 15, 'registered_letter', 8),
                ])),
    'late': ('segment_chronic', "Retardataires chroniques",
        "Customers often late: reminded earlier and closer together.",
        ("Procédure renforcée (retardataires)", [
                (-7, 0, 'email', 0),
                (3, 7, 'letter', 5),
                (15, 10, 'letter', 5),
                (25, 8, 'letter', 3),
                (40, 10, 'registered_letter', 8),
                ])),
    'strategic': ('segment_strategic', "Comptes stratégiques",
        "Key accounts: a phone call first, letters later.",
        ("Procédure comptes stratégiques", [
                None,
                (10, 10, 'phone', 8),
                (30, 15, 'letter', 8),
                (50, 15, 'letter', 8),
                (75, 20, 'registered_letter', 8),
                ])),
    }

# How each segment pays: (weight, outcome, days from the due date)
BEHAVIOURS = {
    'standard': [
        (40, 'pay', (-8, 4)), (20, 'pay', (8, 18)), (10, 'pay', (22, 32)),
        (5, 'pay', (36, 55)), (6, 'partial', (-2, 20)),
        (4, 'credit_partial', (-5, 10)), (3, 'refund', (-10, 5)),
        (4, 'dispute', (5, 25)), (8, 'never', None),
        ],
    'good': [
        (75, 'pay', (-15, 2)), (12, 'pay', (3, 14)), (5, 'partial', (-5, 5)),
        (3, 'credit_partial', (-5, 5)), (2, 'refund', (-10, 0)),
        (3, 'never', None),
        ],
    'late': [
        (10, 'pay', (-3, 5)), (20, 'pay', (5, 20)), (20, 'pay', (20, 45)),
        (10, 'pay', (45, 70)), (12, 'partial', (10, 40)),
        (3, 'credit_partial', (0, 20)), (7, 'dispute', (10, 40)),
        (18, 'never', None),
        ],
    'strategic': [
        (30, 'pay', (0, 15)), (30, 'pay', (15, 40)), (15, 'partial', (5, 30)),
        (5, 'credit_partial', (0, 20)), (5, 'dispute', (15, 35)),
        (15, 'never', None),
        ],
    }
AMOUNTS = {
    'professional': (300, 6000), 'consumer': (150, 2500),
    'strategic': (3000, 24000),
    }
WORKS = [
    "Agencement de boutique", "Contrat d'entretien trimestriel",
    "Réparation de menuiserie extérieure", "Fourniture et pose de comptoir",
    "Rénovation de façade en bois", "Pose de parquet chêne massif",
    "Mobilier sur mesure", "Intervention d'urgence (volet roulant)",
    "Remplacement de vitrine", "Aménagement de bureaux",
    "Dressing sur mesure", "Escalier en hêtre", "Terrasse en pin traité",
    "Portes intérieures (fourniture et pose)", "Bibliothèque murale",
    ]
DISPUTES = [
    "Litige : finitions contestées, expertise contradictoire prévue",
    "Contestation du montant : devis signé inférieur",
    "Avoir en discussion avec le client",
    "Livraison incomplète signalée, reprise prévue",
    "Procédure collective : créance déclarée au mandataire",
    ]


def plan(customers, today, start, count, rng):
    """Return the invoices to create as a list of dict: the reminders
    shown today, one per level of the shipped procedure, then count
    invoices drawn at random with rng between start and today

    customers: (party id, customer type, segment) in the order of
    CUSTOMERS"""
    invoices = showcase_invoices(customers, today)
    invoices.extend(litigation_invoices(customers, today))
    # The customers of the showcase have only its invoices
    shown = set(showcase_customers(len(customers)))
    others = [c for i, c in enumerate(customers) if i not in shown]
    others = others or customers
    for _ in range(count):
        invoices.append(random_invoice(rng, others, start, today))
    return invoices


def showcase_customers(count):
    """The indexes in CUSTOMERS of the customers of the reminders shown
    today among the first count: the first ones, and those abroad"""
    return list(range(min(SHOWCASE, count))) + [
        i for i, row in enumerate(CUSTOMERS[:count])
        if row[5] in LETTER_LANGUAGES]


def showcase_invoices(customers, today):
    """The invoices of the reminders shown today, one per level, and of the
    customers abroad"""
    day = dt.timedelta(days=1)
    ids = [c[0] for c in customers]
    # (customer, days from today to the due date, amount excl. VAT,
    # what, events as (days from today, outcome, argument))
    showcase = [
        (0, 5, '1200', "Entretien annuel du four", []),
        (1, -7, '860', "Réparation de l'enseigne", []),
        (6, -7, '2400', "Shop fitting, London showroom", []),
        (2, -21, '3150', "Agencement des rayonnages",
            [(-10, 'pay', Decimal('1000'))]),
        (3, -35, '5400', "Rénovation du comptoir", []),
        (4, -50, '1980', "Fourniture de panneaux chêne", []),
        (5, -20, '640', "Réparation de terrasse", [(-9, 'dispute',
                    "Litige : terrasse à reprendre, intervention prévue")]),
        (0, -60, '420', "Pièces détachées", [(-45, 'pay', None)]),
        ]
    # Abroad: a formal notice, a third and a second reminder
    abroad = [i for i in showcase_customers(len(customers)) if i >= SHOWCASE]
    for customer, due_in, amount, what in zip(abroad, [-50, -35, -21],
            ['4800', '2650', '1870'], ["Ladeneinrichtung Filiale Berlin",
                "Winkelinrichting Antwerpen", "Mobiliario de tienda Madrid"]):
        showcase.append((customer, due_in, amount, what, []))
    invoices = []
    for customer, due_in, amount, what, events in showcase:
        invoices.append({
                'party': ids[customer],
                'date': today + (due_in - 30) * day,
                'term': '30',
                'amount': Decimal(amount),
                'description': what,
                'events': [(today + d * day, o, a) for d, o, a in events],
                })
    return invoices


def litigation_invoices(customers, today):
    """The invoices of the litigation, marked with their case: those of
    the customers created"""
    day = dt.timedelta(days=1)
    invoices = []
    for case, due_in, amount, what in LITIGATION_INVOICES:
        index = LITIGATION_CUSTOMERS[case][0]
        if index >= len(customers):
            continue
        invoices.append({
                'party': customers[index][0],
                'date': today + (due_in - 30) * day,
                'term': '30',
                'amount': Decimal(amount),
                'description': what,
                'events': [],
                'case': case,
                })
    return invoices


def litigation_start(today):
    "The date of the first invoice of the litigation"
    return today + dt.timedelta(
        days=min(d for _, d, _, _ in LITIGATION_INVOICES) - 30)


def random_invoice(rng, customers, start, today):
    """An invoice of one of customers dated between start and today, and
    what happens to it as its customer's segment behaves"""
    day = dt.timedelta(days=1)
    span = (today - start).days
    party, customer_type, segment = rng.choice(customers)
    date = start + rng.randrange(span) * day
    kind = 'strategic' if segment == 'strategic' else customer_type
    amount = Decimal(rng.randrange(*AMOUNTS[kind]))
    if kind != 'consumer':
        amount = amount.quantize(Decimal('10'))
    term = ('2x' if segment == 'strategic' and rng.random() < .4
        else '45' if customer_type == 'professional'
        and rng.random() < .25 else '30')
    weights, outcomes = zip(*[(w, (o, r))
            for w, o, r in BEHAVIOURS[segment]])
    outcome, offsets = rng.choices(outcomes, weights)[0]
    due = date + dt.timedelta(days=60 if term == '2x' else 30)
    events = []
    if offsets:
        when = due + rng.randint(*offsets) * day
        when = max(when, date + day)
        events = draw_events(rng, outcome, when)
    lines = [(rng.choice(WORKS), amount)]
    if rng.random() < .3:
        lines.append(("Déplacement et petites fournitures",
                Decimal(rng.randrange(40, 300))))
    return {
        'party': party,
        'date': date,
        'term': term,
        'lines': lines,
        'events': events,
        }


def draw_events(rng, outcome, when):
    "The events of outcome from the date when: (date, outcome, argument)"
    day = dt.timedelta(days=1)
    events = []
    if outcome == 'pay':
        events.append((when, 'pay', None))
    elif outcome == 'partial':
        ratio = Decimal(rng.choice([30, 40, 50, 60])) / 100
        events.append((when, 'pay', ratio))
        if rng.random() < .5:
            events.append(
                (when + rng.randint(15, 45) * day, 'pay', None))
    elif outcome == 'credit_partial':
        ratio = Decimal(rng.choice([10, 15, 20])) / 100
        events.append((when, 'credit', ratio))
        if rng.random() < .7:
            events.append(
                (when + rng.randint(2, 20) * day, 'pay', None))
    elif outcome == 'refund':
        events.append((when, 'refund', None))
    elif outcome == 'dispute':
        events.append((when, 'dispute', rng.choice(DISPUTES)))
    return events
