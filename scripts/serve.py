#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Serve a demo database with Tryton's web client (sao).

Installs the web client once from the npm registry (``tryton-sao``, pinned,
with its dependencies) in .cache/sao-VERSION of the repository, writes a
trytond configuration that serves it as ``[web] root`` and runs ``trytond``
on the database until Ctrl-C.

Usage: python scripts/serve.py [--output DIR] [--listen HOST:PORT]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

SAO_VERSION = '8.0.11'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, '.cache')
DATABASE = 'demo'
LOGIN = 'admin'
PASSWORD = 'admin'


def web_client_dir(version=SAO_VERSION):
    return os.path.join(CACHE, 'sao-%s' % version)


# Seconds npm is given for each step of the install of the web client
NPM_TIMEOUT = 600


def install_web_client(version=SAO_VERSION, quiet=False):
    """Install tryton-sao from the npm registry in .cache/sao-VERSION, once,
    and return that folder: the trytond [web] root"""
    target = web_client_dir(version)
    stamp = os.path.join(target, '.installed')
    if os.path.exists(stamp):
        add_custom_files(target)
        return target
    npm = shutil.which('npm')
    if not npm:
        raise SystemExit(
            "npm is needed to install Tryton's web client once "
            "(Debian: apt-get install npm).")
    if not quiet:
        print("Installing Tryton's web client tryton-sao %s from the npm "
            "registry in %s (once, a minute)..." % (version, target),
            flush=True)
    os.makedirs(CACHE, exist_ok=True)
    output = subprocess.DEVNULL if quiet else None
    with tempfile.TemporaryDirectory(dir=CACHE, prefix='.sao-') as tmp:
        subprocess.run([npm, 'pack', '--silent', 'tryton-sao@%s' % version],
            cwd=tmp, check=True, stdout=subprocess.DEVNULL,
            timeout=NPM_TIMEOUT)
        tarball, = [f for f in os.listdir(tmp) if f.endswith('.tgz')]
        with tarfile.open(os.path.join(tmp, tarball)) as archive:
            archive.extractall(tmp, filter='data')
        package = os.path.join(tmp, 'package')
        # --legacy-peer-deps: a peer dependency of a development dependency
        # does not resolve otherwise; no install scripts are needed
        subprocess.run([npm, 'install', '--omit=dev', '--ignore-scripts',
                '--legacy-peer-deps', '--no-audit', '--no-fund',
                '--loglevel=error'],
            cwd=package, check=True, stdout=output, timeout=NPM_TIMEOUT)
        if not os.path.exists(os.path.join(package, 'dist',
                    'tryton-sao.js')):
            raise SystemExit("tryton-sao %s has no dist/tryton-sao.js"
                % version)
        open(os.path.join(package, '.installed'), 'w').close()
        shutil.rmtree(target, ignore_errors=True)
        os.rename(package, target)
    add_custom_files(target)
    return target


# The customization of the web client, its custom.js (a fix of sao 8.0)
CUSTOM_JS = os.path.join(ROOT, 'scripts', 'sao_custom.js')


def add_custom_files(target):
    """The customization files the web client loads: custom.js from
    CUSTOM_JS (written again when it changed), custom.css empty"""
    with open(CUSTOM_JS) as fp:
        custom_js = fp.read()
    path = os.path.join(target, 'custom.js')
    installed = None
    if os.path.exists(path):
        with open(path) as fp:
            installed = fp.read()
    if installed != custom_js:
        with open(path, 'w') as fp:
            fp.write(custom_js)
    path = os.path.join(target, 'custom.css')
    if not os.path.exists(path):
        open(path, 'w').close()


def write_config(path, data_dir, listen='localhost:8000', web_root=None):
    "Write a trytond configuration of the SQLite databases in data_dir"
    with open(path, 'w') as fp:
        fp.write('[database]\nuri = sqlite://\npath = %s\n' %
            os.path.abspath(data_dir))
        fp.write('[web]\nlisten = %s\n' % listen)
        if web_root:
            fp.write('root = %s\n' % web_root)
    return path


def clean_environment():
    "The environment without TRYTOND_* overrides of the configuration"
    return {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}


def start_trytond(config_file, database=DATABASE, log=None):
    """Start trytond on database (loaded before the first login) and return
    the process"""
    trytond = os.path.join(os.path.dirname(sys.executable), 'trytond')
    env = clean_environment()
    env.setdefault('PYTHONWARNINGS', 'ignore')
    return subprocess.Popen([trytond, '-c', config_file, '-d', database],
        env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
        start_new_session=log is not None)


def wait_until_up(url, process=None, timeout=120):
    "Wait until url answers; raise RuntimeError after timeout seconds"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError("trytond stopped (exit code %s)"
                % process.returncode)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("%s did not answer in %s s" % (url, timeout))


def stop_trytond(process, timeout=15):
    "Stop the trytond process, killing it if it does not stop in time"
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve(output, listen='localhost:8000'):
    "Serve OUTPUT/demo.sqlite with the web client until Ctrl-C"
    output = os.path.abspath(output)
    if not os.path.exists(os.path.join(output, '%s.sqlite' % DATABASE)):
        raise SystemExit("No demo database in %s: run ./run-demo --serve "
            "to build it first." % output)
    web_root = install_web_client()
    config_file = write_config(os.path.join(output, 'trytond-web.conf'),
        output, listen=listen, web_root=web_root)
    host, _, port = listen.rpartition(':')
    url = 'http://%s:%s/' % (host or 'localhost', port)
    log_file = os.path.join(output, 'trytond.log')
    print("Starting trytond on %s/%s.sqlite (log in %s)..." % (
            output, DATABASE, log_file), flush=True)
    log = open(log_file, 'ab')
    process = start_trytond(config_file, log=log)
    # Stopped by Ctrl-C (even when started with SIGINT ignored) or by a
    # signal (kill, timeout): stop trytond too
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(128 + 15))
    try:
        wait_until_up(url, process)
        print()
        print("Tryton's web client: %s" % url)
        print("  database %s, login %s, password %s" % (
                DATABASE, LOGIN, PASSWORD))
        print("  Financial > Invoice Dunnings: the reminders, the "
            "Create Invoice Dunnings wizard")
        print("  and the configuration of levels and segments.")
        print("Press Ctrl-C to stop.", flush=True)
        process.wait()
        raise SystemExit("trytond stopped (exit code %s), see %s"
            % (process.returncode, log_file))
    except KeyboardInterrupt:
        print("\nStopping trytond...", flush=True)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_trytond(process)
        log.close()
    print("Stopped.")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', default='demo-output',
        help="folder of the demo database (default: %(default)s)")
    parser.add_argument('--listen', default='localhost:8000',
        help="address of the web client (default: %(default)s)")
    args = parser.parse_args()
    serve(args.output, args.listen)


if __name__ == '__main__':
    main()
