import { KafkaAuthenticationError, OidcUnretryableError as Unretryable } from '../../errors.js'
import { Secret } from '../../util/secret.js'
import { validateSaslExtensions, type OAuthBearerToken } from './oauthbearer.js'

/** OAuth 2 client-credentials settings (librdkafka's sasl.oauthbearer.method=oidc, Java's ClientCredentialsJwtRetriever). */
export interface OidcClientCredentialsOptions {
  /** sasl.oauthbearer.token.endpoint.url */
  readonly tokenEndpointUrl: string
  /** sasl.oauthbearer.client.id */
  readonly clientId: string
  /** sasl.oauthbearer.client.secret */
  readonly clientSecret: string | Secret
  /** sasl.oauthbearer.scope: sent as the `scope` form parameter when given. */
  readonly scope?: string
  /** SASL extensions sent with every token (sasl.oauthbearer.extensions). */
  readonly extensions?: Readonly<Record<string, string>>
  /** sasl.login.retry.backoff.ms: first wait after a failed request (default 100). */
  readonly retryBackoffMs?: number
  /** sasl.login.retry.backoff.max.ms: total time spent retrying one fetch (default 10 000). */
  readonly retryBackoffMaxMs?: number
  /** Per request timeout (sasl.login.connect.timeout.ms + read timeout in Java), default 10 000. */
  readonly requestTimeoutMs?: number
  /** sasl.login.refresh.window.factor: refresh at this fraction of the lifetime (0.5–1.0, default 0.8). */
  readonly refreshWindowFactor?: number
  /** sasl.login.refresh.window.jitter: plus up to this fraction at random (0–0.25, default 0.05). */
  readonly refreshWindowJitter?: number
  /** sasl.login.refresh.min.period.seconds in ms (default 60 000). */
  readonly refreshMinPeriodMs?: number
  /** sasl.login.refresh.buffer.seconds in ms (default 300 000). */
  readonly refreshBufferMs?: number
  /** For tests: the fetch implementation, clock, randomness and sleep. */
  readonly fetch?: typeof fetch
  readonly now?: () => number
  readonly random?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  /**
   * For tests: runs `fn` once after `ms` and may return a function that cancels it (default: an
   * unref'd setTimeout, which never keeps the process alive).
   */
  readonly timer?: (fn: () => void, ms: number) => (() => void) | void
  /** Told, without the secret, when a background refresh failed (it is retried after {@link REFRESH_RETRY_MS}). */
  readonly onRefreshFailure?: (message: string, error: Error) => void
}

/**
 * Past its refresh time, a cached token still serves authentications while
 * it lives at least this much longer: room for an authentication's round
 * trips before the broker sees it expire.
 */
const STILL_VALID_MARGIN_MS = 10_000

/**
 * After a failed background refresh, the next attempt comes this much later,
 * as Java's `ExpiringCredentialRefreshingLogin.Refresher`
 * (DELAY_SECONDS_BEFORE_NEXT_RETRY_WHEN_RELOGIN_FAILS).
 */
export const REFRESH_RETRY_MS = 10_000

function closedError(): KafkaAuthenticationError {
  return new KafkaAuthenticationError('OIDC: the token provider is closed (its producer was closed)')
}

/** A setTimeout that never keeps the process alive; web-style runtimes (Deno) return a number without unref. */
function unrefTimer(fn: () => void, ms: number): () => void {
  const handle = setTimeout(fn, Math.min(Math.max(0, ms), 2147483647)) as { unref?: () => unknown }
  handle.unref?.()
  return () => clearTimeout(handle as Parameters<typeof clearTimeout>[0])
}

interface Cached {
  token: OAuthBearerToken
  refreshAtMs: number
}

