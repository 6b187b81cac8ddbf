// `gputel collector hash-password`: reads one password on stdin (never from argv, which `ps` shows)
// and prints the scrypt hash a users_file line takes: `<user>:<hash>[:reader]`.
import { hashPassword } from "./password-hash.js";

const USAGE = `Usage: gputel collector hash-password < password-file
       printf '%s' "$PASSWORD" | gputel collector hash-password

Reads a password on stdin (typed at a terminal, it is not echoed) and prints its scrypt hash
for the embedded broker's users_file, one line per account:  <user>:<hash>  or  <user>:<hash>:reader
`;

export interface HashIo {
  stdin: NodeJS.ReadStream;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const defaultIo = (): HashIo => ({
  stdin: process.stdin,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});

export async function hashPasswordCommand(
  args: readonly string[],
  io: HashIo = defaultIo(),
): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout(USAGE);
    return 0;
  }
  if (args.length > 0) {
    io.stderr(
      `gputel collector hash-password: takes no arguments; the password is read on stdin so that \`ps\` cannot show it (GPUTEL_E_USAGE)\n\n${USAGE}`,
    );
    return 64;
  }
  const password = io.stdin.isTTY ? await readHidden(io) : await readAll(io.stdin);
  if (password === "") {
    io.stderr("gputel collector hash-password: empty password (GPUTEL_E_USAGE)\n");
    return 64;
  }
  io.stdout(`${await hashPassword(password)}\n`);
  return 0;
}

/** Everything on stdin, less one trailing newline (what `echo` or a file adds). */
async function readAll(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** One line from a terminal with echo off (raw mode), ended by Enter; Ctrl-C or Ctrl-D gives up. */
function readHidden(io: HashIo): Promise<string> {
  io.stderr("Password: ");
  const { stdin } = io;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let text = "";
    const finish = (value: string) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      io.stderr("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(text);
        if (ch === "\u0003" || ch === "\u0004") return finish("");
        if (ch === "\u007f" || ch === "\b") text = [...text].slice(0, -1).join("");
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}
