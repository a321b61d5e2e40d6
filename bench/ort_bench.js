#!/usr/bin/env node
// ort_bench.js: the ONNX Runtime (onnxruntime-node, CPU) peer of `mecbench
// bench`: same options, same measurements, same JSON keys, so bench/run.sh
// can put the two side by side.
'use strict';

const fs = require('fs');
const path = require('path');

function usage(out) {
  out.write(
      'usage: node bench/ort_bench.js MODEL [options]\n\n' +
      'Times MODEL in ONNX Runtime (CPU): load (InferenceSession.create), the cold first run,\n' +
      'then --warmup untimed runs and --runs timed runs; p50/p90/p99, load time, peak RSS.\n\n' +
      'options:\n' +
      '  --input NAME=FILE   an input as .npy; inputs not given are filled with seeded random\n' +
      '                      values (floats in [-1,1), integers 0/1), as mecbench does\n' +
      '  --shape NAME=DIMS   shape for a random input with dynamic dims (default: 1 for each)\n' +
      '  --runs N            timed runs (default 50)\n' +
      '  --warmup N          untimed runs first (default 5)\n' +
      '  --threads N         intra-op threads (default 1); inter-op threads are always 1\n' +
      '  --json              machine-readable result on stdout\n' +
      '  --seed N            seed of the random inputs (default 1)\n' +
      '  -h, --help          this help\n');
}

function fail(msg) {
  process.stderr.write('ort_bench: ' + msg + '\n');
  process.exit(2);
}

function parseIntArg(s, lo, hi, what) {
  if (!/^[0-9]+$/.test(s || '')) fail(`${what}: expected an integer, got '${s}'`);
  const v = Number(s);
  if (v < lo || v > hi) fail(`${what}: ${v} is outside [${lo}, ${hi}]`);
  return v;
}

function parseNamed(s, what) {
  const eq = (s || '').indexOf('=');
  if (eq <= 0) fail(`${what} '${s}': expected NAME=VALUE`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

function parseArgs(argv) {
  const o = {model: null, inputs: {}, shapes: {}, runs: 50, warmup: 5, threads: 1, json: false, seed: 1};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`option ${a} needs a value`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') {
      usage(process.stdout);
      process.exit(0);
    } else if (a === '--input') {
      const [n, f] = parseNamed(val(), '--input');
      o.inputs[n] = f;
    } else if (a === '--shape') {
      const [n, d] = parseNamed(val(), '--shape');
      if (!/^[0-9]+(x[0-9]+)*$/.test(d)) fail(`--shape '${n}=${d}': expected NAME=DIMS like x=1x3x224x224`);
      o.shapes[n] = d.split('x').map(Number);
    } else if (a === '--runs') {
      o.runs = parseIntArg(val(), 1, 1000000, '--runs');
    } else if (a === '--warmup') {
      o.warmup = parseIntArg(val(), 0, 1000000, '--warmup');
    } else if (a === '--threads') {
      o.threads = parseIntArg(val(), 1, 1024, '--threads');
    } else if (a === '--seed') {
      o.seed = parseIntArg(val(), 0, 1 << 30, '--seed');
    } else if (a === '--json') {
      o.json = true;
    } else if (a.startsWith('-')) {
      fail(`unknown option '${a}' (see --help)`);
    } else if (!o.model) {
      o.model = a;
    } else {
      fail(`unexpected argument '${a}' (see --help)`);
    }
  }
  if (!o.model) {
    usage(process.stderr);
    process.exit(2);
  }
  return o;
}

// .npy reader (format versions 1-3, C order, little-endian or byte-sized).
const {readNpy: readNpyOrThrow} = require('./npy.js');

function readNpy(ort, file) {
  try {
    return readNpyOrThrow(ort, file);
  } catch (e) {
    fail(e.message);
  }
}

// The same xorshift as mecbench's mec_cli_fill_random, so random inputs agree.
function randomTensor(ort, type, dims, seed) {
  const mask = (1n << 64n) - 1n;
  let x = (BigInt(seed) * 0x9E3779B97F4A7C15n + 1n) & mask;
  const numel = dims.reduce((a, b) => a * b, 1);
  const isFloat = type === 'float32' || type === 'float64';
  const ctor = {float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array,
                uint8: Uint8Array, int8: Int8Array, bool: Uint8Array}[type];
  if (!ctor) fail(`random input of type ${type} not supported; give --input`);
  const data = new ctor(numel);
  for (let i = 0; i < numel; i++) {
    x ^= (x << 13n) & mask;
    x ^= x >> 7n;
    x ^= (x << 17n) & mask;
    const u = Number(x >> 11n) / 9007199254740992.0;
    const v = isFloat ? 2.0 * u - 1.0 : (u < 0.5 ? 0 : 1);
    data[i] = type === 'int64' ? BigInt(v) : v;
  }
  return new ort.Tensor(type, data, dims);
}

