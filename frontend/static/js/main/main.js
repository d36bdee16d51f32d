// The wiring: transport ⇄ state ⇄ views. Views never touch the socket; they call back
// here, and this module decides what to send.
import { getJSON } from "../shared/api.js";
import { Banners } from "../shared/banner.js";
import { loadChoices } from "../shared/choices.js";
import { DEFAULT_SPEED, PLAY_FPS, TIMINGS } from "../shared/constants.js";
import { applyI18n, bindLanguageButton, initI18n, onLanguageChange } from "../shared/i18n.js";
import { keepRunHash, RoomPanel, socketUrl, wantsOwnConfig, wantsResumeNotice } from "./room.js";
import { applyHash, applyHyper, createState, HashWriter, propOf, setPath, toHash } from "../shared/state.js";
import { Transport } from "../shared/transport.js";
import { Charts } from "./charts.js";
import { ConnectionWatch } from "./connection.js";
import { Controls } from "./controls.js";
import { CsvFlow } from "./csv-flow.js";
import { fitLessonKeys } from "./exercise.js";
import { FrameDisplay } from "./frame-display.js";
import { GradcheckPanel } from "./gradcheck-view.js";
import { Inspector } from "./inspector.js";
import { LessonMenu, LessonTools } from "./lessons.js";
import { MetricsView } from "./metrics.js";
import { NetworkView } from "./network-view.js";
import { OutputView } from "./output-view.js";
import { CsvDialog, loadCsv } from "./owndata.js";
import { Playback } from "./playback.js";
import { loadPresets, presetConfig } from "./presets.js";
import { pageProbe } from "./probe.js";
import { RewindBar } from "./rewind.js";
import { Share } from "./share.js";
import { StatusLine } from "./status.js";
import { StopCondition } from "./stop.js";
import { Timeline } from "./timeline.js";

const $ = (sel) => document.querySelector(sel);

