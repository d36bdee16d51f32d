// Where each node of an op graph goes: columns by depth (the loss on the right, every
// node just left of its first consumer), rows ordered and relaxed so that a node sits
// level with its largest input and near its consumers, and the edges as curves. On a
// narrow screen (a phone) the same order flows down instead: the columns become levels
// from the leaves at the top to the loss at the bottom, the rows places side by side.
// Pure geometry: no DOM, no numbers of the graph.

export const GEOMETRY = {
  radius: 19, // an operator's circle
  boxHeight: 30, // a leaf, constant or function box
  charWidth: 8.4, // text width estimate at the node font size
  rowGap: 96, // node + name above + value and gradient below
  colGap: 58, // between the widest boxes of two columns
  minColGap: 28, // … when the canvas is narrow
  minColumn: 70, // the value and gradient texts need about this much
  margin: { top: 34, right: 28, bottom: 48, left: 28 },
  slotOffset: 7, // the two inputs of an operator end apart on its left side (on top, flowing down)
  // Flowing down, a node is a card: its name above the body, its value and gradient below
  // (the view's texts), as wide as its body or the texts; cards side by side, levels apart.
  card: { above: 20, below: 38, gap: 10 },
  levelGap: 22,
  downMargin: { top: 16, right: 16, bottom: 12, left: 16 }, // room for the glow at the edges
};

/** The drawn shape of a node: "circle" (operators), "box" (leaves, constants) or "pill". */
export function shapeOf(node, ops) {
  if (node.op === "leaf" || node.op === "const") return "box";
  if (node.op === "upstream") return "pill";
  return ops.get(node.op)?.kind === "operator" ? "circle" : "pill";
}

function widthOf(shape, text) {
  if (shape === "circle") return 2 * GEOMETRY.radius;
  return Math.max(GEOMETRY.boxHeight + 8, Math.ceil(text.length * GEOMETRY.charWidth) + 18);
}

/**
 * The layout of `graph` (the server's graph: nodes with inputs, the output last).
 * `texts[i]` is what node i shows inside (its name or its op symbol).
 * `flow` "across" (left to right): the gap between columns shrinks (down to
 * GEOMETRY.minColGap) to fit `fitWidth`; "down" (top to bottom): `fitWidth` is not used.
 * Returns {nodes: [{id, col, x, y, w, h, shape}], edges: [{from, to, slot, d, x1, y1, x2, y2}],
 * width, height, flow}.
 */
