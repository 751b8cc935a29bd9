# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The promises to pay given and the disputes opened in a window of dates,
by how they ended."""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.modules.account_invoice_dunning.tests.test_dispute import dispute
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, pay_invoice)
from trytond.modules.account_invoice_dunning.tests.test_promise import (
    day, promise)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


class ConversationTestCase(unittest.TestCase):
    "Promises and disputes in the analysis"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_promises_and_disputes(self):
        """Of the promises given in the window one kept, one broken, one
        pending; of the disputes one accepted and one open; those before
        the window are left out"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispute = pool.get('account.invoice.dunning.dispute')
        Conversation = pool.get(
            'account.invoice.dunning.analysis.conversation')
        company, invoices = create_invoices(6, parties=1)
        with set_company(company):
            promise(invoices[:1], day(-1), day(5), 100)
            promise(invoices[1:2], day(-1), day(5), 40)
            promise(invoices[2:3], day(1), day(20), 50)
            # Given before the window
            promise(invoices[3:4], day(-30), day(-25), 60)
            pay_invoice(invoices[0], 100, day(2))
            # Settles the promises: the first kept, the second broken
            Dunning.generate_dunnings(date=day(9))
            accepted = dispute(invoices[4], 30, opened_on=day(0))
            Dispute.accept([accepted])
            dispute(invoices[5], 20, opened_on=day(3))
            dispute(invoices[3], 10, opened_on=day(-20))
        with set_company(company), Transaction().set_context(
                company=company.id, from_date=day(-10), date=day(9)):
            rows = {(r.kind, r.state): (r.count, r.amount, r.settled_amount)
                for r in Conversation.search([])}
        self.assertEqual(rows, {
                ('promise', 'kept'): (1, D(100), D(100)),
                ('promise', 'broken'): (1, D(40), D(0)),
                ('promise', 'pending'): (1, D(50), None),
                ('dispute', 'accepted'): (1, D(30), D(30)),
                ('dispute', 'open'): (1, D(20), None),
                })
        with set_company(company), Transaction().set_context(
                company=company.id, from_date=day(-40), date=day(9)):
            rows = {(r.kind, r.state): (r.count, r.amount)
                for r in Conversation.search([])}
        # The earlier promise broken too, the earlier dispute open
        self.assertEqual(rows[('promise', 'broken')], (2, D(100)))
        self.assertEqual(rows[('dispute', 'open')], (2, D(30)))
        self.assertEqual(len(rows), 5)

    @with_transaction()
    def test_other_company(self):
        "Nothing of another company"
        pool = Pool()
        Conversation = pool.get(
            'account.invoice.dunning.analysis.conversation')
        company, invoices = create_invoices(1)
        with set_company(company):
            promise(invoices, day(0), day(5), 100)
        with Transaction().set_context(company=company.id + 1,
                from_date=dt.date(2026, 1, 1), date=day(9)):
            self.assertEqual(Conversation.search([]), [])
