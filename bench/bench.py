#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Benchmark of account_invoice_dunning against Tryton's account_dunning.

Builds (once, then from a cached template) a database with N posted customer
invoices over N/10 customers, with both modules activated and equivalent
procedures, and times side by side, each in a fresh process and a fresh
transaction:

  generate  first generation of the reminders on a date D
  process   processing of all the drafts (ours without rendering the letters)
  letters   processing + letters of all the reminders of M customers
            (reminders/s: one letter per customer)
  escalate  generation at D+30 after the processing at D
and, ours only: penalties, classify, workers (letters by trytond-worker
processes), emails (the reminders of M customers sent by email to a
local SMTP server), promised and analysis (the graphs of the Dunning
Board read, at D+30).

Usage:
  python bench/bench.py [--invoices N] [--backend sqlite|postgresql]
      [--repeat R] [--json PATH] [--letters M] [--skip-core] [...]

PostgreSQL runs in the cluster given by the libpq environment (PGHOST,
PGPORT, PGUSER, PGPASSWORD), for example a throwaway one:
  pg_virtualenv -t python bench/bench.py --backend postgresql
See bench/README.rst.

This file is the command line; the steps run in fresh processes of it
(--worker). base.py: what both sides share; snapshot.py: the copy of the
module a run imports; template.py: the template database and its caches;
build.py: its data; steps.py: the timed steps; runner.py: how they run and
are measured; report.py: the table and the JSON.
"""
import argparse
import datetime as dt
import json
import os
import sys

from base import CACHE_DIR, DEFAULT_DATE, MODULE, STEPS, log, print_result
from snapshot import snapshot_of, take_snapshot, use_snapshot


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser)
    add_build_arguments(parser)
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return args
    explicit = args.steps is not None
    args.steps = [s for s in (args.steps or ','.join(STEPS)).split(',') if s]
    args.modules = [m for m in args.modules.split(',') if m]
    if set(args.modules) - {'ours', 'core'}:
        parser.error("--modules: ours, core")
    args.profile = {p for p in args.profile.split(',') if p}
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        parser.error("unknown steps: %s" % ', '.join(sorted(unknown)))
    backend_steps(args, explicit)
    if args.copies < 1 or args.invoices % args.copies:
        parser.error("--copies: a divisor of --invoices")
    if args.module_snapshot and not snapshot_of(args.module_snapshot):
        parser.error("no snapshot %s" % os.path.join(
                CACHE_DIR, 'module-%s' % args.module_snapshot))
    return args


def backend_steps(args, explicit):
    """The steps of args for its backend: (g) on PostgreSQL only, once for
    each number of workers; (j) on SQLite only when asked"""
    if (not explicit and args.backend == 'sqlite'
            and 'analysis' in args.steps):
        # Without statistics (ANALYZE) SQLite joins the lines of the
        # analysis by account: minutes at 10,000 invoices
        log("Step analysis skipped on SQLite unless asked (--steps): "
            "see bench/README.rst")
        args.steps.remove('analysis')
    if 'workers' in args.steps:
        index = args.steps.index('workers')
        if args.backend == 'postgresql':
            args.steps[index:index + 1] = ['workers%d' % w
                for w in args.workers]
        else:
            # Tryton's queue shares the tasks through PostgreSQL
            log("Step workers skipped: trytond-worker needs PostgreSQL")
            del args.steps[index]


def add_run_arguments(parser):
    "The options of the timed steps"
    parser.add_argument('--invoices', '-n', type=int, default=10000,
        help="number of invoices (default: %(default)s)")
    parser.add_argument('--backend', choices=['sqlite', 'postgresql'],
        default='sqlite')
    parser.add_argument('--repeat', '-r', type=int, default=1,
        help="repeat the timed steps; report the median")
    parser.add_argument('--json', help="result file (default: "
        "bench/results/bench-BACKEND-N.json)")
    parser.add_argument('--letters', '-m', type=int, default=300,
        help="customers whose reminders are processed and sent in step "
        "(c), one letter each (default: %(default)s)")
    parser.add_argument('--skip-core', action='store_true',
        help="time our module only (core is slow at 100,000 invoices)")
    parser.add_argument('--sqlite-exclude-workaround', action='store_true',
        help="SQLite: leave the two EXCLUDE constraints of our reminders to "
        "their partial unique indexes (Tryton's check in Python fails past "
        "a few hundred reminders in one run)")
    parser.add_argument('--modules', default='ours,core',
        help="modules to time among ours,core (default: both)")
    parser.add_argument('--steps',
        help="comma separated steps among %s (default: all, analysis on "
        "PostgreSQL only)" % ','.join(STEPS))
    parser.add_argument('--date', type=dt.date.fromisoformat,
        default=DEFAULT_DATE, help="date D (default: %(default)s)")
    parser.add_argument('--optimize', '-O', action='store_true',
        help="run the timed steps with python -O (without the asserts of "
        "Tryton, one of which is quadratic in the size of the batches)")
    parser.add_argument('--profile', default='',
        help="cProfile these steps, e.g. ours:generate,core:process "
        "(stats in bench/results/)")
    parser.add_argument('--workers', default='1,2',
        type=lambda v: [int(w) for w in v.split(',') if w],
        help="trytond-worker processes of step (g), each count a run "
        "(default: %(default)s; PostgreSQL only)")


def add_build_arguments(parser):
    "The options of the template and of the module measured"
    parser.add_argument('--rebuild', action='store_true',
        help="rebuild the cached template")
    parser.add_argument('--fast-build', action='store_true',
        help="build the template without Tryton's validation of each "
        "record (same data, faster: for 100,000 invoices)")
    parser.add_argument('--copies', type=int, default=1, metavar='K',
        help="build the template of N invoices as K copies of the template "
        "of N/K built through Tryton (the copies in SQL: minutes instead of "
        "hours for 100,000 invoices; see bench/README.rst)")
    parser.add_argument('--build-only', action='store_true',
        help="build (or restore) the template and stop")
    parser.add_argument('--module-snapshot', metavar='HASH',
        help="run the copy of the module taken by an earlier run "
        "(bench/.cache/module-HASH) instead of a new copy of the work tree")


def worker(spec):
    "Run the action of spec in this process (a worker of the orchestrator)"
    if spec.get('module_path'):
        use_snapshot(spec['module_path'])
    if spec['action'] == 'build':
        from build import build
        result = build(spec)
    elif spec['action'] == 'upgrade':
        from build import upgrade
        result = upgrade(spec)
    elif spec['action'] == 'replicate':
        from replicate import replicate
        result = replicate(spec)
    else:
        from runner import run_step
        result = run_step(spec)
    print_result(result)


def main():
    args = parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    from runner import run_benchmark
    from template import (
        PostgreSQLStore, SQLiteStore, cache_key, ensure_template)

    from report import print_table, summarize, write_json

    os.makedirs(CACHE_DIR, exist_ok=True)
    if args.module_snapshot:
        digest = args.module_snapshot
        module_path = snapshot_of(digest)
    else:
        module_path, digest = take_snapshot()
    args.module_path = module_path
    args.module_hash = digest
    log("Module %s snapshot %s" % (MODULE, module_path))
    key = cache_key(args)
    store = (SQLiteStore if args.backend == 'sqlite'
        else PostgreSQLStore)(key)
    store.module_hash = digest
    meta = ensure_template(store, args)
    if args.build_only:
        return
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    runs = run_benchmark(store, args, meta)
    summary = summarize(runs, args.steps)
    print_table(summary, args, meta)
    path = write_json(summary, args, meta, store, load_at_start)
    print("\nResults written to %s" % path)


if __name__ == '__main__':
    sys.exit(main())
