# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Engine tests that the scenarios can not express: business days, the
database constraints and concurrent runs."""
import datetime as dt
import os
import threading
import unittest
import unittest.mock
from decimal import Decimal

from sql import Table

from trytond import backend
from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests.test_module import (
    set_invoice_sequences)
from trytond.modules.account_invoice_dunning.common import add_business_days
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.currency.tests import add_currency_rate, create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER, drop_db, with_transaction
from trytond.transaction import Transaction, TransactionError

from .db_cache import activate_prepared
from .query_counter import QueryCounter

MODULE = 'account_invoice_dunning'
LOCALE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'locale')


def euro():
    "The euro, created with a rate the first time"
    pool = Pool()
    Currency = pool.get('currency.currency')
    currencies = Currency.search([('code', '=', 'EUR')], limit=1)
    if currencies:
        return currencies[0]
    currency = create_currency('EUR')
    add_currency_rate(currency, 1)
    return currency


def _payment_term_30_days():
    "The payment term of the invoices: the remainder at 30 days"
    PaymentTerm = Pool().get('account.invoice.payment_term')
    term, = PaymentTerm.create([{
                'name': "30 days",
                'lines': [('create', [{
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }])],
                }])
    return term


def _set_up_accounting(company, date):
    """The chart, the fiscal year of date with its invoice sequences, the
    default segment of company; return its revenue account and journal"""
    pool = Pool()
    Configuration = pool.get('account.configuration')
    FiscalYear = pool.get('account.fiscalyear')
    ModelData = pool.get('ir.model.data')

    create_chart(company)
    fiscalyear = set_invoice_sequences(get_fiscalyear(company, today=date))
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])
    configuration = Configuration(1)
    configuration.default_dunning_segment = ModelData.get_id(
        MODULE, 'segment_standard')
    configuration.save()
    return _revenue_and_journal(company)


def _revenue_and_journal(company):
    "The revenue account of company and the revenue journal"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('company', '=', company.id),
            ('closed', '!=', True),
            ], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    return revenue, journal


# The prepared company (tests/db_cache.py): the company in euros, chart,
# fiscal year of 2026 and payment term that create_invoices would create,
# committed in the cached database of the classes that activate it with
# activate_with_company; the first create_invoices of a test takes it. Its
# party keeps this name until then.
PREPARED = "Prepared company"
PREPARED_YEAR = 2026


def prepare_company():
    """Create the prepared company (with the accounting of create_invoices);
    the user's companies left as they were"""
    User = Pool().get('res.user')
    user = User(Transaction().user)
    companies = [c.id for c in user.companies]
    current = user.company.id if user.company else None
    company = create_company(name=PREPARED, currency=euro())
    with set_company(company):
        _set_up_accounting(company, dt.date(PREPARED_YEAR, 1, 1))
        _payment_term_30_days()
    User.write([user], {
            'companies': [('remove', [company.id])], 'company': current})
    assert [c.id for c in User(user.id).companies] == companies


def activate_with_company(test_class, module=MODULE):
    """In setUpClass: module activated, with the prepared company when
    DB_CACHE caches the databases"""
    activate_prepared(test_class, module, prepare_company, base=MODULE)


def _take_prepared_company(date):
    """The prepared company, its revenue account, journal and payment term,
    if it is in the database, untaken and of the year of date; taken: its
    party named as create_company names it. Else Nones"""
    pool = Pool()
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    PaymentTerm = pool.get('account.invoice.payment_term')
    if date.year != PREPARED_YEAR:
        return None, None, None, None
    companies = Company.search([('party.name', '=', PREPARED)], limit=1)
    if not companies:
        return None, None, None, None
    company, = companies
    Party.write([company.party], {'name': 'Dunder Mifflin'})
    # Created with the company, before any term of the tests
    term, = PaymentTerm.search([('name', '=', "30 days")],
        order=[('id', 'ASC')], limit=1)
    return (company,) + _revenue_and_journal(company) + (term,)


