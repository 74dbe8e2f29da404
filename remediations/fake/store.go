package fake

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations/ledger"
	"github.com/bucketguard/bucketguard/remediations/op"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/undo"
)

// Store is a fake of the ledger's own interface (ledger.Store's methods):
// approvals, incidents' records and sent marks, kept in memory with the
// rules ledger.Store's expressions state. Each call counts as the
// DynamoDB operation it makes on AWS (GetItem, PutItem, UpdateItem,
// DeleteItem), and the Fake's Fault applies to it. The expressions
// themselves are exercised on the emulator.
type Store struct{ f *Fake }

// Store returns the account's ledger.
func (f *Fake) Store() *Store { return &Store{f} }

type store struct {
	approvals map[string]plan.ApprovalTags
	incidents map[string]*record
	sent      map[string]bool
	counts    map[string]int
	undos     map[string]undo.Record
	findings  map[string]findingState
}

type findingState struct {
	state string
	at    time.Time
	sent  bool
}

type record struct {
	lease          time.Time
	attempts       int
	journal        []byte
	journalAttempt string
	told           []string
}

func (r *record) snapshot() ledger.Record {
	if r == nil {
		return ledger.Record{}
	}
	return ledger.Record{Attempts: r.attempts, Journal: slices.Clone(r.journal), Told: slices.Clone(r.told)}
}

// call enters the Fake as operation o and, unless a fault answers, runs fn
// under the Fake's lock.
func (s *Store) call(o op.Operation, fn func(st *store)) error {
	release, err := s.f.enter(o, "")
	if err != nil {
		return err
	}
	defer release()
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	st := &s.f.store
	if st.incidents == nil {
		st.approvals, st.incidents, st.sent, st.counts = map[string]plan.ApprovalTags{}, map[string]*record{}, map[string]bool{}, map[string]int{}
		st.undos, st.findings = map[string]undo.Record{}, map[string]findingState{}
	}
	fn(st)
	return nil
}

func (st *store) incident(key string) *record {
	r := st.incidents[key]
	if r == nil {
		r = &record{}
		st.incidents[key] = r
	}
	return r
}

// Approval returns the approval recorded for a bucket, or nil.
func (s *Store) Approval(_ context.Context, account, bucket string) (*plan.ApprovalTags, error) {
	var out *plan.ApprovalTags
	err := s.call(op.GetItem, func(st *store) {
		if a, ok := st.approvals[account+"/"+bucket]; ok {
			out = &a
		}
	})
	return out, err
}

// SetApproval records a bucket's approval.
func (s *Store) SetApproval(_ context.Context, account, bucket string, a plan.ApprovalTags, _ string, _ time.Time) error {
	return s.call(op.PutItem, func(st *store) { st.approvals[account+"/"+bucket] = a })
}

// Claim takes the lease unless another attempt holds an unexpired one.
func (s *Store) Claim(_ context.Context, key string, now, until time.Time) (ledger.Record, error) {
	var out ledger.Record
	err := s.call(op.UpdateItem, func(st *store) {
		r := st.incidents[key]
		out = r.snapshot()
		if r != nil && !r.lease.IsZero() && !r.lease.Before(now) {
			return
		}
		r = st.incident(key)
		r.lease, r.attempts, out.Held = until, r.attempts+1, true
	})
	return out, err
}

// Peek reads a record without claiming it: held when no other attempt
// holds an unexpired lease.
func (s *Store) Peek(_ context.Context, key string, now time.Time) (ledger.Record, error) {
	var out ledger.Record
	err := s.call(op.GetItem, func(st *store) {
		r := st.incidents[key]
		out = r.snapshot()
		out.Held, out.Unclaimed = r == nil || r.lease.IsZero() || r.lease.Before(now), true
	})
	return out, err
}

// SaveJournal keeps an attempt's journal unless an earlier attempt's is
// there.
func (s *Store) SaveJournal(_ context.Context, key, attempt string, journal []byte) error {
	return s.call(op.UpdateItem, func(st *store) {
		r := st.incident(key)
		if r.journal == nil || r.journalAttempt == attempt {
			r.journal, r.journalAttempt = slices.Clone(journal), attempt
		}
	})
}

