# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Killed runs: a processing SIGKILLed after part of its letters, a
trytond-worker SIGKILLed in the middle of its batch; the next run leaves
every reminder processed once with one letter, and no file behind."""
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import textwrap
import unittest

from sql import Table

import trytond.config as config
from trytond import backend
from trytond.filestore import filestore
from trytond.modules.account_invoice_dunning.letter_archive import (
    LETTER_FOLDER, LETTER_GRACE)
from trytond.modules.account_invoice_dunning.tests.process import (
    start, wait_for)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, create_invoices)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, USER, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction, TransactionError

DATE = dt.date(2026, 2, 11)
# Letters rendered at once by the killed processing (its batches)
BATCH = 2
# Seconds a killed run is given to reach the point where it is killed
TIMEOUT = 180

# Processes the reminders in one transaction, by batches of BATCH letters,
# and stops for good before rendering the batch after the first ones: the
# test kills it there, its letters in the file store but not committed
PROCESSING = textwrap.dedent('''\
    import json, os, sys, time
    database, company, ids, ready, batches = (sys.argv[1],
        int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4],
        int(sys.argv[5]))
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    from trytond.modules.account_invoice_dunning import letter
    render = letter.Letter.render_letters.__func__
    rendered = []

    def render_letters(cls, dunnings):
        if len(rendered) == batches:
            with open(ready + '.tmp', 'w') as fp:
                json.dump(rendered, fp)
            os.rename(ready + '.tmp', ready)
            while True:
                time.sleep(1)
        rendered.append([d.id for d in dunnings])
        return render(cls, dunnings)
    letter.Letter.render_letters = classmethod(render_letters)

    with Transaction().start(database, 0, readonly=True):
        Pool(database).init()
    # Letters rendered by batches of %(batch)d, wherever the module reads it
    for name, module in list(sys.modules.items()):
        if (name.startswith('trytond.modules.account_invoice_dunning')
                and hasattr(module, 'BATCH_SIZE')):
            module.BATCH_SIZE = %(batch)d
    pool = Pool(database)
    Dunning = pool.get('account.invoice.dunning')
    extras = {}
    while True:
        try:
            with Transaction().start(database, %(user)d,
                    context={'company': company}, **extras) as transaction:
                Dunning.process(Dunning.browse(ids))
                transaction.commit()
            break
        except TransactionError as error:
            error.fix(extras)
    print("committed")
    ''') % {'batch': BATCH, 'user': USER}

# trytond-worker whose task stops for good after the letters of the reminder
# VICTIM are rendered and stored, before its commit: the test kills it there
WORKER = textwrap.dedent('''\
    import os, sys, time
    victim, ready = int(sys.argv[1]), sys.argv[2]
    del sys.argv[1:3]
    import trytond.commandline as commandline
    import trytond.config as config
    options = commandline.get_parser_worker().parse_args()
    config.update_etc(options.configfile)
    commandline.config_log(options)
    import trytond.worker as worker
    from trytond.pool import Pool
    from trytond.modules.account_invoice_dunning import invoice_dunning
    archive = invoice_dunning.Dunning._archive_letters.__func__

    def _archive_letters(cls, dunnings):
        archive(cls, dunnings)
        if victim in [d.id for d in dunnings]:
            with open(ready, 'w') as fp:
                fp.write(str(os.getpid()))
            while True:
                time.sleep(1)
    invoice_dunning.Dunning._archive_letters = classmethod(_archive_letters)
    Pool.start()
    try:
        worker.work(options)
    except KeyboardInterrupt:
        pass
    ''')


def run(database, func, context=None):
    """Run func in a transaction of its own on database and commit,
    restarting it when it asks for locks; return its result"""
    extras = {}
    while True:
        try:
            with Transaction(new=True).start(database, USER,
                    context=context, **extras) as transaction:
                result = func()
                transaction.commit()
                return result
        except TransactionError as error:
            error.fix(extras)


def letter_files(database):
    "The ids of the files in the letters' folder of database"
    folder = os.path.join(config.get('database', 'path'), database,
        LETTER_FOLDER)
    return sorted(name for _, _, names in os.walk(folder) for name in names)


class KilledRunMixin:
    "A database whose file store is in a folder of the test"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)
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
        """Per reminder: its state, letter format, letter id, and how many
        times it was processed"""
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
                result[dunning.id] = (dunning.state, dunning.letter_format,
                    dunning.letter_id, processed)
            return result
        return self.run_(read)

    def assert_once(self, ids):
        """Every reminder done once with one letter, the files of the folder
        are their letters"""
        history = self.history(ids)
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
            Dunning = Pool().get('account.invoice.dunning')
            return Dunning.remove_orphan_letters(age=age)
        return self.run_(remove)


class KilledProcessingTestCase(KilledRunMixin, unittest.TestCase):
    "A processing killed after part of its letters"

    def test_processing_killed_after_part_of_its_letters(self):
        count, batches = 6, 2
        ids, company_id = self.create_reminders(count)
        self.assertEqual(letter_files(self.database), [])

        script = os.path.join(self.tmp, 'processing.py')
        ready = os.path.join(self.tmp, 'processing.ready')
        with open(script, 'w') as fp:
            fp.write(PROCESSING)
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
        def process():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.process(Dunning.browse(ids))
        self.run_(process, context={'company': company_id})
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

    def test_worker_killed_in_the_middle_of_its_batch(self):
        count, batch_size = 6, 2
        ids, company_id = self.create_reminders(count)
        config.set('queue', 'worker', 'True')
        config.set('queue', 'batch_size', str(batch_size))

        def process():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.process(Dunning.browse(ids))
        self.run_(process, context={'company': company_id})

        def tasks():
            Queue = Pool().get('ir.queue')
            return sorted((list(t.data['instances']), bool(t.dequeued_at),
                    bool(t.finished_at)) for t in Queue.search([
                        ('name', '=', 'default'),
                        ])
                if t.data['method'] == 'archive_letters'
                and set(t.data['instances']) <= set(ids))
        self.assertEqual(self.run_(tasks), [
                (ids[0:2], False, False),
                (ids[2:4], False, False),
                (ids[4:6], False, False),
                ])
        victim = ids[2]

        conf = os.path.join(self.tmp, 'worker.conf')
        with open(conf, 'w') as fp:
            fp.write('[database]\npath = %s\n[queue]\nworker = True\n'
                'batch_size = %d\n' % (self.tmp, batch_size))
        script = os.path.join(self.tmp, 'worker.py')
        ready = os.path.join(self.tmp, 'worker.ready')
        with open(script, 'w') as fp:
            fp.write(WORKER)
        with start([sys.executable, script, str(victim), ready,
                    '-c', conf, '-d', self.database, '-n', '2', '-t', '1'],
                env=dict(os.environ)) as worker:
            # The other batches done, the victim's letters stored and not
            # committed
            self.assertTrue(wait_for(
                    lambda: (os.path.exists(ready)
                        and [t[2] for t in self.run_(tasks)]
                        == [True, False, True])
                    or worker.poll() is not None,
                    TIMEOUT, interval=0.5), worker.output())
            self.assertIsNone(worker.poll(), worker.output())
            self.assertEqual(len(letter_files(self.database)), count)
            worker.kill()
        orphans = sorted(set(letter_files(self.database))
            - {h[2] for h in self.history(ids).values()})
        self.assertEqual(len(orphans), batch_size)

        # The lost task left its reminders done without a letter
        history = self.history(ids)
        self.assertEqual([history[i][:2] for i in ids[2:4]],
            [('done', None)] * 2)
        self.assertEqual(self.run_(tasks)[1], (ids[2:4], True, False))

        def archive_missing(delay):
            def archive():
                Dunning = Pool().get('account.invoice.dunning')
                return [d.id for d in Dunning.archive_missing_letters(
                        [company_id], delay=delay)]
            return self.run_(archive, context={'company': company_id})
        # A task taken a moment ago is given time to run
        self.assertEqual(archive_missing(LETTER_GRACE), [])
        # Then its reminders are queued again, at once
        self.assertEqual(archive_missing(dt.timedelta(0)), ids[2:4])
        self.assertIn((ids[2:4], False, False), self.run_(tasks))
        # and a new worker renders them
        with open(conf, 'w') as fp:
            fp.write('[database]\npath = %s\n[queue]\nworker = True\n'
                'batch_size = %d\n' % (self.tmp, batch_size))
        with start([os.path.join(os.path.dirname(sys.executable),
                        'trytond-worker'),
                    '-c', conf, '-d', self.database, '-n', '1', '-t', '1'],
                env=dict(os.environ)) as worker:
            self.assertTrue(wait_for(
                    lambda: all(h[1] for h in self.history(ids).values()),
                    TIMEOUT, interval=0.5), worker.output())
            worker.stop(signal.SIGINT)

        self.assertEqual(self.remove_orphans(), orphans)
        self.assert_once(ids)
        # Nothing left to archive
        self.assertEqual(archive_missing(dt.timedelta(0)), [])


class LostLettersTestCase(unittest.TestCase):
    "The letters of lost tasks are archived at once, never twice"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

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
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(count)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
        # Processed with workers: the letters are left to the queue
        config.set('queue', 'worker', 'True')
        with set_company(company):
            Dunning.process(dunnings)
        config.set('queue', 'worker', 'False')
        # Processed a while ago
        table = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.write_date],
                [dt.datetime.now() - dt.timedelta(hours=1)],
                where=table.id.in_([d.id for d in dunnings])))
        return company, sorted(dunnings, key=lambda d: d.id)

    @with_transaction()
    def test_lost_tasks(self):
        "Waiting or running tasks keep their reminders, lost ones not"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Queue = pool.get('ir.queue')
        company, dunnings = self._processed_without_letters(3)
        tasks = [t for t in Queue.search([], order=[('id', 'ASC')])
            if t.data['method'] == 'archive_letters'
            and t.data['instances'][0] in {d.id for d in dunnings}]
        self.assertEqual(len(tasks), 1)
        task, = tasks
        # The task waits in the queue: nothing to archive
        with set_company(company):
            self.assertEqual(Dunning.archive_missing_letters([company]), [])
        # The task was taken a moment ago: given time to start
        task.dequeued_at = dt.datetime.now()
        task.save()
        with set_company(company):
            self.assertEqual(Dunning.archive_missing_letters([company]), [])
        # Taken and never finished: its worker was lost
        task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
        task.save()
        with set_company(company):
            self.assertEqual(Dunning.archive_missing_letters([company]),
                dunnings)
        self.assertEqual({Dunning(d.id).letter_format for d in dunnings},
            {'odt'})
        letter_ids = [Dunning(d.id).letter_id for d in dunnings]
        # Once archived, never again
        with set_company(company):
            self.assertEqual(Dunning.archive_missing_letters(
                    [company], delay=dt.timedelta(0)), [])
            Dunning.archive_letters(dunnings)
        self.assertEqual([Dunning(d.id).letter_id for d in dunnings],
            letter_ids)

    @with_transaction()
    def test_letters_cron(self):
        "The frequent task archives the letters of lost tasks"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Queue = pool.get('ir.queue')
        Cron = pool.get('ir.cron')
        ModelData = pool.get('ir.model.data')
        company, dunnings = self._processed_without_letters(2)
        for task in Queue.search([]):
            if task.data['method'] == 'archive_letters':
                task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
                task.save()
        cron = Cron(ModelData.get_id(MODULE, 'cron_dunning_letter'))
        self.assertEqual((cron.interval_number, cron.interval_type),
            (5, 'minutes'))
        Dunning.letter_cron()
        self.assertEqual({Dunning(d.id).letter_format for d in dunnings},
            {'odt'})

    @unittest.skipUnless(backend.name == 'postgresql',
        "Locks of rows are taken on PostgreSQL; SQLite serializes writes")
    def test_running_task_keeps_its_reminders(self):
        "A reminder locked by a running task is not archived again"
        # Committed: another transaction must see the reminders
        def setup():
            company, dunnings = self._processed_without_letters(2)
            for task in Pool().get('ir.queue').search([]):
                task.dequeued_at = dt.datetime.now() - 2 * LETTER_GRACE
                task.save()
            return company.id, [d.id for d in dunnings]
        self.addCleanup(drop_db)
        company_id, ids = run(DB_NAME, setup)

        def archive():
            Dunning = Pool().get('account.invoice.dunning')
            return [d.id for d in Dunning.archive_missing_letters(
                    [company_id])]
        with Transaction().start(DB_NAME, USER) as transaction:
            # The running task holds the lock of its first reminder
            table = Table('account_invoice_dunning')
            cursor = transaction.connection.cursor()
            query = table.select(table.id, where=table.id == ids[0])
            query.for_ = transaction.database.get_select_for_skip_locked()(
                'UPDATE')
            cursor.execute(*query)
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
        activate_module(MODULE)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='fault-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        path = config.get('database', 'path')
        config.set('database', 'path', self.tmp)
        self.addCleanup(config.set, 'database', 'path', path)

    def _processed(self, count):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(count)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
            Dunning.process(dunnings)
        return company, sorted(dunnings, key=lambda d: d.id)

    @with_transaction()
    def test_letters_in_their_folder(self):
        "The letters are stored in the folder of the module"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        _, dunnings = self._processed(2)
        database = Transaction().database.name
        self.assertEqual(letter_files(database),
            sorted(d.letter_id for d in dunnings))
        for dunning in dunnings:
            self.assertEqual(filestore.get(dunning.letter_id,
                    prefix=os.path.join(database, LETTER_FOLDER)),
                Dunning(dunning.id).letter)

    @with_transaction()
    def test_remove_orphan_letters(self):
        "Only the old files no reminder refers to are removed"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        FileQueue = pool.get('ir.filestore.queue')
        _, dunnings = self._processed(1)
        dunning, = dunnings
        database = Transaction().database.name
        prefix = os.path.join(database, LETTER_FOLDER)
        orphan = filestore.set(b'killed run', prefix=prefix)
        recent = filestore.set(b'running', prefix=prefix)
        replaced = filestore.set(b'replaced', prefix=prefix)
        FileQueue.create([{
                    'file_id': replaced, 'model': Dunning.__name__,
                    'field': 'letter', 'prefix': prefix}])
        old = (dt.datetime.now() - dt.timedelta(days=2)).timestamp()
        for file_id in [orphan, replaced, dunning.letter_id]:
            path = os.path.join(self.tmp, prefix, file_id[0:2],
                file_id[2:4], file_id)
            os.utime(path, (old, old))
        # The daily task removes the old orphan only
        Dunning.dunning_cron()
        self.assertEqual(letter_files(database),
            sorted([recent, replaced, dunning.letter_id]))
        self.assertTrue(Dunning(dunning.id).letter)
        self.assertEqual(Dunning.remove_orphan_letters(
                age=dt.timedelta(0)), [recent])

    @with_transaction()
    def test_migrate_letters_to_their_folder(self):
        "The letters archived before are moved to the folder and still read"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        FileQueue = pool.get('ir.filestore.queue')
        _, dunnings = self._processed(2)
        database = Transaction().database.name
        # As archived before: in the database's folder
        table = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        old_ids, letters = {}, {}
        for dunning in dunnings:
            letters[dunning.id] = data = Dunning(dunning.id).letter
            self.assertTrue(data)
            old_ids[dunning.id] = filestore.set(data, prefix=database)
            cursor.execute(*table.update([table.letter_id],
                    [old_ids[dunning.id]], where=table.id == dunning.id))
        Dunning._migrate_letter_store()
        for dunning in dunnings:
            migrated = Dunning(dunning.id)
            self.assertNotEqual(migrated.letter_id, old_ids[dunning.id])
            self.assertEqual(migrated.letter, letters[dunning.id])
        letter_ids = [Dunning(d.id).letter_id for d in dunnings]
        self.assertEqual(set(letter_ids) <= set(letter_files(database)),
            True)
        # The old files are left to the removal queue of the file store
        self.assertEqual(sorted(q.file_id for q in FileQueue.search([
                        ('model', '=', Dunning.__name__),
                        ('prefix', '=', database),
                        ])),
            sorted(old_ids.values()))
        # Once is enough
        Dunning._migrate_letter_store()
        self.assertEqual([Dunning(d.id).letter_id for d in dunnings],
            letter_ids)
