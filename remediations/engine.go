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
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/analyzer"
	"github.com/bucketguard/bucketguard/remediations/apply"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
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
	Approval(ctx context.Context, account, bucket string) (*plan.ApprovalTags, error)
	SetApproval(ctx context.Context, account, bucket string, a plan.ApprovalTags, by string, at time.Time) error
}

// Engine evaluates targets. Build it once; it is safe for concurrent use.
type Engine struct {
	S3      S3Client
	Control ControlClient
	Config  config.Config
	// Analyzer, when set, asks AWS's own check (IAM Access Analyzer) about
	// every policy bucketguard is about to write, in the round before the
	// writes.
	Analyzer analyzer.CheckNoPublicAccessAPIClient
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
func (e *Engine) Evaluate(ctx context.Context, t posture.Target, trigger *events.Change, log *slog.Logger) (Result, error) {
	return e.EvaluateAttempt(ctx, t, trigger, Attempt{}, log)
}

// Attempt is what the incident protocol (package incident) gives an
// evaluation that may write: a gate to pass and a place to keep the journal
// before the first write.
type Attempt struct {
	// Gate, when set, is asked before the first write: an error stops the
	// evaluation without writing (the incident could not be claimed, or
	// another delivery of it is running) and is returned.
	Gate func() error
	// Keep, when set, makes the journal durable. It is called before the
	// first write, again when the fix is planned again, and before an
	// approval record changes what a retry would see.
	Keep func(context.Context, Journal) error
	// Mode, when set, is the mode of this evaluation instead of the
	// configured one (a sweep's bucket beyond its fix budget is reported).
	Mode config.Mode
}

// Look evaluates the target in notify mode: what is wrong and what would be
// fixed, with no write and no incident (a sweep weighing its fix budget).
func (e *Engine) Look(ctx context.Context, t posture.Target, log *slog.Logger) (Result, error) {
	return e.EvaluateAttempt(ctx, t, nil, Attempt{Mode: config.Notify}, log)
}

// EvaluateAttempt is Evaluate for one attempt at an incident: no write
// before the attempt's gate is passed and its journal kept.
func (e *Engine) EvaluateAttempt(ctx context.Context, t posture.Target, trigger *events.Change, at Attempt, log *slog.Logger) (Result, error) {
	start := e.now()
	cfg := e.Config
	if at.Mode != "" {
		cfg.Mode = at.Mode
	}
	ev := &evaluation{e: e, cfg: cfg, trigger: trigger, log: log, gate: at.Gate, journal: &keeper{keep: at.Keep, log: log},
		res: Result{Trigger: trigger, Target: t, Mode: cfg.Mode, Findings: []plan.Finding{}, Actions: []ActionResult{}, Started: start.UTC()}}
	res, err := ev.run(ctx, t)
	res.Duration = e.now().Sub(start).Round(time.Millisecond).String()
	return res, err
}

// evaluation is one evaluation of a target. Its methods are the arrows of
// the flow: resolve → read → plan → prewrite → write and verify → finish.
// run's goroutine owns it; the approval record and the journal saves work
// on copies of what they write.
type evaluation struct {
	e       *Engine
	cfg     config.Config // the engine's, in this evaluation's mode
	trigger *events.Change
	log     *slog.Logger
	gate    func() error
	journal *keeper
	in      plan.Input
	before  posture.Posture
	plan    plan.Plan
	res     Result
}

func (ev *evaluation) run(ctx context.Context, t posture.Target) (Result, error) {
	t, done, err := ev.resolve(ctx, t)
	if done {
		return ev.res, err
	}
	prior := ev.e.priorApproval(ctx, t, ev.trigger, ev.log) // in the read round
	if done, err := ev.read(ctx, t); done {
		return ev.res, err
	}
	ev.planFirst(prior)
	recorded := ev.recordApproval(ctx, t)
	defer recorded()
	var gateErr error
	if ev.writes() {
		gateErr = ev.prewrite(ctx, t)
	}
	ev.summarize()
	outcome := planned(ev.plan)
	runErr := gateErr
	switch {
	case gateErr != nil:
		notStarted(outcome, gateErr)
	case ev.writes():
		runErr = ev.e.run(ctx, t, ev.plan, outcome, ev.log, &ev.res)
	}
	return ev.finish(outcome, runErr)
}

// writes reports whether the plan has writes to make.
func (ev *evaluation) writes() bool { return ev.plan.Mode == config.Enforce && len(ev.plan.Steps) > 0 }

// resolve turns a bucket's access point into its bucket: the bucket is
// evaluated, with all its access points. done reports that the evaluation
// ends here (the access point is gone, or its bucket cannot be found).
func (ev *evaluation) resolve(ctx context.Context, t posture.Target) (posture.Target, bool, error) {
	ap := t.AccessPoint
	if ap == nil || ap.Kind != posture.BucketAccessPoint {
		return t, false, nil
	}
	bucket, err := read.AccessPointBucket(ctx, ev.e.Control, t.Account, t.Region, ap.Name)
	switch {
	case awserr.Code(err) == "NoSuchAccessPoint":
		ev.res.Status = contract.Clean
		ev.log.Info(contract.MsgSkip, "reason", "access point gone", "access_point", ap.Name)
		return t, true, nil
	case awserr.Transient(err):
		return t, true, &awserr.TransientError{Op: string(op.GetAccessPoint), Err: err}
	case err != nil:
		ev.res.Status, ev.res.Severity, ev.res.Error = contract.Failed, plan.High, err.Error()
		ev.res.Findings = append(ev.res.Findings, plan.AccessPointUnresolvedFinding(ap.Name, awserr.Describe(err)))
		return t, true, nil
	}
	t = posture.Target{Account: t.Account, Region: t.Region, Bucket: bucket}
	ev.res.Target = t
	return t, false, nil
}

// read is the read round. done reports that the evaluation ends here.
func (ev *evaluation) read(ctx context.Context, t posture.Target) (done bool, err error) {
	ev.before, err = read.Posture(ctx, read.Clients{S3: ev.e.S3, Control: ev.e.Control}, t, ev.e.Needs(t))
	ev.res.Before = &ev.before
	switch {
	case errors.Is(err, awserr.ErrBucketGone):
		ev.res.Status, ev.res.Severity, ev.res.Error = contract.BucketGone, plan.Info, err.Error()
		ev.res.Findings = append(ev.res.Findings, plan.BucketGoneFinding())
		ev.log.Info(contract.MsgSkip, "reason", "bucket gone")
		return true, nil
	case err != nil:
		return true, err
	}
	return false, nil
}

// planFirst makes the first plan, from what the read round saw.
func (ev *evaluation) planFirst(prior func() (*plan.ApprovalTags, bool)) {
	ev.in = plan.Input{Config: ev.cfg, Now: ev.e.now()}
	if c := ev.trigger; c != nil {
		ev.in.Event, ev.in.Actor, ev.in.RequestTags, ev.in.RemovedTags = c.Name, c.Actor.String(), c.RequestTags, c.RemovedTags
		ev.in.PriorApproval, ev.in.ApprovalsRecorded = prior()
	}
	ev.plan = plan.New(ev.before, ev.in)
}

// recordApproval starts recording the approval the plan saw, beside what
// follows, and returns a function that waits for it. The record changes
// what a retry would see, so the journal of the first plan is kept first:
// the retry still tells the change.
func (ev *evaluation) recordApproval(ctx context.Context, t posture.Target) (wait func()) {
	a := ev.plan.RecordApproval
	if a == nil || ev.e.Approvals == nil {
		return func() {}
	}
	j, rec, by, at := ev.journalOf(), *a, ev.in.Actor, ev.in.Now
	n := ev.journal.next()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !ev.journal.save(ctx, n, j) {
			// Recorded, the change would be lost to a retry that the
			// journal cannot tell: the next change is told against the
			// older record instead.
			ev.log.Warn("approval record", "recorded", false, "reason", "the journal was not kept")
			return
		}
		if err := ev.e.Approvals.SetApproval(ctx, t.Account, t.Bucket, rec, by, at); err != nil {
			ev.log.Warn("approval record", contract.FieldErr, err) // told this time; the next change is told against the older record
		}
	}()
	return func() { <-done }
}

