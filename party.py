# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Party extension: the dunning segment of a customer per company, its
payment behaviour, its classification and whom the reminders go to."""
import operator
from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .penalty import CUSTOMER_TYPES, PenaltyWaiverMixin
from .segmentation import (
    NO_BEHAVIOUR, SEGMENT_BATCH_SIZE, explain, payment_behaviour,
    segment_matches)

dunning_segment = fields.Many2One(
    'account.invoice.dunning.segment', "Dunning Segment",
    ondelete='RESTRICT',
    help="The segment gives the dunning procedure of the customer.\n"
    "Leave empty to use the default segment of the company.")
dunning_segment_pinned = fields.Boolean(
    "Segment Pinned",
    help="Keep the segment set by hand: the automatic classification "
    "never changes it.")
DEFAULT_LOOKBACK = 365


class Party(PenaltyWaiverMixin, metaclass=PoolMeta):
    __name__ = 'party.party'
    customer_type = fields.Selection([
            (None, ""),
            ] + CUSTOMER_TYPES, "Customer Type",
        help="Professionals owe late-payment interest from the due date and "
        "the recovery indemnity; consumers only legal interest from the "
        "formal notice.\n"
        "Leave empty: professional when the party has a tax identifier, "
        "consumer otherwise.")
    dunning_segment = fields.MultiValue(dunning_segment)
    dunning_segment_pinned = fields.MultiValue(dunning_segment_pinned)
    dunning_segment_logs = fields.One2Many(
        'account.invoice.dunning.segment.log', 'party',
        "Dunning Segment Changes", readonly=True)
    late_invoice_count = fields.Function(fields.Integer(
            "Late Invoices",
            help="Invoices paid, or still unpaid, after their due date over "
            "the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    late_invoice_share = fields.Function(fields.Float(
            "Share of Late Invoices", digits=(16, 4)),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    average_days_late = fields.Function(fields.Float(
            "Average Days Late", digits=(16, 1),
            help="Days late weighted by the amounts of the invoices due over "
            "the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    max_days_late = fields.Function(fields.Integer(
            "Maximum Days Late"),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    overdue_amount = fields.Function(Monetary(
            "Overdue Amount", currency='behaviour_currency',
            digits='behaviour_currency'),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    dunning_count = fields.Function(fields.Integer(
            "Reminders Received",
            help="Processed reminders over the last 12 months."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    dso = fields.Function(fields.Float(
            "DSO", digits=(16, 1),
            help="Days sales outstanding: receivable balance over the sales "
            "of the last 12 months, in days."),
        'get_payment_behaviour', searcher='search_payment_behaviour')
    behaviour_currency = fields.Function(fields.Many2One(
            'currency.currency', "Behaviour Currency"),
        'get_behaviour_currency')
    dunning_segments = fields.One2Many(
        'party.party.dunning_segment', 'party', "Dunning Segments")
    invoice_dunnings = fields.One2Many(
        'account.invoice.dunning', 'party', "Invoice Reminders",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'classify_dunning_segment': {
                    'icon': 'tryton-refresh',
                    },
                })

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'dunning_segment', 'dunning_segment_pinned'}:
            return pool.get('party.party.dunning_segment')
        return super().multivalue_model(field)

    @classmethod
    def default_dunning_segment_pinned(cls, **pattern):
        return False

    def get_behaviour_currency(self, name):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        if company:
            return Company(company).currency.id

    @classmethod
    def _behaviours(cls, party_ids=None):
        pool = Pool()
        Date = pool.get('ir.date')
        context = Transaction().context
        company = context.get('company')
        if not company:
            return {}
        return payment_behaviour(company, Date.today(),
            context.get('dunning_lookback_days', DEFAULT_LOOKBACK),
            party_ids=party_ids)

    @classmethod
    def get_payment_behaviour(cls, parties, names):
        behaviours = cls._behaviours([p.id for p in parties])
        result = {}
        for name in names:
            result[name] = {}
            for party in parties:
                value = getattr(behaviours.get(party.id, NO_BEHAVIOUR), name)
                result[name][party.id] = value
        return result

    @classmethod
    def search_payment_behaviour(cls, name, clause):
        _, operator, value = clause[:3]
        operator_ = COMPARISONS[operator]
        behaviours = cls._behaviours()
        # The figures are computed for the parties with accounting data; the
        # others have empty figures
        ids = [p for p, b in behaviours.items()
            if _compare(operator_, getattr(b, name), value)]
        if _compare(operator_, getattr(NO_BEHAVIOUR, name), value):
            return ['OR', ('id', 'in', ids),
                ('id', 'not in', list(behaviours))]
        return [('id', 'in', ids)]

    @classmethod
    @ModelView.button
    def classify_dunning_segment(cls, parties):
        cls.classify_dunning_segments(parties)

    @classmethod
    def classify_dunning_segments(cls, parties=None, date=None):
        """Set the automatic segment of the parties (all with accounting
        data when None) for the company of the context; return the number
        of changes"""
        pool = Pool()
        Date = pool.get('ir.date')
        Segment = pool.get('account.invoice.dunning.segment')
        PartySegment = pool.get('party.party.dunning_segment')
        Log = pool.get('account.invoice.dunning.segment.log')
        company = Transaction().context.get('company')
        if not company:
            return 0
        if date is None:
            date = Date.today()
        segments = Segment.search([('automatic', '=', True)],
            order=[('priority', 'ASC NULLS LAST'), ('sequence', 'ASC'),
                ('id', 'ASC')])
        if not segments:
            return 0
        party_ids = [p.id for p in parties] if parties is not None else None
        behaviours = {}
        for lookback in {s.lookback_days or DEFAULT_LOOKBACK
                for s in segments}:
            behaviours[lookback] = payment_behaviour(
                company, date, lookback, party_ids=party_ids)
        if party_ids is None:
            party_ids = set()
            for values in behaviours.values():
                party_ids.update(values)
        values = {}
        for sub_ids in grouped_slice(list(party_ids), SEGMENT_BATCH_SIZE):
            values.update((v.party.id, v) for v in PartySegment.search([
                        ('company', '=', company),
                        ('party', 'in', list(sub_ids)),
                        ]))
        targets, changes = {}, []
        for party_id in party_ids:
            current = values.get(party_id)
            if current and current.dunning_segment_pinned:
                continue
            old = current.dunning_segment if current else None
            for segment in segments:
                lookback = segment.lookback_days or DEFAULT_LOOKBACK
                behaviour = behaviours[lookback].get(party_id, NO_BEHAVIOUR)
                if segment_matches(segment, behaviour):
                    if segment != old:
                        targets[party_id] = segment
                        changes.append((party_id, company,
                                old.id if old else None, segment.id,
                                explain(behaviour, lookback)))
                    break
        by_segment = {}
        for party_id, segment in targets.items():
            by_segment.setdefault(segment, []).append(party_id)
        to_write, to_create = [], []
        for segment, ids in by_segment.items():
            existing = [values[i] for i in ids if i in values]
            if existing:
                to_write.extend((existing, {'dunning_segment': segment.id}))
            to_create.extend({
                    'party': i,
                    'company': company,
                    'dunning_segment': segment.id,
                    } for i in ids if i not in values)
        with Transaction().set_context(_dunning_segment_log=False):
            for records, values_ in zip(to_write[::2], to_write[1::2]):
                for sub_records in grouped_slice(records, SEGMENT_BATCH_SIZE):
                    PartySegment.write(list(sub_records), values_)
            for sub_values in grouped_slice(to_create, SEGMENT_BATCH_SIZE):
                PartySegment.create(list(sub_values))
        Log.log(changes, automatic=True)
        return len(changes)

    @classmethod
    def dunning_segment_cron(cls):
        "Daily task: classify the parties of every company"
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        companies = [company] if company else Company.search([])
        for company in companies:
            with Transaction().set_context(company=int(company)):
                cls.classify_dunning_segments()

    def get_dunning_segment(self, company):
        "Return the segment of the party for company, or the default one"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        segment = self.get_multivalue(
            'dunning_segment', company=int(company))
        if not segment:
            segment = Configuration(1).get_multivalue(
                'default_dunning_segment', company=int(company))
        return segment

    @classmethod
    def customer_type_of(cls, party):
        "The customer type of party, guessed from its tax identifier"
        return cls.customer_types([party])[party.id]

    @classmethod
    def customer_types(cls, parties):
        """Return {party id: customer type}: the one set, else professional
        for the parties with a tax identifier, in one query"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        result = {p.id: p.customer_type for p in parties}
        guess = [i for i, t in result.items() if not t]
        professionals = set()
        for sub_ids in grouped_slice(guess, backend.MAX_QUERY_PARAMS):
            professionals.update(i.party.id for i in Identifier.search([
                        ('party', 'in', list(sub_ids)),
                        ('type', 'in', list(cls.tax_identifier_types())),
                        ]))
        for party_id in guess:
            result[party_id] = ('professional' if party_id in professionals
                else 'consumer')
        return result

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('invoice_dunnings', None)
        # A new customer: classified again, and set by hand only by the
        # account administrators (who may change these fields)
        default.setdefault('dunning_segments', None)
        default.setdefault('dunning_segment', None)
        default.setdefault('dunning_segment_pinned', False)
        return super().copy(parties, default=default)


