package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/coverage"
)

// coverageFlags are coverage's options.
type coverageFlags struct {
	stackSet, table, callAs string
	regions                 []string
	maxAge                  time.Duration
	json                    bool
	concurrency             int
}

func parseCoverageFlags(args []string) (coverageFlags, error) {
	f := coverageFlags{stackSet: "BucketGuard", callAs: string(cftypes.CallAsDelegatedAdmin), maxAge: coverage.DefaultMaxAge, concurrency: 16}
	args, err := flags("coverage", args, func(fs *flag.FlagSet) {
		fs.StringVar(&f.stackSet, "stack-set", f.stackSet, "the StackSet's name")
		fs.StringVar(&f.table, "heartbeats", "", "the admin stack's heartbeat table (its HeartbeatTable output); none: the stacks' status alone")
		fs.StringVar(&f.callAs, "call-as", f.callAs, "DELEGATED_ADMIN (from the delegated administrator) or SELF (from the management account)")
		fs.Func("region", "a region the StackSet deploys to (repeatable, or comma-separated)", func(s string) error {
			for _, r := range strings.Split(s, ",") {
				if r = strings.TrimSpace(r); r != "" {
					f.regions = append(f.regions, r)
				}
			}
			return nil
		})
		fs.DurationVar(&f.maxAge, "max-age", f.maxAge, "how old the latest heartbeat may be")
		fs.BoolVar(&f.json, "json", false, "one JSON object a line")
		fs.IntVar(&f.concurrency, "concurrency", f.concurrency, "accounts read at once")
	})
	switch {
	case err != nil:
		return f, err
	case len(args) != 0:
		return f, invalid("coverage takes no arguments, got %q", args)
	case len(f.regions) == 0:
		return f, invalid("--region is required: the regions the StackSet deploys to")
	case f.callAs != string(cftypes.CallAsDelegatedAdmin) && f.callAs != string(cftypes.CallAsSelf):
		return f, invalid("--call-as %q is not DELEGATED_ADMIN or SELF", f.callAs)
	case f.maxAge <= 0:
		return f, invalid("--max-age %s is not a positive duration", f.maxAge)
	case f.concurrency < 1 || f.concurrency > 64:
		return f, invalid("--concurrency %d is not from 1 to 64", f.concurrency)
	}
	for _, r := range f.regions {
		if !events.ValidRegion(r) {
			return f, invalid("--region %q is not a region name", r)
		}
	}
	return f, nil
}

// coverageCmd prints every account × region of the organization, covered
// or why not, as it reads them. Exit 3 when any is uncovered.
func coverageCmd(ctx context.Context, c *cli, args []string) error {
	f, err := parseCoverageFlags(args)
	if err != nil {
		return err
	}
	d, err := c.aws(ctx)
	if err != nil {
		return err
	}
	start := d.Now()
	prog := newProgress(c.stderr, d.Now)
	prog.label, prog.unit = "coverage", "accounts"
	defer prog.done()
	out := bufio.NewWriter(c.stdout)
	defer out.Flush()
	if !f.json {
		fmt.Fprintf(out, "%-12s  %-14s  %-7s  %s\n", "ACCOUNT", "REGION", "COVERED", "REASON")
	}
	emit := func(r coverage.Row) error {
		if f.json {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = out.Write(append(b, '\n'))
			return err
		}
		covered := "no"
		if r.Covered {
			covered = "yes"
		}
		_, err := fmt.Fprintf(out, "%-12s  %-14s  %-7s  %s\n", r.Account, r.Region, covered, r.Reason)
		return err
	}
	sum, err := coverage.Run(ctx, d.Coverage, coverage.Options{
		StackSet: f.stackSet, CallAs: cftypes.CallAs(f.callAs), Regions: f.regions, HeartbeatTable: f.table,
		MaxAge: f.maxAge, Now: d.Now(), Concurrency: f.concurrency, Listed: prog.listed, Done: prog.step,
	}, emit)
	if err != nil {
		return err
	}
	if !f.json {
		fmt.Fprintf(out, "\n%d accounts × %d regions: %d covered, %d uncovered, %d suspended accounts; %s\n",
			sum.Accounts, len(f.regions), sum.Covered, sum.Uncovered, sum.Suspended, d.Now().Sub(start).Round(time.Millisecond))
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if sum.Uncovered > 0 {
		return errFindings
	}
	return nil
}
