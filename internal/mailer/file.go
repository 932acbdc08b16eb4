package mailer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/heraldnews/herald/internal/model"
)

// fileConn writes each message as <dir>/<time>-<message id>.eml
// (smtp.transport: file), for the demo, tests and local previews. Each of
// the mailer's connections has one.
type fileConn struct {
	dir string
	now func() time.Time
}

func newFileConn(dir string, now func() time.Time) (*fileConn, error) {
	if dir == "" {
		return nil, errors.New("mailer: smtp.file_dir must name a folder when smtp.transport is file")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mailer: smtp.file_dir: %w", err)
	}
	return &fileConn{dir: dir, now: now}, nil
}

// fileName is "20261126T070000.000000000Z-<sanitised message id>.eml".
func fileName(now time.Time, messageID string) string {
	id := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._@+-", r):
			return r
		}
		return '_'
	}, strings.TrimSuffix(strings.TrimPrefix(messageID, "<"), ">"))
	id = strings.TrimLeft(id, ".")
	if len(id) > 150 {
		id = id[:150]
	}
	return now.UTC().Format("20060102T150405.000000000Z") + "-" + id + ".eml"
}

// send writes raw atomically: a temporary file in the same folder, synced,
// then renamed (the rename is the final dot), so a reader of the folder
// never sees half a message.
func (f *fileConn) send(env envelope, raw []byte, _ follower) (model.SendResult, verdict) {
	name := filepath.Join(f.dir, fileName(f.now(), env.messageID))
	if err := writeAtomic(name, raw); err != nil {
		return model.SendResult{Outcome: model.Temporary, Reply: oneLine(err.Error())}, verdictDone
	}
	return model.SendResult{Outcome: model.Accepted, Reply: "written " + name}, verdictDone
}

func (f *fileConn) utf8() (known, ok bool) { return true, true }

func (f *fileConn) close() {}

func writeAtomic(name string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	if err = os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("mailer: write %s: %w", name, err)
	}
	return nil
}
