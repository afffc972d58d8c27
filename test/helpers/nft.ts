/**
 * Load an nft ruleset into a real kernel: a throwaway network namespace (`unshare --net`),
 * so the host's own firewall is never touched. Unlike `nft -c`, loading runs the kernel's
 * per-hook validation. Returns nft's exit code and, when it loaded, `nft -j list ruleset`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

export async function loadNftInNetns(
  text: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "koffer-nft-"));
  try {
    const file = join(dir, "nftables.conf");
    await writeFile(file, text);
    const r = await execa(
      "unshare",
      ["--net", "sh", "-c", 'nft -f "$1" && nft -j list ruleset', "sh", file],
      { reject: false },
    );
    return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