function percentile(sorted, p) {
  const pos = p / 100 * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024;  // maxRSS is in KiB

async function main() {
  const o = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    process.stderr.write('ort_bench: cannot load onnxruntime-node (install it under bench/: ' +
                         'ONNXRUNTIME_NODE_INSTALL=skip npm install): ' + e.message + '\n');
    process.exit(3);
  }
  const baseRss = maxRssMb();  // node + the ORT library, before the model
  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: o.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  const t0 = performance.now();
  let sess;
  try {
    sess = await ort.InferenceSession.create(o.model, opts);
  } catch (e) {
    process.stderr.write(`ort_bench: ${o.model}: ${e.message}\n`);
    process.exit(1);
  }
  const loadMs = performance.now() - t0;

  const meta = {};
  for (const m of sess.inputMetadata || []) meta[m.name] = m;
  for (const n of Object.keys(o.inputs).concat(Object.keys(o.shapes))) {
    if (!sess.inputNames.includes(n)) fail(`${o.model} has no input '${n}' (inputs: ${sess.inputNames.join(', ')})`);
  }
  const feeds = {};
  sess.inputNames.forEach((name, k) => {
    if (o.inputs[name]) {
      feeds[name] = readNpy(ort, o.inputs[name]);
      return;
    }
    const m = meta[name] || {};
    const dims = o.shapes[name] || (m.shape || []).map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    feeds[name] = randomTensor(ort, m.type || 'float32', dims, o.seed + k);
  });

  const lat = [];
  let firstMs = 0;
  for (let r = -1; r < o.warmup + o.runs; r++) {
    const s = performance.now();
    const out = await sess.run(feeds);
    const ms = performance.now() - s;
    for (const v of Object.values(out)) if (v.dispose) v.dispose();
    if (r < 0) firstMs = ms;
    else if (r >= o.warmup) lat.push(ms);
  }
  lat.sort((a, b) => a - b);
  const sum = lat.reduce((a, b) => a + b, 0);
  const res = {
    model: o.model, engine: 'onnxruntime', version: ort.env.versions ? ort.env.versions.node : '?',
    threads: o.threads, runs: o.runs, warmup: o.warmup, load_ms: +loadMs.toFixed(3),
    first_run_ms: +firstMs.toFixed(3), mean_ms: +(sum / o.runs).toFixed(4), min_ms: +lat[0].toFixed(4),
    p50_ms: +percentile(lat, 50).toFixed(4), p90_ms: +percentile(lat, 90).toFixed(4),
    p99_ms: +percentile(lat, 99).toFixed(4), max_ms: +lat[lat.length - 1].toFixed(4),
    peak_rss_mb: +maxRssMb().toFixed(1), base_rss_mb: +baseRss.toFixed(1),
  };
  if (typeof sess.release === 'function') await sess.release();
  if (o.json) {
    process.stdout.write(JSON.stringify(res) + '\n');
  } else {
    process.stdout.write(
        `model        ${res.model}\n` +
        `engine       onnxruntime-node ${res.version} (${o.threads} intra-op thread(s))\n` +
        `load         ${res.load_ms.toFixed(1)} ms\n` +
        `first run    ${res.first_run_ms.toFixed(2)} ms (cold)\n` +
        `latency      p50 ${res.p50_ms.toFixed(3)} ms   p90 ${res.p90_ms.toFixed(3)} ms   p99 ` +
        `${res.p99_ms.toFixed(3)} ms   (min ${res.min_ms.toFixed(3)}, mean ${res.mean_ms.toFixed(3)}, max ` +
        `${res.max_ms.toFixed(3)}; ${o.runs} runs after ${o.warmup} warm-up)\n` +
        `peak RSS     ${res.peak_rss_mb.toFixed(1)} MiB (${res.base_rss_mb.toFixed(1)} MiB before the model)\n`);
  }
}

main().catch((e) => {
  process.stderr.write('ort_bench: ' + (e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
