import { codes, hashingBoard, healthySample, last, only, run, s19ProSpec, sleepingSample, expectFault } from './fixtures';

const spec = s19ProSpec();

describe('healthy miner', () => {
  it('has no faults', () => {
    expect(codes(last(spec, [healthySample()]))).toEqual([]);
  });
});

describe('fans', () => {
  const fanStopped = healthySample({ fans: [5400, 5400, 0, 5400].map((rpm, i) => ({ index: i + 1, rpm })) });

  it('raises FAN_STOPPED for the stopped fan while hashing and clears it when it turns again', () => {
    const [stopped, turning] = run(spec, [fanStopped, healthySample()]);
    const fault = expectFault(stopped!, 'FAN_STOPPED', { part: 'fan 3', severity: 'critical', says: ['fan 3 stopped: 0 rpm'] });
    expect(fault.details).toEqual({ rpm: 0, limitRpm: 300 });
    expect(codes(turning!)).toEqual([]);
  });

  it('judges fans while booting too', () => {
    const booting = { ...fanStopped, mode: 'booting' as const, hashrateThs: 0, uptimeS: 40 };
    expect(codes(last(spec, [booting]))).toEqual(['FAN_STOPPED@fan 3']);
  });

  it('raises FAN_MISSING when fewer fans report than the unit has', () => {
    const result = last(spec, [healthySample({ fans: [1, 2, 3].map((index) => ({ index, rpm: 5400 })) })]);
    expectFault(result, 'FAN_MISSING', { severity: 'critical', says: ['reports 3 of 4 fans'] });
  });

  it('ignores unused slots reading 0, but counts a real fan among them that stopped', () => {
    const s9 = s19ProSpec({ model: 'Antminer S9', fans: 2, nominalThs: 13.5 });
    const bosFans = (rpms: number[]) => healthySample({ hashrateThs: 13.6, fans: rpms.map((rpm, i) => ({ index: i, rpm })) });
    expect(codes(last(s9, [bosFans([0, 0, 5880, 6000])]))).toEqual([]);
    const oneStopped = only(last(s9, [bosFans([0, 0, 0, 6000])]), 'FAN_STOPPED', 'fans');
    expect(oneStopped.message).toContain('only 1 of 2 fans turn (slots 0, 1, 2 read below 300 rpm)');
  });

  it('never raises fan faults for hydro or immersion units', () => {
    // Also when the inventory copied a fan count from the air-cooled sibling model.
    for (const [cooling, fans] of [['hydro', 0], ['hydro', 4], ['immersion', 4]] as const) {
      const liquidCooled = s19ProSpec({ cooling, fans });
      expect(codes(last(liquidCooled, [healthySample({ fans: [1, 2, 3, 4].map((index) => ({ index, rpm: 0 })) })]))).toEqual([]);
      expect(codes(last(liquidCooled, [healthySample({ fans: [] })]))).toEqual([]);
    }
  });

  it('never raises fan faults for a sleeping unit', () => {
    expect(codes(last(spec, [sleepingSample()]))).toEqual(['MINER_SLEEPING']);
    expect(codes(last(spec, [sleepingSample({ fans: [] })]))).toEqual(['MINER_SLEEPING']);
  });

  it('clears a fan fault when the unit goes to sleep', () => {
    const [, asleep] = run(spec, [fanStopped, sleepingSample()]);
    expect(codes(asleep!)).toEqual(['MINER_SLEEPING']);
  });
});

