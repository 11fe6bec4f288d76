/**
 * Reading an Alpaca request the way the ASCOM Alpaca API Reference (section 2) says: GET query keys
 * are case-insensitive, PUT form keys are case-sensitive (a mis-cased key is absent), Boolean values
 * are True/False in any casing, numbers use a period, ClientID and ClientTransactionID are unsigned
 * 32-bit integers. A request that cannot be understood this way is rejected with HTTP 400 and a
 * plain-text message (AlpacaRequestError); values that parse but are out of range are the device's
 * business (an InvalidValue error in a 200 answer).
 */

/** A request the server cannot understand: answered HTTP 400 with the message as plain text. */
export class AlpacaRequestError extends Error {}

export class Params {
  private constructor(
    private readonly values: ReadonlyMap<string, string>,
    private readonly caseInsensitive: boolean,
  ) {}

  /** GET: query string keys in any casing. */
  static query(search: URLSearchParams): Params {
    const m = new Map<string, string>();
    for (const [k, v] of search) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
    return new Params(m, true);
  }

  /** PUT: form keys exactly as the API defines them. */
  static form(body: string): Params {
    const m = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body)) if (!m.has(k)) m.set(k, v);
    return new Params(m, false);
  }

  get(name: string): string | undefined {
    return this.values.get(this.caseInsensitive ? name.toLowerCase() : name);
  }
}

const UINT32_MAX = 4294967295;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function param(p: Params, name: string): string {
  const v = p.get(name);
  if (v === undefined) throw new AlpacaRequestError(`missing parameter ${name}`);
  return v;
}

export function num(p: Params, name: string): number {
  const s = param(p, name);
  if (!DECIMAL.test(s)) throw new AlpacaRequestError(`${name} must be a number, got '${s}'`);
  return Number(s);
}

export function int(p: Params, name: string): number {
  const s = param(p, name);
  if (!INTEGER.test(s)) throw new AlpacaRequestError(`${name} must be an integer, got '${s}'`);
  return Number(s);
}

export function bool(p: Params, name: string): boolean {
  const s = param(p, name).toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new AlpacaRequestError(`${name} must be True or False, got '${param(p, name)}'`);
}

/** An optional unsigned 32-bit id: 0 when absent. */
function id(p: Params, name: string): number {
  const s = p.get(name);
  if (s === undefined) return 0;
  if (!/^\d+$/.test(s) || Number(s) > UINT32_MAX) throw new AlpacaRequestError(`${name} must be an unsigned 32-bit integer, got '${s}'`);
  return Number(s);
}

export function transactionIds(p: Params): { clientId: number; clientTx: number } {
  return { clientId: id(p, 'ClientID'), clientTx: id(p, 'ClientTransactionID') };
}

/** A device path /api/v1/TYPE/NUMBER/MEMBER, exactly in lower case; undefined for anything else. */
export function devicePath(pathname: string): { type: string; number: number; member: string } | undefined {
  const m = /^\/api\/v1\/([a-z]+)\/(\d+)\/([a-z]+)$/.exec(pathname);
  if (!m || Number(m[2]) > UINT32_MAX) return undefined;
  return { type: m[1]!, number: Number(m[2]), member: m[3]! };
}
