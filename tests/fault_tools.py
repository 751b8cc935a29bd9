# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Shared pieces of the killed-run tests (test_fault): the scripts of the
processes they kill, a committed transaction, the files of the letters."""
import os
import textwrap

import trytond.config as config
from trytond.modules.account_invoice_dunning.letter_archive import (
    LETTER_FOLDER)
from trytond.pool import Pool
from trytond.tests.test_tryton import USER
from trytond.transaction import Transaction, TransactionError

# Letters rendered at once by the killed processing (its batches)
BATCH = 2

# Processes the reminders in one transaction, by batches of BATCH letters,
# and stops for good before rendering the batch after the first ones: the
# test kills it there, its letters in the file store but not committed
PROCESSING = textwrap.dedent('''\
    import json, os, sys, time
    database, company, ids, ready, batches = (sys.argv[1],
        int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4],
        int(sys.argv[5]))
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError
    from trytond.modules.account_invoice_dunning import letter
    render = letter.Letter.render_letters.__func__
    rendered = []

    def render_letters(cls, dispatches):
        if len(rendered) == batches:
            with open(ready + '.tmp', 'w') as fp:
                json.dump(rendered, fp)
            os.rename(ready + '.tmp', ready)
            while True:
                time.sleep(1)
        rendered.append([d.id for d in dispatches])
        return render(cls, dispatches)
    letter.Letter.render_letters = classmethod(render_letters)

    with Transaction().start(database, 0, readonly=True):
        Pool(database).init()
    # Letters rendered by batches of %(batch)d, wherever the module reads it
    for name, module in list(sys.modules.items()):
        if (name.startswith('trytond.modules.account_invoice_dunning')
                and hasattr(module, 'BATCH_SIZE')):
            module.BATCH_SIZE = %(batch)d
    pool = Pool(database)
    Dunning = pool.get('account.invoice.dunning')
    extras = {}
    while True:
        try:
            with Transaction().start(database, %(user)d,
                    context={'company': company}, **extras) as transaction:
                Dunning.process(Dunning.browse(ids))
                transaction.commit()
            break
        except TransactionError as error:
            error.fix(extras)
    print("committed")
    ''') % {'batch': BATCH, 'user': USER}

# trytond-worker whose task stops for good after the letters of the dispatch
# VICTIM are rendered and stored, before its commit: the test kills it there
WORKER = textwrap.dedent('''\
    import os, sys, time
    victim, ready = int(sys.argv[1]), sys.argv[2]
    del sys.argv[1:3]
    import trytond.commandline as commandline
    import trytond.config as config
    options = commandline.get_parser_worker().parse_args()
    config.update_etc(options.configfile)
    commandline.config_log(options)
    import trytond.worker as worker
    from trytond.pool import Pool
    from trytond.modules.account_invoice_dunning import dispatch
    archive = dispatch.Dispatch._archive_letters.__func__

    def _archive_letters(cls, dispatches):
        archive(cls, dispatches)
        if victim in [d.id for d in dispatches]:
            with open(ready, 'w') as fp:
                fp.write(str(os.getpid()))
            while True:
                time.sleep(1)
    dispatch.Dispatch._archive_letters = classmethod(_archive_letters)
    Pool.start()
    try:
        worker.work(options)
    except KeyboardInterrupt:
        pass
    ''')


def run(database, func, context=None):
    """Run func in a transaction of its own on database and commit,
    restarting it when it asks for locks; return its result"""
    extras = {}
    while True:
        try:
            with Transaction(new=True).start(database, USER,
                    context=context, **extras) as transaction:
                result = func()
                transaction.commit()
                return result
        except TransactionError as error:
            error.fix(extras)


def reminder_ids(dispatches):
    """The ids of the reminders carried by dispatches (instances or ids),
    sorted: the tests start from the reminders, the letters are the
    dispatches'"""
    Dunning = Pool().get('account.invoice.dunning')
    dispatch_ids = [int(d) for d in dispatches]
    if not dispatch_ids:
        return []
    return sorted(d.id for d in Dunning.search([
                ('dispatch', 'in', dispatch_ids),
                ]))


def dispatch_ids(ids):
    "The ids of the dispatches of the reminders ids, in their order"
    Dunning = Pool().get('account.invoice.dunning')
    return [d.dispatch.id if d.dispatch else None
        for d in Dunning.browse(ids)]


def letter_files(database):
    "The ids of the files in the letters' folder of database"
    folder = os.path.join(config.get('database', 'path'), database,
        LETTER_FOLDER)
    return sorted(name for _, _, names in os.walk(folder) for name in names)


def write_script(folder, name, text):
    "Write text to the file name in folder; return its path"
    path = os.path.join(folder, name)
    with open(path, 'w') as fp:
        fp.write(text)
    return path


def write_worker_conf(folder, batch_size):
    """Write the configuration of a trytond-worker whose file store is
    folder, in folder; return its path"""
    return write_script(folder, 'worker.conf',
        '[database]\npath = %s\n[queue]\nworker = True\n'
        'batch_size = %d\n' % (folder, batch_size))
