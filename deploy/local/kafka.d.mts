// Types of kafka.mjs for the TypeScript that uses it (deploy/local.spec.ts).
export function kafkaVersion(): string;
export function cacheRoot(): string;
export function provisionKafka(): { version: string; libs: string; home: string };
export function javaAvailable(): number | undefined;
/** A KRaft cluster id as Kafka's Uuid.randomUuid() makes one (22 characters of base64url, never starting with '-'). */
export function newClusterId(random?: (size: number) => Uint8Array): string;

export interface LocalKafka {
  pid: number;
  bootstrap: string;
  logFile: string;
  version: string;
  stop(): Promise<void>;
  restart(options?: { kill?: boolean }): Promise<number>;
}

export const KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512';
export const KAFKA_ADMIN_USER: string;
export const KAFKA_CLIENT_USERS: readonly string[];
export const KAFKA_BROKER_USER: string;
export const KAFKA_CONTROLLER_USER: string;

export interface KafkaUserCredential {
  username: string;
  password: string;
  /** `<runDir>/kafka-credentials/<user>.password`, mode 0600. */
  passwordFile: string;
}

export interface KafkaCredentials {
  dir: string;
  users: Record<string, KafkaUserCredential>;
  broker: { username: string; password: string };
  controller: { username: string; password: string };
}

/** Random passwords for every client user, the brokers and the controllers; client passwords also in files. */
export function newKafkaCredentials(runDir: string, users?: readonly string[], given?: Record<string, string>): KafkaCredentials;

/** A broker's TLS material as PEM files: its key and certificate chain (keystore), and the CA brokers trust. */
export interface KafkaTlsFiles {
  keystore: string;
  truststore: string;
}

export function serverProperties(opts: { port: number; controllerPort: number; dataDir: string; credentials: KafkaCredentials; host?: string; nodeId?: number; voters?: string; replication?: number; advertised?: string; tls?: KafkaTlsFiles }): string;
export function scramFormatArgs(credentials: KafkaCredentials): string[];

export interface KafkaStartOptions {
  port: number;
  controllerPort: number;
  runDir: string;
  heapMb?: number;
  /** SCRAM users and passwords (newKafkaCredentials(runDir) when absent). */
  credentials?: KafkaCredentials;
  /** Own process group (default true); false keeps the broker in the caller's group. */
  detached?: boolean;
  /** The client listener speaks SASL_SSL with this key, certificate chain and CA; SASL_PLAINTEXT without. */
  tls?: KafkaTlsFiles;
}

export function startKafka(opts: KafkaStartOptions): Promise<LocalKafka & { credentials: KafkaCredentials }>;
export function startKafkaCluster(opts: { hosts: string[]; port: number; controllerPort: number; runDir: string; heapMb?: number; detached?: boolean; credentials?: KafkaCredentials; tls?: KafkaTlsFiles }): Promise<{ brokers: LocalKafka[]; bootstrap: string; credentials: KafkaCredentials; stop(): Promise<void> }>;
export function stopProcess(pid: number, graceMs: number): Promise<void>;
