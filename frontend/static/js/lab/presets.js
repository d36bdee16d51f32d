// The lab's experiments: what the two sides may differ in ("compare"), and the guided
// presets. Pure data and config plumbing; no DOM, no network math. The values offered for
// a choice of the engine (activation, init, optimizer) are the server's lists (Choices).
import { CLIP_NORMS } from "../shared/constants.js";
import { overConfig } from "../shared/state.js";

/**
 * What may differ between the two sides, for the server's `choices` (shared/choices.js):
 * per compared choice, `values` (offered in each side's select, from the server's lists),
 * `pair` (the default left/right pair), `label(v)` (its dictionary key) and
 * `apply(config, v)` (writes one side's value into its config).
 */
export function makeCompares(choices) {
  return {
    activation: {
      values: choices.activations,
      pair: ["sigmoid", "relu"],
      label: (v) => `act.${v}`,
      apply: (config, v) => {
        config.network.hidden = config.network.hidden.map((l) => ({ ...l, activation: v }));
      },
    },
    init: {
      values: choices.inits,
      pair: ["naive", "he_normal"],
      label: (v) => `init.${v}`,
      apply: (config, v) => {
        config.network.init = v;
      },
    },
    optimizer: {
      values: choices.optimizers,
      pair: ["sgd", "adam"],
      label: (v) => `opt.${v}`,
      apply: (config, v) => {
        config.training.optimizer = v;
      },
    },
    clip: {
      values: CLIP_NORMS,
      pair: [0, 1],
      label: (v) => (v === 0 ? "lab.clip_off" : "lab.clip_value"),
      apply: (config, v) => {
        config.training.clip_norm = v;
      },
    },
    batchnorm: {
      values: [false, true],
      pair: [false, true],
      label: (v) => (v ? "lab.bn_on" : "lab.bn_off"),
      apply: (config, v) => {
        config.network.batchnorm = v;
      },
    },
    residual: {
      values: [false, true],
      pair: [false, true],
      label: (v) => (v ? "lab.res_on" : "lab.res_off"),
      apply: (config, v) => {
        config.network.residual = v;
      },
    },
  };
}

/** How a value is written in the URL (booleans as on/off). */
export function writeValue(v) {
  if (typeof v === "boolean") return v ? "on" : "off";
  return String(v);
}

/** A value read back from the URL: one of `spec.values`, or undefined. */
export function readValue(spec, s) {
  const values = spec?.values ?? [];
  const v = typeof values[0] === "boolean" ? (s === "on" ? true : s === "off" ? false : undefined)
    : typeof values[0] === "number" ? Number(s) : s;
  return values.includes(v) ? v : undefined;
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
    // The right side runs Nielsen's own recipe: the engine's `nielsen` init (weights
    // N(0, 1)/√n_in, biases N(0, 1)).
    b: "nielsen",
    config: {
      seed: 1,
      data: { name: "digits", samples: 1797, noise: 0, test_fraction: 0.3 },
      network: { hidden: deep(30, "sigmoid", 4), loss: "softmax_ce", init: "naive", dropout: 0 },
      training: { optimizer: "sgd", learning_rate: 0.1, batch_size: 1000, clip_norm: 0 },
    },
  },
];

export function presetById(id) {
  return PRESETS.find((p) => p.id === id) ?? null;
}

/** The shared config of a preset: the server's defaults with the preset's keys over them. */
export function presetConfig(preset, defaults) {
  return overConfig(defaults, preset.config);
}

/** One side's full config: the shared part with that side's value of the compared choice. */
export function sideConfig(shared, spec, value) {
  const config = structuredClone(shared);
  spec.apply(config, value);
  return config;
}
