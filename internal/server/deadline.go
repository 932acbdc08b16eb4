package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Coarse deadlines.
//
// net/http moves a connection's deadlines on every request: the write
// deadline (WriteTimeout) when the request is read and back to none when
// the response is done, the read deadline to the whole request's end
// (ReadTimeout), to the idle limit (IdleTimeout) and to the header limit
// (ReadHeaderTimeout). Each future deadline re-arms a runtime timer, four
// per request, and that was the largest part of what a 304 cost herald
// over a bare server (docs/benchmarks.md).
//
// So the listener's connections keep their future deadlines as numbers,
// and one sweeper per listener enforces them: every tick it reads the
// time once and wakes the blocked reads and writes of each connection
// whose deadline has passed, by setting a deadline in the past on the
// socket. A deadline is thus enforced up to one tick late, and never
// early. Deadlines already in the past (net/http's "abort the background
// read" uses one) and clearing a deadline reach the socket at once, as
// before: neither arms a timer.

// deadlineTick is how often the sweeper looks; a deadline may be missed by
// up to this much.
const deadlineTick = 250 * time.Millisecond

// coarseListener wraps the connections it accepts in coarseConn and runs
// their sweeper until it is closed.
//
// Times are kept as monotonic offsets from base (stamp), as the runtime
// keeps a socket's deadline: a step of the wall clock neither fires every
// deadline at once nor postpones them.
type coarseListener struct {
	net.Listener
	tick time.Duration
	base time.Time
	now  atomic.Int64 // the sweeper's clock (a stamp), at most one tick behind

	mu      sync.Mutex
	conns   map[*coarseConn]struct{}
	stopped bool // the sweeper has ended: Accept refuses

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

func newCoarseListener(ln net.Listener, tick time.Duration) *coarseListener {
	l := &coarseListener{Listener: ln, tick: tick, base: time.Now(), conns: map[*coarseConn]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{})}
	l.now.Store(l.stamp(l.base))
	go l.sweep()
	return l
}

// stamp is t as a deadline: its monotonic offset from base, never 0
// (which means no deadline). A time without a monotonic reading (a
// deadline long past, like net/http's time.Unix(1, 0)) compares by the
// wall clock, far in the past.
func (l *coarseListener) stamp(t time.Time) int64 {
	d := int64(t.Sub(l.base))
	if d >= 0 {
		d++
	}
	return d
}

// clock is the time now, as a stamp.
func (l *coarseListener) clock() int64 { return l.stamp(time.Now()) }

func (l *coarseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &coarseConn{Conn: c, l: l}
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns[cc] = struct{}{}
	l.mu.Unlock()
	return cc, nil
}

// Close closes the listener. The sweeper goes on until the connections
// it accepted are closed too: a graceful shutdown still bounds them.
func (l *coarseListener) Close() error {
	err := l.Listener.Close()
	l.stopOnce.Do(func() { close(l.stop) })
	return err
}

func (l *coarseListener) sweep() {
	defer close(l.done)
	t := time.NewTicker(l.tick)
	defer t.Stop()
	stop := l.stop
	var expired []*coarseConn
	for {
		select {
		case <-stop:
			stop = nil // from now on, end when no connection is left
		case now := <-t.C:
			n := l.stamp(now)
			l.now.Store(n)
			expired = expired[:0]
			l.mu.Lock()
			for c := range l.conns {
				if c.due(c.rd.Load(), n) || c.due(c.wd.Load(), n) {
					expired = append(expired, c)
				}
			}
			l.mu.Unlock()
			for _, c := range expired {
				c.enforce(n)
			}
		}
		if stop == nil {
			l.mu.Lock()
			l.stopped = len(l.conns) == 0
			l.mu.Unlock()
			if l.stopped {
				return
			}
		}
	}
}

// coarseConn is a connection whose future deadlines the sweeper enforces.
type coarseConn struct {
	net.Conn
	l      *coarseListener
	rd, wd atomic.Int64 // deadlines as stamps; 0: none

	mu     sync.Mutex // orders the socket's deadline changes
	closed bool
}

// due reports whether deadline d (0: none) has passed at n.
func (c *coarseConn) due(d, n int64) bool { return d != 0 && d <= n }

// enforce wakes what is blocked on c past its deadlines.
func (c *coarseConn) enforce(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.due(c.rd.Load(), n) {
		_ = c.Conn.SetReadDeadline(longAgo)
	}
	if c.due(c.wd.Load(), n) {
		_ = c.Conn.SetWriteDeadline(longAgo)
	}
}

// longAgo is the deadline that wakes a socket's blocked calls at once.
var longAgo = time.Unix(1, 0)

// set records deadline t in slot p and tells the socket (apply) only when
// t is none or already past: a future one is the sweeper's.
func (c *coarseConn) set(p *atomic.Int64, t time.Time, apply func(time.Time) error) error {
	var d int64
	if !t.IsZero() {
		d = c.l.stamp(t)
	}
	p.Store(d)
	// Deadlines seconds ahead (net/http's) and those at or before the
	// sweeper's clock, which lags the real one (net/http's "abort the
	// background read" at the end of every request), need no clock read;
	// one in between is checked against the real time.
	if n := c.l.now.Load(); d != 0 && (d > n+int64(time.Second) || d > n && d > c.l.clock()) {
		// In the future: if the sweeper had woken the socket for an
		// earlier deadline, the next read or write takes that back.
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return apply(t)
}

func (c *coarseConn) SetReadDeadline(t time.Time) error {
	return c.set(&c.rd, t, c.Conn.SetReadDeadline)
}

func (c *coarseConn) SetWriteDeadline(t time.Time) error {
	return c.set(&c.wd, t, c.Conn.SetWriteDeadline)
}

func (c *coarseConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// woken reports whether err is a socket deadline the sweeper set for a
// deadline that has moved since (or was cleared): then the socket's is
// cleared and the caller tries again.
func (c *coarseConn) woken(err error, p *atomic.Int64, clear func(time.Time) error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.due(p.Load(), c.l.clock()) {
		return false
	}
	return clear(time.Time{}) == nil
}

func (c *coarseConn) Read(b []byte) (int, error) {
	for {
		if c.due(c.rd.Load(), c.l.now.Load()) {
			return 0, os.ErrDeadlineExceeded
		}
		n, err := c.Conn.Read(b)
		if n == 0 && err != nil && c.woken(err, &c.rd, c.Conn.SetReadDeadline) {
			continue
		}
		return n, err
	}
}

func (c *coarseConn) Write(b []byte) (int, error) {
	written := 0
	for {
		if c.due(c.wd.Load(), c.l.now.Load()) {
			return written, os.ErrDeadlineExceeded
		}
		n, err := c.Conn.Write(b[written:])
		written += n
		if err != nil && c.woken(err, &c.wd, c.Conn.SetWriteDeadline) {
			continue
		}
		return written, err
	}
}

// ReadFrom keeps sendfile(2) for files served from disk (the TCP
// connection's ReadFrom), under the same write deadline. Unlike Write it
// does not try again after a wake meant for a deadline since moved (only
// a handler moving its own write deadline mid-copy can cause one): a copy
// may have read bytes it did not write, so the response fails.
func (c *coarseConn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, r)
	}
	c.mu.Lock()
	if c.due(c.wd.Load(), c.l.clock()) {
		c.mu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	// Not due: a wake the sweeper left for an earlier deadline goes.
	err := c.Conn.SetWriteDeadline(time.Time{})
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return rf.ReadFrom(r)
}

// CloseWrite half-closes the connection, as net/http does after a
// response it will not read the rest of the request for.
func (c *coarseConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *coarseConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close()
}
