package gencache

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
		if i%9 == 0 { // less often than a generation fills
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

// Against a model: whatever the order of gets and puts, a hit returns
// the value last put for the key, and a key asked for since its
// generation began is never lost before its generation ends.
func TestMatchesAModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		max := 1 + rng.IntN(200)
		m := New[int](max)
		last := map[string]int{} // the value last put for each key
		for step := range 2_000 {
			k := fmt.Sprint(rng.IntN(60))
			if rng.IntN(3) == 0 {
				v := rng.Int()
				m.Put(k, v, 1+rng.IntN(40))
				last[k] = v
				if got, ok := m.Get(k); !ok || got != v {
					t.Fatalf("trial %d step %d: Get(%s) right after Put = %d, %v; want %d", trial, step, k, got, ok, v)
				}
				continue
			}
			if got, ok := m.Get(k); ok && got != last[k] {
				t.Fatalf("trial %d step %d: Get(%s) = %d; last put %d", trial, step, k, got, last[k])
			}
		}
	}
}

// A value larger than a generation is still kept until the next put.
func TestOversizedValueKeptUntilNextPut(t *testing.T) {
	m := New[int](10)
	m.Put("small", 1, 5)
	m.Put("big", 2, 50)
	if _, ok := m.Get("big"); !ok {
		t.Fatal("big value dropped at once")
	}
	if _, ok := m.Get("small"); !ok {
		t.Fatal("small value dropped by the first rotation")
	}
}
