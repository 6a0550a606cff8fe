/**
 * AWS MSK with IAM access control, through SASL/OAUTHBEARER (MSK accepts an
 * IAM-signed token there, as AWS's aws-msk-iam-sasl-signer libraries
 * produce it), with no AWS dependency in this package: the token comes from
 * a signer you plug in.
 *
 *   KAFKA_BROKERS=b-1.mycluster.xxxxxx.c2.kafka.eu-west-1.amazonaws.com:9098 \
 *   AWS_REGION=eu-west-1 TOPIC=events npx tsx examples/msk-iam.ts
 *
 * Use AWS's signer (npm `aws-msk-iam-sasl-signer-js`):
 *
 *   import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js'
 *   const signer: MskIamSigner = async (region) => {
 *     const { token, expiryTime } = await generateAuthToken({ region })
 *     return { token, expiresAtMs: expiryTime }
 *   }
 *
 * or any function that returns a base64url-encoded, SigV4-presigned
 * `kafka-cluster:Connect` URL for the region (that is what the token is).
 */
import { KafkaProducer, type OAuthBearerTokenProvider } from 'kafka-producer-ts'

/** Makes an MSK IAM token for `region`: the token and when it expires (ms since the epoch). */
export type MskIamSigner = (region: string) => Promise<{ token: string; expiresAtMs: number }>

/**
 * A token provider for MSK IAM. The producer calls it on every
 * (re-)authentication; it caches the token and asks the signer again once
 * 80 % of the token's life has passed, as Java's login refresh does. MSK
 * reports the token's remaining life as the session lifetime, so the
 * producer re-authenticates (KIP-368) before the token expires.
 */
export function mskIamTokenProvider(region: string, signer: MskIamSigner, now: () => number = Date.now): OAuthBearerTokenProvider {
  let cached: { token: string; expiresAtMs: number; refreshAtMs: number } | null = null
  let inFlight: Promise<{ token: string; expiresAtMs: number }> | null = null
  return async () => {
    const t = now()
    if (cached === null || t >= cached.refreshAtMs) {
      inFlight ??= signer(region).finally(() => (inFlight = null))
      const { token, expiresAtMs } = await inFlight
      cached = { token, expiresAtMs, refreshAtMs: t + 0.8 * (expiresAtMs - t) }
    }
    return { token: cached.token, lifetimeMs: cached.expiresAtMs }
  }
}

// ---- run it ----

const brokers = process.env.KAFKA_BROKERS
const region = process.env.AWS_REGION
const topic = process.env.TOPIC ?? 'events'
if (brokers === undefined || region === undefined) {
  console.error('set KAFKA_BROKERS (the IAM bootstrap, port 9098) and AWS_REGION')
  process.exit(2)
}

// Plug your signer in here (see the header). This placeholder fails clearly instead of guessing.
const signer: MskIamSigner = async () => {
  throw new Error('examples/msk-iam.ts: plug in an MSK IAM signer (e.g. aws-msk-iam-sasl-signer-js generateAuthToken)')
}

const producer = new KafkaProducer({
  bootstrapServers: brokers.split(','),
  // MSK's IAM listener is TLS with certificates from a public CA: Node's CA store trusts them.
  ssl: true,
  sasl: { mechanism: 'OAUTHBEARER', tokenProvider: mskIamTokenProvider(region, signer) },
})
try {
  const md = await producer.send({ topic, key: 'k', value: 'hello from kafka-producer-ts over MSK IAM' })
  console.log(`sent to ${md.topic}-${md.partition}@${md.offset}`)
} finally {
  await producer.close()
}
