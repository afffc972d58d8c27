/**
 * NetworkManager keyfiles (`*.nmconnection`) and resolv.conf.
 */
import { parseIni } from "./systemd-ini.js";
import { contentLines } from "./common.js";

export interface NmConnection {
  id: string;
  type: string;
  autoconnect: boolean;
  ssid?: string;
  apn?: string;
  vpnService?: string;
  source: string;
}

/** Parse a NetworkManager keyfile (nm-settings-keyfile(5)). Missing `autoconnect` means true. */
export function parseNmConnection(text: string, path: string): NmConnection | null {
  const get = (section: string, key: string) => {
    let value: string | undefined;
    for (const e of parseIni(text)) if (e.section === section && e.key === key) value = e.value;
    return value;
  };
  const id = get("connection", "id");
  const type = get("connection", "type");
  if (type === undefined) return null;
  const conn: NmConnection = {
    id: id ?? path.slice(path.lastIndexOf("/") + 1).replace(/\.nmconnection$/, ""),
    // Keyfiles may use the alias "wifi" or the full "802-11-wireless".
    type: type === "802-11-wireless" ? "wifi" : type === "802-3-ethernet" ? "ethernet" : type,
    autoconnect: !/^(false|no|0)$/i.test(get("connection", "autoconnect") ?? "true"),
    source: path,
  };
  const ssid = get("wifi", "ssid") ?? get("802-11-wireless", "ssid");
  if (ssid !== undefined) conn.ssid = ssid;
  const apn = get("gsm", "apn");
  if (apn !== undefined) conn.apn = apn;
  const vpn = get("vpn", "service-type");
  if (vpn !== undefined) conn.vpnService = vpn;
  return conn;
}

/** Nameservers of resolv.conf(5), in order. */
export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const { text: line } of contentLines(text, "#;")) {
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (m) out.push(m[1] as string);
  }
  return out;
}

/** Nameservers strongSwan's resolve plugin added (`nameserver X   # by strongSwan`). */
export function parseVpnPushedResolvers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*nameserver\s+(\S+).*#\s*by strongSwan/i.exec(line);
    if (m) out.push(m[1] as string);
  }
  return out;
}
