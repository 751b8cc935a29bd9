# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What holding invoices costs the run in queries: the invoices under a
promise to pay, a dispute or a payment plan are decided by the queries every
run makes, with or without them"""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.modules.account_invoice_dunning.tests.test_dispute import dispute
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, ignore_run_queries, pay_invoice)
from trytond.modules.account_invoice_dunning.tests.test_plan import (
    APRIL, make_plan, start)
from trytond.modules.account_invoice_dunning.tests.test_promise import promise
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .query_counter import QueryCounter

# The invoices of create_invoices are due on 4 February 2026; the plan is
# agreed on 2 March, its first installment falls on 1 April
RUN = dt.date(2026, 3, 10)


def hold(invoices):
    """Hold a tenth of invoices, none settled on RUN: promises to pay
    waiting (one partly paid since), a partial dispute, a payment plan on
    schedule; return {invoice id: how it is held}"""
    held = invoices[::10]
    promised, disputed, planned = held[0::3], held[1::3], held[2::3]
    for invoice in promised:
        promise([invoice], dt.date(2026, 3, 1), dt.date(2026, 3, 20), 100)
    pay_invoice(promised[0], 30, dt.date(2026, 3, 5))
    for invoice in disputed:
        dispute(invoice, 40, opened_on=dt.date(2026, 3, 1))
    for invoice in planned:
        start(make_plan([invoice], number=2, first_date=APRIL))
    result = {i.id: 'promise' for i in promised}
    result.update((i.id, 'dispute') for i in disputed)
    result.update((i.id, 'plan') for i in planned)
    return result


class HoldQueriesTestCase(unittest.TestCase):
    "The queries of a run with invoices held"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def run_counted(self, count, held):
        """Run for count new invoices, a tenth held when held; return the
        reminders {invoice id: amount}, the holds and the queries counted"""
        Dunning = Pool().get('account.invoice.dunning')
        company, invoices = create_invoices(count)
        with set_company(company):
            holds = hold(invoices) if held else {}
            counter = QueryCounter(ignore_run_queries)
            with counter:
                dunnings = Dunning.generate_dunnings(date=RUN)
        return {d.invoice.id: d.amount for d in dunnings}, holds, counter

    @with_transaction()
    def test_held_invoices_cost_no_query(self):
        """A run where a tenth of the invoices wait for a promise, are
        partly disputed or paid by a plan makes no more queries than the
        same run without them"""
        # The first run fills the caches (levels, procedures)
        self.run_counted(10, held=False)
        reminders, holds, with_held = self.run_counted(40, held=True)
        _, _, without = self.run_counted(40, held=False)

        self.assertEqual(sorted(holds.values()).count('promise'), 2)
        self.assertIn('dispute', holds.values())
        self.assertIn('plan', holds.values())
        # Held for good: the waiting and the planned get no reminder, the
        # disputed one is reminded of what is not disputed
        for invoice_id, kind in holds.items():
            if kind == 'dispute':
                self.assertEqual(reminders[invoice_id], D(60))
            else:
                self.assertNotIn(invoice_id, reminders)
        self.assertEqual(len(reminders), 40 - 3)
        self.assertLessEqual(with_held.count, without.count,
            (with_held.count, without.count))
