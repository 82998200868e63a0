// `node deploy/local/start-broker.mjs`: starts a freshly formatted single-node broker, for an integration test that
// needs one of its own (the SCRAM test when the shared test broker has no SCRAM listener; the coordinator readiness
// test, which needs a broker that has never served a consumer group). Prints one JSON line {pid, brokers, scramBrokers?} and exits; the test
// stops the broker (pid) when done. From the environment:
//   BROKER_RUN_DIR                     where its storage and log go
//   SCRAM_USERNAME, SCRAM_PASSWORD     optional: also a SASL/SCRAM-SHA-512 listener with this user
import { startKafka } from './kafka.mjs';
import { freePort } from './process-utils.mjs';

const { BROKER_RUN_DIR: runDir, SCRAM_USERNAME: username, SCRAM_PASSWORD: password } = process.env;
const port = await freePort();
const scramPort = username && password ? await freePort() : undefined;
const scram = scramPort ? { port: scramPort, username, password } : undefined;
const kafka = await startKafka({ port, controllerPort: await freePort(), runDir, heapMb: 256, scram });
process.stdout.write(`${JSON.stringify({ pid: kafka.pid, brokers: `127.0.0.1:${port}`, ...(scramPort ? { scramBrokers: `127.0.0.1:${scramPort}` } : {}) })}\n`);