// Told records a digest and lets the lease and the journal go.
func (s *Store) Told(_ context.Context, key, digest string) error {
	return s.call(op.UpdateItem, func(st *store) {
		r := st.incident(key)
		if !slices.Contains(r.told, digest) {
			r.told = append(r.told, digest)
		}
		r.lease, r.journal, r.journalAttempt = time.Time{}, nil, ""
	})
}

// Release lets the lease go.
func (s *Store) Release(_ context.Context, key string) error {
	return s.call(op.UpdateItem, func(st *store) {
		if r := st.incidents[key]; r != nil {
			r.lease = time.Time{}
		}
	})
}

// Count adds one to a counter and returns it (the fake never expires it).
func (s *Store) Count(_ context.Context, key string, _ time.Time) (int, error) {
	n := 0
	err := s.call(op.UpdateItem, func(st *store) {
		st.counts[key]++
		n = st.counts[key]
	})
	return n, err
}

// SaveUndo keeps a bucket's undo record.
func (s *Store) SaveUndo(_ context.Context, account, bucket string, r undo.Record) error {
	return s.call(op.PutItem, func(st *store) { st.undos[account+"/"+bucket] = r })
}

// Undo returns a bucket's undo record, or nil.
func (s *Store) Undo(_ context.Context, account, bucket string) (*undo.Record, error) {
	var out *undo.Record
	err := s.call(op.GetItem, func(st *store) {
		if r, ok := st.undos[account+"/"+bucket]; ok {
			out = &r
		}
	})
	return out, err
}

// FindingState returns what is kept of a finding, as the ledger does.
func (s *Store) FindingState(_ context.Context, id string) (string, time.Time, bool, error) {
	var fs findingState
	err := s.call(op.GetItem, func(st *store) { fs = st.findings[id] })
	return fs.state, fs.at, fs.sent, err
}

// SetFindingState keeps a finding's state as of at (to the millisecond)
// only if what is kept is still the state as of prev (nothing, when prev
// is zero) and at is later (false otherwise); "" keeps only the time (the
// fake never expires it).
func (s *Store) SetFindingState(_ context.Context, id, state string, at, prev time.Time, sent bool) (bool, error) {
	won := false
	at, prev = at.Truncate(time.Millisecond), prev.Truncate(time.Millisecond)
	err := s.call(op.PutItem, func(st *store) {
		old, ok := st.findings[id]
		if ok != !prev.IsZero() || ok && !old.at.Equal(prev) || !at.After(prev) {
			return
		}
		st.findings[id] = findingState{state: state, at: at, sent: sent}
		won = true
	})
	return won, err
}

// MarkFindingSent marks the state kept as of at sent.
func (s *Store) MarkFindingSent(_ context.Context, id string, at time.Time) error {
	at = at.Truncate(time.Millisecond)
	return s.call(op.UpdateItem, func(st *store) {
		if fs, ok := st.findings[id]; ok && fs.at.Equal(at) {
			fs.sent = true
			st.findings[id] = fs
		}
	})
}

// FindingStates returns the kept states (not tombstones) whose Id begins
// with prefix.
func (s *Store) FindingStates(_ context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	err := s.call(op.Scan, func(st *store) {
		for id, fs := range st.findings {
			if strings.HasPrefix(id, prefix) && fs.state != "" {
				out[id] = fs.state
			}
		}
	})
	return out, err
}

// MarkSent marks a key; false when it was marked already.
func (s *Store) MarkSent(_ context.Context, key string, _ time.Time) (bool, error) {
	first := false
	err := s.call(op.PutItem, func(st *store) {
		first = !st.sent[key]
		st.sent[key] = true
	})
	return first, err
}

// UnmarkSent removes a mark.
func (s *Store) UnmarkSent(_ context.Context, key string) error {
	return s.call(op.DeleteItem, func(st *store) { delete(st.sent, key) })
}

// Journal returns the journal kept for an incident, if any.
func (f *Fake) Journal(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.store.incidents[key]; r != nil {
		return slices.Clone(r.journal)
	}
	return nil
}
