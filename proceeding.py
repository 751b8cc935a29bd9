# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Collective proceedings of a customer (safeguard, receivership,
liquidation): from the judgment of opening the reminders and the interest
of the claims born before it stop, the invoices move to "in collective
proceedings", and the claim is to be declared to the mandataire within
months of the publication of the judgment."""
import datetime as dt

from dateutil.relativedelta import relativedelta

from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import browse, id_slices, in_ids, to_date
from .litigation_config import litigation_delay

KINDS = [
    ('safeguard', "Safeguard"),
    ('receivership', "Receivership"),
    ('liquidation', "Judicial Liquidation"),
    ]
RANKS = [
    ('ordinary', "Ordinary"),
    ('privileged', "Privileged"),
    ]
STATES = [
    ('draft', "Draft"),
    ('opened', "Opened"),
    ('declared', "Declared"),
    ('closed', "Closed"),
    ('cancelled', "Cancelled"),
    ]
# The proceedings whose judgment stops the reminders and the interest
EFFECTIVE = ['opened', 'declared', 'closed']
# The litigation states of the invoices the judgment moves
MOVED = ['amicable', 'handed_over', 'in_court']
_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }


class Proceeding(Workflow, ModelSQL, ModelView):
    "The collective proceedings opened against a customer"
    __name__ = 'account.invoice.dunning.proceeding'
    __string__ = 'Collective Proceeding'
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
    kind = fields.Selection(KINDS, "Kind", required=True, states=_DRAFT)
    judgment_date = fields.Date(
        "Judgment Date", required=True, states=_DRAFT,
        help="The date of the judgment of opening: the reminders and the "
        "interest of the claims born before it stop that day.")
    court = fields.Char(
        "Court", states=_DRAFT,
        help="The court that opened the proceedings, e.g. \"Tribunal des "
        "activités économiques de Paris\".")
    case_number = fields.Char("Case Number", states=_DRAFT)
    publication_date = fields.Date(
        "BODACC Publication", states=_DRAFT,
        help="The date of the publication of the judgment in the BODACC: "
        "the delay to declare the claims runs from it.")
    declaration_deadline = fields.Date(
        "Declaration Deadline",
        states={
            'readonly': Eval('state').in_(['closed', 'cancelled']),
            },
        help="The publication date and the months to declare of the "
        "accounting configuration, unless changed.")
    mandataire = fields.Many2One(
        'party.party', "Mandataire", ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The mandataire judiciaire (or liquidator) to whom the claims "
        "are declared.")
    rank = fields.Selection(RANKS, "Rank", required=True,
        help="Privileged when the claim has a security or a legal "
        "privilege; ordinary (chirographaire) otherwise.")
    privilege = fields.Char("Privilege or Security",
        states={
            'invisible': Eval('rank') != 'privileged',
            },
        help="The nature of the privilege or security of the claim, as the "
        "declaration states it; left blank, the declaration leaves a line "
        "to fill in by hand.")
    declared_on = fields.Date("Declared On",
        states={
            'readonly': Eval('state') != 'opened',
            })
    declaration_pending = fields.Function(fields.Boolean(
            "Declaration Pending",
            help="Opened, not yet declared, its deadline near or passed."),
        'get_declaration_pending', searcher='search_declaration_pending')
    state = fields.Selection(
        STATES, "State", required=True, readonly=True, sort=False)
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('judgment_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'opened'),
            ('draft', 'cancelled'),
            ('opened', 'declared'),
            ('opened', 'closed'),
            ('declared', 'closed'),
            }
        cls._buttons.update({
                'open_': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'declare': {
                    'invisible': Eval('state') != 'opened',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': ~Eval('state').in_(['opened', 'declared']),
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-cancel',
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
    def default_kind(cls):
        return 'receivership'

    @classmethod
    def default_rank(cls):
        return 'ordinary'

    @fields.depends('publication_date', 'company', 'declaration_deadline')
    def on_change_publication_date(self):
        if self.publication_date and self.company:
            self.declaration_deadline = self.deadline_of(
                self.publication_date, self.company)

    @staticmethod
    def deadline_of(publication_date, company):
        "The deadline to declare after a publication on publication_date"
        return publication_date + relativedelta(
            months=litigation_delay('dunning_declaration_months', company))

    def get_rec_name(self, name):
        return '%s - %s' % (self.party.rec_name, self.judgment_date)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('party.rec_name',) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        company = values.get('company') or cls.default_company()
        if (mode == 'create' and values.get('publication_date')
                and not values.get('declaration_deadline') and company):
            values['declaration_deadline'] = cls.deadline_of(
                values['publication_date'], company)
        return values

    @classmethod
    def _warning_date(cls):
        "The deadlines up to which the declarations are pending today"
        pool = Pool()
        Date = pool.get('ir.date')
        company = Transaction().context.get('company')
        days = (litigation_delay('dunning_declaration_warning_days', company)
            if company else 0)
        return Date.today() + dt.timedelta(days=days)

    def get_declaration_pending(self, name):
        return (self.state == 'opened' and bool(self.declaration_deadline)
            and self.declaration_deadline <= self._warning_date())

    @classmethod
    def search_declaration_pending(cls, name, clause):
        _, operator, value = clause[:3]
        pending = [
            ('state', '=', 'opened'),
            ('declaration_deadline', '!=', None),
            ('declaration_deadline', '<=', cls._warning_date()),
            ]
        if (operator == '=') == bool(value):
            return pending
        return ['NOT', pending]

    @classmethod
    def copy(cls, proceedings, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('declared_on', None)
        return super().copy(proceedings, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('opened')
    def open_(cls, proceedings):
        """The judgment is recorded: the invoices of the debtor born before
        it move to collective proceedings, their draft reminders are
        cancelled"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Dunning = pool.get('account.invoice.dunning')
        invoices = browse(Invoice, sorted(cls.invoices_of(proceedings)))
        if invoices:
            Invoice.write(invoices, {'dunning_litigation': 'collective'})
            drafts = Dunning.search([
                    ('invoice', 'in', [i.id for i in invoices]),
                    ('state', '=', 'draft'),
                    ])
            if drafts:
                Dunning.cancel(browse(Dunning, [d.id for d in drafts]))

    @classmethod
    @ModelView.button
    @Workflow.transition('declared')
    def declare(cls, proceedings):
        "The claims were declared to the mandataire (today by default)"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        for proceeding in proceedings:
            if not proceeding.declared_on:
                proceeding.declared_on = today
        cls.save(proceedings)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, proceedings):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, proceedings):
        pass

    @classmethod
    def invoices_of(cls, proceedings):
        "The ids of the unpaid invoices of the debtors born before judgment"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        result = set()
        for proceeding in proceedings:
            result.update(i.id for i in Invoice.search([
                        ('company', '=', proceeding.company.id),
                        ('party', '=', proceeding.party.id),
                        ('type', '=', 'out'),
                        ('state', '=', 'posted'),
                        ('invoice_date', '<=', proceeding.judgment_date),
                        ('dunning_litigation', 'in', MOVED),
                        ]))
        return result

    @classmethod
    def _judgment_query(cls, where):
        """The query of (invoice, judgment date) of the customer invoices
        born before the judgment of an effective proceeding of their party
        in their company, selected by where(invoice, proceeding)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoice = Invoice.__table__()
        proceeding = cls.__table__()
        return (invoice
            .join(proceeding, condition=(proceeding.party == invoice.party)
                & (proceeding.company == invoice.company))
            .select(invoice.id, proceeding.judgment_date,
                where=(invoice.type == 'out')
                & proceeding.state.in_(EFFECTIVE)
                & (invoice.invoice_date <= proceeding.judgment_date)
                & where(invoice, proceeding)))

    @classmethod
    def suspended_invoices(cls, company_ids, date=None):
        """Return the ids of the posted invoices of the companies born
        before the judgment of a proceeding of their party opened by date"""
        cursor = Transaction().connection.cursor()

        def where(invoice, proceeding):
            condition = ((invoice.state == 'posted')
                & invoice.company.in_([int(c) for c in company_ids]))
            if date is not None:
                condition &= proceeding.judgment_date <= date
            return condition
        cursor.execute(*cls._judgment_query(where))
        return {i for i, _ in cursor}

    @classmethod
    def interest_ends(cls, invoice_ids):
        """Return {invoice id: judgment date} of the invoices whose interest
        stops at the judgment of opening of a proceeding of their party"""
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in id_slices(invoice_ids):
            cursor.execute(*cls._judgment_query(
                    lambda invoice, _: in_ids(invoice.id, sub_ids)))
            for invoice_id, date in cursor:
                date = to_date(date)
                result[invoice_id] = min(date, result.get(invoice_id, date))
        return result


class Penalty(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.penalty'

    @classmethod
    def compute_penalties(cls, requests):
        """The interest of the claims born before the judgment of opening
        of collective proceedings runs up to the judgment only (Code de
        commerce, article L622-28)"""
        pool = Pool()
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        ends = Proceeding.interest_ends({int(r[0]) for r in requests.values()})
        if ends:
            requests = {k: (invoice, level,
                    min(date, ends.get(int(invoice), date)), overdue)
                for k, (invoice, level, date, overdue) in requests.items()}
        return super().compute_penalties(requests)


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_proceedings = fields.One2Many(
        'account.invoice.dunning.proceeding', 'party',
        "Collective Proceedings", readonly=True)

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_proceedings', None)
        return super().copy(parties, default=default)
