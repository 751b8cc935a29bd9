# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Analyses of the receivables of the customer invoices at the date of a
context: the aging of the open amounts by bucket of days past due, and the
days sales outstanding (DSO) of the last twelve months. Both are read-only
SQL views (table_query), computed set-based by the database."""
import datetime as dt
from copy import deepcopy
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from lxml import etree
from sql import Cast, Literal, Null, Select, Union, Window
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce, NullIf

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.transaction import Transaction

from .account import DEFAULT_AGING_DAYS
from .analysis_lines import allocated_lines, receivable_queries
from .common import CUSTOMER_TYPES, bound_index, parse_days

# The key of the y fields of a graph of the aging drawn once for each bucket
BY_BUCKET = 'by_bucket'
# The DSO: the receivables at the end of a month over the sales of the
# three months that end with it, times the days of three months (365 / 4)
DSO_MONTHS = 12
SALES_MONTHS = 3
SALES_DAYS = Decimal('91.25')


def _context():
    "The company id and the date of the context (today by default)"
    pool = Pool()
    Date = pool.get('ir.date')
    context = Transaction().context
    return context.get('company'), context.get('date') or Date.today()


def aging_buckets(company_id):
    """[(key, label, last day)] of the buckets of days past the due date of
    the company, in order: not due (a line due on the date is not due), up
    to each day of the configuration's aging buckets, and over the last
    (without end)"""
    pool = Pool()
    Configuration = pool.get('account.configuration')
    text = Configuration(1).get_multivalue(
        'dunning_aging_days', company=company_id)
    try:
        days = parse_days(text)
    except ValueError:
        days = parse_days(DEFAULT_AGING_DAYS)
    buckets = [('not_due',
            gettext('account_invoice_dunning.msg_aging_not_due'), 0)]
    first = 1
    for last in days:
        buckets.append(('%s-%s' % (first, last),
                gettext('account_invoice_dunning.msg_aging_days_range',
                    first=first, last=last),
                last))
        first = last + 1
    buckets.append(('%s+' % days[-1],
            gettext('account_invoice_dunning.msg_aging_days_over',
                days=days[-1]),
            None))
    return buckets


def graph_series(arch, marker, series):
    """The arch of a graph with each y field keyed marker replaced by a
    copy of it for each (key, label, condition) of series, summing the rows
    that meet the PYSON condition"""
    tree = etree.fromstring(arch)
    encoder = PYSONEncoder()
    for field in tree.xpath('//y/field[@key="%s"]' % marker):
        parent = field.getparent()
        index = parent.index(field)
        parent.remove(field)
        for key, label, condition in reversed(series):
            copy = deepcopy(field)
            copy.set('key', str(key))
            copy.set('string', label)
            copy.set('domain', encoder.encode(condition))
            parent.insert(index, copy)
    return etree.tostring(tree, encoding='unicode')


def bucket_columns(buckets, due_date, date):
    """The columns bucket and bucket_sequence of the lines due on due_date
    in buckets at date"""
    sequences, keys = [], []
    for sequence, (key, _, last_day) in enumerate(buckets):
        if last_day is not None:
            condition = due_date >= date - dt.timedelta(days=last_day)
            sequences.append((condition, sequence))
            keys.append((condition, key))
    last = len(buckets) - 1
    return (Case(*sequences, else_=last),
        Case(*keys, else_=buckets[last][0]))


class AnalysisContext(ModelView):
    "The company, the date and the currency of the analyses"
    __name__ = 'account.invoice.dunning.analysis.context'
    __string__ = "Invoice Dunning Analysis Context"
    company = fields.Many2One('company.company', "Company", required=True)
    date = fields.Date("Date", required=True,
        help="The receivables open at this date.")
    currency = fields.Many2One('currency.currency', "Currency",
        help="Only the invoices in this currency; empty for all.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class Aging(ModelSQL, ModelView):
    """The open receivables of the customer invoices at the date of the
    context, by party, segment, level reached, customer type, currency and
    bucket of days past due"""
    __name__ = 'account.invoice.dunning.analysis.aging'
    __string__ = "Invoice Dunning Aging"
    company = fields.Many2One('company.company', "Company")
    party = fields.Many2One('party.party', "Party",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    segment = fields.Many2One('account.invoice.dunning.segment', "Segment")
    level = fields.Many2One('account.invoice.dunning.level', "Level",
        help="The level of the latest processed reminder.")
    customer_type = fields.Selection(
        [(None, "")] + CUSTOMER_TYPES, "Customer Type")
    currency = fields.Many2One('currency.currency', "Currency",
        help="The currency of the invoices.")
    bucket = fields.Selection('get_buckets', "Age", sort=False,
        help="The days past due, by the aging buckets of the accounting "
        "configuration.")
    bucket_sequence = fields.Integer("Age Sequence")
    # The figures lazy: a search of the rows by segment and age reads them
    # alone (analysis_summary.py)
    invoice_count = fields.Integer("Invoices", loading='lazy')
    amount = Monetary("Amount", currency='company_currency',
        digits='company_currency', loading='lazy',
        help="The amount open, in the currency of the company.")
    company_currency = fields.Many2One(
        'currency.currency', "Company Currency")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('bucket_sequence', 'ASC'),
            ('party', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        company_id, date = _context()
        lines = allocated_lines(company_id, date)
        invoice = Invoice.__table__()
        party = Party.__table__()
        company = Company.__table__()
        segments = cls._segments(company_id)
        levels = cls._levels(company_id, date)
        professionals = cls._professionals()
        sequence, bucket = bucket_columns(
            aging_buckets(company_id), lines.due_date, date)
        customer_type = Coalesce(NullIf(party.customer_type, ''),
            Case((professionals.party != Null, 'professional'),
                else_='consumer'))
        rows = (lines
            .join(invoice, condition=invoice.id == lines.invoice)
            .join(party, condition=party.id == invoice.party)
            .join(company, condition=company.id == invoice.company)
            .join(segments, 'LEFT', condition=segments.party == party.id)
            .join(levels, 'LEFT', condition=levels.invoice == invoice.id)
            .join(professionals, 'LEFT',
                condition=professionals.party == party.id)
            .select(lines.line.as_('line'), lines.invoice.as_('invoice'),
                invoice.company.as_('company'), invoice.party.as_('party'),
                segments.segment.as_('segment'), levels.level.as_('level'),
                customer_type.as_('customer_type'),
                invoice.currency.as_('currency'),
                company.currency.as_('company_currency'),
                bucket.as_('bucket'), sequence.as_('bucket_sequence'),
                lines.amount.as_('amount'),
                where=lines.amount != 0))
        dimensions = [rows.company, rows.party, rows.segment, rows.level,
            rows.customer_type, rows.currency, rows.company_currency,
            rows.bucket, rows.bucket_sequence]
        # Each line is in one row: the smallest line id identifies the row
        return rows.select(Min(rows.line).as_('id'),
            *(d.as_(d.name) for d in dimensions),
            Count(rows.invoice, distinct=True).as_('invoice_count'),
            Sum(rows.amount).as_('amount'),
            group_by=dimensions)

    @classmethod
    def _row_lines(cls):
        """The query of (invoice, row) of the lines that make the rows: the
        table_query groups a query of its lines (one row a line, with its
        line and its invoice) by its dimensions and identifies a row by the
        smallest line of its group"""
        query = cls.table_query()
        lines, = query.from_
        row = Min(lines.line, window=Window(list(query.group_by)))
        return lines.select(lines.invoice.as_('invoice'), row.as_('row'),
            where=query.where)

    @classmethod
    def get_buckets(cls):
        "The buckets of days past due of the company of the context"
        company_id, _ = _context()
        return [(k, s) for k, s, _ in aging_buckets(company_id)]

    @classmethod
    def fields_view_get(cls, view_id=None, view_type='form', level=None):
        result = super().fields_view_get(
            view_id=view_id, view_type=view_type, level=level)
        if view_type == 'graph' and BY_BUCKET in result['arch']:
            result = dict(result, arch=cls._graph_by_bucket(result['arch']))
        return result

    @classmethod
    def _graph_by_bucket(cls, arch):
        """The arch of a graph with each y field keyed BY_BUCKET drawn for
        each bucket of the company of the context"""
        company_id, _ = _context()
        return graph_series(arch, BY_BUCKET,
            [(key, label, Eval('bucket', '') == key)
                for key, label, _ in aging_buckets(company_id)])

    @classmethod
    def _segments(cls, company_id):
        """The query of (party, segment) of the parties: their active
        segment for the company, else the active default segment of the
        company, as Party.dunning_segments_of"""
        pool = Pool()
        Party = pool.get('party.party')
        PartySegment = pool.get('party.party.dunning_segment')
        Segment = pool.get('account.invoice.dunning.segment')
        ConfigurationDunning = pool.get(
            'account.configuration.invoice_dunning')
        party = Party.__table__()
        party_segment = PartySegment.__table__()
        own_segment = Segment.__table__()
        config = ConfigurationDunning.__table__()
        default_segment = Segment.__table__()
        own = (party_segment
            .join(own_segment,
                condition=own_segment.id == party_segment.dunning_segment)
            .select(party_segment.party.as_('party'),
                Max(own_segment.id).as_('segment'),
                where=(party_segment.company == company_id)
                & (own_segment.active == Literal(True)),
                group_by=[party_segment.party]))
        default = (config
            .join(default_segment,
                condition=default_segment.id
                == config.default_dunning_segment)
            .select(Max(default_segment.id).as_('segment'),
                where=(config.company == company_id)
                & (default_segment.active == Literal(True))))
        return (party
            .join(own, 'LEFT', condition=own.party == party.id)
            .join(default, 'LEFT', condition=Literal(True))
            .select(party.id.as_('party'),
                Coalesce(own.segment, default.segment).as_('segment')))

    @classmethod
    def _levels(cls, company_id, date):
        """The query of (invoice, level) of the level of the latest reminder
        processed on or before date of the invoices"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        same_day = Dunning.__table__()
        latest = Dunning.__table__()
        where = ((dunning.state == 'done') & (dunning.date <= date)
            & (dunning.company == company_id))
        last_date = dunning.select(dunning.invoice.as_('invoice'),
            Max(dunning.date).as_('date'),
            where=where, group_by=[dunning.invoice])
        last_id = (same_day
            .join(last_date, condition=(last_date.invoice == same_day.invoice)
                & (last_date.date == same_day.date))
            .select(same_day.invoice.as_('invoice'),
                Max(same_day.id).as_('id'),
                where=same_day.state == 'done',
                group_by=[same_day.invoice]))
        return (latest
            .join(last_id, condition=last_id.id == latest.id)
            .select(latest.invoice.as_('invoice'),
                latest.level.as_('level')))

    @classmethod
    def _professionals(cls):
        "The query of the parties with a tax identifier, as Party"
        pool = Pool()
        Party = pool.get('party.party')
        Identifier = pool.get('party.identifier')
        identifier = Identifier.__table__()
        return identifier.select(identifier.party.as_('party'),
            where=identifier.type.in_(list(Party.tax_identifier_types())),
            group_by=[identifier.party])


