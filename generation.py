# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The run: which invoices get which reminder on a date, computed for all
the invoices of the companies in a few queries and created in bulk; the
daily task that runs it and processes the automatic levels, and the wizard
that runs it for a date."""
import datetime as dt
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Literal
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, PYSONEncoder
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .bulk import create_rows
from .common import (
    ID_BATCH_SIZE, amount_rounder, browse, companies_to_run, company_country,
    fetched, objects_frozen, preload, search_browse, to_date)
from .exceptions import DunningError

# An invoice the run may remind: its company, party, currency and segment
Candidate = namedtuple(
    'Candidate', ['company', 'party', 'currency', 'segment'])
# The reminders of the open invoices: the latest sent of the ladder
# {invoice: (level, date)}, the drafts {invoice: Draft}, the levels of the
# ladder sent {invoice: {level}}, the missed installments of payment plans
# reminded {(invoice, due date)} and the steps of levels made {invoice:
# {step}}
History = namedtuple('History',
    ['last_done', 'drafts', 'sent', 'installments', 'steps'])
Draft = namedtuple('Draft', ['id', 'level', 'date', 'due_date', 'step'])


class DunningGenerationMixin:
    "Generate the reminders of a date: the run"
    __slots__ = ()

    @classmethod
    @objects_frozen()
    def generate_dunnings(cls, date=None, companies=None, strict=True):
        """Create the draft reminders due on date for the companies and
        cancel those that no longer apply. Return the draft reminders.

        An invoice with a reminder processed after date raises an error, or
        is left alone when not strict (the scheduled task)."""
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        Plan = pool.get('account.invoice.dunning.plan')
        Promise = pool.get('account.invoice.dunning.promise')
        company_ids = cls._run_companies(companies)
        if not company_ids:
            return []
        if date is None:
            date = Date.today()
        # Serialize the runs: a concurrent run fails to take the lock and
        # Tryton restarts it, up to the [database] retry setting
        cls.lock()
        # What is left to pay of the open invoices, read once for the
        # settlements and the reminders
        unpaid = Invoice.dunning_unpaid(company_ids)
        Promise.settle(company_ids, date, unpaid=unpaid)
        Plan.settle(company_ids, date, unpaid=unpaid)
        figures = Invoice.dunning_figures(date, company_ids, unpaid=unpaid)
        # What a run reads is freed as soon as it is used, the figures of
        # the open invoices and their history before the penalties and the
        # insert: the peak of a run of 100,000 invoices holds one or the
        # other
        del unpaid
        to_create, keep = cls._run_reminders(
            date, company_ids, strict, figures)
        del figures
        cls._set_deadlines(to_create)
        cls._set_penalties(to_create)
        created = cls._insert(to_create)
        return created + browse(cls, sorted(keep))

    @classmethod
    def _run_reminders(cls, date, company_ids, strict, figures):
        """Return the values of the reminders to create on date for the
        companies and the ids of the drafts to keep, the drafts that no
        longer apply cancelled; figures: {invoice: InvoiceFigures} of the
        open invoices"""
        candidates = cls.candidate_invoices(company_ids, date)
        history = cls._invoice_dunnings(company_ids)
        cls._check_run_date(date, candidates, history, strict)
        ladder = cls._run_levels(candidates, history)
        to_create, keep = cls._next_reminders(date, candidates, figures,
            history, cls._resumed(company_ids, history), ladder=ladder)
        for reminders, kept in [
                cls._step_reminders(date, candidates, figures, history,
                    ladder[0], to_create, keep),
                cls._installment_reminders(
                    date, company_ids, figures, history)]:
            to_create += reminders
            keep |= kept
        cls._cancel_replaced(company_ids, history, keep)
        return to_create, keep

    @classmethod
    def _resumed(cls, company_ids, history):
        """Return {invoice id: values} of the invoices whose latest promise
        to pay or whose payment plan was broken since their last reminder:
        the ladder resumes at once, with these values on the reminder"""
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        Promise = pool.get('account.invoice.dunning.promise')
        resumed = {i: {'broken_promise': p}
            for i, p in Promise.broken_since_reminder(
                company_ids, history.last_done).items()}
        for invoice_id, plan_id in Plan.broken_since_reminder(
                company_ids, history.last_done).items():
            resumed.setdefault(invoice_id, {})['broken_plan'] = plan_id
        return resumed

    @classmethod
    def process_automatic(cls, companies):
        """Process the draft reminders of the levels processed automatically;
        those whose invoice was paid or blocked since stay in draft"""
        dunnings = search_browse(cls, [
                ('state', '=', 'draft'),
                ('company', 'in', [int(c) for c in companies]),
                ('level.automatic', '=', True),
                ])
        dunnings = cls._refresh_amounts(dunnings, strict=False)
        if dunnings:
            cls.process(dunnings)

    @classmethod
    def dunning_cron(cls):
        "Daily task: generate the reminders and process the automatic ones"
        pool = Pool()
        Date = pool.get('ir.date')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        for company in companies_to_run():
            with Transaction().set_context(company=company.id):
                today = Date.today()
                cls.generate_dunnings(
                    date=today, companies=[company], strict=False)
                cls.process_automatic([company])
                Dispatch.archive_missing_letters([company])
        Dispatch.remove_orphan_letters()

    @classmethod
    def _run_companies(cls, companies):
        "The ids of the companies of a run, checked against the user's"
        pool = Pool()
        User = pool.get('res.user')
        context = Transaction().context
        if companies is None:
            companies = [context['company']] if context.get('company') else []
        company_ids = list(map(int, companies))
        if Transaction().user:
            # The root user of the scheduled tasks runs any company
            if set(company_ids) - set(User.get_companies()):
                raise DunningError(gettext(
                        'account_invoice_dunning.msg_dunning_company_access'))
        return company_ids

    @classmethod
    def candidate_invoices(cls, company_ids, date=None):
        """Return {invoice id: Candidate} of the posted customer invoices of
        the companies not blocked, not waiting on date for a promise to pay,
        not paid by a running payment plan, whose party falls in a segment"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Plan = pool.get('account.invoice.dunning.plan')
        Promise = pool.get('account.invoice.dunning.promise')
        invoices = Invoice.dunning_candidates(company_ids)
        suspended = Plan.suspended_invoices(company_ids)
        if date is not None:
            suspended |= Promise.suspended_invoices(company_ids, date)
        for invoice_id in suspended:
            invoices.pop(invoice_id, None)
        segments = Party.dunning_segments_of(
            {(party, company) for company, party, _ in invoices.values()})
        result = {}
        for invoice_id, (company, party, currency) in invoices.items():
            segment = segments[party, company]
            if segment:
                result[invoice_id] = Candidate(
                    company, party, currency, segment)
        return result

    @classmethod
    def _invoice_dunnings(cls, company_ids):
        "Return the History of the reminders of the open invoices"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice.__table__()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table
            .join(invoice, condition=table.invoice == invoice.id)
            .select(
                table.invoice, table.id, table.level, table.date,
                table.state, table.plan, table.due_date, table.step,
                where=Invoice.dunning_open_where(invoice, company_ids)
                & table.state.in_(['draft', 'done']),
                order_by=[table.date.asc, table.id.asc]))
        history = History({}, {}, defaultdict(set), set(), defaultdict(set))
        for (invoice_id, id_, level, date, state, plan, due_date,
                step) in fetched(cursor):
            due_date = to_date(due_date)
            if state == 'draft':
                history.drafts[invoice_id] = Draft(
                    id_, level, date, due_date, step)
            elif plan:
                history.installments.add((invoice_id, due_date))
            elif step:
                history.steps[invoice_id].add(step)
            else:
                history.last_done[invoice_id] = (level, date)
                history.sent[invoice_id].add(level)
        return history

    @classmethod
    def _check_run_date(cls, date, candidates, history, strict):
        """Refuse a run dated before a reminder already sent, or leave its
        invoices out of candidates when not strict"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Lang = pool.get('ir.lang')
        late = [i for i, (_, d) in history.last_done.items()
            if i in candidates and d > date]
        if late and strict:
            lang = Lang.get()
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_date_before_done',
                    date=lang.strftime(date),
                    invoice=Invoice(late[0]).rec_name,
                    done_date=lang.strftime(history.last_done[late[0]][1])))
        for invoice_id in late:
            del candidates[invoice_id]

    @classmethod
    def _next_reminders(cls, date, candidates, figures, history,
            resumed=None, ladder=None):
        """Return the values of the reminders to create on date and the ids
        of the drafts to keep; resumed: {invoice: values} of the invoices
        whose promise to pay or payment plan was broken since their last
        reminder; ladder: the levels and procedures of the run
        (_run_levels)"""
        levels, procedures = ladder or cls._run_levels(candidates, history)
        currencies = cls._run_currencies(candidates)
        party_overdue = cls._party_overdue(candidates, figures)
        # The levels of each ladder, once for the run
        ladders = {p.id: p.ladder for p in procedures.values()}
        resumed = resumed or {}
        to_create, keep = [], set()
        for invoice_id, candidate in candidates.items():
            invoice_figures = figures.get(invoice_id)
            if not invoice_figures:
                continue
            last_level, last_date = None, None
            if invoice_id in history.last_done:
                level_id, last_date = history.last_done[invoice_id]
                last_level = levels[level_id]
            procedure = procedures[candidate.segment.id]
            level = procedure.next_level(last_level, date, invoice_figures,
                sent=history.sent[invoice_id],
                ladder=ladders.get(procedure.id))
            if not level:
                continue
            resumption = resumed.get(invoice_id)
            applies = level.applies(date, invoice_figures, last_date,
                party_overdue[candidate.party, candidate.currency],
                promise_broken=resumption is not None)
            draft = history.drafts.get(invoice_id)
            if draft and (draft.date > date
                    or (draft.level == level.id and applies)):
                # Made for a later date, or still right: keep it
                keep.add(draft.id)
            elif applies:
                values = cls._dunning_values(invoice_id, candidate,
                    currencies[candidate.currency], level, date,
                    invoice_figures)
                values.update(resumption or {})
                to_create.append(values)
        return to_create, keep

    @staticmethod
    def _run_currencies(candidates):
        "Return {id: currency} of the candidates, read once for the run"
        Currency = Pool().get('currency.currency')
        return {c.id: c for c in preload(Currency,
                {c.currency for c in candidates.values()},
                ['rounding', 'digits'])}

    @classmethod
    def _step_reminders(cls, date, candidates, figures, history, levels,
            to_create, keep):
        """Return the values of the reminders of the steps of the levels
        last sent due on date and the ids of the drafts to keep, for the
        candidates whose next level does not come (to_create and keep: the
        reminders of the ladder)"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Step = pool.get('account.invoice.dunning.level.step')
        busy = {v['invoice'] for v in to_create} | {
            i for i, d in history.drafts.items() if d.id in keep}
        last = {i: history.last_done[i] for i in candidates
            if i in history.last_done and i not in busy and i in figures}
        steps = Step.of_levels({l for l, _ in last.values()})
        currencies = {}
        values, kept = [], set()
        for invoice_id, (level_id, level_date) in last.items():
            step = Step.due(steps.get(level_id, []), level_date, date,
                history.steps[invoice_id])
            level = levels[level_id]
            if not step or level.reminder_amount(figures[invoice_id]) <= 0:
                continue
            draft = history.drafts.get(invoice_id)
            if draft and draft.step == step.id:
                kept.add(draft.id)
                continue
            candidate = candidates[invoice_id]
            if candidate.currency not in currencies:
                currencies[candidate.currency] = Currency(candidate.currency)
            step_values = cls._dunning_values(invoice_id, candidate,
                currencies[candidate.currency], level, date,
                figures[invoice_id])
            step_values.update(channel=step.channel, step=step.id)
            values.append(step_values)
        return values, kept

    @staticmethod
    def _party_overdue(candidates, figures):
        "Return {(party, currency): amount overdue} of the candidates"
        party_overdue = defaultdict(Decimal)
        for invoice_id, candidate in candidates.items():
            if invoice_id in figures:
                party_overdue[candidate.party, candidate.currency] += (
                    figures[invoice_id].overdue)
        return party_overdue

    @classmethod
    def _installment_reminders(cls, date, company_ids, figures, history):
        """Return the values of the reminders of the installments of the
        running payment plans left unpaid on date the days of the level of
        missed installments after their date, and the ids of the drafts to
        keep; each installment is reminded once"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        Plan = pool.get('account.invoice.dunning.plan')
        Procedure = pool.get('account.invoice.dunning.procedure')
        missed = Plan.missed_installments(company_ids, date, figures)
        segments = Party.dunning_segments_of(
            {(m.party, m.company) for m in missed.values()})
        procedures = Procedure.read_for_run(
            {s.procedure.id for s in segments.values() if s})
        currencies = {c.id: c for c in preload(Currency,
                {m.currency for m in missed.values()},
                ['rounding', 'digits'])}
        to_create, keep = [], set()
        for invoice_id, plan in missed.items():
            segment = segments.get((plan.party, plan.company))
            level = (procedures[segment.procedure.id].installment_level
                if segment else None)
            if (not level
                    or (invoice_id, plan.due_date) in history.installments
                    or date < plan.due_date + dt.timedelta(days=level.days)):
                continue
            draft = history.drafts.get(invoice_id)
            if (draft and draft.level == level.id
                    and draft.due_date == plan.due_date):
                keep.add(draft.id)
                continue
            values = cls._dunning_values(invoice_id,
                Candidate(plan.company, plan.party, plan.currency, segment),
                currencies[plan.currency], level, date, figures[invoice_id])
            values['plan'] = plan.plan
            to_create.append(values)
        return to_create, keep

    @classmethod
    def _run_levels(cls, candidates, history):
        """Return the levels {id: level} of the procedures of the candidates
        and of the reminders sent, and the procedure of each segment
        {segment id: procedure}, read once for the run"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Procedure = pool.get('account.invoice.dunning.procedure')
        # A few segments for thousands of candidates: read each once
        segments = {c.segment.id: c.segment for c in candidates.values()}
        procedure_ids = {s.id: s.procedure.id for s in segments.values()}
        procedures = Procedure.read_for_run(set(procedure_ids.values()))
        levels = {l.id: l for p in procedures.values() for l in p.levels}
        # The levels sent of procedures no segment uses any more
        others = {l for l, _ in history.last_done.values()} - set(levels)
        levels.update((l.id, l) for l in Level.read_for_run(others))
        return levels, {s: procedures[p] for s, p in procedure_ids.items()}

    @classmethod
    def _cancel_replaced(cls, company_ids, history, keep):
        """Cancel the drafts not kept by the run and those of the invoices
        no longer posted or now blocked (each once)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        to_cancel = {d.id for d in history.drafts.values() if d.id not in keep}
        table = cls.__table__()
        invoice = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table
            .join(invoice, condition=table.invoice == invoice.id)
            .select(table.id,
                where=(table.state == 'draft')
                & table.company.in_(company_ids)
                & ((invoice.state != 'posted')
                    | (Coalesce(invoice.dunning_blocked, False)
                        == Literal(True)))))
        # A draft may be both replaced and of a blocked invoice
        to_cancel.update(r for r, in cursor)
        if to_cancel:
            cls.cancel(browse(cls, sorted(to_cancel)))

    @classmethod
    def _dunning_values(cls, invoice_id, candidate, currency, level, date,
            figures):
        "The values of a new reminder of level on date for an invoice"
        round_ = amount_rounder(currency)
        return {
            'company': candidate.company,
            'invoice': invoice_id,
            'party': candidate.party,
            'segment': candidate.segment.id,
            'currency': currency.id,
            'procedure': level.procedure.id,
            'level': level.id,
            'channel': level.channel,
            'date': date,
            'due_date': figures.due_date,
            'amount': round_(level.reminder_amount(figures)),
            'remaining_amount': round_(figures.remaining),
            'disputed_amount': round_(figures.disputed),
            }

    @staticmethod
    def _levels_of(vlist):
        "Return {level id: level} of the values of new reminders"
        Level = Pool().get('account.invoice.dunning.level')
        return {l.id: l for l in Level.read_for_run(
                {v['level'] for v in vlist})}

    @classmethod
    def _set_deadlines(cls, vlist):
        """Fill the payment deadlines of the values of new reminders: the
        payment delay of their level in business days, without the public
        holidays of the country of their company"""
        pool = Pool()
        Company = pool.get('company.company')
        levels = cls._levels_of(vlist)
        countries = {c.id: company_country(c) for c in Company.browse(
                list({v['company'] for v in vlist}))}
        for values in vlist:
            values['deadline'] = levels[values['level']].deadline(
                values['date'], values['due_date'],
                countries[values['company']])

    @classmethod
    def _set_penalties(cls, vlist):
        """Fill the penalties of the values of new reminders; those of the
        levels that no penalty rule reaches (most of a day's reminders)
        cost nothing"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Penalty = pool.get('account.invoice.dunning.penalty')
        levels = cls._levels_of(vlist)
        currencies = {c.id: c for c in Currency.browse(
                list({v['currency'] for v in vlist}))}
        # The invoices by id: records only for the penalties computed
        penalties = Penalty.compute_reached_penalties({
                i: (v['invoice'], levels[v['level']], v['date'], v['amount'])
                for i, v in enumerate(vlist)},
            {i: currencies[v['currency']] for i, v in enumerate(vlist)})
        for i, values in enumerate(vlist):
            values.update(cls._penalty_values(penalties[i]))

    @staticmethod
    def _penalty_values(penalties):
        return {
            'interest_amount': penalties.interest,
            'indemnity_amount': penalties.indemnity,
            'fee_amount': penalties.fee,
            'penalty_error': penalties.error,
            }

    @classmethod
    def _insert(cls, vlist):
        """Insert the new draft reminders of vlist in a few queries and
        return them

        The values come from the engine, consistent by construction; the
        database enforces the uniqueness of the reminders. As create would,
        the values go through preprocess_values and the new reminders
        through on_modification: the hooks of the modules that extend the
        reminders are honoured (their values must be stored columns)."""
        # Processing reads them by SQL: records for their ids
        return create_rows(cls, vlist, state='draft',
            browse_size=ID_BATCH_SIZE)


class CreateDunningStart(ModelView):
    "Create Invoice Dunnings"
    __name__ = 'account.invoice.dunning.create.start'
    __string__ = 'Create Invoice Dunnings'
    date = fields.Date(
        "Date", required=True,
        help="Create the reminders due on this date.")
    companies = fields.Many2Many(
        'company.company', None, None, "Companies", required=True,
        domain=[
            ('id', 'in', Eval('context', {}).get('companies', [])),
            ])

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_companies(cls):
        company = Transaction().context.get('company')
        return [company] if company else []


class CreateDunning(Wizard):
    "Create Invoice Dunnings"
    __name__ = 'account.invoice.dunning.create'
    start = StateView('account.invoice.dunning.create.start',
        'account_invoice_dunning.dunning_create_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_', 'tryton-ok', default=True),
            ])
    create_ = StateAction('account_invoice_dunning.act_dunning_form')

    def do_create_(self, action):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunnings = Dunning.generate_dunnings(
            date=self.start.date, companies=self.start.companies)
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [d.id for d in dunnings])])
        action['name'] += ' (%s)' % self.start.date.isoformat()
        return action, {}
