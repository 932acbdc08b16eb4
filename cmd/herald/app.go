package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/internal/config"
	"github.com/heraldnews/herald/internal/server"
	"github.com/heraldnews/herald/internal/store"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// Exit statuses.
const (
	ExitOK    = 0
	ExitError = 1
	// ExitRetryLeft: send-now finished its --wait with deliveries still
	// pending for retry (the daemon, or another send-now, finishes them).
	ExitRetryLeft = 3
	// ExitTempFail is sysexits.h's EX_TEMPFAIL: `bounces process` could
	// not record the message now, so the MTA keeps it and tries again.
	ExitTempFail = 75
)

// exitError carries a specific exit status up to Run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main is the herald program: flags, config, logger and store, shared by
// every command. End-to-end tests drive it exactly as main does.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)
	Now            func() time.Time

	// OnListen, when set, is told the address herald serve or demo bound
	// (tests listen on 127.0.0.1:0).
	OnListen func(net.Addr)

	// Flags.
	ConfigPath string
	LogFormat  string
	LogLevel   string
	// CPUProfile and MemProfile name pprof output files (hidden flags, for
	// bench/ and profiling; see docs/benchmarks.md).
	CPUProfile, MemProfile string

	// extraRoutes are mounted by herald serve beside its own (the demo's
	// images).
	extraRoutes []server.Registrar

	// cacheKiB is the database's page cache per connection (0: SQLite's
	// default); a command sets it before open.
	cacheKiB int

	// Set by load.
	Config *config.Config
	Log    *slog.Logger
	Store  *store.Store
}

// NewMain returns a Main wired to the process's stdio and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv, Now: time.Now}
}

// Run executes the command line args and returns the exit status. Errors
// are printed as one line on stderr.
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	stopProfile := func() error { return nil }
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		var err error
		stopProfile, err = startProfile(m.CPUProfile, m.MemProfile)
		return err
	}
	err := root.ExecuteContext(ctx)
	if perr := stopProfile(); err == nil && perr != nil {
		err = perr
	}
	if cerr := m.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		return ExitOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintln(m.Stderr, "herald: "+msg)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// Close releases what load opened.
func (m *Main) Close() error {
	if m.Store != nil {
		err := m.Store.Close()
		m.Store = nil
		return err
	}
	return nil
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "herald",
		Short: "Syndication feeds and email digests from a publisher's SQLite database",
		Long: `herald turns a publisher's SQLite article database into RSS 2.0, Atom 1.0 and
JSON Feed 1.1 feeds for the site, each section and each author, and emails
templated digests to subscribers over SMTP.

The config file is --config, else $HERALD_CONFIG, else ./herald.yaml when it
exists, else built-in defaults. Every scalar key can be overridden by an
environment variable: smtp.host -> HERALD_SMTP_HOST.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.PersistentFlags().StringVar(&m.ConfigPath, "config", "", "config file (default $HERALD_CONFIG or ./herald.yaml)")
	root.PersistentFlags().StringVar(&m.LogFormat, "log-format", "", "log format: text or json (default: log.format)")
	root.PersistentFlags().StringVar(&m.LogLevel, "log-level", "", "log level: debug, info, warn, error (default: log.level)")
	root.PersistentFlags().StringVar(&m.CPUProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&m.MemProfile, "memprofile", "", "write a heap profile to this file at exit")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	for _, c := range m.commands() {
		root.AddCommand(c)
	}
	return root
}

// configPath resolves which config file to read: --config, HERALD_CONFIG,
// ./herald.yaml when present, else none (built-in defaults).
func (m *Main) configPath() string {
	if m.ConfigPath != "" {
		return m.ConfigPath
	}
	if p, ok := m.Getenv("HERALD_CONFIG"); ok && p != "" {
		return p
	}
	if _, err := os.Stat("herald.yaml"); err == nil {
		return "herald.yaml"
	}
	return ""
}

// loadConfig reads and validates the configuration and sets up logging.
func (m *Main) loadConfig() error {
	if m.Config != nil {
		return nil
	}
	cfg, err := config.Load(m.configPath(), m.Getenv)
	if err != nil {
		return err
	}
	if m.LogFormat != "" {
		cfg.Log.Format = m.LogFormat
	}
	if m.LogLevel != "" {
		cfg.Log.Level = m.LogLevel
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	m.Config = cfg
	m.Log = newLogger(m.Stderr, cfg.Log)
	slog.SetDefault(m.Log)
	return nil
}

// open loads the config and opens (and migrates) the database.
func (m *Main) open(ctx context.Context) error {
	if err := m.loadConfig(); err != nil {
		return err
	}
	if m.Store != nil {
		return nil
	}
	st, err := store.Open(ctx, m.Config.Database, store.Options{Logger: m.Log, Now: m.Now, CacheKiB: m.cacheKiB})
	if err != nil {
		return fmt.Errorf("database %s: %w", m.Config.Database, err)
	}
	m.Store = st
	if m.Config.Secret == "" {
		sec, err := st.GeneratedSecret(ctx)
		if err != nil {
			return err
		}
		m.Config.Secret = sec
	}
	return nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var lvl slog.Level
	switch c.Level {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
