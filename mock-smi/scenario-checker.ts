// Key-path checks for scenario documents: each failed check records `path: message` and returns
// undefined, so one pass reports every problem at once. Patterns are parsed here too. Pure.
import { parseDuration } from "../shared/duration.js";
import type { Pattern } from "./patterns.js";

export type Obj = Record<string, unknown>;

export class Checker {
  readonly errors: string[] = [];
  fail(path: string, message: string): undefined {
    this.errors.push(`${path}: ${message}`);
    return undefined;
  }
  object(value: unknown, path: string, keys: readonly string[]): Obj | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return this.fail(path, "expected a mapping");
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.fail(`${path}.${key}`, `unknown key (known: ${keys.join(", ")})`);
    }
    return value as Obj;
  }
  number(value: unknown, path: string, min = -Infinity, max = Infinity): number | undefined {
    if (typeof value !== "number" || !Number.isFinite(value)) return this.fail(path, "expected a number");
    if (value < min || value > max) return this.fail(path, `expected a number from ${min} to ${max}`);
    return value;
  }
  string(value: unknown, path: string): string | undefined {
    if (typeof value === "number") return String(value);
    if (typeof value !== "string" || value === "") return this.fail(path, "expected a string");
    return value;
  }
  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== "boolean") return this.fail(path, "expected true or false");
    return value;
  }
  /** Seconds: a number of seconds or a duration string ("90s", "5m", "1500ms"). */
  seconds(value: unknown, path: string): number | undefined {
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
    const ms = typeof value === "string" ? parseDuration(value) : undefined;
    if (ms === undefined) return this.fail(path, 'expected seconds or a duration like "90s", "5m"');
    return ms / 1000;
  }
  pattern(value: unknown, path: string): Pattern | undefined {
    if (value === undefined) return undefined;
    if (typeof value === "number") return { kind: "constant", value };
    if (Array.isArray(value)) return this.steps(value, path);
    const o = this.object(value, path, ["constant", "sine", "square", "ramp", "steps"]);
    if (o === undefined) return undefined;
    const kinds = Object.keys(o);
    if (kinds.length !== 1)
      return this.fail(path, "expected exactly one of constant, sine, square, ramp, steps");
    const kind = kinds[0] ?? "";
    const p = `${path}.${kind}`;
    if (kind === "constant") {
      const v = this.number(o.constant, p);
      return v === undefined ? undefined : { kind: "constant", value: v };
    }
    if (kind === "steps")
      return Array.isArray(o.steps) ? this.steps(o.steps, p) : this.fail(p, "expected a list of [t, value]");
    if (kind === "sine") {
      const s = this.object(o.sine, p, ["min", "max", "period", "phase"]);
      if (s === undefined) return undefined;
      const [min, max] = [this.number(s.min, `${p}.min`), this.number(s.max, `${p}.max`)];
      const periodS = this.period(s.period, `${p}.period`);
      const phaseS = s.phase === undefined ? 0 : this.seconds(s.phase, `${p}.phase`);
      if (min === undefined || max === undefined || periodS === undefined || phaseS === undefined)
        return undefined;
      return { kind: "sine", min, max, periodS, phaseS };
    }
    if (kind === "square") {
      const s = this.object(o.square, p, ["low", "high", "period", "duty", "phase"]);
      if (s === undefined) return undefined;
      const [low, high] = [this.number(s.low, `${p}.low`), this.number(s.high, `${p}.high`)];
      const periodS = this.period(s.period, `${p}.period`);
      const duty = s.duty === undefined ? 0.5 : this.number(s.duty, `${p}.duty`, 0, 1);
      const phaseS = s.phase === undefined ? 0 : this.seconds(s.phase, `${p}.phase`);
      if (
        low === undefined ||
        high === undefined ||
        periodS === undefined ||
        duty === undefined ||
        phaseS === undefined
      ) {
        return undefined;
      }
      return { kind: "square", low, high, periodS, duty, phaseS };
    }
    const r = this.object(o.ramp, p, ["from", "to", "duration", "start", "repeat"]);
    if (r === undefined) return undefined;
    const [from, to] = [this.number(r.from, `${p}.from`), this.number(r.to, `${p}.to`)];
    const durationS = this.period(r.duration, `${p}.duration`);
    const startS = r.start === undefined ? 0 : this.seconds(r.start, `${p}.start`);
    const repeat = r.repeat === undefined ? false : this.boolean(r.repeat, `${p}.repeat`);
    if (
      from === undefined ||
      to === undefined ||
      durationS === undefined ||
      startS === undefined ||
      repeat === undefined
    ) {
      return undefined;
    }
    return { kind: "ramp", from, to, startS, durationS, repeat };
  }
  private period(value: unknown, path: string): number | undefined {
    const s = this.seconds(value, path);
    if (s === 0) return this.fail(path, "must be longer than 0");
    return s;
  }
  private steps(list: unknown[], path: string): Pattern | undefined {
    const steps: [number, number][] = [];
    for (const [i, item] of list.entries()) {
      const p = `${path}[${i}]`;
      if (!Array.isArray(item) || item.length !== 2) {
        this.fail(p, "expected [t, value]");
        continue;
      }
      const [t, v] = [this.seconds(item[0], `${p}[0]`), this.number(item[1], `${p}[1]`)];
      if (t === undefined || v === undefined) continue;
      if (steps.length > 0 && t <= (steps[steps.length - 1]?.[0] ?? 0)) this.fail(p, "times must increase");
      else steps.push([t, v]);
    }
    if (steps.length === 0) return this.fail(path, "expected at least one [t, value] step");
    return { kind: "steps", steps };
  }
}
