# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""What the litigation models share: the litigation states of an invoice,
the kinds of agents and courts, and their errors."""
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError

# The litigation state of a customer invoice: the ladder of reminders
# ("amicable") runs only in the first one
LITIGATION_STATES = [
    ('amicable', "Amicable"),
    ('handed_over', "Handed Over"),
    ('in_court', "In Court"),
    ('collective', "In Collective Proceedings"),
    ('recovered', "Recovered"),
    ('written_off', "Written Off"),
    ]
# The states in which the claim is still pursued outside the ladder
PURSUED_STATES = {'handed_over', 'in_court', 'collective'}

AGENT_KINDS = [
    (None, ""),
    ('agency', "Collection Agency"),
    ('bailiff', "Bailiff"),
    ('lawyer', "Lawyer"),
    ]

# The court of an injonction de payer: the commercial court for a claim
# between traders, the judicial court otherwise
COURT_KINDS = [
    ('commercial', "Commercial Court"),
    ('judicial', "Judicial Court"),
    ]


class LitigationError(UserError):
    pass


class LitigationWarning(UserWarning):
    pass


class LitigationValidationError(ValidationError):
    pass
