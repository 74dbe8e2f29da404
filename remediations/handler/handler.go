// Package handler is the event driver: the remediate function's code path,
// from the raw EventBridge event to a delivered alert. The function's main
// and the CLI's replay both run it, so a saved event replays exactly as it
// ran. It imports no Lambda package: the deadline is on the context, and
// main passes the request id in.
package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Handler turns one event into a remediation and an alert.
type Handler struct {
	Engine *remediations.Engine
	// Alerts delivers the alert; nil renders and logs it without sending it.
	Alerts *alert.Sender
	// Self are bucketguard's own roles: their changes are skipped.
	Self []events.Role
	Log  *slog.Logger
	// RequestID returns the invocation's request id for the log, or "";
	// nil outside Lambda.
	RequestID func(context.Context) string
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
	c, err := events.Parse(raw)
	if err != nil {
		log.Error("parse", contract.FieldErr, err)
		return Report{}, fmt.Errorf("remediate: %w", err)
	}
	log = log.With(contract.FieldEventID, c.EventID, contract.FieldBucket, c.Bucket, "event_name", string(c.Name))
	rep := Report{Change: &c}
	if reason := c.SkipReason(h.Self...); reason != "" {
		log.Info(contract.MsgSkip, "reason", reason, "actor", c.Actor.String())
		rep.Skip = reason
		return rep, nil
	}
	// The incident is the event: claimed beside the read round, journaled
	// before the first write, told once.
	key := c.EventID
	claimed := h.Alerts.Claim(ctx, key)
	res, runErr := h.Engine.EvaluateJournaled(ctx, TargetOf(c), &c, remediations.Incident{Key: key, Attempt: attemptID(), Gate: claimed.Gate}, log)
	rep.Result = &res
	inc, claimErr := claimed.Wait()
	switch {
	case claimErr != nil && len(res.Findings) > 0:
		// Without the incident's record, what was told and what an earlier
		// attempt kept are unknown: nothing was written, and the retry
		// claims it.
		log.Warn(contract.MsgRetry, contract.FieldErr, claimErr, "wrote", res.Wrote())
		return rep, errors.Join(runErr, fmt.Errorf("claim incident %s: %w", key, claimErr))
	case claimErr != nil:
		return rep, runErr
	case !inc.Held:
		log.Info(contract.MsgSkip, "reason", alert.ErrHeldElsewhere.Error(), "attempts", inc.Attempts)
		rep.Skip = alert.ErrHeldElsewhere.Error()
		return rep, nil
	}
	retry := alert.RetryComing
	if inc.Attempts+1 >= h.Engine.Config.EventAttempts {
		retry = alert.NoRetry // the last attempt tells what it has
	}
	if len(inc.Journal) > 0 {
		if runErr != nil && retry == alert.RetryComing {
			// An earlier attempt's journal waits for an attempt that
			// finishes: this one failed too, and the next one tells.
			log.Warn(contract.MsgRetry, contract.FieldErr, runErr, "wrote", res.Wrote(), "journal", "kept")
			if !inc.Unclaimed {
				h.Alerts.Release(ctx, key, log)
			}
			return rep, runErr
		}
		if j, err := remediations.ParseJournal(inc.Journal); err != nil {
			log.Warn("journal", contract.FieldErr, err)
		} else {
			res.Merge(j, len(res.Actions) > 0 || runErr == nil)
			log.Info("journal", "merged", true, "attempts", inc.Attempts+1)
		}
	}
	if runErr != nil {
		log.Warn(contract.MsgRetry, contract.FieldErr, runErr, "wrote", res.Wrote(), "journaled", res.Journaled)
	}
	if !alert.Due(res, runErr, retry) {
		if res.Journaled || len(inc.Journal) > 0 || runErr != nil {
			if !inc.Unclaimed {
				h.Alerts.Release(ctx, key, log)
			}
		}
		return rep, runErr
	}
	msg, receipt, err := h.Alerts.Tell(ctx, res, key, inc, log)
	if err != nil && !inc.Unclaimed {
		h.Alerts.Release(ctx, key, log) // the retry tells it
	}
	rep.Message, rep.MessageID, rep.Delivery = &msg, receipt.MessageID, receipt.Delivery
	if err != nil {
		// Nowhere: it is in the log; fail, so that the retry tries again.
		return rep, errors.Join(runErr, err)
	}
	return rep, runErr
}

// attemptID names one attempt at an event (Lambda's retries keep the
// request id): its journal is its own to replace.
func attemptID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
