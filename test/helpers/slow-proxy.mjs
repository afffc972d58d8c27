/* global process, setTimeout, performance */
// A slow link for ssh's ProxyCommand (this kernel has no sch_netem): relays stdin/stdout to
// HOST:PORT with a one-way delay (ms) and a rate limit (bytes/s) in each direction.
//   ProxyCommand node slow-proxy.mjs %h %p DELAY_MS BYTES_PER_SECOND [COUNT_FILE]
// COUNT_FILE receives the number of bytes relayed, so a test can tell the link was used.
//
// Each direction is a FIFO: a chunk leaves the "wire" when the previous one has (rate), and
// is delivered DELAY_MS later, strictly in order. (One timer per chunk is not enough: timers
// start from libuv's cached loop time, so two chunks close together can swap, and ssh
// rightly drops a connection whose bytes arrive out of order.) The reader is paused while
// more than a bandwidth-delay product is queued or the writer pushes back, and an end of
// input is passed on (half-close) only after everything before it was delivered.
import { renameSync, writeFileSync } from "node:fs";
import { connect } from "node:net";

const [host, port, delayArg, rateArg, countFile] = process.argv.slice(2);
const delay = Number(delayArg);
const rate = Number(rateArg);
/** Pause reading when this much is in flight (at least 64 KiB). */
const window = Math.max(64 * 1024, Math.ceil((rate * 2 * delay) / 1000));
let relayed = 0;
const socket = connect(Number(port), host);
socket.setNoDelay(true);

function relay(from, to, onDone) {
  /** @type {{ chunk: Buffer | null, due: number }[]} */
  const queue = [];
  let queued = 0;
  let wireFreeAt = 0;
  let timer = null;
  let blocked = false;

  const pump = () => {
    timer = null;
    while (queue.length > 0 && !blocked) {
      const head = queue[0];
      const wait = head.due - performance.now();
      if (wait > 0) {
        timer = setTimeout(pump, Math.max(1, Math.ceil(wait)));
        return;
      }
      queue.shift();
      if (head.chunk === null) {
        to.end();
        onDone();
        return;
      }
      queued -= head.chunk.length;
      if (!to.write(head.chunk)) {
        blocked = true;
        to.once("drain", () => {
          blocked = false;
          pump();
        });
      }
      if (queued < window && from.isPaused()) from.resume();
    }
  };
  const schedule = () => {
    if (timer === null && !blocked) pump();
  };

  from.on("data", (chunk) => {
    const now = performance.now();
    relayed += chunk.length;
    // Written as it goes: ssh ends a ProxyCommand with a signal, not a clean exit. Renamed
    // into place, so a reader never sees the file truncated between two writes.
    if (countFile) {
      writeFileSync(`${countFile}.tmp`, `${relayed}\n`);
      renameSync(`${countFile}.tmp`, countFile);
    }
    wireFreeAt = Math.max(now, wireFreeAt) + (chunk.length / rate) * 1000;
    queue.push({ chunk, due: wireFreeAt + delay });
    queued += chunk.length;
    if (queued >= window) from.pause();
    schedule();
  });
  from.on("end", () => {
    queue.push({ chunk: null, due: Math.max(performance.now(), wireFreeAt) + delay });
    schedule();
  });
}

// ssh's end of stdin: half-close towards the server. The server's end: once delivered, exit,
// which closes our stdout (stdout to a pipe is written synchronously on Linux, nothing lost).
relay(process.stdin, socket, () => undefined);
relay(socket, process.stdout, () => process.exit(0));
socket.on("error", () => process.exit(1));
process.stdout.on("error", () => process.exit(0));
