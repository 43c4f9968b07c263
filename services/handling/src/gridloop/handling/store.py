"""Handling's collections: the tickets it knows of, and one work order per department and round."""

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.handling.domain import UnknownWorkOrder
from gridloop.shared.access import Fields, in_scope
from gridloop.shared.events import Actor
from gridloop.shared.lifecycle import overdue_filters, owed_deadline_expression
from gridloop.shared.mongo import Doc
from gridloop.shared.queries import all_of, scope_branches, sort_key

TICKETS = "tickets"
WORK_ORDERS = "work_orders"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[WORK_ORDERS].create_index([("department", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])
    await db[WORK_ORDERS].create_index([("ticket_id", ASCENDING), ("round", DESCENDING)])
    for area in ("district_code", "street_code"):  # a supervisor's inbox, by district or street
        await db[WORK_ORDERS].create_index([(area, ASCENDING), ("status", ASCENDING)])


async def get_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def known_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession) -> Doc:
    """The ticket, which handling heard reported; UnknownWorkOrder for one it never did."""
    ticket = await get_ticket(db, ticket_id, session=session)
    if ticket is None:
        raise UnknownWorkOrder(ticket_id)
    return ticket


async def tickets_by_id(db: AsyncDatabase[Doc], ticket_ids: list[str]) -> dict[str, Doc]:
    return {doc["_id"]: doc async for doc in db[TICKETS].find({"_id": {"$in": ticket_ids}})}


async def latest_order(
    db: AsyncDatabase[Doc], ticket_id: str, department: str, session: AsyncClientSession | None = None
) -> Doc | None:
    """The department's work order of the latest round it was given, which need not be the
    ticket's current round (domain.refusal judges that)."""
    return await db[WORK_ORDERS].find_one(
        {"ticket_id": ticket_id, "department": department}, sort=[("round", DESCENDING)], session=session
    )


async def lead_order(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession) -> Doc | None:
    return await db[WORK_ORDERS].find_one(
        {"ticket_id": ticket_id, "role": "lead"}, sort=[("round", DESCENDING)], session=session
    )


async def orders_of_round(
    db: AsyncDatabase[Doc], ticket_id: str, round_: int, session: AsyncClientSession
) -> list[Doc]:
    return await db[WORK_ORDERS].find({"ticket_id": ticket_id, "round": round_}, session=session).to_list(None)


INBOX_SCOPE = Fields(departments="department")
"""Work orders keep their department, street and district: agents see their department's,
supervisors their district's or street's."""


async def inbox(
    db: AsyncDatabase[Doc], *, queries: list[Doc], after: tuple[datetime | None, str] | None, limit: int
) -> list[Doc]:
    """Work orders matching any of `queries`, by the deadline the department owes next (earliest
    first, so the overdue lead; orders that owe nothing last), ties by ticket; each with `_due`,
    its owed deadline, for the page cursor. `after`: only orders past that (deadline, order id).
    One pipeline per query (each an index serves), the pages merged."""
    found: dict[str, Doc] = {}
    for query in queries:
        pipeline: list[Doc] = [
            {"$match": query},
            {"$addFields": {"_due": owed_deadline_expression()}},
            {"$addFields": {"_owes": {"$cond": [{"$eq": ["$_due", None]}, 1, 0]}}},
        ]
        if after is not None:
            pipeline.append({"$match": _after(*after)})
        pipeline += [{"$sort": {"_owes": 1, "_due": 1, "_id": 1}}, {"$limit": limit}]
        async for doc in await db[WORK_ORDERS].aggregate(pipeline):
            found.setdefault(doc["_id"], doc)
    return sorted(found.values(), key=sort_key([("_owes", 1), ("_due", 1), ("_id", 1)]))[:limit]


def _after(due: datetime | None, order_id: str) -> Doc:
    """The orders that sort after an order owing `due` (None: owing nothing)."""
    if due is None:
        return {"_owes": 1, "_id": {"$gt": order_id}}
    return {
        "$or": [
            {"_owes": 1},
            {"_owes": 0, "_due": {"$gt": due}},
            {"_owes": 0, "_due": due, "_id": {"$gt": order_id}},
        ]
    }


def inbox_queries(*, scope: Doc, statuses: list[str] | None, overdue: bool | None, now: datetime) -> list[Doc]:
    """The inbox filters in the reader's scope, states, and overdue (超期) or not by the one rule,
    as plain filters whose union is the inbox: one per branch of the scope and owed deadline."""
    wanted: Doc = {"status": {"$in": statuses}} if statuses else {}
    parts: list[Doc]
    if overdue is True:
        parts = []
        for late in overdue_filters(now):
            states = [s for s in late["status"]["$in"] if not statuses or s in statuses]
            if states:
                parts.append({**late, "status": {"$in": states}})
    elif overdue is False:
        parts = [all_of(wanted, {"$nor": overdue_filters(now)})]
    else:
        parts = [wanted]
    return [all_of(branch, part) for branch in scope_branches(scope) for part in parts]


async def orders_of_ticket(db: AsyncDatabase[Doc], ticket_id: str, *, reader: Actor) -> list[Doc]:
    """The ticket's work orders the reader may see: found by the ticket (its index), then judged
    by the scope rule one by one (a ticket has a few)."""
    orders = await db[WORK_ORDERS].find({"ticket_id": ticket_id}).to_list(None)
    return [order for order in orders if in_scope(reader, order, INBOX_SCOPE)]
