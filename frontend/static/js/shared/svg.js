// SVG elements for the diagrams: create once, then change only what changed.

export const SVG_NS = "http://www.w3.org/2000/svg";

/** A new SVG element `name` with `attrs`, appended to `parent` when given. */
export function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

// Writes that skip an unchanged value: the last value written is kept on the node, so a
// frame costs the DOM (and style, layout, paint) only what really changed.
export function setAttr(node, name, value) {
  const seen = node.bpAttrs ?? (node.bpAttrs = Object.create(null));
  if (seen[name] === value) return;
  seen[name] = value;
  node.setAttribute(name, value);
}

export function setText(node, text) {
  if (node.bpText === text) return;
  node.bpText = text;
  node.textContent = text;
}
