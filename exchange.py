# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The exchanges with a late payer, dated, with the invoices they concern:
every letter and email sent and every call made, logged by the module, and
what comes in (a call, an email, a letter, a meeting), logged by hand with
the objection raised; shown on the party, the invoice and the reminder
("consigner chaque échange")."""
from sql import Literal
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .bulk import (
    create_rows, insert_rows, rows_from, rows_index_hint, rows_size)
from .common import CHANNELS, RelationIndexesMixin, id_slices, in_ids

EXCHANGE_CHANNELS = CHANNELS + [
    ('meeting', "Meeting"),
    ('other', "Other"),
    ]
DIRECTIONS = [
    ('out', "Outgoing"),
    ('in', "Incoming"),
    ]


class Objection(DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "A reason a customer gives for not paying"
    __name__ = 'account.invoice.dunning.objection'
    __string__ = 'Invoice Dunning Objection'
    name = fields.Char("Name", required=True, translate=True)


class Exchange(ModelSQL, ModelView):
    "An exchange with a customer about its unpaid invoices"
    __name__ = 'account.invoice.dunning.exchange'
    __string__ = 'Invoice Dunning Exchange'
    _rec_name = 'summary'
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    date = fields.Date("Date", required=True)
    channel = fields.Selection(EXCHANGE_CHANNELS, "Channel", required=True)
    direction = fields.Selection(DIRECTIONS, "Direction", required=True)
    contact = fields.Char(
        "Contact Person",
        help="Who the exchange was with at the customer's.")
    invoices = fields.Many2Many(
        'account.invoice.dunning.exchange-account.invoice', 'exchange',
        'invoice', "Invoices",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            If(Eval('party'), ('party', '=', Eval('party', -1)), ()),
            ],
        help="The invoices the exchange is about.")
    objection = fields.Many2One(
        'account.invoice.dunning.objection', "Objection",
        ondelete='RESTRICT',
        help="The reason the customer gives for not paying.")
    summary = fields.Char("Summary", required=True)
    note = fields.Text("Note")
    user = fields.Many2One(
        'res.user', "User", readonly=True,
        help="Who logged the exchange.")
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True,
        help="What the module logged: the dispatch or the call.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_direction(cls):
        return 'in'

    @classmethod
    def default_channel(cls):
        return 'phone'

    @classmethod
    def default_user(cls):
        return Transaction().user or None

    @classmethod
    def _get_origins(cls):
        "The models whose records are logged as exchanges"
        return ['account.invoice.dunning.dispatch',
            'account.invoice.dunning.call',
            'account.invoice.dunning.promise',
            'account.invoice.dunning.dispute',
            'account.invoice.dunning.plan']

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        return [(None, '')] + [(m, IrModel.get_name(m))
            for m in cls._get_origins()]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            # Who logged it: never given, always the user
            values['user'] = Transaction().user or None
        return values

    @classmethod
    def check_modification(cls, mode, exchanges, values=None,
            external=False):
        super().check_modification(
            mode, exchanges, values=values, external=external)
        if mode in {'write', 'delete'}:
            for exchange in exchanges:
                if exchange.origin and (mode == 'delete'
                        or set(values) - {'objection', 'note', 'contact'}):
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_exchange_logged',
                            exchange=exchange.rec_name))

    @classmethod
    def copy(cls, exchanges, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('origin', None)
        default.setdefault('user')
        return super().copy(exchanges, default=default)

    @classmethod
    def log_dispatches(cls, dispatches, date=None):
        """Log the dispatches as outgoing exchanges (on date, else their
        own), with the invoices of their reminders; return the exchanges"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Level = pool.get('account.invoice.dunning.level')
        # Read at once, in the order of the dispatches
        values = {v['id']: v for v in Dispatch.read(
                [d.id for d in dispatches], ['company', 'party', 'date',
                    'channel', 'level_name', 'level'])}
        dispatches = [values[d.id] for d in dispatches]
        # The name of the level of the letter, else the level's own
        levels = {level.id: level.rec_name for level in Level.browse(list(
                    {d['level'] for d in dispatches if not d['level_name']}))}
        exchanges = create_rows(cls, [{
                    'company': d['company'],
                    'party': d['party'],
                    'date': date or d['date'],
                    'channel': d['channel'],
                    'direction': 'out',
                    'summary': d['level_name'] or levels[d['level']],
                    'origin': '%s,%s' % (Dispatch.__name__, d['id']),
                    } for d in dispatches])
        cls._link_dispatch_invoices(
            zip(exchanges, [d['id'] for d in dispatches]))
        return exchanges

    @classmethod
    def _link_dispatch_invoices(cls, pairs):
        """Link the exchange of each (exchange, dispatch id) of pairs to the
        invoices of the reminders of the dispatch, in an INSERT ... SELECT
        a slice of pairs: the rows made in the database"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        ExchangeInvoice = pool.get(
            'account.invoice.dunning.exchange-account.invoice')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        link, dunning = ExchangeInvoice.__table__(), Dunning.__table__()
        pairs = [[e.id, d] for e, d in pairs]
        for sub_pairs in grouped_slice(pairs, rows_size(2)):
            sub_pairs = list(sub_pairs)
            rows, (exchange, dispatch) = rows_from(
                ['INTEGER', 'INTEGER'], sub_pairs)
            query = rows.join(dunning,
                condition=dunning.dispatch == dispatch).select(
                Literal(transaction.user), CurrentTimestamp(),
                exchange, dunning.invoice,
                where=rows_index_hint(
                    dunning.dispatch, [d for _, d in sub_pairs]),
                order_by=[exchange, dunning.invoice])
            cursor.execute(*link.insert([link.create_uid, link.create_date,
                        link.exchange, link.invoice], query))

    @classmethod
    def log_calls(cls, calls, date):
        "Log the calls made on date as outgoing exchanges"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Call = pool.get('account.invoice.dunning.call')
        invoices = Dunning.invoices_of_dispatches([c.dispatch for c in calls])
        outcomes = dict(Call.fields_get(['outcome'])['outcome']['selection'])
        cls.log_exchanges([{
                    'company': c.company.id,
                    'party': c.party.id,
                    'date': date,
                    'channel': 'phone',
                    'direction': 'out',
                    'summary': outcomes.get(c.outcome) or c.rec_name,
                    'note': c.note,
                    'origin': str(c),
                    } for c in calls],
            [invoices.get(c.dispatch.id, []) for c in calls])

    @classmethod
    def log_promises(cls, promises):
        """Log the promises to pay recorded by hand as incoming exchanges on
        the day they were given (those of a call are logged with it)"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        cls.log_exchanges([{
                    'company': p.company.id,
                    'party': p.party.id,
                    'date': p.given_on,
                    'channel': 'other',
                    'direction': 'in',
                    'summary': gettext(
                        'account_invoice_dunning.msg_promise_summary',
                        amount=lang.currency(p.amount, p.currency),
                        date=lang.strftime(p.date)),
                    'note': p.note,
                    'origin': str(p),
                    } for p in promises],
            [[i.id for i in p.invoices] for p in promises])

    @classmethod
    def log_disputes(cls, disputes):
        """Log the disputes opened as incoming exchanges on the day they
        were opened, with their invoice and reason"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        cls.log_exchanges([{
                    'company': d.company.id,
                    'party': d.invoice.party.id,
                    'date': d.opened_on,
                    'channel': 'other',
                    'direction': 'in',
                    'objection': d.objection.id,
                    'summary': gettext(
                        'account_invoice_dunning.msg_dispute_summary',
                        amount=lang.currency(d.amount, d.invoice.currency),
                        invoice=d.invoice.rec_name),
                    'note': d.note,
                    'origin': str(d),
                    } for d in disputes],
            [[d.invoice.id] for d in disputes])

    @classmethod
    def log_plans(cls, plans):
        """Log the payment plans started as exchanges with the customer on
        the day they were agreed, with their invoices"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        cls.log_exchanges([{
                    'company': p.company.id,
                    'party': p.party.id,
                    'date': p.agreed_on,
                    'channel': 'other',
                    'direction': 'in',
                    'summary': gettext(
                        'account_invoice_dunning.msg_plan_summary',
                        number=len(p.installments),
                        total=lang.currency(p.total_amount, p.currency),
                        date=lang.strftime(p.installments[0].date)),
                    'note': p.note,
                    'origin': str(p),
                    } for p in plans],
            [[i.id for i in p.invoices] for p in plans])

    @classmethod
    def log_exchanges(cls, vlist, invoices):
        """Create the exchanges of vlist, each with the invoices of the same
        index, in a few queries whatever their number

        The values come from the module, consistent by construction: as
        create would, they go through preprocess_values and the new
        exchanges through on_modification."""
        pool = Pool()
        ExchangeInvoice = pool.get(
            'account.invoice.dunning.exchange-account.invoice')
        exchanges = create_rows(cls, vlist)
        insert_rows(ExchangeInvoice, [{'exchange': e.id, 'invoice': i}
                for e, invoice_ids in zip(exchanges, invoices)
                for i in invoice_ids])
        return exchanges


