// Command herald turns a publisher's SQLite article database into RSS, Atom
// and JSON feeds and emailed digests. This package only wires flags and
// config to the packages that do the work; see Main.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

func main() {
	// No heap sampling unless --memprofile asks (startProfile) or
	// GODEBUG=memprofilerate sets a rate: its per-stack records cost about
	// 2-3 MB of resident memory in a long send-now, against a 40 MB budget
	// (docs/benchmarks.md).
	if !strings.Contains(os.Getenv("GODEBUG"), "memprofilerate=") {
		runtime.MemProfileRate = 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