/**
 * Fetches OAUTHBEARER tokens from an OAuth 2 token endpoint with the client
 * credentials grant (RFC 6749 §4.4), as Java's `ClientCredentialsJwtRetriever`
 * with `HttpAccessTokenRetriever`: HTTP Basic client authentication with the
 * URL-encoded id and secret (§2.3.1), `grant_type=client_credentials` and the
 * optional scope. The expiry comes from `expires_in`, else from the JWT's
 * `exp` claim; the principal from its `sub`.
 *
 * Refresh follows Java's `ExpiringCredentialRefreshingLogin`: a token is
 * reused until `refreshWindowFactor` (+ up to `refreshWindowJitter`) of its
 * lifetime has passed, kept at least `refreshMinPeriodMs` and refreshed at
 * least `refreshBufferMs` before expiry when the lifetime allows both. The
 * refresh runs in the background: until it completes, authentications get
 * the cached token while it is still valid (with a margin), so none waits
 * for the endpoint. If a refresh fails while the cached token is still
 * valid, that token is used.
 * Failed requests (network errors, HTTP 5xx, 408, 429) are retried with
 * exponential backoff from `retryBackoffMs` for at most `retryBackoffMaxMs`
 * in total (Java's `Retry`); other HTTP errors fail at once.
 *
 * A failed background refresh is reported through `onRefreshFailure` and
 * retried after {@link REFRESH_RETRY_MS} (Java's refresher thread does the
 * same), while the cached token keeps serving authentications it is valid for.
 *
 * Invariants: at most one request is in flight (concurrent callers share
 * it); the client secret is revealed only into the Authorization header and
 * never appears in an error message; after {@link close} no request starts,
 * the one in flight is aborted and no timer or sleep of this provider keeps
 * the process alive.
 */
export class OidcClientCredentialsProvider {
  private readonly options: Omit<OidcClientCredentialsOptions, 'clientSecret'>
  private readonly secret: Secret
  private readonly url: URL
  private cached: Cached | null = null
  private inflight: Promise<OAuthBearerToken> | null = null
  private readonly fetchImpl: typeof fetch
  private readonly now: () => number
  private readonly random: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly timer: (fn: () => void, ms: number) => (() => void) | void
  /** Cancels the pending refresh (or refresh retry) timer, if the timer gave a way to. */
  private cancelTimer: (() => void) | null = null
  private onRefreshFailure: ((message: string, error: Error) => void) | undefined
  /** Aborted by close(): ends the request in flight. */
  private readonly closing = new AbortController()
  /** A token was asked for since the last scheduled refresh: the credential is in use. */
  private usedSinceRefresh = false
  /** Bumped per fetched token: a timer of an older token does nothing. */
  private generation = 0

