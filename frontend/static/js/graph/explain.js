// The side panel: the chain rule of the step just taken (or of a clicked node) with the
// numbers plugged in, and every leaf's gradient beside its finite-difference check.
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { dname, errorText, num, opSymbol } from "./words.js";

export const PASS_REL_ERROR = 1e-6; // as the main page's gradient check

function line(parent, cls, text) {
  const p = document.createElement("p");
  p.className = cls;
  p.textContent = text;
  parent.appendChild(p);
  return p;
}

export class Explainer {
  constructor(body, table, summary) {
    this.body = body;
    this.table = table;
    this.summary = summary;
    this.report = null;
    this.names = [];
    this.ops = new Map();
  }

  setReport(report, names, ops, note = "") {
    this.report = report;
    this.names = names;
    this.ops = ops;
    this.note = note;
  }

  /** The formula of node `id`'s forward step: "v = a × b = 0.5 × 1 = 0.5". */
  forwardText(id) {
    const nodes = this.report.graph.nodes;
    const n = nodes[id];
    const name = this.names[id];
    const ins = n.inputs.map((i) => this.names[i]);
    const vals = n.inputs.map((i) => num(nodes[i].value));
    const sym = opSymbol(this.ops, n.op);
    if (n.op === "upstream") return t("graph.upstream_forward", { name, value: fmt(n.value), g: fmt(n.local?.[0]) });
    let symbolic;
    let numeric;
    if (n.inputs.length === 2) {
      symbolic = `${ins[0]} ${sym} ${ins[1]}`;
      numeric = `${vals[0]} ${sym} ${vals[1]}`;
    } else if (n.op === "neg") {
      symbolic = `−${dname(ins[0])}`;
      numeric = `−${vals[0]}`;
    } else {
      symbolic = `${sym}(${ins[0]})`;
      numeric = `${sym}(${fmt(nodes[n.inputs[0]].value)})`;
    }
    return `${name} = ${symbolic} = ${numeric} = ${fmt(n.value)}`;
  }

  /** Its local derivatives: "∂v/∂a = 1, ∂v/∂b = 0.5" (only where a gradient will pass). */
  localText(id) {
    const n = this.report.graph.nodes[id];
    if (n.op === "upstream") return "";
    return n.inputs
      .map((i, slot) => [i, n.local?.[slot]])
      .filter(([, d]) => d !== null && d !== undefined)
      .map(([i, d]) => `∂${dname(this.names[id])}/∂${dname(this.names[i])} = ${fmt(d)}`)
      .join(",  ");
  }

  /** The formula of its backward step: "∂L/∂n = Σ ∂L/∂c · ∂c/∂n = (…)(…) + … = g". */
  backwardText(step) {
    const id = step.node;
    const out = this.names[this.report.graph.output];
    const name = dname(this.names[id]);
    if (!step.terms.length) return `∂${out}/∂${name} = 1`;
    const symbolic = step.terms.map((tm) => `∂${out}/∂${dname(this.names[tm.consumer])} · ∂${dname(this.names[tm.consumer])}/∂${name}`);
    const numeric = step.terms.map((tm) => `${num(tm.grad)} · ${num(tm.local)}`);
    return `∂${out}/∂${name} = ${symbolic.join(" + ")} = ${numeric.join(" + ")} = ${fmt(step.grad)}`;
  }

  /** Show the step `progress.step` (or node `selected`, or the start and end notes). */
  render(progress, selected = null) {
    const body = this.body;
    body.replaceChildren();
    const report = this.report;
    if (!report?.graph) return;
    const steps = report.steps;
    const nodes = report.graph.nodes;
    if (report.error) line(body, "explain-error", errorText(report.error));
    if (selected !== null && nodes[selected]) {
      this.renderNode(selected, progress);
    } else if (progress.step) {
      const step = progress.step;
      const head = t(step.phase === "forward" ? "graph.explain_forward" : "graph.explain_backward", { name: this.names[step.node] });
      line(body, `explain-phase ${step.phase}`, head);
      if (step.phase === "forward") {
        line(body, "formula", this.forwardText(step.node));
        const local = this.localText(step.node);
        if (local) {
          line(body, "explain-sub", t("graph.explain_local"));
          line(body, "formula local", local);
        }
      } else {
        line(body, "formula grad", this.backwardText(step));
        line(body, "explain-sub", t(step.terms.length > 1 ? "graph.explain_sum" : step.terms.length ? "graph.explain_chain" : "graph.explain_seed"));
        const check = report.checks.find((c) => c.node === step.node);
        if (check) line(body, "formula check", this.checkText(check));
      }
    } else if (steps.length) {
      line(body, "explain-intro", t("graph.explain_start"));
    }
    if (steps.length && progress.step && steps.indexOf(progress.step) === steps.length - 1 && selected === null) {
      line(body, "explain-done", t("graph.explain_done", { n: report.checks.length }));
    }
    if (this.note) line(body, "explain-note", this.note);
  }