describe('chips', () => {
  it('raises CHIPS_DEAD per board when chips are missing or bad while it hashes, and clears it', () => {
    const missing = healthySample({
      boards: [hashingBoard(1), hashingBoard(2, { chipsFound: 110, chipsOk: 110 }), hashingBoard(3, { chipsBad: 2, chipsOk: 112 })],
    });
    const [dead, repaired] = run(spec, [missing, healthySample()]);
    expect(codes(dead!)).toEqual(['CHIPS_DEAD@board 2', 'CHIPS_DEAD@board 3']);
    expectFault(dead!, 'CHIPS_DEAD', { part: 'board 2', severity: 'warning', says: ['board 2 has 4 of 114 chips dead (110 found, 110 ok, 0 bad)'] });
    expect(only(dead!, 'CHIPS_DEAD', 'board 3').message).toContain('2 of 114 chips dead');
    expect(codes(repaired!)).toEqual([]);
  });

  it('ignores chips marked bad while the miner does not hash', () => {
    // S19 overheating: hashing stopped, every chip reads 'x'.
    const stopped = healthySample({
      hashrateThs: 0,
      boards: [1, 2, 3].map((index) => hashingBoard(index, { hashrateThs: 0, chipsOk: 0, chipsBad: 114 })),
    });
    expect(codes(last(spec, [stopped]))).toEqual(['MINER_NOT_HASHING']);
    expect(codes(last(spec, [sleepingSample()]))).toEqual(['MINER_SLEEPING']);
  });

  it('ignores a board that does not hash even while the others do', () => {
    const boardIdle = healthySample({ boards: [hashingBoard(1), hashingBoard(2, { hashrateThs: 0, chipsBad: 114 }), hashingBoard(3)] });
    expect(codes(last(spec, [boardIdle]))).toEqual([]);
  });

  it("does not trust 'x' marks on Hiveon, only the chips found", () => {
    const hiveon = healthySample({ firmware: 'hiveon', boards: [hashingBoard(1, { chipsOk: 20, chipsBad: 94 }), hashingBoard(2), hashingBoard(3)] });
    expect(codes(last(spec, [hiveon]))).toEqual([]);
    const hiveonShort = healthySample({ firmware: 'hiveon', boards: [hashingBoard(1, { chipsFound: 100 }), hashingBoard(2), hashingBoard(3)] });
    expect(codes(last(spec, [hiveonShort]))).toEqual(['CHIPS_DEAD@board 1']);
  });
});

describe('boards', () => {
  it('raises BOARD_MISSING for the slot that does not answer, and clears it', () => {
    const absent = healthySample({
      hashrateThs: 73.4,
      boards: [hashingBoard(1), { index: 2, present: false, chipsFound: 0 }, hashingBoard(3)],
    });
    const [missing, back] = run(spec, [absent, healthySample()]);
    expectFault(missing!, 'BOARD_MISSING', { part: 'board 2', severity: 'critical', says: ['board 2 does not answer'] });
    expect(codes(back!)).toEqual([]);
  });

  it('counts boards dropped from the list (Whatsminer edevs)', () => {
    const dropped = healthySample({ hashrateThs: 73.4, boards: [hashingBoard(0), hashingBoard(2)] });
    const fault = only(last(spec, [dropped]), 'BOARD_MISSING', 'boards');
    expect(fault.message).toContain('only 2 of 3 hashboards answer (answering: 0, 2)');
  });

  it('does not guess which slot is dead when padding slots are also empty', () => {
    const padded = healthySample({
      hashrateThs: 73.4,
      boards: [hashingBoard(1), { index: 2, present: false }, hashingBoard(3), { index: 4, present: false }],
    });
    expect(codes(last(spec, [padded]))).toEqual(['BOARD_MISSING@boards']);
    const full = healthySample({ boards: [hashingBoard(1), hashingBoard(2), hashingBoard(3), { index: 4, present: false }] });
    expect(codes(last(spec, [full]))).toEqual([]);
  });

  it('raises no BOARD_MISSING while sleeping or booting', () => {
    expect(codes(last(spec, [sleepingSample()]))).toEqual(['MINER_SLEEPING']);
    const booting = sleepingSample({ mode: 'booting', uptimeS: 30, fans: [1, 2, 3, 4].map((index) => ({ index, rpm: 6000 })) });
    expect(codes(last(spec, [booting]))).toEqual([]);
  });
});

