# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"How the letters write dates and amounts in the language of the customer."
from types import SimpleNamespace

from trytond.pool import Pool

LOWERCASE_MONTHS = {'ca', 'es', 'fr', 'it', 'nl', 'pl', 'pt', 'ro', 'sl'}
# How each language writes a date in full (day, month name, year); the
# others as "19 November 2026"
LONG_DATES = {
    'de': '{day}. {month} {year}',
    'es': '{day} de {month} de {year}',
    'pt': '{day} de {month} de {year}',
    'fr': '{day} {month} {year}',
    }
# The days written otherwise than their number: "1er décembre 2026"
LONG_DATE_DAYS = {
    'fr': {1: '1er'},
    }


def write_long_date(value, code, months):
    """value written in full as the language code does, with months the
    names of the months by number; '' for no date"""
    if not value:
        return ''
    pattern = LONG_DATES.get(code, '{day} {month} {year}')
    day = LONG_DATE_DAYS.get(code, {}).get(value.day, value.day)
    return pattern.format(day=day, month=months[value.month],
        year=value.year)


def formatter(language, currency, shared_months=None, amounts=None):
    """How the letters in language write dates and amounts: date and
    long_date ("19 novembre 2026") and money; shared_months(code, compute)
    returns the names of the months of the language code, compute() once
    for a batch of letters; amounts: {amount: text} of the amounts already
    formatted (the letters of a batch print many amounts alike)

    A letter never prints a date in numbers: 05/11/2026 is the 5th of
    November in France and the 11th of May in the United States, and the
    customer may read either way; nor abbreviated, as the abbreviations of
    the months are not those of every language (Tryton has "Jun" in
    French)."""
    pool = Pool()
    Lang = pool.get('ir.lang')
    Month = pool.get('ir.calendar.month')
    lang = Lang.get(language)
    code = lang.code.split('_')[0]
    lowercase = code in LOWERCASE_MONTHS

    def names():
        return [n.lower() if n and lowercase else n
            for n in Month.locale(lang)]
    months = shared_months(lang.code, names) if shared_months else names()

    def long_date(value):
        return write_long_date(value, code, months)

    amounts = {} if amounts is None else amounts

    def money(value):
        if value is None:
            return ''
        if value not in amounts:
            amounts[value] = lang.currency(value, currency, grouping=True)
        return amounts[value]
    return SimpleNamespace(
        lang=lang, date=long_date, long_date=long_date, money=money)
