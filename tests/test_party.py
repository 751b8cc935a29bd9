# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What the run reads of the customers in SQL gives what Tryton's fields
give: their languages."""
import unittest

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from .test_engine import MODULE


class PartyFactsTestCase(unittest.TestCase):
    "The languages and customer types of the customers, read at once"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

    @with_transaction()
    def test_languages_as_party_lang(self):
        """A language for the company, for every company, none (the default
        of the party configuration, then none): the languages read at once
        are those of party.lang in each company"""
        pool = Pool()
        Configuration = pool.get('party.configuration')
        Lang = pool.get('ir.lang')
        Party = pool.get('party.party')
        PartyLang = pool.get('party.party.lang')
        english, = Lang.search([('code', '=', 'en')])
        french, = Lang.search([('code', '=', 'fr')])
        german, = Lang.search([('code', '=', 'de')])
        first, second = create_company(), create_company()
        own, every, both, none = Party.create([{'name': n} for n in [
                    "Own", "Every", "Both", "None"]])
        PartyLang.delete(PartyLang.search([]))
        PartyLang.create([
                {'party': own.id, 'company': first.id, 'lang': french.id},
                {'party': every.id, 'company': None, 'lang': german.id},
                {'party': both.id, 'company': None, 'lang': german.id},
                {'party': both.id, 'company': first.id, 'lang': french.id},
                ])
        parties = [own, every, both, none]
        for company, default in [(first, english), (second, None)]:
            with set_company(company):
                config = Configuration(1)
                config.party_lang = default
                config.save()
            with self.subTest(company=company.id), \
                    Transaction().set_context(company=company.id):
                expected = {p.id: p.lang.code if p.lang else None
                    for p in Party.browse(parties)}
                self.assertEqual(Party.dunning_languages(
                        [p.id for p in parties], company.id), expected)
        self.assertEqual(expected[both.id], 'de')
        with Transaction().set_context(company=first.id):
            self.assertEqual(Party.dunning_languages([both.id, own.id]),
                {both.id: 'fr', own.id: 'fr'})

    @with_transaction()
    def test_customer_types(self):
        """The customer type set on a party, else professional for a party
        with an active tax identifier, consumer without (another kind of
        identifier or an inactive one does not count)"""
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        names = ['Set professional', 'Set consumer', 'VAT', 'SIREN only',
            'Inactive VAT', 'Nothing']
        parties = Party.create([{'name': n} for n in names])
        Party.write(parties[:1], {'customer_type': 'professional'})
        Party.write(parties[1:2], {'customer_type': 'consumer'})
        Identifier.create([
                {'party': parties[1].id, 'type': 'fr_vat',
                    'code': 'FR40303265045'},
                {'party': parties[2].id, 'type': 'fr_vat',
                    'code': 'FR40303265045'},
                {'party': parties[3].id, 'type': 'fr_siren',
                    'code': '323159715'},
                {'party': parties[4].id, 'type': 'eu_vat',
                    'code': 'FR40303265045', 'active': False},
                ])
        self.assertEqual(Party.customer_types(parties), {
                parties[0].id: 'professional',
                parties[1].id: 'consumer',
                parties[2].id: 'professional',
                parties[3].id: 'consumer',
                parties[4].id: 'consumer',
                parties[5].id: 'consumer',
                })
        self.assertEqual(Party.customer_type_of(parties[2]), 'professional')
