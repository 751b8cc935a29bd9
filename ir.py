# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"The scheduled tasks of the module and the context of its email templates."
from trytond.pool import Pool, PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('account.invoice.dunning|dunning_cron',
                    "Generate and Process Invoice Dunnings"),
                ('account.invoice.dunning.dispatch|letter_cron',
                    "Archive Missing Invoice Dunning Letters"),
                ('party.party|dunning_segment_cron',
                    "Classify Parties in Dunning Segments"),
                ('account.invoice.dunning.rate|update_rates_cron',
                    "Update Reference Interest Rates"),
                ('account.invoice.dunning.dispatch|email_cron',
                    "Send the Reminder Emails"),
                ])


class EmailTemplate(metaclass=PoolMeta):
    __name__ = 'ir.email.template'

    def get_context(self, record):
        """The templates of the reminder emails also get the data printed
        on the letter (``letter``): the invoices, amounts and deadline,
        formatted in the language of the customer"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        context = super().get_context(record)
        if self.model and self.model.name == Dispatch.__name__:
            context['letter'] = Letter.get_letter(Dispatch(record.id))
        return context
