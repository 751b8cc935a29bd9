# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The exchanges with the late payer: the letters posted, the emails sent
and the calls made are logged by the module, with their invoices; what
comes in is logged by hand with the objection; the exchanges logged are
proof; they are found by party, invoice, reminder and objection."""
import datetime as dt
import unittest

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.test_integrity import (
    rolled_back)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

FIRST = dt.date(2026, 2, 11)


def objection(name):
    "The shipped objection of XML id name"
    pool = Pool()
    ModelData = pool.get('ir.model.data')
    Objection = pool.get('account.invoice.dunning.objection')
    return Objection(ModelData.get_id(MODULE, name))


class ExchangeTestCase(unittest.TestCase):
    "The file of the exchanges with a late payer"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def process(self, count, parties, channel=None):
        """Process the first reminders of count invoices of parties
        customers (by channel, else the level's); return the company, the
        invoices and the reminders"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(count, parties=parties)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            if channel:
                Dunning.write(dunnings, {'channel': channel})
            Dunning.process(dunnings)
        return company, invoices, Dunning.browse(dunnings)

    @with_transaction()
    def test_letters_logged_with_their_invoices(self):
        """Each letter posted is an outgoing exchange of its date, with the
        invoices it reminds, shown on the party, the invoices and the
        reminders"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        company, invoices, dunnings = self.process(3, 2)
        exchanges = Exchange.search([])
        self.assertEqual(len(exchanges), 2)
        by_party = {e.party: e for e in exchanges}
        for party in {i.party for i in invoices}:
            exchange = by_party[party]
            dispatch, = {d.dispatch for d in dunnings if d.party == party}
            self.assertEqual(
                (exchange.date, exchange.channel, exchange.direction,
                    exchange.summary, exchange.origin, exchange.company),
                (FIRST, 'letter', 'out', dispatch.level_name, dispatch,
                    company))
            self.assertEqual(set(exchange.invoices),
                {i for i in invoices if i.party == party})
            self.assertEqual(list(party.dunning_exchanges), [exchange])
        for dunning in dunnings:
            exchange = by_party[dunning.party]
            self.assertEqual(list(dunning.exchanges), [exchange])
            self.assertEqual(list(dunning.invoice.dunning_exchanges),
                [exchange])

    @with_transaction()
    def test_emails_and_calls_logged_when_they_happen(self):
        """An email is logged once sent, a call once made with its outcome;
        nothing when processed"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        Call = pool.get('account.invoice.dunning.call')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Date = pool.get('ir.date')
        _, invoices, dunnings = self.process(2, 1, channel='phone')
        self.assertEqual(Exchange.search([], count=True), 0)
        call, = Call.search([])
        Call.write([call], {'outcome': 'disputed', 'note': "Price too high"})
        Call.record([call])
        exchange, = Exchange.search([])
        self.assertEqual(
            (exchange.channel, exchange.direction, exchange.date,
                exchange.summary, exchange.note, exchange.origin),
            ('phone', 'out', Date.today(), "Reached, Invoice Disputed",
                "Price too high", call))
        self.assertEqual(set(exchange.invoices), set(invoices))

        _, _, dunnings = self.process(1, 1, channel='email')
        dispatch = dunnings[0].dispatch
        # Not sent (no email address): not logged
        Dispatch.send_emails([dispatch])
        self.assertEqual(Dispatch(dispatch.id).email_state, 'to_send')
        self.assertFalse(Exchange.search([('origin', '=', str(dispatch))]))

    @with_transaction()
    def test_incoming_exchange_and_objections(self):
        """What comes in is logged by hand, by its user; the objections of a
        period are found"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        User = pool.get('res.user')
        company, invoices, _ = self.process(2, 1)
        never = objection('objection_not_received')
        with set_company(company), check_access():
            other, = User.search([('login', '=', 'admin')])
            exchange, = Exchange.create([{
                        'party': invoices[0].party.id,
                        'date': FIRST + dt.timedelta(days=2),
                        'channel': 'email',
                        'contact': "Accounts payable",
                        'summary': "Says the invoice never came",
                        'objection': never.id,
                        'invoices': [('add', [invoices[1].id])],
                        'user': 0,
                        }])
            self.assertEqual(
                (exchange.direction, exchange.company, exchange.user,
                    exchange.origin),
                ('in', company, User(other.id), None))
            # Changed and deleted freely: it was typed in
            Exchange.write([exchange], {'summary': "Never received it"})
            self.assertEqual(
                Exchange.search([
                        ('objection', '=', never.id),
                        ('date', '>=', dt.date(2026, 1, 1)),
                        ('date', '<=', dt.date(2026, 3, 31)),
                        ]),
                [exchange])
            self.assertEqual(
                Exchange.search([
                        ('objection', '=', never.id),
                        ('date', '>=', dt.date(2026, 4, 1)),
                        ]),
                [])
            self.assertEqual(list(invoices[1].dunning_exchanges)[0],
                exchange)
            with rolled_back():
                Exchange.delete([exchange])

    @with_transaction()
    def test_logged_exchanges_are_proof(self):
        """An exchange the module logged keeps its date, channel, invoices;
        its objection, contact and note can be completed; never deleted"""
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        company, _, _ = self.process(1, 1)
        exchange, = Exchange.search([])
        with set_company(company), check_access():
            for forged in [{'date': FIRST + dt.timedelta(days=1)},
                    {'channel': 'registered_letter'},
                    {'summary': "Nothing sent"},
                    {'invoices': [('remove', [exchange.invoices[0].id])]}]:
                with self.subTest(forged=forged), rolled_back(), \
                        self.assertRaises(AccessError):
                    Exchange.write([exchange], forged)
            with rolled_back(), self.assertRaises(AccessError):
                Exchange.delete([exchange])
            Exchange.write([exchange], {
                    'objection': objection('objection_cash_flow').id,
                    'contact': "Mr Martin",
                    'note': "Called back after the letter",
                    })
        exchange = Exchange(exchange.id)
        self.assertEqual(exchange.contact, "Mr Martin")
        self.assertEqual(exchange.date, FIRST)

    @with_transaction()
    def test_other_company_exchanges_hidden(self):
        "The exchanges of another company are not shown"
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        first, _, _ = self.process(1, 1)
        second, _, _ = self.process(1, 1)
        with check_access():
            with set_company(first):
                self.assertEqual({e.company for e in Exchange.search([])},
                    {first})
            with set_company(second):
                self.assertEqual({e.company for e in Exchange.search([])},
                    {second})
