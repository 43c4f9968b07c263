import pytest

from gridloop.feedback import domain
from gridloop.shared.events import Rating, TicketClosed, TicketReopened
from gridloop.shared.lifecycle import TicketStatus, TransitionNotAllowed

pytestmark = pytest.mark.unit
TICKET = {"reporter": "gw-1", "department": "CG", "reworks": 1, "rating": None}


def test_a_pass_closes_and_a_fail_reopens_to_the_same_department_counting_a_rework() -> None:
    closed = domain.verify(
        ticket=TICKET, status=TicketStatus.RESOLVED, verifier="gw-1", passed=True, comment="", photos=[]
    )
    reopened = domain.verify(
        ticket=TICKET, status=TicketStatus.RESOLVED, verifier="gw-1", passed=False, comment="井盖仍松动", photos=[]
    )
    assert isinstance(closed, TicketClosed) and not closed.auto
    assert isinstance(reopened, TicketReopened)
    assert (reopened.department, reopened.rework_count) == ("CG", 2)


def test_only_the_reporter_verifies_and_only_a_resolved_ticket() -> None:
    with pytest.raises(domain.NotYourTicket):
        domain.verify(ticket=TICKET, status=TicketStatus.RESOLVED, verifier="gw-2", passed=True, comment="", photos=[])
    with pytest.raises(TransitionNotAllowed):
        domain.verify(ticket=TICKET, status=TicketStatus.ACCEPTED, verifier="gw-1", passed=True, comment="", photos=[])


def test_a_closed_ticket_is_rated_once() -> None:
    assert (
        domain.rate(ticket=TICKET, status=TicketStatus.CLOSED, rater="gw-1", rating=Rating.SATISFIED, comment="").rating
        == Rating.SATISFIED
    )
    with pytest.raises(domain.AlreadyRated):
        domain.rate(
            ticket={**TICKET, "rating": {"rating": "satisfied"}},
            status=TicketStatus.CLOSED,
            rater="gw-1",
            rating=Rating.UNSATISFIED,
            comment="",
        )
    with pytest.raises(TransitionNotAllowed):
        domain.rate(ticket=TICKET, status=TicketStatus.RESOLVED, rater="gw-1", rating=Rating.SATISFIED, comment="")