COMPARISONS = {
    '=': operator.eq,
    '!=': operator.ne,
    '<': operator.lt,
    '<=': operator.le,
    '>': operator.gt,
    '>=': operator.ge,
    'in': lambda a, b: a in b,
    'not in': lambda a, b: a not in b,
    }


def _compare(compare, left, right):
    if left is None:
        return False
    try:
        return bool(compare(left, right))
    except TypeError:
        return False


class PartyDunningSegment(ModelSQL, CompanyValueMixin):
    __name__ = 'party.party.dunning_segment'
    __string__ = "Party Dunning Segment"
    party = fields.Many2One(
        'party.party', "Party", ondelete='CASCADE',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    dunning_segment = dunning_segment
    dunning_segment_pinned = dunning_segment_pinned

    @classmethod
    def default_dunning_segment_pinned(cls):
        return False

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        cls._log_changes({r.id: None for r in records}, records)
        return records

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        records = sum((list(r) for r, _ in zip(actions, actions)), [])
        old = {r.id: r.dunning_segment.id if r.dunning_segment else None
            for r in records}
        super().write(*args)
        cls._log_changes(old, cls.browse(records))

    @classmethod
    def _log_changes(cls, old, records):
        "Log the changes of segment made by hand"
        pool = Pool()
        Log = pool.get('account.invoice.dunning.segment.log')
        if not Transaction().context.get('_dunning_segment_log', True):
            return
        changes = []
        for record in records:
            new = record.dunning_segment.id if record.dunning_segment else None
            if new != old.get(record.id) and record.party and record.company:
                changes.append((record.party.id, record.company.id,
                        old.get(record.id), new, None))
        Log.log(changes)


class Address(metaclass=PoolMeta):
    __name__ = 'party.address'
    dunning = fields.Boolean(
        "Dunning",
        help="Send the reminders to this address, e.g. the accounts payable "
        "department.")


class ContactMechanism(metaclass=PoolMeta):
    __name__ = 'party.contact_mechanism'
    dunning = fields.Boolean(
        "Dunning",
        help="Send the reminders to this contact.")

    @classmethod
    def usages(cls, _fields=None):
        if _fields is None:
            _fields = []
        _fields.append('dunning')
        return super().usages(_fields=_fields)
