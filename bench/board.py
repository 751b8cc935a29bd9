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
    date); rolled back. Each read timed and its queries counted."""
    from trytond.transaction import Transaction, check_access

    def prepare():
        return {'graphs': graph_reads(pool)}

    def run(prepared):
        reads = {}
        with check_access():
            for key, model, names, context in prepared['graphs']:
                Model = pool.get(model)
                queries = query_counter()
                start = time.perf_counter()
                # As the client: the context of the action, then the values
                # of its context model
                with Transaction().set_context(context, company=company,
                            date=date), queries:
                    rows = Model.search_read([], fields_names=list(names))
                reads[key] = {
                    'seconds': round(time.perf_counter() - start, 3),
                    'queries': queries.count, 'rows': len(rows),
                    'figures': figures(key, rows)}
        return {'reads': reads}
    return Step(run, commit=False, prepare=prepare,
        post=lambda result: result)


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
    its seconds in all of them"""
    reads = {}
    for key, read in results[-1]['reads'].items():
        seconds = [r['reads'][key]['seconds'] for r in results
            if key in r.get('reads', {})]
        reads[key] = dict(read, seconds=statistics.median(seconds),
            runs=seconds)
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
