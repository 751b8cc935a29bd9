# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What the customers answered in a window of dates: the promises to pay
given and how they ended (kept, broken), the disputes opened and how they
were resolved. A read-only SQL view (table_query), as the analyses of
analysis.py."""
from sql import Literal, Union
from sql.aggregate import Count, Min, Sum

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .analysis_effectiveness import window
from .dispute import STATES as DISPUTE_STATES
from .promise import STATES as PROMISE_STATES

KINDS = [
    ('promise', "Promise to Pay"),
    ('dispute', "Dispute"),
    ]


class Conversation(ModelSQL, ModelView):
    """The promises to pay given and the disputes opened in the window of
    the context, by state and currency"""
    __name__ = 'account.invoice.dunning.analysis.conversation'
    __string__ = "Invoice Dunning Promises and Disputes"
    company = fields.Many2One('company.company', "Company")
    kind = fields.Selection(KINDS, "Kind", sort=False)
    state = fields.Selection(PROMISE_STATES + DISPUTE_STATES, "State",
        sort=False, help="The state today.")
    currency = fields.Many2One('currency.currency', "Currency")
    count = fields.Integer("Count")
    amount = Monetary("Amount", currency='currency', digits='currency',
        help="The amount promised, or disputed.")
    settled_amount = Monetary("Settled Amount", currency='currency',
        digits='currency',
        help="The amount paid of the promises, or accepted of the "
        "disputes.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('kind', 'DESC'), ('state', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        company_id, from_date, date = window()
        promises = cls._promises(company_id, from_date, date)
        disputes = cls._disputes(company_id, from_date, date)
        return Union(promises, disputes, all_=True)

    @classmethod
    def _promises(cls, company_id, from_date, date):
        "The rows of the promises given in the window"
        pool = Pool()
        Promise = pool.get('account.invoice.dunning.promise')
        promise = Promise.__table__()
        where = ((promise.company == company_id)
            & (promise.given_on >= from_date) & (promise.given_on <= date))
        currency = Transaction().context.get('currency')
        if currency:
            where &= promise.currency == currency
        # Even ids for the promises, odd for the disputes
        return promise.select((Min(promise.id) * 2).as_('id'),
            promise.company.as_('company'), Literal('promise').as_('kind'),
            promise.state.as_('state'), promise.currency.as_('currency'),
            Count(promise.id).as_('count'),
            Sum(promise.amount).as_('amount'),
            Sum(promise.paid_amount).as_('settled_amount'),
            where=where,
            group_by=[promise.company, promise.state, promise.currency])

    @classmethod
    def _disputes(cls, company_id, from_date, date):
        "The rows of the disputes opened in the window"
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        Invoice = pool.get('account.invoice')
        dispute = Dispute.__table__()
        invoice = Invoice.__table__()
        where = ((dispute.company == company_id)
            & (dispute.opened_on >= from_date) & (dispute.opened_on <= date))
        currency = Transaction().context.get('currency')
        if currency:
            where &= invoice.currency == currency
        return (dispute
            .join(invoice, condition=invoice.id == dispute.invoice)
            .select((Min(dispute.id) * 2 + 1).as_('id'),
                dispute.company.as_('company'),
                Literal('dispute').as_('kind'),
                dispute.state.as_('state'), invoice.currency.as_('currency'),
                Count(dispute.id).as_('count'),
                Sum(dispute.amount).as_('amount'),
                Sum(dispute.accepted_amount).as_('settled_amount'),
                where=where,
                group_by=[dispute.company, dispute.state, invoice.currency]))
