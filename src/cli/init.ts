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

async function ask(options: InitOptions, context: CliContext): Promise<void> {
  const { createInterface } = await import("node:readline/promises");
  const { knownDevices } = await import("../profiles/devices.js");
  const rl = createInterface({ input: context.io.stdin, output: context.io.stderr });
  try {
    const prompt = async (question: string, current?: string) => {
      if (current) return current;
      const answer = (await rl.question(`${question}: `)).trim();
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
    options.gateway = await prompt("VPN gateway host (empty: fill in later)", options.gateway);
    if (options.device.length === 0) {
      context.io.stderr.write("Known devices:\n");
      knownDevices.forEach((d, i) =>
        context.io.stderr.write(
          `  ${String(i + 1).padStart(2)}  ${d.name} (${d.usb.join(", ")})\n`,
        ),
      );
      const answer = (
        await rl.question("Devices in the suitcase (numbers, comma-separated): ")
      ).trim();
      for (const part of answer.split(/[\s,]+/).filter(Boolean)) {
        const device = knownDevices[Number(part) - 1] ?? knownDevices.find((d) => d.id === part);
        options.device.push(device ? device.id : part);
      }
    }
  } finally {
    rl.close();
  }
}
