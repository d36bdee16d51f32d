// The words of the network diagram, placed so that no two overlap at any depth: column titles
// and captions, the W / ∂L/∂W marks between columns and the labels of weight bundles. Text
// widths depend on the language and the font, so they are measured, and the labels step down
// until they fit: full titles → short titles (H3) → short titles over their activation alone
// ("tanh": the neurons show how many), each caption in smaller type where the style allows
// (`font.subMin`) → captions dropped → titles on two rows. Two labels of one row keep the
// style's `labelGap` between them.
import { t } from "../shared/i18n.js";
import { featureLabel } from "./units.js";

/** The widths of centred labels at `xs` leave `gap` px between neighbours (nulls are skipped). */
function rowFits(xs, widths, width, gap) {
  let prev = -1;
  for (let k = 0; k < xs.length; k += 1) {
    if (widths[k] === null) continue;
    if (xs[k] - widths[k] / 2 < 0 || xs[k] + widths[k] / 2 > width) return false;
    if (prev >= 0 && xs[k] - xs[prev] < (widths[k] + widths[prev]) / 2 + gap) return false;
    prev = k;
  }
  return true;
}

function measure(node, text) {
  node.textContent = text;
  node.removeAttribute("display");
  return node.getComputedTextLength();
}

/**
 * Titles on two rows (even columns above, odd below), each with twice the room: shrink the
 * type to fit (to 10 px at least), else show every k-th title and always the input's and the
 * output's (the neurons name their layer in their tooltips and to screen readers).
 */
function fitStagger(titles, xs, size, gap) {
  const fits = (every) => {
    for (const parity of [0, 1]) {
      const shown = titles.map((_, c) => c).filter((c) => c % 2 === parity && visible(c, every, titles.length));
      const ws = shown.map((c) => titles[c].getComputedTextLength());
      if (!rowFits(shown.map((c) => xs[c]), ws, Infinity, gap)) return false;
    }
    return true;
  };
  let font = size;
  const setFont = (f) => titles.forEach((node) => node.setAttribute("font-size", String(f)));
  while (!fits(1) && font > 10) {
    font = Math.max(10, Math.floor(font * 0.9));
    setFont(font);
  }
  let every = 1;
  while (!fits(every) && every < titles.length) every += 1;
  titles.forEach((node, c) => (visible(c, every, titles.length) ? node.removeAttribute("display") : node.setAttribute("display", "none")));
}

/** Whether title `c` of `n` is shown when only every `every`-th one is (first and last always). */
function visible(c, every, n) {
  if (every === 1 || c === 0 || c === n - 1) return true;
  if (n - 1 - c < 2) return false; // too near the last, which is always shown
  return c % (2 * every) < 2;
}

/**
 * The inputs' names (a CSV's columns, x₁², sin(x₁) …) left of their neurons, within the
 * margin: in a smaller type when long, cut with "…" when still too long (the whole name is
 * in the neuron's tooltip and accessible name), every k-th when the neurons are too close.
 */
function fitInputLabels(cv, names, size) {
  const labels = cv.labels;
  if (!labels.length) return;
  const col = cv.col;
  const room = col.x - col.r - 8 - 2; // the labels end 8 px left of the neurons
  const spacing = col.n > 1 ? col.spacing : Infinity;
  let font = Math.max(9, Math.min(size, Math.floor(spacing - 2)));
  const every = spacing - 2 >= font ? 1 : Math.ceil((font + 2) / spacing);
  const setFont = (f) => labels.forEach((node) => node.setAttribute("font-size", String(f)));
  setFont(font);
  const widest = () => Math.max(...labels.map((node, i) => measure(node, names[i])));
  while (font > 10 && widest() > room) setFont((font -= 1));
  labels.forEach((node, i) => {
    node.setAttribute("y", String(col.ys[i] + font * 0.35));
    const shown = i % every === 0;
    let text = names[i];
    if (shown && measure(node, text) > room) {
      let k = text.length - 1;
      while (k > 1 && measure(node, `${text.slice(0, k)}…`) > room) k -= 1;
      text = `${text.slice(0, k)}…`;
    }
    node.textContent = text;
    if (shown) node.removeAttribute("display");
    else node.setAttribute("display", "none");
  });
}

/**
 * The names of column `c` of `L` weight layers: full and short title, caption, and the
 * caption's short form (the activation; none for the input).
 */
export function columnNames(topology, c) {
  const L = topology.layers.length;
  const layer = topology.layers[c - 1];
  if (c === 0) return { full: t("net.input"), short: t("net.input_short"), sub: t("net.n_features", { n: topology.data.n_features }), subShort: null };
  const act = t(`act.${layer.activation}`);
  const sub = `${act} · ${layer.units}`;
  if (c === L) return { full: t("net.output"), short: t("net.output_short"), sub, subShort: act };
  return { full: t("net.hidden", { l: c }), short: t("net.hidden_short", { l: c }), sub, subShort: act };
}

/**
 * Set and place the diagram's labels (`diagram`: what buildDiagram returned, with the
 * topology and style). Returns the arrangement chosen: `{titles, captions, marks, inputs}`
 * with titles one of "full" | "short" | "bare" | "stagger", captions "full" | "activation" |
 * "none", marks "full" | "short" | "none", and the inputs' names (whole: the labels may show
 * them cut).
 */
