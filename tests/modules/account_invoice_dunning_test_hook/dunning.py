# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from trytond.model import ModelSQL, fields
from trytond.pool import Pool, PoolMeta


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning'

    # A stored column, filled when the reminder is created
    hook_reference = fields.Char("Hook Reference", readonly=True)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('invoice') is not None:
            values['hook_reference'] = 'REF-%s' % int(values['invoice'])
        return values

    @classmethod
    def on_modification(cls, mode, dunnings, field_names=None):
        pool = Pool()
        Log = pool.get('account.invoice.dunning.hook_log')
        super().on_modification(mode, dunnings, field_names=field_names)
        if mode in {'create', 'write'}:
            # What the hook sees is read from the database
            Log.create([{
                        'dunning': d.id,
                        'mode': mode,
                        'reference': d.hook_reference,
                        'field_names': ' '.join(sorted(field_names or [])),
                        } for d in dunnings])


class DunningHookLog(ModelSQL):
    "Invoice Dunning Hook Log"
    __name__ = 'account.invoice.dunning.hook_log'
    dunning = fields.Many2One(
        'account.invoice.dunning', "Dunning", required=True,
        ondelete='CASCADE')
    mode = fields.Char("Mode", required=True)
    reference = fields.Char("Reference")
    field_names = fields.Char("Field Names")

    @classmethod
    def log_trigger(cls, dunnings, trigger):
        "The action of a trigger on the reminders: logged"
        cls.create([{
                    'dunning': d.id,
                    'mode': 'trigger',
                    'reference': trigger.name,
                    } for d in dunnings])


class Trigger(metaclass=PoolMeta):
    __name__ = 'ir.trigger'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.action.selection.append(
            ('account.invoice.dunning.hook_log|log_trigger',
                "Log the Reminders"))
