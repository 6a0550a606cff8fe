#!/usr/bin/env node
// Generates one module per Kafka API in src/protocol/apis/ from the message
// schemas that ship inside kafka-clients (common/message/<Name>Request.json and
// <Name>Response.json), the same files Kafka's own MessageGenerator turns into
// XxxRequestData/XxxResponseData. Which APIs, which versions and the few
// deliberate departures from the schema live in scripts/protocol-apis.mjs.
//
//   node scripts/gen-protocol.mjs           # (re)write the generated modules
//   node scripts/gen-protocol.mjs --check   # exit 1 if any differs from the jar's rendering
//
// Needs kafka-clients-4.4.0.jar: .cache/kafka/4.4.0/libs (scripts/ensure-deps.mjs)
// or $KAFKA_LIBS. Plain Node, no dependencies; the jar is read with `unzip -p`.
//
// What the emitted code does (the invariants every module states):
// - one writeRequest run twice by encodeRequest (SizeCounter, then BufferWriter):
//   plain indexed loops, no closures or objects of its own, records spliced;
// - a field outside its versions: requests refuse a non-default value of a
//   non-ignorable field (RangeError, as Java's generated writer throws
//   UnsupportedVersionException) and drop an ignorable one; responses get the
//   schema default;
// - decoding goes through the bounds-checked Reader; bytes are views of the frame;
//   known tagged fields are decoded in place, unknown ones skipped.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIS, KAFKA_VERSION } from './protocol-apis.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'src', 'protocol', 'apis');
const JAR = `kafka-clients-${KAFKA_VERSION}.jar`;

export function findJar() {
  const cached = path.join(ROOT, '.cache', 'kafka', KAFKA_VERSION, 'libs', JAR);
  if (fs.existsSync(cached)) return cached;
  const env = process.env.KAFKA_LIBS;
  if (env && fs.existsSync(path.join(env, JAR))) return path.join(env, JAR);
  throw new Error(
    `gen-protocol: ${JAR} not found in ${path.relative(ROOT, path.dirname(cached))} and ` +
      `${env ? `KAFKA_LIBS=${env} does not hold it` : 'KAFKA_LIBS is not set'}. ` +
      `Run 'node scripts/ensure-deps.mjs --for test', or set KAFKA_LIBS to a directory holding ${JAR}.`,
  );
}

// ---------------------------------------------------------------- schema reading

