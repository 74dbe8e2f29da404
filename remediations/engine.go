package remediations

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/config"
)

// ActionResult is an action of the plan with what became of it.
type ActionResult struct {
	Action
	Outcome Outcome `json:"outcome"`
	// Error is the AWS error of a failed write.
	Error string `json:"error,omitempty"`
	// Detail says what the read-back showed, or why the action did not run.
	Detail string `json:"detail,omitempty"`
}

// Overall outcomes of an evaluation.
const (
	ResultClean      = "clean"       // nothing found
	ResultRemediated = "remediated"  // every attempted fix verified
	ResultPartial    = "partial"     // some fixes did not land or did not verify
	ResultFailed     = "failed"      // no fix landed
	ResultNotified   = "notified"    // notify mode: found and reported, nothing written
	ResultReported   = "reported"    // found, but nothing to write (notices, controls off)
	ResultBucketGone = "bucket-gone" // the bucket no longer exists
)

// Result is one evaluation: what was found and what was done. It is the
// engine's last product; the alert package renders it.
type Result struct {
	Trigger *events.Change `json:"trigger,omitempty"`
	// Run is the sweep run that found it, when a sweep did.
	Run       string         `json:"run,omitempty"`
	Target    Target         `json:"target"`
	Mode      config.Mode    `json:"mode"`
	Owner     string         `json:"owner,omitempty"`
	Severity  Severity       `json:"severity"`
	Outcome   string         `json:"outcome"`
	Findings  []Finding      `json:"findings"`
	Actions   []ActionResult `json:"actions"`
	Exemption *Exemption     `json:"exemption,omitempty"`
	Notes     []string       `json:"notes,omitempty"`
	// Error is the condition that ended the evaluation early, if any.
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	// Before and After are the postures read before and after; After holds
	// only the settings read back.
	Before *Posture `json:"-"`
	After  *Posture `json:"-"`
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

// Engine evaluates targets. Build it once; it is safe for concurrent use.
type Engine struct {
	S3      S3Client
	Control ControlClient
	Config  config.Config
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// NeedsFor says what the engine reads for a target under its configuration.
func (e *Engine) NeedsFor(t Target) Needs {
	return Needs{Bucket: !t.AccountLevel(), Versioning: e.Config.EnforceVersioning, Logging: e.Config.AccessLogBucket != ""}
}

// Evaluate reads the target's posture, plans, and in enforce mode applies
// and verifies the plan. trigger is the event behind it, nil for the CLI and
// the sweep.
//
// The error is non-nil only when the invocation should be retried: a
// transient AWS error, or a deadline too near to start the next write. The
// Result then holds what was done so far. Permanent failures (AccessDenied,
// a vanished bucket) are in the Result, with a nil error.
func (e *Engine) Evaluate(ctx context.Context, t Target, trigger *events.Change, log *slog.Logger) (res Result, err error) {
	start := e.now()
	res = Result{Trigger: trigger, Target: t, Mode: e.Config.Mode, Findings: []Finding{}, Actions: []ActionResult{}, Started: start.UTC()}
	defer func() { res.Duration = e.now().Sub(start).Round(time.Millisecond).String() }()

	var before Posture
	before, err = ReadPosture(ctx, e.S3, e.Control, t, e.NeedsFor(t))
	res.Before = &before
	if errors.Is(err, ErrBucketGone) {
		res.Outcome, res.Severity, res.Error = ResultBucketGone, Info, err.Error()
		res.Findings = append(res.Findings, Finding{ID: "bucket-gone", Severity: Info, Setting: "bucket",
			Summary: "the bucket no longer exists (NoSuchBucket): nothing is left to fix"})
		log.Info("skip", "reason", "bucket gone")
		return res, nil
	}
	if err != nil {
		return res, err
	}
	in := Input{Config: e.Config, Now: e.now()}
	if trigger != nil {
		in.Event, in.Actor, in.RequestTags = trigger.Name, trigger.Actor.String(), trigger.RequestTags
	}
	plan := NewPlan(before, in)
	res.Findings, res.Exemption, res.Notes, res.Severity = plan.Findings, plan.Exemption, plan.Notes, plan.Severity()
	res.Owner = before.Tags.Value[e.Config.OwnerTagKey]
	for _, n := range plan.Notes {
		log.Warn("cross-check", "note", n)
	}
	log.Info("plan", "findings", len(plan.Findings), "severity", res.Severity, "steps", len(plan.Steps), "mode", plan.Mode)

	// Outcomes per action, filled in as the plan runs.
	outcome := map[ActionName]ActionResult{}
	for _, a := range plan.Actions {
		ar := ActionResult{Action: a, Outcome: Planned}
		if a.Skipped != "" {
			ar.Outcome, ar.Detail = Skipped, a.Skipped
		}
		outcome[a.Name] = ar
	}

	var runErr error
	if plan.Mode == config.Enforce && len(plan.Steps) > 0 {
		w := writer{s3: e.S3, ctl: e.Control, t: t}
		results, err := apply(ctx, w, plan.Steps, e.Config.DeadlineMargin, e.now, log)
		runErr = err
		after, checks := verify(ctx, conn{s3: e.S3, ctl: e.Control, t: t}, plan.Steps, results, planKeepsPublicRead(plan))
		res.After = &after
		for i, st := range plan.Steps {
			for _, name := range st.Actions {
				ar := outcome[name]
				switch r := results[i]; {
				case r.done:
					c := checks[name]
					ar.Outcome, ar.Detail = Unverified, c.detail
					if c.ok {
						ar.Outcome = Verified
					}
				case r.err != nil:
					ar.Outcome, ar.Error = WriteFailed, describe(r.err)
				default:
					ar.Outcome, ar.Detail = NotStarted, r.reason
				}
				outcome[name] = ar
				log.Info("verify", "action", name, "outcome", ar.Outcome, "detail", ar.Detail)
			}
		}
	}
	for _, a := range plan.Actions {
		res.Actions = append(res.Actions, outcome[a.Name])
	}
	res.Outcome = overall(res, plan.Mode)
	switch {
	case errors.Is(runErr, ErrBucketGone):
		res.Error = runErr.Error()
		return res, nil // nothing left to retry for
	case runErr != nil:
		res.Error = runErr.Error()
		return res, runErr
	}
	return res, nil
}

func planKeepsPublicRead(p Plan) bool {
	return p.Exemption != nil && (p.Exemption.Status == Approved || p.Exemption.Status == ApprovalUnknown)
}

func overall(r Result, mode config.Mode) string {
	if len(r.Findings) == 0 {
		return ResultClean
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
	case attempted == 0:
		return ResultReported
	case mode == config.Notify:
		return ResultNotified
	case verified == attempted:
		return ResultRemediated
	case written == 0:
		return ResultFailed
	}
	return ResultPartial
}
