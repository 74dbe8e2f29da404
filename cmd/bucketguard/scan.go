package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// scanRow is one bucket with findings, for the table and the JSON.
type scanRow struct {
	Bucket   string                      `json:"bucket"`
	Region   string                      `json:"region"`
	Severity remediations.Severity       `json:"severity,omitempty"`
	Outcome  string                      `json:"outcome"`
	Findings []remediations.Finding      `json:"findings,omitempty"`
	Actions  []remediations.ActionResult `json:"actions,omitempty"`
	Error    string                      `json:"error,omitempty"`
}

type scanJSON struct {
	Account  string      `json:"account"`
	Regions  []string    `json:"regions"`
	Mode     config.Mode `json:"mode"`
	Total    int         `json:"total"`
	Duration string      `json:"duration"`
	Stopped  string      `json:"stopped,omitempty"`
	Tally    sweep.Tally `json:"tally"`
	Buckets  []scanRow   `json:"buckets"`
}

// scan runs the sweep from the operator's machine. Without --fix it writes
// nothing (notify mode). Ctrl-C stops starting buckets; those in flight
// finish, and the partial result is printed.
func scan(ctx context.Context, c *cli, args []string) error {
	var fix, asJSON bool
	var regions []string
	concurrency := 0
	args, err := flags("scan", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&fix, "fix", false, "apply the fixes (default: report only, write nothing)")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		fs.Func("region", "only buckets in this region (repeatable)", func(s string) error {
			regions = append(regions, s)
			return nil
		})
		fs.IntVar(&concurrency, "concurrency", 0, "buckets evaluated at once (default BUCKETGUARD_SWEEP_CONCURRENCY)")
	})
	if err != nil {
		return err
	}
	if len(args) != 0 {
		return invalid("scan takes no arguments, got %q", args)
	}
	for _, r := range regions {
		if !events.ValidRegion(r) {
			return invalid("--region %q is not a region name", r)
		}
	}
	if concurrency < 0 || concurrency > 32 {
		return invalid("--concurrency %d is not from 1 to 32", concurrency)
	}
	d, err := c.aws(ctx)
	if err != nil {
		return err
	}
	if concurrency == 0 {
		concurrency = d.Config.SweepConcurrency
	}
	account, err := d.Account(ctx)
	if err != nil {
		return err
	}
	mode := config.Notify
	if fix {
		mode = d.Config.Mode
	}
	if len(regions) == 0 {
		regions = []string{""} // every region, from the pages
	}

	// Ctrl-C cancels ctx: it stops starting buckets, while the work goes on
	// in a context of its own until the buckets in flight are done.
	work := context.WithoutCancel(ctx)
	start := d.Now()
	out := scanJSON{Account: account, Mode: mode, Buckets: []scanRow{}}
	var mu sync.Mutex
	opts := sweep.Options{Concurrency: concurrency, PageSize: 1000, Stop: ctx.Done(), Locate: d.BucketRegion}
	for _, r := range regions {
		opts.Region = r
		n, err := sweep.Count(work, d.List, opts)
		if err != nil {
			return err
		}
		out.Total += n
	}
	prog := newProgress(c.stderr, out.Total, d.Now)
	alerts := d.sender()
	for _, r := range regions {
		opts.Region = r
		if r != "" {
			out.Regions = append(out.Regions, r)
		}
		eval := func(ctx context.Context, b sweep.Bucket) (remediations.Result, error) {
			res, err := d.engine(mode, b.Region).Evaluate(ctx, remediations.Target{Account: account, Region: b.Region, Bucket: b.Name}, nil, d.Log)
			if fix && err == nil && len(res.Findings) > 0 && d.Config.TopicARN != "" {
				if _, serr := alerts.Send(ctx, alert.Render(res).Envelope(), ""); serr != nil {
					d.Log.Error("alert", "bucket", b.Name, "err", serr)
				}
			}
			return res, err
		}
		visit := func(b sweep.Bucket, res remediations.Result, err error) {
			mu.Lock()
			defer mu.Unlock()
			prog.step()
			if err == nil && len(res.Findings) == 0 {
				return
			}
			row := scanRow{Bucket: b.Name, Region: b.Region, Severity: res.Severity, Outcome: res.Outcome, Findings: res.Findings, Actions: res.Actions}
			if err != nil {
				row.Outcome, row.Error = "error", err.Error()
			}
			out.Buckets = append(out.Buckets, row)
		}
		o, err := sweep.Run(work, d.List, sweep.Position{}, opts, eval, visit)
		out.Tally.Merge(o.Tally)
		if err != nil {
			prog.done()
			return err
		}
		if o.Stopped != "" {
			out.Stopped = fmt.Sprintf("%s after %d of %d buckets", o.Stopped, out.Tally.Seen, out.Total)
			break
		}
	}
	prog.done()
	took := d.Now().Sub(start)
	out.Duration = took.Round(time.Millisecond).String()
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Bucket < out.Buckets[j].Bucket })
	if asJSON {
		err = printJSON(c.stdout, out)
	} else {
		err = printScan(c.stdout, out, took)
	}
	switch {
	case err != nil:
		return err
	case out.Stopped != "":
		return fmt.Errorf("interrupted: %s", out.Stopped)
	case out.Tally.Failed > 0:
		return fmt.Errorf("%d bucket(s) failed", out.Tally.Failed)
	case len(out.Buckets) > out.Tally.Fixed:
		return errFindings
	}
	return nil
}

