/**
 * The IPsec tunnel (VPN-01, 02, 05, 06, 07): swanctl.conf from templates/swanctl.conf with the
 * profile's TR-02102-3 proposals, the pinned gateway identity and CA, a full tunnel that is up
 * from boot; the municipality CA installed (and no other); strongswan.service enabled; and the
 * device certificate issued or requested when none valid is installed (VPN-03, VPN-04).
 */
import {
  baseName,
  normalizeFingerprint,
  sameDn,
  vpnClientCertificates,
} from "../../checks/util.js";
import { managedPath } from "../../facts/managed.js";
import { releaseOf } from "../../platform/releases.js";
import { platformProposals } from "../../profiles/proposals.js";
import { certPaths, credentialNameFor } from "../../pki/lifecycle.js";
import type { Change } from "../types.js";
import { enableUnit, fileChange, quoted, renderTemplate, type PlanContext } from "./common.js";

const resource = "strongswan";
const dayMs = 86_400_000;

/** A swanctl.conf value: bare when it is a plain token, quoted otherwise. */
function value(text: string): string {
  return /^[A-Za-z0-9._:/%@+-]+$/.test(text) ? text : quoted(text);
}
function values(list: string[]): string {
  return list.map(value).join(",");
}

/** The device's credential name: its hostname, as `koffer cert` names files. */
export function credentialName(ctx: PlanContext): string {
  return credentialNameFor(ctx.facts.host.hostname);
}

/** The CA file the connection pins: one already installed with the right fingerprint, else koffer's. */
function caFileName(ctx: PlanContext): string {
  const want = ctx.vpnCa?.sha256;
  const found =
    want === undefined
      ? undefined
      : ctx.facts.vpn.caCertificates.find(
          (c) => normalizeFingerprint(c.sha256Fingerprint) === normalizeFingerprint(want),
        );
  return baseName(found?.path ?? managedPath.vpnCa);
}

/** The profile's proposals as the laptop's strongSwan can load them (hybrid ones need 6.x). */
function proposals(ctx: PlanContext): { ike: string[]; esp: string[] } {
  const release = releaseOf(ctx.profile.spec.platform);
  return platformProposals(ctx.profile.spec.vpn, release.additionalKeyExchanges);
}

export function swanctlConf(ctx: PlanContext): string {
  const vpn = ctx.profile.spec.vpn;
  const written = proposals(ctx);
  const connection = ctx.profile.metadata.name.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  return renderTemplate("swanctl.conf", {
    title: (ctx.profile.metadata.title ?? ctx.profile.metadata.name).replace(/[\r\n]+/g, " "),
    connection: /^[a-z]/.test(connection) ? connection : `koffer-${connection}`,
    gateway: value(vpn.gateway ?? "%any"),
    ike: values(written.ike),
    esp: values(written.esp),
    certificate: value(`${credentialName(ctx)}.pem`),
    gatewayId: value(vpn.gatewayId ?? vpn.gateway ?? "%any"),
    caFile: value(caFileName(ctx)),
    remoteTs: values(vpn.remoteNetworks),
    // trap: the policies stand from boot, so nothing leaves before the tunnel is up.
    startAction: vpn.alwaysOn ? "trap" : "none",
    dpdAction: vpn.alwaysOn ? "restart" : "clear",
  });
}

function confSatisfied(ctx: PlanContext): boolean {
  const vpn = { ...ctx.profile.spec.vpn, proposals: proposals(ctx) };
  const connections = ctx.facts.vpn.swanctl.connections;
  if (connections.length === 0 || ctx.facts.vpn.swanctl.parseErrors.length > 0) return false;
  const same = (a: string[], b: string[]) => a.join(",") === b.join(",");
  return connections.every(
    (c) =>
      c.version === "2" &&
      same(c.proposals, vpn.proposals.ike) &&
      c.remote.length > 0 &&
      c.remote.every(
        (r) =>
          r.id !== null &&
          r.id !== "%any" &&
          (vpn.gatewayId === undefined || sameDn(r.id, vpn.gatewayId)) &&
          r.cacerts.length > 0,
      ) &&
      c.children.length > 0 &&
      c.children.every(
        (ch) =>
          same(ch.espProposals, vpn.proposals.esp) &&
          vpn.remoteNetworks.every((n) => ch.remoteTs.includes(n)) &&
          (!vpn.alwaysOn ||
            (ch.startAction !== null &&
              ["trap", "start", "trap|start", "start|trap"].includes(ch.startAction))),
      ),
  );
}

