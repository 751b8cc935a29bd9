# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Graduated scales of penalties: the brackets of a rule of kind scale and
the amount they give for an overdue amount.

A bracket applies to the amounts above its threshold, up to the threshold
of the next one, and gives its fixed amount plus its rate of the part of
the amount above its threshold; the rule then bounds the result by its
minimum and maximum. The Dutch collection costs (Besluit vergoeding voor
buitengerechtelijke incassokosten, article 2: 15 % of the first 2,500 EUR,
10 % of the next 2,500... at least 40, at most 6,775 EUR) and the capped
indemnity of Belgian consumers (Code of Economic Law, book XIX: 20 EUR up to
150 EUR, 30 EUR + 10 % of the part above 150 up to 500 EUR, 65 EUR + 5 % of
the part above 500 EUR, at most 2,000 EUR) are such scales."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pyson import Eval

from .exceptions import PenaltyError, PenaltyValidationError
from .rate import MAX_RATE


def graduated_amount(base, brackets, minimum=None, maximum=None):
    """The amount of the scale of brackets [(threshold, fixed amount,
    rate)] for base, unrounded: nothing for a base of zero or less or below
    every threshold, else the fixed amount of the bracket of the highest
    threshold below base plus its rate of the part of base above that
    threshold, at least minimum and at most maximum (when set)"""
    base = Decimal(base)
    below = [b for b in brackets if b[0] < base]
    if base <= 0 or not below:
        return Decimal(0)
    threshold, fixed, rate = max(below, key=lambda b: b[0])
    amount = Decimal(fixed) + Decimal(rate) * (base - Decimal(threshold))
    if minimum is not None:
        amount = max(amount, Decimal(minimum))
    if maximum is not None:
        amount = min(amount, Decimal(maximum))
    return amount


class ScaleRuleMixin:
    """The graduated scale of a penalty rule of kind scale: its brackets,
    minimum and maximum in the currency of the rule (euros when empty)"""
    __slots__ = ()
    brackets = fields.One2Many(
        'account.invoice.dunning.penalty.bracket', 'penalty', "Scale",
        states={
            'invisible': Eval('kind') != 'scale',
            },
        help="Due once per late invoice: the bracket of the principal "
        "overdue gives its fixed amount plus its rate of the part above its "
        "threshold.")
    scale_minimum = Monetary("Minimum", currency='currency',
        digits='currency',
        states={
            'invisible': Eval('kind') != 'scale',
            },
        help="The least amount of the scale, e.g. 40 EUR of the Dutch "
        "collection costs.")
    scale_maximum = Monetary("Maximum", currency='currency',
        digits='currency',
        states={
            'invisible': Eval('kind') != 'scale',
            },
        help="The largest amount of the scale, e.g. 6,775 EUR of the Dutch "
        "collection costs.")

    @classmethod
    def check_scale(cls, penalties):
        "Check the minimum of the scales is not above their maximum"
        for penalty in penalties:
            if (penalty.scale_minimum is not None
                    and penalty.scale_maximum is not None
                    and penalty.scale_minimum > penalty.scale_maximum):
                raise PenaltyValidationError(gettext(
                        'account_invoice_dunning.msg_penalty_scale_bounds',
                        penalty=penalty.rec_name))

    def scale_amount(self, base, currency, date):
        """The amount of the graduated scale for base, both in currency, from
        the brackets in the currency of the rule (euros when empty),
        converted at date"""
        if not self.brackets:
            raise PenaltyError(gettext(
                    'account_invoice_dunning.msg_penalty_scale_empty',
                    penalty=self.rec_name))
        base = self._convert(base, currency, date, reverse=True)
        amount = graduated_amount(base,
            [(b.threshold, b.fixed_amount, b.rate) for b in self.brackets],
            self.scale_minimum, self.scale_maximum)
        return self._convert(amount, currency, date)


class PenaltyBracket(ModelSQL, ModelView):
    "A bracket of the graduated scale of a penalty rule"
    __name__ = 'account.invoice.dunning.penalty.bracket'
    __string__ = "Penalty Scale Bracket"
    penalty = fields.Many2One(
        'account.invoice.dunning.penalty', "Penalty", required=True,
        ondelete='CASCADE')
    threshold = fields.Numeric("Above", digits=(16, 2), required=True,
        help="The bracket applies to the overdue amounts above this amount, "
        "up to the threshold of the next bracket.")
    fixed_amount = fields.Numeric("Fixed Amount", digits=(16, 2),
        required=True,
        help="In the currency of the penalty (euros when empty).")
    rate = fields.Numeric("Rate on the Part Above", digits=(None, 6),
        required=True,
        help="Of the part of the overdue amount above the threshold, as a "
        "fraction: 0.10 for 10 %.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('penalty')
        t = cls.__table__()
        cls._sql_constraints += [
            ('threshold_unique', Unique(t, t.penalty, t.threshold),
                'account_invoice_dunning.msg_penalty_bracket_unique'),
            ]
        cls._order.insert(0, ('threshold', 'ASC'))

    @classmethod
    def default_threshold(cls):
        return Decimal(0)

    @classmethod
    def default_fixed_amount(cls):
        return Decimal(0)

    @classmethod
    def default_rate(cls):
        return Decimal(0)

    @classmethod
    def validate_fields(cls, brackets, field_names):
        super().validate_fields(brackets, field_names)
        cls.check_values(brackets)

    @classmethod
    def check_values(cls, brackets):
        "Check the amounts are not negative and the rates at most 100 %"
        for bracket in brackets:
            penalty = bracket.penalty.rec_name if bracket.penalty else ''
            for name in ['threshold', 'fixed_amount', 'rate']:
                value = getattr(bracket, name)
                if value is not None and value < 0:
                    raise PenaltyValidationError(gettext(
                            'account_invoice_dunning.msg_penalty_negative',
                            penalty=penalty,
                            field=cls.__names__(name)['field']))
            if bracket.rate is not None and bracket.rate > MAX_RATE:
                raise PenaltyValidationError(gettext(
                        'account_invoice_dunning.msg_penalty_rate_range',
                        penalty=penalty,
                        field=cls.__names__('rate')['field']))
