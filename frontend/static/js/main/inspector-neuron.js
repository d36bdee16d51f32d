// The inspector's view of one neuron: z = Σ w·a + b with every term in index order, a = f(z),
// δ — for the output neuron with why f′ cancels (sigmoid + cross-entropy, softmax +
// cross-entropy) — the batch mean ∂L/∂b beside the example's δ, the layer in vector form
// (W·a + b with its matrices), and a link to the neuron's chain rule on /graph.
// `ins` is the Inspector (inspector.js): its blocks, frame, topology and view options.
import { tex } from "../shared/format.js";
import { t } from "../shared/i18n.js";
import { layerUsed, usedValue } from "./step-params.js";
import { aligned, matrixTex, paren, productParts, shapeTex, sumLines, TERMS_FOLDED, texName, vectorTex } from "./inspector-tex.js";

/** Largest number of inputs a neuron may have for its /graph link (the graph page's limit). */
export const GRAPH_MAX_INPUTS = 64;

export function renderNeuron(ins, s) {
  const { layer: l, neuron: j } = s;
  const { frame, topology: topo } = ins;
  const L = topo.layers.length;
  const info = topo.layers[l - 1];
  const layer = frame.layers[l - 1];
  if (!info || !layer || j >= info.units) return;
  const jj = j + 1;
  ins.heading(t("inspector.neuron_title", { j: jj, layer: ins.layerName(l) }));
  const sub = (n) => String(n).replace(/\d/g, (c) => "₀₁₂₃₄₅₆₇₈₉"[c]);
  ins.editable({ layer: l, param: "b", index: [j], value: layer.b?.[j], label: `b${sub(jj)} =` });
  const z = layer.z?.[j];
  const a = layer.a?.[j];
  const fp = layer.fprime?.[j];
  const d = layer.delta?.[j];
  const bn = Boolean(info.batchnorm);
  const output = l === L;

  // Forward: z = Σ w·a + b, a = f(z)
  ins.section(t("inspector.forward_section"), "forward");
  let row = ins.weightsUsed(layer)?.[j];
  let aPrev = l === 1 ? frame.x : frame.layers[l - 2]?.a;
  const inspected = row ? null : ins.inspectedUsed(l, j);
  if (inspected) {
    row = inspected.row;
    aPrev = ins.inspected.a_prev ?? aPrev;
  }
  const bUsed = usedValue(layer.b?.[j] ?? 0, layer.b_updated?.[j], layer.db_update?.[j] ?? 0);
  const inName = l === 1 ? "x" : `a^{(${l - 1})}`;
  const bias = bn ? "" : ` + b_{${jj}}`;
  if (z === null || z === undefined) {
    ins.formula(`z^{(${l})}_{${jj}} = \\sum_i w^{(${l})}_{${jj}i}\\, ${inName}_i${bias}`);
    ins.note(t("inspector.not_yet"));
  } else {
    const terms = row && aPrev ? row.map((w, i) => ({ i, w, v: aPrev[i] })) : [];
    const key = `z${l}.${j}`;
    const all = ins.expanded.has(key);
    const label = (i) => `w_{${jj}${i + 1}}${l === 1 ? "x" : "a"}_{${i + 1}}`;
    const parts = productParts(terms, label, all);
    if (!bn) parts.push(`\\underset{b_{${jj}}}{${paren(bUsed)}}`);
    if (terms.length) {
      ins.formula(aligned(`z^{(${l})}_{${jj}}`, [`\\sum_i w_{${jj}i}\\, ${inName}_i${bias}`, ...sumLines(parts), tex(z)]));
    } else {
      ins.formula(`z^{(${l})}_{${jj}} = \\sum_i w_{${jj}i}\\, ${inName}_i${bias} = ${tex(z)}`);
      ins.note(t("inspector.terms_missing"));
    }
    if (terms.length > TERMS_FOLDED) ins.toggle(key, all ? t("inspector.fold_terms") : t("inspector.show_all_terms", { n: terms.length }));
    if (bn) {
      const zbn = layer.z_bn?.[j];
      ins.formula(`z^{\\mathrm{BN}}_{${jj}} = \\gamma_{${jj}}\\,\\frac{z_{${jj}} - \\mu_B}{\\sigma_B} + \\beta_{${jj}} = ${tex(zbn)}`);
      ins.note(t("inspector.batchnorm"));
    }
    const fname = `\\mathrm{${texName(info.activation)}}`;
    const aName = output ? "\\hat y" : `a^{(${l})}`;
    const arg = info.activation === "softmax" ? "z" : tex(bn ? layer.z_bn?.[j] : z);
    if (info.residual) {
      const skip = frame.layers[l - 2]?.a?.[j];
      ins.formula(`${aName}_{${jj}} = ${fname}(${arg}) + a^{(${l - 1})}_{${jj}} = ${tex(a === null || a === undefined || skip === undefined ? null : a - skip)} + ${paren(skip)} = ${tex(a)}`);
      ins.note(t("inspector.residual"));
    } else {
      ins.formula(`${aName}_{${jj}} = ${fname}(${arg}) = ${tex(a)}`);
    }
    if (info.activation === "softmax") ins.formula(`f'_{\\text{diag}} = \\hat y_{${jj}}(1-\\hat y_{${jj}}) = ${tex(fp)}`);
    else if (fp !== null && fp !== undefined) ins.formula(`f'(z) = ${tex(fp)}`);
  }

  // Backward: δ
  ins.section(t("inspector.backward_section"), "backward");
  if (d === null || d === undefined) {
    ins.formula(deltaSymbolic(l, jj, L));
    ins.note(t("inspector.not_yet"));
  } else if (output) {
    outputDelta(ins, { jj, a, fp, d, y: frame.y?.[j], act: info.activation, loss: topo.config?.network?.loss });
  } else {
    hiddenDelta(ins, { l, j, jj, fp, d });
    if (layer.mask && layer.mask[j] === 0) ins.note(t("inspector.dropped"));
    if (fp !== null && Math.abs(fp) < 0.05) ins.note(t("inspector.small_fprime"), "inspector-note warn");
  }

  // The bias gradient: the batch mean of δ (the δ above is the example shown).
  const B = frame.batch?.length ?? 1;
  const db = layer.db?.[j];
  if (db !== null && db !== undefined) {
    ins.formula(`\\frac{\\partial L}{\\partial b_{${jj}}} = \\frac{1}{${B}}\\sum_{b=1}^{${B}} \\delta_{${jj}}^{[b]} = ${tex(db)}`);
    ins.note(B > 1 ? t("inspector.delta_vs_db", { b: B, k: (frame.example ?? 0) + 1 }) : t("inspector.delta_is_db"));
  } else if (frame.playing) {
    ins.gradientMissing(); // the values below show ∂L/∂b as "—"
  }
  ins.values([
    ["z", "z", z],
    ["a", output ? "ŷ" : "a", a],
    ["fprime", info.activation === "softmax" ? t("inspector.fprime_diag") : "f′(z)", fp],
    ["delta", t("inspector.delta_example"), d],
    ["db", t("inspector.db_mean"), db],
  ]);
  layerForm(ins, l, info, layer, aPrev);
  graphLink(ins, { l, j, info, row, aPrev, bUsed, layer, output });
}

