# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment interest as the law computes it, without the database.

Simple interest on the unpaid amount including taxes, day by day from the
day after the due date (or another start), split at 30 June and 31 December
so that each half-year takes its own annual rate, lowered by each payment
from its date; full precision, rounded once at the end by the caller."""
import datetime as dt
import functools
from decimal import Decimal


def half_year_start(date):
    "The first day of the half-year of date"
    return dt.date(date.year, 1 if date.month <= 6 else 7, 1)


def next_half_year(date):
    "The first day of the half-year after the one of date"
    start = half_year_start(date)
    if start.month == 1:
        return dt.date(start.year, 7, 1)
    return dt.date(start.year + 1, 1, 1)


def outstanding_periods(lines, payments, start, end):
    """Yield (from, to, base) with the overdue principal base owed over the
    days from (excluded) to to (included), between start and end

    lines are (due date, amount) of what the invoice asks, payments are
    (date, amount) of what was paid: a line bears interest from the day
    after its due date up to the day the payment arrives, included (paid 10
    days after the due date: 10 days of interest); the base is lower from
    the day after a payment. Payments go to the earliest due dates first; a
    payment made before a due date lowers the amount that falls due then."""
    events = sorted(
        [(d, 'due', Decimal(a)) for d, a in lines]
        + [(d, 'paid', Decimal(a)) for d, a in payments])
    due = paid = Decimal(0)
    current = start
    for date, kind, amount in events:
        if date > current:
            base = max(due - paid, Decimal(0))
            upto = min(date, end)
            if base and upto > current:
                yield current, upto, base
            current = max(current, min(date, end))
        if kind == 'due':
            due += amount
        else:
            paid += amount
    base = max(due - paid, Decimal(0))
    if base and end > current:
        yield current, end, base


def compute_interest(lines, payments, start, end, annual_rate,
        divisor=365):
    """Return the interest, unrounded, owed at end

    start is the day from which interest runs (the due date for a
    professional: interest counts from the day after); annual_rate(date)
    gives the annual rate of the half-year that starts on date."""
    interest = Decimal(0)
    if end <= start:
        return interest
    for begin, stop, base in outstanding_periods(lines, payments, start, end):
        for half_year, days in half_year_days(begin, stop):
            rate = annual_rate(half_year)
            interest += base * Decimal(rate) * days / Decimal(divisor)
    return interest


@functools.lru_cache(maxsize=4096)
def half_year_days(begin, stop):
    """The days from begin (excluded) to stop (included) by half-year:
    ((first day of the half-year, days in it), ...); the invoices of a run
    share a few due dates and dates: each is split once"""
    result = []
    while begin < stop:
        boundary = min(next_half_year(begin + dt.timedelta(days=1))
            - dt.timedelta(days=1), stop)
        # The days from begin (excluded) to boundary (included) all belong
        # to the half-year of the day after begin
        result.append((half_year_start(begin + dt.timedelta(days=1)),
                (boundary - begin).days))
        begin = boundary
    return tuple(result)


def reduce_lines(lines, amount):
    """The lines [(due date, amount)] without amount, taken from the
    earliest due dates first (as the amount claimed leaves it out of the
    amount overdue first), by due date"""
    result = []
    for date, line_amount in sorted(lines, key=lambda l: l[0]):
        taken = min(amount, max(line_amount, Decimal(0)))
        amount -= taken
        result.append((date, line_amount - taken))
    return result


def overdue_principal(lines, payments, date):
    """The principal of the lines [(due date, amount)] fallen due before
    date less the payments [(date, amount)] received by date, at least 0"""
    due = sum((Decimal(a) for d, a in lines if d < date), Decimal(0))
    paid = sum((Decimal(a) for d, a in payments if d <= date), Decimal(0))
    return max(due - paid, Decimal(0))
