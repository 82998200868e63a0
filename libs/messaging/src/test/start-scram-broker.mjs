// Starts a private single-node broker with a SASL/SCRAM-SHA-512 listener for the SCRAM integration test when the
// shared test broker has none (KAFKA_SCRAM_BROKERS unset, e.g. a broker started by hand). Prints one JSON line
// {pid, scramBrokers} and exits; the test stops the broker (pid) when done. Credentials come from the environment.
//   SCRAM_RUN_DIR, SCRAM_USERNAME, SCRAM_PASSWORD
import { startKafka } from '../../../../deploy/local/kafka.mjs';
import { freePort } from '../../../../deploy/local/process-utils.mjs';

const { SCRAM_RUN_DIR: runDir, SCRAM_USERNAME: username, SCRAM_PASSWORD: password } = process.env;
const scramPort = await freePort();
const kafka = await startKafka({ port: await freePort(), controllerPort: await freePort(), runDir, heapMb: 256, scram: { port: scramPort, username, password } });
process.stdout.write(`${JSON.stringify({ pid: kafka.pid, scramBrokers: `127.0.0.1:${scramPort}` })}\n`);
