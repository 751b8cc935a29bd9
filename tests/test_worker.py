# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Letters rendered by a real trytond-worker process (PostgreSQL)."""
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import trytond.config as config
from trytond import backend
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, create_invoices, run_in_transaction)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction


@unittest.skipUnless(backend.name == 'postgresql',
    "trytond-worker shares the work through PostgreSQL notifications; "
    "SQLite runs the letters inline")
class WorkerTestCase(unittest.TestCase):
    "With workers configured, letters are rendered by the workers"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

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

    def test_letters_by_worker(self):
        count, batch_size = 5, 2
        company_id = run_in_transaction(
            lambda: create_invoices(count)[0].id)

        def generate():
            with Transaction().set_context(company=company_id):
                Dunning = Pool().get('account.invoice.dunning')
                return [d.id for d in Dunning.generate_dunnings(
                        date=dt.date(2026, 2, 11))]
        ids = run_in_transaction(generate)
        self.assertEqual(len(ids), count)

        config.set('queue', 'worker', 'True')
        config.set('queue', 'batch_size', str(batch_size))

        def process():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.process(Dunning.browse(ids))
        run_in_transaction(process)

        def state():
            pool = Pool()
            Dunning = pool.get('account.invoice.dunning')
            Queue = pool.get('ir.queue')
            dunnings = Dunning.browse(ids)
            tasks = [t for t in Queue.search([])
                if t.data['model'] == Dunning.__name__
                and t.data['method'] == 'archive_letters']
            return ([d.state for d in dunnings],
                [bool(d.letter_format) for d in dunnings],
                sorted(len(t.data['instances']) for t in tasks),
                [bool(t.finished_at) for t in tasks])
        states, letters, batches, finished = run_in_transaction(state)
        # Processed at once, the letters are left to the workers
        self.assertEqual(states, ['done'] * count)
        self.assertEqual(letters, [False] * count)
        self.assertEqual(batches, [1, 2, 2])
        self.assertEqual(finished, [False] * 3)

        with tempfile.NamedTemporaryFile('w', suffix='.conf') as conf:
            conf.write('[queue]\nworker = True\nbatch_size = %s\n'
                % batch_size)
            conf.flush()
            worker = subprocess.Popen([
                    os.path.join(os.path.dirname(sys.executable),
                        'trytond-worker'),
                    '-c', conf.name, '-d', DB_NAME, '-n', '2', '-t', '1'],
                env=dict(os.environ),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    states, letters, batches, finished = run_in_transaction(
                        state)
                    if all(finished):
                        break
                    time.sleep(1)
            finally:
                # trytond-worker stops on an interrupt, as on Ctrl-C
                worker.send_signal(signal.SIGINT)
                try:
                    output = worker.communicate(timeout=30)[0]
                except subprocess.TimeoutExpired:
                    worker.kill()
                    output = worker.communicate()[0]
        self.assertTrue(all(finished), output.decode(errors='replace'))
        self.assertEqual(letters, [True] * count)
        # Each reminder was in one batch, and archiving again renders nothing
        self.assertEqual(batches, [1, 2, 2])

        def letter_ids():
            Dunning = Pool().get('account.invoice.dunning')
            return [(d.letter_id, d.write_date) for d in Dunning.browse(ids)]
        archived = run_in_transaction(letter_ids)
        self.assertTrue(all(i for i, _ in archived))

        def archive_again():
            Dunning = Pool().get('account.invoice.dunning')
            Dunning.archive_letters(ids)
        run_in_transaction(archive_again)
        self.assertEqual(run_in_transaction(letter_ids), archived)
