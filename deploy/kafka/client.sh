#!/usr/bin/env bash
# Runs a Kafka command-line tool as the admin user over SASL_SSL: writes the client settings it
# needs (BROKER_ADMIN_PASSWORD, the CA) and passes them with --command-config.
set -euo pipefail
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat >"$config" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${BROKER_ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/tls/ca.pem
PROPERTIES
"$@" --command-config "$config"
