package alert

import (
	"context"
	"errors"
	"time"
)

// Envelope is what goes on the wire: the subject, the e-mail text, the JSON
// document and the attributes subscribers filter on. A bucket alert and a
// sweep summary both travel as one.
type Envelope struct {
	Subject    string
	Text       string
	JSON       []byte
	Attributes map[string]string
}

// Envelope returns the message's wire form.
func (m Message) Envelope() Envelope {
	return Envelope{Subject: m.Subject, Text: m.Text, JSON: m.JSON, Attributes: m.Attributes}
}

// Delivery says what became of an alert.
type Delivery string

// Deliveries.
const (
	Published   Delivery = "published"      // SNS took it
	Duplicate   Delivery = "duplicate"      // the ledger shows it already sent
	Spilled     Delivery = "fallback-queue" // SNS refused; the fallback queue has it
	Undelivered Delivery = "undelivered"    // neither took it
)

// Sender delivers alerts: once per key when a ledger is set, to SNS, and to
// the fallback queue when SNS refuses. Build it once.
type Sender struct {
	SNS         Publisher
	TopicARN    string
	Fallback    Queue
	FallbackURL string
	Ledger      Ledger
	LedgerTable string
	// PublishTimeout bounds the SNS call, so that time is left for the
	// fallback when SNS hangs. Zero means 10 s; it never exceeds half the
	// time left before the context's deadline.
	PublishTimeout time.Duration
	Now            func() time.Time
}

// Receipt is the outcome of one Send.
type Receipt struct {
	Delivery  Delivery
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

// Send delivers an envelope. key, when not empty and a ledger is set, makes
// the delivery once-only. The error is non-nil only when the alert reached
// neither SNS nor the fallback queue: the caller must then keep it (log it)
// and fail, so that a retry tries again.
func (s *Sender) Send(ctx context.Context, e Envelope, key string) (Receipt, error) {
	claimed := false
	if key != "" && s.Ledger != nil && s.LedgerTable != "" {
		first, err := Claim(ctx, s.Ledger, s.LedgerTable, key, s.now())
		switch {
		case err != nil:
			// A duplicate beats a loss: send anyway.
		case !first:
			return Receipt{Delivery: Duplicate}, nil
		default:
			claimed = true
		}
	}
	pctx, cancel := context.WithTimeout(ctx, s.publishTimeout(ctx))
	id, err := Publish(pctx, s.SNS, s.TopicARN, e)
	cancel()
	if err == nil {
		return Receipt{Delivery: Published, MessageID: id}, nil
	}
	if s.Fallback != nil && s.FallbackURL != "" {
		ferr := Spill(ctx, s.Fallback, s.FallbackURL, e, err)
		if ferr == nil {
			return Receipt{Delivery: Spilled, Err: err}, nil
		}
		err = errors.Join(err, ferr)
	}
	if claimed {
		if rerr := Release(ctx, s.Ledger, s.LedgerTable, key); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return Receipt{Delivery: Undelivered, Err: err}, err
}
