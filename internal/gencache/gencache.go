// Package gencache is a map bounded in bytes that keeps what is asked for
// again: a young and an old generation. New entries go to the young one;
// when it is full it becomes the old one and the old one is dropped, and
// an entry found in the old generation moves back to the young. So an
// entry asked for at least once a generation stays, and one put once and
// never asked for again is gone within two, where a map that starts again
// when full would drop the entries in use with the rest.
//
// A Map is not safe for concurrent use: its users hold their own locks.
package gencache

// Map maps strings to values of type V, holding at most twice its bound in
// charged bytes (one full generation and one filling); a value larger
// than the bound fills a generation by itself.
type Map[V any] struct {
	young, old map[string]entry[V]
	bytes, max int // charged to young; its bound
}

// entry keeps the key as it was put: a key passed to Get may be a slice of
// a much larger string, which a map key would keep alive.
type entry[V any] struct {
	key  string
	v    V
	size int
}

// New returns an empty Map whose generations hold max bytes each.
func New[V any](max int) *Map[V] {
	return &Map[V]{young: map[string]entry[V]{}, old: map[string]entry[V]{}, max: max}
}

// Get returns the value for k, keeping it young.
func (m *Map[V]) Get(k string) (V, bool) {
	if e, ok := m.young[k]; ok {
		return e.v, true
	}
	if e, ok := m.old[k]; ok {
		delete(m.old, k)
		m.put(e)
		return e.v, true
	}
	var zero V
	return zero, false
}

// Put sets v for k, charging size bytes to the young generation; k is
// kept as given.
func (m *Map[V]) Put(k string, v V, size int) {
	if e, ok := m.young[k]; ok {
		delete(m.young, k)
		m.bytes -= e.size
	}
	delete(m.old, k)
	m.put(entry[V]{key: k, v: v, size: size})
}

func (m *Map[V]) put(e entry[V]) {
	if m.bytes+e.size > m.max && len(m.young) > 0 {
		clear(m.old) // keeps its room for the next generation
		m.young, m.old = m.old, m.young
		m.bytes = 0
	}
	m.young[e.key] = e
	m.bytes += e.size
}

// Len is the number of entries held.
func (m *Map[V]) Len() int { return len(m.young) + len(m.old) }
