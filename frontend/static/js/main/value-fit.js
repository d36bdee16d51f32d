// A neuron's value printed inside its circle, in every style of the diagram. A label too wide
// for its circle is set in smaller type, just small enough for the label's box to lie inside
// the circle ("0.97" stays at the style's size, "−0.82" shrinks a little in a small circle):
// the circle's size depends on the canvas and the network, the label's width on the value and
// the font. A label that would need type smaller than `SIZES.valueTextMinPx` ("−0.0087" in a
// deep network's small circles) is not printed: the neuron's colour, tooltip and inspector
// still give it. The page's font is the system's, so no glyph width is assumed: they are
// measured once per build.
import { SIZES } from "../shared/constants.js";
import { el, setAttr, setText } from "../shared/svg.js";

const PROBE = "0123456789−.e"; // every character fmt() prints in a value
const CLEAR = 1.5; // px of the circle kept clear around the label's box

/**
 * The writer of a diagram's value texts, `write(text, label)`, for a diagram built in `svg`
 * (in the document) in `style`; each text carries its circle (`text.bpCircle = {r, cy}`).
 */
export function valueWriter(svg, style) {
  const size = style.font.value;
  const probeGroup = el("g", { class: "neuron", visibility: "hidden" }, svg); // the value's CSS
  const probe = el("text", { class: "value", "font-size": size }, probeGroup);
  probe.textContent = PROBE;
  const em = new Map([...PROBE].map((ch, i) => [ch, probe.getSubStringLength(i, 1) / size]));
  const box = probe.getBBox(); // a text at y = 0: its box from −ascent to descent
  probeGroup.remove();
  const height = box.height / size;
  const middle = (box.y + box.height / 2) / size; // the box's middle, from the baseline (< 0)
  const digit = em.get("0");
  return (text, label) => {
    const { r, cy } = text.bpCircle;
    const width = [...label].reduce((sum, ch) => sum + (em.get(ch) ?? digit), 0);
    // The box's corners on the circle: (width·f / 2)² + (height·f / 2)² = (r − CLEAR)².
    const f = Math.min(size, (r - CLEAR) / Math.hypot(width / 2, height / 2));
    setText(text, f < SIZES.valueTextMinPx ? "" : label);
    setAttr(text, "font-size", f.toFixed(2));
    setAttr(text, "y", (cy - middle * f).toFixed(2));
  };
}
