# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.tests.test_tryton import ModuleTestCase


class AccountInvoiceDunningTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the account_invoice_dunning module"
    module = 'account_invoice_dunning'
    extras = ['bank', 'account_dunning', 'account_dunning_letter']


del ModuleTestCase
