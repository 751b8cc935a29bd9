# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Limitation periods: the claims near their limitation date (5 years for a
professional, 2 for a consumer, from the due date or the latest
interruption) are listed, soonest first; the paid ones are not."""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, pay_invoice)
from trytond.modules.account_invoice_dunning.tests.test_plan import (
    AGREED, APRIL, make_plan, start)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .litigation_tools import (
    fresh, litigation_file, pay_in_full, professional, receivership,
    skip_warnings, today)

# The invoices of create_invoices are dated 5 January 2026, due 4 February
DUE = dt.date(2026, 2, 4)


def claims(company, date, state=None):
    """{invoice: claim} of the claims of company at date (of state), in
    the order of the list"""
    Limitation = Pool().get('account.invoice.dunning.limitation')
    domain = [('state', '=', state)] if state else []
    with Transaction().set_context(company=company.id, date=date):
        return {c.invoice: c for c in Limitation.search(domain)}


class LimitationTestCase(unittest.TestCase):
    "Limitation periods"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_professional_and_consumer(self):
        """A professional claim is time-barred 5 years after its due date,
        a consumer claim 2 years after: each listed as near limitation in
        the 6 months before, then as time-barred"""
        company, (pro, consumer) = create_invoices(2)
        with set_company(company):
            professional(pro.party)
            near = claims(company, dt.date(2027, 9, 1), 'near')
            self.assertEqual(list(near), [consumer])
            claim = near[consumer]
            self.assertEqual(claim.party, consumer.party)
            self.assertEqual(claim.customer_type, 'consumer')
            self.assertEqual(claim.amount, Decimal(100))
            self.assertEqual(claim.due_date, DUE)
            self.assertIsNone(claim.interruption)
            self.assertEqual(claim.limitation_date, dt.date(2028, 2, 4))

            # Five years after for the professional
            self.assertEqual(
                claims(company, dt.date(2027, 9, 1))[pro].limitation_date,
                dt.date(2031, 2, 4))
            self.assertEqual(claims(company, dt.date(2030, 8, 3), 'near'), {})
            near = claims(company, dt.date(2030, 8, 4), 'near')
            self.assertEqual(list(near), [pro])
            self.assertEqual(near[pro].customer_type, 'professional')
            barred = claims(company, dt.date(2030, 8, 4), 'time_barred')
            self.assertEqual(list(barred), [consumer])
            # Soonest first, searched by limitation date
            self.assertEqual(list(claims(company, dt.date(2030, 8, 4))),
                [consumer, pro])
            Limitation = Pool().get('account.invoice.dunning.limitation')
            with Transaction().set_context(
                    company=company.id, date=dt.date(2030, 8, 4)):
                found = Limitation.search(
                    [('limitation_date', '=', dt.date(2031, 2, 4))])
            self.assertEqual([c.invoice for c in found], [pro])
            # On its last day, a claim is not yet time-barred
            self.assertEqual(list(claims(company, dt.date(2028, 2, 4),
                        'time_barred')), [])
            self.assertEqual(list(claims(company, dt.date(2028, 2, 5),
                        'time_barred')), [consumer])

    @with_transaction()
    def test_configured_years(self):
        "The periods are those of the accounting configuration"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        company, (invoice,) = create_invoices(1)
        with set_company(company):
            config = Configuration(1)
            config.dunning_limitation_consumer = 3
            config.dunning_limitation_warning_months = 1
            config.save()
            self.assertEqual(claims(company, dt.date(2028, 12, 1), 'near'),
                {})
            claim = claims(company, dt.date(2029, 1, 4), 'near')[invoice]
            self.assertEqual(claim.years, 3)
            self.assertEqual(claim.limitation_date, dt.date(2029, 2, 4))

    @with_transaction()
    def test_leap_day(self):
        """Due on 29 February 2028, a consumer claim is time-barred on
        28 February 2030"""
        company, (invoice,) = create_invoices(1, date=dt.date(2028, 1, 30))
        with set_company(company):
            Limitation = Pool().get('account.invoice.dunning.limitation')
            with Transaction().set_context(
                    company=company.id, date=dt.date(2029, 12, 1)):
                claim, = Limitation.search(
                    [('limitation_date', '=', dt.date(2030, 2, 28))])
                self.assertEqual(claim.due_date, dt.date(2028, 2, 29))
                self.assertEqual(claim.limitation_date, dt.date(2030, 2, 28))
                self.assertEqual(claim.state, 'near')

    @with_transaction()
    def test_partial_payment_interrupts(self):
        """A partial payment acknowledges the debt: the period starts again
        from it; the invoice paid in full is no longer listed"""
        company, (paid, partial, unpaid) = create_invoices(3)
        with set_company(company):
            pay_invoice(partial, Decimal(40), dt.date(2026, 6, 15))
            pay_in_full(paid, dt.date(2026, 3, 1))
            listed = claims(company, dt.date(2027, 9, 1))
            self.assertNotIn(paid, listed)
            claim = listed[partial]
            self.assertEqual(claim.amount, Decimal(60))
            self.assertEqual(claim.interruption, dt.date(2026, 6, 15))
            self.assertEqual(claim.limitation_date, dt.date(2028, 6, 15))
            self.assertEqual(listed[unpaid].limitation_date,
                dt.date(2028, 2, 4))
            self.assertEqual(
                list(claims(company, dt.date(2027, 9, 1), 'near')), [unpaid])
            self.assertEqual(
                list(claims(company, dt.date(2027, 12, 15), 'near')),
                [unpaid, partial])
            self.assertNotIn(
                paid, claims(company, dt.date(2028, 1, 1), 'time_barred'))

    @with_transaction()
    def test_plan_interrupts(self):
        """A payment plan agreed acknowledges the debt and reschedules it:
        the period runs from its first installment"""
        company, (invoice, other) = create_invoices(2)
        with set_company(company):
            before = claims(company, AGREED)[invoice]
            self.assertEqual(before.limitation_date, dt.date(2028, 2, 4))
            start(make_plan([invoice]))
            # Not overdue again before its first installment
            self.assertNotIn(invoice, claims(company, AGREED))
            claim = claims(company, dt.date(2026, 4, 15))[invoice]
            self.assertEqual(claim.interruption, AGREED)
            self.assertEqual(claim.due_date, APRIL)
            self.assertEqual(claim.limitation_date, dt.date(2028, 4, 1))
            self.assertIsNone(claims(company, AGREED)[other].interruption)
            self.assertEqual(
                list(claims(company, dt.date(2027, 9, 15), 'near')), [other])

    @with_transaction()
    def test_declaration_interrupts(self):
        """The declaration of the claim in collective proceedings is a claim
        in court: the period starts again from it"""
        pool = Pool()
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        company, (invoice,) = create_invoices(1)
        with set_company(company):
            professional(invoice.party)
            proceeding = receivership(invoice.party, dt.date(2026, 3, 10),
                dt.date(2026, 3, 20))
            claim = claims(company, dt.date(2026, 4, 1))[invoice]
            self.assertIsNone(claim.interruption)
            self.assertEqual(claim.limitation_date, dt.date(2031, 2, 4))
            with today(dt.date(2026, 4, 15)):
                Proceeding.declare([proceeding])
            self.assertEqual(fresh(proceeding).declared_on,
                dt.date(2026, 4, 15))
            claim = claims(company, dt.date(2026, 5, 1))[invoice]
            self.assertEqual(claim.interruption, dt.date(2026, 4, 15))
            self.assertEqual(claim.limitation_date, dt.date(2031, 4, 15))
            # Not yet at a date before the declaration
            self.assertIsNone(
                claims(company, dt.date(2026, 4, 14))[invoice].interruption)

    @with_transaction()
    def test_court_file_interrupts(self):
        """The filing of the court file of a litigation file is a claim in
        court: the period of its invoices starts again from it"""
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, (invoice, other) = create_invoices(2, parties=1)
        with set_company(company):
            professional(invoice.party)
            file = litigation_file([invoice])
            with skip_warnings(), today(dt.date(2026, 4, 30)):
                Litigation.file_in_court([file])
            self.assertEqual(fresh(file).filed_on, dt.date(2026, 4, 30))
            found = claims(company, dt.date(2026, 5, 1))
            self.assertEqual(found[invoice].interruption,
                dt.date(2026, 4, 30))
            self.assertEqual(found[invoice].limitation_date,
                dt.date(2031, 4, 30))
            # The other invoice of the customer, not in the file
            self.assertIsNone(found[other].interruption)
            self.assertEqual(found[other].limitation_date,
                dt.date(2031, 2, 4))