describe('temperatures', () => {
  const withBoard1 = (board: Partial<Parameters<typeof hashingBoard>[1]>) =>
    healthySample({ boards: [hashingBoard(1, board), hashingBoard(2), hashingBoard(3)] });

  it('raises CHIP_OVERHEAT and BOARD_OVERHEAT per board at the thresholds and clears them below', () => {
    const [hot, cool] = run(spec, [withBoard1({ chipTempC: 97, boardTempC: 85 }), withBoard1({ chipTempC: 88, boardTempC: 70 })]);
    expectFault(hot!, 'CHIP_OVERHEAT', { part: 'board 1', severity: 'critical', says: ['board 1 chips at 97 °C (limit 95 °C)', 'check intake air, fans and filters'] });
    expect(only(hot!, 'BOARD_OVERHEAT', 'board 1').message).toContain('board 1 PCB at 85 °C (limit 85 °C)');
    expect(codes(cool!)).toEqual([]);
  });

  it('keeps an overheat while the reading hovers just under the limit', () => {
    const [hot, hovering, cooled] = run(spec, [withBoard1({ chipTempC: 96 }), withBoard1({ chipTempC: 94 }), withBoard1({ chipTempC: 92 })]);
    expect(codes(hot!)).toEqual(['CHIP_OVERHEAT@board 1']);
    expect(codes(hovering!)).toEqual(['CHIP_OVERHEAT@board 1']);
    expect(codes(cooled!)).toEqual([]);
    expect(codes(last(spec, [withBoard1({ chipTempC: 94 })]))).toEqual([]);
  });

  it('keeps judging overheat after the miner stopped hashing because of it', () => {
    const stoppedHot = healthySample({
      hashrateThs: 0,
      boards: [1, 2, 3].map((index) => hashingBoard(index, { hashrateThs: 0, chipTempC: 101 })),
    });
    expect(codes(last(spec, [stoppedHot]))).toEqual([
      'CHIP_OVERHEAT@board 1',
      'CHIP_OVERHEAT@board 2',
      'CHIP_OVERHEAT@board 3',
      'MINER_NOT_HASHING',
    ]);
  });

  it('raises TEMP_SENSOR_FAULT for impossible readings on a hashing board, never an overheat', () => {
    for (const chipTempC of [-83, 0, 151, Number.NaN]) {
      const result = last(spec, [withBoard1({ chipTempC })]);
      expect(codes(result)).toEqual(['TEMP_SENSOR_FAULT@board 1']);
    }
    expectFault(last(spec, [withBoard1({ chipTempC: -83, boardTempC: 0 })]), 'TEMP_SENSOR_FAULT', { part: 'board 1', severity: 'warning', says: ['PCB 0 °C, chips -83 °C'] });
  });

  it('neither raises nor clears an overheat on an impossible reading', () => {
    const [hot, broken, real] = run(spec, [withBoard1({ chipTempC: 99 }), withBoard1({ chipTempC: -83 }), withBoard1({ chipTempC: 70 })]);
    expect(codes(broken!)).toEqual(['CHIP_OVERHEAT@board 1', 'TEMP_SENSOR_FAULT@board 1']);
    expect(only(broken!, 'CHIP_OVERHEAT', 'board 1')).toEqual(only(hot!, 'CHIP_OVERHEAT', 'board 1'));
    expect(codes(real!)).toEqual([]);
  });

  it('does not call cold readings of an idle board sensor faults', () => {
    const coldIdle = healthySample({
      mode: 'idle',
      hashrateThs: 0,
      boards: [1, 2, 3].map((index) => hashingBoard(index, { hashrateThs: 0, boardTempC: -1, chipTempC: 0 })),
    });
    expect(codes(last(spec, [coldIdle]))).toEqual(['MINER_NOT_HASHING']);
  });

  it('advises on coolant for hydro units', () => {
    const hydro = s19ProSpec({ cooling: 'hydro', fans: 0 });
    expect(only(last(hydro, [withBoard1({ boardTempC: 90 })]), 'BOARD_OVERHEAT', 'board 1').message).toContain('coolant');
  });
});