// journalOf is the journal of the plan as it stands.
func (ev *evaluation) journalOf() Journal {
	p := ev.plan
	return Journal{Started: ev.res.Started, Findings: p.Findings, Actions: p.Actions, Exemption: p.Exemption, Notes: p.Notes, Unresolved: p.Unresolved}
}

// summarize puts the plan's verdict in the result.
func (ev *evaluation) summarize() {
	p := ev.plan
	ev.res.Findings, ev.res.Exemption, ev.res.Severity = p.Findings, p.Exemption, p.Severity()
	ev.res.Notes = append(ev.res.Notes, p.Notes...)
	ev.res.Unresolved = p.Unresolved
	ev.res.Owner = ev.before.Tags.Value[ev.e.Config.OwnerTagKey]
	ev.res.Journaled = ev.journal.kept()
	for _, n := range p.Notes {
		ev.log.Warn("cross-check", "note", n)
	}
	ev.log.Info(contract.MsgPlan, "findings", len(p.Findings), contract.FieldSeverity, ev.res.Severity, "steps", len(p.Steps), "mode", p.Mode)
}

// finish puts the actions' outcomes and the status in the result.
func (ev *evaluation) finish(outcome map[string]ActionResult, runErr error) (Result, error) {
	for _, a := range ev.plan.Actions {
		ev.res.Actions = append(ev.res.Actions, outcome[a.Key()])
	}
	ev.res.Status = status(ev.res, ev.plan.Mode)
	switch {
	case errors.Is(runErr, awserr.ErrBucketGone):
		ev.res.Error = runErr.Error()
		return ev.res, nil // nothing left to retry for
	case runErr != nil:
		ev.res.Error = runErr.Error()
		return ev.res, runErr
	}
	return ev.res, nil
}

