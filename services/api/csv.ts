/**
 * The columns of the open-data CSV exports (written by services/csv.ts). They are documented in docs/api.md and a
 * test checks that the document and these constants agree.
 */
export const READINGS_CSV_COLUMNS = ['time_utc', 'tenant', 'site', 'dev_eui', 'device', 'channel', 'quantity', 'value', 'unit'] as const;
export const DAILY_CSV_COLUMNS = ['date', 'time_zone', 'tenant', 'site', 'dev_eui', 'device', 'channel', 'quantity', 'statistic', 'value', 'unit'] as const;
