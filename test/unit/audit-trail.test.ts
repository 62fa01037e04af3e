/** The audit trail's pure parts: its lines, the key id claimed at a failed sign-in, the CSV, and the writer's split. */
import { describe, expect, it } from 'vitest';
import { actionLines, auditCsv, auditJsonLines, claimedKeyId, type AuditRecord } from '../../services/audit/trail.ts';
import { splitMeasurement } from '../../services/storage/writer.ts';

const at = new Date('2026-12-06T07:00:00.123Z');

describe('action lines', () => {
  it('one line per commune, tags escaped, the comment on one line, no key secret anywhere', () => {
    const lines = actionLines(
      { actor: { keyId: 'aoperator01', name: 'Astreinte, eau "A"' }, action: 'alert.acknowledge', tenant: new Set(['saint veilleur', 'b']), target: 'x', ip: '10.0.0.1', outcome: 'success', detail: 'ligne 1\nligne 2', status: 200 },
      at,
    );
    expect(lines).toEqual([
      'action_log,tenant=saint\\ veilleur,action=alert.acknowledge,outcome=success,source=api key_id="aoperator01",actor="Astreinte, eau \\"A\\"",ip="10.0.0.1",target="x",status=200i,detail="ligne 1 ligne 2" 1796540400123',
      'action_log,tenant=b,action=alert.acknowledge,outcome=success,source=api key_id="aoperator01",actor="Astreinte, eau \\"A\\"",ip="10.0.0.1",target="x",status=200i,detail="ligne 1 ligne 2" 1796540400123',
    ]);
    // No commune (an instance-wide key, a failed sign-in): the instance's record.
    expect(actionLines({ actor: { name: '' }, action: 'console.sign-in', tenant: undefined, ip: '::1', outcome: 'refused', source: 'console' }, at)[0]).toMatch(/^action_log,tenant=\*,action=console\.sign-in,outcome=refused,source=console /);
  });

  it('keeps only the public id of a presented key', () => {
    expect(claimedKeyId(`vk_badmin0001_${'Z'.repeat(43)}`)).toBe('badmin0001');
    expect(claimedKeyId('not a key')).toBe('');
    expect(claimedKeyId(undefined)).toBe('');
  });
});

describe('exports', () => {
  const record: AuditRecord = { at, tenant: 'saint-veilleur', action: 'alert.resolve', outcome: 'success', source: 'console', keyId: 'k1', actor: '@SUM(A1)', ip: '127.0.0.1', target: 't', status: null, detail: '-2+3' };
  it('CSV cells that a spreadsheet would run start with an apostrophe', () => {
    expect(auditCsv([record]).split('\r\n')[1]).toBe("2026-12-06T07:00:00.123Z,saint-veilleur,alert.resolve,success,console,k1,'@SUM(A1),127.0.0.1,t,,'-2+3");
  });
  it('JSON lines: one object per line', () => {
    expect(JSON.parse(auditJsonLines([record, record]).split('\n')[1]!)).toMatchObject({ time: '2026-12-06T07:00:00.123Z', actor: '@SUM(A1)', product: 'veilleur', event: 'audit' });
  });
});

describe('the spool writer moves a measurement to its own policy', () => {
  it('splits a batch into the lines of a measurement and the others, a prefix is not a match', () => {
    const body = Buffer.from('water,t=a v=1 1\naction_log,t=a k="x" 2\naction_logs,t=a v=1 3\naction_log k="y" 4\n');
    const { of, rest } = splitMeasurement(body, 'action_log');
    expect(of?.toString()).toBe('action_log,t=a k="x" 2\naction_log k="y" 4\n');
    expect(rest.toString()).toBe('water,t=a v=1 1\naction_logs,t=a v=1 3\n');
    expect(splitMeasurement(Buffer.from('water v=1 1\n'), 'action_log')).toEqual({ of: undefined, rest: Buffer.from('water v=1 1\n') });
  });
});
