# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The reminders by email, through a real SMTP server on localhost
(aiosmtpd): the message reaches the customer in its language with the
letter and the invoices attached, is recorded as an ir.email of the
dispatch; with the server down the dispatch stays to send with the error,
and once it is back the retry sends each email exactly once."""
import datetime as dt
import email
import email.policy
import shutil
import socket
import threading
import unittest

from aiosmtpd.controller import Controller

import trytond.config as config
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company, create_invoices, load_translations)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.tools import slugify

FIRST = dt.date(2026, 2, 11)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Inbox:
    "The messages received by the SMTP server"

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return '250 OK'


class SMTPServer:
    "A real SMTP server on a port of localhost, which can stop and restart"

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(
            self.inbox, hostname='127.0.0.1', port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


def attachments(message):
    "[(file name, content type)] of the attachments of message"
    return [(part.get_filename(), part.get_content_type())
        for part in message.iter_attachments()]


class EmailTestCase(unittest.TestCase):
    "The dispatches of the email channel leave, once"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    def setUp(self):
        self.server = SMTPServer()
        self.server.start()
        self.addCleanup(self.server.stop)
        for section, key, value in [
                ('email', 'uri', 'smtp://127.0.0.1:%d' % self.server.port),
                ('email', 'from', 'credit@dunder.example'),
                ('queue', 'worker', 'False'),
                ]:
            old = config.get(section, key)
            config.set(section, key, value)
            self.addCleanup(config.set, section, key, old or '')

    def email_reminders(self, count, lang=None):
        """Process the first reminders of count invoices of one customer
        (its dunning email set, in lang) by email; return the invoices,
        the reminders and their dispatch"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        ContactMechanism = pool.get('party.contact_mechanism')
        company, invoices = create_invoices(count, parties=1)
        party = invoices[0].party
        party.lang = lang
        party.save()
        ContactMechanism.create([
                {'party': party.id, 'type': 'email',
                    'value': 'sales@customer.example'},
                {'party': party.id, 'type': 'email', 'dunning': True,
                    'value': 'Accounts Payable <ap@customer.example>'},
                ])
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.write(dunnings, {'channel': 'email'})
            Dunning.process(dunnings)
        dunnings = Dunning.browse(dunnings)
        dispatch, = {d.dispatch for d in dunnings}
        return company, invoices, dunnings, dispatch

    def run_queue(self):
        "Run the tasks of the queue, as trytond-worker does"
        Queue = Pool().get('ir.queue')
        tasks = Queue.search([('finished_at', '=', None)],
            order=[('id', 'ASC')])
        for task in tasks:
            task.run()
        return tasks

    @with_transaction()
    def test_email_reaches_the_customer(self):
        """The message goes to the dunning email, in the customer's
        language, with the letter and a copy of each invoice; an ir.email
        records it"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Attachment = pool.get('ir.attachment')
        load_translations('fr')
        Lang = pool.get('ir.lang')
        french, = Lang.search([('code', '=', 'fr')])
        _, invoices, dunnings, dispatch = self.email_reminders(2, french)
        self.assertEqual(dispatch.email_state, 'to_send')
        self.assertEqual({d.email_state for d in dunnings}, {'to_send'})
        # Queued, sent once the processing is committed
        self.assertEqual(self.server.inbox.messages, [])
        tasks = self.run_queue()
        self.assertEqual([list(t.data['instances']) for t in tasks
                if t.data['method'] == 'send_emails'], [[dispatch.id]])

        (recipients, message), = self.server.inbox.messages
        self.assertEqual(recipients, ['ap@customer.example'])
        self.assertEqual(message['To'],
            'Accounts Payable <ap@customer.example>')
        self.assertEqual(message['From'], 'credit@dunder.example')
        self.assertEqual(
            message['Subject'], 'Relance de paiement – 2 factures')
        body = message.get_body(('plain',)).get_content()
        for invoice in invoices:
            self.assertIn(invoice.number, body)
        self.assertIn('Madame, Monsieur', body)

        pdf = bool(shutil.which('soffice'))
        files = attachments(message)
        self.assertEqual(len(files), 3, files)
        extension, content_type = (('pdf', 'application/pdf') if pdf else
            ('odt', 'application/vnd.oasis.opendocument.text'))
        self.assertEqual({f[1] for f in files}, {content_type})
        self.assertTrue(all(f[0].endswith('.' + extension) for f in files))
        self.assertEqual(files[0][0], '%s.%s' % (slugify(
                    dispatch.letter_filename.rsplit('.', 1)[0]), extension),
            files)

        dispatch = Dispatch(dispatch.id)
        self.assertEqual((dispatch.email_state, dispatch.email_error,
                dispatch.email_attempts), ('sent', None, 1))
        self.assertEqual(dispatch.email_to,
            'Accounts Payable <ap@customer.example>')
        sent = dispatch.email
        self.assertEqual(sent.resource, dispatch)
        self.assertEqual(sent.recipients,
            'Accounts Payable <ap@customer.example>')
        self.assertEqual(sent.subject, message['Subject'])
        self.assertEqual(sent.message_id, message['Message-ID'])
        self.assertEqual(sorted(a.name for a in Attachment.search([
                        ('resource', '=', str(sent))])),
            sorted(f[0] for f in files))

    @with_transaction()
    def test_server_down_then_back(self):
        """With the SMTP server down the dispatch stays to send with the
        error; once it is back the retry sends it exactly once"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        Email = pool.get('ir.email')
        self.server.stop()
        company, _, dunnings, dispatch = self.email_reminders(2)
        self.run_queue()
        dispatch = Dispatch(dispatch.id)
        self.assertEqual(dispatch.email_state, 'to_send')
        self.assertEqual(dispatch.email_attempts, 1)
        self.assertTrue(dispatch.email_error)
        self.assertEqual({Dunning(d.id).state for d in dunnings}, {'done'})
        self.assertEqual(Email.search([], count=True), 0)
        # Still down: the scheduled task tries again, in vain
        with set_company(company):
            Dispatch.email_cron()
        self.assertEqual(Dispatch(dispatch.id).email_attempts, 2)

        self.server.start()
        with set_company(company):
            Dispatch.email_cron()
            # Nothing more to send: the next runs send nothing
            Dispatch.email_cron()
            Dispatch.send_emails([dispatch])
        self.assertEqual(len(self.server.inbox.messages), 1)
        dispatch = Dispatch(dispatch.id)
        self.assertEqual((dispatch.email_state, dispatch.email_error,
                dispatch.email_attempts), ('sent', None, 3))
        self.assertEqual(Email.search([], count=True), 1)
        (_, message), = self.server.inbox.messages
        self.assertEqual(message['Subject'], 'Payment reminder – 2 invoices')

    @with_transaction()
    def test_no_email_address(self):
        "A customer without email: to send, with an error that says so"
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Dunning = pool.get('account.invoice.dunning')
        company, invoices = create_invoices(1)
        with set_company(company):
            dunnings = Dunning.generate_dunnings(date=FIRST)
            Dunning.write(dunnings, {'channel': 'email'})
            Dunning.process(dunnings)
            dispatch = Dunning(dunnings[0].id).dispatch
            Dispatch.send_emails([dispatch])
        dispatch = Dispatch(dispatch.id)
        self.assertEqual(dispatch.email_state, 'to_send')
        self.assertIn(invoices[0].party.rec_name, dispatch.email_error)
        self.assertIn('no email address', dispatch.email_error)
        self.assertEqual(self.server.inbox.messages, [])
