# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Access rights and record rules: who may read and change the reminders and
the dunning fields, and that every report and wizard refuses the records of
another company, as Tryton's RPC calls them (``_check_access``)."""
import datetime as dt
import unittest
from contextlib import contextmanager

from trytond.model.exceptions import AccessError
from trytond.modules.account_invoice_dunning.exceptions import DunningError
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

MODULE = 'account_invoice_dunning'
GROUPS = {
    'account': ('account', 'group_account'),
    'account_admin': ('account', 'group_account_admin'),
    'dunning': (MODULE, 'group_invoice_dunning'),
    }


def create_user(login, company, groups=()):
    "Create a user of company only, member of the groups (keys of GROUPS)"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    user, = User.create([{
                'name': login,
                'login': login,
                'companies': [('add', [company.id])],
                'company': company.id,
                'groups': [('add', [
                            ModelData.get_id(*GROUPS[g]) for g in groups])],
                }])
    return user


@contextmanager
def as_user(user):
    "Run as user, with the checks of an RPC call"
    pool = Pool()
    User = pool.get('res.user')
    transaction = Transaction()
    with transaction.set_user(user.id), \
            transaction.set_context(_check_access=True):
        with transaction.set_context(
                User.get_preferences(context_only=True)):
            yield


def two_companies():
    """Create the companies A and B, each with a processed reminder of an
    invoice; return (companies, invoices, dunnings), A first"""
    pool = Pool()
    Dunning = pool.get('account.invoice.dunning')
    companies, invoices, dunnings = [], [], []
    for _ in range(2):
        company, (invoice,) = create_invoices(1)
        with set_company(company):
            dunning, = Dunning.generate_dunnings(date=dt.date(2026, 2, 11))
            Dunning.process([dunning])
        companies.append(company)
        invoices.append(invoice)
        dunnings.append(Dunning(dunning.id))
    return companies, invoices, dunnings


