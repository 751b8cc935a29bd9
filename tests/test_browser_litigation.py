# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A customer in receivership in Tryton's web client, driven by a real
browser.

On the demo database of the browser tests, served with the web client (the
fixture demo_web of tests/conftest.py, built once with tests/test_browser.py),
the accountant finds the customer in receivership of the demo among the
claims to declare (Financial > Invoice Dunnings > Claims to Declare), opens
it from Parties > Parties: its tab Litigation shows its collective
proceeding (receivership, judgment date, mandataire), and prints its
declaration of claim with Print > Declaration of Claim: an OpenDocument
text naming the debtor, the mandataire, each invoice moved to the
proceeding and the total the module declares. A screenshot of each step
(and a picture of the declaration) is saved in
screenshots/browser-litigation-<timestamp>/.

Runs on SQLite only. Alone: .venv/bin/python -m pytest
tests/test_browser_litigation.py
"""
import datetime as dt
import os
import re
import subprocess
import sys
import zipfile

import pytest

from trytond.modules.account_invoice_dunning.tests.browser_tools import (
    TIMEOUT, picture_of_letter, query, web, web_client)

pytestmark = pytest.mark.skipif(
    os.environ.get('TRYTOND_DATABASE__URI', '').startswith('postgresql'),
    reason="the browser test drives trytond on a SQLite demo database: "
    "it runs with the SQLite pass of the suite only")

# The folder of the screenshots (the fixture screenshots)
SCREENSHOTS = 'browser-litigation'
DATE_FORMAT = '%m/%d/%Y'  # the dates of the client of the admin (English)

# The total the module declares for a proceeding, computed in a process of
# its own on the demo database (this process has the configuration of the
# tests): python -c DECLARED config database proceeding-id
DECLARED = """
import datetime as dt
import sys

from trytond.config import config
config.update_etc(sys.argv[1])
from trytond.pool import Pool
from trytond.transaction import Transaction

database, proceeding_id = sys.argv[2], int(sys.argv[3])
Pool.start()
pool = Pool(database)
pool.init()
User = pool.get('res.user')
with Transaction().start(database, 0, readonly=True):
    admin, = User.search([('login', '=', 'admin')])
with Transaction().start(database, admin.id, readonly=True):
    with Transaction().set_context(User.get_preferences(context_only=True)):
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        letter = Declaration.get_declaration(
            Proceeding(proceeding_id), dt.date.today(), {})
        print(letter.total_total)
"""


def test_receivership_in_web_client(demo_web, tmp_path, screenshots):
    receivership = find_receivership(demo_web)
    with web_client(str(tmp_path), demo_web.url, screenshots,
            demo_web.log) as client:
        client.login('admin', 'admin')
        client.shot('home')
        claims_to_declare(client, receivership)
        open_party(client, receivership)
        declaration = print_declaration(client, receivership, screenshots)
        picture_of_letter(declaration, client, 'declaration-of-claim')


def find_receivership(demo):
    """The receivership of the demo: its proceeding, party, judgment,
    mandataire, the numbers of its invoices moved to it and the total
    declared"""
    rows = query(demo.database,
        'SELECT r.id, p.name, r.judgment_date, m.name, r.state '
        'FROM account_invoice_dunning_proceeding r '
        'JOIN party_party p ON p.id = r.party '
        'JOIN party_party m ON m.id = r.mandataire '
        "WHERE r.kind = 'receivership'")
    assert len(rows) == 1, "The demo has one receivership: %s" % rows
    (proceeding_id, party, judgment, mandataire, state), = rows
    assert state == 'opened', state
    numbers = [n for n, in query(demo.database,
            'SELECT i.number FROM account_invoice i '
            'JOIN party_party p ON p.id = i.party '
            "WHERE p.name = ? AND i.dunning_litigation = 'collective' "
            'ORDER BY i.number', party)]
    assert numbers, "No invoice of %s in collective proceedings" % party
    return dict(id=proceeding_id, party=party, mandataire=mandataire,
        judgment=dt.date.fromisoformat(judgment).strftime(DATE_FORMAT),
        numbers=numbers,
        total=declared_total(demo, proceeding_id))


def declared_total(demo, proceeding_id):
    "The total the module declares for the proceeding, as printed"
    env = web.clean_environment()
    env['PYTHONWARNINGS'] = 'ignore'
    result = subprocess.run([sys.executable, '-c', DECLARED, demo.config,
            web.DATABASE, str(proceeding_id)],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    total = result.stdout.strip().splitlines()[-1]
    assert re.search(r'\d,\d\d', total), total
    return total


def claims_to_declare(client, receivership):
    """The receivership is among the claims to declare, with its judgment
    and its mandataire"""
    client.open_menu(['Financial', 'Invoice Dunnings', 'Claims to Declare'])
    rows = client.wait_rows(lambda rows: any(
            r.get('Debtor') == receivership['party'] for r in rows),
        "The claims to declare do not list %s" % receivership['party'])
    row, = [r for r in rows if r['Debtor'] == receivership['party']]
    assert row['Kind'] == 'Receivership', row
    assert row['Judgment Date'] == receivership['judgment'], row
    assert row['Mandataire'] == receivership['mandataire'], row
    client.shot('claims-to-declare')


def open_party(client, receivership):
    """Parties > Parties: the party's tab Litigation shows its collective
    proceeding"""
    party = receivership['party']
    client.open_menu(['Parties', 'Parties'])
    client.search(party)
    client.wait_rows(lambda rows: any(r.get('Name') == party for r in rows),
        "The search of the party %s" % party)
    client.open_row('Name', party, click='Name')
    client.switch_tab('Litigation')
    proceedings = client.tab().locator('.form-one2many').filter(
        has=client.page.locator('.form-one2many-string',
            has_text='Collective Proceedings')).first
    proceedings.wait_for(timeout=TIMEOUT)
    row = proceedings.locator('table.tree > tbody > tr').filter(
        has=client.page.locator('td[data-title="Judgment Date: "]',
            has_text=receivership['judgment'])).first
    row.wait_for(timeout=TIMEOUT)
    assert row.locator('td[data-title="Mandataire: "]').inner_text(
        ).strip() == receivership['mandataire']
    assert row.locator('td[data-title="Kind: "]').inner_text(
        ).strip() == 'Receivership'
    client.shot('party-proceeding')


def print_declaration(client, receivership, screenshots):
    """Print > Declaration of Claim on the party: the declaration of its
    receivership, downloaded; return its path"""
    item = client.dropdown_item('Print report', 'Declaration of Claim')
    client.shot('print-menu')
    with client.page.expect_download(timeout=TIMEOUT) as download_info:
        item.click()
    download = download_info.value
    name = download.suggested_filename
    assert name.startswith('Declaration of Claim'), name
    assert name.endswith('.odt'), name
    path = os.path.join(screenshots, name)
    download.save_as(path)
    assert os.path.getsize(path) > 0
    with zipfile.ZipFile(path) as odt:
        content = odt.read('content.xml').decode('utf-8')
    # The text, its spaces (no-break ones included) as single spaces
    text = re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', content))
    for expected in ["Déclaration de créance", "redressement judiciaire",
            receivership['party'], receivership['mandataire'],
            receivership['total']] + receivership['numbers']:
        expected = re.sub(r'\s+', ' ', expected)
        assert expected in text, "%r not in the declaration" % expected
    client.shot('declaration-printed')
    return path
