# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Count the SQL queries of the transaction: the proof that a computation is
set-based. Shared by the tests and bench/ (which loads this file by its path:
it imports nothing of the module, so that the bench can run older copies of
the module with it)."""
from trytond.transaction import Transaction

__all__ = ['QueryCounter']


class QueryCounter:
    """Count the SQL queries run by the connection of the transaction

    ignore(query) tells the queries not to count (counted in ignored). The
    counts add up over the times the counter is entered."""

    def __init__(self, ignore=None):
        self.count = 0
        self.ignored = 0
        self.ignore = ignore

    def __enter__(self):
        connection = Transaction().connection
        self._cursor = connection.cursor
        counter = self

        def cursor(*args, **kwargs):
            real = counter._cursor(*args, **kwargs)
            return _CountingCursor(real, counter)
        connection.cursor = cursor
        return self

    def __exit__(self, *exc):
        Transaction().connection.cursor = self._cursor


class _CountingCursor:

    def __init__(self, cursor, counter):
        self._cursor = cursor
        self._counter = counter

    def _count(self, query):
        if self._counter.ignore and self._counter.ignore(query):
            self._counter.ignored += 1
        else:
            self._counter.count += 1

    def execute(self, *args, **kwargs):
        self._count(str(args[0]))
        return self._cursor.execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):
        "One statement run for many rows (an INSERT on SQLite): one query"
        self._count(str(args[0]))
        return self._cursor.executemany(*args, **kwargs)

    def __enter__(self):
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cursor.__exit__(*exc)

    def __iter__(self):
        return iter(self._cursor)

    def __getattr__(self, name):
        return getattr(self._cursor, name)
