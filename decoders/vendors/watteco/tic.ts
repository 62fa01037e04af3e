/**
 * Watteco TIC clusters (TICS'O / TIC'O sensors): content of attribute 0x..00 ("General", type 0x41).
 *
 * Layout (Watteco TIC cluster documentation, https://support.watteco.com/tic/):
 *   descriptor header byte: bit 7 obsolete, bit 6 report type, bit 5 = 1 "list of field indexes" /
 *   0 "bitfield", bits 4..0 = descriptor size in bytes including this header (0 means 8).
 *   - bitfield form: (size-1) bytes, most significant byte first; bit n set ⇒ field n present.
 *   - index form: (size-1) bytes, each the index of a present field.
 *   then the present fields, in increasing index order, each in its own type (big endian).
 * Field tables (index, TIC label, type) are Watteco's published field lists for each meter kind:
 * CBE / "historique" (cluster 0x0054) and Linky "standard" (cluster 0x0056). Energy indexes are in Wh,
 * currents in A, voltages in V, apparent powers in VA, as the meter's TIC gives them.
 * ICE (0x0053), CJE (0x0055) and PME-PMI (0x0057) field lists are not implemented.
 */
import { DecodeError } from '../../core/errors.ts';
import { ByteReader } from '../../core/reader.ts';
import { hex } from './zcl.ts';

type FieldType =
  | 'u8'
  | 'u16'
  | 'u24'
  | 'u32'
  | 'cstring'
  | 'char1'
  | 'date' // season char + YY MM DD hh mm ss
  | 'dateU8'
  | 'dateU16'
  | 'dateU24'
  | 'hex4'
  | 'contractEnum'
  | 'periodEnum'
  | 'dayProfile'; // 11 × (hhmm + 2-byte action, or 0xFF "NONUTILE")

type FieldDef = readonly [label: string, type: FieldType];

/** CBE / historic TIC ("Compteur Bleu Electronique" and Linky in historic mode), cluster 0x0054. */
const CBE_FIELDS: readonly FieldDef[] = [
  ['ADIR1', 'u16'], ['ADIR2', 'u16'], ['ADIR3', 'u16'], ['ADCO', 'cstring'],
  ['OPTARIF', 'cstring'], ['ISOUSC', 'u8'], ['BASE', 'u32'], ['HCHC', 'u32'],
  ['HCHP', 'u32'], ['EJPHN', 'u32'], ['EJPHPM', 'u32'], ['BBRHCJB', 'u32'],
  ['BBRHPJB', 'u32'], ['BBRHCJW', 'u32'], ['BBRHPJW', 'u32'], ['BBRHCJR', 'u32'],
  ['BBRHPJR', 'u32'], ['PEJP', 'u8'], ['GAZ', 'u32'], ['AUTRE', 'u32'],
  ['PTEC', 'cstring'], ['DEMAIN', 'cstring'], ['IINST', 'u16'], ['IINST1', 'u16'],
  ['IINST2', 'u16'], ['IINST3', 'u16'], ['ADPS', 'u16'], ['IMAX', 'u16'],
  ['IMAX1', 'u16'], ['IMAX2', 'u16'], ['IMAX3', 'u16'], ['PMAX', 'u32'],
  ['PAPP', 'u32'], ['HHPHC', 'char1'], ['MOTDETAT', 'cstring'], ['PPOT', 'cstring'],
];

