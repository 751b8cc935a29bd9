# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Late-payment penalties pinned on examples computed by hand.

The rates are those shipped as data (rate_data.xml): ECB main refinancing
rate 3.15 % on 1 January 2025, 2.15 % on 1 July 2025 and 1 January 2026;
French legal rate (creditor is a professional) 2.62 % on 1 January 2026,
5.07 % on 1 January 2024."""
import datetime as dt
import unittest
import unittest.mock
from decimal import Decimal

from trytond.modules.account_invoice_dunning.common import round_half_up
from trytond.modules.account_invoice_dunning.exceptions import (
    PenaltyValidationError)
from trytond.modules.account_invoice_dunning.interest import (
    compute_interest, half_year_days, half_year_start, next_half_year)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, QueryCounter, activate_with_company, create_invoices,
    ignore_cache_queries, pay_invoice)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

D = Decimal


class InterestTestCase(unittest.TestCase):
    "The computation itself, with rates given by hand"

    def test_half_years(self):
        self.assertEqual(half_year_start(dt.date(2026, 6, 30)),
            dt.date(2026, 1, 1))
        self.assertEqual(half_year_start(dt.date(2026, 7, 1)),
            dt.date(2026, 7, 1))
        self.assertEqual(next_half_year(dt.date(2026, 12, 31)),
            dt.date(2027, 1, 1))

    def test_half_year_days(self):
        "The days after a date up to another, split at each half-year"
        self.assertEqual(half_year_days(
                dt.date(2026, 6, 20), dt.date(2026, 7, 10)),
            ((dt.date(2026, 1, 1), 10), (dt.date(2026, 7, 1), 10)))
        # The day after 30 June is in the second half-year
        self.assertEqual(half_year_days(
                dt.date(2026, 6, 30), dt.date(2027, 1, 2)),
            ((dt.date(2026, 7, 1), 184), (dt.date(2027, 1, 1), 2)))
        self.assertEqual(half_year_days(
                dt.date(2026, 3, 1), dt.date(2026, 3, 1)), ())

    def test_days_count_from_the_day_after_due_date(self):
        # 365.00 at 10 % for 1 day is exactly 0.10
        interest = compute_interest([(dt.date(2026, 3, 1), D('365'))], [],
            dt.date(2026, 3, 1), dt.date(2026, 3, 2), lambda h: D('0.10'))
        self.assertEqual(interest, D('0.1'))
        # Nothing on the due date itself
        self.assertEqual(compute_interest(
                [(dt.date(2026, 3, 1), D('365'))], [],
                dt.date(2026, 3, 1), dt.date(2026, 3, 1),
                lambda h: D('0.10')), 0)

    def test_payment_before_a_later_installment(self):
        # 500 due 4 Feb, 500 due 6 Mar, 700 paid 20 Feb, until 16 Mar at
        # 10 %/365 days: 500 x 16 days + 0 x 14 days + 300 x 10 days
        interest = compute_interest(
            [(dt.date(2026, 2, 4), D(500)), (dt.date(2026, 3, 6), D(500))],
            [(dt.date(2026, 2, 20), D(700))],
            dt.date(2026, 2, 4), dt.date(2026, 3, 16), lambda h: D('0.10'))
        self.assertEqual(interest, (D(500) * 16 + D(300) * 10) * D('0.10')
            / 365)

    def test_round_half_up(self):
        class Currency:
            digits = 2
        self.assertEqual(round_half_up(D('2.345'), Currency), D('2.35'))
        self.assertEqual(round_half_up(D('2.3449'), Currency), D('2.34'))


class PenaltyTestCase(unittest.TestCase):
    "Penalties computed from the database, on SQLite and PostgreSQL"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _invoice(self, date, amount, customer_type='professional'):
        pool = Pool()
        Party = pool.get('party.party')
        company, (invoice,) = create_invoices(1, date=date, amount=amount)
        Party.write([invoice.party], {'customer_type': customer_type})
        return company, invoice

    def _level(self, xml_id):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Level = pool.get('account.invoice.dunning.level')
        return Level(ModelData.get_id(MODULE, xml_id))

    def _penalties(self, invoice, date, level='level_second_reminder'):
        Penalty = Pool().get('account.invoice.dunning.penalty')
        return Penalty.compute_penalties({
                0: (invoice, self._level(level), date, D(0))})[0]

    @with_transaction()
    def test_inside_a_half_year(self):
        "1,200.00 due 4 February 2026, 30 days late at ECB 2.15 % + 10"
        # 1200 x 12.15 % x 30 / 365 = 11.98356... -> 11.98
        company, invoice = self._invoice(dt.date(2026, 1, 5), 1200)
        with set_company(company):
            penalties = self._penalties(invoice, dt.date(2026, 3, 6))
        self.assertEqual(penalties.interest, D('11.98'))
        self.assertEqual(penalties.indemnity, D('40.00'))
        self.assertEqual(penalties.fee, D('0'))

    @with_transaction()
    def test_across_30_june(self):
        "1,000.00 due 15 June 2025 until 15 July 2025: two half-years"
        # 15 days at 3.15 + 10 = 13.15 %, 15 days at 2.15 + 10 = 12.15 %:
        # 1000 x (0.1315 x 15 + 0.1215 x 15) / 365 = 3795 / 365
        # = 10.39726... -> 10.40
        company, invoice = self._invoice(dt.date(2025, 5, 16), 1000)
        with set_company(company):
            self.assertEqual(invoice.lines_to_pay[0].maturity_date,
                dt.date(2025, 6, 15))
            penalties = self._penalties(invoice, dt.date(2025, 7, 15))
        self.assertEqual(penalties.interest, D('10.40'))

    @with_transaction()
    def test_partial_payment(self):
        "2,000.00 due 31 January 2026, 500 paid on 21 February"
        # 21 days on 2000 and 20 days on 1500 at 12.15 %:
        # (42000 + 30000) x 0.1215 / 365 = 23.96712... -> 23.97
        # The 40 EUR are due once, not split by the partial payment
        company, invoice = self._invoice(dt.date(2026, 1, 1), 2000)
        with set_company(company):
            pay_invoice(invoice, 500, dt.date(2026, 2, 21))
            penalties = self._penalties(invoice, dt.date(2026, 3, 13))
        self.assertEqual(penalties.interest, D('23.97'))
        self.assertEqual(penalties.indemnity, D('40.00'))

    @with_transaction()
    def test_paid_late_stops_interest_at_payment(self):
        "Fully paid 10 days late: interest up to the payment only"
        # 3650 x 12.15 % x 10 / 365 = 12.15
        company, invoice = self._invoice(dt.date(2026, 1, 5), 3650)
        with set_company(company):
            pay_invoice(invoice, 3650, dt.date(2026, 2, 14))
            penalties = self._penalties(invoice, dt.date(2026, 4, 1))
        self.assertEqual(penalties.interest, D('12.15'))
        self.assertEqual(penalties.indemnity, D('40.00'))

    @with_transaction()
    def test_consumer_from_formal_notice(self):
        "800.00 of a consumer, formal notice on 2 March 2026"
        # Nothing before the formal notice, no indemnity; then 30 days at
        # the legal rate 2.62 %: 800 x 0.0262 x 30 / 365 = 1.72273... -> 1.72
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoice = self._invoice(
            dt.date(2025, 12, 16), 800, customer_type='consumer')
        notice = self._level('level_formal_notice')
        with set_company(company):
            before = self._penalties(
                invoice, dt.date(2026, 3, 2), 'level_formal_notice')
            self.assertEqual(before, (D(0), D(0), D(0), None))
            notice_dunning, = Dunning.create([{
                        'company': company.id,
                        'invoice': invoice.id,
                        'party': invoice.party.id,
                        'procedure': notice.procedure.id,
                        'level': notice.id,
                        'channel': notice.channel,
                        'date': dt.date(2026, 3, 2),
                        'currency': invoice.currency.id,
                        'amount': D(800),
                        }])
            Dunning.process([notice_dunning])
            penalties = self._penalties(
                invoice, dt.date(2026, 4, 1), 'level_formal_notice')
        self.assertEqual(penalties.interest, D('1.72'))
        self.assertEqual(penalties.indemnity, D('0'))

    @with_transaction()
    def test_queries_do_not_grow(self):
        "The penalties of 40 invoices take about as many queries as of 4"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Penalty = pool.get('account.invoice.dunning.penalty')
        level = self._level('level_second_reminder')
        counts = []
        # The first run fills the caches (rules, levels, rates)
        for count in [1, 4, 40]:
            company, invoices = create_invoices(
                count, date=dt.date(2026, 1, 5), amount=1200)
            Party.write([i.party for i in invoices],
                {'customer_type': 'professional'})
            with set_company(company):
                invoices = Invoice.browse([i.id for i in invoices])
                counter = QueryCounter(ignore_cache_queries)
                with counter:
                    penalties = Penalty.compute_penalties({i.id: (
                                i, level, dt.date(2026, 3, 6), D(0))
                            for i in invoices})
            # The same 11.98 + 40 as test_inside_a_half_year, for each
            self.assertEqual(
                {(p.interest, p.indemnity) for p in penalties.values()},
                {(D('11.98'), D('40.00'))})
            self.assertEqual(len(penalties), count)
            counts.append(counter.count)
        # A query per invoice would add 36 queries
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)

    @with_transaction()
    def test_fixed_amount_once_a_computation(self):
        """The fixed indemnity of invoices of the same date and currency is
        converted once in a computation, again in the next one"""
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        level = self._level('level_second_reminder')
        company, invoices = self._professional_invoices(3)
        calls = []
        fixed_amount = Penalty._fixed_amount

        def counted(rule, currency, date):
            calls.append((rule.id, currency.id, date))
            return fixed_amount(rule, currency, date)
        with set_company(company), unittest.mock.patch.object(
                Penalty, '_fixed_amount', counted):
            for computation in [1, 2]:
                penalties = Penalty.compute_penalties({i.id: (
                            i, level, dt.date(2026, 3, 25), D(0))
                        for i in invoices})
                self.assertEqual(
                    [str(p.indemnity) for p in penalties.values()],
                    ['40.00'] * 3)
                self.assertEqual(len(calls), computation)
        self.assertEqual(calls[0], calls[1])

    @with_transaction()
    def test_fixed_amount_error_for_each_invoice(self):
        """A fixed indemnity that can not be converted (no euro currency
        for a rule without currency) is zero with the error for each
        invoice, the error not kept as an amount"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Penalty = pool.get('account.invoice.dunning.penalty')
        level = self._level('level_second_reminder')
        company, invoices = self._professional_invoices(2)
        Currency.write([invoices[0].currency], {'code': 'XEU'})
        with set_company(company):
            penalties = Penalty.compute_penalties({i.id: (
                        i, level, dt.date(2026, 3, 25), D(0))
                    for i in invoices})
        self.assertEqual(len(penalties), 2)
        for penalty in penalties.values():
            self.assertEqual(str(penalty.indemnity), '0.00')
            self.assertIn('EUR', penalty.error)

    @with_transaction()
    def test_not_shown_before_its_level(self):
        "The default penalties start with the second reminder"
        company, invoice = self._invoice(dt.date(2026, 1, 5), 1200)
        with set_company(company):
            penalties = self._penalties(
                invoice, dt.date(2026, 3, 6), 'level_first_reminder')
        self.assertEqual(penalties, (D(0), D(0), D(0), None))

    @with_transaction()
    def test_reached_levels(self):
        """The levels a rule reaches: of its procedure or of the procedure
        of its segment, from its level (all without one), never the
        installments of a payment plan, and of active rules only"""
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        Segment = pool.get('account.invoice.dunning.segment')
        levels = {x: self._level(x) for x in [
                'level_pre_reminder', 'level_first_reminder',
                'level_second_reminder', 'level_formal_notice',
                'level_installment', 'level_good_first',
                'level_good_second']}
        # The default rules start with the second reminder
        self.assertEqual(Penalty.reached_levels(set(levels.values())), {
                levels[x] for x in ['level_second_reminder',
                    'level_formal_notice', 'level_good_second']})
        # A segment of the good payers' procedure, a rule without level
        segment, = Segment.create([{
                    'name': "Slow",
                    'procedure': levels['level_good_first'].procedure.id,
                    }])
        rule, = Penalty.create([{
                    'segment': segment.id,
                    'name': "Handling fee",
                    'kind': 'fixed',
                    'amount': D(5),
                    }])
        self.assertEqual(
            Penalty.reached_levels({levels['level_good_first']}),
            {levels['level_good_first']})
        Penalty.write([rule], {'active': False})
        self.assertEqual(
            Penalty.reached_levels({levels['level_good_first']}), set())
        # A rule from the pre-reminder (negative days) beside those from
        # the second reminder: the lowest reaches all but the installments
        standard = levels['level_second_reminder'].procedure
        Penalty.create([{
                    'procedure': standard.id,
                    'level': levels['level_pre_reminder'].id,
                    'name': "Early fee",
                    'kind': 'fixed',
                    'amount': D(1),
                    }])
        self.assertLess(levels['level_pre_reminder'].days, 0)
        self.assertEqual(Penalty.reached_levels(set(levels.values())), {
                levels[x] for x in ['level_pre_reminder',
                    'level_first_reminder', 'level_second_reminder',
                    'level_formal_notice', 'level_good_second']})
        # The standard procedure without its rules
        Penalty.write(Penalty.search([
                    ['OR',
                        ('procedure', '=', standard.id),
                        ('segment.procedure', '=', standard.id),
                        ],
                    ]), {'active': False})
        self.assertEqual(Penalty.reached_levels(set(levels.values())),
            {levels['level_good_second']})

    @staticmethod
    def _professional_invoices(count):
        "A company and count invoices of as many professional customers"
        Party = Pool().get('party.party')
        company, invoices = create_invoices(count)
        Party.write([i.party for i in invoices],
            {'customer_type': 'professional'})
        return company, invoices

    @with_transaction()
    def test_penalties_computed_at_reached_levels_only(self):
        """Generation and processing compute the penalties of the reminders
        whose level a rule reaches (from the second reminder): the first
        reminders owe nothing, in their currency, without being computed"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Penalty = pool.get('account.invoice.dunning.penalty')
        company, invoices = self._professional_invoices(2)
        with set_company(company), unittest.mock.patch.object(Penalty,
                'compute_penalties',
                wraps=Penalty.compute_penalties) as compute:
            for date, level, computed, indemnity in [
                    (dt.date(2026, 2, 11), "First Reminder", [], '0.00'),
                    (dt.date(2026, 2, 25), "Second Reminder",
                        sorted(i.id for i in invoices) * 2, '40.00')]:
                compute.reset_mock()
                dunnings = Dunning.generate_dunnings(date=date)
                Dunning.process(dunnings)
                self.assertEqual({d.level.name for d in dunnings}, {level})
                # Each invoice in generation, then in processing
                self.assertEqual(sorted(int(r[0])
                        for call in compute.call_args_list
                        for r in call.args[0].values()), sorted(computed))
                self.assertEqual([str(d.indemnity_amount)
                        for d in Dunning.browse(dunnings)], [indemnity] * 2)

    @with_transaction()
    def test_reached_penalties_in_their_currency(self):
        """A reminder at a level no rule reaches owes nothing in the
        currency given for it; one at a level reached is computed"""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Penalty = pool.get('account.invoice.dunning.penalty')
        company, invoices = self._professional_invoices(2)
        yen, = Currency.create([{'name': "Yen", 'code': 'JPY',
                    'symbol': "Y", 'digits': 0, 'rounding': D(1)}])
        date = dt.date(2026, 3, 25)
        with set_company(company):
            penalties = Penalty.compute_reached_penalties({
                    'first': (invoices[0],
                        self._level('level_first_reminder'), date, D(100)),
                    'second': (invoices[1],
                        self._level('level_second_reminder'), date,
                        D(100))},
                {'first': yen, 'second': invoices[1].currency})
        self.assertEqual([str(a) for a in penalties['first']],
            ['0', '0', '0', 'None'])
        self.assertEqual(str(penalties['second'].indemnity), '40.00')
        self.assertEqual(Penalty.compute_reached_penalties({}, {}), {})

    @with_transaction()
    def test_reached_penalties_of_invoice_ids(self):
        """The invoices of the requests given by id owe what their records
        owe; only the requests of a level a rule reaches are computed, their
        invoices passed on as given: no record is made for the thousands of
        invoices of a run (generation gives their ids)"""
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        company, invoices = self._professional_invoices(2)
        date = dt.date(2026, 3, 25)
        first = self._level('level_first_reminder')
        second = self._level('level_second_reminder')
        currencies = {k: invoices[0].currency for k in range(3)}
        with set_company(company), unittest.mock.patch.object(Penalty,
                'compute_penalties',
                wraps=Penalty.compute_penalties) as compute:
            by_record = Penalty.compute_reached_penalties({
                    0: (invoices[0], second, date, D(100)),
                    1: (invoices[1], second, date, D(100)),
                    2: (invoices[1], first, date, D(100))}, currencies)
            compute.reset_mock()
            by_id = Penalty.compute_reached_penalties({
                    0: (invoices[0].id, second, date, D(100)),
                    1: (invoices[1], second, date, D(100)),
                    2: (invoices[1].id, first, date, D(100))}, currencies)
        self.assertEqual(by_id, by_record)
        self.assertEqual(str(by_id[0].indemnity), '40.00')
        computed, = compute.call_args_list
        self.assertEqual(
            {k: r[0] for k, r in computed.args[0].items()},
            {0: invoices[0].id, 1: invoices[1]})
        self.assertIsInstance(computed.args[0][0][0], int)

    @with_transaction()
    def test_waived(self):
        "A waived invoice owes nothing, and the waiver records who"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        company, invoice = self._invoice(dt.date(2026, 1, 5), 1200)
        Invoice.write([invoice], {
                'dunning_penalty_waived': True,
                'dunning_penalty_waiver_reason': "Long-standing customer",
                })
        self.assertTrue(invoice.dunning_penalty_waived_by)
        with set_company(company):
            penalties = self._penalties(invoice, dt.date(2026, 3, 6))
        self.assertEqual(penalties, (D(0), D(0), D(0), None))

    @with_transaction()
    def test_contractual_rate_below_floor(self):
        "A contractual rate below 3 times the legal rate is rejected"
        # Floor for 2026-H1: 3 x 2.62 % = 7.86 %; 7 % is refused, 8 % is
        # charged: 1200 x 0.08 x 30 / 365 = 7.89041... -> 7.89
        pool = Pool()
        Penalty = pool.get('account.invoice.dunning.penalty')
        ModelData = pool.get('ir.model.data')
        Date = pool.get('ir.date')
        company, invoice = self._invoice(dt.date(2026, 1, 5), 1200)
        rule = Penalty(ModelData.get_id(
                MODULE, 'penalty_interest_professional'))
        contract = {
            'rate_table': None,
            'margin': None,
            'rate': D('0.07'),
            'floor_table': ModelData.get_id(
                MODULE, 'rate_fr_legal_professional'),
            'floor_multiplier': D(3),
            }
        # Refused at save while the floor of the half-year is known
        with unittest.mock.patch.object(
                Date, 'today', return_value=dt.date(2026, 3, 1)):
            with self.assertRaisesRegex(PenaltyValidationError, '7.86'):
                Penalty.write([rule], contract)
        # A half-year whose floor is not entered yet lets it be saved, and
        # the computation then stops on the invoice only
        with unittest.mock.patch.object(
                Date, 'today', return_value=dt.date(2026, 9, 1)):
            Penalty.write([rule], contract)
        with set_company(company):
            penalties = self._penalties(invoice, dt.date(2026, 3, 6))
            self.assertEqual(penalties[:3], (D(0), D(0), D(0)))
            self.assertIn('7.86', penalties.error)
            Penalty.write([rule], {'rate': D('0.08')})
            penalties = self._penalties(invoice, dt.date(2026, 3, 6))
        self.assertEqual(penalties.interest, D('7.89'))
        self.assertIsNone(penalties.error)

    @with_transaction()
    def test_missing_half_year(self):
        "A computation that needs a rate not entered names the half-year"
        pool = Pool()
        RateValue = pool.get('account.invoice.dunning.rate.value')
        RateValue.delete(RateValue.search(
                [('date', '>=', dt.date(2026, 7, 1))]))
        company, invoice = self._invoice(dt.date(2026, 5, 1), 1000)
        with set_company(company):
            penalties = self._penalties(invoice, dt.date(2026, 8, 1))
        self.assertEqual(penalties[:3], (D(0), D(0), D(0)))
        self.assertIn('2026-H2', penalties.error)
