/**
 * DNS through the tunnel (VPN-07): the laptop keeps no static resolver that is reached outside
 * the tunnel. /etc/resolv.conf is left without servers; strongSwan's resolve plugin adds the
 * ones the gateway assigns (the connection requests them with `vips`) while the tunnel is up.
 */
import { tunnelResolver } from "../../checks/vpn-07.js";
import type { Change } from "../types.js";
import { fileChange, header, type PlanContext } from "./common.js";

export const resolvConfPath = "/etc/resolv.conf";
export const resolvConf = `${header()}# DNS servers are assigned by the VPN gateway: strongSwan's resolve plugin adds them here.
`;

export function planDns(ctx: PlanContext): Change[] {
  const conf = ctx.facts.network.resolvConf;
  const through = tunnelResolver(ctx.profile, ctx.facts);
  const outside = (conf?.nameservers ?? []).filter((n) => !through(n.split("#")[0] as string));
  return fileChange(ctx, {
    resource: "dns",
    path: resolvConfPath,
    content: resolvConf,
    summary: "resolv.conf: no resolver outside the tunnel; the gateway assigns DNS",
    controls: ["VPN-07"],
    satisfied: outside.length === 0,
  });
}
