package sweep

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/posture"
	"github.com/bucketguard/bucketguard/remediations/read"
	"github.com/bucketguard/bucketguard/remediations/trail"
)

// Invoker starts the next part of a run: the function invokes itself,
// asynchronously, with the position in the event.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ Invoker = (*lambda.Client)(nil)

// Continuation is the event one part of a run passes to the next.
//
// Why an event and not a store: the position (a ListBuckets token and the last
// bucket started) is small, and a part that fails is retried by Lambda with
// the same event, so it resumes from the same place; evaluations are
// idempotent and alerts are deduplicated by the ledger. Nothing is left to
// clean up when a run ends or dies.
type Continuation struct {
	Run     string    `json:"run"`
	Started time.Time `json:"started"`
	Part    int       `json:"part"`
	Position
	Tally Tally `json:"tally"`
	// Cause says why the run started outside its schedule, if it did.
	Cause string `json:"cause,omitempty"`
	// Budget is the run's fix budget, in enforce mode.
	Budget *Budget `json:"budget,omitempty"`
}

// Event is what the sweep function receives: the schedule's event (no
// bucketguard_sweep member), a start after a guarded call (a new run at
// once, sent by the remediate function), or a continuation.
type Event struct {
	Sweep *Continuation `json:"bucketguard_sweep,omitempty"`
	contract.SweepStartEvent
	DetailType string `json:"detail-type,omitempty"`
}

// Invocation identifies the running invocation: its request id (a new
// run's id) and the function's own ARN (the account, and where the next
// part goes). The function's main reads them from the Lambda context.
type Invocation struct {
	RequestID   string
	FunctionARN string
}

// Handler is the sweep function.
type Handler struct {
	// Invocation returns the running invocation; false outside Lambda.
	Invocation func(context.Context) (Invocation, bool)
	// Incidents evaluates buckets of this function's region, each an
	// incident of the run, told once.
	Incidents *incident.Protocol
	List      Lister
	Next      Invoker
	Options
	// MaxParts bounds a run's invocations (runaway protection).
	MaxParts int
	// StackRegions are the regions with a stack, the first being home.
	StackRegions []string
	// Trails, when set, reads the account's trails: the home sweep checks
	// that one feeds the rule in every region with a stack.
	Trails trail.Regional
	// Findings, when set, holds the part's Security Hub imports in batches;
	// each part flushes it before it ends, so that nothing waits for a
	// part that may never come.
	Findings Flusher
	// Reconciler, when set, archives at the end of each run the findings
	// of buckets that no longer exist, which no listing shows.
	Reconciler Reconciler
	// Heartbeat, when set, gets one event after each run: the
	// organization's proof that this account and region are swept.
	Heartbeat *Heartbeat
	Log       *slog.Logger
}

// Flusher sends what is pending (securityhub.Reporter).
type Flusher interface {
	Flush(ctx context.Context, log *slog.Logger)
}

// Reconciler archives the Security Hub findings of the region's buckets
// and access points that no longer exist (securityhub.Reporter); exists is
// S3's word.
type Reconciler interface {
	Reconcile(ctx context.Context, account, region string, exists func(ctx context.Context, bucket, accessPoint string) (bool, error), log *slog.Logger) int
}

