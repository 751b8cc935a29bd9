# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What a letter prints of the invoices it reminds (a mixin of the letter):
each invoice, the totals, the reminders sent before, the promises and plans
recalled; the invoices of the letters of a batch read at once."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from trytond.i18n import gettext
from trytond.pool import Pool

from .common import id_slices


class LetterInvoicesMixin:
    "What the letter of a dispatch prints of its invoices and reminders"
    __slots__ = ()

    @classmethod
    def reminders_of(cls, dispatch, shared=None):
        """The reminders of the letter of dispatch, in the order printed:
        by date and number of their invoices"""
        reminders = dispatch.reminders
        invoices = cls.letter_invoices(reminders, shared)
        return sorted(reminders, key=lambda d: (
                invoices[d.invoice.id].invoice_date or dt.date.min,
                invoices[d.invoice.id].number or '', d.invoice.id or 0))

    @classmethod
    def previous_dunnings(cls, reminder, shared=None):
        "The reminders sent before reminder for its invoice"
        previous = shared.get('previous', {}) if shared is not None else {}
        if reminder.id in previous:
            return previous[reminder.id]
        return list(reminder.previous_dunnings)

    @classmethod
    def read_previous(cls, reminders):
        """{reminder id: [the reminders sent before it for its invoice]} of
        reminders, read at once"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        previous = Dunning.get_previous_dunnings(
            reminders, 'previous_dunnings')
        done = {d.id: d for d in Dunning.browse(
                list({i for ids in previous.values() for i in ids}))}
        return {r: [done[i] for i in ids] for r, ids in previous.items()}

    @classmethod
    def letter_invoices(cls, reminders, shared=None):
        """{invoice id: what the letters print of it} of the invoices of
        reminders: read once for the letters of a batch (shared), else for
        these reminders"""
        if shared is not None and shared.get('batch_read'):
            # read_batch read them all
            return shared['invoices']
        ids = {d.invoice.id for d in reminders}
        known = shared.setdefault('invoices', {}) if shared is not None else {}
        missing = ids - set(known)
        if missing:
            known.update(cls.read_invoices(missing))
        return known

    @classmethod
    def read_invoices(cls, invoice_ids):
        """{invoice id: SimpleNamespace} of what the letters print of the
        invoices: number, reference, date, total, invoice address (id) and
        description (its own, else that of its first three lines), read in
        a few queries whatever their number"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        invoices = {r['id']: SimpleNamespace(**r) for r in Invoice.read(
                list(invoice_ids), ['number', 'reference', 'invoice_date',
                    'description', 'total_amount_cache', 'invoice_address'])}
        # The total stored when the invoice was posted, else computed
        uncached = [i for i, v in invoices.items()
            if v.total_amount_cache is None]
        totals = {r['id']: r['total_amount']
            for r in Invoice.read(uncached, ['total_amount'])}
        for invoice_id, invoice in invoices.items():
            invoice.total_amount = totals.get(
                invoice_id, invoice.total_amount_cache)
        undescribed = [i for i, v in invoices.items() if not v.description]
        lines = defaultdict(list)
        for sub_ids in id_slices(undescribed):
            for line in InvoiceLine.search_read([
                        ('invoice', 'in', list(sub_ids)),
                        ('type', '=', 'line'),
                        ], fields_names=[
                        'invoice', 'description', 'product.rec_name']):
                lines[line['invoice']].append(
                    line['description'] or (line.get('product.') or {}).get(
                        'rec_name') or '')
        for invoice_id in undescribed:
            invoices[invoice_id].description = ', '.join(
                filter(None, lines[invoice_id][:3]))
        return invoices

    @classmethod
    def _totals(cls, reminders, fmt):
        "The amounts of the letter: the sums of its reminders"
        def total(name):
            return sum((getattr(d, name) or 0 for d in reminders),
                Decimal(0))
        penalties = [total(n) for n in [
                'interest_amount', 'indemnity_amount', 'fee_amount']]
        amount = total('amount')
        return {
            'amount': fmt.money(amount),
            'remaining_amount': fmt.money(total('remaining_amount')),
            'interest_amount': fmt.money(penalties[0]),
            'indemnity_amount': fmt.money(penalties[1]),
            'fee_amount': fmt.money(penalties[2]),
            'penalties_amount': fmt.money(sum(penalties)),
            'total_amount_claimed': fmt.money(amount + sum(penalties)),
            'has_penalties': any(penalties),
            }

    @classmethod
    def _first_invoice_values(cls, invoices, reminders, fmt):
        first = invoices[0] if invoices else SimpleNamespace(
            number='', reference='', date='', description='',
            total_amount='')
        due_dates = [d.due_date for d in reminders if d.due_date]
        return {
            'invoice_number': first.number,
            'invoice_reference': first.reference,
            'invoice_date': first.date,
            'invoice_description': first.description,
            'total_amount': first.total_amount,
            'due_date': fmt.date(min(due_dates) if due_dates else None),
            'days_overdue': max(
                (i.days_overdue for i in invoices), default=0),
            }

    @classmethod
    def _invoices_label(cls, invoices):
        "\"invoice F-1\" or \"3 invoices\", in the language of the context"
        if len(invoices) == 1:
            return gettext('account_invoice_dunning.msg_letter_invoice_one',
                number=invoices[0].number)
        return gettext('account_invoice_dunning.msg_letter_invoice_many',
            count=len(invoices))

    @classmethod
    def _payment_reference(cls, party, invoices):
        """The reference to quote with the payment: the number of the
        invoice, else the customer's code, else the numbers"""
        if len(invoices) == 1:
            return invoices[0].number
        return party.code or ', '.join(i.number for i in invoices)

    @classmethod
    def _previous(cls, reminders, fmt, channels, levels, invoices,
            shared=None):
        """The reminders sent before those of the letter, as the letter
        recalls them: one line a letter sent, with the invoices it
        reminded among those of this letter"""
        sent = {}
        numbers = defaultdict(list)
        for reminder in reminders:
            for previous in cls.previous_dunnings(reminder, shared):
                key = (previous.dispatch.id if previous.dispatch
                    else -previous.id)
                sent.setdefault(key, []).append(previous)
                numbers[key].append(
                    invoices[reminder.invoice.id].number or '')
        lines = []
        for key, dunnings in sent.items():
            first = dunnings[0]
            lines.append((first.date, key, SimpleNamespace(
                        date=fmt.date(first.date),
                        # As printed on that letter, even if renamed since
                        level=first.level_name or levels[first.level.id],
                        channel=channels.get(first.channel, ''),
                        tracking_number=first.tracking_number or '',
                        delivery=(first.dispatch.delivery_text(fmt.date)
                            if first.dispatch else ''),
                        amount=fmt.money(sum(
                                (d.amount for d in dunnings), Decimal(0))),
                        deadline=fmt.date(first.deadline),
                        invoices=', '.join(n for n in numbers[key] if n))))
        return [l for _, _, l in sorted(lines, key=lambda l: l[:2])]

    @classmethod
    def _broken_promises(cls, reminders, fmt):
        """The promises to pay not kept that the reminders of the letter
        follow, as the letter recalls them"""
        promises = {d.broken_promise.id: d.broken_promise
            for d in reminders if d.broken_promise}
        return [SimpleNamespace(
                given_on=fmt.date(p.given_on),
                date=fmt.date(p.date),
                amount=fmt.money(p.amount),
                paid_amount=fmt.money(p.paid_amount or 0),
                paid=bool(p.paid_amount))
            for p in sorted(promises.values(), key=lambda p: (p.date, p.id))]

    @classmethod
    def _plans(cls, plans, fmt):
        """The payment plans the letter recalls: whose installment was
        missed, or that were broken"""
        result = []
        for plan in sorted(set(plans), key=lambda p: p.id):
            installments = sorted(plan.installments, key=lambda i: i.date)
            paid = plan.installments_paid()
            missed = [i for i in installments if paid[i] < i.amount]
            first_missed = missed[0].date if missed else None
            result.append(SimpleNamespace(
                    agreed_on=fmt.long_date(plan.agreed_on),
                    number=len(installments),
                    total=fmt.money(plan.total_amount),
                    missed=fmt.long_date(first_missed),
                    pay_by=fmt.long_date(first_missed
                        + dt.timedelta(days=plan.grace_days)
                        if first_missed else None),
                    remaining=fmt.money(sum(
                            (i.amount - paid[i] for i in installments),
                            Decimal(0)))))
        return result

    @classmethod
    def _invoice_values(cls, dunning, fmt, invoice):
        """What the letter prints of the invoice of dunning (invoice: what
        read_invoices read of it)"""
        penalties = sum((v or 0 for v in [dunning.interest_amount,
                    dunning.indemnity_amount, dunning.fee_amount]),
            Decimal(0))
        return SimpleNamespace(
            number=invoice.number or '',
            reference=invoice.reference or '',
            date=fmt.date(invoice.invoice_date),
            description=invoice.description or '',
            total_amount=fmt.money(invoice.total_amount),
            due_date=fmt.date(dunning.due_date),
            # The getter itself: one reminder at a time costs less
            days_overdue=dunning.get_days_overdue('days_overdue') or 0,
            remaining_amount=fmt.money(dunning.remaining_amount),
            amount=fmt.money(dunning.amount),
            penalties=fmt.money(penalties) if penalties else '',
            disputed=(fmt.money(dunning.disputed_amount)
                if dunning.disputed_amount else ''),
            total_claimed=fmt.money((dunning.amount or 0) + penalties))
