# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The graphs of the Overdue Analysis (alone and in the Dunning Board): the
label of the age on their axis, the age read with the series of the graph
by segment, and the customer invoices behind a bar, opened by a click on it
(keyword graph_open) or with Relate > Invoices on rows of the list."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction
from trytond.wizard import StateAction, Wizard

from .analysis import BY_BUCKET


def bucket_labels():
    "{key: label} of the ages of the aging, in the language of the user"
    Aging = Pool().get('account.invoice.dunning.analysis.aging')
    return fields.Selection.get_selection(Aging, 'bucket', None)


class Aging(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.analysis.aging'
    # The web client shows the key of a selection on the axis of a graph
    bucket_name = fields.Function(fields.Char("Age"), 'get_bucket_name')

    @classmethod
    def get_bucket_name(cls, rows, name):
        labels = bucket_labels()
        return {r.id: labels.get(r.bucket, r.bucket) for r in rows}

    @classmethod
    def view_attributes(cls):
        # A graph reads only the fields of its view (and their depends):
        # the field drawn for each age (Aging.fields_view_get gives each
        # copy the domain of its age) needs the bucket read with the graph
        return super().view_attributes() + [
            ('/graph/y/field[@key="%s"]' % BY_BUCKET, 'domain',
                Eval('bucket', '') != '', ['bucket']),
            ]


def aging_invoices(row_ids):
    """The ids of the invoices of the open lines that make the rows of
    row_ids of the aging, at the company and the date of the context (the
    lines of the rows: Aging._row_lines)"""
    pool = Pool()
    Aging = pool.get('account.invoice.dunning.analysis.aging')
    cursor = Transaction().connection.cursor()
    keyed = Aging._row_lines()
    invoice_ids = set()
    for sub_ids in grouped_slice(row_ids):
        cursor.execute(*keyed.select(keyed.invoice,
                where=reduce_ids(keyed.row, list(sub_ids)),
                group_by=[keyed.invoice]))
        invoice_ids.update(i for i, in cursor)
    return sorted(invoice_ids)


class AgingOpenInvoices(Wizard):
    "Open the Invoices of the Overdue Analysis"
    __name__ = 'account.invoice.dunning.analysis.aging.open_invoices'
    start_state = 'open_'
    open_ = StateAction('account_invoice.act_invoice_out_form')

    def do_open_(self, action):
        rows = self.records
        action['pyson_domain'] = PYSONEncoder().encode([
                ('id', 'in', aging_invoices([r.id for r in rows])),
                ])
        # All the invoices at once, not the tabs of their states
        action['domains'] = []
        names = self._names(rows)
        if names:
            action['name'] += ' (%s)' % ', '.join(names)
        return action, {}

    @classmethod
    def _names(cls, rows):
        """The age shared by the rows (a bar of the graph by age), else
        their segment (a bar of the graph by segment)"""
        buckets = {r.bucket for r in rows}
        if len(buckets) == 1:
            return [r.bucket_name for r in rows[:1]]
        segments = {r.segment for r in rows}
        if len(segments) == 1:
            return [s.rec_name for s in segments if s]
        return []
