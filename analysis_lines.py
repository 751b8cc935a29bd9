# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The receivable lines of the customer invoices open at a date, of the
analyses (analysis.py): the lines and the payments of the invoices, and the
open amount of each line, the payments allocated to the earliest due dates
first."""
from sql import Literal, Null, Window
from sql.aggregate import Count, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import RowNumber
from sql.operators import Exists

from trytond.pool import Pool
from trytond.transaction import Transaction

# The states of the customer invoices whose receivables are analysed: a paid
# invoice was open at a date before its payment
INVOICE_STATES = ['posted', 'paid']


def open_at(line, reconciliation, date):
    """The condition of the move lines (with their reconciliation joined)
    posted on or before date and not reconciled at date, as Tryton's Aged
    Balance: their move is not dated after date, an anti-join with the few
    moves after date (found by the index of their date) rather than a join
    with all the moves"""
    Move = Pool().get('account.move')
    move = Move.__table__()
    return (~Exists(move.select(Literal(1),
                where=(move.id == line.move) & (move.date > date)))
        & ((line.reconciliation == Null) | (reconciliation.date > date)))


def invoice_where(invoice, company_id):
    "The condition of the customer invoices of company to analyse"
    where = ((invoice.type == 'out')
        & invoice.state.in_(INVOICE_STATES)
        & (invoice.company == company_id))
    currency = Transaction().context.get('currency')
    if currency:
        where &= invoice.currency == currency
    return where


def receivable_queries(company_id, date=None, segments=None):
    """The queries of (invoice, party, line, due_date, amount) of the
    receivable lines of the customer invoices open at date (the lines of
    Invoice.dunning_lines_from) and of (invoice, party, line, due_date,
    amount) of their payment lines open at date (no due date), in the
    company currency; or, without date, of all these lines with the date
    they were posted on and the date of their reconciliation (or NULL) as
    posted and reconciled, and the date of the invoice as sold for the
    lines of its own move (its sale; NULL for the others); with the segment
    of the party of the invoice in the query segments of (party, segment)
    (0 for none), joined to the invoices of each query (where the database
    knows their parties)

    Without date, the lines are grouped by their dates at once (the DSO):
    Invoice.dunning_lines_union reads the invoices once. At a date, they
    are joined again by invoice (to their payments): the database knows
    the invoices of the lines of Invoice.dunning_lines_from, not of a
    union, and would misjudge these joins by far."""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    InvoicePaymentLine = pool.get('account.invoice-account.move.line')

    def lines(invoice, line, from_, where=None):
        return _receivable_select(company_id, date, invoice, line, from_,
            Coalesce(line.maturity_date, invoice.invoice_date),
            Case((line.move == invoice.move, invoice.invoice_date),
                else_=Null), segments, where)
    if date is None:
        receivables = Invoice.dunning_lines_union(lines)
    else:
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        # The where of dunning_lines_from selects the invoices
        receivables = lines(invoice, line, Invoice.dunning_lines_from(
                invoice, line, invoice_where(invoice, company_id)),
            Literal(True))
    invoice = Invoice.__table__()
    line = MoveLine.__table__()
    payment = InvoicePaymentLine.__table__()
    payments = _receivable_select(company_id, date, invoice, line,
        payment
        .join(invoice, condition=invoice.id == payment.invoice)
        .join(line, condition=line.id == payment.line),
        Literal(None), Literal(None), segments)
    return [receivables, payments]


def _receivable_select(company_id, date, invoice, line, from_, due_date,
        sold, segments, where=None):
    """The query of the lines of receivable_queries of the FROM clause
    from_ of the tables invoice and line, where (the invoices of the
    company to analyse by default)"""
    pool = Pool()
    Move = pool.get('account.move')
    Reconciliation = pool.get('account.move.reconciliation')
    move = Move.__table__()
    reconciliation = Reconciliation.__table__()
    if where is None:
        where = invoice_where(invoice, company_id)
    from_ = from_.join(reconciliation, 'LEFT',
        condition=reconciliation.id == line.reconciliation)
    columns = [invoice.id.as_('invoice'), invoice.party.as_('party'),
        line.id.as_('line'), due_date.as_('due_date'),
        (line.debit - line.credit).as_('amount')]
    if segments is not None:
        from_ = from_.join(segments, 'LEFT',
            condition=segments.party == invoice.party)
        columns.append(Coalesce(segments.segment, 0).as_('segment'))
    if date is None:
        from_ = from_.join(move, condition=move.id == line.move)
        columns += [move.date.as_('posted'),
            reconciliation.date.as_('reconciled'), sold.as_('sold')]
    else:
        where &= open_at(line, reconciliation, date)
    return from_.select(*columns, where=where)


def paid_at(date):
    """The query of (invoice, amount) of the payments open at date of the
    invoices, the payment lines of receivable_queries: of all the invoices,
    for the invoices of a query that has selected them (the payment lines
    are joined to the invoices they pay, the invoices are not read again)"""
    pool = Pool()
    MoveLine = pool.get('account.move.line')
    Reconciliation = pool.get('account.move.reconciliation')
    InvoicePaymentLine = pool.get('account.invoice-account.move.line')
    payment = InvoicePaymentLine.__table__()
    line = MoveLine.__table__()
    reconciliation = Reconciliation.__table__()
    return (payment
        .join(line, condition=line.id == payment.line)
        .join(reconciliation, 'LEFT',
            condition=reconciliation.id == line.reconciliation)
        .select(payment.invoice.as_('invoice'),
            Sum(line.credit - line.debit).as_('amount'),
            where=open_at(line, reconciliation, date),
            group_by=[payment.invoice]))


def allocated_lines(company_id, date, segments=None):
    """The query of (invoice, party, line, due_date, amount) of the
    receivable lines of the customer invoices open at date, each less its
    share of the open payments of its invoice, allocated to the earliest due
    dates first; and their segment with the query segments, as
    receivable_queries

    With C the running sum of the amounts of the lines of an invoice by due
    date and P its payments, a line keeps f(C) - f(C - amount) where f(x)
    is the part of x beyond P (max(x - P, 0), or min(x - P, 0) for a credit
    note); the first line starts from 0 and the last ends at C - P, so that
    the lines of an invoice always sum to its balance (an overpayment on
    the last line)."""
    lines, _ = receivable_queries(company_id, date, segments)
    extra = [lines.segment] if segments is not None else []
    paid = paid_at(date)
    by_due = Window([lines.invoice],
        order_by=[lines.due_date.asc, lines.line.asc])
    whole = Window([lines.invoice])
    # The payments joined after the windows: by a hash of the invoices paid,
    # the lines sorted once
    ranked = lines.select(
        lines.invoice.as_('invoice'), lines.party.as_('party'),
        lines.line.as_('line'), lines.due_date.as_('due_date'),
        lines.amount.as_('amount'), *(c.as_(c.name) for c in extra),
        Sum(lines.amount, window=by_due).as_('running'),
        RowNumber(window=by_due).as_('rank'),
        Count(Literal(1), window=whole).as_('count'),
        Sum(lines.amount, window=whole).as_('total'))
    paid_amount = Coalesce(paid.amount, 0)

    def beyond(value):
        "The part of value beyond the payments, of the sign of the total"
        left = value - paid_amount
        return Case(
            ((ranked.total >= 0) & (left > 0), left),
            ((ranked.total < 0) & (left < 0), left),
            else_=0)
    high = Case((ranked.rank == ranked.count, ranked.running - paid_amount),
        else_=beyond(ranked.running))
    low = Case((ranked.rank == 1, 0),
        else_=beyond(ranked.running - ranked.amount))
    return (ranked
        .join(paid, 'LEFT', condition=paid.invoice == ranked.invoice)
        .select(ranked.invoice.as_('invoice'),
            ranked.party.as_('party'), ranked.line.as_('line'),
            ranked.due_date.as_('due_date'), (high - low).as_('amount'),
            *(getattr(ranked, c.name).as_(c.name) for c in extra)))
