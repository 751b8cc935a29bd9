# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""How a reminder reaches the customer: its dispatch (the letter, email or
call sent with the other reminders of the customer), read through the
reminder (letter, tracking number, email state), the sending of processed
reminders, and the migration of the letters archived on the reminders."""
from collections import defaultdict

from sql import Column, Null
from sql.aggregate import Max
from sql.conditionals import Coalesce

from trytond.model import fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .common import LETTER_CHANNELS, PRINTED_CHANNELS, browse
from .dispatch_email import EMAIL_STATES
from .letter_archive import letter_prefix, migrate_letter_store


class ReminderDispatchMixin:
    "The dispatch of a reminder, and the sending of processed reminders"
    __slots__ = ()
    dispatch = fields.Many2One(
        'account.invoice.dunning.dispatch', "Dispatch", readonly=True,
        ondelete='RESTRICT',
        help="The letter, email or call that carried the reminder to the "
        "customer, with the other reminders sent with it.")
    tracking_number = fields.Function(fields.Char(
            "Tracking Number",
            states={
                'invisible': Eval('channel') != 'registered_letter',
                'readonly': Eval('state') != 'done',
                },
            help="The number of the registered letter with "
            "acknowledgement of receipt."),
        'get_dispatch_field', setter='set_dispatch_field',
        searcher='search_dispatch_field')
    letter = fields.Function(fields.Binary(
            "Letter", filename='letter_filename'), 'get_dispatch_field')
    email_state = fields.Function(fields.Selection(
            EMAIL_STATES, "Email State",
            states={
                'invisible': Eval('channel') != 'email',
                }),
        'get_dispatch_field', searcher='search_dispatch_field')
    letter_format = fields.Function(
        fields.Char("Letter Format"), 'get_dispatch_field',
        searcher='search_dispatch_field')
    letter_filename = fields.Function(
        fields.Char("Letter File Name"), 'get_dispatch_field')

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        letters_here = table_h.column_exist('letter_id')
        super().__register__(module)
        if letters_here:
            cls._migrate_to_dispatches()

    @classmethod
    def _migrate_to_dispatches(cls):
        """Before the dispatches, each processed reminder had its own letter
        (and tracking number): each becomes the dispatch of its reminder,
        of the same id, with its letter file, so that nothing is rendered
        again; the letters archived by the queue afterwards go to the
        dispatches"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Queue = pool.get('ir.queue')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        dispatch = Dispatch.__table__()
        migrate_letter_store(table, cls.__name__,
            transaction.database.name, letter_prefix())
        cursor.execute(*dispatch.select(dispatch.id, limit=1))
        if cursor.fetchone():
            return
        columns = ['create_uid', 'create_date', 'company', 'party', 'level',
            'level_name', 'channel', 'date', 'currency', 'deadline',
            'tracking_number', 'letter_id', 'letter_format']
        done = (table.state == 'done') & (table.dispatch == Null)
        cursor.execute(*dispatch.insert(
                [dispatch.id] + [Column(dispatch, c) for c in columns],
                table.select(table.id,
                    Coalesce(table.processed_by, table.create_uid),
                    Coalesce(table.write_date, table.create_date),
                    *(Column(table, c) for c in columns[2:]),
                    where=done)))
        cursor.execute(*table.update([table.dispatch], [table.id],
                where=done))
        cursor.execute(*dispatch.select(Max(dispatch.id)))
        last_id, = cursor.fetchone()
        if last_id:
            transaction.database.setnextid(
                transaction.connection, Dispatch._table, last_id + 1)
        # The tasks of the queue that were to archive the letters of
        # reminders: the letter task archives those of the dispatches
        with without_check_access():
            tasks = Queue.search([('finished_at', '=', None)])
            Queue.delete([t for t in tasks
                    if (t.data or {}).get('model') == cls.__name__
                    and (t.data or {}).get('method') == 'archive_letters'])

    @classmethod
    def get_dispatch_field(cls, dunnings, names):
        """The values of names of the dispatch that carried each reminder,
        the dispatches read once for all the names"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        result = {n: {d.id: None for d in dunnings} for n in names}
        by_dispatch = defaultdict(list)
        for dunning in dunnings:
            if dunning.dispatch:
                by_dispatch[dunning.dispatch.id].append(dunning.id)
        for dispatch in browse(Dispatch, list(by_dispatch)):
            for name in names:
                value = getattr(dispatch, name)
                for id_ in by_dispatch[dispatch.id]:
                    result[name][id_] = value
        return result

    @classmethod
    def set_dispatch_field(cls, dunnings, name, value):
        "Write name on the dispatches that carried dunnings"
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        dispatches = Dispatch.browse(
            list({d.dispatch.id for d in dunnings if d.dispatch}))
        if dispatches:
            Dispatch.write(dispatches, {name: value})

    @classmethod
    def search_dispatch_field(cls, name, clause):
        return [('dispatch.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def send(cls, dunnings, rows=None):
        """Send the draft dunnings, their amounts refreshed: one dispatch
        (letter, email, registered letter, call) for those sent together,
        linked to each, done; its letter archived now or by the queue.
        rows: their columns (processing_rows), read when None"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Call = pool.get('account.invoice.dunning.call')
        Exchange = pool.get('account.invoice.dunning.exchange')
        if rows is None:
            rows = cls.processing_rows([d.id for d in dunnings])
        groups = Dispatch.group(dunnings, rows)
        dispatches = Dispatch.from_reminders(groups, rows)
        cls.write_sent(dispatches, groups)
        # The channel of a dispatch is that of its reminders: known without
        # reading the dispatches just created
        channels = {d.id: rows[g[0].id]['channel']
            for d, g in zip(dispatches, groups)}

        def by_channel(names):
            return [d for d in dispatches if channels[d.id] in names]
        Dispatch._archive_or_queue_letters(by_channel(LETTER_CHANNELS))
        Dispatch.queue_emails(by_channel({'email'}))
        Call.from_dispatches(by_channel({'phone'}))
        # The letters are posted today; emails and calls are logged when
        # they leave and when made
        Exchange.log_dispatches(by_channel(PRINTED_CHANNELS))
        return dispatches
