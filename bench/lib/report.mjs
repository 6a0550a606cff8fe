// Results: medians per (broker, scenario, client), a Markdown report, a JSON
// file, an SVG chart (hand-written, no dependency) and the measured part of
// docs/performance.md (between DOCS_START and DOCS_END; a full run rewrites it).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KAFKA_SECURE_KINDS } from './brokers.mjs';
import { CLIENTS } from './clients.mjs';
import { SCENARIOS } from './scenarios.mjs';

export function median(xs) {
  const a = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (a.length === 0) return null;
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

const clientById = Object.fromEntries(CLIENTS.map((c) => [c.id, c]));
/** The brokers in report order: the two light ones, then real Kafka. */
const BROKERS = ['mock', 'kfake', 'kafka'];
/** The secured listeners of the same Kafka node (--broker kafka-ssl, kafka-sasl-ssl): sections of their own, and the TLS cost table. */
const SECURE_KINDS = Object.keys(KAFKA_SECURE_KINDS);
const SECTION_BROKERS = [...BROKERS, ...SECURE_KINDS];
const BROKER_TITLE = {
  mock: 'librdkafka mock cluster',
  kfake: 'franz-go kfake (in-memory, 1 broker)',
  kafka: 'Apache Kafka 4.4.0 (1 node)',
  'kafka-ssl': 'Apache Kafka 4.4.0 (1 node), SSL listener',
  'kafka-sasl-ssl': 'Apache Kafka 4.4.0 (1 node), SASL_SSL listener (SCRAM-SHA-512; PLAIN for librdkafka C 2.0.2)',
};
const BROKER_SHORT = { mock: 'the mock', kfake: 'kfake', kafka: 'Kafka' };
/** The section title of a broker: the label the run recorded (version, TCP_NODELAY), else a generic one. */
const brokerTitle = (meta, b) => meta?.brokers?.[b]?.label ?? BROKER_TITLE[b];

export function summarize(runs) {
  const groups = new Map();
  for (const r of runs) {
    if (r.probe || r.status === 'discarded') continue;
    const k = `${r.broker}|${r.scenario}|${r.client}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(r);
  }
  const rows = [];
  for (const [k, rs] of groups) {
    const [broker, scenario, client] = k.split('|');
    const ok = rs.filter((r) => r.status === 'ok');
    const med = (f) => median(ok.map(f));
    rows.push({
      broker,
      scenario,
      client,
      runs: rs.length,
      ok: ok.length,
      failures: [...new Set(rs.filter((r) => r.status !== 'ok').map((r) => r.reason))],
      msgsPerSec: med((r) => r.msgsPerSec),
      mbPerSec: med((r) => r.mbPerSec),
      cpuSec: med((r) => r.cpuSec),
      cpuPerMillion: med((r) => (r.cpuSec / r.records) * 1e6),
      peakRssMB: med((r) => r.peakRssMB),
      brokerCpuSec: med((r) => r.brokerCpuSec),
      otherCpuSec: med((r) => r.otherCpuSec),
      elapsedMs: med((r) => r.elapsedMs),
      p50: med((r) => r.latency?.p50),
      p99: med((r) => r.latency?.p99),
      max: med((r) => r.latency?.max),
      all: {
        msgsPerSec: ok.map((r) => r.msgsPerSec),
        cpuSec: ok.map((r) => r.cpuSec),
        p99: ok.map((r) => r.latency?.p99).filter((x) => x !== undefined),
      },
    });
  }
  return rows;
}

/** A failure reason without stack frames, for tables. */
export function displayReason(reason, { full = false } = {}) {
  if (!reason) return 'no result';
  const known = /^(.*) \(known: (.*)\)$/.exec(reason);
  if (known) return full ? `${displayReason(known[1])}. Known cause: ${known[2]}` : `not run: ${known[2]}`;
  return reason
    .split(' | ')
    .filter((p) => !/^\s*at /.test(p))
    .join(' | ')
    .replace(/\s+/g, ' ');
}

const fmtInt = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const fmt = (x, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));
const failedCell = (row) => `**failed** (${shorten(displayReason(row.failures[0]), 170)})`;
const shorten = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s).replace(/\|/g, '/');
const okCell = (row) => (row.ok === row.runs ? `${row.ok}/${row.runs}` : `**${row.ok}/${row.runs}**`);

function find(rows, broker, scenario, client) {
  return rows.find((r) => r.broker === broker && r.scenario === scenario && r.client === client);
}

function throughputTable(rows, broker, scenarioIds, clientIds) {
  const out = [
    '| scenario | client | msg/s | MB/s | CPU s | peak RSS MB | broker CPU s | runs ok |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const sid of scenarioIds) {
    for (const cid of clientIds) {
      const row = find(rows, broker, sid, cid);
      if (!row) continue;
      const label = clientById[cid]?.label ?? cid;
      if (row.ok === 0) {
        out.push(`| ${sid} | ${label} | ${failedCell(row)} | | | | | ${okCell(row)} |`);
        continue;
      }
      out.push(
        `| ${sid} | ${label} | ${fmtInt(row.msgsPerSec)} | ${fmt(row.mbPerSec, 1)} | ${fmt(row.cpuSec)} | ${fmtInt(row.peakRssMB)} | ${fmt(row.brokerCpuSec)} | ${okCell(row)} |`,
      );
    }
  }
  return out.join('\n');
}

function latencyTable(rows, broker, clientIds) {
  const out = ['| client | p50 ms | p99 ms | max ms | CPU s | peak RSS MB | broker CPU s | runs ok |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |'];
  for (const cid of clientIds) {
    const row = find(rows, broker, '4', cid);
    if (!row) continue;
    const label = clientById[cid]?.label ?? cid;
    if (row.ok === 0) {
      out.push(`| ${label} | ${failedCell(row)} | | | | | | ${okCell(row)} |`);
      continue;
    }
    out.push(
      `| ${label} | ${fmt(row.p50, 3)} | ${fmt(row.p99, 3)} | ${fmt(row.max, 2)} | ${fmt(row.cpuSec)} | ${fmtInt(row.peakRssMB)} | ${fmt(row.brokerCpuSec)} | ${okCell(row)} |`,
    );
  }
  return out.join('\n');
}

/** S6 (keyed, many partitions): one row per partition count and client. */
function keyedTable(rows, broker, scenarioIds, clientIds) {
  const out = [
    '| partitions | client | msg/s | CPU s | CPU µs per record | peak RSS MB | broker CPU s | runs ok |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const sid of scenarioIds) {
    const parts = SCENARIOS.find((x) => x.id === sid)?.partitions;
    for (const cid of clientIds) {
      const row = find(rows, broker, sid, cid);
      if (!row) continue;
      const label = clientById[cid]?.label ?? cid;
      if (row.ok === 0) {
        out.push(`| ${fmtInt(parts)} | ${label} | ${failedCell(row)} | | | | | ${okCell(row)} |`);
        continue;
      }
      out.push(
        `| ${fmtInt(parts)} | ${label} | ${fmtInt(row.msgsPerSec)} | ${fmt(row.cpuSec)} | ${fmt(row.cpuPerMillion, 2)} | ${fmtInt(row.peakRssMB)} | ${fmt(row.brokerCpuSec)} | ${okCell(row)} |`,
      );
    }
  }
  return out.join('\n');
}

/** S7 (transactional): one row per client, with its msg/s as a multiple of the Java producer's. */
function transactionalTable(rows, broker, clientIds) {
  const out = [
    '| client | msg/s | × Java | CPU s | peak RSS MB | broker CPU s | runs ok |',
    '| --- | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  const java = find(rows, broker, '7', 'java');
  const javaRate = java && java.ok > 0 ? java.msgsPerSec : null;
  for (const cid of clientIds) {
    const row = find(rows, broker, '7', cid);
    if (!row) continue;
    const label = clientById[cid]?.label ?? cid;
    if (row.ok === 0) {
      out.push(`| ${label} | ${failedCell(row)} | | | | | ${okCell(row)} |`);
      continue;
    }
    const ratio = javaRate ? fmt(row.msgsPerSec / javaRate, 2) : '–';
    out.push(`| ${label} | ${fmtInt(row.msgsPerSec)} | ${ratio} | ${fmt(row.cpuSec)} | ${fmtInt(row.peakRssMB)} | ${fmt(row.brokerCpuSec)} | ${okCell(row)} |`);
  }
  return out.join('\n');
}

/**
 * The cost of TLS (and SASL) on the send path, a figure and not a target: each
 * client's medians on a secured listener next to its PLAINTEXT medians on the
 * same Kafka node, with the ratios (msg/s secured ÷ plaintext, CPU s secured ÷ plaintext).
 */
function tlsCostTable(rows, scenarioIds, clientIds) {
  const kinds = SECURE_KINDS.filter((k) => rows.some((r) => r.broker === k));
  const out = [
    '| scenario | client | listener | PLAINTEXT msg/s | secured msg/s | msg/s ratio | PLAINTEXT CPU s | secured CPU s | CPU ratio | broker CPU s (PLAINTEXT / secured) | runs ok |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
  ];
  for (const sid of scenarioIds) {
    for (const cid of clientIds) {
      const plain = find(rows, 'kafka', sid, cid);
      for (const k of kinds) {
        const sec = find(rows, k, sid, cid);
        if (!plain || !sec || plain.ok === 0 || sec.ok === 0) continue;
        out.push(
          `| ${sid} | ${clientById[cid]?.label ?? cid} | ${KAFKA_SECURE_KINDS[k]} | ${fmtInt(plain.msgsPerSec)} | ${fmtInt(sec.msgsPerSec)} | ${(sec.msgsPerSec / plain.msgsPerSec).toFixed(2)}× | ` +
            `${fmt(plain.cpuSec)} | ${fmt(sec.cpuSec)} | ${(sec.cpuSec / plain.cpuSec).toFixed(2)}× | ${fmt(plain.brokerCpuSec)} / ${fmt(sec.brokerCpuSec)} | ${plain.ok}/${plain.runs} · ${sec.ok}/${sec.runs} |`,
        );
      }
    }
  }
  return out.length > 2 ? out.join('\n') : null;
}

// ------------------------------------------------------------------ targets
export function targets(rows) {
  const v = (b, s, c, f) => {
    const r = find(rows, b, s, c);
    return r && r.ok > 0 ? r[f] : null;
  };
  const ratio = (a, b) => (a !== null && b !== null && b > 0 ? a / b : null);
  const out = [];
  // The light brokers decide, the mock first, then kfake (where @platformatic/kafka
  // and the Java producer run, which the mock cannot serve); real Kafka only
  // when neither measured both sides.
  const decide = (vals, ok) => {
    for (const b of ['mock', 'kfake']) {
      if (vals[b] !== null) return { verdict: `${ok(vals[b]) ? 'met' : 'missed'}${b === 'mock' ? '' : ' on kfake'}`, where: b };
    }
    if (vals.kafka !== null) return { verdict: `${ok(vals.kafka) ? 'met' : 'missed'} on Kafka only`, where: 'kafka' };
    return { verdict: 'not measured', where: null };
  };
  const ratioTarget = (name, scen, ours, peer, min, metric = 'msgsPerSec') => {
    const vals = Object.fromEntries(BROKERS.map((b) => [b, ratio(v(b, scen, ours, metric), v(b, scen, peer, metric))]));
    const cell = (b) =>
      vals[b] === null ? (find(rows, b, scen, peer)?.ok === 0 ? `n/a (${clientById[peer].label} failed on ${BROKER_SHORT[b]})` : 'n/a') : `${vals[b].toFixed(2)}×`;
    out.push({ target: name, mock: cell('mock'), kfake: cell('kfake'), kafka: cell('kafka'), ...decide(vals, (x) => x >= min) });
  };
  ratioTarget('S1 100 B acks=1: callback ≥ 3× @platformatic/kafka', '1a', 'ours-cb', 'platformatic', 3);
  ratioTarget('S1 100 B acks=1: callback ≥ 0.6× librdkafka C', '1a', 'ours-cb', 'c', 0.6);
  ratioTarget('S1 100 B acks=1: promise ≥ 2× @platformatic/kafka', '1a', 'ours-promise', 'platformatic', 2);
  const absTarget = (name, scen, client, field, max, unit, d = 2) => {
    const vals = Object.fromEntries(BROKERS.map((b) => [b, v(b, scen, client, field)]));
    const cell = (b) => (vals[b] === null ? 'n/a' : `${vals[b].toFixed(d)} ${unit}`);
    out.push({ target: name, mock: cell('mock'), kfake: cell('kfake'), kafka: cell('kafka'), ...decide(vals, (x) => x <= max) });
  };
  absTarget('CPU per 1,000,000 records of 100 B ≤ 1.0 s (S1 acks=1, callback)', '1a', 'ours-cb', 'cpuPerMillion', 1.0, 's');
  absTarget('CPU per 1,000,000 records of 100 B ≤ 1.0 s (S1 acks=all, callback)', '1b', 'ours-cb', 'cpuPerMillion', 1.0, 's');
  absTarget('CPU per 1,000,000 records of 100 B ≤ 1.0 s (S1 acks=1, promise)', '1a', 'ours-promise', 'cpuPerMillion', 1.0, 's');
  absTarget('peak RSS S1 (default buffer.memory) ≤ 120 MB (acks=1, callback)', '1a', 'ours-cb', 'peakRssMB', 120, 'MB', 0);
  absTarget('peak RSS S1 (default buffer.memory) ≤ 120 MB (acks=all, callback)', '1b', 'ours-cb', 'peakRssMB', 120, 'MB', 0);
  absTarget('peak RSS S1 (default buffer.memory) ≤ 120 MB (acks=1, promise)', '1a', 'ours-promise', 'peakRssMB', 120, 'MB', 0);
  ratioTarget('S3 ≥ 2× node-rdkafka (callback)', '3', 'ours-cb', 'node-rdkafka', 2);
  ratioTarget('S3 ≥ 2× node-rdkafka (promise)', '3', 'ours-promise', 'node-rdkafka', 2);
  absTarget('S4 p99 ≤ 1 ms (callback)', '4', 'ours-cb', 'p99', 1, 'ms', 3);
  absTarget('S4 p99 ≤ 1 ms (promise)', '4', 'ours-promise', 'p99', 1, 'ms', 3);
  for (const [scen, client] of [
    ['1a', 'ours-cb'],
    ['1b', 'ours-cb'],
    ['1a', 'ours-promise'],
    ['1b', 'ours-promise'],
  ]) {
    const k = ratio(v('kafka', scen, client, 'msgsPerSec'), v('kafka', scen, 'java', 'msgsPerSec'));
    out.push({
      target: `S1 on real Kafka ≥ 1.0× the Java producer (${scen === '1a' ? 'acks=1' : 'acks=all'}, ${client === 'ours-cb' ? 'callback' : 'promise'})`,
      mock: '–',
      kfake: '–',
      kafka: k === null ? 'n/a' : `${k.toFixed(2)}×`,
      verdict: k === null ? 'not measured' : k >= 1 ? 'met' : 'missed',
      where: 'kafka',
    });
  }
  // Issue 11: transactions (S7) on real Kafka at least as fast as the Java producer.
  for (const client of ['ours-cb', 'ours-promise']) {
    const k = ratio(v('kafka', '7', client, 'msgsPerSec'), v('kafka', '7', 'java', 'msgsPerSec'));
    if (k === null && !find(rows, 'kafka', '7', client)) continue;
    out.push({
      target: `S7 transactional on real Kafka ≥ 1.0× the Java producer (${client === 'ours-cb' ? 'callback' : 'promise'})`,
      mock: '–',
      kfake: '–',
      kafka: k === null ? 'n/a' : `${k.toFixed(2)}×`,
      verdict: k === null ? 'not measured' : k >= 1 ? 'met' : 'missed',
      where: 'kafka',
    });
  }
  return out;
}

function targetsTable(ts) {
  return [
    '| target | mock cluster | kfake | real Kafka | verdict |',
    '| --- | ---: | ---: | ---: | --- |',
    ...ts.map((t) => `| ${t.target} | ${t.mock} | ${t.kfake ?? '–'} | ${t.kafka} | ${t.verdict} |`),
  ].join('\n');
}

// ------------------------------------------------------------------ SVG chart
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(rows, meta) {
  const scen = ['1a', '1b', '2a', '2b', '3'].filter((s) => rows.some((r) => r.scenario === s));
  const brokers = SECTION_BROKERS.filter((b) => rows.some((r) => r.broker === b && scen.includes(r.scenario)));
  const clientIds = CLIENTS.map((c) => c.id).filter((c) => rows.some((r) => r.client === c));
  const W = 1100;
  const labelW = 190;
  const panelA = { x: labelW + 10, w: 450 };
  const panelB = { x: panelA.x + panelA.w + 90, w: 260 };
  const rowH = 15;
  const parts = [];
  let y = 0;
  const text = (x, yy, s, attrs = '') => parts.push(`<text x="${x}" y="${yy}" ${attrs}>${esc(s)}</text>`);
  y += 24;
  text(10, y, `Kafka producers side by side${meta.quick ? ' — QUICK smoke run (10x fewer records)' : ''}: medians of ${meta.repeats} runs`, 'font-size="16" font-weight="bold"');
  y += 18;
  text(
    10,
    y,
    `Left: messages/s (longer is faster). Right: CPU seconds of the client process per 1,000,000 records (longer costs more). ${meta.machine.nproc} × ${meta.machine.cpuModel}, Node ${meta.machine.node}, ${meta.started.slice(0, 10)}.`,
    'font-size="11" fill="#555"',
  );
  // legend
  let lx = 10;
  y += 22;
  for (const cid of clientIds) {
    const c = clientById[cid];
    parts.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${c.color}"/>`);
    text(lx + 16, y, c.label, 'font-size="11"');
    lx += 30 + c.label.length * 6.2;
  }
  for (const b of brokers) {
    y += 32;
    parts.push(`<line x1="10" y1="${y - 18}" x2="${W - 10}" y2="${y - 18}" stroke="#ccc"/>`);
    text(10, y, brokerTitle(meta, b), 'font-size="14" font-weight="bold"');
    y += 16;
    text(panelA.x, y, 'messages/s', 'font-size="11" fill="#555" font-weight="bold"');
    text(panelB.x, y, 'client CPU s per 1M records', 'font-size="11" fill="#555" font-weight="bold"');
    for (const s of scen) {
      const title = SCENARIOS.find((x) => x.id === s)?.title ?? s;
      const grp = clientIds.map((c) => find(rows, b, s, c)).filter(Boolean);
      if (!grp.length) continue;
      y += 20;
      text(10, y, title, 'font-size="12" font-weight="bold" fill="#333"');
      const maxA = Math.max(1, ...grp.map((r) => r.msgsPerSec ?? 0));
      const maxB = Math.max(0.001, ...grp.map((r) => r.cpuPerMillion ?? 0));
      for (const r of grp) {
        const c = clientById[r.client];
        y += rowH;
        text(labelW, y, c.label, 'font-size="11" text-anchor="end"');
        if (r.ok === 0 || r.msgsPerSec === null) {
          text(panelA.x + 2, y, 'failed', 'font-size="11" fill="#b00" font-style="italic"');
          text(panelB.x + 2, y, 'failed', 'font-size="11" fill="#b00" font-style="italic"');
          continue;
        }
        const wa = Math.max(1, (r.msgsPerSec / maxA) * panelA.w);
        parts.push(`<rect x="${panelA.x}" y="${y - 10}" width="${wa.toFixed(1)}" height="11" fill="${c.color}"/>`);
        text(panelA.x + wa + 4, y, fmtInt(r.msgsPerSec), 'font-size="10"');
        const wb = Math.max(1, (r.cpuPerMillion / maxB) * panelB.w);
        parts.push(`<rect x="${panelB.x}" y="${y - 10}" width="${wb.toFixed(1)}" height="11" fill="${c.color}" fill-opacity="0.75"/>`);
        text(panelB.x + wb + 4, y, `${r.cpuPerMillion.toFixed(2)} s`, 'font-size="10"');
      }
    }
  }
  y += 24;
  const H = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}

