"""Errors a learner caused and can fix: shown to them as they are, never logged as failures."""


class UserError(Exception):
    """Something the learner asked for that cannot be done; the message says why and what to do."""
