# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The age buckets of the overdue analysis from the accounting
configuration, in the graph by segment and in a party's aging."""
import datetime as dt
import unittest
from collections import defaultdict
from decimal import Decimal as D

from lxml import etree

from trytond.model.exceptions import ValidationError
from trytond.modules.account_invoice_dunning.tests import test_analysis
from trytond.modules.account_invoice_dunning.tests.test_analysis import DATE
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


def amounts(rows):
    "{bucket: amount} of the aging rows"
    buckets = defaultdict(D)
    for row in rows:
        buckets[row.bucket] += row.amount
    return dict(buckets)


class AgingBucketsTestCase(unittest.TestCase):
    "The configurable aging buckets"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _ledger(self):
        "The ledger of the analysis tests (see test_analysis)"
        return test_analysis.AnalysisTestCase._ledger(self)

    def _configure(self, company, days):
        Configuration = Pool().get('account.configuration')
        with set_company(company):
            config = Configuration(1)
            config.dunning_aging_days = days
            config.save()

    @with_transaction()
    def test_buckets_of_the_configuration(self):
        """Buckets of 15 and 45 days: the amounts of the ledger by the new
        ages, labelled by their days"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, _, _, _ = self._ledger()
        self._configure(company, '15, 45')
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            self.assertEqual(amounts(Aging.search([])), {
                    # 10 June, due 10 July
                    'not_due': D(100),
                    # 200 due 19 June (11 days), the credit note (6 days)
                    '1-15': D(200) - D(50),
                    # 180 (41 days), 70 and 100 (30 days)
                    '16-45': D(180) + D(70) + D(100),
                    # 400 (72 days), 500 (146 days)
                    '45+': D(400) + D(500),
                    })
            self.assertEqual(Aging.get_buckets(), [
                    ('not_due', "Not Due"),
                    ('1-15', "1-15 Days"),
                    ('16-45', "16-45 Days"),
                    ('45+', "Over 45 Days"),
                    ])
            self.assertEqual(
                [r.amount for r in Aging.search([('bucket', '=', '45+')],
                        order=[('amount', 'ASC')])],
                [D(400), D(500)])

    @with_transaction()
    def test_default_buckets(self):
        "Without configuration, 30, 60 and 90 days"
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, _, _, _ = self._ledger()
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            self.assertEqual([k for k, _ in Aging.get_buckets()],
                ['not_due', '1-30', '31-60', '61-90', '90+'])

    @with_transaction()
    def test_graph_by_segment(self):
        "The graph by segment draws a bar of each configured bucket"
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        ModelData = pool.get('ir.model.data')
        company, _, _, _ = self._ledger()
        self._configure(company, '10, 20, 40, 80, 160')
        view_id = ModelData.get_id(
            MODULE, 'analysis_aging_view_graph_segment')
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            view = Aging.fields_view_get(view_id=view_id, view_type='graph')
        tree = etree.fromstring(view['arch'])
        fields = tree.xpath('//y/field')
        self.assertEqual([f.get('key') for f in fields],
            ['not_due', '1-10', '11-20', '21-40', '41-80', '81-160', '160+'])
        self.assertEqual(fields[-1].get('string'), "Over 160 Days")
        self.assertIn('"81-160"', fields[-2].get('domain'))
        self.assertEqual({f.get('name') for f in fields}, {'amount'})

    @with_transaction()
    def test_bad_buckets(self):
        "Days not increasing, not positive or not numbers are refused"
        company, _, _, _ = self._ledger()
        for days in ['60, 30', '0, 30', '30, 30', 'thirty', '', '30,, x']:
            with self.subTest(days=days):
                with self.assertRaises(ValidationError):
                    self._configure(company, days)
        self._configure(company, '30 60;90')

    @with_transaction()
    def test_party_aging(self):
        "A party's aging lists its own open amounts by age and level"
        pool = Pool()
        Party = pool.get('party.party')
        company, january, march, dunning = self._ledger()
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            first, other = Party.browse([january.party, march.party])
            self.assertEqual(amounts(first.dunning_aging), {
                    'not_due': D(100),
                    '1-30': D(70) + D(100) + D(200) - D(50),
                    '31-60': D(180),
                    '90+': D(500),
                    })
            self.assertEqual(amounts(other.dunning_aging), {'61-90': D(400)})
            old, = [r for r in first.dunning_aging if r.bucket == '90+']
            self.assertEqual(old.level, dunning.level)


class DSOSegmentTestCase(unittest.TestCase):
    "The DSO of each segment"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_dso_by_segment(self):
        """The DSO of the customers of each segment; the receivables and
        sales of the segments sum to the company's"""
        pool = Pool()
        DSO = pool.get('account.invoice.dunning.analysis.dso')
        DSOSegment = pool.get('account.invoice.dunning.analysis.dso.segment')
        ModelData = pool.get('ir.model.data')
        company, _, _, _ = test_analysis.AnalysisTestCase._ledger(self)
        standard = ModelData.get_id(MODULE, 'segment_standard')
        good = ModelData.get_id(MODULE, 'segment_good_payer')
        april = dt.date(2026, 4, 1)
        with set_company(company), \
                Transaction().set_context(company=company.id, date=DATE):
            rows = DSOSegment.search([])
            by_key = {(r.segment.id, r.month): r for r in rows}
            # Both segments from January (their first invoices) to June
            self.assertEqual(len(rows), 12)
            self.assertEqual({s for s, _ in by_key}, {standard, good})
            # End of April, Standard: 500 + 300 + 200 open, sales of
            # February to April 300 + 200; Good Payer: 400 and 400
            row = by_key[standard, april]
            self.assertEqual((row.receivable_amount, row.sales_amount),
                (D(1000), D(500)))
            self.assertAlmostEqual(row.dso, 182.5)
            row = by_key[good, april]
            self.assertEqual((row.receivable_amount, row.sales_amount),
                (D(400), D(400)))
            self.assertAlmostEqual(row.dso, 91.25)
            # June, Good Payer: 400 open, no sales since April
            row = by_key[good, dt.date(2026, 6, 1)]
            self.assertEqual((row.receivable_amount, row.sales_amount,
                    row.dso), (D(400), D(0), None))
            for month in DSO.search([]):
                segments = [r for r in rows if r.month == month.month]
                self.assertEqual(
                    sum((r.receivable_amount for r in segments), D(0)),
                    month.receivable_amount)
                self.assertEqual(
                    sum((r.sales_amount for r in segments), D(0)),
                    month.sales_amount)
            view = DSOSegment.fields_view_get(
                view_id=ModelData.get_id(
                    MODULE, 'analysis_dso_segment_view_graph'),
                view_type='graph')
        fields = etree.fromstring(view['arch']).xpath('//y/field')
        self.assertIn(str(standard), [f.get('key') for f in fields])
        self.assertIn("Good Payer", [f.get('string') for f in fields])
