// Command herald turns a publisher's SQLite article database into RSS, Atom
// and JSON feeds and emailed digests. This package only wires flags and
// config to the packages that do the work; see Main.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
