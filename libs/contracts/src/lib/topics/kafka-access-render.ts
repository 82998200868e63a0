// Where the Kafka access table (kafka-access.ts) is rendered outside the code: a generated section of
// docs/operations.md and the Strimzi KafkaUser resources for an operator's Kafka. Written by
// `node -r @swc-node/register libs/contracts/src/lib/topics/write-kafka-access.ts`; kafka-access.spec.ts fails when
// a committed copy differs from what the table renders.
import { Document } from 'yaml';
import { KAFKA_ADMIN_USERNAME, kafkaAccessTable, KafkaPrincipal, renderKafkaAccessMarkdown } from './kafka-access';

export const OPERATIONS_DOCUMENT_PATH = 'docs/operations.md';
export const STRIMZI_USERS_PATH = 'deploy/k8s/strimzi/kafka-users.yaml';
export const KAFKA_ACCESS_BEGIN = '<!-- kafka-access:begin (generated from libs/contracts kafka-access.ts; do not edit) -->';
export const KAFKA_ACCESS_END = '<!-- kafka-access:end -->';

/** docs/operations.md with its generated section replaced by the table as it is now. */
export function withKafkaAccessSection(document: string, table: readonly KafkaPrincipal[] = kafkaAccessTable()): string {
  const begin = document.indexOf(KAFKA_ACCESS_BEGIN);
  const end = document.indexOf(KAFKA_ACCESS_END);
  if (begin < 0 || end < begin) throw new Error(`${OPERATIONS_DOCUMENT_PATH} has no ${KAFKA_ACCESS_BEGIN} ... ${KAFKA_ACCESS_END} section`);
  return `${document.slice(0, begin + KAFKA_ACCESS_BEGIN.length)}\n${renderKafkaAccessMarkdown(table)}\n${document.slice(end)}`;
}

/**
 * One Strimzi KafkaUser per principal (SCRAM-SHA-512, simple authorization with exactly the table's ACLs), for a
 * cluster the Strimzi User Operator manages; it creates a Secret named after the user holding its password. First
 * the admin: a SCRAM user without ACLs (the Kafka resource lists it in `superUsers`), for the topics Job.
 */
export function renderStrimziKafkaUsers(table: readonly KafkaPrincipal[] = kafkaAccessTable(), cluster = 'payrail-kafka'): string {
  const header = [
    '# Generated from libs/contracts/src/lib/topics/kafka-access.ts (write-kafka-access.ts); do not edit.',
    '# Strimzi KafkaUsers for an operator-run Kafka: apply in the namespace the Strimzi User Operator watches, with',
    `# the cluster label set to your Kafka resource's name (here ${cluster}). Each user's password lands in a Secret of`,
    '# the same name (docs/operations.md, "Kafka principals and ACLs"). payrail-admin has no ACLs: list it in your Kafka',
    "# resource's spec.kafka.authorization.superUsers.",
  ].join('\n');
  const admin = new Document({
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name: KAFKA_ADMIN_USERNAME, labels: { 'strimzi.io/cluster': cluster, 'app.kubernetes.io/part-of': 'payrail' } },
    spec: { authentication: { type: 'scram-sha-512' } },
  }).toString({ lineWidth: 0 });
  const documents = table.map((p) =>
    new Document({
      apiVersion: 'kafka.strimzi.io/v1beta2',
      kind: 'KafkaUser',
      metadata: { name: p.username, labels: { 'strimzi.io/cluster': cluster, 'app.kubernetes.io/part-of': 'payrail' } },
      spec: {
        authentication: { type: 'scram-sha-512' },
        authorization: {
          type: 'simple',
          acls: [
            ...p.topics.map((t) => ({ resource: { type: 'topic', name: t.topic, patternType: 'literal' }, operations: [...t.operations].map(pascal), host: '*' })),
            ...p.groups.map((g) => ({ resource: { type: 'group', name: g.group, patternType: g.patternType.toLowerCase() }, operations: [...g.operations].map(pascal), host: '*' })),
          ],
        },
      },
    }).toString({ lineWidth: 0 }),
  );
  return `${header}\n---\n${[admin, ...documents].join('---\n')}`;
}

const pascal = (op: string): string => op.charAt(0) + op.slice(1).toLowerCase();
