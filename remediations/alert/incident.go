package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
)

// Incidents keeps, for each incident (a CloudTrail event, or a bucket of a
// sweep run), the lease of the attempt working on it, the journal of an
// attempt that began writing, and what was told: ledger.Store.
type Incidents interface {
	Claim(ctx context.Context, key string, now, until time.Time) (ledger.Incident, error)
	Told(ctx context.Context, key, digest string) error
	Untell(ctx context.Context, key, digest string, journal []byte) error
	Release(ctx context.Context, key string) error
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

// Claim starts claiming an incident, to run beside the evaluation's read
// round, and returns what waits for the answer. Without a ledger (or a
// key), or when the ledger fails, the attempt goes ahead as the holder, with
// no journal and nothing told before.
func (s *Sender) Claim(ctx context.Context, key string, log *slog.Logger) func() ledger.Incident {
	if s == nil || s.Incidents == nil || key == "" {
		return func() ledger.Incident { return ledger.Incident{Held: true} }
	}
	until := s.now().Add(15 * time.Minute)
	if dl, ok := ctx.Deadline(); ok {
		until = dl
	}
	ch := make(chan ledger.Incident, 1)
	go func() {
		inc, err := s.Incidents.Claim(ctx, key, s.now(), until)
		if err != nil {
			log.Warn("incident claim", contract.FieldErr, err)
			inc = ledger.Incident{Held: true}
		}
		ch <- inc
	}()
	return func() ledger.Incident { return <-ch }
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
	if s == nil || s.Incidents == nil || key == "" {
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
	told := make(chan error, 1)
	go func() { told <- s.Incidents.Told(ctx, key, digest) }()
	r, err := s.Send(ctx, e, log, attrs...)
	terr := <-told
	switch {
	case err != nil && terr == nil:
		j, _ := remediations.JournalOf(res)
		if uerr := s.Incidents.Untell(ctx, key, digest, j); uerr != nil {
			log.Error("incident record", contract.FieldErr, uerr)
		}
	case terr != nil:
		log.Warn("incident record", contract.FieldErr, terr) // told; a redelivery may tell it again
	}
	return m, r, err
}