class ExchangeInvoice(RelationIndexesMixin, ModelSQL):
    "The invoices an exchange is about"
    __name__ = 'account.invoice.dunning.exchange-account.invoice'
    __string__ = 'Invoice Dunning Exchange - Invoice'
    exchange = fields.Many2One(
        'account.invoice.dunning.exchange', "Exchange", required=True,
        ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='CASCADE')


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_exchanges = fields.One2Many(
        'account.invoice.dunning.exchange', 'party', "Exchanges",
        help="The exchanges with the party about its unpaid invoices.")

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_exchanges', None)
        return super().copy(parties, default=default)


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunning_exchanges = fields.Many2Many(
        'account.invoice.dunning.exchange-account.invoice', 'invoice',
        'exchange', "Exchanges", readonly=True,
        order=[('exchange.date', 'DESC'), ('exchange.id', 'DESC')],
        help="The exchanges with the customer about the invoice.")

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_exchanges', None)
        return super().copy(invoices, default=default)


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning'
    exchanges = fields.Function(fields.Many2Many(
            'account.invoice.dunning.exchange', None, None, "Exchanges",
            help="The exchanges about the invoice of the reminder."),
        'get_exchanges')

    @classmethod
    def get_exchanges(cls, dunnings, name):
        "The exchanges about the invoice of each reminder, newest first"
        pool = Pool()
        ExchangeInvoice = pool.get(
            'account.invoice.dunning.exchange-account.invoice')
        Exchange = pool.get('account.invoice.dunning.exchange')
        relation = ExchangeInvoice.__table__()
        exchange = Exchange.__table__()
        cursor = Transaction().connection.cursor()
        by_invoice = {}
        for sub_ids in id_slices({d.invoice.id for d in dunnings}):
            cursor.execute(*relation.join(exchange,
                    condition=relation.exchange == exchange.id)
                .select(relation.invoice, relation.exchange,
                    where=in_ids(relation.invoice, sub_ids),
                    order_by=[exchange.date.desc, exchange.id.desc]))
            for invoice, exchange_id in cursor:
                by_invoice.setdefault(invoice, []).append(exchange_id)
        return {d.id: by_invoice.get(d.invoice.id, []) for d in dunnings}

    @classmethod
    def invoices_of_dispatches(cls, dispatches):
        "Return {dispatch id: [invoice ids]} of the reminders of dispatches"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in id_slices({d.id for d in dispatches}):
            cursor.execute(*table.select(table.dispatch, table.invoice,
                    where=in_ids(table.dispatch, sub_ids),
                    order_by=[table.dispatch, table.invoice]))
            for dispatch, invoice in cursor:
                result.setdefault(dispatch, []).append(invoice)
        return result
