package remediations

import (
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Outcome is what became of one action.
type Outcome string

// Action outcomes.
const (
	Verified    Outcome = "verified"    // written and read back as intended
	Unverified  Outcome = "unverified"  // written, but the read-back disagrees or failed
	WriteFailed Outcome = "failed"      // the write failed
	Skipped     Outcome = "skipped"     // the plan chose not to attempt it
	NotStarted  Outcome = "not-started" // the invocation stopped before it
	Planned     Outcome = "planned"     // notify mode: nothing is written
)

// ActionResult is an action of the plan with what became of it.
type ActionResult struct {
	plan.Action
	Outcome Outcome `json:"outcome"`
	// Error is the AWS error of a failed write.
	Error string `json:"error,omitempty"`
	// Detail says what the read-back showed, or why the action did not run.
	Detail string `json:"detail,omitempty"`
}

// Result is one evaluation: what was found and what was done. It is the
// engine's last product; the alert package renders it.
type Result struct {
	Trigger *events.Change `json:"trigger,omitempty"`
	// Run is the sweep run that found it, when a sweep did.
	Run       string          `json:"run,omitempty"`
	Target    posture.Target  `json:"target"`
	Mode      config.Mode     `json:"mode"`
	Owner     string          `json:"owner,omitempty"`
	Severity  plan.Severity   `json:"severity"`
	Status    contract.Status `json:"status"`
	Findings  []plan.Finding  `json:"findings"`
	Actions   []ActionResult  `json:"actions"`
	Exemption *plan.Exemption `json:"exemption,omitempty"`
	Notes     []string        `json:"notes,omitempty"`
	// Unresolved says what public access may remain that no valid approval
	// keeps; with any, the status is never "remediated".
	Unresolved []string `json:"unresolved,omitempty"`
	// Journaled says the journal was kept before the first write: a retry
	// can tell the incident if this attempt cannot.
	Journaled bool `json:"-"`
	// Error is the condition that ended the evaluation early, if any.
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	// Before and After are the postures read before and after; After holds
	// only the settings read back.
	Before *posture.Posture `json:"-"`
	After  *posture.Posture `json:"-"`
}

// Wrote reports whether any write went through.
func (r Result) Wrote() bool {
	for _, a := range r.Actions {
		if a.Outcome == Verified || a.Outcome == Unverified {
			return true
		}
	}
	return false
}

// status sums up the actions: the Result's Status.
func status(r Result, mode config.Mode) contract.Status {
	if len(r.Findings) == 0 {
		return contract.Clean
	}
	var attempted, verified, written int
	for _, a := range r.Actions {
		switch a.Outcome {
		case Skipped:
			continue
		case Verified:
			verified++
			written++
		case Unverified:
			written++
		}
		attempted++
	}
	switch {
	case attempted == 0 && len(r.Unresolved) > 0 && mode == config.Enforce:
		return contract.Partial
	case attempted == 0:
		return contract.Reported
	case mode == config.Notify:
		return contract.Notified
	case verified == attempted && len(r.Unresolved) > 0:
		return contract.Partial
	case verified == attempted:
		return contract.Remediated
	case written == 0:
		return contract.Failed
	}
	return contract.Partial
}
