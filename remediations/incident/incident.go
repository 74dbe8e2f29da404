// Package incident is the exactly-once protocol around an evaluation. An
// incident is one thing to tell once: a CloudTrail event, or a target (a
// bucket, an account-level access point, the account) in one sweep run.
// Delivery is at least once, and an attempt can die anywhere, so every
// driver runs each incident through Protocol.Run:
//
//	claim ─ beside the read round: take the lease, count the attempt, get the record
//	wait  ─ before the first write: no write while another attempt holds the lease
//	journal ─ before the first write: what was found, each setting as it was
//	merge ─ an earlier attempt's journal into this result: the whole story
//	due   ─ tell now, or leave it to the retry
//	tell  ─ deliver the alert, unless the same was told for this incident
//	record ─ the digest told (after delivery: a duplicate beats a loss)
//	release ─ the lease, when the attempt ends without telling
//
// The drivers (handler, sweep, the CLI) differ only in the incident's key
// and in how many attempts it gets.
package incident

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// Store keeps incidents' records (ledger.Store).
type Store interface {
	Claim(ctx context.Context, key string, now, until time.Time) (ledger.Record, error)
	Peek(ctx context.Context, key string, now time.Time) (ledger.Record, error)
	SaveJournal(ctx context.Context, key, attempt string, journal []byte) error
	Told(ctx context.Context, key, digest string) error
	Release(ctx context.Context, key string) error
}

var _ Store = (*ledger.Store)(nil)

// Protocol runs incidents. Build it once; it is safe for concurrent use.
type Protocol struct {
	Engine *remediations.Engine
	// Alerts delivers; nil renders and logs alerts without sending them.
	Alerts *alert.Sender
	// Store keeps the records; nil keeps none: every attempt holds its
	// incident, keeps no journal, and tells what it finds.
	Store Store
	// CallTimeout bounds each ledger call made after the evaluation (the
	// record, the release). Zero means 10 s.
	CallTimeout time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Undos, when set, keeps what each told incident changed on a bucket.
	Undos Undos
	// Fights, when set, notices the same setting of a bucket fixed again
	// and again, and tells the operations topic.
	Fights *Fights
	// Reporter, when set, is given the final result of every attempt that
	// does not wait for a retry (Security Hub), beside the alert: the alert
	// never waits on it, and its failure is its own (logged by it).
	Reporter Reporter
}

// Undos keeps what an incident changed on a bucket, for an undo
// (ledger.Store).
type Undos interface {
	SaveUndo(ctx context.Context, account, bucket string, r undo.Record) error
}

// Reporter receives evaluations' final results.
type Reporter interface {
	Report(ctx context.Context, res remediations.Result, log *slog.Logger)
}

// Incident is one incident to run.
type Incident struct {
	// Key names the incident in the ledger; "" runs it without a record.
	Key     string
	Target  posture.Target
	Trigger *events.Change
	// Run is the sweep run it belongs to, if any.
	Run string
	// Attempts is how many attempts the incident gets: Lambda's retries of
	// an event, 1 where nothing retries it (a sweep's bucket, the CLI).
	// The last attempt always tells what it has.
	Attempts int
	// Mode, when set, overrides the configured mode for this incident.
	Mode config.Mode
	// Notes are added to what the alert says.
	Notes []string
}

// Report is what an incident's attempt came to.
type Report struct {
	Result remediations.Result
	// Skip says why the attempt did nothing, if it did nothing.
	Skip    string
	Message *alert.Message
	Receipt alert.Receipt
	// EvalErr is the evaluation's own error (Run's error also says why the
	// alert or the claim failed).
	EvalErr error
}

// ErrHeldElsewhere means another attempt at the incident holds its lease:
// this one writes and tells nothing.
var ErrHeldElsewhere = errors.New("another delivery of this incident is being handled")

// Run runs one attempt at an incident. The error is non-nil when the
// attempt should be retried (the evaluation's transient error, a claim
// that could not be made, an alert that reached nowhere).
func (p *Protocol) Run(ctx context.Context, inc Incident, log *slog.Logger) (Report, error) {
	a := &attempt{p: p, inc: inc, log: log, id: newAttemptID()}
	a.claim(ctx)
	res, runErr := p.Engine.EvaluateAttempt(ctx, inc.Target, inc.Trigger, remediations.Attempt{Gate: a.gate, Keep: a.keep, Mode: inc.Mode}, log)
	res.Run = inc.Run
	res.Notes = append(res.Notes, inc.Notes...)
	a.res, a.runErr = res, runErr
	return a.finish(ctx)
}

// attempt is one attempt at an incident. Its claim runs on its own
// goroutine, which owns rec and claimErr until claimed is closed.
type attempt struct {
	p   *Protocol
	inc Incident
	log *slog.Logger
	id  string

	claimed  chan struct{}
	rec      ledger.Record
	claimErr error

	res    remediations.Result
	runErr error
}

func (a *attempt) keyed() bool { return a.p.Store != nil && a.inc.Key != "" }

