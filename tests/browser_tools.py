# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Headless Chromium and Tryton's web client for the browser tests
(tests/test_browser*.py): the demo database served by trytond with the web
client (serve_demo, built once for the session by the fixture demo_web of
tests/conftest.py), the start of Debian's Chromium with its DevTools (for
Playwright), Client, the web client in a page driven step by step with
screenshots (web_client), and the picture of a letter printed"""
import contextlib
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
import types

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
TIMEOUT = 60 * 1000  # milliseconds, for each wait of the browser

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


def build_database(folder, today):
    """The small demo database of the browser tests, in folder; return its
    path

    BROWSER_TEST_DATABASE names a database built before with
    scripts/demo.py --no-today to copy instead (to work on the tests)."""
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


def start_trytond(config_file, log):
    "Start trytond with the web client, in a process group of its own"
    env = web.clean_environment()
    env.setdefault('PYTHONWARNINGS', 'ignore')
    return process.start([
            os.path.join(os.path.dirname(sys.executable), 'trytond'),
            '-c', config_file, '-d', web.DATABASE],
        env=env, output=log)


@contextlib.contextmanager
def serve_demo(folder):
    """The demo database of today built in folder and served by trytond
    with the web client on a free port of the loopback, stopped with all
    its processes whatever happens: yield its url, database and today"""
    check_chromium()
    today = dt.date.today()
    data = os.path.join(folder, 'data')
    os.makedirs(data)
    database = build_database(data, today)
    web_root = web.install_web_client(quiet=True)
    port = free_port()
    config_file = web.write_config(os.path.join(folder, 'trytond.conf'),
        data, listen='127.0.0.1:%d' % port, web_root=web_root)
    url = 'http://127.0.0.1:%d/' % port
    log = os.path.join(folder, 'trytond.log')
    with start_trytond(config_file, log) as server:
        web.wait_until_up(url, server, timeout=120)
        yield types.SimpleNamespace(url=url, database=database, today=today,
            config=config_file, log=log)


@contextlib.contextmanager
def web_client(folder, url, screenshots, server_log=None):
    """Headless Chromium (in folder, stopped with all its processes
    whatever happens) on the web client at url: yield the Client of a new
    page; on an error, a screenshot of the page, its errors, the dialogs it
    shows and the end of the server's log (server_log)"""
    check_chromium()
    from playwright.sync_api import sync_playwright
    profile = os.path.join(folder, 'chromium')
    with start_chromium(profile) as chromium, \
            sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(
            devtools_url(chromium, profile), timeout=TIMEOUT)
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
                yield client
            except Exception:
                # Printed first: the screenshot waits for the client
                print("Errors of the page:\n" + '\n'.join(errors))
                print_failure_context(page, server_log)
                client.shot('failure')
                raise
        finally:
            browser.close()


def print_failure_context(page, server_log):
    "Print the dialogs page shows and the end of the server's log"
    try:
        dialogs = page.locator('.modal-dialog:visible').all_inner_texts()
    except Exception as exception:
        dialogs = ['(unreadable: %s)' % exception]
    print("Dialogs shown:\n" + '\n---\n'.join(dialogs))
    if server_log and os.path.exists(server_log):
        with open(server_log, 'rb') as fp:
            fp.seek(max(0, os.path.getsize(server_log) - 8000))
            print("End of the server's log:\n"
                + fp.read().decode(errors='replace'))


def query(database, sql, *args):
    "The rows of the query sql of the SQLite database, read-only"
    connection = sqlite3.connect('file:%s?mode=ro' % database, uri=True)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


def picture_of_letter(letter, client, name):
    """Save the first page of the printed letter (an ODT file) as the next
    step, named name, when LibreOffice and pdftoppm (poppler-utils) are
    installed"""
    soffice = shutil.which('soffice') or shutil.which('libreoffice')
    pdftoppm = shutil.which('pdftoppm')
    if not soffice or not pdftoppm:
        return
    client.step += 1
    target = os.path.join(client.folder, '%02d-%s' % (client.step, name))
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
        # The visible box "Search": a list with a context (company, date)
        # has the fields of its context first, and the hidden search box of
        # the screen of its context
        entry = self.tab().locator(
            'input.form-control[placeholder="Search"]:visible').first
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

    def fill(self, entry, text):
        """Type text in entry and leave it, again until it holds text (a
        retry: what closes the race with the defaults of a wizard that
        the client writes over the inputs after showing it is
        wait_default first)"""
        def typed():
            entry.fill(text)
            entry.press('Tab')
            self.idle()
            return entry.input_value() == text
        assert process.wait_for(typed, TIMEOUT / 1000), (
            "The entry shows %r, not %r" % (entry.input_value(), text))

    def wait_default(self, entry):
        """Wait until entry shows a value: the defaults of its form or
        wizard are loaded (the client shows its busy sign only after a
        while, so idle does not say it)"""
        assert process.wait_for(entry.input_value, TIMEOUT / 1000), (
            "The entry stays empty")
