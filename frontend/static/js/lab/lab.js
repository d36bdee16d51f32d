// The lab's wiring: two transports (one session per side) ⇄ the lab state ⇄ the views.
// Both sides get the same shared config and differ in the one compared choice; the
// Lockstep drives them step for step. Views never touch the sockets.
import { getJSON } from "../shared/api.js";
import { Banners } from "../shared/banner.js";
import { loadChoices } from "../shared/choices.js";
import { History } from "../shared/history.js";
import { applyI18n, bindLanguageButton, initI18n, onLanguageChange, t } from "../shared/i18n.js";
import { initSpaceForPlay, keepsKeys } from "../shared/space-key.js";
import { HashWriter } from "../shared/state.js";
import { Transport } from "../shared/transport.js";
import { HISTORY_KEYS, LossChart, logRange } from "./charts.js";
import { LAB_DEFAULT_SPEED, LAB_SPEEDS, LAB_TIMINGS } from "./constants.js";
import { LabGuide } from "./guide.js";
import { Lockstep } from "./lockstep.js";
import { gradientTop } from "./network.js";
import { makeCompares, presetById, presetConfig, PRESETS, sideConfig } from "./presets.js";
import { SaturationChart } from "./saturation.js";
import { LabSide } from "./side.js";
import { applySharedHash, createLabState, labToHash, readLabHash } from "./state.js";
import { LabTable } from "./table.js";

const $ = (sel) => document.querySelector(sel);
const KEYS = ["a", "b"];

