# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""The computation of the late-payment penalties (a mixin of the penalty
rule): the rules that apply to an invoice at a level, and what they owe,
for thousands of invoices in a few queries."""
from collections import namedtuple
from decimal import Decimal

from sql import Literal, Null
from sql.conditionals import Case, Coalesce

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.transaction import Transaction

from .common import (
    half_up_rounder, id_slices, in_ids, preload, round_half_up, to_date)
from .dispatch_delivery import PRESENTED
from .interest import overdue_principal, reduce_lines
from .penalty_country import rules_of_country

# The penalties of a reminder, in the invoice currency, rounded, and why
# they could not be computed (then they are zero)
Penalties = namedtuple('Penalties', ['interest', 'indemnity', 'fee', 'error'],
    defaults=[None])


class PenaltyComputationMixin:
    "Which rules apply to an invoice at a level, and what they owe"
    __slots__ = ()

    @classmethod
    def rules_of(cls, procedure, segment, country=None):
        """The active penalty rules of a procedure and segment for the
        customers of country (an ISO code, None when unknown): the
        segment's if it has rules of the country or without country, else
        the procedure's; the rules of the country if there are, else those
        without country"""
        owners = [('procedure', procedure.id)]
        if segment:
            owners.insert(0, ('segment', segment.id))
        for field, owner in owners:
            rules = rules_of_country(
                cls.search([(field, '=', owner)]), country)
            if rules:
                return rules
        return []

    @classmethod
    def reached_levels(cls, levels):
        """Return the levels that at least one penalty rule reaches: of the
        procedure of the rule or of its segment, not an installment of a
        payment plan, and from the level of the rule when it has one"""
        lowest = cls._lowest_reached_days()

        def reached(level):
            procedure = level.procedure.id
            return (procedure in lowest and not level.plan_installment
                and (lowest[procedure] is None
                    or level.days >= lowest[procedure]))
        return {level for level in levels if reached(level)}

    @classmethod
    def _reached_level_ids(cls, requests):
        """The ids of the levels of requests ({key: (invoice, level, ...)})
        that a penalty rule reaches (reached_levels): the thousands of
        requests of a run share a few levels, each looked at once by id"""
        levels = {r[1].id: r[1] for r in requests.values()}
        return {l.id for l in cls.reached_levels(levels.values())}

    @classmethod
    def _lowest_reached_days(cls):
        """Return {procedure id: the lowest days of the levels its rules
        start from, None when one has no level (all its levels)}, read in a
        query over the rules the user sees (any order): each batch of a run
        asks"""
        pool = Pool()
        Segment = pool.get('account.invoice.dunning.segment')
        Level = pool.get('account.invoice.dunning.level')
        rule, segment = cls.__table__(), Segment.__table__()
        level = Level.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*rule
            .join(segment, 'LEFT', condition=segment.id == rule.segment)
            .join(level, 'LEFT', condition=level.id == rule.level)
            .select(Coalesce(segment.procedure, rule.procedure), level.days,
                where=rule.id.in_(cls.search([], query=True))))
        lowest = {}
        for procedure, days in cursor:
            if procedure not in lowest:
                lowest[procedure] = days
            elif lowest[procedure] is not None:
                lowest[procedure] = (
                    None if days is None else min(days, lowest[procedure]))
        return lowest

    @classmethod
    def is_late(cls, lines, payments, date):
        """Test if a line to pay fell due before date without being paid by
        its due date"""
        due = Decimal(0)
        for due_date, amount in sorted(lines):
            if due_date >= date:
                break
            due += amount
            covered = sum(
                (a for d, a in payments if d <= due_date), Decimal(0))
            if covered < due:
                return True
        return False

    @classmethod
    def compute_penalties(cls, requests):
        """Return {key: Penalties} for requests {key: (invoice, level, date,
        overdue amount)}, rounded to the invoice currency, in a few queries;
        the invoice of a request is a record or its id (int() of either)

        Nothing is due when the invoice, its party or the segment of the
        party waives penalties, or when no penalty rule applies. The
        penalties that can not be computed (a missing rate, a bad rule) are
        zero with the error, for that invoice only."""
        pool = Pool()
        Currency = pool.get('currency.currency')
        Invoice = pool.get('account.invoice')
        if not requests:
            return {}
        # What the computation needs of the invoices, read at once
        facts = Invoice.dunning_penalty_facts(
            {int(r[0]) for r in requests.values()})
        currencies = {c.id: c for c in preload(Currency,
                {f.currency for f in facts.values()},
                ['code', 'digits', 'rounding'])}
        result, applicable = cls._applicable_rules(requests, facts)
        # Most reminders owe nothing: the same zeros for each of a currency
        nothing = {i: no_penalties(c) for i, c in currencies.items()}
        for key in result:
            result[key] = nothing[facts[int(requests[key][0])].currency]
        if applicable:
            result.update(cls._compute_applicable(
                    requests, applicable, facts, currencies))
        return result

    @classmethod
    def compute_reached_penalties(cls, requests, currencies):
        """Return {key: Penalties} for requests as compute_penalties: those
        of the requests whose level a penalty rule reaches (reached_levels)
        computed; the others, most of a day's reminders, owe nothing in
        their currency ({key: currency}): one query for the levels, none
        for the reminders owing nothing. The invoices may be given by their
        ids: no record is made for them."""
        if not requests:
            return {}
        reached = cls._reached_level_ids(requests)
        result = cls.compute_penalties({k: r for k, r in requests.items()
                if r[1].id in reached})
        # By currency id: the records of thousands of requests not hashed
        nothing = {}
        for key in requests.keys() - result.keys():
            currency = currencies[key]
            if currency.id not in nothing:
                nothing[currency.id] = no_penalties(currency)
            result[key] = nothing[currency.id]
        return result

    @classmethod
    def computation_fields(cls):
        """The fields of a rule that the computation reads for each invoice:
        a module whose rules read more of them adds theirs"""
        return {'kind', 'customer_type', 'level', 'start', 'divisor', 'rate',
            'rate_table', 'margin', 'rate_rounding', 'floor_table',
            'floor_multiplier', 'amount', 'currency', 'percentage',
            'brackets', 'scale_minimum', 'scale_maximum'}

    @classmethod
    def read_for_computation(cls, rules):
        """The rules, in the same order, with the values of
        computation_fields kept: read once for thousands of invoices"""
        preloaded = {r.id: r for r in preload(
                cls, [r.id for r in rules], cls.computation_fields())}
        return [preloaded[r.id] for r in rules]

    @classmethod
    def _applicable_rules(cls, requests, facts):
        """Return the keys of the requests that owe nothing (as a dict) and
        {key: rules} of the others: the same tuple of rules for the
        invoices of a procedure, segment, level and country"""
        pool = Pool()
        Party = pool.get('party.party')
        # Levels that no rule reaches cost nothing: most first reminders
        reachable = cls._reached_level_ids(requests)
        nothing = {k: None for k, r in requests.items()
            if r[1].id not in reachable}
        # The invoice of each request, its id read once
        requests = {k: (int(r[0]), r[1]) for k, r in requests.items()
            if k not in nothing}
        segments = Party.dunning_segments_of({
                (facts[i].party, facts[i].company)
                for i, _ in requests.values()})
        countries = cls.customer_countries(
            {i: facts[i] for i, _ in requests.values()})
        rules_cache, applicable = {}, {}
        for key, (invoice_id, level) in requests.items():
            invoice_facts = facts[invoice_id]
            segment = segments[invoice_facts.party, invoice_facts.company]
            country = countries[invoice_id]
            cache_key = (level.procedure.id, segment.id if segment else None,
                level.id, country)
            if cache_key not in rules_cache:
                rules_cache[cache_key] = tuple(cls.read_for_computation([r
                            for r in cls.rules_of(
                                level.procedure, segment, country)
                            if r.applies_to(r.customer_type, level)]))
            rules = rules_cache[cache_key]
            if not rules or cls.waived(invoice_facts, segment):
                nothing[key] = None
            else:
                applicable[key] = rules
        return nothing, applicable

    @classmethod
    def waived(cls, facts, segment):
        """Test if the penalties of an invoice of facts are waived: by the
        invoice, its party or the segment of its party"""
        return bool(facts.waived or facts.party_waived
            or (segment and segment.dunning_penalty_waived))

    @classmethod
    def _compute_applicable(cls, requests, applicable, facts, currencies):
        "Return {key: Penalties} of the requests with applicable rules"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        RateTable = pool.get('account.invoice.dunning.rate')
        Dispute = pool.get('account.invoice.dunning.dispute')
        # The invoice of each request, its id read once
        request_invoices = {k: int(requests[k][0]) for k in applicable}
        invoice_ids = list(set(request_invoices.values()))
        customer_types = Party.customer_types(
            sorted({facts[i].party for i in invoice_ids}))
        lines, payments = Invoice.dunning_payment_history(invoice_ids)
        # No interest on what is disputed
        for invoice_id, amount in Dispute.excluded_amounts(
                {facts[i].company for i in invoice_ids}).items():
            if invoice_id in lines:
                lines[invoice_id] = reduce_lines(lines[invoice_id], amount)
        notices = cls._formal_notice_dates(invoice_ids)
        rate_values = {t.id: sorted((v.date, v.rate) for v in t.values)
            for t in RateTable.search([])}
        applies = {}
        result = {}
        with Transaction().set_context(_rate_values=rate_values,
                _annual_rates={}, _fixed_amounts={}):
            for key, rules in applicable.items():
                invoice_id = request_invoices[key]
                _, level, date, overdue = requests[key]
                invoice_facts = facts[invoice_id]
                currency = currencies[invoice_facts.currency]
                customer_type = customer_types[invoice_facts.party]
                # rules: one tuple for the invoices of the same rules,
                # known by its identity (applicable keeps it alive)
                rules_key = (id(rules), customer_type, level.id)
                if rules_key not in applies:
                    applies[rules_key] = [r for r in rules
                        if r.applies_to(customer_type, level)]
                try:
                    result[key] = cls._penalties_of(
                        applies[rules_key], invoice_facts, currency, date,
                        overdue, lines.get(invoice_id, []),
                        payments.get(invoice_id, []),
                        notices.get(invoice_id))
                except UserError as exception:
                    # A missing rate or a bad rule stops this invoice's
                    # penalties only: the reminder says why
                    result[key] = no_penalties(currency)._replace(
                        error=exception.message)
        return result

    @classmethod
    def _penalties_of(cls, rules, facts, currency, date, overdue, lines,
            payments, notice_date):
        "The rounded Penalties of rules for an invoice at date"
        interest = indemnity = fee = Decimal(0)
        if cls.is_late(lines, payments, date):
            for rule in rules:
                kind = rule.kind
                if kind == 'interest':
                    interest += rule.interest(
                        lines, payments, date, notice_date)
                elif kind == 'fixed':
                    indemnity += rule.fixed_amount(
                        currency, facts.invoice_date)
                elif kind == 'scale':
                    indemnity += rule.scale_amount(
                        overdue_principal(lines, payments, date), currency,
                        facts.invoice_date)
                elif kind == 'percentage':
                    fee += overdue * (rule.percentage or 0)
        round_ = half_up_rounder(currency)
        return Penalties(round_(interest), round_(indemnity), round_(fee))

    @classmethod
    def _formal_notice_dates(cls, invoice_ids):
        """Return {invoice: date of its first processed formal notice}: its
        delivery for a registered letter presented to the customer"""
        pool = Pool()
        Dunning = pool.get('account.invoice.dunning')
        Level = pool.get('account.invoice.dunning.level')
        Dispatch = pool.get('account.invoice.dunning.dispatch')
        dunning = Dunning.__table__()
        level = Level.__table__()
        dispatch = Dispatch.__table__()
        cursor = Transaction().connection.cursor()
        # A registered letter presented to the customer (received, refused
        # or not claimed) dates the notice; else the date it was sent
        date = Case((dispatch.delivery_status.in_(list(PRESENTED))
                & (dispatch.delivery_date != Null), dispatch.delivery_date),
            else_=dunning.date)
        result = {}
        for sub_ids in id_slices(invoice_ids):
            cursor.execute(*dunning
                .join(level, condition=level.id == dunning.level)
                .join(dispatch, 'LEFT',
                    condition=dispatch.id == dunning.dispatch)
                .select(dunning.invoice, date,
                    where=in_ids(dunning.invoice, sub_ids)
                    & (dunning.state == 'done')
                    & (level.formal_notice == Literal(True)),
                    order_by=[dunning.date.desc]))
            for invoice_id, date in cursor:
                result[invoice_id] = to_date(date)
        return result


def no_penalties(currency):
    "Nothing owed, in the precision of currency"
    return Penalties(*(round_half_up(0, currency),) * 3)
