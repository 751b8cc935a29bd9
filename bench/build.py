# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The data of the benchmark, built by a worker in the template database:
the modules, the company and its accounting, both procedures, N/10
customers, N posted invoices and their payments (see bench/README.rst)."""
import datetime as dt
import random
import time
from decimal import Decimal

from base import (
    CHUNK, INVOICES_PER_CUSTOMER, MODULE, MODULES, SEED, log, run_transaction)


def build(spec):
    "Create the database: modules, company, customers, invoices, payments"
    database_name = spec['database']
    n_invoices = spec['invoices']
    date = dt.date.fromisoformat(spec['date'])
    seconds = {}

    seconds['activate'] = activate(database_name, spec.get('fast_build'))
    start = time.perf_counter()
    setup, _ = run_transaction(database_name, 0,
        lambda: setup_company(date))
    seconds['setup'] = round(time.perf_counter() - start, 1)
    context = {'company': setup['company'], '_skip_warnings': True}

    start = time.perf_counter()
    n_customers = max(1, n_invoices // INVOICES_PER_CUSTOMER)
    rng = random.Random(SEED)
    customers = []
    for offset in range(0, n_customers, CHUNK):
        count = min(CHUNK, n_customers - offset)
        customers += run_transaction(database_name, 0,
            lambda: create_customers(offset, count, setup, rng),
            context=context)[0]
    seconds['customers'] = round(time.perf_counter() - start, 1)
    log("%d customers in %.1f s" % (n_customers, seconds['customers']))

    plan = invoice_plan(n_invoices, customers, date, rng)
    stats = plan_stats(plan, n_customers)
    log("Creating and posting %d invoices (%d with two installments), "
        "paying %d fully and %d partially..." % (n_invoices,
            stats['installments'], stats['paid'], stats['partial']))
    seconds.update(build_invoices(database_name, plan, setup, context))
    run_transaction(database_name, 0, clean_queue)
    run_transaction(database_name, 0, fix_data)
    return {'build_seconds': seconds, 'data': stats, 'setup': setup,
        'data_fixes': DATA_FIXES}


def activate(database_name, fast_build=False):
    "Create the database, activate the modules; return the seconds taken"
    from trytond import backend
    from trytond.pool import Pool
    if fast_build:
        # Same data, without Tryton's checks of each record created or
        # written (domains, required fields, constraints): they cost about
        # a third of the build and the 10,000 invoices build passes them.
        # No public way to skip them (metrics: private-ok on the line)
        from trytond.model import ModelStorage
        ModelStorage._validate = classmethod(  # metrics: private-ok
            lambda cls, records, field_names=None: None)
    start = time.perf_counter()
    log("Activating %s (one database, both dunning modules)..."
        % ', '.join(MODULES))
    database = backend.Database(database_name)
    database.connect()
    if not database.test():
        database.init()
    pool = Pool(database_name)
    pool.init(update=MODULES, lang=['en'], activatedeps=True)
    seconds = round(time.perf_counter() - start, 1)
    log("  %.1f s" % seconds)
    return seconds


def plan_stats(plan, n_customers):
    "What the plan holds"
    stats = {'invoices': len(plan), 'customers': n_customers,
        'installments': sum(1 for p in plan if p['installments']),
        'paid': sum(1 for p in plan if p['outcome'] == 'paid'),
        'partial': sum(1 for p in plan if p['outcome'] == 'partial'),
        }
    stats['open'] = len(plan) - stats['paid'] - stats['partial']
    return stats


def build_invoices(database_name, plan, setup, context):
    """Create, post and pay the invoices of plan, by chunks, a transaction
    each; return the seconds taken"""
    n_invoices = len(plan)
    start = time.perf_counter()
    times = {'create': 0., 'post': 0., 'pay': 0.}
    # The locks asked by posting and paying, taken at the start of the
    # next transactions instead of restarting them
    locks = {}
    offset = 0
    while offset < n_invoices:
        # A small first chunk finds the locks
        chunk = plan[offset:offset + (CHUNK if offset else 10)]
        chunk_times, _ = run_transaction(database_name, 0,
            lambda: create_invoices(chunk, setup), context=context,
            extras=locks)
        for k, v in chunk_times.items():
            times[k] += v
        offset = done = offset + len(chunk)
        elapsed = time.perf_counter() - start
        log("  %d/%d invoices, %.0f s (%.0f invoices/s)" % (
                done, n_invoices, elapsed, done / elapsed))
    seconds = {'invoices': round(time.perf_counter() - start, 1)}
    seconds.update({'invoices_' + k: round(v, 1) for k, v in times.items()})
    return seconds


def clean_queue():
    """Delete the tasks queued by posting (invoice reports) and reconciling
    (invoices set to paid, done by the build): no worker runs them here"""
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    cursor.execute('DELETE FROM "ir_queue"')


def setup_company(date):
    "Company, accounting, payment terms, bank and both procedures"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Company = pool.get('company.company')
    Country = pool.get('country.country')
    Currency = pool.get('currency.currency')
    CurrencyRate = pool.get('currency.currency.rate')
    Party = pool.get('party.party')
    User = pool.get('res.user')

    eur, = Currency.create([{'name': "Euro", 'code': 'EUR', 'symbol': '€',
                'rounding': Decimal('0.01'), 'digits': 2}])
    CurrencyRate.create([{'currency': eur.id, 'rate': Decimal(1),
                'date': dt.date(2000, 1, 1)}])
    france, = Country.create([{'name': "France", 'code': 'FR'}])
    company_party, = Party.create([{
                'name': "Atelier Dupont SARL",
                'addresses': [('create', [{
                                'street': "18 rue des Petites-Écuries",
                                'postal_code': '75010', 'city': "Paris",
                                'country': france.id}])],
                'contact_mechanisms': [('create', [
                            {'type': 'phone', 'value': '+33142466600'},
                            {'type': 'email',
                                'value': 'contact@atelier-dupont.fr'},
                            ])],
                }])
    company = Company(party=company_party, currency=eur)
    company.save()
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })

    with Transaction().set_context(company=company.id):
        setup = create_chart(company)
        create_fiscal_years(company, date)
        setup.update(create_terms_and_journals())
        create_bank_account(company_party, eur)
        setup['core_procedure'] = configure_dunning()
    setup.update(company=company.id, admin=admin.id, country=france.id)
    return setup


def create_chart(company):
    """The minimal chart of account of Tryton, as the tests do; return the
    ids of the accounts used"""
    from trytond.pool import Pool
    pool = Pool()
    Account = pool.get('account.account')
    AccountTemplate = pool.get('account.account.template')
    CreateChart = pool.get('account.create_chart', type='wizard')
    ModelData = pool.get('ir.model.data')

    template = AccountTemplate(ModelData.get_id(
            'account', 'account_template_root_en'))
    session_id, _, _ = CreateChart.create()
    create_chart = CreateChart(session_id)
    create_chart.account.account_template = template
    create_chart.account.company = company
    create_chart.transition_create_account()
    receivable, = Account.search([
            ('type.receivable', '=', True),
            ('party_required', '=', True),
            ('company', '=', company.id),
            ], limit=1)
    payable, = Account.search([
            ('type.payable', '=', True),
            ('party_required', '=', True),
            ('company', '=', company.id),
            ], limit=1)
    create_chart.properties.company = company
    create_chart.properties.account_receivable = receivable
    create_chart.properties.account_payable = payable
    create_chart.transition_create_properties()
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('company', '=', company.id),
            ('closed', '!=', True),
            ], limit=1)
    cash, = Account.search([
            ('company', '=', company.id),
            ('code', '=', '1.1.1'),
            ], limit=1)
    return {'receivable': receivable.id, 'revenue': revenue.id,
        'cash': cash.id}


def create_fiscal_years(company, date):
    "Fiscal years of the invoices (the 6 months before D) and of D+30"
    from trytond.pool import Pool
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')

    move_type, = SequenceType.search([('name', '=', "Account Move")])
    invoice_type, = SequenceType.search([('name', '=', "Invoice")])
    first = date - dt.timedelta(days=190)
    last = date + dt.timedelta(days=40)
    for year in range(first.year, last.year + 1):
        move_sequence, invoice_sequence = Sequence.create([{
                    'name': "Moves %s" % year,
                    'sequence_type': move_type.id,
                    'company': company.id,
                    }, {
                    'name': "Invoices %s" % year,
                    'sequence_type': invoice_type.id,
                    'company': company.id,
                    'prefix': 'FA%s-' % year,
                    'padding': 6,
                    }])
        fiscalyear = FiscalYear(name=str(year), company=company,
            start_date=dt.date(year, 1, 1),
            end_date=dt.date(year, 12, 31),
            move_sequence=move_sequence)
        fiscalyear.invoice_sequences = [InvoiceSequence(
                company=company,
                in_invoice_sequence=invoice_sequence,
                in_credit_note_sequence=invoice_sequence,
                out_invoice_sequence=invoice_sequence,
                out_credit_note_sequence=invoice_sequence)]
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])


def create_terms_and_journals():
    "The payment terms; return their ids and those of the journals"
    from trytond.pool import Pool
    pool = Pool()
    Journal = pool.get('account.journal')
    PaymentTerm = pool.get('account.invoice.payment_term')

    term_30, installments = PaymentTerm.create([{
                'name': "30 jours",
                'lines': [('create', [{
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }])],
                }, {
                'name': "50 % à 30 jours, solde à 60 jours",
                'lines': [('create', [{
                                'type': 'percent',
                                'ratio': Decimal('.5'),
                                'divisor': Decimal(2),
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }, {
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 60}])],
                                }])],
                }])
    journal_revenue, = Journal.search([('type', '=', 'revenue')],
        limit=1)
    journal_cash, = Journal.search([('type', '=', 'cash')], limit=1)
    return {
        'journal_revenue': journal_revenue.id,
        'journal_cash': journal_cash.id,
        'term_30': term_30.id,
        'term_installments': installments.id,
        }


def create_bank_account(company_party, currency):
    "A bank account printed on our letters"
    from trytond.pool import Pool
    pool = Pool()
    Bank = pool.get('bank')
    BankAccount = pool.get('bank.account')
    Party = pool.get('party.party')

    bank_party, = Party.create([{'name': "Banque Populaire"}])
    bank, = Bank.create([{'party': bank_party.id, 'bic': 'CCBPFRPPMTG'}])
    BankAccount.create([{
                'bank': bank.id,
                'currency': currency.id,
                'owners': [('add', [company_party.id])],
                'numbers': [('create', [{
                                'type': 'iban',
                                'number': 'FR7610107001011234567890129',
                                }])],
                }])


def configure_dunning():
    """Both procedures, as defaults of the accounting configuration; return
    the id of core's"""
    from trytond.pool import Pool
    pool = Pool()
    Configuration = pool.get('account.configuration')
    CoreProcedure = pool.get('account.dunning.procedure')
    ModelData = pool.get('ir.model.data')

    # Core: overdue 7/21/35/50 days, printed on letters, default of the
    # parties (set before creating them: each party gets it)
    core_procedure, = CoreProcedure.create([{
                'name': "Standard (core)",
                'levels': [('create', [{
                                'sequence': i,
                                'overdue': dt.timedelta(days=days),
                                'print_on_letter': True,
                                } for i, days in enumerate(
                                [7, 21, 35, 50], 1)])],
                }])
    configuration = Configuration(1)
    configuration.default_dunning_procedure = core_procedure
    # Ours: the standard procedure without its pre-reminder, which core
    # has no equivalent of (core dunns from the due date on): both then
    # remind the same invoices at the same levels (7/21/35/50 days)
    Level = pool.get('account.invoice.dunning.level')
    Level.delete([Level(ModelData.get_id(MODULE, 'level_pre_reminder'))])
    # Ours: the default French procedure shipped as data, through the
    # default segment of the company
    configuration.default_dunning_segment = ModelData.get_id(
        MODULE, 'segment_standard')
    configuration.dunning_contact_name = "Service comptabilité clients"
    configuration.dunning_contact_email = "compta@atelier-dupont.fr"
    configuration.dunning_contact_phone = "+33 1 42 46 66 01"
    configuration.dunning_signatory = "Claire Martin"
    configuration.dunning_signatory_title = "Responsable du recouvrement"
    configuration.save()
    return core_procedure.id


