# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Limitation periods: the date on which each overdue claim (a posted
customer invoice not paid) becomes time-barred, from its earliest open due
date or from its latest interruption (a partial payment, a payment plan
agreed, a declaration of claim), plus the years of the accounting
configuration for its customer type (French rules: 5 years between traders,
Code de commerce L110-4; 2 years against a consumer, Code de la
consommation L218-2). A read-only SQL view (table_query), set-based."""
import datetime as dt

from dateutil.relativedelta import relativedelta
from sql import Cast, Null, Union
from sql.aggregate import Max, Min, Sum
from sql.conditionals import Case, Coalesce, NullIf
from sql.functions import Extract

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .analysis_lines import receivable_queries
from .common import CUSTOMER_TYPES
from .litigation_config import DEFAULTS, litigation_delay

STATES = [
    ('running', "Running"),
    ('near', "Near Limitation"),
    ('time_barred', "Time-Barred"),
    ]
# The litigation states of the invoices whose claim is no longer pursued
ABANDONED = ['written_off', 'recovered']


def date_key(date):
    "The integer yyyymmdd of date, as limitation_key"
    return date.year * 10000 + date.month * 100 + date.day


def key_column(start, years):
    """The SQL integer yyyymmdd of the date start plus years, a 29 February
    on the 28th when years is not a multiple of 4 (as relativedelta)"""
    month = Extract('MONTH', start)
    day = Extract('DAY', start)
    if years % 4:
        day = Case(((month == 2) & (day == 29), 28), else_=day)
    return (Extract('YEAR', start) + years) * 10000 + month * 100 + day


def delay(name, company_id):
    "The litigation delay name of the company (the default without one)"
    if not company_id:
        return DEFAULTS[name]
    return litigation_delay(name, company_id)


def _context():
    "The company id and the date of the context (today by default)"
    pool = Pool()
    Date = pool.get('ir.date')
    context = Transaction().context
    return context.get('company'), context.get('date') or Date.today()


class Limitation(ModelSQL, ModelView):
    """The overdue claims of the company of the context with the date on
    which they become time-barred"""
    __name__ = 'account.invoice.dunning.limitation'
    __string__ = "Claim Limitation"
    company = fields.Many2One('company.company', "Company")
    invoice = fields.Many2One('account.invoice', "Invoice")
    party = fields.Many2One('party.party', "Party",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    customer_type = fields.Selection(CUSTOMER_TYPES, "Customer Type")
    amount = Monetary("Amount", currency='company_currency',
        digits='company_currency',
        help="The amount open, in the currency of the company.")
    company_currency = fields.Many2One(
        'currency.currency', "Company Currency")
    due_date = fields.Date("Due Date",
        help="The earliest due date of the receivable lines still open.")
    interruption = fields.Date("Interruption",
        help="The latest event that interrupted the limitation: a partial "
        "payment, a payment plan agreed or a declaration of claim.")
    years = fields.Integer("Years",
        help="The limitation period of the customer type, from the "
        "accounting configuration.")
    limitation_key = fields.Integer("Limitation Key")
    limitation_date = fields.Function(fields.Date("Limitation Date",
            help="The last day to act: the latest of the due date and the "
            "interruption plus the years of the period."),
        'get_limitation_date', searcher='search_limitation_date')
    state = fields.Selection(STATES, "State", sort=False,
        help="Near limitation within the months of warning of the "
        "accounting configuration; time-barred once the limitation date "
        "is past.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('limitation_date', 'ASC'),
            ('id', 'ASC'),
            ]

    @classmethod
    def table_query(cls):
        company_id, date = _context()
        claims = cls._claims(company_id, date)
        professional = delay('dunning_limitation_professional', company_id)
        consumer = delay('dunning_limitation_consumer', company_id)
        warning = delay('dunning_limitation_warning_months', company_id)
        start = Case((claims.interruption > claims.due_date,
                claims.interruption), else_=claims.due_date)
        is_professional = claims.customer_type == 'professional'
        key = Case((is_professional, key_column(start, professional)),
            else_=key_column(start, consumer))
        rows = claims.select(claims.id.as_('id'),
            claims.company.as_('company'), claims.invoice.as_('invoice'),
            claims.party.as_('party'),
            claims.customer_type.as_('customer_type'),
            claims.amount.as_('amount'),
            claims.company_currency.as_('company_currency'),
            claims.due_date.as_('due_date'),
            claims.interruption.as_('interruption'),
            Case((is_professional, professional),
                else_=consumer).as_('years'),
            Cast(key, 'INTEGER').as_('limitation_key'))
        state = Case(
            (rows.limitation_key < date_key(date), 'time_barred'),
            (rows.limitation_key <= date_key(
                    date + relativedelta(months=warning)), 'near'),
            else_='running')
        return rows.select(*(getattr(rows, n).as_(n) for n in [
                    'id', 'company', 'invoice', 'party', 'customer_type',
                    'amount', 'company_currency', 'due_date',
                    'interruption', 'years', 'limitation_key']),
            state.as_('state'))

    @classmethod
    def _claims(cls, company_id, date):
        """The query of the overdue claims of the posted customer invoices
        of the company at date: (id, company, invoice, party,
        customer_type, amount, company_currency, due_date, interruption)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        lines, payments = receivable_queries(company_id, date)
        open_ = Union(lines, payments, all_=True)
        balances = open_.select(open_.invoice.as_('invoice'),
            Min(open_.due_date).as_('due_date'),
            Sum(open_.amount).as_('amount'),
            group_by=[open_.invoice])
        interruptions = cls._interruptions(company_id, date)
        invoice = Invoice.__table__()
        party = Party.__table__()
        company = Company.__table__()
        professionals = Aging._professionals()
        customer_type = Coalesce(NullIf(party.customer_type, ''),
            Case((professionals.party != Null, 'professional'),
                else_='consumer'))
        return (balances
            .join(invoice, condition=invoice.id == balances.invoice)
            .join(party, condition=party.id == invoice.party)
            .join(company, condition=company.id == invoice.company)
            .join(professionals, 'LEFT',
                condition=professionals.party == party.id)
            .join(interruptions, 'LEFT',
                condition=interruptions.invoice == invoice.id)
            .select(invoice.id.as_('id'), invoice.company.as_('company'),
                invoice.id.as_('invoice'), invoice.party.as_('party'),
                customer_type.as_('customer_type'),
                balances.amount.as_('amount'),
                company.currency.as_('company_currency'),
                balances.due_date.as_('due_date'),
                interruptions.date.as_('interruption'),
                where=(invoice.state == 'posted')
                & ~Coalesce(invoice.dunning_litigation, 'amicable').in_(
                    ABANDONED)
                & (balances.amount > 0)
                & (balances.due_date < date)))

    @classmethod
    def _interruptions(cls, company_id, date):
        "The query of (invoice, date) of the latest interruption by date"
        events = Union(*cls.interruption_queries(company_id, date),
            all_=True)
        return events.select(events.invoice.as_('invoice'),
            Max(events.date).as_('date'),
            group_by=[events.invoice])

    @classmethod
    def interruption_queries(cls, company_id, date):
        """The queries of (invoice, date) of the events on or before date
        that interrupt the limitation of the customer invoices of the
        company (Code civil, articles 2240 to 2244): the partial payments
        and the payment plans agreed (an acknowledgement of the debt) and
        the declarations of claim in collective proceedings (a claim in
        court); to be extended by the court files"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoicePaymentLine = pool.get('account.invoice-account.move.line')
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Plan = pool.get('account.invoice.dunning.plan')
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        invoice = Invoice.__table__()
        payment = InvoicePaymentLine.__table__()
        line = MoveLine.__table__()
        move = Move.__table__()
        payments = (payment
            .join(invoice, condition=invoice.id == payment.invoice)
            .join(line, condition=line.id == payment.line)
            .join(move, condition=move.id == line.move)
            .select(payment.invoice.as_('invoice'), move.date.as_('date'),
                where=(invoice.company == company_id)
                & (line.credit > line.debit)
                & (move.date <= date)))
        plan = Plan.__table__()
        plan_invoice = PlanInvoice.__table__()
        plans = (plan_invoice
            .join(plan, condition=plan.id == plan_invoice.plan)
            .select(plan_invoice.invoice.as_('invoice'),
                plan.agreed_on.as_('date'),
                where=(plan.company == company_id)
                & (plan.agreed_on != Null) & (plan.agreed_on <= date)))
        invoice = Invoice.__table__()
        proceeding = Proceeding.__table__()
        declarations = (invoice
            .join(proceeding, condition=(proceeding.party == invoice.party)
                & (proceeding.company == invoice.company))
            .select(invoice.id.as_('invoice'),
                proceeding.declared_on.as_('date'),
                where=(invoice.company == company_id)
                & (invoice.type == 'out')
                & proceeding.state.in_(['declared', 'closed'])
                & (invoice.invoice_date <= proceeding.judgment_date)
                & (proceeding.declared_on != Null)
                & (proceeding.declared_on <= date)))
        return [payments, plans, declarations]

    @classmethod
    def get_limitation_date(cls, claims, name):
        result = {}
        for claim in claims:
            start = claim.due_date
            if claim.interruption and claim.interruption > start:
                start = claim.interruption
            result[claim.id] = start + relativedelta(years=claim.years)
        return result

    @classmethod
    def search_limitation_date(cls, name, clause):
        _, operator, value = clause[:3]
        if isinstance(value, dt.date):
            value = date_key(value)
        elif isinstance(value, (list, tuple)):
            value = [date_key(v) if isinstance(v, dt.date) else v
                for v in value]
        return [('limitation_key', operator, value)]

    @classmethod
    def order_limitation_date(cls, tables):
        table, _ = tables[None]
        return [table.limitation_key]

    def get_rec_name(self, name):
        return self.invoice.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('invoice.rec_name',) + tuple(clause[1:])]
