# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"The aging of a party's open receivables, on its Payment Behaviour tab."
from collections import defaultdict

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

AGING = 'account.invoice.dunning.analysis.aging'


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_aging = fields.Function(fields.Many2Many(
            AGING, None, None, "Aging",
            help="The receivables of the customer open today, by age and "
            "level, as the Overdue Analysis shows them."),
        'get_dunning_aging')

    @classmethod
    def get_dunning_aging(cls, parties, name):
        pool = Pool()
        Aging = pool.get(AGING)
        ModelAccess = pool.get('ir.model.access')
        result = {p.id: [] for p in parties}
        # Only those who may read the analysis see it
        if not ModelAccess.check(AGING, 'read', raise_exception=False):
            return result
        rows = defaultdict(list)
        for row in Aging.search([('party', 'in', list(result))]):
            rows[row.party.id].append(row.id)
        result.update(rows)
        return result
