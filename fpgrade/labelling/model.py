"""The vocabulary of the labelling workflow: roles, pass kinds, states, outcomes, errors.

Stored as short strings (see :mod:`fpgrade.storage.tables`); the ``str`` enums compare equal to
the stored values.
"""

from __future__ import annotations

from enum import Enum

from fpgrade.errors import FpgradeError


class Role(str, Enum):
    LABELLER = "labeller"
    ADJUDICATOR = "adjudicator"
    CLINICIAN = "clinician"
    ADMIN = "admin"


class Action(str, Enum):
    """What a role may do; :data:`PERMISSIONS` is the one table that says who may."""

    LABEL = "label"
    ADJUDICATE = "adjudicate"
    VIEW = "view"          # progress, agreement, final labels, export
    ADMIN = "admin"        # users, campaigns, second check, import


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.LABELLER: frozenset({Action.LABEL}),
    Role.ADJUDICATOR: frozenset({Action.LABEL, Action.ADJUDICATE, Action.VIEW}),
    Role.CLINICIAN: frozenset({Action.VIEW}),
    Role.ADMIN: frozenset(Action),
}


class PassKind(str, Enum):
    BLIND = "blind"
    ADJUDICATION = "adjudication"
    IMPORTED = "imported"
    LABEL_STUDIO = "label-studio"


class AssignmentState(str, Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"


class CannotGrade(str, Enum):
    """Why a rater could not grade a medium."""

    BAD_PHOTO = "bad_photo"
    WRONG_MOVEMENT = "wrong_movement"
    NO_FACE = "no_face"
    OTHER = "other"


class Outcome(str, Enum):
    """The second check's verdict on a medium."""

    AGREE = "agree"
    DISAGREE = "disagree"
    UNDECIDED = "undecided"


class Method(str, Enum):
    """How a final label was decided."""

    AGREED_CHECKED = "agreed_checked"
    ADJUDICATED = "adjudicated"
    IMPORTED = "imported"


class Status(str, Enum):
    """Where a medium of a campaign stands (:func:`fpgrade.labelling.workflow.medium_status`)."""

    BLIND = "blind"                      # blind passes not all done
    AWAITING_CHECK = "awaiting_check"    # blind passes agree; second check not run yet
    ADJUDICATION = "adjudication"        # first or second check failed; an adjudicator decides
    FINAL = "final"                      # a final label exists
    EXCLUDED = "excluded"                # the adjudicator found it cannot be graded


class LabellingError(FpgradeError):
    """Base of the labelling workflow's refusals."""


class AuthenticationError(LabellingError):
    """Unknown user, wrong password or disabled account (the message does not say which)."""


class PermissionDeniedError(LabellingError):
    """The user's role does not allow the action, or the account is disabled."""


class UserExistsError(LabellingError):
    """A user name that is already taken."""


class UnknownUserError(LabellingError):
    """No user of that name."""


class CampaignError(LabellingError):
    """A campaign that cannot be created or used as asked (name taken, closed, no media...)."""


class AssignmentError(LabellingError):
    """An assignment that is not this user's to submit or skip (unknown, someone else's, wrong
    kind)."""


class AssignmentLostError(AssignmentError):
    """The assignment was taken over (its claim expired) or already submitted by someone else."""


class AlreadyDecidedError(LabellingError):
    """An adjudication that another adjudicator decided first (the message says who)."""


class SuggestionNotAllowedError(LabellingError):
    """A model suggestion reported as shown where the campaign hides suggestions."""
