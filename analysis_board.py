# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The graphs of the Overdue Analysis (alone and in the Dunning Board): the
label of the age on their axis and the age read with the series of the
graph by segment."""
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

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
