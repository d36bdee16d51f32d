// Worked examples: each a config (over the server's defaults) plus a short explanation
// (i18n keys lesson.<id>.title / lesson.<id>.text). Choosing one writes its link (URL state).
import { overConfig } from "../shared/state.js";

/** `config`: sections merged over the default config; `ui`: page state (stop condition). */
export const PRESETS = [
  {
    id: "xor",
    config: { data: { name: "xor", samples: 200, noise: 0 }, network: { hidden: [{ units: 4, activation: "tanh" }], loss: "bce" }, training: { optimizer: "adam", learning_rate: 0.03, batch_size: 10 } },
  },
  {
    id: "xor_linear",
    config: { data: { name: "xor", samples: 200, noise: 0 }, network: { hidden: [], loss: "bce" }, training: { optimizer: "adam", learning_rate: 0.03, batch_size: 10 } },
  },
  {
    id: "square",
    config: { data: { name: "square", samples: 200, noise: 0 }, network: { hidden: [{ units: 2, activation: "relu" }], loss: "mse", init: "he_normal" }, training: { optimizer: "adam", learning_rate: 0.03, batch_size: 10 }, seed: 2 },
  },
  {
    id: "house",
    config: { data: { name: "house", samples: 400 }, network: { hidden: [{ units: 6, activation: "relu" }], loss: "mse", init: "he_normal" }, training: { optimizer: "adam", learning_rate: 0.01, batch_size: 20 } },
  },
  {
    id: "digits",
    config: { data: { name: "digits", samples: 1797, noise: 0 }, network: { hidden: [{ units: 16, activation: "relu" }], loss: "softmax_ce", init: "he_normal" }, training: { optimizer: "adam", learning_rate: 0.01, batch_size: 32 } },
  },
  {
    id: "by_hand",
    config: { data: { name: "xor", samples: 100, noise: 0 }, network: { hidden: [{ units: 2, activation: "sigmoid" }], loss: "bce", dropout: 0 }, training: { optimizer: "sgd", learning_rate: 0.5, batch_size: 1, weight_decay: 0, l1: 0, l2: 0, clip_norm: 0 }, seed: 1 },
  },
];

/** A preset's full config: the defaults with the preset's sections merged in. */
export function presetConfig(preset, defaults) {
  return overConfig(defaults, preset.config);
}
