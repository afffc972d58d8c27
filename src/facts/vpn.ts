/**
 * VPN facts: the strongSwan swanctl configuration (parsed, with includes), the client and
 * CA certificates (public data), the private key files (location, mode and owner only —
 * their content never enters the facts), legacy ipsec.conf connections, and any other
 * tunnel technology present (WireGuard, OpenVPN, PPTP, L2TP).
 */
import type { Target } from "../targets/types.js";
import { describeCertificate } from "../pki/certificate.js";
import { installedSet } from "./installed.js";
import { contentLines, joinPath } from "./parsers/common.js";
import { gatherStrongswanPlugins } from "./strongswan-plugins.js";
import { parseSwanctlFile, swanctlConnections } from "./swanctl.js";
import type {
  CertificateInfo,
  FileMeta,
  GatherContext,
  PrivateKeyFile,
  VpnFacts,
} from "./types.js";

export function emptyVpnFacts(): VpnFacts {
  return {
    strongswanInstalled: false,
    strongswanPlugins: null,
    swanctl: { files: [], connections: [], parseErrors: [] },
    legacyIpsec: [],
    certificates: [],
    caCertificates: [],
    privateKeys: [],
    otherTunnels: [],
    csrs: [],
  };
}

async function fileMeta(target: Target, path: string): Promise<FileMeta | null> {
  const s = await target.stat(path);
  if (!s || s.type !== "file") return null;
  return { path, mode: s.mode, uid: s.uid, gid: s.gid };
}

async function filesIn(target: Target, dir: string): Promise<string[]> {
  return ((await target.readDir(dir)) ?? []).map((n) => joinPath(dir, n));
}

/** DER or PEM certificate file → PEM (swanctl accepts both). */
function toPem(data: Buffer): string | null {
  const text = data.toString("latin1");
  if (text.includes("-----BEGIN CERTIFICATE-----")) return text;
  if (data[0] === 0x30) {
    const b64 = data.toString("base64").replace(/(.{64})/g, "$1\n");
    return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  }
  return null;
}

async function certificates(target: Target, dir: string): Promise<CertificateInfo[]> {
  const out: CertificateInfo[] = [];
  for (const path of await filesIn(target, dir)) {
    const meta = await fileMeta(target, path);
    const data = meta ? await target.readFile(path) : null;
    if (!meta || !data) continue;
    const pem = toPem(data);
    if (pem !== null) out.push(describeCertificate(pem, path, meta));
  }
  return out;
}

/**
 * The key type is read from the PEM armour line only; the key material is not decoded,
 * held or copied anywhere.
 */
function keyKind(head: string): Pick<PrivateKeyFile, "keyType" | "encrypted"> {
  if (/BEGIN ENCRYPTED PRIVATE KEY/.test(head) || /Proc-Type: 4,ENCRYPTED/.test(head)) {
    return { encrypted: true };
  }
  if (/BEGIN RSA PRIVATE KEY/.test(head)) return { keyType: "rsa", encrypted: false };
  if (/BEGIN EC PRIVATE KEY/.test(head)) return { keyType: "ec", encrypted: false };
  if (/BEGIN PRIVATE KEY/.test(head)) return { keyType: "unknown", encrypted: false };
  return {};
}

async function privateKeys(target: Target): Promise<PrivateKeyFile[]> {
  const out: PrivateKeyFile[] = [];
  for (const dir of ["private", "ecdsa", "rsa", "pkcs8", "pkcs12"]) {
    for (const path of await filesIn(target, `/etc/swanctl/${dir}`)) {
      const meta = await fileMeta(target, path);
      if (!meta) continue;
      // Only the first line (the armour) is looked at; the buffer is dropped at once.
      const head = ((await target.readFile(path)) ?? Buffer.alloc(0))
        .subarray(0, 80)
        .toString("latin1");
      out.push({ path, file: meta, ...keyKind(head) });
    }
  }
  return out;
}

