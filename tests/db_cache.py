# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A second level of Tryton's cache of test databases (DB_CACHE): the
database of a module activated *and* prepared by setup functions.

Most tests need a company with its chart of accounts, fiscal year and
payment term before their own invoices, and creating them took most of the
time of the suite. ``trytond.tests.test_tryton.activate_module`` caches the
activated database (a file on SQLite, a template database on PostgreSQL);
``activate_prepared`` caches, next to it, that database once the setup
functions have run and committed: built by the first test class that needs
it, copied (restored) by the others, as ``trytond.tests.tools.
activate_modules(modules, *setup)`` does for the scenarios
(``activate_scenario`` here, which builds them on the cached activated
database). A cache is named after the modules, the setup functions and the
text of the files that define them: editing them builds it again.

The database of a test class that uses it is dropped when the class ends,
so the next class, whatever it is, starts from the activated database as
before (``activate_module`` restores it). Without DB_CACHE nothing is
prepared: the tests run on the activated database and create everything
themselves, as they always did (see ``create_invoices`` of test_engine).

``activate_on`` builds the database of a module that extends this one (the
test modules, the modules of test_module) from the cached database of this
one: only the other modules are activated, not all from nothing."""
import hashlib
import inspect

from proteus import config as pconfig

from trytond.cache import Cache
from trytond.tests import tools
from trytond.tests.test_tryton import (
    DB_CACHE, DB_NAME, USER, activate_module, backup_db_cache, drop_db,
    restore_db_cache)
from trytond.transaction import Transaction, TransactionError

__all__ = ['activate_on', 'activate_prepared', 'activate_scenario']


def cache_name(modules, setup):
    """The name of the prepared database of modules in DB_CACHE: the
    modules, the setup functions and the hash of the files that define
    them"""
    digest = hashlib.sha1()
    for path in sorted({inspect.getsourcefile(f) for f in setup}):
        with open(path, 'rb') as fp:
            digest.update(fp.read())
    return '%s--%s-%s' % ('-'.join(sorted(modules)),
        '|'.join(f.__qualname__ for f in setup), digest.hexdigest()[:12])


def activate_on(modules, base):
    """With DB_CACHE: the database of modules (that extend base) as
    activate_module(modules) restores it, built the first time from the
    cached database of base, only the other modules activated; nothing
    without DB_CACHE"""
    if isinstance(modules, str):
        modules = [modules]
    if not DB_CACHE:
        return
    if modules == [base]:
        drop_db()
        activate_module(modules)
        return
    drop_db()
    # The name activate_module gives to the cache of modules
    if not restore_db_cache('-'.join(modules)):
        activate_module(base)
        activate_module(modules)


def activate_prepared(test_class, module, *setup, base=None):
    """In setUpClass of test_class: the database of module, activated (on
    base, see activate_on), with what the setup functions created (run in one
    transaction, committed, by the user of the tests); dropped when the
    class ends. Return True, or False without DB_CACHE: module activated
    only, nothing prepared"""
    if not DB_CACHE:
        activate_module(module)
        return False
    test_class.addClassCleanup(drop_db)
    name = cache_name([module], setup)
    # Whatever the class before left: the database of the cache
    drop_db()
    if not restore_db_cache(name):
        activate_on(module, base or module)
        _run_and_commit(setup)
        backup_db_cache(name)
    return True


def _run_and_commit(setup):
    """Run the setup functions in a transaction and commit, restarted as
    Tryton restarts a transaction that asks for locks"""
    extras = {}
    while True:
        try:
            with Transaction().start(
                    DB_NAME, USER, **extras) as transaction:
                for func in setup:
                    func()
                transaction.commit()
        except TransactionError as error:
            error.fix(extras)
            continue
        break
    Cache.drop(DB_NAME)


def activate_scenario(modules, *setup):
    """trytond.tests.tools.activate_modules(modules, *setup) of the
    scenarios, the database built the first time from the cached activated
    database (activate_module), not activated again from nothing"""
    if isinstance(modules, str):
        modules = [modules]
    if not DB_CACHE:
        return tools.activate_modules(modules, *setup)
    name = cache_name(modules, setup)
    drop_db()
    if restore_db_cache(name):
        return pconfig.set_trytond()
    activate_module(modules)
    config = pconfig.set_trytond()
    for func in setup:
        func(config=config)
    backup_db_cache(name)
    return config
