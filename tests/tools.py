# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Helpers shared by the scenarios: accounting set-up, invoices, payments."
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from proteus import Model, Wizard

from trytond.modules.account.tests.tools import (
    create_chart, create_fiscalyear, get_accounts)
from trytond.modules.account_invoice.tests.tools import (
    set_fiscalyear_invoice_sequences)
from trytond.modules.company.tests.tools import create_company, get_company
from trytond.modules.currency.tests.tools import get_currency

from .db_cache import activate_scenario

__all__ = ['activate_modules', 'create_euro_company', 'setup_accounting',
    'create_invoice', 'pay_invoice', 'create_dunnings', 'default_procedure',
    'zip_texts', 'letter_text']


def activate_modules(modules, *setup):
    """trytond.tests.tools.activate_modules for the scenarios: the database
    of the modules and setup cached, built the first time from the cached
    activated database (tests/db_cache.py)"""
    return activate_scenario(modules, *setup)


def create_euro_company(config=None):
    """Create the company in euros: the currency of the legal indemnity of
    the shipped procedure"""
    return create_company(currency=get_currency('EUR', config=config),
        config=config)


def setup_accounting(years=(2026,), company=None, config=None):
    """Create the fiscal years, chart, payment terms and payment method of
    company; return them in a namespace"""
    if company is None:
        company = get_company(config=config)
    create_chart(company, config=config)
    for year in years:
        fiscalyear = set_fiscalyear_invoice_sequences(
            create_fiscalyear(company,
                (dt.date(year, 1, 1), dt.date(year, 12, 31)),
                config=config), config=config)
        fiscalyear.click('create_period')
    accounts = get_accounts(company, config=config)

    PaymentTerm = Model.get('account.invoice.payment_term', config=config)
    term_30 = PaymentTerm(name="30 days")
    line = term_30.lines.new(type='remainder')
    line.relativedeltas.new(days=30)
    term_30.save()
    installments = PaymentTerm(name="Two installments 30/60")
    line = installments.lines.new(type='percent', ratio=Decimal('.5'))
    line.relativedeltas.new(days=30)
    line = installments.lines.new(type='remainder')
    line.relativedeltas.new(days=60)
    installments.save()

    Journal = Model.get('account.journal', config=config)
    PaymentMethod = Model.get(
        'account.invoice.payment.method', config=config)
    journal_cash, = Journal.find([('type', '=', 'cash')])
    payment_method = PaymentMethod(name="Bank transfer")
    payment_method.journal = journal_cash
    payment_method.credit_account = accounts['cash']
    payment_method.debit_account = accounts['cash']
    payment_method.save()
    return SimpleNamespace(
        company=company, accounts=accounts, term_30=term_30,
        installments=installments, payment_method=payment_method)


def create_invoice(setup, party, date, amount, payment_term=None,
        post=True, description="Services", config=None):
    "Create (and post) a customer invoice of amount dated date"
    Invoice = Model.get('account.invoice', config=config)
    invoice = Invoice(type='out', company=setup.company)
    invoice.party = party
    invoice.invoice_date = date
    invoice.payment_term = payment_term or setup.term_30
    line = invoice.lines.new()
    line.account = setup.accounts['revenue']
    line.description = description
    line.quantity = 1
    line.unit_price = Decimal(amount)
    invoice.save()
    if post:
        invoice.click('post')
    return invoice


def pay_invoice(setup, invoice, amount, date, config=None):
    "Register a (partial) payment of amount on date"
    pay = invoice.click('pay')
    pay.form.payment_method = setup.payment_method
    pay.form.date = date
    pay.form.amount = Decimal(amount)
    pay.execute('choice')
    if pay.state != 'end' and pay.form_state == 'ask':
        pay.form.type = 'partial'
        pay.execute('pay')
    invoice.reload()
    return invoice


def create_dunnings(date, companies=None, config=None):
    "Run the create wizard on date; return the reminders it opened"
    create = Wizard('account.invoice.dunning.create', config=config)
    create.form.date = date
    if companies is not None:
        create.form.companies.clear()
        Company = Model.get('company.company', config=config)
        create.form.companies.extend([Company(c.id) for c in companies])
    create.execute('create_')
    dunnings, = create.actions
    return sorted(dunnings, key=lambda d: d.invoice.id)


def default_procedure(config=None):
    "The procedure shipped as data, with its default segment"
    ModelData = Model.get('ir.model.data', config=config)
    Procedure = Model.get('account.invoice.dunning.procedure', config=config)
    Segment = Model.get('account.invoice.dunning.segment', config=config)
    procedure_id = ModelData.get_id(
        'account_invoice_dunning', 'procedure_standard', config.context)
    segment_id = ModelData.get_id(
        'account_invoice_dunning', 'segment_standard', config.context)
    return Procedure(procedure_id), Segment(segment_id)


def zip_texts(data):
    "Return the text of the content.xml of an OpenDocument"
    import io
    import re
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as odt:
        content = odt.read('content.xml').decode('utf-8')
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', content))


def letter_text(dunning):
    "The text of the archived letter of a reminder"
    return zip_texts(dunning.letter)
