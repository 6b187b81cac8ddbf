// How many terminal columns a text takes, for aligning tables: a wide (CJK, fullwidth) character
// or an emoji shown as a picture takes two, a combining mark or joiner none, an ANSI colour code none. UTF-16 length
// counts none of these right, and sites and labels are free text.

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes on purpose
const ANSI = /\x1b\[[0-9;]*m/g;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
const EMOJI = /\p{Emoji_Presentation}|\uFE0F/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** East Asian Wide and Fullwidth ranges (Unicode UAX #11), the ones names and labels meet. */
function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) ||
    (codePoint >= 0x3041 && codePoint <= 0x33ff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function displayWidth(text: string): number {
  const plain = text.replace(ANSI, "");
  // Most cells (host:index, numbers, states): one column a character, without the segmenter's cost.
  if (PRINTABLE_ASCII.test(plain)) return plain.length;
  let width = 0;
  for (const { segment } of segmenter.segment(plain)) {
    if (ZERO_WIDTH.test(segment)) continue;
    const first = segment.codePointAt(0) ?? 0;
    width += isWide(first) || EMOJI.test(segment) ? 2 : 1;
  }
  return width;
}
