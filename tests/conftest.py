# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The test running now, written to the file TEST_CURRENT_FILE names (set by
run-tests): the suite's overall timeout says which test it stopped; the
fixtures of the browser tests"""
import datetime as dt
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pytest_runtest_logstart(nodeid, location):
    path = os.environ.get('TEST_CURRENT_FILE')
    if path:
        with open(path, 'w') as fp:
            fp.write(nodeid + '\n')


@pytest.fixture(scope='session')
def demo_web(tmp_path_factory):
    """The demo database of the browser tests (tests/test_browser*.py)
    served by trytond with the web client: built once for the session, the
    slowest part of these tests; its url, database and today"""
    from trytond.modules.account_invoice_dunning.tests.browser_tools import (
        serve_demo)
    with serve_demo(str(tmp_path_factory.mktemp('demo-web'))) as demo:
        yield demo


@pytest.fixture
def screenshots(request):
    """The folder of the screenshots of a browser test:
    screenshots/<SCREENSHOTS of its module, or browser>-<timestamp>/"""
    name = getattr(request.module, 'SCREENSHOTS', 'browser')
    folder = os.path.join(ROOT, 'screenshots', '%s-%s'
        % (name, dt.datetime.now().strftime('%Y%m%d-%H%M%S')))
    os.makedirs(folder, exist_ok=True)
    print("Screenshots in %s" % folder)
    return folder
