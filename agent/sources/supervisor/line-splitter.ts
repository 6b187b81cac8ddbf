// Cuts a child's output into lines as node:readline does (\n, \r\n and a lone \r end a line; the
// last line without an end is given at the end of the stream; UTF-8 split across chunks is
// decoded whole), at a fraction of its cost per line: readline's interface machinery was a fifth
// of the agent's JavaScript time per frame (bench agent.cpu_pct, run with --jitless). The search
// for line ends is String.prototype.indexOf, native even without a JIT.
import { StringDecoder } from "node:string_decoder";

const LF = "\n";
const CR = "\r";

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  /** The start of a line whose end has not arrived yet. */
  private rest = "";
  /** The last chunk ended in \r: a \n opening the next one belongs to it. */
  private afterCr = false;

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.scan(this.decoder.write(chunk));
  }

  /** The stream ended: its last line, if it had no line end. */
  end(): void {
    const tail = this.rest + this.decoder.end();
    this.rest = "";
    this.afterCr = false;
    if (tail !== "") this.onLine(tail);
  }

  private scan(text: string): void {
    if (text === "") return;
    let start = this.afterCr && text.startsWith(LF) ? 1 : 0;
    this.afterCr = false;
    // Output without \r (nvidia-smi's) never looks for one again in this chunk.
    let cr = text.indexOf(CR, start);
    while (start < text.length) {
      const lf = text.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = text.indexOf(CR, start);
      let end = lf;
      let next = lf + 1;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        next = cr + 1;
        if (lf === cr + 1) next = lf + 1;
        else if (cr === text.length - 1) this.afterCr = true;
      }
      if (end === -1) break;
      const line = this.rest === "" ? text.slice(start, end) : this.rest + text.slice(start, end);
      this.rest = "";
      start = next;
      this.onLine(line);
    }
    if (start < text.length) this.rest += text.slice(start);
  }
}
