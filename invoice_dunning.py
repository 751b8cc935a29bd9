# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Reminders of invoices, kept forever as history: the model, who may
change what, and its workflow (processing in processing.py)."""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.operators import Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import CHANNELS, company_country, in_ids, search_rec_names
from .exceptions import DunningValidationError
from .generation import DunningGenerationMixin
from .processing import DunningProcessingMixin
from .reminder_dispatch import ReminderDispatchMixin

_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }


class Dunning(DunningGenerationMixin, DunningProcessingMixin,
        ReminderDispatchMixin, Workflow, ModelSQL, ModelView):
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
    disputed_amount = Monetary(
        "Disputed Amount", currency='currency', digits='currency',
        readonly=True,
        help="The amount of the invoice in dispute (or accepted in a "
        "dispute) that the reminder does not claim.")
    broken_promise = fields.Many2One(
        'account.invoice.dunning.promise', "Broken Promise", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('broken_promise'),
            },
        help="The promise to pay the customer did not keep: the reminder "
        "resumed at once and its letter recalls the promise.")
    step = fields.Many2One(
        'account.invoice.dunning.level.step', "Step", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('step'),
            },
        help="The step of the level the reminder makes, after the reminder "
        "of the level.")
    plan = fields.Many2One(
        'account.invoice.dunning.plan', "Payment Plan", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('plan'),
            },
        help="The payment plan whose missed installment the reminder "
        "recalls.")
    broken_plan = fields.Many2One(
        'account.invoice.dunning.plan', "Broken Payment Plan",
        readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('broken_plan'),
            },
        help="The payment plan the customer did not keep: the whole "
        "remaining amount fell due, the reminder resumed at once and its "
        "letter recalls the plan.")
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
    note = fields.Text("Note")
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
        # The reminders of an invoice are found by the index Tryton makes
        # for Invoice.dunnings: one on (invoice, state) beside it would only
        # cost each insert and each transition of a reminder
        cls._sql_indexes.add(
            Index(table,
                (table.state, Index.Equality(cardinality='low')),
                where=table.state == 'draft'))
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
            # A level of the ladder once per invoice; each step of a level
            # and each missed installment of a payment plan once
            ('invoice_ladder_level_exclude',
                Exclude(table,
                    (table.invoice, Equal), (table.level, Equal),
                    where=(table.state != 'cancelled')
                    & (table.plan == Null) & (table.step == Null)),
                'account_invoice_dunning.msg_dunning_invoice_level_unique'),
            ('invoice_step_exclude',
                Exclude(table,
                    (table.invoice, Equal), (table.step, Equal),
                    where=(table.state != 'cancelled')
                    & (table.step != Null)),
                'account_invoice_dunning.msg_dunning_step_unique'),
            ('invoice_installment_exclude',
                Exclude(table,
                    (table.invoice, Equal), (table.level, Equal),
                    (table.due_date, Equal),
                    where=(table.state != 'cancelled')
                    & (table.plan != Null)),
                'account_invoice_dunning.msg_dunning_installment_unique'),
            ('invoice_draft_exclude',
                Exclude(table, (table.invoice, Equal),
                    where=table.state == 'draft'),
                'account_invoice_dunning.msg_dunning_invoice_draft_unique'),
            ]

    @classmethod
    def __register__(cls, module):
        cursor = Transaction().connection.cursor()
        table_h = cls.__table_handler__(module)
        # Migration from 8.0.0: the reminders of the payment plans repeat
        # their level, one for each installment missed
        if backend.name == 'sqlite':
            cursor.execute('DROP INDEX IF EXISTS '
                '"account_invoice_dunning_invoice_level_uniq"')
        else:
            table_h.drop_constraint('invoice_level_exclude')
        super().__register__(module)
        if backend.name == 'sqlite':
            # SQLite can not run EXCLUDE constraints with parameters:
            # enforce them with partial unique indexes.
            cursor.execute(
                'CREATE UNIQUE INDEX IF NOT EXISTS '
                '"account_invoice_dunning_invoice_ladder_level_uniq" '
                'ON "account_invoice_dunning" ("invoice", "level") '
                "WHERE \"state\" != 'cancelled' AND \"plan\" IS NULL "
                "AND \"step\" IS NULL")
            cursor.execute(
                'CREATE UNIQUE INDEX IF NOT EXISTS '
                '"account_invoice_dunning_invoice_step_uniq" '
                'ON "account_invoice_dunning" ("invoice", "step") '
                "WHERE \"state\" != 'cancelled' AND \"step\" IS NOT NULL")
            cursor.execute(
                'CREATE UNIQUE INDEX IF NOT EXISTS '
                '"account_invoice_dunning_invoice_installment_uniq" '
                'ON "account_invoice_dunning" ("invoice", "level", '
                '"due_date") '
                "WHERE \"state\" != 'cancelled' AND \"plan\" IS NOT NULL")
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
                    where=in_ids(table.invoice, sub_ids)
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
        return search_rec_names(clause, ['level', 'invoice', 'party'])

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
                or any(values[n] for n in (
                        values.keys() & cls._processing_fields()))):
            # Whoever creates it, a reminder starts in draft with no letter
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dunning_create_processed'))
        return values

    @classmethod
    def _processing_fields(cls):
        "The fields that only processing fills"
        return ['dispatch', 'processed_by', 'level_name', 'letter',
            'letter_format', 'tracking_number']

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

    @fields.depends('date', 'level', 'due_date', 'company')
    def on_change_with_deadline(self):
        if self.date and self.level:
            return self.level.deadline(self.date, self.due_date,
                company_country(self.company))

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, dunnings):
        pass
