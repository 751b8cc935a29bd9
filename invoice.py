# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Invoice extension: reminders, current level and blocking."
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Column, Lateral, Literal, Null, Query, Union
from sql.aggregate import Max
from sql.conditionals import Case, Coalesce
from sql.operators import Pos

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import (
    PenaltyWaiverMixin, apply_types, fetched, id_slices, in_ids, to_date)
from .invoice_penalty import InvoicePenaltyMixin

# The LIMIT of a LATERAL subquery that no query reaches: PostgreSQL runs the
# subquery for each row before it instead of joining its table
LATERAL_LIMIT = 2 ** 31 - 1
# Figures of an invoice at a date, in the invoice currency:
# remaining: still to pay, overdue: unpaid part of the lines due by the date,
# due_date: earliest due date not fully paid.
# What the reminders of an invoice claim: the disputed amount (open
# disputes, accepted amounts) left out of the remaining and overdue amounts
InvoiceFigures = namedtuple(
    'InvoiceFigures', ['remaining', 'overdue', 'due_date', 'disputed'],
    defaults=[Decimal(0)])
# country: the ISO code of the country of the invoice address, if any
InvoiceFacts = namedtuple('InvoiceFacts',
    ['party', 'company', 'currency', 'waived', 'party_waived',
        'invoice_date', 'country'], defaults=[None])


def invoice_debit_credit(line, invoice):
    """The debit and the credit of a move line in the currency of the
    invoice, as two columns subtracted in Python: SQLite computes with
    floats, which round amounts of 15 digits or more"""
    second = line.second_currency == invoice.currency
    return (
        Case((second, line.amount_second_currency), else_=line.debit),
        Case((second, Literal(0)), else_=line.credit))


def line_amount(debit, credit):
    "The amount of a line from the columns of invoice_debit_credit"
    return Decimal(debit or 0) - Decimal(credit or 0)


