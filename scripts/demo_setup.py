# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The set-up of the demo, with proteus: the database (created with
trytond-admin or copied from the cache), the company, its accounting, the
segments and their procedures, the customers."""
import datetime as dt
import os
import shutil
import subprocess
import sys
from decimal import Decimal

import serve as web
from demo_data import (
    COUNTRIES, CUSTOMERS, LETTER_LANGUAGES, LITIGATION_CUSTOMERS, SEGMENTS,
    showcase_customers)

MODULE = 'account_invoice_dunning'
DATABASE = web.DATABASE
ADMIN_PASSWORD = web.PASSWORD


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
            '-u', *modules, '--activate-dependencies',
            '-l', 'fr', *LETTER_LANGUAGES,
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


# The title of the signatory of the letters in each language
SIGNATORY_TITLES = {
    'en': "Credit Manager",
    'fr': "Responsable du recouvrement",
    'de': "Leiterin Forderungsmanagement",
    'es': "Responsable de cobros",
    'nl': "Verantwoordelijke debiteurenbeheer",
    }


class Setup:
    "The company, its configuration and its customers"

    def __init__(self, config_file, today):
        from proteus import config as pconfig
        self.config = pconfig.set_trytond(DATABASE, config_file=config_file)
        self.config.skip_warning = True
        self.today = today
        self.french_chart = False

    def setup_company(self, start):
        "The company, its accounting from start to today and its bank"
        self._countries()
        print("Setting up the company and its accounting...", flush=True)
        company_party = self._company()
        self._chart()
        self._fiscal_years(start)
        self._bank_account(company_party)
        self._payment_terms()
        self._payment_methods()

    def _countries(self):
        "The languages and the countries of the customers"
        from proteus import Model
        Lang = Model.get('ir.lang')
        self.langs = {l.code: l for l in Lang.find(
                [('code', 'in', ['fr', 'en'] + LETTER_LANGUAGES)])}
        Country = Model.get('country.country')
        self.countries = {}
        for code, name in COUNTRIES.items():
            country = Country(name=name, code=code)
            country.save()
            self.countries[code] = country

    def _company(self):
        "The company; return its party"
        from proteus import Model

        from trytond.modules.company.tests.tools import create_company
        Party = Model.get('party.party')
        company_party = Party(name="Atelier Dupont",
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
        company_party.identifiers.new(
            type='fr_rcs', code='RCS Paris B 303 265 045')
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
        if hasattr(company, 'legal_form'):
            # The mentions of the letters (the module since 8.0)
            company.legal_form = "SARL"
            company.share_capital = Decimal('20000')
            company.save()
        self.company, self.eur = company, eur
        return company_party

    def _chart(self):
        """The chart of accounts (French when trytond_account_fr is
        installed) and the VAT"""
        from proteus import Model

        from trytond.modules.account.tests.tools import create_tax
        company = self.company
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

    def _fiscal_years(self, start):
        "The fiscal years from start to today, with their sequences"
        from proteus import Model

        from trytond.modules.account.tests.tools import create_fiscalyear
        from trytond.modules.account_invoice.tests.tools import (
            set_fiscalyear_invoice_sequences)
        company, today = self.company, self.today
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

    def _bank_account(self, company_party):
        "The bank account of the company, printed on the letters"
        from proteus import Model
        Party = Model.get('party.party')
        eur = self.eur
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

    def _payment_terms(self):
        from proteus import Model
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

    def _payment_methods(self):
        from proteus import Model
        accounts = self.accounts
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
        standard = self._configure()
        self.enter_rates()
        print("Setting up the segments...", flush=True)
        self.segments = {'standard': standard}
        shipped = standard.procedure
        self.standard_procedure = shipped.id
        for sequence, (code, (xml_id, name, description, procedure)) in (
                enumerate(SEGMENTS.items(), 1)):
            if code in self.segments:
                continue
            self.segments[code] = self._segment(xml_id, name, description,
                procedure, sequence, shipped)

    def _configure(self):
        """The configuration of the accounting and of the wizards; return
        the standard segment, the default"""
        from proteus import Model

        # The configuration is done: no wizard at the first login
        ConfigItem = Model.get('ir.module.config_wizard.item')
        items = ConfigItem.find([('state', '!=', 'done')])
        for item in items:
            item.state = 'done'
        ConfigItem.save(items)
        ModelData = Model.get('ir.model.data')
        Segment = Model.get('account.invoice.dunning.segment')
        standard = Segment(ModelData.get_id(MODULE, 'segment_standard', {}))
        Configuration = Model.get('account.configuration')
        configuration = Configuration(1)
        configuration.default_dunning_segment = standard
        configuration.dunning_contact_name = "Service comptabilité clients"
        configuration.dunning_contact_email = "compta@atelier-dupont.fr"
        configuration.dunning_contact_phone = "+33 1 42 46 66 01"
        configuration.dunning_signatory = "Claire Martin"
        configuration.save()
        # The title of the signatory in the language of each letter
        for code, title in SIGNATORY_TITLES.items():
            with self.config.set_context(language=code):
                configuration = Configuration(1)
                configuration.dunning_signatory_title = title
                configuration.save()
        return standard

    def _segment(self, xml_id, name, description, procedure, sequence,
            shipped):
        """The shipped segment xml_id when the module has it, else a new
        segment with a copy of the shipped procedure changed as procedure
        says (see SEGMENTS)"""
        from proteus import Model
        ModelData = Model.get('ir.model.data')
        Segment = Model.get('account.invoice.dunning.segment')
        Procedure = Model.get('account.invoice.dunning.procedure')
        try:
            found = ModelData.get_id(MODULE, xml_id, {})
        except Exception:
            found = None
        if found:
            segment = Segment(found)
            print("  %s (shipped): %s" % (
                    segment.name, segment.procedure.name))
            return segment
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
        return segment

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

        from trytond.tools import slugify
        print("Creating %d customers..." % count, flush=True)
        Party = Model.get('party.party')
        pinnable = 'dunning_segment_pinned' in Party._fields
        parties = []
        self.customers = []
        showcase = set(showcase_customers(count))
        # The debtors of the litigation: as the court documents name them
        litigation = {index: (form, registration)
            for index, form, registration in LITIGATION_CUSTOMERS.values()}
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
            # Every customer has an email for the reminders and a phone (in
            # a reserved domain: the demo's emails go to its own server)
            party.contact_mechanisms.new(type='email',
                value=email or 'compta@%s.example' % slugify(name).lower())
            party.contact_mechanisms.new(type='phone',
                value='+33 1 45 %02d %02d %02d' % (
                    index % 100, (index * 7) % 100, (index * 13) % 100))
            if index in litigation:
                party.dunning_legal_form, registration = litigation[index]
                party.identifiers.new(type='fr_rcs', code=registration)
            shown = index in showcase or index in litigation
            if segment != 'standard' or shown:
                party.dunning_segment = self.segments[segment]
            if pinnable and (shown or segment == 'strategic'):
                # Assigned by hand: the automatic segmentation keeps it
                party.dunning_segment_pinned = True
            parties.append(party)
        Party.save(parties)
        for party, row in zip(parties, CUSTOMERS[:count]):
            self.customers.append((party.id, row[6], row[7]))
