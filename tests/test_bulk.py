# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The rows inserted in sets (bulk.insert_rows): each its id, in order,
whatever the path of the backend"""
import unittest
from types import SimpleNamespace
from unittest.mock import patch

from trytond import backend
from trytond.modules.account_invoice_dunning import bulk
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .query_counter import QueryCounter


class BulkTestCase(unittest.TestCase):
    "The rows inserted in sets"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def check_insert_rows(self, count, prefix='Group'):
        """insert_rows returns the ids of its rows in their order, each row
        with its own values and the user and date of its creation"""
        pool = Pool()
        Group = pool.get('res.group')
        vlist = [{'name': '%s %d' % (prefix, i)} for i in range(count)]
        counter = QueryCounter()
        with counter:
            ids = bulk.insert_rows(Group, vlist)
        self.assertEqual(len(ids), count)
        self.assertEqual(len(set(ids)), count)
        groups = Group.browse(ids)
        self.assertEqual([g.name for g in groups],
            ['%s %d' % (prefix, i) for i in range(count)])
        self.assertEqual({g.create_uid.id for g in groups},
            {Transaction().user})
        self.assertTrue(all(g.create_date for g in groups))
        return counter.count

    @with_transaction()
    def test_insert_rows(self):
        """The rows of the backend's own path: a few queries for 2,500 rows
        (500 a query on SQLite, one query of arrays on PostgreSQL)"""
        self.assertLessEqual(self.check_insert_rows(2500), 5)

    @with_transaction()
    def test_insert_rows_after_others(self):
        """The ids of an insert follow those of an earlier one of the same
        transaction"""
        self.assertEqual(self.check_insert_rows(3), 1)
        self.assertEqual(self.check_insert_rows(5, prefix='Other'), 1)

    @with_transaction()
    def test_insert_rows_generic(self):
        """The rows on a backend other than PostgreSQL and SQLite: an
        INSERT per slice with RETURNING, or a row at a time without"""
        other = SimpleNamespace(
            name='other', MAX_QUERY_PARAMS=backend.MAX_QUERY_PARAMS)
        with patch.object(bulk, 'backend', other):
            self.check_insert_rows(7)
