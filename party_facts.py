# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What the run and the letters read of the customers, at once for many
(a mixin of the party): their customer types, languages and countries."""
from sql import Literal, Null, NullsFirst
from sql.operators import Exists

from trytond.pool import Pool
from trytond.transaction import Transaction

from .common import id_slices, in_ids


class PartyFactsMixin:
    "The facts of the customers the run and the letters read at once"
    __slots__ = ()

    @classmethod
    def customer_type_of(cls, party):
        "The customer type of party, guessed from its tax identifier"
        return cls.customer_types([party])[party.id]

    @classmethod
    def customer_types(cls, parties):
        """Return {party id: customer type} of parties (records or ids): the
        one stored, else professional for the parties with an active tax
        identifier, in a query a slice of ids"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        party = cls.__table__()
        identifier = Identifier.__table__()
        cursor = Transaction().connection.cursor()
        tax_identified = Exists(identifier.select(identifier.id,
                where=(identifier.party == party.id)
                & identifier.type.in_(list(cls.tax_identifier_types()))
                & (identifier.active == Literal(True))))
        result = {}
        for sub_ids in id_slices([int(p) for p in parties]):
            cursor.execute(*party.select(
                    party.id, party.customer_type, tax_identified,
                    where=in_ids(party.id, sub_ids)))
            for party_id, customer_type, professional in cursor:
                result[party_id] = customer_type or (
                    'professional' if professional else 'consumer')
        return result

    @classmethod
    def dunning_languages(cls, party_ids, company_id=None):
        """Return {party id: code of its language, or None} for company
        (that of the context by default): what party.lang gives, its value
        for the company else for every company else the default of the
        party configuration, read in a query a slice of ids"""
        pool = Pool()
        PartyLang = pool.get('party.party.lang')
        Configuration = pool.get('party.configuration')
        Lang = pool.get('ir.lang')
        if company_id is None:
            company_id = Transaction().context.get('company')
        table = PartyLang.__table__()
        cursor = Transaction().connection.cursor()
        values = {}
        for sub_ids in id_slices(party_ids):
            cursor.execute(*table.select(
                    table.party, table.company, table.lang,
                    where=in_ids(table.party, sub_ids)
                    & ((table.company == company_id)
                        | (table.company == Null)),
                    order_by=[table.id]))
            for party_id, company, lang_id in cursor:
                # As the multivalue: the company's value before the others
                if party_id not in values or (
                        company is not None and values[party_id][0] is None):
                    values[party_id] = (company, lang_id)
        default = Configuration(1).get_multivalue(
            'party_lang', company=company_id)
        lang_ids = {p: values[p][1] if p in values else (
                default.id if default else None) for p in party_ids}
        codes = {l['id']: l['code'] for l in Lang.read(
                list(set(filter(None, lang_ids.values()))), ['code'])}
        return {p: codes.get(l) for p, l in lang_ids.items()}

    @classmethod
    def dunning_countries(cls, party_ids):
        """Return {party id: ISO code of the country of its first address
        that has one} (the addresses in their order), in a query a slice
        of ids; the parties without such an address are left out"""
        pool = Pool()
        Address = pool.get('party.address')
        Country = pool.get('country.country')
        address = Address.__table__()
        country = Country.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in id_slices(party_ids):
            cursor.execute(*address
                .join(country, condition=country.id == address.country)
                .select(address.party, country.code,
                    where=in_ids(address.party, sub_ids)
                    & (address.active == Literal(True)),
                    order_by=[address.party, NullsFirst(address.sequence),
                        address.id]))
            for party_id, code in cursor:
                if code:
                    result.setdefault(party_id, code)
        return result
