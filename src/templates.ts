/**
 * The one loader of the files netspec ships as sources beside its compiled code: Handlebars templates (the
 * generated TypeScript and PyTorch, the comparison report) and the tfjs runtime copied into generated code. They
 * are not compiled into dist/, so both src/ and dist/ read them from the package's src/ tree.
 */
import fs from 'node:fs';
import Handlebars from 'handlebars';

/** The package root: this module is src/templates.ts or dist/templates.js, one level below it. */
const ROOT = new URL('../', import.meta.url);

/** The text of `relative` (a path under src/, e.g. `compiler/targets/tfjs/torch-layers.ts`). */
export function readPackageSource(relative: string): string {
  return fs.readFileSync(new URL(`src/${relative}`, ROOT), 'utf8');
}

/** Options of {@link loadTemplate}. */
export interface TemplateOptions {
  /** HTML-escape interpolations (`{{x}}`): for HTML output. Code and Markdown spell their own literals. */
  readonly escapeHtml?: boolean;
  /** Partials by name: paths under src/ of their templates. */
  readonly partials?: Readonly<Record<string, string>>;
}

const cache = new Map<string, HandlebarsTemplateDelegate>();

/**
 * The compiled template at `relative` (under src/), strict (a missing view field is an error), compiled once per
 * path and options.
 */
export function loadTemplate(relative: string, options: TemplateOptions = {}): HandlebarsTemplateDelegate {
  const key = JSON.stringify([relative, options]);
  let template = cache.get(key);
  if (!template) {
    const hbs = Handlebars.create();
    const compileOptions = { noEscape: options.escapeHtml !== true, strict: true };
    for (const [name, file] of Object.entries(options.partials ?? {}))
      hbs.registerPartial(name, hbs.compile(readPackageSource(file), compileOptions));
    template = hbs.compile(readPackageSource(relative), compileOptions);
    cache.set(key, template);
  }
  return template;
}
