# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The output of the demo: the letters of today's reminders, the other
letters and the documents of the litigation written to OUTPUT/letters (and
converted to PDF), and what the demo did, printed."""
import os
import shutil
import subprocess

# The letters and documents of the extras of Replay.run_today written too
EXTRAS = ['grouped', 'broken', 'disputed', 'installment', 'broken_plan',
    'litigation']


def write_letters(output, rows, extras, pdf=True):
    """Write the letters of today's reminders (rows), numbered, and the
    letters and documents of extras, named 00-date-level-party, to
    OUTPUT/letters and convert them to PDF (when LibreOffice is installed,
    if pdf); return the folder"""
    letters = os.path.join(output, 'letters')
    shutil.rmtree(letters, ignore_errors=True)
    os.makedirs(letters)
    written = set()
    for position, (_, level, _, party, _, _, _, _, fmt, letter) in enumerate(
            rows, 1):
        # The reminders of a customer sent together share their letter
        if not letter or letter in written:
            continue
        written.add(letter)
        filename = '%02d-%s-%s.%s' % (position, level.replace(' ', '_'),
            party.replace(' ', '_').replace('&', 'et'), fmt)
        with open(os.path.join(letters, filename), 'wb') as fp:
            fp.write(letter)
    for key in EXTRAS:
        for date, party, level, _, fmt, letter in extras.get(key) or []:
            with open(os.path.join(letters, extra_name(date, level, party,
                            fmt)), 'wb') as fp:
                fp.write(letter)
    soffice = shutil.which('soffice') or shutil.which('libreoffice')
    if pdf and soffice:
        print("Converting the letters to PDF with LibreOffice...", flush=True)
        subprocess.run([soffice, '--headless', '--convert-to', 'pdf',
                '--outdir', letters]
            + sorted(os.path.join(letters, f) for f in os.listdir(letters)),
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif pdf:
        print("LibreOffice is not installed: letters are ODT only "
            "(apt-get install libreoffice-writer-nogui for PDF).")
    return letters


def extra_name(date, level, party, fmt):
    "The name of the file of a letter or document of the extras"
    return '00-%s-%s-%s.%s' % (date, level.replace(' ', '_'),
        party.replace(' ', '_').replace('&', 'et'), fmt)


def print_today(rows, waiting, letters):
    """Print today's reminders processed (rows), those waiting by level and
    the letters written to the folder letters"""
    print()
    print("Today's reminders, processed and archived (one per level):")
    print("%-16s %-24s %-13s %10s  %-10s  %-17s" % (
            "Level", "Customer", "Invoice", "Amount", "Deadline", "Channel"))
    for _, level, _, party, number, amount, deadline, channel, _, _ in rows:
        print("%-16s %-24s %-13s %10s  %-10s  %-17s" % (
                level, party[:24], number, amount, deadline, channel))
    if waiting:
        print()
        print("Waiting in Financial > Invoice Dunnings > Invoice Reminders, "
            "To Process: %s" % ', '.join(
                '%d %s' % (n, l) for l, n in sorted(waiting.items())))
    print()
    print("Letters written to %s/" % letters)
    # Those of the extras start with 00-
    for name in sorted(os.listdir(letters)):
        if not name.startswith('00-'):
            print("  " + name)


def print_dispatches(dispatches):
    "Print the letters of dispatches (written by write_letters)"
    for date, party, level, numbers, _, _ in dispatches:
        print("  %s %-24s %-16s %s" % (date, party[:24], level, numbers))


def print_extras(extras, carrier, carrier_path, letters):
    """Print the letters of several invoices, the documents of the
    litigation, the registered letters of the carrier's file and the calls
    to make today"""
    print()
    print("Letters of several invoices (one letter per customer and level), "
        "written to %s/ too:" % letters)
    print_dispatches(extras['grouped'])
    print("The latest letter after a promise to pay not kept (it recalls "
        "the promise), written to %s/ too:" % letters)
    print_dispatches(extras.get('broken') or [])
    print("The latest letter of an invoice partly disputed (the amount "
        "disputed left out), written to %s/ too:" % letters)
    print_dispatches(extras.get('disputed') or [])
    print("The latest letter of a missed installment of a payment plan, and "
        "the latest after a plan broken, written to %s/ too:" % letters)
    print_dispatches((extras.get('installment') or [])
        + (extras.get('broken_plan') or []))
    print()
    print("Litigation (Financial > Invoice Dunnings > Litigation Files, "
        "Collective Proceedings, Claims to Declare): a file handed over to "
        "a bailiff and its application for an order to pay, a customer in "
        "receivership and its declaration of claim, written to %s/ too:"
        % letters)
    for date, party, title, summary, _, _ in extras.get('litigation') or []:
        print("  %s %-24s %s\n      %s" % (date, party[:24], title, summary))
    print()
    print("Registered letters followed from the carrier's file %s: %s" % (
            carrier_path, ', '.join('%d %s' % (n, s)
                for s, n in sorted(carrier.items())) or "none"))
    print()
    print("Calls to make today (Financial > Invoice Dunnings > Reminder "
        "Calls, To Make Today):")
    for party, phone, numbers, amount in extras['calls'] or [
            ("(none)", "", "", "")]:
        print("  %-24s %-16s %-24s %10s" % (party[:24], phone, numbers[:24],
                amount))
