# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Watching the payment plans: which invoices they suspend, which
installments are missed, and when a plan is completed or broken, computed
for all the plans of the companies in a few queries."""
import datetime as dt
from collections import defaultdict, namedtuple
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .common import browse, to_date

# A running plan of a missed installment: its id, party, company, currency
# and the earliest unpaid due date of the invoice
Missed = namedtuple('Missed',
    ['plan', 'party', 'company', 'currency', 'due_date'])


class PlanSettlementMixin:
    "What the payment plans suspend, and whether they are kept"
    __slots__ = ()

    @classmethod
    def _with_invoices(cls):
        """The table of the plans, that of their invoices and the join of
        both (a row for each invoice of a plan)"""
        pool = Pool()
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        table = cls.__table__()
        line = PlanInvoice.__table__()
        return table, line, table.join(line, condition=line.plan == table.id)

    @staticmethod
    def _state_where(table, company_ids, state):
        "The condition of the plans of the companies in state"
        return ((table.state == state)
            & table.company.in_([int(c) for c in company_ids]))

    @classmethod
    def _plan_invoices(cls, company_ids, state):
        """Return {invoice id: plan id} of the plans of the companies in
        state, in one query"""
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(line.invoice, table.id,
                where=cls._state_where(table, company_ids, state),
                order_by=[table.id.asc]))
        return dict(cursor)

    @classmethod
    def suspended_invoices(cls, company_ids):
        """Return the ids of the invoices of the companies paid by a running
        plan: the ladder leaves them alone"""
        return set(cls._plan_invoices(company_ids, 'running'))

    @classmethod
    def accelerated_invoices(cls, company_ids):
        """Return the ids of the invoices of the broken plans of the
        companies: what is left of them is all due"""
        return set(cls._plan_invoices(company_ids, 'broken'))

    @classmethod
    def broken_since_reminder(cls, company_ids, last_done):
        """Return {invoice id: plan id} of the invoices of the broken plans
        of the companies not reminded since the plan was broken
        (last_done: {invoice: (level, date)}): the ladder resumes at once,
        the letter recalling the plan"""
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(line.invoice, table.id,
                table.settled_on,
                where=cls._state_where(table, company_ids, 'broken')))
        result = {}
        for invoice_id, plan_id, settled_on in cursor:
            last = last_done.get(invoice_id)
            if last is None or last[1] < to_date(settled_on):
                result[invoice_id] = plan_id
        return result

    @classmethod
    def settle(cls, company_ids, date, unpaid=None):
        """Settle the running plans of the companies on date: completed once
        nothing is left to pay, broken when an installment is still unpaid
        its grace days after its date. unpaid: what Invoice.dunning_unpaid
        returned for the companies (the run's), read when None; with it,
        one query whatever the number of plans, and none more to write
        when none is settled."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(table.id, line.invoice, table.grace_days,
                where=cls._state_where(table, company_ids, 'running'),
                order_by=[table.id.asc]))
        plans, invoices = {}, defaultdict(list)
        for plan_id, invoice_id, grace_days in cursor:
            plans[plan_id] = cls(id=plan_id, grace_days=grace_days)
            invoices[plan_id].append(invoice_id)
        if not plans:
            return []
        invoice_ids = {i for ids in invoices.values() for i in ids}
        if unpaid is None:
            # Read by a sub-query: two queries whatever their number
            unpaid = Invoice.dunning_unpaid(list(company_ids),
                query.select(line.invoice,
                    where=cls._state_where(table, company_ids, 'running')))
        # What is left to pay, disputed or not
        figures = Invoice.dunning_figures_of(date, unpaid, invoice_ids)
        settled = defaultdict(list)
        for plan_id, plan in plans.items():
            state = plan.settlement(date, [figures[i]
                    for i in invoices[plan_id] if i in figures])
            if state:
                settled[state].append(plan_id)
        args = []
        for state, ids in settled.items():
            args.extend([browse(cls, ids), {
                        'state': state, 'settled_on': date}])
        if args:
            cls.write(*args)
        return browse(cls, sorted(i for ids in settled.values() for i in ids))

    def settlement(self, date, figures):
        """Return the state of the plan on date ('completed', 'broken' or
        None while running) from the figures of its invoices with an
        amount to pay"""
        if not figures:
            return 'completed'
        due_date = min(f.due_date for f in figures)
        if due_date + dt.timedelta(days=self.grace_days or 0) < date:
            return 'broken'
        return None

    @classmethod
    def missed_installments(cls, company_ids, date, figures):
        """Return {invoice id: Missed} of the invoices of the running plans
        of the companies with an installment unpaid on date (figures:
        {invoice: InvoiceFigures})"""
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(line.invoice, table.id, table.party,
                table.company, table.currency,
                where=cls._state_where(table, company_ids, 'running')))
        result = {}
        for invoice_id, plan_id, party, company, currency in cursor:
            invoice_figures = figures.get(invoice_id)
            if invoice_figures and invoice_figures.overdue > 0:
                result[invoice_id] = Missed(plan_id, party, company,
                    currency, invoice_figures.due_date)
        return result

    def installments_paid(self):
        """Return {installment: amount paid} of the installments of the
        running or settled plan, the earliest paid first from what is left
        to pay of its invoices"""
        pool = Pool()
        Date = pool.get('ir.date')
        total = sum((i.amount for i in self.installments), Decimal(0))
        if self.state == 'draft':
            return {i: Decimal(0) for i in self.installments}
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        paid = total - sum(self.remaining(today).values(), Decimal(0))
        result = {}
        for installment in sorted(self.installments, key=lambda i: i.date):
            amount = installment.amount
            result[installment] = min(max(paid, Decimal(0)), amount)
            paid -= amount
        return result
