// The lab's experiments: what the two sides may differ in ("compare"), and the guided
// presets. Pure data and config plumbing; no DOM, no network math.
import { getPath } from "./state.js";

/**
 * What may differ between the two sides. `apply(config, value)` writes one side's value
 * into its config; `values` are the choices offered in each side's select; `pair` is the
 * default left/right pair; `requires` names a config key the server must know.
 */
export const COMPARES = {
  activation: {
    values: ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu", "linear"],
    pair: ["sigmoid", "relu"],
    label: (v) => `act.${v}`,
    apply: (config, v) => {
      config.network.hidden = config.network.hidden.map((l) => ({ ...l, activation: v }));
    },
    read: (config) => config.network.hidden[0]?.activation,
  },
  init: {
    values: ["naive", "uniform", "xavier_normal", "xavier_uniform", "he_normal", "he_uniform"],
    pair: ["naive", "he_normal"],
    label: (v) => `init.${v}`,
    apply: (config, v) => {
      config.network.init = v;
    },
    read: (config) => config.network.init,
  },
  optimizer: {
    values: ["sgd", "momentum", "rmsprop", "adam", "adamw"],
    pair: ["sgd", "adam"],
    label: (v) => `opt.${v}`,
    apply: (config, v) => {
      config.training.optimizer = v;
    },
    read: (config) => config.training.optimizer,
  },
  clip: {
    values: [0, 0.1, 0.5, 1, 5, 10, 100],
    pair: [0, 1],
    label: (v) => (v === 0 ? "lab.clip_off" : "lab.clip_value"),
    apply: (config, v) => {
      config.training.clip_norm = v;
    },
    read: (config) => config.training.clip_norm,
  },
  batchnorm: {
    values: [false, true],
    pair: [false, true],
    requires: "batchnorm",
    label: (v) => (v ? "lab.bn_on" : "lab.bn_off"),
    apply: (config, v) => applyFlag(config, "batchnorm", v),
    read: (config) => readFlag(config, "batchnorm"),
  },
  residual: {
    values: [false, true],
    pair: [false, true],
    requires: "residual",
    label: (v) => (v ? "lab.res_on" : "lab.res_off"),
    apply: (config, v) => applyFlag(config, "residual", v),
    read: (config) => readFlag(config, "residual"),
  },
};

/** How a value is written in the URL and read back (booleans as on/off). */
export function writeValue(compare, v) {
  if (typeof v === "boolean") return v ? "on" : "off";
  return String(v);
}

export function readValue(compare, s) {
  const values = COMPARES[compare]?.values ?? [];
  const v = typeof values[0] === "boolean" ? (s === "on" ? true : s === "off" ? false : undefined)
    : typeof values[0] === "number" ? Number(s) : s;
  return values.includes(v) ? v : undefined;
}

// BatchNorm / residual may arrive as one network-wide switch (`network.batchnorm`) or as a
// per-layer one (`network.hidden.*.batchnorm`); the server's default config tells which.
let flagShape = {};

function applyFlag(config, key, v) {
  if (flagShape[key] === "layer") config.network.hidden = config.network.hidden.map((l) => ({ ...l, [key]: v }));
  else config.network[key] = v;
}

function readFlag(config, key) {
  if (flagShape[key] === "layer") return Boolean(config.network.hidden[0]?.[key]);
  return Boolean(config.network[key]);
}

/**
 * Which optional config keys and choices this server knows, from its default config and
 * its config JSON Schema (e.g. the `nielsen` initialization, Nielsen's own recipe).
 */
export function detectFeatures(defaults, schema = null) {
  const features = {};
  const inits = schema?.properties?.network?.properties?.init?.enum;
  if (Array.isArray(inits) && inits.includes("nielsen")) {
    features.nielsen = true;
    if (!COMPARES.init.values.includes("nielsen")) COMPARES.init.values.push("nielsen");
  }
  for (const key of ["batchnorm", "residual"]) {
    if (getPath(defaults, `network.${key}`) !== undefined) {
      features[key] = true;
      flagShape[key] = "network";
    } else if (getPath(defaults, `network.hidden.0.${key}`) !== undefined) {
      features[key] = true;
      flagShape[key] = "layer";
    }
  }
  return features;
}

