# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Reminders are history that nobody can forge, and no invoice's data can
break the run of the others: each test pins a defect found by an adversarial
review (issue 11), on SQLite and PostgreSQL."""
import datetime as dt
import unittest
from contextlib import contextmanager
from decimal import Decimal

from trytond.exceptions import UserWarning
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account_invoice_dunning.exceptions import DunningError
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices, euro)
from trytond.modules.company.tests import set_company
from trytond.modules.currency.tests import add_currency_rate, create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

D = Decimal
# Invoices of 5 January 2026 fall due on 4 February: first reminder on 11
# February, second on 25 February
FIRST, SECOND = dt.date(2026, 2, 11), dt.date(2026, 2, 25)


def level(xml_id):
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Level = pool.get('account.invoice.dunning.level')
    return Level(ModelData.get_id(MODULE, xml_id))


@contextmanager
def rolled_back():
    "Roll back what the block did, even when it raises"
    cursor = Transaction().connection.cursor()
    cursor.execute('SAVEPOINT rolled_back')
    try:
        yield
    finally:
        cursor.execute('ROLLBACK TO SAVEPOINT rolled_back')


def draft_values(invoice, level, date):
    "The values of a draft reminder made by hand"
    return {
        'company': invoice.company.id,
        'invoice': invoice.id,
        'party': invoice.party.id,
        'procedure': level.procedure.id,
        'level': level.id,
        'channel': level.channel,
        'date': date,
        'currency': invoice.currency.id,
        'amount': invoice.total_amount,
        }


class IntegrityTestCase(unittest.TestCase):
    "Nothing lost, nothing forged"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _first_reminder(self, count=1, **kwargs):
        "Return the company, invoices and their processed first reminders"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(count, **kwargs)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.process(dunnings)
        return company, invoices, dunnings

    @with_transaction()
    def test_blocking_an_invoice_with_a_draft(self):
        "Blocking an invoice that has a draft does not break the next run"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Invoice = pool.get('account.invoice')
        company, (invoice,) = create_invoices(1)
        with set_company(company):
            draft, = Dunning.generate_dunnings(date=FIRST)
            Invoice.write([invoice], {
                    'dunning_blocked': True,
                    'dunning_block_reason': "Disputed delivery",
                    })
            self.assertEqual(
                Dunning.generate_dunnings(date=FIRST + dt.timedelta(1)), [])
            self.assertEqual(Dunning(draft.id).state, 'cancelled')

    @with_transaction()
    def test_users_change_only_channel_deadline_and_note_of_a_draft(self):
        "Through RPC a draft keeps its level, date, party, amount and state"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        company, invoices = create_invoices(2)
        with set_company(company):
            draft = Dunning.generate_dunnings(date=FIRST)[0]
            other, = Party.search([('id', '!=', draft.party.id),
                    ('name', 'like', 'Customer %')])
            forged = [
                {'level': level('level_pre_reminder').id},
                {'level': level('level_formal_notice').id},
                {'date': FIRST - dt.timedelta(30)},
                {'party': other.id},
                {'amount': D('1.00')},
                {'state': 'done'},
                {'letter': b'forged'},
                {'processed_by': Transaction().user},
                ]
            with check_access():
                for values in forged:
                    with self.subTest(values=values):
                        with self.assertRaisesRegex(
                                AccessError, 'the dunning run sets them'):
                            Dunning.write([draft], values)
                Dunning.write([draft], {
                        'channel': 'email',
                        'deadline': FIRST + dt.timedelta(20),
                        'note': "Called the customer",
                        })
            draft = Dunning(draft.id)
            self.assertEqual((draft.state, draft.level, draft.date),
                ('draft', level('level_first_reminder'), FIRST))
            self.assertEqual(draft.channel, 'email')

    @with_transaction()
    def test_no_reminder_created_by_hand(self):
        "A reminder can not be created through RPC, nor as already sent"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Invoice = pool.get('account.invoice')
        company, (invoice,) = create_invoices(1)
        first = level('level_first_reminder')
        with set_company(company):
            values = draft_values(invoice, first, FIRST)
            for forged in [{'state': 'done'}, {'letter': b'forged'},
                    {'letter_format': 'odt'}]:
                with self.subTest(forged=forged):
                    with self.assertRaises(AccessError):
                        Dunning.create([{**values, **forged}])
            # As through RPC, where the transaction of an error is rolled
            # back
            with check_access():
                with rolled_back(), \
                        self.assertRaisesRegex(AccessError, 'by hand'):
                    Dunning.create([values])
                for forged in [{}, {'state': 'done'}]:
                    with rolled_back(), self.assertRaises(AccessError):
                        Invoice.write([invoice], {
                                'dunnings': [('create', [{
                                                **values, **forged}])],
                                })
            self.assertEqual(Dunning.search([], count=True), 0)
            # The invoice is still chased
            self.assertEqual(len(Dunning.generate_dunnings(date=FIRST)), 1)

    @with_transaction()
    def test_processing_follows_the_history(self):
        "A draft dated before or at a level below what was sent is refused"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, (invoice,), (sent,) = self._first_reminder()
        with set_company(company):
            for values in [
                    draft_values(
                        invoice, level('level_second_reminder'),
                        FIRST - dt.timedelta(1)),
                    draft_values(
                        invoice, level('level_pre_reminder'), SECOND),
                    ]:
                draft, = Dunning.create([values])
                with self.subTest(level=draft.level.name, date=draft.date):
                    with self.assertRaisesRegex(DunningError, 'go back'):
                        Dunning.process([draft])
                # The daily run goes on: the wrong draft is replaced
                Dunning.generate_dunnings(date=draft.date, strict=False)
                self.assertEqual(Dunning(draft.id).state, 'cancelled')
            second, = Dunning.generate_dunnings(date=SECOND)
            Dunning.process([second])
            self.assertEqual(invoice.dunning_level,
                level('level_second_reminder'))

    @with_transaction()
    def test_run_goes_past_a_broken_history(self):
        "A level sent twice out of order does not stop the next runs"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, (invoice,), (sent,) = self._first_reminder()
        with set_company(company):
            # A history broken before the checks: the second reminder,
            # then the pre-reminder, were sent
            table = Dunning.__table__()
            cursor = Transaction().connection.cursor()
            for xml_id, date in [('level_second_reminder', SECOND),
                    ('level_pre_reminder', SECOND + dt.timedelta(1))]:
                draft, = Dunning.create([
                        draft_values(invoice, level(xml_id), date)])
                cursor.execute(*table.update([table.state], ['done'],
                        where=table.id == draft.id))
            third, = Dunning.generate_dunnings(date=dt.date(2026, 3, 20))
            self.assertEqual(third.level, level('level_third_reminder'))

    @with_transaction()
    def test_reminder_goes_to_the_party_of_its_invoice(self):
        "The party of a reminder is the party of its invoice"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, (invoice, other) = create_invoices(2)
        with set_company(company):
            values = draft_values(
                invoice, level('level_first_reminder'), FIRST)
            values['party'] = other.party.id
            with self.assertRaisesRegex(ValidationError, 'must be addressed'):
                Dunning.create([values])

    @with_transaction()
    def test_level_bounds(self):
        "Levels are saved only with sane days, delays and amounts"
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        first = level('level_first_reminder')
        for values in [
                {'days': 1_000_000_000},
                {'days': -3651},
                {'payment_delay': 5_000_000},
                {'payment_delay': -1},
                {'delay': 3651},
                {'min_amount': D(-1)},
                {'min_party_amount': D(-1)},
                ]:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError):
                    Level.write([first], values)
        Level.write([first], {'payment_delay': 365, 'delay': 3650})

    @with_transaction()
    def test_levels_of_the_same_sequence(self):
        "Levels of the same sequence follow their days in any creation order"
        pool = Pool()
        Procedure = pool.get('account.invoice.dunning.procedure')
        for days in [[10, 30], [30, 10]]:
            with self.subTest(days=days):
                procedure, = Procedure.create([{
                            'name': "Same sequence",
                            'levels': [('create', [{
                                            'name': "After %s days" % d,
                                            'sequence': 10, 'days': d}
                                        for d in days])],
                            }])
                self.assertEqual([l.days for l in procedure.levels],
                    [10, 30])

    @with_transaction()
    def test_procedure_of_a_segment_has_levels(self):
        "A segment's procedure without levels would chase nobody"
        pool = Pool()
        Procedure = pool.get('account.invoice.dunning.procedure')
        Segment = pool.get('account.invoice.dunning.segment')
        Level = pool.get('account.invoice.dunning.level')
        empty, = Procedure.create([{'name': "Empty"}])
        with self.assertRaisesRegex(ValidationError, 'at least one level'):
            Segment.create([{'name': "Silent", 'procedure': empty.id}])
        procedure, = Procedure.create([{
                    'name': "One level",
                    'levels': [('create', [{'name': "Only", 'days': 5}])],
                    }])
        Segment.create([{'name': "Chased", 'procedure': procedure.id}])
        with self.assertRaisesRegex(AccessError, 'at least one level'):
            Level.delete(list(procedure.levels))

    @with_transaction()
    def test_penalty_bounds(self):
        "Penalty rules are saved only with rates between 0 and 100 %"
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        ModelData = pool.get('ir.model.data')
        interest = Penalty(ModelData.get_id(
                MODULE, 'penalty_interest_professional'))
        for values in [
                {'margin': D('1.5')},
                {'margin': D('150')},
                {'rate': D('0.08')},
                {'divisor': 0},
                {'divisor': 1_000_000},
                ]:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError):
                    Penalty.write([interest], values)
        fee, = Penalty.create([{
                    'procedure': interest.procedure.id,
                    'name': "Fee",
                    'kind': 'percentage',
                    'percentage': D('0.05'),
                    }])
        with self.assertRaises(ValidationError):
            Penalty.write([fee], {'percentage': D(150)})

    @with_transaction()
    def test_missing_rate_stops_only_its_invoice(self):
        "A rate not entered leaves the other invoices' reminders whole"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        RateValue = pool.get('account.invoice.dunning.rate.value')
        RateValue.delete(RateValue.search(
                [('date', '>=', dt.date(2026, 7, 1))]))
        company, invoices = create_invoices(2, date=dt.date(2026, 5, 4))
        professional, consumer = invoices
        Party.write([professional.party], {'customer_type': 'professional'})
        # Interest from the formal notice only: no rate needed yet
        Party.write([consumer.party], {'customer_type': 'consumer'})
        with set_company(company):
            Dunning.process(
                Dunning.generate_dunnings(date=dt.date(2026, 6, 15)))
            # The second reminders claim interest into 2026-H2
            dunnings = Dunning.generate_dunnings(date=dt.date(2026, 7, 10))
            self.assertEqual(len(dunnings), 2)
            by_invoice = {d.invoice: d for d in dunnings}
            failed = by_invoice[professional]
            self.assertIn('2026-H2', failed.penalty_error)
            self.assertEqual(failed.interest_amount, D(0))
            self.assertIsNone(by_invoice[consumer].penalty_error)
            # Processing asks before sending without penalties
            with Transaction().set_context(_skip_warnings=False), \
                    self.assertRaisesRegex(UserWarning, '2026-H2'):
                Dunning.process([failed])
            Dunning.process([by_invoice[consumer]])
            self.assertEqual(by_invoice[consumer].state, 'done')
            # The scheduled task never crashes on it
            Dunning.dunning_cron()

    @with_transaction()
    def test_sent_level_keeps_its_procedure_and_name(self):
        "What a reminder printed does not change with its level"
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Procedure = pool.get('account.invoice.dunning.procedure')
        company, (invoice,), (sent,) = self._first_reminder()
        first = sent.level
        other, = Procedure.create([{
                    'name': "Other",
                    'levels': [('create', [{'name': "Other", 'days': 5}])],
                    }])
        with self.assertRaisesRegex(AccessError, 'reminders of this level'):
            Level.write([first], {'procedure': other.id})
        Level.write([first], {'name': "Gentle Nudge"})
        with set_company(company):
            sent = pool.get('account.invoice.dunning')(sent.id)
            self.assertEqual(sent.level_name, "First Reminder")
            self.assertTrue(sent.rec_name.startswith("First Reminder @"))

    @with_transaction()
    def test_large_amounts_are_exact(self):
        "An invoice of 99,999,999,999,999.99 is reminded of that amount"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        amount = D('99999999999999.99')
        company, (invoice,) = create_invoices(1, amount=amount)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=FIRST)
            self.assertEqual(dunning.amount, amount)
            Dunning.process([dunning])
            self.assertEqual(Dunning(dunning.id).amount, amount)

    @with_transaction()
    def test_indemnity_in_euros_for_any_company(self):
        "The 40 EUR indemnity is 40 EUR, converted only for another currency"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Penalty = pool.get('account.invoice.dunning.penalty')
        ModelData = pool.get('ir.model.data')
        usd = create_currency('USD')
        add_currency_rate(usd, 1)
        # 1 USD = 0.8 EUR: 40 EUR = 50 USD
        eur = euro()
        add_currency_rate(eur, D('0.8'), date=dt.date(2025, 1, 1))
        company, (invoice,) = create_invoices(
            1, company_currency=usd, currency=eur)
        pool.get('party.party').write(
            [invoice.party], {'customer_type': 'professional'})
        with set_company(company):
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            second, = Dunning.generate_dunnings(date=SECOND)
        self.assertEqual(
            (second.currency, second.indemnity_amount, second.penalty_error),
            (eur, D('40.00'), None))
        indemnity = Penalty(ModelData.get_id(
                MODULE, 'penalty_indemnity_professional'))
        self.assertEqual(
            indemnity.fixed_amount(usd, dt.date(2026, 1, 5)), D('50.00'))