def _lock_ahead(company):
    """Ask at once for the locks that the tests ask for in turn: posting
    the invoices of company (the journal periods, its fiscal year's
    sequences), then the run of the reminders (their table). A lock first
    asked for restarts the test (with_transaction), its locks taken when its
    transaction starts: asked for here, before the invoices, the restarts
    cost little, and the test runs as it did on its last start"""
    pool = Pool()
    JournalPeriod = pool.get('account.journal.period')
    Sequence = pool.get('ir.sequence.strict')
    Dunning = pool.get('account.invoice.dunning')
    JournalPeriod.lock()
    Sequence.lock(Sequence.search([('company', '=', company.id)]))
    Dunning.lock()


def _lock_ahead_of_accounting():
    """Ask for the locks of the fiscal years and periods before creating a
    company's: on PostgreSQL, Tryton checks their constraints under them
    (ModelSQL.validate), after the chart (see _lock_ahead)"""
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Period = pool.get('account.period')
    if backend.name != 'sqlite':
        FiscalYear.lock()
        Period.lock()


def create_invoices(count, date=dt.date(2026, 1, 5), amount=100,
        company_currency=None, currency=None, parties=None):
    """Create a company (in euros by default) with count posted customer
    invoices of amount dated date (in the company currency by default), due
    30 days later, dunned with the default procedure; an invoice a customer,
    or the invoices shared in turn by parties customers. The company in
    euros of the first call of a test is the prepared company when it is
    there (activate_with_company), the same as one created here"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')

    company = None
    if company_currency is None:
        company, revenue, journal, term = _take_prepared_company(date)
    if company is None:
        _lock_ahead_of_accounting()
        company = create_company(currency=company_currency or euro())
        with set_company(company):
            revenue, journal = _set_up_accounting(company, date)
            term = _payment_term_30_days()
    _lock_ahead(company)
    with set_company(company):
        parties = Party.create([{
                    'name': "Customer %s" % i,
                    'addresses': [('create', [{}])]}
                for i in range(parties or count)])
        parties = [parties[i % len(parties)] for i in range(count)]
        invoices = Invoice.create([{
                    'type': 'out',
                    'company': company.id,
                    'party': party.id,
                    'invoice_address': party.addresses[0].id,
                    'account': party.account_receivable_used.id,
                    'currency': (currency or company.currency).id,
                    'invoice_date': date,
                    'payment_term': term.id,
                    'journal': journal.id,
                    'lines': [('create', [{
                                    'currency': (
                                        currency or company.currency).id,
                                    'account': revenue.id,
                                    'description': "Services",
                                    'quantity': 1,
                                    'unit_price': Decimal(amount),
                                    }])],
                    } for party in parties])
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(invoices)
    return company, invoices


class BusinessDaysTestCase(unittest.TestCase):
    "Deadlines count business days"

    def test_add_business_days(self):
        friday = dt.date(2026, 1, 30)
        self.assertEqual(add_business_days(friday, 0), friday)
        self.assertEqual(add_business_days(friday, 1), dt.date(2026, 2, 2))
        self.assertEqual(add_business_days(friday, 5), dt.date(2026, 2, 6))
        sunday = dt.date(2026, 4, 5)
        self.assertEqual(add_business_days(sunday, 1), dt.date(2026, 4, 6))
        self.assertEqual(add_business_days(sunday, 8), dt.date(2026, 4, 15))

    def test_public_holidays(self):
        """The business days of a country skip its public holidays: Easter
        Monday and Christmas in France, not the 26th of December (a holiday
        in Germany)"""
        sunday = dt.date(2026, 4, 5)
        self.assertEqual(
            add_business_days(sunday, 1, 'FR'), dt.date(2026, 4, 7))
        wednesday = dt.date(2026, 12, 23)
        self.assertEqual(
            add_business_days(wednesday, 2, 'FR'), dt.date(2026, 12, 28))
        self.assertEqual(
            add_business_days(wednesday, 2), dt.date(2026, 12, 25))
        self.assertEqual(
            add_business_days(dt.date(2026, 12, 24), 1, 'DE'),
            dt.date(2026, 12, 28))
        # A country the holidays are not known of: Monday to Friday
        self.assertEqual(
            add_business_days(wednesday, 2, 'XX'), dt.date(2026, 12, 25))


class EngineTestCase(unittest.TestCase):
    "The database keeps the history consistent, whatever the Python code"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _duplicate(self, dunning, **values):
        "Insert a copy of dunning with values, bypassing the ORM"
        table = Table('account_invoice_dunning')
        columns = ['company', 'invoice', 'party', 'procedure', 'level',
            'channel', 'date', 'currency', 'amount', 'state']
        row = {c: getattr(dunning, c) for c in columns}
        row.update(values)
        row = [int(v) if hasattr(v, 'id') else v for v in row.values()]
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.insert(
                [getattr(table, c) for c in columns], [row]))

    @with_transaction()
    def test_one_reminder_per_level_in_database(self):
        "An invoice gets each level once, enforced by the database"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 2, 11))
            Dunning.process([dunning])
            transaction = Transaction()
            for values in [
                    {'state': 'done'},
                    {'state': 'draft'},
                    ]:
                with self.subTest(**values), \
                        transaction.connection.cursor() as cursor:
                    cursor.execute('SAVEPOINT dup')
                    with self.assertRaises(backend.DatabaseIntegrityError):
                        self._duplicate(dunning, **values)
                    cursor.execute('ROLLBACK TO SAVEPOINT dup')
            # A cancelled reminder of the same level is history, allowed
            self._duplicate(dunning, state='cancelled')
            self.assertEqual(Dunning.search([], count=True), 2)

    @with_transaction()
    def test_daily_task_archives_lost_letters(self):
        "A letter whose task was lost is archived by the daily task"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, _ = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 2, 11))
            # The task of the queue that renders the letter is lost
            with unittest.mock.patch.object(Dispatch, '_archive_letters',
                    classmethod(lambda cls, dispatches: None)):
                Dunning.process([dunning])
            dunning = Dunning(dunning.id)
            self.assertEqual((dunning.state, dunning.letter_format),
                ('done', None))
            # Processed a moment ago: the queue may still be at work
            Dispatch.archive_missing_letters([company])
            self.assertIsNone(Dunning(dunning.id).letter_format)

            table = Dispatch.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update([table.create_date],
                    [dt.datetime.now() - dt.timedelta(hours=2)],
                    where=table.id == dunning.dispatch.id))
            Dunning.dunning_cron()
            dunning = Dunning(dunning.id)
            self.assertEqual(dunning.letter_format, 'odt')
            self.assertTrue(dunning.letter)

    @with_transaction()
    def test_deadline_skips_public_holidays(self):
        """The deadline of a reminder of a French company skips Easter
        Monday: 8 business days after 1 April 2026 is 14 April, not 13"""
        pool = Pool()
        Country = pool.get('country.country')
        Dunning = pool.get('account.invoice.dunning')
        Address = pool.get('party.address')
        company, _ = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 4, 1))
            self.assertEqual(dunning.deadline, dt.date(2026, 4, 13))
            france, = Country.create([{'name': "France", 'code': 'FR'}])
            if company.party.addresses:
                Address.write(list(company.party.addresses),
                    {'country': france.id})
            else:
                Address.create([{
                            'party': company.party.id,
                            'country': france.id}])
            Dunning.cancel([dunning])
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 4, 1))
            self.assertEqual(dunning.level.payment_delay, 8)
            self.assertEqual(dunning.deadline, dt.date(2026, 4, 14))

    @with_transaction()
    def test_one_draft_per_invoice_in_database(self):
        "An invoice has one reminder to process at most"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 2, 11))
            later = dunning.procedure.levels[-1]
            with self.assertRaises(backend.DatabaseIntegrityError):
                self._duplicate(dunning, level=later)

    @with_transaction()
    def test_generation_queries_do_not_grow(self):
        "Generating for 40 invoices runs about as many queries as for 4"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')

        counts = []
        # The first run fills the other caches (levels, procedures)
        for count in [1, 4, 40]:
            company, _ = create_invoices(count)
            with set_company(company):
                counter = QueryCounter(ignore_run_queries)
                with counter:
                    dunnings = Dunning.generate_dunnings(
                        date=dt.date(2026, 2, 11))
                self.assertEqual(len(dunnings), count)
                counts.append(counter.count)
        # A query per invoice would add 36 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)


def load_translations(code='fr'):
    """Load the translations of the module in the language code, made
    translatable; return the language"""
    pool = Pool()
    Lang = pool.get('ir.lang')
    Translation = pool.get('ir.translation')
    lang, = Lang.search([('code', '=', code)])
    Lang.write([lang], {'translatable': True})
    Translation.translation_import(
        code, MODULE, os.path.join(LOCALE, '%s.po' % code))
    return lang


def pay_invoice(invoice, amount, date):
    "Pay amount of invoice (of create_invoices) on date by a transfer"
    pool = Pool()
    Journal = pool.get('account.journal')
    Account = pool.get('account.account')
    Method = pool.get('account.invoice.payment.method')
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    cash, = Account.search([
            ('company', '=', invoice.company.id),
            ('code', '=', '1.1.1')])
    method = Method(name="Transfer", journal=journal,
        credit_account=cash, debit_account=cash)
    method.save()
    invoice.pay_invoice(Decimal(amount), method, date)


def ignore_cache_queries(query):
    "Tryton's caches of users and access rights may be refilled any time"
    return '"res_user' in query or '"ir_model_access' in query


def ignore_run_queries(query):
    """The queries a run may make more or fewer of with the same work:
    those of the caches (the reminders are inserted in a few queries
    whatever their number, on both backends)"""
    return ignore_cache_queries(query)


def run_in_transaction(func, before_commit=None):
    """Run func in a transaction of its own and commit, restarting it as
    Tryton's dispatcher does when it asks for locks; return its result"""
    extras = {}
    while True:
        try:
            with Transaction().start(DB_NAME, USER, **extras) as transaction:
                result = func()
                if before_commit:
                    before_commit()
                transaction.commit()
                return result
        except TransactionError as error:
            error.fix(extras)


