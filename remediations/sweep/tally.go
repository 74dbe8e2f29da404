package sweep

import (
	"strings"

	"github.com/bucketguard/bucketguard/remediations"
)

// MaxFailures bounds the failures named in a tally: the count stays exact,
// the list (and the summary alert) stays small.
const MaxFailures = 50

// Tally counts a run's buckets by outcome.
type Tally struct {
	Seen             int       `json:"seen"`
	Clean            int       `json:"clean"`
	Fixed            int       `json:"fixed"`
	Reported         int       `json:"reported"`
	Notified         int       `json:"notified"`
	Failed           int       `json:"failed"`
	Vanished         int       `json:"vanished"`
	Exempt           int       `json:"exempt"`
	ExpiredApprovals int       `json:"expired_approvals"`
	Failures         []Failure `json:"failures,omitempty"`
	// Undelivered counts alerts that reached neither SNS nor the fallback
	// queue (they are in the log).
	Undelivered int `json:"undelivered_alerts,omitempty"`
}

// Failure names a bucket the run could not bring to a good state.
type Failure struct {
	Bucket string `json:"bucket"`
	Region string `json:"region"`
	Reason string `json:"reason"`
}

func (t *Tally) add(b Bucket, res remediations.Result, err error) {
	t.Seen++
	if err != nil {
		t.fail(b, err.Error())
		return
	}
	switch res.Outcome {
	case remediations.ResultClean:
		t.Clean++
	case remediations.ResultRemediated:
		t.Fixed++
	case remediations.ResultReported:
		t.Reported++
	case remediations.ResultNotified:
		t.Notified++
	case remediations.ResultBucketGone:
		t.Vanished++
	default:
		t.fail(b, reason(res))
	}
	if x := res.Exemption; x != nil {
		switch x.Status {
		case remediations.Approved:
			t.Exempt++
		case remediations.ApprovalExpired:
			t.ExpiredApprovals++
		}
	}
}

func (t *Tally) fail(b Bucket, why string) {
	t.Failed++
	if len(t.Failures) < MaxFailures {
		t.Failures = append(t.Failures, Failure{Bucket: b.Name, Region: b.Region, Reason: why})
	}
}

// reason sums up why a bucket's remediation failed or stopped short.
func reason(res remediations.Result) string {
	var parts []string
	for _, a := range res.Actions {
		switch {
		case a.Error != "":
			parts = append(parts, string(a.Name)+": "+a.Error)
		case a.Outcome == remediations.Unverified || a.Outcome == remediations.NotStarted:
			parts = append(parts, string(a.Name)+": "+string(a.Outcome))
		}
	}
	if res.Error != "" {
		parts = append(parts, res.Error)
	}
	if len(parts) == 0 {
		return res.Outcome
	}
	return strings.Join(parts, "; ")
}

// Merge adds another invocation's tally.
func (t *Tally) Merge(o Tally) {
	t.Seen += o.Seen
	t.Clean += o.Clean
	t.Fixed += o.Fixed
	t.Reported += o.Reported
	t.Notified += o.Notified
	t.Failed += o.Failed
	t.Vanished += o.Vanished
	t.Exempt += o.Exempt
	t.ExpiredApprovals += o.ExpiredApprovals
	t.Undelivered += o.Undelivered
	for _, f := range o.Failures {
		if len(t.Failures) < MaxFailures {
			t.Failures = append(t.Failures, f)
		}
	}
}
