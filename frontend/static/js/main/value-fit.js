// The numbers printed in the diagram, fitted to their room. A neuron's value inside its
// circle, in every style: a label too wide for its circle is set in smaller type, just small
// enough for the label's box to lie inside the circle ("0.97" stays at the style's size,
// "−0.82" shrinks a little in a small circle): the circle's size depends on the canvas and the
// network, the label's width on the value and the font. A label that would need type smaller
// than `SIZES.valueTextMinPx` ("−0.0087" in a deep network's small circles) is not printed:
// the neuron's colour, tooltip and inspector still give it. And the output's target labels
// ("y=0.864") between the output neurons and the loss box: the layout keeps room for the
// widest usual one, and a wider one is set in smaller type. The page's font is the system's,
// so no glyph width is assumed: they are measured once per build.
import { SIZES } from "../shared/constants.js";
import { fmt } from "../shared/format.js";
import { el, setAttr, setText } from "../shared/svg.js";

const VALUE_CHARS = "0123456789−.e"; // every character fmt() prints in a value
const TARGET_CHARS = `${VALUE_CHARS}y= ∞—`; // and in a target label: "y=", a class, no value
const CLEAR = 1.5; // px of the circle kept clear around the label's box

/**
 * The glyphs of `chars` in a text of class `cls` (in a group of class `group`, for the CSS)
 * at `size` px, measured in `svg`: `width(label)` and the text's box, its `height` and its
 * `middle` (from the baseline, < 0), in em.
 */
function glyphs(svg, group, cls, size, chars) {
  const probeGroup = el("g", { class: group, visibility: "hidden" }, svg);
  const probe = el("text", { class: cls, "font-size": size }, probeGroup);
  probe.textContent = chars;
  const em = new Map([...chars].map((ch, i) => [ch, probe.getSubStringLength(i, 1) / size]));
  const box = probe.getBBox(); // a text at y = 0: its box from −ascent to descent
  probeGroup.remove();
  const digit = em.get("0");
  return {
    width: (label) => [...label].reduce((sum, ch) => sum + (em.get(ch) ?? digit), 0),
    height: box.height / size,
    middle: (box.y + box.height / 2) / size,
  };
}

/**
 * The writer of a diagram's value texts, `write(text, label)`, for a diagram built in `svg`
 * (in the document) in `style`; each text carries its circle (`text.bpCircle = {r, cy}`).
 */
export function valueWriter(svg, style) {
  const size = style.font.value;
  const glyph = glyphs(svg, "neuron", "value", size, VALUE_CHARS);
  return (text, label) => {
    const { r, cy } = text.bpCircle;
    // The box's corners on the circle: (width·f / 2)² + (height·f / 2)² = (r − CLEAR)².
    const f = Math.min(size, (r - CLEAR) / Math.hypot(glyph.width(label) / 2, glyph.height / 2));
    setText(text, f < SIZES.valueTextMinPx ? "" : label);
    setAttr(text, "font-size", f.toFixed(2));
    setAttr(text, "y", (cy - glyph.middle * f).toFixed(2));
  };
}

/** The target label of output neuron `k`: "y=0.864"; "3 y=1" for class 3 of several. */
export function targetLabel(task, k, y) {
  return `${task === "multiclass" ? `${k} ` : ""}y=${fmt(y, 3)}`;
}

/**
 * The target labels beside the output neurons of `topology` in `style` (at `font.target`),
 * measured in `svg`: `width`, the px the layout keeps for them, that of the widest label
 * usual for the task ("y=−0.864"; "9 y=0" for ten classes); and `writer(room)`, the writer of
 * a label, `write(text, y, k)`, setting one wider than `room` px ("y=−0.000123", "y=−12300")
 * in type just small enough to end there, before the loss box. Each text carries the y of
 * its neuron's centre (`text.bpRow`).
 */
export function targetLabels(svg, style, topology) {
  const size = style.font.target;
  const { task } = topology.data;
  const glyph = glyphs(svg, "labels", "side-label", size, TARGET_CHARS);
  const widest = targetLabel(task, topology.layers.at(-1).units - 1, task === "regression" ? -0.864 : 0);
  return {
    width: glyph.width(widest) * size,
    writer: (room) => (text, y, k) => {
      const label = targetLabel(task, k, y);
      const f = Math.min(size, room / glyph.width(label));
      setText(text, label);
      setAttr(text, "font-size", f.toFixed(2));
      setAttr(text, "y", (text.bpRow - glyph.middle * f).toFixed(2));
    },
  };
}
