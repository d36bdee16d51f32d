// The page's own keys, beside Playback's (space, →, Shift+→, r): P for presentation mode,
// ? for the list of keys (a dialog, also behind the header's "?" button), and Space for
// Play after a click on a button (shared/space-key.js, as in the lab). A button reached with
// Tab keeps Space, as everywhere on the web; Esc lets go of it (the keys dialog says so).
import { initSpaceForPlay, keepsKeys } from "../shared/space-key.js";

/** `togglePresent()`: presentation mode on or off; `exitPresent()`: off (Esc). */
export function initKeys({ togglePresent, exitPresent }) {
  const dialog = document.querySelector("#keys-dialog");
  const opener = document.querySelector("#keys-open");
  const openKeys = () => {
    if (!dialog.open) dialog.showModal();
  };
  opener.addEventListener("click", openKeys);
  initSpaceForPlay(() => document.querySelector("#play")?.click());

  document.addEventListener(
    "keydown",
    (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (keepsKeys(event.target)) return;
      if ((event.key === "p" || event.key === "P") && !event.shiftKey) {
        event.preventDefault();
        togglePresent();
      } else if (event.key === "?") {
        event.preventDefault();
        openKeys();
      } else if (event.key === "Escape" && !event.target.closest?.("#network")) {
        exitPresent(); // like a slideshow (in the diagram, Esc unselects; the drawer closes first)
      }
    },
    true,
  );
}
