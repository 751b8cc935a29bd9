# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Step (i): the generation when 10 % of the invoices are held by a promise
to pay, a dispute or a payment plan. See bench/README.rst."""
from base import Step


def promised_step(pool, date, company, settled=True):
    """(i): the generation of (a) when 10 % of the open invoices are held:
    a third under a promise to pay (half of them broken before D), a third
    partly disputed, a third in a running payment plan (half of them past
    their grace: broken by the run); the suspensions and settlements cost a
    few queries whatever their number (compare with the queries of (a));
    rolled back. (i'), not settled: the promises all wait and the plans are
    on schedule: no more queries than (a)"""
    import datetime as dt
    Dunning = pool.get('account.invoice.dunning')
    Invoice = pool.get('account.invoice')

    def day(days):
        return date + dt.timedelta(days=days)

    def setup(_):
        candidates = Invoice.dunning_candidates([company])
        ids = sorted(candidates)
        if not settled:
            # None settled: a tenth of the invoices, taken among those
            # with nothing paid yet, which no promise can be kept by
            lines, payments = Invoice.dunning_unpaid([company])
            ids = [i for i in ids if i in lines and i not in payments]
        held = ids[::max(len(ids) * 10 // max(len(candidates), 1), 1)]
        promised, disputed, planned = held[0::3], held[1::3], held[2::3]
        _insert_promises(pool, company, candidates, promised, day, settled)
        _insert_disputes(pool, company, disputed, day)
        _insert_plans(pool, company, candidates, planned, day, settled)
        return {'promised': len(promised), 'disputed': len(disputed),
            'planned': len(planned)}

    def run(data):
        from sql.aggregate import Count

        from trytond.transaction import Transaction
        dunnings = Dunning.generate_dunnings(date=date, companies=[company])
        # Counted in one query: the reminders are rolled back with the step
        table = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(Count(table.broken_promise),
                Count(table.broken_plan),
                where=(table.state == 'draft') & (table.date == date)))
        broken_promises, broken_plans = cursor.fetchone()
        return dict(data, reminders=len(dunnings),
            broken_promises=broken_promises, broken_plans=broken_plans,
            # The count above is not a query of the run
            bench_queries=1)
    return Step(run, commit=False, setup=setup,
        post=lambda result: dict(result))


def _insert_promises(pool, company, candidates, invoice_ids, day, settled):
    """Promises to pay of invoice_ids, every other one broken before D when
    settled"""
    Promise = pool.get('account.invoice.dunning.promise')
    PromiseInvoice = pool.get(
        'account.invoice.dunning.promise-account.invoice')
    from trytond.modules.account_invoice_dunning.bulk import insert_rows
    vlist = []
    for i, invoice_id in enumerate(invoice_ids):
        _, party, currency = candidates[invoice_id]
        broken = settled and i % 2
        vlist.append({'company': company, 'party': party,
                'currency': currency, 'amount': 100, 'state': 'pending',
                'given_on': day(-10 if broken else -1),
                'date': day(-8 if broken else 5),
                'suspended_until': day(-5 if broken else 8)})
    ids = insert_rows(Promise, vlist)
    insert_rows(PromiseInvoice, [{'promise': p, 'invoice': i}
            for p, i in zip(ids, invoice_ids)])


def _insert_disputes(pool, company, invoice_ids, day):
    "Open disputes of 10.00 of each invoice of invoice_ids"
    Dispute = pool.get('account.invoice.dunning.dispute')
    ModelData = pool.get('ir.model.data')
    from trytond.modules.account_invoice_dunning.bulk import insert_rows
    objection = ModelData.get_id(
        'account_invoice_dunning', 'objection_price')
    insert_rows(Dispute, [{'company': company, 'invoice': i, 'amount': 10,
                'objection': objection, 'owner': 1, 'opened_on': day(-3),
                'state': 'open'} for i in invoice_ids])


def _insert_plans(pool, company, candidates, invoice_ids, day, settled):
    """Running payment plans of invoice_ids (their lines as they are), every
    other one with no grace when settled: broken by the run"""
    Plan = pool.get('account.invoice.dunning.plan')
    PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
    from trytond.modules.account_invoice_dunning.bulk import insert_rows
    vlist = []
    for i, invoice_id in enumerate(invoice_ids):
        _, party, currency = candidates[invoice_id]
        vlist.append({'company': company, 'party': party,
                'currency': currency, 'state': 'running', 'number': 1,
                'first_date': day(-30), 'interval': 1, 'fee_amount': 0,
                'interest_rate': 0,
                'grace_days': 0 if settled and i % 2 else 3650,
                'agreed_on': day(-40)})
    ids = insert_rows(Plan, vlist)
    insert_rows(PlanInvoice, [{'plan': p, 'invoice': i}
            for p, i in zip(ids, invoice_ids)])
    if not settled:
        _reschedule(pool, invoice_ids, day(30))


def _reschedule(pool, invoice_ids, date):
    """Move the lines to pay of invoice_ids to date, as a plan started
    reschedules them: its installment is not due yet"""
    from trytond.transaction import Transaction
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    invoice = Invoice.__table__()
    line = MoveLine.__table__()
    cursor = Transaction().connection.cursor()
    for i in range(0, len(invoice_ids), 500):
        cursor.execute(*line.update([line.maturity_date], [date],
                where=(line.maturity_date != None)  # noqa: E711
                & line.move.in_(invoice.select(invoice.move,
                        where=invoice.id.in_(invoice_ids[i:i + 500])))))
