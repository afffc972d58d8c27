/**
 * Semantic rules: what the schema cannot say. Each rule has an id and a message in the
 * one grammar ("Expected …, found …"). The rules read the merged document defensively
 * (a value of the wrong type was already reported by the schema) so that every problem
 * of a profile comes out in one run.
 */
import { isIP } from "node:net";
import { isControlId } from "./control-ids.js";
import { isPlainObject } from "./merge.js";
import {
  cidrProblem,
  isDistinguishedName,
  isGatewayId,
  isHost,
  isHostname,
  isLogTarget,
} from "./net.js";
import { findRelease } from "../platform/releases.js";
import { checkProposal, keyExchangeForm, usesAdditionalKe } from "./proposals.js";
import { describe, type Finding } from "./schema.js";
import type { PathSegment } from "./source.js";

/** Longest screen-lock delay accepted (CON.7.A5 practice: 15 minutes). */
export const maxScreenLockSeconds = 900;

type Doc = Record<string, unknown>;

function get(doc: unknown, path: PathSegment[]): unknown {
  let v = doc;
  for (const s of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[s as string];
  }
  return v;
}

function strings(v: unknown): [string, number][] {
  return Array.isArray(v)
    ? v.flatMap((s, i) => (typeof s === "string" ? [[s, i] as [string, number]] : []))
    : [];
}

/** A date `YYYY-MM-DD` that exists in the calendar, as the UTC midnight starting it. */
export function parseDate(text: string): Date | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(text);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === text ? date : undefined;
}

/** True when a waiver expiring on `expires` (inclusive, UTC) no longer holds at `now`. */
export function isExpired(expires: string, now: Date): boolean {
  const date = parseDate(expires);
  return date !== undefined && now.getTime() >= date.getTime() + 86_400_000;
}

