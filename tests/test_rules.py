# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""One implementation of each shared rule: the segment of a party and the
receivable lines of an invoice mean the same for the run, the penalties, the
payment behaviour and the letters."""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

D = Decimal


class RulesTestCase(unittest.TestCase):
    "The shared rules, on SQLite and PostgreSQL"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_archived_segment_of_a_party(self):
        """A party whose own segment is archived is chased with the default
        segment: its procedure, its penalties, on the letter as in the
        amounts"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        Segment = pool.get('account.invoice.dunning.segment')
        Penalty = pool.get('account.invoice.dunning.penalty')
        ModelData = pool.get('ir.model.data')
        standard = Segment(ModelData.get_id(MODULE, 'segment_standard'))
        company, (invoice,) = create_invoices(1, amount=1200)
        party = invoice.party
        Party.write([party], {'customer_type': 'professional'})
        gentle, = Segment.create([{
                    'name': "Gentle",
                    'procedure': standard.procedure.id,
                    }])
        Penalty.create([{
                    'segment': gentle.id,
                    'name': "Gentle handling fee",
                    'kind': 'fixed',
                    'amount': D(5),
                    }])
        with set_company(company):
            Party.write([party], {'dunning_segment': gentle.id})
            Segment.write([gentle], {'active': False})
            self.assertEqual(party.get_dunning_segment(company), standard)
            Dunning.process(Dunning.generate_dunnings(
                    date=dt.date(2026, 2, 11)))
            second, = Dunning.generate_dunnings(date=dt.date(2026, 2, 25))
            self.assertEqual(second.segment, standard)
            # The 40 EUR indemnity of the standard segment, not the 5 EUR
            # fee of the archived one
            self.assertEqual(second.indemnity_amount, D('40.00'))
            Dunning.process([second])
            text = zip_texts(Dunning(second.id).letter)
        self.assertNotIn("Gentle handling fee", text)
        self.assertIn("40.00", text)

    @with_transaction()
    def test_rescheduled_invoice_paid_late(self):
        """The payment behaviour follows the rescheduled lines of an
        invoice: paid 19 days after its new last due date, it is late"""
        pool = Pool()
        Party = pool.get('party.party')
        company, (invoice,) = create_invoices(1, amount=1000)
        self._reschedule(invoice, dt.date(2026, 2, 1),
            [(D(500), dt.date(2026, 3, 1)), (D(500), dt.date(2026, 4, 1))])
        self._pay(invoice, dt.date(2026, 4, 20))
        with set_company(company):
            behaviour = Party.dunning_payment_behaviour(
                company, dt.date(2026, 5, 1), 365)[invoice.party.id]
        self.assertEqual(behaviour.invoice_count, 1)
        self.assertEqual(behaviour.late_invoice_count, 1)
        self.assertEqual(behaviour.max_days_late, 19)

    @with_transaction()
    def test_lines_of_rescheduled_invoices(self):
        """The receivable lines of the invoices, their additional moves
        included, are the same by Invoice.dunning_lines_union (a UNION ALL)
        and by Invoice.dunning_lines_from, each once"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        company, (invoice, other) = create_invoices(2, amount=1000)
        self._reschedule(invoice, dt.date(2026, 2, 1),
            [(D(500), dt.date(2026, 3, 1)), (D(500), dt.date(2026, 4, 1))])
        cursor = Transaction().connection.cursor()

        def select(invoice, line, from_):
            return from_.select(invoice.id, line.id,
                where=invoice.company == company.id)
        cursor.execute(*Invoice.dunning_lines_union(select))
        union = sorted(cursor)
        invoice_table = Invoice.__table__()
        line = Pool().get('account.move.line').__table__()
        cursor.execute(*select(invoice_table, line,
                Invoice.dunning_lines_from(invoice_table, line,
                    invoice_table.company == company.id)))
        self.assertEqual(union, sorted(cursor))
        self.assertEqual(len(set(union)), len(union))
        # The original line, its cancellation and the two new terms; the
        # line of the other invoice
        self.assertEqual(
            sorted(len([i for i, _ in union if i == x.id])
                for x in [invoice, other]),
            [1, 4])

    @with_transaction()
    def test_unpaid_lines_of_given_invoices(self):
        """The unpaid lines and payments of given invoices (read from the
        invoices: through a LATERAL subquery on PostgreSQL) are those of the
        company's reading: the rescheduled terms of an invoice, not its
        reconciled line; an invoice paid has none; the invoices not given
        are left out"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        company, (rescheduled, paid, other) = create_invoices(
            3, amount=1000)
        self._reschedule(rescheduled, dt.date(2026, 2, 1),
            [(D(400), dt.date(2026, 3, 1)), (D(600), dt.date(2026, 4, 1))])
        self._pay(paid, dt.date(2026, 2, 2))
        given = [rescheduled.id, paid.id]
        all_lines, all_payments = Invoice.dunning_unpaid([company.id])
        table = Invoice.__table__()
        # A list of ids, or a query of ids
        for invoice_ids in [given,
                table.select(table.id, where=table.id.in_(given))]:
            lines, payments = Invoice.dunning_unpaid(
                [company.id], invoice_ids)
            self.assertEqual(dict(lines), {rescheduled.id: [
                        (dt.date(2026, 3, 1), D(400)),
                        (dt.date(2026, 4, 1), D(600))]})
            self.assertEqual(dict(lines),
                {i: l for i, l in all_lines.items() if i in given})
            self.assertEqual(dict(payments),
                {i: p for i, p in all_payments.items() if i in given})
        self.assertIn(other.id, all_lines)

    def _move(self, invoice, date, lines):
        "Create and post a move of invoice's company on date with lines"
        pool = Pool()
        Move = pool.get('account.move')
        Journal = pool.get('account.journal')
        Period = pool.get('account.period')
        journal, = Journal.search([('type', '=', 'cash')], limit=1)
        move, = Move.create([{
                    'company': invoice.company.id,
                    'journal': journal.id,
                    'period': Period.find(invoice.company, date=date),
                    'date': date,
                    'lines': [('create', lines)],
                    }])
        Move.post([move])
        return move

    def _receivable(self, invoice, debit=0, credit=0, maturity_date=None):
        return {
            'account': invoice.account.id,
            'party': invoice.party.id,
            'debit': debit,
            'credit': credit,
            'maturity_date': maturity_date,
            }

    def _reschedule(self, invoice, date, terms):
        """Replace the line to pay of invoice by terms [(amount, due date)]
        with an additional move, as Tryton's rescheduling does"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        original, = invoice.lines_to_pay
        move = self._move(invoice, date,
            [self._receivable(invoice, credit=original.debit)]
            + [self._receivable(invoice, debit=a, maturity_date=d)
                for a, d in terms])
        MoveLine.reconcile([original] + [
                l for l in move.lines if l.credit])
        Invoice.write([invoice], {'additional_moves': [('add', [move.id])]})

    def _pay(self, invoice, date):
        "Pay what invoice asks on date, reconciled with its lines"
        pool = Pool()
        Account = pool.get('account.account')
        MoveLine = pool.get('account.move.line')
        cash, = Account.search([
                ('company', '=', invoice.company.id),
                ('type.receivable', '=', False),
                ('type.payable', '=', False),
                ('type.revenue', '=', False),
                ('type.expense', '=', False),
                ('reconcile', '=', False),
                ('closed', '!=', True),
                ('type', '!=', None),
                ], limit=1)
        to_pay = [l for l in MoveLine.search([
                    ('account', '=', invoice.account.id),
                    ('party', '=', invoice.party.id),
                    ('reconciliation', '=', None),
                    ]) if l.debit]
        total = sum(l.debit for l in to_pay)
        move = self._move(invoice, date, [
                self._receivable(invoice, credit=total),
                {'account': cash.id, 'debit': total, 'credit': 0},
                ])
        MoveLine.reconcile(to_pay + [
                l for l in move.lines
                if l.account == invoice.account])