@unittest.skipUnless(backend.name == 'postgresql',
    "Concurrent transactions are tested on PostgreSQL; "
    "SQLite serializes every write")
class ConcurrencyTestCase(unittest.TestCase):
    "Two runs at once do not create duplicates"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @classmethod
    def tearDownClass(cls):
        # The test commits: leave a clean database to the next tests
        drop_db()

    def test_concurrent_runs(self):
        date = dt.date(2026, 2, 11)
        company_id = run_in_transaction(lambda: create_invoices(5)[0].id)

        def generate():
            with Transaction().set_context(company=company_id):
                Dunning = Pool().get('account.invoice.dunning')
                return [d.id for d in Dunning.generate_dunnings(date=date)]

        generated, blocked, release = threading.Event(), [], threading.Event()
        results, errors = [], []

        def first_run():
            def hold():
                generated.set()
                release.wait(60)
            try:
                results.append(run_in_transaction(generate, hold))
            except Exception as exception:  # pragma: no cover
                errors.append(exception)
                generated.set()

        thread = threading.Thread(target=first_run)
        thread.start()
        try:
            self.assertTrue(generated.wait(60))
            # The second run can not take the lock while the first holds it
            try:
                run_in_transaction(generate)
            except backend.DatabaseOperationalError:
                blocked.append(True)
        finally:
            release.set()
            thread.join(60)
        self.assertFalse(errors)
        self.assertEqual(blocked, [True])
        self.assertEqual(len(results[0]), 5)

        # Retried once the first committed, it finds the same reminders
        second = run_in_transaction(generate)
        self.assertEqual(sorted(second), sorted(results[0]))

        def count():
            Dunning = Pool().get('account.invoice.dunning')
            return Dunning.search([('company', '=', company_id)], count=True)
        self.assertEqual(run_in_transaction(count), 5)
