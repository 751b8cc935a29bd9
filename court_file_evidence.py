# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The evidence of a court file as a zip, numbered as the court file lists
it: each invoice (Tryton's invoice report, the copy kept when posted), each
letter sent (the archived copy, dated in its name), the tracking and
delivery of the registered letters and the exchange log (CSV) and the court
file itself, which states the claim and its penalties."""
import csv
import io
import zipfile

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import slugify
from trytond.transaction import Transaction, check_access

from .court_file import court_file_date, court_files_of, evidence_items
from .declaration import LANGUAGE, french_formatter

DELIVERY_LABELS = {
    'delivered': "distribuée",
    'refused': "refusée par le destinataire",
    'not_claimed': "avisée et non réclamée",
    'returned': "retournée à l’expéditeur",
    }
DIRECTION_LABELS = {
    'in': "reçu",
    'out': "émis",
    }


def csv_bytes(header, rows):
    """rows as a CSV file for a spreadsheet in French: semicolons, UTF-8
    with its mark"""
    output = io.StringIO()
    writer = csv.writer(output, delimiter=';', lineterminator='\r\n')
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode('utf-8-sig')


def tracking_csv(dispatches):
    "The tracking and delivery of the registered letters dispatches"
    rows = []
    for d in dispatches:
        rows.append([d.level_name or d.level.rec_name,
            d.invoice_numbers or '', d.date.isoformat(),
            d.tracking_number or '',
            DELIVERY_LABELS.get(d.delivery_status, d.delivery_status or ''),
            d.delivery_date.isoformat() if d.delivery_date else ''])
    return csv_bytes(
        ["Envoi", "Factures", "Date d’envoi", "Numéro de suivi",
            "Distribution", "Date de distribution"], rows)


def exchanges_csv(exchanges):
    "The exchange log of exchanges"
    rows = []
    for e in exchanges:
        rows.append([e.date.isoformat(), e.channel,
            DIRECTION_LABELS.get(e.direction, e.direction),
            e.contact or '', e.summary,
            ', '.join(i.number or '' for i in e.invoices), e.note or ''])
    return csv_bytes(
        ["Date", "Canal", "Sens", "Interlocuteur", "Objet", "Factures",
            "Note"], rows)


def check_invoices_readable(invoices):
    """The user must be allowed to read invoices, as an RPC call would
    check (the administrator and the calls of the server may)"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    ModelAccess = pool.get('ir.model.access')
    if Transaction().user:
        with check_access():
            ModelAccess.check(Invoice.__name__, 'read')
            Invoice.read([i.id for i in invoices], ['id'])


def invoice_document(invoice):
    """(format, content) of the invoice: the copy kept when it was posted,
    else Tryton's invoice report rendered now (the read access to the
    invoice checked: the report keeps its copy on the invoice as it does
    for any user)"""
    pool = Pool()
    InvoiceReport = pool.get('account.invoice', type='report')
    if invoice.invoice_report_cache:
        return (invoice.invoice_report_format,
            bytes(invoice.invoice_report_cache))
    with Transaction().set_user(0), \
            Transaction().set_context(_check_access=False):
        oext, content, _, _ = InvoiceReport.execute([invoice.id], {
                'model': 'account.invoice',
                'id': invoice.id,
                'ids': [invoice.id],
                })
    if isinstance(content, str):
        content = content.encode('utf-8')
    return oext, bytes(content)


def letter_document(dispatch):
    """(stem, extension, content) of the archived letter of dispatch, its
    date in its stem, or None when it has none"""
    if not dispatch.letter:
        return None
    stem = dispatch.letter_filename.rsplit('.', 1)[0]
    return stem, dispatch.letter_format, dispatch.letter


class CourtFileEvidence(Report):
    "The evidence of the court file of litigation files, as a zip"
    __name__ = 'account.invoice.dunning.court_file_evidence'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        action = cls.action_of(data)
        # As Report.execute: the model of the action printed
        model = action.model or data.get('model') or Litigation.__name__
        ids = list(map(int, ids))
        cls.check_access(action, model, ids)
        files = court_files_of(pool.get(model).browse(ids))
        cls.check_invoice_access(files)
        result = io.BytesIO()
        with zipfile.ZipFile(result, 'w', zipfile.ZIP_DEFLATED) as zip_:
            for file in files:
                folder = ('%s/' % slugify(file.rec_name)
                    if len(files) > 1 else '')
                for name, content in cls.evidence_files(file):
                    zip_.writestr(folder + name, content)
        name = gettext('account_invoice_dunning.msg_court_file_evidence')
        if len(files) == 1:
            name = '%s-%s' % (name, slugify(files[0].rec_name))
        return ('zip', result.getvalue(), False, name)

    @classmethod
    def action_of(cls, data):
        "The report action printed: the one given, else the first one"
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        if data.get('action_id') is not None:
            action = ActionReport(data['action_id'])
            if action.report_name == cls.__name__:
                return action
        # The search of the actions hides those of other groups
        with Transaction().set_user(0):
            action, = ActionReport.search([
                    ('report_name', '=', cls.__name__),
                    ], limit=1)
        return ActionReport(action.id)

    @classmethod
    def check_invoice_access(cls, files):
        "The user must be allowed to read the invoices printed"
        check_invoices_readable([i for f in files for i in f.invoices])

    @classmethod
    def evidence_files(cls, file):
        "Yield (file name, content) of the evidence of file"
        fmt = french_formatter(file.currency, {})
        with Transaction().set_context(language=LANGUAGE):
            items = evidence_items(file, court_file_date(file), fmt)
        for item in items:
            found = cls.evidence_file(item)
            if found:
                stem, ext, content = found
                yield ('%02d-%s.%s' % (item.index, slugify(stem), ext),
                    content)

    @classmethod
    def evidence_file(cls, item):
        "(stem, extension, content) of the evidence item, or None"
        if item.kind == 'invoice':
            ext, content = cls.invoice_file(item.record)
            return ('facture-%s' % (item.record.number or item.record.id),
                ext, content)
        elif item.kind == 'letter':
            return letter_document(item.record)
        elif item.kind == 'tracking':
            return ('lettres-recommandees', 'csv',
                tracking_csv(item.record))
        elif item.kind == 'exchanges':
            return ('journal-des-echanges', 'csv',
                exchanges_csv(item.record))
        elif item.kind == 'statement':
            return cls.statement_file(item.record)

    @classmethod
    def invoice_file(cls, invoice):
        """(format, content) of the invoice: the copy kept when it was
        posted, else Tryton's invoice report rendered now"""
        return invoice_document(invoice)

    @classmethod
    def statement_file(cls, file):
        "The court file of file: the statement of the claim"
        pool = Pool()
        CourtFile = pool.get(
            'account.invoice.dunning.court_file', type='report')
        with Transaction().set_context(_check_access=False):
            oext, content, _, _ = CourtFile.execute([file.id], {
                    'model': file.__name__,
                    'id': file.id,
                    'ids': [file.id],
                    })
        if isinstance(content, str):
            content = content.encode('utf-8')
        return 'requete-injonction-de-payer', oext, bytes(content)
