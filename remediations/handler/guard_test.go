package handler_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bucketguard/bucketguard/remediations/handler"
	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/sweep"
)

// starter records the sweeps started; fail, when set, refuses them.
type starter struct {
	mu       sync.Mutex
	payloads [][]byte
	fail     error
}

func (s *starter) StartSweep(_ context.Context, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.payloads = append(s.payloads, payload)
	return nil
}

// leases is an in-memory lease table: a key held until its time.
type leases struct {
	mu   sync.Mutex
	held map[string]time.Time
}

func (l *leases) TakeLease(_ context.Context, key string, now, until time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.held[key]; ok && now.Before(u) {
		return false, nil
	}
	l.held[key] = until
	return true, nil
}

func (l *leases) DropLease(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, key)
	return nil
}

// A guarded call the watchdog rules deliver starts a sweep of the account
// at once, with a payload the sweep takes as a new run; while that sweep
// holds its lease, another guarded call starts none; a refused call starts
// none; a start that fails lets the lease go, so that the retry starts it.
func TestGuardedCallStartsOneSweep(t *testing.T) {
	r := newRig(t)
	st := &starter{}
	l := &leases{held: map[string]time.Time{}}
	now := time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC)
	r.h.Sweeps = &handler.Sweeps{Invoker: st, Lease: l, Now: func() time.Time { return now }}
	guard := func(name string) []byte { return sample(t, "guard/"+name) }

	if err := r.invoke(t, guard("StopLogging")); err != nil {
		t.Fatal(err)
	}
	if len(st.payloads) != 1 {
		t.Fatalf("%d sweeps started, want 1", len(st.payloads))
	}
	var ev sweep.Event
	if err := json.Unmarshal(st.payloads[0], &ev); err != nil || ev.Start == nil || ev.Sweep != nil {
		t.Fatalf("payload %s is not a sweep start: %v", st.payloads[0], err)
	}
	if !strings.Contains(ev.Start.Cause, "StopLogging") || ev.Start.EventID == "" {
		t.Errorf("start %+v", ev.Start)
	}
	if until, ok := l.held[ledger.SweepLeaseKey("111122223333", "eu-west-1")]; !ok || !until.Equal(now.Add(handler.SweepLeaseFor)) {
		t.Errorf("leases %v", l.held)
	}

	// Another guarded call while the sweep holds the lease: none.
	now = now.Add(time.Minute)
	if err := r.invoke(t, guard("PutFunctionConcurrency20171031")); err != nil {
		t.Fatal(err)
	}
	if len(st.payloads) != 1 {
		t.Fatalf("%d sweeps started while one holds the lease", len(st.payloads))
	}
	// A refused call changed nothing: none, and no lease is taken.
	now = now.Add(handler.SweepLeaseFor)
	if err := r.invoke(t, guard("DeleteRule-denied")); err != nil {
		t.Fatal(err)
	}
	if len(st.payloads) != 1 {
		t.Fatalf("a refused call started a sweep")
	}
	// The lease expired: the next guarded call starts one again; a start
	// that fails is retried, and lets the lease go.
	st.fail = errors.New("TooManyRequestsException")
	if err := r.invoke(t, guard("DisableRule")); err == nil {
		t.Fatal("a failed start is not retried")
	}
	if len(l.held) != 0 {
		t.Errorf("a failed start keeps the lease: %v", l.held)
	}
	st.fail = nil
	if err := r.invoke(t, guard("DisableRule")); err != nil || len(st.payloads) != 2 {
		t.Fatalf("the retry: %v, %d sweeps", err, len(st.payloads))
	}
	// No S3 call was made for any of them.
	if n := r.f.Count(op.GetBucketPolicy); n != 0 {
		t.Errorf("%d S3 reads for guarded calls", n)
	}
}

// Without a sweep to start (the CLI's replay), a guarded call is skipped.
func TestGuardedCallWithoutSweeps(t *testing.T) {
	r := newRig(t)
	rep, err := r.h.Process(context.Background(), sample(t, "guard/StopLogging"))
	if err != nil || rep.Guard == nil || rep.SweepStarted || rep.Skip == "" {
		t.Fatalf("report %+v, %v", rep, err)
	}
}

// A call on what watches bucketguard (an alarm, a log group) misses no S3
// event: it takes no lease and starts no sweep, so it cannot use up the
// lease a blinding call needs.
func TestCallOnAWatcherStartsNoSweep(t *testing.T) {
	r := newRig(t)
	st := &starter{}
	l := &leases{held: map[string]time.Time{}}
	r.h.Sweeps = &handler.Sweeps{Invoker: st, Lease: l}
	for _, name := range []string{"DeleteAlarms", "DisableAlarmActions", "PutMetricAlarm", "SetAlarmState", "DeleteLogGroup", "DeleteMetricFilter", "PutMetricFilter", "AssociateKmsKey"} {
		rep, err := r.h.Process(context.Background(), sample(t, "guard/"+name))
		if err != nil || rep.Guard == nil || !rep.Guard.Guarded() || rep.SweepStarted || rep.Skip == "" {
			t.Errorf("%s: report %+v, %v", name, rep, err)
		}
	}
	if len(st.payloads) != 0 || len(l.held) != 0 {
		t.Errorf("%d sweeps started, leases %v", len(st.payloads), l.held)
	}
	if err := r.invoke(t, sample(t, "guard/StopLogging")); err != nil || len(st.payloads) != 1 {
		t.Fatalf("a blinding call after them: %v, %d sweeps", err, len(st.payloads))
	}
}