class Invoice(
        PenaltyWaiverMixin, InvoicePenaltyMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunnings = fields.One2Many(
        'account.invoice.dunning', 'invoice', "Reminders", readonly=True,
        order=[('date', 'ASC'), ('id', 'ASC')],
        states={
            'invisible': Eval('type') != 'out',
            })
    dunning_level = fields.Function(fields.Many2One(
            'account.invoice.dunning.level', "Dunning Level",
            states={
                'invisible': Eval('type') != 'out',
                },
            help="The level of the latest processed reminder."),
        'get_dunning_level', searcher='search_dunning_level')
    dunning_blocked = fields.Boolean(
        "Dunning Blocked",
        states={
            'invisible': Eval('type') != 'out',
            },
        help="Check to stop the reminders, for example during a dispute.")
    dunning_block_reason = fields.Text(
        "Dunning Block Reason",
        states={
            'invisible': Eval('type') != 'out',
            'required': Bool(Eval('dunning_blocked')),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {
            'dunning_blocked', 'dunning_block_reason', 'dunnings',
            'dunning_penalty_waived', 'dunning_penalty_waiver_reason',
            'dunning_penalty_waived_by', 'dunning_penalty_waived_date'}

    @classmethod
    def default_dunning_blocked(cls):
        return False

    @classmethod
    def _latest_done_dunnings(cls, invoice_ids=None):
        "Query of (invoice, dunning id) of the latest done reminder"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        latest = Dunning.__table__()
        where = dunning.state == 'done'
        if invoice_ids is not None:
            where &= in_ids(dunning.invoice, invoice_ids)
        last = latest.select(
            latest.invoice, Max(latest.date).as_('date'),
            where=latest.state == 'done', group_by=[latest.invoice])
        return (dunning
            .join(last, condition=(last.invoice == dunning.invoice)
                & (last.date == dunning.date))
            .select(dunning.invoice, Max(dunning.id).as_('id'),
                where=where, group_by=[dunning.invoice]))

    @classmethod
    def get_dunning_level(cls, invoices, name):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        result = {i.id: None for i in invoices}
        for sub_ids in grouped_slice(
                [i.id for i in invoices], backend.MAX_QUERY_PARAMS):
            latest = cls._latest_done_dunnings(sub_ids)
            cursor.execute(*latest
                .join(dunning, condition=dunning.id == latest.id)
                .select(latest.invoice, dunning.level))
            result.update(cursor)
        return result

    @classmethod
    def search_dunning_level(cls, name, clause):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        dunning = Dunning.__table__()
        latest = cls._latest_done_dunnings()
        _, operator, value = clause[:3]
        if value is None and operator in {'=', '!='}:
            query = latest.select(latest.invoice)
            return [('id', 'not in' if operator == '=' else 'in', query)]
        nested = clause[0][len(name) + 1:] or (
            'rec_name' if isinstance(value, str) else 'id')
        levels = Level.search([(nested, *clause[1:])], query=True)
        query = (latest
            .join(dunning, condition=dunning.id == latest.id)
            .select(latest.invoice, where=dunning.level.in_(levels)))
        return [('id', 'in', query)]

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunnings', None)
        default.setdefault('dunning_blocked', False)
        default.setdefault('dunning_block_reason', None)
        return super().copy(invoices, default=default)

    @classmethod
    def dunning_moves(cls, invoice, where):
        """The query of (invoice, move) of the invoices of the table invoice
        selected by where: their move and their additional moves
        (rescheduled lines) other than their move, each once (a UNION ALL:
        the pairs of all the invoices are not compared, as by a UNION)"""
        pool = Pool()
        AdditionalMove = pool.get('account.invoice-additional-account.move')
        additional = AdditionalMove.__table__()
        return Union(
            invoice.select(
                invoice.id.as_('invoice'), invoice.move.as_('move'),
                where=where),
            invoice.join(additional,
                condition=additional.invoice == invoice.id).select(
                additional.invoice.as_('invoice'),
                additional.move.as_('move'),
                where=where & (additional.move != Null)
                & ((invoice.move == Null)
                    | (additional.move != invoice.move)),
                distinct=True),
            all_=True)

    @classmethod
    def dunning_lines_from(cls, invoice, line, where):
        """The FROM clause of the receivable lines (table line) of the
        invoices of the table invoice selected by where: the lines of their
        account in their move and in their additional moves (rescheduled
        lines). The one definition of what an invoice asks to pay."""
        moves = cls.dunning_moves(invoice, where)
        return (moves
            .join(invoice, condition=invoice.id == moves.invoice)
            .join(line, condition=cls.dunning_line_of(
                    line, invoice, moves.move)))

    @staticmethod
    def dunning_line_of(line, invoice, move):
        """The SQL condition of a line (table line) that the invoice (table
        invoice) asks to pay in the move (a column): of the invoice's
        account in that move"""
        return (line.move == move) & (line.account == invoice.account)

    @classmethod
    def dunning_lines_union(cls, select):
        """The query of the receivable lines of invoices of
        dunning_lines_from, by a UNION ALL of the queries of select(invoice,
        line, from_), from_ the FROM clause of the tables invoice and line:
        of the lines of the move of the invoices, then of the lines of their
        additional moves (other than their move, each once); select gives
        the columns and the condition on the invoices. The database reads
        the invoices once, where dunning_lines_from joins them to their
        moves."""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        AdditionalMove = pool.get('account.invoice-additional-account.move')
        invoice, line = cls.__table__(), MoveLine.__table__()
        queries = [select(invoice, line, invoice.join(line,
                    condition=cls.dunning_line_of(
                        line, invoice, invoice.move)))]
        invoice, line = cls.__table__(), MoveLine.__table__()
        additional = AdditionalMove.__table__()
        moves = additional.select(additional.invoice.as_('invoice'),
            additional.move.as_('move'),
            where=additional.move != Null, distinct=True)
        queries.append(select(invoice, line, invoice
                .join(moves, condition=(moves.invoice == invoice.id)
                    & ((invoice.move == Null)
                        | (moves.move != invoice.move)))
                .join(line, condition=cls.dunning_line_of(
                        line, invoice, moves.move))))
        return Union(*queries, all_=True)

    @classmethod
    def dunning_open_where(cls, invoice, company_ids, invoice_ids=None):
        "The SQL condition of the posted customer invoices of companies"
        where = ((invoice.type == 'out')
            & (invoice.state == 'posted')
            & invoice.company.in_([int(c) for c in company_ids]))
        if invoice_ids is not None:
            where &= in_ids(invoice.id, invoice_ids)
        return where

    @classmethod
    def dunning_candidates(cls, company_ids):
        """Return {invoice id: (company, party, currency)} of the posted
        customer invoices of the companies whose dunning is not blocked"""
        cursor = Transaction().connection.cursor()
        invoice = cls.__table__()
        cursor.execute(*invoice.select(
                invoice.id, invoice.company, invoice.party, invoice.currency,
                where=cls.dunning_open_where(invoice, company_ids)
                & (Coalesce(invoice.dunning_blocked, False)
                    == Literal(False))))
        return {r[0]: r[1:] for r in fetched(cursor)}

    @classmethod
    def dunning_blocked_ids(cls, invoice_ids):
        "Return the ids of the invoices of invoice_ids with dunning blocked"
        cursor = Transaction().connection.cursor()
        invoice = cls.__table__()
        result = set()
        for sub_ids in id_slices(invoice_ids):
            cursor.execute(*invoice.select(invoice.id,
                    where=in_ids(invoice.id, sub_ids)
                    & (invoice.dunning_blocked == Literal(True))))
            result.update(i for i, in cursor)
        return result

    @classmethod
    def dunning_figures(cls, date, company_ids, invoice_ids=None,
            disputes=True, unpaid=None):
        """Return {invoice id: InvoiceFigures} of the posted customer
        invoices of the companies with an amount to pay, in a few queries.

        Partial payments (unreconciled payment lines) are allocated to the
        earliest due dates first; the amounts disputed are left out (unless
        not disputes), of the amount overdue first; all that is left of an
        invoice of a broken payment plan is overdue. unpaid: what
        dunning_unpaid returned for the companies, read again when None."""
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        Plan = pool.get('account.invoice.dunning.plan')
        if unpaid is None:
            # Read for invoice_ids alone (a list or a query of ids)
            unpaid = cls.dunning_unpaid(company_ids, invoice_ids)
            invoice_ids = None
        disputed = (Dispute.excluded_amounts(company_ids) if disputes
            else {})
        # A broken payment plan makes all that is left due at once
        accelerated = Plan.accelerated_invoices(company_ids)
        return cls.dunning_figures_of(date, unpaid, invoice_ids=invoice_ids,
            disputed=disputed, accelerated=accelerated)

    @classmethod
    def dunning_figures_of(cls, date, unpaid, invoice_ids=None,
            disputed=None, accelerated=()):
        """Return {invoice id: InvoiceFigures} of the invoices of unpaid (of
        invoice_ids only when given) with an amount to pay on date, without
        a query; disputed: {invoice: amount left out}, accelerated: the
        invoices whose amount left is all overdue"""
        lines, payments = unpaid
        if invoice_ids is not None:
            lines = {i: lines[i] for i in invoice_ids if i in lines}
        disputed = disputed or {}
        result = {}
        for invoice_id, invoice_lines in lines.items():
            # payments are negative amounts
            credit = -payments.get(invoice_id, Decimal(0))
            remaining = overdue = Decimal(0)
            due_date = None
            for maturity_date, amount in invoice_lines:
                unpaid = max(amount - credit, Decimal(0))
                credit = max(credit - amount, Decimal(0))
                remaining += unpaid
                if unpaid > 0:
                    if due_date is None:
                        due_date = maturity_date
                    if maturity_date <= date:
                        overdue += unpaid
            if invoice_id in accelerated:
                overdue = remaining
            excluded = min(disputed.get(invoice_id, Decimal(0)), remaining)
            if remaining - excluded > 0:
                result[invoice_id] = InvoiceFigures(remaining - excluded,
                    max(overdue - excluded, Decimal(0)), due_date, excluded)
        return result

    @classmethod
    def dunning_unpaid(cls, company_ids, invoice_ids=None):
        """Return the unpaid lines {invoice: [(due date, amount)]} by due
        date and the sum of the unreconciled payments {invoice: amount} of
        the open invoices of the companies (of invoice_ids when given), in
        two queries: what dunning_figures_of computes the figures from"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        InvoicePaymentLine = pool.get('account.invoice-account.move.line')
        cursor = Transaction().connection.cursor()
        invoice = cls.__table__()
        line = MoveLine.__table__()
        payment = InvoicePaymentLine.__table__()
        types = [None, 'DATE', 'NUMERIC', 'NUMERIC']
        where = cls.dunning_open_where(invoice, company_ids, invoice_ids)
        unreconciled = line.reconciliation == Null
        if invoice_ids is not None and backend.name == 'sqlite':
            # From the invoices: with the index of the reconciliations,
            # SQLite reads all the unreconciled lines of the database
            unreconciled = Pos(line.reconciliation) == Null
        debit, credit = invoice_debit_credit(line, invoice)
        due_date = Coalesce(line.maturity_date, invoice.invoice_date)
        if invoice_ids is not None and backend.name == 'postgresql':
            query = cls._dunning_unpaid_lines_lateral(invoice, line, where,
                [due_date.as_('maturity_date'), debit.as_('debit'),
                    credit.as_('credit')])
        else:
            query = cls.dunning_lines_from(invoice, line, where).select(
                invoice.id.as_('invoice'), due_date.as_('maturity_date'),
                debit.as_('debit'), credit.as_('credit'),
                where=unreconciled,
                order_by=[invoice.id, due_date])
        cursor.execute(*apply_types(query, types))
        lines = defaultdict(list)
        for (invoice_id, maturity_date, line_debit,
                line_credit) in fetched(cursor):
            lines[invoice_id].append(
                (maturity_date, line_amount(line_debit, line_credit)))
        query = (payment
            .join(invoice, condition=payment.invoice == invoice.id)
            .join(line, condition=payment.line == line.id)
            .select(
                invoice.id.as_('invoice'),
                Literal(None).as_('unused'),
                debit.as_('debit'), credit.as_('credit'),
                where=where & unreconciled))
        cursor.execute(*apply_types(query, types))
        # Summed in Python: SQLite sums with floats
        payments = defaultdict(Decimal)
        for invoice_id, _, line_debit, line_credit in fetched(cursor):
            payments[invoice_id] += line_amount(line_debit, line_credit)
        return lines, payments

    @classmethod
    def _dunning_unpaid_lines_lateral(cls, invoice, line, where, columns):
        """The query of the unreconciled lines of dunning_unpaid for the
        invoices of where, on PostgreSQL: the columns (maturity_date, debit
        and credit, of the tables invoice and line) of the lines of each
        move found by the index of their move in a LATERAL subquery (its
        LIMIT keeps PostgreSQL from making it a join), where the planner
        would read all the unreconciled lines of the database for each
        slice of invoices (a hash join)"""
        moves = cls.dunning_moves(invoice, where)
        unpaid = Lateral(line.select(*columns,
                where=cls.dunning_line_of(line, invoice, moves.move)
                & (line.reconciliation == Null),
                limit=LATERAL_LIMIT))
        # The columns of the alias of the LATERAL item (python-sql gives
        # its subquery's by attribute)
        due_date, debit, credit = (Column(unpaid, n)
            for n in ['maturity_date', 'debit', 'credit'])
        return (moves
            .join(invoice, condition=invoice.id == moves.invoice)
            .join(unpaid, 'CROSS')
            .select(invoice.id.as_('invoice'), due_date.as_('maturity_date'),
                debit.as_('debit'), credit.as_('credit'),
                order_by=[invoice.id, due_date]))

    @classmethod
    def dunning_payment_history(cls, invoice_ids):
        """Return the lines to pay {invoice: [(due date, amount)]} and the
        payments {invoice: [(date, amount)]} of invoices, in their currency,
        whether reconciled or not, in two queries a slice of ids, or two
        queries when invoice_ids is a query of ids"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        invoice = cls.__table__()
        line = MoveLine.__table__()
        lines, payments = defaultdict(list), defaultdict(list)
        if isinstance(invoice_ids, Query):
            slices = [invoice_ids]
        else:
            slices = id_slices(invoice_ids)
        for sub_ids in slices:
            where = in_ids(invoice.id, sub_ids)
            debit, credit = invoice_debit_credit(line, invoice)
            to_pay = cls.dunning_lines_from(invoice, line, where).select(
                invoice.id.as_('invoice'), line.id.as_('line'),
                Coalesce(line.maturity_date, invoice.invoice_date).as_(
                    'date'),
                debit.as_('debit'), credit.as_('credit'),
                line.reconciliation.as_('reconciliation'))
            paid_lines = cls._dunning_lines_to_pay(to_pay, lines)
            cls._dunning_payments(to_pay, sub_ids, paid_lines, payments)
        return lines, payments

    @classmethod
    def _dunning_lines_to_pay(cls, to_pay, lines):
        "Fill lines with the lines of the query to_pay; return their ids"
        cursor = Transaction().connection.cursor()
        query = to_pay.select(to_pay.invoice.as_('invoice'),
            to_pay.line.as_('line'), to_pay.date.as_('date'),
            to_pay.debit.as_('debit'), to_pay.credit.as_('credit'))
        cursor.execute(*apply_types(query, [None, None, 'DATE', 'NUMERIC',
                    'NUMERIC']))
        paid_lines = set()
        for (invoice_id, line_id, date, debit,
                credit) in fetched(cursor):
            paid_lines.add(line_id)
            lines[invoice_id].append((date, line_amount(debit, credit)))
        return paid_lines

    @classmethod
    def _dunning_payments(cls, to_pay, invoice_ids, paid_lines, payments):
        """Fill payments with the other lines of the reconciliations of the
        lines to_pay, and the payment lines of invoice_ids not reconciled
        yet"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        InvoicePaymentLine = pool.get('account.invoice-account.move.line')
        cursor = Transaction().connection.cursor()
        invoice = cls.__table__()
        other = MoveLine.__table__()
        move = Move.__table__()
        payment = InvoicePaymentLine.__table__()
        debit, credit = invoice_debit_credit(other, invoice)
        columns = [move.date.as_('date'), debit.as_('debit'),
            credit.as_('credit')]
        reconciled = (to_pay
            .join(other,
                condition=other.reconciliation == to_pay.reconciliation)
            .join(invoice, condition=invoice.id == to_pay.invoice)
            .join(move, condition=move.id == other.move)
            .select(
                to_pay.invoice.as_('invoice'), other.id.as_('line'),
                *columns, Literal(None).as_('reconciliation'),
                where=to_pay.reconciliation != Null))
        # The reconciled payment lines are left out in Python: a condition
        # on the reconciliation makes SQLite scan all the unreconciled lines
        # of the ledger for each slice instead of starting from the invoices
        unreconciled = (payment
            .join(invoice, condition=invoice.id == payment.invoice)
            .join(other, condition=other.id == payment.line)
            .join(move, condition=move.id == other.move)
            .select(
                invoice.id.as_('invoice'), other.id.as_('line'),
                *columns, other.reconciliation.as_('reconciliation'),
                where=in_ids(payment.invoice, invoice_ids)))
        query = Union(reconciled, unreconciled)
        query = query.select(query.invoice.as_('invoice'),
            query.line.as_('line'), query.date.as_('date'),
            query.debit.as_('debit'), query.credit.as_('credit'),
            query.reconciliation.as_('reconciliation'))
        cursor.execute(*apply_types(query, [None, None, 'DATE', 'NUMERIC',
                    'NUMERIC', None]))
        seen = set()
        for (invoice_id, line_id, date, debit, credit,
                reconciliation) in fetched(cursor):
            if (reconciliation is not None or line_id in paid_lines
                    or (invoice_id, line_id) in seen):
                continue
            seen.add((invoice_id, line_id))
            payments[invoice_id].append((date, -line_amount(debit, credit)))

    @classmethod
    def dunning_penalty_facts(cls, invoice_ids):
        """Return {invoice: InvoiceFacts} of the invoices: party, company,
        currency, the waivers of the invoice and of the party, the invoice
        date and the country of the invoice address, in a query a slice of
        ids"""
        pool = Pool()
        Party = pool.get('party.party')
        Address = pool.get('party.address')
        Country = pool.get('country.country')
        invoice = cls.__table__()
        party = Party.__table__()
        address = Address.__table__()
        country = Country.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in id_slices(invoice_ids):
            cursor.execute(*invoice
                .join(party, condition=party.id == invoice.party)
                .join(address, 'LEFT',
                    condition=address.id == invoice.invoice_address)
                .join(country, 'LEFT', condition=country.id == address.country)
                .select(invoice.id, invoice.party, invoice.company,
                    invoice.currency, invoice.dunning_penalty_waived,
                    party.dunning_penalty_waived, invoice.invoice_date,
                    country.code,
                    where=in_ids(invoice.id, sub_ids)))
            for (invoice_id, party_id, company_id, currency_id, waived,
                    party_waived, invoice_date,
                    country_code) in fetched(cursor):
                result[invoice_id] = InvoiceFacts(party_id, company_id,
                    currency_id, bool(waived), bool(party_waived),
                    to_date(invoice_date), country_code or None)
        return result


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'
    dunning_penalty_invoice = fields.Many2One(
        'account.invoice', "Penalty of Invoice", readonly=True,
        ondelete='RESTRICT',
        help="The late invoice whose penalties this line charges.")
    dunning_penalty_kind = fields.Selection([
            (None, ""),
            ('interest', "Interest"),
            ('indemnity', "Recovery Indemnity"),
            ('fee', "Fees"),
            ], "Penalty Kind", readonly=True)

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_penalty_invoice', None)
        default.setdefault('dunning_penalty_kind', None)
        return super().copy(lines, default=default)