async function main() {
  await initI18n(["room"]);
  applyI18n(document);
  const [defaults, limits, choices, presets, features] = await Promise.all([getJSON("/api/config/default"), getJSON("/api/limits"), loadChoices(), loadPresets(), getJSON("/api/schema").then((s) => s.choices.features ?? [])]);
  const UI_DEFAULTS = { speed: DEFAULT_SPEED, until_loss: null, until_steps: null, lesson: "" };
  const state = createState(defaults, UI_DEFAULTS);
  // A data set brings its task: the loss must fit it (e.g. a shared link "#data=digits").
  const fitDataset = () => choices.fitConfig(state, limits);
  if (applyHash(state, location.hash) && !new URLSearchParams(location.hash.slice(1)).has("loss")) fitDataset();

  const transport = new Transport(socketUrl);
  const room = new RoomPanel({ transport, onFollow: (on) => rewind.setFollowing(on) });
  const session = { topology: null, frame: null, goodConfig: null, sentConfig: null, playing: false, diverged: false, frames: 0, topologies: 0 };

  // ---------------------------------------------------------------- URL hash
  const hashWriter = new HashWriter(() => toHash(state), TIMINGS.hashWriteMs, keepRunHash);
  const writeHash = () => hashWriter.schedule();
  window.addEventListener("hashchange", (event) => {
    // The hash the reader set (our own writer may have replaced the address since).
    const hash = new URL(event.newURL).hash;
    if (hashWriter.isOurs(hash)) return;
    applyHash(state, hash);
    if (!new URLSearchParams(hash.slice(1)).has("loss")) fitDataset();
    playback.setSpeed(state.ui.speed);
    configure();
    lessons.show();
  });

  // ---------------------------------------------------------------- commands
  const configure = () => {
    select(null);
    const config = sendableConfig();
    session.sentConfig = config;
    tools.exact(config);
    transport.send({ type: "configure", config });
    writeHash();
  };
  /** The config to send: a CSV whose task is new to the page goes without a loss (the server fits one). */
  const sendableConfig = () => {
    const config = structuredClone(state.config);
    if (config.data.name === "csv" && state.ui.csvFresh) delete config.network.loss;
    return config;
  };
  /** Show the experiment that really runs (after a config the server refused). */
  const restoreConfig = () => {
    if (!session.goodConfig) return;
    state.config = structuredClone(session.goodConfig);
    controls.sync(state);
    writeHash();
  };
  const clearLesson = () => {
    if (!state.ui.lesson) return;
    state.ui.lesson = "";
    lessons.show();
  };

  const changeSetting = (path, value) => {
    if (path === "config.data.name" && value === "csv") {
      controls.sync(state); // the select goes back until a file is chosen
      csvDialog.open();
      return;
    }
    setPath(state, path, value);
    fitLessonKeys(state.config, path, choices);
    if (path === "config.data.name") fitDataset();
    const prop = propOf(path);
    if (prop?.send === "set") {
      const key = path.split(".").at(-1);
      transport.send({ type: "set", training: { [key]: value } });
      inspector.setTraining(state.config.training);
      writeHash();
    } else if (prop?.send === "configure") {
      clearLesson();
      configure();
    }
    controls.sync(state);
  };

  const command = (name, arg) => {
    if (room.following) return; // a follower's view is read-only
    if (name === "play") {
      stop.showStopped(null);
      transport.send(playMessage(state.ui.speed));
    }
    else if (name === "pause") transport.send({ type: "pause" });
    else if (name === "step") transport.send({ type: "step", unit: arg });
    else if (name === "reset") {
      banners.setDiverged(false);
      transport.send({ type: "reset" });
    } else if (name === "speed") {
      state.ui.speed = arg;
      playback.setSpeed(arg);
      writeHash();
      if (session.playing) transport.send(playMessage(arg));
    }
  };

  /** `play` with the stop condition (target loss and/or step count), when one is set. */
  const playMessage = (speed) => {
    const msg = { type: "play", speed, fps: PLAY_FPS };
    const until = stop.until();
    if (until) msg.until = until;
    return msg;
  };

  // ---------------------------------------------------------------- views
  const select = (selection) => {
    network.setSelection(selection);
    inspector.setSelection(selection); // a neuron of a large layer: asks for its row (onInspect)
  };
  const network = new NetworkView($("#network"), {
    onSelect: (s) => {
      const same = JSON.stringify(s) === JSON.stringify(network.selection);
      select(same ? null : s);
      if (!same) window.dispatchEvent(new CustomEvent("bpviz:selected")); // present.js shows the inspector
    },
  });
  const timeline = new Timeline($("#timeline"), {
    onJump: (count) => transport.send({ type: "step", unit: "phase", count }),
  });
  const inspector = new Inspector($("#inspector-body"), {
    onEdit: (edit) => transport.send({ type: "set_param", ...edit }),
    onFinishStep: () => transport.send({ type: "step", unit: "step" }),
    // A follower's session has no run of its own: it gets the lecturer's answers.
    onInspect: (layer, neuron) => room.following || transport.send({ type: "inspect", layer, neuron }),
  });
  const charts = new Charts({
    loss: $("#chart-loss"), accuracy: $("#chart-accuracy"), accuracyPanel: $("#panel-accuracy"),
    gradNorm: $("#chart-grad-norm"), gradBars: $("#chart-grad-bars"), logToggle: $("#loss-log"),
  });
  // The example of the batch the diagram shows: from a list, or a click on a point of the plot.
  const output = new OutputView({
    plot: $("#output-plot"),
    thumbs: $("#thumbs"),
    caption: $("#output-caption"),
    onFocus: (k) => transport.send({ type: "focus", example: k }),
  });
  const controls = new Controls($("#controls"), {
    choices,
    limits,
    features,
    onChange: changeSetting,
    onLayers: (hidden) => {
      setPath(state, "config.network.hidden", hidden);
      fitLessonKeys(state.config, "config.network.hidden", choices);
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
    fields: choices.fieldLabel,
  });
  const connection = new ConnectionWatch({
    after: $("#banner-error"),
    transport,
    roots: [$("#playback"), $(".lesson-bar"), $("#rewind"), $("#timeline"), output.picker.box, $("#gc-dialog")],
    setEnabled: (on) => controls.setEnabled(on),
  });
  const rewind = new RewindBar({
    root: $("#rewind"),
    onSeek: (step) => {
      display.flush();
      if (session.playing && step !== null) transport.send({ type: "pause" }); // dragging back stops Play
      transport.send({ type: "seek", step });
    },
  });
  const metrics = new MetricsView({
    box: $("#stat-metric-box"), label: $("#stat-metric-label"), value: $("#stat-metric"),
    panel: $("#panel-confusion"), chart: $("#chart-confusion"),
  });
  const gradcheck = new GradcheckPanel($("#gc-dialog"), {
    onRun: () => transport.send({ type: "gradcheck" }),
    onScaling: () => transport.send({ type: "gradcheck_scaling" }),
  });
  $("#open-gradcheck").addEventListener("click", () => gradcheck.open());

  // ---------------------------------------------------------------- own data (CSV)
  const csvDialog = new CsvDialog($("#csv-dialog"), {
    limits,
    tasks: choices.tasks,
    fields: choices.fieldLabel,
    onInspect: (file) => csvFlow.inspect(file),
    onTrain: ({ hash, target, task }) => {
      state.config.data = { ...state.config.data, name: "csv", csv: hash, target, task };
      state.ui.csvFresh = true;
      clearLesson();
      configure();
    },
  });
  $("#open-csv").addEventListener("click", () => csvDialog.open());
  const csvFlow = new CsvFlow(csvDialog, {
    send: (msg) => transport.send(msg),
    state,
    wanted: () => session.sentConfig ?? state.config,
    configure: () => configure(),
    restore: restoreConfig,
    showError: (msg) => banners.showError(msg),
  });

  // ---------------------------------------------------------------- a typed exercise, the printable step, the diagram for slides
  const tools = new LessonTools($, { state, session, transport, choices, limits, configure, clearLesson, showError: (msg) => banners.showError(msg) });

  // ---------------------------------------------------------------- stop condition
  const stop = new StopCondition(
    { loss: $("#stop-loss"), steps: $("#stop-steps"), note: $("#stopped-note") },
    {
      state,
      onChange: () => {
        writeHash();
        if (session.playing) transport.send(playMessage(state.ui.speed));
      },
    },
  );

  // ---------------------------------------------------------------- worked examples
  const lessons = new LessonMenu(
    { menu: $("#preset"), note: $("#preset-note") },
    {
      state,
      presets,
      onChoose: (preset) => {
        if (!preset) {
          clearLesson();
          writeHash();
          return;
        }
        state.config = presetConfig(preset, defaults);
        state.ui = { ...UI_DEFAULTS, speed: state.ui.speed, ...(preset.ui ?? {}), lesson: preset.id };
        stop.sync();
        controls.sync(state);
        banners.setDiverged(false);
        configure();
        lessons.show();
      },
      onClose: () => {
        clearLesson();
        writeHash();
      },
    },
  );

  // ---------------------------------------------------------------- export, import, report
  const share = new Share({
    exportButton: $("#export-run"), importButton: $("#import-run"), importFile: $("#import-file"),
    reportButton: $("#report-run"), maxBytes: limits.max_upload_bytes,
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
  bindLanguageButton($("#lang-toggle"));
  onLanguageChange(() => {
    room.relabel();
    controls.relabel();
    applyI18n(document);
    for (const view of [network, timeline, charts, output, playback, banners, rewind, metrics, gradcheck, csvDialog, lessons, stop, status, connection, tools]) view.relabel();
    inspector.render();
    updateStatus();
  });

  // ---------------------------------------------------------------- status line
  const status = new StatusLine(document);
  const updateStatus = () => status.update(session.frame, charts.history, session.topology);
  // A follower's training settings are the lecturer's: each frame's `hyper` says them (a `set`
  // changes them without a new topology; a late joiner's topology has the first ones).
  const drawn = () => {
    if (room.following && applyHyper(state, session.frame?.hyper)) {
      controls.sync(state);
      inspector.setTraining(state.config.training);
      writeHash();
    }
    updateStatus();
  };

  // ---------------------------------------------------------------- messages
  // Frames, grids and play states go to the views through frame-display.js.
  const display = new FrameDisplay(session, { network, timeline, inspector, charts, output, lessons, rewind, metrics, playback, banners, stop }, drawn);

  transport.onStatus((status, detail) => {
    banners.setConnection(status);
    connection.status(status, detail);
  });
  transport.on("hello", (msg) => {
    tools.newSession(); // its options are the defaults: a typed table asks for every digit again
    // A session resumed by the server goes on as it was (connection.js: the resume hook).
    if (connection.hello(msg, room.following) === "resumed") return;
    if (!wantsOwnConfig(msg)) return; // following a room, or the run came back
    // The server starts with its default experiment; ask for ours (from the URL).
    const config = sendableConfig();
    session.sentConfig = config;
    tools.exact(config, true); // a new session starts with the default options
    csvFlow.hello(); // a link to an uploaded CSV: this browser's copy first (the new session has none)
    transport.send({ type: "configure", config });
  });
  transport.on("topology", (topo) => {
    display.flush(); // frames and grids still waiting belong to the old network
    session.topology = topo;
    session.topologies += 1;
    session.goodConfig = structuredClone(topo.config);
    state.config = structuredClone(topo.config);
    tools.exact(topo.config); // also for a run that came back (resume, a copy, an import)
    tools.accepted();
    if (topo.config.data.name === "csv") state.ui.csvFresh = false;
    network.setTopology(topo);
    timeline.setTopology(topo);
    inspector.setTopology(topo);
    inspector.setTraining(state.config.training);
    charts.setTopology(topo);
    output.setTopology(topo);
    lessons.setTopology(topo);
    rewind.update(topo);
    metrics.setTopology(topo);
    gradcheck.invalidate();
    controls.csvTask = topo.data.task;
    controls.csvName = topo.config.data.name === "csv" ? (loadCsv(topo.config.data.csv)?.name ?? topo.data.name ?? "CSV") : null;
    controls.sync(state);
    status.setTopology(topo);
    // At once, the address and the tab's note of it (keepRunHash): a reload within 250 ms found
    // the note written and the address not yet, took it for a new link and replaced the run.
    hashWriter.flush();
  });
  transport.on("frame", (frame) => display.frame(frame));
  transport.on("grid", (grid) => display.grid(grid));
  transport.on("state", (msg) => display.state(msg));
  transport.on("csv_info", (msg) => csvFlow.info(msg));
  transport.on("gradcheck", (msg) => gradcheck.setResult(msg.result));
  transport.on("gradcheck_scaling", (msg) => gradcheck.setScaling(msg.points));
  transport.on("export", (msg) => share.receive(msg.run));
  transport.on("inspect", (msg) => inspector.setInspected(msg));
  transport.on("notice", (msg) => wantsResumeNotice() && connection.notify(msg));
  transport.on("error", (msg) => {
    if (room.answers(msg)) return; // the room's notice says it (the room followed has ended)
    if (msg.code === "diverged") {
      banners.setDiverged(true);
      return;
    }
    if (csvFlow.error(msg)) return;
    if (inspector.editError(msg)) return;
    if (tools.error(msg)) return restoreConfig();
    if (msg.code !== "rate_limited") share.cancel();
    if (gradcheck.busy) gradcheck.done();
    banners.showError(msg);
    if (msg.code === "invalid_config") restoreConfig(); // nothing changed on the server
  });

  window.bpviz = pageProbe({ session, state, transport, network, charts, gradcheck });
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