/** The schema text with its `//` comment lines removed, and the message-level comments. */
function readSchema(jar, file) {
  const text = execFileSync('unzip', ['-p', jar, `common/message/${file}`], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (!text.trim()) throw new Error(`${file} not found in ${jar}`);
  return parseSchema(text);
}

/** A schema file's JSON (its `//` comment lines stripped) and its message-level comments. */
export function parseSchema(text) {
  const lines = text.split('\n');
  // Message-level comments: after the opening brace, before "fields" (the license is above the brace).
  const comments = [];
  const open = lines.findIndex((l) => l.trim() === '{');
  for (let i = open + 1; i < lines.length && !/^\s*"fields"/.test(lines[i]); i++) {
    const m = /^\s*\/\/ ?(.*)$/.exec(lines[i]);
    if (m) comments.push(m[1].trimEnd());
  }
  // Kafka's schema files only have whole-line comments (a `//` can occur inside strings, e.g. URLs).
  const json = JSON.parse(lines.filter((l) => !/^\s*\/\//.test(l)).join('\n'));
  return { json, comments };
}

/** "3+", "0-12", "5", "none" -> [lo, hi] (hi Infinity) or null. */
function parseVersions(s, what) {
  if (s === undefined || s === 'none') return null;
  let m;
  if ((m = /^(\d+)\+$/.exec(s))) return [Number(m[1]), Infinity];
  if ((m = /^(\d+)-(\d+)$/.exec(s))) return [Number(m[1]), Number(m[2])];
  if ((m = /^(\d+)$/.exec(s))) return [Number(m[1]), Number(m[1])];
  throw new Error(`${what}: bad version range '${s}'`);
}

const intersect = (a, b) => {
  if (a === null || b === null) return null;
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : null;
};
const covers = (a, b) => a !== null && a[0] <= b[0] && a[1] >= b[1];

const lcfirst = (s) => s[0].toLowerCase() + s.slice(1);
const q = (s) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;

const PRIMITIVES = new Set(['int8', 'int16', 'int32', 'int64', 'uint16', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid']);

// ---------------------------------------------------------------- model

/**
 * One API, both directions: structs (interfaces) with fields annotated with
 * their TS names, types and version ranges clipped to the implemented range.
 */
class Model {
  constructor(cfg, req, res) {
    this.cfg = cfg;
    this.name = cfg.name;
    this.apiKey = req.json.apiKey;
    if (res.json.apiKey !== this.apiKey) throw new Error(`${cfg.name}: request and response api keys differ`);
    this.range = cfg.versions;
    const valid = parseVersions(req.json.validVersions, `${cfg.name} validVersions`);
    if (!covers(valid, this.range)) throw new Error(`${cfg.name}: ${cfg.versions} is outside the schema's ${req.json.validVersions}`);
    const flexReq = parseVersions(req.json.flexibleVersions, 'flexibleVersions');
    const flexRes = parseVersions(res.json.flexibleVersions, 'flexibleVersions');
    if (JSON.stringify(flexReq) !== JSON.stringify(flexRes)) throw new Error(`${cfg.name}: request and response flexible versions differ`);
    this.flexible = flexReq === null ? null : flexReq[0];
    this.unstable = req.json.latestVersionUnstable === true ? valid[1] : null;
    // Brokers advertise an unstable version only with unstable.api.versions.enable; implementing one is a choice.
    if (this.unstable !== null && this.range[1] >= this.unstable && cfg.includeUnstable !== true) {
      throw new Error(`${cfg.name}: v${this.unstable} is latestVersionUnstable in ${KAFKA_VERSION}; stop at v${this.unstable - 1} or set includeUnstable`);
    }
    this.req = req;
    this.res = res;
    this.structs = new Map(); // TS name -> struct
    this.used = new Set(cfg.omit ?? []);
    for (const k of [...Object.keys(cfg.fieldNames ?? {}), ...Object.keys(cfg.flatten ?? {}), ...(cfg.nonNull ?? []), ...(cfg.lenient ?? []), ...(cfg.zeroUuidIsNull ?? [])]) this.used.add(k);
    this.seen = new Set();
    this.request = this.buildStruct(req.json.name, req.json.fields, req.json.commonStructs ?? [], this.range, 'request');
    this.response = this.buildStruct(res.json.name, res.json.fields, res.json.commonStructs ?? [], this.range, 'response');
    for (const k of this.used) if (!this.seen.has(k)) throw new Error(`${cfg.name}: config names ${k}, which no implemented field matches`);
    this.clientThrottleFrom = cfg.clientThrottleFrom ?? null;
    if (this.clientThrottleFrom !== null) {
      // The client reads `throttleTimeMs` off the decoded body: every throttling version must carry it under that name.
      const t = this.response.fields.find((f) => f.schemaName === 'ThrottleTimeMs');
      const from = Math.max(this.clientThrottleFrom, this.range[0]);
      if (t === undefined || t.name !== 'throttleTimeMs' || t.omit || t.versions[0] > from || t.versions[1] < this.range[1]) {
        throw new Error(`${cfg.name}: clientThrottleFrom ${this.clientThrottleFrom} needs a throttleTimeMs response field in v${from}..v${this.range[1]}`);
      }
    }
  }

  tsTypeName(schemaName) {
    const override = this.cfg.typeNames?.[schemaName];
    if (override) return override;
    return schemaName.replace(/(Request|Response)$/, (m) => m).replace(/Data$/, '');
  }

  /** Builds (once per TS name and direction) the struct with its fields. */
  buildStruct(schemaName, fields, common, range, dir) {
    const tsName = schemaName === this.req.json.name || schemaName === this.res.json.name ? schemaName : this.tsTypeName(schemaName);
    const existing = this.structs.get(tsName);
    if (existing) {
      if (existing.dir !== dir) throw new Error(`${tsName} is both a request and a response struct`);
      expand(existing, range);
      return existing;
    }
    const struct = { schemaName, tsName, dir, fields: [], range: [...range] };
    this.structs.set(tsName, struct);
    for (const f of fields) {
      const key = `${schemaName}.${f.name}`;
      // Clipped to the implemented range, not to this use: a common struct may be reused at other versions.
      const versions = intersect(parseVersions(f.versions, key), this.range);
      if (versions === null) continue; // not in any implemented version
      this.seen.add(key);
      let type = f.type;
      const array = type.startsWith('[]');
      if (array) type = type.slice(2);
      let struct2 = null;
      if (!PRIMITIVES.has(type)) {
        const def = f.fields ?? common.find((c) => c.name === type)?.fields;
        if (!def) throw new Error(`${key}: unknown type ${type}`);
        const used = intersect(versions, range);
        struct2 = this.buildStruct(type, def, common, used ?? versions, dir);
      }
      const nullable = intersect(parseVersions(f.nullableVersions, key), versions);
      const tagged = intersect(parseVersions(f.taggedVersions, key), versions);
      if (f.taggedVersions !== undefined && tagged !== null && (tagged[0] !== versions[0] || tagged[1] !== versions[1])) {
        throw new Error(`${key}: a field tagged in only some of its versions is not supported`);
      }
      const field = {
        key,
        schemaName: f.name,
        name: this.cfg.fieldNames?.[key] ?? lcfirst(f.name),
        type,
        array,
        struct: struct2,
        versions,
        nullable: this.cfg.nonNull?.includes(key) ? null : nullable,
        nullableAll: nullable !== null && nullable[0] === versions[0] && nullable[1] === versions[1],
        default: f.default,
        ignorable: f.ignorable === true || (this.cfg.lenient ?? []).includes(key),
        tag: tagged !== null ? f.tag : undefined,
        omit: (this.cfg.omit ?? []).includes(key),
        flatten: this.cfg.flatten?.[key],
        zeroUuidNull: (this.cfg.zeroUuidIsNull ?? []).includes(key),
        about: f.about ?? '',
      };
      if (field.tag !== undefined && dir === 'request' && (type === 'records' || field.omit)) throw new Error(`${key}: tagged records or omitted tagged request fields are not supported`);
      if (type === 'records' && dir === 'response') throw new Error(`${key}: records in a response are not supported`);
      if (struct2 && !array && field.tag === undefined) throw new Error(`${key}: untagged struct fields are not supported`);
      if (f.type === 'uint16' || f.type === 'float64') {
        if (dir === 'request' || f.type === 'uint16') throw new Error(`${key}: ${f.type} is not supported`);
      }
      struct.fields.push(field);
    }
    return struct;
  }
}

/** Widens the versions a struct is used at (a common struct used by two fields), down to its nested structs. */
function expand(struct, range) {
  const lo = Math.min(struct.range[0], range[0]);
  const hi = Math.max(struct.range[1], range[1]);
  if (lo === struct.range[0] && hi === struct.range[1]) return;
  struct.range = [lo, hi];
  for (const f of struct.fields) {
    const r = f.struct ? intersect(f.versions, struct.range) : null;
    if (r) expand(f.struct, r);
  }
}

/** Whether every version the struct is used at carries the field. */
const always = (field, struct) => field.versions[0] <= struct.range[0] && field.versions[1] >= struct.range[1];

// ---------------------------------------------------------------- emitting helpers

const ZERO_UUID = '00000000000000000000000000000000';
/** Names the generated readers use themselves. */
const RESERVED = new Set(['r', 'version', 'tags', 't', 'tag', 'end', 'n', 'a', 'i']);

class Emitter {
  constructor(model) {
    this.m = model;
    this.V = new Map(); // key -> value
    this.vKeyOf = new Map(); // field.key + kind -> V key
    this.needs = new Set(); // helper constants and functions
    this.arrayReaders = new Map(); // name -> code
  }

  /** A V-table entry for a version bound; the key is the field's name unless two fields would share it. */
  vRef(field, kind, value) {
    const id = `${field.key}#${kind}`;
    let k = this.vKeyOf.get(id);
    if (k === undefined) {
      const suffix = kind === 'first' ? '' : kind === 'last' ? 'Last' : 'Nullable';
      k = `${field.name}${suffix}`;
      if (this.V.has(k) && this.V.get(k) !== value) {
        const owner = lcfirst(field.key.split('.')[0]);
        k = `${owner}${field.name[0].toUpperCase()}${field.name.slice(1)}${suffix}`;
      }
      this.V.set(k, value);
      this.vKeyOf.set(id, k);
    }
    return `V.${k}`;
  }

  /** The condition under which `field` is on the wire, within `outer` (the struct's own range). */
  gate(field, outer) {
    const parts = [];
    if (field.versions[0] > outer[0]) parts.push(`version >= ${this.vRef(field, 'first', field.versions[0])}`);
    if (field.versions[1] < outer[1]) parts.push(`version <= ${this.vRef(field, 'last', field.versions[1])}`);
    return parts.join(' && ');
  }

  /** The condition under which a (sometimes) nullable field may be null. */
  nullGate(field) {
    const parts = [];
    if (field.nullable[0] > field.versions[0]) parts.push(`version >= ${this.vRef(field, 'nullable', field.nullable[0])}`);
    if (field.nullable[1] < field.versions[1]) throw new Error(`${field.key}: nullable in a prefix of its versions only`);
    return parts.join(' && ');
  }

  int64IsNumber(field) {
    // Timestamps and durations (…Ms) are safe integers: numbers, without a BigInt per value.
    return field.type === 'int64' && /Ms$/.test(field.schemaName);
  }

  /** The TS type of one element (or of the field when not an array). */
  elemType(field) {
    if (field.struct) {
      if (field.flatten) {
        const inner = field.struct.fields.find((f) => f.schemaName === field.flatten);
        return this.elemType(inner) + (inner.nullable ? ' | null' : '');
      }
      return field.struct.tsName;
    }
    switch (field.type) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'float64':
        return 'number';
      case 'int64':
        return this.int64IsNumber(field) ? 'number' : 'bigint';
      case 'bool':
        return 'boolean';
      case 'string':
      case 'uuid':
        return 'string';
      case 'bytes':
      case 'records':
        return 'Buffer';
    }
    throw new Error(field.type);
  }

  tsType(field) {
    const nullable = field.nullable !== null || (field.zeroUuidNull && field.type === 'uuid');
    if (field.array) {
      const e = this.elemType(field);
      return `${e.includes('|') ? `(${e})` : e}[]${nullable ? ' | null' : ''}`;
    }
    return `${this.elemType(field)}${nullable ? ' | null' : ''}`;
  }

  /** The schema default as a TS expression (for a response field a version lacks, or a request field left out). */
  defaultExpr(field, fresh = true) {
    const d = field.default;
    if (field.array) {
      if (d === 'null') return 'null';
      return fresh ? '[]' : 'NO_ELEMENTS';
    }
    if (field.struct) return 'undefined';
    if (field.zeroUuidNull) return 'null';
    switch (field.type) {
      case 'int8':
      case 'int16':
      case 'int32':
      case 'float64':
        return String(d === undefined ? 0 : Number(d));
      case 'int64': {
        const v = d === undefined ? '0' : String(BigInt(d));
        return this.int64IsNumber(field) ? v : `${v}n`;
      }
      case 'bool':
        return String(d === true || d === 'true');
      case 'string':
        if (d === 'null') return 'null';
        return q(d === undefined ? '' : String(d));
      case 'uuid':
        if (d !== undefined && d !== '' && d !== 'AAAAAAAAAAAAAAAAAAAAAA') throw new Error(`${field.key}: uuid default ${d} not supported`);
        this.needs.add('ZERO_UUID');
        return 'ZERO_UUID';
      case 'bytes':
        if (d === 'null') return 'null';
        this.needs.add('EMPTY_BYTES');
        return 'EMPTY_BYTES';
      case 'records':
        return 'null';
    }
    throw new Error(field.type);
  }

  /** A condition that holds when `v` differs from the field's default (Java's check before UnsupportedVersionException). */
  nonDefault(field, v) {
    if (field.array || field.type === 'bytes') {
      const d = field.default;
      if (d === 'null') return `${v} !== null`;
      return field.nullable ? `(${v} === null || ${v}.length !== 0)` : `${v}.length !== 0`;
    }
    if (field.type === 'records') return `${v} !== null`;
    if (field.type === 'uuid') {
      this.needs.add('ZERO_UUID');
      return `${v} !== ZERO_UUID`;
    }
    return `${v} !== ${this.defaultExpr(field)}`;
  }

  // ------------------------------------------------------------ request writing

  writeScalar(field, v, out, ind) {
    const nullable = field.nullable !== null;
    if (nullable && !field.nullableAll) {
      const g = this.nullGate(field);
      this.needs.add('refuseNull');
      out.push(`${ind}if (${v} === null && !(${g})) refuseNull(${q(field.name)}, version, ${this.rangeText(field.nullable)})`);
    }
    switch (field.type) {
      case 'int8': return out.push(`${ind}w.int8(${v})`);
      case 'int16': return out.push(`${ind}w.int16(${v})`);
      case 'int32': return out.push(`${ind}w.int32(${v})`);
      case 'int64': return out.push(`${ind}w.int64(${v})`);
      case 'bool': return out.push(`${ind}w.boolean(${v})`);
      case 'uuid': return out.push(`${ind}w.uuid(${v})`);
      case 'string': return out.push(`${ind}w.${nullable ? 'nullableString' : 'string'}(${v})`);
      case 'bytes': return out.push(`${ind}w.${nullable ? 'nullableBytes' : 'bytes'}(${v})`);
      case 'records': return out.push(`${ind}w.records(${v})`);
    }
    throw new Error(`${field.key}: cannot write ${field.type}`);
  }

  rangeText(r) {
    return q(r[1] === Infinity || r[1] >= this.m.range[1] ? `v${r[0]}+` : r[0] === r[1] ? `v${r[0]}` : `v${r[0]}..v${r[1]}`);
  }

  /** Emits the writes of `struct`'s fields; `acc` is the expression of the struct value (or, flattened, of the one field). */
  writeStruct(struct, acc, range, depth, out, ind, scope, flattenField) {
    const loopVars = ['i', 'j', 'k', 'l', 'm', 'n'];
    const tagged = [];
    for (const field of struct.fields) {
      if (field.tag !== undefined) {
        tagged.push(field);
        continue;
      }
      let value;
      const optional = !always(field, struct);
      if (field.omit) value = field.type === 'uuid' ? (this.needs.add('ZERO_UUID_BYTES'), 'ZERO_UUID_BYTES') : this.defaultExpr(field, false);
      else if (flattenField !== undefined) {
        if (field.schemaName !== flattenField) throw new Error(`${field.key}: a flattened struct's other fields must be omitted`);
        value = acc;
      } else value = `${acc}.${field.name}`;
      const g = this.gate(field, range);
      const body = [];
      const bind = (init) => {
        let n = field.name;
        while (scope.has(n)) n = `${n}${depth}`;
        scope.add(n);
        body.push(`${ind}${g ? '  ' : ''}const ${n} = ${init}`);
        return n;
      };
      const inner = g ? `${ind}  ` : ind;
      const orDefault = (v) => (optional && !field.omit && flattenField === undefined ? `${v} ?? ${this.defaultExpr(field, false)}` : v);
      if (field.array) {
        const a = bind(orDefault(value));
        const nullable = field.nullable !== null;
        if (nullable) body.push(`${inner}w.nullableArrayLength(${a} === null ? null : ${a}.length)`);
        else body.push(`${inner}w.arrayLength(${a}.length)`);
        const iv = loopVars[depth];
        const loopInd = nullable ? `${inner}  ` : inner;
        if (nullable) body.push(`${inner}if (${a} !== null) {`);
        body.push(`${loopInd}for (let ${iv} = 0; ${iv} < ${a}.length; ${iv}++) {`);
        if (field.struct) {
          let e = a.endsWith('s') ? a.slice(0, -1) : `${a}Item`;
          while (scope.has(e)) e = `${e}${depth}`;
          scope.add(e);
          body.push(`${loopInd}  const ${e} = ${a}[${iv}]!`);
          this.writeStruct(field.struct, e, field.versions, depth + 1, body, `${loopInd}  `, scope, field.flatten);
        } else {
          this.writeScalar({ ...field, array: false, nullable: null }, `${a}[${iv}]!`, body, `${loopInd}  `);
        }
        body.push(`${loopInd}}`);
        if (nullable) body.push(`${inner}}`);
      } else {
        const v = orDefault(value);
        this.writeScalar(field, v, body, inner);
      }
      if (g) {
        out.push(`${ind}if (${g}) {`, ...body, `${ind}}`);
        if (!field.ignorable && !field.omit) {
          this.needs.add('refuse');
          const cond = this.nonDefault(field, value);
          out[out.length - 1] = `${ind}} else if (${value} !== undefined && ${cond}) {`;
          out.push(`${ind}  refuse(${q(field.name)}, ${value}, version, ${this.rangeText(field.versions)})`, `${ind}}`);
        }
      } else out.push(...body);
    }
    if (this.m.flexible === null) return;
    if (tagged.length === 0) out.push(`${ind}w.taggedFields()`);
    else this.writeTagged(tagged.sort((a, b) => a.tag - b.tag), acc, range, depth, out, ind, scope);
  }

  /**
   * Tagged fields (KIP-482), as Java's generated writer does it: only the ones
   * that differ from their defaults go on the wire, in tag order, each as tag,
   * size, value. The size comes from a SizeCounter run of the same writes, made
   * only when the field is present (so a request without tags allocates nothing).
   */
  writeTagged(tagged, acc, range, depth, out, ind, scope) {
    this.needs.add('SizeCounter');
    const present = [];
    for (const field of tagged) {
      let n = field.name;
      while (scope.has(n)) n = `${n}${depth}`;
      scope.add(n);
      out.push(`${ind}const ${n} = ${acc}.${field.name} ?? ${this.defaultExpr(field, false)}`);
      const g = this.gate(field, range);
      let has = `has${n[0].toUpperCase()}${n.slice(1)}`;
      while (scope.has(has)) has = `${has}${depth}`;
      scope.add(has);
      if (g && !field.ignorable) {
        this.needs.add('refuse');
        out.push(`${ind}if (!(${g}) && ${this.nonDefault(field, n)}) refuse(${q(field.name)}, ${n}, version, ${this.rangeText(field.versions)})`);
      }
      out.push(`${ind}const ${has} = ${g ? `${g} && ` : ''}${this.nonDefault(field, n)}`);
      present.push([field, n, has]);
    }
    out.push(`${ind}if (w.flexible) {`);
    out.push(`${ind}  w.uvarint(${present.map(([, , has]) => `(${has} ? 1 : 0)`).join(' + ')})`);
    for (const [field, n, has] of present) {
      const body = [];
      if (field.array || field.struct) {
        // Reuse the untagged writer for the value: bind it under its own name, without gate or default.
        const inner = { ...field, tag: undefined, ignorable: true };
        this.writeStruct({ fields: [inner], range: field.versions }, '__tagged', field.versions, depth, body, `${ind}    `, scope);
        // writeStruct ends every struct with a tag section; a tagged value has only its own (inside elements).
        body.pop();
        for (let i = 0; i < body.length; i++) body[i] = body[i].replace(`__tagged.${field.name}`, n);
      } else this.writeScalar({ ...field, tag: undefined }, n, body, `${ind}    `);
      out.push(`${ind}  if (${has}) {`);
      out.push(`${ind}    w.uvarint(${field.tag})`);
      out.push(`${ind}    const size = new SizeCounter(true)`);
      out.push(`${ind}    {`);
      for (const l of body) out.push(`  ${l.replace(/\bw\./g, 'size.')}`);
      out.push(`${ind}    }`);
      out.push(`${ind}    w.uvarint(size.ownBytes)`);
      out.push(...body);
      out.push(`${ind}  }`);
    }
    out.push(`${ind}}`);
  }

  // ------------------------------------------------------------ response reading

  readScalarExpr(field) {
    const nullable = field.nullable !== null;
    const maybe = (plain, nullableFn) => {
      if (!nullable) return `r.${plain}()`;
      if (field.nullableAll) return `r.${nullableFn}()`;
      return `${this.nullGate(field)} ? r.${nullableFn}() : r.${plain}()`;
    };
    switch (field.type) {
      case 'int8': return 'r.int8()';
      case 'int16': return 'r.int16()';
      case 'int32': return 'r.int32()';
      case 'int64': return this.int64IsNumber(field) ? 'r.int64Number()' : 'r.int64()';
      case 'float64': return 'r.float64()';
      case 'bool': return 'r.boolean()';
      case 'uuid':
        if (field.zeroUuidNull) {
          this.needs.add('uuidOrNull');
          return 'uuidOrNull(r)';
        }
        return 'r.uuid()';
      case 'string': return maybe('string', 'nullableString');
      case 'bytes': return maybe('bytes', 'nullableBytes');
    }
    throw new Error(`${field.key}: cannot read ${field.type}`);
  }

  /** The expression reading one field (array, struct or scalar). */
  readExpr(field) {
    if (field.array) {
      const nullable = field.nullable !== null;
      if (nullable && !field.nullableAll) throw new Error(`${field.key}: partly nullable arrays are not supported`);
      const elem = field.struct ? field.struct.tsName : this.elemType(field);
      const fnName = `read${field.struct ? field.struct.tsName : field.type[0].toUpperCase() + field.type.slice(1) + (this.int64IsNumber(field) ? 'Number' : '')}${nullable ? 'Nullable' : ''}Array`;
      if (!this.arrayReaders.has(fnName)) {
        const each = field.struct ? `read${field.struct.tsName}(r, version)` : this.readScalarExpr({ ...field, array: false, nullable: null });
        const usesVersion = each.includes('version');
        const lines = [
          `function ${fnName}(r: Reader${usesVersion ? ', version: number' : ''}): ${elem}[]${nullable ? ' | null' : ''} {`,
          `  const n = r.${nullable ? 'nullableArrayLength' : 'arrayLength'}()`,
          ...(nullable ? ['  if (n === null) return null'] : []),
          `  const a = new Array<${elem}>(n)`,
          `  for (let i = 0; i < n; i++) a[i] = ${each}`,
          '  return a',
          '}',
        ];
        this.arrayReaders.set(fnName, { code: lines.join('\n'), usesVersion });
      }
      return `${fnName}(r${this.arrayReaders.get(fnName).usesVersion ? ', version' : ''})`;
    }
    if (field.struct) return `read${field.struct.tsName}(r, version)`;
    return this.readScalarExpr(field);
  }

  /** A reader function per response struct. */
  readFunction(struct) {
    const out = [];
    const locals = [];
    const tagged = [];
    for (const field of struct.fields) {
      if (field.tag !== undefined) {
        if (!field.omit) tagged.push(field);
        continue;
      }
      const g = this.gate(field, struct.range);
      const expr = this.readExpr(field);
      if (field.omit) {
        out.push(g ? `  if (${g}) ${expr} // ${field.schemaName}: read and dropped` : `  ${expr} // ${field.schemaName}: read and dropped`);
        continue;
      }
      const local = RESERVED.has(field.name) ? `${field.name}_` : field.name;
      out.push(`  const ${local} = ${g ? `${g} ? ${expr} : ${this.defaultExpr(field)}` : expr}`);
      locals.push([field.name, local]);
    }
    if (tagged.length > 0) {
      for (const field of tagged) {
        const local = RESERVED.has(field.name) ? `${field.name}_` : field.name;
        out.push(`  let ${local}: ${this.tsType(field)}${field.struct && !field.array ? ' | undefined' : ''} = ${this.defaultExpr(field)}`);
        locals.push([field.name, local]);
      }
      out.push('  const tags = r.taggedFieldCount()');
      out.push('  for (let t = 0; t < tags; t++) {');
      out.push('    const tag = r.uvarint()');
      out.push('    const end = r.taggedFieldEnd()');
      let first = true;
      for (const field of tagged) {
        const g = this.gate(field, struct.range);
        out.push(`    ${first ? '' : '} else '}if (tag === ${field.tag}${g ? ` && ${g}` : ''}) {`);
        out.push(`      ${RESERVED.has(field.name) ? `${field.name}_` : field.name} = ${this.readExpr(field)}`);
        out.push(`      r.endTaggedField(end, ${q(field.schemaName)})`);
        first = false;
      }
      out.push('    } else r.offset = end // a tag this version does not know: skipped');
      out.push('  }');
    } else if (this.m.flexible !== null) out.push('  r.taggedFields()');
    const body = out.join('\n');
    const usesVersion = /\bversion\b/.test(body);
    return [
      `function read${struct.tsName}(r: Reader, ${usesVersion ? '' : '_'}version: number): ${struct.tsName} {`,
      body,
      `  return { ${locals.map(([n, l]) => (n === l ? n : `${n}: ${l}`)).join(', ')} }`,
      '}',
    ].join('\n');
  }

  // ------------------------------------------------------------ interfaces

  versionNote(field, struct) {
    const parts = [];
    if (!always(field, struct)) {
      const r = field.versions;
      parts.push(r[1] >= this.m.range[1] ? `v${r[0]}+` : r[0] === r[1] ? `v${r[0]} only` : `v${r[0]}..v${r[1]}`);
    }
    if (field.tag !== undefined) parts.push(`tag ${field.tag}`);
    if (field.nullable && !field.nullableAll) parts.push(`null from v${field.nullable[0]}`);
    return parts.length ? `${parts.join(', ')}: ` : '';
  }

  interfaceOf(struct) {
    const lines = [`export interface ${struct.tsName} {`];
    for (const field of struct.fields) {
      if (field.omit) continue;
      const note = this.versionNote(field, struct);
      let about = field.about.replace(/\*\//g, '* /');
      const extra = [];
      const partial = !always(field, struct);
      if (struct.dir === 'response' && (partial || field.tag !== undefined)) {
        extra.push(field.struct && !field.array ? 'Undefined when absent.' : `${this.defaultExpr(field)} when absent.`.replace(/^\[\]/, 'Empty').replace(/^ZERO_UUID/, 'The zero uuid'));
      }
      if (struct.dir === 'request' && partial) {
        extra.push(field.ignorable || field.omit ? 'Dropped at other versions.' : 'Must hold its default at other versions.');
      }
      if (field.zeroUuidNull) extra.push('The zero id reads as null.');
      const doc = `${note}${about}${extra.length ? ` ${extra.join(' ')}` : ''}`.trim();
      lines.push(`  /** ${doc} */`);
      const optional = (struct.dir === 'request' && (partial || field.tag !== undefined)) || (struct.dir === 'response' && field.struct && !field.array && field.tag !== undefined);
      let type = this.tsType(field);
      lines.push(`  ${field.name}${optional ? '?' : ''}: ${type}`);
    }
    lines.push('}');
    return lines.join('\n');
  }
}

// ---------------------------------------------------------------- rendering one module

function fileNameOf(name) {
  return `${name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;
}

function render(model) {
  const e = new Emitter(model);
  const cfg = model.cfg;
  const [min, max] = model.range;

  // Structs in dependency order: nested first is not needed in TS; keep schema order (top-level first).
  const reqStructs = [...model.structs.values()].filter((s) => s.dir === 'request' && !isFlattenedOnly(model, s));
  const resStructs = [...model.structs.values()].filter((s) => s.dir === 'response');

  // Request writer.
  const wbody = [];
  e.writeStruct(model.request, 'req', model.range, 0, wbody, '    ', new Set(['req', 'w', 'version']));
  const wtext = wbody.join('\n');
  const writeUsesVersion = /\bversion\b/.test(wtext);

  const readers = resStructs.slice().reverse().map((s) => e.readFunction(s));
  const interfaces = [...reqStructs, ...resStructs].map((s) => e.interfaceOf(s));
  const arrayReaders = [...e.arrayReaders.values()].map((x) => x.code);

  if (model.flexible !== null && model.flexible > min) e.V.set('flexible', model.flexible);
  const flexibleExpr = model.flexible === null ? 'Infinity' : model.flexible > min ? 'V.flexible' : String(model.flexible);

  const lines = [];
  lines.push(
    `// GENERATED by scripts/gen-protocol.mjs from kafka-clients ${KAFKA_VERSION} ${model.req.json.name}.json/${model.res.json.name}.json — do not edit.`,
    '// Policy (implemented versions, names, omitted fields) lives in scripts/protocol-apis.mjs; change it or the',
    '// generator and run `node scripts/gen-protocol.mjs`. test/unit/protocol-generated.test.ts fails on drift.',
  );
  const doc = [];
  doc.push(`${model.name} (key ${model.apiKey}), versions ${min}..${max}${model.flexible === null ? ', never flexible' : `, flexible from v${model.flexible}`}.`);
  doc.push('');
  doc.push(...cfg.why);
  if (model.unstable !== null) {
    doc.push('');
    doc.push(`${KAFKA_VERSION} marks request v${model.unstable} \`latestVersionUnstable\`${model.unstable <= max ? '' : ': left out'}.`);
  }
  const versionComments = (label, cs) => {
    const kept = cs.filter((c, i) => !(c === '' && (i === 0 || cs[i - 1] === '')));
    if (kept.length === 0) return;
    doc.push('');
    doc.push(`${label}:`);
    for (const c of kept) if (c !== '') doc.push(`  ${c}`);
  };
  versionComments(`Request versions (${model.req.json.name}.json)`, model.req.comments);
  versionComments(`Response versions (${model.res.json.name}.json)`, model.res.comments);
  doc.push('');
  doc.push('Invariants:');
  const inv = [
    'A request field outside its versions must hold its default unless the schema',
    'makes it ignorable (then it is dropped): anything else throws a RangeError, as',
    'Java\'s generated writer throws UnsupportedVersionException.',
  ];
  doc.push(`- ${inv.join('\n  ')}`);
  doc.push('- Response fields a version lacks take the schema\'s defaults; known tagged fields\n  of the version are decoded, unknown tags skipped.');
  doc.push('- Decoding is bounds-checked (a short or malformed frame throws KafkaProtocolError)\n  and zero-copy: bytes fields are views of the frame.');
  if (cfg.responseHeaderVersion !== undefined) doc.push(`- The response header is always v${cfg.responseHeaderVersion}.`);
  const apiInv = [];
  let cur = null;
  for (const l of cfg.invariants ?? []) {
    // Each invariant is one sentence run across lines; a line starting with a capital or backtick after a full stop starts a new one.
    if (cur === null || /[.:)]$/.test(cur[cur.length - 1])) {
      cur = [l];
      apiInv.push(cur);
    } else cur.push(l);
  }
  for (const i of apiInv) doc.push(`- ${i.join('\n  ')}`);
  lines.push('/**');
  for (const d of doc.join('\n').split('\n')) lines.push(d === '' ? ' *' : ` * ${d.replace(/\*\//g, '* /')}`);
  lines.push(' */');

  const needsBuffer = e.needs.has('ZERO_UUID_BYTES') || e.needs.has('EMPTY_BYTES');
  if (needsBuffer) {
    lines.push("// Imported, not the global: Node's global `Buffer` is a lazy getter that runs on every use (bench/micro/FINDINGS.md).");
    lines.push("import { Buffer } from 'node:buffer'");
  }
  const apiImports = [];
  if (e.needs.has('refuse')) apiImports.push('refuseField');
  if (e.needs.has('refuseNull')) apiImports.push('refuseNullField');
  lines.push(apiImports.length ? `import { type ApiSpec, ${apiImports.join(', ')} } from '../api.js'` : "import type { ApiSpec } from '../api.js'");
  lines.push("import type { Reader } from '../reader.js'");
  lines.push(e.needs.has('SizeCounter') ? "import { type ProtocolWriter, SizeCounter } from '../writer.js'" : "import type { ProtocolWriter } from '../writer.js'");
  lines.push('');

  if (e.V.size > 0) {
    lines.push('/** The first (or, for `*Last`, last; for `*Nullable`, first nullable) version of each field that not every implemented version carries. */');
    lines.push(`const V = { ${[...e.V].map(([k, v]) => `${k}: ${v}`).join(', ')} } as const`);
    lines.push('');
  }
  if (e.needs.has('ZERO_UUID') || e.needs.has('uuidOrNull')) {
    lines.push('/** The zero uuid as Reader.uuid() spells it. */');
    lines.push(`const ZERO_UUID = '${ZERO_UUID}'`);
  }
  if (e.needs.has('ZERO_UUID_BYTES')) {
    lines.push('/** The zero uuid, written as is: no per-element parse or allocation. */');
    lines.push('const ZERO_UUID_BYTES = Buffer.alloc(16)');
  }
  if (e.needs.has('EMPTY_BYTES')) lines.push('const EMPTY_BYTES = Buffer.alloc(0)');
  if (wtext.includes('NO_ELEMENTS')) lines.push('const NO_ELEMENTS: readonly never[] = []');
  if (e.needs.has('ZERO_UUID') || e.needs.has('uuidOrNull') || e.needs.has('ZERO_UUID_BYTES') || e.needs.has('EMPTY_BYTES') || wtext.includes('NO_ELEMENTS')) lines.push('');

  for (const i of interfaces) lines.push(i, '');

  if (e.needs.has('refuse')) {
    lines.push('function refuse(field: string, value: unknown, version: number, versions: string): never {');
    lines.push(`  refuseField(${q(model.name)}, field, value, version, versions)`);
    lines.push('}');
    lines.push('');
  }
  if (e.needs.has('refuseNull')) {
    lines.push('function refuseNull(field: string, version: number, versions: string): never {');
    lines.push(`  refuseNullField(${q(model.name)}, field, version, versions)`);
    lines.push('}');
    lines.push('');
  }
  if (e.needs.has('uuidOrNull')) {
    lines.push('function uuidOrNull(r: Reader): string | null {');
    lines.push('  const id = r.uuid()');
    lines.push('  return id === ZERO_UUID ? null : id');
    lines.push('}');
    lines.push('');
  }
  for (const a of arrayReaders) lines.push(a, '');
  for (const r of readers) lines.push(r, '');

  const reqName = model.request.tsName;
  const resName = model.response.tsName;
  lines.push(`export const ${model.name}Api: ApiSpec<${reqName}, ${resName}> = {`);
  lines.push(`  name: ${q(model.name)},`);
  lines.push(`  apiKey: ${model.apiKey},`);
  lines.push(`  minVersion: ${min},`);
  lines.push(`  maxVersion: ${max},`);
  lines.push(`  flexibleFrom: ${flexibleExpr},`);
  if (model.clientThrottleFrom !== null) {
    lines.push(`  // KIP-219, as Java's ${model.name}Response.shouldClientThrottle: from here on the client holds off for throttle_time_ms.`);
    lines.push(`  clientThrottleFrom: ${model.clientThrottleFrom},`);
  } else {
    lines.push(`  // Never throttled by the client (Java: AbstractResponse.shouldClientThrottle's default).`);
    lines.push('  clientThrottleFrom: Infinity,');
  }
  if (cfg.responseHeaderVersion !== undefined) {
    lines.push(`  // KIP-511: the header must be readable before the client knows which versions the broker speaks.`);
    lines.push(`  responseHeaderVersion: () => ${cfg.responseHeaderVersion},`);
  }
  lines.push('');
  lines.push(`  writeRequest(w: ProtocolWriter, req: ${reqName}, ${writeUsesVersion ? '' : '_'}version: number): void {`);
  lines.push(wtext);
  lines.push('  },');
  lines.push('');
  lines.push(`  readResponse(r: Reader, version: number): ${resName} {`);
  lines.push(`    return read${resName}(r, version)`);
  lines.push('  },');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function isFlattenedOnly(model, struct) {
  for (const s of model.structs.values()) {
    for (const f of s.fields) if (f.struct === struct && f.flatten === undefined) return false;
  }
  for (const s of model.structs.values()) for (const f of s.fields) if (f.struct === struct) return true;
  return false;
}

// ---------------------------------------------------------------- main

/** One API's module text from its config and parsed schemas (exported for the generator's own tests). */
export function renderApi(cfg, req, res) {
  return render(new Model(cfg, req, res));
}

export function generate(jar = findJar()) {
  const out = new Map();
  const exported = new Map();
  for (const cfg of APIS) {
    const model = new Model(cfg, readSchema(jar, `${cfg.name}Request.json`), readSchema(jar, `${cfg.name}Response.json`));
    for (const s of model.structs.values()) {
      if (isFlattenedOnly(model, s)) continue;
      const other = exported.get(s.tsName);
      if (other) throw new Error(`type ${s.tsName} is generated for both ${other} and ${cfg.name}: rename one in scripts/protocol-apis.mjs`);
      exported.set(s.tsName, cfg.name);
    }
    out.set(fileNameOf(cfg.name), render(model));
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let files;
  try {
    files = generate();
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  let differing = 0;
  for (const [file, text] of files) {
    const p = path.join(OUT_DIR, file);
    const have = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
    if (have === text) continue;
    if (check) {
      console.error(`gen-protocol: src/protocol/apis/${file} ${have === null ? 'is missing' : 'differs from what the generator makes of the jar'}`);
      differing++;
    } else fs.writeFileSync(p, text);
  }
  // A module generated earlier for an API no longer configured would linger unnoticed.
  for (const file of fs.readdirSync(OUT_DIR)) {
    if (files.has(file) || !file.endsWith('.ts')) continue;
    if (!fs.readFileSync(path.join(OUT_DIR, file), 'utf8').startsWith('// GENERATED by scripts/gen-protocol.mjs')) continue;
    console.error(`gen-protocol: src/protocol/apis/${file} was generated for an API scripts/protocol-apis.mjs no longer lists; delete it`);
    differing++;
  }
  if (differing > 0) {
    console.error(`gen-protocol: ${differing} module(s) out of date; run node scripts/gen-protocol.mjs`);
    process.exit(1);
  }
  console.log(check ? `gen-protocol: all ${files.size} modules up to date` : `gen-protocol: ${files.size} modules in ${path.relative(ROOT, OUT_DIR)}`);
}
