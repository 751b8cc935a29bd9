# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""One letter per customer: the reminders of a customer processed together
at the same level, date and channel go in one dispatch, whose letter lists
every invoice with its totals, archived once and kept as proof."""
import datetime as dt
import io
import unittest
import unittest.mock
from decimal import Decimal

from pypdf import PdfReader

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning import processing
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.test_integrity import (
    rolled_back)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import check_access

FIRST = dt.date(2026, 2, 11)


def process_first_reminders(count, parties, amounts=None):
    """Create count invoices shared by parties customers, generate their
    first reminders and process them; return the company, the invoices and
    the reminders (by invoice)"""
    pool = Pool()
    Dunning = pool.get('account.invoice.dunning')
    company, invoices = create_invoices(count, parties=parties)
    with set_company(company):
        dunnings = Dunning.generate_dunnings(date=FIRST)
        Dunning.process(dunnings)
    by_invoice = {d.invoice: Dunning(d.id) for d in dunnings}
    return company, invoices, [by_invoice[i] for i in invoices]


class DispatchTestCase(unittest.TestCase):
    "The reminders of a customer reach it in one letter"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_one_letter_per_customer(self):
        """A customer with 3 invoices at the same level gets one letter
        listing the 3, whose totals are their sums; the other customer its
        own letter"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        Lang = pool.get('ir.lang')
        # Invoices 0, 2 and 4 to the first customer, 1 and 3 to the other
        company, invoices, dunnings = process_first_reminders(5, 2)
        first = [dunnings[i] for i in [0, 2, 4]]
        dispatch = first[0].dispatch
        self.assertEqual(Dispatch.search([], count=True), 2)
        self.assertEqual({d.dispatch for d in first}, {dispatch})
        self.assertEqual(sorted(dispatch.reminders), sorted(first))
        self.assertNotEqual(dunnings[1].dispatch, dispatch)
        self.assertEqual(dunnings[1].dispatch, dunnings[3].dispatch)

        self.assertEqual(dispatch.invoice_count, 3)
        self.assertEqual(dispatch.amount, sum(d.amount for d in first))
        self.assertEqual(dispatch.total_amount,
            sum(d.total_amount for d in first))
        self.assertEqual(dispatch.amount, Decimal('300.00'))

        # Archived once, and the letter of each of its reminders
        self.assertEqual(dispatch.letter_format, 'odt')
        self.assertEqual({d.letter for d in first}, {dispatch.letter})
        # The letter's figures: each invoice and the sums
        with set_company(company):
            letter = Letter.get_letter(dispatch)
        numbers = [d.invoice.number for d in first]
        self.assertEqual([i.number for i in letter.invoices], numbers)
        self.assertEqual((letter.single, letter.invoice_count), (False, 3))
        money = Lang.get('en').currency
        self.assertEqual(letter.amount,
            money(Decimal(300), dispatch.currency, grouping=True))
        self.assertEqual(letter.remaining_amount, letter.amount)
        self.assertEqual([i.amount for i in letter.invoices],
            [money(Decimal(100), dispatch.currency, grouping=True)] * 3)

        # Printed: the numbers of its invoices, each row and the total
        text = zip_texts(dispatch.letter)
        self.assertIn('invoices no. %s ' % ', '.join(numbers), text)
        for number in numbers:
            self.assertIn(' %s %s ' % (number, letter.invoices[0].date),
                text)
        self.assertIn('Total %s' % letter.remaining_amount, text)
        for dunning in dunnings[1::2]:
            self.assertNotIn(' %s %s ' % (dunning.invoice.number,
                    letter.invoices[0].date), text)

    @with_transaction()
    def test_printed_from_reminders_and_invoices(self):
        "The letter is printed again from each reminder and invoice it covers"
        pool = Pool()
        ArchivedLetter = pool.get(
            'account.invoice.dunning.letter.archived', type='report')
        InvoiceLetter = pool.get(
            'account.invoice.dunning.invoice_letter', type='report')
        _, invoices, dunnings = process_first_reminders(2, 1)
        dispatch, = {d.dispatch for d in dunnings}
        for dunning, invoice in zip(dunnings, invoices):
            oext, content, _, _ = ArchivedLetter.execute([dunning.id], {})
            self.assertEqual((oext, content), ('odt', dispatch.letter))
            oext, content, _, _ = InvoiceLetter.execute([invoice.id], {})
            self.assertEqual((oext, content), ('odt', dispatch.letter))
        # Both reminders: their one letter, not twice
        oext, content, _, _ = ArchivedLetter.execute(
            [d.id for d in dunnings], {})
        self.assertEqual((oext, content), ('odt', dispatch.letter))
        oext, content, _, _ = ArchivedLetter.execute([dispatch.id], {
                'model': 'account.invoice.dunning.dispatch'})
        self.assertEqual((oext, content), ('odt', dispatch.letter))

    @with_transaction()
    def test_channels_apart(self):
        "A reminder changed to another channel goes in a letter of its own"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(3, parties=1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.write(dunnings[:1], {'channel': 'email'})
            Dunning.process(dunnings)
        dispatches = {Dunning(d.id).dispatch for d in dunnings}
        self.assertEqual(sorted(len(d.reminders) for d in dispatches),
            [1, 2])
        self.assertEqual(sorted(d.channel for d in dispatches),
            ['email', 'letter'])

    @with_transaction()
    def test_batches_keep_a_letter_whole(self):
        """Processing by batches never splits the reminders of a letter: a
        customer's 3 reminders in batches of 2 make one letter"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, _ = create_invoices(5, parties=2)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            with unittest.mock.patch.object(
                    processing, 'PROCESS_BATCH_SIZE', 2):
                Dunning.process(dunnings)
        dispatches = {Dunning(d.id).dispatch for d in dunnings}
        self.assertEqual(sorted(len(d.reminders) for d in dispatches),
            [2, 3])
        self.assertEqual({Dunning(d.id).state for d in dunnings}, {'done'})

    @with_transaction()
    def test_preview_of_drafts(self):
        "The drafts of a customer are previewed as the one letter they make"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        ArchivedLetter = pool.get(
            'account.invoice.dunning.letter.archived', type='report')
        company, invoices = create_invoices(3, parties=1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            oext, content, _, _ = ArchivedLetter.execute(
                [d.id for d in dunnings], {})
            self.assertEqual(oext, 'odt')
            text = zip_texts(content)
            self.assertIn('invoices no. %s ' % ', '.join(
                    i.number for i in invoices), text)
            # One draft alone: its invoice only
            oext, content, _, _ = ArchivedLetter.execute(
                [dunnings[0].id], {})
            text = zip_texts(content)
            self.assertIn(
                'invoice no. %s ' % dunnings[0].invoice.number, text)
            self.assertNotIn('invoices no.', text)
        # Nothing was archived nor sent
        self.assertEqual(Dispatch.search([], count=True), 0)
        self.assertEqual({Dunning(d.id).state for d in dunnings}, {'draft'})

    @with_transaction()
    def test_dispatch_is_proof(self):
        """Nobody creates, deletes or copies a dispatch, nor changes what
        was sent; its tracking number and note can be recorded, also
        through its reminders"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        _, _, dunnings = process_first_reminders(2, 1)
        dispatch = dunnings[0].dispatch
        with check_access():
            for forged in [{'letter': b'forged'}, {'date': FIRST},
                    {'party': dispatch.party.id}, {'letter_format': 'pdf'}]:
                with self.subTest(forged=forged), rolled_back(), \
                        self.assertRaisesRegex(AccessError, 'tracking'):
                    Dispatch.write([dispatch], forged)
            with rolled_back(), self.assertRaises(AccessError):
                Dispatch.create([{
                            'company': dispatch.company.id,
                            'party': dispatch.party.id,
                            'level': dispatch.level.id,
                            'channel': 'letter',
                            'date': FIRST,
                            'currency': dispatch.currency.id,
                            }])
            with rolled_back(), self.assertRaises(AccessError):
                Dispatch.copy([dispatch])
            Dispatch.write([dispatch], {'note': "Sent by hand as well"})
            Dunning.write([dunnings[1]], {'tracking_number': '1A00001'})
        with rolled_back(), self.assertRaises(AccessError):
            Dispatch.delete([dispatch])
        self.assertEqual(Dispatch(dispatch.id).tracking_number, '1A00001')
        self.assertEqual(Dunning(dunnings[0].id).tracking_number, '1A00001')
        self.assertEqual(
            set(Dunning.search([('tracking_number', '=', '1A00001')])),
            set(dunnings))

    @with_transaction()
    def test_invoice_copies_after_printed_letter(self):
        """A printed letter in PDF is followed by the pages of a copy of
        each of its invoices when its level attaches them; else it is the
        letter alone"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        ActionReport = pool.get('ir.action.report')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        company, invoices = create_invoices(4, parties=2)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            level, = {d.level for d in dunnings}
            self.assertEqual({d.channel for d in dunnings}, {'letter'})
            self.assertTrue(level.attach_invoice)
            # The administrator has the letters of the level made in PDF
            ActionReport.write([level.get_report()], {'extension': 'pdf'})
            attached = [d for d in dunnings if d.party == invoices[0].party]
            alone = [d for d in dunnings if d not in attached]
            Dunning.process(attached)
            Level.write([level], {'attach_invoice': False})
            Dunning.process(alone)
        attached, = {d.dispatch for d in Dunning.browse(attached)}
        alone, = {d.dispatch for d in Dunning.browse(alone)}

        def pages(content):
            return [p.extract_text()
                for p in PdfReader(io.BytesIO(bytes(content))).pages]
        for dispatch, copies in [(attached, True), (alone, False)]:
            with self.subTest(copies=copies):
                self.assertEqual(dispatch.letter_format, 'pdf')
                (_, letter), = Letter.render_dispatches([dispatch])
                expected = pages(letter)
                if copies:
                    reminders = Letter.reminders_of(dispatch)
                    for reminder, (name, copy) in zip(
                            reminders, dispatch.invoice_copies()):
                        self.assertTrue(name.endswith('.pdf'))
                        copy_pages = pages(copy)
                        self.assertIn(reminder.invoice.number,
                            copy_pages[0])
                        expected += copy_pages
                self.assertEqual(pages(dispatch.letter), expected)
