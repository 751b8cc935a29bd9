# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A whole dunning in Tryton's web client, driven by a real browser.

Builds a small demo database (scripts/demo.py, SQLite), starts trytond on a
free loopback port with the web client (tryton-sao from the npm registry,
cached in .cache/), and drives headless Chromium (Debian's chromium package,
through Playwright) as an accountant and an administrator would: log in,
Financial > Invoice Dunnings > Create Invoice Dunnings, check and process
today's reminders, print a reminder letter again from an invoice, change a
level in the configuration. A screenshot of each step is saved in
screenshots/browser-<timestamp>/.

Runs on SQLite only. Alone: .venv/bin/python -m pytest tests/test_browser.py
"""
import datetime as dt
import importlib.util
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter

import pytest

from trytond.modules.account_invoice_dunning.tests import process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_serve():
    "scripts/serve.py: the web client and trytond, shared with the demo"
    spec = importlib.util.spec_from_file_location('account_invoice_dunning'
        '_demo_serve', os.path.join(ROOT, 'scripts', 'serve.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web = _load_serve()

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    ]
# The levels of the shipped procedure: today's run has one of each
LEVELS = [
    "Pre-reminder", "First Reminder", "Second Reminder", "Third Reminder",
    "Formal Notice"]
TIMEOUT = 60 * 1000  # milliseconds, for each wait of the browser

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE__URI', '').startswith('postgresql'),
    reason="the browser test drives trytond on a SQLite demo database: "
    "it runs with the SQLite pass of the suite only")

# JavaScript: the visible rows of the menu and their depth (indentation)
MENU_JS = """
    const rows = [...document.querySelectorAll('#menu table.tree tbody tr')]
        .filter(r => r.offsetParent !== null);
    const margin = (r) => {
        const img = r.querySelector('span.expander img');
        return img ? parseFloat(img.style.marginLeft || '0') : 0;
    };
"""
# The index of the row of the menu at path, or -1
MENU_ROW = """(path) => {""" + MENU_JS + """
    let start = 0, end = rows.length, found = -1;
    for (const name of path) {
        found = -1;
        let level = null;
        for (let i = start; i < end; i++) {
            const m = margin(rows[i]);
            if (level === null) {
                level = m;
            }
            if (m < level) {
                break;
            }
            const title = rows[i].querySelector('div.column-char');
            if (m === level && title && title.title === name) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            return -1;
        }
        start = end = found + 1;
        while (end < rows.length && margin(rows[end]) > margin(rows[found])) {
            end++;
        }
    }
    return found;
}"""
# If the row at index shows its children
MENU_EXPANDED = """(index) => {""" + MENU_JS + """
    return index + 1 < rows.length
        && margin(rows[index + 1]) > margin(rows[index]);
}"""

# JavaScript: the rows of the list of the current tab as {column: text}
LIST_ROWS = """() => {
    const pane = document.querySelector('#tabcontent > .tab-pane.active');
    const table = pane.querySelector('.treeview table.tree');
    if (!table) {
        return null;
    }
    return [...table.querySelectorAll(':scope > tbody > tr')]
        .filter(tr => tr.offsetParent !== null)
        .map(tr => {
            const row = {};
            for (const td of tr.querySelectorAll(':scope > td[data-title]')) {
                const name = td.getAttribute('data-title').replace(/: $/, '');
                row[name] = td.innerText.trim();
            }
            return row;
        })
        .filter(row => Object.keys(row).length);
}"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def check_chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing (%s): the browser test needs "
            "Debian's chromium package: apt-get install -y chromium "
            "chromium-driver (./run-tests installs it when run as root)."
            % CHROMIUM, pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright for Python is missing: pip install "
            "playwright (never 'playwright install': the test uses "
            "Debian's Chromium)", pytrace=False)


