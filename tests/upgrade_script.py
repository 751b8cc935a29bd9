# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The steps of tests/test_upgrade.py, each run in a process of its own

    python upgrade_script.py [--module-dir DIR] STEP ARGS...

--module-dir DIR loads the module from DIR (the code of an older revision,
extracted by git archive) as trytond.modules.account_invoice_dunning instead
of the installed one. The steps:

    createdb NAME          create the empty database NAME
    dropdb NAME            drop the database NAME
    admin ARGS...          trytond-admin ARGS
    build NAME             fill NAME: invoices, reminders processed with
                           their letters, waivers, segments and their log
    summary NAME FILE      write to FILE (JSON) what the module keeps in
                           NAME: its records with their stored fields, the
                           letters' sha1, its XML ids
    use NAME FILE          run the next reminders (the create wizard) and
                           process them; write to FILE (JSON) what was made

The database settings come from the environment (TRYTOND_DATABASE__URI and
TRYTOND_DATABASE__PATH). This script must work with the code of the baseline
revision as with the current one: it uses only the models, their public
fields and the classmethods of the baseline in build (which only ever runs
with the baseline code), and only the ORM's generic API in summary.
"""
import datetime as dt
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from decimal import Decimal

MODULE = 'account_invoice_dunning'
PACKAGE = 'trytond.modules.' + MODULE
ADMIN = 'admin'

# The dates of the scenario: invoices of 5 January 2026, due 4 February
INVOICE_DATE = dt.date(2026, 1, 5)
FIRST_RUN = dt.date(2026, 2, 11)
SECOND_RUN = dt.date(2026, 3, 4)
CLASSIFY_DATE = dt.date(2026, 3, 6)
# After the upgrade: the third reminders
USE_DATE = dt.date(2026, 3, 20)
INVOICES = 6


class ModuleFinder:
    "Find the module, and its submodules, in a directory of one's choice"

    def __init__(self, directory):
        self.directory = directory

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            return importlib.util.spec_from_file_location(
                fullname, os.path.join(self.directory, '__init__.py'),
                submodule_search_locations=[self.directory])
        if fullname.startswith(PACKAGE + '.'):
            # path: the __path__ of the parent, in self.directory
            return importlib.machinery.PathFinder.find_spec(fullname, path)
        return None


def load_module_from(directory):
    """Make directory the module: before any other finder (the editable
    install's included), so that trytond imports it, its submodules, and
    finds its files (tryton.cfg, XML, reports) there"""
    directory = os.path.abspath(directory)
    sys.meta_path.insert(0, ModuleFinder(directory))
    import trytond.modules  # noqa: F401
    module = importlib.import_module(PACKAGE)
    assert os.path.dirname(module.__file__) == directory, module.__file__


def createdb(name):
    "Create the database name, dropped first if it exists (a killed run)"
    from trytond import backend
    database = backend.Database()
    database.connect()
    if name in database.list():
        dropdb(name)
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, name)
    finally:
        database.put_connection(connection)
        database.close()


def dropdb(name):
    from trytond import backend
    from trytond.transaction import Transaction
    database = backend.Database(name)
    database.close()
    with Transaction().start(
            None, 0, close=True, autocommit=True) as transaction:
        database.drop(transaction.connection, name)


def admin(args):
    from trytond.cli.admin import main
    sys.argv = ['trytond-admin'] + list(args)
    main()


def _euro():
    from trytond.pool import Pool
    pool = Pool()
    Currency = pool.get('currency.currency')
    Rate = pool.get('currency.currency.rate')
    currency, = Currency.create([{
                'name': 'Euro', 'symbol': '€', 'code': 'EUR'}])
    Rate.create([{
                'date': dt.date(2020, 1, 1), 'rate': Decimal(1),
                'currency': currency.id}])
    return currency


def _chart(company):
    "Create the minimal chart of accounts of company"
    from trytond.pool import Pool
    pool = Pool()
    AccountTemplate = pool.get('account.account.template')
    ModelData = pool.get('ir.model.data')
    CreateChart = pool.get('account.create_chart', type='wizard')
    Account = pool.get('account.account')
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


def _fiscalyear(company, year):
    from trytond.pool import Pool
    pool = Pool()
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')
    FiscalYear = pool.get('account.fiscalyear')
    move_type, = SequenceType.search([('name', '=', "Account Move")])
    invoice_type, = SequenceType.search([('name', '=', "Invoice")])
    move_sequence, invoice_sequence = Sequence.create([{
                'name': str(year), 'sequence_type': move_type.id,
                'company': company.id,
                }, {
                'name': str(year), 'sequence_type': invoice_type.id,
                'company': company.id,
                }])
    fiscalyear, = FiscalYear.create([{
                'name': str(year),
                'company': company.id,
                'start_date': dt.date(year, 1, 1),
                'end_date': dt.date(year, 12, 31),
                'move_sequence': move_sequence.id,
                'invoice_sequences': [('create', [{
                                'in_invoice_sequence': invoice_sequence.id,
                                'in_credit_note_sequence': (
                                    invoice_sequence.id),
                                'out_invoice_sequence': invoice_sequence.id,
                                'out_credit_note_sequence': (
                                    invoice_sequence.id),
                                }])],
                }])
    FiscalYear.create_period([fiscalyear])


def build(name):
    """Fill the database with what the module keeps: reminders done (with
    their letters), cancelled and in draft, penalties, waivers on a party
    and an invoice, segments set by hand and by the classification"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    pool = Pool(name)
    pool.init()
    with Transaction().start(name, 0) as transaction:
        User = pool.get('res.user')
        admin_user, = User.search([('login', '=', 'admin')])
        admin_id = admin_user.id
        transaction.commit()

    extras = {}
    while True:
        with Transaction().start(name, admin_id, **extras) as transaction:
            try:
                _fill(pool, admin_id)
            except TransactionError as error:
                # A lock taken in the middle: start again with it
                transaction.rollback()
                error.fix(extras)
                continue
            transaction.commit()
            break


def _fill(pool, admin_id):
    from trytond.transaction import Transaction
    transaction = Transaction()
    User = pool.get('res.user')

    company = _company(pool, admin_id)
    with transaction.set_context(
            User.get_preferences(context_only=True)):
        term, revenue, journal = _accounting(pool, company)
        parties, invoices = _invoices(pool, company, term, revenue, journal)
        _waivers_and_segments(pool, company, parties, invoices)
        _reminders(pool)


def _company(pool, admin_id):
    "The company, in euros, of the user admin_id"
    from trytond.transaction import Transaction
    User = pool.get('res.user')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    with Transaction().set_user(0):
        party, = Party.create([{
                    'name': "Dunder Mifflin",
                    'addresses': [('create', [{}])]}])
        company, = Company.create([{
                    'party': party.id, 'currency': _euro().id}])
        User.write([User(admin_id)], {
                'companies': [('add', [company.id])],
                'company': company.id,
                })
    return company


def _accounting(pool, company):
    """The chart, the fiscal year, the payment term at 30 days and the
    default segment of company; return the term, the revenue account and
    the journal of the invoices"""
    Account = pool.get('account.account')
    Configuration = pool.get('account.configuration')
    Journal = pool.get('account.journal')
    ModelData = pool.get('ir.model.data')
    PaymentTerm = pool.get('account.invoice.payment_term')
    _chart(company)
    _fiscalyear(company, INVOICE_DATE.year)
    term, = PaymentTerm.create([{
                'name': "30 days",
                'lines': [('create', [{
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }])],
                }])
    configuration = Configuration(1)
    configuration.default_dunning_segment = ModelData.get_id(
        MODULE, 'segment_standard')
    configuration.save()
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('company', '=', company.id),
            ('closed', '!=', True),
            ], limit=1)
    journal, = Journal.search([('type', '=', 'revenue')], limit=1)
    return term, revenue, journal


