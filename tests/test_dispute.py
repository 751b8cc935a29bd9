# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Disputes: the amount contested is left out of what the reminders claim
and of the base of the interest while the dispute is open; rejected, the
whole amount is claimed again; accepted, the amount accepted stays out."""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.exceptions import (
    DisputeValidationError)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

# Invoices of 5 January 2026 due 4 February: first reminder on 11 February,
# the formal notice (with interest) 50 days after the due date
FIRST = dt.date(2026, 2, 11)
NOTICE = dt.date(2026, 3, 26)


def dispute(invoice, amount, opened_on=FIRST):
    "Open a dispute of amount of invoice"
    pool = Pool()
    Dispute = pool.get('account.invoice.dunning.dispute')
    ModelData = pool.get('ir.model.data')
    dispute, = Dispute.create([{
                'company': invoice.company.id,
                'invoice': invoice.id,
                'amount': D(amount),
                'objection': ModelData.get_id(MODULE, 'objection_price'),
                'opened_on': opened_on,
                }])
    return dispute


def first_reminder(invoice):
    "The reminder the run makes for invoice on FIRST, or None"
    Dunning = Pool().get('account.invoice.dunning')
    return {d.invoice: d for d in Dunning.generate_dunnings(
            date=FIRST)}.get(invoice)


class DisputeTestCase(unittest.TestCase):
    "Disputes"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_partial_dispute_lowers_amount_claimed(self):
        """200 of 2,400 disputed: the reminder claims 2,200 and says that
        the disputed amount is left out"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, (invoice,) = create_invoices(1, amount=2400)
        with set_company(company):
            dispute(invoice, 200)
            reminder = first_reminder(invoice)
            self.assertEqual(
                (reminder.amount, reminder.remaining_amount,
                    reminder.disputed_amount),
                (D(2200), D(2200), D(200)))
            Dunning.process([reminder])
            dispatch, = Dispatch.search([('reminders', '=', reminder.id)])
            text = zip_texts(dispatch.letter)
            self.assertIn("Excluding the disputed amount of", text)
            self.assertIn("200.00", text)

    @with_transaction()
    def test_whole_invoice_disputed(self):
        "The whole invoice disputed: no reminder"
        company, (invoice,) = create_invoices(1, amount=100)
        with set_company(company):
            dispute(invoice, 100)
            self.assertIsNone(first_reminder(invoice))

    @with_transaction()
    def test_penalties_base_without_disputed_amount(self):
        """The interest of the formal notice is computed on the amount not
        disputed: half the base, half the interest"""
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        Level = pool.get('account.invoice.dunning.level')
        ModelData = pool.get('ir.model.data')
        notice = Level(ModelData.get_id(MODULE, 'level_formal_notice'))
        Party = pool.get('party.party')
        company, (invoice, other) = create_invoices(2, amount=2400)
        Party.write([invoice.party, other.party],
            {'customer_type': 'professional'})
        with set_company(company):
            dispute(invoice, 1200)
            penalties = Penalty.compute_penalties({
                    'disputed': (invoice, notice, NOTICE, D(1200)),
                    'whole': (other, notice, NOTICE, D(2400)),
                    })
        whole, disputed = penalties['whole'], penalties['disputed']
        self.assertGreater(whole.interest, 0)
        self.assertAlmostEqual(disputed.interest, whole.interest / 2,
            delta=D('0.01'))
        # The recovery indemnity is per invoice, whatever the amount
        self.assertEqual(disputed.indemnity, whole.indemnity)

    @with_transaction()
    def test_resolutions(self):
        """Rejected: the whole amount is claimed again; accepted: the
        amount stays out; accepted partly: the rest is claimed"""
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        company, invoices = create_invoices(3, amount=1000)
        with set_company(company):
            rejected, accepted, partly = [
                dispute(i, 300) for i in invoices]
            Dispute.reject([rejected])
            Dispute.accept([accepted])
            Dispute.write([partly], {'accepted_amount': D(100)})
            Dispute.accept_partly([partly])
            partly = Dispute(partly.id)
            self.assertEqual(
                (partly.state, partly.accepted_amount, partly.resolved_on),
                ('partly_accepted', D(100), dt.date.today()))
            amounts = {i: first_reminder(i) for i in invoices}
            self.assertEqual(
                [amounts[i].amount for i in invoices],
                [D(1000), D(700), D(900)])

    @with_transaction()
    def test_disputes_to_follow(self):
        """Open longer than the days of the configuration: to follow; not
        once resolved"""
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        Date = pool.get('ir.date')
        today = Date.today()
        company, invoices = create_invoices(3, amount=1000)
        with set_company(company):
            old = dispute(invoices[0], 10, today - dt.timedelta(days=31))
            recent = dispute(invoices[1], 10, today - dt.timedelta(days=5))
            resolved = dispute(invoices[2], 10, today - dt.timedelta(days=40))
            Dispute.reject([resolved])
            self.assertEqual(Dispute.search([('to_follow', '=', True)]),
                [old])
            self.assertEqual(
                set(Dispute.search([('to_follow', '=', False)])),
                {recent, Dispute(resolved.id)})
            self.assertTrue(Dispute(old.id).to_follow)

    @with_transaction()
    def test_dispute_is_history(self):
        """Bad amounts are refused; the state is set by the buttons only; a
        resolved dispute only changes by its note and credit note; no
        dispute is deleted"""
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        company, (invoice,) = create_invoices(1, amount=100)
        with set_company(company):
            for amount in [0, 101]:
                with self.subTest(amount=amount), \
                        self.assertRaises(DisputeValidationError):
                    dispute(invoice, amount)
            opened = dispute(invoice, 50)
            with self.assertRaises(DisputeValidationError):
                Dispute.write([opened], {'accepted_amount': D(60)})
            with check_access():
                with self.assertRaises(AccessError):
                    Dispute.write([opened], {'state': 'accepted'})
                Dispute.reject([opened])
                with self.assertRaises(AccessError):
                    Dispute.write([opened], {'amount': D(10)})
                Dispute.write([opened], {'note': "Customer paid in full"})
                with self.assertRaises(AccessError):
                    Dispute.delete([opened])

    @with_transaction()
    def test_dispute_logged_as_exchange(self):
        """Opening a dispute logs an incoming exchange with its invoice and
        reason"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        company, (invoice,) = create_invoices(1, amount=2400)
        with set_company(company):
            opened = dispute(invoice, 200)
            exchange, = Exchange.search([('origin', '=', str(opened))])
            self.assertEqual(
                (exchange.direction, exchange.date, exchange.objection,
                    list(exchange.invoices)),
                ('in', FIRST, opened.objection, [invoice]))
            self.assertIn("200.00", exchange.summary)
