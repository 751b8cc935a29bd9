# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The tests of the module and the modules only they activate (tests/modules,
found through the entry points of tests/modules/*.dist-info and imported
under trytond.modules), declared before trytond.tests.test_tryton starts the
pool: see tests/test_hook.py"""
import os
import sys

# On SQLite, trytond checks its caches every [cache] clean_timeout (5
# minutes) through an autocommit connection: for the in-memory database of
# the tests it is the test's own connection, and switching it to autocommit
# commits the work of the running test, which the next tests then find
# (a test whose transaction is nested, e.g. on a constraint error, 5
# minutes after the last check). One process, one cache: never check.
if (os.environ.get('DB_NAME', ':memory:') == ':memory:'
        and os.environ.get('TRYTOND_DATABASE__URI', 'sqlite').startswith(
            'sqlite')):
    os.environ.setdefault('TRYTOND_CACHE__CLEAN_TIMEOUT', str(10 ** 9))

import trytond.modules  # noqa: E402

TEST_MODULES_PATH = os.path.join(os.path.dirname(__file__), 'modules')
if TEST_MODULES_PATH not in sys.path:
    sys.path.append(TEST_MODULES_PATH)
if TEST_MODULES_PATH not in trytond.modules.__path__:
    trytond.modules.__path__.append(TEST_MODULES_PATH)
