# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The aging by segment and age only (analysis_summary.py), read by the
graphs of the Dunning Board: the rows of the Overdue Analysis summed by
segment and age, a few rows whatever the number of customers."""
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
        type or currency"""
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
                self.assertEqual(
                    {(r.segment.name, r.bucket): [r.amount, r.invoice_count]
                        for r in rows},
                    dict(expected))
                self.assertEqual(len(rows), len(expected))
                self.assertEqual(
                    sum((r.amount for r in rows), D(0)), D(1500))
                for row in rows:
                    self.assertEqual(row.company, company)
                    self.assertEqual(row.company_currency, company.currency)
                    self.assertEqual(
                        [getattr(row, n) for n in DETAILS],
                        [None] * len(DETAILS))
                sequences = [r.bucket_sequence for r in rows]
                self.assertEqual(sequences, sorted(sequences))
                standard = [r for r in rows if r.segment.name == "Standard"]
                self.assertEqual(
                    [(r.bucket, r.invoice_count) for r in standard],
                    [('not_due', 1), ('1-30', 4), ('31-60', 1), ('90+', 1)])
                self.assertEqual(
                    [r.amount for r in Aging.search(
                            [('bucket', '=', '90+')])],
                    [D(500)])

    @with_transaction()
    def test_invoices_of_a_bar(self):
        """A bar of the board's graph by age (a row of the summary) opens
        the invoices that the bar of the Overdue Analysis opens"""
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
            for row in summary:
                bar = [r for r in rows if r.bucket == row.bucket]
                with Transaction().set_context(summary_context):
                    opened = invoices([row], summary_context)
                self.assertEqual(opened, invoices(bar, context), row.bucket)
                self.assertEqual(len(opened), row.invoice_count)

    @with_transaction()
    def test_board_actions(self):
        "The graphs of the aging of the board read the summary"
        pool = Pool()
        ActWindow = pool.get('ir.action.act_window')
        for name in ['act_board_aging', 'act_board_aging_segment']:
            value = ActWindow.get('%s.%s' % (MODULE, name))
            context = PYSONDecoder().decode(value['pyson_context'])
            self.assertIs(context.get(SUMMARY), True)
