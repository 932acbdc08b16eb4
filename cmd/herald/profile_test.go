package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// main turns heap sampling off; --memprofile turns it back on at Go's
// default rate (or keeps a rate GODEBUG set) and writes a profile, and
// without it sampling stays off.
func TestMemProfileSamplingOnlyWhenAsked(t *testing.T) {
	saved := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = saved })
	path := filepath.Join(t.TempDir(), "mem.pprof")

	// rateWhile returns the sampling rate while a profile into mem runs,
	// starting from rate.
	rateWhile := func(rate int, mem string) int {
		t.Helper()
		runtime.MemProfileRate = rate
		stop, err := startProfile("", mem)
		if err != nil {
			t.Fatal(err)
		}
		got := runtime.MemProfileRate
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := rateWhile(0, ""); got != 0 {
		t.Errorf("without --memprofile: MemProfileRate = %d, want 0", got)
	}
	if got := rateWhile(0, path); got != defaultMemProfileRate {
		t.Errorf("with --memprofile: MemProfileRate = %d, want %d", got, defaultMemProfileRate)
	}
	if got := rateWhile(4096, path); got != 4096 { // as GODEBUG=memprofilerate=4096 leaves it
		t.Errorf("with a rate set: MemProfileRate = %d, want 4096 kept", got)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) { // pprof's gzipped protobuf
		t.Errorf("profile is not gzip: % x", b[:min(len(b), 8)])
	}
}
