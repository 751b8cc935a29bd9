# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The analyses of the receivables: the aging of the open amounts by bucket
of days past due, which sums to Tryton's Aged Balance, and the DSO of the
last twelve months."""
import datetime as dt
import unittest
from collections import defaultdict
from decimal import Decimal as D

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user, two_companies)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices, pay_invoice)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

# The analyses are read at the end of June 2026
DATE = dt.date(2026, 6, 30)


def add_invoice(model, date, amount, term=None):
    """Post a customer invoice of amount dated date for the customer of the
    invoice model (of create_invoices), with its payment term or term"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    line = model.lines[0]
    invoice, = Invoice.create([{
                'type': 'out',
                'company': model.company.id,
                'party': model.party.id,
                'invoice_address': model.invoice_address.id,
                'account': model.account.id,
                'currency': model.currency.id,
                'invoice_date': date,
                'payment_term': (term or model.payment_term).id,
                'journal': model.journal.id,
                'lines': [('create', [{
                                'currency': model.currency.id,
                                'account': line.account.id,
                                'description': "Services",
                                'quantity': 1,
                                'unit_price': D(amount),
                                }])],
                }])
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post([invoice])
    return invoice


def split_term():
    "A payment term of half at 30 days and the remainder at 60 days"
    PaymentTerm = Pool().get('account.invoice.payment_term')
    term, = PaymentTerm.create([{
                'name': "30/60 days",
                'lines': [('create', [{
                                'type': 'percent',
                                'ratio': D('0.5'),
                                'divisor': D(2),
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }, {
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 60}])],
                                }])],
                }])
    return term


def aged_balance_total(company, date):
    "The total of Tryton's Aged Balance of the customers at date"
    pool = Pool()
    AgedBalance = pool.get('account.aged_balance')
    with Transaction().set_context(company=company.id, date=date,
            type='customer', posted=False, unit='day',
            term1=30, term2=60, term3=90):
        return sum((r.balance for r in AgedBalance.search([])), D(0))


