# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The Dunning Board in Tryton's web client, driven by a real browser.

On the demo database of the browser tests, served with the web client (the
fixture demo_web of tests/conftest.py, built once with tests/test_browser.py),
the accountant opens Financial > Invoice Dunnings > Analysis > Dunning Board:
each of its four graphs draws (bars or a line of points, of non-zero size);
a click on the highest bar of an overdue age opens the customer invoices
behind it: as many as the invoices of the rows of that age in the Overdue
Analysis, whose amounts sum to the bar, of the same parties; Relate >
Invoices on those rows opens the same invoices. A screenshot of each step is
saved in screenshots/browser-board-<timestamp>/.

BOARD_SCREENSHOT=<path> saves the screenshot of the board there too (made
smaller with pngquant when installed): doc/usage/analysis_board.png is the
board of the full demo, made once with
    .venv/bin/python scripts/demo.py --output /tmp/demo --no-today --no-pdf
    BROWSER_TEST_DATABASE=/tmp/demo/demo.sqlite \
    BOARD_SCREENSHOT=doc/usage/analysis_board.png \
    .venv/bin/python -m pytest tests/test_browser_board.py

Runs on SQLite only. Alone: .venv/bin/python -m pytest
tests/test_browser_board.py
"""
import os
import re
import shutil
import subprocess
import time
from decimal import Decimal

import pytest

from trytond.modules.account_invoice_dunning.tests.browser_tools import (
    TIMEOUT, query, web_client)

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE__URI', '').startswith('postgresql'),
    reason="the browser test drives trytond on a SQLite demo database: "
    "it runs with the SQLite pass of the suite only")

# The folder of the screenshots (the fixture screenshots)
SCREENSHOTS = 'browser-board'
ANALYSIS = ['Financial', 'Invoice Dunnings', 'Analysis']
# The graphs of the board: their title and what they draw
GRAPHS = {
    "Overdue by Age": 'bar',
    "Overdue by Segment": 'bar',
    "DSO Trend": 'line',
    "Paid within 15 Days of a Reminder": 'bar',
    }
NOT_DUE = "Not Due"

# JavaScript: the shapes of the graph of the board of title, drawn as SVG by
# billboard.js: [width, height] of its bars and of its lines, its points
# and the labels of its x axis
GRAPH_SHAPES = """(title) => {
    const panel = [...document.querySelectorAll('.board-action')].find(
        p => p.querySelector('.panel-heading').innerText.trim() === title);
    if (!panel) {
        return null;
    }
    const size = (e) => {
        const box = e.getBBox();
        return [box.width, box.height];
    };
    return {
        bars: [...panel.querySelectorAll('svg path.bb-bar')].map(size),
        lines: [...panel.querySelectorAll('svg path.bb-line')].map(size),
        points: panel.querySelectorAll('svg circle.bb-circle').length,
        ticks: [...panel.querySelectorAll('svg .bb-axis-x .tick text')]
            .map(t => t.textContent),
    };
}"""
# JavaScript: the categories and the values of the latest chart drawn in the
# graph of the board of title
GRAPH_DATA = """(title) => {
    const charts = bb.instance.filter(c => {
        const panel = c.$.chart.node().closest('.board-action');
        return panel && panel.querySelector('.panel-heading')
            .innerText.trim() === title;
    });
    const chart = charts[charts.length - 1];
    return {
        categories: chart.categories(),
        series: chart.data().map(d => d.values.map(v => v.value)),
    };
}"""


def test_board_in_web_client(demo_web, tmp_path, screenshots):
    with web_client(str(tmp_path), demo_web.url, screenshots,
            demo_web.log) as client:
        # The four graphs at once
        client.page.set_viewport_size({'width': 1920, 'height': 1300})
        client.login('admin', 'admin')
        open_board(client)
        age, amount = highest_overdue_bar(client)
        numbers, parties = click_bar(client, age)
        check_invoices(demo_web.database, numbers)
        rows = overdue_rows(client, age)
        assert sum(Decimal(number(r['Amount'])) for r in rows) == amount
        assert sum(int(r['Invoices']) for r in rows) == len(numbers)
        assert {r['Party'] for r in rows} == parties
        assert relate_invoices(client, age) == numbers
        print("The bar %s of %s: the invoices %s" % (
                age, amount, ', '.join(numbers)))


def open_board(client):
    "Opens the board; waits until each graph has drawn"
    client.open_menu(ANALYSIS + ['Dunning Board'])
    deadline = time.monotonic() + TIMEOUT / 1000
    for title, kind in GRAPHS.items():
        while not drawn(client.page.evaluate(GRAPH_SHAPES, title), kind):
            assert time.monotonic() < deadline, (
                "The graph %s of the board does not draw: %s"
                % (title, client.page.evaluate(GRAPH_SHAPES, title)))
            client.page.wait_for_timeout(300)
    path = client.shot('board')
    target = os.environ.get('BOARD_SCREENSHOT')
    if target:
        save_small(client.tab(), path, target)


def drawn(shapes, kind):
    """If the shapes of a graph draw it: a bar at least of some height (for
    a bar graph) or a line with a point for each label of its axis"""
    if not shapes or not shapes['ticks']:
        return False
    if kind == 'bar':
        return any(w > 0 and h > 0 for w, h in shapes['bars'])
    return (any(w > 0 for w, _ in shapes['lines'])
        and shapes['points'] == len(shapes['ticks']))


def save_small(tab, path, target):
    """Save the board (the tab, without the menu) to target, its colours
    reduced with pngquant when installed"""
    tab.screenshot(path=target)
    pngquant = shutil.which('pngquant')
    if pngquant:
        subprocess.run([pngquant, '--force', '--skip-if-larger',
                '--output', target, '--', target],
            timeout=60, check=False)
    print("Screenshot of the board in %s (%d bytes), from %s" % (
            target, os.path.getsize(target), path))


def highest_overdue_bar(client):
    "The age and the amount of the highest bar of an overdue age"
    data = client.page.evaluate(GRAPH_DATA, "Overdue by Age")
    amounts, = data['series']
    bars = [(a, c) for c, a in zip(data['categories'], amounts)
        if c != NOT_DUE and a]
    assert bars, "No overdue age in the graph: %s" % data
    amount, age = max(bars)
    return age, Decimal(str(amount)).quantize(Decimal('0.01'))


def click_bar(client, age):
    """Clicks the bar of age: a tab lists the invoices behind it; return
    their numbers and parties"""
    page = client.page
    data = page.evaluate(GRAPH_DATA, "Overdue by Age")
    index = data['categories'].index(age)
    panel = page.locator('.board-action').filter(
        has=page.locator('.panel-heading', has_text="Overdue by Age"))
    bar = panel.locator('svg path.bb-bar-%d' % index).first
    box = bar.bounding_box()
    tabs = client.page.locator('#tabcontent > .tab-pane').count()
    # The chart takes the clicks on a rectangle above its bars
    page.mouse.click(box['x'] + box['width'] / 2,
        box['y'] + box['height'] / 2)
    invoices = invoices_tab(client, tabs, age, 'bar-invoices')
    # Closed: the client would show it again for the same invoices
    page.locator('#tablist li.active button.close').click()
    deadline = time.monotonic() + TIMEOUT / 1000
    while page.locator('#tabcontent > .tab-pane').count() > tabs:
        assert time.monotonic() < deadline, "The tab does not close"
        page.wait_for_timeout(200)
    return invoices


def invoices_tab(client, tabs, age, shot):
    """The numbers and the parties of the invoices listed by the tab of the
    invoices of age opened after the tabs"""
    title = "Customer Invoices (%s)" % age
    deadline = time.monotonic() + TIMEOUT / 1000
    while client.page.locator('#tabcontent > .tab-pane').count() <= tabs:
        assert time.monotonic() < deadline, "No tab %s opens" % title
        client.page.wait_for_timeout(200)
    client.page.locator('#tablist li.active').get_by_text(
        title).first.wait_for(timeout=TIMEOUT)
    rows = client.wait_rows(lambda rows: rows and 'Number' in rows[0]
        and len(rows) == size(client), "The tab %s" % title)
    client.shot(shot)
    numbers = sorted(r['Number'] for r in rows)
    assert len(set(numbers)) == len(numbers), numbers
    return numbers, {r['Party'] for r in rows}


def size(client):
    """The number of records of the list of the tab, as its badge shows it
    (name/size, or name@loaded/size)"""
    badge = client.tab().locator('.badge').first.inner_text()
    found = re.search(r'/(\d+)$', badge.strip())
    return int(found.group(1)) if found else None


def check_invoices(database, numbers):
    "The invoices of numbers are customer invoices posted in the database"
    for number in numbers:
        assert query(database, 'SELECT type, state FROM account_invoice '
            'WHERE number = ?', number) == [('out', 'posted')], number


def overdue_rows(client, age):
    "The rows of age of the Overdue Analysis"
    client.open_menu(ANALYSIS + ['Overdue Analysis'])
    client.search('Age: "%s"' % age)
    rows = client.wait_rows(lambda rows: rows and all(
            r['Age'] == age for r in rows) and len(rows) == size(client),
        "The Overdue Analysis of the age %s" % age)
    client.shot('overdue-analysis')
    return rows


def relate_invoices(client, age):
    "Relate > Invoices on the rows listed: the numbers of the invoices"
    client.select_all()
    tabs = client.page.locator('#tabcontent > .tab-pane').count()
    client.dropdown_item('Open related records', 'Invoices').click()
    numbers, _ = invoices_tab(client, tabs, age, 'relate-invoices')
    return numbers


def number(text):
    "The number of an amount shown in a list"
    return re.sub(r'[^0-9.\-]', '', text)
