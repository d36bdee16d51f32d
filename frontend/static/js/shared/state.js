// The page state: the experiment config (docs/config.md) plus a little UI state.
// PROPS lists every property once; the URL hash is written and read from that list,
// so a shared link brings back the same network, data, seed and hyper-parameters.
// Both pages use it: the lab writes its shared config with these same keys.

/**
 * key: the short name in the URL; path: where it lives in the state;
 * type: how it is written; send: "configure" (rebuilds network/data), "set" (live) or "ui".
 */
export const PROPS = [
  { key: "data", path: "config.data.name", type: "str", send: "configure" },
  { key: "samples", path: "config.data.samples", type: "int", send: "configure" },
  { key: "noise", path: "config.data.noise", type: "float", send: "configure" },
  { key: "test", path: "config.data.test_fraction", type: "float", send: "configure" },
  { key: "hidden", path: "config.network.hidden", type: "layers", send: "configure" },
  { key: "loss", path: "config.network.loss", type: "str", send: "configure" },
  { key: "init", path: "config.network.init", type: "str", send: "configure" },
  { key: "dropout", path: "config.network.dropout", type: "float", send: "configure" },
  { key: "dtype", path: "config.network.dtype", type: "str", send: "configure" },
  { key: "bn", path: "config.network.batchnorm", type: "bool", send: "configure" },
  { key: "res", path: "config.network.residual", type: "bool", send: "configure" },
  { key: "seed", path: "config.seed", type: "int", send: "configure" },
  { key: "opt", path: "config.training.optimizer", type: "str", send: "set" },
  { key: "lr", path: "config.training.learning_rate", type: "float", send: "set" },
  { key: "batch", path: "config.training.batch_size", type: "int", send: "set" },
  { key: "momentum", path: "config.training.momentum", type: "float", send: "set" },
  { key: "rho", path: "config.training.rho", type: "float", send: "set" },
  { key: "beta1", path: "config.training.beta1", type: "float", send: "set" },
  { key: "beta2", path: "config.training.beta2", type: "float", send: "set" },
  { key: "eps", path: "config.training.eps", type: "float", send: "set" },
  { key: "wd", path: "config.training.weight_decay", type: "float", send: "set" },
  { key: "l1", path: "config.training.l1", type: "float", send: "set" },
  { key: "l2", path: "config.training.l2", type: "float", send: "set" },
  { key: "clip", path: "config.training.clip_norm", type: "float", send: "set" },
  { key: "speed", path: "ui.speed", type: "speed", send: "ui" },
  // An uploaded CSV: its content hash (the text stays in this browser's localStorage).
  { key: "csv", path: "config.data.csv", type: "str", send: "configure", csvOnly: true },
  { key: "target", path: "config.data.target", type: "str", send: "configure", csvOnly: true },
  { key: "task", path: "config.data.task", type: "str", send: "configure", csvOnly: true },
  // Stop condition for Play (empty: none) and the worked example shown.
  { key: "until_loss", path: "ui.until_loss", type: "float", send: "ui" },
  { key: "until_steps", path: "ui.until_steps", type: "int", send: "ui" },
  { key: "lesson", path: "ui.lesson", type: "str", send: "ui" },
  // A typed exercise (docs/lessons.md): the table, the output activation, given weights,
  // and the input features of 2-D data. Absent from a config that does not use them.
  { key: "x", path: "config.data.x", type: "json", send: "configure", tableOnly: true },
  { key: "y", path: "config.data.y", type: "json", send: "configure", tableOnly: true },
  { key: "features", path: "config.data.features", type: "list", send: "configure" },
  { key: "out", path: "config.network.output_activation", type: "str", send: "configure" },
  { key: "weights", path: "config.network.weights", type: "json", send: "configure" },
];

const BY_PATH = new Map(PROPS.map((p) => [p.path, p]));

