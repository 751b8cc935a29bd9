# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The dispatches by email: sent through trytond's SMTP settings with the
letter and a copy of the invoices attached, recorded as an ir.email of the
dispatch; a dispatch whose email could not leave stays to send, with the
error, until a later attempt sends it (once)."""
import logging
import mimetypes
import re
from email.message import EmailMessage
from email.utils import getaddresses
from html import unescape
from types import SimpleNamespace

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import html_to_text
from trytond.sendmail import send_message
from trytond.tools import slugify
from trytond.tools.email_ import format_address, set_from_header
from trytond.transaction import Transaction

from .common import companies_to_run, search_browse

logger = logging.getLogger(__name__)

EMAIL_STATES = [
    (None, ""),
    ('to_send', "To Send"),
    ('sent', "Sent"),
    ]

HTML_EMAIL = """<!DOCTYPE html>
<html>
<head><title>%(subject)s</title></head>
<body>%(body)s</body>
</html>"""


def plain_text(html):
    """The text of an HTML body, for the mail readers that show text only:
    html2text's when installed (as Tryton does), else paragraphs and line
    breaks kept, tags removed"""
    text = html_to_text(html)
    if text:
        return text
    html = re.sub(r'(?is)<(head|title)\b.*?</\1>', '', html)
    html = re.sub(r'(?i)<br\s*/?>', '\n', html)
    html = re.sub(r'(?i)</p\s*>', '\n\n', html)
    text = unescape(re.sub(r'<[^>]+>', '', html))
    lines = [' '.join(l.split()) for l in text.splitlines()]
    return re.sub(r'\n{3,}', '\n\n', '\n'.join(lines)).strip() + '\n'


class EmailError(Exception):
    "The email of a dispatch can not be sent (recorded, retried later)"


class DispatchEmailMixin:
    "Send the dispatches of the email channel"
    __slots__ = ()
    email_state = fields.Selection(
        EMAIL_STATES, "Email State", readonly=True,
        states={
            'invisible': Eval('channel') != 'email',
            },
        help="\"To Send\" until the email has left: a failed attempt is "
        "retried by the scheduled task.")
    email_to = fields.Char(
        "Email To", readonly=True,
        states={
            'invisible': Eval('channel') != 'email',
            })
    email_error = fields.Text(
        "Email Error", readonly=True,
        states={
            'invisible': ~Eval('email_error'),
            },
        help="Why the last attempt to send the email failed.")
    email_attempts = fields.Integer(
        "Email Attempts", readonly=True,
        states={
            'invisible': Eval('channel') != 'email',
            })
    email = fields.Many2One(
        'ir.email', "Email", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('email'),
            },
        help="The email sent: when, to whom, what was attached.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_email': {
                    'invisible': Eval('email_state') != 'to_send',
                    'icon': 'tryton-send',
                    'depends': ['email_state'],
                    },
                })

    @classmethod
    def default_email_attempts(cls):
        return 0

    @classmethod
    def queue_emails(cls, dispatches):
        """Send the emails of dispatches once the transaction is committed:
        by trytond-worker, one task a dispatch, or after the request when
        no worker runs; the scheduled task sends those left behind"""
        dispatches = [d for d in dispatches if d.email_state == 'to_send']
        if dispatches:
            with Transaction().set_context(queue_batch=1):
                cls.__queue__.send_emails(dispatches)

    @classmethod
    @ModelView.button
    def send_email(cls, dispatches):
        "Try again to send the emails of dispatches now"
        cls.send_emails(dispatches)

    @classmethod
    def send_emails(cls, dispatches):
        """Send the emails of dispatches still to send, each once: a failed
        one records its error and stays to send"""
        pool = Pool()
        Date = pool.get('ir.date')
        Exchange = pool.get('account.invoice.dunning.exchange')
        ids = [d.id for d in dispatches]
        cls.lock(cls.browse(ids))
        # Read again once locked: another run may have sent them meanwhile
        dispatches = [d for d in cls.browse(ids) if d.email_state == 'to_send']
        cls._archive_letters(dispatches)
        for dispatch in dispatches:
            try:
                email = dispatch._send_email()
            except (EmailError, OSError, ValueError) as error:
                # OSError: smtplib's errors and the refused connections
                logger.warning("email of dispatch %d not sent: %s",
                    dispatch.id, error)
                dispatch.email_error = str(error) or error.__class__.__name__
            else:
                dispatch.email = email
                dispatch.email_state = 'sent'
                dispatch.email_error = None
            dispatch.email_attempts = (dispatch.email_attempts or 0) + 1
        cls.save(dispatches)
        Exchange.log_dispatches(
            [d for d in dispatches if d.email_state == 'sent'],
            date=Date.today())

    def _send_email(self):
        """Send the email of the dispatch and return its ir.email, or raise
        EmailError"""
        pool = Pool()
        Email = pool.get('ir.email')
        Attachment = pool.get('ir.attachment')
        content = self.email_content()
        self.email_to = ', '.join(content.to)
        if not content.to:
            raise EmailError(gettext(
                    'account_invoice_dunning.msg_dispatch_email_no_recipient',
                    party=self.party.rec_name))
        msg = self._email_message(content)
        send_message(msg, strict=True)
        email = Email.from_message(msg, body=content.body, resource=self)
        email.save()
        Attachment.save([Attachment(resource=email, name=name, data=data)
                for name, data in content.files])
        return email

    def email_content(self):
        """The recipients, subject, body and files of the email of the
        dispatch, in the language of its party"""
        pool = Pool()
        EmailTemplate = pool.get('ir.email.template')
        party = self.party
        language = party.lang.code if party.lang else None
        template = self.level.get_email_template()
        with Transaction().set_context(language=language):
            values = EmailTemplate(template.id).get(self.id)
        to = values.get('to') or [a for a in [self.email_recipient()] if a]
        return SimpleNamespace(
            to=to, cc=values.get('cc') or [], bcc=values.get('bcc') or [],
            subject=values.get('subject') or '',
            body=values.get('body') or '',
            files=self.email_files())

    def email_recipient(self):
        "The address the reminders go to: flagged for dunning, else invoice"
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        return Letter.get_recipient_email(self)

    def email_files(self):
        """The files attached: the letter, and a copy of each invoice when
        the level attaches them, as PDF when LibreOffice converts them"""
        files = []
        if self.letter:
            name = slugify(self.letter_filename.rsplit('.', 1)[0])
            files.append(self._as_pdf(name, self.letter_format,
                    bytes(self.letter)))
        if self.level.attach_invoice:
            files.extend(self.invoice_copies())
        return files

    def _email_message(self, content):
        "The message of content, as Tryton's ir.email builds it"
        pool = Pool()
        User = pool.get('res.user')
        msg = EmailMessage()
        body_html = HTML_EMAIL % {
            'subject': content.subject,
            'body': content.body,
            }
        msg.add_alternative(plain_text(body_html), subtype='plain')
        msg.add_alternative(body_html, subtype='html')
        for name, data in content.files:
            ctype, _ = mimetypes.guess_type(name)
            maintype, subtype = (
                ctype or 'application/octet-stream').split('/', 1)
            msg.add_attachment(data, maintype=maintype, subtype=subtype,
                filename=('utf-8', '', name))
        from_ = config.get('email', 'from')
        user = User(Transaction().user) if Transaction().user else None
        set_from_header(msg, from_, (user.email if user else None) or from_)
        for header, addresses in [('To', content.to), ('Cc', content.cc),
                ('Bcc', content.bcc)]:
            if addresses:
                msg[header] = [format_address(a, n)
                    for n, a in getaddresses(addresses)]
        msg['Subject'] = content.subject
        return msg

    @classmethod
    def email_cron(cls):
        """Frequent task: send the emails still to send (their first
        attempt found no worker, or the SMTP server was down)"""
        for company in companies_to_run():
            with Transaction().set_context(company=company.id):
                dispatches = search_browse(cls, [
                        ('company', '=', company.id),
                        ('email_state', '=', 'to_send'),
                        ])
                if dispatches:
                    cls.send_emails(dispatches)
