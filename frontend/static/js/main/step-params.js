// The parameters a step's forward pass used, rebuilt from a frame: the rule written once.

/**
 * The value a step used: the value its update left — `updated` (`W_updated`, `b_updated`:
 * edited by hand since the step) or else today's — minus that update (`dW_update`,
 * `db_update`). Before the update has run (no update given) it is today's value. Works on a
 * number, a vector or a matrix (an update's missing entry counts as 0).
 */
export function usedValue(today, updated, update) {
  if (update === null || update === undefined) return today;
  const after = updated ?? today;
  if (after === null || after === undefined) return after;
  return Array.isArray(after) ? after.map((v, k) => usedValue(v, null, update[k] ?? 0)) : after - update;
}

/** A frame layer's `{W, b}` as its step used them (see `usedValue`). */
export function layerUsed(layer) {
  return {
    W: usedValue(layer?.W, layer?.W_updated, layer?.dW_update),
    b: usedValue(layer?.b, layer?.b_updated, layer?.db_update),
  };
}
