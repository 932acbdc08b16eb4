package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// defaultMemProfileRate is runtime.MemProfileRate's default: one sample
// per 512 KiB allocated.
const defaultMemProfileRate = 512 * 1024

// startProfile starts a CPU profile into cpu and arranges a heap profile
// into mem (either may be ""). The returned func stops and writes them.
// The heap profile samples from here on, at Go's default rate unless
// GODEBUG=memprofilerate set one (main turns sampling off otherwise).
func startProfile(cpu, mem string) (func() error, error) {
	if mem != "" && runtime.MemProfileRate == 0 {
		runtime.MemProfileRate = defaultMemProfileRate
	}
	var cf *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cf = f
	}
	return func() error {
		var errs []error
		if cf != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cf.Close())
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err != nil {
				return errors.Join(append(errs, fmt.Errorf("--memprofile: %w", err))...)
			}
			runtime.GC()
			errs = append(errs, pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		}
		return errors.Join(errs...)
	}, nil
}
