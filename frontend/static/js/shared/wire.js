// Binary frames (docs/protocol.md, "Binary frames"): a `frame` or `grid` as one binary
// websocket message — its structure as JSON, its arrays as one block of float32 numbers.
// `decode(buffer)` gives back the object the JSON text of the same message parses to:
// the numbers rounded to the same 6 significant digits, `null` for a non-finite one.

const VERSION = 1;
const FLOAT32 = 1;
const FLOAT64 = 2;
const HEADER_BYTES = 8;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TEN = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact doubles up to 1e22

/** A float32 value as the server's 6-significant-digit double (JSON's), or null. */
export function round6(v) {
  if (!Number.isFinite(v)) return null;
  if (v === 0) return v;
  const p = 5 - Math.floor(Math.log10(Math.abs(v)));
  if (p >= 0 && p <= 22) return Math.round(v * TEN[p]) / TEN[p];
  if (p < 0 && p >= -22) return Math.round(v / TEN[-p]) * TEN[-p];
  return Number(v.toPrecision(6));
}

function finite(v) {
  return Number.isFinite(v) ? v : null;
}

/** The numbers of a message: a typed array over the buffer (a copy on big-endian machines). */
function numbersOf(buffer, start, kind) {
  const size = kind === FLOAT32 ? 4 : 8;
  const count = (buffer.byteLength - start) / size;
  if (!Number.isInteger(count)) throw new Error("binary message: truncated numbers");
  const Typed = kind === FLOAT32 ? Float32Array : Float64Array;
  if (LITTLE_ENDIAN) return new Typed(buffer, start, count);
  const view = new DataView(buffer, start);
  const out = new Typed(count);
  for (let i = 0; i < count; i++) {
    out[i] = kind === FLOAT32 ? view.getFloat32(i * size, true) : view.getFloat64(i * size, true);
  }
  return out;
}

function nest(numbers, start, shape, depth, convert) {
  const n = shape[depth];
  const out = new Array(n);
  if (depth === shape.length - 1) {
    for (let i = 0; i < n; i++) out[i] = convert(numbers[start + i]);
    return out;
  }
  let step = 1;
  for (let d = depth + 1; d < shape.length; d++) step *= shape[d];
  for (let i = 0; i < n; i++) out[i] = nest(numbers, start + i * step, shape, depth + 1, convert);
  return out;
}

/** The message a binary websocket message (an ArrayBuffer) holds. Throws on a malformed one. */
export function decode(buffer) {
  if (buffer.byteLength < HEADER_BYTES) throw new Error("binary message: too short");
  const head = new DataView(buffer, 0, HEADER_BYTES);
  const version = head.getUint8(0);
  const kind = head.getUint8(1);
  const jsonBytes = head.getUint32(4, true);
  if (version !== VERSION) throw new Error(`binary message: unknown format ${version}`);
  if (kind !== FLOAT32 && kind !== FLOAT64) throw new Error(`binary message: number type ${kind}`);
  if (HEADER_BYTES + jsonBytes > buffer.byteLength) throw new Error("binary message: truncated");
  const text = new TextDecoder().decode(new Uint8Array(buffer, HEADER_BYTES, jsonBytes));
  const { message, arrays } = JSON.parse(text);
  const start = Math.ceil((HEADER_BYTES + jsonBytes) / 8) * 8;
  const numbers = numbersOf(buffer, start, kind);
  const convert = kind === FLOAT32 ? round6 : finite;
  let at = 0;
  for (const [path, shape] of arrays) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (at + size > numbers.length) throw new Error("binary message: too few numbers");
    const value = shape.length ? nest(numbers, at, shape, 0, convert) : convert(numbers[at]);
    at += size;
    let target = message;
    for (let i = 0; i < path.length - 1; i++) target = target[path[i]];
    target[path[path.length - 1]] = value;
  }
  if (at !== numbers.length) throw new Error("binary message: too many numbers");
  return message;
}
