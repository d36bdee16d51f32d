// The inspector: the formula behind the selected neuron or weight, with the frame's
// numbers plugged in, rendered with KaTeX and refreshed on every frame. Each render lists
// its blocks (heading, formula, table…) by content; only a block that changed is rebuilt,
// so a frame that moves one number re-typesets one formula, not the whole panel.
// It only multiplies numbers for display; every result shown comes from the frame. The
// formulas are written here and only here (docs/math.md states the math they follow).
import { fmt, tex } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const TERMS_SHOWN = 3;

export class Inspector {
  constructor(container) {
    this.container = container;
    this.topology = null;
    this.frame = null;
    this.selection = null;
    this.training = null; // the page's training config: the hyper-parameters of a frame without any
    this.inspected = null; // the `inspect` answer for a neuron of a large layer
  }

  setTopology(topology) {
    this.topology = topology;
    this.selection = null;
    this.inspected = null;
    this.render();
  }

  setSelection(selection) {
    this.selection = selection;
    this.inspected = null;
    this.render();
  }

  /** The page's training config, for a frame that does not say which hyper-parameters its step used. */
  setTraining(training) {
    this.training = { ...training };
    this.render();
  }

  /** The hyper-parameters of the step shown: the frame's own (`hyper`), also for a past step. */
  hyper() {
    return this.frame?.hyper ?? this.training ?? {};
  }

  setInspected(message) {
    this.inspected = message;
    this.render();
  }

  update(frame) {
    this.frame = frame;
    this.render();
  }

  render() {
    this.blocks = [];
    if (this.topology && this.frame) {
      const s = this.selection;
      if (!s) this.renderOverview();
      else if (s.type === "edge") this.renderEdge(s);
      else if (s.layer === 0) this.renderInput(s);
      else this.renderNeuron(s);
    }
    this.reconcile(this.blocks);
  }

  /** Make the panel show `blocks`, rebuilding only those whose key differs from before. */
  reconcile(blocks) {
    const root = this.container;
    let shown = this.shown ?? [];
    if (shown.some((b) => b.node.parentNode !== root)) {
      root.replaceChildren();
      shown = [];
    }
    for (let i = 0; i < blocks.length; i += 1) {
      if (shown[i]?.key === blocks[i].key) continue;
      const node = blocks[i].make();
      if (shown[i]) root.replaceChild(node, shown[i].node);
      else root.appendChild(node);
      shown[i] = { key: blocks[i].key, node };
    }
    for (let i = blocks.length; i < shown.length; i += 1) shown[i].node.remove();
    this.shown = shown.slice(0, blocks.length);
  }

  // --------------------------------------------------------------- building blocks

  heading(text) {
    this.blocks.push({ key: `h3|${text}`, make: () => element("h3", "inspector-title", text) });
  }

  note(text, cls = "inspector-note") {
    this.blocks.push({ key: `p|${cls}|${text}`, make: () => element("p", cls, text) });
  }

  section(text, kind) {
    this.blocks.push({ key: `h4|${kind}|${text}`, make: () => element("h4", `inspector-section ${kind}`, text) });
  }

  formula(latex) {
    this.blocks.push({
      key: `formula|${Boolean(window.katex)}|${latex}`,
      make: () => {
        const div = document.createElement("div");
        div.className = "formula";
        if (window.katex) {
          window.katex.render(latex, div, { throwOnError: false, displayMode: true, output: "html" });
        } else {
          div.textContent = latex;
        }
        return div;
      },
    });
  }

  /** The numbers of the selection, one row each, with the raw value kept for tests. */
  values(rows) {
    this.blocks.push({ key: `table|${rows.map((row) => row.map(String).join("\u0001")).join("\u0002")}`, make: () => valuesTable(rows) });
  }

  // --------------------------------------------------------------- views

