# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The effectiveness of the reminders: of the reminders processed in a
window of dates, the share whose invoice was fully paid within 7, 15 and 30
days, the average days to pay and the amount recovered, by level, channel
and segment. A read-only SQL view (table_query), computed set-based by the
database, as the analyses of analysis.py."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Avg, Count, Max, Min, Sum
from sql.conditionals import Case
from sql.functions import Function, Round

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .analysis import AnalysisContext
from .common import CHANNELS, in_ids

# The window of the reminders by default: the days up to the date
WINDOW_DAYS = 90
# The days after the reminder within which the invoice is counted as paid;
# the amount recovered is that of the invoices paid within the last one
PAID_WITHIN = [7, 15, 30]


class JulianDay(Function):
    "SQLite's julianday(): the days since the Julian epoch, as a real"
    __slots__ = ()
    _function = 'JULIANDAY'


def days_between(start, end):
    "The SQL expression of the days from the date start to the date end"
    if backend.name == 'sqlite':
        return Cast(JulianDay(end) - JulianDay(start), 'INTEGER')
    return end - start


def window():
    """The company id, the first and the last date of the reminders of the
    context: the WINDOW_DAYS days up to its date (today) by default"""
    pool = Pool()
    Date = pool.get('ir.date')
    context = Transaction().context
    date = context.get('date') or Date.today()
    from_date = (context.get('from_date')
        or date - dt.timedelta(days=WINDOW_DAYS - 1))
    return context.get('company'), from_date, date


class EffectivenessContext(AnalysisContext):
    "The analysis context with the first date of the reminders"
    __name__ = 'account.invoice.dunning.analysis.effectiveness.context'
    __string__ = "Invoice Dunning Effectiveness Context"
    from_date = fields.Date("From Date", required=True,
        help="The reminders processed from this date to the date.")

    @classmethod
    def default_from_date(cls):
        return (Pool().get('ir.date').today()
            - dt.timedelta(days=WINDOW_DAYS - 1))


