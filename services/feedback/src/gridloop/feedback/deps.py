"""What feedback's routes are given, as types: the caller and the service's database."""

from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import ServiceDatabase

__all__ = ["CurrentUser", "ServiceDatabase"]
