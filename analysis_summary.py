# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The aging by segment and age only, for the graphs of the Dunning Board:
with the context key SUMMARY, the rows of the Overdue Analysis (by party,
segment, level, customer type, currency and age) are those of the segments
and ages alone, the other columns NULL.

A few rows whatever the number of customers: the client reads at most its
limit of records (1,000 by default), which cut the graphs of the board past
a thousand rows by party and age; and the rows by party cost the server a
record each. The query leaves out the parties, the levels reached and the
tax identifiers that these rows do not show.

The rows do not depend on the receivables: a row for each age of each
segment of the customers (their own segments and the default one, or none
without a default), its figures (invoice_count, amount: lazy) 0 when no
line is open there. A search (which reads the rows alone, the figures left
out) costs nothing on PostgreSQL, which drops the join of the figures; a
read computes them once, for all its rows."""
from sql import Cast, Literal, Null, Select, Union
from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce, NullIf
from sql.operators import Exists

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .analysis import _context, aging_buckets, bucket_columns
from .analysis_lines import allocated_lines

# The context key of the rows by segment and age (the board's actions)
SUMMARY = 'dunning_aging_summary'
# The columns of the rows left NULL by the summary
DETAILS = ['party', 'level', 'customer_type', 'currency']


def row_id(segment, sequence, buckets):
    """The id of the row of the age of sequence of the segment (0 for none)
    among the buckets"""
    return segment * len(buckets) + sequence + 1


class Aging(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.analysis.aging'

    @classmethod
    def table_query(cls):
        if not Transaction().context.get(SUMMARY):
            return super().table_query()
        pool = Pool()
        Company = pool.get('company.company')
        company = Company.__table__()
        company_id, date = _context()
        buckets = aging_buckets(company_id)
        keys = cls._summary_segments(company_id)
        ages = Union(*(Select([Literal(s).as_('sequence'),
                        Literal(k).as_('bucket')])
                for s, (k, _, _) in enumerate(buckets)), all_=True)
        # The amounts and the invoices apart: a read of the amounts alone
        # (the graphs) does not group the lines by invoice
        amounts = cls._summary_amounts(company_id, date)
        invoices = cls._summary_invoices(company_id, date)
        counts = invoices.select(invoices.segment.as_('segment'),
            invoices.bucket_sequence.as_('bucket_sequence'),
            Count(invoices.invoice).as_('invoice_count'),
            group_by=[invoices.segment, invoices.bucket_sequence])
        return (keys
            .join(ages, condition=Literal(True))
            .join(company, condition=company.id == company_id)
            .join(amounts, 'LEFT',
                condition=(amounts.segment == keys.segment)
                & (amounts.bucket_sequence == ages.sequence))
            .join(counts, 'LEFT',
                condition=(counts.segment == keys.segment)
                & (counts.bucket_sequence == ages.sequence))
            .select(row_id(keys.segment, ages.sequence, buckets).as_('id'),
                company.id.as_('company'),
                NullIf(keys.segment, 0).as_('segment'),
                *(Cast(Null, getattr(cls, n).sql_type().base).as_(n)
                    for n in DETAILS),
                company.currency.as_('company_currency'),
                ages.bucket.as_('bucket'),
                ages.sequence.as_('bucket_sequence'),
                Coalesce(counts.invoice_count, 0).as_('invoice_count'),
                Coalesce(amounts.amount, 0).as_('amount')))

    @classmethod
    def _row_lines(cls):
        if not Transaction().context.get(SUMMARY):
            return super()._row_lines()
        company_id, date = _context()
        invoices = cls._summary_invoices(company_id, date)
        return invoices.select(invoices.invoice.as_('invoice'),
            row_id(invoices.segment, invoices.bucket_sequence,
                aging_buckets(company_id)).as_('row'))

    @classmethod
    def _summary_lines(cls, company_id, date):
        """The query of (invoice, segment, bucket_sequence, amount) of the
        open lines (their amount not 0) of the rows by segment and age, the
        segment of the customer (0 for none)"""
        lines = allocated_lines(company_id, date, cls._segments(company_id))
        sequence, _ = bucket_columns(
            aging_buckets(company_id), lines.due_date, date)
        return lines.select(lines.invoice.as_('invoice'),
            lines.segment.as_('segment'), sequence.as_('bucket_sequence'),
            lines.amount.as_('amount'),
            where=lines.amount != 0)

    @classmethod
    def _summary_amounts(cls, company_id, date):
        """The query of (segment, bucket_sequence, amount) of the amounts
        open by the segment of the customer (0 for none) and age"""
        lines = cls._summary_lines(company_id, date)
        keys = [lines.segment, lines.bucket_sequence]
        return lines.select(*keys, Sum(lines.amount).as_('amount'),
            group_by=keys)

    @classmethod
    def _summary_invoices(cls, company_id, date):
        """The query of (invoice, segment, bucket_sequence) of the invoices
        of the rows by segment and age: each invoice with open lines in an
        age, the segment of its customer (0 for none)

        Grouped by invoice first, then by segment: the invoices of a row
        are counted without a COUNT DISTINCT, which sorts all the lines."""
        lines = cls._summary_lines(company_id, date)
        keys = [lines.invoice, lines.segment, lines.bucket_sequence]
        return lines.select(*keys, group_by=keys)

    @classmethod
    def _summary_segments(cls, company_id):
        """The query of the segments of the rows: the active segments of the
        parties for the company and its active default segment, 0 (none)
        without one (as _segments)"""
        pool = Pool()
        PartySegment = pool.get('party.party.dunning_segment')
        Segment = pool.get('account.invoice.dunning.segment')
        ConfigurationDunning = pool.get(
            'account.configuration.invoice_dunning')
        party_segment = PartySegment.__table__()
        own_segment = Segment.__table__()
        config = ConfigurationDunning.__table__()
        default_segment = Segment.__table__()
        own = own_segment.select(own_segment.id.as_('segment'),
            where=own_segment.id.in_(party_segment.select(
                    party_segment.dunning_segment,
                    where=party_segment.company == company_id))
            & (own_segment.active == Literal(True)))
        default = (config
            .join(default_segment,
                condition=default_segment.id
                == config.default_dunning_segment)
            .select(default_segment.id.as_('segment'),
                where=(config.company == company_id)
                & (default_segment.active == Literal(True))))
        none = Select([Literal(0).as_('segment')], where=~Exists(default))
        keys = Union(own, default, none)
        return keys.select(keys.segment.as_('segment'))
