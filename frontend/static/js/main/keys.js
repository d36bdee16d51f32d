// The page's own keys, beside Playback's (space, →, Shift+→, r): P for presentation mode,
// ? for the list of keys (a dialog, also behind the header's "?" button), and Space for
// Play after a click on a button. A button reached with Tab keeps Space, as everywhere on
// the web (the keys dialog says so); one focused by a click has no use for it: Space plays.

let pointerFocus = null; // the element that last took the focus from a click or a tap

function typing(target) {
  return Boolean(target.closest?.("input, select, textarea, [contenteditable]"));
}

/** `togglePresent()`: presentation mode on or off. */
export function initKeys({ togglePresent }) {
  const dialog = document.querySelector("#keys-dialog");
  const opener = document.querySelector("#keys-open");
  const openKeys = () => {
    if (!dialog.open) dialog.showModal();
  };
  opener.addEventListener("click", openKeys);

  // A click focuses a button between its pointerdown and its pointerup; Tab does not.
  let pressing = false;
  document.addEventListener("pointerdown", () => (pressing = true), true);
  for (const type of ["pointerup", "pointercancel"]) document.addEventListener(type, () => (pressing = false), true);
  document.addEventListener("focusin", (event) => {
    pointerFocus = pressing ? event.target : null;
  });

  // Capture: before Playback's listener and before the button's own activation.
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      const target = event.target;
      if (typing(target) || target.closest?.("dialog[open]")) return;
      if (event.key === " " || event.code === "Space") {
        const button = target.closest?.("button");
        if (button && button === pointerFocus) {
          event.preventDefault();
          event.stopPropagation();
          document.querySelector("#play")?.click();
        }
      } else if ((event.key === "p" || event.key === "P") && !event.shiftKey) {
        event.preventDefault();
        togglePresent();
      } else if (event.key === "?") {
        event.preventDefault();
        openKeys();
      }
    },
    true,
  );
  // A Space whose keydown played must not also press the button on its keyup.
  document.addEventListener(
    "keyup",
    (event) => {
      if ((event.key === " " || event.code === "Space") && event.target.closest?.("button") === pointerFocus && pointerFocus) event.preventDefault();
    },
    true,
  );
}