def _invoices(pool, company, term, revenue, journal):
    "INVOICES customers, each with an invoice posted; return both"
    from trytond.transaction import Transaction
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    parties = Party.create([{
                'name': "Customer %s" % i,
                # Professionals owe the interest and the indemnity
                'customer_type': 'professional',
                'addresses': [('create', [{
                                'street': "%s rue de la Paix" % i,
                                'postal_code': '75002',
                                'city': "Paris",
                                }])]}
            for i in range(INVOICES)])
    invoices = Invoice.create([{
                'type': 'out',
                'company': company.id,
                'party': p.id,
                'invoice_address': p.addresses[0].id,
                'account': p.account_receivable_used.id,
                'currency': company.currency.id,
                'invoice_date': INVOICE_DATE,
                'payment_term': term.id,
                'journal': journal.id,
                'lines': [('create', [{
                                'account': revenue.id,
                                'description': "Services",
                                'quantity': 1,
                                'unit_price': Decimal(100 * (i + 1)),
                                }])],
                } for i, p in enumerate(parties)])
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post(invoices)
    return parties, invoices


def _waivers_and_segments(pool, company, parties, invoices):
    """Waivers: of a party (all its invoices) and of an invoice; a segment
    set by hand (logged), pinned on another party"""
    Invoice = pool.get('account.invoice')
    ModelData = pool.get('ir.model.data')
    Party = pool.get('party.party')
    PartySegment = pool.get('party.party.dunning_segment')
    Party.write([parties[0]], {
            'dunning_penalty_waived': True,
            'dunning_penalty_waiver_reason': "Long-standing customer",
            })
    Invoice.write([invoices[1]], {
            'dunning_penalty_waived': True,
            'dunning_penalty_waiver_reason': "Disputed delivery",
            })
    PartySegment.create([{
                'party': parties[2].id,
                'company': company.id,
                'dunning_segment': ModelData.get_id(
                    MODULE, 'segment_standard'),
                }, {
                'party': parties[3].id,
                'company': company.id,
                'dunning_segment': ModelData.get_id(
                    MODULE, 'segment_standard'),
                'dunning_segment_pinned': True,
                }])


