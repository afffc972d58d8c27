/* global process, setTimeout */
// A slow link for ssh's ProxyCommand: relays stdin/stdout to HOST:PORT with a one-way delay
// (ms) and a rate limit (bytes/s) in each direction, keeping byte order.
//   ProxyCommand node slow-proxy.mjs %h %p DELAY_MS BYTES_PER_SECOND [COUNT_FILE]
// COUNT_FILE receives the number of bytes relayed, so a test can tell the link was used.
import { writeFileSync } from "node:fs";
import { connect } from "node:net";

const [host, port, delay, rate, countFile] = process.argv.slice(2);
let relayed = 0;
const socket = connect(Number(port), host);

function relay(from, to) {
  let busyUntil = 0;
  let last = 0;
  from.on("data", (chunk) => {
    const now = Date.now();
    relayed += chunk.length;
    // Written as it goes: ssh ends a ProxyCommand with a signal, not a clean exit.
    if (countFile) writeFileSync(countFile, `${relayed}\n`);
    busyUntil = Math.max(now, busyUntil) + (chunk.length / Number(rate)) * 1000;
    last = busyUntil + Number(delay);
    setTimeout(() => to.write(chunk), last - now);
  });
  from.on("end", () => setTimeout(() => to.end(), Math.max(0, last - Date.now())));
}
relay(process.stdin, socket);
relay(socket, process.stdout);
socket.on("error", () => process.exit(1));
socket.on("close", () => setTimeout(() => process.exit(0), Number(delay) + 10));
