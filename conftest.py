import os

# Tests run as development (the embedded stack's tokens, clock and secrets); a service left unset
# runs as in production. Set GRIDLOOP_ENVIRONMENT yourself to try another.
os.environ.setdefault("GRIDLOOP_ENVIRONMENT", "development")

pytest_plugins = ["gridloop.stack.testing"]
