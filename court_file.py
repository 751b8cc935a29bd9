# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The court file of a litigation file: the application for an order to
pay (requête en injonction de payer, Code de procédure civile, articles
1405 to 1425) with the creditor, the debtor, the competent court, the
claim invoice by invoice (principal, interest from the due date with its
basis and rates, recovery indemnity) and the numbered list of its
evidence; the file taken to court on its filing date. Printed in French:
it is filed with French courts."""
from decimal import Decimal
from types import SimpleNamespace

from sql import Null

from trytond.i18n import gettext
from trytond.model import ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .claim import claims_at
from .declaration import (
    COURT_LABELS, LANGUAGE, PartyCompanyReport, basis_lines, claim_rows,
    court_name, dispatch_text, french_formatter, french_list, money_values,
    number_text, party_values)
from .letter import _address_lines
from .litigation_common import COURT_KINDS, LitigationError

# The states of the files a court file is printed for from their party
OPEN_STATES = {'draft', 'handed_over', 'in_court'}


class LitigationFile(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.litigation'
    court_kind = fields.Selection(
        [(None, "")] + COURT_KINDS, "Court Kind",
        states={
            'readonly': Eval('state').in_(['closed', 'cancelled']),
            },
        help="Leave empty for the rule: the commercial court for a "
        "professional debtor, the judicial court otherwise.")
    court_kind_used = fields.Function(fields.Selection(
            COURT_KINDS, "Competent Court"), 'get_court_kind_used')
    court = fields.Char(
        "Court",
        states={
            'readonly': Eval('state').in_(['closed', 'cancelled']),
            },
        help="The court of the place where the debtor lives or has its "
        "registered office, e.g. \"Tribunal de commerce de Lyon\".")
    filed_on = fields.Date(
        "Filed On",
        states={
            'readonly': Eval('state').in_(['in_court', 'closed',
                    'cancelled']),
            'required': Eval('state') == 'in_court',
            },
        help="The date the application for an order to pay was filed "
        "with the court.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._transitions |= {
            ('draft', 'in_court'),
            ('handed_over', 'in_court'),
            }
        cls._buttons.update({
                'file_in_court': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'handed_over']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    def get_court_kind_used(self, name):
        "The court kind set, else the rule"
        pool = Pool()
        Party = pool.get('party.party')
        if self.court_kind:
            return self.court_kind
        if Party.customer_type_of(self.party) == 'professional':
            return 'commercial'
        return 'judicial'

    @classmethod
    def copy(cls, files, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('filed_on', None)
        return super().copy(files, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('in_court')
    def file_in_court(cls, files):
        """The application was filed: the invoices are in court, on the
        filing date (today when not set)"""
        pool = Pool()
        Date = pool.get('ir.date')
        drafts = [f for f in files if f.state == 'draft']
        cls.check_invoices(drafts)
        cls.check_formal_notice(drafts, Date.today())
        unset = [f for f in files if not f.filed_on]
        if unset:
            cls.write(unset, {'filed_on': Date.today()})
        cls.set_invoices_state(files, 'in_court')


class Limitation(metaclass=PoolMeta):
    __name__ = 'account.invoice.dunning.limitation'

    @classmethod
    def interruption_queries(cls, company_id, date):
        """The interruptions of the limitation, with the filing of the court
        file of the invoices of a litigation file (a claim in court, Code
        civil, article 2241)"""
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        LitigationInvoice = pool.get(
            'account.invoice.dunning.litigation-account.invoice')
        litigation = Litigation.__table__()
        litigation_invoice = LitigationInvoice.__table__()
        filings = (litigation_invoice
            .join(litigation,
                condition=litigation.id == litigation_invoice.litigation)
            .select(litigation_invoice.invoice.as_('invoice'),
                litigation.filed_on.as_('date'),
                where=(litigation.company == company_id)
                & (litigation.filed_on != Null)
                & (litigation.filed_on <= date)))
        return super().interruption_queries(company_id, date) + [filings]


def court_files_of(records):
    """The litigation files of records: the files themselves, the open
    files of parties"""
    pool = Pool()
    Litigation = pool.get('account.invoice.dunning.litigation')
    files = []
    for record in records:
        if isinstance(record, Litigation):
            files.append(record)
        else:
            files.extend(f for f in record.dunning_litigation_files
                if f.state in OPEN_STATES)
    if not files:
        raise LitigationError(gettext(
                'account_invoice_dunning.msg_court_file_none'))
    return files


def court_file_date(file):
    "The date the claim of file is computed at: its filing, else today"
    Date = Pool().get('ir.date')
    return file.filed_on or Date.today()


def sorted_invoices(file):
    "The invoices of file by date and number"
    return sorted(file.invoices,
        key=lambda i: (i.invoice_date, i.number or '', i.id))


def sent_dispatches(invoices):
    """The dispatches of the processed reminders of invoices that carry a
    letter, by date"""
    return sorted({d.dispatch for i in invoices for d in i.dunnings
            if d.state == 'done' and d.dispatch
            and d.dispatch.channel in {'letter', 'registered_letter',
                'email'}},
        key=lambda d: (d.date, d.id))


def file_exchanges(file):
    "The exchanges with the debtor about the invoices of file, by date"
    Exchange = Pool().get('account.invoice.dunning.exchange')
    invoice_ids = [i.id for i in file.invoices]
    return Exchange.search([
            ('company', '=', file.company.id),
            ('party', '=', file.party.id),
            ['OR',
                ('invoices', 'in', invoice_ids),
                ('invoices', '=', None),
                ],
            ], order=[('date', 'ASC'), ('id', 'ASC')])


def evidence_items(file, date, fmt):
    """The numbered evidence of the court file of file:
    SimpleNamespace(index, text, kind, record), kind in invoice, letter,
    tracking, exchanges, statement"""
    invoices = sorted_invoices(file)
    items = [("Facture %s du %s" % (number_text(i.number),
                fmt.long_date(i.invoice_date)), 'invoice', i)
        for i in invoices]
    dispatches = sent_dispatches(invoices)
    items.extend((dispatch_text(d, fmt), 'letter', d) for d in dispatches)
    registered = [d for d in dispatches
        if d.channel == 'registered_letter']
    if registered:
        items.append(("Relevé des lettres recommandées (numéros de suivi "
                "et dates de distribution)", 'tracking', registered))
    exchanges = file_exchanges(file)
    if exchanges:
        items.append(("Journal des échanges avec le débiteur (%s)" % (
                    "%s\u00a0échanges" % len(exchanges)
                    if len(exchanges) > 1 else "1\u00a0échange"),
                'exchanges', exchanges))
    items.append(("Décompte de la créance arrêté au %s"
            % fmt.long_date(date), 'statement', file))
    return [SimpleNamespace(index=i, text=t, kind=k, record=r)
        for i, (t, k, r) in enumerate(items, 1)]


def court_values(file, fmt):
    "The competent court of file as printed"
    kind = file.court_kind_used
    court = court_name(file)
    reason = ("le débiteur ayant la qualité de commerçant et la créance "
        "étant née de ses activités commerciales (art.\u00a0L.\u00a0721-3 "
        "du code de commerce)" if kind == 'commercial' else
        "la créance ne relevant pas de la compétence d’une juridiction "
        "spécialisée (art.\u00a0L.\u00a0211-3 du code de l’organisation "
        "judiciaire)")
    return dict(court=court, court_kind=COURT_LABELS[kind],
        court_reason=reason, court_set=bool(file.court))


def demand_text(claims, date, fmt):
    """What the court file asks besides the costs: '3 976,11 €, dont
    3 750,00 € en principal, 106,11 € d’intérêts de retard échus au 30
    avril 2026 et 120,00 € d’indemnité forfaitaire pour frais de
    recouvrement'"""
    def total(name):
        return sum((getattr(c, name) for c in claims), Decimal(0))
    parts = ["%s en principal" % fmt.money(total('principal'))]
    if total('interest'):
        parts.append("%s d’intérêts de retard échus au %s" % (
                fmt.money(total('interest')), fmt.long_date(date)))
    if total('indemnity'):
        parts.append("%s d’indemnité forfaitaire pour frais de "
            "recouvrement" % fmt.money(total('indemnity')))
    if total('fee'):
        parts.append("%s de frais et pénalités contractuels"
            % fmt.money(total('fee')))
    if len(parts) == 1:
        return fmt.money(total('total'))
    return "%s, dont %s" % (fmt.money(total('total')), french_list(parts))


