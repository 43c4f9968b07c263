"""Create the topics GridLoop needs (real Kafka creates them from deploy/, the embedded stack here)."""

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from gridloop.shared.events import DIRECTORY_TOPIC, NEEDS_TOPIC, TICKETS_TOPIC, VOLUNTEERING_TOPIC, dead_letter_topic
from gridloop.shared.revocations import SESSIONS_RETENTION_MS, SESSIONS_TOPIC

CONSUMER_GROUPS = [
    "dispatch",
    "handling",
    "feedback",
    "supervision",
    "supervision.cobuild",  # supervision's reading of the needs topic (the 共建 indicators)
    "supervision.volunteering",  # supervision's reading of the volunteering topic (the 双报到 indicators)
    "intake",
    "cobuild",
    "intake.directory",
    "dispatch.directory",
    "handling.directory",
    "feedback.directory",
    "supervision.directory",
    "cobuild.directory",
]


def topic_specs(partitions: int) -> list[NewTopic]:
    topics = [
        # kept for ever: supervision rebuilds its read models from the first event
        NewTopic(TICKETS_TOPIC, num_partitions=partitions, replication_factor=1, topic_configs={"retention.ms": "-1"}),
        # the 共建 loop's needs, offers and projects, kept for ever likewise
        NewTopic(NEEDS_TOPIC, num_partitions=partitions, replication_factor=1, topic_configs={"retention.ms": "-1"}),
        # 双报到 and volunteering: reports, records, the points ledger, 评议 and 准入, kept for ever likewise
        NewTopic(
            VOLUNTEERING_TOPIC, num_partitions=partitions, replication_factor=1, topic_configs={"retention.ms": "-1"}
        ),
        NewTopic(DIRECTORY_TOPIC, num_partitions=1, replication_factor=1, topic_configs={"cleanup.policy": "compact"}),
        # ended sessions, kept longer than any token lives (shared/revocations.py)
        NewTopic(
            SESSIONS_TOPIC,
            num_partitions=1,
            replication_factor=1,
            topic_configs={"retention.ms": str(SESSIONS_RETENTION_MS)},
        ),
    ]
    topics += [NewTopic(dead_letter_topic(g), num_partitions=1, replication_factor=1) for g in CONSUMER_GROUPS]
    return topics


async def create_topics(bootstrap: str, partitions: int = 6) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    for attempt in range(50):
        try:
            await admin.start()
            break
        except Exception:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topic_specs(partitions) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return sorted(set(await admin.list_topics()))
    finally:
        await admin.close()
