/** Notice titles name the place staff walk to: a miner's slot, or for a container-level fault the sensor. */
import { noticeTitle, type Notice } from '../src/notify/notice';
import type { Alert } from '../src/types';

const alert = (labels: Record<string, string>): Alert => ({ fingerprint: labels.miner ?? 'x', labels, annotations: {}, state: 'firing', activeAt: 0, firedAt: 0, flaps: 0 });
const notice = (firing: Alert[]): Notice => ({
  logKey: 'k',
  receiver: { name: 'oncall' },
  integration: 'email',
  group: { key: 'g', id: 'g' },
  firing,
  resolved: [],
  firingHash: 'h',
  repeat: false,
  lastSentAt: 0,
  quiet: false,
  kept: [],
});

test("a miner fault names rack, shelf and slot; a door names its sensor, not 'rack - shelf - slot -'", () => {
  const fan = alert({ site: 'north-1', container: 'C01', rack: 'R01', shelf: 'S1', slot: '1', miner: 'C01-R01-S1-1', fault: 'FAN_STOPPED', part: 'fan 0' });
  expect(noticeTitle(notice([fan]))).toBe('[FIRING:1] north-1 container C01 FAN_STOPPED: rack R01 shelf S1 slot 1 fan 0 (C01-R01-S1-1)');
  const door = alert({ site: 'north-1', container: 'C01', rack: '-', shelf: '-', slot: '-', miner: 'C01', fault: 'DOOR_OPEN', part: 'C01-door' });
  expect(noticeTitle(notice([door]))).toBe('[FIRING:1] north-1 container C01 DOOR_OPEN: C01-door');
});