function deltaSymbolic(l, jj, L) {
  if (l === L) return `\\delta^{(${l})}_{${jj}} = \\frac{\\partial L}{\\partial \\hat y_{${jj}}}\\, f'(z_{${jj}})`;
  return `\\delta^{(${l})}_{${jj}} = f'(z_{${jj}}) \\sum_k w^{(${l + 1})}_{k${jj}}\\, \\delta^{(${l + 1})}_k`;
}

/** The output neuron's δ: (ŷ − y)·f′(z) for MSE; ŷ − y where f′ cancels, and why. */
function outputDelta(ins, { jj, a, fp, d, y, act, loss }) {
  if (loss === "mse") {
    const f = act === "linear" ? "1" : paren(fp);
    ins.formula(`\\delta_{${jj}} = (\\hat y - y)\\, f'(z) = (${tex(a)} - ${paren(y)})\\cdot ${f} = ${tex(d)}`);
    if (act === "linear") ins.note(t("inspector.mse_linear"));
    return;
  }
  if (loss === "bce") {
    ins.formula(
      aligned(`\\delta_{${jj}}`, [
        `\\underbrace{\\frac{\\hat y - y}{\\hat y(1-\\hat y)}}_{\\partial L/\\partial \\hat y}\\cdot\\underbrace{\\hat y(1-\\hat y)}_{f'(z)}`,
        `\\frac{${tex(a)} - ${paren(y)}}{${tex(a)}\\,(1-${tex(a)})}\\cdot ${paren(fp)}`,
        `\\hat y - y = ${tex(a)} - ${paren(y)}`,
        tex(d),
      ]),
    );
    ins.note(t("inspector.cancel_sigmoid"));
    return;
  }
  ins.formula(
    aligned(`\\delta_{${jj}}`, [
      `\\sum_m \\frac{\\partial L}{\\partial \\hat y_m}\\,\\frac{\\partial \\hat y_m}{\\partial z_{${jj}}}`,
      `\\sum_m \\Big(-\\frac{y_m}{\\hat y_m}\\Big)\\,\\hat y_m\\big(\\mathbb{1}_{m=${jj}} - \\hat y_{${jj}}\\big)`,
      `\\hat y_{${jj}} - y_{${jj}} = ${tex(a)} - ${paren(y)}`,
      tex(d),
    ]),
  );
  ins.note(t("inspector.cancel_softmax"));
}

