# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Accounting configuration: default segment and who signs the letters."
from trytond.i18n import gettext
from trytond.model import ModelSQL, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .common import parse_days
from .exceptions import AgingDaysValidationError

# The aging buckets of the overdue analysis by default
DEFAULT_AGING_DAYS = '30, 60, 90'

default_dunning_segment = fields.Many2One(
    'account.invoice.dunning.segment', "Default Dunning Segment",
    ondelete='RESTRICT',
    help="The segment, and so the procedure, of customers without one.")
dunning_contact_name = fields.Char(
    "Dunning Contact", help="Whom customers contact about their reminders.")
dunning_contact_email = fields.Char("Dunning Contact Email")
dunning_contact_phone = fields.Char("Dunning Contact Phone")
dunning_signatory = fields.Char(
    "Dunning Signatory", help="The name that signs the reminder letters.")
dunning_signatory_title = fields.Char(
    "Dunning Signatory Title", translate=True,
    help="For example: Credit Manager; printed in the language of the "
    "letter.")

dunning_penalty_account = fields.Many2One(
    'account.account', "Penalty Account",
    domain=[
        ('closed', '!=', True),
        ('type.revenue', '=', True),
        ('company', '=', Eval('context', {}).get('company', -1)),
        ],
    help="The revenue account of the invoiced late-payment interest and "
    "fees.")
dunning_indemnity_account = fields.Many2One(
    'account.account', "Indemnity Account",
    domain=[
        ('closed', '!=', True),
        ('type.revenue', '=', True),
        ('company', '=', Eval('context', {}).get('company', -1)),
        ],
    help="The revenue account of the invoiced recovery indemnities; "
    "empty for the penalty account.")

dunning_dispute_follow_days = fields.Integer(
    "Days to Follow the Disputes", required=True,
    domain=[('dunning_dispute_follow_days', '>=', 0)],
    help="A dispute open for longer is listed among the disputes to "
    "follow.")

dunning_aging_days = fields.Char("Aging Buckets", required=True,
    help="The last day past due of each age of the overdue analysis, "
    "separated by commas: \"30, 60, 90\" gives Not Due, 1-30, 31-60, "
    "61-90 and Over 90 Days.")

DUNNING_FIELDS = {
    'dunning_penalty_account', 'dunning_indemnity_account',
    'default_dunning_segment', 'dunning_contact_name',
    'dunning_contact_email', 'dunning_contact_phone', 'dunning_signatory',
    'dunning_signatory_title', 'dunning_dispute_follow_days',
    'dunning_aging_days'}


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'
    default_dunning_segment = fields.MultiValue(default_dunning_segment)
    dunning_contact_name = fields.MultiValue(dunning_contact_name)
    dunning_contact_email = fields.MultiValue(dunning_contact_email)
    dunning_contact_phone = fields.MultiValue(dunning_contact_phone)
    dunning_signatory = fields.MultiValue(dunning_signatory)
    dunning_signatory_title = fields.MultiValue(dunning_signatory_title)
    dunning_penalty_account = fields.MultiValue(dunning_penalty_account)
    dunning_indemnity_account = fields.MultiValue(dunning_indemnity_account)
    dunning_dispute_follow_days = fields.MultiValue(
        dunning_dispute_follow_days)
    dunning_aging_days = fields.MultiValue(dunning_aging_days)

    @classmethod
    def default_dunning_dispute_follow_days(cls, **pattern):
        return cls.multivalue_model(
            'dunning_dispute_follow_days'
            ).default_dunning_dispute_follow_days()

    @classmethod
    def default_dunning_aging_days(cls, **pattern):
        return cls.multivalue_model(
            'dunning_aging_days').default_dunning_aging_days()

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in DUNNING_FIELDS:
            return pool.get('account.configuration.invoice_dunning')
        return super().multivalue_model(field)


class ConfigurationInvoiceDunning(ModelSQL, CompanyValueMixin):
    __name__ = 'account.configuration.invoice_dunning'
    __string__ = "Account Configuration Invoice Dunning"
    default_dunning_segment = default_dunning_segment
    dunning_contact_name = dunning_contact_name
    dunning_contact_email = dunning_contact_email
    dunning_contact_phone = dunning_contact_phone
    dunning_signatory = dunning_signatory
    dunning_signatory_title = dunning_signatory_title
    dunning_penalty_account = dunning_penalty_account
    dunning_indemnity_account = dunning_indemnity_account
    dunning_dispute_follow_days = dunning_dispute_follow_days
    dunning_aging_days = dunning_aging_days

    @classmethod
    def default_dunning_dispute_follow_days(cls):
        return 30

    @classmethod
    def default_dunning_aging_days(cls):
        return DEFAULT_AGING_DAYS

    @classmethod
    def validate_fields(cls, values, field_names):
        super().validate_fields(values, field_names)
        if field_names and 'dunning_aging_days' not in field_names:
            return
        for value in values:
            try:
                parse_days(value.dunning_aging_days)
            except ValueError:
                raise AgingDaysValidationError(gettext(
                        'account_invoice_dunning.msg_aging_days',
                        days=value.dunning_aging_days))