  renderNode(id, progress) {
    const n = this.report.graph.nodes[id];
    const body = this.body;
    line(body, "explain-phase selected", `${this.names[id]}  ·  ${n.label}`);
    if (n.op === "leaf" || n.op === "const") {
      line(body, "formula", `${this.names[id]} = ${fmt(n.value)}`);
    } else if (progress.valueKnown(id)) {
      line(body, "formula", this.forwardText(id));
      const local = this.localText(id);
      if (local) line(body, "formula local", local);
    } else {
      line(body, "explain-sub", t("graph.explain_not_yet"));
    }
    const step = this.report.steps.find((s) => s.phase === "backward" && s.node === id);
    if (step && progress.gradKnown(id)) line(body, "formula grad", this.backwardText(step));
    const check = this.report.checks.find((c) => c.node === id);
    if (check && progress.gradKnown(id)) line(body, "formula check", this.checkText(check));
  }

  checkText(c) {
    if (c.numeric === null) return t("graph.check_failed", { leaf: c.leaf, why: errorText(c.error) });
    const ok = c.rel_error !== null && c.rel_error < PASS_REL_ERROR;
    return t("graph.check_line", { leaf: c.leaf, fd: fmt(c.numeric, 6), rel: fmt(c.rel_error, 2), mark: ok ? "✓" : "✗" });
  }

  /** The table of checks: the gradient column fills in as the backward pass reaches each leaf. */
  renderChecks(progress) {
    const table = this.table;
    table.replaceChildren();
    const checks = this.report?.checks ?? [];
    this.summary.hidden = true;
    if (!checks.length) return;
    const head = table.createTHead().insertRow();
    for (const key of ["leaf", "backprop", "numeric", "rel", "pass"]) {
      const th = document.createElement("th");
      th.textContent = t(`graph.check_${key}`);
      if (key !== "leaf") th.className = "num";
      head.appendChild(th);
    }
    const tbody = table.createTBody();
    let shown = 0;
    let worst = 0;
    let failed = 0;
    for (const c of checks) {
      const row = tbody.insertRow();
      const known = progress.gradKnown(c.node);
      const ok = c.rel_error !== null && c.rel_error < PASS_REL_ERROR;
      const cells = [
        c.leaf,
        known ? fmt(c.analytic, 6) : "…",
        c.numeric === null ? "—" : fmt(c.numeric, 6),
        known && c.rel_error !== null ? fmt(c.rel_error, 2) : "",
        known ? (c.numeric === null ? "?" : ok ? "✓" : "✗") : "",
      ];
      cells.forEach((text, k) => {
        const td = row.insertCell();
        td.textContent = text;
        if (k > 0) td.className = "num";
        if (k === 4 && known) td.className = `num ${ok ? "pass" : "fail"}`;
      });
      if (c.error) row.title = errorText(c.error);
      if (known) {
        shown += 1;
        if (c.rel_error !== null) worst = Math.max(worst, c.rel_error);
        if (!ok) failed += 1;
      }
    }
    if (shown === checks.length) {
      this.summary.hidden = false;
      this.summary.className = `checks-summary ${failed ? "fail" : "pass"}`;
      this.summary.textContent = failed
        ? t("graph.checks_fail", { n: failed, total: checks.length })
        : t("graph.checks_pass", { total: checks.length, worst: fmt(worst, 2) });
      const kink = failed ? this.kink() : null;
      if (kink) this.summary.textContent += ` ${t("graph.checks_kink", { name: kink })}`;
    }
  }

  /**
   * A (Leaky) ReLU whose input sits at its kink, 0: no derivative there. Backprop takes the
   * engine's f′(0); a finite difference straddles the kink and measures the mean of both slopes.
   */
  kink() {
    const nodes = this.report?.graph?.nodes ?? [];
    const at = nodes.find((n) => (n.op === "relu" || n.op === "leaky_relu") && Math.abs(nodes[n.inputs[0]]?.value ?? 1) < 1e-6);
    return at ? (at.op === "relu" ? "ReLU" : "Leaky ReLU") : null;
  }
}
