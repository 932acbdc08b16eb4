// Package scheduler starts digest editions at their scheduled slots.
//
// A digest's schedule is a 5-field cron spec read in the digest's timezone.
// robfig/cron v3 parses it and computes the next matching time, but only on
// zone-free wall-clock times: this package turns each wall-clock slot into an
// instant itself, because robfig's own Next, run in a zone with daylight
// saving time, fires twice in the autumn's repeated hour and never in the
// spring gap. Its runner is not used either (with Recover before
// SkipIfStillRunning a job that panics once never runs again, and missed
// runs are never caught up).
//
// Data enters as config.Digest values, the clock and the SlotStore that
// records the last slot run per digest; it leaves as calls of the job
// function with a Slot: the digest, the slot's wall-clock key, its instant
// and the previous slot's instant, from which the digest code derives its
// default lookback and keys the edition.
//
// The rules:
//
//   - A slot runs at the first instant the digest's local clock reads the
//     slot's time or later. In the autumn's repeated hour that is the first
//     occurrence, so the slot runs once; a slot in the spring gap runs when
//     the gap ends (01:30 Europe/London on the spring day runs at 02:00 BST).
//     Several gap slots that land on the same instant (a 15-minute schedule
//     across the gap) are one run, keyed by the latest of them.
//   - Each run is keyed by (digest, local wall-clock slot) and a Scheduler
//     never starts one slot twice, even if the clock steps back.
//   - At start, the most recent slot due at or before now runs once if it is
//     within the digest's catch_up window (default 12h) and not recorded as
//     run; older missed slots never run. A digest with no record at all
//     counts as having missed it, so a crash before a digest's first run
//     loses nothing.
//   - A slot is recorded only when its job returns nil, so a run cut short
//     by a shutdown, an error or a panic is caught up at the next start
//     (within catch_up), where the digest code resumes the edition it keyed
//     by the same slot.
//   - One digest never runs twice at once: a slot due while the previous run
//     of the same digest is still going waits for it (queued, not skipped);
//     if more slots fall due meanwhile only the latest waits, the same rule
//     as catch-up. Different digests run concurrently.
//   - A job that panics is recovered and logged; later slots still run.
//
// A `delivery: local` digest is scheduled per zone group: one unit for the
// digest's own timezone and one per zone readers live in (a ZoneSource,
// read at start and every minute), each with the rules above on its own
// wall clock and its own record ("digest@zone"; the digest's own record
// follows the latest slot of any group). A group never recorded counts the
// digest's record at start, so going local does not repeat today's slot;
// a zone that appears while running starts with its next slot. Slots carry
// their Zone, and their Key names it ("2026-11-28T07:00 Pacific/Auckland").
package scheduler