def month_ends(date):
    """[(first day, end, start of sales)] of the DSO_MONTHS months up to the
    month of date: a month ends on its last day, the month of date on date;
    its sales are those after the start, in the SALES_MONTHS months that end
    with it"""
    result = []
    for months in range(DSO_MONTHS - 1, -1, -1):
        first = date.replace(day=1) - relativedelta(months=months)
        end = min(first + relativedelta(day=31), date)
        start = end - relativedelta(months=SALES_MONTHS)
        if (end + dt.timedelta(days=1)).day == 1:
            start += relativedelta(day=31)
        result.append((first, end, start))
    return result


def month_bounds(date):
    "The ends of the months of date and of their sales, in order"
    return sorted({d for _, end, start in month_ends(date)
            for d in (end, start)})


class DSO(ModelSQL, ModelView):
    """The days sales outstanding of the company at the end of each of the
    last twelve months at the date of the context"""
    __name__ = 'account.invoice.dunning.analysis.dso'
    __string__ = "Invoice Dunning DSO"
    company = fields.Many2One('company.company', "Company")
    month = fields.Date("Month", help="The first day of the month.")
    date = fields.Date("Date",
        help="The end of the month, or the date of the context for its "
        "month.")
    # The figures lazy: a search reads the months alone (the database
    # leaves their queries out), a read computes them once
    receivable_amount = Monetary("Receivables", currency='currency',
        digits='currency', loading='lazy',
        help="The receivables of the customer invoices open at the date.")
    sales_amount = Monetary("Sales", currency='currency', digits='currency',
        loading='lazy', help="The customer invoices, taxes included, of the "
        "three months up to the date.")
    dso = fields.Float("DSO", digits=(16, 1), loading='lazy',
        help="Days sales outstanding: the receivables over the sales of "
        "the three months, times 91.25 days.")
    currency = fields.Many2One('currency.currency', "Currency")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = Company.__table__()
        company_id, date = _context()
        months = cls._months(date)
        activity = cls._activity(company_id, months)
        receivable, sale, dso = cls._figures(activity)
        return (months
            .join(company, condition=company.id == company_id)
            .join(activity, 'LEFT', condition=activity.month == months.id)
            .select(months.id.as_('id'), company.id.as_('company'),
                months.month.as_('month'), months.date.as_('date'),
                receivable.as_('receivable_amount'),
                sale.as_('sales_amount'), dso.as_('dso'),
                company.currency.as_('currency')))

    @classmethod
    def _figures(cls, activity):
        """The receivables, the sales and the DSO of the rows of the query
        activity"""
        receivable = Coalesce(activity.receivable, 0)
        sale = Coalesce(activity.sales, 0)
        real = fields.Float("Real").sql_type().base
        dso = Cast(receivable, real) * float(SALES_DAYS) / Cast(sale, real)
        return receivable, sale, Case((sale > 0, dso), else_=Null)

    @classmethod
    def _activity(cls, company_id, months, segments=None):
        """The query of (month, receivable, sales) of the months: the
        receivables open at the date of the month and the customer invoices
        dated after the start of the month and up to its date (the amount of
        their receivable lines, taxes included), in the company currency;
        or of (month, segment, receivable, sales) by the segment of the
        query segments of (party, segment) of their party (0 for none), the
        months of a segment with receivables or sales

        The lines read once, counted by the bounds of their dates: the
        lines of the move of an invoice are its sales."""
        bounds = month_bounds(_context()[1])
        lines = Union(*receivable_queries(company_id, segments=segments),
            all_=True)
        columns = [
            bound_index(lines.posted, bounds).as_('posted'),
            bound_index(lines.reconciled, bounds).as_('reconciled'),
            bound_index(lines.sold, bounds).as_('sold'),
            lines.amount.as_('amount')]
        if segments is not None:
            columns.append(lines.segment.as_('segment'))
        # Grouped outside: PostgreSQL groups by an expression with
        # parameters only when they are the same parameters
        rows = lines.select(*columns)
        keys = [rows.posted, rows.reconciled, rows.sold]
        if segments is not None:
            keys.append(rows.segment)
        grouped = rows.select(*keys, Sum(rows.amount).as_('amount'),
            group_by=keys)
        open_ = ((grouped.posted <= months.end_bound)
            & ((grouped.reconciled == Null)
                | (grouped.reconciled > months.end_bound)))
        sold = ((grouped.sold > months.start_bound)
            & (grouped.sold <= months.end_bound))
        keys = [months.id]
        if segments is not None:
            keys.append(grouped.segment)
        return months.join(grouped, condition=open_ | sold).select(
            months.id.as_('month'), *keys[1:],
            Sum(Case((open_, grouped.amount))).as_('receivable'),
            Sum(Case((sold, grouped.amount))).as_('sales'),
            group_by=keys)

    @classmethod
    def _months(cls, date):
        """The query of (id, month, date, end_bound, start_bound) of
        month_ends of date, the bounds as indexes in month_bounds"""
        index = {d: i for i, d in enumerate(month_bounds(date), 1)}
        return Union(*(Select([Literal(i).as_('id'),
                        Literal(first).as_('month'),
                        Literal(end).as_('date'),
                        Literal(index[end]).as_('end_bound'),
                        Literal(index[start]).as_('start_bound')])
                for i, (first, end, start) in enumerate(
                    month_ends(date), 1)),
            all_=True)
