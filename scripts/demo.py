#!/usr/bin/env python3
# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The demo: a French company chases its late customers.

Creates a SQLite database (OUTPUT/demo.sqlite) with a French company (French
chart of accounts when trytond_account_fr is installed), a bank account,
forty-three customers in four segments, professionals and consumers (three
abroad: in Germany, Belgium and Spain, written to in German, Dutch and
Spanish with their country's late-payment rules), and six months
of invoices, payments, partial payments, credit notes and disputes, with the
daily dunning of the last twelve weeks replayed day by day (the last three
days, only the scheduled task ran: their reminders wait for the accountant).
A customer whose formal notices expired was handed over to a bailiff three
weeks ago; another is in receivership (judgment, BODACC publication,
mandataire), its claim to declare within the coming weeks.
Then it creates today's reminders, processes one of each level and writes
their letters to OUTPUT/letters (ODT, and PDF when LibreOffice is
installed), with the court file (application for an order to pay) of the
file handed over and the declaration of claim of the receivership; the
other reminders wait in the list "To Process".

With --serve, it then serves the database with Tryton's web client on
http://localhost:8000 until Ctrl-C (--serve-only serves an existing demo).

Usage: python scripts/demo.py [--output DIR] [--date YYYY-MM-DD]
           [--serve | --serve-only] [--listen HOST:PORT]

This file is the command line. demo_data.py: the customers, segments and
the plan of the invoices; demo_setup.py: the database, the company and the
customers (proteus); demo_replay.py: the history replayed day by day and
today's reminders (trytond); demo_litigation.py: the file handed over to
the bailiff and the receivership (trytond); demo_output.py: the letters
and what is printed; demo_mail.py: the local SMTP server that receives the
reminder emails; serve.py: the web client.
"""
import argparse
import datetime as dt
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data  # noqa: E402
import serve as web  # noqa: E402
from demo_data import CUSTOMERS, SHOWCASE, plan  # noqa: E402
from demo_mail import MailSink, print_inbox  # noqa: E402
from demo_output import print_extras, print_today, write_letters  # noqa: E402
from demo_replay import Replay  # noqa: E402
from demo_setup import (  # noqa: E402
    ADMIN_PASSWORD, DATABASE, Setup, create_database)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--output', default='demo-output',
        help="folder of the database and the letters (default: %(default)s)")
    parser.add_argument('--date', type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="the day of the demo run (default: today)")
    parser.add_argument('--serve', action='store_true',
        help="build the demo, then serve it with Tryton's web client "
        "until Ctrl-C")
    parser.add_argument('--serve-only', action='store_true',
        help="serve the demo database built before, without rebuilding it")
    parser.add_argument('--listen', default='localhost:8000',
        help="address of the web client (default: %(default)s)")
    parser.add_argument('--customers', type=int, default=len(CUSTOMERS),
        help="number of customers, at most %d (default: %%(default)s)"
        % len(CUSTOMERS))
    parser.add_argument('--invoices', type=int, default=320,
        help="number of invoices besides those of today's reminders "
        "(default: %(default)s)")
    parser.add_argument('--months', type=int, default=6,
        help="months of history (default: %(default)s)")
    parser.add_argument('--weeks', type=int, default=12,
        help="weeks of daily dunning replayed, at least 12: the company "
        "uses the module since then (default: %(default)s)")
    parser.add_argument('--unreviewed-days', type=int, default=3,
        help="the last days before today the accountant did not review the "
        "reminders: only the scheduled task ran (default: %(default)s)")
    parser.add_argument('--no-cache', action='store_true',
        help="create the database with trytond-admin even when .cache/ "
        "has it")
    parser.add_argument('--no-today', action='store_true',
        help="stop after yesterday: leave today's reminders to be created "
        "(used by the browser test)")
    parser.add_argument('--no-pdf', action='store_true',
        help="do not convert the letters to PDF")
    parser.add_argument('--seed', type=int, default=2026,
        help="seed of the random history (default: %(default)s)")
    return parser.parse_args(argv)


def build(args):
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)
    today = args.date
    begin = time.time()
    config_file = create_database(output, cache=not args.no_cache)

    start = today - dt.timedelta(days=round(args.months * 30.5))
    # The dunning runs every day of the last weeks (since the company uses
    # the module); the showcase invoices need 12 weeks
    dunning_start = today - dt.timedelta(weeks=max(args.weeks, 12))
    start = min(start, dunning_start)
    setup = Setup(config_file, today)
    # The accounting covers the invoices of the litigation too
    setup.setup_company(
        min(start, demo_data.litigation_start(today)) - dt.timedelta(days=31))
    setup.setup_dunning()
    setup.create_customers(
        max(SHOWCASE, min(args.customers, len(CUSTOMERS))))
    invoices = plan(setup.customers, today, start, args.invoices,
        random.Random(args.seed))
    # The reminder emails go to a local SMTP server: the demo's inbox
    sink = MailSink(os.path.join(output, 'inbox'))
    if sink.start():
        import trytond.config as config
        config.set('email', 'uri', sink.uri)
        config.set('email', 'from',
            "Atelier Dupont - Comptabilité <compta@atelier-dupont.fr>")
    else:
        print("aiosmtpd is not installed: the reminder emails stay to send")
    try:
        replay = Replay(setup)
        replay.simulate(min(i['date'] for i in invoices), invoices, today,
            dunning_start, today - dt.timedelta(days=args.unreviewed_days))
        carrier_path = os.path.join(output, 'carrier.csv')
        carrier = replay.run(replay.carrier_file, carrier_path)
        database = os.path.join(output, '%s.sqlite' % DATABASE)
        if args.no_today:
            print("\nDatabase: %s, built in %.0f s; today's reminders are "
                "left to create." % (database, time.time() - begin))
            return
        received = len(sink.messages)
        rows, waiting, extras = replay.run_today(invoices)
    finally:
        sink.stop()
    letters = write_letters(output, rows, extras, pdf=not args.no_pdf)
    print_today(rows, waiting, letters)
    print_extras(extras, carrier, carrier_path, letters)
    print_inbox(sink, received)
    print()
    print("Database: %s (trytond config %s, login admin / %s), built in "
        "%.0f s" % (database, config_file, ADMIN_PASSWORD,
            time.time() - begin))
    if not setup.french_chart:
        print("(trytond_account_fr is not installed: minimal chart of "
            "accounts)")


def main():
    args = parse_args()
    if not args.serve_only:
        build(args)
    if args.serve or args.serve_only:
        print()
        web.serve(args.output, args.listen)


if __name__ == '__main__':
    main()