// Handle runs one part of a sweep.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	var lc Invocation
	ok := false
	if h.Invocation != nil {
		lc, ok = h.Invocation(ctx)
	}
	if !ok {
		return errors.New("sweep: no Lambda invocation")
	}
	account, err := accountOf(lc.FunctionARN)
	if err != nil {
		return err
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return fmt.Errorf("sweep: event: %w", err)
	}
	cont := ev.Sweep
	if cont == nil {
		if ev.DetailType != "" && ev.DetailType != "Scheduled Event" {
			return fmt.Errorf("sweep: unexpected event %q", ev.DetailType)
		}
		cont = &Continuation{Run: lc.RequestID, Started: time.Now().UTC(), Part: 1, Budget: h.newBudget()}
		if st := ev.Start; st != nil {
			cont.Cause = st.Cause
		}
	}
	log := h.Log.With("request_id", lc.RequestID, "run", cont.Run, "part", cont.Part)
	if max := h.MaxParts; max > 0 && cont.Part > max {
		log.Error("stop", "reason", "too many parts", "max", max)
		return fmt.Errorf("sweep %s: more than %d parts", cont.Run, max)
	}
	log.Info("start", "after", cont.After, "seen", cont.Tally.Seen, "cause", cont.Cause)
	if cont.Part == 1 && cont.Tally.Seen == 0 && cont.After == "" {
		cont.Tally.Merge(h.accountLevel(ctx, account, cont, log))
	}

	if h.Findings != nil {
		// Once a part, whatever way it ends: the budget's fixes at the
		// run's end report too, and nothing waits for a part that may
		// never come.
		defer h.Findings.Flush(ctx, log)
	}
	out, err := h.Part(ctx, account, cont, log)
	if err != nil {
		return err // Lambda retries this part from the same position
	}
	cont.Tally.Merge(out.Tally)
	if out.Next != nil {
		next := *cont
		next.Part, next.Position = cont.Part+1, *out.Next
		payload, _ := json.Marshal(Event{Sweep: &next})
		if _, err := h.Next.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lc.FunctionARN),
			InvocationType: types.InvocationTypeEvent, Payload: payload}); err != nil {
			return fmt.Errorf("sweep %s: start part %d: %w", cont.Run, next.Part, err)
		}
		log.Info("continue", "reason", out.Stopped, "after", out.Next.After, "seen", cont.Tally.Seen)
		return nil
	}
	if cont.Budget != nil {
		h.spend(ctx, account, cont, log)
		h.budgetHeld(ctx, account, cont, log)
	}
	s := Summary{Run: cont.Run, Account: account, Region: h.Region, Mode: string(h.Incidents.Engine.Config.Mode), Started: cont.Started,
		Duration: time.Since(cont.Started).Round(time.Second).String(), Parts: cont.Part, Tally: cont.Tally, Budget: cont.Budget, Cause: cont.Cause}
	log.Info("summary", "seen", s.Tally.Seen, "remediated", s.Tally.Count(contract.Remediated), "failing", s.Tally.Failing(), "duration", s.Duration)
	_, err = h.Incidents.Alerts.Send(ctx, s.Envelope(), log)
	h.beat(ctx, s, log)
	h.reconcile(ctx, account, log)
	return err
}

// reconcile runs the Security Hub reconciliation last, after the run's
// imports are flushed and its summary and heartbeat sent, within what is
// left of the invocation but its margin: a bucket not asked about is left
// for the next run.
func (h *Handler) reconcile(ctx context.Context, account string, log *slog.Logger) {
	if h.Reconciler == nil {
		return
	}
	if h.Findings != nil {
		h.Findings.Flush(ctx, log)
	}
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-h.Margin))
		defer cancel()
	}
	// Listed after the ledger is read (on the first question): a bucket
	// or access point reported between the two is listed. The access
	// points are listed once too; without that listing, each is asked.
	var once, apOnce sync.Once
	var listed map[string]bool
	var aps map[string]string
	var listErr error
	h.Reconciler.Reconcile(ctx, account, h.Region, func(ctx context.Context, bucket, ap string) (bool, error) {
		once.Do(func() { listed, listErr = h.listRegion(ctx) })
		if listErr != nil {
			return false, listErr
		}
		if ap != "" && listed[bucket] {
			apOnce.Do(func() {
				var err error
				if aps, err = h.listAccessPoints(ctx, account); err != nil {
					log.Warn("reconcile", "list access points", err.Error())
				}
			})
			if aps != nil {
				return aps[ap] == bucket, nil
			}
		}
		return h.exists(ctx, account, listed, bucket, ap)
	}, log)
}

// listAccessPoints lists the region's bucket access points, all pages:
// each name and its bucket.
func (h *Handler) listAccessPoints(ctx context.Context, account string) (map[string]string, error) {
	out := map[string]string{}
	var token *string
	for {
		page, err := h.Incidents.Engine.Control.ListAccessPoints(ctx, &s3control.ListAccessPointsInput{AccountId: aws.String(account), MaxResults: 1000, NextToken: token},
			read.ControlInRegion(h.Region))
		if err != nil {
			return nil, fmt.Errorf("list access points: %w", err)
		}
		for _, ap := range page.AccessPointList {
			out[aws.ToString(ap.Name)] = aws.ToString(ap.Bucket)
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		token = page.NextToken
	}
}

// listedHere says whether the account lists a bucket of that name in this
// region (a prefix listing, every region).
func (h *Handler) listedHere(ctx context.Context, bucket string) (bool, error) {
	out, err := h.List.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String(bucket), MaxBuckets: aws.Int32(1000)})
	if err != nil {
		return false, fmt.Errorf("list buckets named %s: %w", bucket, err)
	}
	for _, b := range out.Buckets {
		if aws.ToString(b.Name) == bucket {
			return cmp.Or(aws.ToString(b.BucketRegion), h.Region) == h.Region, nil
		}
	}
	return false, nil
}