export function compareAvailable(compare, features) {
  const req = COMPARES[compare]?.requires;
  return Boolean(COMPARES[compare]) && (!req || Boolean(features[req]));
}

const deep = (units, activation, n) => Array.from({ length: n }, () => ({ units, activation }));

/**
 * The guided presets. `config` is the shared part (over the server's defaults); the two
 * sides differ only in `compare`, with values `a` (left) and `b` (right). Texts live in
 * the lab dictionaries under `lab.preset.<id>.*`.
 */
export const PRESETS = [
  {
    id: "vanish",
    compare: "activation",
    a: "sigmoid",
    b: "relu",
    config: {
      seed: 1,
      data: { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 },
      network: { hidden: deep(16, "sigmoid", 8), loss: "bce", init: "he_normal", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.03, batch_size: 10, clip_norm: 0 },
    },
  },
  {
    id: "init",
    compare: "init",
    a: "naive",
    b: "he_normal",
    config: {
      seed: 1,
      data: { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 },
      network: { hidden: deep(16, "relu", 8), loss: "bce", init: "naive", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.03, batch_size: 10, clip_norm: 0 },
    },
  },
  {
    id: "explode",
    compare: "clip",
    a: 0,
    b: 1,
    config: {
      seed: 1,
      data: { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 },
      network: { hidden: deep(16, "relu", 8), loss: "bce", init: "he_normal", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.3, batch_size: 10, clip_norm: 0 },
    },
  },
  {
    id: "batchnorm",
    compare: "batchnorm",
    a: false,
    b: true,
    requires: "batchnorm",
    config: {
      seed: 1,
      data: { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 },
      network: { hidden: deep(16, "sigmoid", 8), loss: "bce", init: "xavier_normal", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.03, batch_size: 10, clip_norm: 0 },
    },
  },
  {
    id: "residual",
    compare: "residual",
    a: false,
    b: true,
    requires: "residual",
    config: {
      seed: 1,
      data: { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 },
      network: { hidden: deep(16, "sigmoid", 8), loss: "bce", init: "xavier_normal", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.03, batch_size: 10, clip_norm: 0 },
    },
  },
  {
    id: "nielsen",
    compare: "init",
    a: "naive",
    b: "xavier_normal",
    // With the engine's `nielsen` init (weights N(0,1)/√n_in, biases N(0,1)) the right
    // side runs Nielsen's own recipe, and the text says so.
    upgrade: { requires: "nielsen", b: "nielsen", text: "text_nielsen" },
    config: {
      seed: 1,
      data: { name: "digits", samples: 1797, noise: 0, test_fraction: 0.3 },
      network: { hidden: deep(30, "sigmoid", 4), loss: "softmax_ce", init: "naive", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.1, batch_size: 1000, clip_norm: 0 },
    },
  },
];

export const PRESET_IDS = PRESETS.map((p) => p.id);

export function presetById(id) {
  return PRESETS.find((p) => p.id === id) ?? null;
}

/** The right-hand value and the text key of a preset on this server (see `upgrade`). */
export function presetVariant(preset, features) {
  const up = preset.upgrade;
  if (up && features[up.requires]) return { b: up.b, text: up.text };
  return { b: preset.b, text: "text" };
}

export function presetAvailable(preset, features) {
  return !preset.requires || Boolean(features[preset.requires]);
}

/** The shared config of a preset: the server's defaults with the preset's keys over them. */
export function presetConfig(preset, defaults) {
  const config = structuredClone(defaults);
  for (const section of ["data", "network", "training"]) Object.assign(config[section], structuredClone(preset.config[section]));
  config.seed = preset.config.seed;
  return config;
}

/** One side's full config: the shared part with that side's value of the compared choice. */
export function sideConfig(shared, compare, value) {
  const config = structuredClone(shared);
  COMPARES[compare].apply(config, value);
  return config;
}
