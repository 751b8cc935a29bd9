# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The template database of a run: built once (by a worker, see build.py),
kept in bench/.cache/ for SQLite or in the cluster and a dump for
PostgreSQL, copied for each run and upgraded when the module changed."""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import time

from base import BUILD_VERSION, CACHE_DIR, SEED, WORK_DIR, log, run_worker
from build import DATA_FIXES
from replicate import COPIES_VERSION


def cache_key(args):
    """The key of the data: the module is not in it, a template built by
    another version of the module is upgraded (see ensure_template)"""
    from importlib.metadata import version
    copies = getattr(args, 'copies', 1)
    built = (BUILD_VERSION, SEED, version('trytond'))
    if copies > 1:
        built += (COPIES_VERSION,)
    return 'n%d-%s%s-%s' % (args.invoices,
        'x%d-' % copies if copies > 1 else '', args.date.strftime('%Y%m%d'),
        hashlib.sha256(repr(built).encode()).hexdigest()[:10])


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

    def copy_target(self, seed):
        """(database name, path) where the worker adds the copies: a copy
        of the template of seed (a store)"""
        name, path = self.build_target()
        shutil.copyfile(seed.template, os.path.join(path, name + '.sqlite'))
        return name, path

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

    def copy_target(self, seed):
        """(database name, path) where the worker adds the copies: a copy
        of the template of seed (a store)"""
        name = self.template + '_build'
        self._drop(name)
        with self.connect() as conn:
            conn.execute('CREATE DATABASE "%s" TEMPLATE "%s"' % (
                    name, seed.template))
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
                    'synchronous_commit', 'max_connections', 'jit']:
                facts[setting] = conn.execute(
                    'SHOW %s' % setting).fetchone()[0]
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
    if getattr(args, 'copies', 1) > 1:
        return build_copies(store, args)
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


def build_copies(store, args):
    """Build the template of store as args.copies copies of the template of
    N / copies (built through Tryton, or taken from the cache), the copies
    added in SQL (replicate.py)"""
    seed_args = argparse.Namespace(**dict(vars(args),
            invoices=args.invoices // args.copies, copies=1, rebuild=False))
    seed = type(store)(cache_key(seed_args))
    seed_meta = ensure_template(seed, seed_args)
    log("Building the template for N=%d as %d copies of %s..." % (
            args.invoices, args.copies, seed.template))
    start = time.perf_counter()
    name, path = store.copy_target(seed)
    result = run_worker({'action': 'replicate', 'database': name,
            'copies': args.copies, 'module_path': args.module_path},
        store.backend, path, optimize=True)
    meta = {k: v for k, v in seed_meta.items()
        if k not in {'cache', 'template_database', 'restore_seconds'}}
    meta['data'] = {k: v * args.copies for k, v in seed_meta['data'].items()}
    meta['copies'] = {'copies': args.copies, 'of': seed.key,
        'rows_added': result['added'], 'seconds': result['seconds']}
    meta['build_seconds'] = {'seed': seed_meta['build_seconds']['total'],
        'copies': round(time.perf_counter() - start, 1)}
    meta['key'] = store.key
    store.store(name, meta)
    meta['build_seconds']['total'] = round(
        time.perf_counter() - start, 1)
    with open(store.meta, 'w') as fp:
        json.dump(meta, fp, indent=2)
    log("Template of %d copies built and cached in %.0f s (the template of "
        "N/%d built in %.0f s): %s" % (args.copies,
            meta['build_seconds']['total'], args.copies,
            meta['build_seconds']['seed'], meta['cache']))
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
