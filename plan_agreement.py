# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The agreement of a payment plan, printed for the customer to sign: the
invoices, the installments with their fees and interest, and what happens
when one is missed."""
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.company import CompanyReport
from trytond.pool import Pool

from .letter import _address_lines
from .letter_render import RetriedConversion


class PlanAgreement(RetriedConversion, CompanyReport):
    "The agreement of payment plans, one document per plan"
    __name__ = 'account.invoice.dunning.plan.agreement'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        shared = {}
        context['letters'] = [cls.get_agreement(p, Date.today(), shared)
            for p in records]
        return context

    @classmethod
    def get_agreement(cls, plan, today, shared=None):
        "Return the data printed on the agreement of plan"
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        party = plan.party
        language = party.lang.code if party.lang else None
        fmt = Letter._formatter(language, plan.currency, shared)
        company_values = Letter._shared(shared,
            ('company', plan.company.id, language),
            lambda: Letter._company_values(plan.company, language))
        installments = sorted(plan.installments, key=lambda i: i.date)
        invoices = [i for i in plan.invoices if i != plan.charges_invoice]
        remaining = cls.planned_amounts(plan, today)
        return SimpleNamespace(
            **vars(company_values),
            company_legal=plan.company.dunning_legal_mentions(fmt.lang),
            lang=language,
            customer_name=party.full_name or party.rec_name,
            customer_address=_address_lines(
                party.address_get(type='invoice')),
            customer_code=party.code or '',
            registered=False,
            tracking_number='',
            date=fmt.long_date(plan.agreed_on or today),
            invoices=[SimpleNamespace(
                    index=index,
                    number=i.number or '',
                    date=fmt.long_date(i.invoice_date),
                    total_amount=fmt.money(i.total_amount),
                    remaining=fmt.money(remaining.get(i.id, Decimal(0))))
                for index, i in enumerate(
                    sorted(invoices, key=lambda i: i.id), 1)],
            installments=[SimpleNamespace(
                    index=index,
                    date=fmt.long_date(i.date),
                    principal=fmt.money(i.principal),
                    charges=fmt.money(i.charges),
                    amount=fmt.money(i.amount))
                for index, i in enumerate(installments, 1)],
            number=len(installments),
            principal=fmt.money(plan.principal_amount),
            charges=fmt.money(plan.charges_amount),
            has_charges=bool(plan.charges_amount),
            fee_amount=fmt.money(plan.fee_amount or 0),
            interest_rate=fmt.lang.format('%.2f', plan.interest_rate or 0),
            has_interest=bool(plan.interest_rate),
            total=fmt.money(plan.total_amount),
            grace_days=plan.grace_days,
            )

    @classmethod
    def planned_amounts(cls, plan, today):
        """Return {invoice id: amount planned}: what was left to pay of each
        invoice when the plan started, or today for a draft"""
        pool = Pool()
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        if plan.state == 'draft':
            return plan.remaining(today)
        return {l.invoice.id: l.amount or Decimal(0)
            for l in PlanInvoice.search([('plan', '=', plan.id)])}
