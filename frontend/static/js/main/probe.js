// `window.bpviz`: what the page shows, for tests and the curious (read-only use): the last
// frame and topology, counters, the state, the charts' history, the gradient check.
import { getPath } from "../shared/state.js";

/** The probe over main.js's session record and views. */
export function pageProbe({ session, state, transport, network, charts, gradcheck }) {
  return {
    get frame() {
      return session.frame;
    },
    get topology() {
      return session.topology;
    },
    get frames() {
      return session.frames;
    },
    get topologies() {
      return session.topologies;
    },
    get animating() {
      return network.animator.callbacks !== null;
    },
    get playing() {
      return session.playing;
    },
    get lossPoints() {
      return charts.points;
    },
    get state() {
      return structuredClone(state);
    },
    get connected() {
      return transport.isOpen;
    },
    get history() {
      return charts.history;
    },
    get gradcheck() {
      return gradcheck.result;
    },
    get scaling() {
      return gradcheck.points;
    },
    getPath,
  };
}
