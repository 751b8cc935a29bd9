# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The classification of parties into segments stays set-based; the
figures of the party form."""
import datetime as dt
import unittest
import unittest.mock

from trytond import backend
from trytond.modules.account_invoice_dunning.tests.litigation_tools import (
    pay_in_full)
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

    @with_transaction()
    def test_figures_rounded_to_their_digits(self):
        """The party form shows the figures rounded to the digits of their
        fields (the web client takes more digits for a change); the
        classification keeps them whole"""
        pool = Pool()
        Party = pool.get('party.party')
        Date = pool.get('ir.date')
        # Three invoices of a party due 4 February 2026: one paid 10 days
        # late, two unpaid 30 days late
        company, invoices = create_invoices(3, parties=1)
        with set_company(company):
            pay_in_full(invoices[0], dt.date(2026, 2, 14))
            date = dt.date(2026, 3, 6)
            with unittest.mock.patch.object(
                    Date, 'today', return_value=date):
                party = Party(invoices[0].party.id)
                self.assertEqual(party.average_days_late, 23.3)
                self.assertEqual(party.late_invoice_share, 1.0)
                behaviour = Party.dunning_payment_behaviour(
                    company.id, date, 365, party_ids=[party.id])[party.id]
                self.assertAlmostEqual(
                    behaviour.average_days_late, 70 / 3)
