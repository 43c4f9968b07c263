"""The embedded MongoDB-protocol server: SecantusDB's own command, with two settings its command
line does not offer, `--transaction-lifetime-seconds` and `--client-idle-timeout-seconds`.

A transaction that nobody finishes (its process was killed between two statements) keeps what it
wrote locked until the server ends it at this limit. Every other writer of the same documents meets
a WriteConflict meanwhile: the instance that takes over a killed consumer's partitions retries the
killed one's ticket until then, and its snapshot keeps the server's history from being trimmed.
SecantusDB ends a transaction after 60 s without a statement (MongoDB's
`transactionLifetimeLimitSeconds` is 60 s too); GridLoop's transactions last milliseconds, so the
embedded stack ends an abandoned one sooner (docs/reliability.md, 13).

The server closes a connection that has sent nothing for 300 s (SecantusDB's default, kept here);
the services' clients retire a pooled connection idle for less than that (gridloop.shared.mongo),
as they must where a network cuts idle connections. Tests shorten it to see that they do."""

import argparse
import functools
import sys

TRANSACTION_LIFETIME_SECONDS = 15.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--transaction-lifetime-seconds", type=float, default=TRANSACTION_LIFETIME_SECONDS)
    parser.add_argument("--client-idle-timeout-seconds", type=float, default=None)
    ours, theirs = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    from secantus import cli, server

    settings: dict[str, float] = {"transaction_lifetime_seconds": ours.transaction_lifetime_seconds}
    if ours.client_idle_timeout_seconds is not None:
        settings["client_idle_timeout_s"] = ours.client_idle_timeout_seconds
    cli.SecantusDBServer = functools.partial(server.SecantusDBServer, **settings)
    code: int = cli.main(theirs)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
