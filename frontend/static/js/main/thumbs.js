// One thumbnail per hidden neuron: what each neuron computes over the input space (a 2-D
// map or a 1-D curve), from the `grid` message.
import { t } from "../shared/i18n.js";
import { neuronPictures } from "./neuron-maps.js";

export class NeuronThumbs {
  constructor(thumbs) {
    this.thumbs = thumbs;
    this.grid = null;
    this.thumbViews = [];
  }

  /** A new network: no thumbnails until its first grid. */
  clear() {
    this.grid = null;
    this.thumbs.replaceChildren();
    this.thumbViews = [];
  }

  update(grid) {
    this.grid = grid;
    this.drawThumbs();
  }

  /**
   * One picture per hidden neuron (neuron-maps.js: drawn on a scratch canvas once per grid,
   * the same pictures as the diagram's), shown as an <img>: a <canvas> in the page is a
   * compositor layer of its own, and four dozen layers would cost every frame of the page.
   * Out of view, they wait until shown.
   */
  drawThumbs() {
    const g = this.grid;
    if (!g?.neurons) return;
    if (!this.thumbWatch && typeof IntersectionObserver !== "undefined") {
      this.thumbWatch = new IntersectionObserver(([entry]) => {
        this.thumbsVisible = entry.isIntersecting;
        if (this.thumbsVisible && this.thumbsStale) this.drawThumbs();
      });
      this.thumbWatch.observe(this.thumbs);
    }
    const flat = g.neurons.flatMap((layer, l) => layer.map((_, j) => ({ l: l + 1, j })));
    if (this.thumbViews.length !== flat.length) {
      this.thumbs.replaceChildren();
      this.thumbViews = flat.map(({ l, j }) => {
        const figure = document.createElement("figure");
        figure.className = "thumb";
        const picture = document.createElement("img");
        picture.alt = t("output.thumb_aria", { l, j: j + 1 });
        const cap = document.createElement("figcaption");
        cap.textContent = `${l}·${j + 1}`;
        figure.append(picture, cap);
        this.thumbs.appendChild(figure);
        return picture;
      });
    }
    if (this.thumbsVisible === false) {
      this.thumbsStale = true;
      return;
    }
    this.thumbsStale = false;
    const pictures = neuronPictures(g).flat();
    flat.forEach((_, k) => {
      if (pictures[k]) this.thumbViews[k].src = pictures[k];
    });
  }
}

