# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Rows inserted and written in sets, a few queries whatever their number:
insert_rows, create_rows and write_rows (the hooks of create and write
honoured), and rows_from, rows given to a query as a table (arrays on
PostgreSQL, a VALUES list elsewhere)."""
import datetime as dt
import sqlite3
from collections import defaultdict
from decimal import Decimal

from sql import Cast, Column, Literal, Select, Values
from sql.conditionals import Case
from sql.functions import CurrentTimestamp, Function

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .common import (
    BATCH_SIZE, browse, id_slices, in_ids, sql_array, sqlite_variables)

# The parameters of a VALUES list of many rows on SQLite (an UPDATE ...
# FROM): Tryton's MAX_QUERY_PARAMS (200) bounds the depth of the
# expressions of an IN list, which the rows of VALUES do not nest: up to
# the variables the SQLite library allows (999 before 3.32, 32,766 after,
# more in some builds), at most this many
SQLITE_INSERT_PARAMS = 10000
# The parameters of a query beside the rows of its VALUES list
OTHER_PARAMS = 100
# The rows of a query that reads them from arrays on PostgreSQL (rows_from)
ARRAY_ROWS = 10000
# The rows of an UPDATE that writes a value a record in a CASE (write_rows
# on the SQLite before 3.33)
BY_RECORD_ROWS = 300


# The field types whose sql_format returns a value of this exact type as
# it is (Char strips its values, left to sql_format)
_SQL_AS_IS = {
    'boolean': bool,
    'date': dt.date,
    'integer': int,
    'many2one': int,
    'numeric': Decimal,
    'selection': str,
    }


def formatted_column(field, values):
    """The values (None for empty) of field formatted for the database: a
    column of thousands of values formatted at once, the values of the type
    the database takes passed as they are"""
    as_is = _SQL_AS_IS.get(field._type)
    if as_is is not None and set(map(type, values)) <= {as_is, type(None)}:
        return values
    sql_format = field.sql_format
    return [None if v is None else sql_format(v) for v in values]


def insert_rows(Model, vlist):
    """Insert the rows of vlist (the values of stored fields, complete and
    consistent by construction: no default, no validation) in the table of
    Model in a few queries and return their ids, in order"""
    if not vlist:
        return []
    table = Model.__table__()
    names = sorted(set().union(*vlist))
    columns = [table.create_uid, table.create_date] + [
        Column(table, n) for n in names]
    if backend.name == 'postgresql' and names:
        return _insert_arrays(Model, vlist, table, columns, names)
    values = _formatted_columns(Model, names, vlist)
    if backend.name == 'sqlite' and _one_statement():
        return _insert_many(table, columns, values, len(vlist))
    return _insert_values(table, columns, values, len(vlist))


def _formatted_columns(Model, names, vlist):
    """The columns of the values of vlist for the fields of names, formatted
    (formatted_column); most columns of new rows are empty"""
    return [formatted_column(Model._fields[n], [v.get(n) for v in vlist])
        for n in names]


def _rows(now, values, count):
    "The count rows of the columns of values, with their creation"
    user = Transaction().user
    return [(user, now, *r)
        for r in (zip(*values) if values else [()] * count)]


def _one_statement():
    """Whether SQLite inserts the rows by one statement run for each row:
    in a transaction (autocommit would commit each row, and another
    connection could insert between them)"""
    return Transaction().connection.isolation_level is not None


def _insert_many(table, columns, values, count):
    """The INSERT of insert_rows on SQLite: one statement run for each row
    (executemany, which binds the values of the rows in C, where python-sql
    writes and passes the values of a VALUES list of many rows one by one,
    and SQLite bounds their number); the creation date read once. One
    writer at a time, each new id one more than the largest: the ids are
    consecutive, up to the last one SQLite gives."""
    cursor = Transaction().connection.cursor()
    cursor.execute(*Select([CurrentTimestamp()]))
    now, = cursor.fetchone()
    rows = _rows(now, values, count)
    query, _ = tuple(table.insert(columns, [rows[0]]))
    cursor.executemany(query, rows)
    cursor.execute('SELECT last_insert_rowid()')
    last_id, = cursor.fetchone()
    return list(range(last_id - count + 1, last_id + 1))


def _insert_values(table, columns, values, count):
    """The INSERTs of insert_rows by VALUES lists of rows: with RETURNING
    or on SQLite (one writer at a time, each new id one more than the
    largest: the ids of an insert are consecutive, up to the last one it
    gives) by slices of the parameters a query takes, else a row at a
    time"""
    transaction = Transaction()
    database = transaction.database
    cursor = transaction.connection.cursor()
    size = max(_insert_params(transaction) // len(columns), 1)
    returning = database.has_returning()
    if not returning and backend.name != 'sqlite':
        size = 1
    ids = []
    for rows in grouped_slice(_rows(CurrentTimestamp(), values, count), size):
        rows = [list(r) for r in rows]
        if returning:
            cursor.execute(*table.insert(columns, rows, [table.id]))
            ids.extend(r for r, in cursor)
        else:
            cursor.execute(*table.insert(columns, rows))
            last_id = database.lastid(cursor)
            ids.extend(range(last_id - len(rows) + 1, last_id + 1))
    return ids


def _insert_arrays(Model, vlist, table, columns, names):
    """The INSERTs of insert_rows on PostgreSQL: the rows read from arrays
    (columns_from), by slices; return the ids"""
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    types = [Model._fields[n].sql_type().base for n in names]
    ids = []
    for sub_values in grouped_slice(vlist, ARRAY_ROWS):
        rows, rows_columns = columns_from(types,
            _formatted_columns(Model, names, list(sub_values)))
        cursor.execute(*table.insert(columns, rows.select(
                    Literal(transaction.user), CurrentTimestamp(),
                    *rows_columns), [table.id]))
        ids.extend(r for r, in cursor)
    return ids


def _insert_params(transaction):
    "The parameters one INSERT of the backend of transaction may take"
    if backend.name != 'sqlite':
        return backend.MAX_QUERY_PARAMS
    return max(min(sqlite_variables(), SQLITE_INSERT_PARAMS),
        backend.MAX_QUERY_PARAMS)


def values_size(width):
    """The rows of width values that the VALUES list of one query (an
    INSERT, an UPDATE ... FROM) may take, beside its other parameters"""
    return max((_insert_params(Transaction()) - OTHER_PARAMS) // width, 1)


def create_rows(Model, vlist, browse_size=BATCH_SIZE, **columns):
    """Create the records of vlist in a few queries whatever their number,
    and return them: as create would, the user's right to create is
    checked, the missing values take their default, the values go through
    preprocess_values (then get columns) and the new records through
    check_modification, on_modification and the triggers; the values come
    from the module, consistent by construction (see insert_rows).
    browse_size: the records browsed together, which read their fields
    together (ID_BATCH_SIZE when they serve for their ids)"""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    Trigger = pool.get('ir.trigger')
    if not vlist:
        return []
    ModelAccess.check(Model.__name__, 'create')
    given = set().union(*vlist)
    defaults = Model.default_get(
        [n for n in stored_fields(Model) if n not in given],
        with_rec_name=False)
    ids = insert_rows(Model, [
            {**defaults, **Model.preprocess_values('create', v), **columns}
            for v in vlist])
    transaction = Transaction()
    transaction.create_records[Model.__name__].extend(ids)
    records = browse(Model, ids, size=browse_size)
    with without_check_access():
        triggers = Trigger.get_triggers(Model.__name__, 'create')
    for sub_records in grouped_slice(records, BATCH_SIZE):
        sub_records = list(sub_records)
        Model.check_modification('create', sub_records)
        Model.on_modification('create', sub_records)
        for trigger in triggers:
            trigger.queue_trigger_action(sub_records)
    return records


def write_rows(Model, *args, by_record=None):
    """Write the values of each (records, values) pair of args in an UPDATE
    a pair (a slice of ids), as write would but without its validation: the
    user's rights to write (model and fields) are checked, the values go
    through preprocess_values and the records through check_modification
    and on_modification; the values come from the module, consistent by
    construction. With triggers on writing Model, through write itself
    (their conditions are evaluated before and after).

    by_record: {field name: {id: value}}, the fields whose value differs
    from a record to the next (a link the run computed), written in the
    same UPDATE: their rights are checked and on_modification is told of
    them; check_modification and preprocess_values see the values of the
    pair only."""
    pool = Pool()
    ModelAccess = pool.get('ir.model.access')
    FieldAccess = pool.get('ir.model.field.access')
    Trigger = pool.get('ir.trigger')
    by_record = by_record or {}
    with without_check_access():
        triggers = Trigger.get_triggers(Model.__name__, 'write')
    if triggers:
        Model.write(*_split_by_record(args, by_record))
        return
    ModelAccess.check(Model.__name__, 'write')
    actions = iter(args)
    written = []
    for records, values in zip(actions, actions):
        FieldAccess.check(Model.__name__,
            set(values.keys()) | set(by_record), 'write')
        with without_check_access():
            Model.check_modification('write', records, values)
        values = Model.preprocess_values('write', values)
        _update_rows(Model, records, values, by_record)
        written.append((records, set(values) | set(by_record)))
    # As Tryton's own updates in SQL: the caches of Model are out of date
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            cache[Model.__name__].clear()
    with without_check_access():
        for records, names in written:
            Model.on_modification('write', records, names)


def _update_rows(Model, records, values, by_record):
    """The UPDATEs of write_rows for records: the values, and the value of
    each record for the fields of by_record, joined from a VALUES list of
    (id, values) by slices; in a CASE on the SQLite before 3.33, which
    has no UPDATE ... FROM"""
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    table = Model.__table__()
    names, record_names = sorted(values), sorted(by_record)
    columns = [table.write_uid, table.write_date] + [
        Column(table, n) for n in names + record_names]
    row = [transaction.user, CurrentTimestamp()] + [
        Model._fields[n].sql_format(values[n]) for n in names]
    ids = [r.id for r in records]
    if not record_names:
        for sub_ids in id_slices(ids):
            cursor.execute(*table.update(columns, row,
                    where=in_ids(table.id, sub_ids)))
        return
    formatted = [formatted_column(Model._fields[n],
            [by_record[n][i] for i in ids]) for n in record_names]
    per_record = dict(zip(ids, map(list, zip(*formatted))))
    if not _has_update_from():
        _update_rows_case(table, columns, row, per_record)
        return
    types = ['INTEGER'] + [
        Model._fields[n].sql_type().base for n in record_names]
    for sub_ids in grouped_slice(ids, rows_size(len(types))):
        sub_ids = list(sub_ids)
        rows, columns_of = rows_from(types, [[i] + per_record[i]
                for i in sub_ids])
        cursor.execute(*table.update(columns, row + columns_of[1:],
                from_=[rows], where=(table.id == columns_of[0])
                & rows_index_hint(table.id, sub_ids)))


def _has_update_from():
    "Whether the database runs UPDATE ... FROM"
    return (backend.name != 'sqlite'
        or sqlite3.sqlite_version_info >= (3, 33, 0))


class _Unnest(Function):
    """UNNEST of PostgreSQL: arrays as the columns of a table, named by
    columns_definitions (names, without types)"""
    __slots__ = ('_names',)
    _function = 'UNNEST'

    @property
    def columns_definitions(self):
        return ', '.join('"%s"' % n for n in self._names)

    @columns_definitions.setter
    def columns_definitions(self, value):
        self._names = value


def rows_size(width):
    """The rows of width values that rows_from may take in one query: those
    of a VALUES list, without limit on PostgreSQL (a parameter a column)"""
    if backend.name == 'postgresql':
        return ARRAY_ROWS
    return values_size(width)


def rows_index_hint(column, values):
    """A condition of column on the values a query joins from rows_from, for
    PostgreSQL: without it, it plans the join of the arrays by reading the
    whole table (its row estimate of an UNNEST), each batch of a run
    reading the rows of all the others (quadratic); SQLite looks each row
    up by its index"""
    if backend.name == 'postgresql':
        return in_ids(column, values)
    return Literal(True)


def rows_from(types, rows):
    """A FROM item of rows (lists of values of the SQL types) and its
    columns: on PostgreSQL the arrays of the columns unnested (see
    columns_from); elsewhere a VALUES list"""
    if backend.name == 'postgresql':
        return columns_from(types, list(zip(*rows)) or [()] * len(types))
    table = Values([list(r) for r in rows])
    return table, [Column(table, 'column%s' % (k + 1))
        for k in range(len(types))]


def columns_from(types, columns):
    """A FROM item of the rows of columns (lists of values of the SQL types,
    as long) and its columns: on PostgreSQL the arrays of the columns
    unnested, a parameter a column given as the text of the array (the
    database parses a VALUES list of thousands of parameters longer than it
    runs it, and psycopg dumps a list element by element:
    common.sql_array); elsewhere a VALUES list"""
    if backend.name != 'postgresql':
        return rows_from(types, zip(*columns))
    names = ['c%s' % k for k in range(len(types))]
    table = _Unnest(*(Cast(_array_param(values), type_ + '[]')
            for type_, values in zip(types, columns)),
        columns_definitions=names)
    return table, [Column(table, n) for n in names]


def _array_param(values):
    "The parameter of an array of values: its text, else the list"
    text = sql_array(values)
    return list(values) if text is None else text


def _update_rows_case(table, columns, row, per_record):
    """The UPDATEs of _update_rows with the values of each record in a
    CASE, which the database reads through for each row: short slices"""
    cursor = Transaction().connection.cursor()
    count = len(columns) - len(row)
    size = min(backend.MAX_QUERY_PARAMS // (1 + 2 * count), BY_RECORD_ROWS)
    for sub_ids in grouped_slice(list(per_record), size):
        sub_ids = list(sub_ids)
        cursor.execute(*table.update(columns, row + [
                    Case(*((table.id == i, per_record[i][k])
                        for i in sub_ids))
                    for k in range(count)],
                where=in_ids(table.id, sub_ids)))


def _split_by_record(args, by_record):
    """The (records, values) pairs of args for write, the values of
    by_record ({name: {id: value}}) added: a pair for the records of a pair
    that get the same values of by_record"""
    if not by_record:
        return args
    actions, split = iter(args), []
    for records, values in zip(actions, actions):
        alike = defaultdict(list)
        for record in records:
            alike[tuple(v[record.id] for v in by_record.values())].append(
                record)
        for key, alike_records in alike.items():
            split.extend([alike_records,
                    dict(values, **dict(zip(by_record, key)))])
    return split


def stored_fields(Model):
    "The names of the fields of Model stored in its table, but the id's"
    return [n for n, f in Model._fields.items()
        if not isinstance(f, (fields.Function, fields.One2Many,
                fields.Many2Many))
        and n not in {'id', 'create_uid', 'create_date', 'write_uid',
            'write_date'}]


def replan_grown_tables():
    """Make PostgreSQL plan again the queries it cached for this connection,
    those of the foreign key checks included: call it between the batches
    of a run that fills tables it then refers to (the dispatches and the
    exchanges of processing). PostgreSQL plans the check of a foreign key
    once for the whole session; planned when the referenced table was
    nearly empty (the first run of a database, of a company), it scans the
    whole table for every row checked, and a run of thousands of reminders
    takes a time that grows with the square of their number."""
    if backend.name == 'postgresql':
        Transaction().connection.cursor().execute('DISCARD PLANS')