const CODECS = {
  str: { write: (v) => String(v), read: (s) => s },
  int: {
    write: (v) => String(v),
    read: (s) => (/^-?\d+$/.test(s) ? Number(s) : undefined),
  },
  float: {
    write: (v) => String(v),
    read: (s) => {
      const n = Number(s);
      return s !== "" && Number.isFinite(n) ? n : undefined;
    },
  },
  bool: {
    write: (v) => (v ? "1" : "0"),
    read: (s) => ({ 1: true, true: true, 0: false, false: false })[s],
  },
  // "4:tanh,2:relu"; "none" for a network without hidden layer.
  layers: {
    write: (v) => (v.length ? v.map((l) => `${l.units}:${l.activation}`).join(",") : "none"),
    read: (s) => {
      if (s === "none") return [];
      const layers = s.split(",").map((part) => {
        const [units, activation] = part.split(":");
        return /^\d+$/.test(units) && /^[a-z_]+$/.test(activation ?? "")
          ? { units: Number(units), activation }
          : null;
      });
      return layers.every(Boolean) ? layers : undefined;
    },
  },
  // a JSON value (a table's rows, given weights)
  json: {
    write: (v) => JSON.stringify(v),
    read: (s) => {
      try {
        return JSON.parse(s);
      } catch {
        return undefined;
      }
    },
  },
  // "x1,x2,x1sq": a list of names
  list: {
    write: (v) => v.join(","),
    read: (s) => (/^[a-z0-9_]+(,[a-z0-9_]+)*$/.test(s) ? s.split(",") : undefined),
  },
  // steps per second, or "max" (null: as fast as possible)
  speed: {
    write: (v) => (v === null ? "max" : String(v)),
    read: (s) => (s === "max" ? null : Number(s) > 0 ? Number(s) : undefined),
  },
};

export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

export function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  let o = obj;
  for (const k of keys) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k];
  }
  o[last] = value;
}

/**
 * Take a frame's `hyper` (docs/protocol.md, frame: the training settings its step used) as the
 * state's live settings: every `set` property it names. True when one changed.
 */
export function applyHyper(state, hyper) {
  let changed = false;
  for (const prop of PROPS) {
    const key = prop.path.split(".").at(-1);
    if (prop.send !== "set" || !hyper || !(key in hyper) || getPath(state, prop.path) === hyper[key]) continue;
    setPath(state, prop.path, hyper[key]);
    changed = true;
  }
  return changed;
}

/** The property of a state path (`config.training.learning_rate` → its PROPS entry). */
export function propOf(path) {
  return BY_PATH.get(path);
}

/** A fresh state from the server's default config and the default UI state. */
export function createState(defaultConfig, defaultUi) {
  return { config: structuredClone(defaultConfig), ui: { ...defaultUi } };
}

/** The URL hash of a state: every property of PROPS, in order. */
export function toHash(state) {
  const parts = [];
  for (const p of PROPS) {
    const v = getPath(state, p.path);
    if (v === undefined || v === null || v === "") continue;
    if (p.csvOnly && getPath(state, "config.data.name") !== "csv") continue;
    if (p.tableOnly && getPath(state, "config.data.name") !== "table") continue;
    parts.push(`${p.key}=${encodeURIComponent(CODECS[p.type].write(v))}`);
  }
  return `#${parts.join("&")}`;
}

/**
 * Apply a URL hash to a state (in place). Unknown keys and unreadable values are
 * ignored: the server validates the config and the page shows its error.
 */
export function applyHash(state, hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  let applied = 0;
  for (const p of PROPS) {
    if (!params.has(p.key)) continue;
    const value = CODECS[p.type].read(params.get(p.key));
    if (value === undefined) continue;
    setPath(state, p.path, value);
    applied += 1;
  }
  return applied;
}

/**
 * A config made of `defaults` with the sections of `partial` merged over them (a section
 * object key by key, anything else — the seed — replaced): a worked example's config.
 */
export function overConfig(defaults, partial) {
  const config = structuredClone(defaults);
  for (const [section, values] of Object.entries(partial)) {
    if (values && typeof values === "object" && !Array.isArray(values)) config[section] = { ...config[section], ...structuredClone(values) };
    else config[section] = structuredClone(values);
  }
  return config;
}

/**
 * Keeps the URL hash in step with the state: `schedule()` writes `hash()` with
 * `history.replaceState` once calls have paused for `delayMs` (no history entry, no
 * `hashchange`). `isOurs(hash)` tells a `hashchange` of our own writing from a reader's edit.
 */
export class HashWriter {
  constructor(hash, delayMs, onWrite = () => {}) {
    this.hash = hash;
    this.delayMs = delayMs;
    this.onWrite = onWrite; // told each hash written (the main page keeps it: a reload is not a new link)
    this.timer = null;
    this.written = "";
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  /** Write now (a new run's config: a reload right after it must find the run's address). */
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    this.written = this.hash();
    if (location.hash !== this.written) history.replaceState(null, "", this.written);
    this.onWrite(this.written);
  }

  isOurs(hash) {
    return hash === this.written;
  }
}
