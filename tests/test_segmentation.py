# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The classification of parties into segments stays set-based."""
import datetime as dt
import unittest

from trytond import backend
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, QueryCounter, activate_with_company, create_invoices,
    ignore_cache_queries)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction


class SegmentationTestCase(unittest.TestCase):
    "Classification of parties, on SQLite and PostgreSQL"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_classification_queries_do_not_grow(self):
        "Classifying 40 parties takes about as many queries as 4"
        pool = Pool()
        Party = pool.get('party.party')
        ModelData = pool.get('ir.model.data')
        chronic = ModelData.get_id(MODULE, 'segment_chronic')

        def ignore(query):
            if ignore_cache_queries(query):
                return True
            # SQLite takes 200 parameters a query: the new segments of the
            # parties and their log are inserted a few rows at a time
            return backend.name == 'sqlite' and query.startswith((
                    'INSERT INTO "party_party_dunning_segment"',
                    'INSERT INTO "account_invoice_dunning_segment_log"'))
        counts = []
        # The first run fills the caches (segments, configuration)
        for count in [1, 4, 40]:
            # One invoice a party, due 4 February 2026, unpaid on 6 March:
            # 30 days late on average, more than the 15 of chronic payers
            company, invoices = create_invoices(count)
            with set_company(company):
                counter = QueryCounter(ignore)
                with counter:
                    changes = Party.classify_dunning_segments(
                        date=dt.date(2026, 3, 6))
                self.assertEqual(changes, count)
                parties = Party.browse([i.party.id for i in invoices])
                self.assertEqual(
                    {p.get_dunning_segment(company).id for p in parties},
                    {chronic})
            counts.append(counter.count)
        # A query per party would add 36 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)
