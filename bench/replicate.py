# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A large template made of copies of a smaller one built through Tryton
(--copies K, see bench/README.rst): the customers of the template, their
invoices and the moves of the invoices and of their payments copied K - 1
times by set-based INSERT ... SELECT, a query a table and copy.

Tryton posts about 15 invoices a second: 100,000 invoices take 108
minutes through the ORM, and their copies from a template of 10,000 take
about one. A copy is the rows Tryton made, the same to the cent and the
day, with new ids and the links between its rows (Many2One and Reference
columns) following them: each copied invoice gets the reminders of its
original (tests/test_bench_replicate.py)."""
from sql import Cast, Literal, Null
from sql.conditionals import Case
from sql.functions import Function
from sql.operators import Concat

# In the key of the templates made of copies (template.cache_key): change
# it when the copies change
COPIES_VERSION = 2
# The model whose rows start the copy: the customers of the invoices
CUSTOMER = 'party.party'
# The models of the invoices and of their payments, their rows copied
# whole: the template holds only the bench's invoices
INVOICE_MODELS = ['account.invoice', 'account.invoice.line',
    'account.invoice.tax', 'account.invoice-account.move.line',
    'account.move', 'account.move.line', 'account.move.reconciliation']
# Rows of other models that name a copied record by a Reference: the
# history of the invoices' transitions
REFERENCE_MODELS = {'ir.model.log': 'resource'}
# The texts that tell records apart, suffixed by the copy's number: the
# codes of the customers and the numbers of the invoices, moves and
# reconciliations
SUFFIXED = {
    'party.party': ['code'],
    'account.invoice': ['number'],
    'account.move': ['number'],
    'account.move.reconciliation': ['number'],
    }


class SplitPart(Function):
    "SPLIT_PART(string, delimiter, field): PostgreSQL's, Tryton's on SQLite"
    __slots__ = ()
    _function = 'SPLIT_PART'


def copy_template(copies):
    """Add copies - 1 copies of the customers and invoices of the database
    (in a transaction of Tryton); return {model: rows added}"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    # The models with rows to copy: the ids of their copies start after
    # the largest id of their table, a copy after the other
    plan = {m: rows for m, rows in copy_plan(pool).items()
        if _count(cursor, pool.get(m), _where(pool, m, rows))}
    _check_left_out(pool, plan)
    offsets = {m: _max_id(cursor, pool.get(m)) for m in plan}
    added = {}
    for model in _ordered(pool, plan):
        Model = pool.get(model)
        before = _count(cursor, Model)
        for copy in range(1, copies):
            cursor.execute(*_copy_query(pool, Model, plan, offsets, copy))
        added[model] = _count(cursor, Model) - before
        transaction.database.setnextid(transaction.connection,
            Model._table, offsets[model] * copies + 1)
    return added


def copy_plan(pool):
    """{model: which rows to copy}: the customers (the parties of the
    invoices), the rows of the models that link to a customer by a
    Many2One (their addresses, contact mechanisms, the values of their
    MultiValue fields), all the rows of INVOICE_MODELS and the rows of
    REFERENCE_MODELS that name a record of INVOICE_MODELS"""
    from trytond.model import ModelSQL
    plan = {CUSTOMER: ('customers',)}
    # A table copied once, whatever the models that share it
    tables = {pool.get(CUSTOMER)._table}
    for name, Model in pool.iterobject():
        if (not issubclass(Model, ModelSQL) or Model.table_query is not None
                or name in plan or Model._table in tables):
            continue
        if name in INVOICE_MODELS:
            plan[name] = ('all',)
        elif name in REFERENCE_MODELS:
            plan[name] = ('reference', REFERENCE_MODELS[name])
        else:
            links = [f for f, field in _columns(Model).items()
                if field._type == 'many2one' and field.model_name == CUSTOMER]
            if links:
                plan[name] = ('customer', links)
        if name in plan:
            tables.add(Model._table)
    return plan


def _check_left_out(pool, plan):
    """Raise when rows of a table left out of plan link to the rows of a
    model copied whole (the taxes of invoice lines, core's dunnings of
    move lines): the copies would miss them"""
    from trytond.model import ModelSQL
    whole = {m for m, rows in plan.items() if rows[0] == 'all'}
    tables = {pool.get(m)._table for m in plan}
    for name, Model in pool.iterobject():
        if (not issubclass(Model, ModelSQL) or Model.table_query is not None
                or Model._table in tables):
            continue
        for field_name, field in _columns(Model).items():
            if (field._type == 'many2one' and field.model_name in whole
                    and _has_value(Model, field_name)):
                raise ValueError("The rows of %s link to %s by %s: they are "
                    "not copied" % (name, field.model_name, field_name))


def _columns(Model):
    """{column: field} of the fields of Model that are columns of its
    table: those ModelSQL makes columns of (see its history)"""
    from trytond.model import fields
    return {n: f for n, f in Model._fields.items()
        if f.sql_type() and not isinstance(f, fields.Function)}


def _has_value(Model, name):
    "Test if a row of Model has a value in the column name"
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    table = Model.__table__()
    cursor.execute(*table.select(table.id,
            where=getattr(table, name) != Null, limit=1))
    return bool(cursor.fetchone())


