# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What reaches the customer: one letter (or email, registered letter, call)
for all the reminders of a customer processed together at the same level,
archived once and linked to each reminder it covers."""
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count, Sum
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import slugify
from trytond.transaction import Transaction

from .bulk import create_rows
from .common import CHANNELS, id_slices, in_ids, search_rec_names
from .dispatch_delivery import DispatchDeliveryMixin
from .dispatch_email import DispatchEmailMixin
from .invoice_copy import InvoiceCopyMixin
from .letter_archive import LetterArchiveMixin, LetterBinary


class Dispatch(DispatchDeliveryMixin, DispatchEmailMixin, InvoiceCopyMixin,
        LetterArchiveMixin, ModelSQL, ModelView):
    """The letter, email, registered letter or call that carries the
    reminders of one customer processed together: kept forever as proof"""
    __name__ = 'account.invoice.dunning.dispatch'
    __string__ = 'Reminder Dispatch'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    level = fields.Many2One(
        'account.invoice.dunning.level', "Level", required=True,
        readonly=True, ondelete='RESTRICT')
    level_name = fields.Char(
        "Level Name", readonly=True,
        help="The name of the level printed on the letter, kept as sent.")
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    deadline = fields.Date(
        "Deadline", readonly=True,
        help="The date by which the customer is asked to pay.")
    reminders = fields.One2Many(
        'account.invoice.dunning', 'dispatch', "Reminders", readonly=True,
        order=[('invoice', 'ASC'), ('id', 'ASC')])
    invoice_count = fields.Function(
        fields.Integer("Invoices"), 'get_totals')
    invoice_numbers = fields.Function(
        fields.Char("Invoice Numbers"), 'get_invoice_numbers')
    amount = fields.Function(Monetary(
            "Amount Overdue", currency='currency', digits='currency'),
        'get_totals')
    total_amount = fields.Function(Monetary(
            "Total Claimed", currency='currency', digits='currency',
            help="The amounts overdue plus the penalties."),
        'get_totals')
    tracking_number = fields.Char(
        "Tracking Number",
        states={
            'invisible': Eval('channel') != 'registered_letter',
            },
        help="The number of the registered letter with acknowledgement "
        "of receipt.")
    letter = LetterBinary(
        "Letter", filename='letter_filename', readonly=True,
        file_id='letter_id')
    letter_id = fields.Char("Letter ID", readonly=True)
    letter_format = fields.Char("Letter Format", readonly=True)
    letter_filename = fields.Function(
        fields.Char("Letter File Name"), 'get_letter_filename')
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'DESC'),
            ('id', 'DESC'),
            ]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Cron = pool.get('ir.cron')
        super().__register__(module)
        cls._migrate_letter_templates()
        # The letters are archived by the dispatches
        cron = Cron.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*cron.update([cron.method],
                ['%s|letter_cron' % cls.__name__],
                where=cron.method == 'account.invoice.dunning|letter_cron'))

    @classmethod
    def _migrate_letter_templates(cls):
        """The letter templates (the standard ones and those made by the
        administrators) render dispatches since they list every invoice
        of the customer: they rendered a reminder before"""
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        report = ActionReport.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*report.select(report.action,
                where=(report.report_name == 'account.invoice.dunning.letter')
                & (report.model == 'account.invoice.dunning')))
        action_ids = [i for i, in cursor]
        for sub_ids in id_slices(action_ids):
            cursor.execute(*report.update([report.model], [cls.__name__],
                    where=in_ids(report.action, sub_ids)))

    @classmethod
    def group_key(cls, row):
        """The reminders with the same key are sent together, in one letter:
        those of a customer processed together at the same level, on the
        same date, by the same channel and in the same currency. row: the
        columns of a reminder (Dunning.processing_rows; a module that
        groups on others adds them to Dunning.processing_columns)"""
        return (row['company'], row['party'], row['level'], row['date'],
            row['channel'], row['currency'])

    @classmethod
    def group(cls, dunnings, rows=None):
        """Return the lists of dunnings sent together, in order; rows: their
        columns (Dunning.processing_rows), read when None"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        if rows is None:
            rows = Dunning.processing_rows([d.id for d in dunnings])
        groups = defaultdict(list)
        for dunning in dunnings:
            groups[cls.group_key(rows[dunning.id])].append(dunning)
        return list(groups.values())

    @classmethod
    def from_reminders(cls, groups, rows=None):
        """Create a dispatch for each list of dunnings of groups and return
        them, in the same order; rows: as group"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        if rows is None:
            rows = Dunning.processing_rows(
                [d.id for g in groups for d in g])
        return create_rows(cls, [cls._values_of(g, rows) for g in groups])

    @classmethod
    def _values_of(cls, dunnings, rows):
        """The values of the dispatch of the reminders sent together; rows:
        their columns (Dunning.processing_rows)"""
        first = rows[dunnings[0].id]
        return {
            'company': first['company'],
            'party': first['party'],
            'level': first['level'],
            'level_name': first['level_name'],
            'channel': first['channel'],
            'date': first['date'],
            'currency': first['currency'],
            'deadline': max((rows[d.id]['deadline'] for d in dunnings
                    if rows[d.id]['deadline']), default=None),
            'email_state': 'to_send' if first['channel'] == 'email' else None,
            }

    @classmethod
    def get_totals(cls, dispatches, names):
        "The number of invoices and the amounts of the reminders dispatched"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        result = {n: {d.id: None if n != 'invoice_count' else 0
                for d in dispatches} for n in names}
        penalties = (Coalesce(dunning.interest_amount, 0)
            + Coalesce(dunning.indemnity_amount, 0)
            + Coalesce(dunning.fee_amount, 0))
        for sub_ids in id_slices(d.id for d in dispatches):
            cursor.execute(*dunning.select(dunning.dispatch,
                    Count(dunning.id), Sum(dunning.amount),
                    Sum(dunning.amount + penalties),
                    where=in_ids(dunning.dispatch, sub_ids),
                    group_by=[dunning.dispatch]))
            for id_, count, amount, total in cursor:
                values = {'invoice_count': count, 'amount': amount,
                    'total_amount': total}
                for name in names:
                    value = values[name]
                    if name != 'invoice_count' and value is not None:
                        value = Decimal(str(value))
                    result[name][id_] = value
        currencies = {d.id: d.currency for d in dispatches}
        for name in names:
            if name == 'invoice_count':
                continue
            for id_, value in result[name].items():
                if value is not None:
                    result[name][id_] = currencies[id_].round(value)
        return result

    @classmethod
    def get_invoice_numbers(cls, dispatches, name):
        "The numbers of the invoices of each dispatch, as its letter lists"
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        # The invoices of all the dispatches read at once
        shared = {}
        invoices = Letter.letter_invoices(
            [r for d in dispatches for r in d.reminders], shared)
        return {d.id: ', '.join(invoices[r.invoice.id].number or ''
                for r in Letter.reminders_of(d, shared))
            for d in dispatches}

    def get_letter_filename(self, name):
        if not self.letter_format:
            return
        reminders = self.reminders
        if len(reminders) == 1:
            invoice = reminders[0].invoice
            subject = invoice.number or str(invoice.id)
        else:
            subject = self.party.code or self.party.rec_name
        return '%s-%s-%s.%s' % (
            slugify(subject), self.level_name or self.level.rec_name,
            self.date.isoformat() if self.date else '', self.letter_format)

    def get_rec_name(self, name):
        return '%s @ %s (%s)' % (
            self.level_name or self.level.rec_name, self.party.rec_name,
            self.date)

    @classmethod
    def search_rec_name(cls, name, clause):
        domain = search_rec_names(
            clause, ['party', 'level', 'reminders.invoice'])
        _, operator, operand, *extra = clause
        return domain + [('tracking_number', operator, operand, *extra)]

    @classmethod
    def check_modification(cls, mode, dispatches, values=None,
            external=False):
        super().check_modification(
            mode, dispatches, values=values, external=external)
        if mode == 'delete':
            # What was sent is proof, as the reminders it carries
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dispatch_delete'))
        elif mode == 'create' and external:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dispatch_create'))
        elif mode == 'write' and external:
            forbidden = values.keys() - cls._editable_fields()
            if forbidden:
                raise AccessError(gettext(
                        'account_invoice_dunning.msg_dispatch_modify',
                        dispatch=dispatches[0].rec_name,
                        fields=', '.join(sorted(
                                cls.__names__(f)['field']
                                for f in forbidden))))

    @classmethod
    def _editable_fields(cls):
        "The fields a user may change: what happened after the sending"
        return {'tracking_number', 'delivery_status', 'delivery_date', 'note'}

    @classmethod
    def copy(cls, dispatches, default=None):
        if dispatches:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dispatch_copy'))
        return super().copy(dispatches, default=default)
