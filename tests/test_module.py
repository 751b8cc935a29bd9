# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from lxml import etree

from trytond import backend
from trytond.modules.account_invoice_dunning.tests.db_cache import activate_on
from trytond.modules.company.tests import CompanyTestMixin
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction


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

    @with_transaction()
    def test_relation_links_indexed(self):
        """Each link of the relation tables of the module (an exchange, a
        promise, a plan, a litigation file and its invoices) leads an index
        of the database: the relations are read from either side"""
        pool = Pool()
        relations = [Model for _, Model in pool.iterobject()
            if '-' in Model.__name__
            and Model.__name__.startswith('account.invoice.dunning.')]
        self.assertEqual(len(relations), 4)
        for Model in relations:
            leading = leading_columns(Model._table)
            links = Model.relation_links()
            self.assertGreaterEqual(len(links), 2)
            for name in links:
                self.assertIn(name, leading,
                    msg="%s of %s" % (name, Model.__name__))
        # The reminders of an invoice too, by the index of Invoice.dunnings
        Dunning = pool.get('account.invoice.dunning')
        self.assertIn('invoice', leading_columns(Dunning._table))


def leading_columns(table):
    """The first column of each index of the table in the database that
    covers all its rows (not a partial index)"""
    cursor = Transaction().connection.cursor()
    if backend.name == 'postgresql':
        cursor.execute("SELECT a.attname FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "AND a.attnum = i.indkey[0] "
            "WHERE c.relname = %s AND i.indpred IS NULL", (table,))
        return {name for name, in cursor}
    cursor.execute(
        'SELECT name FROM pragma_index_list(?) WHERE partial = 0', (table,))
    names = [name for name, in cursor]
    result = set()
    for name in names:
        cursor.execute(
            'SELECT name FROM pragma_index_info(?) WHERE seqno = 0', (name,))
        result.update(column for column, in cursor)
    return result


del ModuleTestCase
