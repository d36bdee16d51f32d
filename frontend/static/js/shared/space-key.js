// Space for Play on the main page and the lab, also when a button has the focus.
// A button focused by a click (or a tap) has no use for Space: Space plays. A button reached
// with Tab keeps Space, as everywhere on the web (the keys list says so), and Esc lets go of
// it, after which Space plays again. Fields (input, select…) and open dialogs keep their keys.

let pointerFocus = null; // the element that last took the focus from a click or a tap
let watching = false;

function watchPointerFocus() {
  if (watching) return;
  watching = true;
  // A click focuses a button between its pointerdown and its pointerup; Tab does not.
  let pressing = false;
  document.addEventListener("pointerdown", () => (pressing = true), true);
  for (const type of ["pointerup", "pointercancel"]) document.addEventListener(type, () => (pressing = false), true);
  document.addEventListener("focusin", (event) => {
    pointerFocus = pressing ? event.target : null;
  });
}

/** Whether the key event's target keeps its keys (a field, or anything in an open dialog). */
export function keepsKeys(target) {
  return Boolean(target.closest?.("input, select, textarea, [contenteditable], dialog[open]"));
}

function isSpace(event) {
  return event.key === " " || event.code === "Space";
}

/**
 * `play()` on Space from a button focused by a click; Esc on a focused button (outside a
 * dialog) lets go of it. Space anywhere else is the page's own listener's (not a button's).
 */
export function initSpaceForPlay(play) {
  watchPointerFocus();
  const clicked = (target) => {
    const button = target.closest?.("button");
    return Boolean(button) && button === pointerFocus;
  };
  // Capture: before the page's own listener and before the button's own activation.
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (!isSpace(event) || keepsKeys(event.target) || !clicked(event.target)) return;
      event.preventDefault();
      event.stopPropagation();
      if (!event.repeat) play();
    },
    true,
  );
  // A Space whose keydown played must not also press the button on its keyup.
  document.addEventListener(
    "keyup",
    (event) => {
      if (isSpace(event) && !keepsKeys(event.target) && clicked(event.target)) event.preventDefault();
    },
    true,
  );
  // Esc lets go of a button reached with Tab (the next Tab goes on from it).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || keepsKeys(event.target)) return;
    const button = event.target.closest?.("button");
    if (button && document.activeElement === button) button.blur();
  });
}
