/**
 * A systemd password agent for one child: answers the questions a systemd tool (here
 * systemd-cryptenroll) asks through the ask-password protocol, so a secret never has to be
 * put into the child's environment ($NEWPIN) or command line.
 *
 * The protocol (systemd's PASSWORD_AGENTS.md): a tool that has no terminal on stdin writes
 * `/run/systemd/ask-password/ask.*` (an ini file with `PID=`, `Socket=`, `Message=`) and waits
 * for the answer on the AF_UNIX datagram socket it names; `systemd-reply-password 1 SOCKET`
 * sends the password read from its stdin. Only root can write that directory. koffer answers
 * a question only when the asking process is the expected tool (`/proc/PID/comm`) and the
 * message is one it has an answer for; every question is answered at most once.
 *
 * The directory is read where the child runs: on the host for a local or image target (their
 * tools run here), through the target for ssh.
 */
import { readdir, readFile } from "node:fs/promises";
import type { Target } from "../../targets/types.js";

const DIR = "/run/systemd/ask-password";
const REPLY = "/usr/lib/systemd/systemd-reply-password";

export interface AskPasswordAgent {
  /** Stops watching; resolves when the last reply has been sent. */
  stop(): Promise<void>;
  /** Messages of the questions answered, in order (for logs and tests, never the answers). */
  readonly answered: readonly string[];
}

/**
 * Watches for questions of processes named `comm` (as /proc shows it, ≤ 15 characters) and
 * answers each with `answer(message)`; a question it has no answer for is left alone.
 */
export function startAskPasswordAgent(
  target: Target,
  comm: string,
  answer: (message: string) => string | undefined,
  intervalMs = 100,
): AskPasswordAgent {
  const remote = target.kind === "ssh";
  const list = async (): Promise<string[]> =>
    remote ? ((await target.readDir(DIR)) ?? []) : await readdir(DIR).catch(() => []);
  const read = async (path: string): Promise<string | null> =>
    remote
      ? ((await target.readFile(path, { maxBytes: 64 * 1024 }))?.toString("utf8") ?? null)
      : await readFile(path, "utf8").catch(() => null);
  const seen = new Set<string>();
  const answered: string[] = [];
  let stopped = false;

  const once = async () => {
    for (const name of await list()) {
      if (!/^ask\.[A-Za-z0-9]+$/.test(name) || seen.has(name)) continue;
      const text = await read(`${DIR}/${name}`);
      if (text === null) continue;
      const field = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1]?.trim();
      const pid = field("PID");
      const socket = field("Socket");
      const message = field("Message") ?? "";
      // Only a socket systemd made in this directory; only the expected tool.
      if (pid === undefined || !/^\d+$/.test(pid)) continue;
      if (socket === undefined || !new RegExp(`^${DIR}/sck\\.[0-9a-f]+$`).test(socket)) continue;
      const asker = (await read(`/proc/${pid}/comm`))?.trim();
      if (asker !== comm.slice(0, 15)) continue;
      seen.add(name);
      const secret = answer(message);
      if (secret === undefined) continue;
      const replied = await target.exec(REPLY, ["1", socket], { input: secret });
      if (replied.exitCode === 0) answered.push(message);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    answered,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
