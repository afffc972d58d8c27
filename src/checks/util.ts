/**
 * Pure helpers shared by the controls. Nothing here touches a machine (STYLE.md §2).
 */
import type { Evidence, Localized } from "../report/types.js";
import type {
  Facts,
  FirstBootEnrolFacts,
  FstabEntry,
  LuksVolume,
  PackageFact,
  Setting,
  UnitState,
  NftChain,
  UsbRuleFact,
} from "../facts/types.js";
import type { Attestation, Profile } from "../profiles/types.js";
import type { Finding } from "./types.js";

type Data = Record<string, string | number>;

/** Build a finding; `data` and `evidence` are optional. */
export function finding(
  status: Finding["status"],
  messageId: string,
  data: Data = {},
  evidence: Evidence[] = [],
): Finding {
  return { status, messageId, data, evidence };
}

export const pass = (messageId: string, data: Data = {}, evidence: Evidence[] = []): Finding =>
  finding("pass", messageId, data, evidence);
export const fail = (messageId: string, data: Data = {}, evidence: Evidence[] = []): Finding =>
  finding("fail", messageId, data, evidence);
export const pending = (messageId: string, data: Data = {}, evidence: Evidence[] = []): Finding =>
  finding("pending", messageId, data, evidence);
export const skip = (messageId: string, data: Data = {}, evidence: Evidence[] = []): Finding =>
  finding("skip", messageId, data, evidence);
export const notApplicable = (messageId: string, data: Data = {}): Finding =>
  finding("not-applicable", messageId, data);
export const errorFinding = (
  messageId: string,
  data: Data = {},
  evidence: Evidence[] = [],
): Finding => finding("error", messageId, data, evidence);

/** One piece of evidence: what was looked at, what was expected, what was found, where. */
export function ev(subject: string, expected: string, actual: string, source?: string): Evidence {
  return source === undefined
    ? { subject, expected, actual }
    : { subject, expected, actual, source };
}

/** A package counts as installed only with dpkg status `ii` (STYLE: apps facts). */
export function installed(facts: Facts, name: string): boolean {
  return facts.apps.packages.some((p) => p.name === name && p.status === "ii");
}

/**
 * A package whose files are (or may be) on the system: any dpkg state but not-installed and
 * config-files — so also held (`hi`), removal-pending (`ri`), unpacked or half-configured
 * ones. For software that must be absent; `installed` is for software that must work.
 */
export function presentPackage(facts: Facts, name: string): PackageFact | undefined {
  return facts.apps.packages.find(
    (p) => p.name === name && p.status.length >= 2 && !"nc".includes(p.status[1] as string),
  );
}

/** The unit-file state as gathered, `not-found` when the gatherer did not see the unit. */
export function unitState(facts: Facts, unit: string): UnitState {
  return facts.services.unitFiles[unit] ?? "not-found";
}

/** States in which a unit starts at boot without anyone asking. */
const startsAtBoot: ReadonlySet<UnitState> = new Set([
  "enabled",
  "enabled-runtime",
  "linked",
  "alias",
  "generated",
]);

/** True when a unit will run at boot (for units that must be on: `static` counts as well). */
export function unitOn(state: UnitState, options: { staticCounts?: boolean } = {}): boolean {
  return startsAtBoot.has(state) || (options.staticCounts === true && state === "static");
}

export function isMasked(state: UnitState): boolean {
  return state === "masked" || state === "masked-runtime";
}

