# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Litigation files: the invoices of a customer taken out of the ladder of
reminders once the formal notice failed, handed over to a collection
agency, a bailiff or a lawyer, or taken to court; payments still close
them."""
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .common import RelationIndexesMixin, browse, context_company_currency
from .litigation_common import (
    AGENT_KINDS, PURSUED_STATES, LitigationError, LitigationWarning)

STATES = [
    ('draft', "Draft"),
    ('handed_over', "Handed Over"),
    ('in_court', "In Court"),
    ('closed', "Closed"),
    ('cancelled', "Cancelled"),
    ]
_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }
_OPEN = {
    'readonly': Eval('state').in_(['closed', 'cancelled']),
    }


class LitigationFile(Workflow, ModelSQL, ModelView):
    "The invoices of a customer pursued outside the ladder of reminders"
    __name__ = 'account.invoice.dunning.litigation'
    __string__ = 'Litigation File'
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    party = fields.Many2One(
        'party.party', "Debtor", required=True, ondelete='RESTRICT',
        states=_DRAFT,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, states=_DRAFT)
    invoices = fields.Many2Many(
        'account.invoice.dunning.litigation-account.invoice', 'litigation',
        'invoice', "Invoices", required=True, states=_DRAFT,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            ('party', '=', Eval('party', -1)),
            ('currency', '=', Eval('currency', -1)),
            If(Eval('state') == 'draft',
                ('state', '=', 'posted'),
                ()),
            ],
        help="The unpaid invoices of the customer pursued in this file.")
    agent = fields.Many2One(
        'party.party', "Handed Over To", ondelete='RESTRICT',
        domain=[
            ('dunning_agent_kind', '!=', None),
            ],
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') == 'handed_over',
            },
        help="The collection agency, bailiff (commissaire de justice) or "
        "lawyer in charge of the file; empty when the company pursues it "
        "itself.")
    agent_kind = fields.Function(fields.Selection(
            AGENT_KINDS, "Agent Kind"), 'on_change_with_agent_kind')
    handed_on = fields.Date(
        "Handed Over On",
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') == 'handed_over',
            })
    reference = fields.Char(
        "Reference", states=_OPEN,
        help="The reference of the file at the agent or the court.")
    fees = fields.Char(
        "Fees Agreed", states=_OPEN,
        help="What the agent is paid, e.g. \"12 % of the amounts "
        "recovered\".")
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    closed_on = fields.Date("Closed On", readonly=True)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'handed_over'),
            ('draft', 'cancelled'),
            ('handed_over', 'cancelled'),
            ('handed_over', 'closed'),
            ('in_court', 'closed'),
            }
        cls._buttons.update({
                'hand_over': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'take_back': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'handed_over']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': ~Eval('state').in_(
                        ['handed_over', 'in_court']),
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_handed_on(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_currency(cls):
        return context_company_currency()

    @fields.depends('agent')
    def on_change_with_agent_kind(self, name=None):
        return self.agent.dunning_agent_kind if self.agent else None

    def get_rec_name(self, name):
        return '%s - %s' % (self.party.rec_name, self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('party.rec_name',) + tuple(clause[1:]),
            ('reference',) + tuple(clause[1:]),
            ]

    @classmethod
    def check_modification(cls, mode, files, values=None, external=False):
        super().check_modification(
            mode, files, values=values, external=external)
        if mode == 'delete':
            for file in files:
                if file.state not in {'draft', 'cancelled'}:
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_litigation_delete',
                            file=file.rec_name))

    @classmethod
    def copy(cls, files, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('invoices', None)
        default.setdefault('closed_on', None)
        return super().copy(files, default=default)

    @classmethod
    def check_invoices(cls, files):
        """The invoices of files are posted (unpaid), in the amicable stage
        and in no other file that pursues them"""
        for file in files:
            for invoice in file.invoices:
                if (invoice.state != 'posted'
                        or invoice.dunning_litigation != 'amicable'):
                    raise LitigationError(gettext(
                            'account_invoice_dunning'
                            '.msg_litigation_invoice_state',
                            invoice=invoice.rec_name, file=file.rec_name))

    @classmethod
    def check_formal_notice(cls, files, date):
        """Warn when an invoice of files was handed over before the deadline
        of a formal notice sent for it"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        early = [i for f in files for i in f.invoices
            if not cls._formal_notice_expired(i, date)]
        if early:
            key = Warning.format('litigation_formal_notice', early)
            if Warning.check(key):
                raise LitigationWarning(key, gettext(
                        'account_invoice_dunning'
                        '.msg_litigation_no_formal_notice',
                        invoice=early[0].rec_name, count=len(early)))

    @staticmethod
    def _formal_notice_expired(invoice, date):
        "Test if a formal notice of invoice was sent and expired by date"
        return any(d.state == 'done' and d.level.formal_notice
            and d.deadline and d.deadline < date for d in invoice.dunnings)

    @classmethod
    def set_invoices_state(cls, files, state):
        """Move the invoices of files to the litigation state (those paid
        since to recovered), their draft reminders cancelled"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Dunning = pool.get('account.invoice.dunning')
        to_write = []
        for file in files:
            to_write.extend(file._invoice_writes(state))
        if to_write:
            Invoice.write(*to_write)
        if state in PURSUED_STATES:
            drafts = Dunning.search([
                    ('invoice', 'in',
                        [i.id for f in files for i in f.invoices]),
                    ('state', '=', 'draft'),
                    ])
            if drafts:
                Dunning.cancel(browse(Dunning, [d.id for d in drafts]))

    def _invoice_writes(self, state):
        "The arguments of Invoice.write that move the invoices to state"
        unpaid = [i for i in self.invoices if i.state == 'posted']
        paid = [i for i in self.invoices if i.state == 'paid']
        args = []
        if unpaid:
            args.extend([unpaid, {
                        'dunning_litigation': state,
                        'dunning_litigation_file': (
                            self.id if state != 'amicable' else None),
                        }])
        if paid and state == 'written_off':
            args.extend([paid, {'dunning_litigation': 'recovered'}])
        return args

    @classmethod
    @ModelView.button
    @Workflow.transition('handed_over')
    def hand_over(cls, files):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.check_invoices(files)
        cls.check_formal_notice(files, Date.today())
        cls.set_invoices_state(files, 'handed_over')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def take_back(cls, files):
        "The agent gives the file back: the reminders resume"
        cls.set_invoices_state(
            [f for f in files if f.state != 'draft'], 'amicable')

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, files):
        """The file is over: its invoices paid are recovered, the others
        written off"""
        pool = Pool()
        Date = pool.get('ir.date')
        cls.set_invoices_state(files, 'written_off')
        cls.write(files, {'closed_on': Date.today()})


class LitigationFileInvoice(RelationIndexesMixin, ModelSQL):
    "Litigation File - Invoice"
    __name__ = 'account.invoice.dunning.litigation-account.invoice'
    __string__ = "Litigation File - Invoice"
    litigation = fields.Many2One(
        'account.invoice.dunning.litigation', "Litigation File",
        required=True, ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT')
