# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Segments of customers chased with the same procedure, their automatic
classification from the payment behaviour of the parties, and its log."""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import LARGE_BATCH_SIZE, PenaltyWaiverMixin
from .exceptions import DunningValidationError

# The days of payment history of a segment without look-back days
DEFAULT_LOOKBACK = 365


class Segment(PenaltyWaiverMixin, sequence_ordered(), DeactivableMixin,
        ModelSQL, ModelView):
    "A group of customers chased with the same procedure"
    __name__ = 'account.invoice.dunning.segment'
    __string__ = 'Invoice Dunning Segment'
    name = fields.Char("Name", required=True, translate=True)
    procedure = fields.Many2One(
        'account.invoice.dunning.procedure', "Procedure", required=True,
        ondelete='RESTRICT')
    description = fields.Text("Description", translate=True)
    penalties = fields.One2Many(
        'account.invoice.dunning.penalty', 'segment', "Penalties",
        help="Replace the penalties of the procedure for this segment: "
        "its rules of a country for the customers of that country, its "
        "rules without country for the others.")
    automatic = fields.Boolean(
        "Automatic",
        help="Assign the segment to the parties whose payment behaviour "
        "meets its criteria.")
    priority = fields.Integer(
        "Priority",
        states={
            'invisible': ~Eval('automatic'),
            },
        help="The automatic segments are tried by priority, lower first.")
    lookback_days = fields.Integer(
        "Look-back Days",
        states={
            'invisible': ~Eval('automatic'),
            'required': Eval('automatic', False),
            },
        help="The days of payment history the criteria look at.")
    min_late_invoices = fields.Integer(
        "Minimum Late Invoices",
        states={
            'invisible': ~Eval('automatic'),
            },
        help="At least this number of invoices paid late (or this average).")
    min_average_days_late = fields.Integer(
        "Minimum Average Days Late",
        states={
            'invisible': ~Eval('automatic'),
            },
        help="An average of days late above this (or the late invoices).")
    max_days_late = fields.Integer(
        "Maximum Days Late",
        states={
            'invisible': ~Eval('automatic'),
            },
        help="No invoice paid later than this number of days (good "
        "payers).")
    min_outstanding = Monetary(
        "Minimum Outstanding", digits=(16, 2),
        states={
            'invisible': ~Eval('automatic'),
            },
        help="At least this amount overdue.")
    min_broken_promises = fields.Integer(
        "Minimum Broken Promises",
        states={
            'invisible': ~Eval('automatic'),
            },
        help="At least this number of promises to pay not kept in the "
        "window (or one of the other minimums of late payment).")
    logs = fields.One2Many(
        'account.invoice.dunning.segment.log', 'new_segment', "Changes",
        readonly=True)

    @classmethod
    def run_fields(cls):
        """The fields of a segment that a run reads for each invoice (the
        penalties waived by the segment): a module whose rules read more of
        them adds theirs"""
        return {'procedure', 'dunning_penalty_waived'}

    @classmethod
    def default_automatic(cls):
        return False

    @classmethod
    def default_lookback_days(cls):
        return 365

    @classmethod
    def validate_fields(cls, segments, field_names):
        super().validate_fields(segments, field_names)
        cls.check_procedure(segments, field_names)

    @classmethod
    def check_procedure(cls, segments, field_names=None):
        "Check the procedure of segments has levels: its customers are chased"
        if field_names and 'procedure' not in field_names:
            return
        for segment in segments:
            if not segment.procedure.levels:
                raise DunningValidationError(gettext(
                        'account_invoice_dunning'
                        '.msg_procedure_without_levels',
                        procedure=segment.procedure.rec_name,
                        segment=segment.rec_name))

    @classmethod
    def automatic_segments(cls):
        "The automatic segments, in the order they are tried"
        return cls.search([('automatic', '=', True)],
            order=[('priority', 'ASC NULLS LAST'), ('sequence', 'ASC'),
                ('id', 'ASC')])

    def matches(self, behaviour):
        """Test if a party's behaviour meets the criteria of the automatic
        segment: every maximum, the minimum outstanding amount, and at least
        one of the minimums of late payment when any is set"""
        if (self.max_days_late is not None
                and behaviour.max_days_late > self.max_days_late):
            return False
        if (self.min_outstanding
                and behaviour.overdue_amount < self.min_outstanding):
            return False
        minimums = []
        if self.min_late_invoices:
            minimums.append(
                behaviour.late_invoice_count >= self.min_late_invoices)
        if self.min_average_days_late:
            minimums.append(
                behaviour.average_days_late > self.min_average_days_late)
        if self.min_broken_promises:
            minimums.append(behaviour.broken_promise_count
                >= self.min_broken_promises)
        if minimums and not any(minimums):
            return False
        if self.max_days_late is not None and not behaviour.invoice_count:
            # Nothing paid in the window tells nothing about a good payer
            return False
        return True

    @classmethod
    def explain(cls, behaviour, lookback_days):
        "A sentence that says why a party was classified"
        return gettext('account_invoice_dunning.msg_segment_reason',
            late=behaviour.late_invoice_count,
            count=behaviour.invoice_count,
            average=round(behaviour.average_days_late, 1),
            max=behaviour.max_days_late,
            days=lookback_days)

    @classmethod
    def classify(cls, company, parties=None, date=None):
        """Set the automatic segment of the parties (all with accounting
        data when None) for company; return the number of changes"""
        pool = Pool()
        Date = pool.get('ir.date')
        Log = pool.get('account.invoice.dunning.segment.log')
        if date is None:
            date = Date.today()
        segments = cls.automatic_segments()
        if not segments:
            return 0
        party_ids = [p.id for p in parties] if parties is not None else None
        behaviours = cls._behaviours(segments, company, date, party_ids)
        if party_ids is None:
            party_ids = set().union(*behaviours.values())
        current = cls._party_segments(company, party_ids)
        targets, changes = {}, []
        for party_id in party_ids:
            value = current.get(party_id)
            if value and value.dunning_segment_pinned:
                continue
            old = value.dunning_segment if value else None
            segment, reason = cls._first_match(
                segments, behaviours, party_id)
            if segment and segment != old:
                targets[party_id] = segment
                changes.append((party_id, int(company),
                        old.id if old else None, segment.id, reason))
        cls._set_party_segments(company, targets, current)
        Log.log(changes, automatic=True)
        return len(changes)

    @classmethod
    def _behaviours(cls, segments, company, date, party_ids):
        "Return {look-back days: {party id: Behaviour}} for the segments"
        pool = Pool()
        Party = pool.get('party.party')
        return {lookback: Party.dunning_payment_behaviour(
                company, date, lookback, party_ids=party_ids)
            for lookback in {s.lookback_days or DEFAULT_LOOKBACK
                for s in segments}}

    @classmethod
    def _first_match(cls, segments, behaviours, party_id):
        "Return the first segment whose criteria party_id meets and why"
        pool = Pool()
        Party = pool.get('party.party')
        for segment in segments:
            lookback = segment.lookback_days or DEFAULT_LOOKBACK
            behaviour = behaviours[lookback].get(
                party_id, Party.no_payment_behaviour())
            if segment.matches(behaviour):
                return segment, cls.explain(behaviour, lookback)
        return None, None

    @classmethod
    def _party_segments(cls, company, party_ids):
        "Return {party id: party.party.dunning_segment} of company"
        pool = Pool()
        PartySegment = pool.get('party.party.dunning_segment')
        values = {}
        for sub_ids in grouped_slice(list(party_ids), LARGE_BATCH_SIZE):
            values.update((v.party.id, v) for v in PartySegment.search([
                        ('company', '=', int(company)),
                        ('party', 'in', list(sub_ids)),
                        ]))
        return values

    @classmethod
    def _set_party_segments(cls, company, targets, current):
        """Write the segments of targets {party id: segment}, by batches of
        the same segment; the changes are logged by the caller"""
        pool = Pool()
        PartySegment = pool.get('party.party.dunning_segment')
        by_segment = defaultdict(list)
        for party_id, segment in targets.items():
            by_segment[segment].append(party_id)
        with Transaction().set_context(_dunning_segment_log=False):
            for segment, ids in by_segment.items():
                existing = [current[i] for i in ids if i in current]
                for sub_records in grouped_slice(existing, LARGE_BATCH_SIZE):
                    PartySegment.write(list(sub_records),
                        {'dunning_segment': segment.id})
                new = [{
                        'party': i,
                        'company': int(company),
                        'dunning_segment': segment.id,
                        } for i in ids if i not in current]
                for sub_values in grouped_slice(new, LARGE_BATCH_SIZE):
                    PartySegment.create(list(sub_values))


class SegmentLog(ModelSQL, ModelView):
    "A change of the dunning segment of a party"
    __name__ = 'account.invoice.dunning.segment.log'
    __string__ = "Dunning Segment Change"
    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='CASCADE')
    date = fields.DateTime("Date", required=True, readonly=True)
    old_segment = fields.Many2One(
        'account.invoice.dunning.segment', "Old Segment", readonly=True,
        ondelete='SET NULL')
    new_segment = fields.Many2One(
        'account.invoice.dunning.segment', "New Segment", readonly=True,
        ondelete='SET NULL')
    automatic = fields.Boolean("Automatic", readonly=True)
    reason = fields.Char("Reason", readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('party')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def log(cls, changes, automatic=False):
        """Record changes: (party, company, old, new, reason) with ids"""
        now = dt.datetime.now()
        user = Transaction().user or None
        # By batches: Tryton's create slows down with the length of its list
        for sub_changes in grouped_slice(changes, LARGE_BATCH_SIZE):
            cls.create([{
                        'party': party,
                        'company': company,
                        'date': now,
                        'old_segment': old,
                        'new_segment': new,
                        'automatic': automatic,
                        'reason': reason,
                        'user': user,
                        } for party, company, old, new, reason in sub_changes])