// ------------------------------------------------------------------ Markdown
function machineLine(m) {
  return `${m.nproc} × ${m.cpuModel} (nproc ${m.nproc}), ${m.memGiB} GiB RAM, ${m.os}, Linux ${m.kernel}; Node ${m.node}; ${m.java}; librdkafka ${m.librdkafka} (Debian)${m.git ? `; kafka-producer-ts at ${m.git}` : ''}`;
}

function settingsTable(meta) {
  const lines = ['| client | version | settings | idempotence at acks=all |', '| --- | --- | --- | --- |'];
  for (const c of meta.clients) {
    const a = meta.availability[c.id] ?? {};
    const version = a.version ?? '?';
    lines.push(`| ${c.label} | ${version}${a.available === false ? ` (**unavailable**: ${shorten(a.reason ?? '', 120)})` : ''} | ${c.settings} | ${c.idempotence} |`);
  }
  return lines.join('\n');
}

function brokerCpuText(rows, meta) {
  const lines = [];
  for (const b of SECTION_BROKERS) {
    const rs = rows.filter((r) => r.broker === b && r.ok > 0 && r.scenario !== '4');
    if (!rs.length) continue;
    // broker CPU relative to the run's elapsed time: cores the broker kept busy
    const busy = rs.map((r) => ({ r, cores: r.brokerCpuSec / (r.elapsedMs / 1000) }));
    const maxB = busy.reduce((a, x) => (x.cores > a.cores ? x : a));
    const info = meta.brokers[b] ?? {};
    lines.push(
      `- **${brokerTitle(meta, b)}**: median broker CPU per run from ${fmt(Math.min(...rs.map((r) => r.brokerCpuSec)))} to ${fmt(Math.max(...rs.map((r) => r.brokerCpuSec)))} s; ` +
        `at most ${maxB.cores.toFixed(2)} cores busy on average during a run (${maxB.r.scenario}, ${clientById[maxB.r.client]?.label}); ` +
        `${fmt(info.cpuSecTotal, 1)} s over the whole ${b} part of the run` +
        (info.rssMBAtEnd ? `; broker RSS at the end ${Math.round(info.rssMBAtEnd)} MB` : '') +
        (info.peakRssMB ? `, peak ${Math.round(info.peakRssMB)} MB` : '') +
        '.',
    );
  }
  return lines.join('\n');
}

