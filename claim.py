# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The claim on a customer at a date, invoice by invoice, as the court file
and the declaration of claims print it: the principal left to pay (due and
not yet due at the date), the penalties of the procedure at its formal
notice (interest to the date, recovery indemnity, fees) and the basis and
rates of the interest."""
import datetime as dt
from collections import namedtuple
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

from .interest import half_year_start, next_half_year

# The claim of an invoice at a date, in the invoice currency
Claim = namedtuple('Claim', ['invoice', 'principal', 'due', 'not_due',
        'interest', 'indemnity', 'fee', 'total', 'due_date', 'rules'])
# A claim in another currency converted: the claim as invoiced, as
# converted, the rate of one unit of its currency and the date of the rate
Conversion = namedtuple('Conversion', ['claim', 'converted', 'rate', 'date'])
# An interest rule as the documents print it: its name, legal basis, the
# reference rate or contractual rate, the rate of each half-year, the days
# of its year and whence it runs (due_date or formal_notice)
InterestBasis = namedtuple('InterestBasis',
    ['name', 'legal_basis', 'reference', 'margin', 'rates', 'divisor',
        'start'])


def claim_level(party, company):
    """The level whose penalties the claim on party in company asks: the
    formal notice of the procedure of its segment (the last level of its
    ladder without one)"""
    Party = Pool().get('party.party')
    segment = Party.dunning_segments_of({(party.id, company.id)})[
        party.id, company.id]
    if not segment:
        return None, None
    ladder = segment.procedure.ladder
    notices = [l for l in ladder if l.formal_notice]
    level = notices[-1] if notices else (ladder[-1] if ladder else None)
    return level, segment


def claims_at(invoices, date):
    """Return [Claim] of the unpaid invoices at date (the disputed amounts
    included: a court or a mandataire decides on them), with the
    penalties of the formal notice of the procedure of their customer"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Penalty = pool.get('account.invoice.dunning.penalty')
    if not invoices:
        return []
    figures = {}
    for company in {i.company for i in invoices}:
        figures.update(Invoice.dunning_figures(date, [company.id],
                invoice_ids=[i.id for i in invoices if i.company == company],
                disputes=False))
    levels = {}
    requests = {}
    for invoice in invoices:
        key = (invoice.party, invoice.company)
        if key not in levels:
            levels[key] = claim_level(*key)
        level, _ = levels[key]
        if invoice.id in figures and level:
            requests[invoice.id] = (invoice, level, date,
                figures[invoice.id].overdue)
    penalties = Penalty.compute_penalties(requests)
    result = []
    for invoice in invoices:
        if invoice.id not in figures:
            continue
        invoice_figures = figures[invoice.id]
        currency = invoice.currency
        penalty = penalties.get(invoice.id)
        interest, indemnity, fee = (penalty[:3] if penalty
            else (Decimal(0),) * 3)
        principal = currency.round(invoice_figures.remaining)
        due = currency.round(invoice_figures.overdue)
        level, segment = levels[invoice.party, invoice.company]
        result.append(Claim(invoice, principal, due, principal - due,
                interest, indemnity, fee,
                principal + interest + indemnity + fee,
                invoice_figures.due_date,
                interest_rules(invoice.party, level, segment)
                if level and interest else []))
    return result


def claims_in(claims, currency, date):
    """Return the claims with their amounts in currency at the rate of date
    (those in another currency converted: each part rounded, the principal
    and the total their sums) and the [Conversion] of those converted

    The recovery indemnity is set by the law in its currency (40 EUR) and
    converted into that of the invoice at the invoice date
    (Penalty.fixed_amount): it is converted back at that date, not at
    date."""
    Currency = Pool().get('currency.currency')
    result, conversions = [], []
    for claim in claims:
        from_ = claim.invoice.currency
        if from_ == currency:
            result.append(claim)
            continue
        with Transaction().set_context(date=date):
            due, not_due, interest, fee = (
                Currency.compute(from_, amount, currency)
                for amount in [claim.due, claim.not_due, claim.interest,
                    claim.fee])
            rate = Currency.compute(from_, Decimal(1), currency, round=False)
        with Transaction().set_context(date=claim.invoice.invoice_date):
            indemnity = Currency.compute(from_, claim.indemnity, currency)
        principal = due + not_due
        converted = claim._replace(principal=principal, due=due,
            not_due=not_due, interest=interest, indemnity=indemnity, fee=fee,
            total=principal + interest + indemnity + fee)
        result.append(converted)
        conversions.append(Conversion(claim, converted, rate, date))
    return result, conversions


def interest_rules(party, level, segment):
    "The interest rules of the procedure that apply to party at level"
    pool = Pool()
    Party = pool.get('party.party')
    Penalty = pool.get('account.invoice.dunning.penalty')
    customer_type = Party.customer_type_of(party)
    return [r for r in Penalty.rules_of(level.procedure, segment)
        if r.kind == 'interest' and r.applies_to(customer_type, level)]


def interest_basis(rule, start, end):
    """The InterestBasis of rule over the days from start (excluded) to end
    (included): the annual rate of each half-year"""
    rates = []
    half_year = half_year_start(start + dt.timedelta(days=1))
    while half_year <= end:
        rates.append((half_year, rule.annual_rate(half_year)))
        half_year = next_half_year(half_year)
    return InterestBasis(rule.name, rule.legal_basis or '',
        rule.rate_table.name if rule.rate_table else '',
        rule.margin if rule.rate_table else rule.rate, rates,
        rule.divisor or 365, rule.start or 'due_date')
