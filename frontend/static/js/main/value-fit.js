// A neuron's value printed inside its circle. The compact diagram (a phone held upright) has
// small circles: there a label too wide for its circle is set in smaller type, just small
// enough for the label's box to lie inside the circle ("0.97" stays at the style's size,
// "−0.82" shrinks a little). The page's font is the system's, so no glyph width is assumed:
// they are measured once per build. Other styles print the label as it is.
import { el, setAttr, setText } from "../shared/svg.js";

const PROBE = "0123456789−.e"; // every character fmt() prints in a value
const CLEAR = 1.5; // px of the circle kept clear around the label's box

/**
 * The writer of a diagram's value texts, `write(text, label)`, for a diagram built in `svg`
 * (in the document) in `style`; with `style.fitValues` each text carries its circle
 * (`text.bpCircle = {r, cy}`).
 */
export function valueWriter(svg, style) {
  if (!style.fitValues) return setText;
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
    setText(text, label);
    const { r, cy } = text.bpCircle;
    const width = [...label].reduce((sum, ch) => sum + (em.get(ch) ?? digit), 0);
    // The box's corners on the circle: (width·f / 2)² + (height·f / 2)² = (r − CLEAR)².
    const f = Math.min(size, (r - CLEAR) / Math.hypot(width / 2, height / 2));
    setAttr(text, "font-size", f.toFixed(2));
    setAttr(text, "y", (cy - middle * f).toFixed(2));
  };
}
