# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Reference interest rates published by half-year (ECB, legal rates), their
values and their update from the official sources.

Each table is updated by the classmethod ``fetch_<code>`` of its code, which
returns ``{first day of a half-year: rate as a fraction}``; a module adds a
source by adding such a classmethod. A fetched value is created when the
table has none for its date, an equal value is left alone and a different
one is never overwritten: the update reports the conflict."""
import csv
import datetime as dt
import io
import logging
import urllib.request
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta

from trytond.config import config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import PenaltyError, RateError, RateValidationError
from .interest import half_year_start, next_half_year

logger = logging.getLogger(__name__)

# The bounds of a reference rate, as fractions: -100 % and 100 % (the German
# base rate was negative from 2013 to 2022)
MIN_RATE, MAX_RATE = Decimal(-1), Decimal(1)
# The ECB Data Portal series of the rate of the main refinancing operations
# (fixed rate tenders), one observation per change, in percent
ECB_MRO_KEY = 'FM.B.U2.EUR.4F.KR.MRR_FR.LEV'
ECB_MRO_URL = ('https://data-api.ecb.europa.eu/service/data/FM/'
    'B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata')
# Seconds to wait for an answer of a source, unless the configuration sets
# rate_timeout in the section [account_invoice_dunning]
TIMEOUT = 30
# How far back the update fills a table that has no value yet: the 5 years
# of the commercial prescription
EMPTY_TABLE_YEARS = 5


def half_year_label(date):
    return '%s-H%s' % (date.year, 1 if date.month <= 6 else 2)


def values_in_force(changes, end):
    """Return {first day of a half-year: rate} for the half-years from the
    first change up to the one of end, from the sorted [(date, rate)] of the
    changes of a rate

    The rate of a half-year is the one of the most recent change before its
    first day (BGB 247: "vor dem ersten Kalendertag des betreffenden
    Halbjahres"; Code de commerce L441-10: the rate in force on 1 January and
    1 July)."""
    result = {}
    if not changes:
        return result
    day = next_half_year(changes[0][0])
    while day <= end:
        before = [r for d, r in changes if d < day]
        result[day] = before[-1]
        day = next_half_year(day)
    return result


def format_rate(rate):
    return '%s %%' % (rate * 100).normalize()


class RateTable(ModelSQL, ModelView):
    "A reference interest rate published by half-year (ECB, legal rate)"
    __name__ = 'account.invoice.dunning.rate'
    __string__ = "Reference Interest Rate"
    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    values = fields.One2Many(
        'account.invoice.dunning.rate.value', 'rate_table', "Values")
    automatic = fields.Function(fields.Boolean("Automatic Update",
            help="The values can be fetched from their official source."),
        'get_automatic')
    last_update = fields.Timestamp("Last Update", readonly=True,
        help="When the values were last fetched from their source.")
    last_update_status = fields.Selection([
            (None, ""),
            ('done', "Up to Date"),
            ('conflict', "Conflict"),
            ('failed', "Failed"),
            ], "Last Update Status", readonly=True, sort=False)
    last_update_message = fields.Text("Last Update Message", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.code),
                'account_invoice_dunning.msg_rate_code_unique'),
            ]
        cls._order.insert(0, ('name', 'ASC'))
        cls._buttons.update({
                'update_rates': {
                    'invisible': ~Eval('automatic', False),
                    'depends': ['automatic'],
                    },
                })

    def rate_in_force(self, half_year):
        """Return the rate in force on the first day of the half-year

        The value must have been entered during the previous half-year at
        the latest: a table not updated for the half-year is an error."""
        values = [v for v in self._sorted_values() if v[0] <= half_year]
        if not values or values[-1][0] <= half_year - relativedelta(months=6):
            raise PenaltyError(gettext(
                    'account_invoice_dunning.msg_rate_missing',
                    table=self.rec_name,
                    half_year=half_year_label(half_year)))
        return values[-1][1]

    def _sorted_values(self):
        cache = Transaction().context.get('_rate_values')
        if cache is not None and self.id in cache:
            return cache[self.id]
        return sorted((v.date, v.rate) for v in self.values)

    def get_automatic(self, name):
        return self.fetcher is not None

    @property
    def fetcher(self):
        "The classmethod fetching the values of the table, None if none"
        code = self.code or ''
        if not code.isidentifier():
            return None
        return getattr(self.__class__, 'fetch_%s' % code, None)

    @classmethod
    @ModelView.button
    def update_rates(cls, tables):
        """Fetch the values of the tables from their sources

        A source that cannot be reached or read raises an error and changes
        nothing."""
        for table in tables:
            if table.fetcher is None:
                raise RateError(gettext(
                        'account_invoice_dunning.msg_rate_update_no_source',
                        table=table.rec_name))
        for table in tables:
            table._update()

    @classmethod
    def update_rates_cron(cls):
        """Fetch the values of the tables that have a source

        A source that cannot be reached changes no value: the table shows
        the failure and a warning is logged."""
        for table in cls.search([]):
            if table.fetcher is None:
                continue
            try:
                table._update()
            except UserError as exception:
                logger.warning(
                    "update of rate %s failed: %s", table.code,
                    exception.message)
                cls.write([table], {
                        'last_update': dt.datetime.now(),
                        'last_update_status': 'failed',
                        'last_update_message': exception.message,
                        })

    def _update(self):
        "Create the fetched values the table misses and record the outcome"
        pool = Pool()
        Date = pool.get('ir.date')
        Value = pool.get('account.invoice.dunning.rate.value')
        fetched = self.fetcher(self)
        existing = {v.date: v.rate for v in self.values}
        if existing:
            start = min(existing)
        else:
            start = half_year_start(
                Date.today() - relativedelta(years=EMPTY_TABLE_YEARS))
        fetched = {d: r for d, r in fetched.items() if d >= start}
        for date, rate in fetched.items():
            # Checked before any change: the update is all or nothing
            if not (MIN_RATE <= rate <= MAX_RATE):
                raise RateError(gettext(
                        'account_invoice_dunning.msg_rate_update_bad_answer',
                        table=self.rec_name,
                        error='%s: %s' % (
                            date.isoformat(), format_rate(rate))))
        to_create, conflicts = [], []
        for date, rate in sorted(fetched.items()):
            if date not in existing:
                to_create.append({
                        'rate_table': self.id,
                        'date': date,
                        'rate': rate,
                        })
            elif existing[date] != rate:
                conflicts.append(gettext(
                        'account_invoice_dunning.msg_rate_update_conflict',
                        date=date.isoformat(),
                        value=format_rate(existing[date]),
                        fetched=format_rate(rate)))
        if to_create:
            Value.create(to_create)
        message = gettext('account_invoice_dunning.msg_rate_update_done',
            created=len(to_create))
        if conflicts:
            logger.warning("update of rate %s: %s", self.code,
                ' '.join(conflicts))
            message = '\n'.join([message] + conflicts)
        self.write([self], {
                'last_update': dt.datetime.now(),
                'last_update_status': 'conflict' if conflicts else 'done',
                'last_update_message': message,
                })

    @classmethod
    def _download(cls, table, url):
        "Return the text at url, a translated error when it cannot be read"
        request = urllib.request.Request(url, headers={
                'Accept': 'text/csv',
                'User-Agent': 'Tryton account_invoice_dunning',
                })
        try:
            timeout = config.getint(
                'account_invoice_dunning', 'rate_timeout', default=TIMEOUT)
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode('utf-8-sig')
        except (OSError, ValueError) as exception:
            # URLError, HTTPError and timeouts are OSError; a bad encoding
            # is a ValueError
            raise RateError(gettext(
                    'account_invoice_dunning.msg_rate_update_unreachable',
                    table=table.rec_name, source=url,
                    error=str(exception))) from exception

    @classmethod
    def ecb_mro_changes(cls, table):
        """Return the sorted [(date, rate)] of the changes of the ECB main
        refinancing rate, from the ECB Data Portal"""
        text = cls._download(table, ECB_MRO_URL)
        reader = csv.DictReader(io.StringIO(text))
        columns = reader.fieldnames or []
        if 'TIME_PERIOD' not in columns or 'OBS_VALUE' not in columns:
            raise RateError(gettext(
                    'account_invoice_dunning.msg_rate_update_bad_answer',
                    table=table.rec_name, error=','.join(columns)[:100]))
        changes = []
        for row in reader:
            if row.get('KEY', ECB_MRO_KEY) != ECB_MRO_KEY:
                continue
            if None in row or None in row.values():
                # Not as many cells as columns
                raise RateError(gettext(
                        'account_invoice_dunning.msg_rate_update_bad_answer',
                        table=table.rec_name,
                        error='line %s' % reader.line_num))
            value = (row['OBS_VALUE'] or '').strip()
            if not value:
                # No fixed rate (variable rate tenders of 2000-2008)
                continue
            try:
                date = dt.date.fromisoformat(row['TIME_PERIOD'])
                rate = Decimal(value) / 100
            except (TypeError, ValueError, InvalidOperation) as exception:
                raise RateError(gettext(
                        'account_invoice_dunning.msg_rate_update_bad_answer',
                        table=table.rec_name,
                        error=str(exception))) from exception
            changes.append((date, rate))
        if not changes:
            raise RateError(gettext(
                    'account_invoice_dunning.msg_rate_update_bad_answer',
                    table=table.rec_name, error=ECB_MRO_KEY))
        return sorted(changes)

    @classmethod
    def fetch_ecb_mro(cls, table):
        "The ECB main refinancing rate in force on the first day of each half"
        Date = Pool().get('ir.date')
        return values_in_force(cls.ecb_mro_changes(table), Date.today())

    @classmethod
    def fetch_de_base_rate(cls, table):
        """The German base rate (BGB 247) from the ECB main refinancing rate

        It changes on 1 January and 1 July by the points the ECB rate moved
        since its previous change; so from the latest value of the table,
        each later half-year is that value plus the move of the ECB rate."""
        Date = Pool().get('ir.date')
        values = sorted((v.date, v.rate) for v in table.values)
        if not values:
            raise RateError(gettext(
                    'account_invoice_dunning.msg_rate_update_no_anchor',
                    table=table.rec_name))
        anchor, base = values[-1]
        ecb = values_in_force(cls.ecb_mro_changes(table), Date.today())
        if anchor not in ecb:
            raise RateError(gettext(
                    'account_invoice_dunning.msg_rate_update_no_anchor',
                    table=table.rec_name))
        return {d: base + r - ecb[anchor]
            for d, r in ecb.items() if d > anchor}


class RateValue(ModelSQL, ModelView):
    "The value of a reference rate from a date"
    __name__ = 'account.invoice.dunning.rate.value'
    __string__ = "Reference Interest Rate Value"
    rate_table = fields.Many2One(
        'account.invoice.dunning.rate', "Rate Table", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True,
        help="The date from which the rate is in force.")
    rate = fields.Numeric("Rate", digits=(None, 6), required=True,
        help="The annual rate as a fraction: 0.045 for 4.50 %.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('rate_table')
        t = cls.__table__()
        cls._sql_constraints += [
            ('date_unique', Unique(t, t.rate_table, t.date),
                'account_invoice_dunning.msg_rate_value_date_unique'),
            ]
        cls._order.insert(0, ('date', 'DESC'))

    @classmethod
    def validate_fields(cls, values, field_names):
        super().validate_fields(values, field_names)
        if field_names is None or 'rate' in field_names:
            cls.check_rate(values)

    @classmethod
    def check_rate(cls, values):
        "Check the rates are between -100 % and 100 %"
        for value in values:
            if value.rate is not None and not (
                    MIN_RATE <= value.rate <= MAX_RATE):
                raise RateValidationError(gettext(
                        'account_invoice_dunning.msg_rate_value_range',
                        table=value.rate_table.rec_name,
                        date=value.date.isoformat() if value.date else '',
                        rate=format_rate(value.rate)))
