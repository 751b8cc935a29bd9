# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The litigation state of the invoices: the run leaves out, in one query,
the invoices pursued outside the ladder (handed over, in court, in
collective proceedings) and processing refuses their reminders; a payment
still closes them (recovered). The parties that act as agents."""
from sql import Literal
from sql.conditionals import Coalesce

from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import id_slices, in_ids
from .litigation_common import AGENT_KINDS, LITIGATION_STATES, PURSUED_STATES


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'
    dunning_litigation = fields.Selection(
        LITIGATION_STATES, "Litigation", readonly=True, sort=False,
        states={
            'invisible': Eval('type') != 'out',
            },
        help="Amicable: the reminders of the ladder run; handed over, in "
        "court or in collective proceedings: no more reminders, the claim "
        "is pursued by other means.")
    dunning_litigation_file = fields.Many2One(
        'account.invoice.dunning.litigation', "Litigation File",
        readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('dunning_litigation_file'),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {
            'dunning_litigation', 'dunning_litigation_file'}

    @classmethod
    def default_dunning_litigation(cls):
        return 'amicable'

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_litigation', 'amicable')
        default.setdefault('dunning_litigation_file', None)
        return super().copy(invoices, default=default)

    @classmethod
    def paid(cls, invoices):
        "A payment closes an invoice pursued outside the ladder: recovered"
        super().paid(invoices)
        recovered = [i for i in invoices
            if i.dunning_litigation in PURSUED_STATES]
        if recovered:
            cls.write(recovered, {'dunning_litigation': 'recovered'})

    @classmethod
    def dunning_litigated_ids(cls, company_ids=None, invoice_ids=None):
        """Return the ids of the posted customer invoices of the companies
        (all when None) or of invoice_ids out of the amicable stage, in one
        query a slice"""
        cursor = Transaction().connection.cursor()
        invoice = cls.__table__()
        where = ((invoice.type == 'out') & (invoice.state == 'posted')
            & (Coalesce(invoice.dunning_litigation, 'amicable')
                != Literal('amicable')))
        if company_ids is not None:
            where &= invoice.company.in_([int(c) for c in company_ids])
        result = set()
        slices = id_slices(invoice_ids) if invoice_ids is not None else [None]
        for sub_ids in slices:
            sub_where = where
            if sub_ids is not None:
                sub_where &= in_ids(invoice.id, sub_ids)
            cursor.execute(*invoice.select(invoice.id, where=sub_where))
            result.update(i for i, in cursor)
        return result

    @classmethod
    def dunning_blocked_ids(cls, invoice_ids):
        """The invoices pursued outside the ladder are blocked: processing
        refuses their reminders"""
        return (super().dunning_blocked_ids(invoice_ids)
            | cls.dunning_litigated_ids(invoice_ids=invoice_ids))


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning'

    @classmethod
    def candidate_invoices(cls, company_ids, date=None):
        """The invoices out of the amicable stage, or of a party in
        collective proceedings on date, get no reminder"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        result = super().candidate_invoices(company_ids, date=date)
        suspended = Invoice.dunning_litigated_ids(company_ids)
        suspended |= Proceeding.suspended_invoices(company_ids, date)
        for invoice_id in suspended:
            result.pop(invoice_id, None)
        return result


class Plan(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.plan'

    @classmethod
    def missed_installments(cls, company_ids, date, figures):
        "No reminder of installment for the invoices out of the ladder"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        result = super().missed_installments(company_ids, date, figures)
        suspended = Invoice.dunning_litigated_ids(company_ids)
        suspended |= Proceeding.suspended_invoices(company_ids, date)
        return {i: m for i, m in result.items() if i not in suspended}


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'
    dunning_agent_kind = fields.Selection(
        AGENT_KINDS, "Recovery Agent",
        help="The party takes over unpaid files: a collection agency, a "
        "bailiff (commissaire de justice) or a lawyer.")
    dunning_litigation_files = fields.One2Many(
        'account.invoice.dunning.litigation', 'party', "Litigation Files",
        readonly=True)
    dunning_legal_form = fields.Char(
        "Legal Form",
        help="As printed on the court documents, e.g. SARL, SAS, "
        "sole trader.")

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('dunning_litigation_files', None)
        return super().copy(parties, default=default)
