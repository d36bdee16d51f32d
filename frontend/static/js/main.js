// The wiring: transport ⇄ state ⇄ views. Views never touch the socket; they call back
// here, and this module decides what to send.
import { Banners } from "./banner.js";
import { Charts } from "./charts.js";
import { DEFAULT_SPEED, PLAY_FPS, TIMINGS } from "./constants.js";
import { Controls, LOSS_TASKS } from "./controls.js";
import { fmt } from "./format.js";
import { GradcheckPanel } from "./gradcheck-view.js";
import { applyI18n, initI18n, language, onLanguageChange, setLanguage, t } from "./i18n.js";
import { Inspector } from "./inspector.js";
import { MetricsView } from "./metrics.js";
import { NetworkView } from "./network-view.js";
import { OutputView } from "./output-view.js";
import { CsvDialog, loadCsv } from "./owndata.js";
import { Playback } from "./playback.js";
import { PRESETS, presetConfig } from "./presets.js";
import { RewindBar } from "./rewind.js";
import { Share } from "./share.js";
import { applyHash, createState, getPath, propOf, setPath, toHash } from "./state.js";
import { Timeline } from "./timeline.js";
import { Transport } from "./transport.js";

const $ = (sel) => document.querySelector(sel);

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

async function main() {
  await initI18n();
  applyI18n(document);
  const [defaults, limits, datasetList] = await Promise.all([
    getJSON("/api/config/default"),
    getJSON("/api/limits"),
    getJSON("/api/datasets"),
  ]);
  const datasets = datasetList.datasets;
  const UI_DEFAULTS = { speed: DEFAULT_SPEED, until_loss: null, until_steps: null, lesson: "" };
  const state = createState(defaults, UI_DEFAULTS);
  // A data set brings its task: the loss must fit it (e.g. a shared link "#data=digits").
  const fitDataset = () => {
    if (state.config.data.name === "csv") {
      state.ui.csvFresh = true; // the server picks the loss that fits the CSV's task
      return;
    }
    const info = datasets.find((d) => d.name === state.config.data.name);
    const loss = state.config.network.loss;
    if (info && !LOSS_TASKS[loss]?.includes(info.task)) state.config.network.loss = info.default_loss;
    const max = info?.name === "digits" ? 1797 : limits.max_samples;
    if (state.config.data.samples > max) state.config.data.samples = max;
  };
  if (applyHash(state, location.hash) && !new URLSearchParams(location.hash.slice(1)).has("loss")) fitDataset();

  const transport = new Transport();
  const session = { topology: null, frame: null, goodConfig: null, playing: false, diverged: false, frames: 0, topologies: 0, csvRetry: null, stopped: null };

  // ---------------------------------------------------------------- URL hash
  let hashTimer = null;
  let writtenHash = "";
  const writeHash = () => {
    clearTimeout(hashTimer);
    hashTimer = setTimeout(() => {
      writtenHash = toHash(state);
      if (location.hash !== writtenHash) history.replaceState(null, "", writtenHash);
    }, TIMINGS.hashWriteMs);
  };
  window.addEventListener("hashchange", () => {
    if (location.hash === writtenHash) return;
    applyHash(state, location.hash);
    if (!new URLSearchParams(location.hash.slice(1)).has("loss")) fitDataset();
    configure();
    showLesson();
  });

  // ---------------------------------------------------------------- commands
  const configure = () => {
    select(null);
    const config = sendableConfig();
    session.sentConfig = config;
    transport.send({ type: "configure", config });
    writeHash();
  };
  /** The config to send: a CSV whose task is new to the page goes without a loss (the server fits one). */
  const sendableConfig = () => {
    const config = structuredClone(state.config);
    if (config.data.name === "csv" && state.ui.csvFresh) delete config.network.loss;
    return config;
  };
  const clearLesson = () => {
    if (!state.ui.lesson) return;
    state.ui.lesson = "";
    showLesson();
  };

  const changeSetting = (path, value) => {
    if (path === "config.data.name" && value === "csv") {
      controls.sync(state); // the select goes back until a file is chosen
      csvDialog.open();
      return;
    }
    setPath(state, path, value);
    if (path === "config.data.name") fitDataset();
    const prop = propOf(path);
    if (prop?.send === "set") {
      const key = path.split(".").at(-1);
      transport.send({ type: "set", training: { [key]: value } });
      inspector.setLearningRate(state.config.training.learning_rate, state.config.training.optimizer);
      writeHash();
    } else if (prop?.send === "configure") {
      clearLesson();
      configure();
    }
    controls.sync(state);
  };

  const command = (name, arg) => {
    if (name === "play") {
      showStopped(null);
      transport.send(playMessage(state.ui.speed));
    }
    else if (name === "pause") transport.send({ type: "pause" });
    else if (name === "step") transport.send({ type: "step", unit: arg });
    else if (name === "reset") {
      banners.setDiverged(false);
      transport.send({ type: "reset" });
    } else if (name === "speed") {
      state.ui.speed = arg;
      writeHash();
      if (session.playing) transport.send(playMessage(arg));
    }
  };

  /** `play` with the stop condition (target loss and/or step count), when one is set. */
  const playMessage = (speed) => {
    const msg = { type: "play", speed, fps: PLAY_FPS };
    const until = {};
    if (Number.isFinite(state.ui.until_loss) && state.ui.until_loss > 0) until.loss = state.ui.until_loss;
    if (Number.isInteger(state.ui.until_steps) && state.ui.until_steps > 0) until.steps = state.ui.until_steps;
    if (Object.keys(until).length) msg.until = until;
    return msg;
  };

  // ---------------------------------------------------------------- views
  const select = (selection) => {
    network.setSelection(selection);
    inspector.setSelection(selection);
    const layer = selection?.type === "neuron" && selection.layer > 0 ? session.frame?.layers[selection.layer - 1] : null;
    if (layer?.large) transport.send({ type: "inspect", layer: selection.layer, neuron: selection.neuron });
  };
  const network = new NetworkView($("#network"), {
    onSelect: (s) => {
      const same = JSON.stringify(s) === JSON.stringify(network.selection);
      select(same ? null : s);
    },
  });
  const timeline = new Timeline($("#timeline"), {
    onJump: (count) => transport.send({ type: "step", unit: "phase", count }),
  });
  const inspector = new Inspector($("#inspector-body"));
  const charts = new Charts({
    loss: $("#chart-loss"),
    accuracy: $("#chart-accuracy"),
    accuracyPanel: $("#panel-accuracy"),
    gradNorm: $("#chart-grad-norm"),
    gradBars: $("#chart-grad-bars"),
    logToggle: $("#loss-log"),
  });
  const output = new OutputView({ plot: $("#output-plot"), thumbs: $("#thumbs"), caption: $("#output-caption") });
  const controls = new Controls($("#controls"), {
    datasets,
    limits,
    onChange: changeSetting,
    onLayers: (hidden) => {
      setPath(state, "config.network.hidden", hidden);
      clearLesson();
      configure();
      controls.sync(state);
    },
  });
  const playback = new Playback($("#playback"), { onCommand: command });
  const banners = new Banners({
    error: $("#banner-error"),
    diverged: $("#banner-diverged"),
    connection: $("#connection"),
    onReset: () => command("reset"),
  });
  const rewind = new RewindBar({
    root: $("#rewind"),
    onSeek: (step) => {
      flushPending();
      if (session.playing && step !== null) transport.send({ type: "pause" }); // dragging back stops Play
      transport.send({ type: "seek", step });
    },
  });
  const metrics = new MetricsView({
    box: $("#stat-metric-box"),
    label: $("#stat-metric-label"),
    value: $("#stat-metric"),
    panel: $("#panel-confusion"),
    chart: $("#chart-confusion"),
  });
  const gradcheck = new GradcheckPanel($("#gc-dialog"), {
    onRun: () => transport.send({ type: "gradcheck" }),
    onScaling: () => transport.send({ type: "gradcheck_scaling" }),
  });
  $("#open-gradcheck").addEventListener("click", () => gradcheck.open());

  // ---------------------------------------------------------------- own data (CSV)
  const csvDialog = new CsvDialog($("#csv-dialog"), {
    limits,
    onInspect: (name, text) => {
      if (!transport.send({ type: "csv_inspect", name, text })) csvDialog.showError({ code: "offline", message: "" });
    },
    onTrain: ({ hash, target, task }) => {
      state.config.data = { ...state.config.data, name: "csv", csv: hash, target, task };
      state.ui.csvFresh = true;
      clearLesson();
      configure();
    },
  });
  $("#open-csv").addEventListener("click", () => csvDialog.open());
  /** Send the CSV of the current config again (from localStorage) and configure once it is back. */
  const resendCsv = () => {
    // The config asked for (a topology of the server's default may have come in between).
    const wanted = session.sentConfig ?? state.config;
    const hash = wanted.data?.csv;
    const kept = hash ? loadCsv(hash) : null;
    if (!kept || session.csvRetry === hash) {
      session.csvRetry = null;
      banners.showError({ code: "csv_gone", message: t("csv.gone", { hash }) });
      if (session.goodConfig) {
        state.config = structuredClone(session.goodConfig);
        controls.sync(state);
        writeHash();
      }
      csvDialog.open();
      return;
    }
    session.csvRetry = hash;
    state.config = structuredClone(wanted);
    if (!wanted.network?.loss) state.ui.csvFresh = true;
    transport.send({ type: "csv_inspect", name: kept.name, text: kept.text });
  };

  // ---------------------------------------------------------------- stop condition
  const stopLoss = $("#stop-loss");
  const stopSteps = $("#stop-steps");
  const syncStop = () => {
    stopLoss.value = state.ui.until_loss ?? "";
    stopSteps.value = state.ui.until_steps ?? "";
  };
  const changeStop = () => {
    const l = stopLoss.value === "" ? null : Number(stopLoss.value);
    const n = stopSteps.value === "" ? null : Math.round(Number(stopSteps.value));
    state.ui.until_loss = Number.isFinite(l) && l > 0 ? l : null;
    state.ui.until_steps = Number.isInteger(n) && n > 0 ? n : null;
    writeHash();
    if (session.playing) transport.send(playMessage(state.ui.speed));
  };
  stopLoss.addEventListener("change", changeStop);
  stopSteps.addEventListener("change", changeStop);
  syncStop();
  const stoppedNote = $("#stopped-note");
  const showStopped = (why) => {
    session.stopped = why;
    stoppedNote.hidden = !why;
    if (why === "loss") stoppedNote.textContent = t("stop.stopped_loss", { loss: fmt(state.ui.until_loss), step: session.frame?.step ?? "—" });
    else if (why === "steps") stoppedNote.textContent = t("stop.stopped_steps", { step: session.frame?.step ?? state.ui.until_steps });
  };

  // ---------------------------------------------------------------- worked examples
  const presetMenu = $("#preset");
  const presetNote = $("#preset-note");
  const fillPresets = () => {
    const first = document.createElement("option");
    first.value = "";
    first.textContent = t("presets.menu");
    presetMenu.replaceChildren(
      first,
      ...PRESETS.map((p) => {
        const o = document.createElement("option");
        o.value = p.id;
        o.textContent = t(`lesson.${p.id}.title`);
        return o;
      }),
    );
    presetMenu.value = PRESETS.some((p) => p.id === state.ui.lesson) ? state.ui.lesson : "";
  };
  const showLesson = () => {
    const id = PRESETS.some((p) => p.id === state.ui.lesson) ? state.ui.lesson : "";
    presetNote.hidden = !id;
    presetMenu.value = id;
    if (id) {
      presetNote.querySelector(".preset-note-title").textContent = t(`lesson.${id}.title`);
      presetNote.querySelector(".preset-note-text").textContent = t(`lesson.${id}.text`);
    }
  };
  presetMenu.addEventListener("change", () => {
    const preset = PRESETS.find((p) => p.id === presetMenu.value);
    if (!preset) {
      clearLesson();
      writeHash();
      return;
    }
    state.config = presetConfig(preset, defaults);
    state.ui = { ...UI_DEFAULTS, speed: state.ui.speed, ...(preset.ui ?? {}), lesson: preset.id };
    syncStop();
    controls.sync(state);
    banners.setDiverged(false);
    configure();
    showLesson();
  });
  presetNote.querySelector("button").addEventListener("click", () => {
    clearLesson();
    writeHash();
  });
  fillPresets();
  showLesson();

  // ---------------------------------------------------------------- export, import, report
  const share = new Share({
    exportButton: $("#export-run"),
    importButton: $("#import-run"),
    importFile: $("#import-file"),
    reportButton: $("#report-run"),
    maxBytes: limits.max_upload_bytes,
    onExport: () => transport.send({ type: "export" }),
    onImport: (run) => {
      clearLesson();
      transport.send({ type: "import", run });
    },
    onError: (msg) => banners.showError(msg),
    fileName: () => `bpviz-${state.config.data.name}-step${session.frame?.step ?? 0}`,
  });

  playback.setSpeed(state.ui.speed);
  playback.setPlaying(false, false);
  controls.sync(state);
  applyI18n(document);

  // ---------------------------------------------------------------- language
  const langButton = $("#lang-toggle");
  const showLang = () => {
    langButton.textContent = language() === "zh" ? "English" : "中文";
    langButton.setAttribute("aria-label", t("header.language"));
  };
  langButton.addEventListener("click", () => setLanguage(language() === "zh" ? "en" : "zh"));
  onLanguageChange(() => {
    showLang();
    controls.relabel();
    applyI18n(document);
    network.relabel();
    timeline.relabel();
    inspector.render();
    charts.relabel();
    output.relabel();
    playback.relabel();
    banners.relabel();
    rewind.relabel();
    metrics.relabel();
    gradcheck.relabel();
    csvDialog.relabel();
    fillPresets();
    showLesson();
    if (session.stopped) showStopped(session.stopped);
    updateStatus();
  });
  showLang();

  // ---------------------------------------------------------------- status line
  const stats = Object.fromEntries(["step", "epoch", "train", "test", "params"].map((k) => [k, $(`#stat-${k}`)]));
  const setStat = (key, text) => {
    if (stats[key].textContent !== text) stats[key].textContent = text;
  };
  const updateStatus = () => {
    const f = session.frame;
    setStat("step", f ? String(f.step) : "—");
    setStat("epoch", f ? f.epoch.toFixed(2) : "—");
    const h = charts.history;
    // The newest point, or the one of the step shown while viewing the past (rewind).
    let n = h.train_loss.length;
    if (f && f.viewing !== null && f.viewing !== undefined) {
      const k = h.step.lastIndexOf(f.viewing);
      if (k >= 0) n = k + 1;
    }
    setStat("train", n ? fmtLoss(h.train_loss[n - 1]) : "—");
    setStat("test", n ? fmtLoss(h.test_loss[n - 1]) : "—");
    setStat("params", session.topology ? String(session.topology.n_params) : "—");
  };
  const fmtLoss = (v) => (v === null || v === undefined ? "—" : Number(v).toPrecision(4));

  // ---------------------------------------------------------------- messages
  // Frames and grids can arrive faster than the screen refreshes (30 frames/s asked while
  // playing, more after a burst): each message is kept until the next animation frame,
  // where only the newest is applied, every view writing the DOM in that one callback.
  // A frame's history increment is taken at once, so a frame not drawn loses no points.
  const pending = { frame: null, grid: null, raf: 0 };
  const applyPending = () => {
    pending.raf = 0;
    const { frame, grid } = pending;
    pending.frame = pending.grid = null;
    if (frame) applyFrame(frame);
    if (grid) output.update(grid);
  };
  const schedulePending = () => {
    if (!pending.raf) pending.raf = requestAnimationFrame(applyPending);
  };
  /** Apply what waits now: a message about to change the session must come after it. */
  const flushPending = () => {
    if (!pending.raf) return;
    cancelAnimationFrame(pending.raf);
    applyPending();
  };
  const applyFrame = (frame) => {
    session.frame = frame;
    session.frames += 1;
    session.playing = frame.playing;
    session.diverged = frame.diverged;
    network.update(frame);
    timeline.update(frame);
    inspector.update(frame);
    charts.update(frame);
    output.updateFrame(frame);
    rewind.update(frame);
    metrics.update(frame);
    playback.setPlaying(frame.playing, frame.diverged);
    banners.setDiverged(frame.diverged);
    updateStatus();
  };

  transport.onStatus((status) => banners.setConnection(status));
  transport.on("hello", () => {
    // The server starts with its default experiment; ask for ours (from the URL).
    const config = sendableConfig();
    session.sentConfig = config;
    // A link to an uploaded CSV: send this browser's copy first (the new session has none).
    const kept = state.config.data.name === "csv" ? loadCsv(state.config.data.csv) : null;
    if (kept) {
      session.csvPreload = state.config.data.csv;
      transport.send({ type: "csv_inspect", name: kept.name, text: kept.text });
    }
    transport.send({ type: "configure", config });
  });
  transport.on("topology", (topo) => {
    flushPending(); // frames and grids still waiting belong to the old network
    session.topology = topo;
    session.topologies += 1;
    session.goodConfig = structuredClone(topo.config);
    state.config = structuredClone(topo.config);
    if (topo.config.data.name === "csv") state.ui.csvFresh = false;
    network.setTopology(topo);
    timeline.setTopology(topo);
    inspector.setTopology(topo);
    inspector.setLearningRate(state.config.training.learning_rate, state.config.training.optimizer);
    charts.setTopology(topo);
    output.setTopology(topo);
    rewind.update(topo);
    metrics.setTopology(topo);
    gradcheck.invalidate();
    controls.csvTask = topo.data.task;
    controls.csvName = topo.config.data.name === "csv" ? (loadCsv(topo.config.data.csv)?.name ?? topo.data.name ?? "CSV") : null;
    controls.sync(state);
    $("#arch").textContent = [topo.data.n_features, ...topo.layers.map((l) => l.units)].join("–");
    writeHash();
  });
  transport.on("frame", (frame) => {
    charts.receive(frame);
    pending.frame = frame;
    schedulePending();
  });
  transport.on("grid", (grid) => {
    pending.grid = grid;
    schedulePending();
  });
  transport.on("state", (msg) => {
    flushPending();
    session.playing = msg.playing;
    session.diverged = msg.diverged;
    playback.setPlaying(msg.playing, msg.diverged);
    banners.setDiverged(msg.diverged);
    if (session.frame) timeline.update({ ...session.frame, playing: msg.playing, diverged: msg.diverged });
    if (session.frame) rewind.update({ ...session.frame, playing: msg.playing });
    if (msg.stopped) showStopped(msg.stopped);
  });
  transport.on("csv_info", (msg) => {
    if (session.csvPreload === msg.hash && !csvDialog.pending) {
      session.csvPreload = null;
      return;
    }
    if (session.csvRetry && session.csvRetry === msg.hash && !csvDialog.pending) {
      session.csvRetry = null;
      configure();
      return;
    }
    csvDialog.showInfo(msg);
  });
  transport.on("gradcheck", (msg) => gradcheck.setResult(msg.result));
  transport.on("gradcheck_scaling", (msg) => gradcheck.setScaling(msg.points));
  transport.on("export", (msg) => share.receive(msg.run));
  transport.on("inspect", (msg) => inspector.setInspected(msg));
  transport.on("error", (msg) => {
    if (msg.code === "diverged") {
      banners.setDiverged(true);
      return;
    }
    if (msg.field === "csv" && (csvDialog.pending || csvDialog.isOpen)) {
      csvDialog.showError(msg);
      return;
    }
    if (msg.code === "unknown_csv") {
      resendCsv();
      return;
    }
    if (msg.field === "csv" && session.csvRetry) session.csvRetry = null;
    if (msg.code !== "rate_limited") share.cancel();
    if (gradcheck.busy) gradcheck.done();
    banners.showError(msg);
    if (msg.code === "invalid_config" && session.goodConfig) {
      // Nothing changed on the server: show the experiment that is really running.
      state.config = structuredClone(session.goodConfig);
      controls.sync(state);
      writeHash();
    }
  });

  // For tests and the curious: the last frame and a few counters (read-only use).
  window.bpviz = {
    get frame() {
      return session.frame;
    },
    get topology() {
      return session.topology;
    },
    get frames() {
      return session.frames;
    },
    get topologies() {
      return session.topologies;
    },
    get animating() {
      return network.animator.callbacks !== null;
    },
    get playing() {
      return session.playing;
    },
    get lossPoints() {
      return charts.points;
    },
    get state() {
      return structuredClone(state);
    },
    get connected() {
      return transport.isOpen;
    },
    get history() {
      return charts.history;
    },
    get gradcheck() {
      return gradcheck.result;
    },
    get scaling() {
      return gradcheck.points;
    },
    getPath,
  };
  transport.connect();
}

main().catch((err) => {
  const box = document.querySelector("#fatal");
  if (box) {
    box.hidden = false;
    box.querySelector(".banner-detail").textContent = String(err?.message ?? err);
  }
  console.error(err);
});
