# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The delivery of the registered letters: their tracking number, the date
and status of their delivery (the acknowledgement of receipt, which dates
the default), entered by hand or imported from a carrier's CSV file."""
import csv
import datetime as dt
import io
import unicodedata

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.transaction import check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import DispatchValidationError, TrackingImportError

DELIVERY_STATUSES = [
    (None, ""),
    ('delivered', "Delivered"),
    ('refused', "Refused"),
    ('not_claimed', "Not Claimed"),
    ('returned', "Returned to Sender"),
    ]
# The statuses whose date is the presentation of the letter to the
# customer: the date of the formal notice
PRESENTED = {'delivered', 'refused', 'not_claimed'}
# The words of the carriers' files for each status (lower case, without
# accents)
STATUS_WORDS = {
    'delivered': {'delivered', 'distribue', 'remis', 'livre',
        'distribue au destinataire'},
    'refused': {'refused', 'refuse', 'refuse par le destinataire'},
    'not_claimed': {'not_claimed', 'not claimed', 'non reclame',
        'avise et non reclame', 'avise non reclame'},
    'returned': {'returned', 'retourne', 'returned to sender',
        'retour a l\'expediteur', 'npai'},
    }
COLUMNS = {
    'tracking_number': {'tracking_number', 'tracking number', 'tracking',
        'numero', 'numero de suivi', 'n de suivi', 'suivi'},
    'dispatch': {'dispatch', 'envoi', 'reference'},
    'status': {'status', 'statut', 'etat'},
    'date': {'date', 'delivery_date', 'delivery date',
        'date de distribution', 'date de presentation'},
    }


def _plain(text):
    "text in lower case, without accents nor surrounding spaces"
    text = unicodedata.normalize('NFKD', text or '')
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return ' '.join(text.replace('°', '').lower().split())


