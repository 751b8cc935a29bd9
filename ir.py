# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"The scheduled tasks of the module."
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('account.invoice.dunning|dunning_cron',
                    "Generate and Process Invoice Dunnings"),
                ('account.invoice.dunning|letter_cron',
                    "Archive Missing Invoice Dunning Letters"),
                ('party.party|dunning_segment_cron',
                    "Classify Parties in Dunning Segments"),
                ('account.invoice.dunning.rate|update_rates_cron',
                    "Update Reference Interest Rates"),
                ])
