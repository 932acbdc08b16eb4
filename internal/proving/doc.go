// Package proving holds herald's fault, crash, load and abuse tests: the
// tests behind the figures in docs/reliability.md and docs/security.md.
// It has no code of its own, only _test.go files.
//
// Data enters as a built herald binary (or herald's packages wired
// in-process), a temporary SQLite database seeded through internal/store,
// an in-process SMTP server (internal/smtptest) and HTTP clients on
// 127.0.0.1. It leaves as test failures when a promise is broken and as
// figures: each test prints its figure with t.Logf and, when
// HERALD_FIGURES_DIR is set, writes it as one line to a file named after
// the test in that directory, so the documents can quote it.
//
// The long tests skip under -short (CI runs them once without -race).
package proving
