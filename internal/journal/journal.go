// Package journal keeps delivery results on their way to the database
// across a crash of the process: append-only segment files, one sequence
// per edition, each record checksummed and written with one write(2).
//
// A write that has returned is in the operating system's cache and
// survives the process (SIGKILL, OOM, a panic), as a commit of the
// database in WAL mode with synchronous=NORMAL does; neither survives a
// power loss before the kernel writes it back. The outbox appends each
// group of results here instead of committing it, lets the waiting
// connections go on, and applies whole segments to the database in large
// transactions; whoever next takes the edition's lease replays what a
// crash left (docs/reliability.md).
//
// Data enters as Results and leaves as the same Results, in order.
package journal

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// Result is one attempt's outcome as the outbox records it: the delivery
// with its new state, and whether its subscriber is to be marked bounced.
type Result struct {
	D      model.Delivery
	Bounce bool
}

// Dir is a directory of segments. Its methods may be called from several
// goroutines; one edition's segments are written by one holder at a time
// (the edition's lease).
type Dir struct{ path string }

// At returns the directory at path. It is created (mode 0700) with the
// first segment: a command that only reads needs no directory.
func At(path string) *Dir { return &Dir{path: path} }

// Path is the directory's path.
func (d *Dir) Path() string { return d.path }

const suffix = ".journal"

// segment names are {group}.e{edition}-{seq}.journal, seq zero-padded so
// that a directory listing sorts them in order. The group (a digest's
// name, model.ValidName) lets a lease holder find its own
// segments without reading the database.
func segName(group string, edition int64, seq uint64) string {
	return fmt.Sprintf("%s.e%d-%010d%s", group, edition, seq, suffix)
}

func parseName(name string) (group string, edition int64, seq uint64, ok bool) {
	group, rest, found := strings.Cut(name, ".e")
	if !found || !model.ValidName(group) {
		return "", 0, 0, false
	}
	e, sq, ok := parseTail(rest)
	return group, e, sq, ok
}

func parseTail(rest string) (edition int64, seq uint64, ok bool) {
	rest, found := strings.CutSuffix(rest, suffix)
	if !found {
		return 0, 0, false
	}
	ed, sq, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	e, err1 := strconv.ParseInt(ed, 10, 64)
	s, err2 := strconv.ParseUint(sq, 10, 64)
	if err1 != nil || err2 != nil || e <= 0 {
		return 0, 0, false
	}
	return e, s, true
}

type segment struct {
	group   string
	edition int64
	seq     uint64
	name    string
}

