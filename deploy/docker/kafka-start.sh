#!/bin/sh
# Payrail's single-node Kafka (KRaft, one combined broker and controller) in the apache/kafka image, for
# docker-compose.yml and the dev overlay (deploy/k8s/overlays/dev/infra.yaml carries this script in a ConfigMap;
# deploy/k8s.spec.ts keeps the two copies identical). The same security as every Payrail broker (deploy/local/kafka.mjs,
# docs/operations.md "Kafka principals and ACLs"): the client listener takes SASL/SCRAM-SHA-512 only, over TLS
# (SASL_SSL) or plain TCP (SASL_PLAINTEXT) as PAYRAIL_KAFKA_PROTOCOL says, and carries the broker's own connections
# as payrail-broker; the controller listener (loopback only) takes SASL/PLAIN as payrail-controller; KRaft's
# StandardAuthorizer denies what no ACL allows; super users: payrail-broker, payrail-controller, payrail-admin.
# The SCRAM users are created when the storage is formatted (first start), with the passwords of the files
# $PAYRAIL_KAFKA_PASSWORDS_DIR/kafka-<user> (compose secrets, or a projected Secret volume); no password is ever
# in the environment or on a command line after the format. A password changed later needs fresh storage
# (`docker compose down -v`), or `kafka-configs.sh --alter --entity-type users` run as payrail-admin.
#
#   PAYRAIL_KAFKA_PORT            client listener port (advertised as PAYRAIL_KAFKA_ADVERTISED_HOST:port)
#   PAYRAIL_KAFKA_PROTOCOL        SASL_PLAINTEXT or SASL_SSL
#   PAYRAIL_KAFKA_SASL_MECHANISM  SCRAM-SHA-512 (the only one)
#   PAYRAIL_KAFKA_USERS           the SCRAM users to create, comma-separated (payrail-broker is always created)
#   PAYRAIL_KAFKA_PASSWORDS_DIR   one file per user: kafka-<user>, plus kafka-payrail-broker, kafka-payrail-controller
#   PAYRAIL_KAFKA_TLS_DIR         SASL_SSL only: tls.crt (certificate chain) and tls.key (PKCS#8 key)
#   PAYRAIL_KAFKA_DATA_DIR        the log directory (a volume)
set -eu

home=${KAFKA_HOME:-/opt/kafka}
port=${PAYRAIL_KAFKA_PORT:?PAYRAIL_KAFKA_PORT is required}
protocol=${PAYRAIL_KAFKA_PROTOCOL:?PAYRAIL_KAFKA_PROTOCOL is required}
host=${PAYRAIL_KAFKA_ADVERTISED_HOST:?PAYRAIL_KAFKA_ADVERTISED_HOST is required}
users=${PAYRAIL_KAFKA_USERS:?PAYRAIL_KAFKA_USERS is required}
passwords=${PAYRAIL_KAFKA_PASSWORDS_DIR:?PAYRAIL_KAFKA_PASSWORDS_DIR is required}
data=${PAYRAIL_KAFKA_DATA_DIR:?PAYRAIL_KAFKA_DATA_DIR is required}
[ "${PAYRAIL_KAFKA_SASL_MECHANISM:-}" = SCRAM-SHA-512 ] || { echo "kafka-start: PAYRAIL_KAFKA_SASL_MECHANISM must be SCRAM-SHA-512" >&2; exit 78; }
case $protocol in SASL_PLAINTEXT | SASL_SSL) ;; *) echo "kafka-start: PAYRAIL_KAFKA_PROTOCOL must be SASL_PLAINTEXT or SASL_SSL, not $protocol" >&2; exit 78 ;; esac

password() {
  f="$passwords/kafka-$1"
  [ -s "$f" ] || { echo "kafka-start: no password for $1 ($f is missing or empty)" >&2; exit 78; }
  cat "$f"
}

umask 077
conf=${TMPDIR:-/tmp}/payrail-kafka
mkdir -p "$conf"
broker=$(password payrail-broker)
controller=$(password payrail-controller)
cat >"$conf/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=CLIENT://:$port,CONTROLLER://localhost:9093
advertised.listeners=CLIENT://$host:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CLIENT:$protocol,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="payrail-broker" password="$broker";
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="payrail-controller" password="$controller" user_payrail-controller="$controller";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:payrail-broker;User:payrail-controller;User:payrail-admin
log.dirs=$data
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF
# the broker's own client settings (the healthcheck connects as payrail-broker)
cat >"$conf/client.properties" <<EOF
security.protocol=$protocol
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="payrail-broker" password="$broker";
EOF
if [ "$protocol" = SASL_SSL ]; then
  tls=${PAYRAIL_KAFKA_TLS_DIR:?PAYRAIL_KAFKA_TLS_DIR is required with SASL_SSL}
  # a PEM keystore (KIP-651): the key, then the certificate chain; the chain's last certificate is the CA
  cat "$tls/tls.key" "$tls/tls.crt" >"$conf/broker.pem"
  cat >>"$conf/server.properties" <<EOF
listener.name.client.ssl.keystore.type=PEM
listener.name.client.ssl.keystore.location=$conf/broker.pem
listener.name.client.ssl.truststore.type=PEM
listener.name.client.ssl.truststore.location=$tls/tls.crt
EOF
  # the healthcheck connects to localhost, a name the certificate need not carry
  printf 'ssl.truststore.type=PEM\nssl.truststore.location=%s\nssl.endpoint.identification.algorithm=\n' "$tls/tls.crt" >>"$conf/client.properties"
fi

if [ ! -f "$data/meta.properties" ]; then
  set -- --add-scram "SCRAM-SHA-512=[name=payrail-broker,password=$broker]"
  for user in $(echo "$users" | tr ',' ' '); do
    set -- "$@" --add-scram "SCRAM-SHA-512=[name=$user,password=$(password "$user")]"
  done
  # `--cluster-id=<id>`, one argument: an id starting with '-' is never read as an option
  "$home/bin/kafka-storage.sh" format --cluster-id="$("$home/bin/kafka-storage.sh" random-uuid)" -c "$conf/server.properties" "$@" >/dev/null
  set --
  echo "kafka-start: storage formatted with SCRAM users payrail-broker,$users"
fi
exec "$home/bin/kafka-server-start.sh" "$conf/server.properties"
