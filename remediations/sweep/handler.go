package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
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
}

// Event is what the sweep function receives: the schedule's event (no
// bucketguard_sweep member), or a continuation.
type Event struct {
	Sweep      *Continuation `json:"bucketguard_sweep,omitempty"`
	DetailType string        `json:"detail-type,omitempty"`
}

// Handler is the sweep function.
type Handler struct {
	// Engine evaluates buckets of this function's region.
	Engine *remediations.Engine
	List   Lister
	Alerts *alert.Sender
	Next   Invoker
	Options
	// MaxParts bounds a run's invocations (runaway protection).
	MaxParts int
	Log      *slog.Logger
}

// Handle runs one part of a sweep.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok {
		return errors.New("sweep: no Lambda context")
	}
	account, err := accountOf(lc.InvokedFunctionArn)
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
		cont = &Continuation{Run: lc.AwsRequestID, Started: time.Now().UTC(), Part: 1}
	}
	log := h.Log.With("request_id", lc.AwsRequestID, "run", cont.Run, "part", cont.Part)
	if max := h.MaxParts; max > 0 && cont.Part > max {
		log.Error("stop", "reason", "too many parts", "max", max)
		return fmt.Errorf("sweep %s: more than %d parts", cont.Run, max)
	}
	log.Info("start", "after", cont.After, "seen", cont.Tally.Seen)

	out, err := h.Part(ctx, account, cont, log)
	if err != nil {
		return err // Lambda retries this part from the same position
	}
	cont.Tally.Merge(out.Tally)
	if out.Next != nil {
		next := *cont
		next.Part, next.Position = cont.Part+1, *out.Next
		payload, _ := json.Marshal(Event{Sweep: &next})
		if _, err := h.Next.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lc.InvokedFunctionArn),
			InvocationType: types.InvocationTypeEvent, Payload: payload}); err != nil {
			return fmt.Errorf("sweep %s: start part %d: %w", cont.Run, next.Part, err)
		}
		log.Info("continue", "reason", out.Stopped, "after", out.Next.After, "seen", cont.Tally.Seen)
		return nil
	}
	s := Summary{Run: cont.Run, Account: account, Region: h.Region, Mode: string(h.Engine.Config.Mode), Started: cont.Started,
		Duration: time.Since(cont.Started).Round(time.Second).String(), Parts: cont.Part, Tally: cont.Tally}
	env := s.Envelope()
	receipt, err := h.Alerts.Send(ctx, env, "sweep/"+cont.Run+"/summary")
	log.Info("summary", "delivery", receipt.Delivery, "seen", s.Tally.Seen, "fixed", s.Tally.Fixed, "failed", s.Tally.Failed, "duration", s.Duration)
	if err != nil {
		log.Error("summary", "delivery", receipt.Delivery, "err", err, "summary", json.RawMessage(env.JSON))
		return err
	}
	return nil
}

// Part evaluates buckets from the continuation's position until done or
// near the deadline, alerting per bucket that needs it.
func (h *Handler) Part(ctx context.Context, account string, cont *Continuation, log *slog.Logger) (Outcome, error) {
	var undelivered atomic.Int64 // evaluations run concurrently
	eval := func(ctx context.Context, b Bucket) (remediations.Result, error) {
		blog := log.With("bucket", b.Name)
		res, err := h.Engine.Evaluate(ctx, remediations.Target{Account: account, Region: b.Region, Bucket: b.Name}, nil, blog)
		res.Run = cont.Run
		if len(res.Findings) == 0 || (err != nil && !res.Wrote()) {
			return res, err
		}
		msg := alert.Render(res)
		receipt, serr := h.Alerts.Send(ctx, msg.Envelope(), msg.Key())
		blog.Info("alert", "delivery", receipt.Delivery, "severity", res.Severity, "outcome", res.Outcome)
		if serr != nil {
			blog.Error("alert", "delivery", receipt.Delivery, "err", serr, "alert", json.RawMessage(msg.JSON))
			res.Notes = append(res.Notes, "alert undelivered: "+serr.Error())
			undelivered.Add(1)
		}
		return res, err
	}
	visit := func(b Bucket, res remediations.Result, err error) {
		if err != nil {
			log.Warn("bucket", "bucket", b.Name, "err", err)
		}
	}
	out, err := Run(ctx, h.List, cont.Position, h.Options, eval, visit)
	out.Tally.Undelivered += int(undelivered.Load())
	return out, err
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
