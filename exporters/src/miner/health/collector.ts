import { describeLocation, faultKey, severityOf, type Fault, type FaultCode, type MinerSpec } from '@flymining/shared';

export type FaultDetails = Record<string, number | string>;

/**
 * Builds the next set of active faults of one miner. A rule either raises a fault (its condition is observed now),
 * keeps the previous one (the reading is unknown or ambiguous, so nothing is decided), or does neither (cleared).
 * A fault raised again keeps the `since` of its episode.
 */
export class FaultCollector {
  private readonly next: Record<string, Fault> = {};
  /** Built at the first fault raised: most evaluations of a sweep raise none. */
  private where: string | undefined;
  /** No fault was active before (the common case): nothing to look up. */
  private readonly nonePrevious: boolean;

  constructor(
    private readonly spec: MinerSpec,
    private readonly previous: Readonly<Record<string, Fault>>,
    private readonly now: number,
  ) {
    this.nonePrevious = isEmpty(previous);
  }

  raise(code: FaultCode, part: string, problem: string, details?: FaultDetails): void {
    const key = faultKey({ minerId: this.spec.id, code, part });
    const fault: Fault = {
      code,
      severity: severityOf(code),
      minerId: this.spec.id,
      location: this.spec.location,
      part,
      message: `${(this.where ??= `${describeLocation(this.spec.location)} (${this.spec.model}, ${this.spec.id})`)}: ${problem}`,
      since: this.previous[key]?.since ?? this.now,
    };
    if (details) fault.details = details;
    this.next[key] = fault;
  }

  /** Carries over, unchanged, the previous faults with this code (and this part, when given). */
  keep(code: FaultCode, part?: string): void {
    if (this.nonePrevious) return;
    for (const [key, fault] of Object.entries(this.previous)) {
      if (fault.code === code && (part === undefined || fault.part === part)) this.next[key] = fault;
    }
  }

  /** Carries over every previous fault except those with the given codes. */
  keepAllExcept(codes: ReadonlySet<FaultCode>): void {
    if (this.nonePrevious) return;
    for (const [key, fault] of Object.entries(this.previous)) {
      if (!codes.has(fault.code)) this.next[key] = fault;
    }
  }

  /**
   * Adds details to the faults with one of these codes raised or kept so far in this evaluation (copies: a kept
   * fault is also the previous state). Returns how many there were.
   */
  annotate(codes: readonly FaultCode[], details: FaultDetails): number {
    let n = 0;
    for (const [key, fault] of Object.entries(this.next)) {
      if (!codes.includes(fault.code)) continue;
      this.next[key] = { ...fault, details: { ...fault.details, ...details } };
      n += 1;
    }
    return n;
  }

  wasActive(code: FaultCode, part: string): Fault | undefined {
    if (this.nonePrevious) return undefined;
    return this.previous[faultKey({ minerId: this.spec.id, code, part })];
  }

  result(): Record<string, Fault> {
    return this.next;
  }
}

function isEmpty(record: Readonly<Record<string, unknown>>): boolean {
  for (const key in record) if (Object.prototype.hasOwnProperty.call(record, key)) return false;
  return true;
}
