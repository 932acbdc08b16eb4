// Package testkit holds what herald's tests share: building the herald
// binary once per test run, picking a free loopback address, golden files
// (-update), a clock that moves only when told and a log sink safe for
// concurrent writers. Only _test files import it.
package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// HeraldBinary builds cmd/herald once per test process and returns its
// path. Call RemoveBinary from TestMain to delete it after the run.
func HeraldBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/heraldnews/herald/cmd/herald").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
}

// RemoveBinary deletes the binary HeraldBinary built, if any.
func RemoveBinary() {
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
}

// FreeAddr returns a loopback address nobody listens on right now.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
