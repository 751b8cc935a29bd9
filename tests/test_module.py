# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from lxml import etree

from trytond.modules.account_invoice_dunning.tests.db_cache import activate_on
from trytond.modules.company.tests import CompanyTestMixin
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction


class AccountInvoiceDunningTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the account_invoice_dunning module"
    module = 'account_invoice_dunning'
    extras = ['bank', 'account_dunning', 'account_dunning_letter']

    @classmethod
    def setUpClass(cls):
        # The cached database of the extras built on the module's
        activate_on([cls.module] + cls.extras, cls.module)
        super().setUpClass()

    @with_transaction()
    def test_list_datetime_columns(self):
        """The columns of date and time of the lists of the module name
        their widget: the web client has no column of their type (it stops
        drawing the form that shows the list)"""
        pool = Pool()
        View = pool.get('ir.ui.view')
        views = View.search([
                ('module', '=', self.module),
                ['OR',
                    ('type', '=', 'tree'),
                    ('inherit.type', '=', 'tree'),
                    ],
                ])
        self.assertTrue(views)
        for view in views:
            root = view.inherit or view
            result = pool.get(root.model).fields_view_get(
                view_id=root.id, view_type='tree')
            for node in etree.fromstring(result['arch']).iter('field'):
                field = result['fields'].get(node.get('name'), {})
                if field.get('type') in {'datetime', 'timestamp'}:
                    self.assertTrue(node.get('widget'),
                        msg="%s of %s (%s)" % (
                            node.get('name'), root.model, root.name))


del ModuleTestCase
