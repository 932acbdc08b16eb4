package feeds

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// jsonFiles collects JSON Feed documents so the schema check runs once per
// test (one node process).
var jsonFiles schemaBatch

type schemaBatch struct {
	mu    sync.Mutex
	dir   string
	files []string
}

func (j *schemaBatch) add(t *testing.T, name string, data []byte) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.dir == "" {
		d, err := os.MkdirTemp("", "herald-jsonfeed-")
		if err != nil {
			t.Fatal(err)
		}
		j.dir = d
	}
	p := filepath.Join(j.dir, strings.NewReplacer("/", "_").Replace(name)+"-"+time.Now().Format("150405.000000000")+".json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	j.files = append(j.files, p)
}

// validate checks every collected document against the JSON Feed 1.1
// schema (npm jsonfeed-schema) with ajv-cli: HERALD_AJV names the ajv
// binary (default: ajv on PATH) and HERALD_JSONFEED_SCHEMA the schema file
// (.ci/run installs both). Without them the check is skipped, except in
// CI (CI set), where it fails.
func (j *schemaBatch) validate(t *testing.T) {
	t.Helper()
	j.mu.Lock()
	files := j.files
	j.files = nil
	j.mu.Unlock()
	if len(files) == 0 {
		return
	}
	defer func() {
		for _, f := range files {
			os.Remove(f)
		}
	}()
	ajv, schema := os.Getenv("HERALD_AJV"), os.Getenv("HERALD_JSONFEED_SCHEMA")
	if ajv == "" {
		ajv, _ = exec.LookPath("ajv")
	}
	if ajv == "" || schema == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must validate JSON Feed against jsonfeed-schema: set HERALD_AJV and HERALD_JSONFEED_SCHEMA (.ci/run installs ajv-cli)")
		}
		t.Log("ajv or the JSON Feed schema not found: JSON Feed 1.1 schema check skipped (set HERALD_AJV, HERALD_JSONFEED_SCHEMA)")
		return
	}
	args := []string{"validate", "--spec=draft7", "--strict=false", "-c", "ajv-formats", "-s", schema}
	for _, f := range files {
		args = append(args, "-d", f)
	}
	out, err := exec.Command(ajv, args...).CombinedOutput()
	if err != nil {
		t.Errorf("JSON Feed 1.1 schema: %v\n%s", err, out)
	}
}

// validateAll runs the external validators over what the test collected.
func validateAll(t *testing.T) {
	t.Helper()
	atomFiles.validate(t)
	jsonFiles.validate(t)
}
