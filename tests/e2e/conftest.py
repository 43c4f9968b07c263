"""The `stack` and `urls` fixtures come from gridloop.stack.testing (a plugin of the root
conftest.py), so these tests and tests/test_gateway.py share one stack per session."""
