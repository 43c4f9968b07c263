#!/usr/bin/env bash
# Creates GridLoop's topics on a real Kafka cluster (the embedded stack does the same from Python).
# Needs BROKER_ADMIN_PASSWORD and the CA in /etc/kafka/tls/ca.pem.
set -euo pipefail
BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
PARTITIONS="${TICKETS_PARTITIONS:-6}"
REPLICAS="${REPLICATION_FACTOR:-1}"
kt=/opt/kafka/bin/kafka-topics.sh
client="$(dirname "$0")/client.sh"  # the admin user over SASL_SSL
create() { "$client" "$kt" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$1" \
             --partitions "$2" --replication-factor "$REPLICAS" "${@:3}"; }
# Tickets are kept for ever: supervision rebuilds its read models from the first event.
create gridloop.tickets.v1 "$PARTITIONS" --config retention.ms=-1
# The 共建 loop's needs, offers and projects, keyed by their ids, kept for ever likewise.
create gridloop.needs.v1 "$PARTITIONS" --config retention.ms=-1
# 双报到 and volunteering (reports, records, points, 评议, 准入), keyed by the member's id, kept for ever.
create gridloop.volunteering.v1 "$PARTITIONS" --config retention.ms=-1
create gridloop.directory.v1 1 --config cleanup.policy=compact
# Ended sessions (sign-outs): every service refuses their tokens; kept longer than any token lives.
create gridloop.sessions.v1 1 --config retention.ms=172800000
for group in intake dispatch handling feedback supervision supervision.cobuild supervision.volunteering cobuild \
             intake.directory dispatch.directory handling.directory feedback.directory supervision.directory \
             cobuild.directory; do
  create "gridloop.dlq.$group" 1
done
