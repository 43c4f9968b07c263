"""Feedback (反馈, 核查结案): the reporter verifies the fix on site and rates the result."""
