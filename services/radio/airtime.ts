/**
 * LoRa time on air (Semtech SX1276 datasheet §4.1.1.7, AN1200.13), LoRaWAN settings: 8-symbol preamble, explicit
 * header, CRC on (uplink), coding rate 4/5, low-data-rate optimisation at SF11/SF12 on 125 kHz.
 * PHYPayload = 13 bytes of LoRaWAN overhead + FRMPayload (FOpts not known from the application side: a lower bound).
 */
export function loraAirtimeMs(frmPayloadBytes: number, spreadingFactor: number, bandwidthHz = 125_000, codingRate = 1): number {
  const pl = 13 + frmPayloadBytes;
  const tSym = (2 ** spreadingFactor / bandwidthHz) * 1000;
  const de = bandwidthHz <= 125_000 && spreadingFactor >= 11 ? 1 : 0;
  const crc = 1;
  const ih = 0;
  const nPayload = 8 + Math.max(Math.ceil((8 * pl - 4 * spreadingFactor + 28 + 16 * crc - 20 * ih) / (4 * (spreadingFactor - 2 * de))) * (codingRate + 4), 0);
  return (8 + 4.25) * tSym + nPayload * tSym;
}