// segments lists group's segments, by edition then sequence.
func (d *Dir) segments(group string) ([]segment, error) {
	ents, err := os.ReadDir(d.path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // no segment can be there: Create will say why
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var out []segment
	for _, e := range ents {
		if g, ed, seq, ok := parseName(e.Name()); ok && g == group && e.Type().IsRegular() {
			out = append(out, segment{g, ed, seq, e.Name()})
		}
	}
	slices.SortFunc(out, func(a, b segment) int {
		return cmp.Or(cmp.Compare(a.edition, b.edition), cmp.Compare(a.seq, b.seq))
	})
	return out, nil
}

// Editions lists group's editions that have segments left, in id order.
func (d *Dir) Editions(group string) ([]int64, error) {
	segs, err := d.segments(group)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, s := range segs {
		if len(out) == 0 || out[len(out)-1] != s.edition {
			out = append(out, s.edition)
		}
	}
	return out, nil
}

// Create starts a new segment of edition's journal in group, after any it
// has. The Writer holds an exclusive flock(2) on it until Close, so a
// Replay elsewhere (a lease taken over from a process still alive) leaves
// it alone; the kernel drops the lock when the process dies.
func (d *Dir) Create(group string, edition int64) (*Writer, error) {
	if !model.ValidName(group) {
		return nil, fmt.Errorf("journal: bad group name %q", group)
	}
	segs, err := d.segments(group)
	if err != nil {
		return nil, err
	}
	var seq uint64 = 1
	for _, s := range segs {
		if s.edition == edition {
			seq = s.seq + 1
		}
	}
	if err := os.MkdirAll(d.path, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(d.path, segName(group, edition, seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("journal: lock %s: %w", path, err)
	}
	return &Writer{f: f, path: path}, nil
}

func sameFile(f *os.File, fi os.FileInfo) bool {
	mine, err := f.Stat()
	return err == nil && os.SameFile(mine, fi)
}

// ErrBusy reports a segment another Writer still holds.
var ErrBusy = errors.New("journal: segment is being written by a live process")

// Replay hands apply each segment of edition's journal in group, in
// order, the complete records of it, and removes the segment once apply
// returns nil. A torn last record (the process died inside its write)
// ends a segment: its results never reached a waiting connection, so it
// is dropped. A segment a live Writer holds stops it with ErrBusy, and a
// damaged record with more after it with an error naming the file: its
// results cannot be read, and sending on would repeat them. It returns
// how many results it handed over; on any error the segments left stay
// for the next replay.
func (d *Dir) Replay(group string, edition int64, apply func([]Result) error) (int, error) {
	segs, err := d.segments(group)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range segs {
		if s.edition != edition {
			continue
		}
		k, err := d.replayOne(filepath.Join(d.path, s.name), apply)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (d *Dir) replayOne(path string, apply func([]Result) error) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // another replay took it
	}
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return 0, fmt.Errorf("%w: %s", ErrBusy, path)
		}
		return 0, fmt.Errorf("journal: lock %s: %w", path, err)
	}
	if here, err := os.Stat(path); err != nil || !sameFile(f, here) {
		return 0, nil // applied and removed (or replaced) before we locked it
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	rs, err := Decode(b)
	if err != nil && !errors.Is(err, ErrTorn) {
		return 0, fmt.Errorf("journal: %s: %w (move the file aside to send on; its results may be sent again)", path, err)
	}
	if len(rs) > 0 {
		if err := apply(rs); err != nil {
			return 0, err
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return len(rs), fmt.Errorf("journal: %w", err)
	}
	return len(rs), nil
}

// Writer appends records to one segment. It is not safe for concurrent
// use; Remove may follow Close from another goroutine.
type Writer struct {
	f      *os.File
	path   string
	size   int64
	count  int
	buf    []byte
	broken error
}

// Append writes rs as one record with one write. When the write fails the
// segment is cut back to its last whole record (or, failing that, the
// Writer refuses every later Append), so a replay never meets a bad record
// followed by good ones.
func (w *Writer) Append(rs []Result) error {
	if w.broken != nil {
		return w.broken
	}
	w.buf = appendRecord(w.buf[:0], rs)
	if _, err := w.f.Write(w.buf); err != nil {
		if terr := w.f.Truncate(w.size); terr != nil {
			w.broken = fmt.Errorf("journal: %s: %w (and cutting it back: %v)", w.path, err, terr)
			return w.broken
		}
		return fmt.Errorf("journal: %s: %w", w.path, err)
	}
	w.size += int64(len(w.buf))
	w.count += len(rs)
	return nil
}

// Len is how many results the segment holds.
func (w *Writer) Len() int { return w.count }

// Close closes the segment's file and so drops its lock; its records stay
// until Remove.
func (w *Writer) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// Remove deletes the segment, once its results are in the database. A
// segment already gone (a replay took it) is not an error.
func (w *Writer) Remove() error {
	if err := os.Remove(w.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// ErrTorn reports a record cut short or failing its checksum: the end of
// what was written whole.
var ErrTorn = errors.New("journal: torn record")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// A record is a 4-byte little-endian payload length, the payload's CRC-32C
// (4 bytes) and the payload: a count, then each result.
const header = 8

// maxRecord bounds a record's length, so a corrupt length is not read as
// a request for gigabytes.
const maxRecord = 64 << 20

func appendRecord(b []byte, rs []Result) []byte {
	b = append(b, make([]byte, header)...)
	start := len(b)
	b = binary.AppendUvarint(b, uint64(len(rs)))
	for _, r := range rs {
		b = appendResult(b, r)
	}
	payload := b[start:]
	binary.LittleEndian.PutUint32(b[start-header:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start-header+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// flags of a result.
const (
	fBounce = 1 << iota
	fSent   // SentAt is set
	fNext   // NextAttemptAt is set
)

func appendResult(b []byte, r Result) []byte {
	d := r.D
	var f byte
	if r.Bounce {
		f |= fBounce
	}
	if !d.SentAt.IsZero() {
		f |= fSent
	}
	if !d.NextAttemptAt.IsZero() {
		f |= fNext
	}
	b = append(b, f)
	b = binary.AppendVarint(b, d.ID)
	b = binary.AppendVarint(b, d.SubscriberID)
	b = binary.AppendVarint(b, int64(d.Attempts))
	if f&fSent != 0 {
		b = binary.AppendVarint(b, d.SentAt.Unix())
	}
	if f&fNext != 0 {
		b = binary.AppendVarint(b, d.NextAttemptAt.Unix())
	}
	for _, s := range [...]string{d.Status, d.LastReply, d.Relay, d.MessageID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(d.ArticleIDs)))
	for _, id := range d.ArticleIDs {
		b = binary.AppendVarint(b, id)
	}
	return b
}

// Decode reads the records of a segment. It returns the results of every
// whole record; when the last is cut short or fails its checksum it also
// returns ErrTorn, and any other damage is an error naming the offset.
func Decode(b []byte) ([]Result, error) {
	var out []Result
	off := 0
	for off < len(b) {
		if len(b)-off < header {
			return out, ErrTorn
		}
		n64 := uint64(binary.LittleEndian.Uint32(b[off:]))
		sum := binary.LittleEndian.Uint32(b[off+4:])
		if n64 > maxRecord {
			return out, fmt.Errorf("record at offset %d claims %d bytes", off, n64)
		}
		n := int(n64)
		if len(b)-off-header < n {
			return out, ErrTorn
		}
		payload := b[off+header : off+header+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			if off+header+n == len(b) {
				return out, ErrTorn // the last write, cut short
			}
			return out, fmt.Errorf("record at offset %d fails its checksum and %d bytes follow it", off, len(b)-off-header-n)
		}
		rs, err := decodePayload(payload)
		if err != nil {
			return out, fmt.Errorf("record at offset %d: %w", off, err)
		}
		out = append(out, rs...)
		off += header + n
	}
	return out, nil
}

var errShort = io.ErrUnexpectedEOF

// minResult is the fewest bytes a result takes: its flags, three varints,
// four string lengths and its article count.
const minResult = 9

type reader struct {
	b   []byte
	err error
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func decodePayload(p []byte) ([]Result, error) {
	r := &reader{b: p}
	n := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	if n > uint64(len(p)/minResult) {
		return nil, fmt.Errorf("%d results cannot fit in %d bytes", n, len(p))
	}
	out := make([]Result, 0, n)
	for range n {
		var res Result
		f := r.byte()
		res.Bounce = f&fBounce != 0
		d := &res.D
		d.ID, d.SubscriberID, d.Attempts = r.varint(), r.varint(), int(r.varint())
		if f&fSent != 0 {
			d.SentAt = time.Unix(r.varint(), 0).UTC()
		}
		if f&fNext != 0 {
			d.NextAttemptAt = time.Unix(r.varint(), 0).UTC()
		}
		d.Status, d.LastReply, d.Relay, d.MessageID = r.string(), r.string(), r.string(), r.string()
		k := r.uvarint()
		if k > uint64(len(r.b)) {
			r.fail()
		}
		if k > 0 && r.err == nil {
			d.ArticleIDs = make([]int64, k)
			for i := range d.ArticleIDs {
				d.ArticleIDs[i] = r.varint()
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		out = append(out, res)
	}
	if len(r.b) != 0 {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}