// claim starts claiming the incident, beside the evaluation's read round.
// When the claim fails (DynamoDB throttled, say), the record is read
// instead, and the attempt goes on unclaimed: as the holder only when no
// other attempt holds an unexpired lease.
func (a *attempt) claim(ctx context.Context) {
	a.claimed = make(chan struct{})
	if !a.keyed() {
		a.rec = ledger.Record{Held: true}
		close(a.claimed)
		return
	}
	until := a.p.now().Add(15 * time.Minute)
	if dl, ok := ctx.Deadline(); ok {
		until = dl
	}
	go func() {
		defer close(a.claimed)
		rec, err := a.p.Store.Claim(ctx, a.inc.Key, a.p.now(), until)
		if err != nil {
			peek, perr := a.p.Store.Peek(ctx, a.inc.Key, a.p.now())
			if perr != nil {
				a.claimErr = errors.Join(err, perr)
				return
			}
			rec = peek
		}
		a.rec = rec
	}()
}

// wait returns the record as claimed, or why it could not be.
func (a *attempt) wait() (ledger.Record, error) {
	<-a.claimed
	return a.rec, a.claimErr
}

// gate is the engine's gate: no write before the claim is known, none if
// it failed (the retry claims it) or another attempt holds the lease.
func (a *attempt) gate() error {
	rec, err := a.wait()
	switch {
	case err != nil:
		return &awserr.TransientError{Op: string(op.UpdateItem), Err: err}
	case !rec.Held:
		return ErrHeldElsewhere
	}
	return nil
}

// keep is the engine's journal keeper: the journal, bounded, under the
// incident's key and this attempt's id.
func (a *attempt) keep(ctx context.Context, j remediations.Journal) error {
	if !a.keyed() {
		return nil
	}
	b, err := j.Encode()
	if err != nil {
		return err
	}
	return a.p.Store.SaveJournal(ctx, a.inc.Key, a.id, b)
}

// last reports whether no attempt follows this one.
func (a *attempt) last() bool { return a.rec.Attempts+1 >= max(1, a.inc.Attempts) }

// finish is everything after the evaluation: merge, due, tell, record,
// release.
func (a *attempt) finish(ctx context.Context) (Report, error) {
	rep := Report{Result: a.res, EvalErr: a.runErr}
	rec, claimErr := a.wait()
	switch {
	case claimErr != nil && len(a.res.Findings) > 0 && a.inc.Attempts > 1:
		// Without the record, what was told and what an earlier attempt
		// kept are unknown: nothing was written, and the retry claims it.
		a.log.Warn(contract.MsgRetry, contract.FieldErr, claimErr, "wrote", a.res.Wrote())
		return rep, errors.Join(a.runErr, fmt.Errorf("claim incident %s: %w", a.inc.Key, claimErr))
	case claimErr != nil && len(a.res.Findings) > 0:
		// No retry comes: told without the record (a duplicate beats a
		// loss).
		a.log.Warn("incident claim", contract.FieldErr, claimErr)
		a.rec = ledger.Record{Held: true, Unclaimed: true}
	case claimErr != nil:
		return rep, a.runErr
	case !rec.Held:
		a.log.Info(contract.MsgSkip, "reason", ErrHeldElsewhere.Error(), "attempts", rec.Attempts)
		rep.Skip = ErrHeldElsewhere.Error()
		return rep, nil
	}
	if len(a.rec.Journal) > 0 {
		if a.runErr != nil && !a.last() {
			// An earlier attempt's journal waits for an attempt that
			// finishes: this one failed too, and the next one tells.
			a.log.Warn(contract.MsgRetry, contract.FieldErr, a.runErr, "wrote", a.res.Wrote(), "journal", "kept")
			a.release(ctx)
			return rep, a.runErr
		}
		a.merge()
		rep.Result = a.res
	}
	if a.runErr != nil {
		a.log.Warn(contract.MsgRetry, contract.FieldErr, a.runErr, "wrote", a.res.Wrote(), "journaled", a.res.Journaled)
	}
	if a.runErr == nil || a.last() {
		reported := a.report(ctx)
		defer reported()
	}
	noticed := a.notice(ctx)
	defer noticed()
	if !Due(a.res, a.runErr, !a.last()) {
		if a.res.Journaled || len(a.rec.Journal) > 0 || a.runErr != nil {
			a.release(ctx)
		}
		return rep, a.runErr
	}
	msg, receipt, err := a.tell(ctx)
	rep.Message, rep.Receipt = &msg, receipt
	if err != nil {
		a.release(ctx) // the retry tells it
		// Nowhere: it is in the log; fail, so that a retry tries again.
		return rep, errors.Join(a.runErr, err)
	}
	return rep, a.runErr
}

// report gives the result to the reporter beside what follows, and returns
// a function that waits for it.
func (a *attempt) report(ctx context.Context) (wait func()) {
	if a.p.Reporter == nil {
		return func() {}
	}
	res := a.res
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.p.Reporter.Report(ctx, res, a.log)
	}()
	return func() { <-done }
}

