pytest_plugins = ["gridloop.stack.testing"]
