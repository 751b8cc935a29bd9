# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The mentions French law requires on the letters of a company (Code de
commerce, R123-237 and R123-238): legal form and share capital, registered
office, registration; a user processing the reminders of a French company
that lacks them is warned."""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.modules.account_invoice_dunning.common import format_phone
from trytond.modules.account_invoice_dunning.exceptions import DunningWarning
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

FIRST = dt.date(2026, 2, 11)


def french(company):
    "Give the company an address in Paris, in France"
    pool = Pool()
    Address = pool.get('party.address')
    Country = pool.get('country.country')
    france, = Country.create([{'name': "France", 'code': 'FR'}])
    Address.delete(list(company.party.addresses))
    Address.create([{'party': company.party.id, 'street': "18 rue Lafayette",
                'postal_code': "75009", 'city': "Paris",
                'country': france.id}])


class LegalMentionsTestCase(unittest.TestCase):
    "The legal mentions of the letters"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_letter_mentions(self):
        """The letterhead prints the legal form and share capital, the
        registered office and the RCS registration"""
        pool = Pool()
        Company = pool.get('company.company')
        Dunning = pool.get('account.invoice.dunning')
        Identifier = pool.get('party.identifier')
        company, invoices = create_invoices(1)
        french(company)
        Company.write([company], {
                'legal_form': "SARL", 'share_capital': D(10000)})
        Identifier.create([{'party': company.party.id, 'type': 'fr_rcs',
                    'code': 'RCS Nancy B 323 159 715'}])
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=FIRST)
            Dunning.process([dunning])
            text = zip_texts(Dunning(dunning.id).dispatch.letter)
        self.assertIn("SARL with a share capital of EUR10,000.00", text)
        self.assertIn(
            "Registered office: 18 RUE LAFAYETTE, 75009 PARIS, FRANCE", text)
        self.assertIn("RCS Nancy B 323 159 715", text)

    @with_transaction()
    def test_no_mentions_without_data(self):
        "A company without address nor registration prints no mention"
        pool = Pool()
        Lang = pool.get('ir.lang')
        company, _ = create_invoices(1)
        self.assertEqual(
            company.dunning_legal_mentions(Lang.get('en')), [])

    @with_transaction()
    def test_siren_without_rcs(self):
        "Without an RCS number, the SIREN is printed"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        company, _ = create_invoices(1)
        Identifier.create([{'party': company.party.id, 'type': 'fr_siren',
                    'code': '323159715'}])
        self.assertEqual(company.dunning_registration(), "SIREN 323 159 715")

    @with_transaction()
    def test_warning_when_missing(self):
        """A user processing the reminders of a French company without legal
        form nor registration is warned; the scheduled task (no user) is
        not stopped, nor the reminders of a company elsewhere"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2)
        user = create_user('dunning', company, ['dunning'])
        with set_company(company):
            first, second = Dunning.generate_dunnings(date=FIRST)
        with as_user(user):
            Dunning.process([Dunning(first.id)])
        french(company)
        with as_user(user), self.assertRaises(DunningWarning) as warning:
            Dunning.process([Dunning(second.id)])
        self.assertIn("Legal Form", str(warning.exception))
        # The scheduled task runs as no user
        with set_company(company), Transaction().set_user(0):
            Dunning.process([Dunning(second.id)])
        self.assertEqual(Dunning(second.id).state, 'done')

    @with_transaction()
    def test_first_reminder_texts(self):
        """The first reminder asks when the customer plans to pay and, to a
        professional only, recalls the interest and the 40 EUR indemnity;
        the second says what follows without payment"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        company, invoices = create_invoices(2)
        Party.write([invoices[0].party], {'customer_type': 'professional'})
        Party.write([invoices[1].party], {'customer_type': 'consumer'})
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            with Transaction().set_context(_skip_warnings=True):
                Dunning.process(dunnings)
            texts = {d.invoice: zip_texts(Dunning(d.id).dispatch.letter)
                for d in dunnings}
            second = Dunning.generate_dunnings(date=dt.date(2026, 2, 25))
            Dunning.process(second)
            second_text = zip_texts(Dunning(second[0].id).dispatch.letter)
        for text in texts.values():
            self.assertIn("confirm the date on which you plan to make the "
                "payment", text)
        indemnity = "a fixed indemnity of 40 EUR for recovery costs"
        self.assertIn(indemnity, texts[invoices[0]])
        self.assertNotIn(indemnity, texts[invoices[1]])
        self.assertIn("we will send you a formal notice", second_text)


class PhoneFormatTestCase(unittest.TestCase):
    "The phone numbers of the letters as the customer dials them"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_phone_national_or_international(self):
        """The contact phone of a French company: in the national format
        for a customer in France, international for one in Germany"""
        pool = Pool()
        Address = pool.get('party.address')
        Configuration = pool.get('account.configuration')
        Country = pool.get('country.country')
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2)
        french(company)
        france, = Country.search([('code', '=', 'FR')])
        germany, = Country.create([{'name': "Germany", 'code': 'DE'}])
        for invoice, country in zip(invoices, [france, germany]):
            Address.write([invoice.invoice_address], {'country': country.id})
        with set_company(company):
            config = Configuration(1)
            # Written as a French reader dials it: of the company's country
            config.dunning_contact_phone = '01 42 46 66 00'
            config.save()
            dunnings = Dunning.generate_dunnings(date=FIRST)
            with Transaction().set_context(_skip_warnings=True):
                Dunning.process(dunnings)
            texts = {d.invoice: zip_texts(Dunning(d.id).dispatch.letter)
                for d in dunnings}
        self.assertIn("Phone: 01 42 46 66 00", texts[invoices[0]])
        self.assertIn("Phone: +33 1 42 46 66 00", texts[invoices[1]])
        self.assertNotIn("+33 1 42", texts[invoices[0]])

    def test_format_phone(self):
        "Numbers of another country international, others unchanged"
        self.assertEqual(format_phone('+33142466600', 'FR'),
            "01 42 46 66 00")
        self.assertEqual(format_phone('+49 30 1234567', 'FR'),
            "+49 30 1234567")
        self.assertEqual(format_phone('030 1234567', 'DE', region='DE'),
            "030 1234567")
        self.assertEqual(format_phone('030 1234567', 'FR', region='DE'),
            "+49 30 1234567")
        self.assertEqual(format_phone('extension 12', 'FR'), "extension 12")
        self.assertEqual(format_phone('', 'FR'), '')


class TranslatedConfigurationTestCase(unittest.TestCase):
    "The configuration texts of the letters in the customer's language"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_signatory_title_translated(self):
        """The title of the signatory, entered in English and in French,
        is printed in the language of each customer"""
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Dunning = pool.get('account.invoice.dunning')
        Lang = pool.get('ir.lang')
        Party = pool.get('party.party')
        company, invoices = create_invoices(2)
        french_lang, = Lang.search([('code', '=', 'fr')])
        Lang.write([french_lang], {'translatable': True})
        with set_company(company):
            Party.write([invoices[1].party], {'lang': french_lang.id})
            config = Configuration(1)
            config.dunning_signatory = "Jan Levinson"
            config.dunning_signatory_title = "Credit Manager"
            config.save()
            with Transaction().set_context(language='fr'):
                config = Configuration(1)
                config.dunning_signatory_title = "Responsable du recouvrement"
                config.save()
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.process(dunnings)
            texts = {d.invoice: zip_texts(Dunning(d.id).dispatch.letter)
                for d in dunnings}
        self.assertIn("Credit Manager", texts[invoices[0]])
        self.assertIn("Responsable du recouvrement", texts[invoices[1]])
        self.assertNotIn("Credit Manager", texts[invoices[1]])
