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
  letters   processing + letter rendering of M reminders (letters/s)
  escalate  generation at D+30 after the processing at D

Usage:
  python bench/bench.py [--invoices N] [--backend sqlite|postgresql]
      [--repeat R] [--json PATH] [--letters M] [--skip-core] [...]

PostgreSQL runs in the cluster given by the libpq environment (PGHOST,
PGPORT, PGUSER, PGPASSWORD), for example a throwaway one:
  pg_virtualenv -t python bench/bench.py --backend postgresql
See bench/README.rst.
"""
import argparse
import atexit
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE_DIR = os.path.join(HERE, '.cache')
WORK_DIR = os.path.join(CACHE_DIR, 'work')
RESULTS_DIR = os.path.join(HERE, 'results')
MODULE = 'account_invoice_dunning'
MODULES = [MODULE, 'account_dunning', 'account_dunning_letter', 'bank']
# Change it when the way the database is built changes: it is in the key
BUILD_VERSION = 3
# The date D of the first generation: a Monday, the invoices are dated
# during the 6 months before it
DEFAULT_DATE = dt.date(2026, 11, 2)
SEED = 20261102
INVOICES_PER_CUSTOMER = 10
CHUNK = 1000
STEPS = ['generate', 'process', 'letters', 'escalate', 'penalties',
    'classify', 'workers']
STEP_TITLES = {
    'generate': "(a) generation on D",
    'process': "(b) process all drafts",
    'letters': "(c) process + letters of M",
    'escalate': "(d) escalation on D+30",
    'penalties': "(e) penalties on D+30",
    'classify': "(f) segments on D+30",
    'workers': "(g) letters by W workers",
    }
# Steps of our module that core account_dunning has no equivalent of
OURS_ONLY = {'penalties', 'classify', 'workers'}
# Seconds given to trytond-worker processes to load the pool before the
# clock starts
WORKER_WARMUP = 20
RESULT_MARK = 'BENCH-RESULT '


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# -- Keys, caches and databases (orchestrator side) ---------------------


def module_files(root):
    "The files of the module (what Tryton loads), relative to root"
    paths = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        parts = rel.split(os.sep)
        if parts[0] in {'bench', 'tests', 'scripts', 'doc', 'build', 'dist',
                    'demo-output', 'screenshots'} \
                or any(p.startswith('.') and p != '.' for p in parts) \
                or any(p.endswith('.egg-info') or p == '__pycache__'
                    for p in parts):
            dirs[:] = []
            continue
        for name in files:
            if not name.endswith(('.pyc', '.orig', '.rej', '~')):
                paths.append(os.path.normpath(os.path.join(rel, name)))
    return sorted(paths)


def module_hash(root=ROOT):
    "Hash of the module's python and xml files (and tryton.cfg)"
    digest = hashlib.sha256()
    for path in module_files(root):
        if not (path.endswith(('.py', '.xml')) or path == 'tryton.cfg'):
            continue
        digest.update(path.encode())
        with open(os.path.join(root, path), 'rb') as fp:
            digest.update(hashlib.sha256(fp.read()).digest())
    return digest.hexdigest()[:12]


def take_snapshot():
    """Copy the module to bench/.cache/module-HASH and return (path, hash)

    The workers import this copy: a run builds and measures one version of
    the module even when its files are edited meanwhile."""
    for _ in range(5):
        digest = module_hash()
        path = os.path.join(CACHE_DIR, 'module-%s' % digest)
        if os.path.exists(path) and module_hash(path) == digest:
            return path, digest
        tmp = path + '.tmp%d' % os.getpid()
        shutil.rmtree(tmp, ignore_errors=True)
        for rel in module_files(ROOT):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)),
                exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(tmp, rel))
        if module_hash(tmp) == digest:
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
            return path, digest
        shutil.rmtree(tmp, ignore_errors=True)
        time.sleep(2)
    raise SystemExit("The module keeps changing: can not snapshot it")


def use_snapshot(path):
    "Import trytond.modules.account_invoice_dunning from path"
    import importlib.util
    name = 'trytond.modules.' + MODULE

    class SnapshotFinder:
        @classmethod
        def find_spec(cls, fullname, target_path=None, target=None):
            if fullname == name:
                return importlib.util.spec_from_file_location(name,
                    os.path.join(path, '__init__.py'),
                    submodule_search_locations=[path])
    sys.meta_path.insert(0, SnapshotFinder)


def cache_key(args):
    """The key of the data: the module is not in it, a template built by
    another version of the module is upgraded (see ensure_template)"""
    from importlib.metadata import version
    return 'n%d-%s-%s' % (args.invoices, args.date.strftime('%Y%m%d'),
        hashlib.sha256(repr((BUILD_VERSION, SEED,
                        version('trytond'))).encode()).hexdigest()[:10])


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
        os.path.abspath(__file__), '--worker', json.dumps(spec)]
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


def prune_caches(key, backend):
    """Remove the caches of the same N and date built from other versions
    of the module: they are of no more use"""
    prefix = 'bench-%s-' % key.rsplit('-', 1)[0]
    for name in os.listdir(CACHE_DIR):
        if name.endswith(('-postgresql.dump', '-postgresql.json')):
            name_backend = 'postgresql'
        elif name.endswith(('.sqlite', '.json')):
            name_backend = 'sqlite'
        else:
            continue
        if (name.startswith(prefix) and backend == name_backend
                and not name.startswith('bench-%s' % key)):
            log("Removing the stale cache %s" % name)
            os.remove(os.path.join(CACHE_DIR, name))


class SQLiteStore:
    "Template as a copy of the database file"
    backend = 'sqlite'

    def __init__(self, key):
        self.key = key
        self.template = os.path.join(CACHE_DIR, 'bench-%s.sqlite' % key)
        self.meta = os.path.join(CACHE_DIR, 'bench-%s.json' % key)

    def exists(self):
        return os.path.exists(self.template) and os.path.exists(self.meta)

    def build_target(self):
        "(database name, path) where the worker builds"
        os.makedirs(WORK_DIR, exist_ok=True)
        name = 'build_%s' % self.key.replace('-', '_')
        target = os.path.join(WORK_DIR, name + '.sqlite')
        if os.path.exists(target):
            os.remove(target)
        open(target, 'wb').close()
        return name, WORK_DIR

    def store(self, name, meta):
        prune_caches(self.key, 'sqlite')
        os.replace(os.path.join(WORK_DIR, name + '.sqlite'), self.template)
        meta['cache'] = self.template
        with open(self.meta, 'w') as fp:
            json.dump(meta, fp, indent=2)

    def load_meta(self):
        with open(self.meta) as fp:
            return json.load(fp)

    def prepare(self):
        return 0.

    def new_copy(self, name):
        "Copy the template into a work database; return (name, path)"
        os.makedirs(WORK_DIR, exist_ok=True)
        shutil.copyfile(self.template,
            os.path.join(WORK_DIR, name + '.sqlite'))
        return name, WORK_DIR

    def drop(self, name):
        path = os.path.join(WORK_DIR, name + '.sqlite')
        for suffix in ['', '-journal', '-wal', '-shm']:
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        # The file store (letters)
        shutil.rmtree(os.path.join(WORK_DIR, name), ignore_errors=True)

    def facts(self):
        import sqlite3
        return {'sqlite': sqlite3.sqlite_version}


class PostgreSQLStore:
    """Template as a database of the cluster (CREATE DATABASE x TEMPLATE t),
    and a dump file to restore it in another (throwaway) cluster"""
    backend = 'postgresql'

    def __init__(self, key):
        self.key = key
        self.template = 'bench_aid_%s' % key.replace('-', '_')
        self.dump = os.path.join(CACHE_DIR, 'bench-%s-postgresql.dump' % key)
        self.meta = os.path.join(CACHE_DIR, 'bench-%s-postgresql.json' % key)

    def connect(self, dbname='postgres'):
        import psycopg
        return psycopg.connect(dbname=dbname, autocommit=True)

    def databases(self):
        with self.connect() as conn:
            return {r[0] for r in conn.execute(
                    'SELECT datname FROM pg_database')}

    def exists(self):
        return os.path.exists(self.meta) and (
            os.path.exists(self.dump)
            or self.template in self.databases())

    def build_target(self):
        name = self.template + '_build'
        self._drop(name)
        with self.connect() as conn:
            conn.execute('CREATE DATABASE "%s" TEMPLATE template0 '
                "ENCODING 'unicode'" % name)
        return name, None

    def _drop(self, name):
        with self.connect() as conn:
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def analyze(self, name):
        with self.connect(name) as conn:
            conn.execute('VACUUM ANALYZE')

    def store(self, name, meta):
        prune_caches(self.key, 'postgresql')
        start = time.perf_counter()
        self.analyze(name)
        self._drop(self.template)
        with self.connect() as conn:
            conn.execute('ALTER DATABASE "%s" RENAME TO "%s"' % (
                    name, self.template))
        meta['build_seconds']['analyze'] = round(
            time.perf_counter() - start, 1)
        start = time.perf_counter()
        subprocess.run(['pg_dump', '-Fc', '-Z', '1', '-f', self.dump + '.tmp',
                self.template], check=True)
        os.replace(self.dump + '.tmp', self.dump)
        meta['build_seconds']['dump'] = round(time.perf_counter() - start, 1)
        meta['cache'] = self.dump
        meta['template_database'] = self.template
        with open(self.meta, 'w') as fp:
            json.dump(meta, fp, indent=2)

    def load_meta(self):
        with open(self.meta) as fp:
            return json.load(fp)

    def prepare(self):
        "Restore the template from the dump in a new cluster"
        if self.template in self.databases():
            return 0.
        log("Restoring the template %s from %s..." % (
                self.template, self.dump))
        start = time.perf_counter()
        name = self.template + '_restore'
        self._drop(name)
        with self.connect() as conn:
            conn.execute('CREATE DATABASE "%s" TEMPLATE template0 '
                "ENCODING 'unicode'" % name)
        subprocess.run(['pg_restore', '-j', str(os.cpu_count() or 1),
                '-d', name, self.dump], check=True)
        # pg_dump does not keep the statistics of the planner
        self.analyze(name)
        with self.connect() as conn:
            conn.execute('ALTER DATABASE "%s" RENAME TO "%s"' % (
                    name, self.template))
        seconds = time.perf_counter() - start
        log("  restored in %.1f s" % seconds)
        return seconds

    def new_copy(self, name):
        self._drop(name)
        with self.connect() as conn:
            conn.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (
                    name, self.template))
        return name, None

    def drop(self, name):
        self._drop(name)
        # The file store (letters)
        shutil.rmtree(os.path.join(WORK_DIR, name), ignore_errors=True)

    def facts(self):
        with self.connect() as conn:
            facts = {'postgresql': conn.execute(
                    'SHOW server_version').fetchone()[0]}
            for setting in ['shared_buffers', 'work_mem', 'fsync',
                    'synchronous_commit', 'max_connections']:
                facts[setting] = conn.execute(
                    'SHOW %s' % setting).fetchone()[0]
        return facts


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


def build(spec):
    "Create the database: modules, company, customers, invoices, payments"
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    database_name = spec['database']
    n_invoices = spec['invoices']
    date = dt.date.fromisoformat(spec['date'])
    seconds = {}

    if spec.get('fast_build'):
        # Same data, without Tryton's checks of each record created or
        # written (domains, required fields, constraints): they cost about
        # a third of the build and the 10,000 invoices build passes them.
        from trytond.model import ModelStorage
        ModelStorage._validate = classmethod(
            lambda cls, records, field_names=None: None)
    start = time.perf_counter()
    log("Activating %s (one database, both dunning modules)..."
        % ', '.join(MODULES))
    database = backend.Database(database_name)
    database.connect()
    if not database.test():
        database.init()
    pool = Pool(database_name)
    pool.init(update=MODULES, lang=['en'], activatedeps=True)
    seconds['activate'] = round(time.perf_counter() - start, 1)
    log("  %.1f s" % seconds['activate'])

    start = time.perf_counter()
    setup, _ = run_transaction(database_name, 0,
        lambda: setup_company(date))
    seconds['setup'] = round(time.perf_counter() - start, 1)
    context = {'company': setup['company'], '_skip_warnings': True}

    start = time.perf_counter()
    n_customers = max(1, n_invoices // INVOICES_PER_CUSTOMER)
    rng = random.Random(SEED)
    customers = []
    for offset in range(0, n_customers, CHUNK):
        count = min(CHUNK, n_customers - offset)
        customers += run_transaction(database_name, 0,
            lambda: create_customers(offset, count, setup, rng),
            context=context)[0]
    seconds['customers'] = round(time.perf_counter() - start, 1)
    log("%d customers in %.1f s" % (n_customers, seconds['customers']))

    plan = invoice_plan(n_invoices, customers, date, rng)
    stats = {'invoices': n_invoices, 'customers': n_customers,
        'installments': sum(1 for p in plan if p['installments']),
        'paid': sum(1 for p in plan if p['outcome'] == 'paid'),
        'partial': sum(1 for p in plan if p['outcome'] == 'partial'),
        }
    stats['open'] = n_invoices - stats['paid'] - stats['partial']
    log("Creating and posting %d invoices (%d with two installments), "
        "paying %d fully and %d partially..." % (n_invoices,
            stats['installments'], stats['paid'], stats['partial']))
    start = time.perf_counter()
    times = {'create': 0., 'post': 0., 'pay': 0.}
    # The locks asked by posting and paying, taken at the start of the
    # next transactions instead of restarting them
    locks = {}
    offset = 0
    while offset < n_invoices:
        # A small first chunk finds the locks
        chunk = plan[offset:offset + (CHUNK if offset else 10)]
        chunk_times, _ = run_transaction(database_name, 0,
            lambda: create_invoices(chunk, setup), context=context,
            extras=locks)
        for k, v in chunk_times.items():
            times[k] += v
        offset = done = offset + len(chunk)
        elapsed = time.perf_counter() - start
        log("  %d/%d invoices, %.0f s (%.0f invoices/s)" % (
                done, n_invoices, elapsed, done / elapsed))
    seconds['invoices'] = round(time.perf_counter() - start, 1)
    seconds.update({'invoices_' + k: round(v, 1) for k, v in times.items()})

    def clean():
        # The tasks queued by posting (invoice reports) and reconciling
        # (invoices set to paid, done above) are run by no worker here
        cursor = Transaction().connection.cursor()
        cursor.execute('DELETE FROM "ir_queue"')
    run_transaction(database_name, 0, clean)
    run_transaction(database_name, 0, fix_data)
    return {'build_seconds': seconds, 'data': stats, 'setup': setup,
        'data_fixes': DATA_FIXES}


def setup_company(date):
    "Company, accounting, payment terms, bank and both procedures"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Account = pool.get('account.account')
    AccountTemplate = pool.get('account.account.template')
    Bank = pool.get('bank')
    BankAccount = pool.get('bank.account')
    Company = pool.get('company.company')
    Configuration = pool.get('account.configuration')
    Country = pool.get('country.country')
    CreateChart = pool.get('account.create_chart', type='wizard')
    Currency = pool.get('currency.currency')
    CurrencyRate = pool.get('currency.currency.rate')
    FiscalYear = pool.get('account.fiscalyear')
    InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
    Journal = pool.get('account.journal')
    ModelData = pool.get('ir.model.data')
    Party = pool.get('party.party')
    PaymentTerm = pool.get('account.invoice.payment_term')
    CoreProcedure = pool.get('account.dunning.procedure')
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')
    User = pool.get('res.user')

    eur, = Currency.create([{'name': "Euro", 'code': 'EUR', 'symbol': '€',
                'rounding': Decimal('0.01'), 'digits': 2}])
    CurrencyRate.create([{'currency': eur.id, 'rate': Decimal(1),
                'date': dt.date(2000, 1, 1)}])
    france, = Country.create([{'name': "France", 'code': 'FR'}])
    company_party, = Party.create([{
                'name': "Atelier Dupont SARL",
                'addresses': [('create', [{
                                'street': "18 rue des Petites-Écuries",
                                'postal_code': '75010', 'city': "Paris",
                                'country': france.id}])],
                'contact_mechanisms': [('create', [
                            {'type': 'phone', 'value': '+33142466600'},
                            {'type': 'email',
                                'value': 'contact@atelier-dupont.fr'},
                            ])],
                }])
    company = Company(party=company_party, currency=eur)
    company.save()
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })

    with Transaction().set_context(company=company.id):
        # The minimal chart of account of Tryton, as the tests do
        template = AccountTemplate(ModelData.get_id(
                'account', 'account_template_root_en'))
        session_id, _, _ = CreateChart.create()
        create_chart = CreateChart(session_id)
        create_chart.account.account_template = template
        create_chart.account.company = company
        create_chart.transition_create_account()
        receivable, = Account.search([
                ('type.receivable', '=', True),
                ('party_required', '=', True),
                ('company', '=', company.id),
                ], limit=1)
        payable, = Account.search([
                ('type.payable', '=', True),
                ('party_required', '=', True),
                ('company', '=', company.id),
                ], limit=1)
        create_chart.properties.company = company
        create_chart.properties.account_receivable = receivable
        create_chart.properties.account_payable = payable
        create_chart.transition_create_properties()
        revenue, = Account.search([
                ('type.revenue', '=', True),
                ('company', '=', company.id),
                ('closed', '!=', True),
                ], limit=1)
        cash, = Account.search([
                ('company', '=', company.id),
                ('code', '=', '1.1.1'),
                ], limit=1)

        # Fiscal years of the invoices (the 6 months before D) and of D+30
        move_type, = SequenceType.search([('name', '=', "Account Move")])
        invoice_type, = SequenceType.search([('name', '=', "Invoice")])
        first = date - dt.timedelta(days=190)
        last = date + dt.timedelta(days=40)
        for year in range(first.year, last.year + 1):
            move_sequence, invoice_sequence = Sequence.create([{
                        'name': "Moves %s" % year,
                        'sequence_type': move_type.id,
                        'company': company.id,
                        }, {
                        'name': "Invoices %s" % year,
                        'sequence_type': invoice_type.id,
                        'company': company.id,
                        'prefix': 'FA%s-' % year,
                        'padding': 6,
                        }])
            fiscalyear = FiscalYear(name=str(year), company=company,
                start_date=dt.date(year, 1, 1),
                end_date=dt.date(year, 12, 31),
                move_sequence=move_sequence)
            fiscalyear.invoice_sequences = [InvoiceSequence(
                    company=company,
                    in_invoice_sequence=invoice_sequence,
                    in_credit_note_sequence=invoice_sequence,
                    out_invoice_sequence=invoice_sequence,
                    out_credit_note_sequence=invoice_sequence)]
            fiscalyear.save()
            FiscalYear.create_period([fiscalyear])

        term_30, installments = PaymentTerm.create([{
                    'name': "30 jours",
                    'lines': [('create', [{
                                    'type': 'remainder',
                                    'relativedeltas': [('create', [{
                                                    'days': 30}])],
                                    }])],
                    }, {
                    'name': "50 % à 30 jours, solde à 60 jours",
                    'lines': [('create', [{
                                    'type': 'percent',
                                    'ratio': Decimal('.5'),
                                    'divisor': Decimal(2),
                                    'relativedeltas': [('create', [{
                                                    'days': 30}])],
                                    }, {
                                    'type': 'remainder',
                                    'relativedeltas': [('create', [{
                                                    'days': 60}])],
                                    }])],
                    }])
        journal_revenue, = Journal.search([('type', '=', 'revenue')],
            limit=1)
        journal_cash, = Journal.search([('type', '=', 'cash')], limit=1)

        # A bank account printed on our letters
        bank_party, = Party.create([{'name': "Banque Populaire"}])
        bank, = Bank.create([{'party': bank_party.id, 'bic': 'CCBPFRPPMTG'}])
        BankAccount.create([{
                    'bank': bank.id,
                    'currency': eur.id,
                    'owners': [('add', [company_party.id])],
                    'numbers': [('create', [{
                                    'type': 'iban',
                                    'number': 'FR7610107001011234567890129',
                                    }])],
                    }])

        # Core: overdue 7/21/35/50 days, printed on letters, default of the
        # parties (set before creating them: each party gets it)
        core_procedure, = CoreProcedure.create([{
                    'name': "Standard (core)",
                    'levels': [('create', [{
                                    'sequence': i,
                                    'overdue': dt.timedelta(days=days),
                                    'print_on_letter': True,
                                    } for i, days in enumerate(
                                    [7, 21, 35, 50], 1)])],
                    }])
        configuration = Configuration(1)
        configuration.default_dunning_procedure = core_procedure
        # Ours: the default French procedure shipped as data, through the
        # default segment of the company
        configuration.default_dunning_segment = ModelData.get_id(
            MODULE, 'segment_standard')
        configuration.dunning_contact_name = "Service comptabilité clients"
        configuration.dunning_contact_email = "compta@atelier-dupont.fr"
        configuration.dunning_contact_phone = "+33 1 42 46 66 01"
        configuration.dunning_signatory = "Claire Martin"
        configuration.dunning_signatory_title = "Responsable du recouvrement"
        configuration.save()
    return {
        'company': company.id,
        'admin': admin.id,
        'country': france.id,
        'receivable': receivable.id,
        'revenue': revenue.id,
        'cash': cash.id,
        'journal_revenue': journal_revenue.id,
        'journal_cash': journal_cash.id,
        'term_30': term_30.id,
        'term_installments': installments.id,
        'core_procedure': core_procedure.id,
        }


CITIES = [('75011', "Paris"), ('69002', "Lyon"), ('13002', "Marseille"),
    ('44000', "Nantes"), ('59000', "Lille"), ('67000', "Strasbourg"),
    ('35000', "Rennes"), ('33000', "Bordeaux"), ('31000', "Toulouse")]
NAMES = ["Boulangerie", "Garage", "Librairie", "Hôtel", "Menuiserie",
    "Café", "Imprimerie", "Pharmacie", "Cabinet", "Atelier"]


def create_customers(offset, count, setup, rng):
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    values = []
    for i in range(offset, offset + count):
        postal_code, city = rng.choice(CITIES)
        values.append({
                'name': "%s %05d" % (rng.choice(NAMES), i + 1),
                'addresses': [('create', [{
                                'street': "%d rue de la République"
                                % rng.randint(1, 200),
                                'postal_code': postal_code,
                                'city': city,
                                'country': setup['country'],
                                }])],
                'contact_mechanisms': [('create', [{
                                'type': 'email',
                                'value': 'client%05d@example.com' % (i + 1),
                                }])],
                })
    parties = Party.create(values)
    return [(p.id, p.addresses[0].id) for p in parties]


def invoice_plan(n_invoices, customers, date, rng):
    """What to create: dates spread over the 6 months before date, 80 % at
    30 days and 20 % in two installments, about 30 % fully paid, 15 %
    partially paid, the rest open; sorted by date (numbering order)"""
    plan = []
    for i in range(n_invoices):
        party, address = customers[rng.randrange(len(customers))]
        invoice_date = date - dt.timedelta(days=rng.randint(1, 183))
        lines = [(rng.randint(1, 5), Decimal(rng.randint(2000, 150000))
                / 100) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
        u = rng.random()
        outcome = 'paid' if u < .30 else 'partial' if u < .45 else 'open'
        pay_date = min(invoice_date + dt.timedelta(days=rng.randint(5, 65)),
            date - dt.timedelta(days=1))
        plan.append({
                'party': party,
                'address': address,
                'date': invoice_date,
                'installments': rng.random() < .2,
                'lines': lines,
                'outcome': outcome,
                'ratio': Decimal(rng.randint(20, 80)) / 100,
                'pay_date': pay_date,
                })
    plan.sort(key=lambda p: p['date'])
    return plan


def create_invoices(chunk, setup):
    """Create, post and pay a chunk of the plan in bulk; return the seconds
    of each part"""
    from trytond.pool import Pool
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Move = pool.get('account.move')
    MoveLine = pool.get('account.move.line')
    Period = pool.get('account.period')
    times = {}

    start = time.perf_counter()
    invoices = Invoice.create([{
                'type': 'out',
                'company': setup['company'],
                'party': p['party'],
                'invoice_address': p['address'],
                'account': setup['receivable'],
                'invoice_date': p['date'],
                'payment_term': setup['term_installments'
                    if p['installments'] else 'term_30'],
                'journal': setup['journal_revenue'],
                'lines': [('create', [{
                                'account': setup['revenue'],
                                'description': "Prestations %d" % n,
                                'quantity': quantity,
                                'unit_price': price,
                                } for n, (quantity, price) in enumerate(
                                p['lines'], 1)])],
                } for p in chunk])
    times['create'] = time.perf_counter() - start

    start = time.perf_counter()
    # The chunk is sorted by date, and the chunks come in date order
    Invoice.post(invoices)
    times['post'] = time.perf_counter() - start

    start = time.perf_counter()
    payments = [(i, p) for i, p in zip(Invoice.browse(invoices), chunk)
        if p['outcome'] != 'open']
    periods = {}
    moves = []
    for invoice, p in payments:
        if p['outcome'] == 'paid':
            amount = invoice.total_amount
        else:
            amount = (invoice.total_amount * p['ratio']).quantize(
                Decimal('0.01'))
        pay_date = p['pay_date']
        if pay_date not in periods:
            periods[pay_date] = Period.find(setup['company'], date=pay_date)
        moves.append(Move(
                journal=setup['journal_cash'],
                period=periods[pay_date],
                date=pay_date,
                origin=invoice,
                company=setup['company'],
                description="Virement %s" % invoice.number,
                lines=[
                    MoveLine(account=setup['receivable'],
                        party=invoice.party, debit=0, credit=amount),
                    MoveLine(account=setup['cash'], debit=amount, credit=0),
                    ]))
    Move.save(moves)
    Move.post(moves)
    payment_lines = {}
    for (invoice, p), move in zip(payments, moves):
        line, = [l for l in move.lines if l.account.id == setup['receivable']]
        payment_lines[invoice] = line
    Invoice.add_payment_lines({i: [l] for i, l in payment_lines.items()})
    paid = [i for i, p in payments if p['outcome'] == 'paid']
    paid = Invoice.browse(paid)
    MoveLine.reconcile(*[list(i.lines_to_pay) + [payment_lines[i]]
            for i in paid])
    Invoice.process(Invoice.browse(paid))
    times['pay'] = time.perf_counter() - start
    return times


# -- The timed steps -----------------------------------------------------


def level_counts(dunnings):
    counts = {}
    for dunning in dunnings:
        name = dunning.level.rec_name if dunning.level else '?'
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def core_level_name(level):
    return '%s days' % level.overdue.days


def pick_distinct_parties(dunnings, count):
    "The first count dunnings of distinct parties (one letter each)"
    seen, result = set(), []
    for dunning in dunnings:
        if dunning.party.id in seen:
            continue
        seen.add(dunning.party.id)
        result.append(dunning)
        if len(result) >= count:
            break
    return result


class Step:
    """A step to time: prepare (untimed, own transaction rolled back) gives
    the input of run (timed, committed or rolled back), post (untimed, own
    transaction) counts what run did; all three return dicts"""

    def __init__(self, run, commit=True, prepare=None, post=None,
            after_commit=None):
        self.run = run
        self.commit = commit
        self.prepare = prepare or (lambda: {})
        self.post = post or (lambda result: {})
        # Timed too, after the commit of run (e.g. waiting for workers)
        self.after_commit = after_commit


def search_drafts(Dunning):
    """All the drafts, browsed by slices of 1,000 for both modules: one
    browse of N records costs N squared in Tryton (ModelStorage.__init__
    checks the list of ids for each instance), 3 minutes at N=58,000"""
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    cursor.execute(*Dunning.search([('state', '=', 'draft')],
            order=[('id', 'ASC')], query=True))
    return browse_slices(Dunning, [i for i, in cursor])


def browse_slices(Model, ids):
    "Browse ids by slices of 1,000 (see search_drafts)"
    from trytond.tools import grouped_slice
    records = []
    for sub_ids in grouped_slice(ids, 1000):
        records.extend(Model.browse(list(sub_ids)))
    return records


def select_drafts(Dunning, letters):
    "Ids of the first drafts of distinct customers"
    def prepare():
        drafts = Dunning.search([('state', '=', 'draft')],
            order=[('id', 'ASC')])
        return {'ids': [d.id for d in pick_distinct_parties(
                    drafts, letters)]}
    return prepare


def ours_step(pool, step, date, letters, company):
    "Return the Step of our module"
    Dunning = pool.get('account.invoice.dunning')

    def count(result):
        dunnings = browse_slices(Dunning, result['ids'])
        return {'reminders': len(dunnings),
            'invoices': len({d.invoice.id for d in dunnings}),
            'levels': level_counts(dunnings)}

    if step in {'generate', 'escalate'}:
        def run(_):
            dunnings = Dunning.generate_dunnings(
                date=date, companies=[company])
            return {'ids': [d.id for d in dunnings]}
        return Step(run, post=count)

    if step == 'process':
        # Without the letters, measured by 'letters': skip their archiving
        # (rendering + save) or, in older versions, stub their rendering
        if hasattr(Dunning, '_archive_letters'):
            Dunning._archive_letters = classmethod(lambda cls, dunnings: None)
            skipped = 'Dunning._archive_letters stubbed'
        else:
            Dunning.render_letter = lambda self: (None, None)
            skipped = 'Dunning.render_letter stubbed'

        def run(_):
            dunnings = search_drafts(Dunning)
            Dunning.process(dunnings)
            return {'ids': [d.id for d in dunnings],
                'letters_skipped': skipped}

        def post(result):
            return dict(count(result),
                letters_skipped=result['letters_skipped'])
        return Step(run, post=post)

    if step == 'letters':
        rendering = {'seconds': 0., 'count': 0, 'bytes': 0}

        def add(start, results):
            rendering['seconds'] += time.perf_counter() - start
            for oext, content in results:
                rendering['count'] += 1
                rendering['bytes'] += len(content or b'')
                rendering['format'] = oext

        Letter = pool.get('account.invoice.dunning.letter', type='report')
        if hasattr(Letter, 'render_letters'):
            # Rendered by batches
            render_letters = Letter.render_letters.__func__

            def timed_render_letters(cls, dunnings):
                start = time.perf_counter()
                letters = render_letters(cls, dunnings)
                add(start, letters.values())
                return letters
            Letter.render_letters = classmethod(timed_render_letters)
        else:
            # Older versions: one by one
            render = Dunning.render_letter

            def timed_render(self):
                start = time.perf_counter()
                result = render(self)
                add(start, [result])
                return result
            Dunning.render_letter = timed_render

        def run(prepared):
            rendering.update(seconds=0., count=0, bytes=0)
            Dunning.process(Dunning.browse(prepared['ids']))
            return dict(prepared, letters=rendering['count'],
                render_seconds=round(rendering['seconds'], 3),
                letter_bytes=rendering['bytes'],
                letter_format=rendering.get('format'))

        def post(result):
            info = count(result)
            info.update((k, result[k]) for k in ['letters', 'render_seconds',
                    'letter_bytes', 'letter_format'])
            return info
        # Rolled back: the letters are measured, the drafts stay for (b)
        return Step(run, commit=False,
            prepare=select_drafts(Dunning, letters), post=post)
    if step == 'penalties':
        return penalties_step(pool, date, company)

    if step.startswith('workers'):
        return workers_step(pool, int(step[len('workers'):]), letters)

    if step == 'classify':
        from trytond.transaction import Transaction
        Party = pool.get('party.party')
        PartySegment = pool.get('party.party.dunning_segment')

        def run(_):
            with Transaction().set_context(company=company):
                changes = Party.classify_dunning_segments(date=date)
            return {'changes': changes}

        def post(result):
            segments = {}
            for value in PartySegment.search([('company', '=', company)]):
                if value.dunning_segment:
                    name = value.dunning_segment.rec_name
                    segments[name] = segments.get(name, 0) + 1
            return {'changes': result['changes'],
                'parties': sum(segments.values()),
                'segments': dict(sorted(segments.items()))}
        return Step(run, post=post)
    raise ValueError(step)


def penalties_step(pool, date, company):
    """The penalties (interest by half-year, indemnity) of every overdue
    invoice on date, as the formal notice claims them: the computation that
    the reminders, letters and penalty invoices use, without writing"""
    from trytond.modules.account_invoice_dunning.penalty import (
        compute_penalties)
    Dunning = pool.get('account.invoice.dunning')
    Invoice = pool.get('account.invoice')
    ModelData = pool.get('ir.model.data')
    Level = pool.get('account.invoice.dunning.level')

    def prepare():
        figures = Dunning.invoice_figures(date, [company])
        return {'overdue': {i: f.overdue for i, f in figures.items()
                if f.overdue > 0}}

    def run(prepared):
        level = Level(ModelData.get_id(MODULE, 'level_formal_notice'))
        overdue = prepared['overdue']
        # Browsed by slices, as the module does
        invoices = browse_slices(Invoice, sorted(overdue))
        penalties = compute_penalties({i.id: (i, level, date, overdue[i.id])
                for i in invoices})
        return {'invoices': len(penalties),
            'interest': str(sum(p.interest for p in penalties.values())),
            'indemnity': str(sum(p.indemnity for p in penalties.values())),
            'with_interest': sum(1 for p in penalties.values()
                if p.interest)}
    return Step(run, commit=False, prepare=prepare,
        post=lambda result: result)


def workers_step(pool, workers, letters):
    """Process M drafts with the letters queued, and time until the W
    trytond-worker processes (started by the orchestrator before the clock,
    see start_workers) have archived them all"""
    import trytond.config as config
    from trytond.transaction import Transaction
    from sql import Null
    from sql.aggregate import Count
    Dunning = pool.get('account.invoice.dunning')
    Queue = pool.get('ir.queue')

    def run(prepared):
        # Until the end of wait: Tryton runs the tasks of a transaction at
        # its commit when no worker is configured
        config.set('queue', 'worker', 'True')
        Dunning.process(Dunning.browse(prepared['ids']))
        # The template was analyzed with an empty queue: with these
        # statistics PostgreSQL runs the subquery of Tryton's Queue.pull
        # (LIMIT 1 FOR UPDATE SKIP LOCKED) once per row, and a worker
        # dequeues several tasks but runs one (see bench/README.rst)
        Transaction().connection.cursor().execute('ANALYZE "ir_queue"')
        return prepared

    def wait(result):
        "Committed: the workers take the tasks; wait for the last one"
        queue = Queue.__table__()
        deadline = time.monotonic() + int(os.environ.get('BENCH_WORKERS_TIMEOUT', 600))
        try:
            while time.monotonic() < deadline:
                with Transaction().new_transaction() as transaction:
                    cursor = transaction.connection.cursor()
                    cursor.execute(*queue.select(Count(queue.id),
                            where=(queue.finished_at == Null)))
                    pending, = cursor.fetchone()
                if not pending:
                    break
                time.sleep(.05)
            return {'pending': pending}
        finally:
            config.set('queue', 'worker', 'False')

    def post(result):
        dunnings = Dunning.browse(result['ids'])
        return {'reminders': len(dunnings),
            'letters': sum(1 for d in dunnings if d.letter_format),
            'workers': workers, 'pending': result.get('pending')}
    return Step(run, prepare=select_drafts(Dunning, letters), post=post,
        after_commit=wait)


def core_step(pool, step, date, letters, company):
    "Return the Step of account_dunning"
    Dunning = pool.get('account.dunning')

    def count_drafts(result):
        drafts = Dunning.search([('state', '=', 'draft')])
        return {'reminders': len(drafts),
            'invoices': len({d.line.move.origin for d in drafts}),
            'levels': dict(sorted(_core_levels(drafts).items()))}

    if step in {'generate', 'escalate'}:
        def run(_):
            Dunning.generate_dunnings(date=date)
            return {}
        return Step(run, post=count_drafts)

    if step == 'process':
        def run(_):
            dunnings = search_drafts(Dunning)
            Dunning.process(dunnings)
            return {'reminders': len(dunnings)}
        return Step(run, post=lambda result: result)

    if step == 'letters':
        ModelData = pool.get('ir.model.data')
        Letter = pool.get('account.dunning.letter', type='report')

        def run(prepared):
            action_id = ModelData.get_id('account_dunning_letter',
                'report_letter')
            dunnings = Dunning.browse(prepared['ids'])
            Dunning.process(dunnings)
            # As the process wizard prints them: one report of the
            # processed dunnings of the levels printed on letter
            ids = [d.id for d in Dunning.browse(dunnings)
                if d.state == 'waiting' and d.level.print_on_letter]
            start = time.perf_counter()
            oext, content, _, _ = Letter.execute(ids, {
                    'model': 'account.dunning',
                    'id': ids[0],
                    'ids': ids,
                    'action_id': action_id,
                    })
            return dict(prepared, printed=ids, content=content,
                render_seconds=round(time.perf_counter() - start, 3),
                letter_format=oext)

        def post(result):
            return {'reminders': len(result['ids']),
                'dunnings_on_letter': len(result['printed']),
                'letters': count_core_letters(
                    Dunning.browse(result['printed']), result['content']),
                'render_seconds': result['render_seconds'],
                'letter_bytes': len(result['content']),
                'letter_format': result['letter_format']}
        return Step(run, commit=False,
            prepare=select_drafts(Dunning, letters), post=post)
    raise ValueError(step)


def count_core_letters(dunnings, content):
    """The letters in the document of core: one per party, but none for
    the parties whose pending payments (unreconciled, on any invoice) cover
    the amount dunned (Letter.get_context)"""
    import io
    import zipfile
    from xml.sax.saxutils import escape
    with zipfile.ZipFile(io.BytesIO(content)) as odt:
        text = odt.read('content.xml').decode('utf-8')
    return sum(1 for p in {d.party for d in dunnings}
        if escape(p.rec_name) in text)


def _core_levels(dunnings):
    counts = {}
    for dunning in dunnings:
        name = core_level_name(dunning.level)
        counts[name] = counts.get(name, 0) + 1
    return counts


def backend_name():
    from trytond import backend
    return backend.name


def sqlite_exclude_workaround(pool):
    """Do not check in Python the two EXCLUDE constraints of the reminders
    that SQLite can not run: the module enforces them on SQLite with partial
    unique indexes (Dunning.__register__), which stay.

    Tryton checks such constraints after each create/write with one query
    whose condition nests an OR per record created: past a few hundred
    reminders in one run, it fails (RecursionError in python-sql, or
    'parser stack overflow' in SQLite)."""
    Dunning = pool.get('account.invoice.dunning')
    names = {'invoice_level_exclude', 'invoice_draft_exclude'}
    removed = sorted(c[0] for c in Dunning._sql_constraints if c[0] in names)
    if not removed:
        # Newer versions of the module do it themselves
        return None
    Dunning._sql_constraints = [c for c in Dunning._sql_constraints
        if c[0] not in names]
    return ("SQLite: EXCLUDE constraints %s checked by the partial unique "
        "indexes only" % ', '.join(removed))


class QueryCount:
    """Count the SQL queries of a function run in the transaction: the
    proof that a step is set-based (compare N=10,000 with N=100,000)"""

    def __init__(self):
        self.count = 0

    def run(self, func, *args):
        from trytond.transaction import Transaction
        connection = Transaction().connection
        make_cursor = connection.cursor
        counter = self

        class Cursor:
            def __init__(self, cursor):
                self._cursor = cursor

            def execute(self, *args, **kwargs):
                counter.count += 1
                return self._cursor.execute(*args, **kwargs)

            def __enter__(self):
                self._cursor.__enter__()
                return self

            def __exit__(self, *exc):
                return self._cursor.__exit__(*exc)

            def __iter__(self):
                return iter(self._cursor)

            def __getattr__(self, name):
                return getattr(self._cursor, name)

        connection.cursor = lambda *a, **k: Cursor(make_cursor(*a, **k))
        try:
            return func(*args)
        finally:
            connection.cursor = make_cursor


def run_step(spec):
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
    workaround = None
    if (spec['module'] == 'ours' and spec.get('sqlite_exclude_workaround')
            and backend_name() == 'sqlite'):
        workaround = sqlite_exclude_workaround(pool)
    make = ours_step if spec['module'] == 'ours' else core_step
    step = make(pool, spec['step'], date, spec['letters'], spec['company'])
    prepared, _ = run_transaction(database, user, step.prepare,
        context=context, commit=False)
    info, result = {}, None

    profiler = None
    if spec.get('profile'):
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    rss_before = max_rss_mb()
    queries = QueryCount()
    start = time.perf_counter()
    attempts = None
    try:
        result, attempts = run_transaction(database, user,
            lambda: queries.run(step.run, prepared), context=context,
            commit=step.commit)
        if step.after_commit:
            result.update(run_transaction(database, user,
                    lambda: step.after_commit(result), context=context,
                    commit=False)[0])
    except Exception as exception:
        import traceback
        traceback.print_exc(limit=-12)
        info['error'] = '%s: %s' % (
            exception.__class__.__name__, str(exception)[:300])
    seconds = time.perf_counter() - start
    if profiler:
        profiler.disable()
        profiler.dump_stats(spec['profile'])
    peak = max_rss_mb()
    if result is not None:
        # Counted after the clock, in a transaction of its own
        info.update(run_transaction(database, user,
                lambda: step.post(result), context=context,
                commit=False)[0])
    if workaround:
        info['workaround'] = workaround
    info.update(seconds=seconds, attempts=attempts, queries=queries.count,
        rss_before_mb=round(rss_before, 1),
        peak_rss_mb=round(peak, 1))
    return info


def worker(spec):
    if spec.get('module_path'):
        use_snapshot(spec['module_path'])
    if spec['action'] == 'build':
        result = build(spec)
    elif spec['action'] == 'upgrade':
        result = upgrade(spec)
    else:
        result = run_step(spec)
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)


# -- Orchestration ---------------------------------------------------------


def machine_facts(store):
    from importlib.metadata import version
    facts = {
        'nproc': os.cpu_count(),
        'cpu': platform.processor() or platform.machine(),
        'python': platform.python_version(),
        'platform': platform.platform(),
        'trytond': version('trytond'),
        'module_hash': getattr(store, 'module_hash', None),
        'trytond_account_invoice': version('trytond_account_invoice'),
        'trytond_account_dunning': version('trytond_account_dunning'),
        'backend': store.backend,
        'run_at': dt.datetime.now().isoformat(timespec='seconds'),
        'load_average_at_end': [round(x, 2) for x in os.getloadavg()],
        }
    try:
        with open('/proc/cpuinfo') as fp:
            for line in fp:
                if line.startswith('model name'):
                    facts['cpu'] = line.split(':', 1)[1].strip()
                    break
        with open('/proc/meminfo') as fp:
            facts['memory_gb'] = round(int(fp.readline().split()[1])
                / 1024 / 1024, 1)
    except OSError:
        pass
    facts.update(store.facts())
    return facts


def ensure_template(store, args):
    if store.exists() and not args.rebuild:
        meta = store.load_meta()
        log("Using the cached template %s (built in %.0f s)" % (
                meta['cache'], meta['build_seconds']['total']))
        meta['restore_seconds'] = round(store.prepare(), 1)
        if (meta.get('module_hash') != args.module_hash
                or meta.get('data_fixes', 0) < DATA_FIXES):
            meta = upgrade_template(store, args, meta)
        return meta
    log("Building the template database for N=%d (once)..." % args.invoices)
    start = time.perf_counter()
    name, path = store.build_target()
    meta = run_worker({'action': 'build', 'database': name,
            'invoices': args.invoices, 'date': args.date.isoformat(),
            'module_path': args.module_path,
            'fast_build': args.fast_build},
        store.backend, path, optimize=True)
    meta['build_seconds']['total_before_cache'] = round(
        time.perf_counter() - start, 1)
    meta['key'] = store.key
    meta['module_hash'] = args.module_hash
    meta['fast_build'] = args.fast_build
    meta['date'] = args.date.isoformat()
    store.store(name, meta)
    meta['build_seconds']['total'] = round(time.perf_counter() - start, 1)
    with open(store.meta, 'w') as fp:
        json.dump(meta, fp, indent=2)
    log("Template built and cached in %.0f s: %s" % (
            meta['build_seconds']['total'], meta['cache']))
    meta['restore_seconds'] = 0.
    return meta


def upgrade_template(store, args, meta):
    """Update the module in the template, as trytond-admin -u does after a
    new version is installed: the data stays, the schema and the XML
    records follow the module"""
    log("Upgrading the template from module %s to %s..." % (
            meta.get('module_hash'), args.module_hash))
    start = time.perf_counter()
    name, path = store.new_copy('bench_upgrade_%d' % os.getpid())
    run_worker({'action': 'upgrade', 'database': name,
            'module_path': args.module_path}, store.backend, path,
        optimize=True)
    meta['module_hash'] = args.module_hash
    meta['data_fixes'] = DATA_FIXES
    seconds = meta['build_seconds']
    seconds['upgrades'] = seconds.get('upgrades', 0) + 1
    store.store(name, meta)
    log("  upgraded in %.0f s" % (time.perf_counter() - start))
    return store.load_meta()


def upgrade(spec):
    from trytond.pool import Pool
    pool = Pool(spec['database'])
    pool.init(update=[MODULE], lang=['en'])
    run_transaction(spec['database'], 0, fix_data)
    return {}


# Bump it when fix_data changes: the templates are fixed at their upgrade
DATA_FIXES = 2
# The module ships no rate for the second half of 2026 (not confirmed in
# our sources): the benchmark assumes the rates of the first half continue
BENCH_RATE_DATES = [dt.date(2026, 7, 1), dt.date(2027, 1, 1)]


def fix_data():
    """Bring the data of a template to what the current build creates

    1. The customers are companies: professionals, who owe the interest
       and the 40 EUR indemnity from their due dates.
    2. The rate tables have a value for each half-year of the benchmark
       (BENCH_RATE_DATES: an assumption of the benchmark, not data of the
       module)."""
    from sql import Null
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Party = pool.get('party.party')
    RateTable = pool.get('account.invoice.dunning.rate')
    RateValue = pool.get('account.invoice.dunning.rate.value')
    party = Party.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*party.update([party.customer_type], ['professional'],
            where=party.customer_type == Null))
    values = []
    for table in RateTable.search([]):
        dates = {v.date for v in table.values}
        for date in BENCH_RATE_DATES:
            if date not in dates and table.values:
                last = max((v for v in table.values if v.date < date),
                    key=lambda v: v.date)
                values.append({'rate_table': table.id, 'date': date,
                        'rate': last.rate})
    RateValue.create(values)


def start_workers(database, path, backend, count):
    """Start trytond-worker with count processes on database and give them
    WORKER_WARMUP seconds to load the pool (not timed)"""
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}
    env['TRYTOND_DATABASE__URI'] = 'postgresql://'
    env['TRYTOND_DATABASE__PATH'] = path or WORK_DIR
    env['TRYTOND_QUEUE__WORKER'] = 'True'
    command = [os.path.join(os.path.dirname(sys.executable),
            'trytond-worker'), '-v', '-d', database, '-n', str(count), '-t', '1']
    # A session of its own: stopped with its pool of processes
    worker = subprocess.Popen(command, env=env, start_new_session=True)
    atexit.register(lambda: worker.poll() is None
        and os.killpg(worker.pid, signal.SIGKILL))
    time.sleep(WORKER_WARMUP)
    if worker.poll() is not None:
        raise SystemExit("trytond-worker stopped (exit %s)" % worker.returncode)
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


def run_benchmark(store, args, meta):
    modules = [m for m in args.modules
        if not (args.skip_core and m == 'core')]
    steps = [s for s in args.steps]
    runs = {m: {s: [] for s in steps} for m in modules}
    d30 = args.date + dt.timedelta(days=30)
    # (a) and (d) commit; (c) rolls back so that (b) processes all drafts
    order = ['generate']
    if 'letters' in steps:
        order.append('letters')
    if {'process', 'escalate'} & set(steps):
        order.append('process')
    if 'escalate' in steps:
        order.append('escalate')
    # (e) rolls back, (f) commits: on the data of D+30, then (g) processes
    # drafts of D+30
    order += [s for s in ['penalties', 'classify'] if s in steps]
    order += [s for s in steps if s.startswith('workers')]
    profiled = set()
    for repeat in range(args.repeat):
        for module in modules:
            name = 'bench_work_%s_%d' % (module, os.getpid())
            name, path = store.new_copy(name)
            try:
                for step in order:
                    if module == 'core' and (step in OURS_ONLY
                            or step.startswith('workers')):
                        continue
                    spec = {'action': 'step', 'database': name,
                        'module': module, 'step': step,
                        'date': (args.date if step in {
                                'generate', 'process', 'letters'}
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
                    if 'error' in result:
                        log("  run %d %-4s %-9s FAILED after %.2f s: %s" % (
                                repeat + 1, module, step, result['seconds'],
                                result['error']))
                    else:
                        log("  run %d %-4s %-9s %8.2f s  %6s reminders  "
                            "peak %.0f MB" % (repeat + 1, module, step,
                                result['seconds'], result.get('reminders'),
                                result['peak_rss_mb']))
                    if step in steps:
                        runs[module][step].append(result)
                    if 'error' in result and step in {'generate', 'process'}:
                        # The next steps need the reminders of this one
                        break
            finally:
                store.drop(name)
    return runs


def print_profile(path):
    import pstats
    stats = pstats.Stats(path)
    stats.sort_stats('cumulative').print_stats(40)
    stats.sort_stats('tottime').print_stats(25)


def summarize(runs, steps):
    summary = {}
    for step in steps:
        row = {}
        for module, by_step in runs.items():
            results = by_step.get(step) or []
            if not results:
                continue
            failed = [r for r in results if 'error' in r]
            if failed:
                row[module] = {'error': failed[-1]['error'],
                    'failed_after_seconds': round(failed[-1]['seconds'], 3),
                    'failed_runs': len(failed), 'runs': len(results)}
                continue
            times = [r['seconds'] for r in results]
            median = statistics.median(times)
            last = results[-1]
            entry = {
                'seconds': round(median, 3),
                'runs': [round(t, 3) for t in times],
                'reminders': last.get('reminders'),
                'invoices': last.get('invoices'),
                'levels': last.get('levels'),
                'peak_rss_mb': max(r['peak_rss_mb'] for r in results),
                'rss_growth_mb': round(max(r['peak_rss_mb']
                        - r['rss_before_mb'] for r in results), 1),
                'attempts': last.get('attempts'),
                'queries': last.get('queries'),
                }
            for key in ['changes', 'parties', 'segments', 'interest',
                    'indemnity', 'with_interest']:
                if key in last:
                    entry[key] = last[key]
            if step.startswith('workers'):
                entry['letters'] = last.get('letters')
                entry['workers'] = last.get('workers')
                entry['pending'] = last.get('pending')
                entry['letters_per_second'] = round(
                    last.get('letters', 0) / median, 1) if median else None
            if step == 'letters':
                entry['letters'] = last.get('letters')
                entry['dunnings_on_letter'] = last.get('dunnings_on_letter')
                entry['render_seconds'] = statistics.median(
                    r['render_seconds'] for r in results)
                entry['letter_format'] = last.get('letter_format')
                entry['letter_bytes'] = last.get('letter_bytes')
                entry['letters_per_second'] = round(
                    last.get('letters', 0) / median, 1) if median else None
            if 'profile' in last:
                entry['profile'] = last['profile']
            if 'workaround' in last:
                entry['workaround'] = last['workaround']
            if 'letters_skipped' in last:
                entry['letters_skipped'] = last['letters_skipped']
            row[module] = entry
        if (row.get('ours', {}).get('seconds')
                and row.get('core', {}).get('seconds')):
            row['ratio_core_ours'] = round(
                row['core']['seconds'] / row['ours']['seconds'], 2)
        summary[step] = row
    return summary


def step_title(step):
    if step.startswith('workers'):
        return "(g) letters by %s worker(s)" % step[len('workers'):]
    return STEP_TITLES[step]


def print_table(summary, args, meta):
    def fmt(value, spec='%.2f'):
        return spec % value if value is not None else '-'
    print()
    print("N=%d invoices, %d customers, %s, D=%s, median of %d run(s)%s"
        % (args.invoices, meta['data']['customers'], args.backend,
            args.date, args.repeat, ', python -O' if args.optimize else ''))
    header = ("%-28s | %9s | %9s | %9s | %14s | %14s | %9s | %9s | %7s"
        % ("step", "ours (s)", "core (s)", "core/ours", "reminders ours",
            "reminders core", "peak ours", "peak core", "queries"))
    print(header)
    print('-' * len(header))
    failures = []
    for step, row in summary.items():
        ours, core = row.get('ours', {}), row.get('core', {})
        for module, entry in [('ours', ours), ('core', core)]:
            if 'error' in entry:
                failures.append("%s %s: FAILED after %.1f s: %s" % (
                        step, module, entry['failed_after_seconds'],
                        entry['error']))

        def seconds(entry):
            return 'FAILED' if 'error' in entry else fmt(
                entry.get('seconds'))
        print("%-28s | %9s | %9s | %9s | %14s | %14s | %9s | %9s | %7s"
            % (step_title(step),
                seconds(ours), 'n/a' if step in OURS_ONLY else seconds(core),
                fmt(row.get('ratio_core_ours')),
                ours.get('reminders') or '-', core.get('reminders') or '-',
                fmt(ours.get('peak_rss_mb'), '%.0f MB'),
                fmt(core.get('peak_rss_mb'), '%.0f MB'),
                ours.get('queries', '-')))
    for failure in failures:
        print(failure)
    workarounds = {e['workaround'] for row in summary.values()
        for e in row.values() if isinstance(e, dict) and 'workaround' in e}
    for workaround in workarounds:
        print("WORKAROUND: %s" % workaround)
    for step, row in summary.items():
        entry = row.get('ours')
        if step.startswith('workers') and entry and 'error' not in entry:
            print("letters/s with %d trytond-worker process(es): %6.1f  "
                "(%d letters for %d reminders, processing included)" % (
                    entry['workers'], entry['letters_per_second'],
                    entry['letters'], entry['reminders']))
    if 'letters' in summary:
        row = summary['letters']
        for module in ['ours', 'core']:
            if module in row and 'error' not in row[module]:
                entry = row[module]
                print("letters/s %-4s: %6.1f  (%d letters for %d reminders, "
                    "%s; rendering alone %.2f s)" % (module,
                        entry['letters_per_second'], entry['letters'],
                        entry['reminders'], entry['letter_format'],
                        entry['render_seconds']))
    entry = summary.get('penalties', {}).get('ours')
    if entry and 'error' not in entry:
        print("penalties: %d overdue invoices, %d with interest: interest "
            "%s, indemnities %s" % (entry['invoices'], entry['with_interest'],
                entry['interest'], entry['indemnity']))
    entry = summary.get('classify', {}).get('ours')
    if entry and 'error' not in entry:
        print("segments: %d changes, %d parties classified: %s" % (
                entry['changes'], entry['parties'], ', '.join(
                    '%s %d' % kv for kv in entry['segments'].items())))
    for step in ['generate', 'escalate']:
        if step not in summary:
            continue
        for module in ['ours', 'core']:
            entry = summary[step].get(module)
            if entry and entry.get('levels'):
                print("%s %-4s levels: %s" % (step, module, ', '.join(
                            '%s %d' % kv for kv in entry['levels'].items())))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--invoices', '-n', type=int, default=10000,
        help="number of invoices (default: %(default)s)")
    parser.add_argument('--backend', choices=['sqlite', 'postgresql'],
        default='sqlite')
    parser.add_argument('--repeat', '-r', type=int, default=1,
        help="repeat the timed steps; report the median")
    parser.add_argument('--json', help="result file (default: "
        "bench/results/bench-BACKEND-N.json)")
    parser.add_argument('--letters', '-m', type=int, default=300,
        help="letters to render in step (c) (default: %(default)s)")
    parser.add_argument('--skip-core', action='store_true',
        help="time our module only (core is slow at 100,000 invoices)")
    parser.add_argument('--sqlite-exclude-workaround', action='store_true',
        help="SQLite: leave the two EXCLUDE constraints of our reminders to "
        "their partial unique indexes (Tryton's check in Python fails past "
        "a few hundred reminders in one run)")
    parser.add_argument('--modules', default='ours,core',
        help="modules to time among ours,core (default: both)")
    parser.add_argument('--steps', default=','.join(STEPS),
        help="comma separated steps among %s" % ','.join(STEPS))
    parser.add_argument('--date', type=dt.date.fromisoformat,
        default=DEFAULT_DATE, help="date D (default: %(default)s)")
    parser.add_argument('--rebuild', action='store_true',
        help="rebuild the cached template")
    parser.add_argument('--optimize', '-O', action='store_true',
        help="run the timed steps with python -O (without the asserts of "
        "Tryton, one of which is quadratic in the size of the batches)")
    parser.add_argument('--fast-build', action='store_true',
        help="build the template without Tryton's validation of each "
        "record (same data, faster: for 100,000 invoices)")
    parser.add_argument('--build-only', action='store_true',
        help="build (or restore) the template and stop")
    parser.add_argument('--module-snapshot', metavar='HASH',
        help="run the copy of the module taken by an earlier run "
        "(bench/.cache/module-HASH) instead of a new copy of the work tree")
    parser.add_argument('--profile', default='',
        help="cProfile these steps, e.g. ours:generate,core:process "
        "(stats in bench/results/)")
    parser.add_argument('--workers', default='1,2',
        type=lambda v: [int(w) for w in v.split(',') if w],
        help="trytond-worker processes of step (g), each count a run "
        "(default: %(default)s; PostgreSQL only)")
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    args.steps = [s for s in args.steps.split(',') if s]
    args.modules = [m for m in args.modules.split(',') if m]
    if set(args.modules) - {'ours', 'core'}:
        parser.error("--modules: ours, core")
    args.profile = {p for p in args.profile.split(',') if p}
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        parser.error("unknown steps: %s" % ', '.join(sorted(unknown)))
    if 'workers' in args.steps:
        index = args.steps.index('workers')
        if args.backend == 'postgresql':
            args.steps[index:index + 1] = ['workers%d' % w
                for w in args.workers]
        else:
            # Tryton's queue shares the tasks through PostgreSQL
            log("Step workers skipped: trytond-worker needs PostgreSQL")
            del args.steps[index]

    os.makedirs(CACHE_DIR, exist_ok=True)
    if args.module_snapshot:
        digest = args.module_snapshot
        module_path = os.path.join(CACHE_DIR, 'module-%s' % digest)
        if not os.path.isdir(module_path) or module_hash(
                module_path) != digest:
            parser.error("no snapshot %s" % module_path)
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

    result = {
        'machine': dict(machine_facts(store),
            load_average_at_start=load_at_start),
        'params': {
            'invoices': args.invoices,
            'customers': meta['data']['customers'],
            'backend': args.backend,
            'date': args.date.isoformat(),
            'escalation_date': (
                args.date + dt.timedelta(days=30)).isoformat(),
            'letters': args.letters,
            'repeat': args.repeat,
            'skip_core': args.skip_core,
            'python_optimize': args.optimize,
            'sqlite_exclude_workaround': args.sqlite_exclude_workaround,
            },
        'data': meta['data'],
        'build': {
            'seconds': meta['build_seconds'],
            'cache': meta['cache'],
            'key': store.key,
            'restore_seconds': meta.get('restore_seconds'),
            },
        'steps': summary,
        }
    path = args.json or os.path.join(RESULTS_DIR,
        'bench-%s-%d.json' % (args.backend, args.invoices))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as fp:
        json.dump(result, fp, indent=2, default=str)
    print("\nResults written to %s" % path)


if __name__ == '__main__':
    sys.exit(main())
