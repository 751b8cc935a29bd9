# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Payment plans: a customer agrees to pay some of its invoices in
installments. The plan reschedules their receivable lines through Tryton's
own rescheduling, charges the fees and interest agreed on an invoice of its
own, and suspends the ladder while the installments are paid; a missed
installment is reminded, and after a grace the plan is broken: the whole
remaining amount falls due and the ladder resumes at once."""
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import RelationIndexesMixin, context_company_currency
from .exceptions import PlanError, PlanValidationError
from .plan_accounting import PlanAccountingMixin
from .plan_settlement import PlanSettlementMixin

STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('completed', "Completed"),
    ('broken', "Broken"),
    ('cancelled', "Cancelled"),
    ]
# The most installments a plan proposes
MAX_INSTALLMENTS = 120
_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }


class Plan(PlanSettlementMixin, PlanAccountingMixin, Workflow, ModelSQL,
        ModelView):
    "A customer's agreement to pay invoices in installments"
    __name__ = 'account.invoice.dunning.plan'
    __string__ = 'Payment Plan'
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        states={
            'readonly': Eval('id', -1) >= 0,
            },
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, states=_DRAFT)
    invoices = fields.Many2Many(
        'account.invoice.dunning.plan-account.invoice', 'plan', 'invoice',
        "Invoices", required=True, states=_DRAFT,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ('party', '=', Eval('party', -1)),
            ('currency', '=', Eval('currency', -1)),
            ('state', '=', 'posted'),
            ],
        help="The invoices paid by the installments; once the plan runs, "
        "the invoice of its fees and interest too.")
    number = fields.Integer(
        "Installments", required=True, states=_DRAFT,
        domain=[('number', '>', 0), ('number', '<=', MAX_INSTALLMENTS)],
        help="The number of installments proposed.")
    first_date = fields.Date(
        "First Installment", required=True, states=_DRAFT)
    interval = fields.Integer(
        "Months Between Installments", required=True, states=_DRAFT,
        domain=[('interval', '>', 0), ('interval', '<=', 12)])
    minimum_installment = Monetary(
        "Minimum Installment", currency='currency', digits='currency',
        states=_DRAFT,
        domain=['OR',
            ('minimum_installment', '=', None),
            ('minimum_installment', '>=', 0),
            ],
        help="Fewer installments are proposed when they would be smaller.")
    fee_amount = Monetary(
        "Fees", currency='currency', digits='currency', required=True,
        states=_DRAFT,
        domain=[('fee_amount', '>=', 0)],
        help="The fixed fees agreed, charged with the first installment.")
    interest_rate = fields.Numeric(
        "Interest Rate", digits=(16, 4), required=True, states=_DRAFT,
        domain=[('interest_rate', '>=', 0), ('interest_rate', '<=', 100)],
        help="The annual rate in percent of the interest agreed, simple, "
        "on the amount still due between installments (365 days a year).")
    grace_days = fields.Integer(
        "Grace Days", required=True, states=_DRAFT,
        domain=[('grace_days', '>=', 0), ('grace_days', '<=', 365)],
        help="Days after an installment left unpaid before the plan is "
        "broken and the whole remaining amount falls due.")
    installments = fields.One2Many(
        'account.invoice.dunning.plan.installment', 'plan', "Installments",
        states=_DRAFT)
    principal_amount = fields.Function(Monetary(
            "Principal", currency='currency', digits='currency'),
        'get_amounts')
    charges_amount = fields.Function(Monetary(
            "Fees and Interest", currency='currency', digits='currency'),
        'get_amounts')
    total_amount = fields.Function(Monetary(
            "Total", currency='currency', digits='currency'),
        'get_amounts')
    agreed_on = fields.Date(
        "Agreed On", readonly=True,
        help="The day the plan started: its invoices were rescheduled.")
    charges_invoice = fields.Many2One(
        'account.invoice', "Charges Invoice", readonly=True,
        ondelete='RESTRICT',
        help="The invoice of the fees and interest agreed.")
    settled_on = fields.Date(
        "Settled On", readonly=True,
        help="The day the plan was found completed or broken.")
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'running'),
            ('draft', 'cancelled'),
            ('running', 'cancelled'),
            }
        cls._buttons.update({
                'propose': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'start': {
                    'invisible': Eval('state') != 'draft',
                    'readonly': ~Eval('installments', []),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'installments'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'running']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_number(cls):
        return 3

    @classmethod
    def default_interval(cls):
        return 1

    @classmethod
    def default_first_date(cls):
        return Pool().get('ir.date').today() + relativedelta(months=1)

    @classmethod
    def default_fee_amount(cls):
        return Decimal(0)

    @classmethod
    def default_interest_rate(cls):
        return Decimal(0)

    @classmethod
    def default_grace_days(cls):
        return 15

    @classmethod
    def default_currency(cls):
        return context_company_currency()

    def get_rec_name(self, name):
        return '%s - %s' % (self.party.rec_name, self.first_date)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('party.rec_name',) + tuple(clause[1:])]

    @classmethod
    def get_amounts(cls, plans, names):
        result = {n: {} for n in names}
        for plan in plans:
            principal = sum((i.principal or 0 for i in plan.installments),
                Decimal(0))
            charges = sum((i.charges or 0 for i in plan.installments),
                Decimal(0))
            values = {
                'principal_amount': principal,
                'charges_amount': charges,
                'total_amount': principal + charges,
                }
            for name in names:
                result[name][plan.id] = values[name]
        return result

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        cls.check_first_date(plans, field_names)

    @classmethod
    def check_first_date(cls, plans, field_names=None):
        "A draft plan's first installment is not before the day"
        if field_names and 'first_date' not in field_names:
            return
        today = Pool().get('ir.date').today()
        for plan in plans:
            if plan.state == 'draft' and plan.first_date < today:
                raise PlanValidationError(gettext(
                        'account_invoice_dunning.msg_plan_first_date',
                        plan=plan.rec_name))

    @classmethod
    def check_modification(cls, mode, plans, values=None, external=False):
        super().check_modification(
            mode, plans, values=values, external=external)
        if mode == 'delete':
            for plan in plans:
                if plan.state != 'draft':
                    # Started, a plan is history
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_plan_delete',
                            plan=plan.rec_name))
        elif mode == 'write' and external:
            for plan in plans:
                if plan.state != 'draft' and set(values) - {'note'}:
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_plan_modify',
                            plan=plan.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # What a plan became is the workflow's, never given
            for name in ['agreed_on', 'charges_invoice', 'settled_on']:
                values.pop(name, None)
            values['state'] = 'draft'
        return values

    @classmethod
    def copy(cls, plans, default=None):
        default = default.copy() if default is not None else {}
        for name in ['agreed_on', 'charges_invoice', 'settled_on']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        default.setdefault('installments', None)
        return super().copy(plans, default=default)

    @classmethod
    @ModelView.button
    def propose(cls, plans):
        """Replace the installments of the draft plans by those their terms
        give for what is left to pay of their invoices today"""
        pool = Pool()
        Date = pool.get('ir.date')
        Installment = pool.get('account.invoice.dunning.plan.installment')
        Installment.delete([i for p in plans for i in p.installments])
        to_create = []
        for plan in plans:
            with Transaction().set_context(company=plan.company.id):
                today = Date.today()
            principal = sum(plan.remaining(today).values(), Decimal(0))
            if principal <= 0:
                raise PlanError(gettext(
                        'account_invoice_dunning.msg_plan_nothing_to_pay',
                        plan=plan.rec_name))
            for date, amount, charges in plan.schedule(principal, today):
                to_create.append({
                        'plan': plan.id,
                        'date': date,
                        'principal': amount,
                        'charges': charges,
                        })
        Installment.create(to_create)

    def remaining(self, date):
        "Return {invoice id: amount left to pay on date, disputed or not}"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        figures = Invoice.dunning_figures(date, [self.company.id],
            invoice_ids=[i.id for i in self.invoices], disputes=False)
        return {i: f.remaining for i, f in figures.items()}

    def schedule(self, principal, date):
        """Return the installments [(date, principal, charges)] of the terms
        of the plan agreed on date to pay principal

        Equal installments (the last takes the rounding), fewer when they
        would be below the minimum; the fees with the first one; the
        interest, simple, on what is still due over each period."""
        currency = self.currency
        number = self.number
        if self.minimum_installment:
            number = max(1, min(number,
                    int(principal // self.minimum_installment)))
        base = currency.round(principal / number)
        amounts = [base] * number
        amounts[-1] += principal - base * number
        rate = (self.interest_rate or Decimal(0)) / 100
        result, due, previous = [], principal, date
        for index, amount in enumerate(amounts):
            installment_date = self.first_date + relativedelta(
                months=self.interval * index)
            days = max((installment_date - previous).days, 0)
            charges = currency.round(due * rate * days / 365)
            if index == 0:
                charges += self.fee_amount or 0
            result.append((installment_date, amount, charges))
            due -= amount
            previous = installment_date
        return result

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def start(cls, plans):
        """Start the plans agreed: charge their fees and interest on an
        invoice, reschedule the receivable lines of their invoices on the
        installments and cancel the draft reminders of their invoices"""
        pool = Pool()
        Date = pool.get('ir.date')
        Dunning = pool.get('account.invoice.dunning')
        Exchange = pool.get('account.invoice.dunning.exchange')
        cls.lock()
        cls.check_running(plans)
        planned = {}
        for plan in plans:
            with Transaction().set_context(company=plan.company.id):
                today = Date.today()
            remaining = plan.check_installments(today)
            plan.charges_invoice = plan.charge(today)
            planned[plan.id] = dict(remaining)
            if plan.charges_invoice:
                planned[plan.id][plan.charges_invoice.id] = (
                    plan.charges_invoice.total_amount)
            plan.reschedule(remaining, today)
            plan.agreed_on = today
            if plan.charges_invoice:
                plan.invoices += (plan.charges_invoice,)
        cls.save(plans)
        cls._set_planned_amounts(plans, planned)
        Dunning.cancel(Dunning.search([
                    ('invoice', 'in', [i.id for p in plans
                            for i in p.invoices]),
                    ('state', '=', 'draft'),
                    ]))
        Exchange.log_plans(plans)

    @classmethod
    def _set_planned_amounts(cls, plans, planned):
        """Store what was left to pay of each invoice of the plans when they
        started (planned: {plan id: {invoice id: amount}})"""
        pool = Pool()
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        lines = PlanInvoice.search([('plan', 'in', [p.id for p in plans])])
        args = []
        for line in lines:
            amount = planned[line.plan.id].get(line.invoice.id)
            if amount is not None:
                args.extend([[line], {'amount': amount}])
        if args:
            PlanInvoice.write(*args)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, plans):
        """Withdraw the plans: the ladder resumes on the installments as
        they were rescheduled"""

    @classmethod
    def check_running(cls, plans):
        "An invoice is in one running plan at most"
        pool = Pool()
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        lines = PlanInvoice.search([
                ('invoice', 'in', [i.id for p in plans for i in p.invoices]),
                ('plan.state', '=', 'running'),
                ], limit=1)
        if lines:
            raise PlanError(gettext(
                    'account_invoice_dunning.msg_plan_invoice_running',
                    invoice=lines[0].invoice.rec_name,
                    plan=lines[0].plan.rec_name))

    def check_installments(self, date):
        """Return {invoice id: remaining} of the invoices on date once
        checked that the installments pay exactly that, from date on"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        remaining = self.remaining(date)
        total = sum(remaining.values(), Decimal(0))
        principal = sum((i.principal for i in self.installments), Decimal(0))
        if not self.installments or principal != total:
            lang = Lang.get()
            raise PlanError(gettext(
                    'account_invoice_dunning.msg_plan_amount_changed',
                    plan=self.rec_name,
                    principal=lang.currency(principal, self.currency),
                    remaining=lang.currency(total, self.currency)))
        for installment in self.installments:
            if installment.date < date or installment.principal < 0:
                raise PlanError(gettext(
                        'account_invoice_dunning.msg_plan_installment',
                        plan=self.rec_name,
                        date=Lang.get().strftime(installment.date)))
        return remaining


