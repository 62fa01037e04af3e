import { DecodeError } from './errors.ts';

/**
 * Bounds-checked cursor over a payload. Every read names the field it is for, so a truncated
 * frame yields "EM300-ZLD: payload ends at byte 7, field 'temperature' needs 2 bytes".
 */
export class ByteReader {
  offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly context = 'payload',
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number, field: string): number {
    if (this.offset + n > this.bytes.length) {
      throw new DecodeError(
        `${this.context}: payload ends at byte ${this.bytes.length}, field '${field}' at byte ${this.offset} needs ${n} byte(s)`,
      );
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(field: string): number {
    return this.bytes[this.take(1, field)]!;
  }
  i8(field: string): number {
    const v = this.u8(field);
    return v > 0x7f ? v - 0x100 : v;
  }
  u16le(field: string): number {
    const i = this.take(2, field);
    return this.bytes[i]! | (this.bytes[i + 1]! << 8);
  }
  u16be(field: string): number {
    const i = this.take(2, field);
    return (this.bytes[i]! << 8) | this.bytes[i + 1]!;
  }
  i16le(field: string): number {
    const v = this.u16le(field);
    return v > 0x7fff ? v - 0x10000 : v;
  }
  i16be(field: string): number {
    const v = this.u16be(field);
    return v > 0x7fff ? v - 0x10000 : v;
  }
  u24le(field: string): number {
    const i = this.take(3, field);
    return this.bytes[i]! | (this.bytes[i + 1]! << 8) | (this.bytes[i + 2]! << 16);
  }
  u24be(field: string): number {
    const i = this.take(3, field);
    return (this.bytes[i]! << 16) | (this.bytes[i + 1]! << 8) | this.bytes[i + 2]!;
  }
  u32le(field: string): number {
    const i = this.take(4, field);
    return (this.bytes[i]! | (this.bytes[i + 1]! << 8) | (this.bytes[i + 2]! << 16)) + this.bytes[i + 3]! * 0x1000000;
  }
  u32be(field: string): number {
    const i = this.take(4, field);
    return this.bytes[i]! * 0x1000000 + ((this.bytes[i + 1]! << 16) | (this.bytes[i + 2]! << 8) | this.bytes[i + 3]!);
  }
  i32le(field: string): number {
    const v = this.u32le(field);
    return v > 0x7fffffff ? v - 0x100000000 : v;
  }
  i32be(field: string): number {
    const v = this.u32be(field);
    return v > 0x7fffffff ? v - 0x100000000 : v;
  }
  f32le(field: string): number {
    const i = this.take(4, field);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + i, 4).getFloat32(0, true);
  }
  f32be(field: string): number {
    const i = this.take(4, field);
    return new DataView(this.bytes.buffer, this.bytes.byteOffset + i, 4).getFloat32(0, false);
  }
  slice(n: number, field: string): Uint8Array {
    const i = this.take(n, field);
    return this.bytes.subarray(i, i + n);
  }
  skip(n: number, field: string): void {
    this.take(n, field);
  }
}

export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new DecodeError(`malformed hex payload '${hex}': expected an even number of hexadecimal digits`);
  }
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}
