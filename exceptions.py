# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class DunningError(UserError):
    pass


class LevelValidationError(ValidationError):
    pass


class PenaltyError(UserError):
    pass


class RateError(UserError):
    pass


class RateValidationError(ValidationError):
    pass
