// The lab's optional saturation charts, one pair per side, shown when the frames carry them:
// f′(z) histograms per layer (a heatmap: layers × bins) and dead-unit fractions per layer.
// Read by keyboard as the other charts (chart-keys.js): a cell or a bar says its label's text.
import { COLORS } from "../shared/constants.js";
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { ChartKeys } from "../shared/chart-keys.js";
import { bar, layerName, layerWords, layout, react } from "./charts.js";

/** A share as its labels print it: "12%", "0.4%". */
const percent = (v) => `${fmt(100 * v, 2)}%`;
/** A histogram bin as its label names it: "f′=0.125". */
const bin = (at) => `f′=${at}`;

/**
 * Per layer, the f′(z) histogram and the dead-unit fraction, when the frames carry
 * `layers[i].fprime_hist` / `layers[i].dead_fraction`. A histogram may come as
 * `{counts, edges}` (edges one longer than counts), `{counts, bins}`, or a bare list.
 */
export class SaturationChart {
  /** `title(key)`: a chart's name from its string's key (the side's own words filled in). */
  constructor({ hist, dead }, title) {
    this.el = { hist, dead };
    this.keys = {
      hist: new ChartKeys(hist, { title: () => title("lab.keys.hist"), grid: true, cell: (row, col) => this.cell(row, col) }),
      dead: new ChartKeys(dead, { title: () => title("lab.keys.dead"), where: layerWords }),
    };
  }

  static present(frame) {
    const layers = frame?.layers ?? [];
    return {
      hist: layers.some((l) => l.fprime_hist !== undefined && l.fprime_hist !== null),
      dead: layers.some((l) => Number.isFinite(l.dead_fraction)),
    };
  }

  /** A histogram cell in words, from the strings its label shows: "layer 2, f′=0.125: 40%". */
  cell(row, col) {
    const [trace] = this.el.hist.data;
    return t("chartkeys.cell", { row: layerWords(trace.y[row]), col: bin(trace.meta[col]), value: trace.customdata[row][col] });
  }

  draw(frame, topology, has) {
    if (!window.Plotly || !topology || !frame) return;
    const L = topology.layers.length;
    const names = topology.layers.map((_, i) => layerName(i + 1, L));
    if (has.hist) {
      const rows = frame.layers.map((l) => histogram(l.fprime_hist));
      const width = Math.max(0, ...rows.map((r) => r.counts.length));
      const x = rows.find((r) => r.centers.length === width)?.centers ?? Array.from({ length: width }, (_, i) => i);
      const z = rows.map((r) => {
        const total = r.counts.reduce((s, c) => s + (Number.isFinite(c) ? c : 0), 0) || 1;
        return Array.from({ length: width }, (_, i) => (Number.isFinite(r.counts[i]) ? r.counts[i] / total : null));
      });
      // A cell's label: its bin's f′ and its share, each as the cursor says it (`cell`).
      const at = x.map((v) => fmt(v, 3));
      const shares = z.map((row) => row.map((v) => (v === null ? "—" : percent(v))));
      const text = shares.map((row) => row.map((share, i) => `${bin(at[i])}: ${share}`));
      react(
        this.el.hist,
        [{ type: "heatmap", x, y: names, z, text, meta: at, customdata: shares, colorscale: "Viridis", reversescale: false, showscale: false, hovertemplate: "%{text}<extra>%{y}</extra>" }],
        layout({
          margin: { l: 34, r: 8, t: 6, b: 34 },
          xaxis: { title: { text: "f′(z)", standoff: 2, font: { size: 11.5 } }, automargin: true },
          yaxis: { type: "category", title: { text: t("lab.axis_layer_short"), font: { size: 11.5 } }, automargin: true },
        }),
        this.keys.hist,
      );
    }
    if (has.dead) {
      react(
        this.el.dead,
        [bar(names, frame.layers.map((l) => (Number.isFinite(l.dead_fraction) ? l.dead_fraction : null)), t("lab.dead"), COLORS.muted, percent)],
        layout({
          hovermode: "closest",
          xaxis: { type: "category", title: { text: t("lab.axis_layer"), standoff: 2, font: { size: 11.5 } }, automargin: true },
          yaxis: { range: [0, 1.02], tickformat: ".0%", gridcolor: "#eceef2", automargin: true },
        }),
        this.keys.dead,
      );
    }
  }
}

function histogram(h) {
  if (Array.isArray(h)) return { counts: h, centers: h.map((_, i) => i) };
  const counts = Array.isArray(h?.counts) ? h.counts : [];
  const edges = Array.isArray(h?.edges) ? h.edges : Array.isArray(h?.bins) ? h.bins : null;
  let centers = counts.map((_, i) => i);
  if (edges && edges.length === counts.length + 1) centers = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  else if (edges && edges.length === counts.length) centers = edges;
  return { counts, centers };
}