def build_database(folder, today):
    """The small demo database of the test, in folder; return its path

    BROWSER_TEST_DATABASE names a database built before with
    scripts/demo.py --no-today to copy instead (to work on the test)."""
    prebuilt = os.environ.get('BROWSER_TEST_DATABASE')
    if prebuilt:
        path = os.path.join(folder, '%s.sqlite' % web.DATABASE)
        shutil.copyfile(prebuilt, path)
        return path
    env = web.clean_environment()
    env['PYTHONWARNINGS'] = 'ignore'
    result = subprocess.run([sys.executable,
            os.path.join(ROOT, 'scripts', 'demo.py'),
            '--output', folder, '--date', today.isoformat(),
            '--customers', '14', '--invoices', '30', '--months', '4',
            '--unreviewed-days', '0',
            '--no-today', '--no-pdf'],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=900)
    assert result.returncode == 0, (
        "The demo database could not be built:\n" + result.stdout[-5000:])
    return os.path.join(folder, '%s.sqlite' % web.DATABASE)


class Client:
    "The web client in a page, step by step with screenshots"

    def __init__(self, page, url, folder):
        self.page = page
        self.url = url
        self.folder = folder
        self.step = 0

    def shot(self, name):
        "Save a screenshot of the page as the next step"
        self.idle()
        self.step += 1
        path = os.path.join(self.folder, '%02d-%s.png' % (self.step, name))
        self.page.screenshot(path=path)
        return path

    def idle(self):
        "Wait for the client to finish its calls to the server"
        self.page.wait_for_selector('#processing', state='hidden',
            timeout=TIMEOUT)
        self.page.wait_for_timeout(300)

    def login(self, login, password):
        page = self.page
        page.goto(self.url)
        page.wait_for_selector('#login', timeout=TIMEOUT)
        page.fill('#login', login)
        self.shot('login')
        page.click('.login-dialog button[type=submit]')
        page.wait_for_selector('input[type=password]', timeout=TIMEOUT)
        page.fill('input[type=password]', password)
        page.keyboard.press('Enter')
        page.wait_for_selector(
            '#menu div.column-char[title="Financial"]', timeout=TIMEOUT)

    def menu_index(self, path):
        "The index of the visible row of the menu at path"
        deadline = time.monotonic() + TIMEOUT / 1000
        while True:
            index = self.page.evaluate(MENU_ROW, path)
            if index >= 0:
                return index
            assert time.monotonic() < deadline, (
                "No menu %s" % ' > '.join(path))
            self.page.wait_for_timeout(200)

    def menu_row(self, path):
        return self.page.locator(
            '#menu table.tree tbody tr:visible').nth(self.menu_index(path))

    def expand_menu(self, path):
        "Expand the menus of path"
        for i in range(1, len(path) + 1):
            index = self.menu_index(path[:i])
            if not self.page.evaluate(MENU_EXPANDED, index):
                self.menu_row(path[:i]).locator('span.expander').click()
                deadline = time.monotonic() + TIMEOUT / 1000
                while not self.page.evaluate(MENU_EXPANDED, index):
                    assert time.monotonic() < deadline, (
                        "The menu %s does not expand" % ' > '.join(path[:i]))
                    self.page.wait_for_timeout(200)
            self.idle()

    def open_menu(self, path):
        "Open the action of the menu at path: a new tab or a dialog"
        self.expand_menu(path[:-1])
        count = self.page.locator('#tabcontent > .tab-pane').count()
        self.menu_row(path).locator('div.column-char').click()
        deadline = time.monotonic() + TIMEOUT / 1000
        while (self.page.locator('#tabcontent > .tab-pane').count() <= count
                and not self.page.locator('.modal-dialog:visible').count()):
            assert time.monotonic() < deadline, (
                "The menu %s opens nothing" % ' > '.join(path))
            self.page.wait_for_timeout(200)
        self.idle()

    def tab(self):
        return self.page.locator('#tabcontent > .tab-pane.active')

    def rows(self):
        self.idle()
        return self.page.evaluate(LIST_ROWS) or []

    def wait_rows(self, check, message):
        "Wait until check(rows) is true; return the rows"
        deadline = time.monotonic() + TIMEOUT / 1000
        while True:
            rows = self.rows()
            if check(rows):
                return rows
            if time.monotonic() > deadline:
                raise AssertionError("%s: %s" % (message, rows))
            self.page.wait_for_timeout(300)

    def toolbar(self, title):
        "The button of the toolbar of the current tab with title"
        return self.tab().locator(
            'nav button[title="%s"], .toolbar button[title="%s"]'
            % (title, title)).first

    def dropdown_item(self, title, text):
        "Click the item text of the dropdown of the toolbar button title"
        self.toolbar(title).click()
        item = self.tab().locator('ul.dropdown-menu li a:visible',
            has_text=text).first
        item.wait_for(timeout=TIMEOUT)
        return item

    def select_all(self):
        self.tab().locator('.treeview table.tree thead '
            'th.selection-state input').first.click()
        self.idle()

    def search(self, text):
        entry = self.tab().locator('.filter-box input, input.form-control'
            '[placeholder="Search"]').first
        entry.fill(text)
        entry.press('Enter')
        self.idle()

    def modal(self):
        return self.page.locator('.modal-dialog:visible').last

    def switch_tab(self, name):
        self.tab().locator('.nav-tabs a:visible, ul[role=tablist] a:visible',
            has_text=name).first.click()
        self.idle()

    def open_row(self, column, text, click='Date'):
        """Open in the form the row of the list whose column shows text: a
        click on its column click (not a link) and the switch button"""
        row = self.tab().locator('.treeview table.tree > tbody > tr').filter(
            has=self.page.locator('td[data-title="%s: "]' % column,
                has_text=text)).first
        row.locator('td[data-title="%s: "]' % click).click()
        self.idle()
        self.toolbar('Switch').click()
        self.tab().locator('.form').first.wait_for(timeout=TIMEOUT)
        self.idle()

    def field(self, name):
        "The input widget of the field name in the form of the tab"
        return self.tab().locator(
            '.form [data-field-name="%s"] input, '
            '.form input[name="%s"], .form input#%s' % (name, name, name)
            ).first


