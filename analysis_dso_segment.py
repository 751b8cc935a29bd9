# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The days sales outstanding of each segment of customers, month by month:
the DSO of analysis.py computed for the parties of each segment."""

from sql.conditionals import NullIf

from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval

from .analysis import DSO, _context, graph_series

# The key of the y fields of a graph of the DSO drawn for each segment
BY_SEGMENT = 'by_segment'
# The ids of the rows: the month plus the segment times MONTH_IDS
MONTH_IDS = 100


class DSOSegment(DSO):
    """The days sales outstanding of the customers of each segment at the
    end of each of the last twelve months at the date of the context"""
    __name__ = 'account.invoice.dunning.analysis.dso.segment'
    __string__ = "Invoice Dunning DSO by Segment"
    segment = fields.Many2One('account.invoice.dunning.segment', "Segment",
        help="The segment of the customers today.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('segment', 'ASC'))

    @classmethod
    def table_query(cls):
        pool = Pool()
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        Company = pool.get('company.company')
        company = Company.__table__()
        company_id, date = _context()
        months = cls._months(date)
        segments = Aging._segments(company_id)
        activity = cls._activity(company_id, months, segments)
        receivable, sale, dso = cls._figures(activity)
        return (months
            .join(activity, condition=activity.month == months.id)
            .join(company, condition=company.id == company_id)
            .select((activity.segment * MONTH_IDS + months.id).as_('id'),
                company.id.as_('company'),
                NullIf(activity.segment, 0).as_('segment'),
                months.month.as_('month'), months.date.as_('date'),
                receivable.as_('receivable_amount'),
                sale.as_('sales_amount'), dso.as_('dso'),
                company.currency.as_('currency')))

    @classmethod
    def fields_view_get(cls, view_id=None, view_type='form', level=None):
        result = super().fields_view_get(
            view_id=view_id, view_type=view_type, level=level)
        if view_type == 'graph' and BY_SEGMENT in result['arch']:
            result = dict(result, arch=cls._graph_by_segment(result['arch']))
        return result

    @classmethod
    def _graph_by_segment(cls, arch):
        "The arch of a graph with a line for each active segment"
        pool = Pool()
        Segment = pool.get('account.invoice.dunning.segment')
        return graph_series(arch, BY_SEGMENT,
            [(s.id, s.rec_name, Eval('segment', -1) == s.id)
                for s in Segment.search([])])