/** `conn NAME` blocks of /etc/ipsec.conf with their keyexchange (default "ike" = IKEv2 in 5.x). */
export function parseIpsecConf(text: string, path: string): VpnFacts["legacyIpsec"] {
  const out: VpnFacts["legacyIpsec"] = [];
  let current: { name: string; keyexchange: string; source: string } | null = null;
  for (const raw of text.split("\n").map((l, i) => ({ l, n: i + 1 }))) {
    const line = raw.l.replace(/#.*$/, "");
    if (line.trim() === "") continue;
    const conn = /^conn\s+(\S+)/.exec(line);
    if (conn) {
      current = { name: conn[1] as string, keyexchange: "ike", source: `${path}:${raw.n}` };
      if (current.name !== "%default") out.push(current);
      continue;
    }
    if (/^\S/.test(line)) {
      current = null; // "config setup" or "ca" section
      continue;
    }
    const kv = /^\s+keyexchange\s*=\s*(\S+)/.exec(line);
    if (kv && current) current.keyexchange = kv[1] as string;
  }
  return out;
}

async function otherTunnels(target: Target): Promise<VpnFacts["otherTunnels"]> {
  const out: VpnFacts["otherTunnels"] = [];
  for (const path of await filesIn(target, "/etc/wireguard")) {
    if (path.endsWith(".conf")) out.push({ type: "wireguard", source: path });
  }
  for (const dir of ["/etc/systemd/network"]) {
    for (const path of await filesIn(target, dir)) {
      if (!path.endsWith(".netdev")) continue;
      const text = (await target.readText(path)) ?? "";
      if (/^\s*Kind\s*=\s*wireguard\s*$/im.test(text))
        out.push({ type: "wireguard", source: path });
    }
  }
  for (const dir of ["/etc/openvpn", "/etc/openvpn/client", "/etc/openvpn/server"]) {
    for (const path of await filesIn(target, dir)) {
      if (/\.(conf|ovpn)$/.test(path)) out.push({ type: "openvpn", source: path });
    }
  }
  for (const path of await filesIn(target, "/etc/ppp/peers")) {
    const text = (await target.readText(path)) ?? "";
    if (/^\s*pty\s+.*pptp/m.test(text)) out.push({ type: "pptp", source: path });
  }
  if ((await target.stat("/etc/xl2tpd/xl2tpd.conf")) !== null) {
    out.push({ type: "l2tp", source: "/etc/xl2tpd/xl2tpd.conf" });
  }
  const nmDir = "/etc/NetworkManager/system-connections";
  for (const path of await filesIn(target, nmDir)) {
    const text = await target.readText(path);
    if (text === null) continue;
    let section = "";
    let type = "";
    let service = "";
    for (const { text: line } of contentLines(text, "#;")) {
      const header = /^\[(.+)\]$/.exec(line);
      if (header) section = header[1] as string;
      else if (section === "connection" && /^type=/.test(line)) type = line.slice(5).trim();
      else if (section === "vpn" && /^service-type=/.test(line)) service = line.slice(13).trim();
    }
    if (type === "wireguard") out.push({ type: "wireguard", source: path });
    else if (type === "vpn") {
      const kind = /openvpn/.test(service)
        ? "openvpn"
        : /pptp/.test(service)
          ? "pptp"
          : /l2tp/.test(service)
            ? "l2tp"
            : /vpnc|openconnect|libreswan|fortisslvpn/.test(service)
              ? "ikev1"
              : null;
      if (kind) out.push({ type: kind, source: path });
    }
  }
  return out;
}

/** Gather the vpn area. */
export async function gatherVpn(target: Target, _ctx: GatherContext): Promise<VpnFacts> {
  const facts = emptyVpnFacts();
  const installed = await installedSet(target);
  facts.strongswanInstalled = ["strongswan-swanctl", "charon-systemd", "strongswan"].some((p) =>
    installed.has(p),
  );
  facts.strongswanPlugins = await gatherStrongswanPlugins(target);

  const main = "/etc/swanctl/swanctl.conf";
  if ((await target.stat(main)) !== null) {
    const parse = await parseSwanctlFile(main, target);
    facts.swanctl = {
      files: parse.files,
      connections: swanctlConnections(parse),
      parseErrors: parse.errors,
    };
  } else if (((await target.readDir("/etc/swanctl/conf.d")) ?? []).length > 0) {
    // Without swanctl.conf nothing includes conf.d; read it anyway so its content is judged.
    const files: string[] = [];
    const connections = [];
    const parseErrors: string[] = [];
    for (const path of await filesIn(target, "/etc/swanctl/conf.d")) {
      if (!path.endsWith(".conf")) continue;
      const parse = await parseSwanctlFile(path, target);
      files.push(...parse.files);
      connections.push(...swanctlConnections(parse));
      parseErrors.push(...parse.errors);
    }
    facts.swanctl = { files, connections, parseErrors };
  }

  const ipsecConf = await target.readText("/etc/ipsec.conf");
  if (ipsecConf !== null) facts.legacyIpsec = parseIpsecConf(ipsecConf, "/etc/ipsec.conf");

  facts.certificates = await certificates(target, "/etc/swanctl/x509");
  facts.caCertificates = await certificates(target, "/etc/swanctl/x509ca");
  facts.privateKeys = await privateKeys(target);
  facts.otherTunnels = await otherTunnels(target);
  for (const conn of facts.legacyIpsec) {
    if (conn.keyexchange === "ikev1")
      facts.otherTunnels.push({ type: "ikev1", source: conn.source });
  }
  // Where `koffer cert request` and provisioning write a request (src/pki/lifecycle.ts).
  for (const path of await filesIn(target, "/etc/swanctl/x509req"))
    if (path.endsWith(".csr.pem")) facts.csrs.push(path);
  return facts;
}
