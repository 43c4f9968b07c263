"""Listings written as plain filters: merged conditions, and pages merged in the server's order."""

from datetime import UTC, datetime

from gridloop.shared.queries import all_of, scope_branches, sort_key


def test_conditions_on_different_fields_become_one_filter_and_a_shared_field_keeps_both() -> None:
    assert all_of({"department": "CG"}, {"status": {"$in": ["dispatched"]}}, {}) == {
        "department": "CG",
        "status": {"$in": ["dispatched"]},
    }
    both = all_of({"status": {"$in": ["accepted"]}}, {"status": {"$ne": "closed"}})
    assert both == {"$and": [{"status": {"$in": ["accepted"]}}, {"status": {"$ne": "closed"}}]}


def test_a_scope_by_district_or_street_is_queried_branch_by_branch() -> None:
    assert scope_branches({"$or": [{"district_code": "QH"}, {"street_code": "QH"}]}) == [
        {"district_code": "QH"},
        {"street_code": "QH"},
    ]
    assert scope_branches({"department": "CG"}) == [{"department": "CG"}]


def test_merged_pages_keep_the_servers_order_with_missing_values_first_when_ascending() -> None:
    early, late = datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 1, tzinfo=UTC)
    docs = [
        {"_id": "b", "v": {"since": late}},
        {"_id": "a", "v": {"since": late}},
        {"_id": "c", "v": {"since": early}},
        {"_id": "d", "v": None},
    ]
    ascending = sorted(docs, key=sort_key([("v.since", 1), ("_id", 1)]))
    assert [d["_id"] for d in ascending] == ["d", "c", "a", "b"]
    descending = sorted(docs, key=sort_key([("v.since", -1), ("_id", 1)]))
    assert [d["_id"] for d in descending] == ["a", "b", "c", "d"]