@pytest.fixture
def screenshots():
    folder = os.path.join(ROOT, 'screenshots', 'browser-%s'
        % dt.datetime.now().strftime('%Y%m%d-%H%M%S'))
    os.makedirs(folder, exist_ok=True)
    print("Screenshots in %s" % folder)
    return folder


def test_dunning_in_web_client(tmp_path, screenshots):
    check_chromium()
    from playwright.sync_api import sync_playwright

    today = dt.date.today()
    data = str(tmp_path / 'data')
    os.makedirs(data)
    database = build_database(data, today)
    web_root = web.install_web_client(quiet=True)
    port = free_port()
    config_file = web.write_config(str(tmp_path / 'trytond.conf'), data,
        listen='127.0.0.1:%d' % port, web_root=web_root)
    url = 'http://127.0.0.1:%d/' % port
    # trytond and Chromium each in a process group of their own, stopped
    # with all their processes whatever happens
    with start_trytond(config_file, str(tmp_path / 'trytond.log')) as server:
        web.wait_until_up(url, server, timeout=120)
        with start_chromium(str(tmp_path / 'chromium')) as chromium, \
                sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(
                devtools_url(chromium, str(tmp_path / 'chromium')),
                timeout=TIMEOUT)
            try:
                context = browser.new_context(
                    viewport={'width': 1440, 'height': 900},
                    accept_downloads=True, locale='en-US')
                page = context.new_page()
                page.set_default_timeout(TIMEOUT)
                errors = []
                page.on('pageerror', lambda e: errors.append(str(e)))
                page.on('console', lambda m: errors.append(m.text)
                    if m.type == 'error' and '405' not in m.text
                    else None)
                client = Client(page, url, screenshots)
                try:
                    run_dunning(client, database, today, screenshots)
                except Exception:
                    client.shot('failure')
                    print("Errors of the page:\n" + '\n'.join(errors))
                    raise
            finally:
                browser.close()


def start_trytond(config_file, log):
    "Start trytond with the web client, in a process group of its own"
    env = web.clean_environment()
    env.setdefault('PYTHONWARNINGS', 'ignore')
    return process.start([
            os.path.join(os.path.dirname(sys.executable), 'trytond'),
            '-c', config_file, '-d', web.DATABASE],
        env=env, output=log)


