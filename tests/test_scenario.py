# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Run the scenarios (``scenario_*.rst``) as Tryton does, one pytest test
each, and with unittest through ``load_tests``."""
import glob
import io
import os
import unittest

import pytest

from trytond.tests.test_tryton import load_doc_tests

HERE = os.path.dirname(__file__)
SCENARIOS = sorted(
    os.path.basename(p)
    for p in glob.glob(os.path.join(HERE, 'scenario_*.rst')))


def load_tests(*args, **kwargs):
    return load_doc_tests(__name__, __file__, *args, **kwargs)


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_scenario(scenario):
    loader = unittest.TestLoader()
    loader.testNamePatterns = [scenario]
    suite = load_doc_tests(__name__, __file__, loader, unittest.TestSuite(),
        None)
    assert suite.countTestCases() >= 1, scenario
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(
        suite)
    failures = result.failures + result.errors
    assert not failures, '\n'.join(text for _, text in failures)
