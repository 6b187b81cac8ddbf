// What a peer's JSON answer must hold before a merge reads it. A peer URL may answer something
// other than a gputel collector's answer (another program on that port, a proxy's JSON error page,
// a collector of another version): such an answer makes the peer missing, with the first field that
// does not fit, rather than a merge that throws and fails the whole request. Only what the merges
// read is described (peer-answers.ts, TypeBox schemas); other fields pass unchecked.
import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";

/** A schema's compiled check, made once: answers of 10,000 GPUs are checked at every merge. */
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** Where `value` does not fit `schema` ("/gpus/3/uuid: Expected string"), or undefined when it fits. */
export function misfit(value: unknown, schema: TSchema): string | undefined {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  return first ? `${first.path || "/"}: ${first.message}` : "does not fit";
}
