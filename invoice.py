# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Invoice extension: reminders, current level and blocking."
from sql.aggregate import Max

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


class Invoice(metaclass=PoolMeta):
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
            'dunning_blocked', 'dunning_block_reason', 'dunnings'}

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
