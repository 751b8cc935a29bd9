# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The registered letters: tracking numbers and deliveries entered or
imported from a carrier's CSV (all its lines or none), recalled on the
later letters, and dating the formal notice."""
import datetime as dt
import unittest

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.exceptions import (
    DispatchValidationError, TrackingImportError)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.test_integrity import (
    rolled_back)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

FIRST, SECOND = dt.date(2026, 2, 11), dt.date(2026, 2, 25)


def registered_letter(count=2, parties=1):
    """Process the first reminders of count invoices of parties customers
    by registered letter; return the company and the dispatches"""
    pool = Pool()
    Dunning = pool.get('account.invoice.dunning')
    company, _ = create_invoices(count, parties=parties)
    with set_company(company):
        dunnings = Dunning.generate_dunnings(date=FIRST)
        Dunning.write(dunnings, {'channel': 'registered_letter'})
        Dunning.process(dunnings)
    dispatches = sorted({Dunning(d.id).dispatch for d in dunnings},
        key=lambda d: d.id)
    return company, dispatches


class DeliveryTestCase(unittest.TestCase):
    "The registered letters are followed until delivered"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def import_(self, text):
        Dispatch = Pool().get('account.invoice.dunning.dispatch')
        with check_access():
            return Dispatch.import_tracking(text.encode('utf-8'))

    @with_transaction()
    def test_import_tracking_numbers_then_deliveries(self):
        """The carrier's file gives the tracking numbers of the dispatches,
        then their delivery (French headers and statuses too)"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        company, (first, second) = registered_letter(2, parties=2)
        with set_company(company):
            changed = self.import_(
                'dispatch,tracking_number\n'
                '%d,1A00000000001\n'
                '#%d,1A00000000002\n' % (first.id, second.id))
            self.assertEqual(sorted(changed), [first, second])
            self.assertEqual(Dispatch(first.id).tracking_number,
                '1A00000000001')
            # The reminders show it
            self.assertEqual({d.tracking_number
                    for d in Dunning.search([('dispatch', '=', first.id)])},
                {'1A00000000001'})
            changed = self.import_(
                'N° de suivi;Statut;Date de présentation\n'
                '1A00000000001;Distribué;14/02/2026\n'
                '1A00000000002;Avisé et non réclamé;2026-02-16\n')
        self.assertEqual(sorted(changed), [first, second])
        first, second = Dispatch.browse([first.id, second.id])
        self.assertEqual((first.delivery_status, first.delivery_date),
            ('delivered', dt.date(2026, 2, 14)))
        self.assertEqual((second.delivery_status, second.delivery_date),
            ('not_claimed', dt.date(2026, 2, 16)))

    @with_transaction()
    def test_import_stops_at_a_wrong_line(self):
        "A file with a wrong line: an error naming it, nothing imported"
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        company, (first, second) = registered_letter(2, parties=2)
        wrong = [
            ('%d;1A01\n%d;1A02;lost;2026-02-14\n', 'Line 3', 'lost'),
            ('%d;1A01\n%d;1A02;delivered;31/31/2026\n', 'Line 3',
                '31/31/2026'),
            ('%d;1A01\n%d;1A02;delivered;2026-02-01\n', 'Line 3',
                'before'),
            ('%d;1A01\n999999;1A02;;\n', 'Line 3', '999999'),
            ]
        with set_company(company):
            for lines, line, detail in wrong:
                with self.subTest(lines=lines), rolled_back():
                    with self.assertRaises(TrackingImportError) as context:
                        self.import_(
                            'dispatch;tracking_number;status;date\n'
                            + (lines % (first.id, second.id)
                                if lines.count('%d') == 2
                                else lines % first.id))
                    message = context.exception.message
                    self.assertIn(line, message)
                    self.assertIn(detail, message)
            with self.assertRaises(TrackingImportError) as context:
                self.import_('number;state\n1A01;delivered\n')
            self.assertIn('tracking_number', context.exception.message)
            # Unknown tracking number, without a dispatch
            with self.assertRaises(TrackingImportError) as context:
                self.import_('tracking_number;status;date\n'
                    '1A99;delivered;2026-02-14\n')
            self.assertIn('Line 2', context.exception.message)
        self.assertEqual(
            [(d.tracking_number, d.delivery_status) for d in
                Dispatch.browse([first.id, second.id])],
            [(None, None), (None, None)])

    @with_transaction()
    def test_delivery_checked(self):
        """A delivery is after the sending, of a registered letter; only
        what happened after the sending can be changed"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        company, (dispatch,) = registered_letter(1)
        with check_access():
            with rolled_back(), self.assertRaises(DispatchValidationError):
                Dispatch.write([dispatch], {
                        'delivery_status': 'delivered',
                        'delivery_date': FIRST - dt.timedelta(days=1)})
            Dispatch.write([dispatch], {
                    'tracking_number': '1A03',
                    'delivery_status': 'refused',
                    'delivery_date': FIRST + dt.timedelta(days=3)})
            with rolled_back(), self.assertRaises(AccessError):
                Dispatch.write([dispatch], {'date': SECOND})
        company, invoices = create_invoices(1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.process(dunnings)
        letter = Dunning(dunnings[0].id).dispatch
        with rolled_back(), self.assertRaises(DispatchValidationError):
            Dispatch.write([letter], {
                    'delivery_status': 'delivered',
                    'delivery_date': FIRST})

    @with_transaction()
    def test_delivery_recalled_and_dates_the_notice(self):
        """The next letter recalls when the registered letter was received;
        the formal notice counts from its delivery"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        Penalty = pool.get('account.invoice.dunning.penalty')
        Level = pool.get('account.invoice.dunning.level')
        company, (dispatch,) = registered_letter(1)
        invoice = dispatch.reminders[0].invoice
        received = FIRST + dt.timedelta(days=4)
        Dispatch.write([dispatch], {
                'tracking_number': '1A04',
                'delivery_status': 'delivered',
                'delivery_date': received})
        with set_company(company):
            second, = Dunning.generate_dunnings(date=SECOND)
            Dunning.process([second])
        second = Dunning(second.id)
        with set_company(company):
            letter = Letter.get_letter(second.dispatch)
        previous, = letter.previous
        self.assertEqual(previous.tracking_number, '1A04')
        self.assertEqual(previous.delivery, 'received on 15 February 2026')
        self.assertIn('received on 15 February 2026',
            zip_texts(second.dispatch.letter))

        # The date of the formal notice is its delivery
        Level.write([dispatch.level], {'formal_notice': True})
        self.assertEqual(Penalty._formal_notice_dates([invoice.id]),
            {invoice.id: received})
        Dispatch.write([dispatch], {
                'delivery_status': 'returned',
                'delivery_date': received})
        self.assertEqual(Penalty._formal_notice_dates([invoice.id]),
            {invoice.id: FIRST})
