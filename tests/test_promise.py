# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Promises to pay: the reminders of the invoices promised wait until the
promised date and its tolerance; the accounting tells whether the promise
was kept; a broken promise resumes the reminders at once, at the next
level, with a letter that recalls it."""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.exceptions import (
    DunningError, PromiseValidationError)
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user, two_companies)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices, ignore_run_queries,
    pay_invoice)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

from .query_counter import QueryCounter

# The invoices are dated 5 January 2026, due 4 February; the first reminder
# of the default ladder comes 7 days after, the second 21 days after and
# 12 days after the first
FIRST = dt.date(2026, 2, 11)


def day(offset):
    "The day offset days after the first reminder"
    return FIRST + dt.timedelta(days=offset)


def promise(invoices, given_on, date, amount):
    "Record the promise of the customer of invoices"
    pool = Pool()
    Promise = pool.get('account.invoice.dunning.promise')
    promise, = Promise.create([{
                'company': invoices[0].company.id,
                'party': invoices[0].party.id,
                'invoices': [('add', [i.id for i in invoices])],
                'given_on': given_on,
                'date': date,
                'amount': D(amount),
                'currency': invoices[0].currency.id,
                }])
    return fresh(promise)


def fresh(record):
    "The record read again"
    return record.__class__(record.id)


def reminded(dunnings):
    "{invoice id: level name} of the reminders"
    return {d.invoice.id: d.level.name for d in dunnings}


class PromiseTestCase(unittest.TestCase):
    "Promises to pay"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_promise_suspends_until_date_and_tolerance(self):
        """The invoice promised gets no reminder until the promised date and
        the tolerance of the procedure; the other invoice of the customer
        is reminded as usual"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            promised = promise(invoices[:1], day(-1), day(5), 100)
            # 3 days of tolerance by default
            self.assertEqual(promised.suspended_until, day(8))
            self.assertEqual(promised.state, 'pending')
            dunnings = Dunning.generate_dunnings(date=FIRST)
            self.assertEqual(reminded(dunnings),
                {invoices[1].id: "First Reminder"})
            # Still waiting on the last day of the tolerance
            dunnings = Dunning.generate_dunnings(date=day(8))
            self.assertNotIn(invoices[0].id, reminded(dunnings))
            self.assertEqual(fresh(promised).state, 'pending')

    @with_transaction()
    def test_tolerance_of_the_procedure(self):
        "The tolerance is that of the procedure of the customer"
        pool = Pool()
        Procedure = pool.get('account.invoice.dunning.procedure')
        company, invoices = create_invoices(1)
        with set_company(company):
            Procedure.write(Procedure.search([]), {'promise_tolerance': 10})
            promised = promise(invoices, day(-1), day(5), 100)
            self.assertEqual(promised.suspended_until, day(15))

    @with_transaction()
    def test_broken_promise_resumes_at_once(self):
        """Nothing paid by the end of the tolerance: the promise is broken,
        the reminders resume at once at the next level (without waiting for
        its days and delay) and the letter recalls the promise"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            promised = promise(invoices[:1], day(1), day(2), 100)
            self.assertEqual(
                reminded(Dunning.generate_dunnings(date=day(5))), {})
            dunnings = Dunning.generate_dunnings(date=day(6))
            promised = fresh(promised)
            self.assertEqual(promised.state, 'broken')
            self.assertEqual(promised.paid_amount, D(0))
            self.assertEqual(promised.settled_on, day(6))
            # The second reminder waits until day 14 (21 days late): only
            # the invoice of the broken promise gets it on day 6
            self.assertEqual(reminded(dunnings),
                {invoices[0].id: "Second Reminder"})
            dunning, = dunnings
            self.assertEqual(dunning.broken_promise, promised)
            Dunning.process(dunnings)
            dispatch, = Dispatch.search([('reminders', '=', dunning.id)])
            text = zip_texts(dispatch.letter)
            self.assertIn("you undertook to pay", text)
            self.assertIn("We have received no payment", text)
            # Once followed by a reminder, the next waits as usual
            self.assertEqual(
                reminded(Dunning.generate_dunnings(date=day(7))), {})

    @with_transaction()
    def test_broken_promise_partly_paid(self):
        "The letter says how much of the promise was paid"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, invoices = create_invoices(1)
        with set_company(company):
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            promised = promise(invoices, day(1), day(2), 80)
            pay_invoice(invoices[0], 30, day(3))
            dunning, = Dunning.generate_dunnings(date=day(6))
            promised = fresh(promised)
            self.assertEqual(promised.state, 'broken')
            self.assertEqual(promised.paid_amount, D(30))
            Dunning.process([dunning])
            dispatch, = Dispatch.search([('reminders', '=', dunning.id)])
            text = zip_texts(dispatch.letter)
            self.assertIn("We have received only", text)
            self.assertIn("30.00", text)

    @with_transaction()
    def test_kept_promise(self):
        """Paid by the promised date: the promise is kept and the invoice
        paid leaves the reminders; a promise of part of the invoice kept
        ends the suspension, the rest is reminded as usual"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            whole = promise(invoices[:1], day(-1), day(5), 100)
            part = promise(invoices[1:], day(-1), day(5), 40)
            pay_invoice(invoices[0], 100, day(2))
            pay_invoice(invoices[1], 40, day(4))
            dunnings = Dunning.generate_dunnings(date=day(9))
            whole, part = fresh(whole), fresh(part)
            self.assertEqual([whole.state, part.state], ['kept', 'kept'])
            self.assertEqual([whole.paid_amount, part.paid_amount],
                [D(100), D(40)])
            self.assertEqual(reminded(dunnings),
                {invoices[1].id: "First Reminder"})
            dunning, = dunnings
            self.assertEqual(dunning.amount, D(60))
            self.assertIsNone(dunning.broken_promise)

    @with_transaction()
    def test_payment_before_promise_does_not_count(self):
        "Only the payments from the day of the promise count"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            pay_invoice(invoices[0], 30, day(-3))
            promised = promise(invoices, day(-1), day(5), 30)
            Dunning.generate_dunnings(date=day(9))
            promised = fresh(promised)
            self.assertEqual(promised.state, 'broken')
            self.assertEqual(promised.paid_amount, D(0))

    @with_transaction()
    def test_processing_a_promised_invoice(self):
        """A draft made before the promise cannot be processed; the next run
        cancels it"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=FIRST)
            # Given after the day of the reminder, before it is processed
            promise(invoices, day(2), day(5), 100)
            with self.assertRaises(DunningError):
                Dunning.process([dunning])
            self.assertEqual(Dunning.generate_dunnings(date=day(2)), [])
            self.assertEqual(fresh(dunning).state, 'cancelled')

    @with_transaction()
    def test_cancelled_promise(self):
        "A promise cancelled (recorded by mistake) suspends nothing"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Promise = pool.get('account.invoice.dunning.promise')
        company, invoices = create_invoices(1)
        with set_company(company):
            promised = promise(invoices, day(-1), day(5), 100)
            Promise.cancel([promised])
            self.assertEqual(
                len(Dunning.generate_dunnings(date=FIRST)), 1)

    @with_transaction()
    def test_promise_is_history(self):
        """Bad input is refused; a promise settled only changes by its note
        and no promise is deleted; its state is never taken from the
        client"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Promise = pool.get('account.invoice.dunning.promise')
        company, invoices = create_invoices(1)
        with set_company(company):
            with self.assertRaises(PromiseValidationError):
                promise(invoices, day(1), day(5), -1)
            with self.assertRaises(PromiseValidationError):
                promise(invoices, day(5), day(1), 10)
            promised = promise(invoices, day(-1), day(1), 100)
            with check_access(), self.assertRaises(AccessError):
                Promise.write([promised], {'state': 'kept'})
            Dunning.generate_dunnings(date=day(9))
            promised = fresh(promised)
            self.assertEqual(promised.state, 'broken')
            with check_access():
                with self.assertRaises(AccessError):
                    Promise.write([promised], {'amount': D(10)})
                Promise.write([promised], {'note': "Called again"})
            with self.assertRaises(AccessError):
                Promise.delete([promised])

    @with_transaction()
    def test_generation_queries_with_promises(self):
        """Generating for 40 invoices of which 10 % promised, half of the
        promises broken, runs about as many queries as for 20"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')

        counts = []
        # The first run fills the other caches (levels, procedures)
        for count in [10, 20, 40]:
            company, invoices = create_invoices(count)
            with set_company(company):
                # Every other promise broken before the run, the others wait
                pending = 0
                for i, invoice in enumerate(invoices[::10]):
                    broken = i % 2
                    promise([invoice], day(-6),
                        day(-5) if broken else day(5), 100)
                    pending += not broken
                counter = QueryCounter(ignore_run_queries)
                with counter:
                    dunnings = Dunning.generate_dunnings(date=FIRST)
                self.assertEqual(len(dunnings), count - pending)
                counts.append(counter.count)
        # A query per invoice or promise would add 20 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)

    @with_transaction()
    def test_broken_promises_in_payment_behaviour(self):
        """The promises broken in the window count in the payment behaviour
        and classify the party in a segment asking for them"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        Procedure = pool.get('account.invoice.dunning.procedure')
        Segment = pool.get('account.invoice.dunning.segment')
        company, invoices = create_invoices(2, parties=2)
        with set_company(company):
            promise(invoices[:1], day(-2), day(-2), 100)
            Dunning.generate_dunnings(date=day(2))
            behaviours = Party.dunning_payment_behaviour(
                company, day(2), 90)
            self.assertEqual(
                behaviours[invoices[0].party.id].broken_promise_count, 1)
            self.assertEqual(
                behaviours[invoices[1].party.id].broken_promise_count, 0)
            procedure, = Procedure.search([], limit=1)
            segment, = Segment.create([{
                        'name': "Promises not kept",
                        'procedure': procedure.id,
                        'automatic': True,
                        'priority': 0,
                        'lookback_days': 90,
                        'min_broken_promises': 1,
                        }])
            Party.classify_dunning_segments(date=day(2))
            parties = Party.browse([i.party.id for i in invoices])
            self.assertEqual(parties[0].get_dunning_segment(company), segment)
            self.assertNotEqual(
                parties[1].get_dunning_segment(company), segment)

    @with_transaction()
    def test_promise_logged_as_exchange(self):
        """A promise recorded by hand is logged as an incoming exchange with
        its invoices, kept as proof"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            promised = promise(invoices, day(-1), day(5), 150)
            exchange, = Exchange.search([('origin', '=', str(promised))])
            self.assertEqual((exchange.direction, exchange.date,
                    exchange.party), ('in', day(-1), invoices[0].party))
            self.assertEqual(set(exchange.invoices), set(invoices))
            self.assertIn("150.00", exchange.summary)
            with check_access(), self.assertRaises(AccessError):
                Exchange.delete([exchange])

    @with_transaction()
    def test_promise_rights_and_companies(self):
        """Accounting users read the promises, the Invoice Dunning group
        records them; nobody sees those of another company"""
        pool = Pool()
        Promise = pool.get('account.invoice.dunning.promise')
        (company_a, company_b), (invoice_a, invoice_b), _ = two_companies()
        promises = []
        for company, invoice in [(company_a, invoice_a),
                (company_b, invoice_b)]:
            with set_company(company):
                promises.append(promise([invoice], day(1), day(5), 100))
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a, ['dunning'])
        values = {
            'company': company_a.id,
            'party': invoice_a.party.id,
            'invoices': [('add', [invoice_a.id])],
            'given_on': day(2),
            'date': day(6),
            'amount': D(50),
            'currency': invoice_a.currency.id,
            }
        with as_user(accountant):
            self.assertEqual(Promise.search([]), [promises[0]])
            with self.assertRaises(AccessError):
                Promise.create([values])
        with as_user(dunning_user):
            self.assertEqual(Promise.search([]), [promises[0]])
            created, = Promise.create([values])
            self.assertEqual(created.state, 'pending')
            with self.assertRaises(AccessError):
                Promise.read([promises[1].id], ['amount'])

    @with_transaction()
    def test_kept_after_broken(self):
        """A promise kept after an older broken one: the reminders follow
        the ladder again, the broken promise no longer resumes them"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1, amount=100)
        with set_company(company):
            Dunning.process(Dunning.generate_dunnings(date=FIRST))
            promise(invoices, day(1), day(1), 100)
            # Broken on day 5: the draft of the resumption is not processed
            self.assertEqual(len(Dunning.generate_dunnings(date=day(5))), 1)
            kept = promise(invoices, day(5), day(6), 30)
            pay_invoice(invoices[0], 30, day(6))
            self.assertEqual(reminded(Dunning.generate_dunnings(
                        date=day(10))), {})
            self.assertEqual(fresh(kept).state, 'kept')

    @with_transaction()
    def test_disputed_invoice_promise_not_kept_by_dispute(self):
        """An invoice disputed in full still owes its amount to the promise:
        the promise is broken, not kept, when nothing is paid"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispute = pool.get('account.invoice.dunning.dispute')
        ModelData = pool.get('ir.model.data')
        company, invoices = create_invoices(1, amount=100)
        with set_company(company):
            promised = promise(invoices, day(-1), day(1), 100)
            Dispute.create([{
                        'company': company.id,
                        'invoice': invoices[0].id,
                        'amount': D(100),
                        'objection': ModelData.get_id(
                            MODULE, 'objection_price'),
                        }])
            Dunning.generate_dunnings(date=day(9))
            self.assertEqual(fresh(promised).state, 'broken')

    @with_transaction()
    def test_invoices_of_settled_promise(self):
        "The invoices of a settled promise are not changed through its lines"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        PromiseInvoice = pool.get(
            'account.invoice.dunning.promise-account.invoice')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            promised = promise(invoices[:1], day(-1), day(1), 100)
            Dunning.generate_dunnings(date=day(9))
            line, = PromiseInvoice.search([('promise', '=', promised.id)])
            with check_access(), self.assertRaises(AccessError):
                PromiseInvoice.write([line], {'invoice': invoices[1].id})
