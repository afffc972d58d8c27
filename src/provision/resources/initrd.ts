/**
 * The initrd that unlocks the root with TPM2 + PIN (DISK-04). A LUKS2 systemd-tpm2 token is
 * only used at boot when the initrd carries systemd-cryptsetup, libcryptsetup's token plugin
 * and the TPM2 libraries, and its crypttab asks for the token. Debian's default initrd
 * (initramfs-tools + cryptsetup-initramfs) has none of it, so with `unlock: tpm2+pin` and an
 * encrypted volume the plan:
 *
 * 1. adds `tpm2-device=auto` to the crypttab lines of LUKS volumes (other options kept);
 * 2. writes the dracut drop-in /etc/dracut.conf.d/50-koffer-tpm2.conf (modules `systemd`,
 *    `crypt`, `tpm2-tss`; /etc/crypttab copied in; not host-only, because an image's initrd
 *    is built where the laptop's disks are not visible);
 * 3. `initrd-tpm2`: installs dracut and the release's packages for it
 *    (src/platform/releases.ts), regenerates the initrd of every kernel and proves each one.
 *
 * A tree without kernels (a container root) boots nothing, so nothing is planned for it.
 */
import type { CrypttabEntry, InitrdFacts } from "../../facts/types.js";
import { managedPath } from "../../facts/managed.js";
import { requiredCapabilities } from "../../facts/initrd-capabilities.js";
import { releaseOf } from "../../platform/releases.js";
import type { Change } from "../types.js";
import { fileChange, header, managedText, type PlanContext } from "./common.js";

const resource = "initrd";
const controls = ["DISK-04"];

/** crypttab options of volumes the token cannot open: random-key swap/tmp, other formats. */
const notForTpm2 = new Set(["swap", "tmp", "plain", "tcrypt", "bitlk", "noauto"]);

/** Whether a crypttab line is a LUKS volume that should unlock with its TPM2 token. */
export function wantsTpm2(entry: Pick<CrypttabEntry, "keyFile" | "options">): boolean {
  return entry.keyFile === null && !entry.options.some((o) => notForTpm2.has(o));
}

/**
 * /etc/crypttab with `tpm2-device=auto` added to every LUKS line that has no `tpm2-device=`
 * yet. Other lines, comments and the other options stay as they are.
 */
export function crypttabWithTpm2(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return line;
      const fields = trimmed.split(/\s+/);
      if (fields.length < 2 || fields.length > 4) return line;
      const [name, device, keyFile = "none", options = ""] = fields as [
        string,
        string,
        string?,
        string?,
      ];
      const opts = options === "" || options === "-" ? [] : options.split(",").filter(Boolean);
      const entry = {
        keyFile: keyFile === "none" || keyFile === "-" ? null : keyFile,
        options: opts,
      };
      if (!wantsTpm2(entry) || opts.some((o) => o.startsWith("tpm2-device="))) return line;
      return [name, device, keyFile, [...opts, "tpm2-device=auto"].join(",")].join(" ");
    })
    .join("\n");
}

/** The dracut drop-in koffer writes (the VM tests and the image builder rely on its content). */
export function dracutTpm2Conf(): string {
  return `${header()}# DISK-04: the initrd unlocks LUKS2 volumes with their systemd-tpm2 token (TPM2 + PIN).
# systemd-cryptsetup in the initrd reads tpm2-device=auto from the crypttab copied in;
# tpm2-tss adds the TPM2 libraries and libcryptsetup-token-systemd-tpm2.so.
# Not host-only: an image's initrd is built where the laptop's disks are not visible.
hostonly="no"
compress="zstd"
add_dracutmodules+=" systemd crypt tpm2-tss "
install_items+=" /etc/crypttab "
`;
}

/** What an initrd lacks for the token, or why it is stale: null when it is fine. */
export function initrdProblem(initrd: InitrdFacts, wanted: string[]): string | null {
  if (initrd.error !== undefined) return initrd.error;
  const missing = requiredCapabilities.filter((c) => initrd.capabilities[c] === null);
  if (missing.length > 0) return `missing ${missing.join(", ")}`;
  for (const name of wanted) {
    const entry = initrd.crypttab?.entries.find((e) => e.name === name);
    if (!entry?.options.includes("tpm2-device=auto"))
      return `its crypttab has no tpm2-device=auto for ${name}`;
  }
  return null;
}

export function planInitrd(ctx: PlanContext): Change[] {
  if (ctx.profile.spec.disk.unlock !== "tpm2+pin") return [];
  const luks = ctx.facts.disk.crypttab.filter(wantsTpm2);
  const initrds = ctx.facts.boot.initrds ?? [];
  if (luks.length === 0 || initrds.length === 0) return [];
  const release = releaseOf(ctx.profile.spec.platform);
  const changes: Change[] = [];

  const text = managedText(ctx.facts, managedPath.crypttab);
  if (text !== null) {
    const next = crypttabWithTpm2(text);
    const known = ctx.facts.managedFiles?.[managedPath.crypttab];
    if (next !== text)
      changes.push(
        ...fileChange(ctx, {
          resource,
          path: managedPath.crypttab,
          content: next,
          mode: known?.mode,
          uid: known?.uid,
          gid: known?.gid,
          summary: `crypttab: tpm2-device=auto for ${luks.map((e) => e.name).join(", ")}`,
          controls,
          satisfied: false,
        }),
      );
  }
  const wanted = luks.map((e) => e.name);
  const problems = initrds.map((i) => initrdProblem(i, wanted));
  changes.push(
    ...fileChange(ctx, {
      resource,
      path: managedPath.dracutTpm2,
      content: dracutTpm2Conf(),
      summary: "dracut: systemd, crypt and tpm2-tss in the initrd, with /etc/crypttab",
      controls,
      satisfied: problems.every((p) => p === null),
    }),
  );
  const packages = [...release.initrd.packages];
  const missing = packages.filter((p) => !ctx.willHave(p));
  if (changes.length > 0 || missing.length > 0 || problems.some((p) => p !== null))
    changes.push({
      kind: "initrd-tpm2",
      resource,
      controls,
      packages,
      kernels: initrds.map((i) => i.kver),
      summary: "initrd: dracut with systemd-cryptsetup + tpm2-tss",
    });
  return changes;
}
