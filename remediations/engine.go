// Package remediations is bucketguard's engine. One evaluation flows through
// its subpackages in order: posture (read the target in one concurrent round)
// → plan (judge it by AWS's meaning of "public" and decide the fixes; pure) →
// apply (write them) → verify (read back what changed) → a Result, which the
// alert package renders. The drivers (handler, sweep, the CLI) call Evaluate.
package remediations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/apply"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
	"github.com/bucketguard/bucketguard/remediations/verify"
)

// S3Client is what the engine needs of S3: the reads and the writes.
type S3Client interface {
	read.S3Reader
	apply.S3Writer
}

// ControlClient is what the engine needs of S3 Control.
type ControlClient interface {
	read.ControlReader
	apply.ControlWriter
}

// Approvals remembers each bucket's public-read approval between
// invocations (ledger.Store).
type Approvals interface {
	Approval(ctx context.Context, account, bucket string) (*ledger.Approval, error)
	SetApproval(ctx context.Context, account, bucket string, a ledger.Approval, by string, at time.Time) error
}

// Engine evaluates targets. Build it once; it is safe for concurrent use.
type Engine struct {
	S3      S3Client
	Control ControlClient
	Config  config.Config
	// Approvals, when set, records approvals, so that a call that changes
	// one is told against what was there.
	Approvals Approvals
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Needs says what the engine reads for a target under its configuration. A
// bucket's evaluation reads the account's Block Public Access only when
// Object Ownership is enforced (its IgnorePublicAcls hides grants S3 would
// refuse BucketOwnerEnforced over): the account's settings are evaluated on
// their own events and once per sweep run, not once per bucket.
func (e *Engine) Needs(t posture.Target) read.Needs {
	return read.Needs{Bucket: !t.AccountLevel(), AccountBPA: e.Config.EnforceOwnership,
		Versioning: e.Config.EnforceVersioning, Logging: e.Config.AccessLogBucket != ""}
}

// Evaluate reads the target's posture, plans, and in enforce mode applies
// and verifies the plan. trigger is the event behind it, nil for the CLI and
// the sweep.
//
// The error is non-nil only when the invocation should be retried: a
// transient AWS error, or a deadline too near to start the next write. The
// Result then holds what was done so far. Permanent failures (AccessDenied,
// a vanished bucket) are in the Result, with a nil error.
func (e *Engine) Evaluate(ctx context.Context, t posture.Target, trigger *events.Change, log *slog.Logger) (res Result, err error) {
	start := e.now()
	res = Result{Trigger: trigger, Target: t, Mode: e.Config.Mode, Findings: []plan.Finding{}, Actions: []ActionResult{}, Started: start.UTC()}
	defer func() { res.Duration = e.now().Sub(start).Round(time.Millisecond).String() }()

	reader := read.Clients{S3: e.S3, Control: e.Control}
	if ap := t.AccessPoint; ap != nil && ap.Kind == posture.BucketAccessPoint {
		// A bucket's access point: evaluate its bucket, with all its
		// access points.
		bucket, err := read.AccessPointBucket(ctx, e.Control, t.Account, t.Region, ap.Name)
		switch {
		case awserr.Code(err) == "NoSuchAccessPoint":
			res.Status = contract.Clean
			log.Info(contract.MsgSkip, "reason", "access point gone", "access_point", ap.Name)
			return res, nil
		case awserr.Transient(err):
			return res, &awserr.TransientError{Op: string(op.GetAccessPoint), Err: err}
		case err != nil:
			res.Status, res.Severity, res.Error = contract.Failed, plan.High, err.Error()
			res.Findings = append(res.Findings, plan.Finding{ID: plan.Unreadable("access-point"), Severity: plan.High, Setting: "access-point", AccessPoint: ap.Name,
				Summary: fmt.Sprintf("could not find the bucket of access point %s (%s); it was not judged", ap.Name, awserr.Describe(err))})
			return res, nil
		}
		t = posture.Target{Account: t.Account, Region: t.Region, Bucket: bucket}
		res.Target = t
	}
	prior := e.priorApproval(ctx, t, trigger, log) // in the read round
	before, err := read.Posture(ctx, reader, t, e.Needs(t))
	res.Before = &before
	if errors.Is(err, awserr.ErrBucketGone) {
		res.Status, res.Severity, res.Error = contract.BucketGone, plan.Info, err.Error()
		res.Findings = append(res.Findings, plan.Finding{ID: plan.BucketGone, Severity: plan.Info, Setting: "bucket",
			Summary: "the bucket no longer exists (NoSuchBucket): nothing is left to fix"})
		log.Info(contract.MsgSkip, "reason", "bucket gone")
		return res, nil
	}
	if err != nil {
		return res, err
	}
	in := plan.Input{Config: e.Config, Now: e.now()}
	if trigger != nil {
		in.Event, in.Actor, in.RequestTags, in.RemovedTags = trigger.Name, trigger.Actor.String(), trigger.RequestTags, trigger.RemovedTags
		in.PriorApproval, in.ApprovalsRecorded = prior()
	}
	p := plan.New(before, in)
	if p.RecordApproval != nil && e.Approvals != nil {
		rec := ledger.Approval{Value: p.RecordApproval.Value, Until: p.RecordApproval.Until}
		if err := e.Approvals.SetApproval(ctx, t.Account, t.Bucket, rec, in.Actor, in.Now); err != nil {
			log.Warn("approval record", contract.FieldErr, err) // told this time; the next change is told against the older record
		}
	}
	res.Findings, res.Exemption, res.Notes, res.Severity = p.Findings, p.Exemption, p.Notes, p.Severity()
	res.Unresolved = p.Unresolved
	res.Owner = before.Tags.Value[e.Config.OwnerTagKey]
	for _, n := range p.Notes {
		log.Warn("cross-check", "note", n)
	}
	log.Info(contract.MsgPlan, "findings", len(p.Findings), contract.FieldSeverity, res.Severity, "steps", len(p.Steps), "mode", p.Mode)

	outcome := planned(p)
	var runErr error
	if p.Mode == config.Enforce && len(p.Steps) > 0 {
		runErr = e.run(ctx, t, p, outcome, log, &res)
	}
	for _, a := range p.Actions {
		res.Actions = append(res.Actions, outcome[a.Key()])
	}
	res.Status = status(res, p.Mode)
	switch {
	case errors.Is(runErr, awserr.ErrBucketGone):
		res.Error = runErr.Error()
		return res, nil // nothing left to retry for
	case runErr != nil:
		res.Error = runErr.Error()
		return res, runErr
	}
	return res, nil
}

// priorApproval starts reading the approval last recorded for the bucket,
// when the triggering call can change tags, and returns a function that
// waits for it: the state, and whether records are kept.
func (e *Engine) priorApproval(ctx context.Context, t posture.Target, trigger *events.Change, log *slog.Logger) func() (*plan.ApprovalState, bool) {
	if e.Approvals == nil || trigger == nil || !trigger.Name.ChangesTags() || t.Bucket == "" {
		return func() (*plan.ApprovalState, bool) { return nil, false }
	}
	type answer struct {
		a   *ledger.Approval
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		a, err := e.Approvals.Approval(ctx, t.Account, t.Bucket)
		ch <- answer{a, err}
	}()
	return func() (*plan.ApprovalState, bool) {
		r := <-ch
		switch {
		case r.err != nil:
			log.Warn("approval record", contract.FieldErr, r.err)
			return nil, false // told from the request alone
		case r.a == nil:
			return nil, true
		}
		return &plan.ApprovalState{Value: r.a.Value, Until: r.a.Until}, true
	}
}

// planned gives every action of the plan its outcome before anything runs.
func planned(p plan.Plan) map[string]ActionResult {
	outcome := map[string]ActionResult{}
	for _, a := range p.Actions {
		ar := ActionResult{Action: a, Outcome: Planned}
		if a.Skipped != "" {
			ar.Outcome, ar.Detail = Skipped, a.Skipped
		}
		outcome[a.Key()] = ar
	}
	return outcome
}

// run applies the plan's steps, reads back what they changed, and records
// each action's outcome.
func (e *Engine) run(ctx context.Context, t posture.Target, p plan.Plan, outcome map[string]ActionResult, log *slog.Logger, res *Result) error {
	results, runErr := apply.Run(ctx, apply.Clients{S3: e.S3, Control: e.Control}, t, p.Steps, e.Config.DeadlineMargin, e.now, log)
	done := make([]bool, len(results))
	for i, r := range results {
		done[i] = r.Done
	}
	after, checks := verify.Run(ctx, read.Clients{S3: e.S3, Control: e.Control}, t, p.Steps, done, p.Exemption.KeepsPublicRead())
	res.After = &after
	for i, st := range p.Steps {
		for _, name := range st.Actions {
			key := plan.ActionKey(name, st.AccessPointName())
			ar := outcome[key]
			switch r := results[i]; {
			case r.Done:
				c := checks[key]
				ar.Outcome, ar.Detail = Unverified, c.Detail
				if c.OK {
					ar.Outcome = Verified
				}
			case r.Err != nil:
				ar.Outcome, ar.Error = WriteFailed, awserr.Describe(r.Err)
			default:
				ar.Outcome, ar.Detail = NotStarted, r.Reason
			}
			outcome[key] = ar
			log.Info(contract.MsgVerify, "action", key, contract.FieldOutcome, ar.Outcome, "detail", ar.Detail)
		}
	}
	return runErr
}
