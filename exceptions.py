# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError


class DunningError(UserError):
    pass


class DunningWarning(UserWarning):
    pass


class DunningValidationError(ValidationError):
    pass


class LevelValidationError(ValidationError):
    pass


class PenaltyError(UserError):
    pass


class PenaltyValidationError(ValidationError):
    pass


class RateError(UserError):
    pass


class RateValidationError(ValidationError):
    pass


class DispatchValidationError(ValidationError):
    pass


class TrackingImportError(UserError):
    pass


class CallValidationError(ValidationError):
    pass


class PromiseValidationError(ValidationError):
    pass


class DisputeValidationError(ValidationError):
    pass


class PlanValidationError(ValidationError):
    pass


class PlanError(UserError):
    pass


class AgingDaysValidationError(ValidationError):
    pass
