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

from .claim import claims_at, claims_in, interest_basis
from .letter import _address_lines
from .letter_format import write_long_date
from .letter_render import RetriedConversion

# The documents are filed with French courts and mandataires
LANGUAGE = 'fr'
KIND_LABELS = {
    'safeguard': "sauvegarde",
    'receivership': "redressement judiciaire",
    'liquidation': "liquidation judiciaire",
    }
# The courts of an application for an order to pay
COURT_LABELS = {
    'commercial': "tribunal de commerce",
    'judicial': "tribunal judiciaire",
    }
# The delivery of a registered letter at its delivery date
DELIVERY_TEXTS = {
    None: "présentée le %s",
    'delivered': "distribuée le %s",
    'refused': "refusée par le destinataire le %s",
    'not_claimed': "avisée le %s et non réclamée",
    'returned': "retournée à l’expéditeur le %s",
    }
# The rank of the claim as in "à titre chirographaire"
RANK_LABELS = {
    'ordinary': "chirographaire",
    'privileged': "privilégié",
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


def number_text(number):
    "'n° 1A 234 567 8901 2': a number after its 'n°', on one line"
    return 'n°\u00a0%s' % '\u00a0'.join((number or '').split())


def french_list(items):
    "'a, b et c' of the items not empty"
    items = [i for i in items if i]
    if len(items) < 2:
        return ''.join(items)
    return '%s et %s' % (', '.join(items[:-1]), items[-1])


def delivery_text(dispatch, fmt):
    """The tracking number and the delivery of a registered letter as
    the documents print it after the letter: ' n° 1A 234 567 8901 2,
    distribuée le 28 mars 2026', or ''"""
    text = ''
    if dispatch.tracking_number:
        text += ' ' + number_text(dispatch.tracking_number)
    if dispatch.delivery_date:
        text += ', ' + DELIVERY_TEXTS.get(dispatch.delivery_status,
            DELIVERY_TEXTS[None]) % fmt.long_date(dispatch.delivery_date)
    return text


def dispatch_text(dispatch, fmt):
    """How the court documents name the letter of dispatch: in French
    whatever the language it was sent in"""
    if dispatch.level.formal_notice:
        level = "Mise en demeure"
    else:
        level = "Lettre de relance"
    if dispatch.channel == 'registered_letter':
        return "%s du %s, lettre recommandée avec demande d’avis de " \
            "réception%s" % (level, fmt.long_date(dispatch.date),
                delivery_text(dispatch, fmt))
    how = "courriel" if dispatch.channel == 'email' else "courrier simple"
    return "%s du %s (%s)" % (level, fmt.long_date(dispatch.date), how)


def court_name(file):
    """The court of the application for an order to pay of the litigation
    file: the court named, else the kind of court of the place of the
    debtor"""
    if file.court:
        return file.court
    kind = COURT_LABELS[file.court_kind_used]
    address = file.party.address_get(type='invoice') \
        or file.party.address_get()
    if address and address.city:
        return "%s du lieu où demeure le débiteur (%s)" % (kind, address.city)
    return "%s du lieu où demeure le débiteur" % kind


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


def party_siren(party):
    """The SIREN of party: the 9 digits of its SIREN identifier, else of
    its SIRET, or ''"""
    codes = {i.type: ''.join(i.code.split()) for i in party.identifiers
        if i.type in {'fr_siren', 'fr_siret'} and i.code}
    return codes.get('fr_siren') or codes.get('fr_siret', '')[:9]


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
    values['total_charges'] = fmt.money(total('indemnity') + total('fee'))
    values['total_due_claimed'] = fmt.money(total('total') - total('not_due'))
    values['has_interest'] = bool(total('interest'))
    values['has_indemnity'] = bool(total('indemnity'))
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
            charges=fmt.money(c.indemnity + c.fee),
            total=fmt.money(c.total))
        for index, c in enumerate(claims, 1)]


def basis_lines(claims, end, fmt):
    """The lines that state the basis and rates of the interest of claims
    up to end, once per rule: the rate of each half-year from the earliest
    start of the rule among the claims (the due date, or the formal notice
    for the rules that run from it)"""
    Penalty = Pool().get('account.invoice.dunning.penalty')
    notices = {}
    if any(r.start == 'formal_notice' for c in claims for r in c.rules):
        notices = Penalty._formal_notice_dates([c.invoice.id for c in claims])
    starts, rules = {}, {}
    for claim in claims:
        for rule in claim.rules:
            start = (notices.get(claim.invoice.id)
                if rule.start == 'formal_notice' else claim.due_date)
            if start:
                rules.setdefault(rule.id, rule)
                starts[rule.id] = min(start, starts.get(rule.id, start))
    lines = []
    for rule_id, rule in rules.items():
        basis = interest_basis(rule, starts[rule_id], end)
        rates = ', '.join('%s\u00a0%% au %s' % (
                percent(r, fmt), half_year_text(d, fmt))
            for d, r in basis.rates)
        if basis.reference and basis.margin:
            rate = "%s majoré de %s\u00a0points" % (
                lower_first(basis.reference), percent(basis.margin, fmt))
        elif basis.reference:
            rate = lower_first(basis.reference)
        else:
            rate = "taux conventionnel de %s\u00a0%%" % percent(
                basis.margin, fmt)
        if basis.start == 'formal_notice':
            since = "à compter de la mise en demeure"
        else:
            since = "à compter du lendemain de l’échéance de chaque facture"
        lines.append(SimpleNamespace(name=basis.name,
                legal_basis=basis.legal_basis, rate=rate, rates=rates,
                since=since, days=basis.divisor))
    return lines