export function arrangeLabels({ topology, geo, style, columns, edgeLayers }) {
  const { rows, labelGap: gap } = style;
  const xs = columns.map((cv) => cv.col.x);
  const names = columns.map((_, c) => columnNames(topology, c));
  const titles = columns.map((cv) => cv.title);
  const subs = columns.map((cv) => cv.sub);
  const width = geo.width;
  const show = (node, on) => (on ? node.removeAttribute("display") : node.setAttribute("display", "none"));
  const place = (node, y) => node.setAttribute("y", String(y));

  for (const node of titles) node.setAttribute("font-size", String(style.font.title));
  const full = names.map((n, c) => measure(titles[c], n.full));
  const shortTitleW = names.map((n, c) => measure(titles[c], n.short));
  // The captions' type: the style's, or smaller down to `font.subMin` where that makes them
  // fit (measured at the style's size: an earlier arrangement may have set a smaller one).
  for (const node of subs) node.setAttribute("font-size", String(style.font.sub));
  const subW = names.map((n, c) => measure(subs[c], n.sub));
  const actW = names.map((n, c) => (n.subShort === null ? null : measure(subs[c], n.subShort)));
  const subFont = (titleW, captionW) => {
    if (!rowFits(xs, titleW, width, gap)) return null;
    for (let size = style.font.sub; size >= style.font.subMin; size -= 1) {
      const k = size / style.font.sub;
      if (rowFits(xs, captionW.map((w) => (w === null ? null : w * k)), width, gap)) return size;
    }
    return null;
  };
  const tries = [
    ["full", full, "full", subW],
    ["short", shortTitleW, "full", subW],
    ["short", shortTitleW, "activation", actW],
  ];
  let arrangement = rowFits(xs, shortTitleW, width, gap) ? "bare" : "stagger";
  let captions = "none";
  let subSize = style.font.sub;
  for (const [titleStyle, titleW, captionStyle, captionW] of tries) {
    const size = subFont(titleW, captionW);
    if (size === null) continue;
    [arrangement, captions, subSize] = [titleStyle, captionStyle, size];
    break;
  }
  for (const node of subs) node.setAttribute("font-size", String(subSize));
  columns.forEach((cv, c) => {
    const n = names[c];
    cv.title.textContent = arrangement === "full" ? n.full : n.short;
    place(cv.title, arrangement === "stagger" && c % 2 === 1 ? rows[1] : rows[0]);
    show(cv.title, true);
    cv.sub.textContent = (captions === "activation" ? n.subShort : n.sub) ?? "";
    show(cv.sub, captions !== "none" && cv.sub.textContent !== "");
  });
  if (arrangement === "stagger") fitStagger(titles, xs, style.font.title, gap);
  const inputs = columns[0].neurons.map((_, i) => featureLabel(topology.data, i));
  fitInputLabels(columns[0], inputs, style.font.side);

  // The W / ∂L/∂W marks between columns: the full mark, a short one, or none.
  const marks = edgeLayers.filter((v) => v.mode);
  let markStyle = "none";
  if (marks.length) {
    const probe = marks[0].mode;
    const fullW = measure(probe, "∂L/∂W");
    const shortW = measure(probe, "∂W");
    if (fullW + gap <= geo.stepX) markStyle = "full";
    else if (shortW + gap <= geo.stepX) markStyle = "short";
    probe.textContent = "";
  }
  for (const view of marks) {
    view.markStyle = markStyle;
    show(view.mode, markStyle !== "none");
    view.mode.bpText = undefined; // the next render writes the mark again
  }

  // The δ read-outs under the neurons (when asked for): as wide as "δ −0.0033" may be, in a
  // smaller type where the columns are close, else none.
  const deltas = columns.flatMap((cv) => cv.neurons.map((n) => n.delta).filter(Boolean));
  if (deltas.length) {
    let size = style.font.delta;
    const room = geo.stepX - gap;
    const wide = () => measure(deltas[0], "δ −0.0033");
    const setSize = (f) => deltas.forEach((node) => node.setAttribute("font-size", String(f)));
    setSize(size);
    while (wide() > room && size > 10) {
      size -= 1;
      setSize(size);
    }
    const fits = wide() <= room;
    deltas[0].textContent = "";
    deltas[0].bpText = undefined;
    for (const node of deltas) (fits ? node.removeAttribute("display") : node.setAttribute("display", "none"));
  }

  // A bundle's label ("W 8×256") only where it fits between the two columns' glows.
  for (const view of edgeLayers) {
    if (!view.bundle) continue;
    const { units, n_in: nIn } = topology.layers[view.layer - 1];
    const room = view.span.x2 - view.span.x1;
    const wide = measure(view.label, `∂L/∂W ${units}×${nIn}`);
    view.labelFits = wide <= room;
    show(view.label, view.labelFits);
    view.label.bpText = undefined;
    view.tip.textContent = `W⁽${view.layer}⁾: ${units}×${nIn}`;
  }
  return { titles: arrangement, captions, marks: markStyle, inputs };
}
