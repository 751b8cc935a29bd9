# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The copy of the invoices a dispatch reminds: the invoice's own report,
attached to the emails and appended as pages to the printed letters, in
PDF when LibreOffice converts them ("I never received the invoice" is the
first objection a credit manager hears)."""
import io
import logging
import shutil
from types import SimpleNamespace

from pypdf import PdfReader, PdfWriter

import trytond.config as config
from trytond.pool import Pool
from trytond.tools import slugify
from trytond.transaction import Transaction

from .common import PRINTED_CHANNELS

logger = logging.getLogger(__name__)


def merge_pdfs(documents):
    "One PDF of the pages of the PDF documents, in their order"
    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


class InvoiceCopyMixin:
    "The copies of the invoices of a dispatch"
    __slots__ = ()

    def invoice_copies(self):
        """[(file name, data)]: a copy of each invoice of the dispatch, in
        the language of the customer (its file name too), as PDF when it
        can be converted"""
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        lang = self.party.lang
        with Transaction().set_context(language=lang.code if lang else None):
            return [self._invoice_copy(d.invoice)
                for d in Letter.reminders_of(self)]

    def with_invoice_copies(self, extension, content):
        """The (format, content) of the printed letter of the dispatch:
        followed by the pages of a copy of each invoice when its level
        attaches them and the letter is a PDF (the letter as it is else)"""
        if (extension != 'pdf' or self.channel not in PRINTED_CHANNELS
                or not self.level.attach_invoice):
            return extension, content
        copies = self.invoice_copies()
        if not all(n.endswith('.pdf') for n, _ in copies):
            logger.warning("The invoices of %s can not be converted to PDF: "
                "its letter is archived without their copy", self)
            return extension, content
        return 'pdf', merge_pdfs([content] + [d for _, d in copies])

    @classmethod
    def _invoice_copy(cls, invoice):
        "(name, data) of the invoice's own report"
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        InvoiceReport = pool.get('account.invoice', type='report')
        action_id = ModelData.get_id('account_invoice', 'report_invoice')
        oext, content, _, title = InvoiceReport.execute([invoice.id], {
                'model': invoice.__name__,
                'id': invoice.id,
                'ids': [invoice.id],
                'action_id': action_id,
                })
        if isinstance(content, str):
            content = content.encode('utf-8')
        return cls._as_pdf(slugify(title), oext, bytes(content))

    @classmethod
    def _as_pdf(cls, name, extension, data):
        """(file name, data) of a document, converted to PDF by LibreOffice
        through Tryton's report conversion, else as it is"""
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        if extension != 'pdf' and cls._can_convert():
            report = SimpleNamespace(report_name=name,
                template_extension=extension, extension='pdf')
            extension, data = Letter.convert(report, data)
        return '%s.%s' % (name, extension), data

    @classmethod
    def _can_convert(cls):
        "Whether the documents can be converted to PDF"
        if not Transaction().context.get('dunning_email_pdf', True):
            # e.g. the demo replaying the emails of the past, faster
            return False
        if config.get('report', 'convert_command'):
            return True
        if shutil.which('soffice'):
            return True
        logger.info("LibreOffice (soffice) is not installed: the documents "
            "are attached to the emails as they are (ODT)")
        return False