def conversion_lines(conversions, fmt, shared):
    """The lines that state the claims converted from another currency
    (claim.claims_in): the amount claimed as invoiced, the rate and the
    amount in the currency of fmt; the recovery indemnity apart, in the
    currency of the law"""
    lines = []
    for claim, converted, rate, date in conversions:
        invoice = claim.invoice
        invoiced = french_formatter(invoice.currency, shared)
        text = ("Facture n°\u00a0%s\u00a0: %s au cours du %s "
            "(1\u00a0%s = %s\u00a0%s), soit %s" % (
                invoice.number or '',
                invoiced.money(claim.total - claim.indemnity),
                fmt.long_date(date), invoice.currency.code,
                rate_text(rate, fmt), invoice.company.currency.code,
                fmt.money(converted.total - converted.indemnity)))
        if converted.indemnity:
            text += (", et l’indemnité forfaitaire pour frais de "
                "recouvrement de %s" % fmt.money(converted.indemnity))
        lines.append(SimpleNamespace(text=text))
    return lines


def rate_text(rate, fmt):
    "An exchange rate, with its significant decimals (2 to 6)"
    text = fmt.lang.format('%.6f', rate)
    decimal_point = fmt.lang.decimal_point
    whole, _, decimals = text.partition(decimal_point)
    decimals = decimals.rstrip('0').ljust(2, '0')
    return whole + decimal_point + decimals


def lower_first(text):
    """text with its first letter in lower case within a sentence, unless
    it starts with an acronym ("BCE")"""
    if text[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def percent(rate, fmt):
    "A rate as a number of percent: \"10\", \"12,15\""
    text = fmt.lang.format('%.2f', (rate or 0) * 100)
    return text[:-3] if text.endswith(('.00', ',00')) else text


def half_year_text(date, fmt):
    "\"1er semestre 2026\""
    return '%s semestre %d' % ('1er' if date.month <= 6 else '2e', date.year)


class PartyCompanyReport(RetriedConversion, CompanyReport):
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
        # The claims in another currency in that of the company at the rate
        # of the judgment (L. 622-25)
        claims, conversions = claims_in(
            claims_at(cls.declared_invoices(proceeding),
                proceeding.judgment_date),
            company.currency, proceeding.judgment_date)
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
            privileged=proceeding.rank == 'privileged',
            privilege=proceeding.privilege or '',
            claims=claim_rows(claims, fmt),
            not_due=cls.not_due_lines(claims, proceeding.judgment_date,
                fmt),
            conversions=conversion_lines(conversions, fmt, shared),
            suits=cls.pending_suits(proceeding, claims, fmt),
            interest_basis=basis_lines(claims, proceeding.judgment_date,
                fmt),
            evidence=cls.evidence(proceeding, claims, fmt),
            **money_values(claims, fmt))

    @classmethod
    def not_due_lines(cls, claims, date, fmt):
        """The amounts not yet due at date with their due dates, the latest
        due dates of each invoice first unpaid (its payments pay the
        earliest first): 'Facture n° 3 : 2 400,00 € à échoir le 19 avril
        2026'"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        pending = [c for c in claims if c.not_due > 0]
        if not pending:
            return []
        lines, _ = Invoice.dunning_unpaid(
            list({c.invoice.company.id for c in pending}),
            [c.invoice.id for c in pending])
        result = []
        for claim in pending:
            left, maturities = claim.not_due, []
            for maturity, amount in sorted(
                    lines.get(claim.invoice.id, []), reverse=True):
                if maturity <= date or left <= 0:
                    break
                maturities.append((maturity, min(amount, left)))
                left -= min(amount, left)
            for maturity, amount in sorted(maturities):
                result.append(SimpleNamespace(text="Facture %s\u00a0: %s "
                        "à échoir le %s" % (number_text(claim.invoice.number),
                            fmt.money(amount), fmt.long_date(maturity))))
        return result

    @classmethod
    def pending_suits(cls, proceeding, claims, fmt):
        """The applications for an order to pay filed for the claims
        declared (Code de commerce, article R622-23, 3°: the court seized
        of a claim in dispute)"""
        pool = Pool()
        Litigation = pool.get('account.invoice.dunning.litigation')
        declared = {c.invoice.id for c in claims}
        result = []
        for file in Litigation.search([
                    ('company', '=', proceeding.company.id),
                    ('party', '=', proceeding.party.id),
                    ('state', '=', 'in_court'),
                    ('filed_on', '!=', None),
                    ], order=[('filed_on', 'ASC'), ('id', 'ASC')]):
            numbers = sorted(i.number or '' for i in file.invoices
                if i.id in declared)
            if not numbers:
                continue
            result.append(SimpleNamespace(text="La créance relative %s fait "
                    "l’objet d’une requête en injonction de payer déposée "
                    "le %s au greffe du %s." % (
                        "à la facture %s" % number_text(numbers[0])
                        if len(numbers) == 1 else "aux factures n°\u00a0%s"
                        % french_list(numbers),
                        fmt.long_date(file.filed_on),
                        court_name(file))))
        return result

    @classmethod
    def evidence(cls, proceeding, claims, fmt):
        """The documents attached: a copy of each invoice, the formal
        notices sent and the statement of the claim"""
        lines = ["Copie de la facture %s du %s" % (
                number_text(c.invoice.number),
                fmt.long_date(c.invoice.invoice_date))
            for c in claims]
        notices = sorted({d.dispatch for c in claims
                for d in c.invoice.dunnings
                if d.state == 'done' and d.level.formal_notice
                and d.dispatch}, key=lambda d: (d.date, d.id))
        lines.extend(dispatch_text(d, fmt) for d in notices)
        lines.append("Décompte de la créance arrêté au %s" % fmt.long_date(
                proceeding.judgment_date))
        return [SimpleNamespace(index=i, text=t)
            for i, t in enumerate(lines, 1)]
