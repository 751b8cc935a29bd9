# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Reminder letters: one letter a dispatch, listing the invoices it reminds."
from collections import defaultdict
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import relatorio.reporting
from genshi.filters import Translator

from trytond.exceptions import UserError
from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.report.report import MIMETYPES, TranslateFactory
from trytond.transaction import Transaction

from .common import address_country, company_country, format_phone
from .interest import half_year_start
from .letter_format import formatter
from .letter_invoices import LetterInvoicesMixin
from .letter_render import BatchTemplate, RetriedConversion, opendocument
from .penalty import KIND_AMOUNTS

# Languages that write the names of months in lower case


def _address_lines(address):
    if not address:
        return []
    with Transaction().set_context(address_with_party=False):
        full_address = address.full_address or ''
    return [l for l in full_address.splitlines() if l.strip()]


class _BatchTranslate(TranslateFactory):
    """The translations of a report, each text looked up once a batch for
    each language: a letter prints the same texts as the others"""

    def __init__(self, report_name, translation):
        super().__init__(report_name, translation)
        self._memo = {}

    def gettext(self, text):
        key = (Transaction().context.get('language'), text)
        if key not in self._memo:
            self._memo[key] = super().gettext(text)
        return self._memo[key]

    def ngettext(self, text, text_plural, n):
        key = (Transaction().context.get('language'), text, text_plural, n)
        if key not in self._memo:
            self._memo[key] = super().ngettext(text, text_plural, n)
        return self._memo[key]


