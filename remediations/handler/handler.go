// Package handler is the event driver: the remediate function's code path,
// from the raw EventBridge event to a delivered alert. The function's main
// and the CLI's replay both run it, so a saved event replays exactly as it
// ran. It imports no Lambda package: the deadline is on the context, and
// main passes the request id in.
package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Handler turns one event into a remediation and an alert.
type Handler struct {
	// Incidents runs the event as an incident: evaluated, told once.
	Incidents *incident.Protocol
	// Self are bucketguard's own roles: their changes are skipped.
	Self []events.Role
	Log  *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RequestID returns the invocation's request id for the log, or "";
	// nil outside Lambda.
	RequestID func(context.Context) string
	// Sweeps starts a sweep after a guarded call (the watchdog rules'
	// events); nil starts none.
	Sweeps *Sweeps
}

// Report is what one event led to.
type Report struct {
	Change    *events.Change
	Skip      string
	Result    *remediations.Result
	Message   *alert.Message
	MessageID string
	// Delivery says where the alert went.
	Delivery contract.Delivery
	// Guard is the guarded call, when the event was one; SweepStarted
	// says that it started a sweep.
	Guard        *events.GuardChange
	SweepStarted bool
}

// TargetOf is what an event's evaluation is about: the bucket (for a
// bucket's access point, the bucket, found from the access point when the
// event does not say), an Object Lambda or Multi-Region access point, or
// the account.
func TargetOf(c events.Change) posture.Target {
	t := posture.Target{Account: c.Account, Region: c.Region, Bucket: c.Bucket}
	if ap := c.AccessPoint; ap != nil && c.Bucket == "" {
		kind := map[events.Scope]posture.AccessPointKind{events.AccessPointScope: posture.BucketAccessPoint,
			events.ObjectLambdaScope: posture.ObjectLambdaAccessPoint, events.MultiRegionScope: posture.MultiRegionAccessPoint}[ap.Scope]
		t.AccessPoint = &posture.AccessPointRef{Kind: kind, Name: ap.Name}
	}
	return t
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
	if h.RequestID != nil {
		if id := h.RequestID(ctx); id != "" {
			log = log.With(contract.FieldRequestID, id)
		}
	}
	// A guarded call (delivered by a watchdog rule) starts a sweep; an S3
	// change parses with no part and goes on.
	if g, err := events.ParseGuard(raw); err == nil && g.Part != "" {
		return h.guard(ctx, g, log)
	}
	c, err := events.Parse(raw)
	if err != nil {
		log.Error("parse", contract.FieldErr, err)
		return Report{}, fmt.Errorf("remediate: %w", err)
	}
	log = log.With(contract.FieldEventID, c.EventID, contract.FieldBucket, c.Bucket, "event_name", string(c.Name))
	rep := Report{Change: &c}
	h.canary(c, log)
	if reason := c.SkipReason(h.Self...); reason != "" {
		log.Info(contract.MsgSkip, "reason", reason, "actor", c.Actor.String())
		rep.Skip = reason
		return rep, nil
	}
	// The incident is the event: Lambda retries it up to EventAttempts
	// times, and the protocol tells it once.
	out, err := h.Incidents.Run(ctx, incident.Incident{Key: c.EventID, Target: TargetOf(c), Trigger: &c,
		Attempts: h.Incidents.Engine.Config.EventAttempts}, log)
	rep.Result, rep.Skip, rep.Message = &out.Result, out.Skip, out.Message
	rep.MessageID, rep.Delivery = out.Receipt.MessageID, out.Receipt.Delivery
	return rep, err
}

// canary times the canary's change: the delay from CloudTrail's eventTime
// to its arrival here is the event path's time to detect, measured in the
// account (the stack's CanaryDelay metric, and an alarm when none arrives).
// The canary's bucket is then evaluated like any other.
func (h *Handler) canary(c events.Change, log *slog.Logger) {
	bucket := h.Incidents.Engine.Config.CanaryBucket
	if bucket == "" || c.Bucket != bucket || c.ErrorCode != "" || c.Time.IsZero() {
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	log.Info(contract.MsgCanary, contract.FieldDelayMS, now().Sub(c.Time).Milliseconds(), "actor", c.Actor.String())
}
