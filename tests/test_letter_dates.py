# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The letters write their dates in full as each language does: never in
numbers, which readers of different countries read differently."""
import datetime as dt
import os
import unittest

import trytond.ir
from trytond.modules.account_invoice_dunning.tests.test_engine import MODULE
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

IR_LOCALE = os.path.join(os.path.dirname(trytond.ir.__file__), 'locale')


class LetterDatesTestCase(unittest.TestCase):
    "The dates of the letters in each language"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

    @with_transaction()
    def test_long_dates(self):
        """The first of December and the 19th of November in English,
        French, German, Spanish and Dutch"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        Currency = pool.get('currency.currency')
        euro, = Currency.create([{'name': "Euro", 'code': 'EUR',
                    'symbol': '€'}])
        codes = ['fr', 'de', 'es', 'nl']
        Lang.write(Lang.search([('code', 'in', codes)]),
            {'translatable': True})
        for code in codes:
            # The names of the months, from Tryton's translations
            Translation.translation_import(
                code, 'ir', os.path.join(IR_LOCALE, '%s.po' % code))
        first, other = dt.date(2026, 12, 1), dt.date(2026, 11, 19)
        expected = {
            'en': ("1 December 2026", "19 November 2026"),
            'fr': ("1er décembre 2026", "19 novembre 2026"),
            'de': ("1. Dezember 2026", "19. November 2026"),
            'es': ("1 de diciembre de 2026", "19 de noviembre de 2026"),
            'nl': ("1 december 2026", "19 november 2026"),
            }
        for code, dates in expected.items():
            with self.subTest(language=code):
                fmt = Letter._formatter(code, euro, None)
                self.assertEqual(
                    (fmt.long_date(first), fmt.long_date(other)), dates)
