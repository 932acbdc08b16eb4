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

	runtime.MemProfileRate = 0
	stop, err := startProfile("", "")
	if err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != 0 {
		t.Errorf("without --memprofile: MemProfileRate = %d, want 0", runtime.MemProfileRate)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "mem.pprof")
	stop, err = startProfile("", path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != defaultMemProfileRate {
		t.Errorf("with --memprofile: MemProfileRate = %d, want %d", runtime.MemProfileRate, defaultMemProfileRate)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	runtime.MemProfileRate = 4096 // as GODEBUG=memprofilerate=4096 leaves it
	stop, err = startProfile("", path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.MemProfileRate != 4096 {
		t.Errorf("with a rate set: MemProfileRate = %d, want 4096 kept", runtime.MemProfileRate)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) { // pprof's gzipped protobuf
		t.Errorf("profile is not gzip: % x", b[:min(len(b), 8)])
	}
}
