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
	"reflect"
	"slices"
	"strings"
	"sync"
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
	// Journal, when set, keeps each evaluation's journal before its first
	// write (EvaluateJournaled).
	Journal Journaler
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
func (e *Engine) Evaluate(ctx context.Context, t posture.Target, trigger *events.Change, log *slog.Logger) (Result, error) {
	return e.EvaluateJournaled(ctx, t, trigger, Incident{}, log)
}

// Incident ties an evaluation that may write to its incident (a CloudTrail
// event, or a bucket of a sweep run).
type Incident struct {
	// Key names the incident; the journal is kept under it. Empty keeps
	// none.
	Key string
	// Attempt names this attempt: its own journal is replaced when the
	// fix is planned again, an earlier attempt's is kept.
	Attempt string
	// Gate, when set, is asked before the first write: an error stops the
	// evaluation without writing (the incident could not be claimed, or
	// another delivery of it is running) and is returned.
	Gate func() error
}

// EvaluateJournaled is Evaluate that, before its first write, passes the
// incident's gate and keeps the journal under its key with e.Journal, so
// that a retry can tell the whole incident.
func (e *Engine) EvaluateJournaled(ctx context.Context, t posture.Target, trigger *events.Change, inc Incident, log *slog.Logger) (res Result, err error) {
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
	var record sync.WaitGroup // the approval record is written beside what follows
	defer record.Wait()
	if p.RecordApproval != nil && e.Approvals != nil {
		rec := ledger.Approval{Value: p.RecordApproval.Value, Until: p.RecordApproval.Until}
		record.Add(1)
		go func() {
			defer record.Done()
			// The record changes what a retry would see: the journal,
			// kept first, lets the retry still tell the change.
			if e.Journal != nil && inc.Key != "" {
				if j, err := journalOf(res.Started, p); err == nil {
					if err := e.Journal.SaveJournal(ctx, inc.Key, inc.Attempt, j); err != nil {
						log.Warn("journal", contract.FieldErr, err)
					}
				}
			}
			if err := e.Approvals.SetApproval(ctx, t.Account, t.Bucket, rec, in.Actor, in.Now); err != nil {
				log.Warn("approval record", contract.FieldErr, err) // told this time; the next change is told against the older record
			}
		}()
	}
	var gateErr error
	if p.Mode == config.Enforce && len(p.Steps) > 0 {
		// Before the first write: the journal, and the policy and ACL read
		// again, in one round; a concurrent change is planned again.
		p, gateErr = e.prewrite(ctx, t, &before, in, p, inc, log, &res)
	}
	res.Findings, res.Exemption, res.Severity = p.Findings, p.Exemption, p.Severity()
	res.Notes = append(res.Notes, p.Notes...)
	res.Unresolved = p.Unresolved
	res.Owner = before.Tags.Value[e.Config.OwnerTagKey]
	for _, n := range p.Notes {
		log.Warn("cross-check", "note", n)
	}
	log.Info(contract.MsgPlan, "findings", len(p.Findings), contract.FieldSeverity, res.Severity, "steps", len(p.Steps), "mode", p.Mode)

	outcome := planned(p)
	runErr := gateErr
	if p.Mode == config.Enforce && len(p.Steps) > 0 && gateErr == nil {
		runErr = e.run(ctx, t, p, outcome, log, &res)
	}
	if gateErr != nil {
		for k, ar := range outcome {
			if ar.Outcome == Planned {
				ar.Outcome, ar.Detail = NotStarted, gateErr.Error()
				outcome[k] = ar
			}
		}
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

// maxReplans bounds how many times a concurrent change of the policy or the
// ACL is planned again before bucketguard gives up writing them.
const maxReplans = 3

// prewrite is the round before the first write: the journal is made
// durable (when a journaler and a key are given) while the bucket policy
// and ACL about to be written are read again. S3 has no conditional write
// for either, so a change made since the posture read (a new partner
// statement, say) would be overwritten: instead it is planned again from
// what is there now, at most maxReplans times; after that the policy and
// ACL are left unwritten and the conflict is reported.
func (e *Engine) prewrite(ctx context.Context, t posture.Target, before *posture.Posture, in plan.Input, p plan.Plan, inc Incident, log *slog.Logger, res *Result) (plan.Plan, error) {
	if inc.Gate != nil {
		if err := inc.Gate(); err != nil {
			return p, err
		}
	}
	var seen []string
	for attempt := 1; ; attempt++ {
		var wg sync.WaitGroup
		if e.Journal != nil && inc.Key != "" {
			wg.Add(1)
			go func() {
				defer wg.Done()
				j, err := journalOf(res.Started, p)
				if err == nil {
					err = e.Journal.SaveJournal(ctx, inc.Key, inc.Attempt, j)
				}
				if err != nil {
					log.Warn("journal", contract.FieldErr, err) // the alert is then due from this attempt
					res.Journaled = false
					return
				}
				res.Journaled = true
			}()
		}
		again := *before
		var ops []op.Operation
		for _, st := range p.Steps {
			switch {
			case st.AccessPoint != nil:
			case st.Op == op.PutBucketPolicy || st.Op == op.DeleteBucketPolicy:
				ops = append(ops, op.GetBucketPolicy)
			case st.Op == op.PutBucketAcl:
				ops = append(ops, op.GetBucketAcl)
			}
		}
		ops = slices.Compact(ops)
		var rr read.RoundResult
		if len(ops) > 0 {
			rr = read.Round(ctx, read.Clients{S3: e.S3, Control: e.Control}, &again, ops, false)
		}
		wg.Wait()
		switch {
		case rr.Gone != nil:
			return p, fmt.Errorf("read again before writing: %w", awserr.ErrBucketGone)
		case len(rr.Transient) > 0:
			// Not knowing what is there now, writing would be blind: the
			// retry plans again.
			return p, fmt.Errorf("read again before writing: %w", errors.Join(rr.Transient...))
		}
		var changed []string
		policyAgain := slices.Contains(ops, op.GetBucketPolicy)
		aclAgain := slices.Contains(ops, op.GetBucketAcl)
		if (policyAgain && !again.Policy.Known()) || (aclAgain && !again.ACL.Known()) {
			return giveUp(p, []string{"bucket policy or ACL, read again just before the write,"}, "could not be read again"), nil
		}
		if policyAgain && (again.Policy.State != before.Policy.State || again.Policy.Value != before.Policy.Value) {
			changed = append(changed, "bucket policy")
		}
		if aclAgain && !reflect.DeepEqual(again.ACL, before.ACL) {
			changed = append(changed, "ACL")
		}
		if len(changed) == 0 {
			return p, nil
		}
		log.Warn("concurrent change", "settings", changed, "attempt", attempt)
		seen = appendNew(seen, changed)
		if attempt == maxReplans {
			return giveUp(p, changed, fmt.Sprintf("kept changing while bucketguard read it (%d times)", maxReplans)), nil
		}
		// AWS's verdict was on the old policy: the new one is judged alone.
		before.Policy, before.ACL, before.PolicyStatus = again.Policy, again.ACL, posture.Fact[bool]{State: posture.Unread}
		p = plan.New(*before, in)
		// Said in the plan, so that the journal kept next says it too.
		for _, what := range seen {
			p.Findings = append(p.Findings, plan.Finding{ID: plan.ConcurrentChange, Severity: plan.Info, Setting: "policy",
				Summary: fmt.Sprintf("the %s changed between bucketguard's read and its write; the fix was planned again from what is there now, so the change is kept", what)})
		}
		if len(p.Steps) == 0 {
			return p, nil
		}
	}
}

// giveUp drops the policy and ACL writes of a plan whose settings keep
// changing, and reports it.
func giveUp(p plan.Plan, changed []string, why string) plan.Plan {
	what := strings.Join(changed, " and ")
	reason := fmt.Sprintf("the %s %s: not written, so that no one's change is overwritten", what, why)
	var steps []plan.Step
	dropped := map[plan.ActionName]bool{}
	for _, st := range p.Steps {
		if st.AccessPoint == nil && (st.Op == op.PutBucketPolicy || st.Op == op.DeleteBucketPolicy || st.Op == op.PutBucketAcl) {
			for _, a := range st.Actions {
				dropped[a] = true
			}
			continue
		}
		steps = append(steps, st)
	}
	for i, a := range p.Actions {
		if a.AccessPoint == "" && dropped[a.Name] {
			p.Actions[i].Skipped = reason
		}
	}
	p.Steps = steps
	p.Findings = append(p.Findings, plan.Finding{ID: plan.ConcurrentChange, Severity: plan.High, Setting: "policy", Summary: reason})
	p.Unresolved = append(p.Unresolved, "the "+what+" could not be fixed: "+why)
	return p
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

// shorten returns a context that ends by d before ctx's deadline (the same
// context when ctx has none).
func shorten(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-d))
	}
	return ctx, func() {}
}

// run applies the plan's steps, reads back what they changed, and records
// each action's outcome.
func (e *Engine) run(ctx context.Context, t posture.Target, p plan.Plan, outcome map[string]ActionResult, log *slog.Logger, res *Result) error {
	// The time after the writes is kept for the read-back and the alert:
	// writes start only while that and one call bound are left, and end
	// when only that is left; the read-back ends when only the alert's
	// time is left.
	readBack, alertTime := e.Config.Reserve()
	wctx, wcancel := shorten(ctx, readBack+alertTime)
	defer wcancel()
	results, runErr := apply.Run(wctx, apply.Clients{S3: e.S3, Control: e.Control}, t, p.Steps, e.Config.CallTimeout, e.now, log)
	done := make([]bool, len(results))
	for i, r := range results {
		done[i] = r.Done
	}
	vctx, vcancel := shorten(ctx, alertTime)
	defer vcancel()
	after, checks := verify.Run(vctx, read.Clients{S3: e.S3, Control: e.Control}, t, p.Steps, done, p.Exemption.KeepsPublicRead())
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