def start_chromium(profile):
    """Start headless Chromium in a process group of its own, with its
    DevTools on a free port of the loopback"""
    os.makedirs(profile, exist_ok=True)
    return process.start([CHROMIUM] + CHROMIUM_ARGS + [
            '--remote-debugging-address=127.0.0.1',
            '--remote-debugging-port=0', '--user-data-dir=%s' % profile,
            'about:blank'],
        output=profile + '.log')


def devtools_url(chromium, profile):
    "The URL of the DevTools of the Chromium started with profile"
    port_file = os.path.join(profile, 'DevToolsActivePort')

    def port():
        if chromium.poll() is not None:
            raise AssertionError("Chromium stopped (exit code %s):\n%s"
                % (chromium.returncode, chromium.output()[-5000:]))
        try:
            with open(port_file) as fp:
                return fp.readline().strip()
        except FileNotFoundError:
            return None
    found = process.wait_for(port, TIMEOUT / 1000)
    assert found, "Chromium does not open its DevTools:\n%s" % (
        chromium.output()[-5000:])
    return 'http://127.0.0.1:%s' % found


def picture_of_letter(letter, client):
    """Save the first page of the printed letter as the next step, when
    LibreOffice and pdftoppm (poppler-utils) are installed"""
    soffice = shutil.which('soffice') or shutil.which('libreoffice')
    pdftoppm = shutil.which('pdftoppm')
    if not soffice or not pdftoppm:
        return
    client.step += 1
    target = os.path.join(client.folder, '%02d-reminder-letter' % client.step)
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, 'letter.odt')
        shutil.copyfile(letter, source)
        subprocess.run([soffice, '-env:UserInstallation=file://' + tmp,
                '--headless', '--convert-to', 'pdf', '--outdir', tmp, source],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=120, check=False)
        pdf = os.path.join(tmp, 'letter.pdf')
        if os.path.exists(pdf):
            subprocess.run([pdftoppm, '-png', '-r', '70', '-f', '1', '-l',
                    '1', '-singlefile', pdf, target],
                timeout=60, check=False)


def query(database, sql, *args):
    connection = sqlite3.connect('file:%s?mode=ro' % database, uri=True)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def run_dunning(client, database, today, screenshots):
    page = client.page

    # The accountant logs in and opens the menu of the dunning
    client.login('admin', 'admin')
    client.shot('home')
    client.expand_menu(['Financial', 'Invoice Dunnings'])
    client.shot('menu-invoice-dunnings')

    # Creates today's reminders with the wizard
    client.open_menu(
        ['Financial', 'Invoice Dunnings', 'Create Invoice Dunnings'])
    dialog = client.modal()
    dialog.wait_for(timeout=TIMEOUT)
    assert 'Create Invoice Dunnings' in dialog.inner_text()
    client.shot('create-wizard')
    dialog.locator('button', has_text='Create').click()
    client.idle()
    page.locator('#tabs .nav-tabs, #tabs').get_by_text(
        'Invoice Reminders (%s)' % today.isoformat()).first.wait_for(
        timeout=TIMEOUT)

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

    # Filters the list by level with the search box
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

    # Processes them all
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
    rows = client.wait_rows(
        lambda rows: len(rows) == sum(expected.values())
        and all(r['State'] == 'Done' for r in rows),
        "The processed reminders are not in the tab Done")
    client.shot('processed')
    letters = query(database, "SELECT COUNT(*) FROM account_invoice_dunning "
        "WHERE state = 'done' AND date = ? AND letter_format IS NOT NULL",
        today.isoformat())[0][0]
    assert letters >= len(LEVELS)

    # Opens one of them: the reminder form
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

    # Someone prints the reminder again from the invoice
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
    with page.expect_download(timeout=TIMEOUT) as download_info:
        item.click()
    download = download_info.value
    letter = os.path.join(screenshots, download.suggested_filename)
    download.save_as(letter)
    assert letter.endswith('.odt'), letter
    with zipfile.ZipFile(letter) as odt:
        content = odt.read('content.xml').decode('utf-8')
    assert number in content
    assert party.split()[0] in content
    picture_of_letter(letter, client)

    # The administrator changes a level of the shipped procedure
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
