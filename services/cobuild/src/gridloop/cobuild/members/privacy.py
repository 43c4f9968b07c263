"""A person's data on request: everything kept about a member (export), and erasure of the private
part and free text, keeping the ids so ledger sums and records still hold (member.erased)."""

from typing import Any

from gridloop.cobuild.members import domain, store
from gridloop.cobuild.members.views import UnknownMember
from gridloop.cobuild.posts import store as posts_store
from gridloop.shared.api.members import MemberExport
from gridloop.shared.events import Actor
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned


def _plain(doc: Doc) -> dict[str, Any]:
    return {k: v for k, v in doc.items()}


async def export(*, database: Database, member_id: str) -> MemberExport:
    db = database.db
    member = await store.get(db, member_id)
    if member is None:
        raise UnknownMember(member_id)
    private = await store.private(db, member_id)
    return MemberExport(
        member=_plain(member),
        private=_plain(private) if private else None,
        posts=await posts_store.all_of(db, member_id),
        records=await store.record_ids(db, member_id),
        ledger=[_plain(m) for m in await store.ledger_of(db, member_id)],
    )


async def erase(*, database: Database, member_id: str, actor: Actor) -> MemberExport:
    """Erase: the private part removed, skills and availability blanked, erased=True; announced."""

    async def work(uow: UnitOfWork) -> None:
        member = await store.get(uow.db, member_id, session=uow.session)
        if member is None:
            raise UnknownMember(member_id)
        event, changes = domain.erase(member)
        await uow.db[store.MEMBER_PRIVATE].delete_one({"_id": member_id}, session=uow.session)
        await update_versioned(uow, store.MEMBERS, member, changes)
        await uow.emit(event, ticket_id=member_id, actor=actor)

    await database.transaction(work)
    return await export(database=database, member_id=member_id)
