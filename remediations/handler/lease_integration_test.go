//go:build integration

package handler_test

import (
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/ledger"
)

// The sweep lease on DynamoDB (the emulator): one holder until it expires,
// then the next; released, at once.
func TestSweepLeaseOnTheEmulator(t *testing.T) {
	e := emulator.NewEmulator(t)
	ctx := emulator.Ctx(t)
	if err := emulator.LedgerTable(ctx, e.Direct, "bucketguard-ledger"); err != nil {
		t.Fatal(err)
	}
	l := &ledger.Store{DB: e.Clients.DynamoDB, Table: "bucketguard-ledger"}
	key := ledger.SweepLeaseKey("111122223333", e.Region)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, step := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"first", t0, true},
		{"held", t0.Add(time.Minute), false},
		{"just before expiry", t0.Add(handler.SweepLeaseFor - time.Second), false},
		{"expired", t0.Add(handler.SweepLeaseFor), true},
	} {
		got, err := l.TakeLease(ctx, key, step.now, step.now.Add(handler.SweepLeaseFor))
		if err != nil || got != step.want {
			t.Fatalf("%s: took %v (%v), want %v", step.name, got, err, step.want)
		}
	}
	if err := l.DropLease(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, err := l.TakeLease(ctx, key, t0.Add(handler.SweepLeaseFor+time.Minute), t0.Add(time.Hour)); err != nil || !got {
		t.Fatalf("after release: took %v (%v)", got, err)
	}
}
