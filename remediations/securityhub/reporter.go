package securityhub

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/smithy-go"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/policy"
)

// BatchImportFindingsAPIClient is the call that keeps the findings.
type BatchImportFindingsAPIClient interface {
	BatchImportFindings(context.Context, *securityhub.BatchImportFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

// BatchUpdateFindingsAPIClient is the call that sets a finding's workflow
// and note after its creation.
type BatchUpdateFindingsAPIClient interface {
	BatchUpdateFindings(context.Context, *securityhub.BatchUpdateFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error)
}

// Client is every Security Hub call the reporter makes: two writes, no read.
type Client interface {
	BatchImportFindingsAPIClient
	BatchUpdateFindingsAPIClient
}

var _ Client = (*securityhub.Client)(nil)

// Memory keeps, per finding Id, the state bucketguard last set the
// finding's workflow for while it is not clean, with the finding's
// UpdatedAt then (ledger.Store, in the ledger table). With it a workflow is
// set exactly when bucketguard's own view changes: not again for an
// approval that stays expired (an analyst's NOTIFIED is kept), and at once
// for an approved bucket found public without the approval's removal seen
// (SUPPRESSED would hide it). The time keeps a report flushed late, which
// Security Hub ignores, from changing anything.
type Memory interface {
	// FindingState is the kept state, its time and whether its workflow
	// was sent; "" with a time when the finding became clean or gone then,
	// "" with a zero time when nothing is kept.
	FindingState(ctx context.Context, id string) (state string, at time.Time, sent bool, err error)
	// SetFindingState keeps a state ("" for clean or gone) as of at if
	// what is kept is still the state as of prev (nothing, when prev is
	// zero) and at is later: false otherwise.
	SetFindingState(ctx context.Context, id, state string, at, prev time.Time, sent bool) (bool, error)
	// MarkFindingSent records that the workflow of the state kept as of at
	// went through.
	MarkFindingSent(ctx context.Context, id string, at time.Time) error
	// FindingStates lists the states kept under an Id prefix (Reconcile).
	FindingStates(ctx context.Context, prefix string) (map[string]string, error)
}

// Limits of BatchImportFindings.
// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
const (
	MaxBatch       = 100             // findings a request
	MaxFindingSize = 240 * 1024      // bytes a finding
	MaxRequestSize = 6 * 1024 * 1024 // bytes a request
)

// Reporter keeps evaluations' results as Security Hub findings. It is the
// incident protocol's Reporter: called with each attempt's final result,
// beside the alert, which never waits on it. Build it once; it is safe for
// concurrent use.
type Reporter struct {
	Client Client
	// Region is the client's region: findings go to its product ARN.
	Region string
	// Batch keeps findings until MaxBatch are ready or Flush is called: the
	// sweep's way. Otherwise each result is imported at once (the event
	// path, where the import runs beside the alert's publish).
	Batch bool
	// Memory, when set, decides the workflow changes (see Memory); without
	// it, a change is made when the evaluation itself saw one
	// (Record.Changed).
	Memory Memory
	// CallTimeout bounds each call; zero means 10 s.
	CallTimeout time.Duration
	// Now is the clock; time.Now when nil. Sleep waits for the pacer;
	// a timer when nil.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error

	once           sync.Once
	imports, edits *pacer

	mu      sync.Mutex
	pending []item
}

// item is one finding to import, its UpdatedAt (to the millisecond), its
// state, and the workflow change the evaluation saw.
type item struct {
	finding types.AwsSecurityFinding
	at      time.Time
	size    int
	state   State
	note    string
	change  *change
}

// change is a BatchUpdateFindings to make once the finding is imported.
// blind marks one made without knowing the finding's workflow: on a
// finding the import has just created (with that workflow), Security Hub
// may answer FindingNotFound, which is then no failure.
type change struct {
	workflow types.WorkflowStatus
	note     string
	blind    bool
}

// blindly is the same change, made blind.
func (c *change) blindly() *change {
	if c == nil {
		return nil
	}
	b := *c
	b.blind = true
	return &b
}

// kept is what the memory says of a finding.
type kept struct {
	state string
	at    time.Time
	sent  bool
}

// Report imports the result's findings, at once or in the next batch.
// Failures are logged (contract.MsgReportFailed), never returned: the alert
// is told either way.
func (r *Reporter) Report(ctx context.Context, res remediations.Result, log *slog.Logger) {
	items := r.items(res, log)
	if len(items) == 0 {
		return
	}
	if !r.Batch {
		r.send(ctx, items, log)
		return
	}
	r.mu.Lock()
	r.pending = append(r.pending, items...)
	var full []item
	if len(r.pending) >= MaxBatch {
		full, r.pending = r.pending, nil
	}
	r.mu.Unlock()
	if full != nil {
		r.send(ctx, full, log)
	}
}

// Flush imports what is pending: the sweep calls it at the end of each part.
func (r *Reporter) Flush(ctx context.Context, log *slog.Logger) {
	r.mu.Lock()
	items := r.pending
	r.pending = nil
	r.mu.Unlock()
	r.send(ctx, items, log)
}

// Pending is how many findings wait for a batch.
func (r *Reporter) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func (r *Reporter) items(res remediations.Result, log *slog.Logger) []item {
	records := Records(res)
	if len(records) == 0 {
		return nil
	}
	region := cmp.Or(r.Region, res.Target.Region)
	product := ProductARN(policy.Partition(region), region, res.Target.Account)
	now := r.now()
	out := make([]item, 0, len(records))
	for _, rec := range records {
		if it, ok := newItem(res, rec, product, now, log); ok {
			out = append(out, it)
		}
	}
	return out
}

// newItem is a record's finding to import as of now, cut to the
// millisecond as the memory keeps times (two reports within one are the
// same time), with the change the evaluation saw; false, said, for one
// over MaxFindingSize.
func newItem(res remediations.Result, rec Record, product string, now time.Time, log *slog.Logger) (item, bool) {
	now = now.Truncate(time.Millisecond)
	f := Finding(res, rec, product, now)
	b, _ := json.Marshal(f) // plain data: cannot fail
	if len(b) > MaxFindingSize {
		// Bounded by construction (every text field is cut to ASFF's
		// bounds); said, should that ever change.
		log.Error(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "finding", aws.ToString(f.Id), "size", len(b), contract.FieldErr, "finding over 240 KB")
		return item{}, false
	}
	it := item{finding: f, at: now, size: len(b), state: rec.State, note: cut(rec.Note, maxNote)}
	if rec.Changed {
		it.change = &change{workflow: Workflow(rec.State), note: it.note}
	}
	return it, true
}

// send imports items in batches within the service's limits, then makes the
// workflow changes of the findings imported, and returns how many were
// imported.
func (r *Reporter) send(ctx context.Context, items []item, log *slog.Logger) int {
	imported := 0
	for len(items) > 0 {
		n, size := 0, 0
		for n < len(items) && n < MaxBatch && size+items[n].size <= MaxRequestSize {
			size += items[n].size
			n++
		}
		imported += r.batch(ctx, items[:n], log)
		items = items[n:]
	}
	return imported
}

// batch imports one batch and sets the workflows it calls for. With a
// memory, in order:
//
//  1. what is kept of each finding is read; a finding no newer than the
//     time kept (a report flushed late, which Security Hub would ignore) is
//     left out;
//  2. the others are imported;
//  3. each imported finding's state is kept as of its UpdatedAt, before any
//     workflow is sent, by a write that only a report newer than the kept
//     one wins: a report that loses sends nothing;
//  4. the workflows are sent, and those that went through marked sent; one
//     not sent is sent again by the next report, blind;
//  5. each finding whose workflow was tried is read again: a newer state
//     kept meanwhile, whose workflow this one may have overtaken, has its
//     workflow sent again.
//
// It returns how many findings were imported.
func (r *Reporter) batch(ctx context.Context, items []item, log *slog.Logger) int {
	r.init()
	told, remembered := r.recall(ctx, items, log)
	if remembered {
		live := items[:0:0]
		for _, it := range items {
			if k := told[aws.ToString(it.finding.Id)]; k.at.IsZero() || it.at.After(k.at) {
				live = append(live, it)
			}
		}
		items = live
	}
	if len(items) == 0 {
		return 0
	}
	in := &securityhub.BatchImportFindingsInput{Findings: make([]types.AwsSecurityFinding, len(items))}
	for i, it := range items {
		in.Findings[i] = it.finding
	}
	out, err := call(ctx, r, r.imports, func(ctx context.Context) (*securityhub.BatchImportFindingsOutput, error) {
		return r.Client.BatchImportFindings(ctx, in)
	})
	if err != nil {
		failed(log, op.BatchImportFindings, len(items), len(items), err)
		return 0
	}
	rejected := map[string]bool{}
	if out.FailedCount != nil && *out.FailedCount > 0 || len(out.FailedFindings) > 0 {
		var first types.ImportFindingsError
		for i, f := range out.FailedFindings {
			if i == 0 {
				first = f
			}
			rejected[aws.ToString(f.Id)] = true
		}
		failed(log, op.BatchImportFindings, len(items), max(int(aws.ToInt32(out.FailedCount)), len(out.FailedFindings)),
			fmt.Errorf("%s: %s (finding %s)", aws.ToString(first.ErrorCode), aws.ToString(first.ErrorMessage), aws.ToString(first.Id)))
	}
	imported := len(items) - len(rejected)
	if !remembered {
		// Nothing known of the finding's workflow: the evaluation's own
		// change, blind.
		for i := range items {
			items[i].change = items[i].change.blindly()
		}
		r.changes(ctx, items, rejected, log)
		return imported
	}
	for i := range items {
		id := aws.ToString(items[i].finding.Id)
		if rejected[id] {
			continue
		}
		items[i].change = r.claim(ctx, items[i], told[id], log)
	}
	done := r.changes(ctx, items, rejected, log)
	r.confirm(ctx, items, done, log)
	return imported
}

// claim keeps a finding's state as of its UpdatedAt and returns the
// workflow change to send, decided from what is kept: the write succeeds
// only if that is still what is kept, else it is read again and the
// decision made again. Each miss means the kept time moved on, so the loop
// ends: when this report is no longer the newest (no change), or when it
// wins. A finding whose last workflow was not sent is set blind, and so is
// one nothing was kept for when this report began (its import may have
// just created it). A finding clean before and after keeps nothing, but
// moves a clean finding's time on.
func (r *Reporter) claim(ctx context.Context, it item, k kept, log *slog.Logger) *change {
	id := aws.ToString(it.finding.Id)
	at := it.at
	fresh := k.at.IsZero()
	for tries := 1; ; tries++ {
		if !at.After(k.at) {
			return nil // a newer report's
		}
		last := k.state
		if !k.sent && !k.at.IsZero() {
			last = "" // its workflow may not be in Security Hub
		}
		ch := transition(it, last)
		if fresh || k.at.IsZero() {
			ch = ch.blindly() // nothing kept: the finding may be new
		}
		want := keep(it.state)
		if want == "" && k.at.IsZero() && ch == nil {
			return nil // clean, and nothing kept to move on
		}
		if tries > maxClaims {
			// Bounded all the same: said, and sent blind.
			log.Warn(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(op.PutItem), "finding", id, contract.FieldErr, "the kept state kept changing")
			return ch.blindly()
		}
		cctx, cancel := context.WithTimeout(ctx, cmp.Or(r.CallTimeout, 10*time.Second))
		won, err := r.Memory.SetFindingState(cctx, id, want, at, k.at, ch == nil)
		if err == nil && !won {
			k.state, k.at, k.sent, err = r.Memory.FindingState(cctx, id)
		}
		cancel()
		switch {
		case err != nil:
			// Sent anyway: without the kept state, the next report sets
			// the workflow blind.
			log.Warn(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(op.PutItem), "finding", id, contract.FieldErr, err.Error())
			return ch
		case won:
			return ch
		}
	}
}

// maxClaims bounds claim's tries: each miss is another report of the same
// finding written in between, older than this one.
const maxClaims = 64

// confirm marks the workflows that went through sent, then reads every
// finding whose workflow was tried again: a state kept by a newer report
// meanwhile has its workflow sent again, in case this one (even one that
// failed here but reached Security Hub) overtook it.
func (r *Reporter) confirm(ctx context.Context, items []item, done map[string]bool, log *slog.Logger) {
	var again []item
	for _, it := range items {
		id := aws.ToString(it.finding.Id)
		if it.change == nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, cmp.Or(r.CallTimeout, 10*time.Second))
		var err error
		if done[id] {
			err = r.Memory.MarkFindingSent(cctx, id, it.at)
		}
		var state string
		var at time.Time
		if err == nil {
			state, at, _, err = r.Memory.FindingState(cctx, id)
		}
		cancel()
		if err != nil {
			log.Warn(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(op.UpdateItem), "finding", id, contract.FieldErr, err.Error())
			continue
		}
		newer := Workflow(State(state))
		if state == "" {
			newer = types.WorkflowStatusResolved // clean since, or gone
		}
		if at.After(it.at) && newer != it.change.workflow {
			it.change = &change{workflow: newer, note: "bucketguard now finds it " + cmp.Or(state, "clean"), blind: true}
			again = append(again, it)
		}
	}
	if len(again) > 0 {
		r.changes(ctx, again, map[string]bool{}, log)
	}
}

// keep is the state the memory keeps for a state: none for what is clean
// or gone.
func keep(s State) string {
	switch s {
	case Fixed, Clean, Gone:
		return ""
	}
	return string(s)
}

// transition is the workflow change a finding needs, given the state
// bucketguard last set its workflow for ("" for clean, gone or never):
//   - kept: a change when the workflow that state called for differs from
//     the new one's, none when it is the same (the analyst's stays);
//   - none kept, and the finding clean or fixed: the evaluation's own
//     change (a fix it verified, with its note), if any;
//   - none kept, and the finding not clean: its workflow, blind (the
//     finding was clean, or its state could not be kept: Security Hub's
//     own reset does not leave WARNING for SUPPRESSED, nor a SUPPRESSED
//     finding for NEW).
func transition(it item, last string) *change {
	if it.state == Gone {
		return nil // archived by the import
	}
	want := Workflow(it.state)
	note := it.note
	switch {
	case last != "" && Workflow(State(last)) == want:
		return nil
	case last == "" && want == types.WorkflowStatusResolved:
		return it.change
	case note == "" && last != "":
		note = fmt.Sprintf("bucketguard now finds it %s (it was %s)", it.state, last)
	}
	return &change{workflow: want, note: note, blind: last == ""}
}

// recall reads the kept state of each finding to import; false when there
// is no memory or it could not be read (the evaluation's own changes then
// stand).
func (r *Reporter) recall(ctx context.Context, items []item, log *slog.Logger) (map[string]kept, bool) {
	if r.Memory == nil {
		return nil, false
	}
	told := make(map[string]kept, len(items))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 10)
	var wg sync.WaitGroup
	for _, it := range items {
		id := aws.ToString(it.finding.Id)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, cmp.Or(r.CallTimeout, 10*time.Second))
			defer cancel()
			state, at, sent, err := r.Memory.FindingState(cctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			told[id] = kept{state, at, sent}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		log.Warn(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(op.GetItem), contract.FieldErr, firstErr.Error())
		return nil, false
	}
	return told, true
}

