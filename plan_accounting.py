# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What a payment plan writes in the accounting when it starts: the invoice
of the fees and interest agreed, and the receivable lines of its invoices
rescheduled on the installments through Tryton's own rescheduling."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.pool import Pool


class PlanAccountingMixin:
    "The accounting of a payment plan"
    __slots__ = ()

    def charge(self, date):
        """Post the invoice of the fees and interest of the installments,
        or return None when nothing is charged"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        fees = self.fee_amount or Decimal(0)
        interest = sum((i.charges for i in self.installments),
            Decimal(0)) - fees
        if not fees and not interest:
            return None
        first = sorted(self.invoices, key=lambda i: i.id)[0]
        invoice = Invoice._penalty_invoice(first, date)
        invoice.invoice_date = date
        invoice.payment_term = None
        invoice.description = gettext(
            'account_invoice_dunning.msg_plan_charges_description')
        invoice.save()
        lines = []
        for kind, amount in [('fee', fees), ('interest', interest)]:
            if amount:
                line = Invoice._penalty_line(invoice, first, kind, amount,
                    date)
                line.dunning_penalty_invoice = None
                line.description = gettext(
                    'account_invoice_dunning.msg_plan_charges_%s' % kind,
                    plan=self.rec_name)
                lines.append(line)
        Line.save(lines)
        Invoice.update_taxes([invoice])
        Invoice.post([invoice])
        return invoice

    def reschedule(self, remaining, date):
        """Reschedule the unpaid receivable lines of the invoices on the
        installments, the earliest due invoices first; what was already
        paid of an invoice falls due on date, paid by its payments"""
        pool = Pool()
        Reschedule = pool.get('account.move.line.reschedule', type='wizard')
        Term = pool.get('account.move.line.reschedule.term')
        pieces = self.allocate(remaining)
        if self.charges_invoice:
            pieces[self.charges_invoice.id] = [(i.date, i.charges)
                for i in self.installments if i.charges]
        invoices = set(self.invoices)
        if self.charges_invoice:
            invoices.add(self.charges_invoice)
        for invoice in sorted(invoices, key=lambda i: i.id):
            if invoice.id not in pieces:
                continue
            lines = [l for l in invoice.lines_to_pay
                if not l.reconciliation]
            to_pay = sum((l.amount for l in lines), Decimal(0))
            terms = [Term(date=d, amount=a, currency=self.currency)
                for d, a in pieces[invoice.id]]
            prepaid = to_pay - sum((t.amount for t in terms), Decimal(0))
            if prepaid:
                terms.insert(0, Term(
                        date=date, amount=prepaid, currency=self.currency))
            move, _ = Reschedule.reschedule_lines(
                lines, lines[0].move.journal, terms)
            move.origin = invoice
            move.description = gettext(
                'account_invoice_dunning.msg_plan_move_description',
                plan=self.rec_name)
            move.save()
            move.post()

    def allocate(self, remaining):
        """Return {invoice id: [(date, amount)]}: the principal of the
        installments shared out among the invoices of remaining, the
        oldest first"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = sorted(Invoice.browse(list(remaining)),
            key=lambda i: (i.invoice_date or dt.date.min, i.id))
        result = defaultdict(list)
        installments = [[i.date, i.principal]
            for i in sorted(self.installments, key=lambda i: i.date)]
        for invoice in invoices:
            left = remaining[invoice.id]
            for installment in installments:
                if left <= 0:
                    break
                amount = min(left, installment[1])
                if amount > 0:
                    result[invoice.id].append((installment[0], amount))
                    installment[1] -= amount
                    left -= amount
        return result
