# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Party extension: the dunning segment of a customer, per company."
from trytond.model import ModelSQL, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .penalty import CUSTOMER_TYPES, PenaltyWaiverMixin

dunning_segment = fields.Many2One(
    'account.invoice.dunning.segment', "Dunning Segment",
    ondelete='RESTRICT',
    help="The segment gives the dunning procedure of the customer.\n"
    "Leave empty to use the default segment of the company.")


class Party(PenaltyWaiverMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
    customer_type = fields.Selection([
            (None, ""),
            ] + CUSTOMER_TYPES, "Customer Type",
        help="Professionals owe late-payment interest from the due date and "
        "the recovery indemnity; consumers only legal interest from the "
        "formal notice.\n"
        "Leave empty: professional when the party has a tax identifier, "
        "consumer otherwise.")
    dunning_segment = fields.MultiValue(dunning_segment)
    dunning_segments = fields.One2Many(
        'party.party.dunning_segment', 'party', "Dunning Segments")
    invoice_dunnings = fields.One2Many(
        'account.invoice.dunning', 'party', "Invoice Reminders",
        readonly=True)

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field == 'dunning_segment':
            return pool.get('party.party.dunning_segment')
        return super().multivalue_model(field)

    def get_dunning_segment(self, company):
        "Return the segment of the party for company, or the default one"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        segment = self.get_multivalue(
            'dunning_segment', company=int(company))
        if not segment:
            segment = Configuration(1).get_multivalue(
                'default_dunning_segment', company=int(company))
        return segment

    @classmethod
    def customer_type_of(cls, party):
        "The customer type of party, guessed from its tax identifier"
        if party.customer_type:
            return party.customer_type
        return 'professional' if party.tax_identifier else 'consumer'

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('invoice_dunnings', None)
        return super().copy(parties, default=default)


class PartyDunningSegment(ModelSQL, CompanyValueMixin):
    __name__ = 'party.party.dunning_segment'
    __string__ = "Party Dunning Segment"
    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    dunning_segment = dunning_segment
