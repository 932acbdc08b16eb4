package gencache

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

func TestGetFindsWhatWasPut(t *testing.T) {
	m := New[int](100)
	if _, ok := m.Get("a"); ok {
		t.Fatal("empty map found a")
	}
	m.Put("a", 1, 10)
	m.Put("b", 2, 10)
	for k, want := range map[string]int{"a": 1, "b": 2} {
		if v, ok := m.Get(k); !ok || v != want {
			t.Errorf("Get(%q) = %d, %v; want %d", k, v, ok, want)
		}
	}
	if _, ok := m.Get("c"); ok {
		t.Error("found c, never put")
	}
}

// An entry asked for once a generation outlives any number of entries
// put once; a map that starts again when full would lose it every time.
func TestKeepsWhatIsAskedForAgain(t *testing.T) {
	m := New[string](100) // ten entries of 10 bytes a generation
	m.Put("hot", "h", 10)
	for i := range 10_000 {
		m.Put(fmt.Sprint("cold", i), "c", 10)
		if i%9 == 0 { // every 9 puts: at least once a generation
			if v, ok := m.Get("hot"); !ok || v != "h" {
				t.Fatalf("after %d cold entries, hot is gone", i+1)
			}
		}
	}
}

// What is never asked for again is gone within two generations, and the
// map never holds more than two generations' bytes.
func TestForgetsWithinTwoGenerations(t *testing.T) {
	const max, size = 1000, 7
	m := New[int](max)
	for i := range 5_000 {
		m.Put(fmt.Sprint(i), i, size)
		if held := m.Len() * size; held > 2*max {
			t.Fatalf("after %d puts: %d bytes held, bound %d a generation", i+1, held, max)
		}
		if i >= 2*max/size+1 {
			old := fmt.Sprint(i - 2*max/size - 1)
			if _, ok := m.Get(old); ok {
				t.Fatalf("after %d puts: %s, put two generations ago and never asked for, is still held", i+1, old)
			}
		}
	}
}

// Random gets and puts of random sizes, against what must always hold: a
// hit returns the value last put for the key; no key is in both
// generations; the young generation is charged exactly its entries'
// sizes; and each generation holds at most its bound, or one value
// larger than that.
func TestInvariantsUnderRandomUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		bound, maxSize := 1+rng.IntN(200), 1+rng.IntN(60)
		m := New[int](bound)
		last := map[string]int{} // the value last put for each key
		for step := range 2_000 {
			k := fmt.Sprint(rng.IntN(60))
			if rng.IntN(3) == 0 {
				v := rng.Int()
				m.Put(k, v, 1+rng.IntN(maxSize))
				last[k] = v
			} else if got, ok := m.Get(k); ok && got != last[k] {
				t.Fatalf("trial %d step %d: Get(%s) = %d; last put %d", trial, step, k, got, last[k])
			}
			charged, held := 0, 0
			for k, e := range m.young {
				if _, ok := m.old[k]; ok {
					t.Fatalf("trial %d step %d: %s in both generations", trial, step, k)
				}
				charged += e.size
			}
			for _, e := range m.old {
				held += e.size
			}
			if charged != m.bytes {
				t.Fatalf("trial %d step %d: young charged %d, its entries hold %d", trial, step, m.bytes, charged)
			}
			if held += charged; held > 2*max(bound, maxSize) {
				t.Fatalf("trial %d step %d: %d bytes held, bound %d a generation, values up to %d", trial, step, held, bound, maxSize)
			}
		}
	}
}

// An entry moved back from the old generation keeps the key it was put
// with, not the one it was asked for with: that may be a slice of a much
// larger string (the renderer asks with a slice of a whole rendered part).
func TestPromotionKeepsThePutKey(t *testing.T) {
	m := New[int](10)
	put := strings.Clone("line")
	m.Put(put, 1, 5)
	m.Put("other", 2, 6) // a new generation: "line" is old now
	if _, ok := m.old[put]; !ok {
		t.Fatal("line did not move to the old generation")
	}
	big := strings.Repeat("x", 1<<20) + "line"
	if _, ok := m.Get(big[1<<20:]); !ok {
		t.Fatal("line not found")
	}
	for k := range m.young {
		if k == "line" && unsafe.StringData(k) != unsafe.StringData(put) {
			t.Fatal("the promoted entry is keyed by the caller's slice of a 1 MiB string")
		}
	}
	if _, ok := m.young["line"]; !ok {
		t.Fatal("line was not promoted")
	}
}

// A value larger than a generation fills one by itself: it is found until
// two generations have passed without asking for it.
func TestOversizedValue(t *testing.T) {
	m := New[int](10)
	m.Put("small", 1, 5)
	m.Put("big", 2, 50)
	if _, ok := m.Get("big"); !ok {
		t.Fatal("big value dropped at once")
	}
	m.Put("next", 3, 1) // big is old now
	if _, ok := m.Get("small"); ok {
		t.Error("small survived two generations without being asked for")
	}
	if _, ok := m.Get("big"); !ok {
		t.Fatal("big value dropped by the next put")
	}
}
