/**
 * `koffer init`: a municipal profile from templates/profile.yaml. Each `__KEY__` marker
 * takes a value; a line whose value is not known is kept commented out, so the result
 * always validates and shows what is still to fill in.
 */
import { readFile } from "node:fs/promises";
import { findKnownDevice, type KnownDevice } from "./devices.js";

export const profileTemplateUrl = new URL("../../templates/profile.yaml", import.meta.url);

export interface ScaffoldInput {
  name: string;
  controller: string;
  title?: string;
  processor?: string;
  dataProtectionOfficer?: string;
  gateway?: string;
  /** Paths relative to the profile's directory. */
  caCertificate?: string;
  escrowCertificate?: string;
  /** Keys of {@link knownDevices}. */
  devices?: string[];
  admin?: string;
  user?: string;
  /** `$schema` reference for editors, relative to the profile's directory. */
  schema: string;
}

/** Render the profile text. Throws a plain Error naming an unknown device key. */
export async function scaffoldProfile(input: ScaffoldInput): Promise<string> {
  const template = await readFile(profileTemplateUrl, "utf8");
  const devices = (input.devices ?? []).map((id) => {
    const device = findKnownDevice(id);
    if (!device) throw new Error(`unknown device "${id}"`);
    return device;
  });
  const dn = (s: string) => s.replace(/([,+"\\<>;=])/g, "\\$1");
  const values: Record<string, string | undefined> = {
    SCHEMA: input.schema,
    NAME: input.name,
    TITLE: input.title ?? `Mobiler Bürgerkoffer – ${input.controller}`,
    CONTROLLER: input.controller,
    PROCESSOR: input.processor,
    DPO: input.dataProtectionOfficer ?? `Datenschutzbeauftragte(r) ${input.controller}`,
    ESCROW: input.escrowCertificate,
    GATEWAY: input.gateway,
    GATEWAY_ID: input.gateway && `CN=${dn(input.gateway)}, O=${dn(input.controller)}, C=DE`,
    CA: input.caCertificate,
    SUBJECT: `CN={hostname}, OU=Buergerkoffer, O=${dn(input.controller)}, C=DE`,
    ADMIN: input.admin ?? "it-admin",
    USER: input.user ?? "buergerbuero",
  };
  const out: string[] = [];
  for (const line of template.split("\n")) {
    if (line.includes("__DEVICES__")) {
      out.push(...deviceLines(line, devices));
      continue;
    }
    let missing = false;
    const filled = line.replace(/__([A-Z_]+)__/g, (_m, key: string) => {
      const value = values[key];
      if (value === undefined || value === "") {
        missing = true;
        return `<${key.toLowerCase().replace(/_/g, "-")}>`;
      }
      // The schema marker sits in a comment; everything else is a YAML value.
      return key === "SCHEMA" || key === "ADMIN" || key === "USER" ? value : JSON.stringify(value);
    });
    out.push(missing ? filled.replace(/^(\s*)/, "$1# ") : filled);
  }
  return out.join("\n");
}

function deviceLines(line: string, devices: KnownDevice[]): string[] {
  if (devices.length === 0) return [line.replace("__DEVICES__", "[]")];
  const indent = /^\s*/.exec(line)![0] + "  ";
  const lines = [line.replace(/\s*__DEVICES__/, "")];
  for (const d of devices) {
    lines.push(`${indent}- name: ${JSON.stringify(d.name)}`);
    lines.push(`${indent}  role: ${d.role}`);
    lines.push(`${indent}  usb: [${d.usb.map((u) => JSON.stringify(u)).join(", ")}]`);
    if (d.packages) lines.push(`${indent}  packages: [${d.packages.join(", ")}]`);
    if (d.services) lines.push(`${indent}  services: [${d.services.join(", ")}]`);
  }
  return lines;
}
