package sweep

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// SummarySchema names the version of the summary document.
const SummarySchema = "bucketguard.sweep/v1"

// Summary is the one alert a whole run ends with.
type Summary struct {
	Schema   string    `json:"schema"`
	Run      string    `json:"run"`
	Account  string    `json:"account"`
	Region   string    `json:"region"`
	Mode     string    `json:"mode"`
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	// Parts is the number of invocations the run took.
	Parts int   `json:"parts"`
	Tally Tally `json:"tally"`
	// Budget is the run's fix budget and what it held back, in enforce
	// mode.
	Budget *Budget `json:"budget,omitempty"`
	// Cause says why the run started outside its schedule, if it did.
	Cause string `json:"cause,omitempty"`
}

func (s Summary) severity() plan.Severity {
	switch t := s.Tally; {
	case t.Failing() > 0 || t.Undelivered > 0:
		return plan.High
	case t.Count(contract.Remediated) > 0 || t.ExpiredApprovals > 0 || t.Count(contract.Notified) > 0 || t.Uncovered > 0:
		return plan.Medium
	}
	return plan.Info
}

// Envelope renders the summary for SNS: text for e-mail, JSON for machines.
func (s Summary) Envelope() alert.Envelope {
	s.Schema = SummarySchema
	t := s.Tally
	js, _ := json.Marshal(s) // plain data: cannot fail
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("bucketguard sweep of account %s in %s (%s mode)", s.Account, s.Region, s.Mode)
	if s.Cause != "" {
		p("started at once, outside the schedule: %s", s.Cause)
	}
	p("")
	p("  buckets seen            %d", t.Seen)
	for _, st := range contract.Statuses() {
		p("  %-23s %d", st, t.Count(st))
	}
	p("  errors                  %d   (evaluation stopped by an AWS error)", t.Errors)
	if t.AccountLevel > 0 {
		p("  account-level targets   %d   (account Block Public Access, Object Lambda and Multi-Region access points; in the counts above)", t.AccountLevel)
	}
	p("  approved public read    %d", t.Exempt)
	p("  expired approvals       %d", t.ExpiredApprovals)
	if t.Undelivered > 0 {
		p("  undelivered alerts      %d   (in the function's log)", t.Undelivered)
	}
	if b := s.Budget; b != nil {
		p("  fix budget              %d a run: %d fixed, %d reported instead (the most severe were fixed)", b.Limit, len(b.Candidates), b.Over)
	}
	p("  time taken              %s in %d invocation(s), run %s", s.Duration, s.Parts, s.Run)
	if len(t.Failures) > 0 {
		p("")
		p("BUCKETS LEFT SHORT OF A GOOD STATE (errors, partial and failed)")
		for _, f := range t.Failures {
			p("  %s (%s): %s", f.Bucket, f.Region, f.Reason)
		}
		if t.Failing() > len(t.Failures) {
			p("  ... and %d more (see the function's log)", t.Failing()-len(t.Failures))
		}
	}
	if t.Uncovered > 0 {
		p("")
		p("BUCKETS IN REGIONS WITHOUT A STACK (no rule and no sweep covers them: deploy a stack there)")
		for _, b := range t.UncoveredBuckets {
			p("  %s (%s)", b.Name, b.Region)
		}
		if t.Uncovered > len(t.UncoveredBuckets) {
			p("  ... and %d more", t.Uncovered-len(t.UncoveredBuckets))
		}
	}
	subject := fmt.Sprintf("bucketguard sweep %s: %d buckets, %d remediated, %d failing", s.Region, t.Seen, t.Count(contract.Remediated), t.Failing())
	return alert.Envelope{Kind: contract.KindSummary, Subject: subject, Text: b.String(), JSON: js, Key: "sweep/" + s.Run + "/summary",
		Attributes: map[string]string{
			"kind": contract.KindSummary, "account": s.Account, "region": s.Region, "severity": string(s.severity()),
			"owner": alert.Unassigned, "mode": s.Mode,
		}}
}