function scenarioList(meta) {
  return meta.scenarios
    .map((s) => `- **${s.id}** — ${s.title}: ${s.records.toLocaleString('en-US')} records${s.warmupRecords ? ` (+${s.warmupRecords.toLocaleString('en-US')} warm-up)` : ''}; idempotence ${s.idempotence === 'off' ? 'off for every client' : s.transactionRecords ? 'on for every client (a transactional id needs it)' : "each client's default"}.`)
    .join('\n');
}

/** docs/performance.md: the measured part sits between these marker lines; the rest is written by hand. */
export const DOCS_PERFORMANCE = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));
export const DOCS_START = '<!-- bench-report:start -->';
export const DOCS_END = '<!-- bench-report:end -->';

/**
 * Markdown of a run. `forDocs`: the part of docs/performance.md between the
 * markers (method, tables, chart, broker CPU, settings, failed runs), with
 * links relative to docs/; otherwise the full report that sits next to the JSON.
 */
export function markdown({ meta, rows, runs, probes, svgName, forDocs = false }) {
  const clientIds = CLIENTS.map((c) => c.id).filter((c) => rows.some((r) => r.client === c));
  const tput = ['1a', '1b', '2a', '2b', '3'].filter((s) => rows.some((r) => r.scenario === s));
  const keyed = SCENARIOS.filter((s) => s.keys && rows.some((r) => r.scenario === s.id)).map((s) => s.id);
  const h = '##';
  const parts = [];
  if (forDocs) {
    parts.push('## Method', '');
    parts.push(
      'Side by side with other Kafka producers, each in its own process, against the same broker in one run; runs alternate between clients, each scenario is repeated ' +
        `${meta.repeats} times and the median is shown. Every run produces to a fresh 4-partition topic${keyed.length ? ' (S6: 4, 1,024 or 4,096 partitions)' : ''} and counts only if the broker then holds exactly the records sent (the sum of the partitions' high-water marks${rows.some((r) => r.scenario === '7') ? '; S7: the records a read_committed consumer reads' : ''}). ` +
        'Details, definitions and raw numbers: [bench/README.md](../bench/README.md), [bench/results/](../bench/results/).',
      '',
    );
  } else {
    parts.push(`# Producer benchmark results${meta.quick ? ' (QUICK smoke run, 10x fewer records)' : ''}`, '');
  }
  const missing = meta.clients.filter((c) => meta.availability?.[c.id]?.available === false)
  if (missing.length) {
    // A peer that could not be built or probed is said first, never dropped quietly.
    parts.push(`**Peers missing from this run**: ${missing.map((c) => `${c.label} (${shorten(meta.availability[c.id].reason ?? 'unavailable', 160)})`).join('; ')}.`, '')
  }
  parts.push(`- Command: \`${meta.command}\` (wall time ${(meta.wallSec / 60).toFixed(1)} min, started ${meta.started})`);
  parts.push(`- Machine: ${machineLine(meta.machine)}`);
  parts.push(`- msg/s and MB/s (10^6 bytes of values per second) over the time from the first send to the last acknowledgement; CPU s = user + system seconds of the whole client process (start-up included), peak RSS = its maximum resident set (both from GNU time); broker CPU s = the broker process's CPU during the run.`);
  parts.push('');
  parts.push(`${h} Scenarios`, '', scenarioList(meta), '');
  for (const b of SECTION_BROKERS) {
    if (!rows.some((r) => r.broker === b)) continue;
    parts.push(`${h} ${brokerTitle(meta, b)}`, '');
    if (meta.brokers[b]?.startError) parts.push(`**The broker failed to start**: ${meta.brokers[b].startError}`, '');
    if (tput.length) parts.push(throughputTable(rows, b, tput, clientIds), '');
    if (rows.some((r) => r.broker === b && r.scenario === '4')) parts.push(`Latency (S4), send() to acknowledgement:`, '', latencyTable(rows, b, clientIds), '');
    if (keyed.some((sid) => rows.some((r) => r.broker === b && r.scenario === sid))) {
      // CPU µs per record = CPU s per 1,000,000 records (the scenario's records, start-up included).
      parts.push('Keyed, many partitions (S6):', '', keyedTable(rows, b, keyed, clientIds), '');
    }
    if (rows.some((r) => r.broker === b && r.scenario === '7')) {
      parts.push(
        'Transactional (S7), a commit every 10,000 records; a run passes if a read_committed consumer then sees exactly the records sent:',
        '',
        transactionalTable(rows, b, clientIds),
        '',
      );
    }
  }
  const tls = tput.length ? tlsCostTable(rows, tput, clientIds) : null;
  if (tls) {
    parts.push(
      `${h} TLS cost`,
      '',
      'The same Kafka node over its PLAINTEXT listener and its secured listener(s) (certificates made for the run with openssl; SSL verifies the server certificate, no client certificate; SASL_SSL adds SCRAM-SHA-512, or PLAIN for librdkafka C 2.0.2, whose SCRAM Kafka 4 rejects). A ratio is secured ÷ PLAINTEXT; a figure, not a target.',
      '',
      tls,
      '',
    );
  }
  parts.push(`![messages/s and CPU per client](${forDocs ? '../bench/results/' : ''}${svgName})`, '');
  if (!forDocs) parts.push(`${h} Targets`, '', "Medians of this run. The light brokers are the reference: the mock cluster first; where a figure is missing there (@platformatic/kafka and the Java producer cannot run on it), kfake's; only where neither has it, real Kafka's.", '', targetsTable(targets(rows)), '');
  parts.push(`${h} Broker CPU`, '', brokerCpuText(rows, meta), '');
  parts.push(`${h} Settings per client`, '', settingsTable(meta), '');
  parts.push(
    'Idempotence: at acks=1 it is off for every client (it needs acks=all). At acks=all each client keeps its default: on for kafka-producer-ts and the Java producer, off for librdkafka/node-rdkafka, kafkajs and @platformatic/kafka. No compression anywhere. Keys are null; values are one reused buffer of the scenario size.' +
      (keyed.length
        ? ' Except in S6: record i has the key `key-<i mod 100,000>`, placed by murmur2 (Java\'s default partitioner; librdkafka\'s murmur2_random), and a run there also fails unless every partition holds exactly the records that placement gives it.'
        : ''),
    '',
  );
  const failedRuns = runs.filter((r) => r.status === 'failed' && !r.probe);
  const failedProbes = (probes ?? []).filter((p) => p.status !== 'ok');
  if (failedRuns.length || failedProbes.length) {
    parts.push(`${h} Failed runs`, '');
    const byReason = new Map();
    for (const r of failedRuns) {
      const k = `${r.broker} · ${clientById[r.client]?.label ?? r.client} · ${displayReason(r.reason)}`;
      byReason.set(k, [...(byReason.get(k) ?? []), `${r.scenario}#${r.repeat}`]);
    }
    for (const p of failedProbes) parts.push(`- probe on ${p.broker}, ${clientById[p.client]?.label ?? p.client}: ${shorten(displayReason(p.reason, { full: true }), 500)}`);
    for (const [k, ids] of byReason) parts.push(`- ${shorten(k, 400)} (${ids.length} run${ids.length > 1 ? 's' : ''}: ${ids.slice(0, 12).join(', ')}${ids.length > 12 ? ', …' : ''})`);
    parts.push('');
  }
  if (!forDocs) {
    const discarded = runs.filter((r) => r.status === 'discarded');
    const kept = runs.filter((r) => !r.probe && r.status !== 'discarded' && r.noisy);
    const list = (rs) =>
      rs
        .slice(0, 30)
        .map((r) => `${r.broker} ${r.scenario} ${r.client}#${r.repeat} (${r.otherCpuSec} s)`)
        .join(', ') + (rs.length > 30 ? ', …' : '');
    parts.push('## Noise', '');
    parts.push(
      'A run counts as noisy when other processes on the machine used more than 0.25 cores on average (and over 0.5 s of CPU) while it ran (`otherCpuSec` in the JSON). ' +
        `A noisy run that passed is redone, up to ${meta.noiseRetries ?? 2} times per run and 40 in all, after waiting for a quiet machine; the noisy one stays in the JSON with status "discarded" and is not in the medians. ` +
        `Waiting for a quiet machine took ${meta.quietWaitSec ?? 0} s in all.`,
      '',
    );
    parts.push(discarded.length ? `- Discarded and redone (${discarded.length}): ${list(discarded)}.` : '- No run was discarded.');
    parts.push(kept.length ? `- Noisy but kept (retries used up) (${kept.length}): ${list(kept)}.` : '- No noisy run is in the medians.');
    parts.push('');
    parts.push('## All runs', '');
    parts.push('Every measured run in order (probes and the broker warm-up are in the JSON). Broker CPU is read from /proc/<pid>/stat before and after each run.', '');
    parts.push('| broker | scenario | client | repeat | status | msg/s | p99 ms | CPU s | peak RSS MB | broker CPU s | other CPU s |');
    parts.push('| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of runs) {
      if (r.probe || r.cpuSec === undefined) continue;
      parts.push(
        `| ${r.broker} | ${r.scenario} | ${r.client} | ${r.repeat} | ${r.status === 'ok' ? 'ok' : r.status === 'discarded' ? 'discarded (noisy)' : `**failed**: ${shorten(displayReason(r.reason), 80)}`} | ` +
          `${fmtInt(r.msgsPerSec)} | ${r.latency ? fmt(r.latency.p99, 3) : ''} | ${fmt(r.cpuSec)} | ${fmtInt(r.peakRssMB)} | ${fmt(r.brokerCpuSec)} | ${fmt(r.otherCpuSec)} |`,
      );
    }
    const notRun = runs.filter((r) => !r.probe && r.cpuSec === undefined).length;
    if (notRun) parts.push('', `${notRun} runs were not started (client unavailable or failed its probe on that broker); see Failed runs.`);
    parts.push('');
  }
  return parts.join('\n');
}

