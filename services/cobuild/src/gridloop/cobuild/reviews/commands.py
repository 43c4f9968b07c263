"""年度评议: one grade of one subject by one reviewer for one year, kept with a snapshot of the
indicators it rests on and announced (review.graded). Grading the same subject again in the same
year replaces the grade and its snapshot, and is announced again."""

from typing import Any

from gridloop.cobuild.reviews import domain, views
from gridloop.cobuild.reviews.domain import Minimum, Period
from gridloop.cobuild.reviews.views import NotYours, UnknownSubject
from gridloop.shared.api.reviews import GradeRequest, Review
from gridloop.shared.events import Actor, ReviewGraded, ReviewSubject, Role
from gridloop.shared.mongo import Database, UnitOfWork
from gridloop.shared.refdata import RefData

ALLOWED = {
    Role.COMMUNITY_WORKER: (ReviewSubject.MEMBER, ReviewSubject.UNIT),
    Role.UNIT_ADMIN: (ReviewSubject.COMMUNITY,),
}
REVIEWER_KIND = {Role.COMMUNITY_WORKER: ReviewSubject.COMMUNITY, Role.UNIT_ADMIN: ReviewSubject.UNIT}


async def _subject(
    database: Database, refdata: RefData, actor: Actor, body: GradeRequest, minimum: Minimum
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The subject as stored, the indicators the grade rests on and the community the grade belongs to."""
    period = Period(body.year)
    code = body.subject_code
    db = database.db
    match body.subject_kind:
        case ReviewSubject.MEMBER:
            member = await db[views.MEMBERS].find_one({"_id": code, "community_code": actor.org})
            if member is None:
                raise UnknownSubject(code)
            [figures] = await views.members_figures(database, [member], period=period, minimum=minimum)
            return member, figures.basis(), actor.org
        case ReviewSubject.UNIT:
            report = await db[views.REPORTS].find_one({"unit_code": code, "community_code": actor.org})
            if report is None:
                raise UnknownSubject(code)
            [unit] = await views.unit_figures(database, refdata, [report], period=period, minimum=minimum)
            return report, unit.model_dump(exclude={"community_grade", "grade_of_community"}), actor.org
    report = await db[views.REPORTS].find_one({"unit_code": actor.org, "community_code": code})
    if report is None:
        raise UnknownSubject(code)
    [community] = await views.community_figures(database, refdata, [code], period=period)
    return report, community.model_dump(exclude={"grades_from_units"}), code


async def grade(*, database: Database, refdata: RefData, actor: Actor, body: GradeRequest, minimum: Minimum) -> Review:
    if body.subject_kind not in ALLOWED.get(actor.role, ()):
        raise NotYours(body.subject_kind)
    now = database.clock.now()
    domain.check_year(body.year, now=now)  # before the subject is looked for
    subject, basis, community = await _subject(database, refdata, actor, body, minimum)
    domain.check_grade(kind=body.subject_kind, grade=body.grade, subject=subject, year=body.year, now=now)

    async def work(uow: UnitOfWork) -> Review:
        doc = domain.review_doc(
            year=body.year,
            kind=body.subject_kind,
            subject_code=body.subject_code,
            reviewer_kind=REVIEWER_KIND[actor.role],
            reviewer_code=actor.org,
            community_code=community,
            grade=body.grade,
            comment=body.comment,
            basis=basis,
            reviewer_sub=actor.sub,
            now=uow.now,
        )
        await uow.db[views.REVIEWS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=uow.session)
        await uow.emit(
            ReviewGraded(
                year=body.year,
                subject_kind=body.subject_kind,
                subject_code=body.subject_code,
                reviewer_kind=REVIEWER_KIND[actor.role],
                reviewer_code=actor.org,
                community_code=community,
                grade=body.grade,
            ),
            ticket_id=body.subject_code,
            actor=actor,
        )
        return Review.model_validate({**doc, "id": doc["_id"]})

    return await database.transaction(work)
