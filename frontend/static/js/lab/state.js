// The lab's state and its URL hash. The shared config is written with the main page's
// PROPS (shared/state.js), so `data=…&hidden=…&lr=…` read the same on both pages; the lab
// adds `preset`, `compare` (what differs) and the two values `a` (left) and `b` (right).
import { applyHash, toHash } from "../shared/state.js";
import { readValue, writeValue } from "./presets.js";

const LAB_KEYS = ["preset", "compare", "a", "b"];

/** `{preset, compare, a, b, config, ui: {speed}}`; config is the part both sides share. */
export function createLabState(config, speed) {
  return { preset: "", compare: "activation", a: "sigmoid", b: "relu", config: structuredClone(config), ui: { speed } };
}

export function labToHash(state) {
  const shared = toHash({ config: state.config, ui: state.ui }).slice(1);
  const lab = new URLSearchParams();
  if (state.preset) lab.set("preset", state.preset);
  lab.set("compare", state.compare);
  lab.set("a", writeValue(state.a));
  lab.set("b", writeValue(state.b));
  return `#${lab.toString()}&${shared}`;
}

/**
 * Read the lab keys of a hash (the shared config is applied in place by shared/state.js):
 * {preset, compare, a, b} as far as present and valid for `compares` (lab/presets.js), and
 * `shared`: whether the hash sets any shared-config key.
 */
export function readLabHash(hash, compares) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const out = {};
  if (params.has("preset")) out.preset = params.get("preset");
  const compare = params.get("compare");
  if (compare && compares[compare]) {
    out.compare = compare;
    for (const side of ["a", "b"]) {
      if (!params.has(side)) continue;
      const v = readValue(compares[compare], params.get(side));
      if (v !== undefined) out[side] = v;
    }
  }
  out.shared = [...params.keys()].some((k) => !LAB_KEYS.includes(k));
  return out;
}

/** Apply the shared-config keys of a hash onto `state` (returns how many applied). */
export function applySharedHash(state, hash) {
  const view = { config: state.config, ui: state.ui };
  const n = applyHash(view, hash);
  state.config = view.config;
  state.ui = view.ui;
  return n;
}
