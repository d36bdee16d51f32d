// The wiring: transport ⇄ state ⇄ views. Views never touch the socket; they call back
// here, and this module decides what to send.
import { Banners } from "./banner.js";
import { Charts } from "./charts.js";
import { DEFAULT_SPEED, PLAY_FPS, TIMINGS } from "./constants.js";
import { Controls, LOSS_TASKS } from "./controls.js";
import { applyI18n, initI18n, language, onLanguageChange, setLanguage, t } from "./i18n.js";
import { Inspector } from "./inspector.js";
import { NetworkView } from "./network-view.js";
import { OutputView } from "./output-view.js";
import { Playback } from "./playback.js";
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
  const state = createState(defaults, { speed: DEFAULT_SPEED });
  // A data set brings its task: the loss must fit it (e.g. a shared link "#data=digits").
  const fitDataset = () => {
    const info = datasets.find((d) => d.name === state.config.data.name);
    const loss = state.config.network.loss;
    if (info && !LOSS_TASKS[loss]?.includes(info.task)) state.config.network.loss = info.default_loss;
    const max = info?.name === "digits" ? 1797 : limits.max_samples;
    if (state.config.data.samples > max) state.config.data.samples = max;
  };
  if (applyHash(state, location.hash) && !new URLSearchParams(location.hash.slice(1)).has("loss")) fitDataset();

  const transport = new Transport();
  const session = { topology: null, frame: null, goodConfig: null, playing: false, diverged: false, frames: 0, topologies: 0 };

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
  });

  // ---------------------------------------------------------------- commands
  const configure = () => {
    select(null);
    transport.send({ type: "configure", config: state.config });
    writeHash();
  };

  const changeSetting = (path, value) => {
    setPath(state, path, value);
    if (path === "config.data.name") fitDataset();
    const prop = propOf(path);
    if (prop?.send === "set") {
      const key = path.split(".").at(-1);
      transport.send({ type: "set", training: { [key]: value } });
      inspector.setLearningRate(state.config.training.learning_rate, state.config.training.optimizer);
      writeHash();
    } else if (prop?.send === "configure") {
      configure();
    }
    controls.sync(state);
  };

  const command = (name, arg) => {
    if (name === "play") transport.send({ type: "play", speed: state.ui.speed, fps: PLAY_FPS });
    else if (name === "pause") transport.send({ type: "pause" });
    else if (name === "step") transport.send({ type: "step", unit: arg });
    else if (name === "reset") {
      banners.setDiverged(false);
      transport.send({ type: "reset" });
    } else if (name === "speed") {
      state.ui.speed = arg;
      writeHash();
      if (session.playing) transport.send({ type: "play", speed: arg, fps: PLAY_FPS });
    }
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
    const n = h.train_loss.length;
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
    playback.setPlaying(frame.playing, frame.diverged);
    banners.setDiverged(frame.diverged);
    updateStatus();
  };

  transport.onStatus((status) => banners.setConnection(status));
  transport.on("hello", () => {
    // The server starts with its default experiment; ask for ours (from the URL).
    transport.send({ type: "configure", config: state.config });
  });
  transport.on("topology", (topo) => {
    flushPending(); // frames and grids still waiting belong to the old network
    session.topology = topo;
    session.topologies += 1;
    session.goodConfig = structuredClone(topo.config);
    state.config = structuredClone(topo.config);
    network.setTopology(topo);
    timeline.setTopology(topo);
    inspector.setTopology(topo);
    inspector.setLearningRate(state.config.training.learning_rate, state.config.training.optimizer);
    charts.setTopology(topo);
    output.setTopology(topo);
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
  });
  transport.on("inspect", (msg) => inspector.setInspected(msg));
  transport.on("error", (msg) => {
    if (msg.code === "diverged") {
      banners.setDiverged(true);
      return;
    }
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
