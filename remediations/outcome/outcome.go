// Package outcome sends each evaluation that found something to the
// organization's central event bus, so that the delegated administrator
// sees every member's incidents in one place while detection and fixing
// stay in the member account. It is an incident protocol Reporter: called
// with each attempt's final result, beside the alert, and never in its way.
//
// The event's detail is the alert's machine document (the same JSON the
// owner's message carries), its source "bucketguard" and its detail type
// contract.OutcomeDetailType; EventBridge sets the event's account, the
// member's. A clean result sends nothing: the sweep's heartbeat counts
// those.
package outcome

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// MaxEntry is the most one PutEvents entry may weigh: its source, detail
// type, detail and resources, in UTF-8 bytes (256 KiB).
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
const MaxEntry = 256 * 1024

// Client is the call that sends an outcome.
type Client interface {
	PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ Client = (*eventbridge.Client)(nil)

// Reporter puts one outcome event on the central bus for each result with
// something to tell.
type Reporter struct {
	// Client calls the bus's region (the admin account's, maybe not the
	// member's own).
	Client Client
	// Bus is the central bus's ARN.
	Bus string
	// CallTimeout bounds the call; zero means 10 s.
	CallTimeout time.Duration
}

// Report sends the result's outcome. A failure is a report-failed line
// (counted and alarmed on by the stack); the alert is unaffected.
func (r *Reporter) Report(ctx context.Context, res remediations.Result, log *slog.Logger) {
	if res.Status == contract.Clean || res.Status == "" {
		return
	}
	entry := Entry(r.Bus, res)
	timeout := r.CallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// The put outlives a cancelled invocation context, as the alert's
	// publish does, but not its deadline: a hung bus holds an invocation
	// for CallTimeout at most, and never past the invocation's deadline.
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = max(time.Until(dl), 0)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	out, err := r.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	code := ""
	switch {
	case err != nil:
		var ae smithy.APIError
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
	case out == nil:
		err = errors.New("no answer")
	case out.FailedEntryCount > 0 && len(out.Entries) > 0:
		code = aws.ToString(out.Entries[0].ErrorCode)
		err = fmt.Errorf("%s: %s", code, aws.ToString(out.Entries[0].ErrorMessage))
	case out.FailedEntryCount > 0:
		err = errors.New("entry refused without a reason")
	}
	if err != nil {
		log.Error(contract.MsgReportFailed, contract.FieldTo, contract.ToCentral, "op", string(op.PutEvents), "bus", r.Bus, "code", code,
			contract.FieldErr, fmt.Errorf("put outcome on %s: %w", r.Bus, err).Error())
	}
}

// Entry is the outcome event of a result: the alert's document as detail
// (encoded as the alert encodes it), the bucket's ARN as resource. A
// document that would make the entry weigh MaxEntry or more is shortened
// by the alert's own steps, least important first, and says so in its cut
// list (the owner's alert keeps what it can carry).
func Entry(bus string, res remediations.Result) types.PutEventsRequestEntry {
	e := types.PutEventsRequestEntry{EventBusName: aws.String(bus), Source: aws.String(contract.HeartbeatSource),
		DetailType: aws.String(contract.OutcomeDetailType)}
	if res.Target.Bucket != "" {
		e.Resources = []string{fmt.Sprintf("arn:%s:s3:::%s", res.Target.Partition(), res.Target.Bucket)}
	}
	doc := alert.Fit(alert.Render(res).Document, func(d alert.Document) bool { return Size(e, string(d.JSON())) < MaxEntry })
	e.Detail = aws.String(string(doc.JSON()))
	return e
}

// Size is what EventBridge weighs of an entry with the given detail.
func Size(e types.PutEventsRequestEntry, detail string) int {
	n := len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(detail)
	if e.Time != nil {
		n += 14
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}
