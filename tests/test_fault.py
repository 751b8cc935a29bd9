# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Killed runs: a processing SIGKILLed after part of its letters, a
trytond-worker SIGKILLed in the middle of its batch; the next run leaves
every reminder processed once with one letter, and no file behind.

The tests start from the reminders; their letters are those of the
dispatches that carry them (one dispatch a reminder here: each invoice has
its own customer)."""
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import unittest

from sql import Table

import trytond.config as config
from trytond import backend
from trytond.filestore import filestore
from trytond.modules.account_invoice_dunning.letter_archive import (
    LETTER_FOLDER, LETTER_GRACE, letter_prefix, migrate_letter_store)
from trytond.modules.account_invoice_dunning.tests.fault_tools import (
    BATCH, PROCESSING, WORKER, dispatch_ids, letter_files, reminder_ids, run,
    write_script, write_worker_conf)
from trytond.modules.account_invoice_dunning.tests.process import (
    start, wait_for)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, USER, drop_db, with_transaction
from trytond.transaction import Transaction

DATE = dt.date(2026, 2, 11)
# Seconds a killed run is given to reach the point where it is killed
TIMEOUT = 180


class KilledRunMixin:
    "A database whose file store is in a folder of the test"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)
        cls.tmp = tempfile.mkdtemp(prefix='fault-')
        cls._path = config.get('database', 'path')
        config.set('database', 'path', cls.tmp)
        cls.database = DB_NAME
        if backend.name == 'sqlite':
            # A database in memory can not be shared with another process
            cls.database = 'fault'
            source = backend.Database(DB_NAME).connect()
            connection = source.get_connection()
            try:
                with sqlite3.connect(os.path.join(
                            cls.tmp, 'fault.sqlite')) as target:
                    connection.backup(target)
                target.close()
            finally:
                source.put_connection(connection)
            with Transaction().start(cls.database, 0, readonly=True):
                Pool(cls.database).init()

    @classmethod
    def tearDownClass(cls):
        config.set('database', 'path', cls._path)
        if backend.name == 'sqlite':
            backend.Database(cls.database).close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        # The tests commit: leave a clean database to the next tests
        drop_db()

    def setUp(self):
        self._queue = {k: config.get('queue', k)
            for k in ['worker', 'batch_size']}
        self.addCleanup(self._restore_config)

    def _restore_config(self):
        defaults = {'worker': 'False', 'batch_size': '20'}
        for key, value in self._queue.items():
            config.set('queue', key, value or defaults[key])

    def run_(self, func, context=None):
        return run(self.database, func, context=context)

    def create_reminders(self, count):
        "count draft reminders of a new company; return their ids, company"
        def create():
            company, _ = create_invoices(count)
            with set_company(company):
                Dunning = Pool().get('account.invoice.dunning')
                dunnings = Dunning.generate_dunnings(date=DATE)
            return sorted(d.id for d in dunnings), company.id
        ids, company_id = self.run_(create)
        self.assertEqual(len(ids), count)
        return ids, company_id

    def history(self, ids):
        """Per reminder: its state, the letter format and letter id of its
        dispatch, and how many times it was processed"""
        def read():
            pool = Pool()
            Dunning = pool.get('account.invoice.dunning')
            Log = pool.get('ir.model.log')
            result = {}
            for dunning in Dunning.browse(ids):
                processed = Log.search([
                        ('resource', '=', str(dunning)),
                        ('event', '=', 'transition'),
                        ('target', '=', 'state:done'),
                        ], count=True)
                dispatch = dunning.dispatch
                result[dunning.id] = (dunning.state, dunning.letter_format,
                    dispatch.letter_id if dispatch else None, processed)
            return result
        return self.run_(read)

    def assert_once(self, ids):
        """Every reminder done once with one letter (its dispatch's, one a
        reminder), the files of the folder are their letters"""
        history = self.history(ids)
        dispatches = self.run_(lambda: dispatch_ids(ids))
        self.assertNotIn(None, dispatches)
        self.assertEqual(len(set(dispatches)), len(ids))
        for id_, (state, format_, letter_id, processed) in history.items():
            self.assertEqual((state, format_, processed), ('done', 'odt', 1),
                "reminder %d" % id_)
        letter_ids = [h[2] for h in history.values()]
        self.assertEqual(len(set(letter_ids)), len(ids))
        self.assertEqual(letter_files(self.database), sorted(letter_ids))

        def read_letters():
            Dunning = Pool().get('account.invoice.dunning')
            return [bool(d.letter) for d in Dunning.browse(ids)]
        self.assertEqual(self.run_(read_letters), [True] * len(ids))

    def remove_orphans(self, age=dt.timedelta(0)):
        def remove():
            Dispatch = Pool().get('account.invoice.dunning.dispatch')
            return Dispatch.remove_orphan_letters(age=age)
        return self.run_(remove)

    def process(self, ids, company_id):
        "Process the reminders ids of company_id and commit"
        def process():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.process(Dunning.browse(ids))
        self.run_(process, context={'company': company_id})


class KilledProcessingTestCase(KilledRunMixin, unittest.TestCase):
    "A processing killed after part of its letters"

    def test_processing_killed_after_part_of_its_letters(self):
        count, batches = 6, 2
        ids, company_id = self.create_reminders(count)
        self.assertEqual(letter_files(self.database), [])

        script = write_script(self.tmp, 'processing.py', PROCESSING)
        ready = os.path.join(self.tmp, 'processing.ready')
        env = dict(os.environ, TRYTOND_DATABASE__PATH=self.tmp)
        with start([sys.executable, script, self.database,
                    str(company_id), json.dumps(ids), ready, str(batches)],
                env=env) as processing:
            self.assertTrue(wait_for(
                    lambda: os.path.exists(ready) or processing.poll()
                    is not None, TIMEOUT), processing.output())
            self.assertTrue(os.path.exists(ready), processing.output())
            # The letters of the first batches are in the file store
            orphans = letter_files(self.database)
            self.assertEqual(len(orphans), batches * BATCH)
            processing.kill()
            self.assertNotIn("committed", processing.output())
        self.assertEqual(processing.returncode, -signal.SIGKILL)

        # Nothing of the killed run was committed but its files
        history = self.history(ids)
        self.assertEqual({h[:3] for h in history.values()},
            {('draft', None, None)})
        self.assertEqual(letter_files(self.database), orphans)

        # The next run processes them and the daily clean up removes the
        # files of the killed run
        self.process(ids, company_id)
        self.assertEqual(self.remove_orphans(), orphans)
        self.assert_once(ids)
        # Once is enough
        self.assertEqual(self.remove_orphans(), [])
        self.assert_once(ids)


@unittest.skipUnless(backend.name == 'postgresql',
    "trytond-worker shares the work through PostgreSQL notifications and "
    "locks; SQLite runs the letters inline")
class KilledWorkerTestCase(KilledRunMixin, unittest.TestCase):
    "A trytond-worker killed in the middle of its batch"

    def tasks(self, ids):
        """The letters' tasks of the reminders ids: the reminders of their
        dispatches, if taken, if finished"""
        def read():
            Queue = Pool().get('ir.queue')
            tasks = [(reminder_ids(t.data['instances']),
                    bool(t.dequeued_at), bool(t.finished_at))
                for t in Queue.search([('name', '=', 'default')])
                if t.data['model'] == 'account.invoice.dunning.dispatch'
                and t.data['method'] == 'archive_letters']
            return sorted(t for t in tasks if t[0] and set(t[0]) <= set(ids))
        return self.run_(read)

    def archive_missing(self, company_id, delay):
        """Archive the missing letters of company_id; return the reminders
        of their dispatches"""
        def archive():
            Dispatch = Pool().get('account.invoice.dunning.dispatch')
            return reminder_ids(Dispatch.archive_missing_letters(
                    [company_id], delay=delay))
        return self.run_(archive, context={'company': company_id})

    def kill_worker_in_batch(self, ids, victim, batch_size):
        """Run a trytond-worker on the queued letters of ids and kill it
        once the letter of the reminder victim (its dispatch's) is stored
        and not committed; return the files it left"""
        conf = write_worker_conf(self.tmp, batch_size)
        script = write_script(self.tmp, 'worker.py', WORKER)
        ready = os.path.join(self.tmp, 'worker.ready')
        victim, = self.run_(lambda: dispatch_ids([victim]))
        with start([sys.executable, script, str(victim), ready,
                    '-c', conf, '-d', self.database, '-n', '2', '-t', '1'],
                env=dict(os.environ)) as worker:
            # The other batches done, the victim's letters stored and not
            # committed
            self.assertTrue(wait_for(
                    lambda: (os.path.exists(ready)
                        and [t[2] for t in self.tasks(ids)]
                        == [True, False, True])
                    or worker.poll() is not None,
                    TIMEOUT, interval=0.5), worker.output())
            self.assertIsNone(worker.poll(), worker.output())
            self.assertEqual(len(letter_files(self.database)), len(ids))
            worker.kill()
        return sorted(set(letter_files(self.database))
            - {h[2] for h in self.history(ids).values()})

    def run_worker(self, ids, batch_size):
        "Run trytond-worker until every reminder of ids has its letter"
        conf = write_worker_conf(self.tmp, batch_size)
        with start([os.path.join(os.path.dirname(sys.executable),
                        'trytond-worker'),
                    '-c', conf, '-d', self.database, '-n', '1', '-t', '1'],
                env=dict(os.environ)) as worker:
            self.assertTrue(wait_for(
                    lambda: all(h[1] for h in self.history(ids).values()),
                    TIMEOUT, interval=0.5), worker.output())
            worker.stop(signal.SIGINT)

    def test_worker_killed_in_the_middle_of_its_batch(self):
        count, batch_size = 6, 2
        ids, company_id = self.create_reminders(count)
        config.set('queue', 'worker', 'True')
        config.set('queue', 'batch_size', str(batch_size))
        self.process(ids, company_id)
        self.assertEqual(self.tasks(ids), [
                (ids[0:2], False, False),
                (ids[2:4], False, False),
                (ids[4:6], False, False),
                ])
        orphans = self.kill_worker_in_batch(ids, ids[2], batch_size)
        self.assertEqual(len(orphans), batch_size)

        # The lost task left its reminders done without a letter: their
        # dispatches have none
        history = self.history(ids)
        self.assertEqual([history[i][:2] for i in ids[2:4]],
            [('done', None)] * 2)
        self.assertEqual(self.tasks(ids)[1], (ids[2:4], True, False))

        # A task taken a moment ago is given time to run
        self.assertEqual(self.archive_missing(company_id, LETTER_GRACE), [])
        # Then its reminders are queued again, at once
        self.assertEqual(self.archive_missing(company_id, dt.timedelta(0)),
            ids[2:4])
        self.assertIn((ids[2:4], False, False), self.tasks(ids))
        # and a new worker renders them
        self.run_worker(ids, batch_size)

        self.assertEqual(self.remove_orphans(), orphans)
        self.assert_once(ids)
        # Nothing left to archive
        self.assertEqual(self.archive_missing(company_id, dt.timedelta(0)),
            [])


class LostLettersTestCase(unittest.TestCase):
    "The letters of lost tasks are archived at once, never twice"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def setUp(self):
        self._worker = config.get('queue', 'worker')
        self.addCleanup(config.set, 'queue', 'worker',
            self._worker or 'False')
        self.tmp = tempfile.mkdtemp(prefix='fault-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        path = config.get('database', 'path')
        config.set('database', 'path', self.tmp)
        self.addCleanup(config.set, 'database', 'path', path)

    def _processed_without_letters(self, count):
        """Process count reminders of a new company, their letters left to
        the queue; return the company, the reminders and their dispatches"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, _ = create_invoices(count)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
        # Processed with workers: the letters are left to the queue
        config.set('queue', 'worker', 'True')
        with set_company(company):
            Dunning.process(dunnings)
        config.set('queue', 'worker', 'False')
        # Processed a while ago: their dispatches created then
        dispatches = sorted({d.dispatch for d in Dunning.browse(
                    [d.id for d in dunnings])},
            key=lambda d: d.id)
        self.assertEqual(len(dispatches), count)
        table = Dispatch.__table__()
        cursor = Transaction().connection.cursor()
        past = dt.datetime.now() - dt.timedelta(hours=1)
        cursor.execute(*table.update([table.create_date, table.write_date],
                [past, past],
                where=table.id.in_([d.id for d in dispatches])))
        return company, sorted(dunnings, key=lambda d: d.id), dispatches

    @with_transaction()
    def test_lost_tasks(self):
        "Waiting or running tasks keep their dispatches, lost ones not"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Queue = pool.get('ir.queue')
        company, dunnings, dispatches = self._processed_without_letters(3)
        tasks = [t for t in Queue.search([], order=[('id', 'ASC')])
            if t.data['model'] == Dispatch.__name__
            and t.data['method'] == 'archive_letters'
            and t.data['instances'][0] in {d.id for d in dispatches}]
        self.assertEqual(len(tasks), 1)
        task, = tasks
        self.assertEqual(sorted(task.data['instances']),
            [d.id for d in dispatches])
        # The task waits in the queue: nothing to archive
        with set_company(company):
            self.assertEqual(Dispatch.archive_missing_letters([company]), [])
        # The task was taken a moment ago: given time to start
        task.dequeued_at = dt.datetime.now()
        task.save()
        with set_company(company):
            self.assertEqual(Dispatch.archive_missing_letters([company]), [])
        # Taken and never finished: its worker was lost
        task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
        task.save()
        with set_company(company):
            self.assertEqual(Dispatch.archive_missing_letters([company]),
                dispatches)
        # The reminders read the letters of their dispatches
        self.assertEqual({Dunning(d.id).letter_format for d in dunnings},
            {'odt'})
        letter_ids = [Dispatch(d.id).letter_id for d in dispatches]
        self.assertNotIn(None, letter_ids)
        # Once archived, never again
        with set_company(company):
            self.assertEqual(Dispatch.archive_missing_letters(
                    [company], delay=dt.timedelta(0)), [])
            Dispatch.archive_letters(dispatches)
        self.assertEqual([Dispatch(d.id).letter_id for d in dispatches],
            letter_ids)

    @with_transaction()
    def test_letters_cron(self):
        "The frequent task archives the letters of lost tasks"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Queue = pool.get('ir.queue')
        Cron = pool.get('ir.cron')
        ModelData = pool.get('ir.model.data')
        company, dunnings, _ = self._processed_without_letters(2)
        for task in Queue.search([]):
            if task.data['method'] == 'archive_letters':
                task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
                task.save()
        cron = Cron(ModelData.get_id(MODULE, 'cron_dunning_letter'))
        self.assertEqual((cron.method, cron.interval_number,
                cron.interval_type),
            ('%s|letter_cron' % Dispatch.__name__, 5, 'minutes'))
        Dispatch.letter_cron()
        self.assertEqual({Dunning(d.id).letter_format for d in dunnings},
            {'odt'})

    @unittest.skipUnless(backend.name == 'postgresql',
        "Locks of rows are taken on PostgreSQL; SQLite serializes writes")
    def test_running_task_keeps_its_reminders(self):
        "A dispatch locked by a running task is not archived again"
        # Committed: another transaction must see the reminders
        def setup():
            company, dunnings, dispatches = (
                self._processed_without_letters(2))
            for task in Pool().get('ir.queue').search([]):
                task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
                task.save()
            return (company.id, [d.id for d in dunnings],
                dispatch_ids([d.id for d in dunnings]))
        self.addCleanup(drop_db)
        company_id, ids, dispatches = run(DB_NAME, setup)

        def archive():
            Dispatch = Pool().get('account.invoice.dunning.dispatch')
            return reminder_ids(Dispatch.archive_missing_letters(
                    [company_id]))
        with Transaction().start(DB_NAME, USER) as transaction:
            # The running task holds the lock of the dispatch of the first
            # reminder (archive_letters locks the dispatches)
            table = Table('account_invoice_dunning_dispatch')
            cursor = transaction.connection.cursor()
            query = table.select(table.id, where=table.id == dispatches[0])
            query.for_ = transaction.database.get_select_for_skip_locked()(
                'UPDATE')
            cursor.execute(*query)
            self.assertEqual(cursor.fetchall(), [(dispatches[0],)])
            self.assertEqual(run(DB_NAME, archive,
                    context={'company': company_id}), ids[1:])
            transaction.rollback()
        self.assertEqual(run(DB_NAME, archive,
                context={'company': company_id}), ids[:1])
        self.assertEqual(run(DB_NAME, archive,
                context={'company': company_id}), [])


class LetterStoreTestCase(unittest.TestCase):
    "The letters in a folder of their own, cleaned of orphan files"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='fault-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        path = config.get('database', 'path')
        config.set('database', 'path', self.tmp)
        self.addCleanup(config.set, 'database', 'path', path)

    def _processed(self, count, parties=None):
        """Process the reminders of count invoices of a new company (of
        parties customers, each invoice its own by default); return the
        company, the reminders and their dispatches"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(count, parties=parties)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
            Dunning.process(dunnings)
        dunnings = Dunning.browse(sorted(d.id for d in dunnings))
        dispatches = sorted({d.dispatch for d in dunnings},
            key=lambda d: d.id)
        return company, dunnings, dispatches

    @with_transaction()
    def test_letters_in_their_folder(self):
        "The letters are stored in the folder of the module"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        _, dunnings, dispatches = self._processed(2)
        self.assertEqual(len(dispatches), 2)
        database = Transaction().database.name
        self.assertEqual(letter_files(database),
            sorted(d.letter_id for d in dispatches))
        for dunning in dunnings:
            self.assertEqual(filestore.get(dunning.dispatch.letter_id,
                    prefix=os.path.join(database, LETTER_FOLDER)),
                Dunning(dunning.id).letter)

    @with_transaction()
    def test_one_letter_per_customer(self):
        """The reminders of a customer processed together share one
        letter, archived once"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        # Invoices 0 and 2 of the first customer, 1 of the second
        _, dunnings, dispatches = self._processed(3, parties=2)
        self.assertEqual(len(dispatches), 2)
        first, second, third = dunnings
        self.assertEqual(first.party, third.party)
        self.assertNotEqual(first.party, second.party)
        self.assertEqual(first.dispatch, third.dispatch)
        self.assertNotEqual(first.dispatch, second.dispatch)
        database = Transaction().database.name
        # One file a customer, the letter of both reminders of the first
        self.assertEqual(letter_files(database),
            sorted(d.letter_id for d in dispatches))
        self.assertTrue(first.dispatch.letter_id)
        self.assertNotEqual(first.dispatch.letter_id,
            second.dispatch.letter_id)
        letters = [Dunning(d.id).letter for d in dunnings]
        self.assertTrue(all(letters))
        self.assertEqual(letters[0], letters[2])
        self.assertEqual(letters[0], filestore.get(first.dispatch.letter_id,
                prefix=os.path.join(database, LETTER_FOLDER)))

    @with_transaction()
    def test_remove_orphan_letters(self):
        "Only the old files no dispatch refers to are removed"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        FileQueue = pool.get('ir.filestore.queue')
        _, dunnings, dispatches = self._processed(1)
        dunning, = dunnings
        dispatch, = dispatches
        database = Transaction().database.name
        prefix = os.path.join(database, LETTER_FOLDER)
        orphan = filestore.set(b'killed run', prefix=prefix)
        recent = filestore.set(b'running', prefix=prefix)
        replaced = filestore.set(b'replaced', prefix=prefix)
        FileQueue.create([{
                    'file_id': replaced, 'model': Dispatch.__name__,
                    'field': 'letter', 'prefix': prefix}])
        old = (dt.datetime.now() - dt.timedelta(days=2)).timestamp()
        for file_id in [orphan, replaced, dispatch.letter_id]:
            path = os.path.join(self.tmp, prefix, file_id[0:2],
                file_id[2:4], file_id)
            os.utime(path, (old, old))
        # The daily task removes the old orphan only
        Dunning.dunning_cron()
        self.assertEqual(letter_files(database),
            sorted([recent, replaced, dispatch.letter_id]))
        self.assertTrue(Dunning(dunning.id).letter)
        self.assertEqual(Dispatch.remove_orphan_letters(
                age=dt.timedelta(0)), [recent])

    @with_transaction()
    def test_migrate_letters_to_their_folder(self):
        "The letters archived before are moved to the folder and still read"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        FileQueue = pool.get('ir.filestore.queue')
        _, dunnings, dispatches = self._processed(2)
        database = Transaction().database.name
        # As archived before: in the database's folder
        table = Dispatch.__table__()
        cursor = Transaction().connection.cursor()
        old_ids, letters = {}, {}
        for dispatch in dispatches:
            letters[dispatch.id] = data = Dispatch(dispatch.id).letter
            self.assertTrue(data)
            old_ids[dispatch.id] = filestore.set(data, prefix=database)
            cursor.execute(*table.update([table.letter_id],
                    [old_ids[dispatch.id]], where=table.id == dispatch.id))

        def migrate():
            migrate_letter_store(Dispatch.__table__(), Dispatch.__name__,
                database, letter_prefix())
        migrate()
        for dispatch in dispatches:
            migrated = Dispatch(dispatch.id)
            self.assertNotEqual(migrated.letter_id, old_ids[dispatch.id])
            self.assertEqual(migrated.letter, letters[dispatch.id])
        # and the reminders read them
        for dunning in dunnings:
            self.assertEqual(Dunning(dunning.id).letter,
                letters[dunning.dispatch.id])
        letter_ids = [Dispatch(d.id).letter_id for d in dispatches]
        self.assertEqual(set(letter_ids) <= set(letter_files(database)),
            True)
        # The old files are left to the removal queue of the file store
        self.assertEqual(sorted(q.file_id for q in FileQueue.search([
                        ('model', '=', Dispatch.__name__),
                        ('prefix', '=', database),
                        ])),
            sorted(old_ids.values()))
        # Once is enough
        migrate()
        self.assertEqual([Dispatch(d.id).letter_id for d in dispatches],
            letter_ids)
