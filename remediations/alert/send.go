package alert

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/contract"
)

// Envelope is what goes on the wire: the subject, the e-mail text, the JSON
// document and the attributes subscribers filter on. A bucket alert and a
// sweep summary both travel as one.
type Envelope struct {
	// Kind is contract.KindBucket or contract.KindSummary.
	Kind       string
	Subject    string
	Text       string
	JSON       []byte
	Attributes map[string]string
	// Key, when not empty and a ledger is set, makes the delivery
	// once-only.
	Key string
}

// Envelope returns the message's wire form, keyed for the ledger.
func (m Message) Envelope() Envelope {
	return Envelope{Kind: contract.KindBucket, Subject: m.Subject, Text: m.Text, JSON: m.JSON, Attributes: m.Attributes, Key: m.Key()}
}

// Retry says whether the caller's work will be tried again if this
// evaluation failed: Lambda retries an event invocation that returns an
// error, while the sweep moves on to the next bucket.
type Retry bool

// The two cases of Retry.
const (
	RetryComing Retry = true
	NoRetry     Retry = false
)

// Due decides whether an evaluation needs an alert: it found something, and
// either it finished, or no retry will come to tell the story, or it wrote
// something (partial work is told) or stopped at the deadline without a
// journal to leave the story to the retry. A run that failed before writing
// anything, with a retry coming, stays quiet: the retry alerts.
//
// With the journal kept before the first write, a failed attempt that a
// retry follows stays quiet whatever it wrote: the retry tells the whole
// incident from the journal, once. The last attempt always tells.
func Due(res remediations.Result, err error, retry Retry) bool {
	switch {
	case len(res.Findings) == 0:
		return false
	case err == nil, retry == NoRetry:
		return true
	case res.Journaled:
		return false
	}
	return res.Wrote() || errors.Is(err, awserr.ErrDeadline)
}

// Sender delivers alerts: once per key when a ledger is set, to SNS, and to
// the fallback queue when SNS refuses. Build it once. A nil Sender renders
// and logs an alert without sending it (a dry run).
type Sender struct {
	SNS         Publisher
	TopicARN    string
	Fallback    Queue
	FallbackURL string
	Ledger      Ledger
	LedgerTable string
	// Incidents, when set, makes each incident's alert once-only (Tell)
	// and keeps journals for retries.
	Incidents Incidents
	// PublishTimeout bounds the SNS call, so that time is left for the
	// fallback when SNS hangs. Zero means 10 s; it never exceeds half the
	// time left before the context's deadline.
	PublishTimeout time.Duration
	Now            func() time.Time
}

// Receipt is the outcome of one delivery.
type Receipt struct {
	Delivery  contract.Delivery
	MessageID string
	// Err is why SNS refused, when the alert was spilled or undelivered.
	Err error
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// callTimeout bounds each call of the alert path: the publish, the spill,
// the ledger record.
func (s *Sender) callTimeout() time.Duration {
	if s.PublishTimeout > 0 {
		return s.PublishTimeout
	}
	return 10 * time.Second
}

func (s *Sender) publishTimeout(ctx context.Context) time.Duration {
	d := s.PublishTimeout
	if d <= 0 {
		d = 10 * time.Second
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	return d
}

// Alert renders the result and delivers it: the one way an evaluation's
// alert leaves bucketguard.
func (s *Sender) Alert(ctx context.Context, res remediations.Result, log *slog.Logger) (Message, Receipt, error) {
	m := Render(res)
	r, err := s.Send(ctx, m.Envelope(), log, contract.FieldStatus, string(res.Status), contract.FieldSeverity, string(res.Severity))
	return m, r, err
}

// Send delivers an envelope and logs exactly one line about it (message
// "alert", with its kind and delivery, and the whole document when it could
// not be delivered), with the extra attributes given. The error is non-nil
// only when the alert reached neither SNS nor the fallback queue: the caller
// must then fail, so that a retry tries again.
func (s *Sender) Send(ctx context.Context, e Envelope, log *slog.Logger, attrs ...any) (Receipt, error) {
	r, err := s.deliver(ctx, e)
	args := append([]any{contract.FieldKind, e.Kind, contract.FieldDelivery, r.Delivery}, attrs...)
	switch r.Delivery {
	case contract.Published, contract.Duplicate, contract.Rendered:
		log.Info(contract.MsgAlert, append(args, contract.FieldMessageID, r.MessageID)...)
	case contract.Spilled:
		// The alert is kept where the stack alarms.
		log.Error(contract.MsgAlert, append(args, contract.FieldErr, r.Err)...)
	default:
		// Nowhere: keep it in the log, whole.
		log.Error(contract.MsgAlert, append(args, contract.FieldErr, err, contract.FieldAlert, json.RawMessage(e.JSON))...)
	}
	return r, err
}

func (s *Sender) deliver(ctx context.Context, e Envelope) (Receipt, error) {
	if s == nil {
		return Receipt{Delivery: contract.Rendered}, nil
	}
	claimed := false
	if e.Key != "" && s.Ledger != nil && s.LedgerTable != "" {
		first, err := Claim(ctx, s.Ledger, s.LedgerTable, e.Key, s.now())
		switch {
		case err != nil:
			// A duplicate beats a loss: send anyway.
		case !first:
			return Receipt{Delivery: contract.Duplicate}, nil
		default:
			claimed = true
		}
	}
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout(ctx))
	id, err := Publish(pctx, s.SNS, s.TopicARN, e)
	cancel()
	if err == nil {
		return Receipt{Delivery: contract.Published, MessageID: id}, nil
	}
	if s.Fallback != nil && s.FallbackURL != "" {
		sctx, cancel := context.WithTimeout(ctx, s.callTimeout())
		ferr := Spill(sctx, s.Fallback, s.FallbackURL, e, err)
		cancel()
		if ferr == nil {
			return Receipt{Delivery: contract.Spilled, Err: err}, nil
		}
		err = errors.Join(err, ferr)
	}
	if claimed {
		if rerr := Release(ctx, s.Ledger, s.LedgerTable, e.Key); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return Receipt{Delivery: contract.Undelivered, Err: err}, err
}
