# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Disputes: a customer contests all or part of an invoice; the amount
disputed is left out of what the reminders claim (and of the base of the
interest) until the dispute is resolved: rejected, the whole amount is
claimed again; accepted (fully or partly), the amount accepted stays out."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Literal
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import apply_types
from .exceptions import DisputeValidationError

STATES = [
    ('open', "Open"),
    ('accepted', "Accepted"),
    ('partly_accepted', "Partly Accepted"),
    ('rejected', "Rejected"),
    ]
RESOLVED = {'accepted', 'partly_accepted', 'rejected'}
# Set by the workflow only, never given by a user
COMPUTED_FIELDS = {'state', 'resolved_on', 'resolved_by'}
_OPEN = {
    'readonly': Eval('state') != 'open',
    }


class Dispute(Workflow, ModelSQL, ModelView):
    "A customer contests all or part of an invoice"
    __name__ = 'account.invoice.dunning.dispute'
    __string__ = 'Invoice Dispute'
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ('state', '=', 'posted'),
            ],
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    party = fields.Function(fields.Many2One('party.party', "Party",
            context={
                'company': Eval('company', -1),
                },
            depends={'company'}),
        'on_change_with_party', searcher='search_party')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'on_change_with_currency')
    amount = Monetary(
        "Disputed Amount", currency='currency', digits='currency',
        required=True, states=_OPEN,
        help="The part of the invoice the customer contests: the reminders "
        "do not claim it while the dispute is open.")
    objection = fields.Many2One(
        'account.invoice.dunning.objection', "Reason", required=True,
        ondelete='RESTRICT', states=_OPEN)
    owner = fields.Many2One(
        'res.user', "Owner", required=True, states=_OPEN,
        help="Who handles the dispute.")
    opened_on = fields.Date("Opened On", required=True, states=_OPEN)
    accepted_amount = Monetary(
        "Accepted Amount", currency='currency', digits='currency',
        states={
            'readonly': Eval('state') != 'open',
            'invisible': Eval('state') == 'rejected',
            },
        help="The part of the disputed amount the company agrees not to "
        "claim; it stays out of the reminders. Fill it in before "
        "\"Accept Partly\".")
    credit_note = fields.Many2One(
        'account.invoice', "Credit Note", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ('party', '=', Eval('party', -1)),
            ],
        states={
            'invisible': ~Eval('state').in_(
                ['open', 'accepted', 'partly_accepted']),
            },
        help="The credit note issued for the accepted amount.")
    resolved_on = fields.Date("Resolved On", readonly=True)
    resolved_by = fields.Many2One('res.user', "Resolved by", readonly=True)
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    to_follow = fields.Function(fields.Boolean(
            "To Follow",
            help="Open for longer than the days to follow the disputes of "
            "the accounting configuration."),
        'get_to_follow', searcher='search_to_follow')
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('opened_on', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'accepted'),
            ('open', 'partly_accepted'),
            ('open', 'rejected'),
            }
        cls._buttons.update({
                'accept': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'accept_partly': {
                    'invisible': Eval('state') != 'open',
                    'readonly': ~Eval('accepted_amount'),
                    'depends': ['state', 'accepted_amount'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_opened_on(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_owner(cls):
        return Transaction().user or None

    @fields.depends('invoice')
    def on_change_with_party(self, name=None):
        return self.invoice.party if self.invoice else None

    @fields.depends('invoice')
    def on_change_with_currency(self, name=None):
        return self.invoice.currency if self.invoice else None

    @classmethod
    def search_party(cls, name, clause):
        return [('invoice.party' + clause[0][len(name):],)
            + tuple(clause[1:])]

    def get_rec_name(self, name):
        return '%s - %s' % (self.invoice.rec_name, self.objection.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('invoice.rec_name',) + tuple(clause[1:]),
            ('objection.rec_name',) + tuple(clause[1:]),
            ]

    @classmethod
    def follow_date(cls):
        """The day before which an open dispute is to follow: the days to
        follow the disputes of the accounting configuration"""
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Date = pool.get('ir.date')
        days = Configuration(1).get_multivalue(
            'dunning_dispute_follow_days')
        return Date.today() - dt.timedelta(days=days or 0)

    def get_to_follow(self, name):
        return (self.state == 'open'
            and self.opened_on <= self.follow_date())

    @classmethod
    def search_to_follow(cls, name, clause):
        _, operator, value = clause
        to_follow = [('state', '=', 'open'),
            ('opened_on', '<=', cls.follow_date())]
        if (operator == '=') == bool(value):
            return to_follow
        return ['OR', ('state', '!=', 'open'),
            ('opened_on', '>', cls.follow_date())]

    @classmethod
    def validate_fields(cls, disputes, field_names):
        super().validate_fields(disputes, field_names)
        cls.check_amounts(disputes, field_names)

    @classmethod
    def check_amounts(cls, disputes, field_names=None):
        """The amount disputed is positive and at most the invoice's; the
        amount accepted at most the amount disputed"""
        if field_names and not (
                field_names & {'amount', 'accepted_amount', 'invoice'}):
            return
        for dispute in disputes:
            if not (0 < dispute.amount <= dispute.invoice.total_amount):
                raise DisputeValidationError(gettext(
                        'account_invoice_dunning.msg_dispute_amount',
                        dispute=dispute.rec_name))
            if dispute.accepted_amount is not None and not (
                    0 <= dispute.accepted_amount <= dispute.amount):
                raise DisputeValidationError(gettext(
                        'account_invoice_dunning.msg_dispute_accepted',
                        dispute=dispute.rec_name))

    @classmethod
    def check_modification(cls, mode, disputes, values=None,
            external=False):
        super().check_modification(
            mode, disputes, values=values, external=external)
        if mode == 'delete':
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dispute_delete'))
        elif mode == 'write' and external:
            if set(values) & COMPUTED_FIELDS:
                raise AccessError(gettext(
                        'account_invoice_dunning.msg_dispute_modify',
                        dispute=disputes[0].rec_name))
            for dispute in disputes:
                if (dispute.state in RESOLVED
                        and set(values) - {'note', 'credit_note'}):
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_dispute_modify',
                            dispute=dispute.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            for name in COMPUTED_FIELDS:
                values.pop(name, None)
            values['state'] = 'open'
        return values

    @classmethod
    def on_modification(cls, mode, disputes, field_names=None):
        pool = Pool()
        Exchange = pool.get('account.invoice.dunning.exchange')
        super().on_modification(mode, disputes, field_names=field_names)
        if mode == 'create':
            Exchange.log_disputes(disputes)

    @classmethod
    def copy(cls, disputes, default=None):
        if disputes:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_dispute_copy'))
        return super().copy(disputes, default=default)

    @classmethod
    def _resolve(cls, disputes, values):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(disputes, dict(values,
                resolved_on=Date.today(),
                resolved_by=Transaction().user or None))

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, disputes):
        "The company agrees: the whole amount disputed stays out"
        for dispute in disputes:
            cls._resolve([dispute], {'accepted_amount': dispute.amount})

    @classmethod
    @ModelView.button
    @Workflow.transition('partly_accepted')
    def accept_partly(cls, disputes):
        "The company agrees to the amount accepted: the rest is claimed"
        for dispute in disputes:
            if dispute.accepted_amount is None:
                raise DisputeValidationError(gettext(
                        'account_invoice_dunning.msg_dispute_accepted',
                        dispute=dispute.rec_name))
        cls._resolve(disputes, {})

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, disputes):
        "The company disagrees: the whole amount is claimed again"
        cls._resolve(disputes, {'accepted_amount': None})

    @classmethod
    def excluded_amounts(cls, company_ids):
        """Return {invoice id: amount} that the reminders of the posted
        invoices of the companies do not claim: the amount of their open
        disputes and the amount accepted of the others, in one query (the
        disputes are few beside the invoices)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        table = cls.__table__()
        invoice = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        excluded = Case(
            (table.state == 'open', table.amount),
            (table.state.in_(['accepted', 'partly_accepted']),
                table.accepted_amount),
            else_=Literal(0))
        # Summed in Python: SQLite sums with floats
        cursor.execute(*apply_types(table
                .join(invoice, condition=invoice.id == table.invoice)
                .select(table.invoice, excluded.as_('amount'),
                    where=table.company.in_([int(c) for c in company_ids])
                    & (table.state != 'rejected')
                    & (invoice.state == 'posted')),
                [None, 'NUMERIC']))
        result = defaultdict(Decimal)
        for invoice_id, amount in cursor:
            if amount:
                result[invoice_id] += Decimal(amount)
        return result


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunning_disputes = fields.One2Many(
        'account.invoice.dunning.dispute', 'invoice', "Disputes",
        readonly=True,
        help="What the customer contests of the invoice.")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_disputes', None)
        return super().copy(invoices, default=default)