CITIES = [('75011', "Paris"), ('69002', "Lyon"), ('13002', "Marseille"),
    ('44000', "Nantes"), ('59000', "Lille"), ('67000', "Strasbourg"),
    ('35000', "Rennes"), ('33000', "Bordeaux"), ('31000', "Toulouse")]
NAMES = ["Boulangerie", "Garage", "Librairie", "Hôtel", "Menuiserie",
    "Café", "Imprimerie", "Pharmacie", "Cabinet", "Atelier"]


def create_customers(offset, count, setup, rng):
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    values = []
    for i in range(offset, offset + count):
        postal_code, city = rng.choice(CITIES)
        values.append({
                'name': "%s %05d" % (rng.choice(NAMES), i + 1),
                'addresses': [('create', [{
                                'street': "%d rue de la République"
                                % rng.randint(1, 200),
                                'postal_code': postal_code,
                                'city': city,
                                'country': setup['country'],
                                }])],
                'contact_mechanisms': [('create', [{
                                'type': 'email',
                                'value': 'client%05d@example.com' % (i + 1),
                                }])],
                })
    parties = Party.create(values)
    return [(p.id, p.addresses[0].id) for p in parties]


# The share of invoices in two installments. None since BUILD_VERSION 4:
# core dunns each unpaid line of an invoice, ours the invoice, so with
# installments the two modules do not do the same work (the bench compares
# only the same reminders, see report.same_work). Set it to .2 to measure
# ours on invoices in installments.
INSTALLMENTS = 0


