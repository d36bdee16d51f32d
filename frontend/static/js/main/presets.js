// Worked examples: frontend/static/presets/lessons.json, read by the page and by the test
// that trains each one to its goal (tests/server/test_presets_goals.py). Each is a config
// (over the server's defaults), optional page state (`ui`), and a goal: after `steps` steps
// every `expect` holds on the metrics. Texts: i18n keys lesson.<id>.title / lesson.<id>.text.
import { getJSON } from "../shared/api.js";
import { overConfig } from "../shared/state.js";

export const LESSONS_URL = "/static/presets/lessons.json";
/** The textbook exercise (docs/lessons.md): a typed table, given weights, every digit shown. */
export const TEXTBOOK_URL = "/static/presets/textbook.json";

/**
 * The worked examples, in menu order: `[{id, config, ui?, goal?, exact?}]` — the lessons, then
 * the textbook exercise (`exact`: the page asks for every digit and shows the step's numbers).
 */
export async function loadPresets() {
  const [lessons, textbook] = await Promise.all([getJSON(LESSONS_URL), getJSON(TEXTBOOK_URL)]);
  return [...lessons.lessons, { id: "textbook", config: textbook, exact: true }];
}

/** A preset's full config: the defaults with the preset's sections merged in. */
export function presetConfig(preset, defaults) {
  return overConfig(defaults, preset.config);
}

/**
 * How a goal stands on a frame's `metrics`: `{met, values}` — `met` when every `expect`
 * holds (`min`: at least, `max`: at most), `values` the metrics it reads (null: not measured).
 */
export function goalStatus(goal, metrics) {
  const values = goal.expect.map((e) => metrics?.[e.metric] ?? null);
  const met = goal.expect.every((e, k) => {
    const v = values[k];
    if (v === null || !Number.isFinite(v)) return false;
    return ("min" in e ? v >= e.min : true) && ("max" in e ? v <= e.max : true);
  });
  return { met, values };
}
