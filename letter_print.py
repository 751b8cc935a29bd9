# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Printing what was sent: the archived letters of reminders and dispatches
(a preview of the drafts), the letter of an invoice and its history of
reminders."""
import zipfile
from io import BytesIO

from trytond.i18n import gettext
from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.report import Report
from trytond.tools import slugify
from trytond.transaction import Transaction, check_access

from .exceptions import DunningError
from .letter_render import RetriedConversion


def _check_report_access(report, model, ids, data):
    """Check that the user may print the records ids of model with report,
    as Report.execute does: the groups of the report, the read access to
    model and its record rules (e.g. the companies of the user)"""
    pool = Pool()
    ActionReport = pool.get('ir.action.report')
    action = None
    if data.get('action_id') is not None:
        action = ActionReport(data['action_id'])
        if action.report_name != report.__name__:
            action = None
    if action is None:
        action, = ActionReport.search([
                ('report_name', '=', report.__name__),
                ], limit=1)
    report.check_access(action, model, ids)


def _letters_result(letters, name):
    """Return the letters [(file name without extension, format,
    content)] as a report result: the letter, or a zip of the numbered
    letters"""
    if len(letters) == 1:
        (stem, oext, content), = letters
        return (oext, content, False, '%s-%s' % (name, stem))
    result = BytesIO()
    with zipfile.ZipFile(result, 'w') as content_zip:
        for i, (stem, oext, content) in enumerate(letters, 1):
            content_zip.writestr(
                '%03d-%s.%s' % (i, slugify(stem), oext), content)
    return ('zip', result.getvalue(), False, name)


def _archived(dispatches):
    "The archived letters of dispatches, as _letters_result takes them"
    return [(d.letter_filename.rsplit('.', 1)[0], d.letter_format, d.letter)
        for d in dispatches]


def _unique(records):
    "records without repetition, in order"
    return list(dict.fromkeys(records))


class ArchivedLetter(Report):
    """The letter of reminders or dispatches: the archived copy once
    processed, a preview rendered with the level's template while in
    draft"""
    __name__ = 'account.invoice.dunning.letter.archived'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        ids = list(map(int, ids))
        model = data.get('model') or Dunning.__name__
        if model != Dispatch.__name__:
            model = Dunning.__name__
        _check_report_access(cls, model, ids, data)
        name = gettext('account_invoice_dunning.msg_letter_name')
        if model == Dispatch.__name__:
            dispatches = Dispatch.browse(ids)
        else:
            dunnings = Dunning.browse(ids)
            if all(d.state == 'draft' for d in dunnings):
                return cls.preview(dunnings, name)
            dispatches = _unique(d.dispatch for d in dunnings if d.dispatch)
        archived = [d for d in dispatches if d.letter]
        if not archived:
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_letter_none'))
        return _letters_result(_archived(archived), name)

    @classmethod
    def preview(cls, dunnings, name):
        """The letters that processing the draft dunnings would send,
        rendered with the templates of their levels, not archived"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        rows = Dunning.processing_rows([d.id for d in dunnings])
        dispatches = [
            Dispatch(reminders=group, tracking_number=None,
                **Dispatch._values_of(group, rows))
            for group in Dispatch.group(dunnings, rows)]
        letters = Letter.render_dispatches(dispatches)
        return _letters_result([(d.party.rec_name, oext, content)
                for d, (oext, content) in zip(dispatches, letters)], name)


class InvoiceLetter(Report):
    "The archived letter of the latest processed reminder of invoices"
    __name__ = 'account.invoice.dunning.invoice_letter'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Dunning = pool.get('account.invoice.dunning')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        ModelAccess = pool.get('ir.model.access')
        name = gettext('account_invoice_dunning.msg_letter_name')
        ids = list(map(int, ids))
        _check_report_access(cls, Invoice.__name__, ids, data)
        latest = []
        for invoice in Invoice.browse(ids):
            archived = [d for d in invoice.dunnings
                if d.state == 'done' and d.dispatch and d.letter_format]
            if archived:
                latest.append(max(archived, key=lambda d: (d.date, d.id)))
        if Transaction().user:
            # What is printed is a reminder: the user must be allowed to
            # read it too
            with check_access():
                ModelAccess.check(Dunning.__name__, 'read')
                Dunning.read([d.id for d in latest], ['id'])
                ModelAccess.check(Dispatch.__name__, 'read')
                Dispatch.read([d.dispatch.id for d in latest], ['id'])
        if not latest:
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_invoice_letter_none'))
        return _letters_result(
            _archived(_unique(d.dispatch for d in latest)), name)


class InvoiceDunningHistory(RetriedConversion, CompanyReport):
    "The reminders of invoices, as proof of the steps taken"
    __name__ = 'account.invoice.dunning.history'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        context = super().get_context(records, header, data)
        context['today'] = Date.today()
        context['channels'] = Letter._channel_labels(
            Transaction().language)
        return context