class DispatchDeliveryMixin:
    "The delivery of the registered letters"
    __slots__ = ()
    delivery_status = fields.Selection(
        DELIVERY_STATUSES, "Delivery Status",
        states={
            'invisible': Eval('channel') != 'registered_letter',
            },
        help="What the acknowledgement of receipt says.")
    delivery_date = fields.Date(
        "Delivery Date",
        states={
            'invisible': Eval('channel') != 'registered_letter',
            'required': Bool(Eval('delivery_status')),
            },
        help="The date the letter was presented to the customer (or "
        "returned): it dates the formal notice.")

    @classmethod
    def validate_fields(cls, dispatches, field_names):
        super().validate_fields(dispatches, field_names)
        cls.check_delivery(dispatches, field_names)

    @classmethod
    def check_delivery(cls, dispatches, field_names=None):
        "A letter is delivered after it was sent, and by registered letter"
        if field_names and not (
                field_names & {'delivery_date', 'delivery_status', 'date'}):
            return
        pool = Pool()
        Lang = pool.get('ir.lang')
        for dispatch in dispatches:
            if not (dispatch.delivery_date or dispatch.delivery_status):
                continue
            if dispatch.channel != 'registered_letter':
                raise DispatchValidationError(gettext(
                        'account_invoice_dunning'
                        '.msg_dispatch_delivery_registered',
                        dispatch=dispatch.rec_name))
            if (dispatch.delivery_date
                    and dispatch.delivery_date < dispatch.date):
                lang = Lang.get()
                raise DispatchValidationError(gettext(
                        'account_invoice_dunning.msg_dispatch_delivery_date',
                        dispatch=dispatch.rec_name,
                        date=lang.strftime(dispatch.delivery_date),
                        sent=lang.strftime(dispatch.date)))

    def delivery_text(self, format_date):
        """What a later letter says of the delivery of this one: "received
        on 12 March 2026"..., or an empty string; format_date(date) writes
        the date as the letter does"""
        if not self.delivery_status or not self.delivery_date:
            return ''
        return gettext(
            'account_invoice_dunning.msg_letter_delivery_%s'
            % self.delivery_status, date=format_date(self.delivery_date))

    @classmethod
    def import_tracking(cls, data):
        """Import the tracking numbers and deliveries of a carrier's CSV
        file (bytes): all its lines or, at the first wrong line, none.
        Return the dispatches changed."""
        rows = cls._tracking_rows(data)
        changes = []
        for line, row in rows:
            dispatch, values = cls._tracking_change(line, row)
            changes.append((dispatch, values))
        to_write = []
        for dispatch, values in changes:
            if values:
                to_write.extend([[dispatch], values])
        if to_write:
            cls.write(*to_write)
        return [d for d, v in changes if v]

    @classmethod
    def _tracking_rows(cls, data):
        "[(line number, {column: value})] of the CSV file data"
        try:
            text = data.decode('utf-8-sig')
        except UnicodeDecodeError:
            text = data.decode('latin-1')
        # The separator of the header line: semicolons (French files),
        # commas or tabs
        first = text.split('\n', 1)[0]
        delimiter = max([';', ',', '\t'], key=first.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        header = next(reader, [])
        columns = {}
        for i, name in enumerate(header):
            for column, names in COLUMNS.items():
                if _plain(name) in names:
                    columns[column] = i
        if 'tracking_number' not in columns:
            raise TrackingImportError(gettext(
                    'account_invoice_dunning.msg_tracking_import_header',
                    columns=', '.join(header)))
        rows = []
        for line, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue
            rows.append((line, {c: (values[i].strip() if i < len(values)
                            else '') for c, i in columns.items()}))
        return rows

    @classmethod
    def _tracking_change(cls, line, row):
        """The dispatch of a line of the file and the values to write, or
        raise TrackingImportError naming the line"""
        number = row['tracking_number']
        if not number:
            raise cls._line_error(line, 'msg_tracking_import_number')
        if row.get('dispatch'):
            dispatches = cls.search([
                    ('id', '=', cls._dispatch_id(line, row['dispatch'])),
                    ('channel', '=', 'registered_letter'),
                    ])
            if not dispatches:
                raise cls._line_error(line, 'msg_tracking_import_dispatch',
                    dispatch=row['dispatch'])
        else:
            dispatches = cls.search([('tracking_number', '=', number)])
            if len(dispatches) != 1:
                raise cls._line_error(line, 'msg_tracking_import_unknown',
                    number=number)
        dispatch, = dispatches
        values = {}
        if dispatch.tracking_number != number:
            values['tracking_number'] = number
        status = cls._status_of(line, row.get('status'))
        date = cls._date_of(line, row.get('date'))
        if status and not date:
            raise cls._line_error(line, 'msg_tracking_import_date',
                date=row.get('date') or '')
        if date and date < dispatch.date:
            raise cls._line_error(line, 'msg_tracking_import_before',
                date=row['date'], number=number)
        if status and (status, date) != (
                dispatch.delivery_status, dispatch.delivery_date):
            values.update(delivery_status=status, delivery_date=date)
        return dispatch, values

    @classmethod
    def _dispatch_id(cls, line, value):
        try:
            return int(value.lstrip('#'))
        except ValueError:
            raise cls._line_error(line, 'msg_tracking_import_dispatch',
                dispatch=value)

    @classmethod
    def _status_of(cls, line, value):
        if not value:
            return None
        word = _plain(value)
        for status, words in STATUS_WORDS.items():
            if word in words:
                return status
        raise cls._line_error(line, 'msg_tracking_import_status',
            status=value)

    @classmethod
    def _date_of(cls, line, value):
        if not value:
            return None
        for format_ in ['%Y-%m-%d', '%d/%m/%Y', '%d.%m.%Y', '%d-%m-%Y']:
            try:
                return dt.datetime.strptime(value.strip()[:10], format_).date()
            except ValueError:
                continue
        raise cls._line_error(line, 'msg_tracking_import_date', date=value)

    @classmethod
    def _line_error(cls, line, message, **values):
        return TrackingImportError(gettext(
                'account_invoice_dunning.msg_tracking_import_line',
                line=line,
                error=gettext('account_invoice_dunning.' + message,
                    **values)))


class ImportTrackingStart(ModelView):
    "Import the tracking numbers of registered letters"
    __name__ = 'account.invoice.dunning.dispatch.import_tracking.start'
    __string__ = 'Import Tracking Numbers'
    file_ = fields.Binary(
        "File", required=True, filename='filename',
        help="A CSV file with a header line and the columns "
        "\"tracking_number\" and, as needed, \"dispatch\" (the ID of the "
        "dispatch, to record a new tracking number), \"status\" (delivered, "
        "refused, not claimed, returned) and \"date\".")
    filename = fields.Char("File Name")


class ImportTracking(Wizard):
    "Import the tracking numbers and deliveries of registered letters"
    __name__ = 'account.invoice.dunning.dispatch.import_tracking'
    start = StateView(
        'account.invoice.dunning.dispatch.import_tracking.start',
        'account_invoice_dunning.dispatch_import_tracking_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateAction('account_invoice_dunning.act_dispatch_form')

    def do_import_(self, action):
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        # As a user would change them: the dispatches of the user's
        # companies, only what may change once sent
        with check_access():
            dispatches = Dispatch.import_tracking(bytes(self.start.file_))
        action['pyson_domain'] = PYSONEncoder().encode(
            [('id', 'in', [d.id for d in dispatches])])
        return action, {}
