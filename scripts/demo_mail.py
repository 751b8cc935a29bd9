# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The inbox of the demo: a local SMTP server (aiosmtpd) that receives the
reminder emails sent by trytond, keeps them in OUTPUT/inbox (.eml) and
prints today's."""
import email
import email.policy
import os
import shutil
import socket
import threading


class MailSink:
    "An SMTP server on a free port of localhost, keeping what it receives"

    def __init__(self, folder):
        self.folder = folder
        self.messages = []
        self._lock = threading.Lock()
        self.controller = None
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]

    @property
    def uri(self):
        return 'smtp://127.0.0.1:%d' % self.port

    def start(self):
        "Start the server; False when aiosmtpd is not installed"
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            return False
        shutil.rmtree(self.folder, ignore_errors=True)
        os.makedirs(self.folder)
        self.controller = Controller(
            self, hostname='127.0.0.1', port=self.port)
        self.controller.start()
        return True

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            name = '%04d.eml' % len(self.messages)
        with open(os.path.join(self.folder, name), 'wb') as fp:
            fp.write(envelope.content)
        return '250 OK'


def print_inbox(sink, since):
    "Print the messages received after the first since ones"
    messages = sink.messages[since:]
    print()
    print("Emails sent today, received by the demo's SMTP server (%s), "
        "kept in %s/:" % (sink.uri, sink.folder))
    if not messages:
        print("  (none)")
    for message in messages:
        print("  To: %s" % message['To'])
        print("  Subject: %s" % message['Subject'])
        print("  Attachments: %s" % ', '.join(
                part.get_filename() for part in message.iter_attachments()))
        body = message.get_body(('plain',))
        if body:
            lines = [l for l in body.get_content().splitlines() if l.strip()]
            for line in lines[:3]:
                print("    | %s" % line[:100])
        print()