class AccessTestCase(unittest.TestCase):
    "Who can do what, and only in their companies"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_reports_refuse_other_company(self):
        """A user of company A gets an access error on the records of
        company B from every report, and the document of A's"""
        pool = Pool()
        ArchivedLetter = pool.get(
            'account.invoice.dunning.letter.archived', type='report')
        InvoiceLetter = pool.get(
            'account.invoice.dunning.invoice_letter', type='report')
        History = pool.get('account.invoice.dunning.history', type='report')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        (company_a, _), invoices, dunnings = two_companies()
        user = create_user('a', company_a, ['account', 'dunning'])
        letter_data = {
            'model': 'account.invoice.dunning.dispatch',
            'action_id': dunnings[0].level.get_report().id,
            }
        dispatches = [d.dispatch for d in dunnings]
        reports = [
            ('archived letter', ArchivedLetter, dunnings, {}),
            ('dispatch letter', ArchivedLetter, dispatches, {
                    'model': 'account.invoice.dunning.dispatch'}),
            ('invoice letter', InvoiceLetter, invoices, {}),
            ('history', History, invoices, {}),
            ('letter', Letter, dispatches, letter_data),
            ]
        for name, Report, (record_a, record_b), data in reports:
            with self.subTest(report=name), as_user(user):
                with self.assertRaises(AccessError):
                    Report.execute([record_b.id], data)
                with self.assertRaises(AccessError):
                    Report.execute([record_a.id, record_b.id], data)
                oext, content, _, _ = Report.execute([record_a.id], data)
                self.assertEqual(oext, 'odt')
                self.assertTrue(content)

    @with_transaction()
    def test_archived_letter_draft_preview_other_company(self):
        "The preview of a draft of company B is refused to a user of A"
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        ArchivedLetter = pool.get(
            'account.invoice.dunning.letter.archived', type='report')
        (company_a, company_b), _, _ = two_companies()
        with set_company(company_b):
            draft, = Dunning.generate_dunnings(date=dt.date(2026, 3, 31))
        user = create_user('a', company_a, ['account', 'dunning'])
        with as_user(user), self.assertRaises(AccessError):
            ArchivedLetter.execute([draft.id], {})

    @with_transaction()
    def test_invoice_letter_needs_reminder_access(self):
        """The invoice letter prints a reminder: a user who may read the
        invoices but not the reminders gets an access error"""
        pool = Pool()
        Group = pool.get('res.group')
        InvoiceLetter = pool.get(
            'account.invoice.dunning.invoice_letter', type='report')
        (company_a, _), (invoice_a, _), _ = two_companies()
        group, = Group.create([{
                    'name': "Invoice Readers",
                    'model_access': [('create', [{
                                    'model': 'account.invoice',
                                    'perm_read': True,
                                    }])],
                    }])
        user = create_user('a', company_a)
        user.groups = [group]
        user.save()
        with as_user(user), self.assertRaises(AccessError):
            InvoiceLetter.execute([invoice_a.id], {})

    @with_transaction()
    def test_wizards_refuse_other_company(self):
        """A user of company A can not run the wizards on the records or for
        the company of B"""
        (company_a, company_b), invoices, dunnings = two_companies()
        user = create_user('a', company_a, ['account', 'dunning'])
        self.check_create_wizard_companies(user, company_a, company_b)
        self.check_penalty_wizard_records(user, invoices, dunnings)

    def check_create_wizard_companies(self, user, company_a, company_b):
        "The create wizard runs for company_a only as user"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        CreateDunning = pool.get(
            'account.invoice.dunning.create', type='wizard')
        create_action = ModelData.get_id(MODULE, 'wizard_dunning_create')
        # The wizard refuses with its own message: "You can only create
        # reminders for the companies you belong to."
        for companies, error in [
                ([company_b], DunningError),
                ([company_a, company_b], DunningError),
                ([company_a], None),
                ]:
            with self.subTest(companies=[c.id for c in companies]), \
                    as_user(user), Transaction().set_context(
                        action_id=create_action):
                session_id, _, _ = CreateDunning.create()
                CreateDunning.execute(session_id, {}, 'start')
                data = {'start': {
                        'date': dt.date(2026, 3, 31),
                        'companies': [c.id for c in companies],
                        }}
                if error:
                    with self.assertRaises(error):
                        CreateDunning.execute(session_id, data, 'create_')
                else:
                    result = CreateDunning.execute(session_id, data, 'create_')
                    self.assertTrue(result['actions'])

    def check_penalty_wizard_records(self, user, invoices, dunnings):
        """The penalty wizard starts on the invoice and the reminder of
        company_a only as user (the first of invoices and dunnings)"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        InvoicePenalties = pool.get(
            'account.invoice.dunning.penalty.invoice', type='wizard')
        penalty_action = ModelData.get_id(MODULE, 'wizard_penalty_invoice')
        for model, (record_a, record_b) in [
                ('account.invoice', invoices),
                ('account.invoice.dunning', dunnings),
                ]:
            for ids, error in [
                    ([record_b.id], True),
                    ([record_a.id, record_b.id], True),
                    ([record_a.id], False),
                    ]:
                context = {
                    'active_model': model,
                    'active_id': ids[0],
                    'active_ids': ids,
                    'action_id': penalty_action,
                    }
                with self.subTest(model=model, ids=ids), as_user(user), \
                        Transaction().set_context(context):
                    if error:
                        with self.assertRaises(AccessError):
                            InvoicePenalties.create()
                        continue
                    session_id, _, _ = InvoicePenalties.create()
                    result = InvoicePenalties.execute(session_id, {}, 'start')
                    self.assertEqual(result['view']['state'], 'start')

    @with_transaction()
    def test_reminder_rights_by_group(self):
        """No group: no access to the reminders; Accounting: read only;
        Invoice Dunning and account administrators: everything"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        ModelAccess = pool.get('ir.model.access')
        (company_a, _), _, (dunning_a, _) = two_companies()
        nobody = create_user('nobody', company_a)
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a, ['dunning'])
        admin = create_user('admin_a', company_a, ['account_admin'])

        with as_user(nobody), self.assertRaises(AccessError):
            Dunning.read([dunning_a.id], ['state'])
        with as_user(nobody), self.assertRaises(AccessError):
            Dunning.search([])

        with as_user(accountant):
            self.assertEqual(
                [d.id for d in Dunning.search([])], [dunning_a.id])
            Dunning.read([dunning_a.id], ['state'])
            for mode in ['create', 'write', 'delete']:
                with self.subTest(mode=mode), self.assertRaises(AccessError):
                    ModelAccess.check(Dunning.__name__, mode)
            with self.assertRaises(AccessError):
                Dunning.write([Dunning(dunning_a.id)], {
                        'tracking_number': "forged"})
            with self.assertRaises(AccessError):
                Dunning.delete([Dunning(dunning_a.id)])

        for user in [dunning_user, admin]:
            with self.subTest(user=user.login), as_user(user):
                for mode in ['read', 'create', 'write', 'delete']:
                    self.assertTrue(ModelAccess.check(Dunning.__name__, mode))

    @with_transaction()
    def test_configuration_rights(self):
        "Only the account administrators change procedures and levels"
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        (company_a, _), _, _ = two_companies()
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a, ['dunning'])
        admin = create_user('admin_a', company_a, ['account_admin'])
        models = ['account.invoice.dunning.procedure',
            'account.invoice.dunning.level']
        for user in [accountant, dunning_user]:
            for model in models:
                with self.subTest(user=user.login, model=model), \
                        as_user(user):
                    self.assertTrue(ModelAccess.check(model, 'read'))
                    for mode in ['create', 'write', 'delete']:
                        self.assertFalse(ModelAccess.check(
                                model, mode, raise_exception=False))
        with as_user(admin):
            for model in models:
                for mode in ['read', 'create', 'write', 'delete']:
                    self.assertTrue(ModelAccess.check(model, mode))

    @with_transaction()
    def test_party_dunning_fields_admin_only(self):
        """The penalty waiver and the segment of a party are changed by the
        account administrators only, also through the segment records"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        PartySegment = pool.get('party.party.dunning_segment')
        (company_a, _), (invoice_a, _), _ = two_companies()
        party = invoice_a.party
        segment = ModelData.get_id(MODULE, 'segment_standard')
        nobody = create_user('nobody', company_a)
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a,
            ['account', 'dunning'])
        admin = create_user('admin_a', company_a, ['account_admin'])
        other_party, = Party.create([{'name': "Other"}])
        with set_company(company_a):
            Party.write([other_party], {'dunning_segment': segment})
        other_records = PartySegment.search([
                ('party', '=', other_party.id)])
        changes = [
            {'dunning_penalty_waived': True,
                'dunning_penalty_waiver_reason': "Goodwill"},
            {'dunning_penalty_waiver_reason': "Goodwill"},
            {'dunning_segment': segment},
            {'dunning_segment_pinned': True},
            ]
        for user in [nobody, accountant, dunning_user]:
            for values in changes:
                with self.subTest(user=user.login, values=values), \
                        as_user(user), self.assertRaises(AccessError):
                    Party.write([Party(party.id)], values)
            with self.subTest(user=user.login), as_user(user):
                with self.assertRaises(AccessError):
                    PartySegment.create([{
                                'party': party.id,
                                'company': company_a.id,
                                'dunning_segment': segment,
                                'dunning_segment_pinned': True,
                                }])
                with self.assertRaises(AccessError):
                    PartySegment.write(
                        PartySegment.browse(other_records),
                        {'dunning_segment_pinned': True})
                with self.assertRaises(AccessError):
                    PartySegment.delete(PartySegment.browse(other_records))
                # Everyone still reads them
                Party.read([party.id], [
                        'dunning_penalty_waived', 'dunning_segment',
                        'dunning_segment_pinned'])
        with as_user(admin):
            for values in changes:
                Party.write([Party(party.id)], values)
            party = Party(party.id)
            self.assertTrue(party.dunning_penalty_waived)
            self.assertEqual(party.dunning_segment.id, segment)
            self.assertTrue(party.dunning_segment_pinned)
            records = PartySegment.search([('party', '=', party.id)])
            PartySegment.write(records, {'dunning_segment_pinned': False})

    @with_transaction()
    def test_waiver_author_not_forged(self):
        """Who waived the penalties and when are recorded by the server,
        whatever the values given, for every user"""
        pool = Pool()
        Date = pool.get('ir.date')
        Party = pool.get('party.party')
        Invoice = pool.get('account.invoice')
        (company_a, _), (invoice_a, _), _ = two_companies()
        accountant = create_user('accountant', company_a, ['account'])
        admin = create_user('admin_a', company_a,
            ['account', 'account_admin'])
        forged = {
            'dunning_penalty_waived_by': accountant.id,
            'dunning_penalty_waived_date': dt.date(2020, 1, 1),
            }
        for Model, record in [
                (Party, invoice_a.party), (Invoice, invoice_a)]:
            with self.subTest(model=Model.__name__):
                with as_user(accountant):
                    Model.write([Model(record.id)], forged)
                record = Model(record.id)
                self.assertIsNone(record.dunning_penalty_waived_by)
                self.assertIsNone(record.dunning_penalty_waived_date)
                with as_user(admin):
                    Model.write([Model(record.id)], {
                            'dunning_penalty_waived': True,
                            'dunning_penalty_waiver_reason': "Goodwill",
                            **forged})
                record = Model(record.id)
                self.assertEqual(record.dunning_penalty_waived_by, admin)
                self.assertEqual(record.dunning_penalty_waived_date,
                    Date.today())

    @with_transaction()
    def test_party_copy_without_admin(self):
        """A user who may not change the dunning fields still duplicates a
        party with a waiver and a pinned segment: the copy has neither"""
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Party = pool.get('party.party')
        (company_a, _), (invoice_a, _), _ = two_companies()
        party = invoice_a.party
        segment = ModelData.get_id(MODULE, 'segment_standard')
        with set_company(company_a):
            Party.write([party], {
                    'dunning_penalty_waived': True,
                    'dunning_penalty_waiver_reason': "Goodwill",
                    'dunning_segment': segment,
                    'dunning_segment_pinned': True,
                    })
        user = create_user('a', company_a, ['account'])
        with as_user(user):
            copy, = Party.copy([Party(party.id)])
            self.assertFalse(copy.dunning_penalty_waived)
            self.assertFalse(copy.dunning_segment_pinned)
            self.assertIsNone(copy.dunning_segment)

    @with_transaction()
    def test_invoice_dunning_fields(self):
        """An accountant blocks an invoice; its penalty waiver is for the
        Invoice Dunning group and the account administrators"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        (company_a, _), (invoice_a, _), _ = two_companies()
        accountant = create_user('accountant', company_a, ['account'])
        dunning_user = create_user('dunning', company_a,
            ['account', 'dunning'])
        admin = create_user('admin_a', company_a,
            ['account', 'account_admin'])
        waiver = {
            'dunning_penalty_waived': True,
            'dunning_penalty_waiver_reason': "Goodwill",
            }
        with as_user(accountant):
            Invoice.write([Invoice(invoice_a.id)], {
                    'dunning_blocked': True,
                    'dunning_block_reason': "Dispute",
                    })
            for values in [waiver, {'dunning_penalty_waiver_reason': "x"}]:
                with self.subTest(values=values), \
                        self.assertRaises(AccessError):
                    Invoice.write([Invoice(invoice_a.id)], values)
        for user in [dunning_user, admin]:
            with self.subTest(user=user.login), as_user(user):
                Invoice.write([Invoice(invoice_a.id)], waiver)
                self.assertTrue(Invoice(invoice_a.id).dunning_penalty_waived)
                Invoice.write([Invoice(invoice_a.id)], {
                        'dunning_penalty_waived': False,
                        'dunning_penalty_waiver_reason': None,
                        })
        # Duplicating a waived invoice does not copy the waiver
        with set_company(company_a):
            Invoice.write([invoice_a], waiver)
        with as_user(accountant):
            copy, = Invoice.copy([Invoice(invoice_a.id)])
            self.assertFalse(copy.dunning_penalty_waived)
