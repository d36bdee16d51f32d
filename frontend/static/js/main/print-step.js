// The printable step (docs/lessons.md, "The printable step"): one step of the exercise as
// tables for handing out — per layer, a row per neuron (z, a = f(z), f′(z), δ, ∂L/∂b, b → new
// b) and a row per weight (w, ∂L/∂w, Δw, new w), for the example the diagram shows. Every
// number is the frame's (with `options` `exact`, all its digits); the page computes nothing but
// "the value before the update" = new − Δ, as the inspector does. lessons.css hides the rest
// of the page when printing.
import { t } from "../shared/i18n.js";
import { layerUsed } from "./step-params.js";

/** A number with up to 9 significant digits (the digits a hand computation carries). */
export function longNumber(v) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(9))).replace("-", "−");
}

function sub(n) {
  return String(n).replace(/\d/g, (d) => "₀₁₂₃₄₅₆₇₈₉"[d]);
}

export class PrintStep {
  constructor() {
    this.dialog = document.createElement("dialog");
    this.dialog.id = "print-step";
    this.dialog.className = "dialog print-step";
    document.body.appendChild(this.dialog);
  }

  el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Show the step of `frame` (its layers) for `topology`, ready for `window.print()`. */
  open(topology, frame) {
    const d = this.dialog;
    d.replaceChildren();
    const head = this.el("div", "dialog-head print-head");
    const title = this.el("h2", "", t("print.title", { step: frame?.step ?? 0 }));
    const print = this.el("button", "primary", t("print.print"));
    print.type = "button";
    print.addEventListener("click", () => window.print());
    const close = this.el("button", "banner-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", t("banner.close"));
    close.addEventListener("click", () => d.close());
    head.append(title, print, close);
    d.appendChild(head);
    if (!topology || !frame?.layers?.some((l) => l.dW)) {
      d.appendChild(this.el("p", "hint", t("print.no_step")));
    } else {
      this.body(topology, frame);
    }
    if (!d.open) d.showModal();
  }

  body(topology, frame) {
    const d = this.dialog;
    const h = frame.hyper ?? {};
    const facts = [
      `x = (${(frame.x ?? []).map(longNumber).join(", ")})`,
      `y = (${(frame.y ?? []).map(longNumber).join(", ")})`,
      `L = ${longNumber(frame.loss)}`,
      `η = ${longNumber(h.learning_rate)}`,
      `${t("print.batch")} ${frame.batch?.length ?? 1}`,
    ];
    d.appendChild(this.el("p", "print-facts", facts.join("   ·   ")));
    frame.layers.forEach((layer, k) => {
      const l = k + 1;
      const info = topology.layers[k];
      const name = l === topology.layers.length ? t("net.output") : t("net.hidden", { l });
      d.appendChild(this.el("h3", "", `${name} — ${t(`act.${info.activation}`)}`));
      // As the update left them (`W_updated`, `b_updated`: edited by hand since the step).
      const bUpd = layer.b_updated ?? layer.b;
      const used = layerUsed(layer);
      d.appendChild(
        this.table(
          ["j", "z", "a = f(z)", "f′(z)", "δ", "∂L/∂b", "b", t("print.new_b")],
          Array.from({ length: info.units }, (_, j) => [
            `${j + 1}`,
            layer.z?.[j], layer.a?.[j], layer.fprime?.[j], layer.delta?.[j], layer.db?.[j],
            used.b?.[j], layer.db_update ? bUpd?.[j] : null,
          ]),
          "print-neurons",
        ),
      );
      const rows = [];
      (layer.W_updated ?? layer.W ?? []).forEach((row, j) =>
        row.forEach((w, i) => {
          const dWu = layer.dW_update?.[j]?.[i];
          const has = dWu !== null && dWu !== undefined;
          rows.push([`w${sub(j + 1)}${sub(i + 1)}`, used.W?.[j]?.[i], layer.dW?.[j]?.[i], has ? dWu : null, has ? w : null]);
        }),
      );
      d.appendChild(this.table(["", "w", "∂L/∂w", "Δw", t("print.new_w")], rows, "print-weights"));
    });
  }

  table(headers, rows, cls) {
    const table = this.el("table", `print-table ${cls}`);
    const tr = this.el("tr");
    for (const h of headers) tr.appendChild(this.el("th", "", h));
    const thead = this.el("thead");
    thead.appendChild(tr);
    const tbody = this.el("tbody");
    for (const row of rows) {
      const r = this.el("tr");
      row.forEach((v, k) => r.appendChild(this.el(k === 0 ? "th" : "td", "", typeof v === "string" ? v : longNumber(v))));
      tbody.appendChild(r);
    }
    table.append(thead, tbody);
    return table;
  }
}
