// Regenerates the Kafka access table's section of docs/operations.md and deploy/k8s/strimzi/kafka-users.yaml from
// libs/contracts. Run from the workspace root:
//   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register libs/contracts/src/lib/topics/write-kafka-access.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OPERATIONS_DOCUMENT_PATH, STRIMZI_USERS_PATH, renderStrimziKafkaUsers, withKafkaAccessSection } from './kafka-access-render';

const root = resolve(__dirname, '..', '..', '..', '..', '..');
const operations = join(root, OPERATIONS_DOCUMENT_PATH);
writeFileSync(operations, withKafkaAccessSection(readFileSync(operations, 'utf8')));
const users = join(root, STRIMZI_USERS_PATH);
mkdirSync(dirname(users), { recursive: true });
writeFileSync(users, renderStrimziKafkaUsers());
process.stdout.write(`wrote ${OPERATIONS_DOCUMENT_PATH} (Kafka access section) and ${STRIMZI_USERS_PATH}\n`);
