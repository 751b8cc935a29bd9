# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Payment behaviour of customers, computed from the accounting in a few
queries, and the automatic classification of parties into segments."""
import datetime as dt
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction

# Parties written at once by the classification
SEGMENT_BATCH_SIZE = 1000

Behaviour = namedtuple('Behaviour', [
        'invoice_count', 'late_invoice_count', 'late_invoice_share',
        'average_days_late', 'max_days_late', 'overdue_amount',
        'receivable_amount', 'sales_amount', 'dunning_count',
        'max_dunning_level', 'dso'])
NO_BEHAVIOUR = Behaviour(0, 0, 0.0, 0.0, 0, Decimal(0), Decimal(0),
    Decimal(0), 0, None, 0.0)


def _date(value):
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def payment_behaviour(company_id, date, lookback_days, party_ids=None):
    """Return {party id: Behaviour} of the customers of the company over the
    lookback_days before date, in four queries

    An invoice counts when its last due date falls in the window; it is
    late by the days between that due date and the date it was fully paid
    (or date when still unpaid). The average days late is weighted by the
    amounts of all the invoices of the window (on-time ones count 0 days);
    the DSO is the receivable balance over the sales of the window, in
    days."""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    Reconciliation = pool.get('account.move.reconciliation')
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    Dunning = pool.get('account.invoice.dunning')
    Level = pool.get('account.invoice.dunning.level')
    cursor = Transaction().connection.cursor()
    invoice = Invoice.__table__()
    line = MoveLine.__table__()
    reconciliation = Reconciliation.__table__()
    start = date - dt.timedelta(days=lookback_days)

    def party_where(column):
        if party_ids is None:
            return Literal(True)
        return fields.SQL_OPERATORS['in'](column, list(party_ids))

    # 1. The invoices of the window: amount, last due date, paid date
    amount = Sum(line.debit - line.credit)
    query = (invoice
        .join(line, condition=(line.move == invoice.move)
            & (line.account == invoice.account))
        .join(reconciliation, 'LEFT',
            condition=reconciliation.id == line.reconciliation)
        .select(
            invoice.party.as_('party'),
            amount.as_('amount'),
            Max(line.maturity_date).as_('due_date'),
            Case((Count(line.reconciliation) == Count(line.id),
                    Max(reconciliation.date)), else_=Null).as_('paid_date'),
            where=(invoice.type == 'out')
            & invoice.state.in_(['posted', 'paid'])
            & (invoice.company == company_id)
            & party_where(invoice.party),
            group_by=[invoice.id, invoice.party],
            having=(Max(line.maturity_date) > start)
            & (Max(line.maturity_date) <= date)
            & (amount > 0)))
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, 'NUMERIC', 'DATE', 'DATE'])
    cursor.execute(*query)
    invoices = defaultdict(list)
    for party, value, due_date, paid_date in cursor:
        invoices[party].append(
            (Decimal(value), _date(due_date), _date(paid_date)))

    # 2. Receivable balance and overdue amount today
    account = Account.__table__()
    account_type = AccountType.__table__()
    balance = line.debit - line.credit
    query = (line
        .join(account, condition=account.id == line.account)
        .join(account_type, condition=account_type.id == account.type)
        .select(
            line.party.as_('party'),
            Sum(balance).as_('receivable'),
            Sum(Case((line.maturity_date < date, balance),
                    else_=Literal(0))).as_('overdue'),
            where=(account_type.receivable == Literal(True))
            & (account.company == company_id)
            & (line.reconciliation == Null)
            & (line.party != Null)
            & party_where(line.party),
            group_by=[line.party]))
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, 'NUMERIC', 'NUMERIC'])
    cursor.execute(*query)
    receivables = {p: (Decimal(r or 0), Decimal(o or 0))
        for p, r, o in cursor}

    # 3. Sales of the window
    query = (invoice
        .join(line, condition=(line.move == invoice.move)
            & (line.account == invoice.account))
        .select(
            invoice.party.as_('party'),
            Sum(line.debit - line.credit).as_('sales'),
            where=(invoice.type == 'out')
            & invoice.state.in_(['posted', 'paid'])
            & (invoice.company == company_id)
            & (invoice.invoice_date > start)
            & (invoice.invoice_date <= date)
            & party_where(invoice.party),
            group_by=[invoice.party]))
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, 'NUMERIC'])
    cursor.execute(*query)
    sales = {p: Decimal(s or 0) for p, s in cursor}

    # 4. Reminders received in the window
    dunning = Dunning.__table__()
    level = Level.__table__()
    query = (dunning
        .join(level, condition=level.id == dunning.level)
        .select(
            dunning.party, Count(dunning.id), Max(level.days),
            where=(dunning.state == 'done')
            & (dunning.company == company_id)
            & (dunning.date > start) & (dunning.date <= date)
            & party_where(dunning.party),
            group_by=[dunning.party]))
    cursor.execute(*query)
    dunnings = {p: (c, d) for p, c, d in cursor}

    result = {}
    for party in set(invoices) | set(receivables) | set(sales) | set(
            dunnings):
        rows = invoices.get(party, [])
        total = sum((a for a, _, _ in rows), Decimal(0))
        lates = [max(((paid or date) - due).days, 0) for _, due, paid in rows]
        late_count = sum(1 for d in lates if d > 0)
        weighted = sum((a * d for (a, _, _), d in zip(rows, lates)),
            Decimal(0))
        receivable, overdue = receivables.get(party, (Decimal(0),) * 2)
        party_sales = sales.get(party, Decimal(0))
        count, max_level_days = dunnings.get(party, (0, None))
        result[party] = Behaviour(
            invoice_count=len(rows),
            late_invoice_count=late_count,
            late_invoice_share=(late_count / len(rows)) if rows else 0.0,
            average_days_late=float(weighted / total) if total else 0.0,
            max_days_late=max(lates, default=0),
            overdue_amount=overdue,
            receivable_amount=receivable,
            sales_amount=party_sales,
            dunning_count=count,
            max_dunning_level=max_level_days,
            dso=(float(receivable / party_sales * lookback_days)
                if party_sales > 0 else 0.0))
    return result


def segment_matches(segment, behaviour):
    """Test if a party's behaviour meets the criteria of an automatic
    segment: every maximum, the minimum outstanding amount, and at least one
    of the minimums of late payment when any is set"""
    if (segment.max_days_late is not None
            and behaviour.max_days_late > segment.max_days_late):
        return False
    if (segment.min_outstanding
            and behaviour.overdue_amount < segment.min_outstanding):
        return False
    minimums = []
    if segment.min_late_invoices:
        minimums.append(
            behaviour.late_invoice_count >= segment.min_late_invoices)
    if segment.min_average_days_late:
        minimums.append(
            behaviour.average_days_late > segment.min_average_days_late)
    if minimums and not any(minimums):
        return False
    if segment.max_days_late is not None and not behaviour.invoice_count:
        # Nothing paid in the window tells nothing about a good payer
        return False
    return True


def explain(behaviour, lookback_days):
    "A sentence that says why a party was classified"
    return gettext('account_invoice_dunning.msg_segment_reason',
        late=behaviour.late_invoice_count,
        count=behaviour.invoice_count,
        average=round(behaviour.average_days_late, 1),
        max=behaviour.max_days_late,
        days=lookback_days)


class SegmentLog(ModelSQL, ModelView):
    "A change of the dunning segment of a party"
    __name__ = 'account.invoice.dunning.segment.log'
    __string__ = "Dunning Segment Change"
    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='CASCADE')
    date = fields.DateTime("Date", required=True, readonly=True)
    old_segment = fields.Many2One(
        'account.invoice.dunning.segment', "Old Segment", readonly=True,
        ondelete='SET NULL')
    new_segment = fields.Many2One(
        'account.invoice.dunning.segment', "New Segment", readonly=True,
        ondelete='SET NULL')
    automatic = fields.Boolean("Automatic", readonly=True)
    reason = fields.Char("Reason", readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def log(cls, changes, automatic=False):
        """Record changes: (party, company, old, new, reason) with ids"""
        now = dt.datetime.now()
        user = Transaction().user or None
        # By batches: Tryton's create slows down with the length of its list
        for sub_changes in grouped_slice(changes, SEGMENT_BATCH_SIZE):
            cls.create([{
                        'party': party,
                        'company': company,
                        'date': now,
                        'old_segment': old,
                        'new_segment': new,
                        'automatic': automatic,
                        'reason': reason,
                        'user': user,
                        } for party, company, old, new, reason in sub_changes])
