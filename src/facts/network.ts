/**
 * Network: the nftables ruleset as configured in /etc/nftables.conf (parsed, includes
 * followed), live listeners (`ss`), effective sshd settings, resolver configuration, /etc/hosts,
 * NetworkManager connections and rfkill state.
 */
import type { Target } from "../targets/types.js";
import type { GatherContext, NetworkFacts } from "./types.js";
import { compareC, joinPath } from "./parsers/common.js";
import { liveValue } from "./parsers/live.js";
import {
  parseNmConnection,
  parseResolvConf,
  parseVpnPushedResolvers,
} from "./parsers/network-manager.js";
import { parseHosts } from "./parsers/hosts.js";
import { parseNftJson, readNftables } from "./parsers/nftables.js";
import { readSshdConfig } from "./parsers/sshd.js";
import { readSystemdConf } from "./parsers/systemd-ini.js";

export const nmConnectionDirs = [
  "/etc/NetworkManager/system-connections",
  "/run/NetworkManager/system-connections",
  "/usr/lib/NetworkManager/system-connections",
];

export function emptyNetworkFacts(): NetworkFacts {
  const notGathered = { available: false as const, reason: "not gathered" };
  return {
    nftables: { chains: [], source: "", parseErrors: [] },
    listeners: notGathered,
    sshd: {},
    sshdMatch: [],
    resolvConf: null,
    hosts: [],
    resolved: {},
    networkManager: [],
    rfkill: notGathered,
  };
}

type Listener = { proto: string; address: string; port: number; process: string | null };

/** Parse `ss -H -tulpn` output: `tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))`. */
export function parseSsListeners(stdout: string): Listener[] {
  const out: Listener[] = [];
  for (const line of stdout.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const local = f[4] as string;
    const colon = local.lastIndexOf(":");
    if (colon === -1) continue;
    const port = Number.parseInt(local.slice(colon + 1), 10);
    if (!Number.isInteger(port)) continue;
    const proc = /users:\(\("([^"]+)"/.exec(line);
    out.push({
      proto: f[0] as string,
      address: local.slice(0, colon).replace(/^\[|\]$/g, ""),
      port,
      process: proc ? (proc[1] as string) : null,
    });
  }
  return out;
}

async function networkManager(target: Target): Promise<NetworkFacts["networkManager"]> {
  const out: NetworkFacts["networkManager"] = [];
  const seen = new Set<string>();
  for (const dir of nmConnectionDirs) {
    for (const name of ((await target.readDir(dir)) ?? []).sort(compareC)) {
      // A keyfile in /etc hides one of the same name in /run and /usr/lib.
      if (!name.endsWith(".nmconnection") || seen.has(name)) continue;
      seen.add(name);
      const path = joinPath(dir, name);
      const text = await target.readText(path);
      const conn = text === null ? null : parseNmConnection(text, path);
      if (conn) out.push(conn);
    }
  }
  return out;
}

async function rfkill(target: Target): Promise<NetworkFacts["rfkill"]> {
  const base = "/sys/class/rfkill";
  return liveValue(target, base, async () => {
    const out: { type: string; soft: boolean; hard: boolean }[] = [];
    for (const dev of ((await target.readDir(base)) ?? []).sort(compareC)) {
      const read = async (f: string) =>
        (await target.readText(`${base}/${dev}/${f}`))?.trim() ?? "";
      out.push({
        type: await read("type"),
        soft: (await read("soft")) === "1",
        hard: (await read("hard")) === "1",
      });
    }
    return out;
  });
}

/** Gather the network area from a target. */
export async function gatherNetwork(target: Target, _ctx: GatherContext): Promise<NetworkFacts> {
  const nftPath = "/etc/nftables.conf";
  // On a running machine the kernel's ruleset is what filters; the file is only what loads at boot.
  if (target.live) {
    const source = "nft -j list ruleset";
    const r = await target.exec("nft", ["-j", "list", "ruleset"]).catch(() => null);
    if (r !== null && r.exitCode === 0) {
      const live = parseNftJson(r.stdout);
      return finish(target, { ...live, source });
    }
    // nft is there but cannot list (no CAP_NET_ADMIN, say): what filters is unknown. The file
    // is only what would load at boot; judging it would pass a machine with no firewall.
    if (r !== null) {
      const reason = (r.stderr.trim() || `exit ${r.exitCode}`).split("\n").pop() as string;
      return finish(target, { chains: [], parseErrors: [`${source} failed: ${reason}`], source });
    }
  }
  const nft =
    (await target.readText(nftPath)) === null
      ? { chains: [], parseErrors: [] }
      : await readNftables(target, nftPath);
  return finish(target, { ...nft, source: nftPath });
}

async function finish(target: Target, nftables: NetworkFacts["nftables"]): Promise<NetworkFacts> {
  const sshd = await readSshdConfig(target);
  const resolv = await target.readText("/etc/resolv.conf");
  const hosts = await target.readText("/etc/hosts");
  const listeners = await liveValue(target, "ss -H -tulpn", async () => {
    const r = await target.exec("ss", ["-H", "-tulpn"]);
    if (r.exitCode !== 0) return { unavailable: `ss failed: ${r.stderr.trim()}` };
    return parseSsListeners(r.stdout);
  });
  return {
    nftables,
    listeners,
    sshd: sshd?.settings ?? {},
    sshdMatch: sshd?.matchSettings ?? [],
    resolvConf:
      resolv === null
        ? null
        : {
            nameservers: parseResolvConf(resolv),
            source: "/etc/resolv.conf",
            vpnPushed: parseVpnPushedResolvers(resolv),
          },
    hosts: hosts === null ? [] : parseHosts(hosts, "/etc/hosts"),
    resolved: await readSystemdConf(target, "resolved", "Resolve"),
    networkManager: await networkManager(target),
    rfkill: await rfkill(target),
  };
}
