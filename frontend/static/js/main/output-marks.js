// What the output panel's data plot needs besides Plotly: a legend that says what the
// symbols and colours are (train circles, test diamonds; which colour is class y = 1, or the
// target's value for regression), and a ring on the example the diagram shows. Plain DOM,
// moved by a style change per frame: no Plotly redraw while playing. The ring lies in the
// graph's own layers, over the points and under Plotly's hover labels: a label beside the
// example stays readable.
import { COLORS } from "../shared/constants.js";
import { diverging } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { className, targetLabel } from "./units.js";

export class OutputMarks {
  /** `plot`: the output panel's plot container (position: relative); `graph`: the Plotly div in it. */
  constructor(plot, graph) {
    this.graph = graph;
    this.legend = document.createElement("div");
    this.legend.className = "output-legend hint";
    Object.assign(this.legend.style, { display: "flex", flexWrap: "wrap", gap: "2px 12px", margin: "2px 0 0" }); // its size: page.css
    plot.after(this.legend);
    this.ring = document.createElement("div");
    this.ring.className = "output-focus";
    this.ring.setAttribute("aria-hidden", "true");
    Object.assign(this.ring.style, {
      position: "absolute", width: "18px", height: "18px", marginLeft: "-9px", marginTop: "-9px", borderRadius: "50%",
      border: `3px solid ${COLORS.ink}`, boxShadow: "0 0 0 2px #ffffff", pointerEvents: "none",
    });
    this.ring.hidden = true;
    plot.appendChild(this.ring);
    this.topology = null;
  }

  setTopology(topology) {
    this.topology = topology;
    this.ring.hidden = true;
    this.relabel();
  }

  /** The legend: symbols of the two sets and the meaning of the colours. */
  relabel() {
    const data = this.topology?.data;
    const items = [];
    if (data && data.n_features <= 2 && data.train) {
      // (1-D data: Plotly's own legend names the two sets and the curve)
      if (data.n_features === 2) items.push(["●", t("output.legend_train")], ["◆", t("output.legend_test")]);
      if (data.task === "binary") {
        items.push(
          [swatch(diverging(1)), t("output.legend_class", { y: 1, name: className(data, 1) })],
          [swatch(diverging(-1)), t("output.legend_class", { y: 0, name: className(data, 0) })],
        );
      } else if (data.task === "regression" && data.n_features === 2) {
        items.push([swatch(diverging(1)), t("output.legend_high", { name: targetLabel(data) })], [swatch(diverging(-1)), t("output.legend_low", { name: targetLabel(data) })]);
      }
      items.push([ringMark(), t("output.legend_focus")]);
    }
    this.legend.hidden = !items.length;
    this.legend.replaceChildren(
      ...items.map(([mark, text]) => {
        const span = document.createElement("span");
        if (typeof mark === "string") span.append(`${mark} `);
        else span.append(mark, " ");
        span.append(text);
        return span;
      }),
    );
  }

  /**
   * Put the ring on the example the frame shows: (x₁, x₂) for 2-D data, (x, y) for 1-D, in the
   * plot `area` ({left, top, width, height, x: [lo, hi], y: [lo, hi]}, see output-view.js).
   */
  place(area, frame) {
    const n = this.topology?.data?.n_features;
    const x = frame?.x;
    if (!area || !x || (n !== 1 && n !== 2)) {
      this.ring.hidden = true;
      return;
    }
    const px = x[0];
    const py = n === 2 ? x[1] : frame.y?.[0];
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      this.ring.hidden = true;
      return;
    }
    const left = area.left + ((px - area.x[0]) / (area.x[1] - area.x[0])) * area.width;
    const top = area.top + ((area.y[1] - py) / (area.y[1] - area.y[0])) * area.height;
    const inside = left >= area.left - 1 && left <= area.left + area.width + 1 && top >= area.top - 1 && top <= area.top + area.height + 1;
    this.stack();
    this.ring.hidden = !inside;
    this.ring.style.left = `${left.toFixed(1)}px`;
    this.ring.style.top = `${top.toFixed(1)}px`;
    this.ring.dataset.x = String(px);
    this.ring.dataset.y = String(py);
  }

  /**
   * The ring just below the layer of Plotly's hover labels (in its container, whose corner is
   * the plot's: the same coordinates). A drawing may build Plotly's layers anew, without the
   * ring: done with each placing, after each drawing.
   */
  stack() {
    const labels = this.graph?.querySelector(".hoverlayer")?.ownerSVGElement;
    if (labels && this.ring.nextSibling !== labels) labels.before(this.ring);
  }
}

function swatch(color) {
  const s = document.createElement("span");
  Object.assign(s.style, { display: "inline-block", width: "11px", height: "11px", borderRadius: "50%", background: color, verticalAlign: "-1px" });
  return s;
}

function ringMark() {
  const s = swatch("transparent");
  s.style.border = `2px solid ${COLORS.ink}`;
  return s;
}
