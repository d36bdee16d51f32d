// Export the network diagram for slides: SVG (the diagram's own <svg>, every element's
// computed style written inline so it looks the same outside the page) and PNG (that SVG
// drawn on a canvas at 2× and saved). Nothing is redrawn: it is the diagram as shown.

const SVG_NS = "http://www.w3.org/2000/svg";
/** The style properties an SVG diagram needs to look the same standalone. */
const PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray", "opacity",
  "font-family", "font-size", "font-weight", "font-style", "text-anchor", "dominant-baseline", "visibility", "display",
  "paint-order", "stroke-linejoin",
];

/** A standalone copy of `svg` as text: sized, with inline styles and a white background. */
export function serializeDiagram(svg) {
  const box = svg.getBoundingClientRect();
  const width = Math.max(1, Math.round(box.width));
  const height = Math.max(1, Math.round(box.height));
  const copy = svg.cloneNode(true);
  const from = [svg, ...svg.querySelectorAll("*")];
  const to = [copy, ...copy.querySelectorAll("*")];
  from.forEach((node, k) => {
    const style = getComputedStyle(node);
    const inline = PROPS.map((p) => `${p}:${style.getPropertyValue(p)}`).join(";");
    to[k].setAttribute("style", inline);
  });
  // Hidden parts (focus rings, tool-tips) stay out.
  for (const node of [...copy.querySelectorAll("*")]) if (node.getAttribute("style")?.includes("display:none")) node.remove();
  copy.setAttribute("xmlns", SVG_NS);
  copy.setAttribute("width", String(width));
  copy.setAttribute("height", String(height));
  if (!copy.getAttribute("viewBox")) copy.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const bg = document.createElementNS(SVG_NS, "rect");
  Object.entries({ x: 0, y: 0, width: "100%", height: "100%", fill: "#ffffff" }).forEach(([k, v]) => bg.setAttribute(k, String(v)));
  copy.insertBefore(bg, copy.firstChild);
  return { text: new XMLSerializer().serializeToString(copy), width, height };
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Save the diagram as `name.svg`. */
export function exportSvg(svg, name) {
  const { text } = serializeDiagram(svg);
  download(new Blob([text], { type: "image/svg+xml" }), `${name}.svg`);
}

/** Save the diagram as `name.png` (2× its size on screen). */
export async function exportPng(svg, name, scale = 2) {
  const { text, width, height } = serializeDiagram(svg);
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new Error("the diagram could not be drawn as an image"));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = width * scale;
    canvas.height = height * scale;
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    download(blob, `${name}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