class Installment(ModelSQL, ModelView):
    "An installment of a payment plan"
    __name__ = 'account.invoice.dunning.plan.installment'
    __string__ = 'Payment Plan Installment'
    plan = fields.Many2One(
        'account.invoice.dunning.plan', "Plan", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    principal = Monetary(
        "Principal", currency='currency', digits='currency', required=True)
    charges = Monetary(
        "Fees and Interest", currency='currency', digits='currency',
        required=True)
    amount = fields.Function(Monetary(
            "Amount", currency='currency', digits='currency'), 'get_amount')
    paid_amount = fields.Function(Monetary(
            "Paid", currency='currency', digits='currency'), 'get_paid')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_charges(cls):
        return Decimal(0)

    @fields.depends('plan', '_parent_plan.currency')
    def on_change_with_currency(self, name=None):
        return self.plan.currency if self.plan else None

    def get_amount(self, name):
        return (self.principal or 0) + (self.charges or 0)

    @classmethod
    def get_paid(cls, installments, name):
        result = {}
        for plan in {i.plan for i in installments}:
            result.update((i.id, a)
                for i, a in plan.installments_paid().items())
        return {i.id: result.get(i.id, Decimal(0)) for i in installments}

    @classmethod
    def check_modification(cls, mode, installments, values=None,
            external=False):
        "The installments of a plan change only while it is a draft"
        super().check_modification(
            mode, installments, values=values, external=external)
        if external or mode == 'delete':
            for installment in installments:
                if installment.plan.state != 'draft':
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_plan_modify',
                            plan=installment.plan.rec_name))


