# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""Reference rates: bounds of their values and their update from the ECB
Data Portal, without network.

tests/data/ecb_mro.csv is an answer of
https://data-api.ecb.europa.eu/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV
?format=csvdata written in its format (the 40 columns of csvdata, one row
per change of the rate) with the changes of the main refinancing rate
published by the ECB from October 2008 to the last one known to the project,
2.15 % from 11 June 2025. urllib.request.urlopen is patched: no test reaches
the network."""
import datetime as dt
import io
import os
import unittest
import urllib.error
from decimal import Decimal
from unittest import mock

from trytond.model.exceptions import ValidationError
from trytond.modules.account_invoice_dunning.exceptions import RateError
from trytond.modules.account_invoice_dunning.rate import (
    ECB_MRO_URL, values_in_force)
from trytond.modules.account_invoice_dunning.tests.test_engine import MODULE
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

D = Decimal
TODAY = dt.date(2026, 11, 30)
with open(os.path.join(os.path.dirname(__file__), 'data', 'ecb_mro.csv'),
        'rb') as fp:
    ECB_MRO_CSV = fp.read()
# The German base rate published by the Deutsche Bundesbank (rate_data.xml)
DE_BASE_RATES = {
    dt.date(2023, 1, 1): D('0.0162'),
    dt.date(2023, 7, 1): D('0.0312'),
    dt.date(2024, 1, 1): D('0.0362'),
    dt.date(2024, 7, 1): D('0.0337'),
    dt.date(2025, 1, 1): D('0.0227'),
    dt.date(2025, 7, 1): D('0.0127'),
    dt.date(2026, 1, 1): D('0.0127'),
    }


def answer(data=ECB_MRO_CSV):
    "Patch urlopen to answer data (bytes) or raise it (an exception)"
    if isinstance(data, Exception):
        return mock.patch('urllib.request.urlopen', side_effect=data)
    return mock.patch('urllib.request.urlopen',
        side_effect=lambda *a, **k: io.BytesIO(data))


class ValuesInForceTestCase(unittest.TestCase):
    "The rate of a half-year from the dates of the changes"

    def test_change_before_first_day(self):
        changes = [(dt.date(2025, 6, 11), D('0.0215')),
            (dt.date(2025, 12, 31), D('0.02'))]
        self.assertEqual(values_in_force(changes, dt.date(2026, 7, 1)), {
                dt.date(2025, 7, 1): D('0.0215'),
                dt.date(2026, 1, 1): D('0.02'),
                dt.date(2026, 7, 1): D('0.02'),
                })

    def test_change_on_first_day_counts_from_next_half_year(self):
        # BGB 247: the most recent operation before the first day
        changes = [(dt.date(2025, 6, 11), D('0.0215')),
            (dt.date(2026, 7, 1), D('0.0240'))]
        values = values_in_force(changes, dt.date(2027, 1, 1))
        self.assertEqual(values[dt.date(2026, 7, 1)], D('0.0215'))
        self.assertEqual(values[dt.date(2027, 1, 1)], D('0.0240'))

    def test_not_after_end(self):
        changes = [(dt.date(2025, 6, 11), D('0.0215'))]
        self.assertEqual(
            list(values_in_force(changes, dt.date(2026, 6, 30))),
            [dt.date(2025, 7, 1), dt.date(2026, 1, 1)])


class RateTestCase(unittest.TestCase):
    "Rate tables on SQLite and PostgreSQL"

    @classmethod
    def setUpClass(cls):
        activate_module(MODULE)

    def setUp(self):
        # The company's today calls this one
        patcher = mock.patch('trytond.ir.date.Date.today',
            return_value=TODAY)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _table(self, code):
        RateTable = Pool().get('account.invoice.dunning.rate')
        table, = RateTable.search([('code', '=', code)])
        return table

    def _values(self, table):
        Value = Pool().get('account.invoice.dunning.rate.value')
        return {v.date: v.rate
            for v in Value.search([('rate_table', '=', table.id)])}

    @with_transaction()
    def test_value_bounds(self):
        "A value below -100 % or above 100 % is refused at save"
        Value = Pool().get('account.invoice.dunning.rate.value')
        table = self._table('ecb_mro')
        # Each on its own date: a refused create rolls back only with its
        # transaction
        for year, rate in [(2027, D('-1.0001')), (2028, D('1.5')),
                (2029, D('150'))]:
            with self.assertRaisesRegex(ValidationError,
                    'must be between -100 % and 100 %'):
                Value.create([{'rate_table': table.id,
                            'date': dt.date(year, 1, 1), 'rate': rate}])
        value, = Value.create([{'rate_table': table.id,
                    'date': dt.date(2030, 1, 1), 'rate': D('1')}])
        with self.assertRaisesRegex(ValidationError,
                'must be between -100 % and 100 %'):
            Value.write([value], {'rate': D('1.01')})
        # The German base rate was -0.88 % from 2016 to 2022
        Value.write([value], {'rate': D('-0.0088')})

    @with_transaction()
    def test_ecb_update(self):
        "The missing half-years are created, the published ones agree"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('ecb_mro')
        before = self._values(table)
        self.assertTrue(table.automatic)
        self.assertIsNone(table.last_update)

        with answer() as urlopen:
            RateTable.update_rates([table])
        request, = urlopen.call_args.args
        self.assertEqual(request.full_url, ECB_MRO_URL)
        self.assertEqual(urlopen.call_args.kwargs['timeout'], 30)

        values = self._values(table)
        # Nothing before the first value of the table, nothing after today
        self.assertEqual(set(values) - set(before), {dt.date(2026, 7, 1)})
        self.assertEqual(values[dt.date(2026, 7, 1)], D('0.0215'))
        # Every shipped value is the one derived from the ECB series
        for date, rate in before.items():
            self.assertEqual(values[date], rate, date)
        table = RateTable(table.id)
        self.assertEqual(table.last_update_status, 'done')
        self.assertIsNotNone(table.last_update)
        self.assertEqual(table.last_update_message, '1 value(s) added.')

    @with_transaction()
    def test_ecb_update_idempotent(self):
        "A second update creates nothing"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('ecb_mro')
        with answer():
            RateTable.update_rates([table])
        values = self._values(table)
        with answer():
            RateTable.update_rates([table])
        self.assertEqual(self._values(table), values)
        table = RateTable(table.id)
        self.assertEqual(table.last_update_status, 'done')
        self.assertEqual(table.last_update_message, '0 value(s) added.')

    @with_transaction()
    def test_conflict_not_overwritten(self):
        "A different existing value is kept and reported"
        pool = Pool()
        RateTable = pool.get('account.invoice.dunning.rate')
        Value = pool.get('account.invoice.dunning.rate.value')
        table = self._table('ecb_mro')
        value, = Value.search([('rate_table', '=', table.id),
                ('date', '=', dt.date(2025, 7, 1))])
        Value.write([value], {'rate': D('0.02')})

        with answer():
            RateTable.update_rates([table])

        values = self._values(table)
        self.assertEqual(values[dt.date(2025, 7, 1)], D('0.02'))
        self.assertEqual(values[dt.date(2026, 7, 1)], D('0.0215'))
        table = RateTable(table.id)
        self.assertEqual(table.last_update_status, 'conflict')
        self.assertIn('2025-07-01', table.last_update_message)
        self.assertIn('2.15 %', table.last_update_message)

    @with_transaction()
    def test_unreachable(self):
        "The button raises a clear error and changes nothing"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('ecb_mro')
        values = self._values(table)
        for error in [urllib.error.URLError('Name or service not known'),
                TimeoutError('timed out')]:
            with answer(error), self.assertRaisesRegex(RateError,
                    'could not be fetched from .*data-api.ecb.europa.eu'):
                RateTable.update_rates([table])
        self.assertEqual(self._values(table), values)
        self.assertIsNone(RateTable(table.id).last_update)

    @with_transaction()
    def test_bad_answer(self):
        "An answer that is not the ECB series changes nothing"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('ecb_mro')
        values = self._values(table)
        for data in [b'<html><body>Maintenance</body></html>',
                ECB_MRO_CSV.replace(b',2.15,', b',2,15,'),
                ECB_MRO_CSV.replace(b',2.15,', b',215,')]:
            with answer(data), self.assertRaisesRegex(RateError,
                    'can not be read'):
                RateTable.update_rates([table])
        self.assertEqual(self._values(table), values)

    @with_transaction()
    def test_cron_unreachable(self):
        "The daily task logs, shows the failure and changes no value"
        RateTable = Pool().get('account.invoice.dunning.rate')
        tables = [self._table('ecb_mro'), self._table('de_base_rate')]
        values = [self._values(t) for t in tables]
        with answer(urllib.error.URLError('unreachable')), \
                self.assertLogs(
                    'trytond.modules.account_invoice_dunning.rate',
                    'WARNING'):
            RateTable.update_rates_cron()
        for table, table_values in zip(tables, values):
            self.assertEqual(self._values(table), table_values)
            table = RateTable(table.id)
            self.assertEqual(table.last_update_status, 'failed')
            self.assertIn('unreachable', table.last_update_message)

    @with_transaction()
    def test_cron(self):
        "The daily task updates the tables that have a source"
        RateTable = Pool().get('account.invoice.dunning.rate')
        with answer():
            RateTable.update_rates_cron()
        self.assertEqual(
            self._values(self._table('ecb_mro'))[dt.date(2026, 7, 1)],
            D('0.0215'))
        self.assertEqual(
            self._values(self._table('de_base_rate'))[dt.date(2026, 7, 1)],
            D('0.0127'))
        # No source: left alone
        table = self._table('fr_legal_professional')
        self.assertIsNone(table.last_update)
        self.assertNotIn(dt.date(2026, 7, 1), self._values(table))

    @with_transaction()
    def test_de_base_rate_derived(self):
        "BGB 247: the published base rates follow the moves of the ECB rate"
        pool = Pool()
        RateTable = pool.get('account.invoice.dunning.rate')
        Value = pool.get('account.invoice.dunning.rate.value')
        table = self._table('de_base_rate')
        Value.delete(Value.search([('rate_table', '=', table.id),
                    ('date', '>', dt.date(2023, 1, 1))]))
        with answer():
            RateTable.update_rates([table])
        values = self._values(table)
        for date, rate in DE_BASE_RATES.items():
            self.assertEqual(values[date], rate, date)
        self.assertEqual(values[dt.date(2026, 7, 1)], D('0.0127'))

    @with_transaction()
    def test_de_base_rate_moves_with_ecb(self):
        "A move of the ECB rate moves the base rate by as many points"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('de_base_rate')
        # A hypothetical change, not a published one
        data = ECB_MRO_CSV + ECB_MRO_CSV.splitlines()[-1].replace(
            b'2025-06-11,2.15', b'2026-03-11,2.4') + b'\n'
        with answer(data):
            RateTable.update_rates([table, self._table('ecb_mro')])
        self.assertEqual(self._values(table)[dt.date(2026, 7, 1)],
            D('0.0152'))
        self.assertEqual(
            self._values(self._table('ecb_mro'))[dt.date(2026, 7, 1)],
            D('0.024'))

    @with_transaction()
    def test_de_base_rate_needs_a_value(self):
        "The base rate is not derived without a value to start from"
        pool = Pool()
        RateTable = pool.get('account.invoice.dunning.rate')
        Value = pool.get('account.invoice.dunning.rate.value')
        table = self._table('de_base_rate')
        Value.delete(list(table.values))
        with answer(), self.assertRaisesRegex(RateError,
                'enter one by hand first'):
            RateTable.update_rates([table])

    @with_transaction()
    def test_no_source(self):
        "A table without source has no button and refuses the update"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('fr_legal_professional')
        self.assertFalse(table.automatic)
        with answer() as urlopen, self.assertRaisesRegex(RateError,
                'has no automatic source'):
            RateTable.update_rates([table])
        urlopen.assert_not_called()

    @with_transaction()
    def test_pluggable_source(self):
        "A module adds a source with a classmethod fetch_<code>"
        RateTable = Pool().get('account.invoice.dunning.rate')
        table = self._table('fr_legal_professional')
        with mock.patch.object(RateTable, 'fetch_fr_legal_professional',
                create=True,
                return_value={dt.date(2026, 1, 1): D('0.0262'),
                    dt.date(2026, 7, 1): D('0.0300')}):
            table = RateTable(table.id)
            self.assertTrue(table.automatic)
            RateTable.update_rates([table])
        self.assertEqual(self._values(table)[dt.date(2026, 7, 1)],
            D('0.03'))
        self.assertEqual(RateTable(table.id).last_update_status, 'done')
