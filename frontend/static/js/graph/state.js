// The page state in the URL hash: PROPS lists each property once and both directions
// are derived from it, so "#expr=…&values=…&sizes=2,4,4,1" or "#neuron=<JSON>" is a link
// that brings the same graph back. Values are percent-encoded (a "+" stays a "+").

const number = (s) => {
  const n = Number(s);
  return s.trim() !== "" && Number.isFinite(n) ? n : undefined;
};

export const PROPS = [
  // The typed expression.
  { key: "expr", read: (s) => s, write: (v) => v },
  // Its leaf values: "w1:0.5,x1:1".
  {
    key: "values",
    read: (s) => {
      const out = {};
      for (const pair of s.split(",")) {
        const [name, v] = pair.split(":");
        if (name && number(v ?? "") !== undefined) out[name] = number(v);
      }
      return out;
    },
    write: (v) => Object.entries(v).map(([k, x]) => `${k}:${x}`).join(","),
  },
  // Layer sizes for "why backprop is cheap": "2,4,4,1".
  {
    key: "sizes",
    read: (s) => {
      const sizes = s.split(",").map((p) => (/^\d+$/.test(p.trim()) ? Number(p) : NaN));
      return sizes.length >= 2 && sizes.every(Number.isFinite) ? sizes : undefined;
    },
    write: (v) => v.join(","),
  },
  // One neuron of the main page: the body of POST /api/graph/neuron.
  {
    key: "neuron",
    read: (s) => {
      try {
        const v = JSON.parse(s);
        return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
      } catch {
        return undefined;
      }
    },
    write: (v) => JSON.stringify(v),
  },
];

/** The state a hash describes (keys it lacks, or cannot read, are left out). */
export function readHash(hash) {
  const state = {};
  const text = hash.startsWith("#") ? hash.slice(1) : hash;
  for (const part of text.split("&")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const prop = PROPS.find((p) => p.key === part.slice(0, eq));
    if (!prop) continue;
    let raw;
    try {
      raw = decodeURIComponent(part.slice(eq + 1));
    } catch {
      continue;
    }
    const value = prop.read(raw);
    if (value !== undefined) state[prop.key] = value;
  }
  return state;
}

/** The hash for `state` (undefined or null properties are left out). */
export function writeHash(state) {
  const parts = [];
  for (const prop of PROPS) {
    const v = state[prop.key];
    if (v === undefined || v === null) continue;
    parts.push(`${prop.key}=${encodeURIComponent(prop.write(v))}`);
  }
  return parts.length ? `#${parts.join("&")}` : "";
}
