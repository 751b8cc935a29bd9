# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Step (j): the Dunning Board read as the client reads it, and what the
report prints of it (the reads, and their queries against the other size).
See bench/README.rst."""
import glob
import json
import os
import statistics
import time

from base import MODULE, RESULTS_DIR, Step, query_counter

# The prefix of the names of the actions of the board, left out of the names
# of the graphs
PREFIX = 'act_board_'
# The queries of a read whose time in the database is measured (seconds)
SLOW = 0.02


def graph_reads(pool):
    """[(graph, model, fields, context)] of the graphs of the Dunning Board,
    in the order of its view: the name of the action, its model, the fields
    of its graph view, with the name of the records of its Many2One (what
    the client reads to draw it), and the context of the action"""
    from lxml import etree

    from trytond.pyson import PYSONDecoder
    ActWindow = pool.get('ir.action.act_window')
    ModelData = pool.get('ir.model.data')
    View = pool.get('ir.ui.view')
    board = View(ModelData.get_id(MODULE, 'analysis_board_view'))
    arch = etree.fromstring(board.view_get()['arch'])
    reads = []
    for action in arch.iter('action'):
        name = action.get('name')
        value = ActWindow.get(name)
        Model = pool.get(value['res_model'])
        (view_id, view_type), = value['views']
        view = Model.fields_view_get(view_id=view_id, view_type=view_type)
        names = []
        for field, description in sorted(view['fields'].items()):
            names.append(field)
            if description['type'] == 'many2one':
                names.append('%s.rec_name' % field)
        key = name.split('.', 1)[-1]
        if key.startswith(PREFIX):
            key = key[len(PREFIX):]
        context = PYSONDecoder().decode(value.get('pyson_context') or '{}')
        reads.append((key, value['res_model'], names, context))
    return reads


def board_step(pool, date, company):
    """(j): the four graphs of the Dunning Board on date (D+30, after the
    processing of D): each the search and read of all the rows of its view
    (search_read), with the access rules, in the context of its action and
    of the board (company, date; the effectiveness of the 90 days up to
    date); rolled back. Each read timed and its queries counted; after the
    clock, on PostgreSQL, the database's time of its slow queries (see
    explain_reads)."""
    from trytond.transaction import Transaction, check_access

    def prepare():
        return {'graphs': graph_reads(pool)}

    def read(key, model, names, context):
        # As the client: the context of the action, then the values of its
        # context model
        with check_access(), Transaction().set_context(context,
                    company=company, date=date):
            return pool.get(model).search_read([], fields_names=list(names))

    def run(prepared):
        reads = {}
        for graph in prepared['graphs']:
            queries = query_counter()
            start = time.perf_counter()
            with queries:
                rows = read(*graph)
            reads[graph[0]] = {
                'seconds': round(time.perf_counter() - start, 3),
                'queries': queries.count, 'rows': len(rows),
                'figures': figures(graph[0], rows)}
        return {'reads': reads}

    def post(result):
        return explain_reads(result, graph_reads(pool), read)
    return Step(run, commit=False, prepare=prepare, post=post)


def explain_reads(result, graphs, read):
    """result with, on PostgreSQL, the time in the database of each read:
    its queries of more than SLOW seconds run again with EXPLAIN ANALYZE
    (after the clock, in a transaction of their own), the execution time of
    each and of its JIT compilation (the time of a loaded machine, as the
    clock's, but without the Python side)"""
    from trytond import backend
    from trytond.transaction import Transaction
    if backend.name != 'postgresql':
        return result
    connection = Transaction().connection
    real = connection.cursor
    for graph in graphs:
        slow = []

        class Timed:
            "A cursor that keeps the slow queries it runs"

            def __init__(self, cursor):
                self._cursor = cursor

            def execute(self, query, params=None, *args, **kwargs):
                start = time.perf_counter()
                value = self._cursor.execute(query, params, *args, **kwargs)
                if time.perf_counter() - start > SLOW:
                    slow.append((query, params))
                return value

            def __getattr__(self, name):
                return getattr(self._cursor, name)

            def __iter__(self):
                return iter(self._cursor)
        connection.cursor = lambda *a, **k: Timed(real(*a, **k))
        try:
            read(*graph)
        finally:
            connection.cursor = real
        plans = []
        cursor = real()
        for query, params in slow:
            cursor.execute('EXPLAIN (ANALYZE, FORMAT JSON) ' + query, params)
            plan, = cursor.fetchone()[0]
            plans.append({
                    'ms': round(plan['Execution Time'], 1),
                    'jit_ms': round(plan.get('JIT', {}).get(
                            'Timing', {}).get('Total', 0), 1)})
        result['reads'][graph[0]]['database'] = plans
    return result


def figures(key, rows):
    "What the graph of key shows, summed: to compare the runs"
    def name(row, field):
        "The rec_name of the Many2One field of row, or its value"
        related = row.get(field + '.')
        return str(related['rec_name'] if related else row.get(field))

    def total(column, by):
        sums = {}
        for row in rows:
            sums[name(row, by)] = (sums.get(name(row, by), 0)
                + float(row.get(column) or 0))
        return {k: round(v, 2) for k, v in sorted(sums.items())}
    if key.startswith('aging') and key.endswith('segment'):
        return total('amount', 'segment')
    if key.startswith('aging'):
        return total('amount', 'bucket')
    if key == 'dso':
        return {str(r['month']): r['dso'] and round(r['dso'], 1)
            for r in rows}
    return {name(r, 'level'): r['paid_15_share']
        and float(r['paid_15_share']) for r in rows}


def median_reads(results):
    """The reads of the last of the results of (j), each with the median of
    its seconds in all of them (and of its time in the database)"""
    reads = {}
    for key, read in results[-1]['reads'].items():
        runs = [r['reads'][key] for r in results
            if key in r.get('reads', {})]
        seconds = [r['seconds'] for r in runs]
        reads[key] = dict(read, seconds=statistics.median(seconds),
            runs=seconds)
        database = [round(sum(p['ms'] for p in r['database']) / 1000, 3)
            for r in runs if 'database' in r]
        if database:
            reads[key].update(database_seconds=statistics.median(database),
                database_runs=database)
    return reads


def other_sizes(backend, invoices):
    """{N: (path, entry)} of the step (j) of the results in bench/results/
    of the other numbers of invoices on backend, the latest of each N"""
    found = {}
    for path in glob.glob(os.path.join(RESULTS_DIR, '*.json')):
        try:
            with open(path) as fp:
                result = json.load(fp)
        except (OSError, ValueError):
            continue
        params = result.get('params', {})
        n = params.get('invoices')
        entry = result.get('steps', {}).get('analysis', {}).get('ours')
        if (params.get('backend') != backend or n == invoices
                or not entry or 'reads' not in entry):
            continue
        run_at = result.get('machine', {}).get('run_at', '')
        if n not in found or run_at > found[n][0]:
            found[n] = (run_at, os.path.relpath(path), entry)
    return {n: (path, entry) for n, (_, path, entry) in found.items()}


def print_board(summary, backend, invoices):
    "The reads of (j) and their queries against those of the other sizes"
    entry = summary.get('analysis', {}).get('ours')
    if not entry or 'error' in entry:
        return
    reads = entry['reads']
    print("board at N=%d: %.2f s, %d queries in all; %s" % (invoices,
            entry['seconds'], entry['queries'], ', '.join(
                '%s %.2f s %d queries %d rows' % (key, read['seconds'],
                    read['queries'], read['rows'])
                for key, read in reads.items())))
    if all('database_seconds' in r for r in reads.values()):
        print("board at N=%d in the database (EXPLAIN ANALYZE of the "
            "queries of more than %s s): %.2f s; %s" % (invoices, SLOW,
                sum(r['database_seconds'] for r in reads.values()),
                ', '.join('%s %.2f s' % (key, read['database_seconds'])
                    for key, read in reads.items())))
    for n, (path, other) in sorted(other_sizes(backend, invoices).items()):
        same = (other['queries'] == entry['queries']
            and all(other['reads'].get(k, {}).get('queries')
                == r['queries'] for k, r in reads.items()))
        print("board at N=%d (%s): %.2f s, %d queries: %s" % (n, path,
                other['seconds'], other['queries'],
                'the same queries, read by read' if same
                else 'NOT the same queries (%s)' % ', '.join(
                    '%s %s' % (k, r.get('queries'))
                    for k, r in other['reads'].items())))
