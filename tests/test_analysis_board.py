# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The graphs of the Overdue Analysis: the label of the age, the ages of the
graph by segment, and the invoices behind rows, which a click on a bar of
its graphs or Relate > Invoices opens."""
import unittest

from lxml import etree

from trytond.modules.account_invoice_dunning.tests import test_analysis
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction


class AnalysisBoardTestCase(unittest.TestCase):
    "The graphs of the aging and the invoices of its rows"

    # The ledger of test_analysis, read at its DATE
    _ledger = test_analysis.AnalysisTestCase._ledger

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def open_invoices(self, rows, context):
        "The action the wizard opens for rows, as the client runs it"
        pool = Pool()
        OpenInvoices = pool.get(
            'account.invoice.dunning.analysis.aging.open_invoices',
            type='wizard')
        with Transaction().set_context(context,
                active_model='account.invoice.dunning.analysis.aging',
                active_id=rows[0].id, active_ids=[r.id for r in rows]):
            session_id, _, _ = OpenInvoices.create()
            result = OpenInvoices.execute(session_id, {}, 'open_')
            OpenInvoices.delete(session_id)
        (action, _), = result['actions']
        return action

    @with_transaction()
    def test_invoices_of_a_bucket(self):
        """A bar of an age opens the customer invoices whose open lines are
        in that age, as many as the invoices of its rows, and those only"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Invoice = pool.get('account.invoice')
        company, january, march, _ = self._ledger()
        context = {'company': company.id, 'date': test_analysis.DATE}
        with set_company(company), Transaction().set_context(context):
            rows = Aging.search([])
            opened = {}
            for bucket in {r.bucket for r in rows}:
                bar = [r for r in rows if r.bucket == bucket]
                action = self.open_invoices(bar, context)
                domain = PYSONDecoder().decode(action['pyson_domain'])
                invoices = Invoice.search(domain + [('type', '=', 'out')])
                self.assertEqual(len(invoices),
                    sum(r.invoice_count for r in bar), bucket)
                self.assertEqual({i.party for i in invoices},
                    {r.party for r in bar})
                self.assertEqual(action['domains'], [])
                opened[bucket] = (action['name'], invoices)
            self.assertEqual(opened['90+'][1], [january])
            self.assertEqual(opened['61-90'][1], [march])
            self.assertEqual(opened['90+'][0],
                "Customer Invoices (Over 90 Days)")
            self.assertEqual({r.bucket: r.bucket_name for r in rows}, {
                    'not_due': "Not Due", '1-30': "1-30 Days",
                    '31-60': "31-60 Days", '61-90': "61-90 Days",
                    '90+': "Over 90 Days"})
            # The second half of the split invoice (the first is paid),
            # the invoices of 1 and 20 May and the credit note
            recent = opened['1-30'][1]
            self.assertEqual(len(recent), 4)
            self.assertEqual(
                sorted(i.invoice_date.isoformat() for i in recent),
                ['2026-04-01', '2026-05-01', '2026-05-20', '2026-05-25'])

    @with_transaction()
    def test_invoices_of_a_segment(self):
        """A bar of a segment (the rows of its ages) opens the invoices of
        all its ages, named after the segment"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Invoice = pool.get('account.invoice')
        company, january, _, _ = self._ledger()
        context = {'company': company.id, 'date': test_analysis.DATE}
        with set_company(company), Transaction().set_context(context):
            rows = Aging.search([('segment.name', '=', "Standard")])
            self.assertGreater(len({r.bucket for r in rows}), 1)
            action = self.open_invoices(rows, context)
            invoices = Invoice.search(
                PYSONDecoder().decode(action['pyson_domain']))
            self.assertEqual(action['name'], "Customer Invoices (Standard)")
            self.assertEqual({i.party for i in invoices}, {january.party})
            # An invoice in two ages (the split one) counts in each row
            self.assertLessEqual(len(invoices),
                sum(r.invoice_count for r in rows))
            self.assertEqual(len(invoices), 7)

    @with_transaction()
    def test_graph_views(self):
        """The graph by age shows the labels of the ages; each series of the
        graph by segment keeps the rows of its age, the age read with the
        graph"""
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        ModelData = pool.get('ir.model.data')
        view = Aging.fields_view_get(
            ModelData.get_id(MODULE, 'analysis_aging_view_graph'), 'graph')
        arch = etree.fromstring(view['arch'])
        self.assertEqual(arch.xpath('/graph/x/field/@name'), ['bucket_name'])
        view = Aging.fields_view_get(ModelData.get_id(
                MODULE, 'analysis_aging_view_graph_segment'), 'graph')
        self.assertIn('bucket', view['fields'])
        arch = etree.fromstring(view['arch'])
        series = arch.xpath('/graph/y/field')
        keys = [f.get('key') for f in series]
        self.assertEqual(keys, ['not_due', '1-30', '31-60', '61-90', '90+'])
        for field in series:
            for key in keys:
                domain = PYSONDecoder({'bucket': key}).decode(
                    field.get('domain'))
                self.assertEqual(domain, key == field.get('key'))
