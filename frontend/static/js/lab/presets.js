// The lab's experiments: what the two sides may differ in ("compare"), and the guided
// presets. Pure data and config plumbing; no DOM, no network math. The values offered for
// a choice of the engine (activation, init, optimizer) are the server's lists (Choices).
import { CLIP_NORMS } from "../shared/constants.js";
import { overConfig } from "../shared/state.js";

const ON_OFF = [false, true];
const prefixed = (prefix) => (v) => `${prefix}.${v}`;
const onOff = (key) => (v) => (v ? `${key}_on` : `${key}_off`);
const setIn = (section, key) => (config, v) => {
  config[section][key] = v;
};

/**
 * What may differ between the two sides, one row per compared choice: `values` (a list
 * of the server's `choices`, named, or the values themselves), `pair` (the default
 * left/right pair), `label(v)` (its dictionary key) and `apply(config, v)` (writes one
 * side's value into its config).
 */
const COMPARES = {
  activation: {
    values: "activations",
    pair: ["sigmoid", "relu"],
    label: prefixed("act"),
    apply: (config, v) => {
      config.network.hidden = config.network.hidden.map((l) => ({ ...l, activation: v }));
    },
  },
  init: { values: "inits", pair: ["naive", "he_normal"], label: prefixed("init"), apply: setIn("network", "init") },
  optimizer: { values: "optimizers", pair: ["sgd", "adam"], label: prefixed("opt"), apply: setIn("training", "optimizer") },
  clip: {
    values: CLIP_NORMS,
    pair: [0, 1],
    label: (v) => (v === 0 ? "lab.clip_off" : "lab.clip_value"),
    apply: setIn("training", "clip_norm"),
  },
  batchnorm: { values: ON_OFF, pair: ON_OFF, label: onOff("lab.bn"), apply: setIn("network", "batchnorm") },
  residual: { values: ON_OFF, pair: ON_OFF, label: onOff("lab.res"), apply: setIn("network", "residual") },
};

/** The compared choices for the server's `choices` (shared/choices.js): `COMPARES` with
 * each named list replaced by the server's. */
export function makeCompares(choices) {
  return Object.fromEntries(
    Object.entries(COMPARES).map(([key, row]) => [
      key,
      { ...row, values: typeof row.values === "string" ? choices[row.values] : row.values },
    ]),
  );
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

const CIRCLE = { name: "circle", samples: 400, noise: 0.1, test_fraction: 0.3 };
const DIGITS = { name: "digits", samples: 1797, noise: 0, test_fraction: 0.3 };

/**
 * A guided preset: the two sides differ only in `compare`, with values `a` (left) and `b`
 * (right); `config` is the shared part (over the server's defaults): `depth` hidden
 * layers of `units` with `activation`, trained by plain SGD, seed 1. Texts live in the
 * lab dictionaries under `lab.preset.<id>.*`.
 */
function preset(id, compare, [a, b], net) {
  const { data = CIRCLE, units = 16, depth = 8, activation, loss = "bce", init } = net;
  const { learning_rate = 0.03, batch_size = 10 } = net;
  return {
    id,
    compare,
    a,
    b,
    config: {
      seed: 1,
      data: { ...data },
      network: {
        hidden: Array.from({ length: depth }, () => ({ units, activation })),
        loss,
        init,
        dropout: 0,
      },
      training: { optimizer: "sgd", learning_rate, batch_size, clip_norm: 0 },
    },
  };
}

/** The guided presets, in menu order. */
export const PRESETS = [
  preset("vanish", "activation", ["sigmoid", "relu"], { activation: "sigmoid", init: "he_normal" }),
  preset("init", "init", ["naive", "he_normal"], { activation: "relu", init: "naive" }),
  preset("explode", "clip", [0, 1], { activation: "relu", init: "he_normal", learning_rate: 0.3 }),
  preset("batchnorm", "batchnorm", [false, true], { activation: "sigmoid", init: "xavier_normal" }),
  preset("residual", "residual", [false, true], { activation: "sigmoid", init: "xavier_normal" }),
  // The right side runs Nielsen's own recipe: the engine's `nielsen` init (weights
  // N(0, 1)/√n_in, biases N(0, 1)).
  preset("nielsen", "init", ["naive", "nielsen"], {
    data: DIGITS,
    units: 30,
    depth: 4,
    activation: "sigmoid",
    loss: "softmax_ce",
    init: "naive",
    learning_rate: 0.1,
    batch_size: 1000,
  }),
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
