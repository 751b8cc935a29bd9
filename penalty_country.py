# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Penalty rules by country: the country of a rule, the country of the
customer of an invoice and the rules that apply to it.

A rule stores the ISO 3166 code of its country and shows it as a country:
the rules of Germany, Belgium, Spain, Italy and the Netherlands are shipped
as data, while Tryton's countries are imported after the module is
activated (trytond_import_countries), so that data can not refer to them.
The customer's country is the one of the invoice address, else of the
first address of the party that has one."""
from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import Transaction


def rules_of_country(rules, country):
    """The rules of country (an ISO code, None when unknown) among rules if
    there are, else those without country"""
    national = [r for r in rules if country and r.country_code == country]
    return national or [r for r in rules if not r.country_code]


class CountryRuleMixin:
    "A rule that applies to the customers of a country, or of any country"
    __slots__ = ()
    country_code = fields.Char("Country Code", size=2,
        help="The ISO 3166 code of the country of the rule.")
    country = fields.Function(fields.Many2One(
            'country.country', "Country",
            help="The rule applies to the customers of this country (of "
            "the invoice address, else of the first address of the party "
            "that has one): the rules of their country replace, for them, "
            "the rules without country of the same procedure or segment.\n"
            "Leave empty for the customers of the other countries."),
        'get_country', setter='set_country', searcher='search_country')

    @classmethod
    def get_country(cls, rules, name):
        "The countries of the codes of the rules, in one search"
        pool = Pool()
        Country = pool.get('country.country')
        codes = list({r.country_code for r in rules if r.country_code})
        countries = {}
        if codes:
            with Transaction().set_context(active_test=False):
                countries = {c.code: c.id
                    for c in Country.search([('code', 'in', codes)])}
        return {r.id: countries.get(r.country_code) for r in rules}

    @classmethod
    def set_country(cls, rules, name, value):
        pool = Pool()
        Country = pool.get('country.country')
        cls.write(rules, {
                'country_code': Country(value).code if value else None,
                })

    @classmethod
    def search_country(cls, name, clause):
        pool = Pool()
        Country = pool.get('country.country')
        _, operator, operand, *extra = clause
        nested = clause[0][len(name) + 1:]
        if not nested and operand is None and operator in {'=', '!='}:
            return [('country_code', operator, None)]
        if not nested:
            nested = 'rec_name' if isinstance(operand, str) else 'id'
        with Transaction().set_context(active_test=False):
            countries = Country.search([(nested, operator, operand, *extra)])
        return [('country_code', 'in', [c.code for c in countries])]

    @fields.depends('country')
    def on_change_country(self):
        self.country_code = self.country.code if self.country else None

    @classmethod
    def customer_countries(cls, facts):
        """Return {invoice: ISO code of the country of its customer, or None}
        for the InvoiceFacts of invoices: the country of the invoice
        address, else of the first address of the party that has one"""
        pool = Pool()
        Party = pool.get('party.party')
        parties = {f.party for f in facts.values() if not f.country}
        countries = Party.dunning_countries(parties) if parties else {}
        return {i: f.country or countries.get(f.party)
            for i, f in facts.items()}
