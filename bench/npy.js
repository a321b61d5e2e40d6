// npy.js: .npy files <-> onnxruntime-node tensors, for bench/ort_bench.js and
// the ONNX Runtime interop check (tests/interop/ort_run.js).
'use strict';

const fs = require('fs');

const NPY_TYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '|u1': ['uint8', Uint8Array], '|i1': ['int8', Int8Array], '|b1': ['bool', Uint8Array],
};

function readNpy(ort, file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  if (major < 1 || major > 3) throw new Error(`${file}: .npy version ${major} not supported`);
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > buf.length) throw new Error(`${file}: header length ${hlen} past the end of the file`);
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape) throw new Error(`${file}: bad .npy header '${header.trim()}'`);
  if (order[1] === 'True') throw new Error(`${file}: Fortran-order arrays are not supported`);
  const t = NPY_TYPES[descr[1]];
  if (!t) throw new Error(`${file}: dtype '${descr[1]}' not supported (have ${Object.keys(NPY_TYPES).join(' ')})`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const numel = dims.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (buf.length - start !== numel * t[1].BYTES_PER_ELEMENT) {
    throw new Error(`${file}: ${buf.length - start} data bytes, expected ${numel * t[1].BYTES_PER_ELEMENT} for shape (${dims})`);
  }
  // Copy into an aligned buffer (the data offset need not be aligned).
  const data = new t[1](numel);
  Buffer.from(data.buffer).set(buf.subarray(start));
  return new ort.Tensor(t[0] === 'bool' ? 'bool' : t[0], data, dims);
}


const NPY_DESCR = {float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1', bool: '|b1'};

// Writes an ort.Tensor as a version-1 .npy file.
function writeNpy(file, tensor) {
  const descr = NPY_DESCR[tensor.type];
  if (!descr) throw new Error(`${file}: tensor type ${tensor.type} has no .npy writer`);
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), data]));
}

module.exports = {readNpy, writeNpy};
