import { JaasParseError } from '../../errors.js'

export { JaasParseError }

/** One login module entry of a `sasl.jaas.config` value. */
export interface JaasLoginModule {
  readonly loginModule: string
  readonly flag: 'required' | 'requisite' | 'sufficient' | 'optional'
  readonly options: Readonly<Record<string, string>>
}


const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional'])
// An unquoted word: what Java's StreamTokenizer (JaasConfig: word chars plus - _ $,
// continuing through digits and '.') reads as one token.
const WORD = /[A-Za-z0-9_$.\-\u00a0-\uffff]/

/**
 * Parses Java's `sasl.jaas.config` syntax (JAAS ConfigFile entries, as Kafka's
 * `JaasConfig` reads them with a StreamTokenizer):
 *
 *   <LoginModuleClass> <flag> [<key>=<value> ...];
 *
 * where a value is a word or a double-quoted string with backslash escapes
 * (\" \\ \n \t \r), and `//` / `/* … *\/` comments are skipped. Kafka
 * clients accept exactly one login module (JaasContext: "should be 1
 * module"), so this returns one and rejects zero or several.
 */
export function parseJaasConfig(text: string): JaasLoginModule {
  let i = 0
  const n = text.length
  const fail = (what: string): never => {
    throw new JaasParseError(`${what} at character ${i + 1}`)
  }

  const skip = () => {
    for (;;) {
      while (i < n && /\s/.test(text[i]!)) i++
      if (text.startsWith('//', i)) {
        while (i < n && text[i] !== '\n') i++
      } else if (text.startsWith('/*', i)) {
        const end = text.indexOf('*/', i + 2)
        if (end < 0) fail('unterminated comment')
        i = end + 2
      } else return
    }
  }
  const word = (what: string): string => {
    skip()
    const start = i
    while (i < n && WORD.test(text[i]!)) i++
    if (i === start) fail(`expected ${what}`)
    return text.slice(start, i)
  }
  const quoted = (): string => {
    i++ // opening quote
    let out = ''
    for (;;) {
      if (i >= n) fail('unterminated quoted value')
      const c = text[i++]!
      if (c === '"') return out
      if (c === '\\') {
        if (i >= n) fail('unterminated quoted value')
        const e = text[i++]!
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'b' ? '\b' : e === 'f' ? '\f' : e
      } else out += c
    }
  }

  const modules: JaasLoginModule[] = []
  for (;;) {
    skip()
    if (i >= n) break
    const loginModule = word('a login module class name')
    const flag = word('a control flag (required, requisite, sufficient, optional)').toLowerCase()
    if (!FLAGS.has(flag)) {
      i -= flag.length
      fail('expected a control flag (required, requisite, sufficient, optional)')
    }
    const options: Record<string, string> = {}
    for (;;) {
      skip()
      if (i >= n) fail("expected ';' after the login module options")
      if (text[i] === ';') {
        i++
        break
      }
      const key = word('an option name or ;')
      skip()
      if (text[i] !== '=') fail(`expected '=' after option '${key}'`)
      i++
      skip()
      const value = text[i] === '"' ? quoted() : word(`a value for option '${key}'`)
      if (Object.prototype.hasOwnProperty.call(options, key)) fail(`option '${key}' given twice`)
      options[key] = value
    }
    modules.push(Object.freeze({ loginModule, flag: flag as JaasLoginModule['flag'], options: Object.freeze(options) }))
  }
  if (modules.length !== 1) {
    throw new JaasParseError(`expected exactly one login module, found ${modules.length}`)
  }
  return modules[0]!
}

export const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule'
export const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule'
export const OAUTHBEARER_LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule'
