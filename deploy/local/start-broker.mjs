// `node deploy/local/start-broker.mjs`: starts a freshly formatted single-node broker (SASL/SCRAM-SHA-512 with the
// ACL authorizer, as every local broker), for an integration test that needs one of its own (the coordinator
// readiness test, which needs a broker that has never served a consumer group). Prints one JSON line
// {pid, brokers, credentialsDir} and exits; the test reads the admin's password from
// <credentialsDir>/payrail-admin.password and stops the broker (pid) when done. From the environment:
//   BROKER_RUN_DIR                     where its storage, log and credentials go
import { startKafka } from './kafka.mjs';
import { freePort } from './process-utils.mjs';

const { BROKER_RUN_DIR: runDir } = process.env;
const port = await freePort();
const kafka = await startKafka({ port, controllerPort: await freePort(), runDir, heapMb: 256 });
process.stdout.write(`${JSON.stringify({ pid: kafka.pid, brokers: `127.0.0.1:${port}`, credentialsDir: kafka.credentials.dir })}\n`);
