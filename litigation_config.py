# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The delays of litigation in the accounting configuration: the months to
declare a claim after the publication of the judgment, the days of warning
before, the limitation periods of the customer types and the months of
warning before them (French rules by default)."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta

dunning_declaration_months = fields.Integer(
    "Months to Declare a Claim", required=True,
    domain=[('dunning_declaration_months', '>', 0)],
    help="After the publication of the judgment of opening: 2 months in "
    "France (Code de commerce, article R622-24).")
dunning_declaration_warning_days = fields.Integer(
    "Days of Warning before the Declaration Deadline", required=True,
    domain=[('dunning_declaration_warning_days', '>=', 0)],
    help="A proceeding whose claims are not declared is listed among the "
    "claims to declare this many days before its deadline.")
dunning_limitation_professional = fields.Integer(
    "Limitation of Professional Claims (Years)", required=True,
    domain=[('dunning_limitation_professional', '>', 0)],
    help="5 years in France between traders (Code de commerce, article "
    "L110-4).")
dunning_limitation_consumer = fields.Integer(
    "Limitation of Consumer Claims (Years)", required=True,
    domain=[('dunning_limitation_consumer', '>', 0)],
    help="2 years in France for a professional against a consumer (Code "
    "de la consommation, article L218-2).")
dunning_limitation_warning_months = fields.Integer(
    "Months of Warning before Limitation", required=True,
    domain=[('dunning_limitation_warning_months', '>=', 0)],
    help="A claim is listed among the claims near limitation this many "
    "months before it becomes time-barred.")

LITIGATION_FIELDS = {
    'dunning_declaration_months', 'dunning_declaration_warning_days',
    'dunning_limitation_professional', 'dunning_limitation_consumer',
    'dunning_limitation_warning_months'}
DEFAULTS = {
    'dunning_declaration_months': 2,
    'dunning_declaration_warning_days': 30,
    'dunning_limitation_professional': 5,
    'dunning_limitation_consumer': 2,
    'dunning_limitation_warning_months': 6,
    }


def litigation_delay(name, company):
    "The value of the litigation delay name in the configuration of company"
    Configuration = Pool().get('account.configuration')
    value = Configuration(1).get_multivalue(name, company=int(company))
    return value if value is not None else DEFAULTS[name]


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'
    dunning_declaration_months = fields.MultiValue(
        dunning_declaration_months)
    dunning_declaration_warning_days = fields.MultiValue(
        dunning_declaration_warning_days)
    dunning_limitation_professional = fields.MultiValue(
        dunning_limitation_professional)
    dunning_limitation_consumer = fields.MultiValue(
        dunning_limitation_consumer)
    dunning_limitation_warning_months = fields.MultiValue(
        dunning_limitation_warning_months)

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in LITIGATION_FIELDS:
            return pool.get('account.configuration.invoice_dunning')
        return super().multivalue_model(field)

    @classmethod
    def default_dunning_declaration_months(cls, **pattern):
        return DEFAULTS['dunning_declaration_months']

    @classmethod
    def default_dunning_declaration_warning_days(cls, **pattern):
        return DEFAULTS['dunning_declaration_warning_days']

    @classmethod
    def default_dunning_limitation_professional(cls, **pattern):
        return DEFAULTS['dunning_limitation_professional']

    @classmethod
    def default_dunning_limitation_consumer(cls, **pattern):
        return DEFAULTS['dunning_limitation_consumer']

    @classmethod
    def default_dunning_limitation_warning_months(cls, **pattern):
        return DEFAULTS['dunning_limitation_warning_months']


class ConfigurationInvoiceDunning(metaclass=PoolMeta):
    __name__ = 'account.configuration.invoice_dunning'
    dunning_declaration_months = dunning_declaration_months
    dunning_declaration_warning_days = dunning_declaration_warning_days
    dunning_limitation_professional = dunning_limitation_professional
    dunning_limitation_consumer = dunning_limitation_consumer
    dunning_limitation_warning_months = dunning_limitation_warning_months

    @classmethod
    def default_dunning_declaration_months(cls):
        return DEFAULTS['dunning_declaration_months']

    @classmethod
    def default_dunning_declaration_warning_days(cls):
        return DEFAULTS['dunning_declaration_warning_days']

    @classmethod
    def default_dunning_limitation_professional(cls):
        return DEFAULTS['dunning_limitation_professional']

    @classmethod
    def default_dunning_limitation_consumer(cls):
        return DEFAULTS['dunning_limitation_consumer']

    @classmethod
    def default_dunning_limitation_warning_months(cls):
        return DEFAULTS['dunning_limitation_warning_months']
