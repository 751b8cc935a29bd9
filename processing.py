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

from sql import Cast, Column, Literal
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .bulk import replan_grown_tables, write_rows
from .common import (
    amount_rounder, apply_types, browse, changed_values, company_country,
    in_ids, objects_frozen, preload, set_changed_values)
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
        # The records given, not browsed again (an instance costs Tryton a
        # look through the ids of its browse), but those the caller changed
        # without saving: processed as stored
        records = {d.id: cls(d.id) if d._values else d for d in dunnings}
        for batch in cls._party_batches(by_party):
            with objects_frozen():
                cls._process([records[i] for i in batch])
            # The dispatches and exchanges it made are referred to by the
            # next batches: their checks planned for their new size
            replan_grown_tables()

    @classmethod
    def _read_parties(cls, ids):
        """The companies of the reminders ids and {party: their ids}, read
        in a query a slice"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        companies, by_party = set(), defaultdict(list)
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.company, table.party, table.id,
                    where=in_ids(table.id, sub_ids)))
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
        """Save the history of the transitions (ir.model.log) in an
        INSERT ... SELECT a slice of records: the same rows Tryton would
        save at commit one by one"""
        pool = Pool()
        Log = pool.get('ir.model.log')
        if event != 'transition':
            return super().log(
                records, event, target=target, user=user, **extra)
        transaction = Transaction()
        if user is None:
            user = transaction.user
        cursor = transaction.connection.cursor()
        log, table = Log.__table__(), cls.__table__()
        values = dict(extra, event=event, target=target, user=user)
        names = sorted(values)
        columns = [log.create_uid, log.create_date, log.resource] + [
            Column(log, n) for n in names]
        # A query a slice: the rows made from the ids in the database
        for sub_ids in grouped_slice([r.id for r in records],
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*log.insert(columns, table.select(
                        Literal(transaction.user), CurrentTimestamp(),
                        Concat(cls.__name__ + ',',
                            Cast(table.id, Log.resource.sql_type().base)),
                        *(Literal(Log._fields[n].sql_format(values[n]))
                            for n in names),
                        where=in_ids(table.id, sub_ids),
                        order_by=table.id)))

    @classmethod
    def _process(cls, dunnings):
        rows = cls.processing_rows([d.id for d in dunnings])
        dunnings = [d for d in dunnings if rows[d.id]['state'] == 'draft']
        if dunnings:
            cls.send(cls._refresh_amounts(dunnings, rows=rows), rows=rows)

    @classmethod
    def processing_columns(cls):
        """The columns of a reminder that processing reads for each of them,
        in one query a batch (processing_rows), and the only ones it writes
        when the run sets them on the reminder: a module whose rules read or
        refresh other columns in _refresh_amounts adds them here"""
        return ['company', 'party', 'invoice', 'level', 'date', 'state',
            'channel', 'currency', 'deadline', 'amount', 'remaining_amount',
            'disputed_amount', 'due_date', 'level_name', 'interest_amount',
            'indemnity_amount', 'fee_amount', 'penalty_error']

    @classmethod
    def processing_rows(cls, ids):
        """Return {id: {column: value}} of the reminders ids, the columns of
        processing_columns read in a query a slice: reading them through
        the records costs more than the rest of processing"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = cls.processing_columns()
        types = [None] + [cls._fields[n].sql_type().base for n in names]
        types = [t if t in {'DATE', 'NUMERIC'} else None for t in types]
        rows = {}
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            query = table.select(table.id.as_('id'),
                *(Column(table, n).as_(n) for n in names),
                where=in_ids(table.id, sub_ids))
            cursor.execute(*apply_types(query, types))
            for row in cursor:
                rows[row[0]] = dict(zip(names, row[1:]))
        return rows

    @classmethod
    def write_sent(cls, dispatches, groups):
        """Store that the reminders of each list of groups were sent by the
        dispatch of the same rank: the transition to done (with its
        history), the dispatch and the refreshed amounts, in one write"""
        user = Transaction().user or None
        sent = {'state': 'done', 'processed_by': user}
        # The reminders that change the same fields, each its values (most
        # change only by the name of their level): an update a slice
        alike = defaultdict(lambda: ([], defaultdict(dict)))
        names = [n for n in cls.processing_columns()
            if n not in sent and n != 'dispatch']
        for dispatch, group in zip(dispatches, groups):
            for dunning in group:
                changes = changed_values(dunning, names)
                records, by_record = alike[tuple(sorted(changes))]
                records.append(dunning)
                by_record['dispatch'][dunning.id] = dispatch.id
                for name, value in changes.items():
                    by_record[name][dunning.id] = value
        for records, by_record in alike.values():
            # Computed by the run: written without the checks of a user's
            # changes
            write_rows(cls, records, sent, by_record=by_record)
        if alike:
            cls.log([d for g in groups for d in g], 'transition',
                '%s:done' % cls._transition_state)

    @classmethod
    def _refresh_amounts(cls, dunnings, strict=True, rows=None):
        """Recompute the amounts of the reminders and return them

        A reminder whose invoice was paid, cancelled or blocked since, or
        that would not follow the reminders already sent, raises an error,
        or is left out when not strict. rows: what processing_rows returns
        for them, read when None; the values changed are set on the
        records (which are not read) and in rows."""
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        Promise = pool.get('account.invoice.dunning.promise')
        Level = pool.get('account.invoice.dunning.level')
        Currency = pool.get('currency.currency')
        Company = pool.get('company.company')
        if rows is None:
            rows = cls.processing_rows([d.id for d in dunnings])
        today = Date.today()
        levels = {l.id: l for l in Level.read_for_run(
                {r['level'] for r in rows.values()})}
        currencies = {c.id: c for c in preload(Currency,
                {r['currency'] for r in rows.values()},
                ['digits', 'rounding'])}
        valid, amounts = [], {}
        by_key = defaultdict(list)
        for dunning in cls.check_history(dunnings, strict=strict, rows=rows):
            row = rows[dunning.id]
            by_key[(row['company'], row['date'])].append(dunning)
        for (company_id, date), c_dunnings in by_key.items():
            invoice_ids = [rows[d.id]['invoice'] for d in c_dunnings]
            # The promises given since the reminder was made count too
            facts = {
                'figures': Invoice.dunning_figures(date, [company_id],
                    invoice_ids=invoice_ids),
                'promised': Promise.suspended_invoices([company_id], date,
                    given_by=max(date, today)),
                'blocked': Invoice.dunning_blocked_ids(invoice_ids),
                'country': company_country(Company(company_id)),
                'levels': levels,
                'currencies': currencies,
                }
            for dunning in c_dunnings:
                amount = dunning._refresh_row(rows[dunning.id], facts, strict)
                if amount is not None:
                    amounts[dunning.id] = amount
                    valid.append(dunning)
        penalties = cls._refreshed_penalties(
            valid, rows, levels, currencies, amounts)
        level_names = cls._level_names(valid, rows)
        for dunning in valid:
            row = rows[dunning.id]
            values = cls._penalty_values(penalties[dunning.id])
            values['level_name'] = level_names[dunning.id]
            set_changed_values(dunning, row, values)
        return cls.check_penalties(valid, strict=strict,
            errors={i: p.error for i, p in penalties.items()})

    @classmethod
    def _refreshed_penalties(cls, dunnings, rows, levels, currencies,
            amounts):
        """The penalties of the reminders on their refreshed amounts
        ({dunning id: amount}), with the levels and currencies by id"""
        Penalty = Pool().get('account.invoice.dunning.penalty')
        # The invoices by id: the computation reads them by SQL
        requests = {}
        for dunning in dunnings:
            row = rows[dunning.id]
            requests[dunning.id] = (row['invoice'],
                levels[row['level']], row['date'], amounts[dunning.id])
        return Penalty.compute_reached_penalties(requests,
            {d.id: currencies[rows[d.id]['currency']] for d in dunnings})

    def _refresh_row(self, row, facts, strict):
        """Refresh the amounts of the reminder of row (its processing_rows)
        from the facts of its company and date (figures, promised, blocked,
        country, levels, currencies) and return its amount, or None (or
        raise when strict) when it can not be sent"""
        invoice_id = row['invoice']
        if (invoice_id in facts['promised']
                and not self._check_not_promised(facts['promised'], strict)):
            return None
        values = self._refreshed_values(row, facts['levels'][row['level']],
            facts['currencies'][row['currency']],
            facts['figures'].get(invoice_id), strict,
            blocked=invoice_id in facts['blocked'],
            country=facts['country'])
        if values is None:
            return None
        set_changed_values(self, row, values)
        return values['amount']

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

    def _refreshed_values(self, row, level, currency, figures, strict,
            blocked=False, country=None):
        """Return the amounts of the reminder (row: its processing_rows)
        refreshed from the figures of its invoice, at its level in
        currency, or None (or raise when strict) when its invoice is
        blocked (blocked) or has nothing left to claim; the deadline counts
        the business days of country"""
        if blocked:
            if not strict:
                return None
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_invoice_blocked',
                    dunning=self.rec_name, invoice=self.invoice.rec_name))
        amount = level.reminder_amount(figures) if figures else 0
        if amount <= 0:
            if not strict:
                return None
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_invoice_paid',
                    dunning=self.rec_name, invoice=self.invoice.rec_name))
        round_ = amount_rounder(currency)
        values = {
            'amount': round_(amount),
            'remaining_amount': round_(figures.remaining),
            'disputed_amount': round_(figures.disputed),
            'due_date': figures.due_date,
            }
        if not row['deadline'] or row['deadline'] < figures.due_date:
            values['deadline'] = level.deadline(
                row['date'], figures.due_date, country)
        return values

    @classmethod
    def check_history(cls, dunnings, strict=True, rows=None):
        """Return the dunnings that follow the reminders already sent for
        their invoice: not dated before them, at a later level

        The others raise an error, or are left out when not strict."""
        pool = Pool()
        Lang = pool.get('ir.lang')
        if rows is None:
            rows = cls.processing_rows([d.id for d in dunnings])
        sent = cls._sent_of_invoices({rows[d.id]['invoice'] for d in dunnings})
        done = {d.id: d for d in browse(
                cls, [i for ids in sent.values() for i in ids])}
        valid = []
        for dunning in dunnings:
            previous = [done[i] for i in sent[rows[dunning.id]['invoice']]
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

    @classmethod
    def _sent_of_invoices(cls, invoice_ids):
        "{invoice id: ids of its reminders done} of invoice_ids"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        sent = defaultdict(list)
        for sub_ids in grouped_slice(list(invoice_ids),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.invoice, table.id,
                    where=in_ids(table.invoice, sub_ids)
                    & (table.state == 'done')))
            for invoice_id, id_ in cursor:
                sent[invoice_id].append(id_)
        return sent

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
    def check_penalties(cls, dunnings, strict=True, errors=None):
        """Return the dunnings whose penalties could be computed, and the
        others after the user accepts to send them without penalties, or
        leave them out (for review) when not strict; errors: {dunning id:
        the error of its penalties}, read from the dunnings when None"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        if errors is None:
            errors = {d.id: d.penalty_error for d in dunnings}
        failed = [d for d in dunnings if errors[d.id]]
        if not failed:
            return dunnings
        error = errors[failed[0].id]
        if not strict:
            logger.warning(
                "%d reminders left in draft: their penalties could not be "
                "computed (e.g. reminder %d: %s)", len(failed), failed[0].id,
                error)
            return [d for d in dunnings if not errors[d.id]]
        key = Warning.format('dunning_penalty_error', failed)
        if Warning.check(key):
            raise DunningWarning(key, gettext(
                    'account_invoice_dunning.msg_dunning_penalty_error',
                    dunning=failed[0].rec_name, error=error,
                    count=len(failed)))
        return dunnings

    @classmethod
    def _level_names(cls, dunnings, rows):
        """Return {dunning id: name of its level in the language of its
        party}, read once a language: the name printed on the letter;
        rows: what processing_rows returns for the dunnings"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Party = pool.get('party.party')
        by_company = defaultdict(list)
        for dunning in dunnings:
            row = rows[dunning.id]
            by_company[row['company']].append((dunning.id, row))
        by_language = defaultdict(list)
        for company_id, c_rows in by_company.items():
            # The languages of the parties in a query, not one a party
            codes = Party.dunning_languages(
                list({r['party'] for _, r in c_rows}), company_id)
            for id_, row in c_rows:
                by_language[codes[row['party']]].append((id_, row))
        result = {}
        for language, l_rows in by_language.items():
            names = Level.names({r['level'] for _, r in l_rows}, language)
            result.update((i, names[r['level']]) for i, r in l_rows)
        return result
