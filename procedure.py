# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Procedures: ladders of reminder levels, each with its timing, amounts,
channel, payment delay and letter."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields, sequence_ordered
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import CHANNELS, add_business_days, in_ids, preload
from .exceptions import LevelValidationError

# The bounds of the days of a level and of its payment delay
MAX_DAYS = 3650
MAX_PAYMENT_DELAY = 365


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
    promise_tolerance = fields.Integer(
        "Promise Tolerance", required=True,
        domain=[('promise_tolerance', '>=', 0)],
        help="Days after the date a customer promised to pay during which "
        "its reminders still wait for the payment.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    @classmethod
    def default_promise_tolerance(cls):
        return 3

    @classmethod
    def copy(cls, procedures, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('segments', None)
        return super().copy(procedures, default=default)

    @classmethod
    def read_for_run(cls, ids):
        """Return {id: procedure} of ids with their levels, read once for a
        run: each level keeps the values of its run_fields in memory"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        procedures = cls.read(list(ids), ['levels'])
        levels = {l.id: l for l in Level.read_for_run(
                [l for p in procedures for l in p['levels']])}
        return {p['id']: cls(id=p['id'],
                levels=[levels[l] for l in p['levels']])
            for p in procedures}

    @property
    def ladder(self):
        "The levels of the ladder, without those of the missed installments"
        return [l for l in self.levels if not l.plan_installment]

    @property
    def installment_level(self):
        "The level that reminds the missed installments of payment plans"
        for level in self.levels:
            if level.plan_installment:
                return level

    def next_level(self, last_level, date, figures, sent=(), ladder=None):
        """Return the level to reach on date after last_level (or None)

        Only the level following the last one is considered: an invoice
        climbs one level per run. A pre-reminder (negative days) is skipped
        once the invoice is overdue, and so is a level already sent (the
        ids of sent). ladder: the levels of self.ladder, when the caller
        has them (a run, for thousands of invoices)."""
        levels = self.ladder if ladder is None else ladder
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
            ('model', '=', 'account.invoice.dunning.dispatch'),
            ('report_name', '=', 'account.invoice.dunning.letter'),
            ],
        help="Leave empty to use the standard template for the level.")
    email_template = fields.Many2One(
        'ir.email.template', "Email Template",
        domain=[
            ('model.name', '=', 'account.invoice.dunning.dispatch'),
            ],
        states={
            'invisible': Eval('channel') != 'email',
            },
        help="The subject and text of the emails of the level; leave empty "
        "to use the standard one.")
    call_script = fields.Text(
        "Call Script", translate=True,
        states={
            'invisible': Eval('channel') != 'phone',
            },
        help="What to say when calling the customer: shown with the calls "
        "of the level.")
    attach_invoice = fields.Boolean(
        "Attach the Invoices",
        help="Attach a copy of each invoice to the emails of the level, "
        "and print it after the letter when the letter is a PDF.")
    formal_notice = fields.Boolean(
        "Formal Notice",
        help="The reminder is a formal notice: for consumers, legal "
        "interest runs from the day after it.")
    automatic = fields.Boolean(
        "Automatic",
        help="Process the reminders of this level in the daily scheduled "
        "task, without review.")
    steps = fields.One2Many(
        'account.invoice.dunning.level.step', 'level', "Steps",
        help="More touches after the reminder of the level, by day, "
        "before the next level comes: an email two days later, a call on "
        "the fifth day...")
    plan_installment = fields.Boolean(
        "Missed Installment",
        help="The level reminds the installments of the payment plans left "
        "unpaid its days after their date; it is not a step of the ladder.")

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
    def default_attach_invoice(cls):
        return True

    @classmethod
    def default_formal_notice(cls):
        return False

    @classmethod
    def default_plan_installment(cls):
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
        if (self.procedure == other.procedure
                and self in self.procedure.ladder
                and other in self.procedure.ladder):
            levels = self.procedure.ladder
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
                    where=in_ids(dunning.level, sub_ids)
                    & (dunning.state == 'done'),
                    group_by=[dunning.level]))
            result.update(r for r, in cursor)
        return result

    @classmethod
    def check_order(cls, levels, field_names=None):
        """Check that the levels of the ladder of a procedure come later and
        later, and that it has one level of missed installments at most,
        after their date"""
        if field_names and not (field_names
                & {'sequence', 'days', 'procedure', 'plan_installment'}):
            return
        for procedure in {l.procedure for l in levels}:
            previous = None
            for level in procedure.ladder:
                if previous and level.days <= previous.days:
                    raise LevelValidationError(gettext(
                            'account_invoice_dunning.msg_level_days_order',
                            level=level.rec_name,
                            previous=previous.rec_name,
                            procedure=procedure.rec_name))
                previous = level
            installment_levels = [l for l in procedure.levels
                if l.plan_installment]
            for level in installment_levels[1:] + [
                    l for l in installment_levels if l.days < 0]:
                raise LevelValidationError(gettext(
                        'account_invoice_dunning.msg_level_installment',
                        level=level.rec_name,
                        procedure=procedure.rec_name))

    @classmethod
    def run_fields(cls):
        """The fields of a level that a run reads for each invoice: a module
        whose rules read more of them adds theirs"""
        return {'procedure', 'days', 'delay', 'payment_delay', 'min_amount',
            'min_party_amount', 'channel', 'plan_installment'}

    @classmethod
    def read_for_run(cls, ids):
        "Return the levels of ids with the values of run_fields kept"
        return preload(cls, ids, cls.run_fields())

    def deadline(self, date, due_date, country=None):
        """The payment deadline of a reminder made on date: its payment
        delay in business days, without the public holidays of country"""
        deadline = add_business_days(date, self.payment_delay or 0, country)
        if due_date and deadline < due_date:
            # Never ask to pay before the invoice is due
            deadline = due_date
        return deadline

    def applies(self, date, figures, last_date, party_overdue=None,
            promise_broken=False):
        """Test the timing and amount conditions of the level on date for an
        invoice of figures whose previous reminder was sent on last_date,
        of a party with party_overdue overdue in the invoice's currency

        After a broken promise the level does not wait for its days and
        delay: the reminders resume at once."""
        if promise_broken:
            last_date = None
        elif date < figures.due_date + dt.timedelta(days=self.days):
            return False
        if (self.min_party_amount and party_overdue is not None
                and party_overdue < self.min_party_amount):
            return False
        amount = self.reminder_amount(figures)
        if amount <= 0 or (self.min_amount and amount < self.min_amount):
            return False
        if (last_date is not None
                and (date - last_date).days < (self.delay or 0)):
            return False
        return True

    @classmethod
    def names(cls, level_ids, language):
        "Return {level id: name in language} of the levels, in one read"
        with Transaction().set_context(language=language):
            return {l.id: l.name for l in cls.browse(list(level_ids))}

    def reminder_amount(self, figures):
        """The amount a reminder of the level claims: a pre-reminder
        announces what falls due, later ones what is late"""
        return figures.remaining if self.days < 0 else figures.overdue

    def standard_report_key(self):
        """Return the standard template of the level

        A pre-reminder before the due date, the formal notice for a
        registered letter, and the first, second or third reminder by
        position among the overdue levels."""
        if self.plan_installment:
            return 'installment_reminder'
        if self.days < 0:
            return 'pre_reminder'
        if self.formal_notice or self.channel == 'registered_letter':
            return 'formal_notice'
        overdue_levels = [l for l in self.procedure.ladder
            if l.days >= 0 and l.channel in {'letter', 'email'}]
        position = overdue_levels.index(self) if self in overdue_levels else 0
        return ['first_reminder', 'second_reminder', 'third_reminder'][
            min(position, 2)]

    def call_script_in(self, language):
        "The call script of the level in language"
        with Transaction().set_context(language=language):
            return self.__class__(self.id).call_script

    def get_email_template(self):
        "Return the ir.email.template of the emails of the level"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        EmailTemplate = pool.get('ir.email.template')
        if self.email_template:
            return self.email_template
        return EmailTemplate(ModelData.get_id(
                'account_invoice_dunning',
                'email_template_%s' % self.standard_report_key()))

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