export function layoutGraph(graph, ops, texts, fitWidth = Infinity, flow = "across") {
  const nodes = graph.nodes;
  const n = nodes.length;
  const consumers = nodes.map(() => []);
  nodes.forEach((node) => node.inputs.forEach((i, slot) => consumers[i].push({ to: node.id, slot })));

  // Column: the longest path to the output, counted from the right.
  const dist = new Array(n).fill(-1);
  for (let i = n - 1; i >= 0; i -= 1) {
    if (i === graph.output) dist[i] = 0;
    for (const { to } of consumers[i]) if (dist[to] >= 0) dist[i] = Math.max(dist[i], dist[to] + 1);
  }
  const depth = Math.max(0, ...dist);
  const col = dist.map((d) => (d < 0 ? 0 : depth - d));

  // First order: depth-first from the output, inputs in slot order (a tree draws uncrossed).
  const rank = new Array(n).fill(n);
  let next = 0;
  const seen = new Set();
  const visit = (i) => {
    if (seen.has(i)) return;
    seen.add(i);
    rank[i] = next;
    next += 1;
    for (const j of nodes[i].inputs) visit(j);
  };
  if (n) visit(graph.output ?? n - 1);
  const columns = Array.from({ length: depth + 1 }, () => []);
  for (let i = 0; i < n; i += 1) columns[col[i]].push(i);
  for (const c of columns) c.sort((a, b) => rank[a] - rank[b]);

  const shapes = nodes.map((node) => shapeOf(node, ops));
  const widths = nodes.map((node, i) => widthOf(shapes[i], texts[i]));
  const cardWidth = (i) => Math.max(GEOMETRY.minColumn, widths[i]);
  // Rows (across) or places in a level (down): start evenly spaced, then a few sweeps pull
  // each node level with its neighbours. `y` is that position, across or down.
  const down = flow === "down";
  const gaps = columns.map((c) => (down ? Math.max(...c.map(cardWidth)) + GEOMETRY.card.gap : GEOMETRY.rowGap));
  const y = new Array(n).fill(0);
  columns.forEach((c, j) => c.forEach((i, k) => (y[i] = (k - (c.length - 1) / 2) * gaps[j])));
  const mean = (ids) => ids.reduce((s, i) => s + y[i], 0) / ids.length;
  // Going right, a node follows its largest input (a chain of sums stays on one row);
  // inputs of equal size share it (a product sits between its two leaves).
  const size = new Array(n).fill(1);
  nodes.forEach((node) => {
    for (const i of node.inputs) size[node.id] += size[i];
  });
  const spine = (i) => {
    const ins = nodes[i].inputs;
    if (!ins.length) return [];
    const big = Math.max(...ins.map((j) => size[j]));
    const top = ins.filter((j) => size[j] === big);
    return top.length === ins.length ? ins : top.slice(0, 1);
  };
  const sweep = (c, neighbours) => {
    const ids = columns[c];
    const want = ids.map((i) => {
      const near = neighbours(i);
      return near.length ? mean(near) : y[i];
    });
    const order = ids.map((i, k) => k).sort((a, b) => want[a] - want[b] || rank[ids[a]] - rank[ids[b]]);
    columns[c] = order.map((k) => ids[k]);
    const placed = place(
      order.map((k) => want[k]),
      gaps[c],
      order.map((k) => size[ids[k]] ** 2),
    );
    columns[c].forEach((i, k) => (y[i] = placed[k]));
  };
  for (let iter = 0; iter < 4; iter += 1) {
    for (let c = depth - 1; c >= 0; c -= 1) sweep(c, (i) => consumers[i].map((e) => e.to));
    for (let c = 1; c <= depth; c += 1) sweep(c, spine);
  }

  if (down) return flowDown(nodes, columns, col, y, shapes, widths, cardWidth);

  // Coordinates.
  const colWidth = columns.map((c) => Math.max(GEOMETRY.minColumn, ...c.map((i) => widths[i])));
  const m = GEOMETRY.margin;
  const used = colWidth.reduce((a, b) => a + b, 0) + m.left + m.right;
  const spare = depth > 0 ? (fitWidth - used) / depth : GEOMETRY.colGap;
  const colGap = Math.max(GEOMETRY.minColGap, Math.min(GEOMETRY.colGap, spare));
  const colX = [];
  let x = m.left;
  colWidth.forEach((w, c) => {
    colX[c] = x + w / 2;
    x += w + colGap;
  });
  const top = n ? Math.min(...y) : 0;
  const bottom = n ? Math.max(...y) : 0;
  const laid = nodes.map((node, i) => ({
    id: i,
    col: col[i],
    x: colX[col[i]],
    y: y[i] - top + m.top + 18,
    w: widths[i],
    h: shapes[i] === "circle" ? 2 * GEOMETRY.radius : GEOMETRY.boxHeight,
    shape: shapes[i],
  }));
  const edges = [];
  for (const node of nodes) {
    const b = laid[node.id];
    node.inputs.forEach((i, slot) => {
      const a = laid[i];
      const off = node.inputs.length > 1 ? (slot - (node.inputs.length - 1) / 2) * 2 * GEOMETRY.slotOffset : 0;
      const x1 = a.x + a.w / 2;
      const y1 = a.y;
      const x2 = b.x - b.w / 2 + (b.shape === "circle" ? GEOMETRY.radius - Math.sqrt(GEOMETRY.radius ** 2 - off ** 2) : 0);
      const y2 = b.y + off;
      const k = Math.max(24, (x2 - x1) / 2);
      edges.push({ from: i, to: node.id, slot, x1, y1, x2, y2, d: `M${x1},${y1} C${x1 + k},${y1} ${x2 - k},${y2} ${x2},${y2}` });
    });
  }
  return {
    nodes: laid,
    edges,
    width: x - colGap + m.right,
    height: bottom - top + m.top + m.bottom + 36,
    flow: "across",
  };
}

