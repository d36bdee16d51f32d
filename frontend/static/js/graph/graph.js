// The chain-rule graph page (/graph): wires the inputs, the server's answers, the graph
// view, the stepper, the explanation and the path counts. State lives in the URL hash.
import { getJSON } from "../shared/api.js";
import { applyI18n, initI18n, language, onLanguageChange, setLanguage, t } from "../shared/i18n.js";
import { StepAnimator } from "./animate.js";
import { Explainer } from "./explain.js";
import { InputPanel } from "./inputs.js";
import { PathsPanel } from "./paths.js";
import { readHash, writeHash } from "./state.js";
import { Stepper } from "./stepper.js";
import { GraphView } from "./view.js";
import { nodeNames, refusedText } from "./words.js";

const $ = (sel) => document.querySelector(sel);
const DEFAULT_SIZES = [2, 4, 4, 1];
const NEW_LEAF_VALUE = 1;

/** POST `body` as JSON; a refusal (4xx) is thrown with its `detail`. */
async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(`${url}: HTTP ${response.status}`);
    error.detail = data?.detail;
    throw error;
  }
  return data;
}

async function getCounts(sizes) {
  const response = await fetch(`/api/graph/paths?sizes=${encodeURIComponent(sizes.join(","))}`);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status}`);
    error.detail = data?.detail;
    throw error;
  }
  return data;
}

async function main() {
  const [info] = await Promise.all([getJSON("/api/graph/info"), initI18n(["graph"])]);
  applyI18n(document);
  const ops = new Map(info.ops.map((o) => [o.name, o]));
  const hashState = readHash(location.hash);
  const state = {
    expr: hashState.expr ?? info.default.text,
    values: hashState.values ?? { ...info.default.values },
    sizes: hashState.sizes ?? DEFAULT_SIZES,
    neuron: hashState.neuron ?? null,
  };
  let report = null;
  let names = [];
  let selected = null;
  let token = 0;

  // Values are remembered by name across edits; the link keeps the current leaves' only.
  let leaves = null;
  const currentValues = () =>
    leaves ? Object.fromEntries(leaves.filter((n) => n in state.values).map((n) => [n, state.values[n]])) : state.values;
  const writeState = () => {
    const hash = state.neuron
      ? writeHash({ neuron: state.neuron, sizes: state.sizes })
      : writeHash({ expr: state.expr, values: currentValues(), sizes: state.sizes });
    history.replaceState(null, "", hash || location.pathname);
  };

  // ---------------------------------------------------------------- views
  const view = new GraphView($("#graph-canvas"), {
    onSelect: (id) => {
      selected = selected === id ? null : id;
      view.select(selected);
      redraw();
    },
  });
  const animator = new StepAnimator(view);
  const explain = new Explainer($("#explain"), $("#checks"), $("#checks-summary"));
  const stepper = new Stepper({
    buttons: {
      forward: $("#g-forward"),
      backward: $("#g-backward"),
      undo: $("#g-undo"),
      reset: $("#g-reset"),
      all: $("#g-all"),
      play: $("#g-play"),
    },
    count: $("#g-count"),
    animator,
    onChange: (progress) => {
      if (progress.step) {
        selected = null;
        view.select(null);
        view.reveal(progress.step.node);
      }
      draw(progress);
    },
  });
  const draw = (progress) => {
    view.render(progress);
    explain.render(progress, selected);
    explain.renderChecks(progress);
  };
  const redraw = () => draw(stepper.progress());

  const empty = $("#graph-empty");
  const show = (answer, keep) => {
    report = answer;
    if (!answer?.graph) {
      view.clear();
      names = [];
      explain.setReport(null, [], ops);
      empty.hidden = false;
      empty.textContent = t("graph.empty");
      stepper.setReport(null);
      return;
    }
    empty.hidden = true;
    names = nodeNames(answer.graph, ops);
    selected = null;
    view.setGraph(answer, ops, names, { aria: t("graph.canvas_aria"), fromAbove: t("graph.from_above") });
    explain.setReport(answer, names, ops, neuronNote());
    stepper.setReport(answer, keep);
  };

  // ---------------------------------------------------------------- expression mode
  const inputs = new InputPanel({
    form: $("#expr-form"),
    input: $("#expr"),
    example: $("#expr-reset"),
    neuronHead: $("#neuron-head"),
    error: $("#expr-error"),
    leaves: $("#leaves"),
    onText: (text) => {
      state.expr = text;
      runExpression(false);
    },
    onValues: (values) => {
      if (state.neuron) setNeuronLeaves(values);
      else {
        Object.assign(state.values, values);
        runExpression(true);
      }
    },
    onExample: () => {
      state.expr = info.default.text;
      state.values = { ...info.default.values };
      inputs.setText(state.expr);
      runExpression(false);
    },
    onLeaveNeuron: () => {
      state.neuron = null;
      backLink.hidden = true;
      inputs.setMode("expression");
      inputs.setText(state.expr);
      runExpression(false);
    },
  });

  async function runExpression(keep) {
    const mine = ++token;
    const text = state.expr;
    writeState();
    try {
      const parsed = await postJSON("/api/graph/expression", { text });
      if (mine !== token) return;
      if (!parsed.ok) {
        inputs.showError(parsed.error, text);
        inputs.setLeaves([]);
        show(null);
        return;
      }
      leaves = parsed.graph.leaves;
      const values = Object.fromEntries(leaves.map((name) => [name, state.values[name] ?? NEW_LEAF_VALUE]));
      state.values = { ...state.values, ...values };
      inputs.setLeaves(leaves.map((name) => ({ name, value: values[name] })));
      const answer = await postJSON("/api/graph/expression", { text, values });
      if (mine !== token) return;
      if (answer.error) inputs.showError(answer.error, null);
      else inputs.clearError();
      writeState();
      show(answer, keep);
    } catch (e) {
      if (mine !== token) return;
      inputs.showMessage(t("graph.refused", { why: e.detail ? refusedText(e.detail) : e.message }));
      show(null);
    }
  }

  // ---------------------------------------------------------------- neuron mode
  const backLink = $("#graph-back");
  backLink.addEventListener("click", (e) => {
    if (history.length > 1) {
      e.preventDefault();
      history.back();
    }
  });

  function neuronTitle() {
    const n = state.neuron;
    if (!n) return "";
    const where = Number.isInteger(n.layer) && Number.isInteger(n.neuron)
      ? t("graph.neuron_where", { j: n.neuron + 1, l: n.layer })
      : t("graph.neuron_one");
    const kind = n.upstream !== undefined && n.upstream !== null
      ? t("graph.neuron_hidden", { f: n.activation })
      : t("graph.neuron_output", { f: n.activation, loss: t(`graph.loss_${n.loss}`) });
    return `${where} · ${kind}`;
  }

  function neuronNote() {
    const n = state.neuron;
    if (!n) return "";
    if (n.upstream !== undefined && n.upstream !== null) return t("graph.note_hidden");
    if (n.loss === "softmax_ce") return t("graph.note_softmax");
    return t("graph.note_output");
  }

  function neuronLeaves() {
    const n = state.neuron;
    const prefix = n.input_name === "x" ? "x" : "a";
    const leaves = [];
    (n.w ?? []).forEach((w, i) => {
      leaves.push({ name: `w${i + 1}`, value: w });
      leaves.push({ name: `${prefix}${i + 1}`, value: n.a_prev?.[i] });
    });
    leaves.push({ name: "b", value: n.b });
    return leaves;
  }

  function setNeuronLeaves(values) {
    const n = state.neuron;
    for (const [name, v] of Object.entries(values)) {
      const m = /^(w|a|x)(\d+)$/.exec(name);
      if (name === "b") n.b = v;
      else if (m && m[1] === "w") n.w[Number(m[2]) - 1] = v;
      else if (m) n.a_prev[Number(m[2]) - 1] = v;
    }
    runNeuron(true);
  }

  async function runNeuron(keep) {
    const mine = ++token;
    writeState();
    backLink.hidden = false;
    inputs.setMode("neuron", neuronTitle(), "");
    try {
      if (Array.isArray(state.neuron.w)) inputs.setLeaves(neuronLeaves());
      const answer = await postJSON("/api/graph/neuron", state.neuron);
      if (mine !== token) return;
      if (answer.error) inputs.showError(answer.error, null);
      else inputs.clearError();
      show(answer, keep);
    } catch (e) {
      if (mine !== token) return;
      inputs.showMessage(t("graph.neuron_refused", { why: e.detail ? refusedText(e.detail) : e.message }));
      show(null);
    }
  }

  // ---------------------------------------------------------------- paths
  const paths = new PathsPanel({
    form: $("#sizes-form"),
    input: $("#sizes"),
    lead: $("#paths-lead"),
    error: $("#paths-error"),
    table: $("#paths-table"),
    fetchCounts: getCounts,
    limits: info.limits,
    onSizes: (sizes) => {
      state.sizes = sizes;
      writeState();
      paths.setSizes(sizes);
    },
  });

  // ---------------------------------------------------------------- language
  const langButton = $("#lang-toggle");
  const relabel = () => {
    langButton.textContent = language() === "zh" ? "English" : "中文";
    langButton.setAttribute("aria-label", t("header.language"));
    document.title = t("graph.page_title");
    applyI18n(document);
    inputs.relabel();
    if (state.neuron) inputs.setMode("neuron", neuronTitle(), "");
    if (report) show(report, true);
    stepper.sync();
    paths.render();
    if (!report?.graph && !empty.hidden) empty.textContent = t("graph.empty");
  };
  langButton.addEventListener("click", () => setLanguage(language() === "zh" ? "en" : "zh"));
  onLanguageChange(relabel);
  relabel();

  window.addEventListener("hashchange", () => {
    const next = readHash(location.hash);
    if (next.neuron) {
      state.neuron = next.neuron;
      runNeuron(false);
    } else if (next.expr) {
      state.neuron = null;
      state.expr = next.expr;
      if (next.values) state.values = next.values;
      inputs.setMode("expression");
      inputs.setText(state.expr);
      runExpression(false);
    }
    if (next.sizes) paths.setSizes((state.sizes = next.sizes));
  });

  // ---------------------------------------------------------------- start
  inputs.setText(state.expr);
  if (state.neuron) runNeuron(false);
  else {
    inputs.setMode("expression");
    runExpression(false);
  }
  paths.setSizes(state.sizes);

  // For tests and the curious (read-only use).
  window.bpvizGraph = {
    get report() {
      return report;
    },
    get cursor() {
      return stepper.cursor;
    },
    get total() {
      return stepper.total;
    },
  };
}

main().catch((e) => {
  console.error(e);
  const box = document.querySelector("#expr-error");
  if (box) {
    box.hidden = false;
    box.querySelector(".expr-error-text").textContent = String(e.message ?? e);
  }
});