  constructor(options: OidcClientCredentialsOptions) {
    // Keep everything but the secret as given; the secret only inside a Secret.
    const { clientSecret, ...rest } = options
    this.options = rest
    let url: URL
    try {
      url = new URL(options.tokenEndpointUrl)
    } catch {
      throw new KafkaAuthenticationError('OIDC: the token endpoint URL is not a valid URL')
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new KafkaAuthenticationError(`OIDC: the token endpoint URL must be http(s), got ${url.protocol}`)
    this.url = url
    if (!options.clientId) throw new KafkaAuthenticationError('OIDC: the client id is empty')
    this.secret = Secret.of(clientSecret)
    if (options.extensions) validateSaslExtensions(options.extensions)
    this.fetchImpl = options.fetch ?? fetch
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
    // Unref'd: a retry wait of a closed (or forgotten) producer does not keep the process alive.
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => void unrefTimer(r, ms)))
    this.timer = options.timer ?? unrefTimer
    this.onRefreshFailure = options.onRefreshFailure
  }

  /** Where failed background refreshes are reported (the producer's logger, once it exists). */
  setRefreshFailureListener(listener: (message: string, error: Error) => void): void {
    this.onRefreshFailure = listener
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.closing.signal.aborted
  }

  /**
   * Stops the provider when its producer closes (Java's `LoginManager`
   * logout): cancels the scheduled refresh, aborts the request in flight and
   * its retries; later calls of getToken reject. Idempotent.
   */
  close(): void {
    if (this.closed) return
    this.closing.abort()
    this.generation++
    this.cancelTimer?.()
    this.cancelTimer = null
  }

  /** The endpoint without any user info, for messages. */
  private get where(): string {
    return `${this.url.origin}${this.url.pathname}`
  }

  /**
   * A token that is valid now: the cached one until its refresh time; past
   * it, the cached one still while it has more than
   * {@link STILL_VALID_MARGIN_MS} to live, with the refresh running in the
   * background (Java's refresh thread replaces the credential ahead of
   * expiry; an authentication never waits for it); else a fresh one.
   */
  readonly getToken = async (): Promise<OAuthBearerToken> => {
    if (this.closed) throw closedError()
    this.usedSinceRefresh = true
    const now = this.now()
    const c = this.cached
    if (c !== null && now < c.refreshAtMs) return c.token
    const pending = this.startFetch()
    if (c !== null && c.token.lifetimeMs - now > STILL_VALID_MARGIN_MS) return c.token
    try {
      return await pending
    } catch (e) {
      // Java keeps the current credential when a refresh fails; so do we while it is valid.
      if (c !== null && this.now() < c.token.lifetimeMs) return c.token
      throw e
    }
  }

  /** Starts a token request unless one is under way; its failure reaches the callers that await it. */
  private startFetch(): Promise<OAuthBearerToken> {
    if (this.inflight === null) {
      const p = this.fetchToken().finally(() => {
        this.inflight = null
      })
      // A background refresh may have no caller waiting: its failure is then only the next caller's concern.
      p.catch(() => {})
      this.inflight = p
    }
    return this.inflight
  }

  /**
   * Refreshes the token at its refresh time, in the background, as Java's
   * `ExpiringCredentialRefreshingLogin` refresher thread: re-authentications
   * near the old token's expiry then find the new one. Only while the
   * credential is in use (a token was asked for since the last refresh), so
   * a closed producer's provider stops after at most one more request.
   */
  private scheduleRefresh(refreshAtMs: number): void {
    const generation = ++this.generation
    this.arm(generation, Math.max(0, refreshAtMs - this.now()), true)
  }

  /**
   * Runs a background refresh after `ms` unless a newer token (or close)
   * came first. `onlyIfUsed`: only when a token was asked for since the last
   * refresh; a retry after a failure does not ask again (the credential was
   * in use when the failed refresh started).
   */
  private arm(generation: number, ms: number, onlyIfUsed: boolean): void {
    this.cancelTimer?.()
    this.cancelTimer =
      this.timer(() => {
        this.cancelTimer = null
        if (generation !== this.generation || this.closed || (onlyIfUsed && !this.usedSinceRefresh)) return
        this.usedSinceRefresh = false
        this.startFetch().catch((e: unknown) => {
          // A success in between (a caller's fetch) bumped the generation: nothing to retry.
          if (generation !== this.generation || this.closed) return
          const error = e instanceof Error ? e : new Error(String(e))
          try {
            this.onRefreshFailure?.(`OIDC: a background token refresh failed; retrying in ${REFRESH_RETRY_MS / 1000} s: ${error.message}`, error)
          } catch {
            // A throwing observer does not stop the retries.
          }
          this.arm(generation, REFRESH_RETRY_MS, false)
        })
      }, ms) ?? null
  }

  /** The token request under way (a background refresh included), or null. */
  get pendingRequest(): Promise<OAuthBearerToken> | null {
    return this.inflight
  }

  /** When the cached token will be refreshed (ms since the epoch), or null. */
  get refreshAtMs(): number | null {
    return this.cached?.refreshAtMs ?? null
  }

  private async fetchToken(): Promise<OAuthBearerToken> {
    const initial = this.options.retryBackoffMs ?? 100
    const budget = this.options.retryBackoffMaxMs ?? 10_000
    const endMs = this.now() + budget
    let attempt = 0
    let lastError: unknown
    // Java's Retry.execute: attempts until the budget is spent, doubling the wait.
    for (;;) {
      if (this.closed) throw closedError()
      attempt++
      let token: OAuthBearerToken | null = null
      try {
        token = await this.request()
      } catch (e) {
        if (e instanceof Unretryable) throw new KafkaAuthenticationError(e.message)
        lastError = e
      }
      if (this.closed) throw closedError()
      if (token !== null) {
        // Outside the try: only the request's own failure counts as a failed attempt.
        const refreshAtMs = this.refreshTime(token)
        this.cached = { token, refreshAtMs }
        this.scheduleRefresh(refreshAtMs)
        return token
      }
      const remaining = endMs - this.now()
      const wait = Math.min(initial * 2 ** (attempt - 1), remaining)
      if (wait <= 0) break
      await this.sleep(wait)
    }
    const reason = lastError instanceof Error ? lastError.message : String(lastError)
    throw new KafkaAuthenticationError(`OIDC: no token from ${this.where} after ${attempt} attempt(s) in ${budget} ms: ${reason}`, { cause: lastError })
  }

  private async request(): Promise<OAuthBearerToken> {
    const enc = (s: string) => encodeURIComponent(s)
    const basic = Buffer.from(`${enc(this.options.clientId)}:${enc(this.secret.revealString())}`, 'utf8').toString('base64')
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    if (this.options.scope) body.set('scope', this.options.scope)
    const sentAt = this.now()
    // Ends the request (body included) at its timeout or when the provider closes.
    const abort = new AbortController()
    const onClose = () => abort.abort()
    this.closing.signal.addEventListener('abort', onClose, { once: true })
    const timeoutMs = this.options.requestTimeoutMs ?? 10_000
    const cancelTimeout = unrefTimer(() => abort.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
    try {
      return await this.exchange(basic, body, sentAt, abort.signal)
    } finally {
      cancelTimeout()
      this.closing.signal.removeEventListener('abort', onClose)
    }
  }

  private async exchange(basic: string, body: URLSearchParams, sentAt: number, signal: AbortSignal): Promise<OAuthBearerToken> {
    let res: Response
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          accept: 'application/json',
          'cache-control': 'no-cache',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: body.toString(),
        signal,
      })
    } catch (e) {
      throw new Error(`request to ${this.where} failed: ${(e as Error)?.message ?? String(e)}`)
    }
    const text = await res.text().catch(() => '')
    if (res.status !== 200 && res.status !== 201) {
      const detail = describeOAuthError(text)
      const message = `${this.where} answered HTTP ${res.status}${detail ? ` (${detail})` : ''} for client '${this.options.clientId}'`
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Error(message)
      throw new Unretryable(`OIDC: ${message}`)
    }
    let json: { access_token?: unknown; expires_in?: unknown }
    try {
      json = JSON.parse(text) as typeof json
    } catch {
      throw new Unretryable(`OIDC: ${this.where} answered with a body that is not JSON`)
    }
    const token = json.access_token
    if (typeof token !== 'string' || token === '') throw new Unretryable(`OIDC: ${this.where} answered without an access_token`)
    const claims = jwtClaims(token)
    let lifetimeMs: number
    if (typeof json.expires_in === 'number' && json.expires_in > 0) lifetimeMs = sentAt + json.expires_in * 1000
    else if (typeof claims?.exp === 'number') lifetimeMs = claims.exp * 1000
    else throw new Unretryable(`OIDC: ${this.where} gave a token without expires_in and without an exp claim`)
    if (lifetimeMs <= this.now()) throw new Unretryable(`OIDC: ${this.where} gave a token that has already expired`)
    return Object.freeze({
      token,
      lifetimeMs,
      ...(typeof claims?.sub === 'string' ? { principal: claims.sub } : {}),
      ...(typeof claims?.iat === 'number' ? { issuedAtMs: claims.iat * 1000 } : { issuedAtMs: sentAt }),
      ...(this.options.extensions ? { extensions: this.options.extensions } : {}),
    })
  }

  /** ExpiringCredentialRefreshingLogin.refreshMs, in absolute time. */
  private refreshTime(token: OAuthBearerToken & { issuedAtMs?: number }): number {
    const now = this.now()
    const start = Math.min(token.issuedAtMs ?? now, now)
    const expire = token.lifetimeMs
    const factor = this.options.refreshWindowFactor ?? 0.8
    const jitter = this.options.refreshWindowJitter ?? 0.05
    const minPeriod = this.options.refreshMinPeriodMs ?? 60_000
    const buffer = this.options.refreshBufferMs ?? 300_000
    let at = start + (expire - start) * (factor + jitter * this.random())
    // Both bounds apply only when the remaining lifetime leaves room for them (as Java).
    if (expire - now >= minPeriod + buffer) at = Math.min(Math.max(at, now + minPeriod), expire - buffer)
    return Math.floor(at)
  }
}

/** The payload of a JWT (not verified: the broker verifies), or null when the token is not one. */
export function jwtClaims(token: string): Record<string, unknown> | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** "invalid_client: bad secret" from an RFC 6749 §5.2 error body, clipped. */
function describeOAuthError(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown; error_description?: unknown }
    const parts = [j.error, j.error_description].filter((x): x is string => typeof x === 'string')
    return parts.join(': ').slice(0, 300)
  } catch {
    return ''
  }
}