def _reminders(pool):
    """The reminders of the two runs (processed, cancelled, in draft) and
    the classification of the parties"""
    Dunning = pool.get('account.invoice.dunning')
    Party = pool.get('party.party')
    # First reminders, processed: their letters archived
    dunnings = Dunning.generate_dunnings(date=FIRST_RUN)
    assert dunnings, "no reminder on %s" % FIRST_RUN
    Dunning.process(dunnings)
    # The tracking number of a letter, recorded once sent
    Dunning.write(dunnings[:1], {'tracking_number': 'RR123456785FR'})
    # Second reminders with their penalties: processed, except one
    # cancelled and one left in draft
    dunnings = Dunning.generate_dunnings(date=SECOND_RUN)
    assert len(dunnings) >= 3, dunnings
    dunnings.sort(key=lambda d: d.invoice.id)
    Dunning.cancel(dunnings[-1:])
    Dunning.write(dunnings[:1], {
            'note': "Called the customer",
            })
    Dunning.process(dunnings[:-2])
    # The automatic classification of the parties, logged
    Party.classify_dunning_segments(date=CLASSIFY_DATE)


def _value(value):
    "value in JSON"
    if isinstance(value, bytes):
        return 'sha1:' + hashlib.sha1(value).hexdigest()
    if isinstance(value, (Decimal, dt.date, dt.datetime, dt.time,
                dt.timedelta)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value


# Fields that an upgrade may change: the record's last writing, and where
# the file of a letter is kept in the file store (its bytes are compared)
VOLATILE = {'write_date', 'write_uid', 'letter_id'}
# Fields stored once, now read from another record by a Function field of
# the same name: their values must be kept
MOVED = {
    # The letters and tracking numbers of the reminders are those of their
    # dispatches (issue 13)
    'account.invoice.dunning': {'letter', 'letter_format',
        'tracking_number'},
    }


def _stored_fields(Model, names=None):
    from trytond.model import fields
    result = []
    moved = MOVED.get(Model.__name__, set())
    for name, field in Model._fields.items():
        if names is not None and name not in names:
            continue
        if name in VOLATILE or (name not in moved and isinstance(field, (
                        fields.Function, fields.One2Many,
                        fields.Many2Many))):
            continue
        result.append(name)
    return sorted(result)


def summary(name, path):
    """What the module keeps in the database, in JSON: {model: {id: {field:
    value}}} for its own models (every stored field) and the models it
    extends (the stored fields it adds), binaries as their sha1; the XML ids
    of its records; the bytes of an archived letter printed again"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, inactive_records

    pool = Pool(name)
    pool.init()
    with Transaction().start(name, 0, readonly=True), inactive_records():
        ModelData = pool.get('ir.model.data')
        result = {'records': _records(pool)}
        result['xml_ids'] = {
            d.fs_id: [d.model, d.db_id]
            for d in ModelData.search([('module', '=', MODULE)])}
        result.update(_reminders_and_letters(pool))
    with open(path, 'w') as fp:
        json.dump(result, fp, indent=1, sort_keys=True)


def _module_models(pool):
    """The models of the module: its own ones, and the ones it extends
    with the names of the fields it adds"""
    IrModel = pool.get('ir.model')
    IrField = pool.get('ir.model.field')
    # trytond 8.0: the name of the model in name (ir.model) and model
    # (ir.model.field)
    own = {m.name for m in IrModel.search([('module', '=', MODULE)])}
    extended = {}
    for field in IrField.search([('module', '=', MODULE)]):
        if field.model not in own:
            extended.setdefault(field.model, set()).add(field.name)
    return own, extended


def _records(pool):
    "{model: {id: {field: value}}} of the module's models"
    from trytond.model import ModelSQL
    records = {}
    own, extended = _module_models(pool)
    for model in sorted(own | set(extended)):
        try:
            Model = pool.get(model)
        except KeyError:
            records[model] = 'missing from the pool'
            continue
        if (not issubclass(Model, ModelSQL)
                or getattr(Model, 'table_query', None) is not None
                and Model.table_query != ModelSQL.table_query):
            continue
        records[model] = _model_records(Model, extended.get(model))
    return records


def _model_records(Model, names):
    "{id: {field: value}} of the stored fields (among names) of Model"
    from trytond.model import fields
    names = _stored_fields(Model, names)
    records = Model.search([], order=[('id', 'ASC')])
    rows = Model.read([r.id for r in records], names)
    booleans = {n for n in names
        if isinstance(Model._fields[n], fields.Boolean)}
    return {
        str(r['id']): _value({
                k: bool(v) if k in booleans else v
                for k, v in r.items()})
        for r in rows}


def _reminders_and_letters(pool):
    """The reminders by state, the number of letters, and the first archived
    letter printed again (the same bytes)"""
    Dunning = pool.get('account.invoice.dunning')
    result = {'reminders_by_state': {}}
    for dunning in Dunning.search([]):
        state = result['reminders_by_state']
        state[dunning.state] = state.get(dunning.state, 0) + 1
    # A letter printed again from the archive: the same bytes
    letters = Dunning.search([('state', '=', 'done')],
        order=[('id', 'ASC')])
    letters = [d for d in letters if d.letter]
    if letters:
        Report = pool.get(
            'account.invoice.dunning.letter.archived', type='report')
        ext, content, _, _ = Report.execute([letters[0].id], {
                'model': Dunning.__name__,
                'id': letters[0].id,
                'ids': [letters[0].id],
                })
        result['archived_letter'] = [
            letters[0].id, ext, _value(bytes(content))]
    result['letters'] = len(letters)
    return result


def use(name, path):
    """Run the next reminders with the create wizard and process them (the
    button): the upgraded database works; write to FILE (JSON) the
    reminders made and their letters"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    pool = Pool(name)
    pool.init()
    with Transaction().start(name, 0) as transaction:
        User = pool.get('res.user')
        admin_user, = User.search([('login', '=', 'admin')])
        admin_id = admin_user.id
    extras = {}
    while True:
        with Transaction().start(name, admin_id, **extras) as transaction:
            try:
                with transaction.set_context(
                        User.get_preferences(context_only=True)):
                    result = _use(pool)
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            transaction.commit()
            break
    with open(path, 'w') as fp:
        json.dump(result, fp, indent=1, sort_keys=True)


def _use(pool):
    from trytond.transaction import Transaction
    Dunning = pool.get('account.invoice.dunning')
    CreateDunning = pool.get('account.invoice.dunning.create', type='wizard')
    company = Transaction().context['company']
    before = {d.id for d in Dunning.search([])}
    session_id, start, _ = CreateDunning.create()
    CreateDunning.execute(session_id, {
            start: {'date': USE_DATE, 'companies': [company]},
            }, 'create_')
    CreateDunning.delete(session_id)
    drafts = Dunning.search([('state', '=', 'draft')])
    Dunning.process(drafts)
    made = [d for d in Dunning.search([]) if d.id not in before]
    return {
        'made': len(made),
        'done': sorted(d.id for d in drafts
            if Dunning(d.id).state == 'done'),
        'letters': sorted(d.id for d in drafts if Dunning(d.id).letter),
        }


def main(args):
    # Not the tests folder (the default sys.path[0]): nothing to shadow
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(
            os.path.abspath(__file__)):
        del sys.path[0]
    if args[:1] == ['--module-dir']:
        load_module_from(args[1])
        args = args[2:]
    step, *args = args
    if step == 'createdb':
        createdb(*args)
    elif step == 'dropdb':
        dropdb(*args)
    elif step == ADMIN:
        admin(args)
    elif step == 'build':
        build(*args)
    elif step == 'summary':
        summary(*args)
    elif step == 'use':
        use(*args)
    else:
        raise SystemExit("unknown step %r" % step)


if __name__ == '__main__':
    main(sys.argv[1:])