// changes sends one BatchUpdateFindings per distinct workflow and note, for
// the findings imported, and returns the Ids whose change was made.
func (r *Reporter) changes(ctx context.Context, items []item, rejected map[string]bool, log *slog.Logger) map[string]bool {
	done := map[string]bool{}
	groups := map[change][]types.AwsSecurityFindingIdentifier{}
	var order []change
	for _, it := range items {
		id := aws.ToString(it.finding.Id)
		if it.change == nil || rejected[id] {
			continue
		}
		if _, ok := groups[*it.change]; !ok {
			order = append(order, *it.change)
		}
		groups[*it.change] = append(groups[*it.change], types.AwsSecurityFindingIdentifier{Id: it.finding.Id, ProductArn: it.finding.ProductArn})
	}
	for _, c := range order {
		in := &securityhub.BatchUpdateFindingsInput{FindingIdentifiers: groups[c], Workflow: &types.WorkflowUpdate{Status: c.workflow}}
		if c.note != "" {
			in.Note = &types.NoteUpdate{Text: aws.String(c.note), UpdatedBy: aws.String("bucketguard")}
		}
		out, err := call(ctx, r, r.edits, func(ctx context.Context) (*securityhub.BatchUpdateFindingsOutput, error) {
			return r.Client.BatchUpdateFindings(ctx, in)
		})
		if err != nil {
			failed(log, op.BatchUpdateFindings, len(in.FindingIdentifiers), len(in.FindingIdentifiers), err)
			continue
		}
		// An unprocessed finding that names no Id leaves every one unsure.
		unprocessed, unsure := map[string]bool{}, false
		var failures []types.BatchUpdateFindingsUnprocessedFinding
		for _, u := range out.UnprocessedFindings {
			if c.blind && aws.ToString(u.ErrorCode) == "FindingNotFound" {
				continue // just created by the import, with this workflow
			}
			failures = append(failures, u)
			if u.FindingIdentifier == nil {
				unsure = true
				continue
			}
			unprocessed[aws.ToString(u.FindingIdentifier.Id)] = true
		}
		if len(failures) > 0 {
			u := failures[0]
			failed(log, op.BatchUpdateFindings, len(in.FindingIdentifiers), len(failures),
				fmt.Errorf("%s: %s", aws.ToString(u.ErrorCode), aws.ToString(u.ErrorMessage)))
		}
		for _, f := range in.FindingIdentifiers {
			if !unsure && !unprocessed[aws.ToString(f.Id)] {
				done[aws.ToString(f.Id)] = true
			}
		}
	}
	return done
}

