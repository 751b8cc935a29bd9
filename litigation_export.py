# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The hand-off export for a collection agency: a zip of the litigation
files selected (handed over or in court) with a CSV of one line an invoice
(the file and its agent, the debtor, the claim at a date with the
penalties the court file computes, the last reminder and the formal
notice) and, in a folder a file, the copies of its invoices, the letters
sent and the exchange log. The layout is documented in doc/handoff.rst:
change both together."""
import io
import zipfile
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import slugify
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .claim import claims_at
from .court_file import file_exchanges, sent_dispatches, sorted_invoices
from .court_file_evidence import (
    check_invoices_readable, csv_bytes, exchanges_csv, invoice_document,
    letter_document)
from .declaration import party_registration, party_siren
from .letter import _address_lines
from .litigation_common import LitigationError, LitigationWarning

# The states of the files an agency may receive
EXPORT_STATES = {'handed_over', 'in_court'}
CSV_NAME = 'handoff.csv'
# The columns of the CSV, in their order (doc/handoff.rst)
COLUMNS = [
    'file_id', 'file_reference', 'file_state', 'agent_name', 'agent_kind',
    'handed_on', 'fees_agreed', 'creditor_name',
    'debtor_code', 'debtor_name', 'debtor_legal_form', 'debtor_siren',
    'debtor_registration', 'debtor_vat', 'debtor_address', 'debtor_street',
    'debtor_postal_code', 'debtor_city', 'debtor_country', 'debtor_email',
    'debtor_phone',
    'invoice_number', 'invoice_date', 'due_date', 'currency',
    'original_amount', 'remaining_amount', 'interest', 'indemnity',
    'penalty_fee', 'total_claimed', 'computed_at', 'litigation_state',
    'last_reminder_level', 'last_reminder_date', 'formal_notice_date',
    'formal_notice_tracking', 'formal_notice_delivery',
    'formal_notice_delivery_date',
    'documents', 'invoice_document',
    ]


def date_text(date):
    "An ISO 8601 date, or ''"
    return date.isoformat() if date else ''


def amount_text(amount, currency):
    "amount with the digits of currency and a decimal point"
    exponent = Decimal(10) ** -currency.digits
    return format(currency.round(amount).quantize(exponent), 'f')


def party_name(party):
    return (party.full_name or party.rec_name) if party else ''


def file_values(file):
    "The columns of the litigation file"
    return {
        'file_id': file.id,
        'file_reference': file.reference or '',
        'file_state': file.state,
        'agent_name': party_name(file.agent),
        'agent_kind': file.agent_kind or '',
        'handed_on': date_text(file.handed_on),
        'fees_agreed': file.fees or '',
        'creditor_name': party_name(file.company.party),
        }


def debtor_values(party):
    "The columns of the debtor party"
    email = party.contact_mechanism_get('email')
    phone = party.contact_mechanism_get({'phone', 'mobile'})
    return {
        'debtor_code': party.code or '',
        'debtor_name': party_name(party),
        'debtor_legal_form': party.dunning_legal_form or '',
        'debtor_siren': party_siren(party),
        'debtor_registration': party_registration(party),
        'debtor_vat': (party.tax_identifier.code
            if party.tax_identifier else ''),
        **address_values(
            party.address_get(type='invoice') or party.address_get()),
        'debtor_email': email.value if email else '',
        # In the international format (E.164): +33142685300
        'debtor_phone': (phone.value_compact or phone.value) if phone else '',
        }


def address_values(address):
    """The columns of the address of the debtor: as the letters print it
    on a line, and its parts"""
    if not address:
        return dict.fromkeys(['debtor_address', 'debtor_street',
                'debtor_postal_code', 'debtor_city', 'debtor_country'], '')
    street = address.street or ''
    return {
        'debtor_address': ', '.join(_address_lines(address)),
        'debtor_street': ', '.join(
            l.strip() for l in street.splitlines() if l.strip()),
        'debtor_postal_code': address.postal_code or '',
        'debtor_city': address.city or '',
        'debtor_country': address.country.code if address.country else '',
        }


def claim_values(invoice, claim, date):
    """The columns of the invoice and of its claim at date (nothing left
    to pay nor claimed without a claim: the invoice is paid)"""
    currency = invoice.currency
    zero = Decimal(0)
    if claim:
        due_date = claim.due_date
        figures = [claim.principal, claim.interest, claim.indemnity,
            claim.fee, claim.total]
    else:
        due_date = min((l.maturity_date for l in invoice.lines_to_pay
                if l.maturity_date), default=None)
        figures = [zero] * 5
    values = dict(zip(['remaining_amount', 'interest', 'indemnity',
                'penalty_fee', 'total_claimed'],
            (amount_text(f, currency) for f in figures)))
    values.update({
            'invoice_number': invoice.number or '',
            'invoice_date': date_text(invoice.invoice_date),
            'due_date': date_text(due_date),
            'currency': currency.code,
            'original_amount': amount_text(invoice.total_amount, currency),
            'computed_at': date_text(date),
            'litigation_state': invoice.dunning_litigation or '',
            })
    return values


def reminder_values(invoice):
    """The columns of the last reminder processed of invoice and of its
    last formal notice, with the delivery of its registered letter"""
    done = sorted((d for d in invoice.dunnings if d.state == 'done'),
        key=lambda d: (d.date, d.id))
    notices = [d for d in done if d.level.formal_notice]
    values = dict.fromkeys(['last_reminder_level', 'last_reminder_date',
            'formal_notice_date'], '')
    if done:
        last = done[-1]
        values['last_reminder_level'] = (
            last.level_name or last.level.rec_name)
        values['last_reminder_date'] = date_text(last.date)
    if notices:
        values['formal_notice_date'] = date_text(notices[-1].date)
    values.update(delivery_values(notices[-1].dispatch if notices else None))
    return values


def delivery_values(dispatch):
    "The columns of the tracking and delivery of the formal notice dispatch"
    if not dispatch:
        return dict.fromkeys(['formal_notice_tracking',
                'formal_notice_delivery', 'formal_notice_delivery_date'], '')
    return {
        'formal_notice_tracking': dispatch.tracking_number or '',
        'formal_notice_delivery': dispatch.delivery_status or '',
        'formal_notice_delivery_date': date_text(dispatch.delivery_date),
        }


class LitigationFile(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.litigation'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'export_handoff': {
                    'invisible': ~Eval('state').in_(list(EXPORT_STATES)),
                    'icon': 'tryton-save',
                    'depends': ['state'],
                    },
                })

    @classmethod
    @ModelView.button_action(
        'account_invoice_dunning.wizard_litigation_handoff')
    def export_handoff(cls, files):
        pass

    @classmethod
    def check_handoff(cls, files):
        "Only the files handed over or in court are exported for an agency"
        if not files:
            raise LitigationError(gettext(
                    'account_invoice_dunning.msg_litigation_handoff_none'))
        for file in files:
            if file.state not in EXPORT_STATES:
                raise LitigationError(gettext(
                        'account_invoice_dunning'
                        '.msg_litigation_handoff_state',
                        file=file.rec_name))

    @classmethod
    def check_handoff_agents(cls, files):
        "Warn when the files exported are in the hands of different agents"
        pool = Pool()
        Warning = pool.get('res.user.warning')
        agents = {f.agent for f in files}
        if len(agents) > 1:
            key = Warning.format('litigation_handoff_agents', files)
            if Warning.check(key):
                raise LitigationWarning(key, gettext(
                        'account_invoice_dunning'
                        '.msg_litigation_handoff_agents',
                        agents=', '.join(sorted(
                                party_name(a) or '-' for a in agents))))


class HandOffStart(ModelView):
    "Export for Agency"
    __name__ = 'account.invoice.dunning.litigation.handoff.start'
    __string__ = "Export for Agency"
    date = fields.Date(
        "Claim Computed At", required=True,
        help="The date the amounts left to pay and the interest are "
        "computed at (today by default).")

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class HandOffResult(ModelView):
    "Export for Agency"
    __name__ = 'account.invoice.dunning.litigation.handoff.result'
    __string__ = "Export for Agency"
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class HandOff(Wizard):
    """Export litigation files for a collection agency: a zip of a CSV and
    the documents of each file"""
    __name__ = 'account.invoice.dunning.litigation.handoff'
    start = StateView('account.invoice.dunning.litigation.handoff.start',
        'account_invoice_dunning.litigation_handoff_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'export', 'tryton-ok', default=True),
            ])
    export = StateTransition()
    result = StateView('account.invoice.dunning.litigation.handoff.result',
        'account_invoice_dunning.litigation_handoff_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        "Refuse at once the files that can not be exported"
        pool = Pool()
        Date = pool.get('ir.date')
        Litigation = pool.get('account.invoice.dunning.litigation')
        Litigation.check_handoff(list(self.records))
        return {'date': Date.today()}

    def transition_export(self):
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        files = sorted(self.records, key=lambda f: f.id)
        Litigation.check_handoff(files)
        Litigation.check_handoff_agents(files)
        check_invoices_readable([i for f in files for i in f.invoices])
        self.result.file = self.handoff_zip(files, self.start.date)
        self.result.filename = self.handoff_filename(files, self.start.date)
        return 'result'

    def default_result(self, fields):
        file_ = self.result.file
        # No need to keep it in the session
        self.result.file = None
        return {
            'file': file_,
            'filename': self.result.filename,
            }

    @classmethod
    def handoff_filename(cls, files, date):
        "handoff-<agent>-<date>.zip, without the agent when several"
        agents = {f.agent for f in files}
        agent = agents.pop() if len(agents) == 1 else None
        if agent:
            return 'handoff-%s-%s.zip' % (
                slugify(party_name(agent)), date.isoformat())
        return 'handoff-%s.zip' % date.isoformat()

    @classmethod
    def handoff_zip(cls, files, date):
        "The zip of files: the CSV first, then a folder a file"
        rows, documents = [], []
        for file in files:
            file_rows, file_documents = cls.file_export(file, date)
            rows.extend(file_rows)
            documents.extend(file_documents)
        result = io.BytesIO()
        with zipfile.ZipFile(result, 'w', zipfile.ZIP_DEFLATED) as zip_:
            zip_.writestr(CSV_NAME, csv_bytes(cls.columns(),
                    [[row[c] for c in cls.columns()] for row in rows]))
            for name, content in documents:
                zip_.writestr(name, content)
        return result.getvalue()

    @classmethod
    def columns(cls):
        "The columns of the CSV, in their order"
        return list(COLUMNS)

    @classmethod
    def folder(cls, file):
        "The folder of the documents of file in the zip"
        return slugify(file.rec_name)

    @classmethod
    def file_export(cls, file, date):
        """([row], [(name, content)]): the rows of the invoices of file
        (dictionaries by column) and its documents"""
        invoices = sorted_invoices(file)
        claims = {c.invoice: c for c in claims_at(invoices, date)}
        documents, paths = cls.file_documents(file, invoices)
        common = {
            **file_values(file),
            **debtor_values(file.party),
            'documents': cls.folder(file),
            }
        rows = [{
                **common,
                **claim_values(invoice, claims.get(invoice), date),
                **reminder_values(invoice),
                'invoice_document': paths[invoice],
                } for invoice in invoices]
        return rows, documents

    @classmethod
    def file_documents(cls, file, invoices):
        """([(name, content)], {invoice: name}) of file: its invoices, its
        letters sent and its exchange log, in its folder"""
        folder = cls.folder(file)
        documents, paths, names = [], {}, set()

        def add(stem, ext, content):
            name = '%s/%s.%s' % (folder, slugify(stem), ext)
            index = 1
            while name in names:
                index += 1
                name = '%s/%s-%s.%s' % (folder, slugify(stem), index, ext)
            names.add(name)
            documents.append((name, content))
            return name

        for invoice in invoices:
            ext, content = invoice_document(invoice)
            paths[invoice] = add('invoice-%s' % (invoice.number or invoice.id),
                ext, content)
        for dispatch in sent_dispatches(invoices):
            found = letter_document(dispatch)
            if found:
                stem, ext, content = found
                add('letter-%s' % stem, ext, content)
        exchanges = file_exchanges(file)
        if exchanges:
            add('exchanges', 'csv', exchanges_csv(exchanges))
        return documents, paths
