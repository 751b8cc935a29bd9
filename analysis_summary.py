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
tax identifiers that these rows do not show."""
from sql import Cast, Null
from sql.aggregate import Count, Min, Sum

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .analysis import _context, aging_buckets, bucket_columns
from .analysis_lines import allocated_lines

# The context key of the rows by segment and age (the board's actions)
SUMMARY = 'dunning_aging_summary'
# The columns of the rows left NULL by the summary
DETAILS = ['party', 'level', 'customer_type', 'currency']


class Aging(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.analysis.aging'

    @classmethod
    def table_query(cls):
        if not Transaction().context.get(SUMMARY):
            return super().table_query()
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Company = pool.get('company.company')
        company_id, date = _context()
        lines = allocated_lines(company_id, date)
        invoice = Invoice.__table__()
        company = Company.__table__()
        segments = cls._segments(company_id)
        sequence, bucket = bucket_columns(
            aging_buckets(company_id), lines.due_date, date)
        # As the rows of the aging, with its NULL columns
        rows = (lines
            .join(invoice, condition=invoice.id == lines.invoice)
            .join(company, condition=company.id == invoice.company)
            .join(segments, 'LEFT',
                condition=segments.party == invoice.party)
            .select(lines.line.as_('line'), lines.invoice.as_('invoice'),
                invoice.company.as_('company'),
                segments.segment.as_('segment'),
                *(Cast(Null, getattr(cls, n).sql_type().base).as_(n)
                    for n in DETAILS),
                company.currency.as_('company_currency'),
                bucket.as_('bucket'), sequence.as_('bucket_sequence'),
                lines.amount.as_('amount'),
                where=lines.amount != 0))
        dimensions = [rows.company, rows.segment, rows.company_currency,
            rows.bucket, rows.bucket_sequence]
        # Each line is in one row: the smallest line id identifies the row
        return rows.select(Min(rows.line).as_('id'),
            *(d.as_(d.name) for d in dimensions),
            *(getattr(rows, n).as_(n) for n in DETAILS),
            Count(rows.invoice, distinct=True).as_('invoice_count'),
            Sum(rows.amount).as_('amount'),
            group_by=dimensions + [getattr(rows, n) for n in DETAILS])
