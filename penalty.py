# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment penalties: the rules of procedures and segments and their
computation per invoice (by country: penalty_country.py; graduated scales:
penalty_scale.py; the computation for thousands of invoices:
penalty_computation.py; the wizard that invoices them: penalty_invoice.py)."""
from decimal import ROUND_CEILING, Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from .common import CUSTOMER_TYPES
from .exceptions import PenaltyError, PenaltyValidationError
from .interest import compute_interest, half_year_start
from .penalty_computation import PenaltyComputationMixin
from .penalty_country import CountryRuleMixin
from .penalty_scale import ScaleRuleMixin
from .rate import MAX_RATE, half_year_label

# The currency of the fixed amounts of the rules without currency: the
# recovery indemnity of Directive 2011/7/EU is 40 EUR
DEFAULT_FIXED_CURRENCY = 'EUR'
# The days of a year of the interest computation: 360, 365 or 366
MIN_DIVISOR, MAX_DIVISOR = 360, 366
# The field of the reminders and of Penalties that holds each kind of rule
KIND_AMOUNTS = {
    'interest': 'interest',
    'fixed': 'indemnity',
    'scale': 'indemnity',
    'percentage': 'fee',
    }


class Penalty(sequence_ordered(), DeactivableMixin, PenaltyComputationMixin,
        CountryRuleMixin, ScaleRuleMixin, ModelSQL, ModelView):
    "A late-payment penalty charged by a procedure or a segment"
    __name__ = 'account.invoice.dunning.penalty'
    __string__ = "Late-Payment Penalty"
    procedure = fields.Many2One(
        'account.invoice.dunning.procedure', "Procedure",
        ondelete='CASCADE',
        states={
            'required': ~Eval('segment'),
            'invisible': Bool(Eval('segment')),
            })
    segment = fields.Many2One(
        'account.invoice.dunning.segment', "Segment", ondelete='CASCADE',
        states={
            'required': ~Eval('procedure'),
            'invisible': Bool(Eval('procedure')),
            },
        help="Penalties of a segment replace those of its procedure, "
        "country by country.")
    name = fields.Char("Name", required=True, translate=True,
        help="The label printed on letters and invoices.")
    legal_basis = fields.Char("Legal Basis", translate=True,
        help="Printed on letters, e.g. \"Article L441-10 of the French "
        "Commercial Code\".")
    kind = fields.Selection([
            ('interest', "Interest"),
            ('fixed', "Fixed Amount per Invoice"),
            ('percentage', "Percentage of the Overdue Amount"),
            ('scale', "Graduated Scale of the Overdue Amount"),
            ], "Kind", required=True)
    customer_type = fields.Selection(
        [('all', "All")] + CUSTOMER_TYPES, "Customer Type", required=True)
    level = fields.Many2One(
        'account.invoice.dunning.level', "From Level", ondelete='RESTRICT',
        help="The first level of reminder that shows and charges the "
        "penalty; empty for all.")
    # Interest
    rate = fields.Numeric("Contractual Rate", digits=(None, 6),
        states={
            'invisible': Eval('kind') != 'interest',
            'required': (Eval('kind') == 'interest') & ~Eval('rate_table'),
            },
        help="A fixed annual rate agreed by contract, as a fraction.")
    rate_table = fields.Many2One(
        'account.invoice.dunning.rate', "Reference Rate",
        ondelete='RESTRICT',
        states={
            'invisible': Eval('kind') != 'interest',
            'required': (Eval('kind') == 'interest') & ~Eval('rate'),
            },
        help="The reference rate of each half-year, plus the margin.")
    margin = fields.Numeric("Margin", digits=(None, 6),
        states={
            'invisible': (Eval('kind') != 'interest') | ~Eval('rate_table'),
            },
        help="Added to the reference rate, as a fraction: 0.10 for 10 "
        "points.")
    rate_rounding = fields.Numeric("Round Up To", digits=(None, 6),
        states={
            'invisible': (Eval('kind') != 'interest') | ~Eval('rate_table'),
            },
        help="Round the reference rate plus the margin up to a multiple of "
        "this value, as a fraction: 0.005 rounds 10.15 % up to 10.5 % (the "
        "next half point of the Belgian law of 2 August 2002, article 5).\n"
        "Leave empty not to round.")
    floor_table = fields.Many2One(
        'account.invoice.dunning.rate', "Floor Rate", ondelete='RESTRICT',
        states={
            'invisible': (Eval('kind') != 'interest') | ~Eval('rate'),
            },
        help="A contractual rate may not be lower than this rate times "
        "the multiplier (in France 3 times the legal rate).")
    floor_multiplier = fields.Numeric("Floor Multiplier", digits=(None, 4),
        states={
            'invisible': (Eval('kind') != 'interest') | ~Eval('floor_table'),
            'required': Bool(Eval('floor_table')),
            })
    divisor = fields.Integer("Days in a Year",
        states={
            'invisible': Eval('kind') != 'interest',
            'required': Eval('kind') == 'interest',
            })
    start = fields.Selection([
            ('due_date', "Day after the Due Date"),
            ('formal_notice', "Day after the Formal Notice"),
            ], "Interest From",
        states={
            'invisible': Eval('kind') != 'interest',
            'required': Eval('kind') == 'interest',
            })
    # Fixed amount and percentage
    amount = Monetary("Amount", currency='currency', digits='currency',
        states={
            'invisible': Eval('kind') != 'fixed',
            'required': Eval('kind') == 'fixed',
            },
        help="Due once per late invoice, e.g. the 40 EUR recovery "
        "indemnity.")
    currency = fields.Many2One('currency.currency', "Currency",
        states={
            'invisible': ~Eval('kind').in_(['fixed', 'scale']),
            },
        help="The currency of the amounts, converted at the invoice date "
        "into the currency of an invoice in another one.\n"
        "Leave empty for euros (the 40 EUR recovery indemnity of "
        "Directive 2011/7/EU).")
    percentage = fields.Numeric("Percentage", digits=(None, 6),
        states={
            'invisible': Eval('kind') != 'percentage',
            'required': Eval('kind') == 'percentage',
            },
        help="Of the overdue amount, as a fraction.")

    @classmethod
    def default_kind(cls):
        return 'interest'

    @classmethod
    def default_customer_type(cls):
        return 'professional'

    @classmethod
    def default_divisor(cls):
        return 365

    @classmethod
    def default_start(cls):
        return 'due_date'

    @classmethod
    def default_margin(cls):
        return Decimal(0)

    @classmethod
    def default_floor_multiplier(cls):
        return Decimal(3)

    @classmethod
    def validate_fields(cls, penalties, field_names):
        super().validate_fields(penalties, field_names)
        cls.check_values(penalties)
        cls.check_scale(penalties)
        cls.check_floor(penalties)

    @classmethod
    def check_values(cls, penalties):
        "Check the amounts and rates of penalties are within sane bounds"
        for penalty in penalties:
            for name in ['rate', 'margin', 'amount', 'percentage',
                    'floor_multiplier', 'rate_rounding', 'scale_minimum',
                    'scale_maximum']:
                value = getattr(penalty, name)
                if value is not None and value < 0:
                    raise PenaltyValidationError(gettext(
                            'account_invoice_dunning.msg_penalty_negative',
                            penalty=penalty.rec_name,
                            field=cls.__names__(name)['field']))
            for name in ['rate', 'margin', 'percentage', 'rate_rounding']:
                value = getattr(penalty, name)
                if value is not None and value > MAX_RATE:
                    raise PenaltyValidationError(gettext(
                            'account_invoice_dunning.msg_penalty_rate_range',
                            penalty=penalty.rec_name,
                            field=cls.__names__(name)['field']))
            if penalty.divisor is not None and not (
                    MIN_DIVISOR <= penalty.divisor <= MAX_DIVISOR):
                raise PenaltyValidationError(gettext(
                        'account_invoice_dunning.msg_penalty_divisor',
                        penalty=penalty.rec_name,
                        minimum=MIN_DIVISOR, maximum=MAX_DIVISOR))
            if (penalty.kind == 'interest'
                    and penalty.rate is not None and penalty.rate_table):
                raise PenaltyValidationError(gettext(
                        'account_invoice_dunning'
                        '.msg_penalty_rate_and_table',
                        penalty=penalty.rec_name))

    @classmethod
    def check_floor(cls, penalties):
        """Check the contractual rates are not below their floor in the
        current half-year, when the floor is known"""
        pool = Pool()
        Date = pool.get('ir.date')
        half_year = half_year_start(Date.today())
        for penalty in penalties:
            if (penalty.kind != 'interest' or penalty.rate is None
                    or not penalty.floor_table):
                continue
            try:
                floor = penalty.floor_rate(half_year)
            except PenaltyError:
                # The floor of the half-year is not entered yet
                continue
            if penalty.rate < floor:
                raise PenaltyValidationError(
                    penalty._below_floor_message(floor, half_year))

    def applies_to(self, customer_type, level):
        "Test if the penalty applies to the customer type at level"
        if self.customer_type not in {'all', customer_type}:
            return False
        if self.level and level:
            return level.days >= self.level.days
        return True

    def annual_rate(self, half_year):
        """The annual rate of the half-year starting on half_year, once a
        rule and half-year in a computation (its context's _annual_rates)"""
        rates = Transaction().context.get('_annual_rates')
        if rates is None:
            return self._annual_rate(half_year)
        key = (self.id, half_year)
        if key not in rates:
            rates[key] = self._annual_rate(half_year)
        return rates[key]

    def _annual_rate(self, half_year):
        if self.rate_table:
            rate = (self.rate_table.rate_in_force(half_year)
                + (self.margin or 0))
            if self.rate_rounding:
                rate = ((rate / self.rate_rounding).to_integral_value(
                        rounding=ROUND_CEILING) * self.rate_rounding)
            return rate
        rate = self.rate
        if self.floor_table:
            floor = self.floor_rate(half_year)
            if rate < floor:
                raise PenaltyError(
                    self._below_floor_message(floor, half_year))
        return rate

    def floor_rate(self, half_year):
        "The lowest contractual rate allowed in the half-year"
        return (self.floor_table.rate_in_force(half_year)
            * (self.floor_multiplier or 0))

    def _below_floor_message(self, floor, half_year):
        return gettext('account_invoice_dunning.msg_penalty_below_floor',
            penalty=self.rec_name,
            rate='%s %%' % (self.rate * 100).normalize(),
            floor='%s %%' % (floor * 100).normalize(),
            half_year=half_year_label(half_year))

    def fixed_amount(self, currency, date):
        """The fixed amount in currency, converted at date from the currency
        of the rule (euros when empty) when it is another one; once a rule,
        currency and date in a computation (its context's _fixed_amounts)"""
        amounts = Transaction().context.get('_fixed_amounts')
        if amounts is None:
            return self._fixed_amount(currency, date)
        key = (self.id, currency.id, date)
        if key not in amounts:
            amounts[key] = self._fixed_amount(currency, date)
        return amounts[key]

    def _fixed_amount(self, currency, date):
        return self._convert(self.amount or 0, currency, date)

    def _convert(self, amount, currency, date, reverse=False):
        """amount from the currency of the rule (euros when empty) into
        currency at date, or from currency into the rule's when reverse"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        source = self.currency
        if not source:
            if currency.code == DEFAULT_FIXED_CURRENCY:
                return amount
            source = Currency.search(
                [('code', '=', DEFAULT_FIXED_CURRENCY)], limit=1)
            if not source:
                raise PenaltyError(gettext(
                        'account_invoice_dunning'
                        '.msg_penalty_currency_missing',
                        penalty=self.rec_name,
                        code=DEFAULT_FIXED_CURRENCY))
            source, = source
        if source == currency:
            return amount
        if reverse:
            source, currency = currency, source
        with Transaction().set_context(date=date):
            return Currency.compute(source, amount, currency, round=False)

    def interest(self, lines, payments, date, notice_date):
        "The unrounded interest owed on date for the lines and payments"
        if not lines:
            return Decimal(0)
        if self.start == 'formal_notice':
            if not notice_date:
                return Decimal(0)
            start = notice_date
        else:
            start = min(d for d, _ in lines)
        return compute_interest(lines, payments, start, date,
            self.annual_rate, self.divisor or 365)
