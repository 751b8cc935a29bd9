# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Helpers of the litigation tests: the ladder climbed to the formal notice,
a recovery agent and a litigation file."""
import datetime as dt
import unittest.mock
from contextlib import contextmanager
from decimal import Decimal

from trytond.modules.account_invoice_dunning.tests.test_engine import (
    pay_invoice)
from trytond.pool import Pool
from trytond.transaction import Transaction

# The invoices of create_invoices are dated 5 January 2026, due 4 February:
# the days of the levels of the default ladder
LADDER = [
    dt.date(2026, 2, 11),   # first reminder
    dt.date(2026, 2, 25),   # second
    dt.date(2026, 3, 11),   # third
    dt.date(2026, 3, 26),   # formal notice
    ]
FORMAL_NOTICE = LADDER[-1]


@contextmanager
def today(date):
    "ir.date's today is date"
    with unittest.mock.patch.object(
            Pool().get('ir.date'), 'today', return_value=date):
        yield


def climb(dates=LADDER):
    "Create and process the reminders of each date; return the last ones"
    Dunning = Pool().get('account.invoice.dunning')
    dunnings = []
    for date in dates:
        with today(date):
            dunnings = Dunning.generate_dunnings(date=date)
            Dunning.process(dunnings)
    return dunnings


def agent(kind='bailiff', name="SCP Huissiers Réunis"):
    "A recovery agent"
    Party = Pool().get('party.party')
    party, = Party.create([{
                'name': name,
                'dunning_agent_kind': kind,
                'addresses': [('create', [{}])],
                }])
    return party


def litigation_file(invoices, agent=None, handed_on=None, **values):
    "A draft litigation file of invoices (of one party)"
    Litigation = Pool().get('account.invoice.dunning.litigation')
    file, = Litigation.create([{
                'company': invoices[0].company.id,
                'party': invoices[0].party.id,
                'currency': invoices[0].currency.id,
                'invoices': [('add', [i.id for i in invoices])],
                'agent': agent.id if agent else None,
                'handed_on': handed_on,
                **values,
                }])
    return file


def pay_in_full(invoice, date):
    "Pay what is left of invoice on date and reconcile: the invoice is paid"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    pay_invoice(invoice, invoice.amount_to_pay, date)
    invoice = Invoice(invoice.id)
    MoveLine.reconcile([l for l in invoice.lines_to_pay + tuple(
                invoice.payment_lines) if not l.reconciliation])
    # As the queue would after the reconciliation
    Invoice.process([Invoice(invoice.id)])
    return Invoice(invoice.id)


def add_invoice(like, date, amount):
    "Post an invoice like the invoice like, dated date, of amount"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    invoice, = Invoice.copy([like], default={'invoice_date': date})
    InvoiceLine.write(list(invoice.lines), {'unit_price': Decimal(amount)})
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post([invoice])
    return Invoice(invoice.id)


def professional(party):
    "party is a professional customer"
    Party = Pool().get('party.party')
    Party.write([party], {'customer_type': 'professional'})


def receivership(party, judgment_date, publication_date, mandataire=None,
        **values):
    "The opened receivership of party"
    Proceeding = Pool().get('account.invoice.dunning.proceeding')
    proceeding, = Proceeding.create([{
                'party': party.id,
                'kind': 'receivership',
                'judgment_date': judgment_date,
                'publication_date': publication_date,
                'court': "Tribunal des activités économiques de Lyon",
                'mandataire': mandataire.id if mandataire else None,
                **values,
                }])
    Proceeding.open_([proceeding])
    return Proceeding(proceeding.id)


def skip_warnings():
    "The context that accepts the warnings"
    return Transaction().set_context(_skip_warnings=True)


def fresh(record):
    "The record read again"
    return record.__class__(record.id)
