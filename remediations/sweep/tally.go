package sweep

import (
	"strings"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// MaxFailures bounds the failures named in a tally: the count stays exact,
// the list (and the summary alert) stays small.
const MaxFailures = 50

// Tally counts a run's buckets by the status of their evaluation.
type Tally struct {
	Seen int `json:"seen"`
	// Statuses counts the evaluations that finished, by status.
	Statuses map[contract.Status]int `json:"statuses"`
	// Errors counts the evaluations that ended in an error (a transient
	// failure the sweep does not retry), so have no status.
	Errors           int       `json:"errors"`
	Exempt           int       `json:"exempt"`
	ExpiredApprovals int       `json:"expired_approvals"`
	Failures         []Failure `json:"failures,omitempty"`
	// Undelivered counts alerts that reached neither SNS nor the fallback
	// queue (they are in the log).
	Undelivered int `json:"undelivered_alerts,omitempty"`
	// AccountLevel counts the targets that are not buckets of the region:
	// the account's Block Public Access, Object Lambda and Multi-Region
	// access points (their statuses are in Statuses too).
	AccountLevel int `json:"account_level,omitempty"`
	// Uncovered counts the buckets in regions without a stack (the home
	// region's sweep counts them); UncoveredBuckets names the first ones.
	Uncovered        int      `json:"uncovered,omitempty"`
	UncoveredBuckets []Bucket `json:"uncovered_buckets,omitempty"`
}

// Failure names a bucket the run could not bring to a good state.
type Failure struct {
	Bucket string `json:"bucket"`
	Region string `json:"region"`
	Reason string `json:"reason"`
}

// Count returns how many evaluations ended with status s.
func (t Tally) Count(s contract.Status) int { return t.Statuses[s] }

// Failing counts the buckets left short of a good state: errors, and the
// partial and failed remediations.
func (t Tally) Failing() int { return t.Errors + t.Count(contract.Partial) + t.Count(contract.Failed) }

func (t *Tally) add(b Bucket, res remediations.Result, err error) {
	t.Seen++
	t.count(b, res, err)
}

// count records an evaluation's status (or error), and its exemption.
func (t *Tally) count(b Bucket, res remediations.Result, err error) {
	if err != nil {
		t.Errors++
		t.name(b, err.Error())
		return
	}
	if t.Statuses == nil {
		t.Statuses = map[contract.Status]int{}
	}
	t.Statuses[res.Status]++
	if res.Status == contract.Partial || res.Status == contract.Failed {
		t.name(b, reason(res))
	}
	if x := res.Exemption; x != nil {
		switch x.Status {
		case plan.Approved:
			t.Exempt++
		case plan.Expired:
			t.ExpiredApprovals++
		}
	}
}

// recount counts a bucket's final evaluation in place of an earlier look
// at it, counted with status was.
func (t *Tally) recount(b Bucket, was contract.Status, res remediations.Result, err error) {
	if t.Statuses[was] > 0 {
		t.Statuses[was]--
	}
	if x := res.Exemption; x != nil && err == nil {
		// The look counted the same exemption.
		switch x.Status {
		case plan.Approved:
			t.Exempt--
		case plan.Expired:
			t.ExpiredApprovals--
		}
	}
	t.count(b, res, err)
}

func (t *Tally) name(b Bucket, why string) {
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
		return string(res.Status)
	}
	return strings.Join(parts, "; ")
}

// Merge adds another invocation's tally.
func (t *Tally) Merge(o Tally) {
	t.Seen += o.Seen
	if len(o.Statuses) > 0 && t.Statuses == nil {
		t.Statuses = map[contract.Status]int{}
	}
	for s, n := range o.Statuses {
		t.Statuses[s] += n
	}
	t.Errors += o.Errors
	t.Exempt += o.Exempt
	t.ExpiredApprovals += o.ExpiredApprovals
	t.Undelivered += o.Undelivered
	t.AccountLevel += o.AccountLevel
	t.Uncovered += o.Uncovered
	for _, b := range o.UncoveredBuckets {
		if len(t.UncoveredBuckets) < MaxUncovered {
			t.UncoveredBuckets = append(t.UncoveredBuckets, b)
		}
	}
	for _, f := range o.Failures {
		if len(t.Failures) < MaxFailures {
			t.Failures = append(t.Failures, f)
		}
	}
}
