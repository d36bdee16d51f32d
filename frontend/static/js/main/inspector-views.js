// The inspector's views of the overview (no selection: the loss and the chain rule), an
// input and a weight (an edge: its gradient, then its update, with the numbers the step used).
// `ins` is the Inspector (inspector.js): its blocks, frame, topology and training settings;
// a neuron's view is inspector-neuron.js.
import { fmt, tex } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { aligned, paren } from "./inspector-tex.js";
import { usedValue } from "./step-params.js";
import { featureLabel, subscript, superscript } from "./units.js";

export function renderOverview(ins) {
  const frame = ins.frame;
  ins.heading(t("inspector.title"));
  ins.note(t("inspector.hint"));
  const loss = ins.topology.config?.network?.loss ?? "mse";
  ins.section(t("inspector.loss_section"), "loss");
  // The loss of one example (the batch's is their mean): ½Σ(ŷ−y)², or the cross-entropy
  // summed over the outputs; the long one puts its value on a line of its own.
  const rhs = {
    mse: "\\tfrac{1}{2}\\sum_k (\\hat y_k - y_k)^2",
    bce: "-\\sum_k \\big[y_k \\log \\hat y_k + (1-y_k)\\log(1-\\hat y_k)\\big]",
    softmax_ce: "-\\sum_k y_k \\log \\hat y_k",
  }[loss];
  ins.formula(loss === "bce" ? aligned("L", [rhs, tex(frame.loss)]) : `L = ${rhs} = ${tex(frame.loss)}`);
  const B = frame.batch?.length ?? 0;
  if (B) ins.note(t("inspector.loss_mean_n", { n: B }));
  // With an L1/L2 penalty, training minimizes the data loss plus the penalty.
  const m = frame.metrics ?? {};
  const { l1 = 0, l2 = 0 } = ins.hyper();
  if ((l1 > 0 || l2 > 0) && m.batch_penalty !== undefined && m.batch_penalty !== null) {
    const pen = [l1 > 0 ? "\\lambda_1 \\sum |w|" : "", l2 > 0 ? "\\tfrac{\\lambda_2}{2} \\sum w^2" : ""].filter(Boolean).join(" + ");
    ins.formula(
      aligned("L_{\\text{total}}", [
        `\\underbrace{L_{\\text{data}}}_{${tex(m.batch_data_loss)}} + \\underbrace{${pen}}_{${tex(m.batch_penalty)}}`,
        tex(m.batch_total_loss),
      ]),
    );
    ins.note(t("inspector.penalty_note"));
  }
  ins.section(t("inspector.chain_section"), "backward");
  ins.formula(
    "\\frac{\\partial L}{\\partial w^{(l)}_{ji}} = \\underbrace{f'(z^{(l)}_j)\\sum_k w^{(l+1)}_{kj}\\,\\delta^{(l+1)}_k}_{\\delta^{(l)}_j}\\; a^{(l-1)}_i",
  );
}

export function renderInput(ins, s) {
  const x = ins.frame.x?.[s.neuron];
  const name = featureLabel(ins.topology.data, s.neuron);
  const generic = /^x[₀-₉]*$/.test(name);
  ins.heading(t("inspector.input_title", { i: subscript(s.neuron + 1) }) + (generic ? "" : ` · ${name}`));
  ins.formula(`a^{(0)}_{${s.neuron + 1}} = x_{${s.neuron + 1}} = ${tex(x)}`);
  // In the data's own units, when the network sees standardized values (house price).
  const sc = ins.topology.data?.scaling;
  const mean = sc?.feature_mean?.[s.neuron];
  const std = sc?.feature_std?.[s.neuron];
  if (x !== null && x !== undefined && Number.isFinite(mean) && Number.isFinite(std) && (mean !== 0 || std !== 1)) {
    ins.formula(`x_{${s.neuron + 1}}\\cdot ${tex(std)} + ${paren(mean)} = ${tex(x * std + mean)}`);
    ins.note(t("inspector.input_units", { name }));
  }
  ins.values([["x", "x", x]]);
}

