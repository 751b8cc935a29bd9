# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Helpers shared by the models of the module; it imports nothing else of
the module: batches, business days, rounding, dates of raw queries, shared
selections and the penalty waiver (the set-based writes: bulk.py)."""
import contextlib
import datetime as dt
import functools
import gc
import operator
import re
import sqlite3
import threading
from array import array
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import holidays
# The registry of the holidays package imports every country on first use
# (a tenth of a second): once when the server loads the module, not in the
# first run of the reminders of each process
import holidays.countries  # noqa: F401
import phonenumbers
from sql import Cast, Column, Expression, Null, Query
from sql.conditionals import Case
from sql.operators import All, Any, Equal, In, NotEqual

from trytond import backend
from trytond.model import Index
from trytond.model import Model as TrytonModel
from trytond.model import dualmethod, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction

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
# The ids of an IN list of id_slices on SQLite (see id_slice_size)
ID_SLICE_SIZE = 1000
# Records read or written at once by the set-based computations
# (penalties, classification): few queries, lists still short
LARGE_BATCH_SIZE = 1000
# Rows fetched at once from the result of a query (fetched)
FETCH_SIZE = 1000


class RelationIndexesMixin:
    """A relation table (of Many2Many fields) with an index on each of its
    links: Tryton indexes a Many2One only when its target has a One2Many of
    it, and the invoices of an exchange, the exchanges of an invoice or the
    links checked or deleted when an invoice is deleted would be found by
    reading the whole table"""
    __slots__ = ()

    @classmethod
    def __setup_indexes__(cls):
        super().__setup_indexes__()
        table = cls.__table__()
        cls._sql_indexes.update(
            Index(table, (Column(table, name), Index.Range()))
            for name in cls.relation_links())

    @classmethod
    def relation_links(cls):
        "The names of the Many2One fields the relation links"
        return sorted(name for name, field in cls._fields.items()
            if isinstance(field, fields.Many2One)
            and name not in {'create_uid', 'write_uid'})


# The set-based steps running with the objects before them frozen
# (objects_frozen), and whether the first froze them
_FROZEN = {'count': 0, 'ours': False}
_FROZEN_LOCK = threading.Lock()


@contextlib.contextmanager
def objects_frozen():
    """Keep Python's cyclic garbage collector off the objects that exist
    before a set-based step of a run (gc.freeze): each full collection
    walks every object of the process (the pool of a Tryton server: about a
    million), a fifth of the time of a run of thousands of reminders; the
    objects of the step are collected as usual, the others again after it.
    Nested and concurrent steps (threads) are counted: the objects are
    unfrozen when the last ends; objects frozen by another (a server that
    froze its pool) are left so."""
    with _FROZEN_LOCK:
        if not _FROZEN['count']:
            _FROZEN['ours'] = not gc.get_freeze_count()
            if _FROZEN['ours']:
                gc.freeze()
        _FROZEN['count'] += 1
    try:
        yield
    finally:
        with _FROZEN_LOCK:
            _FROZEN['count'] -= 1
            if not _FROZEN['count'] and _FROZEN['ours']:
                gc.unfreeze()


def browse(Model, ids, size=BATCH_SIZE):
    "Browse ids by batches, as the instances of one browse share their list"
    records = []
    for sub_ids in grouped_slice(ids, size):
        records.extend(Model.browse(list(sub_ids)))
    return records


def preload(Model, ids, names):
    """The records of ids with the values of the fields names read in one
    read and kept on each instance: a run reads the same few records
    (levels, rules, currencies) a hundred thousand times, and a value kept
    costs a slot's read (0.1 us) where a field's costs twenty times more
    (the ORM's lookups, 2 us). The other fields are read as usual. The
    records are instances of a subclass of Model (kept_values_class), for
    reading: they refuse to be saved."""
    Kept = kept_values_class(Model, names)
    return [Kept(**values)
        for values in Model.read(list(ids), list(Kept.__kept_names__))]


def kept_values_class(Model, names):
    """The subclass of Model whose values of the fields names, and id, are
    kept in slots, as the pool makes the classes of a model: once a Model
    and names, kept on Model (gone with its pool)"""
    names = tuple(sorted(set(names) - {'id'}))
    if '_kept_classes' not in Model.__dict__:
        Model._kept_classes = {}
    classes = Model._kept_classes
    if names not in classes:
        attrs = {'__slots__': tuple('_kept_%s' % n for n in names),
            '__kept_names__': names,
            'id': _KeptField(Model._fields['id'], '_id'),
            'save': dualmethod(_refuse_save)}
        for name in names:
            attrs[name] = _KeptField(Model._fields[name], '_kept_%s' % name)
        classes[names] = type(Model.__name__, (Model,), attrs)
    return classes[names]


def _refuse_save(cls, records):
    raise TypeError("Records of %s preloaded for reading can not be saved"
        % cls.__name__)


class _KeptField(property):
    """A field of a kept_values_class: read from its slot (a property's
    read, in C), set through the field (its value made as Model's); a slot
    not set (a copy) is read through Model, as a descriptor failing falls
    back on __getattr__. On the class it answers for the field: its
    attributes are the field's (not the special ones)."""

    def __init__(self, field, slot):
        super().__init__(operator.attrgetter(slot),
            functools.partial(_set_kept, field, slot))
        self._kept_field = field

    def __getattr__(self, name):
        if name.startswith('__') or name == '_kept_field':
            raise AttributeError(name)
        return getattr(self._kept_field, name)

    # A Function field's getter and setter, not the property's methods
    getter = property(lambda self: self._kept_field.getter)
    setter = property(lambda self: self._kept_field.setter)


def _set_kept(field, slot, record, value):
    field.__set__(record, value)
    if slot != '_id':
        object.__setattr__(
            record, slot, field.__get__(record, type(record)))


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


def fetched(cursor, size=FETCH_SIZE):
    """The rows of the query cursor ran, fetched by slices of size: psycopg
    makes the rows of a slice in one call, where iterating the cursor calls
    it for each row (a fifth of the time of reading the unpaid lines of
    20,000 invoices); the memory of one slice at a time"""
    while rows := cursor.fetchmany(size):
        yield from rows


def id_slices(ids):
    """Lists of ids small enough for an IN clause (up to three of them in a
    query, with other parameters)"""
    return (list(s) for s in grouped_slice(list(ids), id_slice_size()))


def id_slice_size():
    """The ids of a list of id_slices: on SQLite, whose IN lists are flat
    (Tryton's MAX_QUERY_PARAMS, 200, bounds nested expressions), up to
    ID_SLICE_SIZE within the variables the library allows"""
    if backend.name != 'sqlite':
        return backend.MAX_QUERY_PARAMS // 2
    return max(min(ID_SLICE_SIZE, (sqlite_variables() - 100) // 3),
        backend.MAX_QUERY_PARAMS // 2)


class _ArrayExpression:
    "An array operator of an expression, in parentheses: python-sql omits them"
    __slots__ = ()

    def _format(self, operand, param=None):
        return '(%s)' % super()._format(operand, param=param)


class _AnyOf(_ArrayExpression, Any):
    "ANY of an array expression"
    __slots__ = ()


class _AllOf(_ArrayExpression, All):
    "ALL of an array expression"
    __slots__ = ()


class _InArray(Equal):
    "column = ANY(array), whose negation is column != ALL(array): NOT IN"
    __slots__ = ()

    def __invert__(self):
        return NotEqual(self.left, _AllOf(self.right.operand))


def in_ids(column, ids):
    """The condition column IN ids, for an integer column (ids, foreign
    keys): on PostgreSQL column = ANY of an INTEGER array given as its text
    (sql_array)

    Given the list, psycopg sends an array of the smallest integer type
    that holds its numbers (smallint under 32,768), dumping each in Python;
    and the server, which can not hash the integer = smallint comparison,
    searches the whole array for each row a scan filters (5,600 ids over
    4,500 rows: 110 ms instead of 1).

    Elsewhere an IN list of the ids as an array of integers, which
    python-sql writes and passes at once (a list, it formats each of its
    values: a millisecond a thousand ids, for each query)."""
    if isinstance(ids, (Query, Expression)):
        return fields.SQL_OPERATORS['in'](column, ids)
    ids = list(ids)
    # Integers only: other values keep Tryton's condition
    if not all(type(i) is int for i in ids):
        return fields.SQL_OPERATORS['in'](column, ids)
    if backend.name == 'postgresql':
        return _InArray(column, _AnyOf(Cast(sql_array(ids), 'INTEGER[]')))
    return In(column, array('q', ids))


# The text of the values of each Python type in a PostgreSQL array; the
# texts of these types have no character that must be quoted there
_ARRAY_TEXTS = {
    int: str,
    Decimal: str,
    dt.date: dt.date.isoformat,
    dt.datetime: dt.datetime.isoformat,
    bool: lambda value: 't' if value else 'f',
    }


def sql_array(values):
    """The text of the PostgreSQL array of values (integers, decimals,
    dates, naive date-times, strings, booleans, None), to cast to the
    array's type; None when a value is of another type (floats: psycopg's
    float8 converts to NUMERIC as the database does)

    psycopg dumps a list element by element in Python, about as long as
    the server takes to insert the rows of the arrays of a bulk insert."""
    if not isinstance(values, (list, tuple)):
        values = list(values)
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if len(kinds) > 1:
        # Mixed types (integers and decimals): each value its own text
        texts = [sql_array((v,)) for v in values]
        if None in texts:
            return None
        return '{%s}' % ','.join(t[1:-1] for t in texts)
    # A column of one type (most): one text function for all its values
    text = _array_text(kinds.pop() if kinds else int, values)
    if text is None:
        return None
    if nulls:
        return '{%s}' % ','.join(
            'NULL' if v is None else text(v) for v in values)
    return '{%s}' % ','.join(map(text, values))


def _array_text(kind, values):
    "The text of the values of kind in an array, as a function, or None"
    if kind is str:
        return _quoted_array_text
    if kind is dt.datetime and any(
            v is not None and v.tzinfo is not None for v in values):
        return None
    return _ARRAY_TEXTS.get(kind)


def _quoted_array_text(value):
    "A string in a PostgreSQL array: quoted, its quotes and back-slashes too"
    return '"%s"' % value.replace('\\', '\\\\').replace('"', '\\"')


def sqlite_variables():
    "The parameters a query of the SQLite of the transaction may take"
    try:
        return Transaction().connection.getlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:
        # Python before 3.11: the smallest limit of the SQLite builds
        return 999


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


def amount_rounder(currency):
    """The rounding of currency.round as a function of an amount, quicker
    for the thousands of amounts of a run: a quantize when the rounding of
    currency is a power of ten (0.01, the same result), else currency.round
    itself"""
    exponent = _power_of_ten(currency.rounding)
    if exponent is None:
        return currency.round
    return functools.partial(
        Decimal.quantize, exp=exponent, rounding=ROUND_HALF_EVEN)


@functools.lru_cache(maxsize=64)
def _power_of_ten(rounding):
    "rounding as a power of ten (Decimal('1E-2')), or None if it is not one"
    if not rounding or rounding <= 0:
        return None
    power = Decimal(1).scaleb(rounding.adjusted())
    return power if power == rounding else None


def round_half_up(value, currency):
    "Round value half up to the digits of currency"
    return half_up_rounder(currency)(value)


def half_up_rounder(currency):
    """round_half_up to the digits of currency as a function of a value,
    the digits read once for the amounts of a computation"""
    exponent = _digits_exponent(currency.digits)
    return lambda value: Decimal(value).quantize(
        exponent, rounding=ROUND_HALF_UP)


@functools.lru_cache(maxsize=16)
def _digits_exponent(digits):
    "The exponent of a quantize to digits decimal places (Decimal('1E-2'))"
    return Decimal(1).scaleb(-digits)


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
            values[name] = (
                value.id if isinstance(value, TrytonModel) else value)
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
