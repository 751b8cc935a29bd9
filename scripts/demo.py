#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The demo: a French company chases its late customers.

Creates a SQLite database (OUTPUT/demo.sqlite) with a French company (French
chart of accounts when trytond_account_fr is installed), a bank account,
forty customers in four segments, professionals and consumers, and six months
of invoices, payments, partial payments, credit notes and disputes, with the
daily dunning of the last twelve weeks replayed day by day (the last three
days, only the scheduled task ran: their reminders wait for the accountant).
Then it creates today's reminders, processes one of each level and writes
their letters to OUTPUT/letters (ODT, and PDF when LibreOffice is
installed); the others wait in the list "To Process".

With --serve, it then serves the database with Tryton's web client on
http://localhost:8000 until Ctrl-C (--serve-only serves an existing demo).

Usage: python scripts/demo.py [--output DIR] [--date YYYY-MM-DD]
           [--serve | --serve-only] [--listen HOST:PORT]
"""
import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve as web  # noqa: E402

MODULE = 'account_invoice_dunning'
DATABASE = web.DATABASE
ADMIN_PASSWORD = web.PASSWORD
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
    ]
SHOWCASE = 7  # the first customers, those of the reminders shown today

COUNTRIES = {
    'FR': "France", 'GB': "United Kingdom", 'BE': "Belgium",
    'SE': "Sweden",
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', default='demo-output',
        help="folder of the database and the letters (default: %(default)s)")
    parser.add_argument('--date', type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="the day of the demo run (default: today)")
    parser.add_argument('--serve', action='store_true',
        help="build the demo, then serve it with Tryton's web client "
        "until Ctrl-C")
    parser.add_argument('--serve-only', action='store_true',
        help="serve the demo database built before, without rebuilding it")
    parser.add_argument('--listen', default='localhost:8000',
        help="address of the web client (default: %(default)s)")
    parser.add_argument('--customers', type=int, default=len(CUSTOMERS),
        help="number of customers, at most %d (default: %%(default)s)"
        % len(CUSTOMERS))
    parser.add_argument('--invoices', type=int, default=320,
        help="number of invoices besides those of today's reminders "
        "(default: %(default)s)")
    parser.add_argument('--months', type=int, default=6,
        help="months of history (default: %(default)s)")
    parser.add_argument('--weeks', type=int, default=12,
        help="weeks of daily dunning replayed, at least 12: the company "
        "uses the module since then (default: %(default)s)")
    parser.add_argument('--unreviewed-days', type=int, default=3,
        help="the last days before today the accountant did not review the "
        "reminders: only the scheduled task ran (default: %(default)s)")
    parser.add_argument('--no-cache', action='store_true',
        help="create the database with trytond-admin even when .cache/ "
        "has it")
    parser.add_argument('--no-today', action='store_true',
        help="stop after yesterday: leave today's reminders to be created "
        "(used by the browser test)")
    parser.add_argument('--no-pdf', action='store_true',
        help="do not convert the letters to PDF")
    parser.add_argument('--seed', type=int, default=2026,
        help="seed of the random history (default: %(default)s)")
    return parser.parse_args(argv)


def create_database(output, modules=None, cache=True):
    """Create the SQLite database with trytond-admin, or copy it from the
    cache of .cache/ when the module and Tryton did not change; return the
    config file"""
    database = os.path.join(output, '%s.sqlite' % DATABASE)
    if os.path.exists(database):
        os.remove(database)
    config_file = web.write_config(os.path.join(output, 'trytond.conf'),
        output)
    if modules is None:
        modules = [MODULE, 'bank'] + (['account_fr'] if has_account_fr()
            else [])
    template = os.path.join(web.CACHE, 'demo-template-%s.sqlite'
        % template_key(modules))
    if cache and os.path.exists(template):
        print("Copying the database with the modules activated from %s..."
            % template, flush=True)
        shutil.copyfile(template, database)
        return config_file
    # trytond-admin initializes an existing (empty) SQLite file
    open(database, 'wb').close()
    password_file = os.path.join(output, '.admin-password')
    with open(password_file, 'w') as fp:
        fp.write(ADMIN_PASSWORD)
    env = dict(web.clean_environment(), TRYTONPASSFILE=password_file)
    env.setdefault('PYTHONWARNINGS', 'ignore')
    admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
    print("Creating the database %s and activating %s (a minute)..." % (
            database, ', '.join(modules)), flush=True)
    subprocess.run([admin, '-c', config_file, '-d', DATABASE,
            '-u', *modules, '--activate-dependencies', '-l', 'fr',
            '--email', 'admin@example.com'], check=True, env=env)
    if cache:
        # Kept for the next runs (and the browser test) while the module
        # and Tryton do not change
        os.makedirs(web.CACHE, exist_ok=True)
        for name in os.listdir(web.CACHE):
            if name.startswith('demo-template-'):
                os.remove(os.path.join(web.CACHE, name))
        shutil.copyfile(database, template + '.tmp')
        os.rename(template + '.tmp', template)
    return config_file


def template_key(modules):
    "A digest of the module's files, Tryton's versions and the modules"
    import glob
    import hashlib
    from importlib import metadata
    digest = hashlib.sha1()
    digest.update(' '.join(modules).encode())
    for dist in sorted(metadata.distributions(),
            key=lambda d: d.metadata['Name'] or ''):
        name = dist.metadata['Name'] or ''
        if name.lower().replace('-', '_').startswith(('trytond', 'proteus')):
            digest.update(('%s %s\n' % (name, dist.version)).encode())
    for pattern in ['tryton.cfg', '*.py', '*.xml', 'view/*.xml',
            'locale/*.po', 'report/*']:
        for path in sorted(glob.glob(os.path.join(web.ROOT, pattern))):
            digest.update(path.encode())
            with open(path, 'rb') as fp:
                digest.update(fp.read())
    return digest.hexdigest()[:12]


def has_account_fr():
    try:
        import trytond.modules.account_fr  # noqa: F401
    except ImportError:
        return False
    return True


class Demo:
    "The company, its configuration and its customers"

    def __init__(self, config_file, today, seed=2026):
        from proteus import config as pconfig
        self.config = pconfig.set_trytond(DATABASE, config_file=config_file)
        self.config.skip_warning = True
        self.today = today
        self.random = random.Random(seed)
        self.french_chart = False

    # -- Set-up with proteus ----------------------------------------------

    def setup_company(self, start):
        "The company, its accounting from start to today and its bank"
        from proteus import Model
        from trytond.modules.account.tests.tools import (
            create_fiscalyear, create_tax)
        from trytond.modules.account_invoice.tests.tools import (
            set_fiscalyear_invoice_sequences)
        from trytond.modules.company.tests.tools import create_company
        today = self.today

        Lang = Model.get('ir.lang')
        self.langs = {l.code: l for l in Lang.find(
                [('code', 'in', ['fr', 'en'])])}
        Country = Model.get('country.country')
        self.countries = {}
        for code, name in COUNTRIES.items():
            country = Country(name=name, code=code)
            country.save()
            self.countries[code] = country

        print("Setting up the company and its accounting...", flush=True)
        Party = Model.get('party.party')
        company_party = Party(name="Atelier Dupont SARL",
            lang=self.langs['fr'])
        address, = company_party.addresses
        address.street = "18 rue des Petites-Écuries"
        address.postal_code = "75010"
        address.city = "Paris"
        address.country = self.countries['FR']
        company_party.contact_mechanisms.new(
            type='phone', value='+33142466600')
        company_party.contact_mechanisms.new(
            type='email', value='contact@atelier-dupont.fr')
        company_party.contact_mechanisms.new(
            type='website', value='www.atelier-dupont.fr')
        company_party.identifiers.new(type='eu_vat', code='FR40303265045')
        company_party.save()
        Currency = Model.get('currency.currency')
        eur, = Currency.find([('code', '=', 'EUR')]) or [None]
        if eur is None:
            eur = Currency(name="Euro", code='EUR', symbol='€',
                rounding=Decimal('0.01'), digits=2)
            eur.save()
        create_company(party=company_party, currency=eur)
        Company = Model.get('company.company')
        company, = Company.find()
        self.company, self.eur = company, eur

        Tax = Model.get('account.tax')
        if has_account_fr():
            from trytond.modules.account_fr.tests.tools import (
                create_chart, get_accounts)
            create_chart(company, config=self.config)
            accounts = get_accounts(company, config=self.config)
            Account = Model.get('account.account')
            accounts['revenue'], = Account.find([
                    ('company', '=', company.id), ('code', '=', '706')])
            accounts['cash'], = Account.find([
                    ('company', '=', company.id), ('code', '=', '5121')])
            tax, = Tax.find([
                    ('company', '=', company.id),
                    ('name', '=', "T.V.A. Vente de services Taux Normal"),
                    ])
            self.french_chart = True
        else:
            from trytond.modules.account.tests.tools import (
                create_chart, get_accounts)
            create_chart(company)
            accounts = get_accounts(company)
            tax = create_tax(Decimal('.20'))
            tax.description = tax.name = "TVA 20 %"
            tax.save()
        self.accounts, self.tax = accounts, tax

        SequenceStrict = Model.get('ir.sequence.strict')
        for year in range(start.year, today.year + 1):
            fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(
                    company, (dt.date(year, 1, 1), dt.date(year, 12, 31))))
            fiscalyear.click('create_period')
            invoice_sequences, = fiscalyear.invoice_sequences
            sequence = invoice_sequences.out_invoice_sequence
            sequence.name = "Factures %s" % year
            sequence.prefix = 'FA%s-' % year
            sequence.padding = 5
            sequence.save()
            credit_notes = SequenceStrict(name="Avoirs %s" % year,
                sequence_type=sequence.sequence_type, company=company,
                prefix='AV%s-' % year, padding=5)
            credit_notes.save()
            invoice_sequences.out_credit_note_sequence = credit_notes
            fiscalyear.save()

        Bank = Model.get('bank')
        bank_party = Party(name="Banque Populaire Rives de Paris")
        bank_party.save()
        bank = Bank(party=bank_party, bic='CCBPFRPPMTG')
        bank.save()
        BankAccount = Model.get('bank.account')
        bank_account = BankAccount(bank=bank, currency=eur)
        bank_account.owners.append(Party(company_party.id))
        bank_account.numbers.new(
            type='iban', number='FR7610107001011234567890129')
        bank_account.save()

        PaymentTerm = Model.get('account.invoice.payment_term')
        term_30 = PaymentTerm(name="30 jours")
        term_30.lines.new(type='remainder').relativedeltas.new(days=30)
        term_30.save()
        term_45 = PaymentTerm(name="45 jours fin de mois")
        term_45.lines.new(type='remainder').relativedeltas.new(
            days=45, day=31)
        term_45.save()
        term_2x = PaymentTerm(name="En deux fois, 30 et 60 jours")
        line = term_2x.lines.new(type='percent', ratio=Decimal('.5'))
        line.relativedeltas.new(days=30)
        term_2x.lines.new(type='remainder').relativedeltas.new(days=60)
        term_2x.save()
        self.terms = {'30': term_30, '45': term_45, '2x': term_2x}

        Journal = Model.get('account.journal')
        PaymentMethod = Model.get('account.invoice.payment.method')
        journal_cash, = Journal.find([('type', '=', 'cash')])
        journal_revenue, = Journal.find([('type', '=', 'revenue')])
        self.journal_revenue = journal_revenue.id
        self.payment_methods = []
        for name in ["Virement", "Chèque", "Prélèvement"]:
            method = PaymentMethod(name=name, journal=journal_cash,
                credit_account=accounts['cash'],
                debit_account=accounts['cash'])
            method.save()
            self.payment_methods.append((name, journal_cash.id))

    def setup_dunning(self):
        "The accounting configuration, the segments and their procedures"
        from proteus import Model
        # The configuration is done: no wizard at the first login
        ConfigItem = Model.get('ir.module.config_wizard.item')
        items = ConfigItem.find([('state', '!=', 'done')])
        for item in items:
            item.state = 'done'
        ConfigItem.save(items)
        ModelData = Model.get('ir.model.data')
        Segment = Model.get('account.invoice.dunning.segment')
        Procedure = Model.get('account.invoice.dunning.procedure')
        standard = Segment(ModelData.get_id(MODULE, 'segment_standard', {}))
        Configuration = Model.get('account.configuration')
        configuration = Configuration(1)
        configuration.default_dunning_segment = standard
        configuration.dunning_contact_name = "Service comptabilité clients"
        configuration.dunning_contact_email = "compta@atelier-dupont.fr"
        configuration.dunning_contact_phone = "+33 1 42 46 66 01"
        configuration.dunning_signatory = "Claire Martin"
        configuration.dunning_signatory_title = "Responsable du recouvrement"
        configuration.save()

        self.enter_rates()
        print("Setting up the segments...", flush=True)
        self.segments = {'standard': standard}
        shipped = standard.procedure
        self.standard_procedure = shipped.id
        for sequence, (code, (xml_id, name, description, procedure)) in (
                enumerate(SEGMENTS.items(), 1)):
            if code in self.segments:
                continue
            try:
                found = ModelData.get_id(MODULE, xml_id, {})
            except Exception:
                found = None
            if found:
                segment = Segment(found)
                print("  %s (shipped): %s" % (
                        segment.name, segment.procedure.name))
                self.segments[code] = segment
                continue
            procedure_name, steps = procedure
            copy, = Procedure.duplicate([shipped], {'name': procedure_name})
            # One save, so that the order of the levels is checked once
            for index in reversed(range(len(steps))):
                if steps[index] is None:
                    copy.levels.remove(copy.levels[index])
            for level, (days, delay, channel, payment_delay) in zip(
                    copy.levels, [s for s in steps if s]):
                level.days = days
                level.delay = delay
                level.channel = channel
                level.payment_delay = payment_delay
                level.automatic = False
            copy.save()
            segment = Segment(name=name, description=description,
                procedure=copy, sequence=sequence * 10)
            segment.save()
            print("  %s: %s" % (name, procedure_name))
            self.segments[code] = segment

    def enter_rates(self):
        """Enter the reference rates of the half-years up to today missing
        from the shipped tables, as the accountant does each half-year: here
        the last known value"""
        from proteus import Model
        RateTable = Model.get('account.invoice.dunning.rate')
        half_year = dt.date(self.today.year,
            1 if self.today.month <= 6 else 7, 1)
        for table in RateTable.find([]):
            values = sorted(table.values, key=lambda v: v.date)
            if not values or values[-1].date >= half_year:
                continue
            last = values[-1]
            date = last.date
            while date < half_year:
                date = dt.date(date.year + (date.month == 7),
                    1 if date.month == 7 else 7, 1)
                table.values.new(date=date, rate=last.rate)
            print("  Reference rate %s: %s entered up to %s (last known "
                "value)" % (table.name, last.rate, half_year))
            table.save()

    def create_customers(self, count):
        from proteus import Model
        print("Creating %d customers..." % count, flush=True)
        Party = Model.get('party.party')
        pinnable = 'dunning_segment_pinned' in Party._fields
        parties = []
        self.customers = []
        for index, (name, street, postal_code, city, country, lang,
                customer_type, segment, email) in enumerate(
                CUSTOMERS[:count]):
            party = Party(name=name, lang=self.langs[lang],
                customer_type=customer_type)
            address, = party.addresses
            address.street = street
            address.postal_code = postal_code
            address.city = city
            address.country = self.countries[country]
            if email:
                party.contact_mechanisms.new(type='email', value=email)
            if segment != 'standard' or index < SHOWCASE:
                party.dunning_segment = self.segments[segment]
            if pinnable and (index < SHOWCASE or segment == 'strategic'):
                # Assigned by hand: the automatic segmentation keeps it
                party.dunning_segment_pinned = True
            parties.append(party)
        Party.save(parties)
        for party, row in zip(parties, CUSTOMERS[:count]):
            self.customers.append((party.id, row[6], row[7]))

    # -- The history, with trytond's API ------------------------------------

    def plan(self, start, count):
        """Return the invoices to create as a list of dict: the reminders
        shown today, one per level of the shipped procedure, then count
        invoices drawn at random between start and today"""
        today = self.today
        day = dt.timedelta(days=1)
        ids = [c[0] for c in self.customers]
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
            (5, -20, '640', "Réparation de terrasse",
                [(-9, 'dispute', "Litige : terrasse à reprendre, "
                        "intervention prévue")]),
            (0, -60, '420', "Pièces détachées", [(-45, 'pay', None)]),
            ]
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
        rng = self.random
        others = self.customers[SHOWCASE:] or self.customers
        span = (today - start).days
        for _ in range(count):
            party, customer_type, segment = rng.choice(others)
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
            lines = [(rng.choice(WORKS), amount)]
            if rng.random() < .3:
                lines.append(("Déplacement et petites fournitures",
                        Decimal(rng.randrange(40, 300))))
            invoices.append({
                    'party': party,
                    'date': date,
                    'term': term,
                    'lines': lines,
                    'events': events,
                    })
        return invoices

    def run(self, func, *args):
        """Run func in a transaction, committed; restart it with the tables
        to lock as trytond asks"""
        from trytond.transaction import Transaction, TransactionError
        context = dict(self.config.context, _skip_warnings=True)
        # The tables locked by posting and by the dunning, on SQLite a
        # no-op: avoids restarting the first transactions
        extras = self._extras = getattr(self, '_extras', {'_lock_tables': [
                    'ir_sequence_strict', 'ir_sequence',
                    'account_journal_period', 'account_invoice_dunning']})
        while True:
            with Transaction().start(DATABASE, self.config.user,
                    context=context, **extras) as transaction:
                try:
                    result = func(*args)
                except TransactionError as error:
                    transaction.rollback()
                    # Lock whole tables: the records change every day
                    fixed = {}
                    error.fix(fixed)
                    tables = extras.setdefault('_lock_tables', [])
                    tables.extend(fixed.get('_lock_tables', []))
                    tables.extend(fixed.get('_lock_records', {}).keys())
                    continue
                self._drop_tasks()
                transaction.commit()
            return result

    def simulate(self, start, invoices, until, dunning_start,
            review_until=None):
        """Post the invoices, then live the days from start to until
        (excluded): register the payments, credit notes and disputes of the
        day, then, from dunning_start, create the reminders due that day
        and process them (after review_until, only those of the automatic
        levels, as the scheduled task does: the others wait for the
        accountant)"""
        begin = time.time()
        past = sorted((i for i in invoices if i['date'] < until),
            key=lambda i: i['date'])
        print("Posting %d invoices from %s..." % (len(past), start),
            flush=True)
        self.pending = {}
        self.credit_notes = {}
        for offset in range(0, len(past), 100):
            self.run(self._post_invoices, past[offset:offset + 100])
        print("  done in %.1f s" % (time.time() - begin), flush=True)
        print("Living the days to %s: payments, credit notes, disputes, "
            "and the daily dunning from %s..." % (
                until - dt.timedelta(days=1), dunning_start), flush=True)
        begin = time.time()
        counts = Counter(invoices=len(past))
        date = start
        while date < until:
            counts.update(self.run(self.live_day, date,
                    date >= dunning_start,
                    review_until is None or date < review_until))
            date += dt.timedelta(days=1)
        print("  %(pay)d payments, %(partial)d partial payments, "
            "%(credit)d credit notes, %(refund)d cancellations, "
            "%(dispute)d disputes, %(reminders)d reminders processed, "
            "%(segment changes)d automatic changes of segment" % counts)
        print("  done in %.1f s" % (time.time() - begin), flush=True)

    def live_day(self, date, dunning, review=True):
        """Apply the events of the day and, if dunning, create the reminders
        of the day and process them all if review, else those of the
        automatic levels; return the counts of what was done"""
        from trytond.pool import Pool
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        counts = Counter()
        if (dunning and date.weekday() == 0
                and hasattr(Party, 'classify_dunning_segments')):
            # The automatic segmentation of the customers, weekly here
            counts['segment changes'] += (
                Party.classify_dunning_segments(date=date) or 0)
        events = self.pending.get(date, [])
        counts.update(self._pay(
                [(i, a) for i, o, a in events if o == 'pay'], date))
        for invoice_id, outcome, argument in events:
            if outcome != 'pay':
                counts[self._event(invoice_id, outcome, argument, date)] += 1
        if dunning:
            Dunning.generate_dunnings(
                date=date, companies=[self.company.id])
            drafts = Dunning.search([('state', '=', 'draft')])
            if drafts and review:
                Dunning.process(drafts)
                counts['reminders'] += len(drafts)
            elif drafts:
                Dunning.process_automatic([self.company.id])
        return counts

    def _post_invoices(self, plans):
        """Create and post the invoices of plans, in date order, and
        schedule their events; return their ids"""
        from trytond.pool import Pool
        Invoice = Pool().get('account.invoice')
        if not plans:
            return []
        invoices = self._new_invoices(plans)
        Invoice.post(invoices)
        for values, invoice in zip(plans, invoices):
            for when, outcome, argument in values['events']:
                self.pending.setdefault(when, []).append(
                    (invoice.id, outcome, argument))
        return [i.id for i in invoices]

    def _new_invoices(self, plans):
        "Create the draft invoices of plans"
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        parties = {p.id: p for p in Party.browse(
                list({v['party'] for v in plans}))}
        vlist = []
        for values in plans:
            party = parties[values['party']]
            lines = values.get('lines') or [
                (values['description'], values['amount'])]
            vlist.append({
                    'type': 'out',
                    'company': self.company.id,
                    'currency': self.eur.id,
                    'party': party.id,
                    'invoice_address': party.address_get(type='invoice').id,
                    'account': self.accounts['receivable'].id,
                    'journal': self.journal_revenue,
                    'invoice_date': values['date'],
                    'payment_term': self.terms[values['term']].id,
                    'description': values.get('description') or lines[0][0],
                    'lines': [('create', [{
                                    'type': 'line',
                                    'account': self.accounts['revenue'].id,
                                    'description': description,
                                    'quantity': 1,
                                    'unit_price': amount,
                                    'taxes': [('add', [self.tax.id])],
                                    } for description, amount in lines])],
                    })
        invoices = Invoice.create(vlist)
        Invoice.update_taxes(invoices)
        return invoices

    def _pay(self, payments, date):
        """Register the payments of the day, as (invoice id, amount) where
        amount is None for the remaining amount, a fraction below 1 of it or
        an amount; return the counts"""
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        counts = Counter()
        invoices = {i.id: i for i in Invoice.browse([i for i, _ in payments])}
        period = None
        moves, paid = [], []
        for invoice_id, argument in payments:
            invoice = invoices[invoice_id]
            to_pay = invoice.amount_to_pay if invoice.state == 'posted' else 0
            if to_pay <= 0:
                counts['skipped'] += 1
                continue
            if argument is None:
                amount = to_pay
            elif argument < 1:
                amount = (to_pay * argument).quantize(CENT)
            else:
                amount = min(argument, to_pay)
            if amount >= to_pay:
                paid.append(invoice_id)
                counts['pay'] += 1
            else:
                counts['partial'] += 1
            if period is None:
                period = Period.find(self.company.id, date=date)
            method, journal = self.payment_methods[
                invoice_id % len(self.payment_methods)]
            moves.append(Move(
                    journal=journal, period=period,
                    date=date, origin=invoice, company=self.company.id,
                    description="%s %s" % (method, invoice.number),
                    lines=[
                        MoveLine(account=invoice.account, party=invoice.party,
                            debit=0, credit=amount),
                        MoveLine(account=self.accounts['cash'].id,
                            debit=amount, credit=0),
                        ]))
        if not moves:
            return counts
        Move.save(moves)
        Move.post(moves)
        lines = {}
        for move in moves:
            line, = [l for l in move.lines if l.credit]
            lines[move.origin.id] = line
        Invoice.add_payment_lines(
            {Invoice(i): [l] for i, l in lines.items()})
        if paid:
            paid = Invoice.browse(paid)
            MoveLine.reconcile(*[
                    [l for l in i.lines_to_pay + i.payment_lines
                        if not l.reconciliation] for i in paid])
            Invoice.process(paid + Invoice.browse([self.credit_notes[i.id]
                        for i in paid if i.id in self.credit_notes]))
        return counts

    def _event(self, invoice_id, outcome, argument, date):
        "Apply the outcome to the invoice on date, return what was done"
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice(invoice_id)
        if invoice.state != 'posted':
            return 'skipped'
        if outcome == 'dispute':
            Invoice.write([invoice], {
                    'dunning_blocked': True,
                    'dunning_block_reason': argument,
                    })
            return 'dispute'
        if outcome == 'refund':
            credit_note, = Invoice.credit([invoice], refund=True,
                invoice_date=date)
            Invoice.process([credit_note])
            return 'refund'
        to_pay = invoice.amount_to_pay
        if to_pay <= 0:
            return 'skipped'
        if outcome == 'credit':
            # A commercial gesture: a credit note deducted from the invoice
            untaxed = sum(l.amount for l in invoice.lines if l.type == 'line')
            credit_note, = self._new_invoices([{
                        'party': invoice.party.id,
                        'date': date,
                        'term': '30',
                        'description': "Geste commercial sur %s" % (
                            invoice.number),
                        'lines': [("Geste commercial sur %s" % invoice.number,
                                -(untaxed * argument).quantize(CENT))],
                        }])
            Invoice.post([credit_note])
            Invoice.add_payment_lines({invoice: list(
                        Invoice(credit_note.id).lines_to_pay)})
            # Paid with the invoice
            self.credit_notes[invoice.id] = credit_note.id
            return 'credit'
        raise ValueError(outcome)

    def _drop_tasks(self):
        """Forget the tasks queued for after the commit: the printing of the
        invoices, done again when someone prints them"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        Queue = Pool().get('ir.queue')
        transaction = Transaction()
        if transaction.tasks:
            Queue.delete(Queue.browse(transaction.tasks))
            transaction.tasks.clear()

    def run_today(self, invoices):
        """Post today's invoices and events, create today's reminders and
        process one of each level of the shipped procedure (the reminders of
        the showcase invoices first); return the processed reminders and the
        count of those left to process by level"""
        today = self.today
        print("Creating today's reminders (%s) and processing one of each "
            "level..." % today, flush=True)
        self.run(self._post_invoices,
            [i for i in invoices if i['date'] == today])
        self.run(self.live_day, today, False)
        return self.run(self._process_today)

    def _process_today(self):
        from trytond.pool import Pool
        Dunning = Pool().get('account.invoice.dunning')
        Dunning.generate_dunnings(
            date=self.today, companies=[self.company.id])
        drafts = Dunning.search([
                ('state', '=', 'draft'), ('date', '=', self.today)],
            order=[('id', 'ASC')])
        showcase = {c[0] for c in self.customers[:SHOWCASE]}
        standard = self.standard_procedure
        # The reminders of the showcase invoices, then one of each level of
        # the shipped procedure still missing
        to_process = [d for d in drafts if d.party.id in showcase]
        levels = {d.level.id for d in to_process}
        for dunning in drafts:
            if (dunning.procedure.id == standard
                    and dunning.level.id not in levels):
                to_process.append(dunning)
                levels.add(dunning.level.id)
        Dunning.process(to_process)
        rows = []
        for dunning in sorted(Dunning.browse(to_process),
                key=lambda d: (d.level.sequence, d.id)):
            rows.append((dunning.id, dunning.level.name,
                    dunning.level.sequence, dunning.party.name,
                    dunning.invoice.number, dunning.amount,
                    dunning.deadline, dunning.channel,
                    dunning.letter_format, dunning.letter))
        waiting = Counter(d.level.name for d in Dunning.search([
                    ('state', '=', 'draft')]))
        return rows, waiting