export function renderEdge(ins, s) {
  const { layer: l, from: i, to: j } = s;
  const frame = ins.frame;
  const layer = frame.layers[l - 1];
  if (!layer) return;
  const ii = i + 1;
  const jj = j + 1;
  ins.heading(t("inspector.edge_title", { i: ii, j: jj, l }));
  const w = layer.W?.[j]?.[i];
  const dW = layer.dW?.[j]?.[i];
  const dWu = layer.dW_update?.[j]?.[i];
  const wUpd = layer.W_updated?.[j]?.[i] ?? w; // as the update left it (edited by hand since?)
  const wOld = usedValue(w, wUpd, dWu);
  const aPrev = (l === 1 ? frame.x : frame.layers[l - 2]?.a)?.[i];
  const d = layer.delta?.[j];
  const B = frame.batch?.length ?? 1;
  const name = `w^{(${l})}_{${jj}${ii}}`;
  ins.formula(`${name} = ${tex(wOld)}`);
  ins.editable({ layer: l, param: "W", index: [j, i], value: w, label: `w${subscript(jj)}${subscript(ii)}⁽${superscript(l)}⁾ =` });

  ins.section(t("inspector.gradient_section"), "backward");
  if (dW === null || dW === undefined) {
    ins.formula(`\\frac{\\partial L}{\\partial ${name}} = \\delta^{(${l})}_{${jj}}\\, a^{(${l - 1})}_{${ii}}`);
    ins.gradientMissing();
  } else {
    const one = d !== null && d !== undefined && aPrev !== null && aPrev !== undefined;
    if (one) {
      ins.formula(
        `\\delta^{(${l})}_{${jj}}\\, a^{(${l - 1})}_{${ii}} = ${paren(d)}\\cdot${paren(aPrev)} = ${tex(d * aPrev)}`,
      );
      ins.note(t("inspector.this_example"));
    }
    ins.formula(
      `\\frac{\\partial L}{\\partial ${name}} = \\frac{1}{${B}}\\sum_{b} \\delta_{${jj}}\\, a_{${ii}} = ${tex(dW)}`,
    );
    if (B > 1) ins.note(t("inspector.batch_mean", { b: B }));
  }

  ins.section(t("inspector.update_section"), "update");
  const { optimizer, learning_rate: eta } = ins.hyper();
  if (dWu === null || dWu === undefined) {
    ins.formula(`\\Delta ${name} = -\\eta\\, \\frac{\\partial L}{\\partial ${name}}`);
    ins.gradientMissing();
  } else {
    if (optimizer === "sgd" && !frame.clipped && Number.isFinite(eta) && dW !== null && dW !== undefined) {
      ins.formula(aligned("\\Delta w", [`-\\eta\\,\\frac{\\partial L}{\\partial w}`, `-${tex(eta)}\\cdot${paren(dW)}`, tex(dWu)]));
    } else {
      ins.formula(`\\Delta w_{\\text{${optimizer ?? ""}}} = ${tex(dWu)}`);
    }
    ins.formula(aligned("w", [`w + \\Delta w`, `${tex(wOld)} + ${paren(dWu)}`, tex(wUpd)]).replace("&= w + ", "&\\leftarrow w + "));
  }
  const edited = wUpd !== w;
  if (edited) ins.note(t("inspector.edited_since", { w: fmt(w) }));
  ins.values([
    ["w_old", t("inspector.w_old"), wOld],
    ["dW", "∂L/∂w", dW],
    ["dW_update", "Δw", dWu],
    ["w", t("inspector.w_new"), dWu === null || dWu === undefined ? null : wUpd],
    ...(edited ? [["w_edited", t("inspector.w_edited"), w]] : []),
  ]);
}