  renderOverview() {
    const frame = this.frame;
    this.heading(t("inspector.title"));
    this.note(t("inspector.hint"));
    const loss = this.topology.config?.network?.loss ?? "mse";
    this.section(t("inspector.loss_section"), "loss");
    // The loss of one example (the batch's is their mean): ½Σ(ŷ−y)², or the cross-entropy
    // summed over the outputs; the long one puts its value on a line of its own.
    const rhs = {
      mse: "\\tfrac{1}{2}\\sum_k (\\hat y_k - y_k)^2",
      bce: "-\\sum_k \\big[y_k \\log \\hat y_k + (1-y_k)\\log(1-\\hat y_k)\\big]",
      softmax_ce: "-\\sum_k y_k \\log \\hat y_k",
    }[loss];
    this.formula(loss === "bce" ? aligned("L", [rhs, tex(frame.loss)]) : `L = ${rhs} = ${tex(frame.loss)}`);
    if (frame.batch?.length) this.note(t("inspector.loss_mean", { b: frame.batch.length }));
    this.section(t("inspector.chain_section"), "backward");
    this.formula(
      "\\frac{\\partial L}{\\partial w^{(l)}_{ji}} = \\underbrace{f'(z^{(l)}_j)\\sum_k w^{(l+1)}_{kj}\\,\\delta^{(l+1)}_k}_{\\delta^{(l)}_j}\\; a^{(l-1)}_i",
    );
  }

  renderInput(s) {
    const x = this.frame.x?.[s.neuron];
    this.heading(t("inspector.input_title", { i: s.neuron + 1 }));
    this.formula(`a^{(0)}_{${s.neuron + 1}} = x_{${s.neuron + 1}} = ${tex(x)}`);
    this.values([["x", "x", x]]);
  }

  layerName(l) {
    const L = this.topology.layers.length;
    return l === L ? t("net.output") : t("net.hidden", { l });
  }

  /** The weights W⁽ˡ⁾ as they were when this step's forward pass ran. */
  weightsUsed(layer) {
    const W = layer?.W;
    const dWu = layer?.dW_update;
    if (!W || !dWu) return W;
    return W.map((row, j) => row.map((w, i) => w - (dWu[j]?.[i] ?? 0)));
  }

