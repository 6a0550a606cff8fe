// Self-test of the secured test broker (not of the SDK): every listener and
// mechanism works with independent clients (kcat/librdkafka 2.0.2 and Kafka's
// Java ConsoleConsumer), and the failures the SDK's tests will rely on happen.
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeWithJavaConsoleConsumer, consumeWithKcat, produceWithJavaConsoleProducer, produceWithKcat } from './consume.js';
import { startOidcServer } from './oidc.js';
import { startSecureKafka, type HarnessMechanism, type SecureKafka, type SecureListener } from './secure-kafka.js';

const messages = (tag: string) => Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}` }));

describe('secured Kafka 4.4 (one node, every listener)', () => {
  let k: SecureKafka;

  beforeAll(async () => {
    const t0 = Date.now();
    k = await startSecureKafka({ reauthMs: 3000 });
    console.log(`secured Kafka ready in ${Date.now() - t0} ms: ${JSON.stringify(k.listeners)}`);
  }, 180_000);

  afterAll(async () => {
    await k?.stop();
  }, 60_000);

  // librdkafka 2.0.2 (kcat) cannot do SCRAM against Kafka 4.x (it repeats the client
  // nonce in client-final, fixed in 2.6.1) and this build has no OIDC, so those
  // cases produce with Kafka's Java ConsoleProducer; kcat reads every topic back
  // over the same listener (PLAIN, or the client certificate on SSL).
  const cases: [string, SecureListener, HarnessMechanism | undefined, 'kcat' | 'java'][] = [
    ['SSL with a client certificate, mTLS (kcat)', 'SSL', undefined, 'kcat'],
    ['SASL_SSL PLAIN (kcat)', 'SASL_SSL', 'PLAIN', 'kcat'],
    ['SASL_SSL SCRAM-SHA-256 (Java producer)', 'SASL_SSL', 'SCRAM-SHA-256', 'java'],
    ['SASL_SSL SCRAM-SHA-512 (Java producer)', 'SASL_SSL', 'SCRAM-SHA-512', 'java'],
    ['SASL_SSL OAUTHBEARER, OIDC client credentials (Java producer)', 'SASL_SSL', 'OAUTHBEARER', 'java'],
    ['SASL_PLAINTEXT SCRAM-SHA-512 (Java producer)', 'SASL_PLAINTEXT', 'SCRAM-SHA-512', 'java'],
    ['SASL_PLAINTEXT PLAIN (kcat)', 'SASL_PLAINTEXT', 'PLAIN', 'kcat'],
    ['REAUTH: SASL_SSL with a low connections.max.reauth.ms, SCRAM-SHA-256 (Java producer)', 'REAUTH', 'SCRAM-SHA-256', 'java'],
  ];
  it.each(cases)('%s', async (_name, listener, mechanism, producer) => {
    const topic = `secure-${listener}-${mechanism ?? 'tls'}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    await k.cluster.createTopic(topic, 1);
    const sent = messages(topic);
    const before = k.oidc.requests.length;
    if (producer === 'kcat') {
      await produceWithKcat(k.listeners[listener], topic, sent, { config: k.kcatConfig(listener, mechanism), partition: 0 });
    } else {
      await produceWithJavaConsoleProducer(k.listeners[listener], topic, sent, {
        config: k.javaClientConfig(listener, mechanism),
        jvmSystemProperties: k.javaSystemProperties,
      });
    }
    if (mechanism === 'OAUTHBEARER') {
      const mine = k.oidc.requests.slice(before);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((r) => r.status === 200 && r.auth === 'basic' && r.grantType === 'client_credentials')).toBe(true);
    }
    const readMechanism = listener === 'SSL' ? undefined : 'PLAIN';
    const got = await consumeWithKcat(k.listeners[listener], topic, { partitions: 1, config: k.kcatConfig(listener, readMechanism), timeoutMs: 60_000 });
    expect(got.map((r) => ({ key: r.key?.toString(), value: r.value?.toString() }))).toEqual(sent);
  }, 90_000);

  it('OAUTHBEARER with the Java ConsoleConsumer (OAuthBearerLoginCallbackHandler, token endpoint)', async () => {
    const topic = 'secure-java-oauth';
    await k.cluster.createTopic(topic, 1);
    await produceWithKcat(k.listeners.SASL_SSL, topic, messages(topic), { config: k.kcatConfig('SASL_SSL', 'PLAIN'), partition: 0 });
    const before = k.oidc.requests.length;
    const got = await consumeWithJavaConsoleConsumer(k.listeners.SASL_SSL, topic, 3, {
      config: k.javaClientConfig('SASL_SSL', 'OAUTHBEARER'),
      jvmSystemProperties: k.javaSystemProperties,
    });
    expect(got.map((r) => r.value?.toString())).toEqual(messages(topic).map((m) => m.value));
    const mine = k.oidc.requests.slice(before);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.auth === 'basic' && r.grantType === 'client_credentials' && r.clientId === k.oauthClient.clientId)).toBe(true);
  }, 120_000);

  it('SCRAM-SHA-512 over SASL_SSL with the Java ConsoleConsumer', async () => {
    const topic = 'secure-java-scram';
    await k.cluster.createTopic(topic, 1);
    await produceWithKcat(k.listeners.SASL_SSL, topic, messages(topic), { config: k.kcatConfig('SASL_SSL', 'PLAIN'), partition: 0 });
    const got = await consumeWithJavaConsoleConsumer(k.listeners.SASL_SSL, topic, 3, { config: k.javaClientConfig('SASL_SSL', 'SCRAM-SHA-512') });
    expect(got.map((r) => r.value?.toString())).toEqual(messages(topic).map((m) => m.value));
  }, 120_000);

  it('rejects a wrong password, a missing client certificate and an untrusted one', async () => {
    const topic = 'secure-rejections';
    await k.cluster.createTopic(topic, 1);
    const wrong = { ...k.kcatConfig('SASL_SSL', 'PLAIN'), 'sasl.password': 'not-the-password', 'message.timeout.ms': '5000' };
    await expect(produceWithKcat(k.listeners.SASL_SSL, topic, messages('x'), { config: wrong })).rejects.toThrow(/Authentication failed|SASL authentication error|Invalid/i);
    const wrongScram = k.javaClientConfig('SASL_SSL', 'SCRAM-SHA-256', { username: 'alice', password: 'not-the-password' });
    await expect(produceWithJavaConsoleProducer(k.listeners.SASL_SSL, topic, messages('x'), { config: wrongScram })).rejects.toThrow(/SaslAuthenticationException|Authentication failed/);
    const noCert: Record<string, string> = { ...k.kcatConfig('SSL'), 'message.timeout.ms': '5000' };
    delete noCert['ssl.certificate.location'];
    delete noCert['ssl.key.location'];
    delete noCert['ssl.key.password'];
    await expect(produceWithKcat(k.listeners.SSL, topic, messages('x'), { config: noCert })).rejects.toThrow();
    const rogue = {
      ...noCert,
      'ssl.certificate.location': k.certs.untrustedClient.certFile,
      'ssl.key.location': k.certs.untrustedClient.keyFile,
    };
    await expect(produceWithKcat(k.listeners.SSL, topic, messages('x'), { config: rogue })).rejects.toThrow();
    expect(await k.cluster.highWatermarks(topic)).toEqual(new Map([[0, 0n]]));
  }, 90_000);

  it('presents an expired and a wrong-host certificate on SSL_EXPIRED / SSL_WRONG_HOST', async () => {
    const handshake = (bootstrap: string, servername?: string) =>
      new Promise<string>((resolve) => {
        const [host, port] = bootstrap.split(':') as [string, string];
        const sock = tls.connect({ host, port: Number(port), ca: k.certs.caPem, ...(servername ? { servername } : {}) });
        sock.once('secureConnect', () => {
          sock.destroy();
          resolve('ok');
        });
        sock.once('error', (e: NodeJS.ErrnoException) => {
          sock.destroy();
          resolve(e.code ?? e.message);
        });
      });
    expect(await handshake(k.listeners.SSL_EXPIRED)).toBe('CERT_HAS_EXPIRED');
    expect(await handshake(k.listeners.SSL_WRONG_HOST)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // The good broker certificate covers 127.0.0.1 and localhost (SAN).
    expect(await handshake(k.listeners.SASL_SSL)).toBe('ok');
    expect(await handshake(k.listeners.SASL_SSL.replace('127.0.0.1', 'localhost'), 'localhost')).toBe('ok');
  }, 30_000);

  it('authorizes bob and restricted-client only after ACLs are granted', async () => {
    const topic = 'secure-acl';
    await k.cluster.createTopic(topic, 1);
    const asBob = { ...k.kcatConfig('SASL_SSL', 'PLAIN', k.bob), 'message.timeout.ms': '5000' };
    await expect(produceWithKcat(k.listeners.SASL_SSL, topic, messages('bob'), { config: asBob, partition: 0 })).rejects.toThrow(/authoriz/i);
    await k.addAcl(
      { principal: 'User:bob', operation: 'Write', topic },
      { principal: 'User:bob', operation: 'Describe', topic },
      { principal: 'User:restricted-client', operation: 'Write', topic },
      { principal: 'User:restricted-client', operation: 'Describe', topic },
    );
    await produceWithKcat(k.listeners.SASL_SSL, topic, messages('bob'), { config: asBob, partition: 0 });
    await produceWithJavaConsoleProducer(k.listeners.SASL_SSL, topic, messages('oauth'), {
      config: k.javaClientConfig('SASL_SSL', 'OAUTHBEARER', k.restrictedOauthClient),
      jvmSystemProperties: k.javaSystemProperties,
    });
    expect(await k.cluster.highWatermarks(topic)).toEqual(new Map([[0, 6n]]));
  }, 120_000);
});