class AnalysisTestCase(unittest.TestCase):
    "Aging and DSO of the receivables"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _ledger(self):
        """A company whose customers owe, on DATE, in each bucket:

        - 500 of an invoice of 5 January (due 4 February): over 90 days,
          at the first reminder processed on 11 February;
        - 400 of 20 March (due 19 April): 72 days;
        - 300 of 20 April (due 20 May) paid 120 on 15 June: 180, 41 days;
        - 200 of 1 April, half due 1 May (60 days), half 31 May (30
          days), paid 130 on 20 June: the first half is paid, 70 of the
          second left, 30 days;
        - 100 of 1 May (due 31 May: 30 days), paid on 5 July;
        - 200 of 20 May (due 19 June): 11 days;
        - a credit note of 50 of 25 May (due 24 June): 6 days;
        - 100 of 10 June (due 10 July): not due.

        Another customer, in the segment Good Payer, owes the 400; it paid
        its invoice of 500 of 5 January on 20 February."""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        company, (january, other) = create_invoices(2, amount=500)
        with set_company(company):
            dunning, = [d for d in Dunning.generate_dunnings(
                    date=dt.date(2026, 2, 11)) if d.invoice == january]
            Dunning.process([dunning])
            # The other customer paid its January invoice (its reminder
            # left in draft) and owes one of 20 March
            pay_invoice(other, 500, dt.date(2026, 2, 20))
            # Posted in the order of their dates, as their numbers
            march = add_invoice(other, dt.date(2026, 3, 20), 400)
            Party.write([other.party], {
                    'dunning_segment': ModelData.get_id(
                        MODULE, 'segment_good_payer')})
            split = add_invoice(january, dt.date(2026, 4, 1), 200,
                term=split_term())
            april = add_invoice(january, dt.date(2026, 4, 20), 300)
            may = add_invoice(january, dt.date(2026, 5, 1), 100)
            add_invoice(january, dt.date(2026, 5, 20), 200)
            add_invoice(january, dt.date(2026, 5, 25), -50)
            add_invoice(january, dt.date(2026, 6, 10), 100)
            pay_invoice(april, 120, dt.date(2026, 6, 15))
            pay_invoice(split, 130, dt.date(2026, 6, 20))
            pay_invoice(may, 100, dt.date(2026, 7, 5))
        return company, january, march, dunning

    @with_transaction()
    def test_aging_buckets(self):
        """The open amounts by bucket, the payments on the earliest due
        dates first, the credit note included; the total is the Aged
        Balance's"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, january, march, dunning = self._ledger()
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            rows = Aging.search([])
            buckets = defaultdict(D)
            for row in rows:
                buckets[row.bucket] += row.amount
            self.assertEqual(dict(buckets), {
                    'not_due': D(100),
                    '1-30': D(70) + D(100) + D(200) - D(50),
                    '31-60': D(180),
                    '61-90': D(400),
                    '90+': D(500),
                    })
            total = sum(buckets.values(), D(0))
            self.assertEqual(total, D(1500))
            self.assertEqual(total, aged_balance_total(company, DATE))

            old, = [r for r in rows if r.bucket == '90+']
            self.assertEqual(old.level, dunning.level)
            self.assertEqual(old.party, january.party)
            self.assertEqual(old.segment.name, "Standard")
            self.assertEqual(old.customer_type, 'consumer')
            late, = [r for r in rows if r.bucket == '61-90']
            self.assertIsNone(late.level)
            self.assertEqual(late.party, march.party)
            self.assertEqual(late.segment.name, "Good Payer")
            recent, = [r for r in rows if r.bucket == '1-30']
            self.assertEqual(recent.invoice_count, 4)
            self.assertEqual(Aging.search([], count=True), len(rows))
            self.assertEqual(
                [r.amount for r in Aging.search([('bucket', '=', '90+')])],
                [D(500)])

    @with_transaction()
    def test_aging_in_the_past(self):
        """At an earlier date, the invoices paid since are open and the
        later ones are left out, as in the Aged Balance"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, _, _, _ = self._ledger()
        date = dt.date(2026, 5, 15)
        with set_company(company), \
                Transaction().set_context(company=company.id, date=date):
            buckets = defaultdict(D)
            for row in Aging.search([]):
                buckets[row.bucket] += row.amount
            # 300 of 20 April and 100 of 1 May not due, the split
            # invoice half 14 days late, half not due; 400 of 20 March 26
            # days late, 500 of January 100 days late
            self.assertEqual(dict(buckets), {
                    'not_due': D(300) + D(100) + D(100),
                    '1-30': D(100) + D(400),
                    '90+': D(500),
                    })
            self.assertEqual(sum(buckets.values(), D(0)),
                aged_balance_total(company, date))

    @with_transaction()
    def test_aging_of_another_company_or_currency(self):
        "Nothing of a company or of a currency without invoices"
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Currency = pool.get('currency.currency')
        company, _, _, _ = self._ledger()
        usd, = Currency.create([{
                    'name': "US Dollar", 'code': 'USD', 'symbol': '$'}])
        with set_company(company):
            with Transaction().set_context(company=company.id, date=DATE,
                    currency=usd.id):
                self.assertEqual(Aging.search([]), [])
            with Transaction().set_context(company=company.id, date=DATE,
                    currency=company.currency.id):
                self.assertEqual(
                    sum((r.amount for r in Aging.search([])), D(0)),
                    D(1500))

    @with_transaction()
    def test_dso(self):
        """The DSO of a month: the receivables at its end over the sales of
        the three months up to it, times 91.25 days"""
        pool = Pool()
        DSO = pool.get('account.invoice.dunning.analysis.dso')
        company, _, _, _ = self._ledger()
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            rows = DSO.search([])
            self.assertEqual(len(rows), 12)
            self.assertEqual(rows[0].month, dt.date(2025, 7, 1))
            self.assertEqual(rows[-1].month, dt.date(2026, 6, 1))
            self.assertEqual(rows[-1].date, DATE)
            by_month = {r.month: r for r in rows}
            empty = by_month[dt.date(2025, 12, 1)]
            self.assertEqual(
                (empty.receivable_amount, empty.sales_amount, empty.dso),
                (D(0), D(0), None))
            # End of January: the two invoices of 5 January, the sales
            january = by_month[dt.date(2026, 1, 1)]
            self.assertEqual(
                (january.receivable_amount, january.sales_amount),
                (D(1000), D(1000)))
            self.assertAlmostEqual(january.dso, 91.25)
            # End of April: 500 + 400 + 300 + 200 open; sales of February
            # to April: 400 + 300 + 200
            april = by_month[dt.date(2026, 4, 1)]
            self.assertEqual(april.date, dt.date(2026, 4, 30))
            self.assertEqual(april.receivable_amount, D(1400))
            self.assertEqual(april.sales_amount, D(900))
            self.assertAlmostEqual(april.dso, 1400 * 91.25 / 900)
            # End of June: the aging's 1500; sales of April to June:
            # 300 + 200 + 100 + 200 - 50 + 100
            june = by_month[dt.date(2026, 6, 1)]
            self.assertEqual(june.receivable_amount, D(1500))
            self.assertEqual(june.sales_amount, D(850))
            self.assertAlmostEqual(june.dso, 1500 * 91.25 / 850)

    @with_transaction()
    def test_rights_and_companies(self):
        """The analyses are read-only, for the accountants and the dunning
        group, and show the companies of the user only"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        DSO = pool.get('account.invoice.dunning.analysis.dso')
        ModelAccess = pool.get('ir.model.access')
        (company_a, company_b), _, _ = two_companies()
        clerk = create_user('clerk', company_a, ['dunning'])
        accountant = create_user('accountant', company_a, ['account'])
        stranger = create_user('stranger', company_a)
        for user in [clerk, accountant]:
            with self.subTest(user=user.login), as_user(user):
                for company, count in [(company_a, 1), (company_b, 0)]:
                    with Transaction().set_context(company=company.id,
                            date=DATE):
                        self.assertEqual(len(Aging.search([])), count)
                        self.assertEqual(len(DSO.search([])), 12 * count)
                for Model in [Aging, DSO]:
                    for mode in ['write', 'create', 'delete']:
                        self.assertFalse(ModelAccess.check(Model.__name__,
                                mode, raise_exception=False))
        with as_user(stranger):
            for Model in [Aging, DSO]:
                with self.assertRaises(AccessError):
                    Model.search([])
