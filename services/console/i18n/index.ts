import type { Lang } from '../../registry/names.ts';
import { en } from './en.ts';
import { fr, type Messages } from './fr.ts';

export type { Messages };
export const MESSAGES: Record<Lang, Messages> = { fr, en };
