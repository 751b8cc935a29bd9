# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A database built with the code of BASELINE upgrades with
`trytond-admin -u account_invoice_dunning` and keeps everything

The code of BASELINE is taken from the git history (git archive) and run in
processes of its own (tests/upgrade_script.py loads it in place of the
installed module): it creates a database, activates the module with
trytond-admin, fills it (reminders done with their letters, cancelled and
in draft, penalties, waivers, segments and their log) and summarizes it.
The current code then updates the database with trytond-admin and
summarizes it again: every record of the module, every stored field, the
bytes of every letter and the XML ids must be kept; then it makes and
processes the next reminders in the upgraded database.

On SQLite (a file in a temporary folder), or on PostgreSQL when
TRYTOND_DATABASE__URI says so (a database of its own, dropped at the end).
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

from trytond.modules.account_invoice_dunning.tests import process

# The revision whose databases must upgrade: main before the dispatches
# (issue 13: one letter per customer)
BASELINE = 'd2e5e7e4f66ba21d074108f2bdb9dc335a738392'

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'tests', 'upgrade_script.py')
MODULE = 'account_invoice_dunning'
# Seconds a step (activation, build, upgrade) may take at most
STEP_TIMEOUT = int(os.environ.get('UPGRADE_STEP_TIMEOUT', 600))


def _git(*args, timeout=60):
    "Run git in ROOT; return (exit code, output)"
    try:
        result = subprocess.run(['git', '-C', ROOT, *args],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
            start_new_session=True)
    except (OSError, subprocess.TimeoutExpired) as exception:
        return -1, str(exception)
    return result.returncode, (result.stdout + result.stderr).decode(
        errors='replace')


def _differences(old, new, path=''):
    """The differences between the summaries old and new: every value of
    old kept in new (new may hold more: new fields, new records of data)"""
    if isinstance(old, dict) and isinstance(new, dict):
        differences = []
        for key, value in old.items():
            if key not in new:
                differences.append('%s/%s: missing' % (path, key))
            else:
                differences.extend(
                    _differences(value, new[key], '%s/%s' % (path, key)))
        return differences
    if old != new:
        return ['%s: %r became %r' % (path, old, new)]
    return []


class UpgradeTestCase(unittest.TestCase):
    "A database of the baseline upgrades and keeps its records"

    def setUp(self):
        code, output = _git('rev-parse', '--is-inside-work-tree')
        if code != 0 or output.strip() != 'true':
            self.fail("!!! The upgrade test needs the git checkout of the "
                "module (git clone, not an archive): %s is not one (%s)"
                % (ROOT, output.strip()))
        code, output = _git('cat-file', '-e', BASELINE + '^{commit}')
        if code != 0:
            self.fail("!!! The upgrade test needs the baseline revision %s "
                "in the git history of %s (a shallow clone? run "
                "`git fetch --unshallow`): %s" % (BASELINE, ROOT,
                    output.strip()))
        self.directory = tempfile.mkdtemp(prefix='aid-upgrade-')
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        self.baseline = os.path.join(self.directory, MODULE)
        archive = os.path.join(self.directory, 'baseline.tar')
        code, output = _git('archive', '--format=tar', '-o', archive,
            BASELINE, timeout=STEP_TIMEOUT)
        self.assertEqual(code, 0, output)
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, 'data_filter'):
                tar.extractall(self.baseline, filter='data')
            else:  # Python < 3.11.4: the archive is git's own
                tar.extractall(self.baseline)
        os.remove(archive)

        self.data = os.path.join(self.directory, 'data')
        os.mkdir(self.data)
        uri = os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')
        if uri.startswith('postgresql'):
            self.name = (os.environ.get('DB_NAME') or 'test') + '_upgrade'
        else:
            uri, self.name = 'sqlite://', 'upgrade'
        self.env = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_') and k not in {
                'DB_NAME', 'DB_CACHE'}}
        self.env.update({
                'TRYTOND_DATABASE__URI': uri,
                # The database (SQLite) and the file store (the letters)
                'TRYTOND_DATABASE__PATH': self.data,
                'PYTHONWARNINGS': 'ignore',
                })
        self.config = os.path.join(self.directory, 'trytond.conf')
        with open(self.config, 'w') as fp:
            fp.write('[database]\nuri = %s\npath = %s\n' % (uri, self.data))
        password = os.path.join(self.directory, 'password')
        with open(password, 'w') as fp:
            fp.write('admin\n')
        self.env['TRYTONPASSFILE'] = password

    def run_step(self, *args, baseline=False, command=None):
        "Run a step of the script (with the baseline's code if baseline)"
        if command is None:
            command = [sys.executable, SCRIPT]
            if baseline:
                command += ['--module-dir', self.baseline]
        command = command + list(args)
        with process.start(command, env=self.env, cwd=self.directory) as run:
            code = run.wait(STEP_TIMEOUT)
            output = run.output()
        if code is None:
            self.fail("%s did not end in %s s:\n%s" % (
                    ' '.join(command), STEP_TIMEOUT, output[-5000:]))
        self.assertEqual(code, 0, "%s failed:\n%s" % (
                ' '.join(command), output[-10000:]))
        return output

    def summary(self, baseline):
        path = os.path.join(self.directory,
            'summary-%s.json' % ('baseline' if baseline else 'current'))
        self.run_step('summary', self.name, path, baseline=baseline)
        with open(path) as fp:
            return json.load(fp)

    def drop(self):
        self.run_step('dropdb', self.name)

    def test_upgrade_keeps_everything(self):
        "The baseline's database upgraded by trytond-admin -u keeps it all"
        self.run_step('createdb', self.name)
        self.addCleanup(self.drop)
        self.run_step('admin', '-c', self.config, '-d', self.name,
            '-u', MODULE, '--activate-dependencies',
            '--email', 'admin@example.com', baseline=True)
        self.run_step('build', self.name, baseline=True)
        old = self.summary(baseline=True)

        # What is compared is there
        records = old['records']
        self.assertEqual(set(old['reminders_by_state']),
            {'done', 'draft', 'cancelled'}, old['reminders_by_state'])
        self.assertGreater(old['letters'], 0)
        self.assertTrue(old.get('archived_letter'))
        for model in ['party.party', 'account.invoice']:
            self.assertTrue(any(r['dunning_penalty_waived']
                    and r['dunning_penalty_waived_by']
                    for r in records[model].values()), model)
        logs = records['account.invoice.dunning.segment.log'].values()
        self.assertEqual({g['automatic'] for g in logs}, {True, False})
        self.assertTrue(any(r['interest_amount'] != '0.00'
                for r in records['account.invoice.dunning'].values()))

        # The upgrade, with the current code, by trytond-admin itself
        admin = os.path.join(os.path.dirname(sys.executable), 'trytond-admin')
        if not os.path.exists(admin):
            admin = shutil.which('trytond-admin')
        self.assertTrue(admin, "trytond-admin not found")
        self.run_step('-c', self.config, '-d', self.name, '-u', MODULE,
            command=[admin])
        new = self.summary(baseline=False)

        differences = _differences(old, new)
        self.assertFalse(differences, "The upgrade changed:\n"
            + '\n'.join(differences[:50]))

        # And the upgraded database works: the next reminders are made by
        # the create wizard and processed with their letters
        path = os.path.join(self.directory, 'use.json')
        self.run_step('use', self.name, path)
        with open(path) as fp:
            used = json.load(fp)
        self.assertGreater(used['made'], 0, used)
        self.assertTrue(used['done'], used)
        self.assertEqual(used['letters'], used['done'], used)