/** The docs/performance.md block of a results JSON ({ meta, runs, probes }), as the full run writes it. */
export function docsSection({ meta, runs, probes, svgName = 'chart.svg' }) {
  return markdown({ meta, rows: summarize(runs), runs, probes, svgName, forDocs: true });
}

/** Replaces the block between DOCS_START and DOCS_END of `file`; false when a marker is missing. */
export function spliceDocs(file, block) {
  const text = fs.readFileSync(file, 'utf8');
  const i = text.indexOf(DOCS_START);
  const j = text.indexOf(DOCS_END, i + DOCS_START.length);
  if (i < 0 || j < 0) return false;
  const updated = `${text.slice(0, i + DOCS_START.length)}\n${block.trimEnd()}\n${text.slice(j)}`;
  if (updated !== text) fs.writeFileSync(file, updated);
  return true;
}

export function writeReports({ meta, runs, probes, outName, dir }) {
  fs.mkdirSync(dir, { recursive: true });
  const rows = summarize(runs);
  const svgName = `${outName === 'results' ? 'chart' : `${outName}-chart`}.svg`;
  const files = [];
  const w = (name, text) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    files.push(f);
  };
  w(`${outName}.json`, `${JSON.stringify({ meta, medians: rows, targets: targets(rows), runs, probes }, null, 2)}\n`);
  w(svgName, svgChart(rows, meta));
  w(`${outName}.md`, markdown({ meta, rows, runs, probes, svgName }));
  const section = markdown({ meta, rows, runs, probes, svgName, forDocs: true });
  w(`${outName === 'results' ? 'performance-section' : `${outName}-performance-section`}.md`, section);
  // Only the full default run (and --rerender results) is the published one.
  if (outName === 'results') {
    if (fs.existsSync(DOCS_PERFORMANCE) && spliceDocs(DOCS_PERFORMANCE, section)) files.push(DOCS_PERFORMANCE);
    else console.warn(`[bench] ${DOCS_PERFORMANCE}: markers ${DOCS_START} / ${DOCS_END} not found; the section is in ${path.join(dir, 'performance-section.md')}`);
  }
  return files;
}