/** Linky "standard" TIC, cluster 0x0056. */
const STD_FIELDS: readonly FieldDef[] = [
  ['ADSC', 'cstring'], ['VTIC', 'u8'], ['DATE', 'date'], ['NGTF', 'contractEnum'],
  ['LTARF', 'periodEnum'], ['EAST', 'u32'], ['EASF01', 'u32'], ['EASF02', 'u32'],
  ['EASF03', 'u32'], ['EASF04', 'u32'], ['EASF05', 'u32'], ['EASF06', 'u32'],
  ['EASF07', 'u32'], ['EASF08', 'u32'], ['EASF09', 'u32'], ['EASF10', 'u32'],
  ['EASD01', 'u32'], ['EASD02', 'u32'], ['EASD03', 'u32'], ['EASD04', 'u32'],
  ['EAIT', 'u32'], ['ERQ1', 'u32'], ['ERQ2', 'u32'], ['ERQ3', 'u32'],
  ['ERQ4', 'u32'], ['IRMS1', 'u16'], ['IRMS2', 'u16'], ['IRMS3', 'u16'],
  ['URMS1', 'u16'], ['URMS2', 'u16'], ['URMS3', 'u16'], ['PREF', 'u8'],
  ['PCOUP', 'u8'], ['SINSTS', 'u24'], ['SINSTS1', 'u24'], ['SINSTS2', 'u24'],
  ['SINSTS3', 'u24'], ['SMAXSN', 'dateU24'], ['SMAXSN1', 'dateU24'], ['SMAXSN2', 'dateU24'],
  ['SMAXSN3', 'dateU24'], ['SMAXSN-1', 'dateU24'], ['SMAXSN1-1', 'dateU24'], ['SMAXSN2-1', 'dateU24'],
  ['SMAXSN3-1', 'dateU24'], ['SINSTI', 'u24'], ['SMAXIN', 'dateU24'], ['SMAXIN-1', 'dateU24'],
  ['CCASN', 'dateU24'], ['CCASN-1', 'dateU24'], ['CCAIN', 'dateU24'], ['CCAIN-1', 'dateU24'],
  ['UMOY1', 'dateU16'], ['UMOY2', 'dateU16'], ['UMOY3', 'dateU16'], ['STGE', 'hex4'],
  ['DPM1', 'dateU8'], ['FPM1', 'dateU8'], ['DPM2', 'dateU8'], ['FPM2', 'dateU8'],
  ['DPM3', 'dateU8'], ['FPM3', 'dateU8'], ['MSG1', 'cstring'], ['MSG2', 'cstring'],
  ['PRM', 'cstring'], ['RELAIS', 'u8'], ['NTARF', 'u8'], ['NJOURF', 'u8'],
  ['NJOURF+1', 'u8'], ['PJOURF+1', 'dayProfile'], ['PPOINTE', 'dayProfile'],
];

/** Enumerated strings the sensor uses for NGTF (contract name) when the byte's bit 7 is clear. */
const STD_CONTRACTS = [
  'BT 4 SUP36', 'BT 5 SUP36', 'HTA 5     ', 'HTA 8     ', 'TJ EJP    ', 'TJ EJP-HH ', 'TJ EJP-PM ', 'TJ EJP-SD ',
  'TJ LU     ', 'TJ LU-CH  ', 'TJ LU-P   ', 'TJ LU-PH  ', 'TJ LU-SD  ', 'TJ MU     ', 'TV A5 BASE', 'TV A8 BASE',
  'BASE', 'H PLEINE-CREUSE', 'HPHC', 'HC', 'HC et Week-End', 'EJP', 'PRODUCTEUR',
];

/** Enumerated strings for LTARF (current tariff period label) when the byte's bit 7 is clear. */
const STD_PERIODS = [
  ' ? ', '000', 'HC', 'HCD', 'HCE', 'HCH', 'HH', 'HH ', 'HP', 'HP ', 'HPD', 'HPE', 'HPH', 'JA', 'JA ', 'P', 'P  ',
  'PM', 'PM ', 'XXX', 'INDEX NON CONSO', 'BASE', 'HEURE CREUSE', 'HEURE PLEINE', 'HEURE NORMALE', 'HEURE POINTE',
  'HC BLEU', 'BUHC', 'HP BLEU', 'BUHP', 'HC BLANC', 'BCHC', 'HP BLANC', 'BCHP', 'HC ROUGE', 'RHC', 'HP ROUGE', 'RHP',
  'HEURE WEEK-END',
];

export const TIC_CLUSTERS: Record<number, { frameType: string; fields?: readonly FieldDef[] }> = {
  0x0053: { frameType: 'ICE' },
  0x0054: { frameType: 'CBE/Historique', fields: CBE_FIELDS },
  0x0055: { frameType: 'CJE' },
  0x0056: { frameType: 'Standard', fields: STD_FIELDS },
  0x0057: { frameType: 'PMEPMI' },
};

export interface TicContent {
  frameType: string;
  descriptor: { bytes: string; indexes: number[] };
  fields: Record<string, unknown>;
  /** Where reading the fields stopped (offset in the attribute content) and why; the fields before it are kept. */
  stopped?: { offset: number; what: string };
}

const p2 = (n: number) => n.toString().padStart(2, '0');

function readDate(r: ByteReader, label: string): { S: string; Date: string } {
  const season = String.fromCharCode(r.u8(`${label} season`));
  const b = r.slice(6, `${label} date`);
  return { S: season, Date: `${p2(b[0]!)}/${p2(b[1]!)}/${p2(b[2]!)} ${p2(b[3]!)}:${p2(b[4]!)}:${p2(b[5]!)}` };
}

