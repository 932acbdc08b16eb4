package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/heraldnews/herald/digest"
	"github.com/heraldnews/herald/internal/batchsched"
	"github.com/heraldnews/herald/internal/config"
)

// sendNowCacheKiB is send-now's SQLite page cache per connection (SQLite's
// default is 2 MB). It reads its deliveries once in id order and writes
// each back once, and the operating system caches the file: 64 KiB sent
// as fast as 256 KiB, and 256 KiB as fast as 2 MB, each a megabyte or more
// lower (docs/benchmarks.md).
const sendNowCacheKiB = 64

func (m *Main) sendNowCommand() *cobra.Command {
	var (
		req                 digest.SendNowRequest
		since, wait, sendTo string
		dryRun              bool
	)
	cmd := &cobra.Command{
		Use:   "send-now [--digest NAME] [--section SLUG]... [--author SLUG]... [--since DURATION] [--dry-run] [--to ADDR] [--wait DURATION]",
		Short: "Send one edition of a digest now (resuming an unfinished one first)",
		Long: `send-now resumes an unfinished edition of the digest, then plans and sends a
new one with the articles that became visible within --since (default: the
digest's lookback). --section and --author keep only those articles and only
the subscribers who follow them (or everything).

--dry-run prints recipient, skip and per-section counts and one sample,
recording and sending nothing. --to ADDR sends one sample to ADDR only,
recording nothing.

Temporary failures are retried with backoff for up to --wait (default 0: one
pass). Exit status: 0 done; 3 when deliveries were left for retry (the daemon
or another send-now finishes them); 1 on error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			// The send's live heap is small (pages of 1,000, a bounded
			// render cache) and churns little (about 14 KB a message):
			// collecting at 35% growth rather than the default 100%
			// keeps the peak 5-6 MB lower at a cost below measurement
			// (docs/benchmarks.md), unless the operator set GOGC.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(35)
			}
			m.cacheKiB = sendNowCacheKiB
			if since != "" {
				d, err := config.ParseDuration(since)
				if err != nil || d <= 0 {
					return fmt.Errorf("--since: want a positive duration such as 6h or 2d, got %q", since)
				}
				req.Since = d.D()
			}
			if wait != "" {
				d, err := config.ParseDuration(wait)
				if err != nil || d < 0 {
					return fmt.Errorf("--wait: want a duration such as 10m, got %q", wait)
				}
				req.Wait = d.D()
			}
			svc, closeFn, err := m.digestService(ctx, !dryRun)
			if err != nil {
				return err
			}
			defer closeFn()
			// A batch job: its wakeups need not preempt the relay's or its
			// own threads (internal/batchsched).
			if _, err := batchsched.Enter(); err != nil {
				m.Log.Warn("send-now runs under the usual scheduling class", "err", err)
			}
			out := cmd.OutOrStdout()
			switch {
			case dryRun:
				return m.dryRun(ctx, svc, req, out)
			case sendTo != "":
				res, err := svc.SendSample(ctx, req, sendTo)
				if err != nil {
					return err
				}
				m.audit(ctx, "send_test", sendTo, req.Describe())
				fmt.Fprintf(out, "sample sent to %s: %s\n", sendTo, res.Reply)
				return nil
			}
			prog := m.progress(cmd.ErrOrStderr())
			req.Progress = prog.update
			res, err := svc.SendNow(ctx, req)
			prog.finish()
			if res.EditionID != 0 || res.ResumedID != 0 {
				logged := req
				if d, ok := m.Config.Digest(req.Digest); ok {
					logged.Digest = d.Name
				}
				m.audit(ctx, "send_now", fmt.Sprintf("edition %d", res.EditionID), fmt.Sprintf("%s resumed=%d sent=%d skipped=%d failed=%d left=%d",
					logged.Describe(), res.ResumedID, res.Sent, res.Skipped, res.Failed, res.Left))
			}
			if err != nil {
				return err
			}
			note := ""
			if res.Sent == 0 && res.Failed == 0 && res.Left == 0 {
				note = " (nothing new for anyone)"
			}
			fmt.Fprintf(out, "sent %d, skipped %d, failed %d, left for retry %d%s\n", res.Sent, res.Skipped, res.Failed, res.Left, note)
			if res.Left > 0 {
				return &exitError{code: ExitRetryLeft, err: fmt.Errorf("%d deliveries left for retry (run send-now again, or herald serve finishes them)", res.Left)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Digest, "digest", "", "digest name (default: the first configured)")
	f.StringArrayVar(&req.Sections, "section", nil, "only this section's articles and followers (repeatable)")
	f.StringArrayVar(&req.Authors, "author", nil, "only this author's articles and followers (repeatable)")
	f.StringVar(&since, "since", "", "look back this far (e.g. 6h, 2d; default: the digest's lookback)")
	f.BoolVar(&dryRun, "dry-run", false, "print counts and one sample; record and send nothing")
	f.StringVar(&sendTo, "to", "", "send one sample to this address only; record nothing")
	f.StringVar(&wait, "wait", "", "keep retrying temporary failures this long (e.g. 10m)")
	return cmd
}

func (m *Main) dryRun(ctx context.Context, svc *digest.Service, req digest.SendNowRequest, out io.Writer) error {
	rep, err := svc.DryRun(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "digest %s: %d candidate article(s) visible in (%s, %s]\n", rep.Digest, rep.Articles,
		rep.Since.Format(time.RFC3339), rep.Cutoff.Format(time.RFC3339))
	fmt.Fprintf(out, "recipients %d, skipped (nothing new) %d\n", rep.Recipients, rep.Skipped)
	for _, name := range rep.SortedSections() {
		fmt.Fprintf(out, "  section %-24s %d recipient(s)\n", name, rep.BySection[name])
	}
	if rep.Sample != nil {
		fmt.Fprintf(out, "\nsample for %s\nSubject: %s\n\n%s", rep.Sample.ToAddr, rep.Sample.Subject, rep.Sample.Text)
	}
	return nil
}

// progress shows send-now's advance: a bar on a terminal, else a log line
// every few seconds.
type progress struct {
	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	w    io.Writer
	log  func(p digest.Progress)
	last time.Time
}

func (m *Main) progress(w io.Writer) *progress {
	p := &progress{w: w}
	if !isTerminal(w) {
		p.log = func(pr digest.Progress) {
			m.Log.Info("send-now progress", "edition", pr.EditionID, "phase", pr.Phase, "total", pr.Total,
				"sent", pr.Sent, "skipped", pr.Skipped, "failed", pr.Failed, "retry", pr.Retry, "planned", pr.Pending)
		}
	}
	return p
}

func (p *progress) update(pr digest.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log != nil {
		if time.Since(p.last) >= 5*time.Second {
			p.last = time.Now()
			p.log(pr)
		}
		return
	}
	if pr.Phase != "sending" {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(max(pr.Total, 1),
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("edition %d", pr.EditionID)),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	if pr.Total > p.bar.GetMax() {
		p.bar.ChangeMax(pr.Total) // planning, beside the sending, has added some
	}
	done := pr.Sent + pr.Failed + pr.Retry
	_ = p.bar.Set(min(done, max(pr.Total, 1)))
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// oneLine flattens an error for table cells.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
