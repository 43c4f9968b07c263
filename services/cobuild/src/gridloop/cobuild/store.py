"""cobuild's collections and their indexes. The beneficiary's identity and the household's own
words live in `need_private` only: never in a list, an event or a log."""

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.cobuild.activities import store as activities_store
from gridloop.cobuild.admission import store as admission_store
from gridloop.cobuild.members import store as members_store
from gridloop.cobuild.needs import store as needs_store
from gridloop.cobuild.offers import store as offers_store
from gridloop.cobuild.points import store as points_store
from gridloop.cobuild.posts import store as posts_store
from gridloop.cobuild.projects import store as projects_store
from gridloop.cobuild.reviews import store as reviews_store
from gridloop.shared.mongo import Doc


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await needs_store.ensure_indexes(db)
    await offers_store.ensure_indexes(db)
    await projects_store.ensure_indexes(db)
    await members_store.ensure_indexes(db)
    await posts_store.ensure_indexes(db)
    await activities_store.ensure_indexes(db)
    await reviews_store.ensure_indexes(db)
    await admission_store.ensure_indexes(db)
    await points_store.ensure_indexes(db)
