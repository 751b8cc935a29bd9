# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Processing the reminders (a mixin of the reminder): checked against the
reminders already sent, the invoice still due and not blocked nor promised,
their amounts and penalties refreshed, sent together by customer and stored
with their history, by batches and in a few queries whatever their
number."""
import logging
from collections import defaultdict

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import (
    browse, company_country, insert_rows, set_changed, write_rows)
from .exceptions import DunningError, DunningWarning

# Reminders processed at once: each batch refreshes its amounts in a few
# queries and stores its history, whatever the number of reminders
PROCESS_BATCH_SIZE = 1000

logger = logging.getLogger(__name__)


class DunningProcessingMixin:
    "Process the reminders: check, refresh, send and store them"
    __slots__ = ()

    @classmethod
    @ModelView.button
    def process(cls, dunnings):
        """Check the invoices are still due, refresh the amounts, send the
        reminders of a customer together (one letter) and archive the
        letters, by batches of the same transaction"""
        pool = Pool()
        Company = pool.get('company.company')
        # All at once: a lock asked later restarts the transaction
        cls.lock(dunnings)
        companies, by_party = cls._read_parties([d.id for d in dunnings])
        cls.check_legal_mentions(Company.browse(sorted(companies)))
        for batch in cls._party_batches(by_party):
            cls._process(browse(cls, batch))

    @classmethod
    def _read_parties(cls, ids):
        """The companies of the reminders ids and {party: their ids}, read
        in a query a slice"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        companies, by_party = set(), defaultdict(list)
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.company, table.party, table.id,
                    where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))
            for company, party, id_ in cursor:
                companies.add(company)
                by_party[party].append(id_)
        return companies, by_party

    @classmethod
    def check_legal_mentions(cls, companies):
        """Warn the user processing the reminders of a French company whose
        letters lack the mentions the law requires (the scheduled task,
        which has no user, is not stopped)"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        for company in sorted(companies, key=lambda c: c.id):
            missing = company.dunning_missing_mentions()
            key = Warning.format('dunning_legal_mentions', [company])
            if missing and Warning.check(key):
                raise DunningWarning(key, gettext(
                        'account_invoice_dunning'
                        '.msg_company_mentions_missing',
                        company=company.rec_name,
                        missing=', '.join(missing)))

    @staticmethod
    def _party_batches(by_party):
        """The ids of by_party ({party: ids}) by batches of about
        PROCESS_BATCH_SIZE, the reminders of a customer in the same batch:
        those sent together, in one letter, are always of one customer"""
        batch = []
        for party in sorted(by_party):
            if batch and len(batch) + len(by_party[party]) > (
                    PROCESS_BATCH_SIZE):
                yield sorted(batch)
                batch = []
            batch.extend(by_party[party])
        if batch:
            yield sorted(batch)

    @classmethod
    def log(cls, records, event, target=None, user=None, **extra):
        """Save the history of the transitions (ir.model.log) in a few
        inserts: the same rows Tryton would save at commit one by one"""
        pool = Pool()
        Log = pool.get('ir.model.log')
        if event != 'transition':
            return super().log(
                records, event, target=target, user=user, **extra)
        if user is None:
            user = Transaction().user
        insert_rows(Log, [dict(extra, resource=str(r), event=event,
                    target=target, user=user) for r in records])

    @classmethod
    def _process(cls, dunnings):
        dunnings = [d for d in dunnings if d.state == 'draft']
        if dunnings:
            cls.send(cls._refresh_amounts(dunnings))

    @classmethod
    def write_sent(cls, dispatches, groups):
        """Store that the reminders of each list of groups were sent by the
        dispatch of the same rank: the transition to done (with its
        history), the dispatch and the refreshed amounts, in one write"""
        user = Transaction().user or None
        args = []
        for dispatch, group in zip(dispatches, groups):
            sent = {
                'state': 'done',
                'dispatch': dispatch.id,
                'processed_by': user,
                }
            # Most reminders change only by the name of their level
            alike = defaultdict(list)
            for dunning in group:
                changes = tuple(sorted(dunning._save_values().items()))
                alike[changes].append(dunning)
            for changes, records in alike.items():
                args.extend([records, dict(changes, **sent)])
        if args:
            # Computed by the run: written without the checks of a user's
            # changes, in an update a group of reminders changed alike
            write_rows(cls, *args)
            cls.log([d for g in groups for d in g], 'transition',
                '%s:done' % cls._transition_state)

    @classmethod
    def _refresh_amounts(cls, dunnings, strict=True):
        """Recompute the amounts of the reminders and return them

        A reminder whose invoice was paid, cancelled or blocked since, or
        that would not follow the reminders already sent, raises an error,
        or is left out when not strict."""
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        Penalty = pool.get('account.invoice.dunning.penalty')
        Promise = pool.get('account.invoice.dunning.promise')
        today = Date.today()
        valid = []
        by_key = defaultdict(list)
        for dunning in cls.check_history(dunnings, strict=strict):
            by_key[(dunning.company.id, dunning.date)].append(dunning)
        for (company_id, date), c_dunnings in by_key.items():
            figures = Invoice.dunning_figures(date, [company_id],
                invoice_ids=[d.invoice.id for d in c_dunnings])
            # The promises given since the reminder was made count too
            promised = Promise.suspended_invoices([company_id], date,
                given_by=max(date, today))
            blocked = Invoice.dunning_blocked_ids(
                [d.invoice.id for d in c_dunnings])
            country = company_country(c_dunnings[0].company)
            valid.extend(d for d in c_dunnings
                if d._check_not_promised(promised, strict)
                and d._refresh_figures(figures.get(d.invoice.id), strict,
                    blocked=d.invoice.id in blocked, country=country))
        penalties = Penalty.compute_penalties({
                d.id: (d.invoice, d.level, d.date, d.amount) for d in valid})
        level_names = cls._level_names(valid)
        for dunning in valid:
            for name, value in cls._penalty_values(
                    penalties[dunning.id]).items():
                set_changed(dunning, name, value)
            set_changed(dunning, 'level_name', level_names[dunning.id])
        return cls.check_penalties(valid, strict=strict)

    def _check_not_promised(self, promised, strict):
        """Return True when the invoice of the reminder does not wait for a
        promise to pay (promised: the ids of those that do), else False or
        raise when strict"""
        if self.invoice.id not in promised:
            return True
        if strict:
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_invoice_promised',
                    dunning=self.rec_name, invoice=self.invoice.rec_name))
        return False

    def _refresh_figures(self, figures, strict, blocked=False,
            country=None):
        """Set the amounts of the reminder from the figures of its invoice
        and return True, or False (or raise when strict) when its invoice
        is blocked (blocked) or has nothing left to claim; the deadline
        counts the business days of country"""
        invoice = self.invoice
        if blocked:
            if not strict:
                return False
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_invoice_blocked',
                    dunning=self.rec_name, invoice=invoice.rec_name))
        amount = self.level.reminder_amount(figures) if figures else 0
        if amount <= 0:
            if not strict:
                return False
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_invoice_paid',
                    dunning=self.rec_name, invoice=invoice.rec_name))
        set_changed(self, 'amount', self.currency.round(amount))
        set_changed(self, 'remaining_amount',
            self.currency.round(figures.remaining))
        set_changed(self, 'disputed_amount',
            self.currency.round(figures.disputed))
        set_changed(self, 'due_date', figures.due_date)
        if not self.deadline or self.deadline < figures.due_date:
            self.deadline = self.level.deadline(
                self.date, figures.due_date, country)
        return True

    @classmethod
    def check_history(cls, dunnings, strict=True):
        """Return the dunnings that follow the reminders already sent for
        their invoice: not dated before them, at a later level

        The others raise an error, or are left out when not strict."""
        pool = Pool()
        Lang = pool.get('ir.lang')
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        sent = defaultdict(list)
        for sub_ids in grouped_slice(
                list({d.invoice.id for d in dunnings}),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.invoice, table.id,
                    where=fields.SQL_OPERATORS['in'](table.invoice, sub_ids)
                    & (table.state == 'done')))
            for invoice_id, id_ in cursor:
                sent[invoice_id].append(id_)
        done = {d.id: d for d in browse(
                cls, [i for ids in sent.values() for i in ids])}
        valid = []
        for dunning in dunnings:
            previous = [done[i] for i in sent[dunning.invoice.id]
                if i != dunning.id]
            wrong = [d for d in previous if not dunning.follows(d)]
            if not wrong:
                valid.append(dunning)
            elif strict:
                lang = Lang.get()
                raise DunningError(gettext(
                        'account_invoice_dunning.msg_dunning_history_order',
                        dunning=dunning.rec_name,
                        done=wrong[0].rec_name,
                        date=lang.strftime(wrong[0].date)))
        return valid

    def follows(self, other):
        """Test if the reminder comes after the reminder other of its
        invoice: not before it, and at a later level of the ladder or a step
        of the same level (the missed installments of a payment plan follow
        by date only)"""
        if other.date > self.date:
            return False
        elif self.plan or other.plan:
            return True
        elif self.step:
            # A step of the level of other, or of a later one
            return (self.level == other.level
                or self.level.comes_after(other.level))
        return self.level.comes_after(other.level)

    @classmethod
    def check_penalties(cls, dunnings, strict=True):
        """Return the dunnings whose penalties could be computed, and the
        others after the user accepts to send them without penalties, or
        leave them out (for review) when not strict"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        failed = [d for d in dunnings if d.penalty_error]
        if not failed:
            return dunnings
        if not strict:
            logger.warning(
                "%d reminders left in draft: their penalties could not be "
                "computed (e.g. reminder %d: %s)", len(failed), failed[0].id,
                failed[0].penalty_error)
            return [d for d in dunnings if not d.penalty_error]
        key = Warning.format('dunning_penalty_error', failed)
        if Warning.check(key):
            raise DunningWarning(key, gettext(
                    'account_invoice_dunning.msg_dunning_penalty_error',
                    dunning=failed[0].rec_name,
                    error=failed[0].penalty_error,
                    count=len(failed)))
        return dunnings

    @classmethod
    def _level_names(cls, dunnings):
        """Return {dunning id: name of its level in the language of its
        party}, read once a language: the name printed on the letter"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Party = pool.get('party.party')
        by_company = defaultdict(list)
        for dunning in dunnings:
            by_company[dunning.company.id].append(dunning)
        by_language = defaultdict(list)
        for company_id, c_dunnings in by_company.items():
            # The languages of the parties in a query, not one a party
            codes = Party.dunning_languages(
                list({d.party.id for d in c_dunnings}), company_id)
            for dunning in c_dunnings:
                by_language[codes[dunning.party.id]].append(dunning)
        result = {}
        for language, l_dunnings in by_language.items():
            names = Level.names({d.level.id for d in l_dunnings}, language)
            result.update((d.id, names[d.level.id]) for d in l_dunnings)
        return result
