# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The wizard that proposes a payment plan for the invoices selected, or for
all the open invoices of a customer."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import PlanError
from .plan import MAX_INSTALLMENTS

# The terms the wizard asks, as the plan names them
TERMS = ['number', 'first_date', 'interval', 'minimum_installment',
    'fee_amount', 'interest_rate', 'grace_days']


class CreatePlanStart(ModelView):
    "Propose a Payment Plan"
    __name__ = 'account.invoice.dunning.plan.create.start'
    __string__ = 'Propose a Payment Plan'
    party = fields.Many2One('party.party', "Party", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    invoices = fields.Many2Many(
        'account.invoice', None, None, "Invoices", readonly=True)
    remaining = Monetary(
        "Left to Pay", currency='currency', digits='currency', readonly=True)
    number = fields.Integer(
        "Installments", required=True,
        domain=[('number', '>', 0), ('number', '<=', MAX_INSTALLMENTS)])
    first_date = fields.Date("First Installment", required=True)
    interval = fields.Integer(
        "Months Between Installments", required=True,
        domain=[('interval', '>', 0), ('interval', '<=', 12)])
    minimum_installment = Monetary(
        "Minimum Installment", currency='currency', digits='currency',
        domain=['OR',
            ('minimum_installment', '=', None),
            ('minimum_installment', '>=', 0),
            ])
    fee_amount = Monetary(
        "Fees", currency='currency', digits='currency', required=True,
        domain=[('fee_amount', '>=', 0)])
    interest_rate = fields.Numeric(
        "Interest Rate", digits=(16, 4), required=True,
        domain=[('interest_rate', '>=', 0), ('interest_rate', '<=', 100)],
        help="Annual, in percent.")
    grace_days = fields.Integer(
        "Grace Days", required=True,
        domain=[('grace_days', '>=', 0), ('grace_days', '<=', 365)])


class CreatePlan(Wizard):
    "Propose a Payment Plan"
    __name__ = 'account.invoice.dunning.plan.create'
    start = StateView('account.invoice.dunning.plan.create.start',
        'account_invoice_dunning.plan_create_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Propose", 'propose', 'tryton-ok', default=True),
            ])
    propose = StateAction('account_invoice_dunning.act_plan_form')

    def _invoices(self):
        """The posted customer invoices the plan would pay: those selected,
        or those of the parties selected, with something left to pay"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        if self.model.__name__ == Party.__name__:
            invoices = Invoice.search([
                    ('party', 'in', [p.id for p in self.records]),
                    ('type', '=', 'out'),
                    ('state', '=', 'posted'),
                    ])
        else:
            invoices = [i for i in self.records
                if i.type == 'out' and i.state == 'posted']
        if len({(i.party, i.currency) for i in invoices}) > 1:
            raise PlanError(gettext(
                    'account_invoice_dunning.msg_plan_create_parties'))
        return invoices

    def _remaining(self, invoices):
        "Return {invoice id: amount left to pay today, disputed or not}"
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        if not invoices:
            return {}
        figures = Invoice.dunning_figures(Date.today(),
            list({i.company.id for i in invoices}),
            invoice_ids=[i.id for i in invoices], disputes=False)
        return {i: f.remaining for i, f in figures.items()}

    def default_start(self, fields):
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        invoices = self._invoices()
        remaining = self._remaining(invoices)
        invoices = [i for i in invoices if i.id in remaining]
        if not invoices:
            party = (self.records[0].rec_name if self.records else '')
            raise PlanError(gettext(
                    'account_invoice_dunning.msg_plan_create_no_invoice',
                    party=party))
        values = {n: getattr(Plan, 'default_%s' % n)()
            for n in TERMS if hasattr(Plan, 'default_%s' % n)}
        values.update({
                'party': invoices[0].party.id,
                'currency': invoices[0].currency.id,
                'invoices': [i.id for i in invoices],
                'remaining': sum(remaining.values(), Decimal(0)),
                })
        return values

    def do_propose(self, action):
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        invoices = self.start.invoices
        plan = Plan(
            company=invoices[0].company,
            party=self.start.party,
            currency=self.start.currency,
            invoices=invoices,
            **{n: getattr(self.start, n) for n in TERMS})
        plan.save()
        Plan.propose([plan])
        action['res_id'] = [plan.id]
        action['views'].reverse()
        return action, {}
