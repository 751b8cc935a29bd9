# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The bench's large templates are copies of a template built through
Tryton (bench/replicate.py): each copied invoice gets the reminders of its
original, its rows linked to the copies of the original's."""
import datetime as dt
import importlib.util
import os
import unittest
from decimal import Decimal

from sql import Column
from sql.aggregate import Count, Max

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .test_dispute import dispute
from .test_effectiveness import settle
from .test_engine import activate_with_company, create_invoices, pay_invoice

BENCH = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), 'bench')
COPIES = 3


def load_replicate():
    "bench/replicate.py, loaded by its path (the bench is no package)"
    spec = importlib.util.spec_from_file_location('bench_replicate',
        os.path.join(BENCH, 'replicate.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_id(Model):
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(Max(table.id)))
    return cursor.fetchone()[0]


def row_count(Model, column=None):
    """The rows of the table of Model, of any company (the database may
    hold the invoices of other tests' companies); with column, its
    distinct values"""
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    if column:
        cursor.execute(*table.select(
                Count(Column(table, column), distinct=True)))
    else:
        cursor.execute(*table.select(Count(table.id)))
    return cursor.fetchone()[0]


def log_count(record):
    "The rows of the history of record's transitions (ir.model.log)"
    Log = Pool().get('ir.model.log')
    log = Log.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*log.select(Count(log.id),
            where=log.resource == str(record)))
    return cursor.fetchone()[0]


def reminder_facts(dunning):
    "What a reminder of an invoice says, the same for its copies"
    return (dunning.level.id, dunning.amount, dunning.remaining_amount,
        dunning.date, dunning.deadline)


def penalties_at_reached_level(invoices, date):
    """{invoice id: Penalties} of invoices at the first level of their
    procedure that a penalty rule reaches, on date"""
    pool = Pool()
    Level = pool.get('account.invoice.dunning.level')
    Penalty = pool.get('account.invoice.dunning.penalty')
    level = min(Penalty.reached_levels(Level.search([])),
        key=lambda l: l.days)
    return Penalty.compute_penalties({i.id: (i, level, date, i.amount_to_pay)
            for i in invoices})


