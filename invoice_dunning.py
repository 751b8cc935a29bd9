# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Procedures, levels, segments, reminders and the escalation engine."
import datetime as dt
import logging
import os
import time
from collections import defaultdict, namedtuple
from decimal import Decimal

from sql import Column, Literal, Null
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp
from sql.operators import Equal

from trytond import backend
import trytond.config as config
from trytond.filestore import filestore
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, Index, ModelSQL, ModelView, Workflow, fields,
    sequence_ordered)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import (
    DunningError, DunningValidationError, DunningWarning,
    LevelValidationError)
from .penalty import (
    PenaltyWaiverMixin, compute_penalties, no_penalties, reached_levels)
from .sql_invoice import (
    apply_types, invoice_debit_credit, invoice_moves, line_amount)

CHANNELS = [
    ('letter', "Letter"),
    ('registered_letter', "Registered Letter"),
    ('email', "Email"),
    ('phone', "Phone"),
    ]
# Channels for which a letter is rendered and archived when processed
LETTER_CHANNELS = {'letter', 'registered_letter', 'email'}
# The time given to a trytond-worker to start a task it took before the
# letters of its reminders are archived again (a running task is known by
# the locks it holds on its reminders, on PostgreSQL)
LETTER_GRACE = dt.timedelta(minutes=1)
# The letters are stored in this folder of the database's folder of the file
# store: the files of a run that never committed can be told apart
LETTER_FOLDER = 'account_invoice_dunning'
# The age after which a file of the folder that no reminder refers to is
# removed: the transaction that wrote it is over
ORPHAN_LETTER_AGE = dt.timedelta(days=1)

logger = logging.getLogger(__name__)


class LetterBinary(fields.Binary):
    """A binary field whose files are stored in LETTER_FOLDER of the folder
    of the database in the file store"""

    @property
    def store_prefix(self):
        database = Transaction().database
        if database:
            return os.path.join(database.name, LETTER_FOLDER)

    @store_prefix.setter
    def store_prefix(self, value):
        pass


# The bounds of the days of a level and of its payment delay
MAX_DAYS = 3650
MAX_PAYMENT_DELAY = 365

# Records handled at once: Tryton's ORM slows down on long lists of records
# (each instance of a browse checks the whole list of its ids)
BATCH_SIZE = 200
# Reminders processed at once: each batch refreshes its amounts in a few
# queries and stores its history, whatever the number of reminders
PROCESS_BATCH_SIZE = 1000


def browse(Model, ids):
    "Browse ids by batches, as the instances of one browse share their list"
    records = []
    for sub_ids in grouped_slice(ids, BATCH_SIZE):
        records.extend(Model.browse(list(sub_ids)))
    return records


def add_business_days(date, days):
    "Return date moved by days business days (Monday to Friday)"
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        date += dt.timedelta(days=step)
        if date.weekday() < 5:
            remaining -= 1
    return date


# Figures of an invoice at a date, in the invoice currency:
# remaining: still to pay, overdue: unpaid part of the lines due by the date,
# due_date: earliest due date not fully paid.
InvoiceFigures = namedtuple(
    'InvoiceFigures', ['remaining', 'overdue', 'due_date'])