/** A hidden neuron's δ = f′(z) Σ_k w_kj δ_k, every term in index order. */
function hiddenDelta(ins, { l, j, jj, fp, d }) {
  const frame = ins.frame;
  const next = frame.layers[l];
  let Wn = ins.weightsUsed(next);
  let dn = next?.delta;
  let column = Wn ? Wn.map((wrow) => wrow[j]) : null;
  const inspected = column ? null : ins.inspectedUsed(l, j);
  if (inspected) {
    column = inspected.column;
    dn = ins.inspected.delta_next ?? dn;
  }
  const terms = column && dn ? column.map((w, k) => ({ i: k, w, v: dn[k] })) : [];
  if (!terms.length) {
    ins.formula(`${deltaSymbolic(l, jj, ins.topology.layers.length)} = ${tex(d)}`);
    ins.note(t("inspector.terms_missing"));
    extraNote(ins, l);
    return;
  }
  const key = `d${l}.${j}`;
  const all = ins.expanded.has(key);
  const parts = productParts(terms, (k) => `w_{${k + 1}${jj}}\\delta_{${k + 1}}`, all);
  const lines = sumLines(parts.length ? parts : ["\\cdots"]);
  lines[0] = `${paren(fp)}\\cdot\\big(${lines[0].replace(/^\s*/, "")}`;
  lines[lines.length - 1] += "\\big)";
  ins.formula(aligned(`\\delta^{(${l})}_{${jj}}`, [`f'(z_{${jj}}) \\sum_k w^{(${l + 1})}_{k${jj}}\\, \\delta^{(${l + 1})}_k`, ...lines, tex(d)]));
  if (terms.length > TERMS_FOLDED) ins.toggle(key, all ? t("inspector.fold_terms") : t("inspector.show_all_terms", { n: terms.length }));
  extraNote(ins, l);
}

/** δ of a residual or BatchNorm layer has more terms than Σ w·δ: say so. */
function extraNote(ins, l) {
  const info = ins.topology.layers[l - 1];
  if (info.residual || info.batchnorm) ins.note(t("inspector.delta_extra"));
}

