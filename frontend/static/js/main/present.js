// The page on any screen: the header's height for the layout below it, the settings drawer on
// narrow screens, and presentation mode for a projector — large type, the diagram and one
// panel beside it, the controls reduced to stepping, Reset and the history slider.
// Presentation mode lives in the URL's query (`/?present` or `/?present=loss`: the hash
// holds the experiment) and on the P key.
// Loaded by index.html beside main.js: it touches only the page's chrome, never the socket.
import { has, t } from "../shared/i18n.js";
import { initKeys } from "./keys.js";

const PANELS = ["inspector", "output", "loss", "grad"];
const DRAWER = window.matchMedia("(max-width: 1199px)");
const body = document.body;
const $ = (sel) => document.querySelector(sel);

/** Tell the views that the layout changed (the diagram rebuilds in the new style). */
function layoutChanged() {
  requestAnimationFrame(() => window.dispatchEvent(new CustomEvent("bpviz:layout")));
}

// ---------------------------------------------------------------- the header
// One row where everything fits (in the language shown, with whatever buttons the page has);
// else the playback controls take a row of their own under the brand and the links
// (`.topbar.wrapped`). The layout under the header follows its height (--topbar).
function watchHeader() {
  const header = $(".topbar");
  let watcher = null;
  const fit = () => {
    header.classList.remove("wrapped");
    const first = header.querySelector(".brand").getBoundingClientRect().bottom;
    const wraps = [...header.children].some((el) => el.getClientRects().length && el.getBoundingClientRect().top >= first - 1);
    header.classList.toggle("wrapped", wraps);
    document.documentElement.style.setProperty("--topbar", `${Math.ceil(header.getBoundingClientRect().height)}px`);
    watcher?.takeRecords(); // our own class change is no reason to fit again
  };
  // Refit when the header's size or its words change (a label in another language, the
  // connection's state, a button shown or hidden), at most once per frame.
  let queued = false;
  const soon = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fit();
    });
  };
  new ResizeObserver(soon).observe(header);
  watcher = new MutationObserver(soon);
  watcher.observe(header, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["hidden", "class", "data-status"] });
  window.addEventListener("bpviz:layout", soon);
  fit();
}

// ---------------------------------------------------------------- the settings drawer
function initDrawer() {
  const toggle = $("#controls-toggle");
  const sidebar = $("#sidebar");
  const setOpen = (open) => {
    body.classList.toggle("controls-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    sidebar.inert = DRAWER.matches && !open;
    // The first setting takes the focus once the drawer is drawn (two frames on: while its
    // visibility transition starts, an element inside takes none).
    const first = () => sidebar.querySelector(":is(select, input, button):not(#controls-close)")?.focus();
    if (open) requestAnimationFrame(() => requestAnimationFrame(first));
  };
  toggle.addEventListener("click", () => setOpen(!body.classList.contains("controls-open")));
  $("#controls-close").addEventListener("click", () => {
    setOpen(false);
    toggle.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && body.classList.contains("controls-open") && DRAWER.matches) {
      setOpen(false);
      toggle.focus();
    }
  });
  document.addEventListener("pointerdown", (event) => {
    if (!DRAWER.matches || !body.classList.contains("controls-open")) return;
    if (!sidebar.contains(event.target) && !toggle.contains(event.target) && !event.target.closest?.("dialog")) setOpen(false);
  });
  DRAWER.addEventListener("change", () => setOpen(false));
  setOpen(false);
}

// ---------------------------------------------------------------- presentation mode
export class Presentation {
  constructor() {
    this.toggle = $("#present-toggle");
    this.menu = $("#present-panel");
    this.side = $(".side");
    this.moved = null; // a chart card moved beside the diagram, and where it came from
    this.rewindHome = null; // where the history slider lives when not presenting
    this.toggle.addEventListener("click", () => this.set(!this.on));
    this.menu.addEventListener("change", () => this.set(true, this.menu.value));
    // On a phone the inspector sits under the diagram: a tap on a neuron or an edge brings it
    // into view when it is wholly off screen (elsewhere it is beside the diagram: no scroll).
    window.addEventListener("bpviz:selected", () => {
      const panel = $("#panel-inspector");
      const r = panel.getBoundingClientRect();
      if (r.height && (r.top >= innerHeight || r.bottom <= 0)) panel.scrollIntoView({ block: "nearest" });
    });
    window.addEventListener("bpviz:inspect", () => {
      if (this.on && this.panel !== "inspector") this.set(true, "inspector");
      $("#panel-inspector")?.scrollIntoView({ block: "nearest" });
    });
    const q = new URLSearchParams(location.search);
    const wanted = q.get("present");
    this.on = false;
    this.panel = "inspector";
    if (q.has("present")) this.set(true, PANELS.includes(wanted) ? wanted : "inspector", { write: false });
  }

  /** Presentation mode on or off, with `panel` beside the diagram. */
  set(on, panel = this.panel, { write = true } = {}) {
    this.on = on;
    this.panel = PANELS.includes(panel) ? panel : "inspector";
    body.classList.toggle("present", on);
    body.dataset.panel = on ? this.panel : "";
    this.toggle.setAttribute("aria-pressed", String(on));
    // The label follows the language: applyI18n reads data-i18n (the dictionaries may still be loading).
    const label = this.toggle.querySelector(".label");
    label.dataset.i18n = on ? "present.exit" : "present.toggle";
    if (has(label.dataset.i18n)) label.textContent = t(label.dataset.i18n);
    this.menu.value = this.panel;
    this.placeChart(on && (this.panel === "loss" || this.panel === "grad") ? $(`#panel-${this.panel}`) : null);
    this.placeRewind(on);
    if (write) {
      const url = new URL(location.href);
      if (on) url.searchParams.set("present", this.panel);
      else url.searchParams.delete("present");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
    layoutChanged();
  }

  /**
   * Presenting, the history slider goes to the header's row of playback controls (room
   * there is otherwise empty), so that the diagram keeps its height; back over it after.
   */
  placeRewind(on) {
    const rewind = $("#rewind");
    if (on && !this.rewindHome) {
      this.rewindHome = document.createComment("history slider, when not presenting");
      rewind.replaceWith(this.rewindHome);
      $("#playback").appendChild(rewind);
    } else if (!on && this.rewindHome) {
      this.rewindHome.replaceWith(rewind);
      this.rewindHome = null;
    }
  }

  /** A chart card shown beside the diagram goes there, and back to the charts after. */
  placeChart(card) {
    if (this.moved && this.moved.card !== card) {
      this.moved.anchor.replaceWith(this.moved.card);
      this.moved = null;
    }
    if (card && !this.moved) {
      const anchor = document.createComment("chart shown beside the diagram");
      card.replaceWith(anchor);
      this.side.appendChild(card);
      this.moved = { card, anchor };
    }
  }
}

function start() {
  watchHeader();
  initDrawer();
  const presentation = new Presentation();
  initKeys({
    togglePresent: () => presentation.set(!presentation.on),
    exitPresent: () => {
      if (presentation.on && !body.classList.contains("controls-open")) presentation.set(false);
    },
  });
  window.bpvizPresentation = presentation; // for tests and the curious (read-only use)
}

start();