func printScan(w io.Writer, out scanJSON, took time.Duration) error {
	if len(out.Buckets) > 0 {
		fmt.Fprintf(w, "%-32s %-15s %-9s %-11s %s\n", "BUCKET", "REGION", "SEVERITY", "OUTCOME", "FINDINGS")
		for _, r := range out.Buckets {
			ids := make([]string, 0, len(r.Findings))
			seen := map[string]bool{}
			for _, f := range r.Findings {
				if !seen[f.ID] {
					seen[f.ID] = true
					ids = append(ids, f.ID)
				}
			}
			what := strings.Join(ids, ", ")
			if r.Error != "" {
				what = r.Error
			}
			fmt.Fprintf(w, "%-32s %-15s %-9s %-11s %s\n", r.Bucket, r.Region, r.Severity, r.Outcome, what)
		}
		fmt.Fprintln(w)
	}
	t := out.Tally
	rate := 0.0
	if took > 0 {
		rate = float64(t.Seen) / took.Seconds()
	}
	fmt.Fprintf(w, "scan of %s (%s mode): %d buckets in %s (%.1f/s): %d clean, %d fixed, %d reported, %d found (notify), %d failed, %d gone; %d approved public, %d expired approvals\n",
		out.Account, out.Mode, t.Seen, took.Round(time.Millisecond), rate, t.Clean, t.Fixed, t.Reported, t.Notified, t.Failed, t.Vanished, t.Exempt, t.ExpiredApprovals)
	if out.Stopped != "" {
		fmt.Fprintf(w, "stopped: %s\n", out.Stopped)
	}
	return nil
}

// progress shows buckets done of the total, the rate and the ETA: one line
// redrawn on a terminal, plain lines every few seconds otherwise.
type progress struct {
	w        io.Writer
	tty      bool
	total    int
	n        int
	now      func() time.Time
	start    time.Time
	lastLine time.Time
}

func newProgress(w io.Writer, total int, now func() time.Time) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, total: total, now: now, start: now(), lastLine: now()}
}

func (p *progress) step() {
	p.n++
	switch {
	case p.tty:
		p.draw("\r")
	case p.now().Sub(p.lastLine) >= 5*time.Second || p.n == p.total:
		p.lastLine = p.now()
		p.draw("")
		fmt.Fprintln(p.w)
	}
}

func (p *progress) draw(prefix string) {
	el := p.now().Sub(p.start)
	rate := float64(p.n) / max(el.Seconds(), 0.001)
	eta := "?"
	if rate > 0 && p.total >= p.n {
		eta = (time.Duration(float64(p.total-p.n)/rate) * time.Second).Round(time.Second).String()
	}
	bar := ""
	if p.tty && p.total > 0 {
		const width = 30
		filled := p.n * width / p.total
		bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] "
	}
	fmt.Fprintf(p.w, "%sscan: %s%d/%d buckets, %.1f/s, ETA %s   ", prefix, bar, p.n, p.total, rate, eta)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
