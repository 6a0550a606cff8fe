// A small in-process OAuth 2.0 / OIDC identity provider for OAUTHBEARER tests:
// an RS256 signing key made with node:crypto, a JWKS document (what Kafka's
// OAuthBearerValidatorCallbackHandler / BrokerJwtValidator fetches through
// sasl.oauthbearer.jwks.endpoint.url) and a client-credentials token endpoint
// (RFC 6749 §4.4, client authentication by HTTP Basic as §2.3.1 and as Java's
// ClientCredentialsJwtRetriever / librdkafka's oidc method send it).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OidcClient {
  id: string;
  secret: string;
}

export interface OidcTokenRequest {
  clientId: string | null;
  grantType: string | null;
  scope: string | null;
  /** How the client authenticated: 'basic' header, 'post' body parameters, or none. */
  auth: 'basic' | 'post' | 'none';
  status: number;
}

export interface IssueOptions {
  /** Default the server's tokenLifetimeSec. */
  lifetimeSec?: number;
  scope?: string;
  /** Extra claims, merged last. */
  claims?: Record<string, unknown>;
}

export interface OidcServer {
  /** http://127.0.0.1:<port> */
  url: string;
  issuer: string;
  audience: string;
  jwksUrl: string;
  tokenUrl: string;
  /** Registered clients (id → secret); add more at will. */
  clients: Map<string, string>;
  /** Lifetime of issued tokens, seconds (changeable between requests). */
  tokenLifetimeSec: number;
  /** Include `expires_in` in token responses (default true); false makes clients read `exp` from the JWT. */
  includeExpiresIn: boolean;
  /** Every token request so far, oldest first. */
  requests: OidcTokenRequest[];
  /** The next `n` token requests fail with HTTP `status` (default 503). */
  failNext(n: number, status?: number): void;
  /** A signed JWT for `sub`, as the token endpoint would issue it. */
  issue(sub: string, opts?: IssueOptions): string;
  stop(): Promise<void>;
}

export interface StartOidcOptions {
  clients?: OidcClient[];
  /** Default 3600. */
  tokenLifetimeSec?: number;
  /** `aud` claim of issued tokens (Kafka 4.4 brokers check it against sasl.oauthbearer.expected.audience). Default 'kafka'. */
  audience?: string;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 64 * 1024) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function parseBasic(header: string | undefined): { id: string; secret: string } | null {
  if (!header || !/^Basic /i.test(header)) return null;
  const text = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before the Basic encoding.
  const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: dec(text.slice(0, colon)), secret: dec(text.slice(colon + 1)) };
}

export async function startOidcServer(opts: StartOidcOptions = {}): Promise<OidcServer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, use: 'sig', alg: 'RS256' };
  const key: KeyObject = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  let failures = 0;
  let failStatus = 503;

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const oidc: OidcServer = {
    url,
    issuer: url,
    audience: opts.audience ?? 'kafka',
    jwksUrl: `${url}/jwks`,
    tokenUrl: `${url}/token`,
    clients: new Map((opts.clients ?? []).map((c) => [c.id, c.secret])),
    tokenLifetimeSec: opts.tokenLifetimeSec ?? 3600,
    includeExpiresIn: true,
    requests: [],
    failNext(n, status = 503) {
      failures = n;
      failStatus = status;
    },
    issue(sub, o = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: url,
        aud: oidc.audience,
        sub,
        iat: now,
        nbf: now,
        exp: now + (o.lifetimeSec ?? oidc.tokenLifetimeSec),
        jti: randomBytes(8).toString('hex'),
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
        ...(o.claims ?? {}),
      };
      const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claims))}`;
      return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    },
    stop() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const reply = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  server.on('request', (req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/jwks') return reply(res, 200, { keys: [jwk] });
      if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
        return reply(res, 200, { issuer: url, jwks_uri: oidc.jwksUrl, token_endpoint: oidc.tokenUrl, grant_types_supported: ['client_credentials'] });
      }
      if (req.method !== 'POST' || path !== '/token') return reply(res, 404, { error: 'not_found' });
      const form = new URLSearchParams(await readBody(req));
      const basic = parseBasic(req.headers.authorization);
      const clientId = basic?.id ?? form.get('client_id');
      const secret = basic?.secret ?? form.get('client_secret');
      const record: OidcTokenRequest = {
        clientId,
        grantType: form.get('grant_type'),
        scope: form.get('scope'),
        auth: basic ? 'basic' : form.has('client_secret') ? 'post' : 'none',
        status: 200,
      };
      oidc.requests.push(record);
      const fail = (status: number, body: unknown) => {
        record.status = status;
        reply(res, status, body);
      };
      if (failures > 0) {
        failures--;
        return fail(failStatus, { error: 'temporarily_unavailable' });
      }
      if (record.grantType !== 'client_credentials') return fail(400, { error: 'unsupported_grant_type' });
      if (clientId === null || secret === null || oidc.clients.get(clientId) !== secret) {
        return fail(401, { error: 'invalid_client', error_description: 'client authentication failed' });
      }
      const lifetime = oidc.tokenLifetimeSec;
      const token = oidc.issue(clientId, { lifetimeSec: lifetime, ...(record.scope ? { scope: record.scope } : {}) });
      reply(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        ...(oidc.includeExpiresIn ? { expires_in: lifetime } : {}),
        ...(record.scope ? { scope: record.scope } : {}),
      });
    })().catch((e: Error) => {
      if (!res.headersSent) reply(res, 500, { error: 'server_error', error_description: e.message });
    });
  });
  return oidc;
}
