import type { Command } from "commander";
import { action, type CliContext } from "./context.js";
import { countOf } from "../i18n/format.js";

interface ControlsOptions {
  format: string;
  lang: string;
}

export function register(program: Command, context: CliContext): void {
  program
    .command("controls")
    .description("list the control catalogue (id, severity, kind, title, basis)")
    .option("--format <format>", "text, json or md", "text")
    .option("--lang <lang>", "de or en", "de")
    .action(
      action(context, async (options: ControlsOptions) => {
        const { UsageError } = await import("../errors.js");
        const { parseLang } = await import("../i18n/format.js");
        const { controls, catalogueVersion } = await import("../checks/index.js");
        const lang = parseLang(options.lang);
        if (lang === null) throw new UsageError(`unknown language ${options.lang}; use de or en`);
        const metas = controls.map((c) => c.meta);
        let out: string;
        switch (options.format) {
          case "json":
            out = `${JSON.stringify(
              {
                catalogueVersion,
                controls: metas.map((m) => ({ ...m, title: m.title[lang], titles: m.title })),
              },
              null,
              2,
            )}\n`;
            break;
          case "md": {
            const head =
              lang === "de"
                ? "| Prüfpunkt | Schweregrad | Art | Titel | Grundlage |\n|---|---|---|---|---|\n"
                : "| Control | Severity | Kind | Title | Basis |\n|---|---|---|---|---|\n";
            const cell = (s: string) => s.replace(/\|/g, "\\|");
            out =
              head +
              metas
                .map(
                  (m) =>
                    `| ${m.id} | ${m.severity} | ${m.kind} | ${cell(m.title[lang])} | ${cell(m.references.join("; "))} |`,
                )
                .join("\n") +
              "\n";
            break;
          }
          case "text": {
            const width = Math.max(...metas.map((m) => m.id.length));
            out = metas
              .map(
                (m) =>
                  `${m.id.padEnd(width)}  ${m.severity.padEnd(8)}  ${m.kind.padEnd(11)}  ${m.title[lang]}  (${m.references.join("; ")})`,
              )
              .join("\n");
            out += `\n${lang === "de" ? countOf(metas.length, "Prüfpunkt", "Prüfpunkte") + ", Katalog" : countOf(metas.length, "control", "controls") + ", catalogue"} ${catalogueVersion}\n`;
            break;
          }
          default:
            throw new UsageError(`unknown format ${options.format}; use text, json or md`);
        }
        context.io.stdout.write(out);
        return 0;
      }),
    );
}
