// Own data over the socket, around the CSV dialog (owndata.js): the file chosen goes to the
// server as `csv_inspect` and its answer (`csv_info` or an error) back to the dialog; a link
// to a CSV sends this browser's copy before the config; a session that has lost the file
// (`unknown_csv`, e.g. after a server restart) gets it again, then the config once more.
import { t } from "../shared/i18n.js";
import { loadCsv } from "./owndata.js";

export class CsvFlow {
  /**
   * `dialog`: the CsvDialog; `send(message)` → false while offline; `state`: the page state
   * (its config and `ui.csvFresh` are written); `wanted()`: the config last sent;
   * `configure()`: send the state's config; `restore()`: show the config that really runs;
   * `showError(message)`: the error banner.
   */
  constructor(dialog, { send, state, wanted, configure, restore, showError }) {
    Object.assign(this, { dialog, send, state, wanted, configure, restore, showError });
    this.preloading = null; // the hash of a copy sent ahead of the config (a link to a CSV)
    this.retrying = null; // the hash of a copy sent again after `unknown_csv`
  }

  /** Send a file the reader chose (the dialog's `onInspect`): `{name, text}` or `{name, data}`. */
  inspect(file) {
    if (!this.send(inspectMessage(file))) this.dialog.showError({ code: "offline", message: t("csv.offline") });
  }

  /** A new session: a config on an uploaded CSV needs this browser's copy sent first. */
  hello() {
    const kept = this.state.config.data.name === "csv" ? loadCsv(this.state.config.data.csv) : null;
    if (!kept) return;
    this.preloading = this.state.config.data.csv;
    this.send(inspectMessage(kept));
  }

  /** The server's `csv_info`: for the dialog, unless it answers a copy sent on our own. */
  info(msg) {
    if (this.preloading === msg.hash && !this.dialog.pending) {
      this.preloading = null;
      return;
    }
    if (this.retrying && this.retrying === msg.hash && !this.dialog.pending) {
      this.retrying = null;
      this.configure();
      return;
    }
    this.dialog.showInfo(msg);
  }

  /** An `error`: true when it was about the CSV and is dealt with here. */
  error(msg) {
    if (msg.field === "csv" && (this.dialog.pending || this.dialog.isOpen)) {
      this.dialog.showError(msg);
      return true;
    }
    if (msg.code === "unknown_csv") {
      this.resend();
      return true;
    }
    if (msg.field === "csv" && this.retrying) this.retrying = null;
    return false;
  }

  /** Send the CSV of the config asked for again (from localStorage); it is configured once back. */
  resend() {
    // The config asked for (a topology of the server's default may have come in between).
    const wanted = this.wanted();
    const hash = wanted.data?.csv;
    const kept = hash ? loadCsv(hash) : null;
    if (!kept || this.retrying === hash) {
      this.retrying = null;
      this.showError({ code: "csv_gone", message: t("csv.gone", { hash }) });
      this.restore();
      this.dialog.open();
      return;
    }
    this.retrying = hash;
    this.state.config = structuredClone(wanted);
    if (!wanted.network?.loss) this.state.ui.csvFresh = true;
    this.send(inspectMessage(kept));
  }
}

/** `csv_inspect` for a file: its `text` (UTF-8), or its bytes as base64 `data` (docs/protocol.md). */
function inspectMessage(file) {
  return typeof file.data === "string" ? { type: "csv_inspect", name: file.name, data: file.data } : { type: "csv_inspect", name: file.name, text: file.text };
}
