package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

const testTick = 20 * time.Millisecond

// pair returns both ends of a loopback connection whose server end came
// through a coarseListener.
func pair(t *testing.T) (server net.Conn, client net.Conn, l *coarseListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = newCoarseListener(ln, testTick)
	t.Cleanup(func() { l.Close() })
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	// Should the sweeper never wake a blocked call, the test fails (EOF,
	// a reset) instead of hanging.
	stop := time.AfterFunc(5*time.Second, func() { client.Close() })
	t.Cleanup(func() { stop.Stop() })
	return server, client, l
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

// A blocked read ends at its deadline: never before, at most a tick or so
// after.
func TestCoarseDeadlineEndsABlockedRead(t *testing.T) {
	srv, _, _ := pair(t)
	const d = 100 * time.Millisecond
	start := time.Now()
	if err := srv.SetReadDeadline(start.Add(d)); err != nil {
		t.Fatal(err)
	}
	_, err := srv.Read(make([]byte, 1))
	took := time.Since(start)
	if !isTimeout(err) {
		t.Fatalf("read: %v, want a timeout", err)
	}
	if took < d || took > d+5*testTick+100*time.Millisecond {
		t.Errorf("read ended after %v, want %v to %v", took, d, d+5*testTick)
	}
	// The deadline stays passed: the next read fails at once.
	if _, err := srv.Read(make([]byte, 1)); !isTimeout(err) {
		t.Errorf("second read: %v, want a timeout", err)
	}
}

// A deadline moved later while a read waits is the one that counts, also
// after the sweeper woke the socket for the earlier one; clearing it
// lets the read wait for data.
func TestCoarseDeadlineMovedLater(t *testing.T) {
	srv, cl, _ := pair(t)
	if err := srv.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * testTick) // the sweeper has set the socket's deadline in the past
	if err := srv.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(5 * testTick)
		_, _ = cl.Write([]byte("x"))
	}()
	b := make([]byte, 1)
	if n, err := srv.Read(b); err != nil || n != 1 || b[0] != 'x' {
		t.Fatalf("read after the deadline moved: %d %q %v", n, b[:n], err)
	}

	if err := srv.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * testTick)
	if err := srv.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(5 * testTick)
		_, _ = cl.Write([]byte("y"))
	}()
	if n, err := srv.Read(b); err != nil || n != 1 || b[0] != 'y' {
		t.Fatalf("read after the deadline was cleared: %d %q %v", n, b[:n], err)
	}
}

// A deadline already past reaches the socket at once: net/http's way to
// stop its background read (time.Unix(1, 0)), and the usual way to
// interrupt a call (time.Now()), which the sweeper's clock has not seen
// pass yet.
func TestCoarseDeadlineInThePastIsImmediate(t *testing.T) {
	for name, past := range map[string]func() time.Time{
		"long ago": func() time.Time { return time.Unix(1, 0) },
		"now":      time.Now,
	} {
		t.Run(name, func(t *testing.T) {
			srv, _, _ := pair(t)
			done := make(chan error, 1)
			go func() {
				_, err := srv.Read(make([]byte, 1))
				done <- err
			}()
			time.Sleep(2 * testTick)
			start := time.Now()
			if err := srv.SetReadDeadline(past()); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !isTimeout(err) {
					t.Fatalf("read: %v, want a timeout", err)
				}
				if took := time.Since(start); took > testTick/2 {
					t.Errorf("the read woke %v after a past deadline, want at once", took)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("a past deadline did not wake the read")
			}
		})
	}
}

// A client that never reads cannot hold a write past its deadline.
func TestCoarseDeadlineEndsABlockedWrite(t *testing.T) {
	srv, _, _ := pair(t)
	const d = 150 * time.Millisecond
	start := time.Now()
	if err := srv.SetWriteDeadline(start.Add(d)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	var err error
	for err == nil && time.Since(start) < 10*time.Second {
		_, err = srv.Write(buf)
	}
	took := time.Since(start)
	if !isTimeout(err) {
		t.Fatalf("write: %v, want a timeout", err)
	}
	if took < d || took > d+5*testTick+100*time.Millisecond {
		t.Errorf("write ended after %v, want %v to %v", took, d, d+5*testTick)
	}
}

// The sweeper ends once the listener and every connection it accepted
// are closed.
func TestCoarseSweeperEnds(t *testing.T) {
	srv, _, l := pair(t)
	l.Close()
	select {
	case <-l.done:
		t.Fatal("the sweeper ended with a connection open")
	case <-time.After(3 * testTick):
	}
	srv.Close()
	select {
	case <-l.done:
	case <-time.After(2 * time.Second):
		t.Fatal("the sweeper still runs after everything closed")
	}
}

// Through the real server: a client that sends half a request header and
// then nothing is disconnected after ReadHeaderTimeout, while a client
// that behaves is served many requests on one connection.
func TestServerDisconnectsASlowHeader(t *testing.T) {
	s := New(Options{ReadHeaderTimeout: 200 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, time.Second, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	})
	addr := ln.Addr().String()

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 3 {
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %s", i, res.Status)
		}
	}

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if _, err := io.WriteString(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(slow)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("the server did not close the connection: %v after %v", err, took)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("closed after %v, want 200 ms plus a tick (%v)", took, deadlineTick)
	}
	if len(rest) != 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 4") {
		t.Errorf("answer to half a header: %q", rest)
	}
}
