// The lab's state and its URL hash. The shared config is written with the main page's
// PROPS (state.js), so `data=…&hidden=…&lr=…` read the same on both pages; the lab adds
// `preset`, `compare` (what differs) and the two values `a` (left) and `b` (right).
import { COMPARES, readValue, writeValue } from "./lab-presets.js";
import { applyHash, toHash } from "./state.js";

/** `{preset, compare, a, b, config, ui: {speed}}`; config is the part both sides share. */
export function createLabState(config, speed) {
  return { preset: "", compare: "activation", a: "sigmoid", b: "relu", config: structuredClone(config), ui: { speed } };
}

export function labToHash(state) {
  const shared = toHash({ config: state.config, ui: state.ui }).slice(1);
  const lab = new URLSearchParams();
  if (state.preset) lab.set("preset", state.preset);
  lab.set("compare", state.compare);
  lab.set("a", writeValue(state.compare, state.a));
  lab.set("b", writeValue(state.compare, state.b));
  return `#${lab.toString()}&${shared}`;
}

/**
 * Read the lab keys of a hash (the shared config is applied in place by state.js).
 * Returns {preset, compare, a, b} as far as present and valid.
 */
export function readLabHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const out = {};
  if (params.has("preset")) out.preset = params.get("preset");
  const compare = params.get("compare");
  if (compare && COMPARES[compare]) {
    out.compare = compare;
    for (const side of ["a", "b"]) {
      if (!params.has(side)) continue;
      const v = readValue(compare, params.get(side));
      if (v !== undefined) out[side] = v;
    }
  }
  out.shared = [...params.keys()].some((k) => !["preset", "compare", "a", "b"].includes(k));
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