/** Run every semantic rule over the merged document. */
export function semanticFindings(doc: Doc, now: Date): Finding[] {
  const findings: Finding[] = [];
  const add = (
    rule: string,
    path: PathSegment[],
    message: string,
    severity: Finding["severity"] = "error",
  ) => findings.push({ rule, path, message, severity });

  // Waivers first: a valid VPN-02 waiver turns proposal findings into warnings.
  const waived = new Map<string, string>();
  const waivers = get(doc, ["waivers"]);
  if (Array.isArray(waivers)) {
    waivers.forEach((w, i) => {
      if (!isPlainObject(w)) return;
      const control = w.control;
      if (
        typeof control === "string" &&
        /^[A-Z]+-[0-9]{2}$/.test(control) &&
        !isControlId(control)
      ) {
        add(
          "waiver/unknown-control",
          ["waivers", i, "control"],
          `Expected a control id of the catalogue, found "${control}"`,
        );
      }
      if (
        typeof w.author === "string" &&
        typeof w.approvedBy === "string" &&
        same(w.author, w.approvedBy)
      ) {
        add(
          "waiver/self-approved",
          ["waivers", i, "approvedBy"],
          `Expected a waiver approved by someone other than its author, found "${w.approvedBy}" as both`,
        );
      }
      if (typeof w.expires === "string" && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(w.expires)) {
        if (!parseDate(w.expires)) {
          add(
            "waiver/date",
            ["waivers", i, "expires"],
            `Expected a calendar date, found "${w.expires}"`,
          );
        } else if (isExpired(w.expires, now)) {
          add(
            "waiver/expired",
            ["waivers", i, "expires"],
            `Expected a waiver that has not expired, found ${describe(control)} expired on ${w.expires} (the control counts as failing)`,
            "warning",
          );
        } else if (typeof control === "string") {
          waived.set(control, w.expires);
        }
      }
    });
  }

  const attestations = get(doc, ["spec", "attestations"]);
  if (Array.isArray(attestations)) {
    attestations.forEach((a, i) => {
      if (!isPlainObject(a)) return;
      if (
        typeof a.control === "string" &&
        /^[A-Z]+-[0-9]{2}$/.test(a.control) &&
        !isControlId(a.control)
      ) {
        add(
          "attestation/unknown-control",
          ["spec", "attestations", i, "control"],
          `Expected a control id of the catalogue, found "${a.control}"`,
        );
      }
      if (typeof a.date === "string" && /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(a.date)) {
        const date = parseDate(a.date);
        if (!date)
          add(
            "attestation/date",
            ["spec", "attestations", i, "date"],
            `Expected a calendar date, found "${a.date}"`,
          );
        else if (date.getTime() > now.getTime()) {
          add(
            "attestation/date",
            ["spec", "attestations", i, "date"],
            `Expected an attestation dated today or earlier, found ${a.date}`,
          );
        }
      }
    });
  }

  // VPN: proposals, addresses, identities.
  for (const kind of ["ike", "esp"] as const) {
    for (const [proposal, i] of strings(get(doc, ["spec", "vpn", "proposals", kind]))) {
      if (!/^[a-z0-9_-]+$/.test(proposal)) continue;
      for (const issue of checkProposal(proposal, kind)) {
        const until = waived.get("VPN-02");
        if (until && issue.rule.startsWith("tr02102/")) {
          add(
            issue.rule,
            ["spec", "vpn", "proposals", kind, i],
            `${issue.message} (waived for VPN-02 until ${until})`,
            "warning",
          );
        } else add(issue.rule, ["spec", "vpn", "proposals", kind, i], issue.message);
      }
    }
  }
  postQuantumFindings(doc, add);
  for (const [network, i] of strings(get(doc, ["spec", "vpn", "remoteNetworks"]))) {
    const problem = cidrProblem(network);
    if (problem)
      add(
        "net/cidr",
        ["spec", "vpn", "remoteNetworks", i],
        `Expected a network in CIDR notation (10.0.0.0/8, ::/0), found "${network}" with ${problem}`,
      );
  }
  const gateway = get(doc, ["spec", "vpn", "gateway"]);
  if (typeof gateway === "string" && gateway !== "" && !isHost(gateway)) {
    add(
      "net/hostname",
      ["spec", "vpn", "gateway"],
      `Expected a host name (RFC 1123) or IP address, found "${gateway}"`,
    );
  }
  const gatewayId = get(doc, ["spec", "vpn", "gatewayId"]);
  if (typeof gatewayId === "string" && gatewayId !== "" && !isGatewayId(gatewayId)) {
    add(
      "vpn/gateway-id",
      ["spec", "vpn", "gatewayId"],
      `Expected a distinguished name (CN=…, O=…) or an FQDN, found "${gatewayId}"`,
    );
  }
  const subject = get(doc, ["spec", "vpn", "certificate", "subject"]);
  if (
    typeof subject === "string" &&
    subject !== "" &&
    !(isDistinguishedName(subject) && /(^|,)\s*CN\s*=/i.test(subject))
  ) {
    add(
      "vpn/subject",
      ["spec", "vpn", "certificate", "subject"],
      `Expected a distinguished name with a CN, found "${subject}"`,
    );
  }
  const validity = get(doc, ["spec", "vpn", "certificate", "validityDays"]);
  const renew = get(doc, ["spec", "vpn", "certificate", "renewBeforeDays"]);
  if (typeof validity === "number" && typeof renew === "number" && renew >= validity) {
    add(
      "vpn/renew-window",
      ["spec", "vpn", "certificate", "renewBeforeDays"],
      `Expected renewBeforeDays below validityDays (${validity}), found ${renew}`,
    );
  }

  // Logging and time sources.
  const forwardTo = get(doc, ["spec", "logging", "forwardTo"]);
  if (typeof forwardTo === "string" && forwardTo !== "" && !isLogTarget(forwardTo)) {
    add(
      "net/hostname",
      ["spec", "logging", "forwardTo"],
      `Expected a host, host:port or https URL, found "${forwardTo}"`,
    );
  }
  for (const [server, i] of strings(get(doc, ["spec", "logging", "ntpServers"]))) {
    if (server !== "" && !isHost(server))
      add(
        "net/hostname",
        ["spec", "logging", "ntpServers", i],
        `Expected a host name (RFC 1123) or IP address, found "${server}"`,
      );
  }
  for (const [ssid, i] of strings(get(doc, ["spec", "network", "uplinks", "wlans"]))) {
    if (Buffer.byteLength(ssid) > 32)
      add(
        "network/ssid",
        ["spec", "network", "uplinks", "wlans", i],
        `Expected an SSID of at most 32 bytes, found ${Buffer.byteLength(ssid)} bytes`,
      );
  }
  for (const [apn, i] of strings(get(doc, ["spec", "network", "uplinks", "apn"]))) {
    if (!isHostname(apn))
      add(
        "network/apn",
        ["spec", "network", "uplinks", "apn", i],
        `Expected an APN of letters, digits, hyphens and dots, found "${apn}"`,
      );
  }

  // Accounts.
  const lock = get(doc, ["spec", "accounts", "screenLockSeconds"]);
  if (typeof lock === "number" && lock > maxScreenLockSeconds) {
    add(
      "accounts/screen-lock",
      ["spec", "accounts", "screenLockSeconds"],
      `Expected a screen lock after at most ${maxScreenLockSeconds} seconds, found ${lock}`,
    );
  }
  const admins = new Set(strings(get(doc, ["spec", "accounts", "admins"])).map(([a]) => a));
  for (const [user, i] of strings(get(doc, ["spec", "accounts", "users"]))) {
    if (admins.has(user))
      add(
        "contradiction/admin-user",
        ["spec", "accounts", "users", i],
        `Expected separate admin and user accounts, found "${user}" in both`,
      );
  }

  // Disk.
  const unlock = get(doc, ["spec", "disk", "unlock"]);
  const pcrs = get(doc, ["spec", "disk", "tpm2Pcrs"]);
  if (unlock === "tpm2+pin" && Array.isArray(pcrs) && !pcrs.includes(7)) {
    add(
      "contradiction/tpm2-pcr7",
      ["spec", "disk", "tpm2Pcrs"],
      `Expected tpm2Pcrs to contain 7 (Secure Boot state) with unlock tpm2+pin, found [${pcrs.join(", ")}]`,
    );
  }

  // Apps and devices against the deny list.
  const deny = new Set(strings(get(doc, ["spec", "apps", "deny"])).map(([p]) => p));
  for (const [app, i] of strings(get(doc, ["spec", "apps", "allow"]))) {
    if (deny.has(app))
      add(
        "contradiction/app-allow-deny",
        ["spec", "apps", "allow", i],
        `Expected a package that is not denied, found "${app}" in both apps.allow and apps.deny`,
      );
  }
  if (get(doc, ["spec", "network", "ssh"]) === true && deny.has("openssh-server")) {
    add(
      "contradiction/ssh-denied",
      ["spec", "network", "ssh"],
      `Expected ssh: false while openssh-server is in apps.deny, found ssh: true`,
    );
  }
  const listen = get(doc, ["spec", "network", "sshListenAddress"]);
  if (get(doc, ["spec", "network", "ssh"]) === true && listen === undefined) {
    add(
      "contradiction/ssh-listen",
      ["spec", "network", "ssh"],
      `Expected spec.network.sshListenAddress (the laptop's tunnel address sshd listens on) with ssh: true, found none`,
    );
  }
  if (typeof listen === "string" && isIP(listen) === 0) {
    add(
      "network/ssh-listen-address",
      ["spec", "network", "sshListenAddress"],
      `Expected an IPv4 or IPv6 address, found "${listen}"`,
    );
  }
  const browser = get(doc, ["spec", "data", "browser", "name"]);
  if (typeof browser === "string" && deny.has(browser)) {
    add(
      "contradiction/browser-denied",
      ["spec", "data", "browser", "name"],
      `Expected a browser that is not denied, found "${browser}" in apps.deny`,
    );
  }
  const devices = get(doc, ["spec", "devices", "allow"]);
  const blockMassStorage = get(doc, ["spec", "devices", "blockMassStorage"]) === true;
  const usbOwners = new Map<string, string>();
  if (Array.isArray(devices)) {
    devices.forEach((device, d) => {
      if (!isPlainObject(device)) return;
      const name = typeof device.name === "string" ? device.name : `device ${d + 1}`;
      for (const [pkg, i] of strings(device.packages)) {
        if (deny.has(pkg))
          add(
            "contradiction/device-package-denied",
            ["spec", "devices", "allow", d, "packages", i],
            `Expected device packages that are not denied, found "${pkg}" in apps.deny`,
          );
      }
      const ids =
        typeof device.usb === "string"
          ? [[device.usb, -1] as [string, number]]
          : strings(device.usb);
      for (const [id, i] of ids) {
        const key = id.toLowerCase();
        const owner = usbOwners.get(key);
        const path: PathSegment[] =
          i === -1
            ? ["spec", "devices", "allow", d, "usb"]
            : ["spec", "devices", "allow", d, "usb", i];
        if (owner !== undefined) {
          const where = owner === name ? `twice on "${name}"` : `on "${owner}" and "${name}"`;
          add("devices/duplicate-usb", path, `Expected each USB id once, found ${key} ${where}`);
        } else usbOwners.set(key, name);
      }
      if (blockMassStorage) {
        for (const [iface, i] of strings(device.interfaces)) {
          if (/^(08|\*):/.test(iface.toLowerCase())) {
            add(
              "contradiction/mass-storage",
              ["spec", "devices", "allow", d, "interfaces", i],
              `Expected no mass-storage interface (class 08) with blockMassStorage: true, found "${iface}"`,
            );
          }
        }
      }
    });
  }
  return findings;
}

