// Splits a configured command line ("nvidia-smi", "/opt/bin/gputel mock-smi --scenario 'a b.yaml'")
// into argv without a shell: nothing is expanded, globbed or substituted.
// Rules (POSIX shell quoting, minus expansion): whitespace separates words; '...' is literal;
// "..." is literal except \" \\ \$ \`; a backslash outside quotes escapes the next character.

/** argv, or a message saying what is wrong. */
export function splitCommandLine(text: string): string[] | string {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string))
        word += text[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= text.length) return "ends with a lone backslash";
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return `unterminated ${quote === "'" ? "single" : "double"} quote`;
  if (inWord) words.push(word);
  if (words.length === 0) return "is empty";
  return words;
}
