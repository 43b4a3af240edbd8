/**
 * The CLI reference (docs/reference/cli.md), generated from the command tree itself — every
 * command, its arguments and options with their defaults and choices — so that it cannot drift
 * from what the CLI accepts: a test regenerates it and fails when the committed file differs
 * (`npm run docs` rewrites it). Pure: a commander program in, Markdown out.
 */
import type { Command, Option } from 'commander';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ').trim();
}

function optionRow(o: Option): string {
  const extra: string[] = [];
  const choices = (o as Option & { argChoices?: string[] }).argChoices;
  if (choices) extra.push(`one of ${choices.join(', ')}`);
  if (o.defaultValue !== undefined && o.defaultValue !== false) extra.push(`default ${JSON.stringify(o.defaultValue)}`);
  return `| \`${o.flags}\` | ${cell(o.description)}${extra.length ? ` (${extra.join('; ')})` : ''} |`;
}

function section(cmd: Command, path: string[]): string[] {
  const name = [...path, cmd.name()].join(' ');
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`) + (a.variadic ? '...' : ''));
  const out = [`## \`${[name, ...args].join(' ')}\``, '', cell(cmd.description()), ''];
  const options = cmd.options.filter((o) => !o.hidden);
  if (options.length > 0) out.push('| option | |', '| --- | --- |', ...options.map(optionRow), '');
  for (const sub of cmd.commands) out.push(...section(sub, [...path, cmd.name()]));
  return out;
}

/** The reference of `program` (its global options first, then every command, depth first). */
export function cliReference(program: Command): string {
  const out = [
    '# CLI reference',
    '',
    '<!-- Generated from the CLI\'s command definitions by `npm run docs` (packages/cli/src/reference.ts); a test fails when it is out of date. Do not edit by hand: docs/cli.md is the guide. -->',
    '',
    cell(program.description()),
    '',
  ];
  const global = program.options.filter((o) => !o.hidden);
  if (global.length > 0) out.push('Global options:', '', '| option | |', '| --- | --- |', ...global.map(optionRow), '');
  for (const cmd of program.commands) out.push(...section(cmd, [program.name()]));
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
