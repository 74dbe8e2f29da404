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
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
)

// Handler turns one event into a remediation and an alert.
type Handler struct {
	Engine *remediations.Engine
	// Alerts publishes to TopicARN; nil renders the alert without sending it.
	Alerts   alert.Publisher
	TopicARN string
	// Fallback, when set, keeps alerts SNS refused.
	Fallback    alert.Queue
	FallbackURL string
	// Ledger, when set, remembers the alerts sent for each event, so that a
	// redelivered event does not alert twice.
	Ledger      alert.Ledger
	LedgerTable string
	Self        events.Role
	Log         *slog.Logger
	// PublishTimeout bounds the SNS call, so that time is left to keep the
	// alert in the fallback queue when SNS hangs. Zero means 10 s; it is
	// never more than half the time left before the deadline.
	PublishTimeout time.Duration
}

func (h *Handler) publishTimeout(ctx context.Context) time.Duration {
	d := h.PublishTimeout
	if d <= 0 {
		d = 10 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	return d
}

// Report is what one event led to.
type Report struct {
	Change    *events.Change
	Skip      string
	Result    *remediations.Result
	Message   *alert.Message
	MessageID string
	// Spilled is true when the alert went to the fallback queue.
	Spilled bool
	// Duplicate is true when the ledger showed this alert already sent.
	Duplicate bool
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
	if reason := c.SkipReason(h.Self); reason != "" {
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
	key, claimed := "", false
	if h.Ledger != nil && h.LedgerTable != "" {
		key = msg.Key()
		first, err := alert.Claim(ctx, h.Ledger, h.LedgerTable, key, time.Now())
		switch {
		case err != nil:
			log.Warn("alert", "delivery", "ledger unavailable: sending anyway", "err", err)
		case !first:
			rep.Duplicate = true
			log.Info("alert", "delivery", "duplicate", "key", key, "outcome", res.Outcome)
			return rep, runErr
		default:
			claimed = true
		}
	}
	pctx, cancel := context.WithTimeout(ctx, h.publishTimeout(ctx))
	id, err := alert.Publish(pctx, h.Alerts, h.TopicARN, msg)
	cancel()
	if err == nil {
		rep.MessageID = id
		log.Info("alert", "delivery", "published", "message_id", id, "severity", res.Severity, "outcome", res.Outcome)
		return rep, runErr
	}
	// The fixes stand; the alert must not be lost. A retry would find the
	// bucket clean and have nothing to say, so keep the alert elsewhere.
	if h.Fallback != nil && h.FallbackURL != "" {
		ferr := alert.Spill(ctx, h.Fallback, h.FallbackURL, msg, err)
		if ferr == nil {
			rep.Spilled = true
			log.Error("alert", "delivery", "fallback-queue", "severity", res.Severity, "outcome", res.Outcome, "err", err)
			return rep, runErr
		}
		err = errors.Join(err, ferr)
	}
	if claimed {
		// Delivered nowhere: let the retry try again.
		if rerr := alert.Release(ctx, h.Ledger, h.LedgerTable, key); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	log.Error("alert", "delivery", "undelivered", "severity", res.Severity, "outcome", res.Outcome, "err", err, "alert", json.RawMessage(msg.JSON))
	return rep, errors.Join(runErr, err)
}
