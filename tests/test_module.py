# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from trytond.modules.account_invoice_dunning.tests.db_cache import activate_on
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class AccountInvoiceDunningTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the account_invoice_dunning module"
    module = 'account_invoice_dunning'
    extras = ['bank', 'account_dunning', 'account_dunning_letter']

    @classmethod
    def setUpClass(cls):
        # The cached database of the extras built on the module's
        activate_on([cls.module] + cls.extras, cls.module)
        super().setUpClass()


del ModuleTestCase
