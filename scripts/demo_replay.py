# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The replay of the history of the demo, with trytond: the invoices
posted, then the days lived one by one (payments, credit notes, disputes,
the daily dunning of the last weeks), then today's reminders."""
import datetime as dt
import time
import unittest.mock
from collections import Counter

from demo_data import CENT, showcase_customers
from demo_litigation import Litigation
from demo_setup import DATABASE

# The days before today the demo's payment plans were agreed
PLAN_DAYS = 75


class Replay(Litigation):
    """The history of the company set up by a demo_setup.Setup

    It runs in transactions of trytond in this process: the records are
    given by their ids."""

    def __init__(self, setup):
        self.config = setup.config
        self.today = setup.today
        self.company = setup.company.id
        self.currency = setup.eur.id
        self.receivable = setup.accounts['receivable'].id
        self.revenue = setup.accounts['revenue'].id
        self.cash = setup.accounts['cash'].id
        self.tax = setup.tax.id
        self.terms = {code: term.id for code, term in setup.terms.items()}
        self.journal_revenue = setup.journal_revenue
        # (name, journal id)
        self.payment_methods = setup.payment_methods
        # (party id, customer type, segment code)
        self.customers = setup.customers
        self.standard_procedure = setup.standard_procedure

    def run(self, func, *args):
        """Run func in a transaction, committed; restart it with the tables
        to lock as trytond asks"""
        from trytond.transaction import Transaction, TransactionError
        context = dict(self.config.context, _skip_warnings=True)
        # The tables locked by posting and by the dunning, on SQLite a
        # no-op: avoids restarting the first transactions
        extras = self._extras = getattr(self, '_extras', {'_lock_tables': [
                    'ir_sequence_strict', 'ir_sequence',
                    'account_journal_period', 'account_invoice_dunning']})
        while True:
            with Transaction().start(DATABASE, self.config.user,
                    context=context, **extras) as transaction:
                try:
                    result = func(*args)
                except TransactionError as error:
                    transaction.rollback()
                    # Lock whole tables: the records change every day
                    fixed = {}
                    error.fix(fixed)
                    tables = extras.setdefault('_lock_tables', [])
                    tables.extend(fixed.get('_lock_tables', []))
                    tables.extend(fixed.get('_lock_records', {}).keys())
                    continue
                self._drop_tasks()
                transaction.commit()
            return result

    def simulate(self, start, invoices, until, dunning_start,
            review_until=None):
        """Post the invoices, then live the days from start to until
        (excluded): register the payments, credit notes and disputes of the
        day, then, from dunning_start, create the reminders due that day
        and process them (after review_until, only those of the automatic
        levels, as the scheduled task does: the others wait for the
        accountant)"""
        begin = time.time()
        past = sorted((i for i in invoices if i['date'] < until),
            key=lambda i: i['date'])
        print("Posting %d invoices from %s..." % (len(past), start),
            flush=True)
        self.pending = {}
        self.credit_notes = {}
        # {case of litigation: [invoice id]}
        self.cases = {}
        for offset in range(0, len(past), 100):
            self.run(self._post_invoices, past[offset:offset + 100])
        print("  done in %.1f s" % (time.time() - begin), flush=True)
        print("Living the days to %s: payments, credit notes, disputes, "
            "and the daily dunning from %s..." % (
                until - dt.timedelta(days=1), dunning_start), flush=True)
        begin = time.time()
        counts = Counter(invoices=len(past))
        date = start
        while date < until:
            counts.update(self.run(self.live_day, date,
                    date >= dunning_start,
                    review_until is None or date < review_until))
            date += dt.timedelta(days=1)
        print("  %(pay)d payments, %(partial)d partial payments, "
            "%(credit)d credit notes, %(refund)d cancellations, "
            "%(dispute)d disputes, %(reminders)d reminders processed, "
            "%(emails)d reminder emails sent, %(calls)d calls made, "
            "%(segment changes)d automatic changes of segment" % counts)
        print("  done in %.1f s" % (time.time() - begin), flush=True)

    def live_day(self, date, dunning, review=True):
        """Apply the events of the day and, if dunning, create the reminders
        of the day and process them all if review, else those of the
        automatic levels; return the counts of what was done"""
        from trytond.pool import Pool
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        counts = Counter()
        if (dunning and date.weekday() == 0
                and hasattr(Party, 'classify_dunning_segments')):
            # The automatic segmentation of the customers, weekly here
            counts['segment changes'] += (
                Party.classify_dunning_segments(date=date) or 0)
        events = self.pending.get(date, [])
        counts.update(self._pay(
                [(i, a) for i, o, a in events if o == 'pay'], date))
        for invoice_id, outcome, argument in events:
            if outcome != 'pay':
                counts[self._event(invoice_id, outcome, argument, date)] += 1
        counts['plans'] += self._agree_plans(date, dunning)
        counts['litigation'] += self._litigate(date, dunning)
        if dunning:
            Dunning.generate_dunnings(
                date=date, companies=[self.company])
            drafts = Dunning.search([('state', '=', 'draft')])
            if drafts and review:
                Dunning.process(drafts)
                counts['reminders'] += len(drafts)
            elif drafts:
                Dunning.process_automatic([self.company])
            counts['emails'] += self._send_emails(pdf=False)
            if review:
                counts['calls'] += self._make_calls(date)
        return counts

    def _make_calls(self, date):
        """The accountant makes the calls, a few days late: most customers
        promise to pay within a week (their reminders wait), some do not
        answer (called again), a few say they never received the invoice
        (the objection logged on the call)"""
        from trytond.pool import Pool
        pool = Pool()
        Call = pool.get('account.invoice.dunning.call')
        Exchange = pool.get('account.invoice.dunning.exchange')
        ModelData = pool.get('ir.model.data')
        calls = Call.search([('state', '=', 'to_make'),
                ('date', '<', date - dt.timedelta(days=3))])
        for call in calls:
            if call.id % 3 == 0:
                call.outcome = 'no_answer'
            elif call.id % 5 == 0:
                call.outcome = 'disputed'
                call.note = "Says the invoices never arrived: sent again."
            elif call.id % 7 == 0:
                call.outcome = 'disputed'
                call.note = "Contests the price of part of the work."
            else:
                # To pay in a week what the call was about: the customers
                # who do not pay by then break their promise
                call.outcome = 'promised'
                call.promise_date = date + dt.timedelta(days=7)
                call.promise_amount = call.amount
        Call.save(calls)
        Call.record(calls)
        self._open_disputes([c for c in calls
                if c.outcome == 'disputed' and c.id % 5], date)
        disputed = [str(c) for c in calls
            if c.outcome == 'disputed' and not c.id % 5]
        if disputed:
            Exchange.write(Exchange.search([('origin', 'in', disputed)]), {
                    'objection': ModelData.get_id(
                        'account_invoice_dunning', 'objection_not_received'),
                    'contact': "Accounts payable",
                    })
        return len(calls)

    def _agree_plans(self, date, dunning):
        """On the day of the plans (if dunning), two customers reminded who
        cannot pay agree a plan of 3 monthly installments: the first pays
        the second installment a week late (a missed installment reminded),
        the other stops after the first one (the plan broken, the reminders
        resume); return how many"""
        from trytond.pool import Pool
        pool = Pool()
        Date = pool.get('ir.date')
        Plan = pool.get('account.invoice.dunning.plan')
        if not dunning or date != self.today - dt.timedelta(days=PLAN_DAYS):
            return 0
        plans = []
        with unittest.mock.patch.object(Date, 'today', return_value=date):
            for party, invoices in self._plan_customers().items():
                plan = Plan(company=self.company, party=party,
                    currency=self.currency, invoices=list(invoices),
                    number=3, first_date=date + dt.timedelta(days=14),
                    interval=1, grace_days=15)
                plan.save()
                Plan.propose([plan])
                Plan.start([plan])
                plans.append(Plan(plan.id))
        ids = {i.id for p in plans for i in p.invoices}
        for events in self.pending.values():
            events[:] = [e for e in events if e[0] not in ids]
        for index, plan in enumerate(plans):
            # The first customer pays all, the second installment late; the
            # other pays the first installment only
            installments = plan.installments if not index else (
                plan.installments[:1])
            for number, installment in enumerate(installments):
                late = 8 if number == 1 else 0
                self._pay_installment(plan, installment.date,
                    installment.date + dt.timedelta(days=late))
        return len(plans)

    def _plan_customers(self):
        """{party: {invoice}} of the two customers last reminded (their
        invoices reminded, neither disputed nor blocked), those of the
        litigation aside"""
        from trytond.pool import Pool
        Dunning = Pool().get('account.invoice.dunning')
        invoices = {}
        for dunning in Dunning.search([
                    ('state', '=', 'done'), ('invoice.state', '=', 'posted'),
                    ('party', 'not in', self.litigation_parties()),
                    ('invoice.dunning_disputes', '=', None),
                    ('invoice.dunning_blocked', '=', False),
                    ], order=[('date', 'DESC'), ('id', 'DESC')]):
            if len(invoices) < 2 or dunning.party in invoices:
                invoices.setdefault(dunning.party, set()).add(dunning.invoice)
        return invoices

    def _pay_installment(self, plan, due_date, date):
        "Schedule on date the payment of the installment of plan of due_date"
        for invoice in plan.invoices:
            for line in invoice.lines_to_pay:
                if not line.reconciliation and line.maturity_date == due_date:
                    self.pending.setdefault(date, []).append(
                        (invoice.id, 'pay', line.debit - line.credit))

    def _open_disputes(self, calls, date):
        """The customers who contest the price of part of the work: a
        dispute of a quarter of the first invoice of the call, whose
        reminders claim the rest"""
        from trytond.pool import Pool
        pool = Pool()
        Dispute = pool.get('account.invoice.dunning.dispute')
        ModelData = pool.get('ir.model.data')
        price = ModelData.get_id('account_invoice_dunning', 'objection_price')
        invoices = [sorted((d.invoice for d in c.dispatch.reminders),
                key=lambda i: i.id)[0] for c in calls]
        Dispute.create([{
                    'company': i.company.id,
                    'invoice': i.id,
                    'amount': i.currency.round(i.total_amount / 4),
                    'objection': price,
                    'opened_on': date,
                    'note': c.note,
                    } for c, i in zip(calls, invoices)
                if i.state == 'posted'])

    def _send_emails(self, pdf=True):
        """Send the reminder emails still to send (the scheduled task's
        work), the attachments converted to PDF or not (the history: faster)
        ; return how many were sent"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        Dispatch = Pool().get('account.invoice.dunning.dispatch')
        with Transaction().set_context(dunning_email_pdf=pdf):
            dispatches = Dispatch.search([('email_state', '=', 'to_send')])
            if dispatches:
                Dispatch.send_emails(dispatches)
        return sum(1 for d in Dispatch.browse(dispatches)
            if d.email_state == 'sent')

    def carrier_file(self, path):
        """Write the carrier's file of the registered letters sent so far
        (tracking numbers, presentation dates and statuses, as La Poste
        gives them) to path and import it; return the statuses imported"""
        from trytond.pool import Pool
        Dispatch = Pool().get('account.invoice.dunning.dispatch')
        letters = Dispatch.search([
                ('channel', '=', 'registered_letter'),
                ('tracking_number', '=', None),
                ('date', '<', self.today - dt.timedelta(days=3)),
                ], order=[('date', 'ASC'), ('id', 'ASC')])
        lines = ['envoi;n° de suivi;statut;date de présentation']
        for i, letter in enumerate(letters):
            presented = letter.date + dt.timedelta(
                days=2 if letter.date.weekday() < 3 else 4)
            status = 'Avisé et non réclamé' if i % 5 == 4 else 'Distribué'
            lines.append('%d;1A%011d;%s;%s' % (letter.id,
                    31415926 + letter.id * 97, status,
                    presented.strftime('%d/%m/%Y')))
        with open(path, 'w', encoding='utf-8') as fp:
            fp.write('\n'.join(lines) + '\n')
        with open(path, 'rb') as fp:
            changed = Dispatch.import_tracking(fp.read())
        return Counter(d.delivery_status for d in changed)

    def _post_invoices(self, plans):
        """Create and post the invoices of plans, in date order, and
        schedule their events; return their ids"""
        from trytond.pool import Pool
        Invoice = Pool().get('account.invoice')
        if not plans:
            return []
        invoices = self._new_invoices(plans)
        Invoice.post(invoices)
        for values, invoice in zip(plans, invoices):
            if values.get('case'):
                self.cases.setdefault(values['case'], []).append(invoice.id)
            for when, outcome, argument in values['events']:
                self.pending.setdefault(when, []).append(
                    (invoice.id, outcome, argument))
        return [i.id for i in invoices]

    def _new_invoices(self, plans):
        "Create the draft invoices of plans"
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        parties = {p.id: p for p in Party.browse(
                list({v['party'] for v in plans}))}
        vlist = []
        for values in plans:
            party = parties[values['party']]
            lines = values.get('lines') or [
                (values['description'], values['amount'])]
            vlist.append({
                    'type': 'out',
                    'company': self.company,
                    'currency': self.currency,
                    'party': party.id,
                    'invoice_address': party.address_get(type='invoice').id,
                    'account': self.receivable,
                    'journal': self.journal_revenue,
                    'invoice_date': values['date'],
                    'payment_term': self.terms[values['term']],
                    'description': values.get('description') or lines[0][0],
                    'lines': [('create', [{
                                    'type': 'line',
                                    'account': self.revenue,
                                    'description': description,
                                    'quantity': 1,
                                    'unit_price': amount,
                                    'taxes': [('add', [self.tax])],
                                    } for description, amount in lines])],
                    })
        invoices = Invoice.create(vlist)
        Invoice.update_taxes(invoices)
        return invoices

    def _pay(self, payments, date):
        """Register the payments of the day, as (invoice id, amount) where
        amount is None for the remaining amount, a fraction below 1 of it or
        an amount; return the counts"""
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Period = pool.get('account.period')
        counts = Counter()
        invoices = {i.id: i for i in Invoice.browse([i for i, _ in payments])}
        period = None
        moves, paid = [], []
        for invoice_id, argument in payments:
            invoice = invoices[invoice_id]
            to_pay = invoice.amount_to_pay if invoice.state == 'posted' else 0
            if to_pay <= 0:
                counts['skipped'] += 1
                continue
            amount = payment_amount(to_pay, argument)
            if amount >= to_pay:
                paid.append(invoice_id)
                counts['pay'] += 1
            else:
                counts['partial'] += 1
            if period is None:
                period = Period.find(self.company, date=date)
            moves.append(self._payment_move(invoice, amount, date, period))
        if moves:
            self._register_payments(moves, paid)
        return counts

    def _register_payments(self, moves, paid):
        """Post the payment moves, add their lines to the invoices and
        reconcile those of the invoices paid (ids)"""
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Move.save(moves)
        Move.post(moves)
        lines = {}
        for move in moves:
            line, = [l for l in move.lines if l.credit]
            lines[move.origin.id] = line
        Invoice.add_payment_lines(
            {Invoice(i): [l] for i, l in lines.items()})
        if paid:
            paid = Invoice.browse(paid)
            MoveLine.reconcile(*[
                    [l for l in i.lines_to_pay + i.payment_lines
                        if not l.reconciliation] for i in paid])
            Invoice.process(paid + Invoice.browse([self.credit_notes[i.id]
                        for i in paid if i.id in self.credit_notes]))

    def _payment_move(self, invoice, amount, date, period):
        "The move (not saved) of the payment of amount of invoice on date"
        from trytond.pool import Pool
        pool = Pool()
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        method, journal = self.payment_methods[
            invoice.id % len(self.payment_methods)]
        return Move(
            journal=journal, period=period,
            date=date, origin=invoice, company=self.company,
            description="%s %s" % (method, invoice.number),
            lines=[
                MoveLine(account=invoice.account, party=invoice.party,
                    debit=0, credit=amount),
                MoveLine(account=self.cash,
                    debit=amount, credit=0),
                ])

    def _event(self, invoice_id, outcome, argument, date):
        "Apply the outcome to the invoice on date, return what was done"
        from trytond.pool import Pool
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice(invoice_id)
        if invoice.state != 'posted':
            return 'skipped'
        if outcome == 'dispute':
            Invoice.write([invoice], {
                    'dunning_blocked': True,
                    'dunning_block_reason': argument,
                    })
            return 'dispute'
        if outcome == 'refund':
            credit_note, = Invoice.credit([invoice], refund=True,
                invoice_date=date)
            Invoice.process([credit_note])
            return 'refund'
        to_pay = invoice.amount_to_pay
        if to_pay <= 0:
            return 'skipped'
        if outcome == 'credit':
            # A commercial gesture: a credit note deducted from the invoice
            untaxed = sum(l.amount for l in invoice.lines if l.type == 'line')
            credit_note, = self._new_invoices([{
                        'party': invoice.party.id,
                        'date': date,
                        'term': '30',
                        'description': "Geste commercial sur %s" % (
                            invoice.number),
                        'lines': [("Geste commercial sur %s" % invoice.number,
                                -(untaxed * argument).quantize(CENT))],
                        }])
            Invoice.post([credit_note])
            Invoice.add_payment_lines({invoice: list(
                        Invoice(credit_note.id).lines_to_pay)})
            # Paid with the invoice
            self.credit_notes[invoice.id] = credit_note.id
            return 'credit'
        raise ValueError(outcome)

    def _drop_tasks(self):
        """Forget the tasks queued for after the commit: the printing of the
        invoices, done again when someone prints them"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        Queue = Pool().get('ir.queue')
        transaction = Transaction()
        if transaction.tasks:
            Queue.delete(Queue.browse(transaction.tasks))
            transaction.tasks.clear()

    def run_today(self, invoices):
        """Post today's invoices and events, create today's reminders and
        process one of each level of the shipped procedure (the reminders of
        the showcase invoices first); return the processed reminders and the
        count of those left to process by level"""
        today = self.today
        print("Creating today's reminders (%s) and processing one of each "
            "level..." % today, flush=True)
        self.run(self._post_invoices,
            [i for i in invoices if i['date'] == today])
        self.run(self.live_day, today, False)
        rows, waiting, extras = self.run(self._process_today)
        extras['litigation'] = self.run(self.litigation_documents)
        return rows, waiting, extras

    def _process_today(self):
        from trytond.pool import Pool
        Dunning = Pool().get('account.invoice.dunning')
        Dunning.generate_dunnings(
            date=self.today, companies=[self.company])
        drafts = Dunning.search([
                ('state', '=', 'draft'), ('date', '=', self.today)],
            order=[('id', 'ASC')])
        showcase = {self.customers[i][0]
            for i in showcase_customers(len(self.customers))}
        standard = self.standard_procedure
        # The reminders of the showcase invoices, then one of each level of
        # the shipped procedure still missing
        to_process = [d for d in drafts if d.party.id in showcase]
        levels = {d.level.id for d in to_process}
        for dunning in drafts:
            shown = (dunning.procedure.id == standard
                or dunning.channel == 'phone')
            if shown and dunning.level.id not in levels:
                to_process.append(dunning)
                levels.add(dunning.level.id)
        Dunning.process(to_process)
        self._send_emails(pdf=True)
        rows = []
        for dunning in sorted(Dunning.browse(to_process),
                key=lambda d: (d.level.sequence, d.id)):
            rows.append((dunning.id, dunning.level.name,
                    dunning.level.sequence, dunning.party.name,
                    dunning.invoice.number, dunning.amount,
                    dunning.deadline, dunning.channel,
                    dunning.letter_format, dunning.letter))
        waiting = Counter(d.level.name for d in Dunning.search([
                    ('state', '=', 'draft')]))
        return rows, waiting, self._today_extras(to_process)

    def _today_extras(self, dunnings):
        """What today's processing sent besides the letters: the letters
        of several invoices, and the calls to make today"""
        from trytond.pool import Pool
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Call = pool.get('account.invoice.dunning.call')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        dispatches = {d.dispatch for d in Dunning.browse(dunnings)
            if d.dispatch}
        # Today's letters of several invoices, else the latest ones
        grouped = [d for d in sorted(dispatches, key=lambda d: d.id)
            if d.invoice_count > 1] or [
            d for d in Dispatch.search([('letter_format', '!=', None)],
                order=[('date', 'DESC'), ('id', 'DESC')], limit=200)
            if d.invoice_count > 1][:3]
        # The latest letters after a promise to pay not kept and of an
        # invoice partly disputed
        broken, disputed, installment, broken_plan = (
            [d.dispatch for d in Dunning.search([
                        clause,
                        ('dispatch.letter_format', '!=', None),
                        ], order=[('date', 'DESC'), ('id', 'DESC')],
                    limit=1)]
            for clause in [('broken_promise', '!=', None),
                ('disputed_amount', '>', 0), ('plan', '!=', None),
                ('broken_plan', '!=', None)])
        grouped, broken, disputed, installment, broken_plan = ([(d.date,
                    d.party.name, d.level_name or d.level.name,
                    d.invoice_numbers, d.letter_format, d.letter)
                for d in dispatches]
            for dispatches in [grouped, broken, disputed, installment,
                broken_plan])
        calls = [(c.party.name, c.phone or '', c.invoice_numbers, c.amount)
            for c in Call.search([
                    ('state', '=', 'to_make'), ('date', '<=', self.today)])]
        return {'grouped': grouped, 'broken': broken, 'disputed': disputed,
            'installment': installment, 'broken_plan': broken_plan,
            'calls': calls}


def payment_amount(to_pay, argument):
    """The amount paid of to_pay: all of it when argument is None, the
    fraction argument of it when below 1, else argument at most"""
    if argument is None:
        return to_pay
    elif argument < 1:
        return (to_pay * argument).quantize(CENT)
    return min(argument, to_pay)