// notStarted marks every planned action as not started, and why.
func notStarted(outcome map[string]ActionResult, why error) {
	for k, ar := range outcome {
		if ar.Outcome == Planned {
			ar.Outcome, ar.Detail = NotStarted, why.Error()
			outcome[k] = ar
		}
	}
}

// MaxReplans bounds how many times a concurrent change of a setting about to
// be written is planned again before bucketguard gives up writing it.
const MaxReplans = 3

// prewrite is the round before the first write: once the gate is passed,
// the journal is made durable while the bucket policy and ACL about to be
// written are read again. S3 has no conditional write for either, so a
// change made since the posture read (a new partner statement, say) would
// be overwritten: instead it is planned again from what is there now, at
// most MaxReplans times; after that the policy and ACL are left unwritten
// and the conflict is reported.
func (ev *evaluation) prewrite(ctx context.Context, t posture.Target) error {
	if ev.gate != nil {
		if err := ev.gate(); err != nil {
			return err
		}
	}
	var seen []string
	for attempt := 1; ; attempt++ {
		changed, err := ev.readAgain(ctx, t)
		switch {
		case err != nil:
			return err
		case len(changed) == 0:
			return nil
		}
		ev.log.Warn("concurrent change", "settings", changed, "attempt", attempt)
		seen = appendNew(seen, changed)
		if attempt == MaxReplans {
			ev.plan = ev.plan.GiveUp(rereadsOf(changed), fmt.Sprintf("kept changing while bucketguard read it (%d times)", MaxReplans))
			return nil
		}
		ev.plan = plan.New(ev.before, ev.in)
		ev.plan.Replanned(seen) // said in the plan, so that the journal kept next says it too
		if len(ev.plan.Steps) == 0 {
			return nil
		}
	}
}

// readAgain keeps the journal of the plan as it stands while it reads
// again the settings the plan is about to overwrite (plan.Step.Reread), in
// one round, and reports which changed. A change updates the posture the
// next plan is made from; AWS's verdict was on the old policy, so a new
// one is judged alone.
func (ev *evaluation) readAgain(ctx context.Context, t posture.Target) ([]string, error) {
	kept := ev.journal.saveAsync(ctx, ev.journalOf())
	var ops []op.Operation
	for _, st := range ev.plan.Steps {
		if r := st.Reread(); r != "" {
			ops = append(ops, r)
		}
	}
	slices.Sort(ops)
	ops = slices.Compact(ops)
	answered := ev.ask(ctx)
	again := ev.before
	var rr read.RoundResult
	if len(ops) > 0 {
		rr = read.Round(ctx, read.Clients{S3: ev.e.S3, Control: ev.e.Control}, &again, ops, false)
	}
	<-kept
	answers := answered()
	switch {
	case rr.Gone != nil:
		return nil, fmt.Errorf("read again before writing: %w", awserr.ErrBucketGone)
	case len(rr.Transient) > 0:
		// Not knowing what is there now, writing would be blind: the
		// retry plans again.
		return nil, fmt.Errorf("read again before writing: %w", errors.Join(rr.Transient...))
	}
	var unknown, changed []op.Operation
	for _, o := range ops {
		known, same := sameAgain(o, ev.before, again)
		switch {
		case !known:
			unknown = append(unknown, o)
		case !same:
			changed = append(changed, o)
		}
	}
	if len(unknown) > 0 {
		ev.plan = ev.plan.GiveUp(unknown, "could not be read again just before the write")
	}
	var names []string
	for _, o := range changed {
		names = append(names, plan.Reread[o])
	}
	if len(changed) > 0 {
		ev.before.Policy, ev.before.ACL, ev.before.BucketBPA, ev.before.Encryption = again.Policy, again.ACL, again.BucketBPA, again.Encryption
		if slices.Contains(changed, op.GetBucketPolicy) {
			ev.before.PolicyStatus = posture.Fact[bool]{State: posture.Unread}
		}
		return names, nil // the next plan is asked about again
	}
	ev.plan = ev.plan.Heed(answers, ev.before.BucketBPA)
	return nil, nil
}

