# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Promises to pay: a customer undertakes to pay an amount of some of its
invoices by a date; their reminders wait until then (and a tolerance), the
accounting tells whether the promise was kept, and a broken promise resumes
the reminders at once, the letter recalling it."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Null

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import (
    RelationIndexesMixin, apply_types, browse, context_company_currency,
    to_date)
from .exceptions import PromiseValidationError

STATES = [
    ('pending', "Pending"),
    ('kept', "Kept"),
    ('broken', "Broken"),
    ('cancelled', "Cancelled"),
    ]
# Computed from the accounting and the procedure, never given by a user
COMPUTED_FIELDS = {'state', 'paid_amount', 'settled_on', 'suspended_until'}
_PENDING = {
    'readonly': Eval('state') != 'pending',
    }


class Promise(Workflow, ModelSQL, ModelView):
    "A customer's promise to pay an amount of some invoices by a date"
    __name__ = 'account.invoice.dunning.promise'
    __string__ = 'Promise to Pay'
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
    invoices = fields.Many2Many(
        'account.invoice.dunning.promise-account.invoice', 'promise',
        'invoice', "Invoices", required=True, states=_PENDING,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ('party', '=', Eval('party', -1)),
            ('currency', '=', Eval('currency', -1)),
            ('state', '=', 'posted'),
            ],
        help="The invoices the customer promised to pay.")
    given_on = fields.Date(
        "Given On", required=True, states=_PENDING,
        help="The day the customer made the promise: the payments count "
        "from that day.")
    date = fields.Date(
        "Promised Date", required=True, states=_PENDING,
        help="The day the customer promised to pay by.")
    amount = Monetary(
        "Promised Amount", currency='currency', digits='currency',
        required=True, states=_PENDING)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, states=_PENDING)
    suspended_until = fields.Date(
        "Reminders Suspended Until", readonly=True,
        help="The promised date and the tolerance of the procedure of the "
        "customer: no reminder of the invoices until then.")
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    paid_amount = Monetary(
        "Paid Amount", currency='currency', digits='currency', readonly=True,
        help="The payments of the invoices from the day of the promise to "
        "the end of the tolerance, when it was settled.")
    settled_on = fields.Date("Settled On", readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True,
        help="The call during which the customer promised.")
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'cancelled'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_given_on(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_currency(cls):
        return context_company_currency()

    @classmethod
    def _get_origins(cls):
        "The models a promise may come from"
        return ['account.invoice.dunning.call']

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [(m, IrModel.get_name(m))
            for m in cls._get_origins()]

    def get_rec_name(self, name):
        return '%s - %s' % (self.party.rec_name, self.date)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('party.rec_name',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, promises, field_names):
        super().validate_fields(promises, field_names)
        cls.check_promise(promises, field_names)

    @classmethod
    def check_promise(cls, promises, field_names=None):
        "A promise is of a positive amount, by a day not before it is given"
        if field_names and not (
                field_names & {'amount', 'date', 'given_on'}):
            return
        for promise in promises:
            if promise.amount is not None and promise.amount <= 0:
                raise PromiseValidationError(gettext(
                        'account_invoice_dunning.msg_promise_amount',
                        promise=promise.rec_name))
            if promise.date < promise.given_on:
                raise PromiseValidationError(gettext(
                        'account_invoice_dunning.msg_promise_date',
                        promise=promise.rec_name))

    @classmethod
    def check_modification(cls, mode, promises, values=None,
            external=False):
        super().check_modification(
            mode, promises, values=values, external=external)
        if mode == 'delete':
            # Kept or broken, a promise is history
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_promise_delete'))
        elif mode == 'write' and external:
            if set(values) & COMPUTED_FIELDS:
                raise AccessError(gettext(
                        'account_invoice_dunning.msg_promise_computed',
                        promise=promises[0].rec_name))
            for promise in promises:
                if (promise.state != 'pending'
                        and set(values) - {'note'}):
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_promise_modify',
                            promise=promise.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # A new promise waits: what it became is computed, never given
            for name in COMPUTED_FIELDS:
                values.pop(name, None)
            values['state'] = 'pending'
        return values

    @classmethod
    def on_modification(cls, mode, promises, field_names=None):
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        super().on_modification(mode, promises, field_names=field_names)
        if mode in {'create', 'write'} and (
                field_names is None or field_names & {'date', 'party'}):
            cls.set_suspended_until(promises)
        if mode == 'create':
            Exchange.log_promises([p for p in promises if not p.origin])

    @classmethod
    def set_suspended_until(cls, promises):
        """Store the day until which the reminders of each promise wait:
        its date and the promise tolerance of the procedure of its party"""
        pool = Pool()
        Party = pool.get('party.party')
        segments = Party.dunning_segments_of(
            {(p.party.id, p.company.id) for p in promises})
        by_date = defaultdict(list)
        for promise in promises:
            segment = segments.get((promise.party.id, promise.company.id))
            days = (segment.procedure.promise_tolerance or 0
                if segment else 0)
            until = promise.date + dt.timedelta(days=days)
            if promise.suspended_until != until:
                by_date[until].append(promise)
        args = []
        for until, sub_promises in by_date.items():
            args.extend([sub_promises, {'suspended_until': until}])
        if args:
            cls.write(*args)

    @classmethod
    def copy(cls, promises, default=None):
        default = default.copy() if default is not None else {}
        for name in ['paid_amount', 'settled_on', 'origin']:
            default.setdefault(name, None)
        default.setdefault('state', 'pending')
        return super().copy(promises, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, promises):
        "Withdraw the promises recorded by mistake: the reminders resume"

    @classmethod
    def suspended_invoices(cls, company_ids, date, given_by=None):
        """Return the ids of the invoices of the companies whose reminders
        wait on date for a pending promise given by given_by (date by
        default), in one query"""
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(line.invoice,
                where=(table.state == 'pending')
                & table.company.in_(company_ids)
                & (table.given_on <= (given_by or date))
                & (table.suspended_until >= date)))
        return {i for i, in cursor}

    @classmethod
    def broken_since_reminder(cls, company_ids, last_done):
        """Return {invoice id: promise id} of the invoices of the companies
        whose latest promise settled was broken after their last reminder
        sent
        (last_done: {invoice: (level, date)}): their reminders resume at
        once, the letter recalling it"""
        table, line, query = cls._with_invoices()
        cursor = Transaction().connection.cursor()
        cursor.execute(*query.select(
                line.invoice, table.id, table.state, table.settled_on,
                where=table.state.in_(['kept', 'broken'])
                & table.company.in_(company_ids)
                & (table.settled_on != Null),
                order_by=[table.settled_on.asc, table.id.asc]))
        # The latest settled promise of each invoice: a promise kept since
        # an older broken one ends the resumption
        latest = {}
        for invoice_id, promise_id, state, settled_on in cursor:
            latest[invoice_id] = (promise_id, state, to_date(settled_on))
        result = {}
        for invoice_id, (promise_id, state, settled_on) in latest.items():
            last = last_done.get(invoice_id)
            if state == 'broken' and (last is None or last[1] < settled_on):
                result[invoice_id] = promise_id
        return result

    @classmethod
    def settle(cls, company_ids, date, unpaid=None):
        """Settle the pending promises of the companies on date: kept once
        the payments of their invoices since the promise reach its amount
        (or nothing is left to pay), broken when its suspension ended
        before date without. unpaid: what Invoice.dunning_unpaid returned
        for the companies (the run's), read when None.

        Three queries whatever the number of promises, none included: the
        run makes the same queries whether invoices wait or not; those of
        the write when some are settled."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        promises, invoices = cls._pending(company_ids, date)
        # The payments of the invoices of the pending promises by a
        # sub-query
        table, line, query = cls._with_invoices()
        invoice_ids = query.select(line.invoice,
            where=cls._pending_where(table, company_ids, date))
        _, payments = Invoice.dunning_payment_history(invoice_ids)
        if not promises:
            return []
        if unpaid is None:
            unpaid = Invoice.dunning_unpaid(list(company_ids), invoice_ids)
        # What is left to pay, disputed or not
        remaining = Invoice.dunning_figures_of(date, unpaid,
            {i for ids in invoices.values() for i in ids})
        settled = defaultdict(list)
        for promise_id, promise in promises.items():
            state, paid = promise.settlement(
                date, invoices[promise_id], payments, remaining)
            if state:
                settled[(state, paid)].append(promise_id)
        args = []
        for (state, paid), ids in settled.items():
            args.extend([browse(cls, ids), {
                        'state': state,
                        'paid_amount': paid,
                        'settled_on': date,
                        }])
        if args:
            cls.write(*args)
        return browse(cls, sorted(i for ids in settled.values() for i in ids))

    @classmethod
    def _pending(cls, company_ids, date):
        """Return the pending promises of the companies given by date
        {id: promise} (with what settles them read) and their invoices
        {promise id: [invoice id]}, in one query"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        currency = Currency.__table__()
        table, line, query = cls._with_invoices()
        query = query.join(currency, condition=currency.id == table.currency)
        cursor = Transaction().connection.cursor()
        cursor.execute(*apply_types(query.select(table.id, line.invoice,
                    table.given_on.as_('given_on'), table.date.as_('date'),
                    table.suspended_until.as_('suspended_until'),
                    table.amount.as_('amount'), table.currency,
                    currency.rounding.as_('rounding'),
                    where=cls._pending_where(table, company_ids, date),
                    order_by=[table.id.asc]),
                [None, None, 'DATE', 'DATE', 'DATE', 'NUMERIC', None,
                    'NUMERIC']))
        promises, invoices = {}, defaultdict(list)
        for (promise_id, invoice_id, given_on, promise_date, until, amount,
                currency_id, rounding) in cursor:
            promises[promise_id] = cls(id=promise_id,
                given_on=given_on, date=promise_date, suspended_until=until,
                amount=amount,
                currency=Currency(id=currency_id, rounding=rounding))
            invoices[promise_id].append(invoice_id)
        return promises, invoices

    @classmethod
    def _with_invoices(cls):
        """The table of the promises, that of their invoices and the join
        of both (a row for each invoice of a promise)"""
        pool = Pool()
        PromiseInvoice = pool.get(
            'account.invoice.dunning.promise-account.invoice')
        table = cls.__table__()
        line = PromiseInvoice.__table__()
        return table, line, table.join(
            line, condition=line.promise == table.id)

    @staticmethod
    def _pending_where(table, company_ids, date):
        "The condition of the pending promises of the companies given by date"
        return ((table.state == 'pending')
            & table.company.in_([int(c) for c in company_ids])
            & (table.given_on <= date))

    def settlement(self, date, invoice_ids, payments, remaining):
        """Return the state of the promise of the invoices of invoice_ids
        settled on date ('kept', 'broken' or None while pending) and the
        amount paid; payments: {invoice: [(date, amount)]}, remaining:
        {invoice: figures} of the invoices with an amount to pay"""
        end = self.suspended_until or self.date
        paid = self.currency.round(self.paid_between(
                invoice_ids, payments, self.given_on, min(date, end)))
        if paid >= self.amount or not any(
                i in remaining for i in invoice_ids):
            return 'kept', paid
        elif end < date:
            return 'broken', paid
        return None, paid

    @staticmethod
    def paid_between(invoice_ids, payments, start, end):
        """The payments of the invoices of invoice_ids dated from start to
        end; payments: {invoice: [(date, amount)]}"""
        return sum((amount for invoice_id in invoice_ids
                for date, amount in payments.get(invoice_id, [])
                if start <= to_date(date) <= end),
            Decimal(0))


class PromiseInvoice(RelationIndexesMixin, ModelSQL):
    "The invoices of a promise to pay"
    __name__ = 'account.invoice.dunning.promise-account.invoice'
    __string__ = 'Promise to Pay - Invoice'
    __access__ = {'promise'}
    promise = fields.Many2One(
        'account.invoice.dunning.promise', "Promise", required=True,
        ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT')

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        "The invoices of a promise change only while it is pending"
        super().check_modification(
            mode, lines, values=values, external=external)
        if external:
            for line in lines:
                if line.promise.state != 'pending':
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_promise_modify',
                            promise=line.promise.rec_name))


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_promises = fields.One2Many(
        'account.invoice.dunning.promise', 'party', "Promises to Pay",
        help="The promises of the party to pay its invoices.")

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_promises', None)
        return super().copy(parties, default=default)


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunning_promises = fields.Many2Many(
        'account.invoice.dunning.promise-account.invoice', 'invoice',
        'promise', "Promises to Pay", readonly=True,
        order=[('promise.date', 'DESC'), ('promise.id', 'DESC')],
        help="The customer's promises to pay the invoice.")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_promises', None)
        return super().copy(invoices, default=default)
