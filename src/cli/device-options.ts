/**
 * What the device commands (camera, sequence, guide, focus, demo, alpaca-sim) share: the options that
 * mean the same in each (--device, --exposure, --seed, --speed, --json, and --wheel, --focuser,
 * --mount for parts of the rig on other servers), defined once here, and the checks that turn a bad
 * number or an unsupported device into one DarkroomError line.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { PART_SPEC_HELP, type PartSpecs } from '../acquire/open.js';

/** A shared option as a command uses it: its help text and default. */
export interface SharedOption {
  help: string;
  default?: string;
}

export interface DeviceCommandOptions {
  /** --device <spec>; without a default it is required. */
  device?: SharedOption;
  /** --exposure <s> */
  exposure?: SharedOption;
  /** --seed <n> of the simulator */
  seed?: SharedOption;
  /** --speed <x>: simulated time runs this many times faster */
  speed?: SharedOption;
  /** --json, with this help text */
  json?: string;
  /** --wheel, --focuser, --mount <spec>: these parts from another server than --device's. */
  parts?: (keyof PartSpecs)[];
}

const PART_HELP: Record<keyof PartSpecs, string> = {
  wheel: 'filter wheel',
  focuser: 'focuser',
  mount: 'mount (pulse guiding)',
};

const FLAGS: Record<Exclude<keyof DeviceCommandOptions, 'json' | 'parts'>, string> = {
  device: '--device <spec>',
  exposure: '--exposure <s>',
  seed: '--seed <n>',
  speed: '--speed <x>',
};

/** A subcommand of `parent` with the shared options it asks for (its own options are added by the caller). */
export function deviceCommand(parent: Command, name: string, description: string, shared: DeviceCommandOptions): Command {
  const cmd = parent.command(name).description(description);
  for (const key of Object.keys(FLAGS) as (keyof typeof FLAGS)[]) {
    const o = shared[key];
    if (!o) continue;
    if (key === 'device' && o.default === undefined) cmd.requiredOption(FLAGS[key], o.help);
    else cmd.option(FLAGS[key], o.help, o.default);
  }
  for (const part of shared.parts ?? []) cmd.option(`--${part} <spec>`, `${PART_HELP[part]} from another server: ${PART_SPEC_HELP} (default: the --device server's)`);
  if (shared.json) cmd.option('--json', shared.json);
  return cmd;
}

/** The --wheel, --focuser and --mount specs a command was given. */
export function partSpecs(opts: PartSpecs): PartSpecs {
  return { wheel: opts.wheel, focuser: opts.focuser, mount: opts.mount };
}

/** The number an option's text names; `--NAME must be RULE, got 'TEXT'` unless ok(number). */
export function numberArg(name: string, text: string, ok: (n: number) => boolean, rule: string): number {
  const n = Number(text);
  if (!ok(n)) throw new DarkroomError('BAD_ARGUMENT', `--${name} must be ${rule}, got '${text}'`);
  return n;
}
