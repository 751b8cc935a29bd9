#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Refresh locale/<lang>.po from the module's strings (models, views,
messages, reports) keeping the existing translations.

Usage: .venv/bin/python scripts/update_translations.py [fr ...]
Prints the entries still untranslated."""
import os
import sys

os.environ.setdefault('DB_NAME', ':memory:')
os.environ.setdefault('TRYTOND_DATABASE__URI', 'sqlite://')

import polib  # noqa: E402

from trytond.pool import Pool  # noqa: E402
from trytond.tests.test_tryton import DB_NAME, activate_module  # noqa: E402
from trytond.transaction import Transaction  # noqa: E402

MODULE = 'account_invoice_dunning'
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def key(entry):
    return (entry.msgctxt, entry.msgid)


def main(languages):
    activate_module(MODULE)
    with Transaction().start(DB_NAME, 0) as transaction:
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        TranslationUpdate = pool.get('ir.translation.update', type='wizard')
        session_id, _, _ = TranslationSet.create()
        TranslationSet(session_id).transition_set_()
        for code in languages:
            lang, = Lang.search([('code', '=', code)])
            lang.translatable = True
            lang.save()
            session_id, _, _ = TranslationUpdate.create()
            update = TranslationUpdate(session_id)
            update.start.language = lang
            update.do_update({})
            content = Translation.translation_export(code, MODULE)
            exported = polib.pofile(content.decode('utf-8'))
            path = os.path.join(HERE, 'locale', '%s.po' % code)
            known = {}
            for source in [path] + [
                    os.path.join(HERE, 'locale', f)
                    for f in sorted(os.listdir(os.path.join(HERE, 'locale')))
                    if f.startswith('%s_' % code) and f.endswith('.po.tmp')]:
                if os.path.exists(source):
                    for entry in polib.pofile(source):
                        if entry.msgstr:
                            known.setdefault(key(entry), entry.msgstr)
            missing = []
            for entry in exported:
                entry.msgstr = known.get(key(entry), '')
                entry.flags = []
                if not entry.msgstr:
                    missing.append(entry)
            exported.metadata = {
                'Content-Type': 'text/plain; charset=utf-8',
                }
            exported.sort(key=lambda e: (e.msgctxt or '', e.msgid))
            exported.save(path)
            print('%s: %s entries, %s untranslated' % (
                    path, len(exported), len(missing)))
            for entry in missing:
                print('  %s | %s' % (entry.msgctxt, entry.msgid))
        transaction.rollback()


if __name__ == '__main__':
    main(sys.argv[1:] or ['fr'])
