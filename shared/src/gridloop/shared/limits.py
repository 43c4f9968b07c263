"""Limits every side of GridLoop states the same way: the services refuse past them, the console
and the app say them before a person sends."""

TEXT_MIN = 2
"""Characters a description or a reason needs at least."""
PHOTOS_MAX = 9
"""Photos a report, a progress note or a check carries at most."""
