import type { Command } from "commander";
import { ExitCode, UsageError } from "../errors.js";
import { action, type CliContext } from "./context.js";

interface InitOptions {
  name?: string;
  title?: string;
  controller?: string;
  processor?: string;
  dpo?: string;
  gateway?: string;
  caCertificate?: string;
  escrowCertificate?: string;
  device: string[];
  admin?: string;
  user?: string;
  out?: string;
  force?: boolean;
  listDevices?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command, context: CliContext): void {
  program
    .command("init")
    .description("scaffold a municipality profile from templates")
    .option("--name <name>", "short name, e.g. meerane (lower-case, digits, hyphens)")
    .option("--title <title>", "title (default: Mobiler Bürgerkoffer – CONTROLLER)")
    .option("--controller <controller>", "Verantwortliche Stelle, e.g. Stadt Meerane")
    .option("--processor <processor>", "IT service provider (Auftragsverarbeiter)")
    .option("--dpo <name>", "data-protection officer")
    .option("--gateway <host>", "VPN gateway host name")
    .option("--ca-certificate <path>", "VPN CA certificate, relative to the profile")
    .option(
      "--escrow-certificate <path>",
      "recovery-key escrow certificate, relative to the profile",
    )
    .option("--device <key>", "a known device (repeatable; see --list-devices)", collect, [])
    .option("--admin <account>", "admin account (default it-admin)")
    .option("--user <account>", "user account (default buergerbuero)")
    .option("--out <file>", "where to write (default NAME.yaml)")
    .option("--force", "overwrite an existing file")
    .option("--list-devices", "list the known devices and exit")
    .action(
      action(context, async (options: InitOptions) => {
        const { knownDevices, findKnownDevice } = await import("../profiles/devices.js");
        const { stdout, stderr } = context.io;
        if (options.listDevices) {
          for (const d of knownDevices)
            stdout.write(
              `${d.id.padEnd(26)}${d.role.padEnd(21)}${d.usb.join(",").padEnd(22)}${d.name}\n`,
            );
          return ExitCode.ok;
        }
        const stdin = context.io.stdin as NodeJS.ReadStream;
        if (stdin.isTTY && (!options.name || !options.controller)) await ask(options, context);

        const problems: string[] = [];
        if (!options.controller)
          problems.push("Expected --controller (the Verantwortliche Stelle), found none");
        if (!options.name) problems.push("Expected --name, found none");
        else if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(options.name)) {
          problems.push(
            `Expected --name of lower-case letters, digits and inner hyphens, found "${options.name}"`,
          );
        }
        for (const [flag, account] of [
          ["--admin", options.admin],
          ["--user", options.user],
        ] as const) {
          if (account !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(account)) {
            problems.push(`Expected ${flag} as a local account name, found "${account}"`);
          }
        }
        const { isHost } = await import("../profiles/net.js");
        // Checked before anything is written: a profile is never written with a bad gateway.
        if (options.gateway !== undefined && !isHost(options.gateway))
          problems.push(
            `Expected --gateway as a host name (RFC 1123) or IP address, found "${options.gateway}"`,
          );
        for (const key of options.device) {
          if (!findKnownDevice(key)) {
            problems.push(
              `Expected --device one of ${knownDevices.map((d) => d.id).join(", ")}, found "${key}"`,
            );
          }
        }
        if (problems.length > 0) throw new UsageError(problems.join("\n"));

        const path = await import("node:path");
        const { access, mkdir } = await import("node:fs/promises");
        const out = path.resolve(options.out ?? `${options.name}.yaml`);
        if (!options.force) {
          const exists = await access(out).then(
            () => true,
            () => false,
          );
          if (exists)
            throw new UsageError(
              `${options.out ?? path.basename(out)} exists; use --force to overwrite it`,
            );
        }
        const { scaffoldProfile } = await import("../profiles/scaffold.js");
        const { profileSchemaUrl } = await import("../profiles/schema.js");
        const { fileURLToPath } = await import("node:url");
        const text = await scaffoldProfile({
          name: options.name!,
          controller: options.controller!,
          title: options.title,
          processor: options.processor,
          dataProtectionOfficer: options.dpo,
          gateway: options.gateway,
          caCertificate: options.caCertificate,
          escrowCertificate: options.escrowCertificate,
          devices: options.device,
          admin: options.admin,
          user: options.user,
          schema: path.relative(path.dirname(out), fileURLToPath(profileSchemaUrl)),
        });
        // Temp file, fsync, rename: a crash never leaves half a profile.
        await mkdir(path.dirname(out), { recursive: true });
        const { writeHostFileAtomic } = await import("../targets/files.js");
        await writeHostFileAtomic(out, text, { mode: 0o644 });
        const { validateProfile } = await import("../profiles/validate.js");
        const { formatProblem } = await import("../errors.js");
        const display = options.out ?? path.basename(out);
        const report = await validateProfile(display);
        for (const problem of report.problems) stderr.write(formatProblem(problem) + "\n");
        stdout.write(
          `${display}: written${report.valid ? " (valid; fill in the commented lines)" : ""}\n`,
        );
        return report.valid ? ExitCode.ok : ExitCode.config;
      }),
    );
}

