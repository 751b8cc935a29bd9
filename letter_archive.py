# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The archived letters of the reminders: rendered once at processing (or by
trytond-worker batches), stored in a folder of their own of the file store,
and healed after a killed run or a lost task of the queue."""
import datetime as dt
import logging
import os
import time

from sql import Null
from sql.functions import CurrentTimestamp

import trytond.config as config
from trytond.filestore import filestore
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .common import (
    BATCH_SIZE, LETTER_CHANNELS, browse, companies_to_run, in_ids,
    objects_frozen, search_browse)

# The time given to a trytond-worker to start a task it took before the
# letters of its reminders are archived again (a running task is known by
# the locks it holds on its reminders, on PostgreSQL)
LETTER_GRACE = dt.timedelta(minutes=1)
# The letters are stored in this folder of the database's folder of the file
# store: the files of a run that never committed can be told apart
LETTER_FOLDER = 'account_invoice_dunning'
# The age after which a file of the folder that no reminder refers to is
# removed: the transaction that wrote it is over
ORPHAN_LETTER_AGE = dt.timedelta(days=1)

logger = logging.getLogger(__name__)


def letter_prefix():
    "The folder of the letters in the file store of the database"
    database = Transaction().database
    if database:
        return os.path.join(database.name, LETTER_FOLDER)


class LetterBinary(fields.Binary):
    """A binary field whose files are stored in LETTER_FOLDER of the folder
    of the database in the file store"""

    @property
    def store_prefix(self):
        return letter_prefix()

    @store_prefix.setter
    def store_prefix(self, value):
        pass


class LetterArchiveMixin:
    """Archive the letters of processed reminders, once; heal those that a
    killed run or a lost task left behind"""
    __slots__ = ()

    @classmethod
    def _archive_or_queue_letters(cls, dunnings):
        "Archive the letters of dunnings now, or queue them for the workers"
        if not dunnings:
            return
        if config.getboolean('queue', 'worker', default=False):
            # trytond-worker processes render the letters by batches, each
            # in its own transaction, once this one is committed
            with Transaction().set_context(queue_batch=True):
                cls.__queue__.archive_letters(dunnings)
        else:
            cls._archive_letters(dunnings)

    @classmethod
    def archive_letters(cls, records):
        "Archive the letters of records (run by the queue)"
        records = cls.browse(records)
        cls.lock(records)
        cls._archive_letters(records)

    @classmethod
    def _archive_letters(cls, records):
        """Render and archive the letters of records that have none yet: a
        letter once archived is never rendered again"""
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        records = [r for r in records
            if not r.letter_format and r.channel in LETTER_CHANNELS]
        for sub_records in grouped_slice(records, BATCH_SIZE):
            sub_records = list(sub_records)
            with objects_frozen():
                letters = Letter.render_letters(sub_records)
            for record in sub_records:
                record.letter_format, record.letter = letters[record.id]
            cls.save(sub_records)

    @classmethod
    def letter_cron(cls):
        """Frequent task: archive the letters that a lost task of the queue
        left missing"""
        for company in companies_to_run():
            with Transaction().set_context(company=company.id):
                cls.archive_missing_letters([company])

    @classmethod
    def archive_missing_letters(cls, companies, delay=LETTER_GRACE):
        """Archive again the letters of processed reminders still without
        their letter that no task of the queue is about to archive: a task
        lost on its way (its worker killed, a task taken but never run)
        loses no letter.

        A reminder is left to its task while the task waits in the queue,
        was taken less than delay ago, or holds its lock (PostgreSQL); the
        others are locked here so that no letter is rendered twice."""
        transaction = Transaction()
        now = dt.datetime.now()
        dunnings = search_browse(cls, [
                ('company', 'in', [int(c) for c in companies]),
                ('channel', 'in', list(LETTER_CHANNELS)),
                ('letter_format', '=', None),
                ['OR',
                    ('write_date', '<', now - delay),
                    [
                        ('write_date', '=', None),
                        ('create_date', '<', now - delay),
                        ],
                    ],
                ])
        if not dunnings:
            return []
        queued = cls._queued_letters(now - delay)
        ids = [d.id for d in dunnings if d.id not in queued]
        database = transaction.database
        if database.has_select_for():
            # Those whose lock a running task holds are skipped
            table = cls.__table__()
            cursor = transaction.connection.cursor()
            For = database.get_select_for_skip_locked()
            free = []
            for sub_ids in grouped_slice(ids):
                query = table.select(table.id,
                    where=in_ids(table.id, sub_ids)
                    & (table.letter_format == Null))
                query.for_ = For('UPDATE')
                cursor.execute(*query)
                free.extend(i for i, in cursor)
            ids = sorted(free)
        dunnings = browse(cls, ids)
        if dunnings:
            logger.info("archive the %d missing letters of %s",
                len(dunnings), cls.__name__)
        cls._archive_or_queue_letters(dunnings)
        return dunnings

    @classmethod
    def _queued_letters(cls, taken_after):
        """The ids of the reminders whose letter a task of the queue is to
        archive: waiting, or taken after taken_after and not finished"""
        pool = Pool()
        Queue = pool.get('ir.queue')
        ids = set()
        with without_check_access():
            tasks = Queue.search([
                    ('finished_at', '=', None),
                    ['OR',
                        ('dequeued_at', '=', None),
                        ('dequeued_at', '>=', taken_after),
                        ],
                    ])
        for task in tasks:
            data = task.data or {}
            if (data.get('model') == cls.__name__
                    and data.get('method') == 'archive_letters'):
                instances = data.get('instances')
                if isinstance(instances, int):
                    instances = [instances]
                ids.update(instances or [])
        return ids

    @classmethod
    def remove_orphan_letters(cls, age=ORPHAN_LETTER_AGE):
        """Remove the files of the letters' folder of the file store older
        than age that no reminder refers to: written by a run that never
        committed (killed, or rolled back). Return their ids.

        Only the file store of Tryton can be listed: nothing is removed when
        another class is configured."""
        pool = Pool()
        FileQueue = pool.get('ir.filestore.queue')
        if config.get('database', 'class'):
            return []
        prefix = cls._fields['letter'].store_prefix
        folder = os.path.join(filestore.path, prefix)
        limit = time.time() - age.total_seconds()
        candidates = []
        for root, _, names in os.walk(folder):
            for name in names:
                try:
                    mtime = os.stat(os.path.join(root, name)).st_mtime
                except FileNotFoundError:
                    continue
                if mtime <= limit:
                    candidates.append(name)
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        queue = FileQueue.__table__()
        kept = set()
        for sub_ids in grouped_slice(candidates):
            sub_ids = list(sub_ids)
            cursor.execute(*table.select(table.letter_id,
                    where=fields.SQL_OPERATORS['in'](
                        table.letter_id, sub_ids)))
            kept.update(i for i, in cursor)
            # Replaced letters are kept for the removal queue's retention
            cursor.execute(*queue.select(queue.file_id,
                    where=fields.SQL_OPERATORS['in'](queue.file_id, sub_ids)
                    & (queue.model == cls.__name__)))
            kept.update(i for i, in cursor)
        orphans = sorted(set(candidates) - kept)
        if orphans:
            logger.info("remove %d orphan letters of %s", len(orphans),
                cls.__name__)
            filestore.delete_many(orphans, prefix=prefix)
        return orphans


def migrate_letter_store(table, model_name, old_prefix, prefix):
    """Move the letters archived at old_prefix of the file store (the
    database's folder, before the letters had a folder of their own) to
    prefix, for the rows of table (letter_id column) of model_name; the old
    files are left to the removal queue of the file store"""
    pool = Pool()
    FileQueue = pool.get('ir.filestore.queue')
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    queue = FileQueue.__table__()
    cursor.execute(*table.select(table.id, table.letter_id,
            where=(table.letter_id != Null) & (table.letter_id != ''),
            order_by=[table.id.asc]))
    moved = []
    for id_, file_id in cursor.fetchall():
        try:
            filestore.size(file_id, prefix=prefix)
            continue
        except OSError:
            pass
        try:
            data = filestore.get(file_id, prefix=old_prefix)
        except OSError:
            logger.warning("letter %s of %s %d is missing from the "
                "file store", file_id, model_name, id_)
            continue
        moved.append((id_, filestore.set(data, prefix=prefix), file_id))
    for id_, new_id, _ in moved:
        cursor.execute(*table.update([table.letter_id], [new_id],
                where=table.id == id_))
    columns = [queue.create_date, queue.create_uid, queue.file_id,
        queue.model, queue.prefix, queue.field]
    for sub_moved in grouped_slice(moved):
        cursor.execute(*queue.insert(columns, [
                    [CurrentTimestamp(), transaction.user, old_id,
                        model_name, old_prefix, 'letter']
                    for _, _, old_id in sub_moved]))
    if moved:
        logger.info("%d letters of %s moved to the folder %s of the file "
            "store", len(moved), model_name, prefix)
