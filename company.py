# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The company: the mentions its letters must carry (Code de commerce,
articles R123-237 and R123-238 in France): legal form, share capital,
registered office and registration."""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .common import company_country


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'
    legal_form = fields.Char(
        "Legal Form",
        help="As printed on the letters, for example: SARL, SAS, GmbH.")
    share_capital = Monetary(
        "Share Capital", currency='currency', digits='currency',
        domain=['OR',
            ('share_capital', '=', None),
            ('share_capital', '>=', 0),
            ],
        help="Printed on the letters of the companies that have one.")

    def dunning_registration(self, language=None):
        """The registration of the company printed on its letters: its RCS
        number ("RCS Paris B 303 265 045"), else its SIREN, or ''"""
        codes = {i.type: i.code for i in self.party.identifiers
            if i.type in {'fr_rcs', 'fr_siren', 'fr_siret'}}
        for type_ in ['fr_siren', 'fr_siret']:
            codes[type_] = ''.join((codes.get(type_) or '').split())
        if codes.get('fr_rcs'):
            return codes['fr_rcs']
        siren = codes.get('fr_siren') or (codes.get('fr_siret') or '')[:9]
        if siren:
            return gettext('account_invoice_dunning.msg_company_siren',
                language or Transaction().language,
                siren='%s %s %s' % (siren[:3], siren[3:6], siren[6:9]))
        return ''

    def dunning_legal_mentions(self, lang):
        """The lines of the mentions of the letters of the company in lang
        (ir.lang): its legal form and share capital, its registered office
        and its registration"""
        lines = []
        if self.legal_form and self.share_capital:
            lines.append(gettext(
                    'account_invoice_dunning.msg_company_capital', lang.code,
                    form=self.legal_form,
                    capital=lang.currency(self.share_capital, self.currency,
                        grouping=True)))
        elif self.legal_form:
            lines.append(self.legal_form)
        office = self.party.address_get()
        address = ', '.join(filter(None, (l.strip()
                    for l in office.full_address.splitlines()))
            ) if office else ''
        if address:
            lines.append(gettext(
                    'account_invoice_dunning.msg_company_office', lang.code,
                    address=address))
        registration = self.dunning_registration(lang.code)
        if registration:
            lines.append(registration)
        return lines

    def dunning_missing_mentions(self):
        """The names of the mentions a French company lacks on its letters:
        legal form and registration (RCS or SIREN)"""
        if company_country(self) != 'FR':
            return []
        missing = []
        if not self.legal_form:
            missing.append(self.__names__('legal_form')['field'])
        if not self.dunning_registration():
            Identifier = Pool().get('party.identifier')
            missing.append(dict(Identifier.get_types())['fr_rcs'])
        return missing