class Effectiveness(ModelSQL, ModelView):
    """The reminders processed in the window of the context by level,
    channel, segment and currency, and how soon their invoices were paid"""
    __name__ = 'account.invoice.dunning.analysis.effectiveness'
    __string__ = "Invoice Dunning Effectiveness"
    company = fields.Many2One('company.company', "Company")
    procedure = fields.Many2One(
        'account.invoice.dunning.procedure', "Procedure")
    level = fields.Many2One('account.invoice.dunning.level', "Level")
    channel = fields.Selection([(None, "")] + CHANNELS, "Channel")
    segment = fields.Many2One('account.invoice.dunning.segment', "Segment",
        help="The segment of the party when the reminder was made.")
    currency = fields.Many2One('currency.currency', "Currency",
        help="The currency of the invoices.")
    # The figures lazy: a search reads the rows alone (PostgreSQL leaves out
    # the payments of the invoices), a read computes them once
    reminder_count = fields.Integer("Reminders", loading='lazy',
        help="The reminders processed in the window.")
    paid_7_share = fields.Numeric("Paid in 7 Days (%)", digits=(16, 2),
        loading='lazy',
        help="The share of the reminders whose invoice was fully paid "
        "within 7 days after the reminder.")
    paid_15_share = fields.Numeric("Paid in 15 Days (%)", digits=(16, 2),
        loading='lazy',
        help="The share of the reminders whose invoice was fully paid "
        "within 15 days after the reminder.")
    paid_30_share = fields.Numeric("Paid in 30 Days (%)", digits=(16, 2),
        loading='lazy',
        help="The share of the reminders whose invoice was fully paid "
        "within 30 days after the reminder.")
    average_days_to_pay = fields.Numeric("Average Days to Pay",
        digits=(16, 2), loading='lazy',
        help="The average days from the reminder to the full payment of "
        "the invoice, over the invoices fully paid.")
    recovered_amount = Monetary("Recovered", currency='currency',
        digits='currency', loading='lazy',
        help="The amount overdue of the reminders whose invoice was fully "
        "paid within 30 days, in the currency of the invoices.")

    # The columns of the reminders the rows are grouped by
    dimensions = ['procedure', 'level', 'channel', 'segment', 'currency']

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('procedure', 'ASC'),
            ('level', 'ASC'),
            ('channel', 'ASC'),
            ('segment', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        reminded = Dunning.__table__()
        company_id, from_date, date = window()
        currency = Transaction().context.get('currency')

        def processed(table):
            where = ((table.state == 'done')
                & (table.company == company_id)
                & (table.date >= from_date) & (table.date <= date))
            if currency:
                where &= table.currency == currency
            return where
        where = processed(dunning)
        paid = cls._paid_dates(company_id, date,
            reminded.select(reminded.invoice, where=processed(reminded)))
        reminder = dunning.join(paid, 'LEFT',
            condition=paid.invoice == dunning.invoice).select(
            dunning.id.as_('id'), dunning.company.as_('company'),
            dunning.procedure.as_('procedure'), dunning.level.as_('level'),
            dunning.channel.as_('channel'), dunning.segment.as_('segment'),
            dunning.currency.as_('currency'), dunning.amount.as_('amount'),
            # Paid before the reminder was made: at once
            Case((paid.date < dunning.date, 0),
                else_=days_between(dunning.date, paid.date)).as_('days'),
            where=where)
        return cls._figures(reminder)

    @classmethod
    def _figures(cls, reminder):
        "The query of the rows of the figures of the reminders by dimension"
        numeric = fields.Numeric("Numeric").sql_type().base
        real = fields.Float("Real").sql_type().base

        def within(days, value=Literal(1)):
            return Case((reminder.days <= days, value), else_=0)

        def share(days):
            return Round(Cast(
                    Cast(Sum(within(days)), real) * 100
                    / Count(reminder.id), numeric), 2)
        dimensions = [reminder.company] + [
            getattr(reminder, d) for d in cls.dimensions]
        # One currency in the row, else no amount
        single = Count(reminder.currency, distinct=True) == 1
        columns = [Min(reminder.id).as_('id')]
        columns += [d.as_(d.name) for d in dimensions]
        for name in ['channel', 'segment']:
            if name not in cls.dimensions:
                # Typed as the field: PostgreSQL compares NULL as text
                columns.append(Cast(Null, getattr(cls, name).sql_type().base)
                    .as_(name))
        if 'currency' not in cls.dimensions:
            columns.append(Case((single, Max(reminder.currency)),
                    else_=Null).as_('currency'))
        columns += [Count(reminder.id).as_('reminder_count')]
        columns += [share(d).as_('paid_%s_share' % d) for d in PAID_WITHIN]
        columns += [
            Round(Cast(Avg(Cast(reminder.days, real)), numeric), 2).as_(
                'average_days_to_pay'),
            Case((single, Sum(within(PAID_WITHIN[-1], reminder.amount))),
                else_=Null).as_('recovered_amount'),
            ]
        return reminder.select(*columns, group_by=dimensions)

    @classmethod
    def _paid_dates(cls, company_id, date, invoices):
        """The query of (invoice, date) of the date the customer invoices of
        the query invoices were fully paid on or before date: the latest
        reconciliation of the receivable lines of the paid invoices (as
        Invoice.dunning_lines_from)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        reconciliation = Reconciliation.__table__()
        where = ((invoice.type == 'out') & (invoice.state == 'paid')
            & (invoice.company == company_id)
            & in_ids(invoice.id, invoices))
        paid = (Invoice.dunning_lines_from(invoice, line, where)
            .join(reconciliation,
                condition=reconciliation.id == line.reconciliation)
            .select(invoice.id.as_('invoice'),
                Max(reconciliation.date).as_('date'),
                group_by=[invoice.id]))
        return paid.select(paid.invoice.as_('invoice'),
            paid.date.as_('date'), where=paid.date <= date)


class EffectivenessLevel(Effectiveness):
    """The effectiveness of the reminders of the window of the context by
    level, all channels and segments together"""
    __name__ = 'account.invoice.dunning.analysis.effectiveness.level'
    __string__ = "Invoice Dunning Effectiveness by Level"

    dimensions = ['procedure', 'level']
