# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Helpers shared by the models of the module; it imports nothing else of
the module: batches, business days, rounding, dates of raw queries, shared
selections and the penalty waiver."""
import datetime as dt
import functools
import re
import sqlite3
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import holidays
import phonenumbers
from sql import Cast, Column, Null, Values
from sql.conditionals import Case
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import Model, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction, without_check_access

CHANNELS = [
    ('letter', "Letter"),
    ('registered_letter', "Registered Letter"),
    ('email', "Email"),
    ('phone', "Phone"),
    ]
# Channels for which a letter is rendered and archived when processed
LETTER_CHANNELS = {'letter', 'registered_letter', 'email'}
# Channels whose letter is printed and posted
PRINTED_CHANNELS = {'letter', 'registered_letter'}

CUSTOMER_TYPES = [
    ('professional', "Professional"),
    ('consumer', "Consumer"),
    ]

# Records handled at once: Tryton's ORM slows down on long lists of records
# (each instance of a browse checks the whole list of its ids)
BATCH_SIZE = 200
# Records browsed to carry their ids, their fields seldom read: shorter
# lists, which cost less to browse
ID_BATCH_SIZE = 25
# Records read or written at once by the set-based computations
# (penalties, classification): few queries, lists still short
LARGE_BATCH_SIZE = 1000
# The parameters of one multi-row INSERT on SQLite: Tryton's
# MAX_QUERY_PARAMS (200) bounds the depth of the expressions of an IN list,
# which the rows of VALUES do not nest: up to the variables the SQLite
# library allows (999 before 3.32, 32,766 after, more in some builds), at
# most this many, and at most SQLITE_INSERT_ROWS rows
SQLITE_INSERT_PARAMS = 10000
SQLITE_INSERT_ROWS = 500
# The rows of an UPDATE that writes a value a record in a CASE (write_rows
# on the SQLite before 3.33)
BY_RECORD_ROWS = 300


def browse(Model, ids, size=BATCH_SIZE):
    "Browse ids by batches, as the instances of one browse share their list"
    records = []
    for sub_ids in grouped_slice(ids, size):
        records.extend(Model.browse(list(sub_ids)))
    return records


def preload(Model, ids, names):
    """The records of ids with the values of the fields names read in one
    read and kept on each instance: a run reads the same few records
    (levels, currencies) thousands of times, and a value kept costs a
    lookup where the ORM's cache costs ten times more. The other fields
    are read as usual. The records are for reading: never saved."""
    return [Model(**values) for values in Model.read(list(ids), list(names))]


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


def sql_formatter(field):
    """The sql_format of field, which passes the values of the type the
    database takes as they are: an INSERT of thousands of rows formats each
    of their values"""
    sql_format = field.sql_format
    as_is = _SQL_AS_IS.get(field._type)
    if as_is is None:
        return sql_format
    return lambda value: (
        value if type(value) is as_is else sql_format(value))


def insert_rows(Model, vlist):
    """Insert the rows of vlist (the values of stored fields, complete and
    consistent by construction: no default, no validation) in the table of
    Model in a few queries and return their ids, in order

    Without RETURNING, SQLite gives the rows of one insert consecutive ids
    (one writer at a time, each new id one more than the largest): the ids
    end at the last one it returns."""
    transaction = Transaction()
    database = transaction.database
    cursor = transaction.connection.cursor()
    table = Model.__table__()
    names = sorted(set().union(*vlist)) if vlist else []
    columns = [table.create_uid, table.create_date] + [
        Column(table, n) for n in names]
    size = max(_insert_params(transaction) // len(columns), 1)
    if backend.name == 'sqlite':
        size = min(size, SQLITE_INSERT_ROWS)
    returning = database.has_returning()
    if not returning and backend.name != 'sqlite':
        size = 1
    ids = []
    # Most columns of a new row are empty: no formatting of None
    formats = [(n, sql_formatter(Model._fields[n])) for n in names]
    now = CurrentTimestamp()
    for sub_values in grouped_slice(vlist, size):
        rows = [[transaction.user, now] + [
                None if (value := v.get(n)) is None else sql_format(value)
                for n, sql_format in formats]
            for v in sub_values]
        if returning:
            cursor.execute(*table.insert(columns, rows, [table.id]))
            ids.extend(r for r, in cursor)
        else:
            cursor.execute(*table.insert(columns, rows))
            last_id = database.lastid(cursor)
            ids.extend(range(last_id - len(rows) + 1, last_id + 1))
    return ids


def _insert_params(transaction):
    "The parameters one INSERT of the backend of transaction may take"
    if backend.name != 'sqlite':
        return backend.MAX_QUERY_PARAMS
    try:
        limit = transaction.connection.getlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:
        # Python before 3.11: the smallest limit of the SQLite builds
        limit = 999
    return max(min(limit, SQLITE_INSERT_PARAMS), backend.MAX_QUERY_PARAMS)


def values_size(width):
    """The rows of width values that the VALUES list of one query (an
    INSERT, an UPDATE ... FROM) may take"""
    return max(_insert_params(Transaction()) // width, 1)


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
    defaults = Model.default_get(
        [n for n in stored_fields(Model) if n not in set().union(*vlist)],
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
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS // 2):
            cursor.execute(*table.update(columns, row,
                    where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))
        return
    formats = [sql_formatter(Model._fields[n]) for n in record_names]
    per_record = {i: [f(by_record[n][i]) for n, f in zip(record_names,
                formats)] for i in ids}
    if not _has_update_from():
        _update_rows_case(table, columns, row, per_record)
        return
    for sub_ids in grouped_slice(ids, values_size(1 + len(record_names))):
        rows = Values([[i] + per_record[i] for i in sub_ids])
        cursor.execute(*table.update(columns, row + [
                    _typed(Column(rows, 'column%s' % (k + 2)),
                        Model._fields[n])
                    for k, n in enumerate(record_names)],
                from_=[rows], where=table.id == rows.column1))


def _has_update_from():
    "Whether the database runs UPDATE ... FROM"
    return (backend.name != 'sqlite'
        or sqlite3.sqlite_version_info >= (3, 33, 0))


def _typed(column, field):
    """The column of a VALUES list cast to the type of field: PostgreSQL
    types a column of NULLs as text"""
    if backend.name == 'sqlite':
        # Its casts change the values (a NUMERIC to a float)
        return column
    return Cast(column, field.sql_type().base)


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
                where=fields.SQL_OPERATORS['in'](table.id, sub_ids)))


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


def search_browse(Model, domain):
    """Search the records of domain, browsed by batches: a search returns
    its records in one list, whose every instance checks all its ids"""
    cursor = Transaction().connection.cursor()
    cursor.execute(*Model.search(domain, order=[('id', 'ASC')], query=True))
    return browse(Model, [i for i, in cursor])


def search_rec_names(clause, names):
    """The domain of a search_rec_name clause on the rec_name of the
    fields names: any of them, or none for a negative operator"""
    _, operator, operand, *extra = clause
    negative = operator.startswith('!') or operator.startswith('not ')
    return ['AND' if negative else 'OR'] + [
        ('%s.rec_name' % n, operator, operand, *extra) for n in names]


def id_slices(ids):
    "Lists of ids small enough for an IN clause"
    return (list(s) for s in grouped_slice(
            list(ids), backend.MAX_QUERY_PARAMS // 2))


def bound_index(column, bounds):
    """The SQL expression of the index (from 1) of the first of the ordered
    bounds on or after column; NULL after the last"""
    return Case(*((column <= bound, i)
            for i, bound in enumerate(bounds, 1)), else_=Null)


@functools.lru_cache(maxsize=4096)
def parse_days(text):
    """The days of text, whole numbers separated by commas or spaces, in
    increasing order; raise ValueError when text is not such"""
    try:
        days = [int(d) for d in re.split(r'[\s,;]+', (text or '').strip())
            if d]
    except ValueError:
        raise ValueError(text)
    if not days or days[0] <= 0 or days != sorted(set(days)):
        raise ValueError(text)
    return days


def format_phone(value, country=None, region=None):
    """The phone number value as a reader in country dials it: in the
    national format when the number is of country, else in the
    international format; value without an international prefix is of
    region. value unchanged when it is not a valid phone number."""
    if not value:
        return value
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    if country and phonenumbers.region_code_for_number(number) == country:
        style = phonenumbers.PhoneNumberFormat.NATIONAL
    else:
        style = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


@functools.lru_cache(maxsize=4096)
def add_business_days(date, days, country=None):
    """Return date moved by days business days: Monday to Friday but the
    public holidays of country (an ISO 3166 code: those of the `holidays`
    package, the national ones). The reminders of a run share a few (date,
    days, country): each is counted once"""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        date += dt.timedelta(days=step)
        if (date.weekday() < 5
                and date not in public_holidays(country, date.year)):
            remaining -= 1
    return date


@functools.lru_cache(maxsize=256)
def public_holidays(country, year):
    """The dates of the national public holidays of country (ISO 3166
    code) in year; none for no country or a country the `holidays` package
    does not know"""
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


def context_company_currency():
    "The id of the currency of the company of the context, or None"
    pool = Pool()
    Company = pool.get('company.company')
    company = Transaction().context.get('company')
    if company is not None and company >= 0:
        return Company(company).currency.id


def company_country(company):
    "The ISO code of the country of the address of company, or None"
    address = company.party.address_get() if company else None
    country = address.country if address else None
    return country.code if country else None


def address_country(address):
    "The ISO code of the country of address, or None"
    return address.country.code if address and address.country else None


def round_half_up(value, currency):
    "Round value half up to the digits of currency"
    exp = Decimal(1).scaleb(-currency.digits)
    return Decimal(value).quantize(exp, rounding=ROUND_HALF_UP)


def to_date(value):
    "The date of a value read by a raw query (SQLite returns strings)"
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def apply_types(query, types):
    "Type the columns of query on SQLite, which returns strings otherwise"
    if backend.name == 'sqlite':
        sqlite_apply_types(query, types)
    return query


def set_changed_values(record, row, values):
    """Set on record the values that differ from row, its columns as read
    (a dict), and in row: the record is not read, row follows it"""
    for name, value in values.items():
        if row[name] != value:
            setattr(record, name, value)
            row[name] = value


# What a field of a record not set returns (changed_values)
_UNSET = object()


def changed_values(record, names):
    """The values of the fields names set on record and not saved, as save
    would write them (a record as its id): what _save_values returns for
    these fields, at a lookup a name where _save_values tries each field
    of the model"""
    values = {}
    if not record._values:
        return values
    for name in names:
        value = getattr(record._values, name, _UNSET)
        if value is not _UNSET:
            values[name] = value.id if isinstance(value, Model) else value
    return values


def companies_to_run():
    """The companies a scheduled task runs for: the company of the context,
    else all of them"""
    pool = Pool()
    Company = pool.get('company.company')
    company = Transaction().context.get('company')
    return [Company(company)] if company else Company.search([])


class PenaltyWaiverMixin:
    "Exempt from late-payment penalties, recording who and why"
    __slots__ = ()
    dunning_penalty_waived = fields.Boolean(
        "Penalties Waived",
        help="Exceptionally exempt from late-payment penalties.")
    dunning_penalty_waiver_reason = fields.Char(
        "Waiver Reason",
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            'required': Bool(Eval('dunning_penalty_waived')),
            })
    dunning_penalty_waived_by = fields.Many2One(
        'res.user', "Waived by", readonly=True,
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            })
    dunning_penalty_waived_date = fields.Date(
        "Waived on", readonly=True,
        states={
            'invisible': ~Eval('dunning_penalty_waived'),
            })

    @classmethod
    def default_dunning_penalty_waived(cls):
        return False

    @classmethod
    def preprocess_values(cls, mode, values):
        """Record who waived and when: set here only, never taken from
        values (a client could forge them)"""
        values = super().preprocess_values(mode, values)
        for name in ['dunning_penalty_waived_by',
                'dunning_penalty_waived_date']:
            values.pop(name, None)
        if 'dunning_penalty_waived' in values:
            if values['dunning_penalty_waived']:
                values['dunning_penalty_waived_by'] = Transaction().user
                values['dunning_penalty_waived_date'] = (
                    Pool().get('ir.date').today())
            else:
                values['dunning_penalty_waived_by'] = None
                values['dunning_penalty_waived_date'] = None
        return values

    @classmethod
    def copy(cls, records, default=None):
        default = default.copy() if default is not None else {}
        # The default value (False, not None): copy leaves it out, so that
        # users who may not change the waiver can still copy
        default.setdefault('dunning_penalty_waived', False)
        for name in ['dunning_penalty_waiver_reason',
                'dunning_penalty_waived_by', 'dunning_penalty_waived_date']:
            default.setdefault(name, None)
        return super().copy(records, default=default)
