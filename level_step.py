# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The steps inside a level: after the reminder of a level, more touches by
other channels (an email two days later, a call on the fifth day...) before
the next level comes."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields

from .common import CHANNELS, preload
from .exceptions import LevelValidationError
from .procedure import MAX_DAYS


class LevelStep(ModelSQL, ModelView):
    "A touch inside a level, some days after its reminder"
    __name__ = 'account.invoice.dunning.level.step'
    __string__ = 'Invoice Dunning Level Step'
    level = fields.Many2One(
        'account.invoice.dunning.level', "Level", required=True,
        ondelete='CASCADE')
    days = fields.Integer(
        "Days", required=True,
        help="Days after the reminder of the level was processed.")
    channel = fields.Selection(CHANNELS, "Channel", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # A step is a part of its level: the same rights
        cls.__access__.add('level')
        cls._order = [('days', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_channel(cls):
        return 'email'

    def get_rec_name(self, name):
        channels = dict(self.fields_get(['channel'])['channel']['selection'])
        return '%s +%d (%s)' % (
            self.level.rec_name, self.days, channels.get(self.channel, ''))

    @classmethod
    def validate_fields(cls, steps, field_names):
        super().validate_fields(steps, field_names)
        cls.check_days(steps, field_names)

    @classmethod
    def check_days(cls, steps, field_names=None):
        "A step comes some days after its level, each on a day of its own"
        if field_names and not (field_names & {'days', 'level'}):
            return
        for step in steps:
            if not 0 < step.days <= MAX_DAYS or step.level.plan_installment:
                raise LevelValidationError(gettext(
                        'account_invoice_dunning.msg_level_step_days',
                        step=step.rec_name, maximum=MAX_DAYS))
            others = [s for s in step.level.steps
                if s.days == step.days and s != step]
            if others:
                raise LevelValidationError(gettext(
                        'account_invoice_dunning.msg_level_step_same_day',
                        step=step.rec_name, other=others[0].rec_name))

    @classmethod
    def of_levels(cls, level_ids):
        """Return {level id: [step]} of the levels, the steps by day, read
        once for a run"""
        steps = preload(cls, [s.id for s in cls.search([
                        ('level', 'in', list(level_ids)),
                        ])], ['level', 'days', 'channel'])
        result = defaultdict(list)
        for step in sorted(steps, key=lambda s: (s.days, s.id)):
            result[step.level.id].append(step)
        return result

    @staticmethod
    def due(steps, level_date, date, done):
        """Return the step of steps (by day) to make on date after the
        reminder of their level sent on level_date, or None: the latest
        due, unless it or a later one was made (done: their ids)"""
        due = [s for s in steps if (date - level_date).days >= s.days]
        if not due or any(s.id in done for s in steps
                if s.days >= due[-1].days):
            return None
        return due[-1]
