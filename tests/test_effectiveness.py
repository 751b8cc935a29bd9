# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The effectiveness of the reminders: how many of the invoices reminded in
a window were fully paid within 7, 15 and 30 days, how soon and how much;
the board of the analyses and the overdue of a party."""
import datetime as dt
import unittest
from decimal import Decimal as D

from lxml import etree

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user, two_companies)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    MODULE, activate_with_company, create_invoices, pay_invoice)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

FIRST = dt.date(2026, 2, 11)
SECOND = dt.date(2026, 2, 25)
EFFECTIVENESS = 'account.invoice.dunning.analysis.effectiveness'


def process_dunnings(date, invoices=None):
    """Generate and process the reminders due on date (of invoices); return
    them in the order of their invoices (the run returns them in no order)"""
    Dunning = Pool().get('account.invoice.dunning')
    dunnings = [d for d in Dunning.generate_dunnings(date=date)
        if invoices is None or d.invoice in invoices]
    Dunning.process(dunnings)
    return sorted((Dunning(d.id) for d in dunnings),
        key=lambda d: d.invoice.id)


def settle(invoice, amount, date):
    """Pay the rest of invoice, amount, on date and reconcile its lines, as
    the Pay wizard does: the invoice is paid on date"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    pay_invoice(invoice, amount, date)
    invoice = Invoice(invoice.id)
    MoveLine.reconcile(
        list(invoice.lines_to_pay) + list(invoice.payment_lines))
    Invoice.process([invoice])
    invoice = Invoice(invoice.id)
    assert invoice.state == 'paid', invoice.state
    return invoice


