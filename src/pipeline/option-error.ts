/**
 * User errors about one option of a run (the output folder, the library, the executor, a method),
 * as structure: the option, the problem and what to do. The message names the option in words;
 * a CLI prints its own spelling of the option with `phrase` (the pipeline emits no flag text).
 */
import { DarkroomError, type ErrorCode } from '../util/errors.js';

const NOUNS = {
  out: 'output folder',
  library: 'master library',
  executor: 'executor',
  debayer: 'debayer method',
  reject: 'rejection',
  normalize: 'normalization',
  weights: 'weights',
} as const;

export type RunOptionName = keyof typeof NOUNS;
/** What the user can do: choose another value, or one outside the folder named in the problem. */
export type OptionAdvice = 'another' | 'outside';

function optionMessage(problem: string, advice: OptionAdvice | undefined, name: string): string {
  if (!advice) return `${name} ${problem}`;
  if (advice === 'another') return `${problem}: choose another ${name}`;
  return `${problem}: choose ${/^-*[aeiou]/i.test(name) ? 'an' : 'a'} ${name} outside it`;
}

export class OptionError extends DarkroomError {
  constructor(
    code: ErrorCode,
    readonly option: RunOptionName,
    /** Without advice: what follows the option's name ("must be one of ..."); with advice: the whole problem. */
    readonly problem: string,
    readonly advice?: OptionAdvice,
    file?: string,
  ) {
    super(code, optionMessage(problem, advice, NOUNS[option]), file);
  }

  /** The message with the option spelled `name` (a CLI passes its flag). */
  phrase(name: string): string {
    return optionMessage(this.problem, this.advice, name);
  }
}

/** `value` when it is one of `allowed`, else an OptionError naming the option. */
export function oneOf<T extends string>(option: RunOptionName, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new OptionError('BAD_ARGUMENT', option, `must be one of ${allowed.join(', ')}, got '${value}'`);
}
