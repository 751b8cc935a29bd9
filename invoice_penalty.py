# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The invoices of the late-payment penalties of customer invoices: the
interest, the indemnity and the fees accrued and not invoiced yet, invoiced
in draft to the customer (the Invoice Late-Payment Penalties wizard)."""
from collections import defaultdict
from decimal import Decimal

from trytond import backend
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import grouped_slice

from .exceptions import PenaltyError


class InvoicePenaltyMixin:
    "The invoicing of the penalties of account.invoice"
    __slots__ = ()

    @classmethod
    def invoice_dunning_penalties(cls, invoices, date):
        """Create, in draft, the invoices of the penalties accrued on date by
        the late invoices and not invoiced yet; return them"""
        pool = Pool()
        Line = pool.get('account.invoice.line')
        Penalty = pool.get('account.invoice.dunning.penalty')
        invoices = [i for i in invoices
            if i.type == 'out' and i.state in {'posted', 'paid'}]
        requests = {i.id: (i, i.dunning_level or i._penalty_level(), date,
                Decimal(0)) for i in invoices}
        penalties = Penalty.compute_penalties(
            {k: v for k, v in requests.items() if v[1]})
        invoiced = cls._invoiced_penalties([i.id for i in invoices])
        new_invoices, lines = {}, []
        for invoice in invoices:
            accrued = penalties.get(invoice.id)
            if not accrued:
                continue
            already = invoiced.get(invoice.id, {})
            for kind, amount in [
                    ('interest', accrued.interest),
                    ('indemnity', accrued.indemnity),
                    ('fee', accrued.fee)]:
                amount -= already.get(kind, 0)
                if amount <= 0:
                    continue
                key = (invoice.company, invoice.party, invoice.currency)
                if key not in new_invoices:
                    new_invoices[key] = cls._penalty_invoice(invoice, date)
                lines.append(cls._penalty_line(
                        new_invoices[key], invoice, kind, amount, date))
        if not lines:
            raise PenaltyError(gettext(
                    'account_invoice_dunning.msg_penalty_nothing'))
        new = list(new_invoices.values())
        cls.save(new)
        Line.save(lines)
        cls.update_taxes(new)
        return new

    @classmethod
    def _penalty_line(cls, penalty_invoice, invoice, kind, amount, date):
        "The line of penalty_invoice that charges amount of kind for invoice"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Line = pool.get('account.invoice.line')
        Lang = pool.get('ir.lang')
        config = Configuration(1)
        company = invoice.company.id
        account = config.get_multivalue(
            'dunning_penalty_account', company=company)
        if kind == 'indemnity':
            account = config.get_multivalue(
                'dunning_indemnity_account', company=company) or account
        if not account:
            raise PenaltyError(gettext(
                    'account_invoice_dunning.msg_penalty_account_missing',
                    company=invoice.company.rec_name))
        return Line(
            invoice=penalty_invoice,
            company=invoice.company,
            currency=invoice.currency,
            type='line',
            quantity=1,
            unit_price=amount,
            account=account,
            taxes=[],
            dunning_penalty_invoice=invoice,
            dunning_penalty_kind=kind,
            description=gettext(
                'account_invoice_dunning.msg_penalty_line_%s' % kind,
                invoice=invoice.rec_name,
                date=Lang.get().strftime(date)))

    def _penalty_level(self):
        "The level of the latest reminder, done or not"
        dunnings = [d for d in self.dunnings if d.state != 'cancelled']
        return dunnings[-1].level if dunnings else None

    @classmethod
    def _penalty_invoice(cls, invoice, date):
        invoice_ = cls(
            type='out',
            company=invoice.company,
            party=invoice.party,
            invoice_address=invoice.invoice_address,
            currency=invoice.currency,
            account=invoice.account,
            payment_term=invoice.payment_term,
            invoice_date=None,
            )
        invoice_.on_change_type()
        invoice_.description = gettext(
            'account_invoice_dunning.msg_penalty_invoice_description')
        return invoice_

    @classmethod
    def _invoiced_penalties(cls, invoice_ids):
        "Return {late invoice: {kind: amount}} invoiced and not cancelled"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        result = defaultdict(lambda: defaultdict(Decimal))
        for sub_ids in grouped_slice(invoice_ids, backend.MAX_QUERY_PARAMS):
            for line in Line.search([
                        ('dunning_penalty_invoice', 'in', list(sub_ids)),
                        ('invoice.state', '!=', 'cancelled'),
                        ]):
                result[line.dunning_penalty_invoice.id][
                    line.dunning_penalty_kind] += line.amount
        return result
