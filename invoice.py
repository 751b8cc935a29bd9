# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Invoice extension: reminders, current level and blocking."
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Max

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import PenaltyError
from .penalty import compute_penalties, PenaltyWaiverMixin


class Invoice(PenaltyWaiverMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunnings = fields.One2Many(
        'account.invoice.dunning', 'invoice', "Reminders", readonly=True,
        order=[('date', 'ASC'), ('id', 'ASC')],
        states={
            'invisible': Eval('type') != 'out',
            })
    dunning_level = fields.Function(fields.Many2One(
            'account.invoice.dunning.level', "Dunning Level",
            states={
                'invisible': Eval('type') != 'out',
                },
            help="The level of the latest processed reminder."),
        'get_dunning_level', searcher='search_dunning_level')
    dunning_blocked = fields.Boolean(
        "Dunning Blocked",
        states={
            'invisible': Eval('type') != 'out',
            },
        help="Check to stop the reminders, for example during a dispute.")
    dunning_block_reason = fields.Text(
        "Dunning Block Reason",
        states={
            'invisible': Eval('type') != 'out',
            'required': Bool(Eval('dunning_blocked')),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {
            'dunning_blocked', 'dunning_block_reason', 'dunnings',
            'dunning_penalty_waived', 'dunning_penalty_waiver_reason',
            'dunning_penalty_waived_by', 'dunning_penalty_waived_date'}

    @classmethod
    def default_dunning_blocked(cls):
        return False

    @classmethod
    def _latest_done_dunnings(cls, invoice_ids=None):
        "Query of (invoice, dunning id) of the latest done reminder"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        latest = Dunning.__table__()
        where = dunning.state == 'done'
        if invoice_ids is not None:
            where &= fields.SQL_OPERATORS['in'](dunning.invoice, invoice_ids)
        last = latest.select(
            latest.invoice, Max(latest.date).as_('date'),
            where=latest.state == 'done', group_by=[latest.invoice])
        return (dunning
            .join(last, condition=(last.invoice == dunning.invoice)
                & (last.date == dunning.date))
            .select(dunning.invoice, Max(dunning.id).as_('id'),
                where=where, group_by=[dunning.invoice]))

    @classmethod
    def get_dunning_level(cls, invoices, name):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        dunning = Dunning.__table__()
        cursor = Transaction().connection.cursor()
        result = {i.id: None for i in invoices}
        for sub_ids in grouped_slice(
                [i.id for i in invoices], backend.MAX_QUERY_PARAMS):
            latest = cls._latest_done_dunnings(sub_ids)
            cursor.execute(*latest
                .join(dunning, condition=dunning.id == latest.id)
                .select(latest.invoice, dunning.level))
            result.update(cursor)
        return result

    @classmethod
    def search_dunning_level(cls, name, clause):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        dunning = Dunning.__table__()
        latest = cls._latest_done_dunnings()
        _, operator, value = clause[:3]
        if value is None and operator in {'=', '!='}:
            query = latest.select(latest.invoice)
            return [('id', 'not in' if operator == '=' else 'in', query)]
        nested = clause[0][len(name) + 1:] or (
            'rec_name' if isinstance(value, str) else 'id')
        levels = Level.search([(nested, *clause[1:])], query=True)
        query = (latest
            .join(dunning, condition=dunning.id == latest.id)
            .select(latest.invoice, where=dunning.level.in_(levels)))
        return [('id', 'in', query)]

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunnings', None)
        default.setdefault('dunning_blocked', False)
        default.setdefault('dunning_block_reason', None)
        return super().copy(invoices, default=default)

    @classmethod
    def invoice_dunning_penalties(cls, invoices, date):
        """Create, in draft, the invoices of the penalties accrued on date by
        the late invoices and not invoiced yet; return them"""
        pool = Pool()
        Configuration = pool.get('account.configuration')
        Line = pool.get('account.invoice.line')
        Lang = pool.get('ir.lang')

        invoices = [i for i in invoices
            if i.type == 'out' and i.state in {'posted', 'paid'}]
        requests = {i.id: (i, i.dunning_level or i._penalty_level(), date,
                Decimal(0)) for i in invoices}
        penalties = compute_penalties(
            {k: v for k, v in requests.items() if v[1]})
        invoiced = cls._invoiced_penalties([i.id for i in invoices])
        config = Configuration(1)
        lang = Lang.get()
        new_invoices = {}
        lines = []
        for invoice in invoices:
            accrued = penalties.get(invoice.id)
            if not accrued:
                continue
            already = invoiced.get(invoice.id, {})
            for kind, amount in [
                    ('interest', accrued.interest),
                    ('indemnity', accrued.indemnity),
                    ('fee', accrued.fee)]:
                amount -= already.get(kind, 0)
                if amount <= 0:
                    continue
                account = config.get_multivalue(
                    'dunning_penalty_account', company=invoice.company.id)
                if kind == 'indemnity':
                    account = config.get_multivalue(
                        'dunning_indemnity_account',
                        company=invoice.company.id) or account
                if not account:
                    raise PenaltyError(gettext(
                            'account_invoice_dunning'
                            '.msg_penalty_account_missing',
                            company=invoice.company.rec_name))
                key = (invoice.company, invoice.party, invoice.currency)
                if key not in new_invoices:
                    new_invoices[key] = cls._penalty_invoice(invoice, date)
                line = Line(
                    invoice=new_invoices[key],
                    company=invoice.company,
                    currency=invoice.currency,
                    type='line',
                    quantity=1,
                    unit_price=amount,
                    account=account,
                    taxes=[],
                    dunning_penalty_invoice=invoice,
                    dunning_penalty_kind=kind,
                    description=gettext(
                        'account_invoice_dunning.msg_penalty_line_%s' % kind,
                        invoice=invoice.rec_name,
                        date=lang.strftime(date)))
                lines.append(line)
        if not lines:
            raise PenaltyError(gettext(
                    'account_invoice_dunning.msg_penalty_nothing'))
        new = list(new_invoices.values())
        cls.save(new)
        Line.save(lines)
        cls.update_taxes(new)
        return new

    def _penalty_level(self):
        "The level of the latest reminder, done or not"
        dunnings = [d for d in self.dunnings if d.state != 'cancelled']
        return dunnings[-1].level if dunnings else None

    @classmethod
    def _penalty_invoice(cls, invoice, date):
        invoice_ = cls(
            type='out',
            company=invoice.company,
            party=invoice.party,
            invoice_address=invoice.invoice_address,
            currency=invoice.currency,
            account=invoice.account,
            payment_term=invoice.payment_term,
            invoice_date=None,
            )
        invoice_.on_change_type()
        invoice_.description = gettext(
            'account_invoice_dunning.msg_penalty_invoice_description')
        return invoice_

    @classmethod
    def _invoiced_penalties(cls, invoice_ids):
        "Return {late invoice: {kind: amount}} invoiced and not cancelled"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        result = defaultdict(lambda: defaultdict(Decimal))
        for sub_ids in grouped_slice(invoice_ids, backend.MAX_QUERY_PARAMS):
            for line in Line.search([
                        ('dunning_penalty_invoice', 'in', list(sub_ids)),
                        ('invoice.state', '!=', 'cancelled'),
                        ]):
                result[line.dunning_penalty_invoice.id][
                    line.dunning_penalty_kind] += line.amount
        return result


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'
    dunning_penalty_invoice = fields.Many2One(
        'account.invoice', "Penalty of Invoice", readonly=True,
        ondelete='RESTRICT',
        help="The late invoice whose penalties this line charges.")
    dunning_penalty_kind = fields.Selection([
            (None, ""),
            ('interest', "Interest"),
            ('indemnity', "Recovery Indemnity"),
            ('fee', "Fees"),
            ], "Penalty Kind", readonly=True)

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_penalty_invoice', None)
        default.setdefault('dunning_penalty_kind', None)
        return super().copy(lines, default=default)