def write_letters(output, rows, pdf=True):
    letters = os.path.join(output, 'letters')
    shutil.rmtree(letters, ignore_errors=True)
    os.makedirs(letters)
    for position, (_, level, _, party, _, _, _, _, fmt, letter) in enumerate(
            rows, 1):
        if not letter:
            continue
        filename = '%02d-%s-%s.%s' % (position, level.replace(' ', '_'),
            party.replace(' ', '_').replace('&', 'et'), fmt)
        with open(os.path.join(letters, filename), 'wb') as fp:
            fp.write(letter)
    soffice = shutil.which('soffice') or shutil.which('libreoffice')
    if pdf and soffice:
        print("Converting the letters to PDF with LibreOffice...", flush=True)
        subprocess.run([soffice, '--headless', '--convert-to', 'pdf',
                '--outdir', letters]
            + sorted(os.path.join(letters, f) for f in os.listdir(letters)),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif pdf:
        print("LibreOffice is not installed: letters are ODT only "
            "(apt-get install libreoffice-writer-nogui for PDF).")
    return letters


def build(args):
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)
    today = args.date
    begin = time.time()
    config_file = create_database(output, cache=not args.no_cache)

    start = today - dt.timedelta(days=round(args.months * 30.5))
    # The dunning runs every day of the last weeks (since the company uses
    # the module); the showcase invoices need 12 weeks
    dunning_start = today - dt.timedelta(weeks=max(args.weeks, 12))
    start = min(start, dunning_start)
    demo = Demo(config_file, today, seed=args.seed)
    demo.setup_company(start - dt.timedelta(days=31))
    demo.setup_dunning()
    demo.create_customers(max(SHOWCASE, min(args.customers, len(CUSTOMERS))))
    invoices = demo.plan(start, args.invoices)
    demo.simulate(min(i['date'] for i in invoices), invoices, today,
        dunning_start, today - dt.timedelta(days=args.unreviewed_days))
    if args.no_today:
        print("\nDatabase: %s, built in %.0f s; today's reminders are left "
            "to create." % (os.path.join(output, '%s.sqlite' % DATABASE),
                time.time() - begin))
        return
    rows, waiting = demo.run_today(invoices)
    letters = write_letters(output, rows, pdf=not args.no_pdf)

    print()
    print("Today's reminders, processed and archived (one per level):")
    print("%-16s %-24s %-13s %10s  %-10s  %-17s" % (
            "Level", "Customer", "Invoice", "Amount", "Deadline", "Channel"))
    for _, level, _, party, number, amount, deadline, channel, _, _ in rows:
        print("%-16s %-24s %-13s %10s  %-10s  %-17s" % (
                level, party[:24], number, amount, deadline, channel))
    if waiting:
        print()
        print("Waiting in Financial > Invoice Dunnings > Invoice Reminders, "
            "To Process: %s" % ', '.join(
                '%d %s' % (n, l) for l, n in sorted(waiting.items())))
    print()
    print("Letters written to %s/" % letters)
    for name in sorted(os.listdir(letters)):
        print("  " + name)
    print()
    print("Database: %s (trytond config %s, login admin / %s), built in "
        "%.0f s" % (os.path.join(output, '%s.sqlite' % DATABASE),
            config_file, ADMIN_PASSWORD, time.time() - begin))
    if not demo.french_chart:
        print("(trytond_account_fr is not installed: minimal chart of "
            "accounts)")


def main():
    args = parse_args()
    if not args.serve_only:
        build(args)
    if args.serve or args.serve_only:
        print()
        web.serve(args.output, args.listen)


if __name__ == '__main__':
    main()
