# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A module that extends the reminders gets its hooks: the test module
tests/modules/account_invoice_dunning_test_hook fills a field of the
reminders in preprocess_values and logs the calls of on_modification; the
run creates its reminders in bulk (Dunning._insert), the wizard and the
daily task through it, and processing writes them."""
import datetime as dt
import unittest

from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.tests.test_tryton import drop_db, with_transaction
from trytond.transaction import Transaction

MODULE = 'account_invoice_dunning_test_hook'
DATE = dt.date(2026, 2, 11)


class HookTestCase(unittest.TestCase):
    "The hooks of a module extending the reminders are honoured"

    @classmethod
    def setUpClass(cls):
        # Its own database: the other tests run without the test module
        drop_db()
        activate_with_company(cls, MODULE)

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def assertCreatedWithHooks(self, dunnings, invoices):
        "dunnings were created through the hooks, one for each invoice"
        pool = Pool()
        Log = pool.get('account.invoice.dunning.hook_log')
        self.assertEqual(
            sorted(d.invoice.id for d in dunnings),
            sorted(i.id for i in invoices))
        # Filled by preprocess_values and stored
        self.assertEqual(
            {d.id: d.hook_reference for d in dunnings},
            {d.id: 'REF-%s' % d.invoice.id for d in dunnings})
        # on_modification called once for each, once it is stored
        logs = Log.search([
                ('dunning', 'in', [d.id for d in dunnings]),
                ('mode', '=', 'create'),
                ])
        self.assertEqual(
            sorted((l.dunning.id, l.reference) for l in logs),
            sorted((d.id, d.hook_reference) for d in dunnings))

    def assertWrittenWithHooks(self, dunnings):
        "on_modification('write') was called for the state of dunnings"
        pool = Pool()
        Log = pool.get('account.invoice.dunning.hook_log')
        logs = Log.search([
                ('dunning', 'in', [d.id for d in dunnings]),
                ('mode', '=', 'write'),
                ])
        self.assertEqual(
            {l.dunning.id for l in logs if 'state' in l.field_names.split()},
            {d.id for d in dunnings})

    @with_transaction()
    def test_wizard(self):
        "The wizard creates the reminders through the hooks"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        CreateDunning = pool.get(
            'account.invoice.dunning.create', type='wizard')
        company, invoices = create_invoices(3)
        with set_company(company):
            session_id, _, _ = CreateDunning.create()
            result = CreateDunning.execute(session_id, {
                    'start': {
                        'date': DATE,
                        'companies': [company.id],
                        },
                    }, 'create_')
            CreateDunning.delete(session_id)
            self.assertEqual(len(result['actions']), 1)
            dunnings = Dunning.search([('company', '=', company.id)])
            self.assertEqual({d.state for d in dunnings}, {'draft'})
            self.assertCreatedWithHooks(dunnings, invoices)

    @with_transaction()
    def test_cron(self):
        """The daily task creates the reminders of its day through the hooks
        and processes the automatic ones through the hooks"""
        pool = Pool()
        Cron = pool.get('ir.cron')
        Date = pool.get('ir.date')
        Dunning = pool.get('account.invoice.dunning')
        Log = pool.get('account.invoice.dunning.hook_log')
        ModelData = pool.get('ir.model.data')
        # Due in 3 days: the pre-reminder, sent automatically
        company, invoices = create_invoices(
            2, date=Date.today() - dt.timedelta(days=27))
        with set_company(company):
            cron = Cron(ModelData.get_id(
                    'account_invoice_dunning', 'cron_dunning'))
            Cron.run_once([cron])
            dunnings = Dunning.search([('company', '=', company.id)])
            self.assertEqual({d.date for d in dunnings}, {Date.today()})
            self.assertEqual({d.level.automatic for d in dunnings}, {True})
            self.assertEqual({d.state for d in dunnings}, {'done'})
            self.assertCreatedWithHooks(dunnings, invoices)
            self.assertWrittenWithHooks(dunnings)
            # Created before it was processed
            for dunning in dunnings:
                modes = [l.mode for l in Log.search(
                        [('dunning', '=', dunning.id)],
                        order=[('id', 'ASC')])]
                self.assertEqual(modes[0], 'create')

    @with_transaction()
    def test_process(self):
        "Processing writes the reminders through the hooks"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
            self.assertCreatedWithHooks(dunnings, invoices)
            Dunning.process(dunnings)
            dunnings = Dunning.browse(dunnings)
            self.assertEqual({d.state for d in dunnings}, {'done'})
            self.assertWrittenWithHooks(dunnings)
            # Processing keeps what the hook filled
            self.assertEqual(
                {d.hook_reference for d in dunnings},
                {'REF-%s' % i.id for i in invoices})

    @with_transaction()
    def test_process_with_trigger(self):
        """With a trigger on the writes of the reminders, processing writes
        them through write: the trigger sees them done"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Model = pool.get('ir.model')
        Trigger = pool.get('ir.trigger')
        company, invoices = create_invoices(2)
        model, = Model.search([('name', '=', Dunning.__name__)])
        trigger, = Trigger.create([{
                    'name': "Reminder sent",
                    'model': model.id,
                    'on_write_': True,
                    'condition': PYSONEncoder().encode(
                        Eval('self', {}).get('state') == 'done'),
                    'action': 'account.invoice.dunning.hook_log|log_trigger',
                    }])
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=DATE)
            Dunning.process(dunnings)
        # Queued for the reminders it saw become done
        self.assertEqual(Transaction().trigger_records[trigger.id],
            {d.id for d in dunnings})
        self.assertWrittenWithHooks(Dunning.browse(dunnings))
