# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The aging by segment and age only (analysis_summary.py), read by the
graphs of the Dunning Board: the rows of the Overdue Analysis summed by
segment and age, a few rows whatever the number of customers."""
import datetime as dt
import unittest
from collections import defaultdict
from decimal import Decimal as D

from trytond.modules.account_invoice_dunning.analysis_summary import (
    DETAILS, SUMMARY)
from trytond.modules.account_invoice_dunning.tests import (
    test_analysis, test_analysis_board)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


class AnalysisSummaryTestCase(unittest.TestCase):
    "The aging by segment and age of the Dunning Board"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    # The ledger of the aging's tests: two customers in two segments
    _ledger = test_analysis.AnalysisTestCase._ledger

    @with_transaction()
    def test_summary(self):
        """A row by segment and age, which sums the rows of the Overdue
        Analysis: amounts and invoices; nothing by party, level, customer
        type or currency; the ages where nothing is open at 0"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, _, _, _ = self._ledger()
        with set_company(company), \
                Transaction().set_context(
                    company=company.id, date=test_analysis.DATE):
            expected = defaultdict(lambda: [D(0), 0])
            for row in Aging.search([]):
                sums = expected[row.segment.name, row.bucket]
                sums[0] += row.amount
                sums[1] += row.invoice_count
            with Transaction().set_context({SUMMARY: True}):
                rows = Aging.search([])
                filled = [r for r in rows if r.invoice_count]
                self.assertEqual(
                    {(r.segment.name, r.bucket): [r.amount, r.invoice_count]
                        for r in filled},
                    dict(expected))
                self.assertEqual(len(filled), len(expected))
                self.assertEqual(
                    [r.amount for r in rows if not r.invoice_count],
                    [D(0)] * (len(rows) - len(filled)))
                self.assertEqual(
                    sum((r.amount for r in rows), D(0)), D(1500))
                self.check_columns(rows, company)
                standard = [r for r in filled if r.segment.name == "Standard"]
                self.assertEqual(
                    [(r.bucket, r.invoice_count) for r in standard],
                    [('not_due', 1), ('1-30', 4), ('31-60', 1), ('90+', 1)])
                self.assertEqual(
                    [r.amount for r in Aging.search(
                            [('bucket', '=', '90+')]) if r.amount],
                    [D(500)])

    def check_columns(self, rows, company):
        """The rows of the company, in the order of the ages, without
        party, level, customer type or currency"""
        for row in rows:
            self.assertEqual(row.company, company)
            self.assertEqual(row.company_currency, company.currency)
            self.assertEqual(
                [getattr(row, n) for n in DETAILS], [None] * len(DETAILS))
        sequences = [r.bucket_sequence for r in rows]
        self.assertEqual(sequences, sorted(sequences))

    @with_transaction()
    def test_invoices_of_a_bar(self):
        """A bar of the board's graph by age (the rows of the summary of
        that age) opens the invoices that the bar of the Overdue Analysis
        opens; a row, the invoices it counts"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Invoice = pool.get('account.invoice')
        company, _, _, _ = self._ledger()
        board = test_analysis_board.AnalysisBoardTestCase(
            'test_invoices_of_a_bucket')
        context = {'company': company.id, 'date': test_analysis.DATE}
        with set_company(company), Transaction().set_context(context):

            def invoices(rows, context):
                action = board.open_invoices(rows, context)
                return Invoice.search(
                    PYSONDecoder().decode(action['pyson_domain']))
            rows = Aging.search([])
            summary_context = dict(context, **{SUMMARY: True})
            with Transaction().set_context(summary_context):
                summary = Aging.search([])
            self.assertEqual(
                {r.bucket for r in summary}, {r.bucket for r in rows})
            for bucket in {r.bucket for r in rows}:
                bar = [r for r in rows if r.bucket == bucket]
                summary_bar = [r for r in summary if r.bucket == bucket]
                with Transaction().set_context(summary_context):
                    opened = invoices(summary_bar, summary_context)
                self.assertEqual(opened, invoices(bar, context), bucket)
                self.assertEqual(len(opened),
                    sum(r.invoice_count for r in summary_bar))
            for row in summary:
                with Transaction().set_context(summary_context):
                    opened = invoices([row], summary_context)
                self.assertEqual(len(opened), row.invoice_count)
                self.assertEqual({i.party for i in opened},
                    {r.party for r in rows if r.bucket == row.bucket
                        and r.segment == row.segment})

    @with_transaction()
    def test_constant_rows(self):
        """The rows of the summary are the ages of the segments of the
        customers whatever is open: the same ids at any date, one per age of
        each segment; their figures those of the date"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        ModelData = pool.get('ir.model.data')
        company, _, _, _ = self._ledger()
        segments = {ModelData.get_id(MODULE, 'segment_standard'),
            ModelData.get_id(MODULE, 'segment_good_payer')}
        ages = ['not_due', '1-30', '31-60', '61-90', '90+']
        rows = {}
        with set_company(company):
            for date in [test_analysis.DATE, dt.date(2025, 12, 31)]:
                with Transaction().set_context(company=company.id,
                        date=date, **{SUMMARY: True}):
                    rows[date] = Aging.search([])
                    self.assertEqual(
                        sorted((r.segment.id, r.bucket)
                            for r in rows[date]),
                        sorted((s, a) for s in segments for a in ages))
                    self.assertEqual(len({r.id for r in rows[date]}),
                        len(segments) * len(ages))
            self.assertEqual([r.id for r in rows[test_analysis.DATE]],
                [r.id for r in rows[dt.date(2025, 12, 31)]])
            # Nothing was open yet at the end of 2025
            with Transaction().set_context(company=company.id,
                    date=dt.date(2025, 12, 31), **{SUMMARY: True}):
                self.assertEqual(
                    {(r.amount, r.invoice_count)
                        for r in Aging.browse(rows[test_analysis.DATE])},
                    {(D(0), 0)})

    @with_transaction()
    def test_without_default_segment(self):
        """Without a default segment, the customers without one of their
        own are in the rows without segment"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Configuration = pool.get('account.configuration')
        company, january, _, _ = self._ledger()
        with set_company(company):
            configuration = Configuration(1)
            configuration.default_dunning_segment = None
            configuration.save()
            with Transaction().set_context(
                    company=company.id, date=test_analysis.DATE):
                expected = {(r.segment and r.segment.name, r.bucket):
                    (r.amount, r.invoice_count) for r in Aging.search([])}
                with Transaction().set_context({SUMMARY: True}):
                    rows = Aging.search([])
                    self.assertEqual(
                        {r.segment and r.segment.name for r in rows},
                        {None, "Good Payer"})
                    self.assertEqual(
                        {(r.segment and r.segment.name, r.bucket):
                            (r.amount, r.invoice_count)
                            for r in rows if r.invoice_count},
                        expected)
                    self.assertEqual(
                        sum((r.amount for r in rows if not r.segment),
                            D(0)), D(1100))

    @with_transaction()
    def test_board_actions(self):
        "The graphs of the aging of the board read the summary"
        pool = Pool()
        ActWindow = pool.get('ir.action.act_window')
        for name in ['act_board_aging', 'act_board_aging_segment']:
            value = ActWindow.get('%s.%s' % (MODULE, name))
            context = PYSONDecoder().decode(value['pyson_context'])
            self.assertIs(context.get(SUMMARY), True)
