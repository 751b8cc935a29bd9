# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment penalties by the country of the customer, pinned on examples
computed by hand (issue 18).

The rates are those shipped as data (rate_data.xml): ECB main refinancing
rate 2.15 % on 1 January 2026, German base rate 1.27 % on 1 January 2026.
The invoices of 5 January 2026 fall due on 4 February 2026; 30 days late on
6 March 2026. Interest counts 365 days a year."""
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.account_invoice_dunning.penalty_scale import (
    graduated_amount)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, QueryCounter, activate_with_company, create_invoices,
    ignore_cache_queries, load_translations)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

D = Decimal
INVOICE_DATE = dt.date(2026, 1, 5)
LATE_30 = dt.date(2026, 3, 6)
NAMES = {'BE': "Belgium", 'CH': "Switzerland", 'DE': "Germany",
    'ES': "Spain", 'FR': "France", 'IT': "Italy", 'NL': "Netherlands"}
# The Belgian indemnity of consumers and the Dutch collection costs
BE_SCALE = [(D(0), D(20), D(0)), (D(150), D(30), D('0.10')),
    (D(500), D(65), D('0.05'))]
NL_SCALE = [(D(0), D(0), D('0.15')), (D(2500), D(375), D('0.10')),
    (D(5000), D(625), D('0.05')), (D(10000), D(875), D('0.01')),
    (D(200000), D(2775), D('0.005'))]


def ref(xml_id):
    return Pool().get('ir.model.data').get_id(MODULE, xml_id)


def country(code):
    "The country of code, created once"
    Country = Pool().get('country.country')
    countries = Country.search([('code', '=', code)])
    if countries:
        return countries[0]
    return Country.create([{'name': NAMES[code], 'code': code}])[0]


def set_country(invoices, code):
    "Put the invoice addresses of invoices in the country of code"
    Address = Pool().get('party.address')
    Address.write(list({i.invoice_address for i in invoices}),
        {'country': country(code).id if code else None})


class ScaleTestCase(unittest.TestCase):
    "The graduated scales, by hand"

    def test_belgian_consumer_scale(self):
        """20 EUR up to 150 EUR; 30 EUR + 10 % of the part above 150 up to
        500 EUR; 65 EUR + 5 % of the part above 500, at most 2,000 EUR"""
        for base, amount in [(D(120), D(20)), (D(150), D(20)),
                (D('150.01'), D('30.001')), (D(400), D(55)),
                (D(500), D(65)), (D(1200), D(100)), (D(38700), D(1975)),
                (D(100000), D(2000))]:
            self.assertEqual(
                graduated_amount(base, BE_SCALE, None, D(2000)), amount,
                base)

    def test_dutch_collection_costs(self):
        """15 % of the first 2,500 EUR (at least 40 EUR), 10 % of the next
        2,500, 5 % of the next 5,000, 1 % of the next 190,000, 0.5 % above,
        at most 6,775 EUR"""
        for base, amount in [(D(200), D(40)), (D(1200), D(180)),
                (D(2500), D(375)), (D(6000), D(675)), (D(10000), D(875)),
                (D(200000), D(2775)), (D(1000000), D(6775)),
                (D(3000000), D(6775))]:
            self.assertEqual(
                graduated_amount(base, NL_SCALE, D(40), D(6775)), amount,
                base)

    def test_nothing_owed_nothing_charged(self):
        self.assertEqual(graduated_amount(D(0), NL_SCALE, D(40)), 0)


class CountryRulesTestCase(unittest.TestCase):
    "The penalties of the customers of each country, from the database"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _invoice(self, code, customer_type='professional', amount=1200):
        pool = Pool()
        Party = pool.get('party.party')
        company, (invoice,) = create_invoices(
            1, date=INVOICE_DATE, amount=amount)
        Party.write([invoice.party], {'customer_type': customer_type})
        set_country([invoice], code)
        return company, invoice

    def _penalties(self, invoice, date=LATE_30,
            level='level_second_reminder'):
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Penalty = pool.get('account.invoice.dunning.penalty')
        return Penalty.compute_penalties({
                0: (invoice, Level(ref(level)), date, D(0))})[0]

    def _formal_notice(self, company, invoice, date):
        "Process a formal notice of invoice on date"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        notice = Level(ref('level_formal_notice'))
        dunning, = Dunning.create([{
                    'company': company.id,
                    'invoice': invoice.id,
                    'party': invoice.party.id,
                    'procedure': notice.procedure.id,
                    'level': notice.id,
                    'channel': notice.channel,
                    'date': date,
                    'currency': invoice.currency.id,
                    'amount': invoice.total_amount,
                    }])
        Dunning.process([dunning])

    @with_transaction()
    def test_germany_professional(self):
        "Base rate 1.27 % + 9 points and 40 EUR (BGB 288 (2) and (5))"
        # 1200 x 10.27 % x 30 / 365 = 10.12931... -> 10.13
        company, invoice = self._invoice('DE')
        with set_company(company):
            penalties = self._penalties(invoice)
        self.assertEqual(penalties, (D('10.13'), D('40.00'), D(0), None))

    @with_transaction()
    def test_germany_consumer(self):
        """Base rate + 5 points from the formal notice, no 40 EUR (BGB 288
        (1) and (5))"""
        # Formal notice on 26 March 2026, 30 days later on 25 April:
        # 1200 x 6.27 % x 30 / 365 = 6.18410... -> 6.18
        company, invoice = self._invoice('DE', 'consumer')
        with set_company(company):
            self.assertEqual(self._penalties(invoice), (0, 0, 0, None))
            self._formal_notice(company, invoice, dt.date(2026, 3, 26))
            penalties = self._penalties(invoice, dt.date(2026, 4, 25),
                'level_formal_notice')
        self.assertEqual(penalties, (D('6.18'), D(0), D(0), None))

    @with_transaction()
    def test_belgium_professional_rounding(self):
        """ECB 2.15 % + 8 points = 10.15 %, rounded up to the next half
        point: 10.5 % (law of 2 August 2002, article 5), and 40 EUR"""
        # 1200 x 10.5 % x 30 / 365 = 10.35616... -> 10.36 (10.01 unrounded)
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        company, invoice = self._invoice('BE')
        with set_company(company):
            penalties = self._penalties(invoice)
        self.assertEqual(penalties, (D('10.36'), D('40.00'), D(0), None))
        # The rates the Belgian SPF Finances published for these half-years
        rule = Penalty(ref('penalty_be_interest_professional'))
        for half_year, rate in [((2023, 7, 1), '0.12'),
                ((2024, 1, 1), '0.125'), ((2024, 7, 1), '0.125'),
                ((2025, 1, 1), '0.115'), ((2025, 7, 1), '0.105'),
                ((2026, 1, 1), '0.105')]:
            self.assertEqual(
                rule.annual_rate(dt.date(*half_year)), D(rate), half_year)

    @with_transaction()
    def test_belgium_consumer(self):
        """Nothing with the first (free) reminder nor 14 days after it; from
        the third reminder the capped indemnity: 65 + 5 % x 700 = 100 EUR
        for 1,200 EUR, no interest (Code of Economic Law, book XIX)"""
        company, invoice = self._invoice('BE', 'consumer')
        with set_company(company):
            second = self._penalties(invoice, dt.date(2026, 2, 25))
            third = self._penalties(invoice, dt.date(2026, 3, 11),
                'level_third_reminder')
        self.assertEqual(second, (0, 0, 0, None))
        self.assertEqual(third, (D(0), D('100.00'), D(0), None))

    @with_transaction()
    def test_spain_italy_netherlands_professional(self):
        "ECB 2.15 % + 8 points and 40 EUR (Ley 3/2004, D.Lgs. 231/2002, BW)"
        # 1200 x 10.15 % x 30 / 365 = 10.01095... -> 10.01
        for code in ['ES', 'IT', 'NL']:
            company, invoice = self._invoice(code)
            with set_company(company):
                penalties = self._penalties(invoice)
            self.assertEqual(
                penalties, (D('10.01'), D('40.00'), D(0), None), code)

    @with_transaction()
    def test_spain_italy_consumer(self):
        "The late-payment laws of Spain and Italy leave consumers out"
        for code in ['ES', 'IT']:
            company, invoice = self._invoice(code, 'consumer')
            with set_company(company):
                penalties = self._penalties(invoice, dt.date(2026, 3, 26),
                    'level_formal_notice')
            self.assertEqual(penalties, (0, 0, 0, None), code)

    @with_transaction()
    def test_netherlands_consumer(self):
        """The collection costs of the Besluit with the formal notice: 15 %
        of 1,200 EUR = 180 EUR; at least 40 EUR (200 EUR: 30 -> 40)"""
        company, invoice = self._invoice('NL', 'consumer')
        with set_company(company):
            before = self._penalties(invoice, dt.date(2026, 3, 11),
                'level_third_reminder')
            penalties = self._penalties(invoice, dt.date(2026, 3, 26),
                'level_formal_notice')
        self.assertEqual(before, (0, 0, 0, None))
        self.assertEqual(penalties, (D(0), D('180.00'), D(0), None))
        company, invoice = self._invoice('NL', 'consumer', amount=200)
        with set_company(company):
            penalties = self._penalties(invoice, dt.date(2026, 3, 26),
                'level_formal_notice')
        self.assertEqual(penalties.indemnity, D('40.00'))

    @with_transaction()
    def test_fallback_to_rules_without_country(self):
        """A customer of France, of a country without rules or without
        country owes the French penalties: ECB + 10 points and 40 EUR"""
        # 1200 x 12.15 % x 30 / 365 = 11.98356... -> 11.98
        for code in ['FR', 'CH', None]:
            company, invoice = self._invoice(code)
            with set_company(company):
                penalties = self._penalties(invoice)
            self.assertEqual(
                penalties, (D('11.98'), D('40.00'), D(0), None), code)

    @with_transaction()
    def test_country_of_the_party(self):
        """Without country on the invoice address, the first address of the
        party that has one gives the country"""
        pool = Pool()
        Address = pool.get('party.address')
        company, invoice = self._invoice(None)
        Address.create([{'party': invoice.party.id, 'city': "Berlin",
                    'country': country('DE').id}])
        with set_company(company):
            penalties = self._penalties(invoice)
        self.assertEqual(penalties.interest, D('10.13'))

    @with_transaction()
    def test_override_on_a_segment(self):
        """Rules of Germany on the segment of the customers replace, for the
        German customers only, the rules of the procedure: a contractual 12
        % without indemnity; the others keep the rules of the procedure"""
        # 1200 x 12 % x 30 / 365 = 11.83561... -> 11.84
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        rule, = Penalty.create([{
                    'segment': ref('segment_standard'),
                    'name': "Contractual interest",
                    'kind': 'interest',
                    'customer_type': 'all',
                    'country': country('DE').id,
                    'rate': D('0.12'),
                    'divisor': 365,
                    }])
        self.assertEqual(rule.country_code, 'DE')
        self.assertEqual(rule.country, country('DE'))
        # The 3 German rules shipped on each of the 3 procedures, and it
        self.assertEqual(Penalty.search([('country', '=', country('DE'))],
                count=True), 10)
        self.assertEqual(Penalty.search([('country.code', '=', 'DE')],
                count=True), 10)
        for code, expected in [('DE', (D('11.84'), D(0))),
                ('BE', (D('10.36'), D('40.00'))),
                ('FR', (D('11.98'), D('40.00')))]:
            company, invoice = self._invoice(code)
            with set_company(company):
                penalties = self._penalties(invoice)
            self.assertEqual(penalties[:2], expected, code)

    @with_transaction()
    def test_queries_do_not_grow(self):
        """The penalties of 60 invoices of customers of six countries take
        about as many queries as of 6"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Level = pool.get('account.invoice.dunning.level')
        Party = pool.get('party.party')
        Penalty = pool.get('account.invoice.dunning.penalty')
        level = Level(ref('level_second_reminder'))
        codes = ['DE', 'BE', 'ES', 'IT', 'NL', 'FR']
        counts = []
        for count in [6, 6, 60]:
            company, invoices = create_invoices(
                count, date=INVOICE_DATE, amount=1200)
            Party.write([i.party for i in invoices],
                {'customer_type': 'professional'})
            for i, code in enumerate(codes):
                set_country(invoices[i::len(codes)], code)
            with set_company(company):
                invoices = Invoice.browse([i.id for i in invoices])
                counter = QueryCounter(ignore_cache_queries)
                with counter:
                    penalties = Penalty.compute_penalties({i.id: (
                                i, level, LATE_30, D(0)) for i in invoices})
            self.assertEqual(
                {p.interest for p in penalties.values()},
                {D('10.13'), D('10.36'), D('10.01'), D('11.98')})
            counts.append(counter.count)
        # A query per invoice would add 54 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)

    @with_transaction()
    def test_letters_print_the_legal_basis(self):
        """The first reminder of a professional cites the law of its
        country; in French for a French customer as before"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Party = pool.get('party.party')
        french = load_translations('fr')
        company, invoices = create_invoices(3, date=INVOICE_DATE)
        Party.write([i.party for i in invoices],
            {'customer_type': 'professional'})
        set_country(invoices[:1], 'DE')
        set_country(invoices[1:], 'FR')
        with set_company(company):
            Party.write([invoices[2].party], {'lang': french.id})
            dunnings = Dunning.generate_dunnings(date=dt.date(2026, 2, 11))
            Dunning.process(dunnings)
            texts = {d.invoice: zip_texts(Dunning(d.id).dispatch.letter)
                for d in dunnings}
        german, france, french_letter = (texts[i] for i in invoices)
        indemnity = ("a fixed indemnity of 40 EUR for recovery costs "
            "(%s).")
        self.assertIn(
            indemnity % "Section 288 of the German Civil Code", german)
        self.assertNotIn("L441-10", german)
        self.assertIn(
            indemnity % "Article L441-10 of the French Commercial Code",
            france)
        self.assertIn("une indemnité forfaitaire de 40 € pour frais de "
            "recouvrement (article L. 441-10 du code de commerce).",
            french_letter)

    @with_transaction()
    def test_formal_notice_french_law_mention(self):
        """The formal notice of a customer in France cites the French Civil
        Code; that of a customer in Germany does not"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        texts = {}
        for code in ['FR', 'DE']:
            company, invoice = self._invoice(code)
            with set_company(company):
                self._formal_notice(company, invoice, dt.date(2026, 3, 26))
                dunning, = Dunning.search([('invoice', '=', invoice.id)])
                texts[code] = zip_texts(dunning.dispatch.letter)
        mention = "formal notice within the meaning of Article 1344"
        self.assertIn(mention, texts['FR'])
        self.assertNotIn(mention, texts['DE'])
        self.assertIn("Section 288 of the German Civil Code", texts['DE'])
