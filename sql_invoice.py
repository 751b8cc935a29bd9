# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"SQL pieces shared by the engine and the penalties: what an invoice asks."
from decimal import Decimal

from sql import Literal
from sql.conditionals import Case

from trytond import backend
from trytond.pool import Pool
from trytond.tools import sqlite_apply_types


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


def invoice_moves(invoice, where):
    """The query of (invoice, move) of the invoices selected by where: their
    move and their additional moves (rescheduled lines)"""
    pool = Pool()
    AdditionalMove = pool.get('account.invoice-additional-account.move')
    additional = AdditionalMove.__table__()
    return (invoice.select(
            invoice.id.as_('invoice'), invoice.move.as_('move'),
            where=where)
        | invoice.join(additional,
            condition=additional.invoice == invoice.id).select(
            additional.invoice.as_('invoice'),
            additional.move.as_('move'),
            where=where))


def apply_types(query, types):
    "Type the columns of query on SQLite, which returns strings otherwise"
    if backend.name == 'sqlite':
        sqlite_apply_types(query, types)
    return query