// listRegion lists the names of the region's buckets, all pages.
func (h *Handler) listRegion(ctx context.Context) (map[string]bool, error) {
	names := map[string]bool{}
	o := h.Options
	o.PageSize = 1000
	token := ""
	for {
		p, err := list(ctx, h.List, token, o)
		if err != nil {
			return nil, err
		}
		for _, b := range p.buckets {
			if b.Region == h.Region {
				names[b.Name] = true
			}
		}
		if p.next == "" {
			return names, nil
		}
		token = p.next
	}
}

// Part evaluates buckets from the continuation's position until done or
// near the deadline, alerting per bucket that needs it. A bucket whose
// evaluation fails is not retried by this run, so its alert is due at once.
func (h *Handler) Part(ctx context.Context, account string, cont *Continuation, log *slog.Logger) (Progress, error) {
	var undelivered atomic.Int64 // evaluations run concurrently
	var budget *budgetLedger
	if cont.Budget != nil {
		budget = &budgetLedger{b: cont.Budget}
	}
	eval := func(ctx context.Context, b Bucket) (remediations.Result, error) {
		if budget != nil {
			return h.look(ctx, budget, account, cont.Run, b, log.With(contract.FieldBucket, b.Name))
		}
		// An alert that reached nowhere is in the log and counted; the
		// bucket's own verdict stands.
		out, _ := h.Incidents.Run(ctx, h.incident(account, cont.Run, posture.Target{Account: account, Region: b.Region, Bucket: b.Name}),
			log.With(contract.FieldBucket, b.Name))
		if out.Receipt.Delivery == contract.Undelivered {
			undelivered.Add(1)
		}
		return out.Result, out.EvalErr
	}
	visit := func(b Bucket, res remediations.Result, err error) {
		if err != nil {
			log.Warn("bucket", contract.FieldBucket, b.Name, contract.FieldErr, err)
		}
	}
	out, err := Run(ctx, h.List, cont.Position, h.Options, eval, visit)
	out.Tally.Undelivered += int(undelivered.Load())
	return out, err
}

// exists says whether a bucket of this region, or an access point of it,
// still exists. A bucket the account lists in this region exists; one it
// does not is asked of S3 (its ACL, which every bucket has): NoSuchBucket,
// or a refusal or redirect for a name that is no longer this account's in
// this region, is gone. An access point is asked of S3 Control: gone when
// there is no such access point, or when the name now belongs to another
// bucket.
func (h *Handler) exists(ctx context.Context, account string, listed map[string]bool, bucket, ap string) (bool, error) {
	if ap == "" {
		if listed[bucket] {
			return true, nil
		}
		_, err := h.Incidents.Engine.S3.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
		switch code := awserr.Code(err); {
		case err == nil:
			return true, nil // listed late
		case awserr.NoSuchBucket(err):
			return false, nil
		case code == "AccessDenied", code == "PermanentRedirect", code == "AuthorizationHeaderMalformed", code == "IllegalLocationConstraintException":
			// Another account's name now, in another region, or ours with
			// a policy that refuses the read: the account's own listing,
			// every region, says which.
			return h.listedHere(ctx, bucket)
		}
		return false, err
	}
	out, err := h.Incidents.Engine.Control.GetAccessPoint(ctx, &s3control.GetAccessPointInput{AccountId: aws.String(account), Name: aws.String(ap)},
		read.ControlInRegion(h.Region))
	switch {
	case err == nil:
		return aws.ToString(out.Bucket) == bucket, nil
	case awserr.Code(err) == "NoSuchAccessPoint":
		return false, nil
	}
	return false, err
}

// incident is a target of a run as an incident: a part that dies is
// retried by Lambda from where it began, and tells its targets' journals
// then; within the run, nothing retries a target, so each attempt tells
// what it has.
func (h *Handler) incident(account, run string, t posture.Target) incident.Incident {
	return incident.Incident{Key: "sweep/" + run + "/" + account + "/" + t.Name(), Target: t, Run: run, Attempts: 1}
}

// accountOf reads the account from the function's ARN
// (arn:aws:lambda:<region>:<account>:function:<name>).
func accountOf(arn string) (string, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[2] != "lambda" || len(parts[4]) != 12 {
		return "", fmt.Errorf("sweep: %q is not a function ARN", arn)
	}
	return parts[4], nil
}
