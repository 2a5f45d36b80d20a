/**
 * Bounded capture of one output stream: every byte is counted, the first and last `keep / 2`
 * bytes are kept, and the middle is dropped. Memory is O(keep) however much the command prints.
 */
export class OutputCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer;
  /** Next write position in the tail ring, and how much of it is filled. */
  private tailPos = 0;
  private tailFilled = 0;
  total = 0;

  constructor(keep: number) {
    this.headLimit = Math.ceil(keep / 2);
    this.tailLimit = Math.floor(keep / 2);
    this.tail = Buffer.alloc(this.tailLimit);
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      this.head.push(Buffer.from(rest.subarray(0, take)));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.tailLimit === 0) return;
    if (rest.length >= this.tailLimit) {
      rest.copy(this.tail, 0, rest.length - this.tailLimit);
      this.tailPos = 0;
      this.tailFilled = this.tailLimit;
      return;
    }
    const first = Math.min(rest.length, this.tailLimit - this.tailPos);
    rest.copy(this.tail, this.tailPos, 0, first);
    rest.copy(this.tail, 0, first);
    this.tailPos = (this.tailPos + rest.length) % this.tailLimit;
    this.tailFilled = Math.min(this.tailLimit, this.tailFilled + rest.length);
  }

  get truncated(): boolean {
    return this.total > this.headBytes + this.tailFilled;
  }

  /** The kept text, with a marker where bytes were dropped. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail =
      this.tailFilled < this.tailLimit
        ? this.tail.subarray(0, this.tailFilled)
        : Buffer.concat([this.tail.subarray(this.tailPos), this.tail.subarray(0, this.tailPos)]);
    const dropped = this.total - this.headBytes - this.tailFilled;
    if (dropped <= 0) return head + tail.toString('utf8');
    return `${head}\n[… ${dropped} bytes omitted …]\n${tail.toString('utf8')}`;
  }
}
