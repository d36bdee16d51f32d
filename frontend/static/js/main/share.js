// Sharing a run: "Export" downloads the server's `export` as JSON, "Import" reads such a
// file back (the server restores it: `import`), "Report" posts the export to /api/report
// and downloads the standalone HTML it returns. Never touches the socket: `onExport()`
// asks main.js for the run, which comes back through `receive(run)`.
import { t } from "../shared/i18n.js";
import { storeCsv } from "./owndata.js";

/** Save a blob as a file (an object URL clicked, then released). */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export class Share {
  /**
   * `onExport()`: ask for the run; `onImport(run)`: send one; `onError(message)`: show an
   * error ({code, message}); `fileName()`: a base name for downloads; `maxBytes`: the upload limit.
   */
  constructor({ exportButton, importButton, importFile, reportButton, maxBytes, onExport, onImport, onError, fileName }) {
    Object.assign(this, { reportButton, maxBytes, onImport, onError, fileName });
    this.wanted = null; // "download" or "report": what the next `export` is for
    exportButton.addEventListener("click", () => {
      this.wanted = "download";
      onExport();
    });
    reportButton.addEventListener("click", () => {
      this.wanted = "report";
      onExport();
    });
    importButton.addEventListener("click", () => importFile.click());
    importFile.addEventListener("change", () => {
      const file = importFile.files[0];
      importFile.value = "";
      if (file) this.importFile(file);
    });
  }

  /** The server's `export` answer. */
  receive(run) {
    const why = this.wanted;
    this.wanted = null;
    if (why === "report") this.report(run);
    else download(new Blob([JSON.stringify(run)], { type: "application/json" }), `${this.fileName()}.json`);
  }

  /** The export asked for will not come (the server answered with an error). */
  cancel() {
    this.wanted = null;
  }

  async importFile(file) {
    if (file.size > this.maxBytes) {
      this.onError({ code: "too_large", message: t("share.file_too_large", { max: Math.round(this.maxBytes / 1024) }) });
      return;
    }
    let run;
    try {
      run = JSON.parse(await file.text());
    } catch {
      this.onError({ code: "invalid_run", message: t("share.not_json", { name: file.name }) });
      return;
    }
    // A run on an uploaded CSV carries its text: keep it, so the URL of the run works later.
    const csv = run?.data_csv;
    if (csv?.hash && typeof csv.text === "string") storeCsv(csv.hash, csv.name ?? "data.csv", csv.text);
    this.onImport(run);
  }

  async report(run) {
    const button = this.reportButton;
    button.disabled = true;
    try {
      const response = await fetch("/api/report", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(run) });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
      download(await response.blob(), `${this.fileName()}-report.html`);
    } catch (err) {
      this.onError({ code: "report_failed", message: String(err.message ?? err) });
    } finally {
      button.disabled = false;
    }
  }
}
