# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment penalties: reference rate tables, penalty rules, their
computation per invoice and the wizard that invoices them."""
import datetime as dt
from collections import defaultdict, namedtuple
from decimal import ROUND_HALF_UP, Decimal

from sql import Literal, Null, Union
from sql.conditionals import Coalesce

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import PenaltyError, PenaltyValidationError
from .interest import compute_interest, half_year_start
from .rate import MAX_RATE, half_year_label
from .sql_invoice import (
    apply_types, invoice_debit_credit, invoice_moves, line_amount)

# The penalties of a reminder, in the invoice currency, rounded, and why
# they could not be computed (then they are zero)
Penalties = namedtuple('Penalties', ['interest', 'indemnity', 'fee', 'error'],
    defaults=[None])
# The currency of the fixed amounts of the rules without currency: the
# recovery indemnity of Directive 2011/7/EU is 40 EUR
DEFAULT_FIXED_CURRENCY = 'EUR'
# The days of a year of the interest computation: 360, 365 or 366
MIN_DIVISOR, MAX_DIVISOR = 360, 366


CUSTOMER_TYPES = [
    ('professional', "Professional"),
    ('consumer', "Consumer"),
    ]


class Penalty(sequence_ordered(), DeactivableMixin, ModelSQL, ModelView):
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
        help="Penalties of a segment replace those of its procedure.")
    name = fields.Char("Name", required=True, translate=True,
        help="The label printed on letters and invoices.")
    legal_basis = fields.Char("Legal Basis", translate=True,
        help="Printed on letters, e.g. \"Article L441-10 of the French "
        "Commercial Code\".")
    kind = fields.Selection([
            ('interest', "Interest"),
            ('fixed', "Fixed Amount per Invoice"),
            ('percentage', "Percentage of the Overdue Amount"),
            ], "Kind", required=True)
    customer_type = fields.Selection([
            ('all', "All"),
        ] + CUSTOMER_TYPES, "Customer Type", required=True)
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
            'invisible': Eval('kind') != 'fixed',
            },
        help="The currency of the amount, converted at the invoice date "
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
        cls.check_floor(penalties)

    @classmethod
    def check_values(cls, penalties):
        "Check the amounts and rates of penalties are within sane bounds"
        for penalty in penalties:
            for name in ['rate', 'margin', 'amount', 'percentage',
                    'floor_multiplier']:
                value = getattr(penalty, name)
                if value is not None and value < 0:
                    raise PenaltyValidationError(gettext(
                            'account_invoice_dunning.msg_penalty_negative',
                            penalty=penalty.rec_name,
                            field=cls.__names__(name)['field']))
            for name in ['rate', 'margin', 'percentage']:
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
        "The annual rate of the half-year starting on half_year"
        if self.rate_table:
            return (self.rate_table.rate_in_force(half_year)
                + (self.margin or 0))
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
        pool = Pool()
        Currency = pool.get('currency.currency')
        amount = self.amount or 0
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


class PenaltyWaiverMixin:
    "Exempt from late-payment penalties, recording who and why"
    __slots__ = ()
    dunning_penalty_waived = fields.Boolean(
        "Penalties Waived",
        help="Exceptionally exempt from late-payment penalties.")
    dunning_penalty_waiver_reason = fields.Char(
        "Waiver Reason",
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            'required': Bool(Eval('dunning_penalty_waived')),
            })
    dunning_penalty_waived_by = fields.Many2One(
        'res.user', "Waived by", readonly=True,
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            })
    dunning_penalty_waived_date = fields.Date(
        "Waived on", readonly=True,
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            })

    @classmethod
    def default_dunning_penalty_waived(cls):
        return False

    @classmethod
    def _waiver_values(cls, values):
        """Record who waived and when: set here only, never taken from
        values (a client could forge them)"""
        values = {k: v for k, v in values.items()
            if k not in {
                'dunning_penalty_waived_by', 'dunning_penalty_waived_date'}}
        if 'dunning_penalty_waived' in values:
            if values['dunning_penalty_waived']:
                values['dunning_penalty_waived_by'] = Transaction().user
                values['dunning_penalty_waived_date'] = (
                    Pool().get('ir.date').today())
            else:
                values['dunning_penalty_waived_by'] = None
                values['dunning_penalty_waived_date'] = None
        return values

    @classmethod
    def create(cls, vlist):
        return super().create([cls._waiver_values(v) for v in vlist])

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        for records, values in zip(actions, actions):
            args.extend((records, cls._waiver_values(values)))
        super().write(*args)

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default is not None else {}
        # The default value (False, not None): copy leaves it out, so that
        # users who may not change the waiver can still copy
        default.setdefault('dunning_penalty_waived', False)
        for name in ['dunning_penalty_waiver_reason',
                'dunning_penalty_waived_by', 'dunning_penalty_waived_date']:
            default.setdefault(name, None)
        return super().copy(records, default=default)


def _invoice_history(invoice_ids):
    """Return the lines to pay {invoice: [(due date, amount)]} and the
    payments {invoice: [(date, amount)]} of invoices, in their currency,
    whether reconciled or not, in two queries"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    Move = pool.get('account.move')
    InvoicePaymentLine = pool.get('account.invoice-account.move.line')
    cursor = Transaction().connection.cursor()
    invoice = Invoice.__table__()
    line = MoveLine.__table__()
    other = MoveLine.__table__()
    move = Move.__table__()
    payment = InvoicePaymentLine.__table__()
    types = [None, None, 'DATE', 'NUMERIC', 'NUMERIC']

    def amount(line):
        debit, credit = invoice_debit_credit(line, invoice)
        return debit.as_('debit'), credit.as_('credit')

    lines, payments = defaultdict(list), defaultdict(list)
    for sub_ids in _slices(invoice_ids):
        where = fields.SQL_OPERATORS['in'](invoice.id, sub_ids)
        moves = invoice_moves(invoice, where)
        to_pay = (moves
            .join(invoice, condition=invoice.id == moves.invoice)
            .join(line, condition=(line.move == moves.move)
                & (line.account == invoice.account))
            .select(
                invoice.id.as_('invoice'), line.id.as_('line'),
                Coalesce(line.maturity_date, invoice.invoice_date).as_(
                    'date'),
                *amount(line),
                line.reconciliation.as_('reconciliation')))
        query = to_pay.select(to_pay.invoice.as_('invoice'),
            to_pay.line.as_('line'), to_pay.date.as_('date'),
            to_pay.debit.as_('debit'), to_pay.credit.as_('credit'))
        cursor.execute(*apply_types(query, types))
        paid_lines = set()
        for invoice_id, line_id, date, debit, credit in cursor:
            paid_lines.add(line_id)
            lines[invoice_id].append((date, line_amount(debit, credit)))
        # Payments: the other lines of the reconciliations of the lines to
        # pay, and the payment lines not reconciled yet
        reconciled = (to_pay
            .join(other,
                condition=other.reconciliation == to_pay.reconciliation)
            .join(invoice, condition=invoice.id == to_pay.invoice)
            .join(move, condition=move.id == other.move)
            .select(
                to_pay.invoice.as_('invoice'), other.id.as_('line'),
                move.date.as_('date'), *amount(other),
                Literal(None).as_('reconciliation'),
                where=to_pay.reconciliation != Null))
        # The reconciled payment lines are left out in Python: a condition
        # on the reconciliation makes SQLite scan all the unreconciled lines
        # of the ledger for each slice instead of starting from the invoices
        unreconciled = (payment
            .join(invoice, condition=invoice.id == payment.invoice)
            .join(other, condition=other.id == payment.line)
            .join(move, condition=move.id == other.move)
            .select(
                invoice.id.as_('invoice'), other.id.as_('line'),
                move.date.as_('date'), *amount(other),
                other.reconciliation.as_('reconciliation'),
                where=fields.SQL_OPERATORS['in'](payment.invoice, sub_ids)))
        query = Union(reconciled, unreconciled)
        query = query.select(query.invoice.as_('invoice'),
            query.line.as_('line'), query.date.as_('date'),
            query.debit.as_('debit'), query.credit.as_('credit'),
            query.reconciliation.as_('reconciliation'))
        cursor.execute(*apply_types(query, types + [None]))
        seen = set()
        for (invoice_id, line_id, date, debit, credit,
                reconciliation) in cursor:
            value = line_amount(debit, credit)
            if (reconciliation is not None or line_id in paid_lines
                    or (invoice_id, line_id) in seen):
                continue
            seen.add((invoice_id, line_id))
            payments[invoice_id].append((date, -Decimal(value)))
    return lines, payments


