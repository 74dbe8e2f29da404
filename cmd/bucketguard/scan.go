package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/ocsf"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// scanFlags are scan's options.
type scanFlags struct {
	fix, json   bool
	regions     []string
	concurrency int
	// format is json (the default: one document), table (for a person
	// reading) or ocsf (one OCSF Compliance Finding a line per exposure of
	// every bucket).
	format string
}

func parseScanFlags(args []string) (scanFlags, error) {
	var f scanFlags
	args, err := flags("scan", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.fix, "fix", false, "apply the fixes (default: report only, write nothing)")
		fs.BoolVar(&f.json, "json", false, "the same as --format json")
		fs.StringVar(&f.format, "format", "json", "json (one document), table, or ocsf (one OCSF 1.1.0 Compliance Finding a line)")
		fs.Func("region", "only buckets in this region (repeatable)", func(s string) error {
			f.regions = append(f.regions, s)
			return nil
		})
		fs.IntVar(&f.concurrency, "concurrency", 0, "buckets evaluated at once (default BUCKETGUARD_SWEEP_CONCURRENCY)")
	})
	switch {
	case err != nil:
		return f, err
	case len(args) != 0:
		return f, invalid("scan takes no arguments, got %q", args)
	case f.format != "json" && f.format != "table" && f.format != "ocsf":
		return f, invalid("--format %q is not json, table or ocsf", f.format)
	case f.json && f.format != "json":
		return f, invalid("--json and --format %s are two formats", f.format)
	case f.concurrency < 0 || f.concurrency > config.MaxSweepConcurrency:
		return f, invalid("--concurrency %d is not from 1 to %d", f.concurrency, config.MaxSweepConcurrency)
	}
	for _, r := range f.regions {
		if !events.ValidRegion(r) {
			return f, invalid("--region %q is not a region name", r)
		}
	}
	return f, nil
}

// scan runs the sweep from the operator's machine. Without --fix it writes
// nothing (notify mode). Ctrl-C stops starting buckets; those in flight
// finish, and the partial result is printed.
func scan(ctx context.Context, c *cli, args []string) error {
	f, err := parseScanFlags(args)
	if err != nil {
		return err
	}
	d, err := c.aws(ctx)
	if err != nil {
		return err
	}
	if f.concurrency == 0 {
		f.concurrency = d.Config.SweepConcurrency
	}
	account, err := d.Account(ctx)
	if err != nil {
		return err
	}
	start := d.Now()
	var findings []ocsf.Finding
	out, err := runScan(ctx, c, d, f, account, &findings)
	if err != nil {
		return err
	}
	took := d.Now().Sub(start)
	out.Duration = took.Round(time.Millisecond).String()
	switch f.format {
	case "ocsf":
		err = ocsf.Write(c.stdout, findings)
	case "table":
		err = printScan(c.stdout, out, took)
	default:
		err = printJSON(c.stdout, out)
	}
	switch {
	case err != nil:
		return err
	case out.Stopped != "":
		return fmt.Errorf("interrupted: %s", out.Stopped)
	case out.Tally.Failing() > 0:
		return fmt.Errorf("%d bucket(s) failed", out.Tally.Failing())
	case len(out.Buckets) > out.Tally.Count(contract.Remediated):
		return errFindings
	}
	return nil
}

// runScan evaluates every bucket of the regions (all when none), listing
// each region once, and collects the buckets with findings.
// With --format ocsf, every exposure of every bucket evaluated is added to
// findings, clean ones too: a SIEM keeps each one's latest state.
func runScan(ctx context.Context, c *cli, d *deps, f scanFlags, account string, findings *[]ocsf.Finding) (scanJSON, error) {
	mode := config.Notify
	if f.fix {
		mode = d.Config.Mode
	}
	out := scanJSON{Account: account, Mode: mode, Regions: f.regions, Buckets: []scanRow{}}
	regions := f.regions
	if len(regions) == 0 {
		regions = []string{""} // every region, from the pages
	}
	// Ctrl-C cancels ctx: it stops starting buckets, while the work goes on
	// in a context of its own until the buckets in flight are done.
	work := context.WithoutCancel(ctx)
	prog := newProgress(c.stderr, d.Now)
	defer prog.done()
	var mu sync.Mutex
	for _, r := range regions {
		opts := sweep.Options{Region: r, Concurrency: f.concurrency, PageSize: 1000, Stop: ctx.Done(), Locate: d.BucketRegion, Listed: prog.listed}
		eval := func(ctx context.Context, b sweep.Bucket) (remediations.Result, error) {
			// With --fix, each bucket is told (an undelivered alert is in the
			// log); without, nothing is sent.
			out, _ := d.incidents(mode, b.Region, f.fix).Run(ctx, incident.Incident{Target: posture.Target{Account: account, Region: b.Region, Bucket: b.Name},
				Attempts: 1}, d.Log.With(contract.FieldBucket, b.Name))
			return out.Result, out.EvalErr
		}
		visit := func(b sweep.Bucket, res remediations.Result, err error) {
			mu.Lock()
			defer mu.Unlock()
			prog.step()
			if row, ok := rowOf(b, res, err); ok {
				out.Buckets = append(out.Buckets, row)
			}
			if f.format == "ocsf" && err == nil {
				*findings = append(*findings, ocsf.Findings(res, d.Now())...)
			}
		}
		p, err := sweep.Run(work, d.List, sweep.Position{}, opts, eval, visit)
		out.Tally.Merge(p.Tally)
		listed, more := prog.nextRegion()
		out.Total += listed
		if err != nil {
			return out, err
		}
		if p.Stopped != "" {
			of := fmt.Sprint(out.Total)
			if more {
				of = "at least " + of
			}
			out.Stopped = fmt.Sprintf("%s after %d of %s buckets", p.Stopped, out.Tally.Seen, of)
			break
		}
	}
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Bucket < out.Buckets[j].Bucket })
	return out, nil
}
