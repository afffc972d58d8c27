/**
 * Host network namespaces (`ip netns`) and veth pairs between them: the only networks rig
 * traffic travels on. Names start with "kof-" and are tracked (see cleanup.ts), so an
 * interrupted run leaves no namespace behind. Nothing here routes out of the host.
 */
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { sweepStale, track, undoLeftover } from "./cleanup.js";

export interface Link {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  /** With prefix length, e.g. "10.251.1.1/24". */
  addrA: string;
  addrB: string;
}

const untrackers = new Map<string, () => void>();

async function ip(args: string[]): Promise<string> {
  const result = await execa("ip", args, { reject: false, env: { LC_ALL: "C" } });
  if (result.exitCode !== 0)
    throw new Error(`ip ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`);
  return result.stdout;
}

/** Create a host netns with a unique name ("kof-<prefix>-<hex>") and loopback up. */
export async function createNetns(prefix: string): Promise<string> {
  sweepStale();
  const base = prefix.startsWith("kof-") ? prefix : `kof-${prefix}`;
  const name = `${base}-${randomBytes(3).toString("hex")}`;
  // Tracked before it exists: a kill between the two steps must not leak it.
  untrackers.set(
    name,
    track({ kind: "netns", name }, () => undoLeftover({ kind: "netns", name })),
  );
  await ip(["netns", "add", name]);
  await ip(["-n", name, "link", "set", "lo", "up"]);
  return name;
}

/** A veth pair between two namespaces, addressed and up. Goes away with either namespace. */
export async function linkNetns(a: string, b: string, addrA: string, addrB: string): Promise<Link> {
  const tag = randomBytes(3).toString("hex");
  // Interface names are at most 15 bytes.
  const ifA = `kv${tag}a`;
  const ifB = `kv${tag}b`;
  await ip(["link", "add", ifA, "netns", a, "type", "veth", "peer", "name", ifB, "netns", b]);
  await ip(["-n", a, "addr", "add", addrA, "dev", ifA]);
  await ip(["-n", b, "addr", "add", addrB, "dev", ifB]);
  await ip(["-n", a, "link", "set", ifA, "up"]);
  await ip(["-n", b, "link", "set", ifB, "up"]);
  return { nsA: a, nsB: b, ifA, ifB, addrA, addrB };
}

/** Delete a namespace made by createNetns (its veth ends go with it). Idempotent. */
export async function deleteNetns(name: string): Promise<void> {
  await execa("ip", ["netns", "delete", name], { reject: false });
  untrackers.get(name)?.();
  untrackers.delete(name);
}
