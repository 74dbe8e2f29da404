package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	// Key, when not empty and sent marks are kept, makes the delivery
	// once-only.
	Key string
	// Ops sends it to the operations topic, not to the owners'.
	Ops bool
	// Status and Severity of a bucket alert, for its log line.
	Status, Severity string
}

// Envelope returns the message's wire form, keyed for the ledger.
func (m Message) Envelope() Envelope {
	return Envelope{Kind: contract.KindBucket, Subject: m.Subject, Text: m.Text, JSON: m.JSON, Attributes: m.Attributes, Key: m.Key(),
		Status: string(m.Document.Status), Severity: string(m.Document.Severity)}
}

// SentMarks keeps a mark per keyed alert sent (ledger.Store): EventBridge
// and Lambda deliver at least once, and a redelivered sweep summary must
// not be sent twice.
type SentMarks interface {
	MarkSent(ctx context.Context, key string, now time.Time) (bool, error)
	UnmarkSent(ctx context.Context, key string) error
}

// Sender delivers alerts: once per key when sent marks are kept, to SNS,
// and to the fallback queue when SNS refuses. Build it once. A nil Sender
// renders and logs an alert without sending it (a dry run). An incident's
// alert is sent once by the incident protocol (package incident), which
// calls Send.
type Sender struct {
	SNS      Publisher
	TopicARN string
	// OpsTopicARN takes the envelopes meant for the operations team (Ops);
	// without it they go to TopicARN.
	OpsTopicARN string
	Fallback    Queue
	FallbackURL string
	// Sent, when set, makes keyed envelopes once-only.
	Sent SentMarks
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

// Send delivers an envelope and logs exactly one line about it (LogLine).
// The error is non-nil only when the alert reached neither SNS nor the
// fallback queue: the caller must then fail, so that a retry tries again.
func (s *Sender) Send(ctx context.Context, e Envelope, log *slog.Logger) (Receipt, error) {
	r, err := s.deliver(ctx, e)
	LogLine(log, e, r, err)
	return r, err
}

// LogLine is the one log line of an alert (message "alert", with its kind,
// delivery, status and severity, and the whole document when it could not
// be delivered).
func LogLine(log *slog.Logger, e Envelope, r Receipt, err error) {
	args := []any{contract.FieldKind, e.Kind, contract.FieldDelivery, r.Delivery}
	if e.Status != "" {
		args = append(args, contract.FieldStatus, e.Status, contract.FieldSeverity, e.Severity)
	}
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
}

func (s *Sender) deliver(ctx context.Context, e Envelope) (Receipt, error) {
	if s == nil {
		return Receipt{Delivery: contract.Rendered}, nil
	}
	claimed := false
	if e.Key != "" && s.Sent != nil {
		first, err := s.Sent.MarkSent(ctx, e.Key, s.now())
		switch {
		case err != nil:
			// A duplicate beats a loss: send anyway.
		case !first:
			return Receipt{Delivery: contract.Duplicate}, nil
		default:
			claimed = true
		}
	}
	topic := s.TopicARN
	if e.Ops && s.OpsTopicARN != "" {
		topic = s.OpsTopicARN
	}
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout(ctx))
	id, err := publish(pctx, s.SNS, topic, e)
	cancel()
	if err == nil {
		return Receipt{Delivery: contract.Published, MessageID: id}, nil
	}
	if s.Fallback != nil && s.FallbackURL != "" {
		sctx, cancel := context.WithTimeout(ctx, s.callTimeout())
		ferr := spill(sctx, s.Fallback, s.FallbackURL, e, err)
		cancel()
		if ferr == nil {
			return Receipt{Delivery: contract.Spilled, Err: err}, nil
		}
		err = errors.Join(err, ferr)
	}
	if claimed {
		if rerr := s.Sent.UnmarkSent(ctx, e.Key); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return Receipt{Delivery: contract.Undelivered, Err: err}, err
}

// Key is the once-only key of a message sent outside an incident: the
// CloudTrail event id (or the sweep run and bucket) and a digest of what
// the alert says. A retry that finishes work left over says something new,
// and is sent; a redelivery that finds the same says the same, and is not.
func (m Message) Key() string {
	d := m.Document
	id := "operator"
	switch {
	case d.Event != nil:
		id = d.Event.ID
	case d.Run != "":
		id = "sweep/" + d.Run + "/" + d.Bucket
	}
	return id + "/" + m.Digest()
}

// Digest identifies what an alert says (findings and action outcomes, not
// times): the same incident told the same way has the same digest.
func (m Message) Digest() string {
	d := m.Document
	h := sha256.New()
	fmt.Fprintf(h, "%s|%s|%s|%s|%s\n", d.Account, d.Region, d.Bucket, d.AccessPoint, d.Status)
	for _, f := range d.Findings {
		fmt.Fprintf(h, "F|%s|%s|%s\n", f.ID, f.Severity, f.Summary)
	}
	for _, a := range d.Actions {
		fmt.Fprintf(h, "A|%s|%s|%s\n", a.Name, a.Outcome, a.Error)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
