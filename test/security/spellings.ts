// Other spellings of one request path, as an attacker writes them: percent-encoded (one
// character, every character, either hex case), double-encoded, mixed case, with dot segments,
// with trailing or doubled slashes. A router may match some of them to the route itself.

const hex = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(2, "0");
  return `%${upper ? h.toUpperCase() : h}`;
};

function encodeAt(path: string, i: number, upper = false): string {
  return `${path.slice(0, i)}${hex(path[i] as string, upper)}${path.slice(i + 1)}`;
}

/** Every segment's characters encoded, slashes kept. */
function encodeAll(path: string, upper: boolean): string {
  return [...path].map((c) => (c === "/" ? c : hex(c, upper))).join("");
}

function flipCase(path: string): string {
  return [...path].map((c, i) => (i % 2 === 1 ? c.toUpperCase() : c)).join("");
}

/** Spellings of `path` (which starts with "/" and has no query). */
export function spellingsOf(path: string): string[] {
  const segments = path.split("/").slice(1);
  const first = 1;
  const last = path.length - 1;
  const lastSegment = segments[segments.length - 1] ?? "";
  const parent = path.slice(0, path.length - lastSegment.length);
  const out = [
    // encoded
    encodeAt(path, first),
    encodeAt(path, last),
    encodeAt(path, first, true),
    encodeAll(path, false),
    encodeAll(path, true),
    // double-encoded
    `/%25${hex(path[first] as string, false).slice(1)}${path.slice(first + 1)}`,
    encodeAll(path, false).replaceAll("%", "%25"),
    // mixed case
    path.toUpperCase(),
    flipCase(path),
    encodeAt(flipCase(path), first, true),
    // dot segments
    `${parent}./${lastSegment}`,
    `${parent}x/../${lastSegment}`,
    `${parent}%2e/${lastSegment}`,
    `${parent}x/%2E%2E/${lastSegment}`,
    `/.${path}`,
    `/x/..${path}`,
    // slashes
    `${path}/`,
    `${path}//`,
    `/${path}`,
    path.replaceAll("/", "//"),
    `${encodeAt(path, first)}/`,
    // other separators and encodings of the separator
    `/${path.slice(1).replaceAll("/", "%2F")}`,
    `${path};x`,
    `${path}%3F`,
    `${path}%00`,
  ];
  return [...new Set(out)].filter((p) => p !== path);
}
