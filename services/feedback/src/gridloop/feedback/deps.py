"""What feedback's routes are given, as types: the caller, the service's database, and the seal photo ids carry."""

from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import PhotoIds, ServiceDatabase

__all__ = ["CurrentUser", "PhotoIds", "ServiceDatabase"]
