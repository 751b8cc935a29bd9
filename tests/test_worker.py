# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Letters rendered by a real trytond-worker process (PostgreSQL)."""
import datetime as dt
import os
import signal
import sys
import tempfile
import textwrap
import time
import unittest

import trytond.config as config
from trytond import backend
from trytond.modules.account_invoice_dunning.tests.process import (
    group_alive, group_pids, start, wait_for)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, run_in_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, drop_db
from trytond.transaction import Transaction


def start_worker(config_file, processes, database=DB_NAME):
    "Start trytond-worker with processes on database, in a group of its own"
    return start([
            os.path.join(os.path.dirname(sys.executable), 'trytond-worker'),
            '-c', config_file, '-d', database, '-n', str(processes),
            '-t', '1'],
        env=dict(os.environ))


@unittest.skipUnless(backend.name == 'postgresql',
    "trytond-worker shares the work through PostgreSQL notifications; "
    "SQLite runs the letters inline")
class WorkerTestCase(unittest.TestCase):
    "With workers configured, letters are rendered by the workers"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def setUp(self):
        self._queue = {k: config.get('queue', k)
            for k in ['worker', 'batch_size']}
        self.addCleanup(self._restore_config)

    def _restore_config(self):
        defaults = {'worker': 'False', 'batch_size': '20'}
        for key, value in self._queue.items():
            config.set('queue', key, value or defaults[key])

    def reminders(self, count):
        "count draft reminders of a new company; return their ids"
        company_id = run_in_transaction(
            lambda: create_invoices(count)[0].id)

        def generate():
            with Transaction().set_context(company=company_id):
                Dunning = Pool().get('account.invoice.dunning')
                return [d.id for d in Dunning.generate_dunnings(
                        date=dt.date(2026, 2, 11))]
        ids = run_in_transaction(generate)
        self.assertEqual(len(ids), count)
        return ids

    def state(self, ids):
        """The states of the reminders ids, if they have a letter (their
        dispatch's), the sizes of the letters' tasks (in dispatches, one a
        reminder here) and if they are finished"""
        def read():
            pool = Pool()
            Dunning = pool.get('account.invoice.dunning')
            Dispatch = pool.get('account.invoice.dunning.dispatch')
            Queue = pool.get('ir.queue')
            dunnings = Dunning.browse(ids)
            tasks = [t for t in Queue.search([])
                if t.data['model'] == Dispatch.__name__
                and t.data['method'] == 'archive_letters']
            return ([d.state for d in dunnings],
                [bool(d.letter_format) for d in dunnings],
                sorted(len(t.data['instances']) for t in tasks),
                [bool(t.finished_at) for t in tasks])
        return run_in_transaction(read)

    def run_worker(self, ids, batch_size):
        """Run trytond-worker until the letters' tasks are finished; return
        the state of the reminders ids then, and its output"""
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write('[queue]\nworker = True\nbatch_size = %s\n'
                % batch_size)
            conf.flush()
            # A process group of its own, stopped with its processes
            with start_worker(conf.name, 2) as worker:
                wait_for(lambda: all(self.state(ids)[3]), 180,
                    interval=1)
                state = self.state(ids)
                # trytond-worker stops on an interrupt, as on Ctrl-C
                worker.stop(signal.SIGINT)
                return state, worker.output()

    def test_letters_by_worker(self):
        count, batch_size = 5, 2
        ids = self.reminders(count)
        config.set('queue', 'worker', 'True')
        config.set('queue', 'batch_size', str(batch_size))

        def process():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.process(Dunning.browse(ids))
        run_in_transaction(process)

        states, letters, batches, finished = self.state(ids)
        # Processed at once, the letters are left to the workers
        self.assertEqual(states, ['done'] * count)
        self.assertEqual(letters, [False] * count)
        self.assertEqual(batches, [1, 2, 2])
        self.assertEqual(finished, [False] * 3)

        (states, letters, batches, finished), output = self.run_worker(
            ids, batch_size)
        self.assertTrue(all(finished), output)
        self.assertEqual(letters, [True] * count)
        # Each dispatch was in one batch, and archiving again renders nothing
        self.assertEqual(batches, [1, 2, 2])

        def letter_ids():
            "The letters of the reminders' dispatches, one a reminder"
            Dunning = Pool().get('account.invoice.dunning')
            return [(d.dispatch.id, d.dispatch.letter_id,
                    d.dispatch.write_date) for d in Dunning.browse(ids)]
        archived = run_in_transaction(letter_ids)
        self.assertTrue(all(i for _, i, _ in archived))
        self.assertEqual(len({d for d, _, _ in archived}), count)

        def archive_again():
            Dispatch = Pool().get('account.invoice.dunning.dispatch')
            Dispatch.archive_letters([d for d, _, _ in archived])
        run_in_transaction(archive_again)
        self.assertEqual(run_in_transaction(letter_ids), archived)


# A worker whose processes outlive it: its children ignore SIGINT and
# SIGTERM and keep its output open, as the pool of trytond-worker may
FAKE_WORKER = textwrap.dedent('''\
    import os, signal, sys, time
    ready = sys.argv[1]
    children = []
    for i in range(2):
        pid = os.fork()
        if not pid:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                print("child %d working" % i, flush=True)
                time.sleep(0.2)
        children.append(pid)
    with open(ready + '.tmp', 'w') as fp:
        fp.write(' '.join(map(str, children)))
    os.rename(ready + '.tmp', ready)
    while True:
        time.sleep(0.2)
    ''')


class ProcessGroupTestCase(unittest.TestCase):
    "A process a test starts is stopped with all its processes, in time"

    def test_stop_worker_whose_children_ignore_interrupt(self):
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, 'worker.py')
            ready = os.path.join(tmp, 'ready')
            with open(script, 'w') as fp:
                fp.write(FAKE_WORKER)
            worker = start([sys.executable, script, ready])
            try:
                self.assertTrue(wait_for(
                        lambda: os.path.exists(ready), 30),
                    worker.output())
                with open(ready) as fp:
                    children = [int(p) for p in fp.read().split()]
                self.assertEqual(
                    sorted(group_pids(worker.pgid)),
                    sorted([worker.pid] + children))

                started = time.monotonic()
                worker.stop(signal.SIGINT, timeout=2)
                elapsed = time.monotonic() - started
            finally:
                worker.kill()
                worker.close()
            # The interrupt ended the main process, the children were
            # killed after the timeout, and the whole stop took its timeout
            # and no more than the kill
            self.assertIsNotNone(worker.returncode)
            self.assertGreaterEqual(elapsed, 2)
            self.assertLess(elapsed, 2 + 10)
            self.assertFalse(group_alive(worker.pgid))
            for pid in children:
                self.assertFalse(os.path.exists('/proc/%d' % pid)
                    and pid in group_pids(worker.pgid))

    def test_stop_quiet_process(self):
        "A process that stops on its signal is not waited for longer"
        worker = start([sys.executable, '-c',
                'import time\nprint("ready", flush=True)\n'
                'while True: time.sleep(0.1)'])
        try:
            # A SIGINT that comes while the interpreter starts can be lost
            # (CI once waited the whole 30 s on a loaded machine): the
            # process is signalled once it runs its loop
            self.assertTrue(wait_for(
                    lambda: 'ready' in worker.output(), 30),
                worker.output())
            started = time.monotonic()
            returncode = worker.stop(signal.SIGINT, timeout=30)
            elapsed = time.monotonic() - started
        finally:
            worker.close()
        self.assertLess(elapsed, 10)
        self.assertNotEqual(returncode, 0)
        self.assertFalse(group_alive(worker.pgid))