def _slices(ids):
    "Lists of ids small enough for an IN clause"
    return (list(s) for s in grouped_slice(ids, backend.MAX_QUERY_PARAMS // 2))


def _formal_notice_dates(invoice_ids):
    "Return {invoice: date of its first processed formal notice}"
    pool = Pool()
    Dunning = pool.get('account.invoice.dunning')
    Level = pool.get('account.invoice.dunning.level')
    dunning = Dunning.__table__()
    level = Level.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    for sub_ids in _slices(invoice_ids):
        cursor.execute(*dunning
            .join(level, condition=level.id == dunning.level)
            .select(dunning.invoice, dunning.date,
                where=fields.SQL_OPERATORS['in'](dunning.invoice, sub_ids)
                & (dunning.state == 'done')
                & (level.formal_notice == Literal(True)),
                order_by=[dunning.date.desc]))
        for invoice_id, date in cursor:
            if backend.name == 'sqlite' and isinstance(date, str):
                date = dt.date.fromisoformat(date)
            result[invoice_id] = date
    return result


def compute_penalties(requests):
    """Return {key: Penalties} for requests {key: (invoice, level, date,
    overdue amount)}, rounded to the invoice currency, in a few queries

    Nothing is due when the invoice, its party or the segment of the party
    waives penalties, or when no penalty rule applies."""
    pool = Pool()
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    RateTable = pool.get('account.invoice.dunning.rate')

    if not requests:
        return {}
    # What the computation needs of the invoices, read at once
    invoices = _invoice_facts({r[0].id for r in requests.values()})
    currencies = {c.id: c for c in Currency.browse(
            list({f.currency for f in invoices.values()}))}
    # Levels that no rule reaches cost nothing: most first reminders
    reachable = reached_levels({r[1] for r in requests.values()})
    result = {}
    for key, (invoice, level, date, overdue) in list(requests.items()):
        if level not in reachable:
            result[key] = no_penalties(currencies[invoices[invoice.id].currency])
    requests = {k: v for k, v in requests.items() if k not in result}
    if not requests:
        return result
    # The rules of each request, from the segments of the parties fetched
    # at once
    segments = _party_segments({
            (invoices[r[0].id].party, invoices[r[0].id].company)
            for r in requests.values()})
    rules_cache, applicable = {}, {}
    for key, (invoice, level, date, overdue) in requests.items():
        facts = invoices[invoice.id]
        segment = segments.get((facts.party, facts.company))
        cache_key = (level.procedure.id, segment.id if segment else None,
            level.id)
        if cache_key not in rules_cache:
            rules_cache[cache_key] = [r
                for r in penalty_rules(level.procedure, segment)
                if r.applies_to(r.customer_type, level)]
        rules = rules_cache[cache_key]
        if (not rules or facts.waived or facts.party_waived
                or (segment and segment.dunning_penalty_waived)):
            result[key] = no_penalties(currencies[facts.currency])
        else:
            applicable[key] = rules
    if not applicable:
        return result
    invoice_ids = list({requests[k][0].id for k in applicable})
    # Browsed by slices: the instances of one browse check all its ids
    customer_types = {}
    for sub_ids in grouped_slice(
            sorted({invoices[i].party for i in invoice_ids}), 1000):
        customer_types.update(Party.customer_types(Party.browse(sub_ids)))
    history_lines, history_payments = _invoice_history(invoice_ids)
    notices = _formal_notice_dates(invoice_ids)
    rate_values = {t.id: sorted((v.date, v.rate) for v in t.values)
        for t in RateTable.search([])}
    # Whether a rule applies to a customer type at a level, once each
    applies = {}

    def rules_of(rules, customer_type, level):
        key = (tuple(r.id for r in rules), customer_type, level.id)
        if key not in applies:
            applies[key] = [r for r in rules
                if r.applies_to(customer_type, level)]
        return applies[key]

    with Transaction().set_context(_rate_values=rate_values):
        for key, rules in applicable.items():
            invoice, level, date, overdue = requests[key]
            facts = invoices[invoice.id]
            currency = currencies[facts.currency]
            try:
                result[key] = _penalties_of(
                    rules_of(rules, customer_types[facts.party], level),
                    facts, currency, date, overdue,
                    history_lines.get(invoice.id, []),
                    history_payments.get(invoice.id, []),
                    notices.get(invoice.id))
            except UserError as exception:
                # A missing rate or a bad rule stops this invoice's
                # penalties only: the reminder says why
                result[key] = no_penalties(currency)._replace(
                    error=exception.message)
    return result


def _penalties_of(rules, facts, currency, date, overdue, lines, payments,
        notice_date):
    "The rounded Penalties of rules for an invoice at date"
    interest = indemnity = fee = Decimal(0)
    if _is_late(lines, payments, date):
        for rule in rules:
            if rule.kind == 'interest':
                interest += rule.interest(lines, payments, date, notice_date)
            elif rule.kind == 'fixed':
                indemnity += rule.fixed_amount(currency, facts.invoice_date)
            elif rule.kind == 'percentage':
                fee += overdue * (rule.percentage or 0)
    return Penalties(*(round_half_up(v, currency)
            for v in (interest, indemnity, fee)))


InvoiceFacts = namedtuple('InvoiceFacts',
    ['party', 'company', 'currency', 'waived', 'party_waived',
        'invoice_date'])


def _invoice_facts(invoice_ids):
    """Return {invoice: InvoiceFacts} of the invoices: party, company,
    currency and the waivers of the invoice and of the party, in a query a
    slice of ids"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Party = pool.get('party.party')
    invoice = Invoice.__table__()
    party = Party.__table__()
    cursor = Transaction().connection.cursor()
    result = {}
    for sub_ids in _slices(list(invoice_ids)):
        cursor.execute(*invoice
            .join(party, condition=party.id == invoice.party)
            .select(invoice.id, invoice.party, invoice.company,
                invoice.currency, invoice.dunning_penalty_waived,
                party.dunning_penalty_waived, invoice.invoice_date,
                where=fields.SQL_OPERATORS['in'](invoice.id, sub_ids)))
        for (invoice_id, party_id, company_id, currency_id, waived,
                party_waived, invoice_date) in cursor:
            if isinstance(invoice_date, str):
                # SQLite returns the dates of raw queries as strings
                invoice_date = dt.date.fromisoformat(invoice_date)
            result[invoice_id] = InvoiceFacts(party_id, company_id,
                currency_id, bool(waived), bool(party_waived), invoice_date)
    return result


def reached_levels(levels):
    "Return the levels that at least one penalty rule reaches"
    pool = Pool()
    Penalty = pool.get('account.invoice.dunning.penalty')
    rules = Penalty.search([])
    return {level for level in levels
        if any((r.procedure == level.procedure
                    or (r.segment and r.segment.procedure == level.procedure))
                and (not r.level or level.days >= r.level.days)
                for r in rules)}


def _party_segments(party_companies):
    """Return {(party, company): segment} of the parties, in one query: the
    segment of the party, else the default segment of the company"""
    pool = Pool()
    PartySegment = pool.get('party.party.dunning_segment')
    Configuration = pool.get('account.configuration')
    config = Configuration(1)
    party_ids = list({p for p, _ in party_companies})
    values = {}
    for sub_ids in _slices(party_ids):
        for value in PartySegment.search([('party', 'in', sub_ids)]):
            if value.dunning_segment and value.dunning_segment.active:
                values[value.party.id, value.company.id] = (
                    value.dunning_segment)
    defaults = {}
    result = {}
    for party, company in party_companies:
        segment = values.get((party, company))
        if not segment:
            if company not in defaults:
                defaults[company] = config.get_multivalue(
                    'default_dunning_segment', company=company)
            segment = defaults[company]
        result[party, company] = segment
    return result


def _is_late(lines, payments, date):
    """Test if a line to pay fell due before date without being paid by its
    due date"""
    due = Decimal(0)
    for due_date, amount in sorted(lines):
        if due_date >= date:
            break
        due += amount
        covered = sum((a for d, a in payments if d <= due_date), Decimal(0))
        if covered < due:
            return True
    return False


def penalty_rules(procedure, segment):
    "The active penalty rules: the segment's if it has any, else the procedure's"
    pool = Pool()
    Penalty = pool.get('account.invoice.dunning.penalty')
    if segment:
        rules = Penalty.search([('segment', '=', segment.id)])
        if rules:
            return rules
    return Penalty.search([('procedure', '=', procedure.id)])


def no_penalties(currency):
    "Nothing owed, in the precision of currency"
    return Penalties(*(round_half_up(0, currency),) * 3)


def round_half_up(value, currency):
    "Round value half up to the digits of currency"
    exp = Decimal(1).scaleb(-currency.digits)
    return Decimal(value).quantize(exp, rounding=ROUND_HALF_UP)


class InvoicePenaltiesStart(ModelView):
    "Invoice Late-Payment Penalties"
    __name__ = 'account.invoice.dunning.penalty.invoice.start'
    date = fields.Date("Date", required=True,
        help="The date up to which interest is invoiced.")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class InvoicePenalties(Wizard):
    "Invoice Late-Payment Penalties"
    __name__ = 'account.invoice.dunning.penalty.invoice'
    start = StateView('account.invoice.dunning.penalty.invoice.start',
        'account_invoice_dunning.penalty_invoice_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Invoice", 'invoice', 'tryton-ok', default=True),
            ])
    invoice = StateAction('account_invoice.act_invoice_out_form')

    def _late_invoices(self):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        records = self.records
        if self.model.__name__ == Dunning.__name__:
            return list({d.invoice for d in records})
        return list(records)

    def do_invoice(self, action):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = Invoice.invoice_dunning_penalties(
            self._late_invoices(), self.start.date)
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [i.id for i in invoices])])
        return action, {}