class Procedure(ModelSQL, ModelView):
    "A ladder of reminder levels"
    __name__ = 'account.invoice.dunning.procedure'
    __string__ = 'Invoice Dunning Procedure'
    name = fields.Char("Name", required=True, translate=True)
    levels = fields.One2Many(
        'account.invoice.dunning.level', 'procedure', "Levels")
    segments = fields.One2Many(
        'account.invoice.dunning.segment', 'procedure', "Segments",
        readonly=True)
    penalties = fields.One2Many(
        'account.invoice.dunning.penalty', 'procedure', "Penalties")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def copy(cls, procedures, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('segments', None)
        return super().copy(procedures, default=default)

    def next_level(self, last_level, date, figures, sent=()):
        """Return the level to reach on date after last_level (or None)

        Only the level following the last one is considered: an invoice
        climbs one level per run. A pre-reminder (negative days) is skipped
        once the invoice is overdue, and so is a level already sent (the
        ids of sent)."""
        levels = list(self.levels)
        if last_level is None:
            following = levels
        elif last_level in levels:
            following = levels[levels.index(last_level) + 1:]
        else:
            # The party changed of procedure: continue after the same delay
            following = [l for l in levels if l.days > last_level.days]
        overdue = figures.due_date <= date
        for level in following:
            if (level.days < 0 and overdue) or level.id in sent:
                continue
            return level


class Level(sequence_ordered(), ModelSQL, ModelView):
    "A step of a procedure: when, how and with which letter"
    __name__ = 'account.invoice.dunning.level'
    __string__ = 'Invoice Dunning Level'
    procedure = fields.Many2One(
        'account.invoice.dunning.procedure', "Procedure", required=True,
        ondelete='CASCADE')
    name = fields.Char("Name", required=True, translate=True)
    days = fields.Integer(
        "Days", required=True,
        help="Days after the earliest unpaid due date of the invoice; "
        "negative for a pre-reminder sent before the due date.")
    delay = fields.Integer(
        "Delay", required=True,
        help="Minimum days since the previous processed reminder "
        "of the invoice.")
    min_amount = Monetary(
        "Minimum Amount", digits=(16, 2),
        help="The level waits while the overdue amount is lower.")
    min_party_amount = Monetary(
        "Minimum Party Amount", digits=(16, 2),
        help="The level waits while the amount overdue of all the invoices "
        "of the party is lower.")
    channel = fields.Selection(CHANNELS, "Channel", required=True)
    payment_delay = fields.Integer(
        "Payment Delay", required=True,
        help="Business days given to pay; gives the deadline of the letter.")
    report = fields.Many2One(
        'ir.action.report', "Letter Template",
        domain=[
            ('model', '=', 'account.invoice.dunning'),
            ('report_name', '=', 'account.invoice.dunning.letter'),
            ],
        help="Leave empty to use the standard template for the level.")
    formal_notice = fields.Boolean(
        "Formal Notice",
        help="The reminder is a formal notice: for consumers, legal "
        "interest runs from the day after it.")
    automatic = fields.Boolean(
        "Automatic",
        help="Process the reminders of this level in the daily scheduled "
        "task, without review.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A level is a part of its procedure: the same rights (everyone
        # reads, the account administrators change), so this grants nothing
        # more (__access__ takes the stronger rights of both models)
        cls.__access__.add('procedure')
        # Levels of the same sequence follow their days, whatever the order
        # in which they were created
        cls._order.insert(1, ('days', 'ASC'))

    @classmethod
    def default_days(cls):
        return 0

    @classmethod
    def default_delay(cls):
        return 0

    @classmethod
    def default_payment_delay(cls):
        return 8

    @classmethod
    def default_channel(cls):
        return 'letter'

    @classmethod
    def default_automatic(cls):
        return False

    @classmethod
    def default_formal_notice(cls):
        return False

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def validate_fields(cls, levels, field_names):
        super().validate_fields(levels, field_names)
        cls.check_values(levels, field_names)
        cls.check_order(levels, field_names)

    @classmethod
    def check_values(cls, levels, field_names=None):
        "Check the timing and amounts of levels are within sane bounds"
        bounds = {
            'days': (-MAX_DAYS, MAX_DAYS, 'msg_level_days'),
            'delay': (0, MAX_DAYS, 'msg_level_delay'),
            'payment_delay': (0, MAX_PAYMENT_DELAY,
                'msg_level_payment_delay'),
            'min_amount': (0, None, 'msg_level_min_amount'),
            'min_party_amount': (0, None, 'msg_level_min_amount'),
            }
        if field_names:
            bounds = {n: b for n, b in bounds.items() if n in field_names}
        for level in levels:
            for name, (minimum, maximum, message) in bounds.items():
                value = getattr(level, name)
                if value is not None and (value < minimum
                        or (maximum is not None and value > maximum)):
                    raise LevelValidationError(gettext(
                            'account_invoice_dunning.%s' % message,
                            level=level.rec_name,
                            field=cls.__names__(name)['field'],
                            minimum=minimum, maximum=maximum))

    def comes_after(self, other):
        "Test if the level comes after the level other in a ladder"
        if self.procedure == other.procedure:
            levels = list(self.procedure.levels)
            return levels.index(self) > levels.index(other)
        # Another procedure (the party changed of segment): by the days
        return self.days > other.days

    @classmethod
    def check_modification(cls, mode, levels, values=None, external=False):
        super().check_modification(
            mode, levels, values=values, external=external)
        if mode == 'delete':
            deleted = set(levels)
            for procedure in {l.procedure for l in levels}:
                if (procedure.segments
                        and not set(procedure.levels) - deleted):
                    raise AccessError(gettext(
                            'account_invoice_dunning'
                            '.msg_procedure_without_levels',
                            procedure=procedure.rec_name,
                            segment=procedure.segments[0].rec_name))
        if mode == 'write' and 'procedure' in values:
            sent = cls._sent_levels(levels)
            for level in levels:
                if (level.id in sent
                        and values['procedure'] != level.procedure.id):
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_level_procedure_sent',
                            level=level.rec_name))

    @classmethod
    def _sent_levels(cls, levels):
        "Return the ids of the levels of the processed reminders"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub_ids in grouped_slice([l.id for l in levels]):
            cursor.execute(*dunning.select(dunning.level,
                    where=fields.SQL_OPERATORS['in'](dunning.level, sub_ids)
                    & (dunning.state == 'done'),
                    group_by=[dunning.level]))
            result.update(r for r, in cursor)
        return result

    @classmethod
    def check_order(cls, levels, field_names=None):
        "Check that the levels of a procedure come later and later"
        if field_names and not (
                field_names & {'sequence', 'days', 'procedure'}):
            return
        for procedure in {l.procedure for l in levels}:
            previous = None
            for level in procedure.levels:
                if previous and level.days <= previous.days:
                    raise LevelValidationError(gettext(
                            'account_invoice_dunning.msg_level_days_order',
                            level=level.rec_name,
                            previous=previous.rec_name,
                            procedure=procedure.rec_name))
                previous = level

    def deadline(self, date, due_date):
        "The payment deadline of a reminder made on date"
        deadline = add_business_days(date, self.payment_delay or 0)
        if due_date and deadline < due_date:
            # Never ask to pay before the invoice is due
            deadline = due_date
        return deadline

    def standard_report_key(self):
        """Return the standard template of the level

        A pre-reminder before the due date, the formal notice for a
        registered letter, and the first, second or third reminder by
        position among the overdue levels."""
        if self.days < 0:
            return 'pre_reminder'
        if self.formal_notice or self.channel == 'registered_letter':
            return 'formal_notice'
        overdue_levels = [l for l in self.procedure.levels
            if l.days >= 0 and l.channel in {'letter', 'email'}]
        position = overdue_levels.index(self) if self in overdue_levels else 0
        return ['first_reminder', 'second_reminder', 'third_reminder'][
            min(position, 2)]

    def get_report(self):
        "Return the ir.action.report that renders the letters of the level"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActionReport = pool.get('ir.action.report')
        if self.report:
            return self.report
        return ActionReport(ModelData.get_id(
                'account_invoice_dunning',
                'report_letter_%s' % self.standard_report_key()))


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
        help="Replace the penalties of the procedure for this segment.")
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
    logs = fields.One2Many(
        'account.invoice.dunning.segment.log', 'new_segment', "Changes",
        readonly=True)

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


_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }


class Dunning(Workflow, ModelSQL, ModelView):
    "A reminder sent for an invoice: one record per reminder, kept forever"
    __name__ = 'account.invoice.dunning'
    __string__ = 'Invoice Reminder'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ],
        readonly=True)
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    segment = fields.Many2One(
        'account.invoice.dunning.segment', "Segment", readonly=True,
        ondelete='RESTRICT',
        help="The segment of the party when the reminder was made.")
    procedure = fields.Many2One(
        'account.invoice.dunning.procedure', "Procedure", required=True,
        ondelete='RESTRICT', readonly=True)
    level = fields.Many2One(
        'account.invoice.dunning.level', "Level", required=True,
        ondelete='RESTRICT',
        domain=[
            ('procedure', '=', Eval('procedure', -1)),
            ],
        readonly=True)
    level_name = fields.Char(
        "Level Name", readonly=True,
        help="The name of the level printed on the letter, kept as sent.")
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, states=_DRAFT)
    date = fields.Date(
        "Date", required=True, readonly=True,
        help="The date of the reminder, printed on the letter.")
    due_date = fields.Date(
        "Due Date", readonly=True,
        help="The earliest unpaid due date of the invoice at the date.")
    days_overdue = fields.Function(
        fields.Integer("Days Overdue"), 'get_days_overdue')
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    amount = Monetary(
        "Amount Overdue", currency='currency', digits='currency',
        required=True, readonly=True,
        help="The amount overdue at the date, in the invoice currency.")
    remaining_amount = Monetary(
        "Remaining Amount", currency='currency', digits='currency',
        readonly=True,
        help="The amount of the invoice still to pay at the date.")
    interest_amount = Monetary(
        "Interest", currency='currency', digits='currency', readonly=True,
        help="Late-payment interest owed at the date.")
    indemnity_amount = Monetary(
        "Recovery Indemnity", currency='currency', digits='currency',
        readonly=True,
        help="The fixed amounts owed once per late invoice.")
    fee_amount = Monetary(
        "Fees", currency='currency', digits='currency', readonly=True)
    penalty_error = fields.Text(
        "Penalty Error", readonly=True,
        states={
            'invisible': ~Eval('penalty_error'),
            },
        help="Why the penalties could not be computed: the reminder "
        "claims none until the cause is corrected.")
    total_amount = fields.Function(Monetary(
            "Total Claimed", currency='currency', digits='currency',
            help="The amount overdue plus the penalties."),
        'get_total_amount')
    deadline = fields.Date(
        "Deadline", states=_DRAFT,
        help="The date by which the customer is asked to pay.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    tracking_number = fields.Char(
        "Tracking Number",
        states={
            'invisible': Eval('channel') != 'registered_letter',
            'readonly': Eval('state') == 'cancelled',
            },
        help="The number of the registered letter with acknowledgement "
        "of receipt.")
    note = fields.Text("Note")
    letter = LetterBinary(
        "Letter", filename='letter_filename', readonly=True,
        file_id='letter_id')
    letter_id = fields.Char("Letter ID", readonly=True)
    letter_format = fields.Char("Letter Format", readonly=True)
    letter_filename = fields.Function(
        fields.Char("Letter File Name"), 'get_letter_filename')
    processed_by = fields.Many2One(
        'res.user', "Processed by", readonly=True)
    previous_dunnings = fields.Function(fields.Many2Many(
            'account.invoice.dunning', None, None, "Previous Reminders"),
        'get_previous_dunnings')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # No __access__ on the invoice: it would grant the invoice's rights
        # (the accountants' write, create and delete) on the reminders
        table = cls.__table__()
        # On SQLite the partial unique indexes of __register__ enforce them:
        # Tryton would check the constraints in Python, one OR per record
        if backend.name != 'sqlite':
            cls._sql_constraints += cls._exclude_constraints(table)
        cls._sql_indexes.update({
                Index(table,
                    (table.invoice, Index.Range()),
                    (table.state, Index.Equality(cardinality='low'))),
                Index(table,
                    (table.state, Index.Equality(cardinality='low')),
                    where=table.state == 'draft'),
                })
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]
        cls._transitions |= {
            ('draft', 'done'),
            ('draft', 'cancelled'),
            }
        cls._buttons.update({
                'process': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def _exclude_constraints(cls, table):
        return [
            ('invoice_level_exclude',
                Exclude(table,
                    (table.invoice, Equal), (table.level, Equal),
                    where=table.state != 'cancelled'),
                'account_invoice_dunning.msg_dunning_invoice_level_unique'),
            ('invoice_draft_exclude',
                Exclude(table, (table.invoice, Equal),
                    where=table.state == 'draft'),
                'account_invoice_dunning.msg_dunning_invoice_draft_unique'),
            ]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        cls._migrate_letter_store()
        if backend.name == 'sqlite':
            # SQLite can not run EXCLUDE constraints with parameters:
            # enforce them with partial unique indexes.
            cursor = Transaction().connection.cursor()
            cursor.execute(
                'CREATE UNIQUE INDEX IF NOT EXISTS '
                '"account_invoice_dunning_invoice_level_uniq" '
                'ON "account_invoice_dunning" ("invoice", "level") '
                "WHERE \"state\" != 'cancelled'")
            cursor.execute(
                'CREATE UNIQUE INDEX IF NOT EXISTS '
                '"account_invoice_dunning_invoice_draft_uniq" '
                'ON "account_invoice_dunning" ("invoice") '
                "WHERE \"state\" = 'draft'")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_interest_amount(cls):
        return Decimal(0)

    @classmethod
    def default_indemnity_amount(cls):
        return Decimal(0)

    @classmethod
    def default_fee_amount(cls):
        return Decimal(0)

    def get_total_amount(self, name):
        return sum((v or 0 for v in [self.amount, self.interest_amount,
                    self.indemnity_amount, self.fee_amount]), Decimal(0))

    def get_days_overdue(self, name):
        if self.date and self.due_date:
            return (self.date - self.due_date).days

    def get_letter_filename(self, name):
        if self.letter_format:
            number = (self.invoice.number or str(self.invoice.id)
                if self.invoice else '')
            return '%s-%s-%s.%s' % (
                number, self.level.rec_name if self.level else '',
                self.date.isoformat() if self.date else '',
                self.letter_format)

    @classmethod
    def get_previous_dunnings(cls, dunnings, name):
        "The done reminders of the same invoice before each reminder"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {d.id: [] for d in dunnings}
        invoice_ids = list({d.invoice.id for d in dunnings})
        by_invoice = defaultdict(list)
        for sub_ids in grouped_slice(
                invoice_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.invoice, table.id, table.date,
                    where=fields.SQL_OPERATORS['in'](table.invoice, sub_ids)
                    & (table.state == 'done'),
                    order_by=[table.date.asc, table.id.asc]))
            for invoice_id, id_, date in cursor:
                by_invoice[invoice_id].append((id_, date))
        for dunning in dunnings:
            for id_, date in by_invoice[dunning.invoice.id]:
                if id_ == dunning.id:
                    break
                if dunning.state != 'done' or date <= dunning.date:
                    result[dunning.id].append(id_)
        return result

    def get_rec_name(self, name):
        # The name of the level as sent, even if it was renamed since
        return '%s @ %s' % (
            self.level_name or self.level.rec_name, self.invoice.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('level.rec_name', operator, operand, *extra),
            ('invoice.rec_name', operator, operand, *extra),
            ('party.rec_name', operator, operand, *extra),
            ]

    @classmethod
    def check_modification(cls, mode, dunnings, values=None, external=False):
        super().check_modification(
            mode, dunnings, values=values, external=external)
        if mode == 'delete':
            for dunning in dunnings:
                if dunning.state != 'draft':
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_dunning_delete_done',
                            dunning=dunning.rec_name))
        elif mode == 'create' and external:
            # Reminders are made by the run, from the invoices' figures
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dunning_create'))
        elif mode == 'write' and external:
            for dunning in dunnings:
                forbidden = values.keys() - cls._editable_fields(dunning)
                if forbidden:
                    if dunning.state == 'draft':
                        raise AccessError(gettext(
                                'account_invoice_dunning'
                                '.msg_dunning_modify_draft',
                                dunning=dunning.rec_name,
                                fields=', '.join(sorted(
                                        cls.__names__(f)['field']
                                        for f in forbidden))))
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_dunning_modify_done',
                            dunning=dunning.rec_name))

    @classmethod
    def _editable_fields(cls, dunning):
        """The fields a user may change on dunning: only the workflow and
        the run write the others (a processed reminder is proof)"""
        if dunning.state == 'draft':
            return {'channel', 'deadline', 'note'}
        elif dunning.state == 'done':
            return {'tracking_number', 'note'}
        return {'note'}

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and (values.get('state', 'draft') != 'draft'
                or any(values.get(n) for n in cls._processing_fields())):
            # Whoever creates it, a reminder starts in draft with no letter
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dunning_create_processed'))
        return values

    @classmethod
    def _processing_fields(cls):
        "The fields that only processing fills"
        return ['letter', 'letter_id', 'letter_format', 'processed_by',
            'level_name']

    @classmethod
    def validate_fields(cls, dunnings, field_names):
        super().validate_fields(dunnings, field_names)
        cls.check_party(dunnings, field_names)

    @classmethod
    def check_party(cls, dunnings, field_names=None):
        "Check a reminder goes to the party of its invoice"
        if field_names and not (field_names & {'party', 'invoice'}):
            return
        for dunning in dunnings:
            if dunning.party != dunning.invoice.party:
                raise DunningValidationError(gettext(
                        'account_invoice_dunning.msg_dunning_party',
                        dunning=dunning.rec_name,
                        party=dunning.party.rec_name,
                        invoice=dunning.invoice.rec_name))

    @classmethod
    def copy(cls, dunnings, default=None):
        if dunnings:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dunning_copy'))
        return super().copy(dunnings, default=default)

    @fields.depends('date', 'level', 'due_date')
    def on_change_with_deadline(self):
        if self.date and self.level:
            return self.level.deadline(self.date, self.due_date)

    # -- Engine --------------------------------------------------------

    @classmethod
    def _open_invoice_where(cls, invoice, company_ids, invoice_ids=None):
        "The SQL condition of the posted customer invoices of companies"
        where = ((invoice.type == 'out')
            & (invoice.state == 'posted')
            & invoice.company.in_(list(company_ids)))
        if invoice_ids is not None:
            where &= fields.SQL_OPERATORS['in'](invoice.id, invoice_ids)
        return where

    @classmethod
    def invoice_figures(cls, date, company_ids, invoice_ids=None):
        """Return {invoice id: InvoiceFigures} of the posted customer invoices
        of the companies with an amount to pay, computed in two queries.

        Partial payments (unreconciled payment lines) are allocated to the
        earliest due dates first."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        InvoicePaymentLine = pool.get('account.invoice-account.move.line')
        cursor = Transaction().connection.cursor()
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        payment = InvoicePaymentLine.__table__()
        types = [None, 'DATE', 'NUMERIC', 'NUMERIC']
        debit, credit = invoice_debit_credit(line, invoice)

        where = cls._open_invoice_where(invoice, company_ids, invoice_ids)
        moves = invoice_moves(invoice, where)
        query = (moves
            .join(invoice, condition=invoice.id == moves.invoice)
            .join(line, condition=(line.move == moves.move)
                & (line.account == invoice.account))
            .select(
                invoice.id.as_('invoice'),
                Coalesce(line.maturity_date, invoice.invoice_date).as_(
                    'maturity_date'),
                debit.as_('debit'), credit.as_('credit'),
                where=line.reconciliation == Null,
                order_by=[invoice.id, Coalesce(
                        line.maturity_date, invoice.invoice_date)]))
        cursor.execute(*apply_types(query, types))
        lines = defaultdict(list)
        for invoice_id, maturity_date, line_debit, line_credit in cursor:
            lines[invoice_id].append(
                (maturity_date, line_amount(line_debit, line_credit)))

        query = (payment
            .join(invoice, condition=payment.invoice == invoice.id)
            .join(line, condition=payment.line == line.id)
            .select(
                invoice.id.as_('invoice'),
                Literal(None).as_('unused'),
                debit.as_('debit'), credit.as_('credit'),
                where=where & (line.reconciliation == Null)))
        cursor.execute(*apply_types(query, types))
        # Summed in Python: SQLite sums with floats
        payments = defaultdict(Decimal)
        for invoice_id, _, line_debit, line_credit in cursor:
            payments[invoice_id] += line_amount(line_debit, line_credit)

        result = {}
        for invoice_id, invoice_lines in lines.items():
            # payments are negative amounts
            credit = -Decimal(payments.get(invoice_id, 0))
            remaining = overdue = Decimal(0)
            due_date = None
            for maturity_date, amount in invoice_lines:
                unpaid = max(amount - credit, Decimal(0))
                credit = max(credit - amount, Decimal(0))
                remaining += unpaid
                if unpaid > 0:
                    if due_date is None:
                        due_date = maturity_date
                    if maturity_date <= date:
                        overdue += unpaid
            if remaining > 0:
                result[invoice_id] = InvoiceFigures(
                    remaining, overdue, due_date)
        return result

    @classmethod
    def _candidate_invoices(cls, company_ids):
        """Return {invoice id: (company, party, currency, procedure, segment)}
        of the
        posted customer invoices not blocked, with the procedure of the
        party's segment or of the company default segment."""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        PartySegment = pool.get('party.party.dunning_segment')
        ConfigurationDunning = pool.get(
            'account.configuration.invoice_dunning')
        Segment = pool.get('account.invoice.dunning.segment')
        cursor = Transaction().connection.cursor()
        invoice = Invoice.__table__()
        party_segment = PartySegment.__table__()
        config = ConfigurationDunning.__table__()
        segment = Segment.__table__()

        party_active = Segment.__table__()
        query = (invoice
            .join(party_segment, 'LEFT',
                condition=(party_segment.party == invoice.party)
                & (party_segment.company == invoice.company))
            .join(party_active, 'LEFT',
                condition=(party_active.id == party_segment.dunning_segment)
                & (party_active.active == Literal(True)))
            .join(config, 'LEFT', condition=config.company == invoice.company)
            .join(segment, condition=(segment.id == Coalesce(
                        party_active.id, config.default_dunning_segment))
                & (segment.active == Literal(True)))
            .select(
                invoice.id, invoice.company, invoice.party, invoice.currency,
                segment.procedure, segment.id,
                where=cls._open_invoice_where(invoice, company_ids)
                & (Coalesce(invoice.dunning_blocked, False)
                    == Literal(False))))
        cursor.execute(*query)
        return {r[0]: r[1:] for r in cursor}

    @classmethod
    def _invoice_dunnings(cls, company_ids):
        """Return the latest done reminder as (level, date), the draft
        reminder as (id, level, date) and the set of the levels sent of the
        posted invoices of companies"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice.__table__()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table
            .join(invoice, condition=table.invoice == invoice.id)
            .select(
                table.invoice, table.id, table.level, table.date,
                table.state,
                where=cls._open_invoice_where(invoice, company_ids)
                & table.state.in_(['draft', 'done']),
                order_by=[table.date.asc, table.id.asc]))
        last_done, drafts, sent = {}, {}, defaultdict(set)
        for invoice_id, id_, level, date, state in cursor:
            if state == 'done':
                last_done[invoice_id] = (level, date)
                sent[invoice_id].add(level)
            else:
                drafts[invoice_id] = (id_, level, date)
        return last_done, drafts, sent

    @classmethod
    def generate_dunnings(cls, date=None, companies=None, strict=True):
        """Create the draft reminders due on date for the companies and
        cancel those that no longer apply. Return the draft reminders.

        An invoice with a reminder processed after date raises an error, or
        is left alone when not strict (the scheduled task)."""
        pool = Pool()
        Date = pool.get('ir.date')
        Level = pool.get('account.invoice.dunning.level')
        Procedure = pool.get('account.invoice.dunning.procedure')
        Invoice = pool.get('account.invoice')
        Lang = pool.get('ir.lang')
        Currency = pool.get('currency.currency')
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
        if not company_ids:
            return []
        if date is None:
            date = Date.today()

        # Serialize the runs: a concurrent run fails to take the lock and
        # Tryton restarts it, up to the [database] retry setting
        cls.lock()

        candidates = cls._candidate_invoices(company_ids)
        figures = cls.invoice_figures(date, company_ids)
        last_done, drafts, sent = cls._invoice_dunnings(company_ids)

        late = [i for i, (_, d) in last_done.items()
            if i in candidates and d > date]
        if late and not strict:
            for invoice_id in late:
                del candidates[invoice_id]
        elif late:
            invoice = Invoice(late[0])
            lang = Lang.get()
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_dunning_date_before_done',
                    date=lang.strftime(date), invoice=invoice.rec_name,
                    done_date=lang.strftime(last_done[late[0]][1])))

        procedures = {p.id: p for p in Procedure.browse(
                list({c[3] for c in candidates.values()}))}
        levels = {l.id: l for l in Level.browse(list(
                    {d[0] for d in last_done.values()}
                    | {d[1] for d in drafts.values()}))}
        for procedure in procedures.values():
            levels.update((l.id, l) for l in procedure.levels)

        currencies = {c.id: c for c in Currency.browse(
                list({c[2] for c in candidates.values()}))}

        party_overdue = defaultdict(Decimal)
        for invoice_id, candidate in candidates.items():
            if invoice_id in figures:
                party_overdue[candidate[1], candidate[2]] += (
                    figures[invoice_id].overdue)

        to_create, keep = [], set()
        for invoice_id, (company, party, currency, procedure_id, segment) in (
                candidates.items()):
            invoice_figures = figures.get(invoice_id)
            if not invoice_figures:
                continue
            procedure = procedures[procedure_id]
            last_level, last_date = None, None
            if invoice_id in last_done:
                level_id, last_date = last_done[invoice_id]
                last_level = levels[level_id]
            level = procedure.next_level(
                last_level, date, invoice_figures, sent=sent[invoice_id])
            if not level:
                continue
            applies = cls._level_applies(
                level, date, invoice_figures, last_date) and (
                not level.min_party_amount
                or party_overdue[party, currency] >= level.min_party_amount)
            if invoice_id in drafts:
                draft_id, draft_level, draft_date = drafts[invoice_id]
                if draft_date > date or (
                        draft_level == level.id and applies):
                    # Made for a later date, or still right: keep it
                    keep.add(draft_id)
                    continue
            if not applies:
                continue
            to_create.append(cls._dunning_values(
                    invoice_id, company, party, currencies[currency], level,
                    date, invoice_figures, segment=segment))

        to_cancel = {d[0] for d in drafts.values() if d[0] not in keep}
        # Drafts of invoices no longer posted or blocked
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
        cls._set_penalties(to_create, levels)
        created = cls._insert(to_create)
        return browse(cls, created + sorted(keep))

    @classmethod
    def _insert(cls, vlist):
        """Insert the new draft reminders of vlist in a few queries and
        return their ids

        The values come from the engine, consistent by construction; the
        database enforces the uniqueness of the reminders. As create would,
        the values go through preprocess_values and the new reminders
        through on_modification: the hooks of the modules that extend the
        reminders are honoured (their values must be stored columns)."""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        if not vlist:
            return []
        ModelAccess.check(cls.__name__, 'create')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        vlist = [cls.preprocess_values('create', v) for v in vlist]
        names = sorted(set().union(*vlist))
        columns = [table.create_uid, table.create_date, table.state] + [
            Column(table, n) for n in names]
        size = max(backend.MAX_QUERY_PARAMS // len(columns), 1)
        ids = []
        for sub_values in grouped_slice(vlist, size):
            sub_values = list(sub_values)
            rows = [[transaction.user, CurrentTimestamp(), 'draft']
                + [cls._fields[n].sql_format(v.get(n)) for n in names]
                for v in sub_values]
            if transaction.database.has_returning():
                cursor.execute(*table.insert(columns, rows, [table.id]))
                ids.extend(r for r, in cursor)
            else:
                cursor.execute(*table.insert(columns, rows))
                cursor.execute(*table.select(table.id,
                        where=fields.SQL_OPERATORS['in'](table.invoice,
                            [v['invoice'] for v in sub_values])
                        & (table.state == 'draft')))
                ids.extend(r for r, in cursor)
        for sub_ids in grouped_slice(ids, BATCH_SIZE):
            cls.on_modification('create', cls.browse(list(sub_ids)))
        return ids

    @classmethod
    def _set_penalties(cls, vlist, levels):
        "Fill the penalties of the values of new reminders"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Currency = pool.get('currency.currency')
        reached = reached_levels({levels[v['level']] for v in vlist})
        charged = [i for i, v in enumerate(vlist)
            if levels[v['level']] in reached]
        invoices = {i.id: i for i in browse(
                Invoice, [vlist[i]['invoice'] for i in charged])}
        penalties = compute_penalties({
                i: (invoices[vlist[i]['invoice']], levels[vlist[i]['level']],
                    vlist[i]['date'], vlist[i]['amount'])
                for i in charged})
        zero = {}
        for i, values in enumerate(vlist):
            if i not in penalties:
                currency = values['currency']
                if currency not in zero:
                    zero[currency] = no_penalties(Currency(currency))
                penalties[i] = zero[currency]
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
    def _level_applies(cls, level, date, figures, last_date):
        "Test the timing and amount conditions of level on date"
        if date < figures.due_date + dt.timedelta(days=level.days):
            return False
        if level.days < 0:
            amount = figures.remaining
        else:
            amount = figures.overdue
        if amount <= 0 or (level.min_amount and amount < level.min_amount):
            return False
        if (last_date is not None
                and (date - last_date).days < (level.delay or 0)):
            return False
        return True

    @classmethod
    def _dunning_values(cls, invoice_id, company, party, currency, level,
            date, figures, segment=None):
        return {
            'company': company,
            'invoice': invoice_id,
            'party': party,
            'segment': segment,
            'currency': currency.id,
            'procedure': level.procedure.id,
            'level': level.id,
            'channel': level.channel,
            'date': date,
            'due_date': figures.due_date,
            'amount': currency.round(cls._reminder_amount(level, figures)),
            'remaining_amount': currency.round(figures.remaining),
            'deadline': level.deadline(date, figures.due_date),
            }

    @staticmethod
    def _reminder_amount(level, figures):
        # A pre-reminder announces what falls due, later ones what is late
        return figures.remaining if level.days < 0 else figures.overdue

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, dunnings):
        pass

    @classmethod
    @ModelView.button
    def process(cls, dunnings):
        """Check the invoices are still due, refresh the amounts, render the
        letters and archive them, by batches of the same transaction"""
        transaction = Transaction()
        # All at once: a lock asked later restarts the transaction
        cls.lock(dunnings)
        for sub_ids in grouped_slice(
                [d.id for d in dunnings], PROCESS_BATCH_SIZE):
            cls._process(cls.browse(list(sub_ids)))
            # The history of the transitions (ir.model.log) is saved at
            # commit in one list, whose creation slows down with its
            # length: save it batch by batch
            store_log_records = getattr(
                transaction, '_store_log_records', None)
            if store_log_records:
                store_log_records()

    @classmethod
    @Workflow.transition('done')
    def _process(cls, dunnings):
        dunnings = [d for d in dunnings if d.state == 'draft']
        if not dunnings:
            return
        cls._refresh_amounts(dunnings)
        # Most reminders are processed as generated: write only the changes
        cls.save([d for d in dunnings if d._values])
        cls.write(dunnings, {'processed_by': Transaction().user or None})
        cls._archive_or_queue_letters(
            [d for d in dunnings if d.channel in LETTER_CHANNELS])

    @classmethod
    def _archive_or_queue_letters(cls, dunnings):
        "Archive the letters of dunnings now, or queue them for the workers"
        if not dunnings:
            return
        if config.getboolean('queue', 'worker', default=False):
            # trytond-worker processes render the letters by batches, each
            # in its own transaction, once this one is committed
            with Transaction().set_context(queue_batch=True):
                cls.__queue__.archive_letters(dunnings)
        else:
            cls._archive_letters(dunnings)

    @classmethod
    def archive_letters(cls, dunnings):
        "Archive the letters of processed reminders (run by the queue)"
        dunnings = [d for d in cls.browse(dunnings) if d.state == 'done']
        cls.lock(dunnings)
        cls._archive_letters(dunnings)

    @classmethod
    def _archive_letters(cls, dunnings):
        """Render and archive the letters of reminders that have none yet: a
        letter once archived is never rendered again"""
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        dunnings = [d for d in dunnings
            if not d.letter_format and d.channel in LETTER_CHANNELS]
        for sub_dunnings in grouped_slice(dunnings, BATCH_SIZE):
            sub_dunnings = list(sub_dunnings)
            letters = Letter.render_letters(sub_dunnings)
            for dunning in sub_dunnings:
                dunning.letter_format, dunning.letter = letters[dunning.id]
            cls.save(sub_dunnings)

    @classmethod
    def _refresh_amounts(cls, dunnings, strict=True):
        """Recompute the amounts of the reminders and return them

        A reminder whose invoice was paid, cancelled or blocked since, or
        that would not follow the reminders already sent, raises an error,
        or is left out when not strict."""
        valid = []
        by_key = defaultdict(list)
        for dunning in cls.check_history(dunnings, strict=strict):
            by_key[(dunning.company.id, dunning.date)].append(dunning)
        for (company_id, date), c_dunnings in by_key.items():
            figures = cls.invoice_figures(date, [company_id],
                invoice_ids=[d.invoice.id for d in c_dunnings])
            for dunning in c_dunnings:
                invoice = dunning.invoice
                if invoice.dunning_blocked:
                    if not strict:
                        continue
                    raise DunningError(gettext(
                            'account_invoice_dunning'
                            '.msg_dunning_invoice_blocked',
                            dunning=dunning.rec_name,
                            invoice=invoice.rec_name))
                invoice_figures = figures.get(invoice.id)
                amount = (cls._reminder_amount(dunning.level, invoice_figures)
                    if invoice_figures else 0)
                if amount <= 0:
                    if not strict:
                        continue
                    raise DunningError(gettext(
                            'account_invoice_dunning.msg_dunning_invoice_paid',
                            dunning=dunning.rec_name,
                            invoice=invoice.rec_name))
                _set_changed(dunning, 'amount', dunning.currency.round(amount))
                _set_changed(dunning, 'remaining_amount',
                    dunning.currency.round(invoice_figures.remaining))
                _set_changed(dunning, 'due_date', invoice_figures.due_date)
                if not dunning.deadline or (
                        dunning.deadline < invoice_figures.due_date):
                    dunning.deadline = dunning.level.deadline(
                        dunning.date, invoice_figures.due_date)
                valid.append(dunning)
        penalties = compute_penalties({
                d.id: (d.invoice, d.level, d.date, d.amount) for d in valid})
        level_names = cls._level_names(valid)
        for dunning in valid:
            for name, value in cls._penalty_values(
                    penalties[dunning.id]).items():
                _set_changed(dunning, name, value)
            _set_changed(dunning, 'level_name', level_names[dunning.id])
        return cls.check_penalties(valid, strict=strict)

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
            wrong = [d for d in previous if d.date > dunning.date
                or not dunning.level.comes_after(d.level)]
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
        by_language = defaultdict(list)
        for dunning in dunnings:
            lang = dunning.party.lang
            by_language[lang.code if lang else None].append(dunning)
        result = {}
        for language, l_dunnings in by_language.items():
            with Transaction().set_context(language=language):
                names = {l.id: l.name for l in Level.browse(
                        list({d.level.id for d in l_dunnings}))}
            result.update((d.id, names[d.level.id]) for d in l_dunnings)
        return result

    @classmethod
    def process_automatic(cls, companies):
        """Process the draft reminders of the levels processed automatically;
        those whose invoice was paid or blocked since stay in draft"""
        dunnings = cls._search_by_batches([
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
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        companies = [company] if company else Company.search([])
        for company in companies:
            with Transaction().set_context(company=int(company)):
                today = Date.today()
                cls.generate_dunnings(
                    date=today, companies=[company], strict=False)
                cls.process_automatic([company])
                cls.archive_missing_letters([company])
        cls.remove_orphan_letters()

    @classmethod
    def letter_cron(cls):
        """Frequent task: archive the letters that a lost task of the queue
        left missing"""
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        companies = [company] if company else Company.search([])
        for company in companies:
            with Transaction().set_context(company=int(company)):
                cls.archive_missing_letters([company])

    @classmethod
    def _search_by_batches(cls, domain):
        """Search the reminders of domain, browsed by batches: a search
        returns its records in one list, whose every instance checks all
        its ids"""
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls.search(domain, order=[('id', 'ASC')],
                query=True))
        return browse(cls, [i for i, in cursor])

    @classmethod
    def archive_missing_letters(cls, companies, delay=LETTER_GRACE):
        """Archive again the letters of processed reminders still without
        their letter that no task of the queue is about to archive: a task
        lost on its way (its worker killed, a task taken but never run)
        loses no letter.

        A reminder is left to its task while the task waits in the queue,
        was taken less than delay ago, or holds its lock (PostgreSQL); the
        others are locked here so that no letter is rendered twice."""
        transaction = Transaction()
        now = dt.datetime.now()
        dunnings = cls._search_by_batches([
                ('company', 'in', [int(c) for c in companies]),
                ('state', '=', 'done'),
                ('channel', 'in', list(LETTER_CHANNELS)),
                ('letter_format', '=', None),
                ('write_date', '<', now - delay),
                ])
        if not dunnings:
            return []
        queued = cls._queued_letters(now - delay)
        ids = [d.id for d in dunnings if d.id not in queued]
        database = transaction.database
        if database.has_select_for():
            # Those whose lock a running task holds are skipped
            table = cls.__table__()
            cursor = transaction.connection.cursor()
            For = database.get_select_for_skip_locked()
            free = []
            for sub_ids in grouped_slice(ids):
                query = table.select(table.id,
                    where=table.id.in_(list(sub_ids))
                    & (table.letter_format == Null))
                query.for_ = For('UPDATE')
                cursor.execute(*query)
                free.extend(i for i, in cursor)
            ids = sorted(free)
        dunnings = browse(cls, ids)
        if dunnings:
            logger.info("archive the %d missing letters of %s",
                len(dunnings), cls.__name__)
        cls._archive_or_queue_letters(dunnings)
        return dunnings

    @classmethod
    def _queued_letters(cls, taken_after):
        """The ids of the reminders whose letter a task of the queue is to
        archive: waiting, or taken after taken_after and not finished"""
        pool = Pool()
        Queue = pool.get('ir.queue')
        ids = set()
        with without_check_access():
            tasks = Queue.search([
                    ('finished_at', '=', None),
                    ['OR',
                        ('dequeued_at', '=', None),
                        ('dequeued_at', '>=', taken_after),
                        ],
                    ])
        for task in tasks:
            data = task.data or {}
            if (data.get('model') == cls.__name__
                    and data.get('method') == 'archive_letters'):
                instances = data.get('instances')
                if isinstance(instances, int):
                    instances = [instances]
                ids.update(instances or [])
        return ids

    @classmethod
    def _migrate_letter_store(cls):
        """Move the letters archived in the database's folder of the file
        store, before they had a folder of their own, to LETTER_FOLDER;
        the old files are left to the removal queue of the file store"""
        pool = Pool()
        FileQueue = pool.get('ir.filestore.queue')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        queue = FileQueue.__table__()
        prefix = cls._fields['letter'].store_prefix
        old_prefix = transaction.database.name
        cursor.execute(*table.select(table.id, table.letter_id,
                where=(table.letter_id != Null) & (table.letter_id != ''),
                order_by=[table.id.asc]))
        moved = []
        for id_, file_id in cursor.fetchall():
            try:
                filestore.size(file_id, prefix=prefix)
                continue
            except OSError:
                pass
            try:
                data = filestore.get(file_id, prefix=old_prefix)
            except OSError:
                logger.warning("letter %s of %s %d is missing from the "
                    "file store", file_id, cls.__name__, id_)
                continue
            moved.append((id_, filestore.set(data, prefix=prefix), file_id))
        for id_, new_id, _ in moved:
            cursor.execute(*table.update([table.letter_id], [new_id],
                    where=table.id == id_))
        for sub_moved in grouped_slice(moved):
            cursor.execute(*queue.insert(
                    [queue.create_date, queue.create_uid, queue.file_id,
                        queue.model, queue.prefix, queue.field],
                    [[CurrentTimestamp(), transaction.user, old_id,
                            cls.__name__, old_prefix, 'letter']
                        for _, _, old_id in sub_moved]))
        if moved:
            logger.info("%d letters of %s moved to the folder %s of the file "
                "store", len(moved), cls.__name__, prefix)

    @classmethod
    def remove_orphan_letters(cls, age=ORPHAN_LETTER_AGE):
        """Remove the files of the letters' folder of the file store older
        than age that no reminder refers to: written by a run that never
        committed (killed, or rolled back). Return their ids.

        Only the file store of Tryton can be listed: nothing is removed when
        another class is configured."""
        pool = Pool()
        FileQueue = pool.get('ir.filestore.queue')
        if config.get('database', 'class'):
            return []
        prefix = cls._fields['letter'].store_prefix
        folder = os.path.join(filestore.path, prefix)
        limit = time.time() - age.total_seconds()
        candidates = []
        for root, _, names in os.walk(folder):
            for name in names:
                try:
                    mtime = os.stat(os.path.join(root, name)).st_mtime
                except FileNotFoundError:
                    continue
                if mtime <= limit:
                    candidates.append(name)
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        queue = FileQueue.__table__()
        kept = set()
        for sub_ids in grouped_slice(candidates):
            sub_ids = list(sub_ids)
            cursor.execute(*table.select(table.letter_id,
                    where=table.letter_id.in_(sub_ids)))
            kept.update(i for i, in cursor)
            # Replaced letters are kept for the removal queue's retention
            cursor.execute(*queue.select(queue.file_id,
                    where=queue.file_id.in_(sub_ids)
                    & (queue.model == cls.__name__)))
            kept.update(i for i, in cursor)
        orphans = sorted(set(candidates) - kept)
        if orphans:
            logger.info("remove %d orphan letters of %s", len(orphans),
                cls.__name__)
            filestore.delete_many(orphans, prefix=prefix)
        return orphans


def _set_changed(record, name, value):
    "Set the value of the field of record only when it changes"
    if getattr(record, name) != value:
        setattr(record, name, value)


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


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('account.invoice.dunning|dunning_cron',
                    "Generate and Process Invoice Dunnings"),
                ('account.invoice.dunning|letter_cron',
                    "Archive Missing Invoice Dunning Letters"),
                ('party.party|dunning_segment_cron',
                    "Classify Parties in Dunning Segments"),
                ])
