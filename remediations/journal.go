package remediations

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Journal is what an evaluation makes durable before its first write: what
// it found and the before-state of every setting it is about to write (in
// its actions). An invocation can die between two writes, or after the
// last (Lambda stops a function at its deadline); the retry then finds the
// work half done, or done, and without the journal could tell only what is
// left. With it, the retry tells the whole incident, once.
type Journal struct {
	Started    time.Time       `json:"started"`
	Findings   []plan.Finding  `json:"findings"`
	Actions    []plan.Action   `json:"actions"`
	Exemption  *plan.Exemption `json:"exemption,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	Unresolved []string        `json:"unresolved,omitempty"`
}

// Journaler keeps journals (ledger.Store), by incident key: the CloudTrail
// event id, or the sweep run and bucket.
type Journaler interface {
	SaveJournal(ctx context.Context, key, attempt string, journal []byte) error
}

// maxJournal keeps a journal well inside DynamoDB's 400 KB item.
const maxJournal = 300 * 1024

// journalOf is the plan's journal, encoded; before/after documents are
// shortened if a bucket with very many access points would not fit.
func journalOf(started time.Time, p plan.Plan) ([]byte, error) {
	j := Journal{Started: started, Findings: p.Findings, Actions: p.Actions, Exemption: p.Exemption, Notes: p.Notes, Unresolved: p.Unresolved}
	for _, limit := range []int{-1, 16 * 1024, 1024, 0} {
		if limit >= 0 {
			acts := make([]plan.Action, len(j.Actions))
			copy(acts, j.Actions)
			for i := range acts {
				acts[i].Before, acts[i].After = clip(acts[i].Before, limit), clip(acts[i].After, limit)
			}
			j.Actions = acts
		}
		b, err := json.Marshal(j)
		if err != nil {
			return nil, fmt.Errorf("encode journal: %w", err)
		}
		if len(b) <= maxJournal {
			return b, nil
		}
	}
	return nil, fmt.Errorf("journal of %d findings and %d actions is over %d bytes", len(j.Findings), len(j.Actions), maxJournal)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... [journal: %d of %d bytes kept]", n, len(s))
}

// ParseJournal decodes a stored journal.
func ParseJournal(b []byte) (Journal, error) {
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return Journal{}, fmt.Errorf("decode journal: %w", err)
	}
	return j, nil
}

// Merge folds the journal of an earlier attempt into this result, so that
// its alert tells the whole incident: the earlier findings first (with
// their wording), then the new ones (a finding is the same when it says the
// same); each earlier action with this attempt's outcome if it ran it
// again, else, when this attempt read the bucket (checked), as written by
// the earlier attempt and found in place, and when it could not, as not
// known; the before-state as the earlier attempt read it.
func (r *Result) Merge(j Journal, checked bool) {
	key := func(f plan.Finding) string {
		return fmt.Sprintf("%s|%s|%s|%s", f.ID, f.Setting, f.AccessPoint, f.Summary)
	}
	seen := map[string]bool{}
	fs := []plan.Finding{}
	for _, f := range j.Findings {
		fs = append(fs, f)
		seen[key(f)] = true
	}
	for _, f := range r.Findings {
		if !seen[key(f)] {
			fs = append(fs, f)
		}
	}
	now := map[string]int{}
	for i, a := range r.Actions {
		now[a.Key()] = i
	}
	used := map[int]bool{}
	acts := []ActionResult{}
	for _, a := range j.Actions {
		if i, ok := now[a.Key()]; ok {
			cur := r.Actions[i]
			if a.Before != "" {
				cur.Before = a.Before
			}
			acts = append(acts, cur)
			used[i] = true
			continue
		}
		ar := ActionResult{Action: a, Outcome: Verified, Detail: "written by an earlier attempt; found in place by this one"}
		switch {
		case a.Skipped != "":
			ar.Outcome, ar.Detail = Skipped, a.Skipped
		case !checked:
			ar.Outcome, ar.Detail = Unverified, "planned by an earlier attempt; this attempt could not read the bucket to check it"
		}
		acts = append(acts, ar)
	}
	for i, a := range r.Actions {
		if !used[i] {
			acts = append(acts, a)
		}
	}
	r.Findings, r.Actions = fs, acts
	r.Unresolved = appendNew(j.Unresolved, r.Unresolved)
	r.Notes = append(appendNew(j.Notes, r.Notes), "an earlier attempt began this remediation and could not tell it; this alert tells all of it")
	if r.Exemption == nil {
		r.Exemption = j.Exemption
	}
	if !j.Started.IsZero() {
		r.Started = j.Started
	}
	r.Severity = plan.Worst(fs)
	r.Status = status(*r, r.Mode)
}

func appendNew(base, more []string) []string {
	out := append([]string{}, base...)
	for _, m := range more {
		dup := false
		for _, b := range base {
			dup = dup || b == m
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}
