# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The rows inserted in sets (bulk.insert_rows): each its id, in order,
whatever the path of the backend; the arrays and id lists given to
PostgreSQL as their text (common.sql_array, common.in_ids)"""
import datetime as dt
import unittest
from array import array
from decimal import Decimal
from types import SimpleNamespace
from unittest.mock import patch

from trytond import backend
from trytond.modules.account_invoice_dunning import bulk
from trytond.modules.account_invoice_dunning.common import in_ids, sql_array
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
        self.assertTrue(all(
                isinstance(g.create_date, dt.datetime) for g in groups))
        return counter.count

    @with_transaction()
    def test_insert_rows(self):
        """The rows of the backend's own path: a few queries for 2,500 rows
        (one statement for all the rows on SQLite, with the date before and
        the last id after; one query of arrays on PostgreSQL)"""
        self.assertEqual(self.check_insert_rows(2500), self.insert_queries)

    @property
    def insert_queries(self):
        "The queries of an insert_rows"
        return 3 if backend.name == 'sqlite' else 1

    @with_transaction()
    def test_insert_rows_after_others(self):
        """The ids of an insert follow those of an earlier one of the same
        transaction"""
        self.assertEqual(self.check_insert_rows(3), self.insert_queries)
        self.assertEqual(self.check_insert_rows(5, prefix='Other'),
            self.insert_queries)

    @with_transaction()
    def test_insert_rows_without_values(self):
        """Rows without values: each its id and its creation"""
        pool = Pool()
        Session = pool.get('ir.session.wizard')
        ids = bulk.insert_rows(Session, [{}, {}, {'data': '{}'}])
        self.assertEqual(len(set(ids)), 3)
        sessions = Session.browse(ids)
        self.assertEqual([s.data for s in sessions], [None, None, '{}'])
        self.assertTrue(all(s.create_date for s in sessions))
        self.assertEqual(bulk.insert_rows(Session, []), [])

    @unittest.skipUnless(backend.name == 'sqlite', "SQLite's own path")
    @with_transaction()
    def test_insert_rows_autocommit(self):
        """Out of a transaction (autocommit), where another connection may
        insert between the statements of executemany, SQLite inserts the
        rows by VALUES lists, each one statement"""
        connection = SimpleNamespace(
            isolation_level=None, cursor=Transaction().connection.cursor)
        with patch.object(Transaction(), 'connection', connection), \
                patch.object(bulk, '_insert_many') as insert_many:
            self.check_insert_rows(600)
        insert_many.assert_not_called()

    @with_transaction()
    def test_insert_rows_generic(self):
        """The rows on a backend other than PostgreSQL and SQLite: an
        INSERT per slice with RETURNING, or a row at a time without"""
        other = SimpleNamespace(
            name='other', MAX_QUERY_PARAMS=backend.MAX_QUERY_PARAMS)
        with patch.object(bulk, 'backend', other):
            self.check_insert_rows(7)

    @with_transaction()
    def test_insert_rows_texts(self):
        """Texts are stored as they are, whatever they hold: on PostgreSQL
        the column goes as the text of an array (common.sql_array), where
        quotes, back-slashes, commas, braces and "NULL" are special"""
        pool = Pool()
        Group = pool.get('res.group')
        names = ['a "quoted" name', 'back\\slash\\', 'comma, {braces}',
            'NULL', '', "l'apostrophe", 'ünïcode €']
        ids = bulk.insert_rows(Group, [{'name': n} for n in names])
        self.assertEqual([g.name for g in Group.browse(ids)], names)

    def test_sql_array(self):
        """The text of a PostgreSQL array of values, or None when a value
        has a type it does not write"""
        self.assertEqual(sql_array([1, None, 40000]), '{1,NULL,40000}')
        self.assertEqual(sql_array([]), '{}')
        self.assertEqual(
            sql_array(['a"b', 'c\\d', 'NULL', None, '', 'x,{y}']),
            '{"a\\"b","c\\\\d","NULL",NULL,"","x,{y}"}')
        self.assertEqual(sql_array([Decimal('1.20'), True, False,
                    dt.date(2026, 1, 2), dt.datetime(2026, 1, 2, 3, 4, 5)]),
            '{1.20,t,f,2026-01-02,2026-01-02T03:04:05}')
        self.assertEqual(sql_array((1, Decimal('2.5'), None, 'a')),
            '{1,2.5,NULL,"a"}')
        self.assertEqual(sql_array(iter([None, None])), '{NULL,NULL}')
        self.assertIsNone(sql_array([1, b'bytes']))
        self.assertIsNone(sql_array([b'bytes']))
        # Floats go as psycopg sends them (float8)
        self.assertIsNone(sql_array([0.5]))
        self.assertIsNone(sql_array([dt.datetime(
                        2026, 1, 2, tzinfo=dt.timezone.utc)]))

    @with_transaction()
    def test_in_ids(self):
        """in_ids finds the rows of the ids given, small and large numbers
        mixed, in a list, a set or a query; none of no id. On PostgreSQL the
        ids are an INTEGER array, which the server hashes in a filter"""
        pool = Pool()
        Group = pool.get('res.group')
        table = Group.__table__()
        cursor = Transaction().connection.cursor()
        ids = bulk.insert_rows(Group, [{'name': 'In %d' % i}
                for i in range(3)])

        def selected(ids):
            cursor.execute(*table.select(table.id,
                    where=in_ids(table.id, ids)))
            return sorted(i for i, in cursor)
        self.assertEqual(selected(ids + [40000, 2 ** 31 - 1]), sorted(ids))
        self.assertEqual(selected(set(ids[:2])), sorted(ids[:2]))
        self.assertEqual(selected([]), [])
        self.assertEqual(selected(table.select(table.id,
                    where=table.id == ids[0])), [ids[0]])
        # Its negation is NOT IN
        cursor.execute(*table.select(table.id,
                where=~in_ids(table.id, ids[:1]) & in_ids(table.id, ids)))
        self.assertEqual(sorted(i for i, in cursor), sorted(ids[1:]))
        if backend.name == 'postgresql':
            self.assertIn('ANY (CAST(', str(in_ids(table.id, ids)))
            self.assertEqual(in_ids(table.id, ids).params[-1],
                sql_array(ids))
        else:
            # An array of integers, which python-sql writes at once
            self.assertIsInstance(in_ids(table.id, ids).right, array)
            self.assertEqual(in_ids(table.id, ids).params, tuple(ids))
            # Other values keep Tryton's condition
            self.assertEqual(in_ids(table.id, ['1']).right, ['1'])
