# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The reminders by phone: a call to make for each dispatch of the phone
channel (who, which number, which invoices, what to say), the calls to make
today, and their outcome; no answer schedules the call again."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import add_business_days, company_country
from .exceptions import CallValidationError

OUTCOMES = [
    (None, ""),
    ('promised', "Reached, Payment Promised"),
    ('disputed', "Reached, Invoice Disputed"),
    ('no_answer', "No Answer"),
    ('wrong_number', "Wrong Number"),
    ('call_back', "Call Back Later"),
    ]
# The outcomes that schedule another call: no answer on the next business
# day, call back on the date agreed
RETRIED = {'no_answer', 'call_back'}

_TO_MAKE = {
    'readonly': Eval('state') != 'to_make',
    }


class Call(Workflow, ModelSQL, ModelView):
    "A call to make to a customer about its overdue invoices"
    __name__ = 'account.invoice.dunning.call'
    __string__ = 'Reminder Call'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    party = fields.Many2One(
        'party.party', "Party", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    dispatch = fields.Many2One(
        'account.invoice.dunning.dispatch', "Dispatch", required=True,
        readonly=True, ondelete='RESTRICT',
        help="The reminders the call is about.")
    date = fields.Date(
        "Date", required=True, states=_TO_MAKE,
        help="The day to make the call.")
    phone = fields.Char(
        "Phone", states=_TO_MAKE,
        help="The number to call: the party's phone flagged for dunning, "
        "else its first phone.")
    script = fields.Text(
        "Script", readonly=True,
        help="What to say, from the level of the reminders.")
    invoice_numbers = fields.Function(
        fields.Char("Invoices"), 'get_dispatch_value')
    amount = fields.Function(Monetary(
            "Amount Overdue", currency='currency', digits='currency'),
        'get_dispatch_value')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"),
        'get_dispatch_value')
    outcome = fields.Selection(
        OUTCOMES, "Outcome", states=_TO_MAKE,
        help="What the call gave; \"No Answer\" and \"Call Back Later\" "
        "schedule another call.")
    call_back_date = fields.Date(
        "Call Back On",
        states={
            'readonly': Eval('state') != 'to_make',
            'invisible': Eval('outcome') != 'call_back',
            'required': (Eval('outcome') == 'call_back')
            & (Eval('state') == 'to_make'),
            })
    promise_date = fields.Date(
        "Promised Date",
        states={
            'readonly': Eval('state') != 'to_make',
            'invisible': Eval('outcome') != 'promised',
            'required': (Eval('outcome') == 'promised')
            & (Eval('state') == 'to_make'),
            },
        help="The day the customer promised to pay by: the reminders of "
        "the invoices of the call wait until then.")
    promise_amount = Monetary(
        "Promised Amount", currency='currency', digits='currency',
        states={
            'readonly': Eval('state') != 'to_make',
            'invisible': Eval('outcome') != 'promised',
            'required': (Eval('outcome') == 'promised')
            & (Eval('state') == 'to_make'),
            })
    promise = fields.Many2One(
        'account.invoice.dunning.promise', "Promise to Pay", readonly=True,
        states={
            'invisible': ~Eval('promise'),
            })
    note = fields.Text("Note")
    state = fields.Selection([
            ('to_make', "To Make"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    made_by = fields.Many2One('res.user', "Made by", readonly=True)
    made_at = fields.DateTime("Made at", readonly=True)
    retry_of = fields.Many2One(
        'account.invoice.dunning.call', "Retry of", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'ASC'),
            ('id', 'ASC'),
            ]
        cls._transitions |= {
            ('to_make', 'done'),
            }
        cls._buttons.update({
                'record': {
                    'invisible': Eval('state') != 'to_make',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'to_make'

    def get_rec_name(self, name):
        return '%s (%s)' % (self.party.rec_name, self.date)

    @classmethod
    def get_dispatch_value(cls, calls, names):
        result = {n: {} for n in names}
        for call in calls:
            dispatch = call.dispatch
            values = {
                'invoice_numbers': dispatch.invoice_numbers,
                'amount': dispatch.amount,
                'currency': dispatch.currency.id,
                }
            for name in names:
                result[name][call.id] = values[name]
        return result

    @classmethod
    def from_dispatches(cls, dispatches):
        "Create the calls to make of the phone dispatches; return them"
        to_create = []
        for dispatch in dispatches:
            if dispatch.channel != 'phone':
                continue
            party = dispatch.party
            language = party.lang.code if party.lang else None
            to_create.append({
                    'company': dispatch.company.id,
                    'party': party.id,
                    'dispatch': dispatch.id,
                    'date': dispatch.date,
                    'phone': cls.phone_of(party),
                    'script': dispatch.level.call_script_in(language),
                    })
        return cls.create(to_create) if to_create else []

    @classmethod
    def phone_of(cls, party):
        "The number to call: flagged for dunning, else the first phone"
        mechanisms = [m for m in party.contact_mechanisms
            if m.type in {'phone', 'mobile'} and m.active]
        for mechanism in mechanisms:
            if getattr(mechanism, 'dunning', False):
                return mechanism.value
        return mechanisms[0].value if mechanisms else None

    @classmethod
    def check_modification(cls, mode, calls, values=None, external=False):
        super().check_modification(
            mode, calls, values=values, external=external)
        if mode == 'create' and external:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_call_create'))
        elif mode == 'delete':
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_call_delete'))
        elif mode == 'write' and external:
            for call in calls:
                editable = ({'note'} if call.state == 'done' else
                    {'date', 'phone', 'outcome', 'call_back_date', 'note',
                        'promise_date', 'promise_amount'})
                if values.keys() - editable:
                    raise AccessError(gettext(
                            'account_invoice_dunning.msg_call_modify',
                            call=call.rec_name))

    @classmethod
    def copy(cls, calls, default=None):
        if calls:
            raise AccessError(gettext(
                    'account_invoice_dunning.msg_call_copy'))
        return super().copy(calls, default=default)

    @classmethod
    def validate_fields(cls, calls, field_names):
        super().validate_fields(calls, field_names)
        cls.check_call_back(calls, field_names)

    @classmethod
    def check_call_back(cls, calls, field_names=None):
        "Calling back is on a date after the call"
        if field_names and not (
                field_names & {'outcome', 'call_back_date', 'date'}):
            return
        for call in calls:
            if (call.outcome == 'call_back' and call.call_back_date
                    and call.call_back_date <= call.date):
                raise CallValidationError(gettext(
                        'account_invoice_dunning.msg_call_back_date',
                        call=call.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def record(cls, calls):
        """Record the outcome of the calls; schedule the next call of those
        not answered or to call back"""
        pool = Pool()
        Date = pool.get('ir.date')
        Exchange = pool.get('account.invoice.dunning.exchange')
        for call in calls:
            if not call.outcome:
                raise CallValidationError(gettext(
                        'account_invoice_dunning.msg_call_outcome',
                        call=call.rec_name))
            if call.outcome == 'call_back' and not call.call_back_date:
                raise CallValidationError(gettext(
                        'account_invoice_dunning.msg_call_back_date',
                        call=call.rec_name))
            if call.outcome == 'promised' and not (
                    call.promise_date and call.promise_amount):
                raise CallValidationError(gettext(
                        'account_invoice_dunning.msg_call_promise',
                        call=call.rec_name))
        cls.write(calls, {
                'made_by': Transaction().user or None,
                'made_at': dt.datetime.now(),
                })
        today = Date.today()
        Exchange.log_calls(calls, today)
        cls.record_promises(
            [c for c in calls if c.outcome == 'promised'], today)
        cls.create([cls._next_call_values(c, today)
                for c in calls if c.outcome in RETRIED])

    @classmethod
    def record_promises(cls, calls, today):
        """Record the promise to pay made during each call, for the invoices
        of its reminders: they wait until the promised date"""
        pool = Pool()
        Promise = pool.get('account.invoice.dunning.promise')
        # The invoices still to pay: those paid since are not promised
        invoices = {c: [d.invoice.id for d in c.dispatch.reminders
                if d.invoice.state == 'posted'] for c in calls}
        calls = [c for c in calls if invoices[c]]
        promises = Promise.create([{
                    'company': c.company.id,
                    'party': c.party.id,
                    'invoices': [('add', invoices[c])],
                    'given_on': min(c.date, today),
                    'date': c.promise_date,
                    'amount': c.promise_amount,
                    'currency': c.currency.id,
                    'origin': str(c),
                    } for c in calls])
        for call, promise in zip(calls, promises):
            call.promise = promise
        cls.save(calls)

    @classmethod
    def _next_call_values(cls, call, today):
        "The values of the call that follows call"
        if call.outcome == 'call_back':
            date = call.call_back_date
        else:
            date = add_business_days(max(call.date, today), 1,
                company_country(call.company))
        return {
            'company': call.company.id,
            'party': call.party.id,
            'dispatch': call.dispatch.id,
            'date': date,
            'phone': call.phone,
            'script': call.script,
            'retry_of': call.id,
            }