class Letter(RetriedConversion, LetterInvoicesMixin, CompanyReport):
    """Render the letter of reminders

    The context prepares plain data for each letter (``letters``), formatted
    in the language of the customer, so that the templates only lay it out.
    """
    __name__ = 'account.invoice.dunning.letter'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        # What the letters of a batch share, given by render_letters
        shared = data.get('shared') if isinstance(data, dict) else None
        context['letters'] = [cls.get_letter(r, shared) for r in records]
        return context

    @classmethod
    def render_letters(cls, dispatches):
        """Return {dispatch id: (format, content)}: the letter of each
        dispatch, listing all its reminders"""
        pool = Pool()
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        letters = cls.render_dispatches(dispatches, check=lambda action, ids:
            cls.check_access(action, Dispatch.__name__, ids))
        # The printed letter archived is what was posted: with the invoices
        return {d.id: d.with_invoice_copies(*l)
            for d, l in zip(dispatches, letters)}

    @classmethod
    def render_dispatches(cls, dispatches, check=None):
        """Return the letters [(format, content)] of dispatches (saved, or
        not yet for a preview), in their order; check(action, ids) checks
        the user may print them

        The dispatches of a batch are read together, each template is
        parsed once for the batch, and what the letters of a company share
        is computed once."""
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        # What the letters share (company, labels) and their data, read once
        # a batch
        shared = {}
        cls.read_batch(dispatches, shared)
        groups = defaultdict(list)
        for i, dispatch in enumerate(dispatches):
            report = dispatch.level.get_report()
            groups[report.id, cls.language(dispatch, shared)].append(i)
        result = [None] * len(dispatches)
        for (report_id, language), indexes in groups.items():
            action = ActionReport(report_id)
            with Transaction().set_context(language=language):
                if check:
                    check(action, [dispatches[i].id for i in indexes])
                template, translate = cls._letter_template(action)
                for i in indexes:
                    result[i] = cls._render_letter(
                        action, template, translate, dispatches[i], shared)
        return result

    @classmethod
    def _render_letter(cls, action, template, translate, record, shared):
        "Render the letter of record with the template parsed for action"
        data = {
            'model': record.__name__,
            'id': record.id,
            'ids': [record.id],
            'action_id': action.id,
            'shared': shared,
            }
        header = dict(cls.header_key(record, data))
        # get_context may change the context (set_lang)
        with Transaction().set_context(Transaction().context):
            context = cls.get_context([record], header, data)
            if translate:
                context['gettext'] = translate.gettext
                context['ngettext'] = translate.ngettext
            content = template.render(**context)
        return cls.convert(action, content)

    @classmethod
    def _letter_template(cls, action):
        """The template of action parsed for the batch (BatchTemplate), its
        texts translated once in the language of the context, and the
        translator of the texts a template asks (gettext), remembering its
        answers"""
        pool = Pool()
        Translation = pool.get('ir.translation')
        loader = relatorio.reporting.MIMETemplateLoader()
        klass = loader.factories[loader.get_type(
                MIMETYPES[action.template_extension])]
        template = klass(BytesIO(opendocument(action.report_content)))
        translate = translator = None
        if action.translatable:
            translate = _BatchTranslate(cls.__name__, Translation)
            translator = Translator(translate)
            if hasattr(template, 'add_directives'):
                template.add_directives(Translator.NAMESPACE, translator)
        # The texts of the template translated once, not the texts of each
        # letter: the data of a letter is formatted in its language already
        return BatchTemplate(template, translator), translate

    @staticmethod
    def _shared(shared, key, compute):
        "compute(), once for key in shared when rendering a batch"
        if shared is None:
            return compute()
        if key not in shared:
            shared[key] = compute()
        return shared[key]

    @classmethod
    def language(cls, dispatch, shared=None):
        "The code of the language of the letter of dispatch: its customer's"
        party = dispatch.party
        return cls._batch(shared, 'languages',
            (party.id, dispatch.company.id),
            lambda: party.lang.code if party.lang else None)

    @staticmethod
    def _batch(shared, name, key, compute):
        """The value of key read for the batch by read_batch (shared[name]),
        else compute()"""
        values = shared.get(name, {}) if shared is not None else {}
        return values[key] if key in values else compute()

    @classmethod
    def read_languages(cls, dispatches):
        """{(party id, company id): code of the language} of the customers
        of dispatches, read at once"""
        pool = Pool()
        Party = pool.get('party.party')
        parties = defaultdict(set)
        for dispatch in dispatches:
            parties[dispatch.company.id].add(dispatch.party.id)
        return {(p, c): l for c, party_ids in parties.items()
            for p, l in Party.dunning_languages(party_ids, c).items()}

    @classmethod
    def read_batch(cls, dispatches, shared):
        """Read into shared, at once, what the letters of dispatches print
        of their invoices and customers: the invoices and their addresses,
        the reminders sent before, the segments, customer types and
        languages of the customers, the countries of their first
        invoices"""
        pool = Pool()
        Address = pool.get('party.address')
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Penalty = pool.get('account.invoice.dunning.penalty')
        reminders = [r for d in dispatches for r in d.reminders]
        cls.letter_invoices(reminders, shared)
        shared['previous'] = cls.read_previous(reminders)
        firsts = [r[0].invoice.id for r in (
                cls.reminders_of(d, shared) for d in dispatches) if r]
        shared['addresses'] = {a.id: a for a in Address.browse(list({
                        i.invoice_address for i in shared['invoices'].values()
                        if i.invoice_address}))}
        parties = list({d.party for d in dispatches})
        shared['customer_types'] = Party.customer_types(parties)
        shared['languages'] = cls.read_languages(dispatches)
        shared['segments'] = Party.dunning_segments_of(
            {(d.party.id, d.company.id) for d in dispatches})
        shared['countries'] = Penalty.customer_countries(
            Invoice.dunning_penalty_facts(firsts))
        shared['batch_read'] = True

    @classmethod
    def _sender_values(cls, dispatch, fmt, customer_address, shared=None):
        """What the letter of dispatch prints of the company that sends it,
        computed once a batch: its address, contact, bank accounts and
        legal mentions; the phone numbers as the customer at
        customer_address dials them"""
        company = dispatch.company
        language = cls.language(dispatch, shared)
        company_values = cls._shared(shared, ('company', company.id, language),
            lambda: cls._company_values(company, language))
        company_legal = cls._shared(shared,
            ('legal', company.id, fmt.lang.code),
            lambda: company.dunning_legal_mentions(fmt.lang))
        region = cls._shared(shared, ('country', company.id),
            lambda: company_country(company))
        return dict(
            cls._phones_for(company_values, region, customer_address),
            company_legal=company_legal)

    @classmethod
    def _company_values(cls, company, language=None):
        "What the letters of company in language print of it"
        company_party = company.party
        company_address = company_party.address_get(type='invoice')

        def mechanism(types):
            found = company_party.contact_mechanism_get(types)
            return found.value if found else ''
        phone = mechanism({'phone', 'mobile'})
        email = mechanism('email')
        tax_identifier = getattr(company_party, 'tax_identifier', None)
        return SimpleNamespace(
            company_name=company_party.full_name or company_party.rec_name,
            company_address=_address_lines(company_address),
            company_phone=phone,
            company_email=email,
            company_website=mechanism('website'),
            company_tax_identifier=(
                tax_identifier.code if tax_identifier else ''),
            company_header=(company.header_used or ''
                if hasattr(company, 'header_used') else ''),
            place=(company_address.city if company_address
                and company_address.city else ''),
            bank_accounts=cls.get_bank_accounts(company),
            **cls._config_values(company, language, email, phone))

    @classmethod
    def _config_values(cls, company, language, email, phone):
        """What the letters of company in language print of the accounting
        configuration (translated): the contact, with the email and phone
        of the company by default, and the signatory"""
        pool = Pool()
        Configuration = pool.get('account.configuration')
        context = {'language': language} if language else {}

        def value(name):
            with Transaction().set_context(**context):
                return Configuration(1).get_multivalue(
                    name, company=company.id) or ''
        return dict(
            contact_name=value('dunning_contact_name'),
            contact_email=value('dunning_contact_email') or email,
            contact_phone=value('dunning_contact_phone') or phone,
            signatory=value('dunning_signatory'),
            signatory_title=value('dunning_signatory_title'),
            )

    @classmethod
    def _phones_for(cls, company_values, region, address):
        """The company values with the phone numbers as the customer at
        address dials them: national in the country of the number, else
        international (a number without international prefix is of
        region, the country of the company)"""
        country = address_country(address)
        return dict(vars(company_values), **{
                name: format_phone(getattr(company_values, name), country,
                    region=region)
                for name in ['company_phone', 'contact_phone']})

    @classmethod
    def _channel_labels(cls, language):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        with Transaction().set_context(language=language):
            return dict(
                Dunning.fields_get(['channel'])['channel']['selection'])

    @classmethod
    def get_letter(cls, dispatch, shared=None):
        """Return the data printed on the letter of dispatch: the customer,
        each invoice reminded and the totals"""
        Party = Pool().get('party.party')
        party = dispatch.party
        language = cls.language(dispatch, shared)
        fmt = cls._formatter(language, dispatch.currency, shared)
        channels = cls._shared(shared, ('channels', language),
            lambda: cls._channel_labels(language))
        reminders = cls.reminders_of(dispatch, shared)
        invoice_data = cls.letter_invoices(reminders, shared)
        levels = cls._level_names(reminders, language, shared)
        customer_address, recipient = cls.get_recipient(
            dispatch, shared, reminders=reminders)
        professional = cls._batch(shared, 'customer_types', party.id,
            lambda: Party.customer_type_of(party)) == 'professional'
        invoices = [cls._invoice_values(d, fmt, invoice_data[d.invoice.id])
            for d in reminders]
        return SimpleNamespace(
            **cls._sender_values(dispatch, fmt, customer_address, shared),
            dispatch=dispatch,
            lang=language,
            customer_name=party.full_name or party.rec_name,
            customer_address=(
                ([recipient] if recipient else [])
                + _address_lines(customer_address)),
            recipient_email=cls.get_recipient_email(dispatch),
            customer_code=party.code or '',
            professional=professional,
            french_law=address_country(customer_address) in {None, 'FR'},
            date=fmt.long_date(dispatch.date),
            level=dispatch.level_name or levels[dispatch.level.id],
            channel=channels.get(dispatch.channel, ''),
            registered=dispatch.channel == 'registered_letter',
            tracking_number=dispatch.tracking_number or '',
            deadline=fmt.long_date(dispatch.deadline),
            invoices=invoices,
            single=len(invoices) == 1,
            invoice_count=len(invoices),
            invoice_numbers=', '.join(i.number for i in invoices if i.number),
            invoices_label=cls._invoices_label(invoices),
            payment_reference=cls._payment_reference(party, invoices),
            previous=cls._previous(
                reminders, fmt, channels, levels, invoice_data, shared),
            broken_promises=cls._broken_promises(reminders, fmt),
            plans=cls._plans([d.plan for d in reminders if d.plan], fmt),
            broken_plans=cls._plans(
                [d.broken_plan for d in reminders if d.broken_plan], fmt),
            **cls._penalty_values(dispatch, reminders, fmt, shared),
            **cls._totals(reminders, fmt),
            # For the templates that print one invoice (before the letters
            # listed them all): the first one
            **cls._first_invoice_values(invoices, reminders, fmt),
            )

    @classmethod
    def _formatter(cls, language, currency, shared):
        """How the letters in language write dates and amounts
        (letter_format.formatter), the names of the months and the amounts
        formatted shared by the letters of a batch"""
        return formatter(language, currency,
            lambda code, compute: cls._shared(shared, ('months', code),
                compute),
            amounts=cls._shared(shared,
                ('money', language, getattr(currency, 'id', None)), dict))

    @classmethod
    def _level_names(cls, reminders, language, shared):
        """{level id: name in language} of the levels of the reminders and
        of those before them, read once a batch"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        levels = cls._shared(shared, ('levels', language), dict)
        missing = {d.level.id for r in reminders
            for d in cls.previous_dunnings(r, shared) + [r]} - set(levels)
        if missing:
            levels.update(Level.names(missing, language))
        return levels

    @classmethod
    def customer_rules(cls, dispatch, reminders, lang, shared=None):
        """The penalty rules of the customer of the letter, at any level, in
        lang: of its procedure, segment and country (of its first invoice),
        for its customer type"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        Penalty = pool.get('account.invoice.dunning.penalty')
        party = dispatch.party
        segment = cls._batch(shared, 'segments',
            (party.id, dispatch.company.id),
            lambda: party.get_dunning_segment(dispatch.company))
        customer_type = cls._batch(shared, 'customer_types', party.id,
            lambda: Party.customer_type_of(party))
        if reminders:
            invoice_id = reminders[0].invoice.id
            country = cls._batch(shared, 'countries', invoice_id,
                lambda: Penalty.customer_countries(
                    Invoice.dunning_penalty_facts([invoice_id]))[invoice_id])
        else:
            country = Party.dunning_countries([party.id]).get(party.id)
        procedure = dispatch.level.procedure
        with Transaction().set_context(language=lang.code):
            rules = cls._shared(shared, ('rules', procedure.id,
                    segment.id if segment else None, country, lang.code),
                lambda: Penalty.browse(
                    Penalty.rules_of(procedure, segment, country)))
        return [r for r in rules if r.customer_type in {'all', customer_type}]

    @classmethod
    def _penalty_values(cls, dispatch, reminders, fmt, shared):
        """What the letter prints of the penalties: their lines and the
        legal basis of the customer's, as its first rule cites it"""
        rules = cls.customer_rules(dispatch, reminders, fmt.lang, shared)
        return {
            'penalties': cls.get_penalties(
                dispatch, rules, reminders, fmt.lang, fmt.money),
            'legal_basis': next(
                (r.legal_basis for r in rules if r.legal_basis), ''),
            }

    @classmethod
    def get_penalties(cls, dispatch, rules, reminders, lang, money):
        """The penalties of the reminders of the letter as printable lines:
        name, legal basis, annual rate (for interest) and their total, from
        the rules of the customer"""
        amounts = defaultdict(Decimal)
        for reminder in reminders:
            amounts['interest'] += reminder.interest_amount or 0
            amounts['indemnity'] += reminder.indemnity_amount or 0
            amounts['fee'] += reminder.fee_amount or 0
        lines, seen = [], set()
        for rule in rules:
            field = KIND_AMOUNTS[rule.kind]
            if (not amounts.get(field) or field in seen
                    or not rule.applies_to(
                        rule.customer_type, dispatch.level)):
                continue
            seen.add(field)
            lines.append(SimpleNamespace(
                    kind=rule.kind,
                    name=rule.name,
                    legal_basis=rule.legal_basis or '',
                    rate=cls._interest_rate(rule, dispatch.date, lang),
                    amount=money(amounts[field])))
        return lines

    @classmethod
    def _interest_rate(cls, rule, date, lang):
        "The annual rate of an interest rule printed on the letter"
        if rule.kind != 'interest':
            return ''
        try:
            return '%s %%' % lang.format('%.2f', rule.annual_rate(
                    half_year_start(date)) * 100)
        except UserError:
            return ''

    @classmethod
    def get_recipient(cls, dispatch, shared=None, reminders=None):
        """Return the address the letter goes to and the name of its
        department: the party's address flagged for dunning (e.g. the
        accounts payable department), else the invoice address of its
        first invoice"""
        pool = Pool()
        Address = pool.get('party.address')
        addresses = [a for a in dispatch.party.addresses
            if getattr(a, 'dunning', False) and a.active]
        if addresses:
            address = addresses[0]
            return address, address.party_name or ''
        if reminders is None:
            reminders = cls.reminders_of(dispatch, shared)
        if reminders:
            address_id = cls.letter_invoices(reminders, shared)[
                reminders[0].invoice.id].invoice_address
            if address_id is not None:
                return cls._batch(shared, 'addresses', address_id,
                    lambda: Address(address_id)), ''
            return None, ''
        return dispatch.party.address_get(type='invoice'), ''

    @classmethod
    def get_recipient_email(cls, dispatch):
        "The email the reminders go to: flagged for dunning, else invoice"
        mechanisms = [m for m in dispatch.party.contact_mechanisms
            if m.type == 'email' and m.active]
        for usage in ['dunning', 'invoice']:
            for mechanism in mechanisms:
                if getattr(mechanism, usage, False):
                    return mechanism.value
        return mechanisms[0].value if mechanisms else ''

    @classmethod
    def get_bank_accounts(cls, company):
        "The bank accounts of the company as printable lines"
        party = company.party
        accounts = getattr(party, 'bank_accounts', None) or []
        result = []
        for account in accounts:
            if getattr(account, 'active', True) is False:
                continue
            iban = next((n for n in account.numbers if n.type == 'iban'),
                None)
            number = iban or (account.numbers[0] if account.numbers else None)
            if not number:
                continue
            result.append(SimpleNamespace(
                    bank=account.bank.rec_name if account.bank else '',
                    bic=(account.bank.bic or '') if account.bank else '',
                    number=number.number,
                    iban=bool(iban)))
        return result
