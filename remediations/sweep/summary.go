package sweep

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations/alert"
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
}

func (s Summary) severity() string {
	switch {
	case s.Tally.Failed > 0 || s.Tally.Undelivered > 0:
		return "high"
	case s.Tally.Fixed > 0 || s.Tally.ExpiredApprovals > 0 || s.Tally.Notified > 0:
		return "medium"
	}
	return "info"
}

// Envelope renders the summary for SNS: text for e-mail, JSON for machines.
func (s Summary) Envelope() alert.Envelope {
	s.Schema = SummarySchema
	t := s.Tally
	js, _ := json.Marshal(s) // plain data: cannot fail
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("bucketguard sweep of account %s in %s (%s mode)", s.Account, s.Region, s.Mode)
	p("")
	p("  buckets seen            %d", t.Seen)
	p("  clean                   %d", t.Clean)
	p("  fixed                   %d", t.Fixed)
	p("  reported only           %d   (findings with nothing to write)", t.Reported)
	p("  found, notify mode      %d", t.Notified)
	p("  failed                  %d", t.Failed)
	p("  gone before evaluation  %d", t.Vanished)
	p("  approved public read    %d", t.Exempt)
	p("  expired approvals       %d", t.ExpiredApprovals)
	if t.Undelivered > 0 {
		p("  undelivered alerts      %d   (in the function's log)", t.Undelivered)
	}
	p("  time taken              %s in %d invocation(s), run %s", s.Duration, s.Parts, s.Run)
	if len(t.Failures) > 0 {
		p("")
		p("FAILED BUCKETS")
		for _, f := range t.Failures {
			p("  %s (%s): %s", f.Bucket, f.Region, f.Reason)
		}
		if t.Failed > len(t.Failures) {
			p("  ... and %d more (see the function's log)", t.Failed-len(t.Failures))
		}
	}
	subject := fmt.Sprintf("bucketguard sweep %s: %d buckets, %d fixed, %d failed", s.Region, t.Seen, t.Fixed, t.Failed)
	return alert.Envelope{Subject: subject, Text: b.String(), JSON: js, Attributes: map[string]string{
		"kind": "sweep-summary", "account": s.Account, "region": s.Region, "severity": s.severity(),
		"outcome": "complete", "owner": alert.Unassigned, "mode": s.Mode,
	}}
}
