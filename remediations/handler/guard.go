package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/ledger"
)

// SweepLeaseFor is how long a sweep started after a guarded call holds its
// lease: the sweep function's timeout, one part. Another guarded call
// within it starts none; a run longer than a part keeps going on its own.
const SweepLeaseFor = 15 * time.Minute

// SweepInvoker starts a sweep run at once: the sweep function, invoked
// asynchronously with the payload (startup.SweepFunction).
type SweepInvoker interface {
	StartSweep(ctx context.Context, payload []byte) error
}

// SweepLease bounds the sweeps started after guarded calls to one running
// per account and region (ledger.Store, in the ledger table).
type SweepLease interface {
	// TakeLease takes the lease until then, unless another holds it: false.
	TakeLease(ctx context.Context, key string, now, until time.Time) (bool, error)
	// DropLease lets it go: the sweep did not start.
	DropLease(ctx context.Context, key string) error
}

var _ SweepLease = (*ledger.Store)(nil)

// Sweeps is what the handler needs to start a sweep after a guarded call.
type Sweeps struct {
	Invoker SweepInvoker
	Lease   SweepLease
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// guard handles a guarded call the watchdog rules deliver: after a call
// that may have blinded or disarmed bucketguard, events may have been
// missed, so a sweep of the account starts at once, unless one started by
// such a call is still running. A refused call changed nothing, and a call
// on an alarm or a log group misses no event: no sweep.
func (h *Handler) guard(ctx context.Context, g events.GuardChange, log *slog.Logger) (Report, error) {
	log = log.With(contract.FieldEventID, g.EventID, "event_name", string(g.Name), "part", string(g.Part), "actor", g.Actor.String())
	rep := Report{Guard: &g}
	switch {
	case !g.Guarded():
		rep.Skip = "a refused call changed nothing"
	case g.Part.Watches():
		rep.Skip = "a call on what watches bucketguard misses no event: the operations topic is told, no sweep"
	case h.Sweeps == nil:
		rep.Skip = "no sweep function to start"
	}
	if rep.Skip != "" {
		log.Info(contract.MsgSkip, "reason", rep.Skip)
		return rep, nil
	}
	now := time.Now()
	if h.Sweeps.Now != nil {
		now = h.Sweeps.Now()
	}
	key := ledger.SweepLeaseKey(g.Account, g.Region)
	ok, err := h.Sweeps.Lease.TakeLease(ctx, key, now, now.Add(SweepLeaseFor))
	if err != nil {
		log.Warn(contract.MsgRetry, contract.FieldErr, err)
		return rep, fmt.Errorf("remediate: sweep lease %s: %w", key, err)
	}
	if !ok {
		rep.Skip = "a sweep started after a guarded call is running"
		log.Info(contract.MsgSkip, "reason", rep.Skip)
		return rep, nil
	}
	cause := fmt.Sprintf("%s called %s on %s (%s) at %s", orUnknown(g.Actor.String()), g.Name, g.Part, orUnknown(g.Resource), g.Time.UTC().Format(time.RFC3339))
	payload, _ := json.Marshal(contract.SweepStartEvent{Start: &contract.SweepStart{Cause: cause, EventID: g.EventID}}) // plain data: cannot fail
	if err := h.Sweeps.Invoker.StartSweep(ctx, payload); err != nil {
		if rerr := h.Sweeps.Lease.DropLease(context.WithoutCancel(ctx), key); rerr != nil {
			log.Warn("sweep lease release", contract.FieldErr, rerr) // it expires
		}
		log.Warn(contract.MsgRetry, contract.FieldErr, err)
		return rep, fmt.Errorf("remediate: start sweep: %w", err)
	}
	rep.SweepStarted = true
	log.Info("sweep", "started", true, "cause", cause, "lease_until", now.Add(SweepLeaseFor).UTC().Format(time.RFC3339))
	return rep, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
