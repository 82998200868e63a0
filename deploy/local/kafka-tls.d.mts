// Types of kafka-tls.mjs for the TypeScript that uses it (deploy/boot/boot.ts).
/** The CA in `dir` (ca.crt, ca.key), made with openssl when absent. */
export function kafkaCa(dir: string): { cert: string; key: string };
/** A broker certificate for `names` (DNS names and IPs) signed by the CA of `dir`: .crt, .key and .pem (key + chain). */
export function issueBrokerCertificate(dir: string, names: readonly string[], basename?: string): { cert: string; key: string; pem: string; ca: string };
