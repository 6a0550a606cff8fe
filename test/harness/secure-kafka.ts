// One real Kafka 4.4 node with every security setup the SDK's TLS/SASL tests
// need, made per run: a fresh CA and certificates (certs.ts), SCRAM users
// created at format time, PLAIN users in the listener's JAAS config, an
// in-process OIDC provider for OAUTHBEARER (oidc.ts), and the StandardAuthorizer.
//
// Listeners (all on 127.0.0.1, random ports; bootstrap lists in `listeners`):
//   PLAINTEXT       inter-broker, AdminHelper, AclCommand (principal ANONYMOUS, a super user)
//   SSL             TLS with client authentication required (ssl.client.auth=required)
//   SASL_SSL        TLS + PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
//   SASL_PLAINTEXT  PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 without TLS
//   REAUTH          like SASL_SSL, with connections.max.reauth.ms = reauthMs (KIP-368)
//   SSL_EXPIRED     TLS with an expired server certificate (the handshake must fail)
//   SSL_WRONG_HOST  TLS with a CA-signed certificate for wrong-host.invalid only
//
// Principals: SSL clients map to their certificate's CN (ssl.principal.mapping.rules),
// SASL clients to their user name, OAUTHBEARER clients to the token's `sub`
// (the OIDC client id).  Super users: ANONYMOUS (PLAINTEXT, controller),
// alice, client (the mTLS certificate), kafka-client (the OIDC client).  bob
// and restricted-client have only the ACLs a test grants with addAcl().
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTestCertificates, type TestCertificates } from './certs.js';
import { redactArgs } from './consume.js';
import { startKafka, type KafkaCluster } from './kafka.js';
import { startOidcServer, type OidcServer } from './oidc.js';
import { TOOL_JVM_FLAGS, TailBuffer, kafkaToolsClasspath, track } from './util.js';

export type SecureListener = 'PLAINTEXT' | 'SSL' | 'SASL_SSL' | 'SASL_PLAINTEXT' | 'REAUTH' | 'SSL_EXPIRED' | 'SSL_WRONG_HOST';
export type HarnessMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'OAUTHBEARER';
export const SASL_MECHANISMS: readonly HarnessMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

export interface SaslCredentials {
  username: string;
  password: string;
}

export interface OidcClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface StartSecureKafkaOptions {
  /** connections.max.reauth.ms on the REAUTH listener, every mechanism. Default 5000. */
  reauthMs?: number;
  /** Lifetime of tokens the OIDC server issues, seconds. Default 3600. */
  tokenLifetimeSec?: number;
  /** Extra / overriding server.properties entries. */
  serverProperties?: Record<string, string>;
  /** Default 90 000. */
  startTimeoutMs?: number;
}

export interface AclSpec {
  /** e.g. 'User:bob' */
  principal: string;
  /** AclOperation name: Read, Write, Create, Describe, IdempotentWrite, All, … */
  operation: string;
  /** Exactly one resource. */
  topic?: string;
  group?: string;
  transactionalId?: string;
  cluster?: true;
  /** Default false (an allow ACL). */
  deny?: boolean;
}

export interface SecureKafka {
  cluster: KafkaCluster;
  /** Bootstrap list per listener. */
  listeners: Record<SecureListener, string>;
  certs: TestCertificates;
  oidc: OidcServer;
  /** Super user: PLAIN and both SCRAM mechanisms. */
  alice: SaslCredentials;
  /** No ACLs unless a test grants them: PLAIN and both SCRAM mechanisms. */
  bob: SaslCredentials;
  /** OIDC client whose tokens (sub = client id) make a super user. */
  oauthClient: OidcClientCredentials;
  /** OIDC client without ACLs. */
  restrictedOauthClient: OidcClientCredentials;
  reauthMs: number;
  /**
   * librdkafka (kcat) properties for `listener`, authenticating with
   * `mechanism` as `who` (default alice / oauthClient).  SSL uses the client
   * certificate; SASL_SSL / REAUTH / SSL_* trust the test CA.
   */
  kcatConfig(listener: SecureListener, mechanism?: HarnessMechanism, who?: SaslCredentials | OidcClientCredentials): Record<string, string>;
  /** The same as Java client properties (for the console consumer); OAUTHBEARER also needs javaSystemProperties. */
  javaClientConfig(listener: SecureListener, mechanism?: HarnessMechanism, who?: SaslCredentials | OidcClientCredentials): Record<string, string>;
  /** JVM system properties a Java client needs for OAUTHBEARER (the allowed token URL). */
  javaSystemProperties: Record<string, string>;
  /** Adds ACLs with Kafka's AclCommand over the PLAINTEXT listener (~2 s, a JVM). */
  addAcl(...acls: AclSpec[]): Promise<void>;
  stop(): Promise<void>;
}

