# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Processing is set-based: its queries do not grow with the number of
reminders (only with the number of letters, a dispatch each)."""
import datetime as dt
import gc
import unittest
from decimal import Decimal
from unittest.mock import patch

from trytond import backend
from trytond.modules.account_invoice_dunning import bulk, common, processing
from trytond.modules.account_invoice_dunning.exceptions import DunningError
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, ignore_cache_queries)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .query_counter import QueryCounter

FIRST = dt.date(2026, 2, 11)


def ignore(query):
    if ignore_cache_queries(query):
        return True
    # SQLite takes 200 parameters a query: the rows of the history are
    # inserted a few at a time; PostgreSQL inserts thousands in one query
    return backend.name == 'sqlite' and query.startswith('INSERT INTO')


class ProcessQueriesTestCase(unittest.TestCase):
    "The queries of processing"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_processing_queries_do_not_grow(self):
        """Processing 40 reminders of 2 customers runs as many queries as
        processing 4 (2 letters each time)"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        counts = []
        # The first run fills the caches (levels, procedures, reports)
        for count in [2, 4, 40]:
            company, _ = create_invoices(count, parties=2)
            with set_company(company):
                dunnings = Dunning.generate_dunnings(date=FIRST)
                counter = QueryCounter(ignore)
                with counter:
                    Dunning.process(dunnings)
                self.assertEqual(
                    {d.state for d in Dunning.browse(dunnings)}, {'done'})
                self.assertEqual(Dispatch.search_count(
                        [('company', '=', company.id)]), 2)
                counts.append(counter.count)
        # A query per reminder would add 36 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)

    @with_transaction()
    def test_plans_made_again_between_batches(self):
        """On PostgreSQL, processing has the database plan its queries
        again after each batch: the checks of the foreign keys to the
        dispatches and exchanges it makes, planned on their empty tables,
        would otherwise read them whole for each reminder"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(6, parties=3)
        statements = []

        def record(query):
            statements.append(query)
            return False
        with set_company(company), \
                patch.object(processing, 'PROCESS_BATCH_SIZE', 2):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            with QueryCounter(record):
                Dunning.process(dunnings)
            self.assertEqual(
                {d.state for d in Dunning.browse(dunnings)}, {'done'})
        # 3 batches of the 2 reminders of a customer
        expected = 3 if backend.name == 'postgresql' else 0
        self.assertEqual(statements.count('DISCARD PLANS'), expected)

    @with_transaction()
    def test_blocked_since_generation(self):
        """A draft whose invoice was blocked since it was made cannot be
        processed; the automatic processing leaves it in draft"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Invoice = pool.get('account.invoice')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Invoice.write(invoices[:1], {
                    'dunning_blocked': True,
                    'dunning_block_reason': "Disputed",
                    })
            with self.assertRaises(DunningError):
                Dunning.process(dunnings)
            self.assertEqual(
                Dunning._refresh_amounts(dunnings, strict=False),
                [d for d in dunnings if d.invoice != invoices[0]])

    def check_refreshed_values_written(self):
        """Processing writes each reminder its own refreshed values and
        dispatch: drafts made stale in the database each get theirs back"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(4, parties=2)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            expected = {d.id: (d.amount, d.deadline) for d in dunnings}
            table = Dunning.__table__()
            cursor = Transaction().connection.cursor()
            for i, dunning in enumerate(dunnings):
                # The error back to none: a column of NULLs written
                cursor.execute(*table.update(
                        [table.amount, table.deadline, table.level_name,
                            table.penalty_error],
                        [Decimal(i + 1), None, None, 'stale'],
                        where=table.id == dunning.id))
            Dunning.process(Dunning.browse(dunnings))
            dunnings = Dunning.browse(dunnings)
            self.assertEqual({d.id: (d.amount, d.deadline) for d in dunnings},
                expected)
            self.assertEqual({d.state for d in dunnings}, {'done'})
            self.assertEqual({bool(d.level_name) for d in dunnings}, {True})
            self.assertEqual({d.penalty_error for d in dunnings}, {None})
            # A letter for each customer, with its reminders
            for dunning in dunnings:
                self.assertEqual(dunning.dispatch.party, dunning.party)
            self.assertEqual(len({d.dispatch for d in dunnings}), 2)

    @with_transaction()
    def test_refreshed_values_written(self):
        "Each reminder its values, in an UPDATE ... FROM a list of values"
        self.check_refreshed_values_written()

    @with_transaction()
    def test_refreshed_values_written_without_update_from(self):
        "Each reminder its values, in a CASE (SQLite before 3.33)"
        with patch.object(bulk, '_has_update_from', return_value=False):
            self.check_refreshed_values_written()

    def test_id_slices_within_sqlite_variables(self):
        """The ids of an IN list: up to 1,000 on SQLite, fewer when its
        library takes fewer parameters (999 on old builds), as many as
        Tryton allows on PostgreSQL"""
        if backend.name != 'sqlite':
            self.assertEqual(common.id_slice_size(),
                backend.MAX_QUERY_PARAMS // 2)
            return
        for variables, size in [(32766, 1000), (999, 299), (250, 100)]:
            with patch.object(common, 'sqlite_variables',
                    return_value=variables):
                self.assertEqual(common.id_slice_size(), size)
                self.assertEqual([len(s) for s in common.id_slices(
                            range(size + 1))], [size, 1])

    @with_transaction()
    def test_amount_rounder(self):
        """The amounts of a run are rounded as currency.round does: by a
        quantize for a rounding of a power of ten, by currency.round for
        another (0.05)"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        amounts = [Decimal(a) for a in ['2.345', '2.355', '-2.345', '0',
                '0.30000000000000004', '1234567.891', '7']]
        for rounding, quantized in [
                ('0.01', True), ('1', True), ('0.001', True),
                ('0.05', False)]:
            currency = Currency(rounding=Decimal(rounding), digits=3)
            round_ = common.amount_rounder(currency)
            self.assertEqual(round_ == currency.round, not quantized)
            for amount in amounts:
                self.assertEqual(str(round_(amount)),
                    str(currency.round(amount)), (rounding, amount))

    def test_objects_frozen(self):
        """The objects made before a run are frozen during it and unfrozen
        after the last of nested runs; those a server froze stay so"""
        self.assertEqual(gc.get_freeze_count(), 0)
        with common.objects_frozen():
            frozen = gc.get_freeze_count()
            self.assertGreater(frozen, 0)
            with common.objects_frozen():
                self.assertEqual(gc.get_freeze_count(), frozen)
            self.assertEqual(gc.get_freeze_count(), frozen)
        self.assertEqual(gc.get_freeze_count(), 0)
        gc.freeze()
        try:
            frozen = gc.get_freeze_count()
            with common.objects_frozen():
                pass
            self.assertEqual(gc.get_freeze_count(), frozen)
        finally:
            gc.unfreeze()

    @with_transaction()
    def test_runs_freeze_objects(self):
        "Generation and each batch of processing run with objects frozen"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(2, parties=2)
        seen = []
        insert, process = Dunning._insert, Dunning._process

        def spy(method):
            def wrapper(*args, **kwargs):
                seen.append(gc.get_freeze_count() > 0)
                return method(*args, **kwargs)
            return wrapper
        with set_company(company), \
                patch.object(Dunning, '_insert', spy(insert)), \
                patch.object(Dunning, '_process', spy(process)):
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
        self.assertEqual(seen, [True, True])
        self.assertEqual(gc.get_freeze_count(), 0)

    @with_transaction()
    def test_unsaved_changes_of_caller_left_out(self):
        """A reminder the caller changed without saving is processed as
        stored: its changes are neither written nor in the way"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(2, parties=1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            amounts = {d.id: d.amount for d in dunnings}
            changed = Dunning.browse(dunnings)
            changed[0].state = 'cancelled'
            changed[0].amount = Decimal('1.00')
            Dunning.process(changed)
            dunnings = Dunning.browse(dunnings)
            self.assertEqual({d.state for d in dunnings}, {'done'})
            self.assertEqual({d.id: d.amount for d in dunnings}, amounts)