class BenchReplicateTestCase(unittest.TestCase):
    "The copies of a bench template"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def originals(self):
        """Four invoices of two customers due on 4 February 2026: one paid,
        one partially paid, two open"""
        Party = Pool().get('party.party')
        company, invoices = create_invoices(4, amount=120, parties=2)
        # Professionals owe the interest and the indemnity
        Party.write(list({i.party for i in invoices}),
            {'customer_type': 'professional'})
        with set_company(company):
            settle(invoices[0], 120, dt.date(2026, 1, 20))
            pay_invoice(invoices[1], 50, dt.date(2026, 1, 20))
        # The history of the transition to paid, as the bench's build has
        # for each paid invoice
        Log = Pool().get('ir.model.log')
        Log.create([{'resource': str(invoices[0]), 'event': 'transition',
                    'target': 'state:paid'}])
        return company, invoices

    @with_transaction()
    def test_copies_get_the_reminders_of_their_originals(self):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        company, invoices = self.originals()
        offsets = {'invoice': max_id(Invoice), 'party': max_id(Party)}
        n_invoices = row_count(Invoice)
        n_customers = row_count(Invoice, 'party')

        added = load_replicate().copy_template(COPIES)

        self.assertEqual(added['account.invoice'],
            n_invoices * (COPIES - 1))
        for model in ['party.party', 'party.address',
                'party.party.dunning_segment']:
            self.assertEqual(added[model], n_customers * (COPIES - 1))
        self.assertEqual(row_count(Invoice, 'party'), n_customers * COPIES)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=dt.date(2026, 3, 20))
        facts = {d.invoice.id: reminder_facts(d) for d in dunnings}
        reminded = [i for i in invoices if i.id in facts]
        # The open and the partially paid invoices
        self.assertEqual(len(reminded), 3)
        self.assertEqual(len(dunnings), len(reminded) * COPIES)
        twins = {(i.id, c): Invoice(i.id + offsets['invoice'] * c)
            for i in invoices for c in range(1, COPIES)}
        with set_company(company):
            penalties = penalties_at_reached_level(
                invoices + list(twins.values()), dt.date(2026, 3, 20))
            # Interest and indemnity owed: the copies check more than zeros
            self.assertTrue(all(penalties[i.id].interest
                    and penalties[i.id].indemnity for i in reminded))
            for (invoice_id, copy), twin in twins.items():
                invoice = Invoice(invoice_id)
                self.check_twin(invoice, twin, copy, offsets)
                self.assertEqual(facts.get(twin.id), facts.get(invoice.id))
                self.assertEqual(penalties[twin.id], penalties[invoice.id])
        paid = Invoice(invoices[0].id + offsets['invoice'])
        original_reconciliation, = {l.reconciliation
            for l in invoices[0].lines_to_pay}
        reconciliation, = {l.reconciliation for l in paid.lines_to_pay}
        self.assertNotEqual(reconciliation, original_reconciliation)
        self.assertEqual({l.move.origin for l in reconciliation.lines},
            {paid})
        # The history of the paid invoice's transitions
        self.assertTrue(log_count(invoices[0]))

    def check_twin(self, invoice, twin, copy, offsets):
        "twin is the copy number copy of invoice"
        self.assertEqual(twin.party.id,
            invoice.party.id + offsets['party'] * copy)
        self.assertEqual(twin.invoice_address.party, twin.party)
        self.assertEqual(twin.party.dunning_segment,
            invoice.party.dunning_segment)
        self.assertEqual(twin.number, '%s-%d' % (invoice.number, copy))
        self.assertEqual(
            (twin.state, twin.invoice_date, twin.total_amount,
                twin.amount_to_pay),
            (invoice.state, invoice.invoice_date,
                invoice.total_amount, invoice.amount_to_pay))
        self.assertEqual(twin.move.origin, twin)
        self.assertEqual(log_count(twin), log_count(invoice))

    @with_transaction()
    def test_links_to_records_not_copied(self):
        """A link to a record that is not copied (the company's party) stays
        as it is, and so does an empty reference"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        company, invoices = self.originals()
        invoice = invoices[2]
        line, = [l for l in invoice.move.lines if not l.party]
        move_line, move = MoveLine.__table__(), Move.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*move_line.update([move_line.party],
                [company.party.id], where=move_line.id == line.id))
        cursor.execute(*move.update([move.origin], ['account.invoice,-1'],
                where=move.id == invoices[3].move.id))
        invoice_offset = max_id(Invoice)
        move_offset = max_id(Move)

        load_replicate().copy_template(COPIES)

        twin = Invoice(invoice.id + invoice_offset)
        twin_line, = [l for l in twin.move.lines
            if l.account == line.account]
        self.assertEqual(twin_line.party, company.party)
        cursor.execute(*move.select(move.origin,
                where=move.id == invoices[3].move.id + move_offset))
        self.assertEqual(cursor.fetchone()[0], 'account.invoice,-1')

    @with_transaction()
    def test_rows_left_out_raise(self):
        """Rows of a table the copies leave out that link to the invoices
        (here a dispute: a template has none) stop the copies"""
        company, invoices = self.originals()
        with set_company(company):
            dispute(invoices[2], 20, opened_on=dt.date(2026, 2, 10))

        with self.assertRaises(ValueError):
            load_replicate().copy_template(COPIES)

    @with_transaction()
    def test_records_created_after_the_copies(self):
        "The next ids follow the copies"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        _, invoices = self.originals()
        load_replicate().copy_template(COPIES)
        last_party, last_invoice = max_id(Party), max_id(Invoice)

        party, = Party.create([{'name': "After the copies",
                    'addresses': [('create', [{}])]}])
        invoice, = Invoice.copy([invoices[2]], {'party': party.id,
                'invoice_address': party.addresses[0].id})

        self.assertGreater(party.id, last_party)
        self.assertGreater(invoice.id, last_invoice)
        self.assertEqual(invoice.total_amount, Decimal(120))
