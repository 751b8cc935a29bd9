# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The declaration of claims to the mandataire judiciaire (Code de commerce,
articles L622-24 to L622-26 and R622-23): the claim on the debtor at the
judgment of opening, invoice by invoice, due and not yet due, with the
interest up to the judgment and the recovery indemnity, and its
evidence. Printed in French: it is filed in French proceedings."""
from decimal import Decimal
from types import SimpleNamespace

from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.transaction import Transaction

from .claim import claims_at, interest_basis
from .letter import _address_lines
from .letter_format import write_long_date

# The documents are filed with French courts and mandataires
LANGUAGE = 'fr'
KIND_LABELS = {
    'safeguard': "sauvegarde",
    'receivership': "redressement judiciaire",
    'liquidation': "liquidation judiciaire",
    }
RANK_LABELS = {
    'ordinary': "chirographaire",
    'privileged': "privilégiée",
    }


MONTHS = [None, "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre"]


def french_date(date):
    """\"1er mars 2026\", \"31 mars 2026\": a date as French deeds write
    it, with its own names of the months (French may not be loaded)"""
    return write_long_date(date, 'fr', MONTHS)


def french_formatter(currency, shared):
    "How the French documents write dates and amounts"
    pool = Pool()
    Letter = pool.get('account.invoice.dunning.letter', type='report')
    fmt = Letter._formatter(LANGUAGE, currency, shared)
    return SimpleNamespace(lang=fmt.lang, money=fmt.money,
        date=french_date, long_date=french_date)


def party_registration(party):
    """The registration of party as the documents print it: its RCS
    number, else its SIREN or SIRET, or ''"""
    codes = {i.type: ' '.join(i.code.split()) for i in party.identifiers
        if i.type in {'fr_rcs', 'fr_siren', 'fr_siret'} and i.code}
    if codes.get('fr_rcs'):
        return codes['fr_rcs']
    for type_, label in [('fr_siren', "SIREN"), ('fr_siret', "SIRET")]:
        if codes.get(type_):
            return '%s %s' % (label, codes[type_])
    return ''


def party_values(party, prefix):
    "The name, legal form, registration and address of party"
    address = party.address_get(type='invoice') or party.address_get()
    return {
        prefix + 'name': party.full_name or party.rec_name,
        prefix + 'legal_form': party.dunning_legal_form or '',
        prefix + 'registration': party_registration(party),
        prefix + 'address': _address_lines(address),
        }


def money_values(claims, fmt):
    "The totals of claims, formatted"
    def total(name):
        return sum((getattr(c, name) for c in claims), Decimal(0))
    names = ['principal', 'due', 'not_due', 'interest', 'indemnity', 'fee',
        'total']
    values = {'total_' + n: fmt.money(total(n)) for n in names}
    values['total_penalties'] = fmt.money(
        total('interest') + total('indemnity') + total('fee'))
    values['total_due_claimed'] = fmt.money(total('total') - total('not_due'))
    values['has_fee'] = bool(total('fee'))
    return values


def claim_rows(claims, fmt):
    "The rows of the table of the claims, formatted"
    return [SimpleNamespace(
            index=index,
            number=c.invoice.number or '',
            date=fmt.long_date(c.invoice.invoice_date),
            due_date=fmt.long_date(c.due_date),
            principal=fmt.money(c.principal),
            due=fmt.money(c.due),
            not_due=fmt.money(c.not_due),
            interest=fmt.money(c.interest),
            indemnity=fmt.money(c.indemnity),
            fee=fmt.money(c.fee),
            total=fmt.money(c.total))
        for index, c in enumerate(claims, 1)]


def basis_lines(claims, start_of, end, fmt):
    """The lines that state the basis and rates of the interest of claims,
    from start_of(claim) to end, once per rule"""
    lines, seen = [], set()
    for claim in claims:
        for rule in claim.rules:
            start = start_of(claim)
            if rule.id in seen or not start:
                continue
            seen.add(rule.id)
            basis = interest_basis(rule, start, end)
            rates = ', '.join('%s : %s %%' % (
                    half_year_text(d, fmt), percent(r, fmt))
                for d, r in basis.rates)
            if basis.reference:
                rate = "%s majoré de %s points" % (basis.reference,
                    percent(basis.margin, fmt))
            else:
                rate = "taux conventionnel de %s %%" % percent(
                    basis.margin, fmt)
            lines.append(SimpleNamespace(name=basis.name,
                    legal_basis=basis.legal_basis, rate=rate, rates=rates))
    return lines


def percent(rate, fmt):
    "A rate as a number of percent: \"10\", \"12,15\""
    text = fmt.lang.format('%.2f', (rate or 0) * 100)
    return text[:-3] if text.endswith(('.00', ',00')) else text


def half_year_text(date, fmt):
    "\"1er semestre 2026\""
    return '%s semestre %d' % ('1er' if date.month <= 6 else '2e', date.year)


class PartyCompanyReport(CompanyReport):
    """A report of the company of its records, printed from a party too:
    the company of the context"""

    @classmethod
    def header_key(cls, record, data):
        "A party has no company: the company of the context"
        pool = Pool()
        Company = pool.get('company.company')
        if hasattr(record, 'company'):
            return super().header_key(record, data)
        company_id = Transaction().context.get('company')
        return super(CompanyReport, cls).header_key(record, data) + (
            ('company', Company(company_id) if company_id else None),
            )


class ClaimDeclaration(PartyCompanyReport):
    "The declaration of claims of collective proceedings, one a proceeding"
    __name__ = 'account.invoice.dunning.claim_declaration'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        Proceeding = pool.get('account.invoice.dunning.proceeding')
        context = super().get_context(records, header, data)
        proceedings = []
        for record in records:
            if isinstance(record, Proceeding):
                proceedings.append(record)
            else:
                proceedings.extend(p for p in record.dunning_proceedings
                    if p.state in {'opened', 'declared'})
        shared = {}
        with Transaction().set_context(language=LANGUAGE):
            context['letters'] = [
                cls.get_declaration(p, Date.today(), shared)
                for p in proceedings]
        return context

    @classmethod
    def declared_invoices(cls, proceeding):
        "The unpaid invoices of the debtor born before the judgment"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        return Invoice.search([
                ('company', '=', proceeding.company.id),
                ('party', '=', proceeding.party.id),
                ('type', '=', 'out'),
                ('state', '=', 'posted'),
                ('invoice_date', '<=', proceeding.judgment_date),
                ], order=[('invoice_date', 'ASC'), ('number', 'ASC')])

    @classmethod
    def get_declaration(cls, proceeding, today, shared):
        "The data printed on the declaration of proceeding"
        pool = Pool()
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        company = proceeding.company
        claims = claims_at(cls.declared_invoices(proceeding),
            proceeding.judgment_date)
        fmt = french_formatter(company.currency, shared)
        company_values = Letter._shared(shared, ('company', company.id),
            lambda: Letter._company_values(company, LANGUAGE))
        mandataire = proceeding.mandataire
        return SimpleNamespace(
            **vars(company_values),
            company_legal=company.dunning_legal_mentions(fmt.lang),
            company_registration=company.dunning_registration(LANGUAGE),
            company_legal_form=company.legal_form or '',
            lang=LANGUAGE,
            **party_values(proceeding.party, 'debtor_'),
            recipient_name=(mandataire.full_name or mandataire.rec_name
                if mandataire else ''),
            recipient_address=_address_lines(mandataire.address_get()
                if mandataire else None),
            date=fmt.long_date(today),
            kind=KIND_LABELS[proceeding.kind],
            judgment_date=fmt.long_date(proceeding.judgment_date),
            court=proceeding.court or '',
            case_number=proceeding.case_number or '',
            publication_date=fmt.long_date(proceeding.publication_date),
            deadline=fmt.long_date(proceeding.declaration_deadline),
            rank=RANK_LABELS[proceeding.rank],
            claims=claim_rows(claims, fmt),
            interest_basis=basis_lines(claims, lambda c: c.due_date,
                proceeding.judgment_date, fmt),
            evidence=cls.evidence(proceeding, claims, fmt),
            **money_values(claims, fmt))

    @classmethod
    def evidence(cls, proceeding, claims, fmt):
        """The documents attached: a copy of each invoice, the formal
        notices sent and the statement of the claim"""
        lines = ["Copie de la facture n° %s du %s" % (
                c.invoice.number, fmt.long_date(c.invoice.invoice_date))
            for c in claims]
        notices = sorted({d.dispatch for c in claims
                for d in c.invoice.dunnings
                if d.state == 'done' and d.level.formal_notice
                and d.dispatch}, key=lambda d: (d.date, d.id))
        for dispatch in notices:
            line = "Mise en demeure du %s" % fmt.long_date(dispatch.date)
            if dispatch.tracking_number:
                line += ", lettre recommandée n° %s" % (
                    dispatch.tracking_number)
            if dispatch.delivery_date:
                line += ", présentée le %s" % fmt.long_date(
                    dispatch.delivery_date)
            lines.append(line)
        lines.append("Décompte de la créance arrêté au %s" % fmt.long_date(
                proceeding.judgment_date))
        return [SimpleNamespace(index=i, text=t)
            for i, t in enumerate(lines, 1)]