class CourtFile(PartyCompanyReport):
    """The application for an order to pay of litigation files (one a
    file)"""
    __name__ = 'account.invoice.dunning.court_file'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        context = super().get_context(records, header, data)
        shared = {}
        with Transaction().set_context(language=LANGUAGE):
            context['letters'] = [
                cls.get_court_file(f, Date.today(), shared)
                for f in court_files_of(records)]
        return context

    @classmethod
    def get_court_file(cls, file, today, shared=None):
        "The data printed on the court file of file"
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        company = file.company
        date = court_file_date(file)
        claims = claims_at(sorted_invoices(file), date)
        # The amounts in the currency of the file, that of its invoices
        fmt = french_formatter(file.currency, shared)
        company_values = Letter._shared(shared, ('company', company.id),
            lambda: Letter._company_values(company, LANGUAGE))
        office = company.party.address_get()
        dispatches = sent_dispatches(sorted_invoices(file))
        notices = [d for d in dispatches if d.level.formal_notice]
        return SimpleNamespace(
            **vars(company_values),
            company_legal=company.dunning_legal_mentions(fmt.lang),
            company_registration=company.dunning_registration(LANGUAGE),
            company_legal_form=company.legal_form or '',
            company_office=_address_lines(office),
            lang=LANGUAGE,
            **party_values(file.party, 'debtor_'),
            debtor_professional=file.court_kind_used == 'commercial',
            **court_values(file, fmt),
            date=fmt.long_date(today),
            computed_at=fmt.long_date(date),
            reference=file.reference or '',
            claims=claim_rows(claims, fmt),
            interest_basis=basis_lines(claims, date, fmt),
            reminders=[SimpleNamespace(text=dispatch_text(d, fmt))
                for d in dispatches],
            formal_notice=(dispatch_text(notices[-1], fmt)
                if notices else ''),
            evidence=evidence_items(file, date, fmt),
            demand=demand_text(claims, date, fmt),
            **money_values(claims, fmt))
