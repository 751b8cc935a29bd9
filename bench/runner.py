# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""How the steps run: each in a fresh python process (run_benchmark, on the
orchestrator side), on a fresh copy of the template, measured in that
process (run_step, on the worker side: time, peak memory, SQL queries)."""
import atexit
import datetime as dt
import os
import signal
import subprocess
import sys
import time

from base import (
    OURS_ONLY, RESULTS_DIR, WORK_DIR, WORKER_WARMUP, backend_name, init_pool,
    log, max_rss_mb, query_counter, run_transaction, run_worker)
from steps import core_step, ours_step, sqlite_exclude_workaround

# -- Worker side ---------------------------------------------------------


def run_step(spec):
    "Run the step of spec in this process; return what it measured"
    from trytond.pool import Pool
    database = spec['database']
    init_pool(database)
    pool = Pool(database)
    user = spec['admin']
    date = dt.date.fromisoformat(spec['date'])

    def preferences():
        User = pool.get('res.user')
        return User.get_preferences(context_only=True)
    context, _ = run_transaction(database, user, preferences, commit=False)

    def transact(func, commit=True):
        return run_transaction(database, user, func, context=context,
            commit=commit)

    workaround = None
    if (spec['module'] == 'ours' and spec.get('sqlite_exclude_workaround')
            and backend_name() == 'sqlite'):
        workaround = sqlite_exclude_workaround(pool)
    make = ours_step if spec['module'] == 'ours' else core_step
    step = make(pool, spec['step'], date, spec['letters'], spec['company'])
    prepared, _ = transact(step.prepare, commit=False)
    info, result, timing = time_step(transact, step, prepared,
        spec.get('profile'))
    if result is not None:
        # Counted after the clock, in a transaction of its own
        info.update(transact(lambda: step.post(result), commit=False)[0])
    if workaround:
        info['workaround'] = workaround
    info.update(timing)
    return info


def time_step(transact, step, prepared, profile=None):
    """Run step on prepared in the transactions of transact, under the
    clock (and cProfile into the file profile); return (info, result,
    timing): info has the error if it failed"""
    info, result, attempts = {}, None, None
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    rss_before = max_rss_mb()
    queries = query_counter()
    clock = {}

    def run():
        # The data of the step, in its transaction, before the clock
        data = step.setup(prepared) if step.setup else prepared
        clock['start'] = time.perf_counter()
        with queries:
            return step.run(data)
    start = time.perf_counter()
    try:
        result, attempts = transact(run, commit=step.commit)
        if step.after_commit:
            committed = time.perf_counter()
            result.update(transact(lambda: step.after_commit(result),
                    commit=False)[0])
            # What ran after the commit alone (the workers' letters)
            clock['after_commit'] = time.perf_counter() - committed
    except Exception as exception:
        import traceback
        traceback.print_exc(limit=-12)
        info['error'] = '%s: %s' % (
            exception.__class__.__name__, str(exception)[:300])
    seconds = time.perf_counter() - clock.get('start', start)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    peak = max_rss_mb()
    # The queries a step makes to count what it did are not its own
    own = queries.count - ((result or {}).pop('bench_queries', 0)
        if isinstance(result, dict) else 0)
    timing = dict(seconds=seconds, attempts=attempts, queries=own,
        rss_before_mb=round(rss_before, 1),
        peak_rss_mb=round(peak, 1))
    if 'after_commit' in clock:
        timing['after_commit_seconds'] = clock['after_commit']
    return info, result, timing


# -- Orchestrator side ---------------------------------------------------


def step_order(steps):
    "The order in which the steps run on a copy of the template"
    # (a) and (d) commit; (c) rolls back so that (b) processes all drafts
    # (i) rolls back: on the template, as (a)
    order = [s for s in ['promised', 'waiting'] if s in steps]
    order.append('generate')
    if 'letters' in steps:
        order.append('letters')
    # (h) rolls back too
    if 'emails' in steps:
        order.append('emails')
    if {'process', 'escalate'} & set(steps):
        order.append('process')
    if 'escalate' in steps:
        order.append('escalate')
    # (e) rolls back, (f) commits: on the data of D+30, then (g) processes
    # drafts of D+30
    order += [s for s in ['penalties', 'classify'] if s in steps]
    order += [s for s in steps if s.startswith('workers')]
    # (j) reads, rolled back: the board of the data of D+30
    if 'analysis' in steps:
        order.append('analysis')
    return order


def run_benchmark(store, args, meta):
    """Run the steps args.repeat times, each repeat on a fresh copy of the
    template for each module; return their results"""
    modules = [m for m in args.modules
        if not (args.skip_core and m == 'core')]
    steps = [s for s in args.steps]
    runs = {m: {s: [] for s in steps} for m in modules}
    order = step_order(steps)
    profiled = set()
    for repeat in range(args.repeat):
        databases = {}
        try:
            for module in modules:
                databases[module] = store.new_copy(
                    'bench_work_%s_%d' % (module, os.getpid()))
            for module, step, result in run_steps(store, args, meta,
                    databases, order, repeat, profiled):
                if step in steps:
                    runs[module][step].append(result)
        finally:
            for database in databases.values():
                store.drop(database[0])
    return runs


def run_steps(store, args, meta, databases, order, repeat, profiled):
    """Run the steps in order on the database of each module ({module:
    database}), the modules one after the other at each step: the two runs
    of a step close in time, on a machine whose speed varies from a minute
    to the next (their ratio run by run); yield (module, step, result)"""
    failed = set()
    for step in order:
        for module, database in databases.items():
            if module in failed or (module == 'core' and (
                        step in OURS_ONLY or step.startswith('workers'))):
                continue
            result = run_one(store, args, meta, database, module, step,
                repeat, profiled)
            yield module, step, result
            if 'error' in result and step in {'generate', 'process'}:
                # The next steps need the reminders of this one
                failed.add(module)


def run_one(store, args, meta, database, module, step, repeat, profiled):
    """Run step of module in a worker on database (name, path); return its
    result"""
    name, path = database
    d30 = args.date + dt.timedelta(days=30)
    spec = {'action': 'step', 'database': name,
        'module': module, 'step': step,
        'date': (args.date if step in {
                'generate', 'process', 'letters', 'emails', 'promised',
                'waiting'}
            else d30).isoformat(),
        'letters': args.letters,
        'company': meta['setup']['company'],
        'admin': meta['setup']['admin'],
        'sqlite_exclude_workaround':
            args.sqlite_exclude_workaround,
        'module_path': args.module_path}
    profile = None
    key = '%s:%s' % (module, step)
    if key in args.profile and key not in profiled:
        profiled.add(key)
        os.makedirs(RESULTS_DIR, exist_ok=True)
        profile = os.path.join(RESULTS_DIR,
            'profile-%s-%s-%d-%s.prof' % (store.backend,
                args.invoices, repeat, key.replace(':', '-')))
    spec['profile'] = profile
    workers = None
    if step.startswith('workers'):
        workers = start_workers(name, path, store.backend,
            int(step[len('workers'):]))
    try:
        result = run_worker(spec, store.backend, path,
            optimize=args.optimize)
    finally:
        if workers:
            stop_workers(workers)
    if profile:
        result['profile'] = profile
        print_profile(profile)
    log_result(result, repeat, module, step)
    return result


def log_result(result, repeat, module, step):
    if 'error' in result:
        log("  run %d %-4s %-9s FAILED after %.2f s: %s" % (
                repeat + 1, module, step, result['seconds'],
                result['error']))
    else:
        log("  run %d %-4s %-9s %8.2f s  %6s reminders  "
            "peak %.0f MB" % (repeat + 1, module, step,
                result['seconds'], result.get('reminders'),
                result['peak_rss_mb']))


def print_profile(path):
    import pstats
    stats = pstats.Stats(path)
    stats.sort_stats('cumulative').print_stats(40)
    stats.sort_stats('tottime').print_stats(25)


def start_workers(database, path, backend, count):
    """Start trytond-worker with count processes on database and give them
    WORKER_WARMUP seconds to load the pool (not timed)"""
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}
    env['TRYTOND_DATABASE__URI'] = 'postgresql://'
    env['TRYTOND_DATABASE__PATH'] = path or WORK_DIR
    env['TRYTOND_QUEUE__WORKER'] = 'True'
    command = [os.path.join(os.path.dirname(sys.executable),
            'trytond-worker'),
        '-v', '-d', database, '-n', str(count), '-t', '1']
    # A session of its own: stopped with its pool of processes
    worker = subprocess.Popen(command, env=env, start_new_session=True)
    atexit.register(lambda: worker.poll() is None
        and os.killpg(worker.pid, signal.SIGKILL))
    time.sleep(WORKER_WARMUP)
    if worker.poll() is not None:
        raise SystemExit(
            "trytond-worker stopped (exit %s)" % worker.returncode)
    return worker


def stop_workers(worker):
    # trytond-worker stops on an interrupt, as on Ctrl-C; its processes
    # with it
    os.killpg(worker.pid, signal.SIGINT)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait()
