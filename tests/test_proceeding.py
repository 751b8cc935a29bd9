# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Collective proceedings: a customer put in receivership gets no more
reminders and its interest stops at the judgment; it is listed until its
claims are declared, and the declaration splits them into due and not yet
due."""
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.modules.currency.tests import add_currency_rate, create_currency
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

from .litigation_tools import (
    LADDER, add_invoice, agent, climb, fresh, litigation_file, professional,
    receivership, today)

JUDGMENT = dt.date(2026, 3, 31)
PUBLICATION = dt.date(2026, 4, 10)
# ECB main refinancing rate of 1 January 2026 (2.15 %) plus 10 points
RATE = D('0.1215')


def declared(proceeding):
    "The data of the declaration of proceeding"
    pool = Pool()
    Declaration = pool.get(
        'account.invoice.dunning.claim_declaration', type='report')
    return Declaration.get_declaration(proceeding, PUBLICATION, {})


def amount(text):
    "The number of an amount formatted with its currency"
    return text.split('\xa0')[0]


class ProceedingTestCase(unittest.TestCase):
    "Collective proceedings"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _receivership(self):
        """A professional customer with an invoice of 100 due on 4 February
        and reminded twice, another of 250 dated 20 March due 19 April, in
        receivership by judgment of 31 March published on 10 April"""
        company, invoices = create_invoices(1)
        with set_company(company):
            professional(invoices[0].party)
            climb(LADDER[:2])
            later = add_invoice(invoices[0], dt.date(2026, 3, 20), 250)
            mandataire = agent(None, "SELARL MJ Synergie")
            with today(dt.date(2026, 4, 2)):
                proceeding = receivership(invoices[0].party, JUDGMENT,
                    PUBLICATION, mandataire)
        return company, [invoices[0], later], proceeding

    @with_transaction()
    def test_receivership_stops_reminders_and_interest(self):
        """From the judgment: no reminder (the third reminder of the first
        invoice, the pre-reminder of the second are due), the invoices in
        collective proceedings, the interest stopped at the judgment"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        ModelData = pool.get('ir.model.data')
        Penalty = pool.get('account.invoice.dunning.penalty')
        company, invoices, proceeding = self._receivership()
        with set_company(company):
            self.assertEqual(proceeding.state, 'opened')
            self.assertEqual(proceeding.declaration_deadline,
                dt.date(2026, 6, 10))
            self.assertEqual({fresh(i).dunning_litigation for i in invoices},
                {'collective'})
            date = dt.date(2026, 4, 15)
            with today(date):
                self.assertEqual(Dunning.generate_dunnings(date=date), [])
            self.assertFalse(set(Dunning.candidate_invoices(
                        [company.id], date)) & {i.id for i in invoices})
            # 55 days of interest, from 4 February to 31 March, not 146
            level = Level(ModelData.get_id(MODULE, 'level_formal_notice'))
            penalties = Penalty.compute_penalties({
                    1: (invoices[0], level, dt.date(2026, 6, 30), D(100))})
            self.assertEqual(penalties[1].interest,
                (D(100) * RATE * 55 / 365).quantize(D('0.01')))
            self.assertEqual(penalties[1].interest, D('1.83'))
            # The same when the invoice is given by its id (a run)
            self.assertEqual(Penalty.compute_penalties({
                        1: (invoices[0].id, level, dt.date(2026, 6, 30),
                            D(100))}), penalties)

    @with_transaction()
    def test_reminders_run_before_the_judgment(self):
        "A run dated before the judgment still reminds the invoices"
        pool = Pool()
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        company, invoices, proceeding = self._receivership()
        with set_company(company):
            self.assertIn(invoices[0].id, Proceeding.suspended_invoices(
                    [company.id], JUDGMENT))
            self.assertNotIn(invoices[0].id, Proceeding.suspended_invoices(
                    [company.id], JUDGMENT - dt.timedelta(days=1)))

    @with_transaction()
    def test_declaration_deadline_list_until_declared(self):
        """Listed among the claims to declare 30 days before the deadline
        until declared"""
        pool = Pool()
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        company, invoices, proceeding = self._receivership()
        pending = [('declaration_pending', '=', True)]
        with set_company(company):
            with today(dt.date(2026, 5, 10)):
                self.assertEqual(Proceeding.search(pending), [])
            with today(dt.date(2026, 5, 12)):
                self.assertEqual(Proceeding.search(pending), [proceeding])
                self.assertTrue(fresh(proceeding).declaration_pending)
            # Late: still listed (relief from foreclosure)
            with today(dt.date(2026, 6, 15)):
                self.assertEqual(Proceeding.search(pending), [proceeding])
                Proceeding.declare([proceeding])
                self.assertEqual(Proceeding.search(pending), [])
            self.assertEqual(fresh(proceeding).declared_on,
                dt.date(2026, 6, 15))

    @with_transaction()
    def test_declaration_of_party(self):
        """Printed from the party (its own action, of the model of the
        party): the declaration of its proceeding"""
        pool = Pool()
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        ModelData = pool.get('ir.model.data')
        company, invoices, proceeding = self._receivership()
        with set_company(company):
            _, content, _, name = Declaration.execute(
                [proceeding.party.id], {
                    'model': 'party.party',
                    'action_id': ModelData.get_id(
                        MODULE, 'report_claim_declaration_party'),
                    })
            self.assertIn("391,83", zip_texts(content))
            self.assertIn(proceeding.party.rec_name, name)

    @with_transaction()
    def test_declaration_due_and_not_yet_due(self):
        """The declaration splits the claim at the judgment: the first
        invoice due with its interest to the judgment and the indemnity,
        the second not yet due"""
        pool = Pool()
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        company, invoices, proceeding = self._receivership()
        with set_company(company):
            letter = declared(proceeding)
            first, second = letter.claims
            self.assertEqual(
                (first.number, amount(first.due), amount(first.not_due)),
                (invoices[0].number, '100,00', '0,00'))
            self.assertEqual(
                (second.number, amount(second.due), amount(second.not_due)),
                (invoices[1].number, '0,00', '250,00'))
            self.assertEqual(
                (amount(first.interest), amount(first.indemnity)),
                ('1,83', '40,00'))
            self.assertEqual(
                (amount(second.interest), amount(second.indemnity)),
                ('0,00', '0,00'))
            self.assertEqual(amount(letter.total_due_claimed), '141,83')
            self.assertEqual(amount(letter.total_not_due), '250,00')
            self.assertEqual(amount(letter.total_total), '391,83')
            self.assertEqual(letter.recipient_name, "SELARL MJ Synergie")
            oext, content, _, _ = Declaration.execute(
                [proceeding.id], {'model': proceeding.__name__})
            text = zip_texts(content)
            for expected in ["Déclaration de créance", "À échoir",
                    "redressement judiciaire", "141,83", "250,00",
                    "391,83", "31 mars 2026", "chirographaire"]:
                self.assertIn(expected, text)

    @with_transaction()
    def test_declaration_converts_foreign_currency(self):
        """A claim invoiced in another currency is declared in euros at the
        rate of the day of the judgment (L. 622-25), not of the invoice,
        each part converted and the totals their sums, the recovery
        indemnity kept at the 40 EUR of the law; the declaration states
        the amount invoiced and the rate"""
        pool = Pool()
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        usd = create_currency('USD')
        # 1 USD = 0.8 EUR when invoiced, 0.625 EUR on the judgment
        add_currency_rate(usd, D('1.25'), date=dt.date(2026, 1, 1))
        add_currency_rate(usd, D('1.6'), date=dt.date(2026, 3, 1))
        company, (invoice,) = create_invoices(1, currency=usd)
        with set_company(company):
            professional(invoice.party)
            with today(dt.date(2026, 4, 2)):
                proceeding = receivership(
                    invoice.party, JUDGMENT, PUBLICATION)
            letter = declared(proceeding)
            claim, = letter.claims
            self.assertEqual(amount(claim.principal), "62,50")
            self.assertEqual(amount(claim.due), "62,50")
            self.assertTrue(claim.principal.endswith("EUR"))
            # The indemnity of the law is 40 EUR, converted into 50 USD at
            # the invoice date, back into 40 EUR, not 31.25 EUR
            self.assertEqual(amount(claim.indemnity), "40,00")
            conversion, = letter.conversions
            # 55 days of interest in USD: 1.83, 1.14 EUR
            interest = (D(100) * RATE * 55 / 365).quantize(D('0.01'))
            self.assertEqual(interest, D('1.83'))
            self.assertEqual(amount(claim.interest), "1,14")
            self.assertEqual(conversion.text, "Facture n°\u00a0%s\u00a0: "
                "101,83\u00a0USD au cours du 31 mars 2026 "
                "(1\u00a0USD = 0,625\u00a0EUR), soit 63,64\u00a0EUR, et "
                "l’indemnité forfaitaire pour frais de recouvrement de "
                "40,00\u00a0EUR" % invoice.number)
            # The parts converted, the total their sum
            parts = [D(amount(getattr(claim, n)).replace(',', '.'))
                for n in ['principal', 'interest', 'charges']]
            self.assertEqual(
                amount(letter.total_total).replace(',', '.'),
                str(sum(parts)))
            text = zip_texts(Declaration.execute(
                    [proceeding.id], {'model': proceeding.__name__})[1])
            self.assertIn("Créances en monnaie étrangère", text)
            self.assertIn("article L. 622-25", text)

    @with_transaction()
    def test_declaration_mentions(self):
        """The declaration states the sums not yet due with their due
        dates, the court seized of a claim (an application for an order
        to pay filed) and, for a privileged claim, where to write the
        nature of the privilege"""
        pool = Pool()
        Declaration = pool.get(
            'account.invoice.dunning.claim_declaration', type='report')
        Litigation = pool.get('account.invoice.dunning.litigation')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        company, invoices = create_invoices(1)
        with set_company(company):
            professional(invoices[0].party)
            climb(LADDER)
            later = add_invoice(invoices[0], dt.date(2026, 3, 20), 250)
            file = litigation_file(invoices[:1],
                court="Tribunal de commerce de Lyon")
            with today(dt.date(2026, 4, 10)):
                Litigation.file_in_court([file])
            with today(dt.date(2026, 4, 16)):
                proceeding = receivership(invoices[0].party,
                    dt.date(2026, 4, 15), dt.date(2026, 4, 24),
                    rank='privileged')
            letter = declared(proceeding)
            self.assertEqual(letter.conversions, [])
            line, = letter.not_due
            self.assertEqual(line.text, "Facture n°\u00a0%s\u00a0: "
                "250,00\u00a0EUR à échoir le 19 avril 2026" % later.number)
            suit, = letter.suits
            self.assertIn("requête en injonction de payer déposée le 10 "
                "avril 2026 au greffe du Tribunal de commerce de Lyon",
                suit.text)
            self.assertEqual(letter.rank, "privilégié")
            text = zip_texts(Declaration.execute(
                    [proceeding.id], {'model': proceeding.__name__})[1])
            for expected in ["à titre privilégié",
                    "Nature du privilège ou de la sûreté",
                    "Sommes à échoir et dates d’échéance",
                    "Instance en cours", "Bordereau des pièces"]:
                self.assertIn(expected, text)
            # The nature of the privilege recorded is printed, not a line
            # to fill in
            Proceeding.write([proceeding], {
                    'privilege': "Nantissement du fonds de commerce"})
            text = zip_texts(Declaration.execute(
                    [proceeding.id], {'model': proceeding.__name__})[1])
            self.assertIn("Nature du privilège ou de la sûreté : "
                "Nantissement du fonds de commerce", text)
            self.assertNotIn("......", text)
            Proceeding.write([proceeding], {'rank': 'ordinary'})
            text = zip_texts(Declaration.execute(
                    [proceeding.id], {'model': proceeding.__name__})[1])
            self.assertNotIn("Nature du privilège", text)
