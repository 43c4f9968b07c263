"""评议 (cobuild's reviews area), as the console calls it: the year's indicators, a grade, the
quarterly feedback card and the yearly sheets. The answers and bodies are cobuild's own
(gridloop.shared.api.reviews)."""

from gridloop.shared.api.reviews import FeedbackCard, GradeRequest, Indicators, Review, ReviewList
from gridloop.web.clients.base import Download, ServiceClient

BASE = "/v1/cobuild"


class ReviewsClient(ServiceClient):
    service = "cobuild"

    async def indicators(self, year: int) -> Indicators:
        return await self._get(Indicators, f"{BASE}/reviews/indicators", year=year)

    async def grade(self, body: GradeRequest) -> Review:
        return await self._call(Review, "POST", f"{BASE}/reviews", body)

    async def reviews(self, year: int) -> ReviewList:
        return await self._get(ReviewList, f"{BASE}/reviews", year=year)

    async def feedback_card(self, unit: str, year: int, quarter: int) -> FeedbackCard:
        return await self._get(FeedbackCard, f"{BASE}/units/{unit}/feedback-cards", year=year, quarter=quarter)

    async def feedback_file(self, unit: str, year: int, quarter: int, file_format: str) -> Download:
        return await self._download(
            f"{BASE}/units/{unit}/feedback-cards", year=year, quarter=quarter, format=file_format
        )

    async def sheet(self, which: str, year: int, file_format: str) -> Download:
        """年度评议表 (units, members or communities) in the reader's own scope."""
        return await self._download(f"{BASE}/sheets/{which}", year=year, format=file_format)