async function main() {
  await initI18n(["lab"]);
  applyI18n(document);
  const [defaults, choices] = await Promise.all([getJSON("/api/config/default"), loadChoices()]);
  const compares = makeCompares(choices);
  const state = createLabState(defaults, LAB_DEFAULT_SPEED);

  // ---------------------------------------------------------------- state ⇄ URL
  /** The state of a preset (its shared config, compared choice and the two values). */
  const presetState = (preset) => {
    const { compare, a, b } = preset;
    return { preset: preset.id, compare, a, b, config: presetConfig(preset, defaults), ui: { ...state.ui } };
  };
  const loadHash = (hash) => {
    const lab = readLabHash(hash, compares);
    const preset = presetById(lab.preset) ?? (lab.compare || lab.shared ? null : PRESETS[0]);
    if (preset) Object.assign(state, presetState(preset));
    else {
      state.preset = "";
      state.config = structuredClone(defaults);
    }
    applySharedHash(state, hash);
    if (lab.compare) {
      if (lab.compare !== state.compare) [state.a, state.b] = compares[lab.compare].pair;
      state.compare = lab.compare;
      if (lab.a !== undefined) state.a = lab.a;
      if (lab.b !== undefined) state.b = lab.b;
    }
  };
  loadHash(location.hash);

  const hashWriter = new HashWriter(() => labToHash(state), LAB_TIMINGS.hashWriteMs);
  const writeHash = () => hashWriter.schedule();

  // ---------------------------------------------------------------- sessions and views
  const transports = KEYS.map(() => new Transport());
  const histories = KEYS.map(() => new History(HISTORY_KEYS));
  const info = KEYS.map(() => ({ hello: false, topology: null, frame: null, frames: 0, topologies: 0 }));
  const sides = KEYS.map(
    (key, i) =>
      new LabSide($(`#side-${key}`), {
        key,
        compares,
        onValue: (v) => {
          state[key] = v;
          state.preset = ""; // no longer the preset its guide explains (like another compare)
          applyConfigs();
        },
      }),
  );
  const lockstep = new Lockstep(
    transports.map((transport, i) => ({ transport, isDiverged: () => Boolean(info[i].frame?.diverged) })),
    { onChange: (playing) => showPlaying(playing), onAnswered: () => scheduleDraw() },
  );
  const loss = new LossChart($("#lab-loss"));
  const table = new LabTable($("#lab-table"));
  const saturation = KEYS.map((key, i) => new SaturationChart({ hist: $(`#sat-hist-${key}`), dead: $(`#sat-dead-${key}`) }, (what) => sides[i].chartTitle(what)));
  const banners = new Banners({
    error: $("#banner-error"),
    diverged: $("#banner-diverged"),
    connection: $("#connection"),
    onReset: () => reset(),
  });
  const guide = new LabGuide(
    { strip: $("#lab-presets"), card: $("#lab-guide") },
    {
      compares,
      presetHash: (p) => labToHash(presetState(p)),
      onCompare: (name) => {
        if (!compares[name]) return;
        state.compare = name;
        [state.a, state.b] = compares[name].pair;
        state.preset = "";
        applyConfigs();
      },
    },
  );

  /** Send both sides their configs (both start again from step 0, in lock-step). */
  let configuring = Promise.resolve();
  const applyConfigs = () => {
    KEYS.forEach((key, i) => sides[i].setChoice(state.compare, state[key]));
    guide.set(state.preset, state.compare);
    writeHash();
    const configs = KEYS.map((key) => sideConfig(state.config, compares[state.compare], state[key]));
    configuring = configuring.then(() => lockstep.configure(configs));
    return configuring;
  };

  const reset = async () => {
    await lockstep.reset();
  };

  // ---------------------------------------------------------------- drawing
  let drawTimer = null;
  let lastDraw = 0;
  const scheduleDraw = () => {
    if (drawTimer) return;
    const wait = lockstep.playing ? Math.max(0, LAB_TIMINGS.chartThrottleMs - (performance.now() - lastDraw)) : 0;
    drawTimer = setTimeout(() => {
      drawTimer = null;
      lastDraw = performance.now();
      draw();
    }, wait);
  };

  const draw = () => {
    const pairs = KEYS.map((_, i) => ({ frame: info[i].frame, topology: info[i].topology }));
    const top = gradientTop(pairs);
    const barValues = [];
    const lineValues = [];
    KEYS.forEach((_, i) => {
      for (const l of info[i].frame?.layers ?? []) barValues.push(l.norms?.delta, l.norms?.dW);
      for (const row of histories[i].cols.delta_norm) if (Array.isArray(row)) lineValues.push(...row);
    });
    const ranges = { bars: logRange(barValues, 0.4), lines: logRange(lineValues, 0.3) };
    KEYS.forEach((_, i) => {
      sides[i].network.update(info[i].frame, top);
      sides[i].charts.draw(info[i].frame, histories[i], ranges);
    });
    loss.draw(KEYS.map((key, i) => ({ key, name: sides[i].name, history: histories[i], loss: info[i].frame?.loss })));
    table.update(KEYS.map((key, i) => ({ key, name: sides[i].name, short: sides[i].name, topology: info[i].topology, frame: info[i].frame })));
    // f′(z) histograms and dead units: shown only when the frames carry them.
    const has = KEYS.map((_, i) => SaturationChart.present(info[i].frame));
    const any = { hist: has.some((h) => h.hist), dead: has.some((h) => h.dead) };
    $("#lab-saturation").hidden = !(any.hist || any.dead);
    for (const el of document.querySelectorAll(".sat-hist")) el.hidden = !any.hist;
    for (const el of document.querySelectorAll(".sat-dead")) el.hidden = !any.dead;
    KEYS.forEach((_, i) => saturation[i].draw(info[i].frame, info[i].topology, any));
    const steps = info.map((x) => x.frame?.step ?? 0);
    $("#lab-step-count").textContent = steps[0] === steps[1] ? String(steps[0]) : steps.join(" / ");
  };

  // ---------------------------------------------------------------- messages
  const statuses = KEYS.map(() => "connecting");
  transports.forEach((transport, i) => {
    transport.onStatus((status) => {
      statuses[i] = status;
      const all = statuses.every((s) => s === "open") ? "open" : statuses.includes("closed") ? "closed" : "connecting";
      banners.setConnection(all);
    });
    transport.on("hello", () => {
      info[i].hello = true;
      transport.send({ type: "options", grids: false }); // the lab draws no decision boundary
      // Both sessions start from their server defaults: configure both once both are here
      // (after a reconnect too, so the two sides start again from the same step).
      if (info.every((x) => x.hello)) applyConfigs();
    });
    transport.on("topology", (topo) => {
      info[i].topology = topo;
      info[i].topologies += 1;
      info[i].frame = null;
      histories[i].clear();
      sides[i].setTopology(topo);
    });
    transport.on("frame", (frame) => {
      info[i].frame = frame;
      info[i].frames += 1;
      histories[i].add(frame.history);
      sides[i].setFrame(frame);
      banners.setDiverged(info.every((x) => x.frame?.diverged));
      // The first side's answer to a tick waits for the other's: drawn together (onAnswered),
      // the step counter never shows one side a tick ahead ("60 / 50").
      if (!lockstep.waiting) scheduleDraw();
    });
    transport.on("error", (msg) => {
      if (msg.code === "diverged") return; // shown on that side's badge
      banners.showError({ ...msg, message: `${t(`lab.side_${KEYS[i]}`)}: ${msg.message ?? ""}` });
    });
  });

  // ---------------------------------------------------------------- control bar
  const playButton = $("#lab-play");
  const speedSelect = $("#lab-speed");
  const showPlaying = (playing) => {
    playButton.classList.toggle("playing", playing);
    playButton.setAttribute("aria-pressed", String(playing));
    const key = playing ? "playback.pause" : "playback.play";
    playButton.querySelector(".label").textContent = t(key);
    playButton.querySelector(".glyph").textContent = playing ? "❚❚" : "▶";
    playButton.setAttribute("aria-label", t(key));
    writeHash();
  };
  const renderSpeeds = () => {
    speedSelect.replaceChildren(
      ...LAB_SPEEDS.map((s) => {
        const o = document.createElement("option");
        o.value = String(s);
        o.textContent = t("playback.speed_value", { n: s });
        return o;
      }),
    );
    const speed = state.ui.speed === null ? LAB_SPEEDS.at(-1) : state.ui.speed;
    const nearest = LAB_SPEEDS.reduce((best, s) => (Math.abs(s - speed) < Math.abs(best - speed) ? s : best));
    speedSelect.value = String(nearest);
    lockstep.setSpeed(nearest);
  };
  const togglePlay = () => {
    if (lockstep.playing) lockstep.pause();
    else lockstep.play();
  };
  playButton.addEventListener("click", togglePlay);
  speedSelect.addEventListener("change", () => {
    state.ui.speed = Number(speedSelect.value);
    lockstep.setSpeed(state.ui.speed);
    writeHash();
  });
  $("#lab-step").addEventListener("click", () => lockstep.step(1));
  $("#lab-step-10").addEventListener("click", () => lockstep.step(10));
  $("#lab-reset").addEventListener("click", reset);
  // Space, →, Shift+→ and R as on the main page; Space also after a click on a button
  // (space-key.js). A button reached with Tab keeps Space; Esc lets go of it.
  initSpaceForPlay(togglePlay);
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (keepsKeys(event.target)) return;
    if ((event.key === " " || event.code === "Space") && !event.target.closest?.("button")) {
      event.preventDefault();
      togglePlay();
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      lockstep.step(event.shiftKey ? 10 : 1);
    } else if (event.key === "r" || event.key === "R") {
      event.preventDefault();
      reset();
    }
  });
  window.addEventListener("hashchange", (event) => {
    const hash = new URL(event.newURL).hash; // the reader's (our writer may have replaced it since)
    if (hashWriter.isOurs(hash)) return;
    loadHash(hash);
    renderSpeeds();
    applyConfigs();
  });

  // ---------------------------------------------------------------- language
  const relabel = () => {
    applyI18n(document);
    sides.forEach((s) => s.relabel());
    guide.render();
    banners.relabel();
    renderSpeeds();
    showPlaying(lockstep.playing);
    document.title = t("lab.page_title");
    draw();
  };
  bindLanguageButton($("#lang-toggle"));
  onLanguageChange(relabel);

  KEYS.forEach((key, i) => sides[i].setChoice(state.compare, state[key]));
  guide.set(state.preset, state.compare);
  relabel();

  // For tests and the curious (read-only use).
  window.bpvizLab = {
    get state() {
      return structuredClone(state);
    },
    side(key) {
      const i = KEYS.indexOf(key);
      return { topology: info[i].topology, frame: info[i].frame, frames: info[i].frames, topologies: info[i].topologies, points: histories[i].length };
    },
    get playing() {
      return lockstep.playing;
    },
    // Nothing in flight: after a pause, both sides' steps are final (the play button shows
    // "play" at once; the tick in flight lands and a side that missed one is levelled later)
    // and drawn (a drawing waits up to a throttle's interval while playing).
    get settled() {
      return !lockstep.busy && !drawTimer;
    },
    get connected() {
      return transports.every((tr) => tr.isOpen);
    },
    get steps() {
      return info.map((x) => x.frame?.step ?? null);
    },
  };
  transports.forEach((tr) => tr.connect());
}

main().catch((err) => {
  const box = document.querySelector("#fatal");
  if (box) {
    box.hidden = false;
    box.querySelector(".banner-detail").textContent = String(err?.message ?? err);
  }
  console.error(err);
});
