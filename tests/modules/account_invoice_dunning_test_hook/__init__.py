# This file is part of account_invoice_dunning.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and
# license terms.
"""A module that extends the reminders as an integrator would, activated by
tests/test_hook.py only: its models are registered in tryton.cfg"""