function readCString(r: ByteReader, label: string): string {
  const chars: number[] = [];
  for (;;) {
    const c = r.u8(`${label} (zero-terminated string)`);
    if (c === 0) break;
    chars.push(c);
  }
  return Buffer.from(chars).toString('latin1');
}

function readEnum(r: ByteReader, label: string, names: readonly string[]): string {
  const b = r.u8(label);
  if (b & 0x80) return Buffer.from(r.slice(b & 0x7f, label)).toString('latin1');
  const name = names[b];
  if (name === undefined) throw new DecodeError(`TIC field ${label}: enumerated value ${b} out of range (0..${names.length - 1})`);
  return name;
}

function readField(r: ByteReader, label: string, type: FieldType): unknown {
  switch (type) {
    case 'u8':
      return r.u8(label);
    case 'u16':
      return r.u16be(label);
    case 'u24':
      return r.u24be(label);
    case 'u32':
      return r.u32be(label);
    case 'cstring':
      return readCString(r, label);
    case 'char1':
      return String.fromCharCode(r.u8(label));
    case 'date':
      return readDate(r, label);
    case 'dateU8':
      return { ...readDate(r, label), Value: r.u8(label) };
    case 'dateU16':
      return { ...readDate(r, label), Value: r.u16be(label) };
    case 'dateU24':
      return { ...readDate(r, label), Value: r.u24be(label) };
    case 'hex4':
      return hex(r.slice(4, label));
    case 'contractEnum':
      return readEnum(r, label, STD_CONTRACTS);
    case 'periodEnum':
      return readEnum(r, label, STD_PERIODS);
    case 'dayProfile': {
      const entries: string[] = [];
      for (let i = 0; i < 11; i++) {
        const first = r.u8(`${label} entry ${i + 1}`);
        if (first === 0xff) {
          entries.push('NONUTILE');
        } else {
          const rest = r.slice(3, `${label} entry ${i + 1}`);
          entries.push(`${p2(first)}${p2(rest[0]!)}${hex(rest.subarray(1))}`);
        }
      }
      return entries.join(' ');
    }
  }
}

/** Decodes the byte string of a TIC "General" attribute (descriptor + present fields). */
export function decodeTic(clusterId: number, content: Uint8Array): TicContent {
  const cluster = TIC_CLUSTERS[clusterId];
  if (!cluster) throw new DecodeError(`cluster 0x${clusterId.toString(16)} is not a TIC cluster`);
  const r = new ByteReader(content, `TIC ${cluster.frameType}`);
  const header = r.u8('TIC descriptor header');
  const size = (header & 0x1f) === 0 ? 8 : header & 0x1f;
  const body = r.slice(size - 1, 'TIC descriptor');
  const indexes: number[] = [];
  if (header & 0x20) {
    for (const b of body) indexes.push(b);
    for (let i = 1; i < indexes.length; i++) {
      if (indexes[i]! <= indexes[i - 1]!) throw new DecodeError('TIC descriptor: field indexes must be increasing');
    }
  } else {
    for (let byte = body.length - 1, base = 0; byte >= 0; byte--, base += 8) {
      for (let bit = 0; bit < 8; bit++) if (body[byte]! & (1 << bit)) indexes.push(base + bit);
    }
  }
  const descriptor = { bytes: hex(content.subarray(0, size)).toUpperCase(), indexes };
  if (!cluster.fields) {
    throw new DecodeError(`TIC ${cluster.frameType} (cluster 0x${clusterId.toString(16).padStart(4, '0')}) field list not supported yet`);
  }
  const fields: Record<string, unknown> = {};
  const out: TicContent = { frameType: cluster.frameType, descriptor, fields };
  // Lenient: fields are read in order until one cannot be (unknown index, value cut short); those before it stay.
  for (const index of indexes) {
    const def = cluster.fields[index];
    const at = r.offset;
    if (!def) {
      out.stopped = { offset: at, what: `TIC ${cluster.frameType}: unknown field index ${index} (0..${cluster.fields.length - 1}), its size is not known` };
      return out;
    }
    try {
      fields[def[0]] = readField(r, def[0], def[1]);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      out.stopped = { offset: at, what: err.message };
      return out;
    }
  }
  if (r.remaining > 0) out.stopped = { offset: r.offset, what: `TIC ${cluster.frameType}: bytes after the fields the descriptor announces` };
  return out;
}
