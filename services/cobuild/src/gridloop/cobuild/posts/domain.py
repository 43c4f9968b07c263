"""The rules of 公益岗位, pure: who may claim a post (a reported or active member of its
community, not twice, not beyond its headcount), releasing one (never one's last post while
every member must hold one), and closing it."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gridloop.cobuild.members.domain import MemberRefused
from gridloop.shared.api.members import PostCategory, PostStatus
from gridloop.shared.events import PostClaimed, PostClosed, PostPublished, PostReleased
from gridloop.shared.volunteering_lifecycle import MemberStatus

Doc = dict[str, Any]
MAY_CLAIM: frozenset[MemberStatus] = frozenset({MemberStatus.ACTIVE, MemberStatus.REPORTED})


def publish(
    *,
    post_id: str,
    grid_code: str,
    grid_community: str | None,
    community_code: str,
    street_code: str,
    district_code: str,
    category: PostCategory,
    title: str,
    duties: str,
    headcount: int,
    now: datetime,
) -> tuple[PostPublished, Doc]:
    if grid_community != community_code:
        raise MemberRefused(422, "grid_not_in_community", f"网格不属于本社区 (grid {grid_code})")
    event = PostPublished(
        post_id=post_id,
        grid_code=grid_code,
        community_code=community_code,
        street_code=street_code,
        district_code=district_code,
        category=category.value,
        headcount=headcount,
    )
    doc: Doc = {
        "_id": post_id,
        "grid_code": grid_code,
        "community_code": community_code,
        "street_code": street_code,
        "district_code": district_code,
        "category": category.value,
        "title": title,
        "duties": duties,
        "headcount": headcount,
        "holders": [],
        "status": PostStatus.OPEN.value,
        "published_at": now,
        "version": 1,
    }
    return event, doc


def _open(post: Mapping[str, Any]) -> None:
    if post["status"] != PostStatus.OPEN.value:
        raise MemberRefused(409, "post_closed", "岗位已关闭 (the post is closed)")


def claim(post: Mapping[str, Any], member: Mapping[str, Any]) -> tuple[PostClaimed, Doc]:
    _open(post)
    if member["community_code"] != post["community_code"]:
        raise MemberRefused(403, "forbidden", "只能认领本社区的岗位 (a post of your own community)")
    if MemberStatus(member["status"]) not in MAY_CLAIM:
        raise MemberRefused(409, "member_not_active", "报到确认后才能认领岗位 (confirmed members only)")
    holders: list[str] = list(post["holders"])
    if member["_id"] in holders:
        raise MemberRefused(409, "already_claimed", "您已认领该岗位 (you hold this post)")
    if len(holders) >= post["headcount"]:
        raise MemberRefused(409, "post_full", "岗位人数已满 (the post has all its holders)")
    event = PostClaimed(
        post_id=post["_id"], member_id=member["_id"], community_code=post["community_code"], grid_code=post["grid_code"]
    )
    return event, {"holders": [*holders, member["_id"]]}


def release(
    post: Mapping[str, Any], member: Mapping[str, Any], *, other_posts: int, require_post: bool
) -> tuple[PostReleased, Doc]:
    """Giving a post up; refused for an active member's last post while every member must hold one."""
    _open(post)
    holders: list[str] = list(post["holders"])
    if member["_id"] not in holders:
        raise MemberRefused(409, "not_holder", "您未认领该岗位 (you do not hold this post)")
    if require_post and member["status"] == MemberStatus.ACTIVE.value and other_posts == 0:
        raise MemberRefused(409, "last_post", "每名在岗人员至少认领一个岗位，不能释放最后一个岗位 (your last post)")
    event = PostReleased(
        post_id=post["_id"], member_id=member["_id"], community_code=post["community_code"], grid_code=post["grid_code"]
    )
    return event, {"holders": [h for h in holders if h != member["_id"]]}


def vacate(post: Mapping[str, Any], member_id: str) -> tuple[PostReleased, Doc]:
    """The member left the community (inactive, transferred): their place on the post is free."""
    event = PostReleased(
        post_id=post["_id"], member_id=member_id, community_code=post["community_code"], grid_code=post["grid_code"]
    )
    return event, {"holders": [h for h in post["holders"] if h != member_id]}


def close(post: Mapping[str, Any]) -> tuple[PostClosed, Doc]:
    _open(post)
    return PostClosed(post_id=post["_id"], community_code=post["community_code"]), {"status": PostStatus.CLOSED.value}


def open_places(post: Mapping[str, Any]) -> int:
    return max(0, int(post["headcount"]) - len(post["holders"]))
