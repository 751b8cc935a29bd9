# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The test running now, written to the file TEST_CURRENT_FILE names (set by
run-tests): the suite's overall timeout says which test it stopped"""
import os


def pytest_runtest_logstart(nodeid, location):
    path = os.environ.get('TEST_CURRENT_FILE')
    if path:
        with open(path, 'w') as fp:
            fp.write(nodeid + '\n')