describe('the harness OIDC server', () => {
  it('issues RS256 JWTs for registered clients (HTTP Basic) and serves the JWKS', async () => {
    const oidc = await startOidcServer({ clients: [{ id: 'app', secret: 's3cr3t' }], tokenLifetimeSec: 120 });
    try {
      const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      const post = (auth: string) =>
        fetch(oidc.tokenUrl, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&scope=kafka',
        });
      const ok = await post(basic('app', 's3cr3t'));
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { access_token: string; expires_in: number; token_type: string };
      expect(body.token_type).toBe('Bearer');
      expect(body.expires_in).toBe(120);
      const [h, p] = body.access_token.split('.').slice(0, 2).map((x) => JSON.parse(Buffer.from(x, 'base64url').toString()) as Record<string, unknown>);
      expect(h).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      expect(p).toMatchObject({ sub: 'app', scope: 'kafka', iss: oidc.issuer });
      expect((p!.exp as number) - (p!.iat as number)).toBe(120);
      const jwks = (await (await fetch(oidc.jwksUrl)).json()) as { keys: { kid: string; kty: string }[] };
      expect(jwks.keys).toEqual([expect.objectContaining({ kid: h!.kid, kty: 'RSA', alg: 'RS256' })]);

      expect((await post(basic('app', 'wrong'))).status).toBe(401);
      oidc.failNext(1);
      expect((await post(basic('app', 's3cr3t'))).status).toBe(503);
      expect(oidc.requests.map((r) => r.status)).toEqual([200, 401, 503]);
    } finally {
      await oidc.stop();
    }
  });
});
