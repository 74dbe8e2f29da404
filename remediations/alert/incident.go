package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/awserr"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
)

// Incidents keeps, for each incident (a CloudTrail event, or a bucket of a
// sweep run), the lease of the attempt working on it, the journal of an
// attempt that began writing, and what was told: ledger.Store.
type Incidents interface {
	Claim(ctx context.Context, key string, now, until time.Time) (ledger.Incident, error)
	Told(ctx context.Context, key, digest string) error
	Release(ctx context.Context, key string) error
	Peek(ctx context.Context, key string) (ledger.Incident, error)
}

// Release lets the incident's lease go when the attempt ends without
// telling: its retry (or the next event) need not wait for it to expire.
func (s *Sender) Release(ctx context.Context, key string, log *slog.Logger) {
	if s == nil || s.Incidents == nil || key == "" {
		return
	}
	if err := s.Incidents.Release(ctx, key); err != nil {
		log.Warn("incident release", contract.FieldErr, err) // it expires at the attempt's deadline
	}
}

// ErrHeldElsewhere means another delivery of the incident holds it: this
// one writes and tells nothing.
var ErrHeldElsewhere = errors.New("another delivery of this incident is being handled")

// Claimed is the answer to a claim, waited for once.
type Claimed struct {
	once sync.Once
	ch   chan claim
	inc  ledger.Incident
	err  error
}

type claim struct {
	inc ledger.Incident
	err error
}

// Wait returns the incident as claimed, or why it could not be.
func (c *Claimed) Wait() (ledger.Incident, error) {
	c.once.Do(func() {
		if c.ch != nil {
			r := <-c.ch
			c.inc, c.err = r.inc, r.err
		}
	})
	return c.inc, c.err
}

// Gate is the engine's gate for the incident: no write before the claim
// is known, none if it failed (retried) or another delivery holds it.
func (c *Claimed) Gate() error {
	inc, err := c.Wait()
	switch {
	case err != nil:
		return &awserr.TransientError{Op: string(op.UpdateItem), Err: err}
	case !inc.Held:
		return ErrHeldElsewhere
	}
	return nil
}

// Claim starts claiming an incident, to run beside the evaluation's read
// round. Without a ledger (or a key) the attempt is the holder, with no
// journal and nothing told before.
func (s *Sender) Claim(ctx context.Context, key string) *Claimed {
	if s == nil || s.Incidents == nil || key == "" {
		return &Claimed{inc: ledger.Incident{Held: true}}
	}
	until := s.now().Add(15 * time.Minute)
	if dl, ok := ctx.Deadline(); ok {
		until = dl
	}
	c := &Claimed{ch: make(chan claim, 1)}
	go func() {
		inc, err := s.Incidents.Claim(ctx, key, s.now(), until)
		if err != nil {
			// The claim failed (DynamoDB throttled, say): read what an
			// earlier attempt left, and go on without the lease; the alert
			// is then told without a record.
			if peek, perr := s.Incidents.Peek(ctx, key); perr == nil {
				inc, err = peek, nil
			} else {
				err = errors.Join(err, perr)
			}
		}
		c.ch <- claim{inc, err}
	}()
	return c
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

// Tell delivers the alert of an incident once: not again if the same was
// told for it (a redelivered event), and with the record of it written
// beside the publish, not before it (no extra round). When the alert
// reached neither SNS nor the fallback queue, the record is undone and the
// journal kept, so that the retry tells it.
func (s *Sender) Tell(ctx context.Context, res remediations.Result, key string, inc ledger.Incident, log *slog.Logger) (Message, Receipt, error) {
	m := Render(res)
	attrs := []any{contract.FieldStatus, string(res.Status), contract.FieldSeverity, string(res.Severity)}
	if s == nil || s.Incidents == nil || key == "" || inc.Unclaimed {
		r, err := s.Send(ctx, m.Envelope(), log, attrs...)
		return m, r, err
	}
	digest := m.Digest()
	if slices.Contains(inc.Told, digest) {
		r := Receipt{Delivery: contract.Duplicate}
		log.Info(contract.MsgAlert, append([]any{contract.FieldKind, contract.KindBucket, contract.FieldDelivery, r.Delivery}, attrs...)...)
		return m, r, nil
	}
	e := m.Envelope()
	e.Key = "" // the incident's record stands for the claim
	r, err := s.Send(ctx, e, log, attrs...)
	if err != nil {
		return m, r, err // nothing recorded: the journal stays for the retry
	}
	// Recorded only once delivered: a process that dies between the two
	// tells it again on its retry (a duplicate beats a loss).
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.callTimeout())
	defer cancel()
	if terr := s.Incidents.Told(tctx, key, digest); terr != nil {
		log.Warn("incident record", contract.FieldErr, terr) // told; a redelivery may tell it again
	}
	return m, r, nil
}