def _used_links(Model, plan):
    """The models of plan that rows of Model link to by a Many2One: those
    of the columns with a value (an empty link does not order the copy)"""
    targets = set()
    for name, field in _columns(Model).items():
        if (field._type == 'many2one' and field.model_name in plan
                and field.model_name != Model.__name__
                and field.model_name not in targets
                and _has_value(Model, name)):
            targets.add(field.model_name)
    return targets


def _ordered(pool, plan):
    """The models of plan, each after the models its Many2One columns link
    to (the foreign keys of a copied row exist before it); the links of
    a model to itself are checked at the end of its INSERT"""
    ordered, placed = [], set()
    waiting = {m: _used_links(pool.get(m), plan) for m in plan}
    while waiting:
        ready = [m for m, links in waiting.items() if not links - placed]
        if not ready:
            raise ValueError("Links in a cycle: %s" % sorted(waiting))
        for model in sorted(ready):
            ordered.append(model)
            placed.add(model)
            del waiting[model]
    return ordered


def _max_id(cursor, Model):
    from sql.aggregate import Max
    table = Model.__table__()
    cursor.execute(*table.select(Max(table.id)))
    return cursor.fetchone()[0] or 0


def _count(cursor, Model, where=None):
    "The rows of Model, those of where (a function of the table) if given"
    from sql.aggregate import Count
    table = Model.__table__()
    cursor.execute(*table.select(Count(table.id),
            where=where(table) if where else None))
    return cursor.fetchone()[0]


def _copy_query(pool, Model, plan, offsets, copy):
    """INSERT ... SELECT of the copy number copy of the rows of Model: the
    ids and the links to copied records moved by copy times the offset of
    their model"""
    table = Model.__table__()
    columns, values = [], []
    for name, field in sorted(_columns(Model).items()):
        column = getattr(table, name)
        columns.append(column)
        if name == 'id':
            values.append(column + offsets[Model.__name__] * copy)
        elif field._type == 'many2one' and field.model_name in offsets:
            values.append(_moved_id(pool, plan, offsets, field.model_name,
                    column, copy))
        elif field._type == 'reference':
            values.append(
                _moved_reference(pool, plan, offsets, column, copy))
        elif name in SUFFIXED.get(Model.__name__, []):
            # Empty stays empty: NULL || text is NULL
            values.append(Concat(column, Literal('-%d' % copy)))
        else:
            values.append(column)
    # The rows of the template, not those of the copies before
    return table.insert(columns, table.select(*values,
            where=_copied(pool, Model.__name__, plan, offsets)(table)))


def _copied(pool, model, plan, offsets):
    """The condition of the rows of model copied: those of the plan among
    the rows of the template (not the copies made before); a function of
    the table"""
    def condition(table):
        where = table.id <= offsets[model]
        condition = _where(pool, model, plan[model])(table)
        if condition is not None:
            where &= condition
        return where
    return condition


def _moved_id(pool, plan, offsets, model, value, copy):
    """value, the id of a record of model, moved to the id of its copy when
    the record is copied (all of a model copied whole, the rows of the plan
    of the others), else as it is"""
    moved = value + offsets[model] * copy
    if plan[model][0] == 'all':
        return moved
    target = pool.get(model).__table__()
    return Case((value.in_(target.select(target.id,
                    where=_copied(pool, model, plan, offsets)(target))),
            moved), else_=value)


def _moved_reference(pool, plan, offsets, column, copy):
    """A Reference column ('model,id') that names a copied record moved to
    the record's copy; empty ('model,' or a negative id) as it is"""
    from trytond.transaction import Transaction
    database = Transaction().database
    integer = database.sql_type('INTEGER').base
    text = database.sql_type('VARCHAR').base
    model = SplitPart(column, ',', 1)
    record_id = SplitPart(column, ',', 2)
    record = Cast(record_id, integer)
    cases = [((model == name) & (record_id != '')
            & ~record_id.like('-%'),
            Concat(Literal(name + ','), Cast(
                    _moved_id(pool, plan, offsets, name, record, copy),
                    text)))
        for name in sorted(offsets)]
    return Case(*cases, else_=column) if cases else column


def _where(pool, model, rows):
    """The condition on the table of model of the rows to copy, rows the
    entry of the plan: a function of the table"""
    kind = rows[0]
    if kind == 'all':
        return lambda table: None
    if kind == 'customers':
        return lambda table: table.id.in_(_customers(pool))
    if kind == 'customer':
        def condition(table):
            condition = Literal(False)
            for name in rows[1]:
                condition |= getattr(table, name).in_(_customers(pool))
            return condition
        return condition
    # The history of the invoices and moves
    return lambda table: SplitPart(getattr(table, rows[1]), ',', 1).in_(
        INVOICE_MODELS)


def _customers(pool):
    "The query of the parties of the invoices"
    Invoice = pool.get('account.invoice')
    invoice = Invoice.__table__()
    return invoice.select(invoice.party, group_by=[invoice.party])


def replicate(spec):
    """The worker's action: spec['copies'] - 1 copies added in the database
    spec['database'] (a copy of the smaller template); return the rows
    added by model and the seconds taken"""
    import time

    from base import init_pool, run_transaction
    start = time.perf_counter()
    init_pool(spec['database'])
    added, _ = run_transaction(spec['database'], 0,
        lambda: copy_template(spec['copies']))
    return {'added': added,
        'seconds': round(time.perf_counter() - start, 1)}