// call paces one request and bounds it in time; the SDK's retryer retries
// what is throttled or transient within it.
func call[T any](ctx context.Context, r *Reporter, p *pacer, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := p.wait(ctx); err != nil {
		return zero, err
	}
	cctx, cancel := context.WithTimeout(ctx, cmp.Or(r.CallTimeout, 10*time.Second))
	defer cancel()
	return f(cctx)
}

// failed is the one line a rejected report makes: the stack counts it
// (metric ReportFailed) and alarms on it.
func failed(log *slog.Logger, o op.Operation, findings, rejected int, err error) {
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	log.Error(contract.MsgReportFailed, contract.FieldTo, contract.ToSecurityHub, "op", string(o), "findings", findings,
		"rejected", rejected, "code", code, contract.FieldErr, err.Error())
}

func (r *Reporter) init() {
	r.once.Do(func() {
		s := r.Sleep
		if s == nil {
			s = sleep
		}
		r.imports = newPacer(Rate, Burst, r.now, s)
		r.edits = newPacer(Rate, Burst, r.now, s)
	})
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// IDs are the Ids of the findings a result gives, in order.
func IDs(res remediations.Result) []string {
	var out []string
	for _, rec := range Records(res) {
		out = append(out, ID(rec))
	}
	return slices.Clip(out)
}
