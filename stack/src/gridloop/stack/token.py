"""`make token ROLE=… ORG=… SUB=…`: print a development token (development mode only)."""

import argparse
import sys

from pydantic import ValidationError

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a GridLoop development bearer token")
    parser.add_argument(
        "--role", required=True, choices=[r.value for r in Role if r not in (Role.SYSTEM, Role.CLIENT_APP)]
    )
    parser.add_argument("--org", default="")
    parser.add_argument("--sub", required=True)
    parser.add_argument("--name", default="")
    args = parser.parse_args()
    try:
        settings = ServiceSettings()
    except ValidationError:
        settings = None
    if settings is None or settings.environment != "development":
        sys.exit("development tokens are only minted in development mode (GRIDLOOP_ENVIRONMENT=development)")
    print(TokenVerifier(settings).mint(sub=args.sub, name=args.name or args.sub, role=Role(args.role), org=args.org))


if __name__ == "__main__":
    main()
