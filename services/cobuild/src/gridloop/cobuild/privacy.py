"""A person's data on request, from the command line:

    python -m gridloop.cobuild.privacy export <member_id>   # prints everything kept, as JSON
    python -m gridloop.cobuild.privacy erase <member_id>    # erases the private part (member.erased)

It writes to the service's database; the running service's outbox relay publishes member.erased."""

import argparse
import asyncio
import json
import sys

from gridloop.cobuild.app import CobuildSettings
from gridloop.cobuild.members import privacy
from gridloop.cobuild.members.views import UnknownMember
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Database, connect

CLI_ACTOR = Actor(sub="privacy-cli", name="个人信息管理", role=Role.ADMIN)


async def run(command: str, member_id: str, settings: CobuildSettings) -> str:
    client = connect(settings.mongo_uri, timeout_ms=settings.mongo_timeout_ms)
    try:
        database = Database(client, settings.mongo_db, producer=settings.service_name, clock=settings.clock())
        if command == "export":
            result = await privacy.export(database=database, member_id=member_id)
        else:
            result = await privacy.erase(database=database, member_id=member_id, actor=CLI_ACTOR)
        return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2, default=str)
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridloop.cobuild.privacy", description=__doc__)
    parser.add_argument("command", choices=["export", "erase"])
    parser.add_argument("member_id")
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(run(args.command, args.member_id, CobuildSettings())))
    except UnknownMember:
        print(f"没有该报到人员 (no member {args.member_id})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