// merge folds an earlier attempt's journal into the result. A journal that
// cannot be decoded is said in the alert: the earlier attempt's part of the
// story is lost, and the alert says so rather than pretend.
func (a *attempt) merge() {
	j, err := remediations.ParseJournal(a.rec.Journal)
	if err != nil {
		a.log.Warn("journal", contract.FieldErr, err)
		a.res.Notes = append(a.res.Notes, "an earlier attempt began this remediation, but its journal could not be read: what it found and changed may be missing here")
		return
	}
	a.res.Merge(j, len(a.res.Actions) > 0 || a.runErr == nil)
	a.log.Info("journal", "merged", true, "attempts", a.rec.Attempts+1)
}

// Due decides whether an evaluation needs an alert now: it found something,
// and either it finished or no retry comes to tell the story. With a retry
// coming, an attempt that failed stays quiet when its journal is kept (the
// retry tells the whole incident from it) or when it wrote nothing and the
// deadline did not stop it; otherwise what it did is told now.
func Due(res remediations.Result, err error, retryComing bool) bool {
	switch {
	case len(res.Findings) == 0:
		return false
	case err == nil, !retryComing:
		return true
	case res.Journaled:
		return false
	}
	return res.Wrote() || errors.Is(err, awserr.ErrDeadline)
}

// tell delivers the incident's alert, unless the same (by digest) was told
// for it already, and records it once delivered: a process that dies
// between the two tells it again on its retry (a duplicate beats a loss).
func (a *attempt) tell(ctx context.Context) (alert.Message, alert.Receipt, error) {
	m := alert.Render(a.res)
	e := m.Envelope()
	switch {
	case !a.keyed():
		e.Key = "" // an unkeyed incident (an operator's run) always tells
		r, err := a.p.Alerts.Send(ctx, e, a.log)
		return m, r, err
	case a.rec.Unclaimed:
		// Without the lease, the sent mark is what keeps a redelivery from
		// telling the same again; the record is still tried once delivered.
		r, err := a.p.Alerts.Send(ctx, e, a.log)
		if err == nil {
			a.record(ctx, m.Digest())
		}
		return m, r, err
	}
	digest := m.Digest()
	if slices.Contains(a.rec.Told, digest) {
		r := alert.Receipt{Delivery: contract.Duplicate}
		alert.LogLine(a.log, e, r, nil)
		return m, r, nil
	}
	e.Key = "" // the incident's record stands for the sent mark
	r, err := a.p.Alerts.Send(ctx, e, a.log)
	if err != nil {
		return m, r, err // nothing recorded: the journal stays for the retry
	}
	a.record(ctx, digest)
	return m, r, nil
}

// record keeps, once an alert is delivered, its digest on the incident's
// record and, beside it, what the incident changed on its bucket (for an
// undo).
func (a *attempt) record(ctx context.Context, digest string) {
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.p.callTimeout())
	defer cancel()
	kept := a.keepUndo(tctx)
	if terr := a.p.Store.Told(tctx, a.inc.Key, digest); terr != nil {
		a.log.Warn("incident record", contract.FieldErr, terr) // told; a redelivery may tell it again
	}
	kept()
}

// keepUndo keeps, beside the record of what was told, what the incident
// changed on its bucket, so that an operator can put it back
// (bucketguard undo); it returns a function that waits for it.
func (a *attempt) keepUndo(ctx context.Context) (wait func()) {
	var written []plan.Action
	for _, ar := range a.res.Actions {
		if ar.Outcome == remediations.Verified || ar.Outcome == remediations.Unverified {
			written = append(written, ar.Action)
		}
	}
	actor := ""
	if c := a.res.Trigger; c != nil {
		actor = c.Actor.String()
	}
	r, ok := undo.RecordOf(a.inc.Key, actor, a.p.now(), written)
	if a.p.Undos == nil || a.res.Target.Bucket == "" || !ok {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.p.Undos.SaveUndo(ctx, a.res.Target.Account, a.res.Target.Bucket, r); err != nil {
			a.log.Warn("undo record", contract.FieldErr, err) // the alert has the before-states too
		}
	}()
	return func() { <-done }
}

// release lets the lease go when the attempt ends without telling: the
// next attempt need not wait for it to expire.
func (a *attempt) release(ctx context.Context) {
	if !a.keyed() || a.rec.Unclaimed {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.p.callTimeout())
	defer cancel()
	if err := a.p.Store.Release(rctx, a.inc.Key); err != nil {
		a.log.Warn("incident release", contract.FieldErr, err) // it expires at the attempt's deadline
	}
}

func (p *Protocol) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Protocol) callTimeout() time.Duration {
	if p.CallTimeout > 0 {
		return p.CallTimeout
	}
	return 10 * time.Second
}

// newAttemptID names one attempt (Lambda's retries keep the request id):
// its journal is its own to replace.
func newAttemptID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
