// Per-run TLS material for the secured test broker, made with the openssl CLI
// (nothing is checked in; every run gets a fresh CA).  Everything is PEM:
// Kafka reads PEM key stores and trust stores directly (KIP-651,
// ssl.keystore.type=PEM / ssl.truststore.type=PEM), librdkafka and Node's tls
// read PEM, so no keytool/JKS step is needed.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** One certificate with its key, as files and as PEM text. */
export interface CertKeyPair {
  /** Leaf certificate (PEM). */
  certFile: string;
  certPem: string;
  /** Private key, PKCS#8 PEM; encrypted (PBES2/AES-256-CBC) when `keyPassword` is set. */
  keyFile: string;
  keyPem: string;
  keyPassword: string | undefined;
  /**
   * Private key, then leaf certificate, then the CA certificate: a Kafka PEM key
   * store file.  Its key is encrypted with PKCS#12 PBE-SHA1-3DES (same password):
   * the JDK 17 that Kafka's PemStore uses has no PBES2 SecretKeyFactory.
   */
  keystoreFile: string;
}

export interface TestCertificates {
  dir: string;
  /** The test CA (self-signed); trust it to trust every certificate below. */
  caFile: string;
  caPem: string;
  /** Broker certificate for localhost and 127.0.0.1 (SAN), key encrypted. */
  broker: CertKeyPair;
  /** Client certificate (CN=client), key encrypted with `client.keyPassword`. */
  client: CertKeyPair;
  /** Client certificate signed by a CA nobody trusts (for mTLS rejection tests), key not encrypted. */
  untrustedClient: CertKeyPair;
  /** Broker-style certificate for localhost/127.0.0.1 whose validity ended yesterday, key not encrypted. */
  expired: CertKeyPair;
  /** Valid certificate, signed by the CA, but only for wrong-host.invalid, key not encrypted. */
  wrongHost: CertKeyPair;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl: ${r.error.message}`);
  // Never echo the arguments: some carry a key password.
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (exit ${r.status}): ${r.stderr}`);
}

/** Leaves `pass` out of argv: openssl reads it from a 0600 file. */
function passFile(dir: string, name: string, pass: string): string {
  const f = path.join(dir, `${name}.pass`);
  fs.writeFileSync(f, pass, { mode: 0o600 });
  return `file:${f}`;
}

interface LeafSpec {
  name: string;
  subject: string;
  san?: string;
  days: number;
  keyPassword?: string;
  caCert: string;
  caKey: string;
  extKeyUsage: string;
}

function leaf(dir: string, spec: LeafSpec, caPem: string): CertKeyPair {
  const plainKey = path.join(dir, `${spec.name}.plain.key`);
  const csr = path.join(dir, `${spec.name}.csr`);
  const ext = path.join(dir, `${spec.name}.ext`);
  const certFile = path.join(dir, `${spec.name}.pem`);
  const keyFile = path.join(dir, `${spec.name}.key`);
  // P-256 keys: generated in milliseconds, and accepted by the JDK, OpenSSL and Node alike.
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', plainKey], dir);
  openssl(['req', '-new', '-key', plainKey, '-subj', spec.subject, '-out', csr], dir);
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${spec.extKeyUsage}`,
      ...(spec.san ? [`subjectAltName=${spec.san}`] : []),
      '',
    ].join('\n'),
  );
  // A negative -days makes notAfter lie before now: an expired certificate.
  openssl(
    ['x509', '-req', '-in', csr, '-CA', spec.caCert, '-CAkey', spec.caKey, '-CAcreateserial', '-days', String(spec.days), '-sha256', '-extfile', ext, '-out', certFile],
    dir,
  );
  const javaKeyFile = path.join(dir, `${spec.name}.java.key`);
  if (spec.keyPassword !== undefined) {
    const pass = passFile(dir, spec.name, spec.keyPassword);
    openssl(['pkcs8', '-topk8', '-in', plainKey, '-v2', 'aes-256-cbc', '-passout', pass, '-out', keyFile], dir);
    openssl(['pkcs8', '-topk8', '-in', plainKey, '-v1', 'PBE-SHA1-3DES', '-passout', pass, '-out', javaKeyFile], dir);
  } else {
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', plainKey, '-out', keyFile], dir);
    fs.copyFileSync(keyFile, javaKeyFile);
  }
  fs.rmSync(plainKey);
  fs.rmSync(csr);
  fs.rmSync(ext);
  const certPem = fs.readFileSync(certFile, 'utf8');
  const keyPem = fs.readFileSync(keyFile, 'utf8');
  const keystoreFile = path.join(dir, `${spec.name}.keystore.pem`);
  fs.writeFileSync(keystoreFile, fs.readFileSync(javaKeyFile, 'utf8') + certPem + caPem, { mode: 0o600 });
  fs.rmSync(javaKeyFile);
  return { certFile, certPem, keyFile, keyPem, keyPassword: spec.keyPassword, keystoreFile };
}

function selfSignedCa(dir: string, name: string, cn: string): { cert: string; key: string; pem: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  openssl(
    ['req', '-x509', '-new', '-key', key, '-subj', `/CN=${cn}`, '-days', '30', '-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert],
    dir,
  );
  return { cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

/** Makes a CA and the leaf certificates of {@link TestCertificates} in `dir` (created if needed). */
export function makeTestCertificates(dir: string): TestCertificates {
  fs.mkdirSync(dir, { recursive: true });
  const ca = selfSignedCa(dir, 'ca', 'kafka-producer-ts test CA');
  const rogue = selfSignedCa(dir, 'rogue-ca', 'untrusted test CA');
  const common = { caCert: ca.cert, caKey: ca.key };
  const brokerSan = 'DNS:localhost,IP:127.0.0.1';
  const password = () => randomBytes(12).toString('base64url');
  const broker = leaf(dir, { ...common, name: 'broker', subject: '/CN=localhost', san: brokerSan, days: 30, keyPassword: password(), extKeyUsage: 'serverAuth,clientAuth' }, ca.pem);
  const client = leaf(dir, { ...common, name: 'client', subject: '/O=kafka-producer-ts/CN=client', days: 30, keyPassword: password(), extKeyUsage: 'clientAuth' }, ca.pem);
  const untrustedClient = leaf(
    dir,
    { caCert: rogue.cert, caKey: rogue.key, name: 'untrusted-client', subject: '/CN=intruder', days: 30, extKeyUsage: 'clientAuth' },
    rogue.pem,
  );
  const expired = leaf(dir, { ...common, name: 'expired', subject: '/CN=localhost', san: brokerSan, days: -1, extKeyUsage: 'serverAuth' }, ca.pem);
  const wrongHost = leaf(
    dir,
    { ...common, name: 'wrong-host', subject: '/CN=wrong-host.invalid', san: 'DNS:wrong-host.invalid', days: 30, extKeyUsage: 'serverAuth' },
    ca.pem,
  );
  return { dir, caFile: ca.cert, caPem: ca.pem, broker, client, untrustedClient, expired, wrongHost };
}
