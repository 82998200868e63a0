// Ingest's inbound encryption keys (INGEST_INBOUND_JWE_KEYS_FILE): upstreams publishing to the inbound topic encrypt
// their signed payment to the active one (a JWS nested in a JWE); ingest decrypts with any key of the file that is
// not retired, so during a rotation the old key keeps opening what was published before the switch.
import { ConfigError } from '@payrail/config';
import { INBOUND_PAYMENT_JWE_CONTENT_TYPE } from '@payrail/contracts';
import { JweDecrypter, JweEncrypter, PayrailKeyStore, ReloadingKeyStore, type CryptoLogger } from '@payrail/crypto';

export const INBOUND_KEYS_VARIABLE = 'INGEST_INBOUND_JWE_KEYS_FILE';

export class InboundKeys {
  readonly decrypter: JweDecrypter;

  private constructor(private readonly store: ReloadingKeyStore, logger?: CryptoLogger) {
    this.decrypter = new JweDecrypter(store, { maxTokenBytes: 96 * 1024, logger });
  }

  /**
   * Loads and checks the file at boot: JWKS of encryption keys only (ECDH-ES+A256KW or RSA-OAEP-256, with their
   * private halves), exactly one of them active. Throws ConfigError naming the variable otherwise.
   */
  static async open(file: string, opts: { logger?: CryptoLogger; onReloadError?: (err: Error) => void } = {}): Promise<InboundKeys> {
    let store: ReloadingKeyStore;
    try {
      // a replaced file gets the boot's checks before it replaces the keys in use
      store = await ReloadingKeyStore.watch(file, { onError: opts.onReloadError, accept: (fresh) => checkInboundKeys(fresh) });
    } catch (err) {
      throw new ConfigError([{ variable: INBOUND_KEYS_VARIABLE, reason: `${file}: ${err instanceof Error ? err.message : 'unusable'}` }]);
    }
    const keys = new InboundKeys(store, opts.logger);
    try {
      await checkInboundKeys(store.current());
    } catch (err) {
      store.close();
      throw new ConfigError([{ variable: INBOUND_KEYS_VARIABLE, reason: `${file}: ${err instanceof Error ? err.message : 'unusable'}` }]);
    }
    return keys;
  }

  /** kid of the key upstreams encrypt to. */
  get activeKid(): string {
    return this.store.current().activeKey('enc').kid;
  }

  /**
   * What upstreams fetch (GET /.well-known/payrail-inbound-jwks.json): the public half of the active key only, so
   * an upstream never encrypts to a key being phased in or out.
   */
  publishedJwks(): { keys: Array<Record<string, unknown>> } {
    const kid = this.activeKid;
    return { keys: this.store.current().publicJwks().keys.filter((k) => k['kid'] === kid) };
  }

  onApplicationShutdown(): void {
    this.store.close();
  }
}

/** Every key an encryption key whose private half opens what is encrypted to its public half; one of them active. */
async function checkInboundKeys(store: PayrailKeyStore): Promise<void> {
  const keys = store.publicJwks().keys;
  if (keys.length === 0) throw new Error('holds no key that is not retired');
  const decrypter = new JweDecrypter(store, { maxTokenBytes: 96 * 1024 });
  for (const jwk of keys) {
    const kid = String(jwk['kid']);
    if (jwk['use'] !== 'enc') throw new Error(`key ${kid} is not an encryption key (use "enc"): this file holds ingest's inbound decryption keys only`);
    const probe = await new JweEncrypter(await PayrailKeyStore.fromJwks({ keys: [jwk] })).encrypt('probe', { extraProtected: { cty: INBOUND_PAYMENT_JWE_CONTENT_TYPE } });
    let opened: string | undefined;
    try {
      opened = (await decrypter.decrypt(probe)).toString('utf8');
    } catch {
      opened = undefined;
    }
    if (opened !== 'probe') throw new Error(`key ${kid} has no private half that decrypts what is encrypted to it`);
  }
  store.activeKey('enc'); // exactly one active key (throws naming them when there are several, or none)
}
