# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The hand-off export for an agency: the files handed over give a zip of a
CSV (one line an invoice, its claim as the court file computes it) and of
the documents of each file; a file still amicable is refused, and only the
dunning users of the company export."""
import csv
import datetime as dt
import io
import unittest
import zipfile

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.litigation_common import (
    LitigationError, LitigationWarning)
from trytond.modules.account_invoice_dunning.litigation_export import COLUMNS
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.tools import slugify
from trytond.transaction import Transaction

from .litigation_tools import (
    agent, climb, fresh, litigation_file, professional, skip_warnings, today)

HANDED_ON = dt.date(2026, 4, 20)
COMPUTED_AT = dt.date(2026, 4, 30)
DELIVERED = dt.date(2026, 3, 28)
TRACKING = "1A 234 567 8901 2"
SIREN = '552008443'
VAT = 'FR19552008443'


def set_up_debtor(party):
    """A professional debtor with its SIREN, VAT number, address, email
    and phone"""
    pool = Pool()
    Address = pool.get('party.address')
    Country = pool.get('country.country')
    ContactMechanism = pool.get('party.contact_mechanism')
    Identifier = pool.get('party.identifier')
    professional(party)
    france, = (Country.search([('code', '=', 'FR')])
        or Country.create([{'name': "France", 'code': 'FR'}]))
    Address.write(list(party.addresses), {
            'street_unstructured': "12 rue de la Paix\nBâtiment B",
            'postal_code': '75002',
            'city': "Paris",
            'country': france.id,
            })
    Identifier.create([
            {'party': party.id, 'type': 'fr_siren', 'code': SIREN},
            {'party': party.id, 'type': 'eu_vat', 'code': VAT},
            ])
    ContactMechanism.create([
            {'party': party.id, 'type': 'email',
                'value': 'compta@client.example'},
            {'party': party.id, 'type': 'phone', 'value': '+33142685300'},
            ])


def run_export(files, date=COMPUTED_AT):
    """Run the wizard on files as the RPC calls would: (file name, zip
    content)"""
    pool = Pool()
    HandOff = pool.get(
        'account.invoice.dunning.litigation.handoff', type='wizard')
    ModelData = pool.get('ir.model.data')
    context = {
        'active_model': 'account.invoice.dunning.litigation',
        'active_id': files[0].id,
        'active_ids': [f.id for f in files],
        'action_id': ModelData.get_id(MODULE, 'wizard_litigation_handoff'),
        }
    with Transaction().set_context(context):
        session_id, _, _ = HandOff.create()
        HandOff.execute(session_id, {}, 'start')
        result = HandOff.execute(
            session_id, {'start': {'date': date}}, 'export')
        HandOff.delete(session_id)
    defaults = result['view']['defaults']
    return defaults['filename'], bytes(defaults['file'])


def read_zip(content):
    "(names, [CSV row as a dictionary]) of the zip content"
    with zipfile.ZipFile(io.BytesIO(content)) as zip_:
        names = zip_.namelist()
        text = zip_.read('handoff.csv').decode('utf-8')
    # The byte order mark for the spreadsheets
    assert text.startswith('\ufeff')
    reader = csv.reader(io.StringIO(text[1:]), delimiter=';')
    header, *lines = list(reader)
    return names, header, [dict(zip(header, l)) for l in lines]


class HandOffTestCase(unittest.TestCase):
    "The hand-off export for an agency"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _handed_over(self, agents=None):
        """Two professional customers with invoices of 100 dated 5 January,
        due 4 February, formally noticed on 26 March (the registered letter
        of the first delivered on 28 March), their files handed over on 20
        April: the first customer's two invoices to an agency, the second
        customer's invoice to the same agency, or to agents"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, invoices = create_invoices(3, parties=2)
        with set_company(company):
            first, second = invoices[0].party, invoices[1].party
            set_up_debtor(first)
            professional(second)
            notices = climb()
            dispatch, = {n.dispatch for n in notices
                if n.party == first}
            Dispatch.write([dispatch], {
                    'tracking_number': TRACKING,
                    'delivery_status': 'delivered',
                    'delivery_date': DELIVERED,
                    })
            agents = agents or [agent('agency', "Recouvre SAS")] * 2
            files = [
                litigation_file([i for i in invoices if i.party == party],
                    agent_, HANDED_ON, reference=reference,
                    fees="12 % of the amounts recovered")
                for party, agent_, reference in zip(
                    [first, second], agents, ["R-001", "R-002"])]
            with today(HANDED_ON):
                Litigation.hand_over(files)
        return company, invoices, [fresh(f) for f in files]

    @with_transaction()
    def test_export_two_files(self):
        """The zip holds the CSV, one line an invoice with the claim at the
        date (100 + 100 x 12.15 % x 85 / 365 + 40), and a folder a file with
        its invoices, its letters and nothing else"""
        company, invoices, files = self._handed_over()
        with set_company(company):
            filename, content = run_export(files)
            self.assertEqual(filename, 'handoff-Recouvre-SAS-2026-04-30.zip')
            names, header, rows = read_zip(content)
        self.assertEqual(header, COLUMNS)
        self.assertEqual([r['invoice_number'] for r in rows],
            [invoices[0].number, invoices[2].number, invoices[1].number])
        self.check_claims(rows, names)
        self.check_parties(rows, files)
        # The CSV first, then each file's invoices and its four letters
        self.assertEqual(names[0], 'handoff.csv')
        for file, file_invoices in [
                (files[0], [invoices[0], invoices[2]]),
                (files[1], [invoices[1]])]:
            folder = slugify(file.rec_name)
            stems = [n[len(folder) + 1:].rsplit('.', 1)[0] for n in names
                if n.startswith(folder + '/')]
            self.assertEqual(
                [s for s in stems if s.startswith('invoice-')],
                ['invoice-%s' % slugify(i.number) for i in file_invoices])
            letters = [s for s in stems if s.startswith('letter-')]
            self.assertEqual(len(letters), 4)
            self.assertTrue(letters[-1].endswith('2026-03-26'))
            self.assertEqual(len(stems), len(file_invoices) + 4
                + ('exchanges' in stems))

    def check_claims(self, rows, names):
        """Each invoice: 100 left, 2.83 of interest (100 x 12.15 % x 85 /
        365), the indemnity of 40, its copy in the zip"""
        for row in rows:
            with self.subTest(invoice=row['invoice_number']):
                self.assertEqual(
                    [row[c] for c in ['invoice_date', 'due_date', 'currency',
                            'original_amount', 'remaining_amount',
                            'interest', 'indemnity', 'penalty_fee',
                            'total_claimed', 'computed_at',
                            'litigation_state', 'last_reminder_level',
                            'last_reminder_date', 'formal_notice_date',
                            'handed_on', 'agent_name', 'agent_kind']],
                    ['2026-01-05', '2026-02-04', 'EUR', '100.00', '100.00',
                        '2.83', '40.00', '0.00', '142.83', '2026-04-30',
                        'handed_over', "Formal Notice", '2026-03-26',
                        '2026-03-26', '2026-04-20', "Recouvre SAS",
                        'agency'])
                self.assertIn(row['invoice_document'], names)
                self.assertTrue(row['invoice_document'].startswith(
                        row['documents'] + '/invoice-'))

    def check_parties(self, rows, files):
        """The file, the debtor and the delivery of the formal notice of
        the first customer; the second has none of them"""
        first, _, second = rows
        self.assertEqual(
            [first[c] for c in ['file_id', 'file_reference', 'file_state',
                    'fees_agreed', 'debtor_name', 'debtor_siren',
                    'debtor_registration', 'debtor_vat', 'debtor_street',
                    'debtor_postal_code', 'debtor_city', 'debtor_country',
                    'debtor_email', 'debtor_phone',
                    'formal_notice_tracking', 'formal_notice_delivery',
                    'formal_notice_delivery_date', 'documents']],
            [str(files[0].id), "R-001", 'handed_over',
                "12 % of the amounts recovered", "Customer 0", SIREN,
                "SIREN 552 008 443", VAT, "12 rue de la Paix, Bâtiment B",
                '75002', "Paris", 'FR', 'compta@client.example',
                '+33142685300', TRACKING, 'delivered', '2026-03-28',
                slugify(files[0].rec_name)])
        # As the letters print it (the French postal format)
        self.assertEqual(first['debtor_address'],
            "12 RUE DE LA PAIX, BÂTIMENT B, 75002 PARIS, FRANCE")
        self.assertEqual(
            [second[c] for c in ['file_id', 'debtor_name', 'debtor_siren',
                    'debtor_address', 'formal_notice_tracking',
                    'formal_notice_delivery']],
            [str(files[1].id), "Customer 1", '', '', '', ''])

    @with_transaction()
    def test_amicable_file_refused(self):
        """A draft file (its invoices amicable) is refused when the wizard
        opens and when it exports, even with a file handed over"""
        pool = Pool()
        HandOff = pool.get(
            'account.invoice.dunning.litigation.handoff', type='wizard')
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, invoices, files = self._handed_over()
        with set_company(company):
            # Taken back: its invoice is amicable again, in a new draft
            Litigation.take_back([files[1]])
            taken_back = fresh(files[1])
            draft = litigation_file(taken_back.invoices)
            self.assertEqual(
                fresh(taken_back.invoices[0]).dunning_litigation, 'amicable')
            for selected in [[draft], [files[0], draft], [taken_back]]:
                with self.subTest(files=[f.state for f in selected]), \
                        Transaction().set_context(
                            active_model=Litigation.__name__,
                            active_ids=[f.id for f in selected]):
                    session_id, _, _ = HandOff.create()
                    with self.assertRaises(LitigationError):
                        HandOff.execute(session_id, {}, 'start')
                    with self.assertRaises(LitigationError):
                        HandOff.execute(session_id,
                            {'start': {'date': COMPUTED_AT}}, 'export')

    @with_transaction()
    def test_different_agents_warned(self):
        "Files of different agents exported together: a warning first"
        company, _, files = self._handed_over(agents=[
                agent('agency', "Recouvre SAS"), agent('lawyer', "Me Durand")])
        with set_company(company):
            with self.assertRaises(LitigationWarning):
                run_export(files)
            with skip_warnings():
                filename, content = run_export(files)
            self.assertEqual(filename, 'handoff-2026-04-30.zip')
            self.assertEqual(len(read_zip(content)[2]), 3)

    @with_transaction()
    def test_access(self):
        """Only the dunning users (and the account administrators) of the
        company export: not a user without group, not an accountant, not a
        dunning user of another company"""
        company, _, files = self._handed_over()
        other_company = create_company(name="Other Company")
        nobody = create_user('nobody', company)
        accountant = create_user('accountant', company, ['account'])
        other = create_user('other', other_company, ['account', 'dunning'])
        dunning = create_user('dunning', company, ['account', 'dunning'])
        for user in [nobody, accountant, other]:
            with self.subTest(user=user.login), as_user(user), \
                    self.assertRaises(AccessError):
                run_export(files)
        with as_user(dunning):
            _, content = run_export(files)
        self.assertEqual(len(read_zip(content)[2]), 3)
