# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Steps inside a level: after the reminder of a level, its steps make more
touches on their days, by their channel, until the next level comes; each
is dated in the history and its letter recalls the earlier ones."""
import datetime as dt
import unittest

from trytond.modules.account_invoice_dunning.exceptions import (
    LevelValidationError)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

# The invoices are dated 5 January 2026, due 4 February; the first reminder
# of the default ladder comes 7 days after, the second 21 days after (and
# 12 days after the first)
FIRST = dt.date(2026, 2, 11)
SECOND = dt.date(2026, 2, 25)


def day(offset):
    "The day offset days after the first reminder"
    return FIRST + dt.timedelta(days=offset)


def add_steps(steps):
    """Give the first reminder of the default procedure the steps [(days,
    channel)]; return the level"""
    pool = Pool()
    Level = pool.get('account.invoice.dunning.level')
    Step = pool.get('account.invoice.dunning.level.step')
    level, = Level.search([('name', '=', "First Reminder"),
            ('procedure.name', '=', "Standard Procedure (France)")])
    Step.create([{'level': level.id, 'days': d, 'channel': c}
            for d, c in steps])
    return level


def made(dunnings):
    "[(channel, step days or None)] of the reminders"
    return sorted((d.channel, d.step.days if d.step else None)
        for d in dunnings)


class LevelStepTestCase(unittest.TestCase):
    "Steps inside a level"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_steps_fire_on_their_days(self):
        """The steps of the first reminder fire on their days after it, by
        their channel, once each; the next level comes on its own day and
        ends them"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Call = pool.get('account.invoice.dunning.call')
        company, invoices = create_invoices(1)
        with set_company(company):
            add_steps([(2, 'email'), (5, 'phone'), (10, 'email')])
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            self.assertEqual(Dunning.generate_dunnings(date=day(1)), [])
            for offset, expected in [
                    (2, [('email', 2)]), (3, []), (5, [('phone', 5)]),
                    (9, []), (10, [('email', 10)]), (13, [])]:
                with self.subTest(day=offset):
                    dunnings = Dunning.generate_dunnings(date=day(offset))
                    self.assertEqual(made(dunnings), expected)
                    self.assertTrue(all(
                            d.level.name == "First Reminder"
                            for d in dunnings))
                    Dunning.process(dunnings)
            call, = Call.search([])
            self.assertEqual(call.date, day(5))
            second, = Dunning.generate_dunnings(date=SECOND)
            self.assertEqual(second.level.name, "Second Reminder")
            self.assertIsNone(second.step)
            Dunning.process([second])
            history = Dunning.search([('invoice', '=', invoices[0].id)],
                order=[('date', 'ASC')])
            self.assertEqual(
                [(d.date, d.channel) for d in history],
                [(FIRST, 'letter'), (day(2), 'email'), (day(5), 'phone'),
                    (day(10), 'email'), (SECOND, 'letter')])

    @with_transaction()
    def test_latest_step_due_only(self):
        """A run after days without runs makes only the latest step due: the
        earlier ones are not made late"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            add_steps([(2, 'email'), (5, 'phone')])
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            dunnings = Dunning.generate_dunnings(date=day(6))
            self.assertEqual(made(dunnings), [('phone', 5)])
            Dunning.process(dunnings)
            self.assertEqual(Dunning.generate_dunnings(date=day(7)), [])

    @with_transaction()
    def test_next_level_comes_first(self):
        """On the day the next level comes, it is made rather than a step
        due the same day"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            add_steps([(14, 'email')])
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            dunning, = Dunning.generate_dunnings(date=SECOND)
            self.assertEqual(dunning.level.name, "Second Reminder")
            self.assertIsNone(dunning.step)

    @with_transaction()
    def test_step_letter_recalls_earlier_touches(self):
        "The letter of a later step lists the reminders made before it"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            add_steps([(2, 'phone'), (6, 'letter')])
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            Dunning.process(Dunning.generate_dunnings(date=day(2)))
            dunning, = Dunning.generate_dunnings(date=day(6))
            Dunning.process([dunning])
            text = zip_texts(Dunning(dunning.id).dispatch.letter)
            self.assertIn("Previous reminders", text)
            self.assertIn("11 February 2026 First Reminder Letter", text)
            self.assertIn("13 February 2026 First Reminder Phone", text)

    @with_transaction()
    def test_step_days(self):
        """A step comes 1 day or more after its level, on a day of its own,
        in a level of the ladder"""
        pool = Pool()
        Step = pool.get('account.invoice.dunning.level.step')
        company, invoices = create_invoices(1)
        with set_company(company):
            level = add_steps([(2, 'email')])
            for days in [0, -1]:
                with self.assertRaises(LevelValidationError):
                    Step.create([{'level': level.id, 'days': days}])
            with self.assertRaises(LevelValidationError):
                Step.create([{'level': level.id, 'days': 2}])
