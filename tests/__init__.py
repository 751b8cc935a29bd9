# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The tests of the module and the modules only they activate (tests/modules,
found through the entry points of tests/modules/*.dist-info and imported
under trytond.modules), declared before trytond.tests.test_tryton starts the
pool: see tests/test_hook.py"""
import os
import sys

import trytond.modules

TEST_MODULES_PATH = os.path.join(os.path.dirname(__file__), 'modules')
if TEST_MODULES_PATH not in sys.path:
    sys.path.append(TEST_MODULES_PATH)
if TEST_MODULES_PATH not in trytond.modules.__path__:
    trytond.modules.__path__.append(TEST_MODULES_PATH)
