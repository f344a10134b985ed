// Byte writer and reader for the binary snapshot format (snapshot.ts): little-endian, length-prefixed, no JSON
// per order. Reading past the end throws (DataView's RangeError), so a truncated snapshot never restores.

const NULL_STRING = 0xffffffff;
/** Tags of a bigint: a safe integer as a float64 (every balance in practice), else its decimal text. */
const BIG_SAFE = 0;
const BIG_TEXT = 1;
const SAFE_MIN_BIG = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX_BIG = BigInt(Number.MAX_SAFE_INTEGER);

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private at = 0;

  constructor(capacityBytes: number) {
    this.bytes = new Uint8Array(Math.max(64, capacityBytes));
    this.view = new DataView(this.bytes.buffer);
  }

  u8(x: number): void {
    this.room(1);
    this.view.setUint8(this.at, x);
    this.at += 1;
  }

  u32(x: number): void {
    this.room(4);
    this.view.setUint32(this.at, x, true);
    this.at += 4;
  }

  /** Any number the engine keeps (safe integers): exact as a float64. */
  num(x: number): void {
    this.room(8);
    this.view.setFloat64(this.at, x, true);
    this.at += 8;
  }

  big(x: bigint): void {
    if (x >= SAFE_MIN_BIG && x <= SAFE_MAX_BIG) {
      this.u8(BIG_SAFE);
      this.num(Number(x));
    } else {
      this.u8(BIG_TEXT);
      this.str(x.toString());
    }
  }

  str(x: string): void {
    const encoded = utf8.encode(x);
    this.u32(encoded.length);
    this.raw(encoded);
  }

  strOrNull(x: string | null): void {
    if (x === null) this.u32(NULL_STRING);
    else this.str(x);
  }

  raw(x: Uint8Array): void {
    this.room(x.length);
    this.bytes.set(x, this.at);
    this.at += x.length;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.at + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.at;
  }

  get atEnd(): boolean {
    return this.at === this.bytes.length;
  }

  u8(): number {
    const x = this.view.getUint8(this.at);
    this.at += 1;
    return x;
  }

  u32(): number {
    const x = this.view.getUint32(this.at, true);
    this.at += 4;
    return x;
  }

  num(): number {
    const x = this.view.getFloat64(this.at, true);
    this.at += 8;
    return x;
  }

  big(): bigint {
    const tag = this.u8();
    if (tag === BIG_SAFE) return BigInt(this.num());
    if (tag !== BIG_TEXT) throw new Error(`snapshot: unknown bigint tag ${tag} at byte ${this.at - 1}`);
    return BigInt(this.str());
  }

  /**
   * big(), but a safe value already read through `shared` is returned as the same bigint (bigints are immutable,
   * so sharing one cannot be seen). A restore reads two bigints per order, and most are a few distinct values
   * (0n budgets, one lot's hold): a fresh bigint each is an object the GC copies twice. At most `sharedMax`
   * distinct values are kept; past that, values not yet kept are allocated as big() does.
   */
  bigShared(shared: Map<number, bigint>, sharedMax: number): bigint {
    if (this.view.getUint8(this.at) !== BIG_SAFE) return this.big();
    this.at += 1;
    const x = this.num();
    const known = shared.get(x);
    if (known !== undefined) return known;
    const fresh = BigInt(x);
    if (shared.size < sharedMax) shared.set(x, fresh);
    return fresh;
  }

  str(): string {
    return utf8Strict.decode(this.raw(this.u32()));
  }

  strOrNull(): string | null {
    const length = this.u32();
    return length === NULL_STRING ? null : utf8Strict.decode(this.raw(length));
  }

  raw(length: number): Uint8Array {
    if (this.at + length > this.bytes.length)
      throw new RangeError(`snapshot: ${length} bytes at ${this.at} run past the end (${this.bytes.length})`);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }
}
