package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// PythonStrict parses each .eml file with Debian's Python email package
// under email.policy.strict and fails t on any defect, or on a part whose
// content cannot be read. Without /usr/bin/python3 it skips, except in CI.
func PythonStrict(t testing.TB, files []string) {
	t.Helper()
	const py = "/usr/bin/python3" // Debian's, not a pyenv one first on PATH
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", py, err)
		}
		t.Skipf("%s not installed", py)
	}
	const script = `
import email, email.policy, sys
bad = []
for f in sys.argv[1:]:
    with open(f, 'rb') as fh:
        m = email.message_from_binary_file(fh, policy=email.policy.strict)
    for part in m.walk():
        bad += [(f, part.get_content_type(), d) for d in part.defects]
        for k, v in part.items():
            bad += [(f, k, d) for d in getattr(v, 'defects', ())]
        if not part.is_multipart():
            part.get_content()
if bad:
    print(bad[:20])
    sys.exit(1)
`
	if out, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("python3 strict parser: %v\n%s", err, out)
	}
}