/** The whole layer at once: z = W·a + b (and δ = Wᵀδ ⊙ f′) with the matrices, on request. */
function layerForm(ins, l, info, layer, aPrev) {
  const key = `layer${l}`;
  const open = ins.expanded.has(key);
  ins.toggle(key, open ? t("inspector.vector_hide") : t("inspector.vector_show", { l }));
  if (!open) return;
  ins.section(t("inspector.vector_section", { l }), "forward");
  const nIn = info.n_in;
  const n = info.units;
  const inName = l === 1 ? "x" : `a^{(${l - 1})}`;
  const W = ins.weightsUsed(layer);
  const { b } = layerUsed(layer);
  const bn = Boolean(info.batchnorm);
  const plusB = bn ? "" : ` + \\underset{${shapeTex(n, 1)}}{b^{(${l})}}`;
  ins.formula(`\\underset{${shapeTex(n, 1)}}{z^{(${l})}} = \\underset{${shapeTex(n, nIn)}}{W^{(${l})}}\\;\\underset{${shapeTex(nIn, 1)}}{${inName}}${plusB}`);
  if (W && aPrev && layer.z) {
    ins.formula(`W^{(${l})} = ${matrixTex(W)}`);
    ins.formula(`${inName} = ${vectorTex(aPrev)}`);
    if (!bn) ins.formula(`b^{(${l})} = ${vectorTex(b)}`);
    ins.formula(aligned(`z^{(${l})}`, [`W^{(${l})} ${inName}${bn ? "" : ` + b^{(${l})}`}`, vectorTex(layer.z)]));
  } else {
    ins.note(t(W ? "inspector.not_yet" : layer.W ? "inspector.terms_missing" : "inspector.vector_large"));
  }
  const next = ins.frame.layers[l];
  const Wn = ins.weightsUsed(next);
  if (l < ins.topology.layers.length && layer.delta && next?.delta && Wn && !info.residual && !bn) {
    const m = Wn.length;
    ins.formula(
      `\\underset{${shapeTex(n, 1)}}{\\delta^{(${l})}} = \\big(\\underset{${shapeTex(n, m)}}{W^{(${l + 1})\\top}}\\,\\underset{${shapeTex(m, 1)}}{\\delta^{(${l + 1})}}\\big) \\odot f'(z^{(${l})})`,
    );
    const WnT = Wn[0].map((_, i) => Wn.map((r) => r[i]));
    ins.formula(`W^{(${l + 1})\\top} = ${matrixTex(WnT)}`);
    ins.formula(`\\delta^{(${l + 1})} = ${vectorTex(next.delta)}`);
    ins.formula(`f'(z^{(${l})}) = ${vectorTex(layer.fprime)}`);
    ins.formula(`\\delta^{(${l})} = ${vectorTex(layer.delta)}`);
  } else if (l === ins.topology.layers.length && layer.delta && ins.frame.y) {
    const mse = ins.topology.config?.network?.loss === "mse" && info.activation !== "linear";
    ins.formula(`\\delta^{(${l})} = (\\hat y - y)${mse ? "\\odot f'(z)" : ""} = ${vectorTex(layer.delta)}`);
  }
  ins.note(t("inspector.vector_batch", { n, nIn }));
}

/**
 * "Show this neuron's chain rule": /graph with the neuron's numbers (docs/graph.md, the
 * neuron body) for the example shown. Not offered for more than 64 inputs, nor where the
 * graph would not be this neuron's computation (BatchNorm, a skip, a dropped neuron).
 */
function graphLink(ins, { l, j, info, row, aPrev, bUsed, layer, output }) {
  const frame = ins.frame;
  const topo = ins.topology;
  if (!row || !aPrev || info.n_in > GRAPH_MAX_INPUTS || info.batchnorm || info.residual) return;
  if (layer.mask && layer.mask[j] === 0) return;
  const finite = (v) => typeof v === "number" && Number.isFinite(v);
  if (!row.every(finite) || !aPrev.every(finite) || !finite(bUsed)) return;
  const body = { a_prev: aPrev, w: row, b: bUsed, activation: info.activation, input_name: l === 1 ? "x" : "a", layer: l, neuron: j };
  const loss = topo.config?.network?.loss;
  if (output) {
    if (!frame.y) return;
    body.loss = loss;
    if (loss === "softmax_ce") {
      if (!layer.z?.every(finite)) return;
      Object.assign(body, { y: frame.y, k: j, z: layer.z });
    } else {
      body.y = frame.y[j];
    }
  } else {
    const up = layer.grad_a?.[j];
    if (!finite(up)) return;
    body.upstream = up;
    // The example's own loss, where the frame has it (the frame's is the batch's mean).
    if (frame.batch?.length === 1 && finite(frame.loss)) body.loss_value = frame.loss;
  }
  const sizes = [topo.data.n_features, ...topo.layers.map((x) => x.units)].join(",");
  ins.link(`/graph#neuron=${encodeURIComponent(JSON.stringify(body))}&sizes=${sizes}`, t("inspector.graph_link"));
}
