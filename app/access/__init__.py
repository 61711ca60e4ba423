"""Who is asking and which merchant accounts they may see: the access policy and identity modes.

The UI and the HTTP API import this package; it imports only app.core.
"""

from app.access.caller import AccessDenied, Caller
from app.access.modes import identity_from_claims, is_loopback, local_caller, startup_problem
from app.access.policy import AccessPolicy, KeyGrant, PolicyError, load_policy

__all__ = [
    "AccessDenied",
    "AccessPolicy",
    "Caller",
    "KeyGrant",
    "PolicyError",
    "identity_from_claims",
    "is_loopback",
    "load_policy",
    "local_caller",
    "startup_problem",
]
