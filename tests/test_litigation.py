# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Litigation files: a formal notice left unpaid is handed over to a
bailiff, its reminders stop and a payment still closes it."""
import datetime as dt
import unittest

from trytond.modules.account_invoice_dunning.exceptions import DunningError
from trytond.modules.account_invoice_dunning.litigation_common import (
    LitigationError, LitigationWarning)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .litigation_tools import (
    FORMAL_NOTICE, LADDER, agent, climb, fresh, litigation_file, pay_in_full,
    skip_warnings, today)

HANDED_ON = dt.date(2026, 4, 20)


class LitigationTestCase(unittest.TestCase):
    "Litigation files"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_formal_notice_unpaid_handed_over(self):
        """The formal notice unpaid past its deadline: the invoice is handed
        over to a bailiff, the run leaves it out, a payment closes it"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2)
        with set_company(company):
            notices = climb()
            self.assertEqual({d.level.name for d in notices},
                {"Formal Notice"})
            self.assertTrue(all(d.deadline < HANDED_ON for d in notices))
            bailiff = agent()
            file = litigation_file(invoices[:1], bailiff, HANDED_ON,
                reference="2026/0042", fees="12 % of the amounts recovered")
            self.assertEqual(file.agent_kind, 'bailiff')
            with today(HANDED_ON):
                # No warning: the formal notice expired
                file.__class__.hand_over([file])
            file = fresh(file)
            invoice = fresh(invoices[0])
            self.assertEqual(file.state, 'handed_over')
            self.assertEqual(invoice.dunning_litigation, 'handed_over')
            self.assertEqual(invoice.dunning_litigation_file, file)
            candidates = Dunning.candidate_invoices(
                [company.id], HANDED_ON)
            self.assertNotIn(invoice.id, candidates)
            self.assertIn(invoices[1].id, candidates)

            # The customer pays the bailiff, who pays the company
            invoice = pay_in_full(invoice, dt.date(2026, 5, 4))
            self.assertEqual(invoice.state, 'paid')
            self.assertEqual(invoice.dunning_litigation, 'recovered')
            with today(dt.date(2026, 5, 5)):
                file.__class__.close([file])
            self.assertEqual(fresh(file).state, 'closed')
            self.assertEqual(
                fresh(invoices[0]).dunning_litigation, 'recovered')

    @with_transaction()
    def test_handed_over_before_formal_notice(self):
        """Handed over before any formal notice: a warning; then no more
        reminder for it (its draft cancelled, processing refused) while
        the other invoice gets its formal notice"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2)
        with set_company(company):
            climb(LADDER[:-1])
            with today(FORMAL_NOTICE):
                drafts = Dunning.generate_dunnings(date=FORMAL_NOTICE)
            self.assertEqual(len(drafts), 2)
            file = litigation_file(invoices[:1], agent('lawyer'),
                FORMAL_NOTICE)
            with today(FORMAL_NOTICE):
                with self.assertRaises(LitigationWarning):
                    file.__class__.hand_over([file])
                with skip_warnings():
                    file.__class__.hand_over([file])
            draft, = [d for d in drafts if d.invoice == invoices[0]]
            self.assertEqual(fresh(draft).state, 'cancelled')
            with today(FORMAL_NOTICE):
                dunnings = Dunning.generate_dunnings(date=FORMAL_NOTICE)
            self.assertEqual([d.invoice for d in dunnings], [invoices[1]])
            self.assertEqual(dunnings[0].level.name, "Formal Notice")

            # Taken back by the lawyer: the ladder resumes
            file.__class__.take_back([file])
            self.assertEqual(
                fresh(invoices[0]).dunning_litigation, 'amicable')
            with today(FORMAL_NOTICE):
                dunnings = Dunning.generate_dunnings(date=FORMAL_NOTICE)
            self.assertEqual(len(dunnings), 2)

    @with_transaction()
    def test_processing_refuses_handed_over(self):
        "A draft reminder of an invoice handed over is never sent"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, invoices = create_invoices(1)
        with set_company(company):
            with today(LADDER[0]):
                draft, = Dunning.generate_dunnings(date=LADDER[0])
            file = litigation_file(invoices, agent('agency'), LADDER[0])
            with today(LADDER[0]), skip_warnings():
                Litigation.hand_over([file])
            self.assertEqual(fresh(draft).state, 'cancelled')
            # Forced back to draft, as a run that did not see the hand-over
            # could leave it
            table = Dunning.__table__()
            Transaction().connection.cursor().execute(*table.update(
                    [table.state], ['draft'], where=table.id == draft.id))
            Transaction().cache.clear()
            with self.assertRaises(DunningError):
                Dunning.process([fresh(draft)])

    @with_transaction()
    def test_invoice_in_one_file_only(self):
        "An invoice handed over can not be handed over again"
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, invoices = create_invoices(1)
        with set_company(company):
            first = litigation_file(invoices, agent(), HANDED_ON)
            second = litigation_file(invoices, agent('lawyer', "Me Durand"),
                HANDED_ON)
            with today(HANDED_ON), skip_warnings():
                Litigation.hand_over([first])
                with self.assertRaises(LitigationError):
                    Litigation.hand_over([second])
