# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"Reminder letters: rendering, archived copies and the history of an invoice."
import zipfile
from collections import defaultdict
from io import BytesIO
from types import SimpleNamespace

import relatorio.reporting
from genshi.filters import Translator

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.modules.company import CompanyReport
from trytond.pool import Pool
from trytond.report import Report
from trytond.report.report import MIMETYPES, TranslateFactory
from trytond.tools import slugify
from trytond.transaction import Transaction, check_access

from .exceptions import DunningError
from .interest import half_year_start

# Languages that write the names of months in lower case
LOWERCASE_MONTHS = {'ca', 'es', 'fr', 'it', 'nl', 'pl', 'pt', 'ro', 'sl'}


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


class Letter(CompanyReport):
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
    def render_letters(cls, dunnings):
        """Return {dunning id: (format, content)}: one document a reminder

        The reminders of a batch are read together, each template is parsed
        once for the batch, and what the letters of a company share is
        computed once."""
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Dunning = pool.get('account.invoice.dunning')
        groups = defaultdict(list)
        for dunning in dunnings:
            report = dunning.level.get_report()
            language = dunning.party.lang.code if dunning.party.lang else None
            groups[report.id, language].append(dunning.id)
        result = {}
        # What the letters share (company, labels), computed once a batch
        shared = {}
        for (report_id, language), ids in groups.items():
            action = ActionReport(report_id)
            with Transaction().set_context(language=language):
                cls.check_access(action, Dunning.__name__, ids)
                template, translate = cls._letter_template(action)
                for record in Dunning.browse(ids):
                    result[record.id] = cls._render_letter(
                        action, template, translate, record, shared)
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
            content = template.generate(**context).render()
        if hasattr(content, 'getvalue'):
            content = content.getvalue()
        return cls.convert(action, content)

    @classmethod
    def _letter_template(cls, action):
        """A template of action parsed for the batch, and its translator
        (as Report._callback_loader sets it, remembering its answers)"""
        pool = Pool()
        Translation = pool.get('ir.translation')
        loader = relatorio.reporting.MIMETemplateLoader()
        klass = loader.factories[loader.get_type(
                MIMETYPES[action.template_extension])]
        template = klass(BytesIO(action.report_content))
        translate = None
        if action.translatable:
            translate = _BatchTranslate(cls.__name__, Translation)
            translator = Translator(translate)
            template.filters.append(translator)
            if hasattr(template, 'add_directives'):
                template.add_directives(Translator.NAMESPACE, translator)
        return template, translate

    @staticmethod
    def _shared(shared, key, compute):
        "compute(), once for key in shared when rendering a batch"
        if shared is None:
            return compute()
        if key not in shared:
            shared[key] = compute()
        return shared[key]

    @classmethod
    def _company_values(cls, company):
        "What the letters of company print of it"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        config = Configuration(1)
        company_party = company.party
        company_address = company_party.address_get(type='invoice')
        phone = company_party.contact_mechanism_get({'phone', 'mobile'})
        email = company_party.contact_mechanism_get('email')
        website = company_party.contact_mechanism_get('website')
        tax_identifier = getattr(company_party, 'tax_identifier', None)

        def config_value(name):
            return config.get_multivalue(name, company=company.id) or ''
        return SimpleNamespace(
            company_name=company_party.full_name or company_party.rec_name,
            company_address=_address_lines(company_address),
            company_phone=phone.value if phone else '',
            company_email=email.value if email else '',
            company_website=website.value if website else '',
            company_tax_identifier=(
                tax_identifier.code if tax_identifier else ''),
            company_header=(company.header_used or ''
                if hasattr(company, 'header_used') else ''),
            place=(company_address.city if company_address
                and company_address.city else ''),
            bank_accounts=cls.get_bank_accounts(company),
            contact_name=config_value('dunning_contact_name'),
            contact_email=(config_value('dunning_contact_email')
                or (email.value if email else '')),
            contact_phone=(config_value('dunning_contact_phone')
                or (phone.value if phone else '')),
            signatory=config_value('dunning_signatory'),
            signatory_title=config_value('dunning_signatory_title'),
            )

    @classmethod
    def _channel_labels(cls, language):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        with Transaction().set_context(language=language):
            return dict(
                Dunning.fields_get(['channel'])['channel']['selection'])

    @classmethod
    def get_letter(cls, dunning, shared=None):
        "Return the data printed on the letter of dunning"
        invoice = dunning.invoice
        party = dunning.party
        language = party.lang.code if party.lang else None
        fmt = cls._formatter(language, dunning.currency, shared)
        channels = cls._shared(shared, ('channels', language),
            lambda: cls._channel_labels(language))
        levels = cls._level_names(dunning, language, shared)
        company_values = cls._shared(shared, ('company', dunning.company.id),
            lambda: cls._company_values(dunning.company))
        customer_address, recipient = cls.get_recipient(dunning)
        return SimpleNamespace(
            **vars(company_values),
            dunning=dunning,
            lang=language,
            customer_name=party.full_name or party.rec_name,
            customer_address=(
                ([recipient] if recipient else [])
                + _address_lines(customer_address)),
            recipient_email=cls.get_recipient_email(dunning),
            customer_code=party.code or '',
            date=fmt.long_date(dunning.date),
            level=dunning.level_name or levels[dunning.level.id],
            channel=channels.get(dunning.channel, ''),
            registered=dunning.channel == 'registered_letter',
            tracking_number=dunning.tracking_number or '',
            **cls._invoice_values(invoice, fmt),
            due_date=fmt.date(dunning.due_date),
            days_overdue=dunning.days_overdue or 0,
            remaining_amount=fmt.money(dunning.remaining_amount),
            amount=fmt.money(dunning.amount),
            deadline=fmt.long_date(dunning.deadline),
            previous=cls._previous(dunning, fmt, channels, levels),
            penalties=cls.get_penalties(dunning, fmt.lang, fmt.money, shared),
            interest_amount=fmt.money(dunning.interest_amount),
            indemnity_amount=fmt.money(dunning.indemnity_amount),
            fee_amount=fmt.money(dunning.fee_amount),
            total_amount_claimed=fmt.money(dunning.total_amount),
            has_penalties=bool(dunning.interest_amount
                or dunning.indemnity_amount or dunning.fee_amount),
            )

    @classmethod
    def _formatter(cls, language, currency, shared):
        """How the letters in language write dates and amounts: date (short),
        long_date ("19 novembre 2026") and money"""
        pool = Pool()
        Lang = pool.get('ir.lang')
        Month = pool.get('ir.calendar.month')
        lang = Lang.get(language)
        months = cls._shared(shared, ('months', lang.code),
            lambda: Month.locale(lang))

        def date(value):
            return lang.strftime(value) if value else ''

        def long_date(value):
            if not value:
                return ''
            month = months[value.month]
            if lang.code.split('_')[0] in LOWERCASE_MONTHS:
                month = month.lower()
            return '%d %s %d' % (value.day, month, value.year)

        def money(value):
            return (lang.currency(value, currency, grouping=True)
                if value is not None else '')
        return SimpleNamespace(
            lang=lang, date=date, long_date=long_date, money=money)

    @classmethod
    def _level_names(cls, dunning, language, shared):
        """{level id: name in language} of the levels of dunning and of the
        reminders before it, read once a batch"""
        pool = Pool()
        Level = pool.get('account.invoice.dunning.level')
        levels = cls._shared(shared, ('levels', language), dict)
        missing = {l.id for l in [d.level for d in dunning.previous_dunnings]
            + [dunning.level]} - set(levels)
        if missing:
            levels.update(Level.names(missing, language))
        return levels

    @classmethod
    def _previous(cls, dunning, fmt, channels, levels):
        "The reminders sent before dunning, as the letter recalls them"
        return [SimpleNamespace(
                date=fmt.date(d.date),
                # As printed on that letter, even if renamed since
                level=d.level_name or levels[d.level.id],
                channel=channels.get(d.channel, ''),
                tracking_number=d.tracking_number or '',
                amount=fmt.money(d.amount),
                deadline=fmt.date(d.deadline))
            for d in dunning.previous_dunnings]

    @classmethod
    def _invoice_values(cls, invoice, fmt):
        "What the letter prints of the invoice"
        lines = [l for l in invoice.lines if l.type == 'line']
        description = invoice.description or ', '.join(
            filter(None, (l.description or (l.product.rec_name
                        if getattr(l, 'product', None) else '')
                    for l in lines[:3])))
        return {
            'invoice_number': invoice.number or '',
            'invoice_reference': invoice.reference or '',
            'invoice_date': fmt.date(invoice.invoice_date),
            'invoice_description': description,
            'total_amount': fmt.money(invoice.total_amount),
            'payment_reference': invoice.number or '',
            }

    @classmethod
    def get_penalties(cls, dunning, lang, money, shared=None):
        """The penalties of the reminder as printable lines: name, legal
        basis, annual rate (for interest) and amount"""
        pool = Pool()
        Party = pool.get('party.party')
        Penalty = pool.get('account.invoice.dunning.penalty')
        party = dunning.party
        segment = party.get_dunning_segment(dunning.company)
        customer_type = Party.customer_type_of(party)
        amounts = {
            'interest': dunning.interest_amount,
            'fixed': dunning.indemnity_amount,
            'percentage': dunning.fee_amount,
            }
        lines, seen = [], set()
        with Transaction().set_context(language=lang.code):
            rules = cls._shared(shared, ('rules', dunning.procedure.id,
                    segment.id if segment else None, lang.code),
                lambda: Penalty.browse(
                    Penalty.rules_of(dunning.procedure, segment)))
            for rule in rules:
                amount = amounts.get(rule.kind)
                if (not amount or rule.kind in seen
                        or not rule.applies_to(customer_type, dunning.level)):
                    continue
                seen.add(rule.kind)
                rate = ''
                if rule.kind == 'interest':
                    try:
                        rate = '%s %%' % lang.format('%.2f', rule.annual_rate(
                                half_year_start(dunning.date)) * 100)
                    except UserError:
                        rate = ''
                lines.append(SimpleNamespace(
                        kind=rule.kind,
                        name=rule.name,
                        legal_basis=rule.legal_basis or '',
                        rate=rate,
                        amount=money(amount)))
        return lines

    @classmethod
    def get_recipient(cls, dunning):
        """Return the address the letter goes to and the name of its
        department: the party's address flagged for dunning (e.g. the
        accounts payable department), else the invoice address"""
        addresses = [a for a in dunning.party.addresses
            if getattr(a, 'dunning', False) and a.active]
        if addresses:
            address = addresses[0]
            return address, address.party_name or ''
        return dunning.invoice.invoice_address, ''

    @classmethod
    def get_recipient_email(cls, dunning):
        "The email the reminders go to: flagged for dunning, else invoice"
        mechanisms = [m for m in dunning.party.contact_mechanisms
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


def _check_report_access(report, model, ids, data):
    """Check that the user may print the records ids of model with report,
    as Report.execute does: the groups of the report, the read access to
    model and its record rules (e.g. the companies of the user)"""
    pool = Pool()
    ActionReport = pool.get('ir.action.report')
    action = None
    if data.get('action_id') is not None:
        action = ActionReport(data['action_id'])
        if action.report_name != report.__name__:
            action = None
    if action is None:
        action, = ActionReport.search([
                ('report_name', '=', report.__name__),
                ], limit=1)
    report.check_access(action, model, ids)


def _letters_result(dunnings, name):
    "Return the archived letters of dunnings as a report result"
    if len(dunnings) == 1:
        dunning, = dunnings
        return (dunning.letter_format, dunning.letter, False,
            '%s-%s' % (name, dunning.letter_filename.rsplit('.', 1)[0]))
    content = BytesIO()
    with zipfile.ZipFile(content, 'w') as content_zip:
        for i, dunning in enumerate(dunnings, 1):
            content_zip.writestr(
                '%03d-%s' % (i, slugify(dunning.letter_filename)
                    .replace('-%s' % dunning.letter_format,
                        '.%s' % dunning.letter_format)),
                dunning.letter)
    return ('zip', content.getvalue(), False, name)


class ArchivedLetter(Report):
    """The letter of reminders: the archived copy once processed, a preview
    rendered with the level's template while in draft"""
    __name__ = 'account.invoice.dunning.letter.archived'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        ids = list(map(int, ids))
        _check_report_access(cls, Dunning.__name__, ids, data)
        dunnings = Dunning.browse(ids)
        name = gettext('account_invoice_dunning.msg_letter_name')
        drafts = [d for d in dunnings if d.state == 'draft']
        if len(dunnings) == 1 and drafts:
            dunning, = drafts
            report = dunning.level.get_report()
            language = dunning.party.lang.code if dunning.party.lang else None
            with Transaction().set_context(language=language):
                return Letter.execute([dunning.id], {
                        'model': Dunning.__name__,
                        'id': dunning.id,
                        'ids': [dunning.id],
                        'action_id': report.id,
                        })
        archived = [d for d in dunnings if d.letter]
        if not archived:
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_letter_none'))
        return _letters_result(archived, name)


class InvoiceLetter(Report):
    "The archived letter of the latest processed reminder of invoices"
    __name__ = 'account.invoice.dunning.invoice_letter'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Dunning = pool.get('account.invoice.dunning')
        ModelAccess = pool.get('ir.model.access')
        name = gettext('account_invoice_dunning.msg_letter_name')
        ids = list(map(int, ids))
        _check_report_access(cls, Invoice.__name__, ids, data)
        letters = []
        for invoice in Invoice.browse(ids):
            archived = [d for d in invoice.dunnings
                if d.state == 'done' and d.letter]
            if archived:
                letters.append(archived[-1])
        if Transaction().user:
            # What is printed is a reminder: the user must be allowed to
            # read it too
            with check_access():
                ModelAccess.check(Dunning.__name__, 'read')
                Dunning.read([l.id for l in letters], ['id'])
        if not letters:
            raise DunningError(gettext(
                    'account_invoice_dunning.msg_invoice_letter_none'))
        return _letters_result(letters, name)


class InvoiceDunningHistory(CompanyReport):
    "The reminders of invoices, as proof of the steps taken"
    __name__ = 'account.invoice.dunning.history'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Date = pool.get('ir.date')
        Letter = pool.get('account.invoice.dunning.letter', type='report')
        context = super().get_context(records, header, data)
        context['today'] = Date.today()
        context['channels'] = Letter._channel_labels(
            Transaction().language)
        return context