/**
 * The coordinates flowing down: one level per column, each under the one before, as tall as
 * its tallest body with the names above and the values below; `place[i]` is node i's place
 * across. An edge leaves under its input's card and ends above its consumer's name.
 */
function flowDown(nodes, columns, col, place, shapes, widths, cardWidth) {
  const { card, levelGap, downMargin: m, radius, boxHeight, slotOffset } = GEOMETRY;
  const heights = shapes.map((shape) => (shape === "circle" ? 2 * radius : boxHeight));
  const named = nodes.map((node) => node.op !== "leaf" && node.op !== "const"); // the view names these
  let top = m.top;
  const levelY = columns.map((ids) => {
    const above = ids.some((i) => named[i]) ? card.above : 0;
    const body = Math.max(...ids.map((i) => heights[i]));
    const y = top + above + body / 2;
    top += above + body + card.below + levelGap;
    return y;
  });
  const left = Math.min(...nodes.map((_, i) => place[i] - cardWidth(i) / 2));
  const right = Math.max(...nodes.map((_, i) => place[i] + cardWidth(i) / 2));
  const laid = nodes.map((node, i) => ({
    id: i,
    col: col[i],
    x: place[i] - left + m.left,
    y: levelY[col[i]],
    w: widths[i],
    h: heights[i],
    shape: shapes[i],
  }));
  const edges = [];
  for (const node of nodes) {
    const b = laid[node.id];
    node.inputs.forEach((i, slot) => {
      const a = laid[i];
      const off = node.inputs.length > 1 ? (slot - (node.inputs.length - 1) / 2) * 2 * slotOffset : 0;
      const x1 = a.x;
      const y1 = a.y + a.h / 2 + card.below;
      const x2 = b.x + off;
      const y2 = b.y - b.h / 2 - (named[node.id] ? card.above : 2);
      const k = Math.max(12, (y2 - y1) / 2);
      edges.push({ from: i, to: node.id, slot, x1, y1, x2, y2, d: `M${x1},${y1} C${x1},${y1 + k} ${x2},${y2 - k} ${x2},${y2}` });
    });
  }
  return { nodes: laid, edges, width: right - left + m.left + m.right, height: top - levelGap + m.bottom, flow: "down" };
}

/**
 * Positions closest (weighted least squares) to `want`, in this order, at least `gap`
 * apart: with u_k = y_k − k·gap the constraint is u non-decreasing, a weighted isotonic
 * regression solved by pooling adjacent violators. A heavy node (a long chain) barely
 * moves; light ones (leaves, constants) make room around it.
 */
export function place(want, gap, weight = want.map(() => 1)) {
  const blocks = [];
  want.forEach((w, k) => {
    blocks.push({ sum: (w - k * gap) * weight[k], weight: weight[k], count: 1 });
    while (blocks.length > 1) {
      const b = blocks.at(-1);
      const a = blocks.at(-2);
      if (a.sum / a.weight <= b.sum / b.weight) break;
      blocks.pop();
      a.sum += b.sum;
      a.weight += b.weight;
      a.count += b.count;
    }
  });
  const out = [];
  for (const b of blocks) for (let j = 0; j < b.count; j += 1) out.push(b.sum / b.weight + out.length * gap);
  return out;
}
