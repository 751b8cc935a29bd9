# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A whole dunning in Tryton's web client, driven by a real browser.

On a small demo database (scripts/demo.py, SQLite) served by trytond on a
free loopback port with the web client (tryton-sao from the npm registry,
cached in .cache/), built once for the browser tests (the fixture demo_web
of tests/conftest.py), drives headless Chromium (Debian's chromium package,
through Playwright) as an accountant and an administrator would: log in,
Financial > Invoice Dunnings > Create Invoice Dunnings, check and process
today's reminders, print a reminder letter again from an invoice, change a
level in the configuration. A screenshot of each step is saved in
screenshots/browser-<timestamp>/. The browser and the client's helpers
are in tests/browser_tools.py.

Runs on SQLite only. Alone: .venv/bin/python -m pytest tests/test_browser.py
"""
import datetime as dt
import os
import time
import zipfile
from collections import Counter

import pytest

from trytond.modules.account_invoice_dunning.tests.browser_tools import (
    TIMEOUT, picture_of_letter, query, web_client)

# The levels of the shipped procedure: today's run has one of each
LEVELS = [
    "Pre-reminder", "First Reminder", "Second Reminder", "Third Reminder",
    "Formal Notice"]

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE__URI', '').startswith('postgresql'),
    reason="the browser test drives trytond on a SQLite demo database: "
    "it runs with the SQLite pass of the suite only")


def test_dunning_in_web_client(demo_web, tmp_path, screenshots):
    with web_client(str(tmp_path), demo_web.url, screenshots,
            demo_web.log) as client:
        run_dunning(client, demo_web.database, demo_web.today, screenshots)


def run_dunning(client, database, today, screenshots):
    "The steps of the accountant and the administrator, in order"
    log_in(client)
    create_reminders(client, today)
    expected = check_todays_reminders(client, database, today)
    call_instead(client, database, today)
    filter_reminders(client, database, today, expected)
    process_reminders(client, database, today, expected)
    number, party = open_reminder(client, database, today)
    print_letter_again(client, number, party, screenshots)
    make_a_call(client, database, today)
    promise_in_a_call(client, database, today)
    open_sent_email(client, database)
    change_level(client, database)


def log_in(client):
    "The accountant logs in and opens the menu of the dunning"
    client.login('admin', 'admin')
    client.shot('home')
    client.expand_menu(['Financial', 'Invoice Dunnings'])
    client.shot('menu-invoice-dunnings')


def create_reminders(client, date, typed=False):
    """Create the reminders of date with the wizard, its date typed when
    typed (else its default, today's), and wait for their tab"""
    client.open_menu(
        ['Financial', 'Invoice Dunnings', 'Create Invoice Dunnings'])
    dialog = client.modal()
    dialog.wait_for(timeout=TIMEOUT)
    assert 'Create Invoice Dunnings' in dialog.inner_text()
    entry = dialog.locator('input[name="date"]').first
    client.wait_default(entry)
    if typed:
        client.fill(entry, date.strftime('%m/%d/%Y'))
    else:
        client.shot('create-wizard')
    dialog.locator('button', has_text='Create').click()
    # The wizard itself closed (an error it shows keeps it open)
    client.page.locator('.modal-dialog',
        has_text='Create Invoice Dunnings').first.wait_for(
        state='hidden', timeout=TIMEOUT)
    client.idle()
    client.page.locator('#tabs .nav-tabs, #tabs').get_by_text(
        'Invoice Reminders (%s)' % date.isoformat()).first.wait_for(
        timeout=TIMEOUT)


def check_todays_reminders(client, database, today):
    """The list shows today's reminders, one level of each at least; return
    their number by level"""
    expected = Counter(dict(query(database,
                'SELECT l.name, COUNT(*) FROM account_invoice_dunning d '
                'JOIN account_invoice_dunning_level l ON l.id = d.level '
                "WHERE d.state = 'draft' AND d.date = ? GROUP BY l.name",
                today.isoformat())))
    assert set(LEVELS) <= set(expected), (
        "Today's run misses levels: %s" % expected)
    rows = client.wait_rows(
        lambda rows: len(rows) == sum(expected.values()),
        "The list does not show today's %d reminders"
        % sum(expected.values()))
    assert Counter(r['Level'] for r in rows) == expected
    for row in rows:
        assert row['State'] == 'Draft', row
        assert row['Party'] and row['Invoice'] and row['Deadline'], row
        assert row['Amount Overdue'], row
    client.shot('todays-reminders')
    return expected


def filter_reminders(client, database, today, expected):
    "Filters the list by level and by segment with the search box"
    client.search('Level: "Formal Notice"')
    client.wait_rows(lambda rows: rows and all(
            r['Level'] == 'Formal Notice' for r in rows),
        "The filter by level does not show only formal notices")
    client.shot('filter-formal-notices')
    standard, = query(database,
        'SELECT COUNT(*) FROM account_invoice_dunning d '
        'JOIN account_invoice_dunning_segment s ON s.id = d.segment '
        "WHERE d.state = 'draft' AND d.date = ? AND s.name = 'Standard'",
        today.isoformat())[0]
    client.search('Segment: Standard')
    client.wait_rows(lambda rows: len(rows) == standard,
        "The filter by segment does not show the %d reminders of the "
        "segment Standard" % standard)
    client.search('')
    client.wait_rows(lambda rows: len(rows) == sum(expected.values()),
        "The list does not show all the reminders again")


def call_instead(client, database, today):
    """The accountant decides to call a customer instead of writing: the
    channel of a draft (of a level with other drafts) set to Phone"""
    (dunning_id, number), = query(database,
        'SELECT d.id, i.number FROM account_invoice_dunning d '
        'JOIN account_invoice i ON i.id = d.invoice '
        "WHERE d.state = 'draft' AND d.date = ? AND d.level IN ("
        '  SELECT level FROM account_invoice_dunning '
        "  WHERE state = 'draft' AND date = ? "
        '  GROUP BY level HAVING COUNT(*) > 1) '
        'ORDER BY d.id DESC LIMIT 1', today.isoformat(), today.isoformat())
    client.open_row('Invoice', number)
    channel = client.tab().locator('.form select[name="channel"]').first
    channel.wait_for(timeout=TIMEOUT)
    channel.select_option(label='Phone')
    client.toolbar('Save').click()
    client.idle()
    deadline = time.monotonic() + TIMEOUT / 1000
    while query(database, 'SELECT channel FROM account_invoice_dunning '
            'WHERE id = ?', dunning_id)[0][0] != 'phone':
        assert time.monotonic() < deadline, "The channel was not saved"
        time.sleep(0.5)
    client.shot('call-instead')
    # The message "Record saved." covers the toolbar until closed
    saved = client.page.locator('.infobar .close:visible, '
        '.infobar button.close:visible')
    if saved.count():
        saved.first.click()
    client.toolbar('Switch').click()
    client.idle()


def process_reminders(client, database, today, expected):
    "Processes them all: they are done, with their letters"
    client.select_all()
    header = client.tab().locator('.treeview table.tree thead '
        'th.selection-state input').first
    if not header.is_checked():
        # The list came back from a form with a row selected: the first
        # click cleared the selection
        client.select_all()
    client.dropdown_item('Launch action', 'Process').click()
    confirm = client.modal()
    confirm.wait_for(timeout=TIMEOUT)
    assert 'process the reminders' in confirm.inner_text()
    client.shot('process-confirm')
    confirm.locator('button', has_text='OK').click()
    client.idle()
    deadline = time.monotonic() + TIMEOUT / 1000
    while query(database, "SELECT COUNT(*) FROM account_invoice_dunning "
            "WHERE state = 'draft' AND date = ?", today.isoformat())[0][0]:
        assert time.monotonic() < deadline, "The reminders were not processed"
        time.sleep(0.5)
    client.switch_tab('Done')
    client.wait_rows(
        lambda rows: len(rows) == sum(expected.values())
        and all(r['State'] == 'Done' for r in rows),
        "The processed reminders are not in the tab Done")
    client.shot('processed')
    # One letter per customer and level: the dispatches of the day
    letters = query(database,
        "SELECT COUNT(*) FROM account_invoice_dunning_dispatch "
        "WHERE date = ? AND letter_format IS NOT NULL",
        today.isoformat())[0][0]
    assert letters >= len(LEVELS)


def open_reminder(client, database, today):
    """Opens a formal notice sent by registered letter: the reminder form;
    return the number of its invoice and the name of its party"""
    number, party = query(database,
        'SELECT i.number, p.name FROM account_invoice_dunning d '
        'JOIN account_invoice i ON i.id = d.invoice '
        'JOIN party_party p ON p.id = d.party '
        'JOIN account_invoice_dunning_level l ON l.id = d.level '
        "WHERE d.date = ? AND l.name = 'Formal Notice' "
        "AND d.channel = 'registered_letter' ORDER BY d.id LIMIT 1",
        today.isoformat())[0]
    client.open_row('Invoice', number)
    client.tab().locator('.form').first.wait_for(timeout=TIMEOUT)
    client.tab().get_by_text('Previous Reminders').first.wait_for(
        timeout=TIMEOUT)
    client.shot('reminder-form')
    return number, party


def print_letter_again(client, number, party, screenshots):
    "Someone prints the reminder again from the invoice number"
    client.open_menu(['Financial', 'Invoices', 'Customer Invoices'])
    client.switch_tab('Posted')
    client.search(number)
    client.wait_rows(lambda rows: len(rows) == 1,
        "The search of invoice %s" % number)
    client.open_row('Number', number, click='Invoice Date')
    client.switch_tab('Dunning')
    client.tab().get_by_text('Formal Notice').first.wait_for(
        timeout=TIMEOUT)
    client.shot('invoice-dunning-tab')
    item = client.dropdown_item('Print report', 'Reminder Letter')
    client.shot('print-menu')
    with client.page.expect_download(timeout=TIMEOUT) as download_info:
        item.click()
    download = download_info.value
    letter = os.path.join(screenshots, download.suggested_filename)
    download.save_as(letter)
    assert letter.endswith('.odt'), letter
    with zipfile.ZipFile(letter) as odt:
        content = odt.read('content.xml').decode('utf-8')
    assert number in content
    assert party.split()[0] in content
    picture_of_letter(letter, client, 'reminder-letter')


def change_level(client, database):
    "The administrator changes a level of the shipped procedure"
    (level_id, delay), = query(database,
        'SELECT l.id, l.payment_delay FROM account_invoice_dunning_level l '
        'JOIN account_invoice_dunning_procedure p ON p.id = l.procedure '
        "WHERE l.name = 'Second Reminder' "
        "AND p.name = 'Standard Procedure (France)'")
    client.open_menu(
        ['Financial', 'Invoice Dunnings', 'Configuration', 'Levels'])
    client.wait_rows(lambda rows: any(r.get('Name') == 'Second Reminder'
            for r in rows), "The list of levels")
    client.shot('levels')
    client.search('Procedure: "Standard Procedure (France)"')
    client.wait_rows(lambda rows: rows and all(
            r['Procedure'] == 'Standard Procedure (France)' for r in rows),
        "The levels of the shipped procedure")
    client.open_row('Name', 'Second Reminder', click='Name')
    entry = client.field('payment_delay')
    entry.wait_for(timeout=TIMEOUT)
    client.shot('level-form')
    entry.click()
    entry.press('Control+a')
    entry.press_sequentially(str(delay + 2))
    entry.press('Tab')
    assert entry.input_value() == str(delay + 2), entry.input_value()
    client.toolbar('Save').click()
    client.idle()
    deadline = time.monotonic() + TIMEOUT / 1000
    while query(database, 'SELECT payment_delay FROM '
            'account_invoice_dunning_level WHERE id = ?',
            level_id)[0][0] != delay + 2:
        assert time.monotonic() < deadline, "The level was not saved"
        time.sleep(0.5)
    client.shot('level-saved')


def make_a_call(client, database, today):
    """The accountant opens the calls to make today, calls the first
    customer, gets no answer and records it: the call is made again the
    next business day"""
    (call_id, party), = query(database,
        'SELECT c.id, p.name FROM account_invoice_dunning_call c '
        'JOIN party_party p ON p.id = c.party '
        "WHERE c.state = 'to_make' AND c.date <= ? "
        'ORDER BY c.date, c.id LIMIT 1', today.isoformat())
    client.open_menu(['Financial', 'Invoice Dunnings', 'Reminder Calls'])
    client.switch_tab('To Make Today')
    client.wait_rows(lambda rows: any(r.get('Party') == party for r in rows),
        "The calls to make today")
    client.shot('calls-today')
    client.open_row('Party', party, click='Date')
    outcome = client.tab().locator('.form select[name="outcome"]').first
    outcome.wait_for(timeout=TIMEOUT)
    outcome.select_option(label='No Answer')
    client.shot('call-outcome')
    client.tab().locator('.form button:visible',
        has_text='Record Outcome').first.click()
    client.idle()
    deadline = time.monotonic() + TIMEOUT / 1000
    while query(database, 'SELECT COUNT(*) FROM account_invoice_dunning_call '
            "WHERE retry_of = ? AND state = 'to_make'", call_id)[0][0] != 1:
        assert time.monotonic() < deadline, "The call was not recorded"
        time.sleep(0.5)
    assert query(database, 'SELECT state, outcome FROM '
        'account_invoice_dunning_call WHERE id = ?', call_id) == [
        ('done', 'no_answer')]
    client.shot('call-recorded')


def promise_in_a_call(client, database, today):
    """The accountant calls again the customer who did not answer (the call
    planned for later): reached, it promises to pay within a week, recorded
    from the calls list; the run of the last day of the wait makes no
    reminder of its invoice; the day after, the promise not kept, the next
    reminder comes at once"""
    (call_id, party, invoice_id, number), = query(database,
        'SELECT c.id, p.name, i.id, i.number '
        'FROM account_invoice_dunning_call c '
        'JOIN party_party p ON p.id = c.party '
        'JOIN account_invoice_dunning d ON d.dispatch = c.dispatch '
        'JOIN account_invoice i ON i.id = d.invoice '
        'JOIN account_invoice_dunning_level l ON l.id = d.level '
        "WHERE c.state = 'to_make' AND c.retry_of IS NOT NULL "
        "AND i.state = 'posted' AND EXISTS ("
        '  SELECT 1 FROM account_invoice_dunning_level n '
        '  WHERE n.procedure = l.procedure AND n.days > l.days '
        '  AND NOT n.plan_installment) '
        'ORDER BY c.date DESC, c.id DESC LIMIT 1')
    promised = today + dt.timedelta(days=7)
    client.open_menu(['Financial', 'Invoice Dunnings', 'Reminder Calls'])
    client.switch_tab('Later')
    client.wait_rows(lambda rows: any(r.get('Party') == party for r in rows),
        "The calls to make later")
    client.open_row('Party', party, click='Date')
    outcome = client.tab().locator('.form select[name="outcome"]').first
    outcome.wait_for(timeout=TIMEOUT)
    outcome.select_option(label='Reached, Payment Promised')
    client.idle()
    date = client.field('promise_date')
    date.wait_for(timeout=TIMEOUT)
    client.fill(date, promised.strftime('%m/%d/%Y'))
    amount = client.tab().locator(
        '.form input[name="promise_amount"]:visible').first
    amount.fill('100')
    amount.press('Tab')
    client.shot('call-promise')
    client.tab().locator('.form button:visible',
        has_text='Record Outcome').first.click()
    client.idle()
    deadline = time.monotonic() + TIMEOUT / 1000
    while not query(database, 'SELECT promise FROM '
            'account_invoice_dunning_call WHERE id = ?', call_id)[0][0]:
        assert time.monotonic() < deadline, "The promise was not recorded"
        time.sleep(0.5)
    # The wait ends 3 days after the promised date (the tolerance)
    assert reminders_of(client, database, promised + dt.timedelta(days=3),
        invoice_id) == []
    client.shot('promise-holds')
    assert reminders_of(client, database, promised + dt.timedelta(days=4),
        invoice_id) == [number]
    client.shot('promise-broken')


def reminders_of(client, database, date, invoice_id):
    """Create the reminders of date with the wizard; return the numbers of
    the invoice of invoice_id among those listed"""
    create_reminders(client, date, typed=True)
    # Those made for date, and those of the days before still right
    drafts = query(database, 'SELECT COUNT(*) FROM account_invoice_dunning '
        "WHERE state = 'draft'")[0][0]
    (number,), = query(database,
        'SELECT number FROM account_invoice WHERE id = ?', invoice_id)
    rows = client.wait_rows(lambda rows: len(rows) == drafts,
        "The list does not show the %d reminders of %s" % (drafts, date))
    return [r['Invoice'] for r in rows if r['Invoice'] == number]


def open_sent_email(client, database):
    """The accountant opens a reminder email sent: who received it and
    what it said"""
    (party, subject), = query(database,
        'SELECT p.name, e.subject FROM account_invoice_dunning_dispatch d '
        'JOIN party_party p ON p.id = d.party '
        'JOIN ir_email e ON e.id = d.email '
        "WHERE d.email_state = 'sent' ORDER BY d.id DESC LIMIT 1")
    client.open_menu(
        ['Financial', 'Invoice Dunnings', 'Reminder Dispatches'])
    client.switch_tab('All')
    client.search(party)
    client.wait_rows(lambda rows: any(r.get('Party') == party
            and r.get('Email State') == 'Sent' for r in rows),
        "The dispatches of %s" % party)
    # The latest sent (the list shows the latest first)
    client.open_row('Email State', 'Sent', click='Date')
    client.switch_tab('Email')
    entry = client.field('email')
    entry.wait_for(timeout=TIMEOUT)
    entry.click()
    entry.press('F2')
    dialog = client.modal()
    dialog.wait_for(timeout=TIMEOUT)
    shown = dialog.locator('input[name="subject"]').first
    shown.wait_for(timeout=TIMEOUT)
    assert shown.input_value() == subject, shown.input_value()
    assert '@' in dialog.locator(
        'input[name="recipients"]').first.input_value()
    client.shot('sent-email')
    dialog.locator('button', has_text='Close').first.click()
    client.idle()
