# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"The wizard that invoices the late-payment penalties of invoices."
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import PYSONEncoder
from trytond.wizard import Button, StateAction, StateView, Wizard


class InvoicePenaltiesStart(ModelView):
    "Invoice Late-Payment Penalties"
    __name__ = 'account.invoice.dunning.penalty.invoice.start'
    date = fields.Date("Date", required=True,
        help="The date up to which interest is invoiced.")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class InvoicePenalties(Wizard):
    "Invoice Late-Payment Penalties"
    __name__ = 'account.invoice.dunning.penalty.invoice'
    start = StateView('account.invoice.dunning.penalty.invoice.start',
        'account_invoice_dunning.penalty_invoice_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Invoice", 'invoice', 'tryton-ok', default=True),
            ])
    invoice = StateAction('account_invoice.act_invoice_out_form')

    def _late_invoices(self):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        records = self.records
        if self.model.__name__ == Dunning.__name__:
            return list({d.invoice for d in records})
        return list(records)

    def do_invoice(self, action):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = Invoice.invoice_dunning_penalties(
            self._late_invoices(), self.start.date)
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [i.id for i in invoices])])
        return action, {}
