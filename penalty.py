# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment penalties: the rules of procedures and segments and their
computation per invoice (by country: penalty_country.py; graduated scales:
penalty_scale.py; the wizard that invoices them: penalty_invoice.py)."""
from collections import namedtuple
from decimal import ROUND_CEILING, Decimal

from sql import Literal, Null
from sql.conditionals import Case, Coalesce

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from .common import CUSTOMER_TYPES, id_slices, preload, round_half_up, to_date
from .dispatch_delivery import PRESENTED
from .exceptions import PenaltyError, PenaltyValidationError
from .interest import (
    compute_interest, half_year_start, overdue_principal, reduce_lines)
from .penalty_country import CountryRuleMixin, rules_of_country
from .penalty_scale import ScaleRuleMixin
from .rate import MAX_RATE, half_year_label

# The penalties of a reminder, in the invoice currency, rounded, and why
# they could not be computed (then they are zero)
Penalties = namedtuple('Penalties', ['interest', 'indemnity', 'fee', 'error'],
    defaults=[None])
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


class Penalty(sequence_ordered(), DeactivableMixin, CountryRuleMixin,
        ScaleRuleMixin, ModelSQL, ModelView):
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
        of the rule (euros when empty) when it is another one"""
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

    @classmethod
    def rules_of(cls, procedure, segment, country=None):
        """The active penalty rules of a procedure and segment for the
        customers of country (an ISO code, None when unknown): the
        segment's if it has rules of the country or without country, else
        the procedure's; the rules of the country if there are, else those
        without country"""
        owners = [('procedure', procedure.id)]
        if segment:
            owners.insert(0, ('segment', segment.id))
        for field, owner in owners:
            rules = rules_of_country(
                cls.search([(field, '=', owner)]), country)
            if rules:
                return rules
        return []

    @classmethod
    def reached_levels(cls, levels):
        """Return the levels that at least one penalty rule reaches: of the
        procedure of the rule or of its segment, not an installment of a
        payment plan, and from the level of the rule when it has one"""
        lowest = cls._lowest_reached_days()

        def reached(level):
            procedure = level.procedure.id
            return (procedure in lowest and not level.plan_installment
                and (lowest[procedure] is None
                    or level.days >= lowest[procedure]))
        return {level for level in levels if reached(level)}

    @classmethod
    def _lowest_reached_days(cls):
        """Return {procedure id: the lowest days of the levels its rules
        start from, None when one has no level (all its levels)}, read in a
        query over the rules the user sees (any order): each batch of a run
        asks"""
        pool = Pool()
        Segment = pool.get('account.invoice.dunning.segment')
        Level = pool.get('account.invoice.dunning.level')
        rule, segment = cls.__table__(), Segment.__table__()
        level = Level.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*rule
            .join(segment, 'LEFT', condition=segment.id == rule.segment)
            .join(level, 'LEFT', condition=level.id == rule.level)
            .select(Coalesce(segment.procedure, rule.procedure), level.days,
                where=rule.id.in_(cls.search([], query=True))))
        lowest = {}
        for procedure, days in cursor:
            if procedure not in lowest:
                lowest[procedure] = days
            elif lowest[procedure] is not None:
                lowest[procedure] = (
                    None if days is None else min(days, lowest[procedure]))
        return lowest

    @classmethod
    def is_late(cls, lines, payments, date):
        """Test if a line to pay fell due before date without being paid by
        its due date"""
        due = Decimal(0)
        for due_date, amount in sorted(lines):
            if due_date >= date:
                break
            due += amount
            covered = sum(
                (a for d, a in payments if d <= due_date), Decimal(0))
            if covered < due:
                return True
        return False

    @classmethod
    def compute_penalties(cls, requests):
        """Return {key: Penalties} for requests {key: (invoice, level, date,
        overdue amount)}, rounded to the invoice currency, in a few queries

        Nothing is due when the invoice, its party or the segment of the
        party waives penalties, or when no penalty rule applies. The
        penalties that can not be computed (a missing rate, a bad rule) are
        zero with the error, for that invoice only."""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Invoice = pool.get('account.invoice')
        if not requests:
            return {}
        # What the computation needs of the invoices, read at once
        facts = Invoice.dunning_penalty_facts(
            {r[0].id for r in requests.values()})
        currencies = {c.id: c for c in preload(Currency,
                {f.currency for f in facts.values()},
                ['code', 'digits', 'rounding'])}
        result, applicable = cls._applicable_rules(requests, facts)
        # Most reminders owe nothing: the same zeros for each of a currency
        nothing = {i: no_penalties(c) for i, c in currencies.items()}
        for key in result:
            result[key] = nothing[facts[requests[key][0].id].currency]
        if applicable:
            result.update(cls._compute_applicable(
                    requests, applicable, facts, currencies))
        return result

    @classmethod
    def computation_fields(cls):
        """The fields of a rule that the computation reads for each invoice:
        a module whose rules read more of them adds theirs"""
        return {'kind', 'customer_type', 'level', 'start', 'divisor', 'rate',
            'rate_table', 'margin', 'rate_rounding', 'floor_table',
            'floor_multiplier', 'amount', 'currency', 'percentage',
            'brackets', 'scale_minimum', 'scale_maximum'}

    @classmethod
    def read_for_computation(cls, rules):
        """The rules, in the same order, with the values of
        computation_fields kept: read once for thousands of invoices"""
        preloaded = {r.id: r for r in preload(
                cls, [r.id for r in rules], cls.computation_fields())}
        return [preloaded[r.id] for r in rules]

    @classmethod
    def _applicable_rules(cls, requests, facts):
        """Return the keys of the requests that owe nothing (as a dict) and
        {key: rules} of the others"""
        pool = Pool()
        Party = pool.get('party.party')
        # Levels that no rule reaches cost nothing: most first reminders
        reachable = cls.reached_levels({r[1] for r in requests.values()})
        nothing = {k: None for k, r in requests.items()
            if r[1] not in reachable}
        requests = {k: r for k, r in requests.items() if k not in nothing}
        segments = Party.dunning_segments_of({
                (facts[r[0].id].party, facts[r[0].id].company)
                for r in requests.values()})
        countries = cls.customer_countries(
            {r[0].id: facts[r[0].id] for r in requests.values()})
        rules_cache, applicable = {}, {}
        for key, (invoice, level, _, _) in requests.items():
            invoice_facts = facts[invoice.id]
            segment = segments[invoice_facts.party, invoice_facts.company]
            country = countries[invoice.id]
            cache_key = (level.procedure.id, segment.id if segment else None,
                level.id, country)
            if cache_key not in rules_cache:
                rules_cache[cache_key] = cls.read_for_computation([r
                        for r in cls.rules_of(
                            level.procedure, segment, country)
                        if r.applies_to(r.customer_type, level)])
            rules = rules_cache[cache_key]
            if not rules or cls.waived(invoice_facts, segment):
                nothing[key] = None
            else:
                applicable[key] = rules
        return nothing, applicable

    @classmethod
    def waived(cls, facts, segment):
        """Test if the penalties of an invoice of facts are waived: by the
        invoice, its party or the segment of its party"""
        return bool(facts.waived or facts.party_waived
            or (segment and segment.dunning_penalty_waived))

    @classmethod
    def _compute_applicable(cls, requests, applicable, facts, currencies):
        "Return {key: Penalties} of the requests with applicable rules"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        RateTable = pool.get('account.invoice.dunning.rate')
        Dispute = pool.get('account.invoice.dunning.dispute')
        invoice_ids = list({requests[k][0].id for k in applicable})
        customer_types = Party.customer_types(
            sorted({facts[i].party for i in invoice_ids}))
        lines, payments = Invoice.dunning_payment_history(invoice_ids)
        # No interest on what is disputed
        for invoice_id, amount in Dispute.excluded_amounts(
                {facts[i].company for i in invoice_ids}).items():
            if invoice_id in lines:
                lines[invoice_id] = reduce_lines(lines[invoice_id], amount)
        notices = cls._formal_notice_dates(invoice_ids)
        rate_values = {t.id: sorted((v.date, v.rate) for v in t.values)
            for t in RateTable.search([])}
        applies = {}
        result = {}
        with Transaction().set_context(
                _rate_values=rate_values, _annual_rates={}):
            for key, rules in applicable.items():
                invoice, level, date, overdue = requests[key]
                invoice_facts = facts[invoice.id]
                currency = currencies[invoice_facts.currency]
                customer_type = customer_types[invoice_facts.party]
                rules_key = (tuple(rules), customer_type, level)
                if rules_key not in applies:
                    applies[rules_key] = [r for r in rules
                        if r.applies_to(customer_type, level)]
                try:
                    result[key] = cls._penalties_of(
                        applies[rules_key], invoice_facts, currency, date,
                        overdue, lines.get(invoice.id, []),
                        payments.get(invoice.id, []),
                        notices.get(invoice.id))
                except UserError as exception:
                    # A missing rate or a bad rule stops this invoice's
                    # penalties only: the reminder says why
                    result[key] = no_penalties(currency)._replace(
                        error=exception.message)
        return result

    @classmethod
    def _penalties_of(cls, rules, facts, currency, date, overdue, lines,
            payments, notice_date):
        "The rounded Penalties of rules for an invoice at date"
        interest = indemnity = fee = Decimal(0)
        if cls.is_late(lines, payments, date):
            for rule in rules:
                if rule.kind == 'interest':
                    interest += rule.interest(
                        lines, payments, date, notice_date)
                elif rule.kind == 'fixed':
                    indemnity += rule.fixed_amount(
                        currency, facts.invoice_date)
                elif rule.kind == 'scale':
                    indemnity += rule.scale_amount(
                        overdue_principal(lines, payments, date), currency,
                        facts.invoice_date)
                elif rule.kind == 'percentage':
                    fee += overdue * (rule.percentage or 0)
        return Penalties(*(round_half_up(v, currency)
                for v in (interest, indemnity, fee)))

    @classmethod
    def _formal_notice_dates(cls, invoice_ids):
        """Return {invoice: date of its first processed formal notice}: its
        delivery for a registered letter presented to the customer"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        dunning = Dunning.__table__()
        level = Level.__table__()
        dispatch = Dispatch.__table__()
        cursor = Transaction().connection.cursor()
        # A registered letter presented to the customer (received, refused
        # or not claimed) dates the notice; else the date it was sent
        date = Case((dispatch.delivery_status.in_(list(PRESENTED))
                & (dispatch.delivery_date != Null), dispatch.delivery_date),
            else_=dunning.date)
        result = {}
        for sub_ids in id_slices(invoice_ids):
            cursor.execute(*dunning
                .join(level, condition=level.id == dunning.level)
                .join(dispatch, 'LEFT',
                    condition=dispatch.id == dunning.dispatch)
                .select(dunning.invoice, date,
                    where=fields.SQL_OPERATORS['in'](dunning.invoice, sub_ids)
                    & (dunning.state == 'done')
                    & (level.formal_notice == Literal(True)),
                    order_by=[dunning.date.desc]))
            for invoice_id, date in cursor:
                result[invoice_id] = to_date(date)
        return result


def no_penalties(currency):
    "Nothing owed, in the precision of currency"
    return Penalties(*(round_half_up(0, currency),) * 3)
