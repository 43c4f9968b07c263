"""`gridloop-dlq`: list, inspect and replay dead letters.

A dead letter keeps the original key, value and headers, plus dlq_error, dlq_attempts, dlq_source
(topic:partition:offset), dlq_group and dlq_at. Replaying publishes the original message again to
its source topic; consumers that had handled it already find their processed-event mark and skip
it. Replayed letters are remembered by a consumer group's committed offset, so `list` shows only
what is still waiting."""

import argparse
import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from gridloop.shared.bus import kafka_security
from gridloop.shared.settings import ServiceSettings

PREFIX = "gridloop.dlq."
REPLAY_GROUP = "gridloop-dlq-replay"


@dataclass
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith("dlq_")]


async def pending(settings: ServiceSettings, topic_filter: str | None = None) -> list[DeadLetter]:
    """Dead letters not yet replayed, oldest first."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        **kafka_security(settings),
    )
    await consumer.start()
    try:
        topics = sorted(
            t for t in await consumer.topics() if t.startswith(PREFIX) and (topic_filter is None or t == topic_filter)
        )
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        letters: list[DeadLetter] = []
        for tp in tps:
            committed = await consumer.committed(tp)
            position = max(committed or 0, starts[tp])
            if position >= ends[tp]:
                continue
            consumer.seek(tp, position)
            while position < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                for record in batch.get(tp, []):
                    letters.append(
                        DeadLetter(
                            record.topic,
                            record.partition,
                            record.offset,
                            record.key,
                            record.value,
                            list(record.headers or ()),
                        )
                    )
                    position = record.offset + 1
        return letters
    finally:
        await consumer.stop()


async def replay(settings: ServiceSettings, letters: list[DeadLetter]) -> int:
    """Publish each letter again to its source topic, then remember it as replayed."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        **kafka_security(settings),
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        **kafka_security(settings),
    )
    await producer.start()
    await consumer.start()
    try:
        consumer.assign(sorted({TopicPartition(x.topic, x.partition) for x in letters}))
        for letter in letters:
            source_topic = letter.header("dlq_source").rsplit(":", 2)[0]
            await producer.send_and_wait(
                source_topic, value=letter.value, key=letter.key, headers=letter.original_headers
            )
            tp = TopicPartition(letter.topic, letter.partition)
            await consumer.commit({tp: OffsetAndMetadata(letter.offset + 1, "replayed")})
        return len(letters)
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="gridloop-dlq", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="dead letters waiting, with their errors")
    show = sub.add_parser("show", help="one dead letter in full")
    show.add_argument("topic")
    show.add_argument("offset", type=int)
    again = sub.add_parser("replay", help="publish dead letters again to their source topic")
    again.add_argument("topic", help="e.g. gridloop.dlq.dispatch")
    again.add_argument("--offset", type=int, help="only this one; default: every waiting letter of the topic")
    args = parser.parse_args()
    settings = ServiceSettings()
    if args.command == "list":
        letters = asyncio.run(pending(settings))
        for letter in letters:
            print(
                f"{letter.topic}@{letter.offset}  from {letter.header('dlq_source')}  "
                f"attempts {letter.header('dlq_attempts')}  at {letter.header('dlq_at')}\n"
                f"    {letter.header('dlq_error')[:200]}"
            )
        print(f"{len(letters)} dead letter(s) waiting")
    elif args.command == "show":
        letters = [x for x in asyncio.run(pending(settings, args.topic)) if x.offset == args.offset]
        if not letters:
            raise SystemExit(f"no waiting dead letter at {args.topic}@{args.offset}")
        letter = letters[0]
        for key, value in letter.headers:
            print(f"{key}: {value.decode(errors='replace')}")
        print(f"key: {letter.key!r}\nvalue: {(letter.value or b'').decode(errors='replace')}")
    else:
        letters = asyncio.run(pending(settings, args.topic))
        if args.offset is not None:
            letters = [x for x in letters if x.offset == args.offset]
        print(f"replayed {asyncio.run(replay(settings, letters))} dead letter(s)")


if __name__ == "__main__":
    main()
