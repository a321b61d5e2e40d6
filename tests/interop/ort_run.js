#!/usr/bin/env node
// ort_run.js: runs an ONNX model once in ONNX Runtime (onnxruntime-node, CPU)
// and writes every output as OUTDIR/<name>.npy — to check that ONNX Runtime
// runs what mecbench writes and agrees with mecbench.
//   node tests/interop/ort_run.js MODEL OUTDIR NAME=FILE.npy ...
'use strict';

const path = require('path');
const {readNpy, writeNpy} = require(path.join(__dirname, '..', '..', 'bench', 'npy.js'));

async function main() {
  const [model, outdir, ...inputs] = process.argv.slice(2);
  if (!model || !outdir) {
    process.stderr.write('usage: node tests/interop/ort_run.js MODEL OUTDIR NAME=FILE.npy ...\n');
    process.exit(2);
  }
  const ort = require(path.join(__dirname, '..', '..', 'bench', 'node_modules', 'onnxruntime-node'));
  const feeds = {};
  for (const arg of inputs) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new Error(`'${arg}': expected NAME=FILE.npy`);
    feeds[arg.slice(0, eq)] = readNpy(ort, arg.slice(eq + 1));
  }
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1});
  const results = await session.run(feeds);
  for (const name of session.outputNames) {
    const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
    writeNpy(path.join(outdir, `${safe}.npy`), results[name]);
  }
}

main().catch((e) => {
  process.stderr.write(`ort_run: ${e.message}\n`);
  process.exit(1);
});
