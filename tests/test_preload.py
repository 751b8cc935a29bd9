# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The records read once for a run (common.preload): the values of the
fields asked kept on the instances, read without the ORM, the records
otherwise those of the model"""
import copy
import unittest
from unittest.mock import patch

from trytond.modules.account_invoice_dunning.common import (
    kept_values_class, preload)
from trytond.modules.account_invoice_dunning.tests.test_engine import (
    activate_with_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

FIELDS = ['days', 'procedure', 'channel']


class PreloadTestCase(unittest.TestCase):
    "The records read once for a run"

    @classmethod
    def setUpClass(cls):
        activate_with_company(cls)

    @with_transaction()
    def test_preload_keeps_values(self):
        """The preloaded levels are levels equal to their records, with the
        same values, links as records; the fields not asked are read as
        usual"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Procedure = pool.get('account.invoice.dunning.procedure')
        levels = Level.search([], order=[('id', 'ASC')])
        self.assertGreater(len(levels), 2)
        kept = preload(Level, [l.id for l in levels], FIELDS)
        self.assertEqual(kept, levels)
        for record, level in zip(levels, kept):
            self.assertIsInstance(level, Level)
            self.assertEqual(hash(level), hash(record))
            self.assertEqual(
                (level.days, level.procedure, level.channel),
                (record.days, record.procedure, record.channel))
            self.assertIsInstance(level.procedure, Procedure)
            self.assertEqual(level.name, record.name)
        self.assertEqual({type(l) for l in kept},
            {kept_values_class(Level, sorted(FIELDS))})

    @with_transaction()
    def test_kept_class_fields(self):
        """On the class, the kept names answer for Model's fields (as the
        ORM and the messages read them); a value set is made by the field"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Procedure = pool.get('account.invoice.dunning.procedure')
        Kept = kept_values_class(Level, sorted(FIELDS))
        self.assertEqual(Kept.__name__, Level.__name__)
        self.assertEqual(Kept.days.string, Level.days.string)
        self.assertEqual(Kept.channel._type, 'selection')
        self.assertEqual(Kept.procedure.model_name,
            'account.invoice.dunning.procedure')
        self.assertEqual(Kept.__names__('channel'), Level.__names__('channel'))
        level, = preload(Level, [Level.search([], limit=1)[0].id], FIELDS)
        procedure, = Procedure.search([], limit=1)
        level.procedure = procedure.id
        self.assertIsInstance(level.procedure, Procedure)
        self.assertEqual(level.procedure.id, procedure.id)

    @with_transaction()
    def test_preload_reads_without_orm(self):
        """A kept value is read without the ORM's lookups (the 2 us of a
        field, a hundred thousand times in a run)"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        level, = preload(Level, [Level.search([], limit=1)[0].id], FIELDS)
        with patch.object(Level, '__getattr__',
                side_effect=AssertionError("read through the ORM")):
            self.assertIsNotNone(level.days)
            self.assertIsNotNone(level.channel)
            with self.assertRaises(AssertionError):
                level.name

    @with_transaction()
    def test_procedure_read_for_run(self):
        """The procedures of a run hold their preloaded levels, whose
        procedure is set to them"""
        pool = Pool()
        Procedure = pool.get('account.invoice.dunning.procedure')
        procedure, = Procedure.search([], limit=1)
        kept = Procedure.read_for_run([procedure.id])[procedure.id]
        self.assertEqual(kept.levels, procedure.levels)
        self.assertEqual({l.procedure for l in kept.levels}, {procedure})
        self.assertEqual([l.days for l in kept.levels],
            [l.days for l in procedure.levels])

    @with_transaction()
    def test_preload_copy(self):
        "A copy of a preloaded record reads its values through the ORM"
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        record = Level.search([], limit=1)[0]
        level, = preload(Level, [record.id], FIELDS)
        copied = copy.copy(level)
        self.assertEqual(copied.id, record.id)
        self.assertEqual(copied.days, record.days)
        self.assertEqual(copied.procedure, record.procedure)

    @with_transaction()
    def test_kept_class_once(self):
        """One class a model and set of names, whatever their order, the id
        never kept twice; kept on the pool's class"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        Kept = kept_values_class(Level, ['days', 'channel'])
        self.assertIs(kept_values_class(Level, ['id', 'channel', 'days']),
            Kept)
        self.assertIn(Kept, Level.__dict__['_kept_classes'].values())
        level, = preload(Level, [Level.search([], limit=1)[0].id],
            ['id', 'days'])
        self.assertIsInstance(level.id, int)

    @with_transaction()
    def test_kept_not_saved(self):
        "A preloaded record refuses to be saved"
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        level, = preload(Level, [Level.search([], limit=1)[0].id], FIELDS)
        level.days = 99
        with self.assertRaises(TypeError):
            level.save()
        with self.assertRaises(TypeError):
            type(level).save([level])
        self.assertNotEqual(Level(level.id).days, 99)