def invoice_plan(n_invoices, customers, date, rng):
    """What to create: dates spread over the 6 months before date, at 30
    days (see INSTALLMENTS), about 30 % fully paid, 15 % partially paid,
    the rest open; sorted by date (numbering order)"""
    plan = []
    for i in range(n_invoices):
        party, address = customers[rng.randrange(len(customers))]
        invoice_date = date - dt.timedelta(days=rng.randint(1, 183))
        lines = [(rng.randint(1, 5), Decimal(rng.randint(2000, 150000))
                / 100) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
        u = rng.random()
        outcome = 'paid' if u < .30 else 'partial' if u < .45 else 'open'
        pay_date = min(invoice_date + dt.timedelta(days=rng.randint(5, 65)),
            date - dt.timedelta(days=1))
        plan.append({
                'party': party,
                'address': address,
                'date': invoice_date,
                # Drawn all the same: the rest of the data stays as it was
                'installments': rng.random() < INSTALLMENTS,
                'lines': lines,
                'outcome': outcome,
                'ratio': Decimal(rng.randint(20, 80)) / 100,
                'pay_date': pay_date,
                })
    plan.sort(key=lambda p: p['date'])
    return plan


def create_invoices(chunk, setup):
    """Create, post and pay a chunk of the plan in bulk; return the seconds
    of each part"""
    from trytond.pool import Pool
    pool = Pool()
    Invoice = pool.get('account.invoice')
    times = {}

    start = time.perf_counter()
    invoices = Invoice.create([{
                'type': 'out',
                'company': setup['company'],
                'party': p['party'],
                'invoice_address': p['address'],
                'account': setup['receivable'],
                'invoice_date': p['date'],
                'payment_term': setup['term_installments'
                    if p['installments'] else 'term_30'],
                'journal': setup['journal_revenue'],
                'lines': [('create', [{
                                'account': setup['revenue'],
                                'description': "Prestations %d" % n,
                                'quantity': quantity,
                                'unit_price': price,
                                } for n, (quantity, price) in enumerate(
                                p['lines'], 1)])],
                } for p in chunk])
    times['create'] = time.perf_counter() - start

    start = time.perf_counter()
    # The chunk is sorted by date, and the chunks come in date order
    Invoice.post(invoices)
    times['post'] = time.perf_counter() - start

    start = time.perf_counter()
    pay_invoices(Invoice.browse(invoices), chunk, setup)
    times['pay'] = time.perf_counter() - start
    return times


def pay_invoices(invoices, chunk, setup):
    """Pay the invoices of the chunk that its plan says paid (reconciled) or
    partially paid (a payment line)"""
    from trytond.pool import Pool
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')

    payments = [(i, p) for i, p in zip(invoices, chunk)
        if p['outcome'] != 'open']
    periods = {}
    moves = []
    for invoice, p in payments:
        if p['outcome'] == 'paid':
            amount = invoice.total_amount
        else:
            amount = (invoice.total_amount * p['ratio']).quantize(
                Decimal('0.01'))
        pay_date = p['pay_date']
        if pay_date not in periods:
            periods[pay_date] = Period.find(setup['company'], date=pay_date)
        moves.append(Move(
                journal=setup['journal_cash'],
                period=periods[pay_date],
                date=pay_date,
                origin=invoice,
                company=setup['company'],
                description="Virement %s" % invoice.number,
                lines=[
                    MoveLine(account=setup['receivable'],
                        party=invoice.party, debit=0, credit=amount),
                    MoveLine(account=setup['cash'], debit=amount, credit=0),
                    ]))
    Move.save(moves)
    Move.post(moves)
    payment_lines = {}
    for (invoice, p), move in zip(payments, moves):
        line, = [l for l in move.lines if l.account.id == setup['receivable']]
        payment_lines[invoice] = line
    Invoice.add_payment_lines({i: [l] for i, l in payment_lines.items()})
    paid = [i for i, p in payments if p['outcome'] == 'paid']
    paid = Invoice.browse(paid)
    MoveLine.reconcile(*[list(i.lines_to_pay) + [payment_lines[i]]
            for i in paid])
    Invoice.process(Invoice.browse(paid))


def upgrade(spec):
    from trytond.pool import Pool
    pool = Pool(spec['database'])
    pool.init(update=[MODULE], lang=['en'])
    run_transaction(spec['database'], 0, fix_data)
    return {}


# Bump it when fix_data changes: the templates are fixed at their upgrade
DATA_FIXES = 3
# The module ships no rate for the second half of 2026 (not confirmed in
# our sources): the benchmark assumes the rates of the first half continue
BENCH_RATE_DATES = [dt.date(2026, 7, 1), dt.date(2027, 1, 1)]


def fix_data():
    """Bring the data of a template to what the current build creates

    1. The customers are companies: professionals, who owe the interest
       and the 40 EUR indemnity from their due dates.
    2. The rate tables have a value for each half-year of the benchmark
       (BENCH_RATE_DATES: an assumption of the benchmark, not data of the
       module).
    3. The company has the mentions its letters must carry (legal form,
       share capital, RCS), as the demo's: without them processing the
       reminders warns the user and stops."""
    from sql import Null

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Party = pool.get('party.party')
    RateTable = pool.get('account.invoice.dunning.rate')
    RateValue = pool.get('account.invoice.dunning.rate.value')
    party = Party.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*party.update([party.customer_type], ['professional'],
            where=party.customer_type == Null))
    values = []
    for table in RateTable.search([]):
        dates = {v.date for v in table.values}
        for date in BENCH_RATE_DATES:
            if date not in dates and table.values:
                last = max((v for v in table.values if v.date < date),
                    key=lambda v: v.date)
                values.append({'rate_table': table.id, 'date': date,
                        'rate': last.rate})
    RateValue.create(values)
    fix_company_mentions()


def fix_company_mentions():
    "The legal form, share capital and RCS of the company (fix_data 3)"
    from trytond.pool import Pool
    pool = Pool()
    Company = pool.get('company.company')
    Identifier = pool.get('party.identifier')
    if not hasattr(Company, 'legal_form'):
        # The versions of the module before the mentions
        return
    for company in Company.search([]):
        if not company.legal_form:
            Company.write([company], {'legal_form': "SARL",
                    'share_capital': Decimal('20000')})
        if not company.dunning_registration():
            Identifier.create([{'party': company.party.id, 'type': 'fr_rcs',
                        'code': 'RCS Paris B 303 265 045'}])