  renderNeuron(s) {
    const { layer: l, neuron: j } = s;
    const frame = this.frame;
    const topo = this.topology;
    const L = topo.layers.length;
    const info = topo.layers[l - 1];
    const layer = frame.layers[l - 1];
    if (!info || !layer || j >= info.units) return;
    const jj = j + 1;
    this.heading(t("inspector.neuron_title", { j: jj, layer: this.layerName(l) }));
    const z = layer.z?.[j];
    const a = layer.a?.[j];
    const fp = layer.fprime?.[j];
    const d = layer.delta?.[j];

    // Forward: z = Σ w·a + b, a = f(z)
    this.section(t("inspector.forward_section"), "forward");
    let row = this.weightsUsed(layer)?.[j];
    let aPrev = l === 1 ? frame.x : frame.layers[l - 2]?.a;
    if (!row && this.inspected?.layer === l && this.inspected?.neuron === j) {
      row = this.inspected.W;
      aPrev = this.inspected.a_prev ?? aPrev;
    }
    const bUsed = (layer.b?.[j] ?? 0) - (layer.db_update?.[j] ?? 0);
    if (z === null || z === undefined) {
      this.formula(`z^{(${l})}_{${jj}} = \\sum_i w^{(${l})}_{${jj}i}\\, a^{(${l - 1})}_i + b^{(${l})}_{${jj}}`);
      this.note(t("inspector.not_yet"));
    } else {
      const terms = row && aPrev ? row.map((w, i) => ({ i, w, a: aPrev[i], p: w * aPrev[i] })) : [];
      terms.sort((p, q) => Math.abs(q.p) - Math.abs(p.p));
      const shown = terms.slice(0, TERMS_SHOWN);
      const parts = shown.map((x) => `${paren(x.w)}\\cdot${paren(x.a)}`);
      if (terms.length > TERMS_SHOWN) parts.push("\\dots");
      parts.push(paren(bUsed));
      this.formula(
        aligned(`z^{(${l})}_{${jj}}`, [`\\sum_i w_{${jj}i}\\, a^{(${l - 1})}_i + b_{${jj}}`, ...sumLines(parts), tex(z)]),
      );
      if (terms.length > TERMS_SHOWN) this.note(t("inspector.terms_note", { shown: TERMS_SHOWN, n: terms.length }));
      const act = info.activation;
      const fname = act === "softmax" ? "\\mathrm{softmax}" : `\\mathrm{${texName(act)}}`;
      const aName = l === L ? "\\hat y" : `a^{(${l})}`;
      this.formula(`${aName}_{${jj}} = ${fname}(${act === "softmax" ? "z" : tex(z)}) = ${tex(a)}`);
      if (act !== "softmax" && fp !== null && fp !== undefined) this.formula(`f'(z) = ${tex(fp)}`);
    }

    // Backward: δ
    this.section(t("inspector.backward_section"), "backward");
    if (d === null || d === undefined) {
      this.formula(this.deltaSymbolic(l, jj, L));
      this.note(t("inspector.not_yet"));
    } else if (l === L) {
      const y = frame.y?.[j];
      const loss = topo.config?.network?.loss;
      if (loss === "mse" && info.activation !== "linear") {
        this.formula(`\\delta_{${jj}} = (\\hat y - y)\\, f'(z) = (${tex(a)} - ${paren(y)})\\cdot ${paren(fp)} = ${tex(d)}`);
      } else if (loss === "mse") {
        this.formula(`\\delta_{${jj}} = (\\hat y - y)\\cdot f'(z) = (${tex(a)} - ${paren(y)})\\cdot 1 = ${tex(d)}`);
      } else {
        this.formula(`\\delta_{${jj}} = \\hat y_{${jj}} - y_{${jj}} = ${tex(a)} - ${paren(y)} = ${tex(d)}`);
      }
    } else {
      const next = frame.layers[l];
      const Wn = this.weightsUsed(next);
      const dn = next?.delta;
      const terms = Wn && dn ? Wn.map((wrow, k) => ({ k, w: wrow[j], d: dn[k], p: wrow[j] * dn[k] })) : [];
      terms.sort((p, q) => Math.abs(q.p) - Math.abs(p.p));
      const shown = terms.slice(0, TERMS_SHOWN);
      const parts = shown.map((x) => `${paren(x.w)}\\cdot${paren(x.d)}`);
      if (terms.length > TERMS_SHOWN) parts.push("\\dots");
      const lines = sumLines(parts.length ? parts : ["\\dots"]);
      lines[0] = `${paren(fp)}\\cdot\\big(${lines[0].replace(/^\s*/, "")}`;
      lines[lines.length - 1] += "\\big)";
      this.formula(
        aligned(`\\delta^{(${l})}_{${jj}}`, [
          `f'(z_{${jj}}) \\sum_k w^{(${l + 1})}_{k${jj}}\\, \\delta^{(${l + 1})}_k`,
          ...lines,
          tex(d),
        ]),
      );
      if (layer.mask && layer.mask[j] === 0) this.note(t("inspector.dropped"));
      if (fp !== null && Math.abs(fp) < 0.05) this.note(t("inspector.small_fprime"), "inspector-note warn");
    }
    this.values([
      ["z", "z", z],
      ["a", l === L ? "ŷ" : "a", a],
      ["fprime", "f′(z)", fp],
      ["delta", "δ", d],
      ["db", "∂L/∂b", layer.db?.[j]],
    ]);
  }

  deltaSymbolic(l, jj, L) {
    if (l === L) return `\\delta^{(${l})}_{${jj}} = \\frac{\\partial L}{\\partial \\hat y_{${jj}}}\\, f'(z_{${jj}})`;
    return `\\delta^{(${l})}_{${jj}} = f'(z_{${jj}}) \\sum_k w^{(${l + 1})}_{k${jj}}\\, \\delta^{(${l + 1})}_k`;
  }