/** Case-insensitive lookup of a key in a `key → Setting` record. */
export function setting(record: Record<string, Setting>, key: string): Setting | undefined {
  if (record[key] !== undefined) return record[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(record)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The value of a setting, or `fallback` (a human-readable "not set" by default). */
export function settingValue(
  record: Record<string, Setting>,
  key: string,
  fallback = "(not set)",
): string {
  return setting(record, key)?.value ?? fallback;
}

/** Boolean-ish values as systemd, CUPS and friends accept them. */
export function truthy(value: string | undefined): boolean {
  return value !== undefined && ["1", "yes", "true", "on"].includes(value.trim().toLowerCase());
}
export function falsy(value: string | undefined): boolean {
  return value !== undefined && ["0", "no", "false", "off"].includes(value.trim().toLowerCase());
}

/** A mount point as systemd-fstab-generator compares it (path_simplify: "/tmp/" and "//tmp" are /tmp). */
export function mountPath(path: string): string {
  return path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

/**
 * The fstab entry mounted at `target`: the FIRST line for it. systemd-fstab-generator
 * creates each mount unit with O_EXCL, so a later line for the same mount point fails
 * ("Duplicate entry in '/etc/fstab'?") and is never mounted.
 */
export function fstabMount(facts: Facts, target: string): FstabEntry | undefined {
  return facts.disk.fstab.find((e) => mountPath(e.file) === mountPath(target));
}

/**
 * Is the flag `on` (e.g. `noexec`) set after libmount applies `options` left to right? Its
 * opposite `off` (`exec`) later in the list clears it; `defaults` changes no flag.
 */
export function mountFlag(options: readonly string[], on: string, off: string): boolean {
  let set = false;
  for (const o of options) {
    if (o === on) set = true;
    else if (o === off) set = false;
  }
  return set;
}

/** systemd's unit name for a mount point (`systemd-escape --path --suffix=mount`). */
export function mountUnit(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  // The root directory is "-" (systemd-escape --path /).
  const escaped =
    trimmed === ""
      ? "-"
      : trimmed
          .split(/\/+/)
          .map((part) =>
            [...part]
              .map((c, i) =>
                /[A-Za-z0-9:_]/.test(c) || (c === "." && i > 0)
                  ? c
                  : [...Buffer.from(c)]
                      .map((b) => `\\x${b.toString(16).padStart(2, "0")}`)
                      .join(""),
              )
              .join(""),
          )
          .join("-");
  return `${escaped}.mount`;
}

/**
 * The fstab entry systemd mounts at `target`: fstab-generator turns the line into a unit in
 * /run/systemd/generator, which a mask in /etc/systemd/system or /run/systemd/system
 * outranks — then the line has no effect and the path stays on its parent file system.
 */
export function effectiveFstabMount(
  facts: Facts,
  target: string,
): { entry: FstabEntry | undefined; masked: boolean; unit: string } {
  const unit = mountUnit(target);
  return { entry: fstabMount(facts, target), masked: isMasked(unitState(facts, unit)), unit };
}

/**
 * Does an fstab spec name a device-mapper device that a crypttab entry opens? Offline, LVM on
 * LUKS (`/dev/mapper/vg-root`, `/dev/vg/root`) cannot be resolved; it is taken as encrypted
 * only when crypttab opens a persistent volume that could hold the PV — not when its only
 * entries are swap or tmp mappings, whose random keys are gone at every boot.
 */
export function onCryptMapping(spec: string, facts: Facts): boolean {
  const names = facts.disk.crypttab.map((c) => c.name);
  const persistent = facts.disk.crypttab.some(
    (c) => !c.options.includes("swap") && !c.options.includes("tmp"),
  );
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(spec);
  if (mapper !== null) {
    const name = mapper[1] as string;
    return names.includes(name) || (persistent && name.includes("-"));
  }
  return persistent && /^\/dev\/[^/]+\/[^/]+$/.test(spec) && !spec.startsWith("/dev/disk/");
}

/** A human label for a LUKS volume in messages. */
export function volumeLabel(volume: LuksVolume): string {
  return volume.crypttabName !== null ? `${volume.crypttabName} (${volume.device})` : volume.device;
}

/** Messages every disk check that reads LUKS headers shares. */
export const volumeMessages = {
  noVolumes: {
    de: "Kein LUKS-Header liegt vor; mit --disk angeben.",
    en: "No LUKS header is available; pass it with --disk.",
  },
  noEncryption: {
    de: "Erwartet ein verschlüsseltes Systemvolume, gefunden keines in /etc/crypttab (siehe DISK-01).",
    en: "Expected an encrypted system volume, found none in /etc/crypttab (see DISK-01).",
  },
  unreadable: {
    de: "Der LUKS-Header von {{volume}} ist nicht lesbar oder beschädigt: {{error}}.",
    en: "The LUKS header of {{volume}} cannot be read or is damaged: {{error}}.",
  },
} as const satisfies Record<string, Localized>;

/** A volume whose header could not be read; every disk check reports it as `error`. */
export function unreadable(volume: LuksVolume): boolean {
  return volume.error !== undefined || volume.version === null;
}

/** Finding for an unreadable volume (message id `unreadable` must exist in the control's meta). */
export function unreadableFinding(volume: LuksVolume): Finding {
  return errorFinding(
    "unreadable",
    { volume: volumeLabel(volume), error: volume.error ?? "unknown LUKS version" },
    [
      ev(
        `LUKS volume ${volume.device}`,
        "a readable LUKS header",
        volume.error ?? "unknown version",
        volume.source,
      ),
    ],
  );
}

/** The profile's attestation for a control, if present and signed (by, date, statement). */
export function attestationFor(profile: Profile, id: string): Attestation | undefined {
  return profile.spec.attestations.find(
    (a) =>
      a.control === id && a.by.trim() !== "" && a.date.trim() !== "" && a.statement.trim() !== "",
  );
}

/** Evaluate an `attest` control: pass with the attestation, or fail naming what is missing. */
export function attestFindings(profile: Profile, id: string): Finding[] {
  const attestation = attestationFor(profile, id);
  if (attestation === undefined)
    return [
      fail("notAttested", {}, [
        ev("profile spec.attestations", `an attestation of ${id} by a named person`, "none"),
      ]),
    ];
  return [
    pass("attested", { by: attestation.by, date: attestation.date }, [
      ev(
        "profile spec.attestations",
        `an attestation of ${id}`,
        `${attestation.by}, ${attestation.date}: ${attestation.statement}`,
      ),
    ]),
  ];
}

/** The two messages every attest control carries. */
export const attestMessages = {
  notAttested: {
    de: "Erwartet eine Bestätigung durch eine namentlich benannte Person, gefunden keine.",
    en: "Expected an attestation by a named person, found none.",
  },
  attested: {
    de: "Bestätigt durch {{by}} am {{date}}.",
    en: "Attested by {{by}} on {{date}}.",
  },
};

/** Join a list for a message, or a placeholder when empty. */
export function list(values: readonly string[], empty = "none"): string {
  return values.length === 0 ? empty : values.join(", ");
}

/** Lower-case hex without separators, for comparing fingerprints written either way. */
export function normalizeFingerprint(value: string): string {
  return value.replace(/[^0-9a-fA-F]/g, "").toLowerCase();
}

/** Compare distinguished names loosely: case and spacing around separators ignored. */
export function sameDn(a: string, b: string): boolean {
  const norm = (dn: string) =>
    dn
      .split(/\s*[,/]\s*/)
      .filter((part) => part !== "")
      .map((part) => part.replace(/\s*=\s*/, "=").toLowerCase())
      .sort()
      .join(",");
  return norm(a) === norm(b);
}

/** The VPN client certificates: those the connections name, else every non-CA certificate. */
export function vpnClientCertificates(facts: Facts): Facts["vpn"]["certificates"] {
  const named = new Set(
    facts.vpn.swanctl.connections.flatMap((c) => c.local.flatMap((l) => l.certs)).map(baseName),
  );
  const certs = facts.vpn.certificates.filter((c) => !c.isCa);
  if (named.size === 0) return certs;
  const matched = certs.filter((c) => named.has(baseName(c.path)));
  return matched.length > 0 ? matched : certs;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The "no IKEv2 connection" finding shared by the VPN controls (message id `noConnection`). */
export const noConnectionMessage = {
  de: "Erwartet eine IKEv2-Verbindung in swanctl.conf, gefunden keine.",
  en: "Expected an IKEv2 connection in swanctl.conf, found none.",
};

/**
 * The finding of a LUKS-header check that got no header. When the target's own crypttab
 * configures no encrypted volume there is nothing the header could show: the requirement is
 * not met (fail, ARCHITECTURE.md: what the target's files decide is judged). When a volume is
 * configured but its header was not given (`--disk`), it cannot be judged here (skip).
 */
export function noVolumesFinding(facts: Facts): Finding {
  const configured = facts.disk.crypttab.some(
    (e) => !e.options.includes("swap") && !e.options.includes("tmp"),
  );
  return configured
    ? skip("noVolumes")
    : fail("noEncryption", {}, [
        ev("/etc/crypttab", "an encrypted system volume (LUKS2)", "no entries", "/etc/crypttab"),
      ]);
}

/**
 * An nftables rule that accepts everything (a verdict with no match before it): in a chain
 * with policy drop it makes the policy moot.
 */
export function acceptsEverything(rule: string): boolean {
  return /^(counter\s+)?accept$/.test(rule.trim());
}

/** Where a kernel command line comes from, with the assignments that built it (grub's shell). */
export function cmdlineSource(cmdline: Facts["boot"]["kernelCmdline"]): string {
  if (cmdline === null) return "/etc/default/grub (missing)";
  const chain = cmdline.chain ?? [];
  if (chain.length === 0) return cmdline.source;
  return chain
    .map((c) => `${c.file}:${c.line ?? "?"} ${JSON.stringify(c.value ?? "")}`)
    .join(" → ");
}

/** Does an interface pattern (`08:*:*`, `*:*:*`) match every interface of a class (`08`)? */
function patternCoversClass(pattern: string, cls: string): boolean {
  const c = pattern.toLowerCase().split(":")[0];
  return c === "*" || c === cls;
}

/**
 * Could a USBGuard rule match a device nobody vouches for (any id, no known hash or serial)
 * that exposes interfaces of all the classes in `classes` (and maybe others)? Rules naming
 * concrete ids, a serial or a descriptor hash are about one allowlisted device (USB-01).
 * Set operators as usbguard-rules.conf(5) defines them.
 */
export function admitsUnknownDevice(rule: UsbRuleFact, classes: readonly string[]): boolean {
  if (rule.hasHash || rule.hasSerial) return false;
  if (rule.ids.length > 0 && rule.ids.every((id) => !id.includes("*"))) return false;
  const wi = rule.withInterface;
  if (wi === null) return true;
  const values = wi.values;
  const someValueFor = (cls: string) => values.some((v) => patternCoversClass(v, cls));
  const partial = (cls: string) => values.some((v) => v.toLowerCase().startsWith(`${cls}:`));
  switch (wi.operator) {
    case "one-of":
    case "all-of":
      // The device may carry the listed interfaces besides the ones asked about.
      return values.length > 0;
    case "none-of":
      return !classes.some((cls) => someValueFor(cls) || partial(cls));
    default:
      // equals, equals-ordered, match-all: every interface of the device must be listed.
      return classes.every((cls) => someValueFor(cls) || partial(cls));
  }
}

/** Does a block/reject rule stop every unknown device exposing all of `classes`? */
export function stopsUnknownDevices(rule: UsbRuleFact, classes: readonly string[]): boolean {
  if (rule.target !== "block" && rule.target !== "reject") return false;
  if (rule.hasHash || rule.hasSerial) return false;
  if (rule.ids.some((id) => id !== "*:*")) return false;
  const wi = rule.withInterface;
  if (wi === null) return true;
  if (wi.operator === "one-of")
    return classes.some((cls) => wi.values.some((v) => patternCoversClass(v, cls)));
  if (wi.operator === "all-of")
    return wi.values.every((v) =>
      classes.some((cls) => v.toLowerCase().startsWith(`${cls}:`) || patternCoversClass(v, cls)),
    );
  return false;
}

/**
 * The rule that decides for an unknown device with interfaces of `classes` (USBGuard: the
 * first matching rule wins): the first generic allow before any rule that stops all such
 * devices, or undefined when they are stopped (by a rule or the implicit policy).
 */
export function firstAdmittingRule(
  rules: readonly UsbRuleFact[],
  classes: readonly string[],
): UsbRuleFact | undefined {
  for (const rule of rules) {
    if (stopsUnknownDevices(rule, classes)) return undefined;
    if (rule.target === "allow" && admitsUnknownDevice(rule, classes)) return rule;
  }
  return undefined;
}

/** A rule without counters and comments, for classifying it. */
function bareRule(rule: string): string {
  return rule
    .replace(/\bcounter(\s+packets\s+\d+\s+bytes\s+\d+)?/g, "")
    .replace(/\bcomment\s+"[^"]*"/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The values of `key` in a rule (`ct state established,related`, `icmpv6 type { a, b }`). */
function matchValues(rule: string, key: string): string[] | null {
  const re = new RegExp(`\\b${key.replace(/ /g, "\\s+")}\\s+(\\{[^}]*\\}|\\S+)`);
  const m = re.exec(rule);
  if (m === null) return null;
  return (m[1] as string)
    .replace(/[{}]/g, "")
    .split(/[\s,]+/)
    .filter((v) => v !== "");
}

const neighbourDiscovery = new Set([
  "nd-neighbor-solicit",
  "nd-neighbor-advert",
  "nd-router-advert",
  "nd-router-solicit",
  "133",
  "134",
  "135",
  "136",
]);

/**
 * The inbound accepts NET-01 allows (CONTROLS.md): replies (ct state established/related),
 * loopback, IPv6 neighbour discovery — and, where the profile allows SSH (NET-03), SSH
 * arriving through the IPsec tunnel. Anything else accepted inbound breaks "default deny".
 */
export function allowedInboundAccept(rule: string, options: { ssh: boolean }): boolean {
  const r = bareRule(rule);
  if (!/\baccept$/.test(r)) return true; // not an accept (drop, reject, jump are judged elsewhere)
  const states = matchValues(r, "ct state");
  if (states !== null && states.every((s) => s === "established" || s === "related")) return true;
  if (/^(iif|iifname|meta iif|meta iifname) "?lo"? accept$/.test(r)) return true;
  const icmp = matchValues(r, "icmpv6 type");
  if (icmp !== null && icmp.every((t) => neighbourDiscovery.has(t))) return true;
  if (
    options.ssh &&
    /\b(meta|rt) ipsec exists\b/.test(r) &&
    /^(meta ipsec exists |rt ipsec exists )?tcp dport 22 (meta ipsec exists )?accept$/.test(r)
  )
    return true;
  return false;
}

/** The rules of a chain and of the chains it jumps to or goes to (same table), in order. */
export function reachableRules(
  chain: NftChain,
  chains: readonly NftChain[],
): { rule: string; chain: string; site?: string }[] {
  const out: { rule: string; chain: string; site?: string }[] = [];
  const seen = new Set<string>();
  const walk = (c: NftChain) => {
    const id = `${c.family} ${c.table} ${c.name}`;
    if (seen.has(id)) return;
    seen.add(id);
    for (const [i, rule] of c.rules.entries()) {
      const site = c.sites?.[i];
      out.push(site === undefined || site === "" ? { rule, chain: id } : { rule, chain: id, site });
      const m = /\b(jump|goto) (\S+)$/.exec(bareRule(rule));
      const next =
        m === null
          ? undefined
          : chains.find((x) => x.family === c.family && x.table === c.table && x.name === m[2]);
      if (next !== undefined) walk(next);
    }
  };
  walk(chain);
  return out;
}

/** The destination ports a rule's `dport` selects, or null when it selects by no port. */
function dports(rule: string): string[] | null {
  const m = /\bdport\s+(\{[^}]*\}|\S+)/.exec(rule);
  if (m === null) return null;
  return (m[1] as string)
    .replace(/[{}]/g, "")
    .split(/[\s,]+/)
    .filter((v) => v !== "");
}

/**
 * Does an accept let IKE or NAT-T (UDP 500, 4500) or ESP leave? Rules bound to the IPsec
 * policy (`rt ipsec exists`) carry tunnelled traffic, not the tunnel's own packets.
 */
export function carriesIke(rule: string): boolean {
  const r = bareRule(rule);
  if (!/\baccept$/.test(r) || /\b(meta|rt) ipsec exists\b/.test(r)) return false;
  const protos = matchValues(r, "(?:meta l4proto|ip protocol|ip6 nexthdr)") ?? [];
  if (protos.some((p) => p === "esp" || p === "50")) return true;
  const ports = dports(r);
  return (
    ports !== null &&
    /\budp\b/.test(r) &&
    ports.some((p) => ["500", "4500", "isakmp", "ipsec-nat-t"].includes(p))
  );
}

/**
 * Is a rule limited to destinations among `addresses` (`ip daddr X`, `ip6 daddr { X, Y }`)?
 * A negation, a prefix or a named set is no such limit: it may reach other hosts.
 */
export function pinnedTo(rule: string, addresses: readonly string[]): boolean {
  const r = bareRule(rule);
  let limited = false;
  for (const key of ["ip", "ip6"]) {
    const m = new RegExp(`\\b${key} daddr (!= )?(\\{[^}]*\\}|\\S+)`).exec(r);
    if (m === null) continue;
    if (m[1] !== undefined) return false;
    const values = (m[2] as string)
      .replace(/[{}]/g, "")
      .split(/[\s,]+/)
      .filter((v) => v !== "");
    if (!values.every((v) => addresses.some((a) => !v.includes("/") && inCidr(v, a)))) return false;
    limited = true;
  }
  return limited;
}

/** Ports of DNS: 53 (plain), 853 (DNS over TLS / QUIC). */
function includesDnsPort(ports: readonly string[]): boolean {
  return ports.some((p) => {
    if (p === "domain" || p === "53" || p === "853" || p === "domain-s") return true;
    const range = /^(\d+)-(\d+)$/.exec(p);
    return range !== null && Number(range[1]) <= 53 && Number(range[2]) >= 53;
  });
}

/**
 * Does an output accept let a DNS query leave outside the tunnel? Accepts bound to IPsec
 * (`meta ipsec exists`, `rt ipsec exists`), to loopback, to replies (ct state
 * established/related), or to protocols and ports other than DNS do not; an accept that
 * selects DNS ports or selects no protocol at all (any address, whatever its restriction
 * by address) does.
 */
export function leaksDns(rule: string): boolean {
  const r = bareRule(rule);
  if (!/\baccept$/.test(r)) return false;
  if (/\b(meta|rt) ipsec exists\b/.test(r)) return false;
  if (/^(oif|oifname|meta oif|meta oifname) "?lo"? accept$/.test(r)) return false;
  const states = matchValues(r, "ct state");
  if (states !== null && states.every((s) => s === "established" || s === "related")) return false;
  const ports = dports(r);
  if (ports !== null) return includesDnsPort(ports);
  // No port: only a protocol that is not UDP/TCP keeps DNS out (esp, icmp, icmpv6 …).
  if (/\b(meta l4proto|ip protocol|ip6 nexthdr)\s+(\{[^}]*\}|\S+)/.test(r)) {
    const protos = matchValues(r, "(?:meta l4proto|ip protocol|ip6 nexthdr)") ?? [];
    return protos.some((p) => ["udp", "tcp", "17", "6"].includes(p));
  }
  if (/\b(icmp|icmpv6) type\b/.test(r)) return false;
  return true;
}

/** An IPv4 or IPv6 address as a bigint and its width in bits, or null. */
function ipBits(address: string): { value: bigint; bits: 32 | 128 } | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4 !== null) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { value: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (!address.includes(":")) return null;
  const [head, tail] = address.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  return { value: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

/** Is `address` inside `cidr` (`10.0.0.0/8`, `fd00::/8`, a bare address = /32 or /128)? */
export function inCidr(address: string, cidr: string): boolean {
  const [net, len] = cidr.split("/") as [string, string | undefined];
  const a = ipBits(address.replace(/^\[|\]$/g, ""));
  const n = ipBits(net);
  if (a === null || n === null || a.bits !== n.bits) return false;
  const prefix = len === undefined ? a.bits : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > a.bits) return false;
  const shift = BigInt(a.bits - prefix);
  return a.value >> shift === n.value >> shift;
}

/** A traffic selector or network that is the whole address space (a full tunnel). */
export function isDefaultRoute(cidr: string): boolean {
  return /^(0\.0\.0\.0|::)\/0$/.test(cidr.trim());
}

/**
 * The outbound accepts a kill switch may hold (VPN-06, the template's own list): loopback,
 * replies, IKE/NAT-T (500, 4500), ESP, DHCP (67, 547), IPv6 neighbour discovery, and what
 * the IPsec policy protects, and where the profile allows SSH the packets of SSH sessions
 * (`tcp sport 22 tcp dport 1024-65535`: new ones come in only through the tunnel; one open
 * when the firewall started, the technician's, keeps its replies). Anything else leaves
 * outside the tunnel.
 */
export function allowedOutboundAccept(rule: string, sshAllowed = false): boolean {
  const r = bareRule(rule);
  if (!/\baccept$/.test(r)) return true;
  if (sshAllowed && /^tcp sport (22|ssh) tcp dport 1024-65535 accept$/.test(r)) return true;
  if (/\b(meta|rt) ipsec exists\b/.test(r)) return true;
  if (/^(oif|oifname|meta oif|meta oifname) "?lo"? accept$/.test(r)) return true;
  const states = matchValues(r, "ct state");
  if (states !== null && states.every((s) => s === "established" || s === "related")) return true;
  const icmp = matchValues(r, "icmpv6 type");
  if (icmp !== null && icmp.every((t) => neighbourDiscovery.has(t))) return true;
  if (/^((ip|ip6) daddr \S+ )?(meta l4proto|ip protocol|ip6 nexthdr) esp accept$/.test(r))
    return true;
  const ports = dports(r);
  if (ports !== null && /\budp\b/.test(r) && !/\btcp\b/.test(r))
    return ports.every((p) => ["500", "4500", "67", "547"].includes(p));
  return false;
}

export const enrolUnit = "koffer-tpm2-enrol.service";

/**
 * The first-boot TPM2+PIN enrolment (koffer-tpm2-enrol, installed by provisioning an image
 * without a reachable TPM) as it stands for one volume: `absent` (nothing for this volume),
 * `failed` (the script's own note), `incomplete` (a part missing: script, enabled unit, the
 * volume in its config with the profile's PCRs, or a marker without a token) or `pending`
 * (everything in place: the next boot enrols, proves the token and wipes the technician's
 * passphrase slot). DISK-04 and DISK-05 judge a volume with no TPM2 token by it.
 */
type FirstBootEnrolVolume = FirstBootEnrolFacts["volumes"][number];

export type FirstBootEnrolment =
  | { kind: "absent" }
  | { kind: "failed"; failure: { text: string; source?: string } }
  | { kind: "incomplete"; missing: string[]; entry: FirstBootEnrolVolume | undefined }
  | {
      kind: "pending";
      entry: FirstBootEnrolVolume;
      unitState: UnitState;
      unit: string | null;
    };

export function firstBootEnrolment(
  facts: Facts,
  volume: LuksVolume,
  label: string,
  wantPcrs: number[],
): FirstBootEnrolment {
  const fb = facts.disk.firstBootEnrol;
  const entry = fb?.volumes.find(
    (v) =>
      (volume.uuid !== null && v.device === `/dev/disk/by-uuid/${volume.uuid}`) ||
      (volume.crypttabName !== null && v.name === volume.crypttabName),
  );
  if (fb === null || fb === undefined || (entry === undefined && fb.script === null))
    return { kind: "absent" };
  if (fb.failure !== null) return { kind: "failed", failure: fb.failure };
  const state = unitState(facts, enrolUnit);
  const missing = [
    ...(fb.script === null ? ["no /usr/lib/koffer/tpm2-enrol"] : []),
    ...(unitOn(state) ? [] : [`${enrolUnit} ${state}`]),
    ...(entry === undefined ? [`${label} not in /etc/koffer/tpm2-enrol.conf`] : []),
    ...(entry !== undefined && !wantPcrs.every((p) => entry.pcrs.includes(p))
      ? [`PCR ${entry.pcrs.join("+")} instead of ${wantPcrs.join("+")}`]
      : []),
    ...(fb.done !== null ? [`marker ${fb.done} without a token`] : []),
  ];
  if (missing.length > 0 || entry === undefined) return { kind: "incomplete", missing, entry };
  return { kind: "pending", entry, unitState: state, unit: fb.unit };
}
