# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The court file of a litigation file: the application for an order to pay
asks what the formal notice asked plus the interest since, lists its
evidence, and the evidence zip holds each invoice and letter and the
delivery of the registered letter; only the dunning users print them."""
import datetime as dt
import io
import unittest
import zipfile
from decimal import Decimal as D

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.modules.currency.tests import add_currency_rate, create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.tools import slugify

from .litigation_tools import (
    FORMAL_NOTICE, climb, fresh, litigation_file, professional, today)

FILED = dt.date(2026, 4, 30)
DELIVERED = dt.date(2026, 3, 28)
TRACKING = "1A 234 567 8901 2"
# ECB main refinancing rate of 1 January 2026 (2.15 %) plus 10 points
RATE = D('0.1215')


def amount(text):
    "The number of an amount formatted with its currency"
    return text.split('\xa0')[0]


def french(value):
    "A Decimal as the French documents write it"
    return str(value).replace('.', ',')


class CourtFileTestCase(unittest.TestCase):
    "Court files"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _in_court(self):
        """A professional customer with two invoices of 100 due on 4
        February, formally noticed on 26 March by a registered letter
        delivered on 28 March, taken to court on 30 April"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Litigation = pool.get('account.invoice.dunning.litigation')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            professional(invoices[0].party)
            notices = climb()
            dispatch, = {n.dispatch for n in notices}
            self.assertEqual(dispatch.channel, 'registered_letter')
            Dispatch.write([dispatch], {
                    'tracking_number': TRACKING,
                    'delivery_status': 'delivered',
                    'delivery_date': DELIVERED,
                    })
            file = litigation_file(invoices, reference="IP 2026/7")
            with today(FILED):
                Litigation.file_in_court([file])
        return company, invoices, notices, fresh(file)

    def _consumer_in_court(self):
        """A consumer with an invoice of 100 due on 4 February, formally
        noticed on 26 March by a registered letter delivered on 28 March,
        taken to court on 30 April"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Litigation = pool.get('account.invoice.dunning.litigation')
        Party = pool.get('party.party')
        company, invoices = create_invoices(1)
        with set_company(company):
            Party.write([invoices[0].party], {'customer_type': 'consumer'})
            notices = climb()
            dispatch, = {n.dispatch for n in notices}
            Dispatch.write([dispatch], {
                    'delivery_status': 'delivered',
                    'delivery_date': DELIVERED,
                    })
            file = litigation_file(invoices)
            with today(FILED):
                Litigation.file_in_court([file])
        return company, fresh(file)

    @with_transaction()
    def test_file_in_court(self):
        "Filing the file moves it and its invoices to court on that date"
        company, invoices, _, file = self._in_court()
        with set_company(company):
            self.assertEqual((file.state, file.filed_on),
                ('in_court', FILED))
            self.assertEqual({fresh(i).dunning_litigation for i in invoices},
                {'in_court'})
            self.assertEqual(file.court_kind_used, 'commercial')
            file.court_kind = 'judicial'
            file.save()
            self.assertEqual(fresh(file).court_kind_used, 'judicial')

    @with_transaction()
    def test_figures_formal_notice_plus_interest_since(self):
        """The court file asks each invoice's principal, interest and
        indemnity of the formal notice plus the interest from the notice to
        the filing: 100 x 12.15 % x 35 / 365"""
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        company, invoices, notices, file = self._in_court()
        with set_company(company):
            since = (D(100) * RATE * (FILED - FORMAL_NOTICE).days
                / 365).quantize(D('0.01'))
            self.assertEqual(since, D('1.17'))
            letter = CourtFile.get_court_file(file, FILED)
            by_number = {c.number: c for c in letter.claims}
            self.assertEqual(len(by_number), 2)
            for notice in notices:
                claim = by_number[notice.invoice.number]
                # 50 days at the notice: 1.66
                self.assertEqual(notice.interest_amount, D('1.66'))
                self.assertEqual(amount(claim.principal),
                    french(notice.amount))
                self.assertEqual(amount(claim.interest),
                    french(notice.interest_amount + since))
                self.assertEqual(amount(claim.indemnity),
                    french(notice.indemnity_amount))
                self.assertEqual(amount(claim.total), french(
                        notice.amount + notice.interest_amount + since
                        + notice.indemnity_amount))
            self.assertEqual(amount(letter.total_total), '285,66')
            self.assertEqual(letter.computed_at, "30 avril 2026")
            self.assertEqual(letter.court,
                "tribunal de commerce du lieu où demeure le débiteur")
            oext, content, _, _ = CourtFile.execute(
                [file.id], {'model': file.__name__})
            text = zip_texts(content)
            for expected in ["Requête en injonction de payer",
                    "Customer 0", "2,83", "285,66", "40,00",
                    "Bordereau des pièces", TRACKING, "28 mars 2026",
                    "tribunal de commerce", "à parfaire"]:
                self.assertIn(expected, text)

    @with_transaction()
    def test_court_file_in_currency_of_file(self):
        """A claim invoiced in another currency than the company's is
        asked in that currency, the currency of the file: its amounts are
        not printed as if they were in the company's"""
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        usd = create_currency('USD')
        add_currency_rate(usd, D('1.25'), date=dt.date(2026, 1, 1))
        company, invoices = create_invoices(1, currency=usd)
        with set_company(company):
            professional(invoices[0].party)
            file = litigation_file(invoices)
            letter = CourtFile.get_court_file(fresh(file), FILED)
            claim, = letter.claims
            self.assertEqual(claim.principal, "100,00\u00a0USD")
            self.assertTrue(letter.total_total.endswith("\u00a0USD"))
            self.assertNotIn("EUR", letter.demand)

    @with_transaction()
    def test_interest_basis_and_demand(self):
        """The interest of a professional runs from the day after the due
        date, that of a consumer from the formal notice at the legal rate
        (not "majoré de 0 points"); the court file of a consumer asks no
        recovery indemnity; the creditor acts through its legal
        representative"""
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        company, _, _, file = self._in_court()
        with set_company(company):
            letter = CourtFile.get_court_file(file, FILED)
            basis, = letter.interest_basis
            self.assertEqual(basis.since,
                "à compter du lendemain de l’échéance de chaque facture")
            self.assertEqual(basis.days, 365)
            self.assertIn("majoré de 10\u00a0points", basis.rate)
            self.assertEqual(basis.rates, "12,15\u00a0% au 1er semestre 2026")
            self.assertIn("d’indemnité forfaitaire pour frais de "
                "recouvrement", letter.demand)
            text = zip_texts(CourtFile.execute(
                    [file.id], {'model': file.__name__})[1])
            for expected in ["son représentant légal en exercice",
                    "sur la base d’une année de 365 jours",
                    "courus après le 30 avril 2026"]:
                self.assertIn(expected, text)
        company, file = self._consumer_in_court()
        with set_company(company):
            letter = CourtFile.get_court_file(file, FILED)
            self.assertEqual(file.court_kind_used, 'judicial')
            basis, = letter.interest_basis
            self.assertEqual(basis.since, "à compter de la mise en demeure")
            self.assertNotIn("majoré", basis.rate)
            self.assertFalse(letter.has_indemnity)
            self.assertNotIn("indemnité", letter.demand)
            text = zip_texts(CourtFile.execute(
                    [file.id], {'model': file.__name__})[1])
            self.assertIn("tribunal judiciaire", text)
            self.assertIn("à compter de la mise en demeure", text)
            self.assertNotIn("Indemnité forfaitaire", text)

    @with_transaction()
    def test_court_file_of_party(self):
        "Printed from the party: the court file of its open file"
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        ModelData = pool.get('ir.model.data')
        company, invoices, _, file = self._in_court()
        with set_company(company):
            _, content, _, _ = CourtFile.execute([file.party.id], {
                    'model': 'party.party',
                    'action_id': ModelData.get_id(
                        MODULE, 'report_court_file_party'),
                    })
            self.assertIn("285,66", zip_texts(content))

    @with_transaction()
    def test_evidence_zip(self):
        """The zip holds each invoice, each letter sent dated in its name,
        the tracking and delivery of the registered letter and the court
        file, numbered as the court file lists them"""
        pool = Pool()
        Evidence = pool.get(
            'account.invoice.dunning.court_file_evidence', type='report')
        company, invoices, notices, file = self._in_court()
        with set_company(company):
            oext, content, _, name = Evidence.execute(
                [file.id], {'model': file.__name__})
            self.assertEqual(oext, 'zip')
            with zipfile.ZipFile(io.BytesIO(content)) as zip_:
                names = zip_.namelist()
                csv = zip_.read(next(n for n in names
                        if 'lettres-recommandees' in n)).decode('utf-8-sig')
                court_file = zip_.read(next(n for n in names
                        if 'requete-injonction-de-payer' in n))
            stems = [n.split('-', 1)[1].rsplit('.', 1)[0] for n in names]
            self.assertEqual(
                [s for s in stems if s.startswith('facture-')],
                ['facture-%s' % slugify(i.number) for i in sorted(
                        invoices, key=lambda i: i.number)])
            dispatches = sorted({d.dispatch for i in invoices
                    for d in fresh(i).dunnings},
                key=lambda d: (d.date, d.id))
            self.assertEqual(len(dispatches), 4)
            letters = [slugify(d.letter_filename.rsplit('.', 1)[0])
                for d in dispatches]
            self.assertEqual([s for s in stems if s in letters], letters)
            for dispatch, letter in zip(dispatches, letters):
                self.assertIn(dispatch.date.isoformat(), letter)
            # 2 invoices, 4 letters, the tracking, the court file (and the
            # exchange log when there is one)
            self.assertIn(len(names), {8, 9})
            self.assertEqual(names[0][:3], '01-')
            self.assertIn(TRACKING, csv)
            self.assertIn(DELIVERED.isoformat(), csv)
            self.assertIn("distribuée", csv)
            self.assertIn("285,66", zip_texts(court_file))

    @with_transaction()
    def test_access_dunning_group_only(self):
        """An accountant reads the litigation files but prints neither the
        court file nor its evidence; a dunning user prints both"""
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        Evidence = pool.get(
            'account.invoice.dunning.court_file_evidence', type='report')
        ModelData = pool.get('ir.model.data')
        company, _, _, file = self._in_court()
        actions = {
            CourtFile: ModelData.get_id(MODULE, 'report_court_file'),
            Evidence: ModelData.get_id(MODULE, 'report_court_file_evidence'),
            }
        accountant = create_user('accountant', company, ['account'])
        dunning = create_user('dunning', company, ['account', 'dunning'])
        with as_user(accountant):
            file.__class__.read([file.id], ['state'])
            for report in [CourtFile, Evidence]:
                with self.subTest(report=report.__name__), \
                        self.assertRaises(AccessError):
                    report.execute([file.id], {
                            'model': file.__name__,
                            'action_id': actions[report]})
        with as_user(dunning):
            for report in [CourtFile, Evidence]:
                with self.subTest(report=report.__name__):
                    self.assertTrue(report.execute([file.id], {
                                'model': file.__name__,
                                'action_id': actions[report]})[1])