class PlanInvoice(RelationIndexesMixin, ModelSQL):
    "The invoices of a payment plan"
    __name__ = 'account.invoice.dunning.plan-account.invoice'
    __string__ = 'Payment Plan - Invoice'
    __access__ = {'plan'}
    plan = fields.Many2One(
        'account.invoice.dunning.plan', "Plan", required=True,
        ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT')
    amount = Monetary(
        "Amount Planned", currency='currency', digits='currency',
        readonly=True,
        help="What was left to pay of the invoice when the plan started.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')

    def get_currency(self, name):
        return self.plan.currency.id

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        "The invoices of a plan change only while it is a draft"
        super().check_modification(
            mode, lines, values=values, external=external)
        if external:
            for line in lines:
                if line.plan.state != 'draft':
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_plan_modify',
                            plan=line.plan.rec_name))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_plans = fields.One2Many(
        'account.invoice.dunning.plan', 'party', "Payment Plans",
        help="The party's agreements to pay its invoices in installments.")

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_plans', None)
        return super().copy(parties, default=default)


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunning_plans = fields.Many2Many(
        'account.invoice.dunning.plan-account.invoice', 'invoice', 'plan',
        "Payment Plans", readonly=True,
        help="The payment plans that pay the invoice.")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_plans', None)
        return super().copy(invoices, default=default)
