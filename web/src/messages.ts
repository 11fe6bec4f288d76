/**
 * What the console says when a call fails: the server's error code and one line, turned into a
 * sentence that says what to do (the API's own text names routes and zod paths, for API clients).
 */

/** Words for the fields of the API's bodies, as the panels label them. */
const FIELDS: Record<string, string> = {
  position: 'the focuser position (steps)',
  exposure: 'the exposure time (seconds)',
  count: 'the number of frames',
  step: 'the autofocus step (focuser steps)',
  setpoint: 'the cooler set point (°C)',
  binning: 'the binning',
  delay: 'the delay (seconds)',
  path: 'the file name',
  night: 'the night folder',
  out: 'the output folder',
  spec: 'the device address',
};

const field = (path: string): string => {
  const last = path.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? path;
  return FIELDS[last] ?? `'${last}'`;
};

/** One zod issue ("expected number, received null", "Too small: expected number to be >=0") in words. */
function issueWords(problem: string): string {
  if (/expected number, received (null|NaN|string)|expected number/i.test(problem) && !/too (small|big)/i.test(problem)) return 'enter a number';
  const small = /too small.*?(>=?)\s*(-?[\d.]+)/i.exec(problem);
  if (small) return `must be ${small[1] === '>' ? 'more than' : 'at least'} ${small[2]}`;
  const big = /too big.*?(<=?)\s*(-?[\d.]+)/i.exec(problem);
  if (big) return `must be ${big[1] === '<' ? 'less than' : 'at most'} ${big[2]}`;
  if (/expected int/i.test(problem)) return 'enter a whole number';
  if (/required|received undefined/i.test(problem)) return 'fill it in';
  return problem.replace(/^invalid input:\s*/i, '').toLowerCase();
}

/** "invalid body: a: problem; b: problem" -> "Check the exposure time (seconds): enter a number." */
function invalidInput(message: string): string | null {
  const m = /^invalid (?:body|query): (.*)$/.exec(message);
  if (!m) return null;
  const parts = m[1]!.split('; ').map((p) => {
    const i = p.indexOf(': ');
    return i < 0 ? p : `${field(p.slice(0, i))}: ${issueWords(p.slice(i + 2))}`;
  });
  return `Check ${parts.join('; ')}.`;
}

const BY_CODE: Record<string, string> = {
  NOT_CONNECTED: 'No camera is connected: connect one in the Camera tab first.',
  NOT_CALIBRATED: 'The guider is not calibrated: press Calibrate first.',
  NO_IMAGE: 'No image yet: take an exposure first.',
  NOT_GUIDING: 'Guiding is not running.',
};

/** The sentence for a failed call: by error code, by the kind of problem, else the server's line without API jargon. */
export function humanMessage(status: number, code: string | undefined, message: string): string {
  if (code && BY_CODE[code]) return BY_CODE[code]!;
  const invalid = invalidInput(message);
  if (invalid) return invalid;
  if (status >= 500) return `Something went wrong on the server (${message.replace(/^internal error:\s*/, '')}); the server's log has the details.`;
  // API pointers such as "(POST /api/guide/calibrate)" mean nothing in the console
  const line = message.replace(/\s*\((?:GET|POST) \/api\/[^)]*\)/g, '').trim();
  return line.charAt(0).toUpperCase() + line.slice(1);
}

/** A failed fetch (no answer at all). */
export const NO_SERVER = 'The Darkroom server does not answer: is `darkroom serve` still running?';