class EffectivenessTestCase(unittest.TestCase):
    "The effectiveness of the reminders, the board, the party's overdue"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def _reminders(self):
        """A company whose 3 invoices of 100 (due 4 February) got their first
        reminder on 11 February: the first paid on 14 February (3 days
        after), the second on 18 February (7 days), the third 40 on 13
        February and its second reminder on 25 February for the 60 left,
        paid on 3 March (20 days after the first reminder, 6 days after
        the second). Another company reminded an invoice on 11 February."""
        company, invoices = create_invoices(3, amount=100)
        with set_company(company):
            firsts = process_dunnings(FIRST)
            self.assertEqual(len(firsts), 3)
            settle(invoices[0], 100, dt.date(2026, 2, 14))
            settle(invoices[1], 100, dt.date(2026, 2, 18))
            pay_invoice(invoices[2], 40, dt.date(2026, 2, 13))
            second, = process_dunnings(SECOND)
            self.assertEqual(second.invoice, invoices[2])
            settle(invoices[2], 60, dt.date(2026, 3, 3))
        other, (invoice,) = create_invoices(1, amount=1000)
        with set_company(other):
            process_dunnings(FIRST)
        return company, other, firsts, second

    def _rows(self, company, from_date, date, model=EFFECTIVENESS):
        Effectiveness = Pool().get(model)
        with set_company(company), Transaction().set_context(
                company=company.id, from_date=from_date, date=date):
            return Effectiveness.search([])

    def _figures(self, row):
        return (row.reminder_count, row.paid_7_share, row.paid_15_share,
            row.paid_30_share, row.average_days_to_pay, row.recovered_amount)

    @with_transaction()
    def test_window_to_20_february(self):
        """On 20 February, 2 of the 3 first reminders were followed by the
        full payment within 7 days (66.67 %), in 3 and 7 days (5 days on
        average), recovering 200; the third invoice, partly paid, is not
        paid; the second reminder, after the window, is not counted"""
        company, _, firsts, _ = self._reminders()
        row, = self._rows(company, dt.date(2026, 2, 1), dt.date(2026, 2, 20))
        self.assertEqual(row.level, firsts[0].level)
        self.assertEqual(row.procedure, firsts[0].procedure)
        self.assertEqual(row.channel, firsts[0].channel)
        self.assertEqual(row.segment, firsts[0].segment)
        self.assertEqual(row.currency, company.currency)
        self.assertEqual(row.company, company)
        self.assertEqual(self._figures(row),
            (3, D('66.67'), D('66.67'), D('66.67'), D('5.00'), D(200)))

    @with_transaction()
    def test_window_to_march(self):
        """On 31 March, the third invoice was paid 20 days after its first
        reminder (within 30 days: 100 %, average (3 + 7 + 20) / 3 = 10
        days, 300 recovered) and 6 days after its second reminder of 60"""
        company, _, firsts, second = self._reminders()
        self.assertEqual(second.amount, D(60))
        first_row, second_row = self._rows(
            company, dt.date(2026, 2, 1), dt.date(2026, 3, 31))
        self.assertEqual(first_row.level, firsts[0].level)
        self.assertEqual(self._figures(first_row),
            (3, D('66.67'), D('66.67'), D('100.00'), D('10.00'), D(300)))
        self.assertEqual(second_row.level, second.level)
        self.assertEqual(self._figures(second_row),
            (1, D('100.00'), D('100.00'), D('100.00'), D('6.00'), D(60)))

        # The reminders of 11 February are out of a window from 21
        # February
        row, = self._rows(company, dt.date(2026, 2, 21), dt.date(2026, 3, 31))
        self.assertEqual(row.level, second.level)
        self.assertEqual(row.reminder_count, 1)

        # By level: the same figures, one row a level
        by_level = self._rows(company, dt.date(2026, 2, 1),
            dt.date(2026, 3, 31), model=EFFECTIVENESS + '.level')
        self.assertEqual([self._figures(r) for r in by_level],
            [self._figures(first_row), self._figures(second_row)])
        self.assertEqual([r.level for r in by_level],
            [firsts[0].level, second.level])

    @with_transaction()
    def test_default_window(self):
        """Without a first date, the 90 days up to the date: to 31 March
        from 1 January, the 4 reminders; to 20 May from 20 February, the
        second reminder only; to today by default"""
        pool = Pool()
        Effectiveness = pool.get(EFFECTIVENESS)
        Date = pool.get('ir.date')
        company, _, _, second = self._reminders()

        def count(**context):
            with set_company(company), Transaction().set_context(
                    company=company.id, **context):
                return sum(r.reminder_count for r in Effectiveness.search([]))
        self.assertEqual(count(date=dt.date(2026, 3, 31)), 4)
        self.assertEqual(count(date=dt.date(2026, 5, 20)), 1)
        self.assertEqual(count(date=dt.date(2026, 5, 26)), 0)
        start = Date.today() - dt.timedelta(days=89)
        self.assertEqual(count(),
            3 * (start <= FIRST <= Date.today())
            + (start <= SECOND <= Date.today()))

    @with_transaction()
    def test_companies(self):
        "Each company its reminders; another company has nothing"
        company, other, _, _ = self._reminders()
        window = (dt.date(2026, 2, 1), dt.date(2026, 3, 31))
        self.assertEqual(
            sum(r.reminder_count for r in self._rows(company, *window)), 4)
        row, = self._rows(other, *window)
        self.assertEqual(self._figures(row),
            (1, D(0), D(0), D(0), None, D(0)))

    @with_transaction()
    def test_rights(self):
        """Read-only, for the accountants and the dunning group, the
        companies of the user only"""
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        models = [pool.get(EFFECTIVENESS), pool.get(EFFECTIVENESS + '.level')]
        (company_a, company_b), _, _ = two_companies()
        clerk = create_user('clerk', company_a, ['dunning'])
        accountant = create_user('accountant', company_a, ['account'])
        stranger = create_user('stranger', company_a)
        for user in [clerk, accountant]:
            with self.subTest(user=user.login), as_user(user):
                for company, count in [(company_a, 1), (company_b, 0)]:
                    with Transaction().set_context(company=company.id,
                            from_date=dt.date(2026, 2, 1),
                            date=dt.date(2026, 2, 28)):
                        for Model in models:
                            self.assertEqual(len(Model.search([])), count)
                for Model in models:
                    for mode in ['write', 'create', 'delete']:
                        self.assertFalse(ModelAccess.check(Model.__name__,
                                mode, raise_exception=False))
        with as_user(stranger):
            for Model in models:
                with self.assertRaises(AccessError):
                    Model.search([])

    @with_transaction()
    def test_board(self):
        """The Dunning Board shows the graphs of the aging, the DSO and the
        effectiveness; each of its actions opens"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        View = pool.get('ir.ui.view')
        Menu = pool.get('ir.ui.menu')
        action = ActWindow(ModelData.get_id(MODULE, 'act_analysis_board'))
        self.assertIsNone(action.res_model)
        view, = [v.view for v in action.act_window_views]
        self.assertEqual(view.type, 'board')
        arch = etree.fromstring(View(view.id).view_get()['arch'])
        names = [a.get('name') for a in arch.iter('action')]
        self.assertEqual(names, ['%s.%s' % (MODULE, n) for n in [
                    'act_board_aging', 'act_board_aging_segment',
                    'act_board_dso', 'act_board_effectiveness']])
        company, _, _, _ = self._reminders()
        with set_company(company), \
                Transaction().set_context(company=company.id):
            for name in names:
                value = ActWindow.get(name)
                Model = pool.get(value['res_model'])
                (view_id, view_type), = value['views']
                self.assertEqual(view_type, 'graph')
                Model.fields_view_get(view_id=view_id, view_type='graph')
                # With the defaults of the context: today
                Model.search([])
        menu = Menu(ModelData.get_id(MODULE, 'menu_analysis_board'))
        self.assertEqual(menu.action.id, action.action.id)
        self.assertEqual(menu.parent.id,
            ModelData.get_id(MODULE, 'menu_analysis'))

    @with_transaction()
    def test_party_relate(self):
        "The party opens its overdue in the Overdue Analysis"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        Keyword = pool.get('ir.action.keyword')
        Aging = pool.get('account.invoice.dunning.analysis.aging')
        company, _, firsts, _ = self._reminders()
        action_id = ModelData.get_id(MODULE, 'act_party_aging')
        party = firsts[2].party
        keywords = Keyword.get_keyword(
            'form_relate', ('party.party', party.id))
        self.assertIn(action_id, [k['id'] for k in keywords])
        value = ActWindow.get('%s.act_party_aging' % MODULE)
        self.assertEqual(value['res_model'], Aging.__name__)
        self.assertEqual(value['context_model'],
            'account.invoice.dunning.analysis.context')
        domain = PYSONDecoder({
                'active_id': party.id, 'active_ids': [party.id],
                }).decode(value['pyson_domain'])
        self.assertEqual(domain, [['party', '=', party.id]])
        with set_company(company), Transaction().set_context(
                company=company.id, date=dt.date(2026, 2, 20)):
            rows = Aging.search(domain)
            self.assertEqual({r.party for r in rows}, {party})
            self.assertEqual(sum(r.amount for r in rows), D(60))
