"""Input limits every service and page applies alike (the console serves them to the app)."""

TEXT_MIN = 2
"""The fewest characters of a description or a reason (问题描述, 退单理由, 延期理由, ...)."""

PHOTOS_MAX = 9
"""The most photos one report, progress note or verification carries."""
