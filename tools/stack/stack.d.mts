// Types of stack.mjs for the TypeScript tools (benchmarks) that drive the local stack.
import type { DevSetup } from '../../apps/payrail-cli/src/dev-setup';

export const repoRoot: string;
export const SERVICES: readonly string[];

export interface StackInfra {
  kafkaBrokers: string;
  kafkaPid?: number;
  /** This run's SCRAM users and their passwords (deploy/local/kafka.mjs newKafkaCredentials). */
  kafkaCredentials: { dir: string; users: Record<string, { username: string; password: string; passwordFile: string }> };
  redisUrl: string;
  /** This run's key prefix (payrail-run-<name>-<hex>:); on a shared Redis its keys are removed when the run stops. */
  redisKeyPrefix: string;
  /** The machine's running redis-server (other clients' work shares it), not one this run started. */
  redisShared: boolean;
  mode: 'local' | 'containers';
}

export type StackKeys = DevSetup;

export interface ServiceEntry {
  name: string;
  instance: string;
  child: { pid: number };
  logFile: string;
  port: number;
  /** Where its GET /metrics is: its HTTP port, or ingest's operations listener (OPS_PORT). */
  metricsPort: number;
  exited: boolean;
}

export class Stack {
  constructor(options: { name: string; privateRedis?: boolean });
  readonly name: string;
  readonly runDir: string;
  infra: StackInfra;
  keys: StackKeys;
  ports: Record<string, number>;
  readonly services: Map<string, ServiceEntry>;
  installSignalHandlers(): void;
  startInfra(): Promise<StackInfra>;
  /** A redis-server of this run's own, or the running one under a key prefix of this run's, removed on stop(). */
  startRedis(): Promise<{ url: string; prefix: string; shared: boolean }>;
  build(): void;
  run(command: string, args: string[], options?: { env?: Record<string, string>; quiet?: boolean }): string;
  devSetup(): StackKeys;
  ensureTopics(): void;
  infraEnv(): Record<string, string>;
  /** KAFKA_BROKERS and KAFKA_SASL_* (password by file) for one SCRAM user, e.g. payrail-settlement. */
  kafkaEnv(user: string): Record<string, string>;
  /** brokers and SASL settings for a kafkajs client of the run's own tools; the admin unless `user` is given. */
  kafkaClientConfig(user?: string): { brokers: string[]; sasl: { mechanism: 'scram-sha-512'; username: string; password: string } };
  testEnv(): Record<string, string>;
  allocatePorts(options?: { preferWellKnown?: boolean }): Promise<Record<string, number>>;
  /** The event sealing keys a service reads (its own private JWKS, its producers' public ones). */
  sealEnv(name: string): Record<string, string>;
  serviceEnv(name: string): Record<string, string>;
  startService(name: string, options?: { instance?: string; extraEnv?: Record<string, string> }): Promise<ServiceEntry>;
  waitReady(entry: ServiceEntry, timeoutMs?: number): Promise<void>;
  /** The four services and, with withConsole, the operator console. */
  startServices(options?: { withConsole?: boolean; extraEnv?: Record<string, string> }): Promise<void>;
  addInstance(name: string, instance: string): Promise<ServiceEntry>;
  restartInstance(entry: ServiceEntry): Promise<ServiceEntry>;
  up(options?: { preferWellKnown?: boolean; withConsole?: boolean }): Promise<void>;
  stopService(instance: string, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  restartKafka(options?: { kill?: boolean }): Promise<void>;
  restartRedis(): Promise<void>;
  stop(): Promise<void>;
}