// ask starts asking AWS's own check about every policy the plan writes,
// beside the round that reads again, and returns a function that waits for
// the answers. An answer AWS could not give is logged: the write goes
// ahead on bucketguard's judgement, and the metric counts it.
func (ev *evaluation) ask(ctx context.Context) func() []plan.Answer {
	qs := ev.plan.Questions()
	if ev.e.Analyzer == nil || len(qs) == 0 {
		return func() []plan.Answer { return nil }
	}
	answers := make([]plan.Answer, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt := analyzer.Bucket
			if q.AccessPoint {
				rt = analyzer.AccessPoint
			}
			cctx, cancel := context.WithTimeout(ctx, ev.e.Config.CallTimeout)
			defer cancel()
			v := analyzer.Check(cctx, ev.e.Analyzer, q.Document, rt)
			answers[i] = plan.Answer{Question: q, Public: v.Public, Reasons: v.Reasons, Unavailable: v.Unavailable}
		}()
	}
	return func() []plan.Answer {
		wg.Wait()
		for _, a := range answers {
			switch {
			case a.Unavailable != "":
				ev.log.Warn(contract.MsgNoSecondOpinion, "policy", a.Where, contract.FieldErr, a.Unavailable)
			case a.Public:
				ev.log.Warn("second opinion", "policy", a.Where, "aws", "public", "reasons", a.Reasons)
			}
		}
		return answers
	}
}

// sameAgain compares the setting read again by o: whether it is known
// again, and whether it is as it was.
func sameAgain(o op.Operation, before, again posture.Posture) (known, same bool) {
	switch o {
	case op.GetBucketPolicy:
		return again.Policy.Known(), again.Policy.State == before.Policy.State && again.Policy.Value == before.Policy.Value
	case op.GetBucketAcl:
		return again.ACL.Known(), reflect.DeepEqual(again.ACL, before.ACL)
	case op.GetPublicAccessBlock:
		return again.BucketBPA.Known(), reflect.DeepEqual(again.BucketBPA, before.BucketBPA)
	case op.GetBucketEncryption:
		return again.Encryption.Known(), reflect.DeepEqual(again.Encryption, before.Encryption)
	}
	return true, true
}

// rereadsOf turns settings' names back into the reads that read them.
func rereadsOf(names []string) []op.Operation {
	var ops []op.Operation
	for o, n := range plan.Reread {
		if slices.Contains(names, n) {
			ops = append(ops, o)
		}
	}
	slices.Sort(ops)
	return ops
}

// keeper makes an attempt's journal durable. It is the one owner of what
// was saved: saves run one at a time, in the order the journals were made,
// and a journal made earlier never replaces one made later.
type keeper struct {
	keep func(context.Context, Journal) error
	log  *slog.Logger

	mu      sync.Mutex
	made    int // journals numbered so far
	saved   int // the number of the latest journal saved (or tried)
	savedOK bool
}

// next numbers a journal about to be made.
func (k *keeper) next() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.made++
	return k.made
}

// saveAsync numbers j and saves it beside what the caller does next; the
// channel closes when it is done.
func (k *keeper) saveAsync(ctx context.Context, j Journal) <-chan struct{} {
	n := k.next()
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.save(ctx, n, j)
	}()
	return done
}

// save keeps journal number n, unless a later one is kept already, and
// reports whether a journal at least as late as n is durable (true when
// there is nowhere to keep one: nothing a retry could need is lost).
func (k *keeper) save(ctx context.Context, n int, j Journal) bool {
	if k.keep == nil {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if n < k.saved {
		return k.savedOK
	}
	k.saved = n
	if err := k.keep(ctx, j); err != nil {
		// The fix still goes ahead: closing the exposure comes first.
		// Until the incident is told, a death of this attempt would lose
		// what it found; this line (and its metric) counts that window.
		k.log.Error(contract.MsgUnjournaled, contract.FieldErr, err)
		k.savedOK = false
		return false
	}
	k.savedOK = true
	return true
}

// kept reports whether the latest journal made is durable.
func (k *keeper) kept() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keep != nil && k.savedOK && k.saved == k.made
}

// priorApproval starts reading the approval last recorded for the bucket,
// when the triggering call can change tags, and returns a function that
// waits for it: the state, and whether records are kept.
func (e *Engine) priorApproval(ctx context.Context, t posture.Target, trigger *events.Change, log *slog.Logger) func() (*plan.ApprovalTags, bool) {
	if e.Approvals == nil || trigger == nil || !trigger.Name.ChangesTags() || t.Bucket == "" {
		return func() (*plan.ApprovalTags, bool) { return nil, false }
	}
	type answer struct {
		a   *plan.ApprovalTags
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		a, err := e.Approvals.Approval(ctx, t.Account, t.Bucket)
		ch <- answer{a, err}
	}()
	return func() (*plan.ApprovalTags, bool) {
		r := <-ch
		if r.err != nil {
			log.Warn("approval record", contract.FieldErr, r.err)
			return nil, false // told from the request alone
		}
		return r.a, true
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
