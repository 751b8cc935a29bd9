# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What both sides of the benchmark share: the constants, the fresh python
processes that run the actions (workers) and Tryton's transactions in them.
"""
import datetime as dt
import importlib.util
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE_DIR = os.path.join(HERE, '.cache')
WORK_DIR = os.path.join(CACHE_DIR, 'work')
RESULTS_DIR = os.path.join(HERE, 'results')
MODULE = 'account_invoice_dunning'
MODULES = [MODULE, 'account_dunning', 'account_dunning_letter', 'bank']
# Change it when the way the database is built changes: it is in the key
BUILD_VERSION = 4
# The date D of the first generation: a Monday, the invoices are dated
# during the 6 months before it
DEFAULT_DATE = dt.date(2026, 11, 2)
SEED = 20261102
INVOICES_PER_CUSTOMER = 10
CHUNK = 1000
STEPS = ['generate', 'process', 'letters', 'escalate', 'penalties',
    'classify', 'workers', 'emails', 'promised', 'waiting', 'analysis']
STEP_TITLES = {
    'generate': "(a) generation on D",
    'process': "(b) process all drafts",
    'letters': "(c) process + letters of M",
    'escalate': "(d) escalation on D+30",
    'penalties': "(e) penalties on D+30",
    'classify': "(f) segments on D+30",
    'workers': "(g) letters by W workers",
    'emails': "(h) emails of M",
    'promised': "(i) generation, 10 % held",
    'waiting': "(i') 10 % held, none settled",
    'analysis': "(j) board (4 graphs)",
    }
# Steps of our module that core account_dunning has no equivalent of
OURS_ONLY = {'penalties', 'classify', 'workers', 'emails', 'promised',
    'waiting', 'analysis'}
# Seconds given to trytond-worker processes to load the pool before the
# clock starts
WORKER_WARMUP = 20
RESULT_MARK = 'BENCH-RESULT '
# The command line: the workers run it again with --worker
ENTRY = os.path.join(HERE, 'bench.py')


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# -- Orchestrator side: the workers -------------------------------------


def worker_env(backend, path=None):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith('TRYTOND_'):
            del env[key]
    env['TRYTOND_DATABASE__URI'] = (
        'sqlite://' if backend == 'sqlite' else 'postgresql://')
    # The SQLite files and, for both backends, the file store of the
    # binary fields (our archived letters): WORK_DIR/<database name>/
    os.makedirs(WORK_DIR, exist_ok=True)
    env['TRYTOND_DATABASE__PATH'] = path or WORK_DIR
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.setdefault('PYTHONWARNINGS', 'ignore')
    return env


def run_worker(spec, backend, path=None, optimize=False):
    """Run an action in a fresh python process; return its result

    optimize runs python -O: without the asserts of Tryton, among which one
    quadratic in the size of the batches of records (ModelStorage.__init__
    checks all the ids of its batch for each instance)."""
    cmd = [sys.executable] + (['-O'] if optimize else []) + [
        ENTRY, '--worker', json.dumps(spec)]
    proc = subprocess.run(cmd, env=worker_env(backend, path),
        stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
        else:
            print(line)
    if proc.returncode or result is None:
        raise SystemExit('worker %s failed (exit %s)' % (
                spec.get('action'), proc.returncode))
    return result


def print_result(result):
    "Hand the result of a worker to the orchestrator (see run_worker)"
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


# -- Worker side: Tryton in this process ------------------------------


def init_pool(database):
    import logging
    logging.basicConfig(level=logging.WARNING)
    from trytond.pool import Pool
    pool = Pool(database)
    pool.init()
    return pool


def max_rss_mb():
    # Linux gives kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def backend_name():
    from trytond import backend
    return backend.name


def run_transaction(database, user, func, context=None, commit=True,
        extras=None):
    """Run func in a transaction as Tryton's dispatcher does: restart it
    when it asks for locks (kept in extras); return (result, attempts)"""
    from trytond.transaction import Transaction, TransactionError
    if extras is None:
        extras = {}
    attempts = 0
    while True:
        attempts += 1
        try:
            with Transaction().start(database, user, context=context,
                    **extras) as transaction:
                result = func()
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return result, attempts
        except TransactionError as error:
            error.fix(extras)


def query_counter():
    """A QueryCounter of the tests (tests/query_counter.py), which counts
    the SQL queries of the transaction: the proof that a step is set-based
    (compare N=10,000 with N=100,000)

    Loaded from the work tree by its path, not through the module: the
    steps may run an older copy of the module (--module-snapshot), and the
    copies have no tests. BENCH_QUERY_LOG names a file where the queries
    counted are written (ask one step, one module, --repeat 1)."""
    name = 'bench_query_counter'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name,
            os.path.join(ROOT, 'tests', 'query_counter.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    log_path = os.environ.get('BENCH_QUERY_LOG')
    if not log_path:
        return sys.modules[name].QueryCounter()

    def log_query(query):
        "Write each query counted to BENCH_QUERY_LOG (a file per step)"
        with open(log_path, 'a') as fp:
            fp.write(' '.join(str(query).split())[:400] + '\n')
        return False
    return sys.modules[name].QueryCounter(log_query)


class Step:
    """A step to time: prepare (untimed, own transaction rolled back) gives
    the input of run (timed, committed or rolled back), post (untimed, own
    transaction) counts what run did; all three return dicts"""

    def __init__(self, run, commit=True, prepare=None, post=None,
            after_commit=None, setup=None):
        self.run = run
        self.commit = commit
        self.prepare = prepare or (lambda: {})
        # Untimed, in the transaction of run, before it: data run needs
        # and rolls back with it (setup(prepared) gives the input of run)
        self.setup = setup
        self.post = post or (lambda result: {})
        # Timed too, after the commit of run (e.g. waiting for workers)
        self.after_commit = after_commit
