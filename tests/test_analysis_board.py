# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The graphs of the Overdue Analysis: the label of the age and the ages of
the graph by segment."""
import unittest

from lxml import etree

from trytond.modules.account_invoice_dunning.tests.test_engine import MODULE
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import activate_module, with_transaction


class AnalysisBoardTestCase(unittest.TestCase):
    "The graphs of the aging"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

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