const ALLOWED_URLS_PROPERTY = 'org.apache.kafka.sasl.oauthbearer.allowed.urls';

/** A JAAS option value in double quotes (JAAS ConfigFile syntax: backslash escapes). */
const jaasQuote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Escapes for a java.util.Properties value (server.properties is written as k=v lines). */
const propValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function secret(): string {
  // base64url: no characters that need escaping in JAAS, SCRAM saslname or librdkafka config.
  return randomBytes(16).toString('hex');
}

export async function startSecureKafka(opts: StartSecureKafkaOptions = {}): Promise<SecureKafka> {
  const reauthMs = opts.reauthMs ?? 5000;
  const alice = { username: 'alice', password: secret() };
  const bob = { username: 'bob', password: secret() };
  const oauthClient = { clientId: 'kafka-client', clientSecret: secret() };
  const restrictedOauthClient = { clientId: 'restricted-client', clientSecret: secret() };
  const oidc = await startOidcServer({
    clients: [
      { id: oauthClient.clientId, secret: oauthClient.clientSecret },
      { id: restrictedOauthClient.clientId, secret: restrictedOauthClient.clientSecret },
    ],
    tokenLifetimeSec: opts.tokenLifetimeSec ?? 3600,
  });

  // The certificates live in a directory of their own next to the run dirs (removed by
  // stop(), or by a later run's stale-dir sweep when this process dies: owner.pid).
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-harness-certs-'));
  fs.writeFileSync(path.join(certDir, 'owner.pid'), String(process.pid));
  let cluster: KafkaCluster | undefined;
  try {
    const certs = makeTestCertificates(certDir);

    const props: Record<string, string> = {
      // TLS material per listener: no global keystore, so each listener states exactly what it presents.
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': certs.caFile,
      'ssl.principal.mapping.rules': 'RULE:^.*CN=([A-Za-z0-9._-]+).*$/$1/,DEFAULT',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': ['ANONYMOUS', alice.username, 'client', oauthClient.clientId].map((u) => `User:${u}`).join(';'),
      'allow.everyone.if.no.acl.found': 'false',
      // OAUTHBEARER validation (OAuthBearerValidatorCallbackHandler → BrokerJwtValidator): RS256 keys from our JWKS.
      'sasl.oauthbearer.jwks.endpoint.url': oidc.jwksUrl,
      'sasl.oauthbearer.expected.issuer': oidc.issuer,
      'sasl.oauthbearer.expected.audience': oidc.audience,
      'sasl.oauthbearer.jwks.endpoint.refresh.ms': '3600000',
    };
    const keystore = (listener: string, pair: { keystoreFile: string; keyPassword: string | undefined }, clientAuth: 'required' | 'none') => {
      const p = `listener.name.${listener.toLowerCase()}.`;
      props[`${p}ssl.keystore.type`] = 'PEM';
      props[`${p}ssl.keystore.location`] = pair.keystoreFile;
      if (pair.keyPassword !== undefined) props[`${p}ssl.key.password`] = pair.keyPassword;
      props[`${p}ssl.client.auth`] = clientAuth;
    };
    const sasl = (listener: string, mechanisms: HarnessMechanism[], maxReauthMs?: number) => {
      const p = `listener.name.${listener.toLowerCase()}.`;
      props[`${p}sasl.enabled.mechanisms`] = mechanisms.join(',');
      for (const m of mechanisms) {
        const mp = `${p}${m.toLowerCase()}.`;
        if (m === 'PLAIN') {
          const users = [alice, bob].map((u) => `user_${u.username}=${jaasQuote(u.password)}`).join(' ');
          props[`${mp}sasl.jaas.config`] = `org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`;
        } else if (m === 'OAUTHBEARER') {
          props[`${mp}sasl.jaas.config`] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;';
          props[`${mp}sasl.server.callback.handler.class`] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
        } else {
          props[`${mp}sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
        }
        // KIP-368: the broker tells clients this session lifetime in SaslAuthenticate v1+.
        if (maxReauthMs !== undefined) props[`${mp}connections.max.reauth.ms`] = String(maxReauthMs);
      }
    };
    keystore('SSL', certs.broker, 'required');
    keystore('SASL_SSL', certs.broker, 'none');
    keystore('REAUTH', certs.broker, 'none');
    keystore('SSL_EXPIRED', certs.expired, 'none');
    keystore('SSL_WRONG_HOST', certs.wrongHost, 'none');
    sasl('SASL_SSL', [...SASL_MECHANISMS]);
    sasl('SASL_PLAINTEXT', ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
    sasl('REAUTH', [...SASL_MECHANISMS], reauthMs);
    for (const [k, v] of Object.entries(props)) props[k] = propValue(v);

    const scram = (mech: string, u: SaslCredentials) => ['--add-scram', `${mech}=[name=${u.username},password=${u.password}]`];
    cluster = await startKafka({
      brokers: 1,
      extraListeners: [
        { name: 'SSL', securityProtocol: 'SSL' },
        { name: 'SASL_SSL', securityProtocol: 'SASL_SSL' },
        { name: 'SASL_PLAINTEXT', securityProtocol: 'SASL_PLAINTEXT' },
        { name: 'REAUTH', securityProtocol: 'SASL_SSL' },
        { name: 'SSL_EXPIRED', securityProtocol: 'SSL' },
        { name: 'SSL_WRONG_HOST', securityProtocol: 'SSL' },
      ],
      serverProperties: { ...props, ...(opts.serverProperties ?? {}) },
      jvmSystemProperties: { [ALLOWED_URLS_PROPERTY]: `${oidc.jwksUrl},${oidc.tokenUrl}` },
      formatArgs: [
        ...scram('SCRAM-SHA-256', alice),
        ...scram('SCRAM-SHA-512', alice),
        ...scram('SCRAM-SHA-256', bob),
        ...scram('SCRAM-SHA-512', bob),
      ],
      ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
    });
    const c = cluster;
    const listeners = c.listeners as Record<SecureListener, string>;

    const isOauth = (who: unknown): who is OidcClientCredentials => typeof who === 'object' && who !== null && 'clientId' in who;

    const kcatConfig: SecureKafka['kcatConfig'] = (listener, mechanism, who) => {
      const cfg: Record<string, string> = {};
      const tls = listener !== 'PLAINTEXT' && listener !== 'SASL_PLAINTEXT';
      const saslOn = listener === 'SASL_SSL' || listener === 'SASL_PLAINTEXT' || listener === 'REAUTH';
      cfg['security.protocol'] = saslOn ? (tls ? 'sasl_ssl' : 'sasl_plaintext') : tls ? 'ssl' : 'plaintext';
      if (tls) {
        cfg['ssl.ca.location'] = certs.caFile;
        cfg['ssl.endpoint.identification.algorithm'] = 'https';
      }
      if (listener === 'SSL') {
        cfg['ssl.certificate.location'] = certs.client.certFile;
        cfg['ssl.key.location'] = certs.client.keyFile;
        cfg['ssl.key.password'] = certs.client.keyPassword!;
      }
      if (saslOn) {
        const m = mechanism ?? 'SCRAM-SHA-512';
        cfg['sasl.mechanisms'] = m;
        if (m === 'OAUTHBEARER') {
          const client = isOauth(who) ? who : oauthClient;
          cfg['sasl.oauthbearer.method'] = 'oidc';
          cfg['sasl.oauthbearer.client.id'] = client.clientId;
          cfg['sasl.oauthbearer.client.secret'] = client.clientSecret;
          cfg['sasl.oauthbearer.token.endpoint.url'] = oidc.tokenUrl;
          cfg['sasl.oauthbearer.scope'] = 'kafka';
        } else {
          const user = who && !isOauth(who) ? who : alice;
          cfg['sasl.username'] = user.username;
          cfg['sasl.password'] = user.password;
        }
      }
      return cfg;
    };

    const javaClientConfig: SecureKafka['javaClientConfig'] = (listener, mechanism, who) => {
      const k = kcatConfig(listener, mechanism, who);
      const cfg: Record<string, string> = { 'security.protocol': k['security.protocol']!.toUpperCase() };
      if (k['ssl.ca.location']) {
        cfg['ssl.truststore.type'] = 'PEM';
        cfg['ssl.truststore.location'] = certs.caFile;
      }
      if (listener === 'SSL') {
        cfg['ssl.keystore.type'] = 'PEM';
        cfg['ssl.keystore.location'] = certs.client.keystoreFile;
        cfg['ssl.key.password'] = certs.client.keyPassword!;
      }
      const m = k['sasl.mechanisms'];
      if (m) {
        cfg['sasl.mechanism'] = m;
        if (m === 'OAUTHBEARER') {
          cfg['sasl.login.callback.handler.class'] = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler';
          cfg['sasl.oauthbearer.token.endpoint.url'] = oidc.tokenUrl;
          cfg['sasl.jaas.config'] =
            `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ` +
            `clientId=${jaasQuote(k['sasl.oauthbearer.client.id']!)} clientSecret=${jaasQuote(k['sasl.oauthbearer.client.secret']!)} scope="kafka";`;
        } else {
          const module = m === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
          cfg['sasl.jaas.config'] = `${module} required username=${jaasQuote(k['sasl.username']!)} password=${jaasQuote(k['sasl.password']!)};`;
        }
      }
      return cfg;
    };

    const addAcl = async (...acls: AclSpec[]): Promise<void> => {
      for (const acl of acls) {
        const resources = [
          acl.topic !== undefined ? ['--topic', acl.topic] : [],
          acl.group !== undefined ? ['--group', acl.group] : [],
          acl.transactionalId !== undefined ? ['--transactional-id', acl.transactionalId] : [],
          acl.cluster ? ['--cluster'] : [],
        ].filter((r) => r.length > 0);
        if (resources.length !== 1) throw new Error('addAcl: give exactly one of topic, group, transactionalId, cluster');
        const args = [
          ...TOOL_JVM_FLAGS,
          '-cp',
          kafkaToolsClasspath(),
          'org.apache.kafka.tools.AclCommand',
          '--bootstrap-server',
          listeners.PLAINTEXT,
          '--add',
          acl.deny ? '--deny-principal' : '--allow-principal',
          acl.principal,
          '--operation',
          acl.operation,
          ...resources[0]!,
        ];
        const child = track(spawn('java', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
        const err = new TailBuffer(40);
        child.stderr!.on('data', (d: Buffer) => err.push(d));
        const code = await new Promise<number | null>((r) => child.once('close', (x) => r(x)));
        if (code !== 0) throw new Error(`AclCommand ${redactArgs(args.slice(TOOL_JVM_FLAGS.length + 3))} failed (exit ${code}):\n${err}`);
      }
    };

    return {
      cluster: c,
      listeners,
      certs,
      oidc,
      alice,
      bob,
      oauthClient,
      restrictedOauthClient,
      reauthMs,
      kcatConfig,
      javaClientConfig,
      javaSystemProperties: { [ALLOWED_URLS_PROPERTY]: `${oidc.jwksUrl},${oidc.tokenUrl}` },
      addAcl,
      async stop() {
        await Promise.all([c.stop(), oidc.stop()]);
        if (!process.env.KAFKA_HARNESS_KEEP) fs.rmSync(certs.dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await oidc.stop();
    fs.rmSync(certDir, { recursive: true, force: true });
    throw e;
  }
}
