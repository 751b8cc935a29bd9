# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Party extension: the dunning segment of a customer per company, its
payment behaviour and whom the reminders go to."""
import datetime as dt
import operator
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Literal, Null
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .common import (
    CUSTOMER_TYPES, PenaltyWaiverMixin, apply_types, companies_to_run,
    id_slices, in_ids, preload, to_date)
from .party_facts import PartyFactsMixin

# The payment behaviour of a party over a window of days
Behaviour = namedtuple('Behaviour', [
        'invoice_count', 'late_invoice_count', 'late_invoice_share',
        'average_days_late', 'max_days_late', 'overdue_amount',
        'receivable_amount', 'sales_amount', 'dunning_count',
        'max_dunning_level', 'dso', 'broken_promise_count'])
NO_BEHAVIOUR = Behaviour(0, 0, 0.0, 0.0, 0, Decimal(0), Decimal(0),
    Decimal(0), 0, None, 0.0, 0)


# The days of payment history of the figures of the party form
DEFAULT_LOOKBACK = 365

dunning_segment = fields.Many2One(
    'account.invoice.dunning.segment', "Dunning Segment",
    ondelete='RESTRICT',
    help="The segment gives the dunning procedure of the customer.\n"
    "Leave empty to use the default segment of the company.")
dunning_segment_pinned = fields.Boolean(
    "Segment Pinned",
    help="Keep the segment set by hand: the automatic classification "
    "never changes it.")


class Party(PartyFactsMixin, PenaltyWaiverMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
    customer_type = fields.Selection([
            (None, ""),
            ] + CUSTOMER_TYPES, "Customer Type",
        help="Professionals owe late-payment interest from the due date and "
        "the recovery indemnity; consumers only legal interest from the "
        "formal notice.\n"
        "Leave empty: professional when the party has a tax identifier, "
        "consumer otherwise.")
    dunning_segment = fields.MultiValue(dunning_segment)
    dunning_segment_pinned = fields.MultiValue(dunning_segment_pinned)
    dunning_segment_logs = fields.One2Many(
        'account.invoice.dunning.segment.log', 'party',
        "Dunning Segment Changes", readonly=True)
    late_invoice_count = fields.Function(fields.Integer(
            "Late Invoices",
            help="Invoices paid, or still unpaid, after their due date over "
            "the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    late_invoice_share = fields.Function(fields.Float(
            "Share of Late Invoices", digits=(16, 4)),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    average_days_late = fields.Function(fields.Float(
            "Average Days Late", digits=(16, 1),
            help="Days late weighted by the amounts of the invoices due over "
            "the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    max_days_late = fields.Function(fields.Integer(
            "Maximum Days Late"),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    overdue_amount = fields.Function(Monetary(
            "Overdue Amount", currency='behaviour_currency',
            digits='behaviour_currency'),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    dunning_count = fields.Function(fields.Integer(
            "Reminders Received",
            help="Processed reminders over the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    dso = fields.Function(fields.Float(
            "DSO", digits=(16, 1),
            help="Days sales outstanding: receivable balance over the sales "
            "of the last 12 months, in days."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    behaviour_currency = fields.Function(fields.Many2One(
            'currency.currency', "Behaviour Currency"),
        'get_behaviour_currency')
    dunning_segments = fields.One2Many(
        'party.party.dunning_segment', 'party', "Dunning Segments")
    invoice_dunnings = fields.One2Many(
        'account.invoice.dunning', 'party', "Invoice Reminders",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'classify_dunning_segment': {
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'dunning_segment', 'dunning_segment_pinned'}:
            return pool.get('party.party.dunning_segment')
        return super().multivalue_model(field)

    @classmethod
    def default_dunning_segment_pinned(cls, **pattern):
        return False

    def get_behaviour_currency(self, name):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        if company:
            return Company(company).currency.id

    @classmethod
    def _behaviours(cls, party_ids=None):
        pool = Pool()
        Date = pool.get('ir.date')
        context = Transaction().context
        company = context.get('company')
        if not company:
            return {}
        return cls.dunning_payment_behaviour(company, Date.today(),
            context.get('dunning_lookback_days', DEFAULT_LOOKBACK),
            party_ids=party_ids)

    @classmethod
    def get_payment_behaviour(cls, parties, names):
        behaviours = cls._behaviours([p.id for p in parties])
        result = {}
        for name in names:
            result[name] = {}
            # The floats rounded to the digits of their field, as the client
            # shows them: it takes a value with more digits for a change and
            # asks to save the party before printing
            digits = getattr(cls._fields[name], 'digits', None)
            places = digits[1] if isinstance(digits, tuple) else None
            for party in parties:
                value = getattr(behaviours.get(party.id, NO_BEHAVIOUR), name)
                if places is not None and isinstance(value, float):
                    value = round(value, places)
                result[name][party.id] = value
        return result

    @classmethod
    def search_payment_behaviour(cls, name, clause):
        _, operator, value = clause[:3]
        operator_ = COMPARISONS[operator]
        behaviours = cls._behaviours()
        # The figures are computed for the parties with accounting data; the
        # others have empty figures
        ids = [p for p, b in behaviours.items()
            if _compare(operator_, getattr(b, name), value)]
        if _compare(operator_, getattr(NO_BEHAVIOUR, name), value):
            return ['OR', ('id', 'in', ids),
                ('id', 'not in', list(behaviours))]
        return [('id', 'in', ids)]

    @classmethod
    def no_payment_behaviour(cls):
        "The behaviour of a party without accounting data"
        return NO_BEHAVIOUR

    @classmethod
    def dunning_payment_behaviour(
            cls, company, date, lookback_days, party_ids=None):
        """Return {party id: Behaviour} of the customers of company over the
        lookback_days before date, in four queries

        An invoice counts when its last due date falls in the window; it is
        late by the days between that due date and the date it was fully
        paid (or date when still unpaid). The average days late is weighted
        by the amounts of all the invoices of the window (on-time ones count
        0 days); the DSO is the receivable balance over the sales of the
        window, in days."""
        company_id = int(company)
        start = date - dt.timedelta(days=lookback_days)
        invoices = cls._behaviour_invoices(company_id, start, date, party_ids)
        receivables = cls._behaviour_receivables(company_id, date, party_ids)
        sales = cls._behaviour_sales(company_id, start, date, party_ids)
        dunnings = cls._behaviour_dunnings(company_id, start, date, party_ids)
        broken = cls._behaviour_broken_promises(
            company_id, start, date, party_ids)
        result = {}
        for party in set(invoices) | set(receivables) | set(sales) | set(
                dunnings) | set(broken):
            result[party] = cls._behaviour(date, lookback_days,
                invoices.get(party, []),
                receivables.get(party, (Decimal(0),) * 2),
                sales.get(party, Decimal(0)),
                dunnings.get(party, (0, None)))._replace(
                    broken_promise_count=broken.get(party, 0))
        return result

    @classmethod
    def _behaviour(cls, date, lookback_days, rows, receivable_overdue,
            party_sales, reminders):
        "The Behaviour of a party from the figures of its queries"
        total = sum((a for a, _, _ in rows), Decimal(0))
        lates = [max(((paid or date) - due).days, 0) for _, due, paid in rows]
        late_count = sum(1 for d in lates if d > 0)
        weighted = sum((a * d for (a, _, _), d in zip(rows, lates)),
            Decimal(0))
        receivable, overdue = receivable_overdue
        count, max_level_days = reminders
        return Behaviour(
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
                if party_sales > 0 else 0.0),
            broken_promise_count=0)

    @staticmethod
    def _party_where(column, party_ids):
        if party_ids is None:
            return Literal(True)
        return in_ids(column, party_ids)

    @classmethod
    def _behaviour_invoices(cls, company_id, start, date, party_ids):
        """Return {party: [(amount, last due date, paid date)]} of the
        invoices whose last due date is in the window, with the lines of
        their rescheduled moves"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        cursor = Transaction().connection.cursor()
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        reconciliation = Reconciliation.__table__()
        amount = Sum(line.debit - line.credit)
        # Paid when all its lines are reconciled, on the last reconciliation
        paid_date = Case((Count(line.reconciliation) == Count(line.id),
                Max(reconciliation.date)), else_=Null)
        query = (Invoice.dunning_lines_from(invoice, line,
                (invoice.type == 'out')
                & invoice.state.in_(['posted', 'paid'])
                & (invoice.company == company_id)
                & cls._party_where(invoice.party, party_ids))
            .join(reconciliation, 'LEFT',
                condition=reconciliation.id == line.reconciliation)
            .select(
                invoice.party.as_('party'),
                amount.as_('amount'),
                Max(line.maturity_date).as_('due_date'),
                paid_date.as_('paid_date'),
                group_by=[invoice.id, invoice.party],
                having=(Max(line.maturity_date) > start)
                & (Max(line.maturity_date) <= date)
                & (amount > 0)))
        cursor.execute(*apply_types(query, [None, 'NUMERIC', 'DATE', 'DATE']))
        invoices = defaultdict(list)
        for party, value, due_date, paid_date in cursor:
            invoices[party].append(
                (Decimal(value), to_date(due_date), to_date(paid_date)))
        return invoices

    @classmethod
    def _behaviour_receivables(cls, company_id, date, party_ids):
        "Return {party: (receivable balance, overdue amount)} at date"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Account = pool.get('account.account')
        AccountType = pool.get('account.account.type')
        cursor = Transaction().connection.cursor()
        line = MoveLine.__table__()
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
                & cls._party_where(line.party, party_ids),
                group_by=[line.party]))
        cursor.execute(*apply_types(query, [None, 'NUMERIC', 'NUMERIC']))
        return {p: (Decimal(r or 0), Decimal(o or 0)) for p, r, o in cursor}

    @classmethod
    def _behaviour_sales(cls, company_id, start, date, party_ids):
        "Return {party: sales} of the invoices dated in the window"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        cursor = Transaction().connection.cursor()
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        query = (invoice
            .join(line, condition=Invoice.dunning_line_of(
                    line, invoice, invoice.move))
            .select(
                invoice.party.as_('party'),
                Sum(line.debit - line.credit).as_('sales'),
                where=(invoice.type == 'out')
                & invoice.state.in_(['posted', 'paid'])
                & (invoice.company == company_id)
                & (invoice.invoice_date > start)
                & (invoice.invoice_date <= date)
                & cls._party_where(invoice.party, party_ids),
                group_by=[invoice.party]))
        cursor.execute(*apply_types(query, [None, 'NUMERIC']))
        return {p: Decimal(s or 0) for p, s in cursor}

    @classmethod
    def _behaviour_dunnings(cls, company_id, start, date, party_ids):
        """Return {party: (count, days of the highest level)} of the
        reminders sent in the window"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        cursor = Transaction().connection.cursor()
        dunning = Dunning.__table__()
        level = Level.__table__()
        cursor.execute(*dunning
            .join(level, condition=level.id == dunning.level)
            .select(
                dunning.party, Count(dunning.id), Max(level.days),
                where=(dunning.state == 'done')
                & (dunning.company == company_id)
                & (dunning.date > start) & (dunning.date <= date)
                & cls._party_where(dunning.party, party_ids),
                group_by=[dunning.party]))
        return {p: (c, d) for p, c, d in cursor}

    @classmethod
    def _behaviour_broken_promises(cls, company_id, start, date, party_ids):
        "Return {party: count} of the promises to pay broken in the window"
        pool = Pool()
        Promise = pool.get('account.invoice.dunning.promise')
        cursor = Transaction().connection.cursor()
        promise = Promise.__table__()
        cursor.execute(*promise.select(
                promise.party, Count(promise.id),
                where=(promise.state == 'broken')
                & (promise.company == company_id)
                & (promise.settled_on > start)
                & (promise.settled_on <= date)
                & cls._party_where(promise.party, party_ids),
                group_by=[promise.party]))
        return dict(cursor)

    @classmethod
    @ModelView.button
    def classify_dunning_segment(cls, parties):
        cls.classify_dunning_segments(parties)

    @classmethod
    def classify_dunning_segments(cls, parties=None, date=None):
        """Set the automatic segment of the parties (all with accounting
        data when None) for the company of the context; return the number
        of changes"""
        pool = Pool()
        Segment = pool.get('account.invoice.dunning.segment')
        company = Transaction().context.get('company')
        if not company:
            return 0
        return Segment.classify(company, parties=parties, date=date)

    @classmethod
    def dunning_segment_cron(cls):
        "Daily task: classify the parties of every company"
        for company in companies_to_run():
            with Transaction().set_context(company=company.id):
                cls.classify_dunning_segments()

    def get_dunning_segment(self, company):
        "Return the segment of the party for company, or the default one"
        return self.dunning_segments_of({(self.id, int(company))})[
            self.id, int(company)]

    @classmethod
    def dunning_segments_of(cls, party_companies):
        """Return {(party id, company id): segment} of the pairs: the
        active segment of the party in the company, else the default
        segment of the company when active, else None; in a query a slice
        of parties. The one rule of the engine, the penalties and the
        letters."""
        pool = Pool()
        PartySegment = pool.get('party.party.dunning_segment')
        Segment = pool.get('account.invoice.dunning.segment')
        Configuration = pool.get('account.configuration')
        pairs = {(int(p), int(c)) for p, c in party_companies}
        party_segment = PartySegment.__table__()
        segment = Segment.__table__()
        cursor = Transaction().connection.cursor()
        own = {}
        for sub_ids in id_slices({p for p, _ in pairs}):
            cursor.execute(*party_segment
                .join(segment,
                    condition=segment.id == party_segment.dunning_segment)
                .select(party_segment.party, party_segment.company,
                    segment.id,
                    where=in_ids(party_segment.party, sub_ids)
                    & (segment.active == Literal(True))))
            own.update(((p, c), s) for p, c, s in cursor)
        config = Configuration(1)
        defaults = {}
        for company in {c for _, c in pairs}:
            default = config.get_multivalue(
                'default_dunning_segment', company=company)
            defaults[company] = (
                default.id if default and default.active else None)
        # A few segments for thousands of pairs, read once with the fields
        # a run reads for each invoice, whatever the user may read (as the
        # browsed records were)
        with without_check_access():
            segments = {s.id: s for s in preload(Segment,
                    set(own.values()) | {s for s in defaults.values() if s},
                    Segment.run_fields())}
        return {(p, c): segments[own[p, c]] if (p, c) in own
            else segments.get(defaults[c])
            for p, c in pairs}

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('invoice_dunnings', None)
        # A new customer: classified again, and set by hand only by the
        # account administrators (who may change these fields)
        default.setdefault('dunning_segments', None)
        default.setdefault('dunning_segment', None)
        default.setdefault('dunning_segment_pinned', False)
        return super().copy(parties, default=default)


COMPARISONS = {
    '=': operator.eq,
    '!=': operator.ne,
    '<': operator.lt,
    '<=': operator.le,
    '>': operator.gt,
    '>=': operator.ge,
    'in': lambda a, b: a in b,
    'not in': lambda a, b: a not in b,
    }


def _compare(compare, left, right):
    if left is None:
        return False
    try:
        return bool(compare(left, right))
    except TypeError:
        return False


class PartyDunningSegment(ModelSQL, CompanyValueMixin):
    __name__ = 'party.party.dunning_segment'
    __string__ = "Party Dunning Segment"
    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    dunning_segment = dunning_segment
    dunning_segment_pinned = dunning_segment_pinned

    @classmethod
    def default_dunning_segment_pinned(cls):
        return False

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        if mode == 'create':
            cls._log_changes({r.id: None for r in records}, records)

    @classmethod
    def on_write(cls, records, values):
        callback = super().on_write(records, values)
        if 'dunning_segment' in values:
            old = {r.id: r.dunning_segment.id if r.dunning_segment else None
                for r in records}
            ids = [r.id for r in records]
            callback.append(
                lambda: cls._log_changes(old, cls.browse(ids)))
        return callback

    @classmethod
    def _log_changes(cls, old, records):
        "Log the changes of segment made by hand"
        pool = Pool()
        Log = pool.get('account.invoice.dunning.segment.log')
        if not Transaction().context.get('_dunning_segment_log', True):
            return
        changes = []
        for record in records:
            new = record.dunning_segment.id if record.dunning_segment else None
            if new != old.get(record.id) and record.party and record.company:
                changes.append((record.party.id, record.company.id,
                        old.get(record.id), new, None))
        Log.log(changes)


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'
    dunning = fields.Boolean(
        "Dunning",
        help="Send the reminders to this address, e.g. the accounts payable "
        "department.")


class ContactMechanism(metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'
    dunning = fields.Boolean(
        "Dunning",
        help="Send the reminders to this contact.")

    @classmethod
    def usages(cls, _fields=None):
        if _fields is None:
            _fields = []
        _fields.append('dunning')
        return super().usages(_fields=_fields)