  renderEdge(s) {
    const { layer: l, from: i, to: j } = s;
    const frame = this.frame;
    const layer = frame.layers[l - 1];
    if (!layer) return;
    const ii = i + 1;
    const jj = j + 1;
    this.heading(t("inspector.edge_title", { i: ii, j: jj, l }));
    const w = layer.W?.[j]?.[i];
    const dW = layer.dW?.[j]?.[i];
    const dWu = layer.dW_update?.[j]?.[i];
    const wOld = dWu !== null && dWu !== undefined ? w - dWu : w;
    const aPrev = (l === 1 ? frame.x : frame.layers[l - 2]?.a)?.[i];
    const d = layer.delta?.[j];
    const B = frame.batch?.length ?? 1;
    const name = `w^{(${l})}_{${jj}${ii}}`;
    this.formula(`${name} = ${tex(wOld)}`);

    this.section(t("inspector.gradient_section"), "backward");
    if (dW === null || dW === undefined) {
      this.formula(`\\frac{\\partial L}{\\partial ${name}} = \\delta^{(${l})}_{${jj}}\\, a^{(${l - 1})}_{${ii}}`);
      this.note(t("inspector.not_yet"));
    } else {
      const one = d !== null && d !== undefined && aPrev !== null && aPrev !== undefined;
      if (one) {
        this.formula(
          `\\delta^{(${l})}_{${jj}}\\, a^{(${l - 1})}_{${ii}} = ${paren(d)}\\cdot${paren(aPrev)} = ${tex(d * aPrev)}`,
        );
        this.note(t("inspector.this_example"));
      }
      this.formula(
        `\\frac{\\partial L}{\\partial ${name}} = \\frac{1}{${B}}\\sum_{b} \\delta_{${jj}}\\, a_{${ii}} = ${tex(dW)}`,
      );
      if (B > 1) this.note(t("inspector.batch_mean", { b: B }));
    }

    this.section(t("inspector.update_section"), "update");
    const { optimizer, learning_rate: eta } = this.hyper();
    if (dWu === null || dWu === undefined) {
      this.formula(`\\Delta ${name} = -\\eta\\, \\frac{\\partial L}{\\partial ${name}}`);
      this.note(t("inspector.not_yet"));
    } else {
      if (optimizer === "sgd" && !frame.clipped && Number.isFinite(eta) && dW !== null && dW !== undefined) {
        this.formula(aligned("\\Delta w", [`-\\eta\\,\\frac{\\partial L}{\\partial w}`, `-${tex(eta)}\\cdot${paren(dW)}`, tex(dWu)]));
      } else {
        this.formula(`\\Delta w_{\\text{${optimizer ?? ""}}} = ${tex(dWu)}`);
      }
      this.formula(aligned("w", [`w + \\Delta w`, `${tex(wOld)} + ${paren(dWu)}`, tex(w)]).replace("&= w + ", "&\\leftarrow w + "));
    }
    this.values([
      ["w_old", t("inspector.w_old"), wOld],
      ["dW", "∂L/∂w", dW],
      ["dW_update", "Δw", dWu],
      ["w", t("inspector.w_new"), dWu === null || dWu === undefined ? null : w],
    ]);
  }
}

/** `lhs = line1 \\ = line2 …`, aligned on "=" (lines starting with "+" continue a sum). */
function aligned(lhs, lines) {
  const rows = lines.map((line, k) => {
    const cont = line.startsWith("+");
    return `${k === 0 ? lhs : ""} &${cont ? "\\quad " : "= "}${line}`;
  });
  return `\\begin{aligned}${rows.join(" \\\\ ")}\\end{aligned}`;
}

/** A sum split one product per line (["a", "+ b", "+ … + bias"]), so it fits the panel. */
function sumLines(parts) {
  const lines = [];
  let shortRun = false;
  for (const part of parts) {
    const short = part === "\\dots" || !part.includes("\\cdot");
    if (lines.length && short && shortRun) lines[lines.length - 1] += ` + ${part}`;
    else lines.push(lines.length ? `+ ${part}` : part);
    shortRun = short;
  }
  return lines;
}

function paren(x) {
  const s = tex(x);
  return s.startsWith("-") ? `(${s})` : s;
}

function texName(act) {
  return { leaky_relu: "LeakyReLU", relu: "ReLU", elu: "ELU", silu: "SiLU", sigmoid: "\\sigma" }[act] ?? act;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

function valuesTable(rows) {
  const table = document.createElement("table");
  table.className = "inspector-values";
  for (const [key, label, value] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    const td = document.createElement("td");
    td.dataset.key = key;
    td.dataset.value = value === null || value === undefined ? "" : String(value);
    td.textContent = fmt(value);
    tr.append(th, td);
    table.appendChild(tr);
  }
  return table;
}
