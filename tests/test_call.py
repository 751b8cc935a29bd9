# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The reminders by phone: a call to make for each phone dispatch, the
calls of the day, their outcome; no answer calls again the next business
day, a call back on the date agreed."""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account_invoice_dunning.exceptions import (
    CallValidationError)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.test_integrity import (
    level, rolled_back)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

FIRST = dt.date(2026, 2, 11)  # a Wednesday


class CallTestCase(unittest.TestCase):
    "The calls to make and their outcome"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def phone_reminders(self):
        """Process by phone the first reminders of 2 invoices of a customer
        with a phone flagged for dunning; return the company, the invoices
        and the call"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Call = pool.get('account.invoice.dunning.call')
        ContactMechanism = pool.get('party.contact_mechanism')
        Level = pool.get('account.invoice.dunning.level')
        first = level('level_first_reminder')
        Level.write([first], {
                'call_script': "Ask when the invoices will be paid."})
        company, invoices = create_invoices(2, parties=1)
        party = invoices[0].party
        ContactMechanism.create([
                {'party': party.id, 'type': 'phone', 'value': '+33100000001'},
                {'party': party.id, 'type': 'phone', 'dunning': True,
                    'value': '+33100000002'},
                ])
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.write(dunnings, {'channel': 'phone'})
            Dunning.process(dunnings)
        call, = Call.search([])
        return company, invoices, call

    @with_transaction()
    def test_call_to_make(self):
        "A phone dispatch gives a call: who, which number, invoices, script"
        pool = Pool()
        Call = pool.get('account.invoice.dunning.call')
        ActionDomain = pool.get('ir.action.act_window.domain')
        ModelData = pool.get('ir.model.data')
        company, invoices, call = self.phone_reminders()
        self.assertEqual((call.party, call.phone, call.date, call.state),
            (invoices[0].party, '+33 1 00 00 00 02', FIRST, 'to_make'))
        self.assertEqual(call.invoice_numbers,
            ', '.join(i.number for i in invoices))
        self.assertEqual(call.amount, sum(i.total_amount for i in invoices))
        self.assertEqual(call.script, "Ask when the invoices will be paid.")
        self.assertEqual(call.dispatch.channel, 'phone')
        self.assertFalse(call.dispatch.letter)

        # The tab of the calls to make today, as the client evaluates it
        today = ActionDomain(ModelData.get_id(
                MODULE, 'act_call_form_domain_today'))
        for date, expected in [
                (FIRST - dt.timedelta(days=1), []),
                (FIRST, [call]),
                (FIRST + dt.timedelta(days=5), [call])]:
            domain = PYSONDecoder({}, noeval=False).decode(today.domain)
            domain = [(n, o, date) if n == 'date' else (n, o, v)
                for n, o, v in domain]
            with self.subTest(date=date):
                self.assertEqual(Call.search(domain), expected)

    @with_transaction()
    def test_no_answer_calls_again(self):
        "No answer: done, and a new call the next business day"
        pool = Pool()
        Call = pool.get('account.invoice.dunning.call')
        Date = pool.get('ir.date')
        _, _, call = self.phone_reminders()
        with check_access():
            with rolled_back(), self.assertRaises(CallValidationError):
                Call.record([call])
            Call.write([call], {'outcome': 'no_answer',
                    'note': "Voicemail, left a message"})
            Call.record([call])
        call = Call(call.id)
        self.assertEqual((call.state, call.outcome), ('done', 'no_answer'))
        self.assertTrue(call.made_at)
        retry, = Call.search([('retry_of', '=', call.id)])
        today = max(Date.today(), FIRST)
        expected = today + dt.timedelta(days=1)
        while expected.weekday() >= 5:
            expected += dt.timedelta(days=1)
        self.assertEqual((retry.state, retry.date, retry.phone,
                retry.dispatch), ('to_make', expected, call.phone,
                call.dispatch))
        # What was recorded stays
        with check_access(), rolled_back(), self.assertRaises(AccessError):
            Call.write([call], {'outcome': 'promised'})

    @with_transaction()
    def test_call_back_and_promise(self):
        """Call back later needs the date, and calls on it; a promise ends
        the calls"""
        pool = Pool()
        Call = pool.get('account.invoice.dunning.call')
        _, _, call = self.phone_reminders()
        later = FIRST + dt.timedelta(days=7)
        with check_access():
            with rolled_back(), self.assertRaises(ValidationError):
                Call.write([call], {'outcome': 'call_back'})
            with rolled_back(), self.assertRaises(CallValidationError):
                Call.write([call], {
                        'outcome': 'call_back', 'call_back_date': FIRST})
            Call.write([call], {
                    'outcome': 'call_back', 'call_back_date': later})
            Call.record([call])
            second, = Call.search([('state', '=', 'to_make')])
            self.assertEqual((second.date, second.retry_of), (later, call))
            with rolled_back(), self.assertRaises(ValidationError):
                Call.write([second], {'outcome': 'promised'})
            Call.write([second], {'outcome': 'promised',
                    'promise_date': later + dt.timedelta(days=4),
                    'promise_amount': Decimal(150),
                    'note': "Will pay on Friday"})
            Call.record([second])
        self.assertEqual(Call.search([('state', '=', 'to_make')]), [])
        # The promise recorded, for the invoices of the call, from the call
        second = Call(second.id)
        promise = second.promise
        self.assertEqual((promise.date, promise.amount, promise.state,
                promise.origin), (later + dt.timedelta(days=4),
                Decimal(150), 'pending', second))
        self.assertEqual(set(promise.invoices),
            {d.invoice for d in second.dispatch.reminders})
        # Logged once, with the call
        Exchange = pool.get('account.invoice.dunning.exchange')
        self.assertEqual(
            Exchange.search([('origin', '=', str(promise))]), [])
        self.assertEqual(
            len(Exchange.search([('origin', '=', str(second))])), 1)
        with check_access(), rolled_back(), self.assertRaises(AccessError):
            Call.delete([second])