/** Two people are the same when their names or addresses match ignoring case and spacing. */
function same(a: string, b: string): boolean {
  const norm = (s: string) => s.trim().toLowerCase().replace(/\s+/g, " ");
  return norm(a) === norm(b);
}

/**
 * Hybrid post-quantum key exchange (TR-02102-1: classical key agreement alone only until the
 * end of 2031; ML-KEM only in hybrid): what `spec.vpn.postQuantum` demands of the proposals,
 * and what the platform's strongSwan can do (src/platform/releases.ts).
 */
function postQuantumFindings(
  doc: Doc,
  add: (rule: string, path: PathSegment[], message: string, severity?: Finding["severity"]) => void,
): void {
  const platform = get(doc, ["spec", "platform"]);
  const release = typeof platform === "string" ? findRelease(platform) : undefined;
  const pq = get(doc, ["spec", "vpn", "postQuantum"]);
  const proposals = (kind: "ike" | "esp") =>
    strings(get(doc, ["spec", "vpn", "proposals", kind])).filter(([p]) => /^[a-z0-9_-]+$/.test(p));
  const example = "aes256gcm16-prfsha384-ecp384-ke1_mlkem768";
  if (
    release !== undefined &&
    release.additionalKeyExchanges &&
    !release.mlkem.packaged &&
    (pq === "required" || pq === "preferred")
  )
    add(
      "platform/post-quantum-provider",
      ["spec", "vpn", "postQuantum"],
      `Expected an ML-KEM implementation in ${release.name}'s strongSwan for postQuantum: ${pq}, found none packaged: ${release.mlkem.note}; install an ML-KEM-capable strongSwan (the ml plugin, or 6.0.2+ with OpenSSL 3.5) on laptop and gateway, or the tunnel ${pq === "required" ? "will not come up" : "stays classical"}`,
      "warning",
    );
  if (release !== undefined && !release.additionalKeyExchanges) {
    const cannot = `${release.name} ships strongSwan ${release.strongswanVersion}, which cannot negotiate ML-KEM (that needs debian-13, strongSwan 6)`;
    if (pq === "required")
      add(
        "platform/post-quantum",
        ["spec", "vpn", "postQuantum"],
        `Expected a platform that can do hybrid key exchange for postQuantum: required, found ${release.platform}: ${cannot}`,
      );
    else if (pq === "preferred")
      add(
        "platform/post-quantum",
        ["spec", "vpn", "postQuantum"],
        `Expected a platform that can do hybrid key exchange for postQuantum: preferred, found ${release.platform}: ${cannot}; koffer writes only the classical proposals and the tunnel stays classical`,
        "warning",
      );
    for (const kind of ["ike", "esp"] as const) {
      const list = proposals(kind);
      for (const [proposal, i] of list)
        if (usesAdditionalKe(proposal) && pq !== "preferred")
          add(
            "platform/additional-ke",
            ["spec", "vpn", "proposals", kind, i],
            `Expected proposals without additional key exchanges on ${release.platform}, found "${proposal}": ${cannot}`,
          );
      if (pq === "preferred" && list.length > 0 && list.every(([p]) => usesAdditionalKe(p)))
        add(
          "platform/post-quantum",
          ["spec", "vpn", "proposals", kind],
          `Expected a classical ${kind.toUpperCase()} proposal to fall back to on ${release.platform}, found only hybrid ones`,
        );
    }
  }
  if (pq === "required") {
    for (const kind of ["ike", "esp"] as const)
      for (const [proposal, i] of proposals(kind))
        if (!keyExchangeForm(proposal).hybrid)
          add(
            "vpn/pq-hybrid-required",
            ["spec", "vpn", "proposals", kind, i],
            `Expected a hybrid proposal for postQuantum: required (a classical group plus a mandatory keN_mlkem…, e.g. ${kind === "ike" ? example : "aes256gcm16-ecp384-ke1_mlkem768"}), found "${proposal}"`,
          );
  } else if (pq === "preferred") {
    const first = proposals("ike")[0];
    if (first !== undefined && !keyExchangeForm(first[0]).hybrid)
      add(
        "vpn/pq-hybrid-preferred",
        ["spec", "vpn", "proposals", "ike", first[1]],
        `Expected the first IKE proposal to be hybrid for postQuantum: preferred (e.g. ${example}), found "${first[0]}"`,
      );
  }
}