/** Device answers: numbers or ids, separated by commas and/or spaces ("1, 8, 12"). */
export function parseDeviceAnswer(
  answer: string,
  known: readonly { id: string }[],
): { ids: string[]; unknown: string[] } {
  const ids: string[] = [];
  const unknown: string[] = [];
  for (const part of answer.split(/[\s,;]+/).filter(Boolean)) {
    const device = /^\d+$/.test(part)
      ? known[Number(part) - 1]
      : known.find((d) => d.id === part.toLowerCase());
    if (device === undefined) unknown.push(part);
    else if (!ids.includes(device.id)) ids.push(device.id);
  }
  return { ids, unknown };
}

async function ask(options: InitOptions, context: CliContext): Promise<void> {
  const { createInterface } = await import("node:readline/promises");
  const { knownDevices } = await import("../profiles/devices.js");
  const { isHost } = await import("../profiles/net.js");
  const { AbortedError } = await import("../errors.js");
  const rl = createInterface({ input: context.io.stdin, output: context.io.stderr });
  const say = (text: string) => context.io.stderr.write(text);
  // Ctrl-C (or Ctrl-D) at a prompt ends the dialogue: a short word, exit 130, no file.
  let closed = false;
  rl.on("close", () => (closed = true));
  const question = async (text: string): Promise<string> => {
    if (closed) throw new AbortedError();
    try {
      return (await rl.question(text)).trim();
    } catch (error) {
      if ((error as Error).name === "AbortError" || closed) throw new AbortedError();
      throw error;
    }
  };
  try {
    const prompt = async (text: string, current?: string) => {
      if (current) return current;
      const answer = await question(`${text}: `);
      return answer === "" ? undefined : answer;
    };
    options.controller = await prompt(
      "Verantwortliche Stelle (e.g. Stadt Meerane)",
      options.controller,
    );
    const suggested = (options.controller ?? "")
      .replace(/^(Stadt|Gemeinde|Große Kreisstadt|Amt)\s+/i, "")
      .toLowerCase()
      .replace(/ä/g, "ae")
      .replace(/ö/g, "oe")
      .replace(/ü/g, "ue")
      .replace(/ß/g, "ss")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "");
    options.name = (await prompt(`Short name [${suggested}]`, options.name)) ?? suggested;
    options.processor = await prompt("IT service provider (empty: none)", options.processor);
    if (options.gateway === undefined)
      for (;;) {
        const gateway = await prompt("VPN gateway host (empty: fill in later)");
        if (gateway === undefined || isHost(gateway)) {
          options.gateway = gateway;
          break;
        }
        say(
          `  "${gateway}" ist kein Hostname oder keine IP-Adresse / is no host name or IP address\n`,
        );
      }
    if (options.device.length === 0) {
      say("Known devices:\n");
      knownDevices.forEach((d, i) =>
        say(`  ${String(i + 1).padStart(2)}  ${d.name} (${d.usb.join(", ")})\n`),
      );
      for (;;) {
        const answer = await question(
          `Devices in the suitcase (numbers 1–${knownDevices.length}, e.g. 1, 8): `,
        );
        const { ids, unknown } = parseDeviceAnswer(answer, knownDevices);
        if (unknown.length === 0) {
          options.device.push(...ids);
          break;
        }
        say(
          `  unbekannt / unknown: ${unknown.join(", ")} — Nummern 1–${knownDevices.length} / numbers 1–${knownDevices.length}\n`,
        );
      }
    }
  } finally {
    rl.close();
  }
}
