/** Thrown inside a decoder for a payload that does not match the vendor's format; the boundary turns it into `errors`. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}
