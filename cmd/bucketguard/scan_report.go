package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// scanRow is one bucket with findings, for the table and the JSON.
type scanRow struct {
	Bucket   string                      `json:"bucket"`
	Region   string                      `json:"region"`
	Severity plan.Severity               `json:"severity,omitempty"`
	Status   contract.Status             `json:"status,omitempty"`
	Findings []plan.Finding              `json:"findings,omitempty"`
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

// rowOf is a bucket's row, when it has something to show: findings, or an
// evaluation that ended in an error.
func rowOf(b sweep.Bucket, res remediations.Result, err error) (scanRow, bool) {
	if err == nil && len(res.Findings) == 0 {
		return scanRow{}, false
	}
	row := scanRow{Bucket: b.Name, Region: b.Region, Severity: res.Severity, Status: res.Status, Findings: res.Findings, Actions: res.Actions}
	if err != nil {
		row.Status, row.Error = "", err.Error()
	}
	return row, true
}

func printScan(w io.Writer, out scanJSON, took time.Duration) error {
	if len(out.Buckets) > 0 {
		fmt.Fprintf(w, "%-32s %-15s %-9s %-11s %s\n", "BUCKET", "REGION", "SEVERITY", "STATUS", "FINDINGS")
		for _, r := range out.Buckets {
			ids := make([]string, 0, len(r.Findings))
			seen := map[plan.FindingID]bool{}
			for _, f := range r.Findings {
				if !seen[f.ID] {
					seen[f.ID] = true
					ids = append(ids, string(f.ID))
				}
			}
			what, status := strings.Join(ids, ", "), string(r.Status)
			if r.Error != "" {
				what, status = r.Error, "error"
			}
			fmt.Fprintf(w, "%-32s %-15s %-9s %-11s %s\n", r.Bucket, r.Region, r.Severity, status, what)
		}
		fmt.Fprintln(w)
	}
	t := out.Tally
	rate := 0.0
	if took > 0 {
		rate = float64(t.Seen) / took.Seconds()
	}
	var counts []string
	for _, s := range contract.Statuses() {
		if n := t.Count(s); n > 0 || s == contract.Clean {
			counts = append(counts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if t.Errors > 0 {
		counts = append(counts, fmt.Sprintf("%d errors", t.Errors))
	}
	fmt.Fprintf(w, "scan of %s (%s mode): %d buckets in %s (%.1f/s): %s; %d approved public, %d expired approvals\n",
		out.Account, out.Mode, t.Seen, took.Round(time.Millisecond), rate, strings.Join(counts, ", "), t.Exempt, t.ExpiredApprovals)
	if out.Stopped != "" {
		fmt.Fprintf(w, "stopped: %s\n", out.Stopped)
	}
	return nil
}
