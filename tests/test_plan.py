# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Payment plans: installments proposed from the terms, the receivable
lines rescheduled and the fees and interest invoiced when the plan starts,
no reminder while the installments are paid, a reminder for a missed one,
and after the grace the plan broken: all that is left falls due and the
ladder resumes at once."""
import datetime as dt
import unittest
import unittest.mock
from decimal import Decimal as D

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.exceptions import (
    PlanError, PlanValidationError)
from trytond.modules.account_invoice_dunning.tests.test_access import (
    as_user, create_user, two_companies)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, ignore_run_queries, pay_invoice)
from trytond.modules.account_invoice_dunning.tests.tools import zip_texts
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction, check_access

from .query_counter import QueryCounter

# The invoices are dated 5 January 2026, due 4 February; the plan is agreed
# on 2 March, its installments fall on the first of April, May and June
AGREED = dt.date(2026, 3, 2)
APRIL, MAY, JUNE = (dt.date(2026, m, 1) for m in [4, 5, 6])


def today(date):
    "Make date the day of Tryton"
    return unittest.mock.patch.object(
        Pool().get('ir.date'), 'today', return_value=date)


def set_penalty_account(invoice):
    "Charge the fees and interest on the revenue account of invoice"
    pool = Pool()
    Configuration = pool.get('account.configuration')
    config = Configuration(1)
    config.dunning_penalty_account = invoice.lines[0].account
    config.save()


def make_plan(invoices, **terms):
    "Propose a plan for invoices, agreed on AGREED, from April by default"
    pool = Pool()
    Plan = pool.get('account.invoice.dunning.plan')
    values = {
        'company': invoices[0].company.id,
        'party': invoices[0].party.id,
        'currency': invoices[0].currency.id,
        'invoices': [('add', [i.id for i in invoices])],
        'first_date': APRIL,
        'number': 3,
        }
    values.update(terms)
    with today(AGREED):
        plan, = Plan.create([values])
        Plan.propose([plan])
    return Plan(plan.id)


def start(plan):
    "Start plan on AGREED"
    pool = Pool()
    Plan = pool.get('account.invoice.dunning.plan')
    with today(AGREED):
        Plan.start([plan])
    return Plan(plan.id)


def schedule(plan):
    "[(date, principal, charges)] of the installments of plan"
    return [(i.date, i.principal, i.charges) for i in plan.installments]


class PlanTestCase(unittest.TestCase):
    "Payment plans"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_propose_installments(self):
        """Equal installments of what is left to pay, the last one taking
        the rounding; the fees with the first, the interest on what is
        still due over each period (365 days a year)"""
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            plan = make_plan(invoices, fee_amount=D(10),
                interest_rate=D(12))
            # 200 * 12 % * 30 days (2 March - 1 April) / 365 = 1.97
            # 133.33 * 12 % * 30 days (April) / 365 = 1.32
            # 66.66 * 12 % * 31 days (May) / 365 = 0.68
            self.assertEqual(schedule(plan), [
                    (APRIL, D('66.67'), D('11.97')),
                    (MAY, D('66.67'), D('1.32')),
                    (JUNE, D('66.66'), D('0.68')),
                    ])
            self.assertEqual(plan.principal_amount, D(200))
            self.assertEqual(plan.charges_amount, D('13.97'))
            self.assertEqual(plan.total_amount, D('213.97'))

    @with_transaction()
    def test_minimum_installment(self):
        "Fewer installments when they would be below the minimum"
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            plan = make_plan(invoices, minimum_installment=D(90),
                interval=2)
            self.assertEqual(schedule(plan), [
                    (APRIL, D(100), D(0)),
                    (JUNE, D(100), D(0)),
                    ])

    @with_transaction()
    def test_start_reschedules_and_invoices_charges(self):
        """Starting the plan invoices the fees and interest, reschedules
        the receivable lines of the invoices on the installments (the
        earliest invoice first), cancels their drafts and logs it"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Exchange = pool.get('account.invoice.dunning.exchange')
        Invoice = pool.get('account.invoice')
        PlanInvoice = pool.get('account.invoice.dunning.plan-account.invoice')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            set_penalty_account(invoices[0])
            drafts = Dunning.generate_dunnings(date=AGREED)
            self.assertEqual(len(drafts), 2)
            plan = start(make_plan(invoices, fee_amount=D(10)))
            self.assertEqual(plan.state, 'running')
            self.assertEqual(plan.agreed_on, AGREED)
            charges = plan.charges_invoice
            self.assertEqual(charges.state, 'posted')
            self.assertEqual(charges.total_amount, D(10))
            self.assertIn(charges, plan.invoices)
            self.assertEqual(
                {d.state for d in Dunning.browse(drafts)}, {'cancelled'})
            figures = Invoice.dunning_figures(AGREED, [company.id])
            first, second = invoices
            # 66.67 of the first invoice in April, the rest in May
            self.assertEqual(figures[first.id].due_date, APRIL)
            self.assertEqual(figures[second.id].due_date, MAY)
            self.assertEqual(figures[charges.id].due_date, APRIL)
            self.assertEqual(
                sorted((l.maturity_date, l.debit)
                    for l in Invoice(second.id).lines_to_pay
                    if not l.reconciliation),
                [(MAY, D('33.34')), (JUNE, D('66.66'))])
            # What was left to pay of each invoice, kept for the agreement
            self.assertEqual(
                {l.invoice.id: l.amount for l in PlanInvoice.search([
                            ('plan', '=', plan.id)])},
                {first.id: D(100), second.id: D(100), charges.id: D(10)})
            exchange, = Exchange.search([('origin', '=', str(plan))])
            self.assertEqual(
                {i.id for i in exchange.invoices},
                {first.id, second.id, charges.id})

    @with_transaction()
    def test_paid_before_the_plan(self):
        """What was paid of an invoice before the plan stays paid: the plan
        spreads what is left"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        company, invoices = create_invoices(1)
        with set_company(company):
            pay_invoice(invoices[0], 40, dt.date(2026, 2, 20))
            plan = start(make_plan(invoices, number=2))
            self.assertEqual(schedule(plan), [
                    (APRIL, D(30), D(0)), (MAY, D(30), D(0))])
            figures = Invoice.dunning_figures(APRIL, [company.id])
            self.assertEqual(figures[invoices[0].id].remaining, D(60))
            self.assertEqual(figures[invoices[0].id].overdue, D(30))

    @with_transaction()
    def test_no_reminder_while_installments_are_paid(self):
        """The invoices of a running plan get no reminder while the
        installments are paid; the plan is completed when all is paid"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            plan = start(make_plan(invoices, number=2))
            self.assertEqual(Dunning.generate_dunnings(date=AGREED), [])
            pay_invoice(invoices[0], 100, dt.date(2026, 3, 30))
            self.assertEqual(
                Dunning.generate_dunnings(date=dt.date(2026, 4, 20)), [])
            self.assertEqual(plan.installments[0].paid_amount, D(100))
            pay_invoice(invoices[1], 100, dt.date(2026, 4, 28))
            Dunning.generate_dunnings(date=dt.date(2026, 5, 2))
            plan = plan.__class__(plan.id)
            self.assertEqual(plan.state, 'completed')
            self.assertEqual(plan.settled_on, dt.date(2026, 5, 2))

    @with_transaction()
    def test_missed_installment_reminded_once(self):
        """An installment unpaid 5 days after its date (the days of the
        level of missed installments) gets one reminder, whose letter
        recalls the plan and the day it will end"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            plan = start(make_plan(invoices))
            self.assertEqual(
                Dunning.generate_dunnings(date=dt.date(2026, 4, 5)), [])
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 4, 6))
            self.assertEqual(dunning.invoice, invoices[0])
            self.assertEqual(dunning.plan, plan)
            self.assertEqual(dunning.level.name, "Missed Installment")
            self.assertEqual(dunning.amount, D('66.67'))
            self.assertEqual(dunning.due_date, APRIL)
            self.assertEqual(dunning.interest_amount, D(0))
            Dunning.process([dunning])
            text = zip_texts(Dunning(dunning.id).dispatch.letter)
            self.assertIn("the installment due on 1 April 2026 has not "
                "been paid", text)
            self.assertIn("If it is not paid by 16 April 2026", text)
            self.assertIn("200.00", text.replace(',', ''))
            # Once for this installment
            self.assertEqual(
                Dunning.generate_dunnings(date=dt.date(2026, 4, 10)), [])
            # The next one missed too: reminded in turn
            pay_invoice(invoices[0], D('66.67'), dt.date(2026, 4, 12))
            dunnings = Dunning.generate_dunnings(date=dt.date(2026, 5, 6))
            # 33.33 of the first invoice and 33.34 of the second in May
            self.assertEqual(
                {(d.invoice.id, d.due_date, d.amount) for d in dunnings},
                {(invoices[0].id, MAY, D('33.33')),
                    (invoices[1].id, MAY, D('33.34'))})
            Dunning.process(dunnings)

    @with_transaction()
    def test_broken_plan_resumes_the_ladder(self):
        """After the grace the plan is broken: all that is left of its
        invoices falls due, the ladder resumes at once at its next level,
        the letter recalling the plan"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Invoice = pool.get('account.invoice')
        company, invoices = create_invoices(1)
        with set_company(company):
            Dunning.process(Dunning.generate_dunnings(
                    date=dt.date(2026, 2, 11)))
            plan = start(make_plan(invoices))
            Dunning.process(Dunning.generate_dunnings(
                    date=dt.date(2026, 4, 6)))
            self.assertEqual(
                Dunning.generate_dunnings(date=dt.date(2026, 4, 16)), [])
            self.assertEqual(plan.__class__(plan.id).state, 'running')
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 4, 17))
            plan = plan.__class__(plan.id)
            self.assertEqual(plan.state, 'broken')
            self.assertEqual(plan.settled_on, dt.date(2026, 4, 17))
            # The level after the first reminder, without waiting for it
            self.assertEqual(dunning.level.name, "Second Reminder")
            self.assertEqual(dunning.broken_plan, plan)
            self.assertEqual(dunning.amount, D(100))
            figures = Invoice.dunning_figures(
                dt.date(2026, 4, 17), [company.id])
            self.assertEqual(figures[invoices[0].id].overdue, D(100))
            Dunning.process([dunning])
            text = zip_texts(Dunning(dunning.id).dispatch.letter)
            self.assertIn("As the installment due on 1 April 2026 was not "
                "paid in time, the payment plan has ended", text)
            # Resumed once: the next level waits for its delay
            self.assertEqual(
                Dunning.generate_dunnings(date=dt.date(2026, 4, 18)), [])

    @with_transaction()
    def test_start_checks(self):
        """A plan starts only if its installments pay what is left, from
        today on, and if none of its invoices is in a running plan"""
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        Installment = pool.get('account.invoice.dunning.plan.installment')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            plan = make_plan(invoices)
            Installment.write([plan.installments[0]], {'principal': D(50)})
            with self.assertRaises(PlanError):
                start(plan)
            plan = make_plan(invoices)
            with self.assertRaises(PlanValidationError):
                Plan.write([plan], {'first_date': dt.date(2020, 1, 1)})
            start(plan)
            with self.assertRaises(PlanError):
                start(make_plan(invoices[:1]))

    @with_transaction()
    def test_started_plan_is_history(self):
        """A started plan changes only its note, by the workflow, and is
        never deleted; its installments neither"""
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        Installment = pool.get('account.invoice.dunning.plan.installment')
        company, invoices = create_invoices(1)
        with set_company(company):
            plan = start(make_plan(invoices))
            with check_access():
                with self.assertRaises(AccessError):
                    Plan.write([plan], {'grace_days': 30})
                with self.assertRaises(AccessError):
                    Installment.write(list(plan.installments),
                        {'principal': D(1)})
                Plan.write([plan], {'note': "Signed"})
            with self.assertRaises(AccessError):
                Plan.delete([plan])
            with self.assertRaises(AccessError):
                Installment.delete(list(plan.installments))

    @with_transaction()
    def test_plan_rights_and_companies(self):
        """Accounting users read the plans and print their agreement, the
        Invoice Dunning group proposes and starts them; nobody sees those
        of another company"""
        pool = Pool()
        Plan = pool.get('account.invoice.dunning.plan')
        Agreement = pool.get('account.invoice.dunning.plan.agreement',
            type='report')
        (company_a, company_b), (invoice_a, invoice_b), _ = two_companies()
        plans = []
        for company, invoice in [(company_a, invoice_a),
                (company_b, invoice_b)]:
            with set_company(company):
                plans.append(make_plan([invoice]))
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a, ['dunning'])
        with as_user(accountant):
            self.assertEqual(Plan.search([]), [plans[0]])
            Agreement.execute([plans[0].id], {})
            with self.assertRaises(AccessError):
                Plan.write([plans[0]], {'number': 2})
            with self.assertRaises(AccessError):
                Agreement.execute([plans[1].id], {})
        with as_user(dunning_user):
            self.assertEqual(Plan.search([]), [plans[0]])
            Plan.write([plans[0]], {'number': 2})
            with today(AGREED):
                Plan.propose([plans[0]])
                Plan.start([plans[0]])
            self.assertEqual(Plan(plans[0].id).state, 'running')
            with self.assertRaises(AccessError):
                Plan.read([plans[1].id], ['number'])

    @with_transaction()
    def test_create_wizard_from_party(self):
        """The wizard proposes a plan for the open invoices of the customer
        selected, with the terms given"""
        pool = Pool()
        CreatePlan = pool.get('account.invoice.dunning.plan.create',
            type='wizard')
        Plan = pool.get('account.invoice.dunning.plan')
        company, invoices = create_invoices(3, parties=2)
        with set_company(company):
            party = invoices[0].party
            context = {
                'active_model': 'party.party',
                'active_id': party.id,
                'active_ids': [party.id],
                }
            with today(AGREED), Transaction().set_context(context):
                session_id, _, _ = CreatePlan.create()
                result = CreatePlan.execute(session_id, {}, 'start')
                values = result['view']['defaults']
                self.assertEqual(values['remaining'], D(200))
                self.assertEqual(set(values['invoices']),
                    {invoices[0].id, invoices[2].id})
                # What the client sends back: the values, not their names
                values = {k: v for k, v in values.items() if '.' not in k}
                values.update(number=4, first_date=APRIL)
                result = CreatePlan.execute(
                    session_id, {'start': values}, 'propose')
            (action, _), = result['actions']
            plan, = Plan.browse(action['res_id'])
            self.assertEqual(plan.state, 'draft')
            self.assertEqual(len(plan.installments), 4)
            self.assertEqual(plan.principal_amount, D(200))

    @with_transaction()
    def test_agreement(self):
        "The agreement lists the invoices, the installments and the terms"
        pool = Pool()
        Agreement = pool.get('account.invoice.dunning.plan.agreement',
            type='report')
        company, invoices = create_invoices(2, parties=1)
        with set_company(company):
            set_penalty_account(invoices[0])
            plan = start(make_plan(invoices, fee_amount=D(10)))
            # Printed again later: what was planned, not what is left
            pay_invoice(invoices[0], 100, APRIL)
            _, content, _, _ = Agreement.execute([plan.id], {})
            text = zip_texts(content).replace(',', '')
            for expected in [
                    "Payment plan agreement", invoices[0].number,
                    "1 April 2026", "1 June 2026", "76.67", "210.00",
                    "15 days after its due date"]:
                self.assertIn(expected, text)
            # Left to pay of each invoice and in total when agreed
            self.assertIn("5 January 2026 EUR100.00 EUR100.00 2", text)
            for expected in ["200.00"]:
                self.assertIn(expected, text)

    @with_transaction()
    def test_generation_queries_with_plans(self):
        """Generating with 10 % of the invoices under a running plan, one
        installment missed in every other plan, runs about as many queries
        for 40 invoices as for 20"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')

        counts = []
        for count in [10, 20, 40]:
            company, invoices = create_invoices(count)
            with set_company(company):
                for i, invoice in enumerate(invoices[::10]):
                    start(make_plan([invoice], number=2,
                            first_date=AGREED if i % 2 else APRIL))
                counter = QueryCounter(ignore_run_queries)
                with counter:
                    Dunning.generate_dunnings(date=dt.date(2026, 3, 10))
                counts.append(counter.count)
        self.assertLessEqual(abs(counts[2] - counts[1]), 2, counts)
