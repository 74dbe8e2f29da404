// Package handler is the remediate function's code path, from the raw
// EventBridge event to a published alert. The Lambda's main and the CLI's
// replay both run it, so a saved event replays exactly as it ran.
package handler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
)

// Handler turns one event into a remediation and an alert.
type Handler struct {
	Engine *remediations.Engine
	// Alerts delivers the alert; nil renders it without sending it.
	Alerts *alert.Sender
	// Self are bucketguard's own roles: their changes are skipped.
	Self []events.Role
	Log  *slog.Logger
}

// Report is what one event led to.
type Report struct {
	Change    *events.Change
	Skip      string
	Result    *remediations.Result
	Message   *alert.Message
	MessageID string
	// Delivery says where the alert went.
	Delivery alert.Delivery
}

// Handle is the Lambda entry point. A non-nil error makes Lambda retry the
// event; it is returned only when a retry can help (or the input is bad, so
// that it lands, after the bounded retries, where the stack alarms).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) error {
	_, err := h.Process(ctx, raw)
	return err
}

// Process runs one event and reports what happened.
func (h *Handler) Process(ctx context.Context, raw json.RawMessage) (Report, error) {
	log := h.Log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("request_id", lc.AwsRequestID)
	}
	c, err := events.Parse(raw)
	if err != nil {
		log.Error("parse", "err", err)
		return Report{}, fmt.Errorf("remediate: %w", err)
	}
	log = log.With("event_id", c.EventID, "bucket", c.Bucket, "event_name", string(c.Name))
	rep := Report{Change: &c}
	if reason := c.SkipReason(h.Self...); reason != "" {
		log.Info("skip", "reason", reason, "actor", c.Actor.String())
		rep.Skip = reason
		return rep, nil
	}
	t := remediations.Target{Account: c.Account, Region: c.Region, Bucket: c.Bucket}
	res, runErr := h.Engine.Evaluate(ctx, t, &c, log)
	rep.Result = &res
	if runErr != nil {
		log.Warn("retry", "err", runErr, "wrote", res.Wrote())
	}
	if len(res.Findings) == 0 {
		log.Info("clean")
		return rep, runErr
	}
	// Nothing written yet and a retry coming: the retry will tell the story.
	if runErr != nil && !res.Wrote() && !errors.Is(runErr, remediations.ErrDeadline) {
		return rep, runErr
	}
	msg := alert.Render(res)
	rep.Message = &msg
	if h.Alerts == nil {
		return rep, runErr
	}
	receipt, err := h.Alerts.Send(ctx, msg.Envelope(), msg.Key())
	rep.MessageID, rep.Delivery = receipt.MessageID, receipt.Delivery
	switch receipt.Delivery {
	case alert.Published, alert.Duplicate:
		log.Info("alert", "delivery", receipt.Delivery, "message_id", receipt.MessageID, "severity", res.Severity, "outcome", res.Outcome)
	case alert.Spilled:
		// The fixes stand and the alert is kept where the stack alarms.
		log.Error("alert", "delivery", receipt.Delivery, "severity", res.Severity, "outcome", res.Outcome, "err", receipt.Err)
	default:
		// Nowhere: keep it in the log and fail, so that the retry tries again.
		log.Error("alert", "delivery", receipt.Delivery, "severity", res.Severity, "outcome", res.Outcome, "err", err, "alert", json.RawMessage(msg.JSON))
		return rep, errors.Join(runErr, err)
	}
	return rep, runErr
}
