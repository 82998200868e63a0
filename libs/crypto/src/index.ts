// @payrail/crypto: JOSE for Payrail. node-jose is the key, JWKS and JWE engine; JWS sign/verify runs on
// node:crypto KeyObjects derived from the same keys. See README.md for the guarantees and the allowlists.

export type { KeyState, SigningAlg, KeyUse, KeyWrapAlg, ContentEncryptionAlg } from './lib/algorithms';
export { SIGNING_ALGS, KEY_WRAP_ALGS, CONTENT_ENCRYPTION_ALG } from './lib/algorithms';
export { CryptoError, KeyConfigError, isTokenVerdict } from './lib/errors';
export type { CryptoErrorReason, CryptoLogger } from './lib/errors';
export { CanonicalObject, canonicalJson } from './lib/canonical';

export { PayrailKeyStore } from './keys/keystore';
export type { FromJwksOptions, KeySources } from './keys/keystore';
export type { KeySourceOptions, KeyFileSpec, KeyEnvSpec } from './keys/sources';
export { ReloadingKeyStore } from './keys/reloading-keystore';
export type { WatchOptions } from './keys/reloading-keystore';
export { generateDevKeys, writeDevKeys, PRIVATE_JWKS_FILE, PUBLIC_JWKS_FILE } from './keys/dev-keys';
export type { DevKeyOptions, WriteDevKeyOptions } from './keys/dev-keys';
export { jwkThumbprint } from './keys/key-record';
export { loadSecretKey, parseSecret } from './keys/secret';

export { JwsSigner } from './jws/signer';
export type { JwsSignerOptions } from './jws/signer';
export { JwsVerifier } from './jws/verifier';
export type { VerifyPolicy, VerifiedJws } from './jws/verifier';
export { RemoteJwksClient, checkJwksUrl, isClusterInternalHost } from './jws/remote-jwks';
export type { RemoteJwksOptions, JwksUrlCheck } from './jws/remote-jwks';

export { JweEncrypter, JweDecrypter } from './jwe/jwe';
export { EcdhAgreementPool } from './jwe/agreement-pool';
export type { AgreementPoolOptions } from './jwe/agreement-pool';
export type { JweEncrypterOptions, JweEncryptOptions, JweDecrypterOptions, DecryptedJwe } from './jwe/jwe';

export { FieldProtector, FieldRevealer, PROTECTED_FIELD_HEADER } from './fields/field-protector';
export type { ProtectedFieldInfo, ProtectedRecord, WithProtectedFields } from './fields/field-protector';
export { fingerprint, fingerprintField } from './fields/fingerprint';
export { maskPan, maskAccount, maskedPrefixLength, panPrefix, luhnValid, normaliseIdentifier } from './fields/mask';

export { InMemoryReplayStore } from './replay/replay-store';
export type { ReplayStore, InMemoryReplayStoreOptions } from './replay/replay-store';

export { runGenerateKeys } from './cli/generate-keys';
export type { CliIo } from './cli/generate-keys';

export { openPayrailVerifier, PAYRAIL_SIGNING_ALGS } from './payrail-verifier';
export type { PayrailVerifierHandle } from './payrail-verifier';

export { hashPassword, verifyPassword, parsePasswordHash, DEFAULT_PASSWORD_HASH_PARAMS, MAX_PASSWORD_LENGTH } from './passwords/password-hash';
export type { PasswordHashParams } from './passwords/password-hash';

export { BearerTokenDirectory, FRAUD_OPERATOR_TOKEN_PREFIX, SETTLEMENT_API_TOKEN_PREFIX, bearerTokenSha256, newBearerToken } from './tokens/bearer-token';

export { EventSealer, EventSealVerifier, SealingKeys, PeerSealKeys, SEAL_MEMBER, SEAL_ALGS, sealedBytes, sealKid, writeSealKeys } from './seal/event-seal';
export type { CoveredSealCheck, Sealed, SealCheck } from './seal/event-seal';