/** Install the municipality CA and remove any other CA the tunnel would trust (VPN-05). */
function planCa(ctx: PlanContext): Change[] {
  const ca = ctx.vpnCa;
  if (ca === undefined || ca === null) return [];
  const want = normalizeFingerprint(ca.sha256);
  const changes: Change[] = [];
  const cas = ctx.facts.vpn.caCertificates;
  if (!cas.some((c) => normalizeFingerprint(c.sha256Fingerprint) === want))
    changes.push(
      ...fileChange(ctx, {
        resource,
        path: managedPath.vpnCa,
        content: ca.pem.endsWith("\n") ? ca.pem : `${ca.pem}\n`,
        summary: "install the municipality VPN CA certificate",
        controls: ["VPN-05"],
        satisfied: false,
      }),
    );
  for (const c of cas)
    if (normalizeFingerprint(c.sha256Fingerprint) !== want)
      changes.push({
        kind: "remove-file",
        path: c.path,
        resource,
        controls: ["VPN-05"],
        summary: `remove foreign CA ${c.subject} from the tunnel's trust store`,
      });
  return changes;
}

/** A device certificate when none valid (and not due for renewal) is installed. */
function planCertificate(ctx: PlanContext): Change[] {
  const renewMs = ctx.profile.spec.vpn.certificate.renewBeforeDays * dayMs;
  const now = ctx.now.getTime();
  const certs = vpnClientCertificates(ctx.facts);
  const good = certs.some(
    (c) => new Date(c.notBefore).getTime() <= now && new Date(c.notAfter).getTime() - now > renewMs,
  );
  // A key others could read may have been copied: VPN-03's fix is a new key, not a chmod.
  const exposed = ctx.facts.vpn.privateKeys.filter(
    (k) => (k.file.mode & 0o077) !== 0 || k.file.uid !== 0,
  );
  if (good && exposed.length === 0) return [];
  const name = credentialName(ctx);
  if (ctx.canIssue === true)
    return [
      {
        kind: "vpn-certificate",
        action: "issue",
        name,
        resource,
        controls: ["VPN-03", "VPN-04"],
        summary:
          good && exposed.length > 0
            ? `new key and device certificate ${name}: ${exposed.map((k) => k.path).join(", ")} was readable by others`
            : `issue the device certificate ${name} with the municipality CA (key stays on the device)`,
      },
    ];
  // A pending request (this credential's, with its key still there) waits for the CA;
  // writing another would only replace it. The handler judges it the same way.
  const paths = certPaths("/", name);
  if (
    ctx.facts.vpn.csrs.includes(paths.csr) &&
    ctx.facts.vpn.privateKeys.some((k) => k.path === paths.key)
  )
    return [];
  return [
    {
      kind: "vpn-certificate",
      action: "request",
      name,
      resource,
      controls: ["VPN-03", "VPN-04"],
      summary: `write a certificate request for ${name}; VPN-03/04 fail until the certificate is installed`,
    },
  ];
}

/**
 * VPN-01's "remove other tunnels": the configuration file of each WireGuard, OpenVPN, PPTP,
 * L2TP or IKEv1 tunnel the facts found (backed up, so `koffer rollback` brings it back).
 */
function removeOtherTunnels(ctx: PlanContext): Change[] {
  const paths = new Set(ctx.facts.vpn.otherTunnels.map((t) => t.source.replace(/:\d+$/, "")));
  return [...paths].map((path) => ({
    kind: "remove-file" as const,
    resource,
    path,
    controls: ["VPN-01"],
    summary: `remove ${path}: a tunnel other than the profile's IKEv2 connection`,
  }));
}

export function planStrongswan(ctx: PlanContext): Change[] {
  const controls = ["VPN-01", "VPN-02", "VPN-05", "VPN-06", "VPN-07"];
  return [
    ...fileChange(ctx, {
      resource,
      path: managedPath.swanctl,
      content: swanctlConf(ctx),
      mode: 0o640,
      summary: `IKEv2 tunnel to ${ctx.profile.spec.vpn.gateway ?? "(no gateway)"}: ${ctx.profile.spec.vpn.remoteNetworks.join(", ")}`,
      controls,
      satisfied: confSatisfied(ctx),
    }),
    ...planCa(ctx),
    ...enableUnit(ctx, "strongswan.service", resource, ["VPN-06"], "charon-systemd"),
    ...planCertificate(ctx),
    ...removeOtherTunnels(ctx),
  ];
}
