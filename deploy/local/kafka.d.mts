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

export function startKafka(opts: {
  port: number;
  controllerPort: number;
  runDir: string;
  heapMb?: number;
  scram?: { port: number; username: string; password: string };
  /** Own process group (default true); false keeps the broker in the caller's group. */
  detached?: boolean;
}): Promise<LocalKafka>;
export function startKafkaCluster(opts: { hosts: string[]; port: number; controllerPort: number; runDir: string; heapMb?: number; detached?: boolean }): Promise<{ brokers: LocalKafka[]; bootstrap: string; stop(): Promise<void> }>;
export function stopProcess(pid: number, graceMs: number): Promise<void>;
