// Own data: a CSV file dropped or picked, checked by the server (`csv_inspect`), then a
// small dialog to choose the target column and the task. The file stays in this
// browser's localStorage under its content hash, so a link (#data=csv&csv=<hash>) works
// again after a reload or a server restart. The dialog never touches the socket.
// A file that is UTF-8 goes as its text; any other (Chinese Excel's GBK/GB18030, UTF-16,
// Latin-1) goes as its bytes (`data`, base64): the server detects the encoding, so the
// page never guesses one and never shows garbled text. Errors are worded by their code.
import { wordError } from "../shared/banner.js";
import { fmt } from "../shared/format.js";
import { t } from "../shared/i18n.js";

const PREFIX = "bpviz.csv.";

/** Keep a CSV under its hash: its `text`, or (a file that is not UTF-8) its bytes as base64 `data`. */
export function storeCsv(hash, name, text, data = null) {
  try {
    localStorage.setItem(PREFIX + hash, JSON.stringify(data === null ? { name, text } : { name, data }));
    return true;
  } catch {
    return false; // full or private mode: the link works in this session only
  }
}

/** `{name, text}` or `{name, data}` of a CSV kept in this browser, or null. */
export function loadCsv(hash) {
  try {
    const raw = localStorage.getItem(PREFIX + hash);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export class CsvDialog {
  /**
   * `onInspect({name, text} | {name, data})`: send it to the server; `onTrain({hash, name, target,
   * task, suggestedTask})`. `tasks`: the tasks a loss can train (shared/choices.js), offered
   * besides "auto"; `fields(path)`: a config field's name in the reader's language.
   */
  constructor(dialog, { limits, tasks, onInspect, onTrain, fields = null }) {
    this.dialog = dialog;
    this.limits = limits;
    this.fields = fields;
    this.tasks = ["auto", ...tasks];
    this.onInspect = onInspect;
    this.onTrain = onTrain;
    this.pending = null; // {name, text} sent, waiting for csv_info or error
    this.info = null;
    this.errorMsg = null;
    const q = (s) => dialog.querySelector(s);
    this.el = {
      drop: q("#csv-drop"), file: q("#csv-file"), limits: q("#csv-limits"), error: q("#csv-error"),
      info: q("#csv-info"), summary: q("#csv-summary"), target: q("#csv-target"), task: q("#csv-task"),
      preview: q("#csv-preview"), train: q("#csv-train"),
    };
    q("#csv-pick").addEventListener("click", () => this.el.file.click());
    this.el.file.addEventListener("change", () => {
      if (this.el.file.files[0]) this.read(this.el.file.files[0]);
      this.el.file.value = "";
    });
    const drop = this.el.drop;
    drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const file = e.dataTransfer?.files?.[0];
      if (file) this.read(file);
    });
    this.el.target.addEventListener("change", () => this.fillTasks());
    this.el.train.addEventListener("click", () => {
      const info = this.info;
      if (!info) return;
      const target = this.el.target.value;
      const task = this.el.task.value;
      this.dialog.close();
      this.onTrain({ hash: info.hash, name: info.name, target, task, suggestedTask: target === info.suggested_target ? info.suggested_task : null });
    });
    this.relabel();
  }

  open() {
    this.relabel();
    if (!this.dialog.open) this.dialog.showModal();
  }

  get isOpen() {
    return this.dialog.open;
  }

  async read(file) {
    this.info = null;
    this.el.info.hidden = true;
    const max = this.limits.max_csv_bytes ?? this.limits.max_upload_bytes;
    if (file.size > max) {
      this.showError({ code: "too_large", message: t("csv.file_too_large", { size: fmtBytes(file.size), max: fmtBytes(max) }) });
      return;
    }
    const file_ = await readCsvFile(file, this.limits);
    if (file_.error) {
      this.showError(file_.error);
      return;
    }
    this.pending = file_;
    this.showError(null);
    this.el.summary.textContent = t("csv.checking", { name: file.name });
    this.onInspect(file_);
  }

  /** The server's `csv_info` for the file sent. */
  showInfo(msg) {
    if (this.pending) storeCsv(msg.hash, msg.name, this.pending.text ?? null, this.pending.data ?? null);
    this.pending = null;
    this.info = msg;
    this.showError(null);
    this.el.info.hidden = false;
    this.relabelInfo();
  }

  /** An `error` about the file (field "csv"): headline in the reader's language, where, and the server's words. */
  showError(msg) {
    this.errorMsg = msg;
    const box = this.el.error;
    if (!msg) {
      box.hidden = true;
      return;
    }
    this.pending = null;
    box.hidden = false;
    const { title, detail } = wordError(msg, this.fields, "data");
    box.querySelector(".csv-error-title").textContent = title;
    const where = [];
    if (msg.row !== null && msg.row !== undefined) where.push(t("csv.at_row", { row: msg.row }));
    if (msg.column !== null && msg.column !== undefined) where.push(t("csv.at_column", { column: msg.column }));
    box.querySelector(".csv-error-where").textContent = where.length ? `(${where.join(t("csv.list_sep"))})` : "";
    box.querySelector(".csv-error-detail").textContent = detail;
  }

  fillTasks() {
    const info = this.info;
    const target = this.el.target.value;
    const suggested = target === info.suggested_target ? info.suggested_task : null;
    const keep = this.el.task.value;
    this.el.task.replaceChildren(
      ...this.tasks.map((task) => {
        const o = document.createElement("option");
        o.value = task;
        o.textContent = task === "auto" ? t("csv.task_auto") : t(`task.${task}`) + (task === suggested ? ` — ${t("csv.detected")}` : "");
        return o;
      }),
    );
    this.el.task.value = suggested && (!keep || keep === "auto" || this.lastTarget !== target) ? suggested : keep || "auto";
    this.lastTarget = target;
  }

  relabelInfo() {
    const info = this.info;
    if (!info) return;
    const read = info.encoding ? ` ${t("csv.read_as", { encoding: info.encoding })}` : "";
    this.el.summary.textContent = t("csv.summary", { name: info.name, rows: info.n_rows, cols: info.columns.length }) + read;
    const prev = this.el.target.value;
    this.el.target.replaceChildren(
      ...info.columns.map((c) => {
        const o = document.createElement("option");
        o.value = c;
        o.textContent = c === info.suggested_target ? `${c} — ${t("csv.suggested")}` : c;
        return o;
      }),
    );
    this.el.target.value = info.columns.includes(prev) ? prev : info.suggested_target;
    this.fillTasks();
    this.showTypos(info);
    const table = this.el.preview;
    const head = document.createElement("tr");
    for (const c of info.columns) {
      const th = document.createElement("th");
      th.textContent = c;
      head.appendChild(th);
    }
    const rows = info.preview.map((r) => {
      const tr = document.createElement("tr");
      for (const v of r) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      return tr;
    });
    table.replaceChildren(head, ...rows);
  }

  /** Columns that are numbers but for a few cells (a typo?), named with their cells. */
  showTypos(info) {
    if (!this.el.typos) {
      this.el.typos = document.createElement("p");
      this.el.typos.className = "hint csv-typos";
      this.el.typos.setAttribute("role", "note");
      this.el.summary.after(this.el.typos);
    }
    const lines = (info.column_kinds ?? [])
      .filter((k) => k.kind === "mostly_numeric" && k.bad_cells?.length)
      .map((k) => {
        const cells = k.bad_cells.map((c) => t("csv.typo_cell", { row: c.row, value: c.value })).join(t("csv.list_sep"));
        return t("csv.typo", { column: k.name, n: k.n_bad, cells });
      });
    this.el.typos.hidden = !lines.length;
    this.el.typos.textContent = lines.join(" ");
  }

  relabel() {
    const l = this.limits;
    this.el.limits.textContent = t("csv.limits", { size: fmtBytes(l.max_csv_bytes ?? l.max_upload_bytes), rows: l.max_csv_rows ?? l.max_samples, cols: l.max_csv_cols ?? 64 });
    this.relabelInfo();
    if (this.errorMsg) this.showError(this.errorMsg);
  }
}

/**
 * A file chosen by the reader, ready to send: `{name, text}` when it is UTF-8 (a byte-order
 * mark dropped), else `{name, data}` (base64 of its bytes, for the server to decode), or
 * `{error}` when it is too large to send.
 */
export async function readCsvFile(file, limits) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return { name: file.name, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    // Not UTF-8: base64 grows it by a third, and the message must stay within the upload limit.
    const room = Math.floor(((limits.max_upload_bytes ?? Infinity) - 1024) * 0.75);
    if (bytes.length > room) return { error: { code: "too_large", message: t("csv.file_too_large", { size: fmtBytes(bytes.length), max: fmtBytes(room) }) } };
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return { name: file.name, data: btoa(bin) };
  }
}

function fmtBytes(n) {
  if (n >= 1024 * 1024) return `${fmt(n / (1024 * 1024), 3)} MiB`;
  if (n >= 1024) return `${fmt(n / 1024, 3)} KiB`;
  return `${n} B`;
}
