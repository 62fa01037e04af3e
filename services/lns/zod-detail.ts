import type { z } from 'zod';

/** "deviceInfo.devEui: expected 16 hexadecimal characters; fPort: expected number, received string" */
export function zodDetail(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > max) parts.push(`… ${error.issues.length - max} more`);
  return parts.join('; ');
}
