// Package batchsched runs a batch command under the kernel's batch
// scheduling class: on Linux, every thread of the process moves from
// SCHED_OTHER to SCHED_BATCH (sched(7)), keeping its nice value.
//
// Why: herald send-now is a batch job whose threads wake each other and
// the relay for every message (a reply read, a result recorded, the next
// message handed over). Under SCHED_OTHER each of those wakeups may
// preempt whatever runs on that core: herald's own threads, or a relay on
// the same host, the usual place for a local MTA (smtp-sink in
// bench/send.sh). SCHED_BATCH keeps the process's share of the CPU (its
// nice value is unchanged) and only stops its wakeups from preempting:
// on the bench's two cores, send-now's involuntary context switches fell
// from 57,000 to 4,000 a 100k edition and it sent 8 % faster
// (docs/benchmarks.md). A relay on another host sees no difference.
//
// A thread already under another policy (an operator's chrt, a real-time
// class) is left as it is. Elsewhere than Linux, Enter does nothing.
package batchsched
