/**
 * Java `.properties` text (the format of `--producer.config`), parsed as
 * `java.util.Properties.load` does: `#`/`!` comment lines, `key=value`,
 * `key: value` or `key value`, a trailing odd backslash continues the logical
 * line (the next line's leading whitespace dropped), and the escapes `\t`,
 * `\n`, `\r`, `\f`, `\uXXXX` and `\x` → `x` in keys and values. A later key
 * replaces an earlier one, as in `Properties`.
 *
 * Unlike Java's `Properties.load(InputStream)`, which reads ISO-8859-1, the
 * text is taken as already decoded (the CLI reads UTF-8); for ASCII files,
 * the usual case, the two agree.
 */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>()
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    let line = stripLeading(lines[i]!)
    if (line.length === 0 || line[0] === '#' || line[0] === '!') continue
    // A logical line continues while it ends in an odd number of backslashes.
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + stripLeading(lines[++i]!)
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1)
    const [key, value] = splitKeyValue(line)
    out.set(unescape(key), unescape(value))
  }
  return out
}

const WS = new Set([' ', '\t', '\f'])

function stripLeading(s: string): string {
  let i = 0
  while (i < s.length && WS.has(s[i]!)) i++
  return s.slice(i)
}

function endsWithContinuation(s: string): boolean {
  let n = 0
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++
  return n % 2 === 1
}

/** The key ends at the first unescaped '=', ':' or whitespace; one '=' or ':' (with whitespace around) separates. */
function splitKeyValue(line: string): [string, string] {
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === '=' || c === ':' || WS.has(c)) break
    i++
  }
  const key = line.slice(0, Math.min(i, line.length))
  let j = i
  while (j < line.length && WS.has(line[j]!)) j++
  if (j < line.length && (line[j] === '=' || line[j] === ':')) j++
  while (j < line.length && WS.has(line[j]!)) j++
  return [key, line.slice(j)]
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    const n = s[++i]
    if (n === undefined) break
    if (n === 't') out += '\t'
    else if (n === 'n') out += '\n'
    else if (n === 'r') out += '\r'
    else if (n === 'f') out += '\f'
    else if (n === 'u') {
      const hex = s.slice(i + 1, i + 5)
      // Java's Properties.load throws IllegalArgumentException("Malformed \\uxxxx encoding.").
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new SyntaxError('Malformed \\uxxxx encoding in properties text')
      out += String.fromCharCode(parseInt(hex, 16))
      i += 4
    } else out += n
  }
  return out
}
