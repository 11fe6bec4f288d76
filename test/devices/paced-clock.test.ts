// PacedClock: simulated time moves by the simulation's sleeps and by idle gaps, not by the computing
// between sleeps; an AcceleratedClock moves by real time x factor whatever happens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AcceleratedClock, PacedClock } from '../../src/devices/types.js';

/** Keep the thread busy for ms of real time (a starved or computing process). */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

test('PacedClock: sleeps move simulated time exactly, computing between them does not; an idle gap counts x factor; advance jumps', async () => {
  const t0 = Date.UTC(2024, 0, 15, 20);
  const paced = new PacedClock(20, t0, 400);
  const accel = new AcceleratedClock(20, t0);
  for (let k = 0; k < 3; k++) {
    await paced.sleep(2000); // a 2 s exposure: 0.1 s of real time
    await accel.sleep(2000);
    busy(150); // 150 ms of computing (3 s simulated on the accelerated clock)
  }
  assert.equal(paced.now() - t0, 6000, 'three 2 s sleeps, nothing for the computing');
  assert.ok(accel.now() - t0 >= 6000 + 3 * 150 * 20, `the accelerated clock counts the computing: ${accel.now() - t0} ms`);
  // the rig sits idle (no sleep for longer than idleMs): that time passes on the sky, x factor
  const before = paced.now();
  await new Promise((r) => setTimeout(r, 600));
  const idle = paced.now() - before;
  assert.ok(idle >= 600 * 20 && idle < 5000 * 20, `idle 600 ms real -> ${idle} ms simulated`);
  paced.advance(3_600_000);
  assert.ok(paced.now() - before >= 3_600_000 + idle);
});
